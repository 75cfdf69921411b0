//! The service inside the caller's process, on a clock only the caller moves: the target of the test library
//! (`durable-testing`). Each one has a private state folder and a loopback port of its own, so tests running in
//! parallel never share executions, processes or ports. It runs on a runtime of its own: a restart drops that
//! runtime with every task on it, so the old service writes nothing more, as if it had been killed, and the next
//! one recovers from the store exactly as the background service does after a kill.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::api::{self, ApiState, ControlConfig};
use crate::deployment::Deployment;
use crate::deployment::plan::CodeByKey;
use crate::engine::{Engine, EngineConfig, Environment, ManualClock};
use crate::error::LocalError;
use crate::files::private_dir;
use crate::service::{MAX_INSTANCES, Service, ServiceOptions};
use crate::supervisor::StateDir;
use crate::supervisor::process;

/// A template to run: the stack's name and its synthesized CloudFormation.
pub type NamedTemplate = (String, serde_json::Value);

/// A running embedded service. Dropping it stops the service and its function processes.
pub struct Embedded {
    state: StateDir,
    region: String,
    deployment: Deployment,
    clock: Arc<ManualClock>,
    port: u16,
    running: Option<Running>,
}

struct Running {
    runtime: tokio::runtime::Runtime,
    service: Arc<Service>,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded").field("state", &self.state.root).field("port", &self.port).finish_non_exhaustive()
    }
}

impl Embedded {
    /// Plans `templates` in `region` with the function code `code` (asset object key → a binary stored in
    /// `state_dir` with [`crate::Supervisor::store_binary`], so a rebuild during the test changes nothing), and
    /// starts a service on them in `state_dir`, its manual clock reading `clock_ms`.
    ///
    /// # Errors
    ///
    /// A template the local target cannot run, a binary that cannot be stored, or a service that cannot start.
    pub fn start(
        state_dir: &Path,
        region: &str,
        templates: &[NamedTemplate],
        code: &CodeByKey,
        clock_ms: i64,
    ) -> Result<Self, LocalError> {
        let state = StateDir::new(state_dir);
        private_dir(&state.root)?;
        let mut deployment = Deployment::new(region);
        for (name, template) in templates {
            deployment = deployment.with_stack(crate::deployment::plan(template, name, region, code, None)?);
        }
        let mut embedded = Self {
            state,
            region: region.to_owned(),
            deployment,
            clock: Arc::new(ManualClock::new(clock_ms)),
            port: 0,
            running: None,
        };
        embedded.launch()?;
        Ok(embedded)
    }

    /// The running service. Call it from within [`Embedded::handle`]'s runtime when the call starts work.
    ///
    /// # Errors
    ///
    /// [`LocalError::Service`] after a failed restart left no service running.
    pub fn service(&self) -> Result<&Arc<Service>, LocalError> {
        self.running.as_ref().map(|r| &r.service).ok_or_else(not_running)
    }

    /// The runtime the service's tasks run on: spawn calls that start work there.
    ///
    /// # Errors
    ///
    /// [`LocalError::Service`] after a failed restart left no service running.
    pub fn handle(&self) -> Result<tokio::runtime::Handle, LocalError> {
        self.running.as_ref().map(|r| r.runtime.handle().clone()).ok_or_else(not_running)
    }

    /// The clock the engine and its timers read; only the owner moves it.
    pub fn clock(&self) -> &Arc<ManualClock> {
        &self.clock
    }

    /// The endpoint, `http://127.0.0.1:<port>`: the Lambda and durable execution APIs, for the AWS CLI or an SDK.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What is deployed.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The region the functions' ARNs name.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The state folder.
    pub fn state_dir(&self) -> &Path {
        &self.state.root
    }

    /// One function's log file (what its process wrote).
    pub fn function_log(&self, function: &str) -> PathBuf {
        self.state.function_log(function)
    }

    /// Kills the service as SIGKILL would (its tasks are dropped where they stand, its function processes
    /// killed), then starts a new one on the same store, clock and port, which resumes every running execution.
    ///
    /// # Errors
    ///
    /// A service that cannot start again.
    pub fn restart(&mut self) -> Result<(), LocalError> {
        self.halt();
        self.launch()
    }

    fn halt(&mut self) {
        if let Some(running) = self.running.take() {
            running.runtime.shutdown_background();
            drop(running.service);
            process::kill_listed(&self.state.pid_file(), &self.state.root);
        }
    }

    fn launch(&mut self) -> Result<(), LocalError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("durable-testing")
            .enable_all()
            .build()
            .map_err(|e| LocalError::Service(format!("cannot start the service's runtime: {e}")))?;
        let environment = Environment { clock: self.clock.clone(), ids: Environment::system().ids };
        let engine = Engine::open(&self.state.store_file(), environment, EngineConfig::default())?;
        private_dir(&self.state.logs_dir())?;
        let listener = runtime.block_on(bind(self.port))?;
        self.port = listener.local_addr().map_err(|e| LocalError::Service(e.to_string()))?.port();
        let options = ServiceOptions {
            endpoint: self.endpoint(),
            durable_endpoint: None,
            logs_dir: self.state.logs_dir(),
            pid_file: self.state.pid_file(),
            credentials: None,
            aws_endpoint_url: None,
            max_instances: MAX_INSTANCES,
        };
        let deployment = self.deployment.clone();
        let service = runtime.block_on(async { Service::new(engine, deployment, options) });
        let control = ControlConfig {
            // Nobody holds it: the owner calls the service directly, and the control routes stay shut.
            secret: uuid::Uuid::new_v4().simple().to_string(),
            instance: uuid::Uuid::new_v4().simple().to_string(),
            deployment_file: self.state.deployment_file(),
            clock_file: self.state.clock_file(),
        };
        let app = api::router(ApiState { service: service.clone(), control: Arc::new(control) });
        runtime.spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the embedded endpoint stopped");
            }
        });
        let recovered = runtime.block_on(async { service.recover() });
        self.running = Some(Running { runtime, service });
        recovered.map_err(|e| LocalError::Service(format!("cannot resume the stored executions: {e}")))
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The port the last run had (so the endpoint a test holds stays valid), else any free one.
async fn bind(port: u16) -> Result<TcpListener, LocalError> {
    match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => Ok(listener),
        Err(_) if port != 0 => TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| LocalError::Service(format!("cannot listen on 127.0.0.1: {e}"))),
        Err(e) => Err(LocalError::Service(format!("cannot listen on 127.0.0.1: {e}"))),
    }
}

fn not_running() -> LocalError {
    LocalError::Service("the test's service is not running: its last restart failed".into())
}
