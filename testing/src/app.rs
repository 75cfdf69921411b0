//! The app under test: its stacks, built and running in a service of the test's own, and its functions.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use constructs::{AssetManifest, AssetSource, ResolvedAsset, Stack};
use local::embedded::Embedded;
use local::runtime::FunctionResponse;
use local::service::Service;
use serde::Serialize;
use serde_json::Value;

use crate::clock::Clock;
use crate::error::{Result, TestError};
use crate::execution::Execution;
use crate::faults::Faults;

/// How long [`Clock::run_until_idle`] waits for running handlers before it gives up, unless the builder says.
const DEFAULT_BUSY_LIMIT: Duration = Duration::from_mins(1);

/// Sets up a [`TestApp`]: which stacks, in which region, from what time.
#[derive(Debug)]
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct TestAppBuilder {
    stacks: Vec<Stack>,
    region: String,
    start: SystemTime,
    busy_limit: Duration,
}

impl TestAppBuilder {
    /// Adds a stack, as the app's code makes it (`my_stacks::orders::stack(&app)?`).
    pub fn stack(mut self, stack: Stack) -> Self {
        self.stacks.push(stack);
        self
    }

    /// The region the functions' ARNs name (`us-east-1` unless set).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// What the virtual clock reads at the start (the wall clock's time unless set): a fixed time makes
    /// timestamps in a history the same on every run.
    pub fn start_time(mut self, at: SystemTime) -> Self {
        self.start = at;
        self
    }

    /// How long the clock waits for handlers still running before it reports a hung one (one minute unless set).
    pub fn busy_limit(mut self, limit: Duration) -> Self {
        self.busy_limit = limit;
        self
    }

    /// Builds the stacks' function binaries (with the cargo running the test, into its target folder, once per
    /// test process), synthesizes the stacks against them and starts the service.
    ///
    /// # Errors
    ///
    /// No stack; a build or synthesis that fails; a template the local target cannot run; an asset other than a
    /// cargo binary.
    pub async fn start(self) -> Result<TestApp> {
        if self.stacks.is_empty() {
            return Err(TestError::Invalid(
                "the test app has no stack: add one with `TestApp::builder().stack(...)`".into(),
            ));
        }
        let mut wanted = Vec::new();
        for stack in &self.stacks {
            for asset in stack.assets() {
                match asset.source {
                    AssetSource::CargoBinary { package, binary } => wanted.push((package, binary)),
                    AssetSource::Zip { path } => {
                        return Err(TestError::Invalid(format!(
                            "{} runs the zip {}: the test library runs cargo binaries only",
                            asset.id,
                            path.display()
                        )));
                    }
                }
            }
        }
        let binaries = blocking(move || crate::build::binaries(&wanted)).await?;
        let dir = tempfile::Builder::new()
            .prefix("durable-testing-")
            .tempdir()
            .map_err(|e| TestError::Invalid(format!("cannot make the test's state folder: {e}")))?;
        let state = dir.path().join("state");
        let store = local::Supervisor::new(&state);
        let mut code = BTreeMap::new();
        let mut templates = Vec::new();
        for stack in &self.stacks {
            let mut manifest = AssetManifest::new();
            for asset in stack.assets() {
                let AssetSource::CargoBinary { package, binary } = &asset.source else { continue };
                let Some(built) = binaries.get(&(package.clone(), binary.clone())) else { continue };
                let (sha, stored) = store.store_binary(built)?;
                let resolved = ResolvedAsset { sha256: sha.clone(), code_sha256: None };
                code.insert(resolved.object_key(), (stored, sha));
                manifest.0.insert(asset.id, resolved);
            }
            templates.push((stack.name().to_owned(), stack.synth(&manifest)?.template));
        }
        let start_ms = self.start.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
        let region = self.region;
        // The service's own runtime starts there: not on this one's threads.
        let embedded = blocking(move || Ok(Embedded::start(&state, &region, &templates, &code, start_ms)?)).await?;
        Ok(TestApp {
            inner: Arc::new(Inner { embedded: RwLock::new(embedded), busy_limit: self.busy_limit, _dir: dir }),
        })
    }
}

/// Runs `work` on a blocking thread (a build, or a runtime's start or stop, which cannot run on an async one).
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| TestError::Invalid(format!("the test library panicked: {e}")))?
}

/// What every handle of one app shares.
pub(crate) struct Inner {
    embedded: RwLock<Embedded>,
    pub(crate) busy_limit: Duration,
    _dir: tempfile::TempDir,
}

impl Inner {
    /// Runs `work` on the service's own runtime (where the tasks it starts must live) and awaits it here.
    pub(crate) async fn on_service<T, F, Fut>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Service>) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let (service, handle) = {
            let embedded = self.embedded.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            (embedded.service()?.clone(), embedded.handle()?)
        };
        handle
            .spawn(work(service))
            .await
            .map_err(|e| TestError::Invalid(format!("the service stopped while the test waited on it: {e}")))?
    }

    /// The service, for a call that starts no work.
    pub(crate) fn service(&self) -> Result<Arc<Service>> {
        let embedded = self.embedded.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(embedded.service()?.clone())
    }

    /// The virtual clock.
    pub(crate) fn clock(&self) -> Arc<local::engine::ManualClock> {
        self.embedded.read().unwrap_or_else(std::sync::PoisonError::into_inner).clock().clone()
    }

    /// A function by logical id or name.
    fn function(&self, id: &str) -> Result<(String, bool)> {
        let embedded = self.embedded.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let deployment = embedded.deployment();
        let found = deployment
            .functions()
            .find(|f| f.name == id || f.logical_id == id || format!("{}/{}", f.stack, f.logical_id) == id);
        if let Some(f) = found {
            Ok((f.name.clone(), f.durable.is_some()))
        } else {
            {
                let known: Vec<String> =
                    deployment.functions().map(|f| format!("{}/{}", f.stack, f.logical_id)).collect();
                Err(TestError::NotFound(format!(
                    "no function {id} in the test app; its functions are {} (by logical id, stack/logical id or name)",
                    known.join(", ")
                )))
            }
        }
    }
}

/// An app running in a service of the test's own, on a virtual clock. Dropping it stops the service and every
/// function process, and removes its state folder.
#[derive(Clone)]
pub struct TestApp {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp").field("endpoint", &self.endpoint()).finish_non_exhaustive()
    }
}

impl TestApp {
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// A builder: add the app's stacks, then `start().await`.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            stacks: Vec::new(),
            region: "us-east-1".into(),
            start: SystemTime::now(),
            busy_limit: DEFAULT_BUSY_LIMIT,
        }
    }

    /// A function of the app, by logical id (`Workflow`), `stack/logical id` or function name.
    ///
    /// # Errors
    ///
    /// [`TestError::NotFound`], naming the functions the app has.
    pub fn function(&self, id: &str) -> Result<Function> {
        let (name, durable) = self.inner.function(id)?;
        Ok(Function { inner: self.inner.clone(), name, qualifier: None, durable })
    }

    /// The virtual clock.
    pub fn clock(&self) -> Clock {
        Clock::new(self.inner.clone())
    }

    /// Faults to arm.
    pub fn faults(&self) -> Faults {
        Faults::new(self.inner.clone())
    }

    /// An execution by its ARN (from an earlier [`Execution::arn`], or from the app's own records).
    pub fn execution(&self, arn: impl Into<String>) -> Execution {
        Execution::new(self.inner.clone(), arn.into())
    }

    /// Kills the service as SIGKILL would, mid-work, with its function processes, and starts it again on the same
    /// store and clock: every accepted execution resumes from its checkpoints.
    ///
    /// # Errors
    ///
    /// A service that cannot start again.
    pub async fn restart(&self) -> Result<()> {
        let inner = self.inner.clone();
        blocking(move || {
            inner.embedded.write().unwrap_or_else(std::sync::PoisonError::into_inner).restart().map_err(TestError::from)
        })
        .await
    }

    /// The endpoint serving the Lambda and durable execution APIs (`http://127.0.0.1:<port>`), for the AWS CLI or
    /// an SDK client.
    pub fn endpoint(&self) -> String {
        self.inner.embedded.read().unwrap_or_else(std::sync::PoisonError::into_inner).endpoint()
    }

    /// What a function's processes wrote to their log so far.
    ///
    /// # Errors
    ///
    /// [`TestError::NotFound`] for an unknown function.
    pub fn log(&self, function: &str) -> Result<String> {
        let (name, _) = self.inner.function(function)?;
        let path = self.inner.embedded.read().unwrap_or_else(std::sync::PoisonError::into_inner).function_log(&name);
        Ok(std::fs::read_to_string(path).unwrap_or_default())
    }
}

/// A function of the app, at `$LATEST` unless a qualifier (version or alias) is set.
#[derive(Clone)]
pub struct Function {
    inner: Arc<Inner>,
    name: String,
    qualifier: Option<String>,
    durable: bool,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function").field("name", &self.name).field("qualifier", &self.qualifier).finish_non_exhaustive()
    }
}

impl Function {
    /// The same function at a version (`"1"`) or an alias (`"live"`).
    #[must_use]
    pub fn qualifier(mut self, qualifier: impl Into<String>) -> Self {
        self.qualifier = Some(qualifier.into());
        self
    }

    /// Its function name, as its ARNs carry it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Invokes a plain function and returns what it answered (`RequestResponse`).
    ///
    /// # Errors
    ///
    /// [`TestError::Invalid`] for a durable function (start it instead); [`TestError::Engine`] with the function's
    /// error when it failed.
    pub async fn invoke(&self, payload: impl Serialize) -> Result<Value> {
        if self.durable {
            return Err(TestError::Invalid(format!(
                "{} is durable: start an execution with `.start(input)` and move the clock until it ends",
                self.name
            )));
        }
        let body = Bytes::from(serde_json::to_vec(&payload)?);
        let (name, qualifier) = (self.name.clone(), self.qualifier.clone());
        let answer = self
            .inner
            .on_service(
                move |service| async move { Ok(service.invoke_function(&name, qualifier.as_deref(), body).await) },
            )
            .await?;
        match answer {
            None => Err(TestError::NotFound(format!(
                "{} has no version or alias {}",
                self.name,
                self.qualifier.as_deref().unwrap_or("$LATEST")
            ))),
            Some(FunctionResponse::Success(body)) => Ok(serde_json::from_slice(&body)?),
            Some(FunctionResponse::FunctionError(body)) => {
                Err(TestError::Engine(format!("{} failed: {}", self.name, String::from_utf8_lossy(&body))))
            }
        }
    }

    /// Starts a durable execution with `input` (an `Event` invoke) and returns it at once; the clock and the
    /// test decide what happens next.
    ///
    /// # Errors
    ///
    /// [`TestError::Invalid`] for a plain function; the engine's refusal otherwise.
    pub async fn start(&self, input: impl Serialize) -> Result<Execution> {
        self.start_execution(None, input).await
    }

    /// Starts an execution named `name`: a second start with the same name and input finds the first one.
    ///
    /// # Errors
    ///
    /// As [`Function::start`], and the engine's refusal of the same name with another input.
    pub async fn start_named(&self, name: &str, input: impl Serialize) -> Result<Execution> {
        self.start_execution(Some(name.to_owned()), input).await
    }

    async fn start_execution(&self, execution_name: Option<String>, input: impl Serialize) -> Result<Execution> {
        if !self.durable {
            return Err(TestError::Invalid(format!("{} is not durable: `.invoke(payload)` runs it", self.name)));
        }
        let input = serde_json::to_string(&input)?;
        let (name, qualifier) = (self.name.clone(), self.qualifier.clone());
        let arn = self
            .inner
            .on_service(move |service| async move {
                let deployment = service.deployment();
                let target = deployment.resolve(&name, qualifier.as_deref()).ok_or_else(|| {
                    TestError::NotFound(format!(
                        "{name} has no version or alias {}",
                        qualifier.as_deref().unwrap_or("$LATEST")
                    ))
                })?;
                let outcome = service.start_execution(&target, &input, execution_name.as_deref())?;
                Ok(outcome.record().arn.clone())
            })
            .await?;
        Ok(Execution::new(self.inner.clone(), arn))
    }
}
