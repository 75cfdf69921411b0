//! The service: what is deployed, the engine, the function processes, the timers and the callers waiting for
//! executions, shared by every route. It carries out the engine's [`Action`]s ([`driver`]) and runs functions
//! for the Lambda API ([`invoke`]).

mod clock;
mod driver;
#[cfg(feature = "test-hooks")]
pub mod faults;
mod invoke;
pub mod replay;
mod resolve;
mod spec;
mod timers;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc};

use crate::deployment::{Deployment, ResolvedFunction};
use crate::engine::{Action, Engine, EngineError, ExecutionRecord};
use crate::runtime::Pools;

pub use spec::Credentials;

/// Function processes allowed per function version.
pub const MAX_INSTANCES: usize = 10;

/// How often ended executions past their retention period are purged.
const PURGE_EVERY: Duration = Duration::from_hours(1);

/// How the service runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceOptions {
    /// Our own base URL, `http://127.0.0.1:<port>`: functions call the Lambda and durable APIs here.
    pub endpoint: String,
    /// Where functions send durable API calls when not to `endpoint` (the dex oracle, in test builds).
    #[serde(default)]
    pub durable_endpoint: Option<String>,
    /// The folder of the functions' log files.
    pub logs_dir: PathBuf,
    /// The file recording every started function process id.
    pub pid_file: PathBuf,
    /// AWS credentials handed to functions for their calls to other services (else placeholders).
    pub credentials: Option<Credentials>,
    /// Where functions' calls to AWS services other than Lambda go (`AWS_ENDPOINT_URL`: an emulator such as moto or
    /// `LocalStack` the user's tools name); `None`: each service's own endpoint.
    #[serde(default)]
    pub aws_endpoint_url: Option<String>,
    /// Function processes allowed per function version.
    pub max_instances: usize,
}

/// Invocation counts and processes of one function, for `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionStatus {
    /// The stack it belongs to.
    pub stack: String,
    /// Its logical id.
    pub logical_id: String,
    /// Whether it is durable.
    pub durable: bool,
    /// Invocations since the service started.
    pub invocations: u64,
    /// Published versions.
    pub versions: Vec<u64>,
    /// Aliases to versions.
    pub aliases: BTreeMap<String, u64>,
    /// Ids of its running processes.
    pub pids: Vec<u32>,
}

/// The service's state, for `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// The endpoint.
    pub endpoint: String,
    /// The service's process id.
    pub pid: u32,
    /// Whether waits, retry delays and callback timeouts fire at once.
    pub skip_time: bool,
    /// The clock the engine runs on.
    #[serde(default)]
    pub clock: crate::protocol::ClockMode,
    /// A manual clock's time, epoch milliseconds.
    #[serde(default)]
    pub clock_ms: Option<i64>,
    /// Executions in the store.
    pub executions: i64,
    /// Running executions.
    pub running: usize,
    /// Functions by name.
    pub functions: BTreeMap<String, FunctionStatus>,
}

/// Everything the routes share.
pub struct Service {
    engine: Mutex<Engine>,
    deployment: RwLock<Arc<Deployment>>,
    pools: Pools,
    options: ServiceOptions,
    timers: mpsc::UnboundedSender<timers::Alarm>,
    waiters: Mutex<HashMap<String, Vec<Arc<Notify>>>>,
    counts: Mutex<BTreeMap<String, u64>>,
    replays: replay::Sessions,
    held_replays: replay::HeldSessions,
    /// Work under way that will tell the engine something: handler invocations, chained invokes, asynchronous
    /// invocations and timers being applied. Zero, with no timer due, is idle: nothing changes until time moves or
    /// someone calls.
    in_flight: AtomicUsize,
    /// Told when the service should stop.
    pub shutdown: Notify,
    /// Armed fault injections (test builds only).
    #[cfg(feature = "test-hooks")]
    pub faults: faults::Faults,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("options", &self.options).finish_non_exhaustive()
    }
}

impl Service {
    /// A service running `deployment` on `engine`; starts its timer and purge tasks (on the current runtime).
    pub fn new(engine: Engine, deployment: Deployment, options: ServiceOptions) -> Arc<Self> {
        let (timers, alarms) = mpsc::unbounded_channel();
        let service = Arc::new(Self {
            engine: Mutex::new(engine),
            deployment: RwLock::new(Arc::new(deployment)),
            pools: Pools::new(options.max_instances),
            options,
            timers,
            waiters: Mutex::new(HashMap::new()),
            counts: Mutex::new(BTreeMap::new()),
            replays: replay::Sessions::default(),
            held_replays: replay::HeldSessions::default(),
            in_flight: AtomicUsize::new(0),
            shutdown: Notify::new(),
            #[cfg(feature = "test-hooks")]
            faults: faults::Faults::default(),
        });
        // The engine's clock, so the timers fire by the time the engine decides by.
        let clock = service.engine().environment().clock.clone();
        let weak = Arc::downgrade(&service);
        tokio::spawn(timers::run(clock, alarms, move |execution, timer| {
            let Some(service) = weak.upgrade() else { return false };
            let _busy = service.busy();
            let fired = service.engine().timer_fired(&execution, &timer);
            match fired {
                Ok(actions) => service.execute(actions),
                Err(e) => tracing::warn!(%execution, %timer, error = %e, "a timer could not be applied"),
            }
            true
        }));
        let weak = Arc::downgrade(&service);
        tokio::spawn(async move {
            loop {
                let Some(service) = weak.upgrade() else { return };
                match service.engine().purge() {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, "purged executions past their retention period"),
                    Err(e) => tracing::warn!(error = %e, "cannot purge expired executions"),
                }
                drop(service);
                tokio::time::sleep(PURGE_EVERY).await;
            }
        });
        service
    }

    /// The engine, locked. Never held across an await: each engine command is one short transaction.
    pub fn engine(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current deployment.
    pub fn deployment(&self) -> Arc<Deployment> {
        self.deployment.read().map_or_else(|e| e.into_inner().clone(), |d| d.clone())
    }

    /// The service's options.
    pub fn options(&self) -> &ServiceOptions {
        &self.options
    }

    /// Switches to a new deployment. Pools whose function version is gone or changed are dropped: their idle
    /// processes stop now, busy ones when their invocation ends.
    pub fn set_deployment(&self, deployment: Deployment) {
        let deployment = Arc::new(deployment);
        self.pools.retain(|spec| {
            deployment
                .resolve(&spec.function, Some(&spec.version))
                .is_some_and(|target| self.spec(&deployment, &target) == *spec)
        });
        if let Ok(mut current) = self.deployment.write() {
            *current = deployment;
        }
    }

    /// After a restart: decides again what every running execution still needs, and runs every accepted
    /// asynchronous invocation that had not finished.
    pub fn recover(self: &Arc<Self>) -> Result<(), EngineError> {
        let actions = self.engine().recover()?;
        let running = actions.iter().filter(|a| matches!(a, Action::InvokeHandler { .. })).count();
        let reissued = actions.iter().filter(|a| matches!(a, Action::InvokeTarget { .. })).count();
        if running + reissued > 0 {
            tracing::info!(handlers = running, chained_invokes = reissued, "resuming executions left by the last run");
        }
        self.execute(actions);
        let pending = self.engine().pending_async()?;
        for (seq, function, qualifier, payload) in pending {
            self.spawn_async(seq, function, qualifier, payload.into());
        }
        Ok(())
    }

    /// Registers a waiter for the end of `arn`; the returned notify fires when the execution ends (check the
    /// status after registering, so an end in between is not missed).
    pub fn watch(&self, arn: &str) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        if let Ok(mut waiters) = self.waiters.lock() {
            waiters.entry(arn.to_owned()).or_default().push(notify.clone());
        }
        notify
    }

    /// Removes the waiters of `arn`.
    fn wake(&self, arn: &str) {
        let woken = self.waiters.lock().ok().and_then(|mut w| w.remove(arn)).unwrap_or_default();
        for notify in woken {
            notify.notify_one();
        }
    }

    /// Waits until execution `arn` ends, at most `timeout`; returns its record either way.
    pub async fn wait_for_end(&self, arn: &str, timeout: Duration) -> Result<ExecutionRecord, EngineError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notify = self.watch(arn);
            let record = self.engine().execution(arn)?;
            if record.status != crate::engine::model::ExecutionStatus::Running {
                return Ok(record);
            }
            tokio::select! {
                () = notify.notified() => {}
                () = tokio::time::sleep_until(deadline) => return Ok(record),
            }
        }
    }

    fn count(&self, function: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(function.to_owned()).or_default() += 1;
        }
    }

    /// The run specification of one function version.
    fn spec(&self, deployment: &Deployment, target: &ResolvedFunction<'_>) -> crate::runtime::RunSpec {
        spec::run_spec(deployment, target, &self.options)
    }

    /// Invocation counts, processes and executions, for `status`.
    pub fn status(&self) -> Result<ServiceStatus, EngineError> {
        let deployment = self.deployment();
        let counts = self.counts.lock().map(|c| c.clone()).unwrap_or_default();
        let pools = self.pools.all();
        let functions = deployment
            .functions()
            .map(|f| {
                let pids = pools.iter().filter(|p| p.spec.function == f.name).flat_map(|p| p.pids()).collect();
                let status = FunctionStatus {
                    stack: f.stack.clone(),
                    logical_id: f.logical_id.clone(),
                    durable: f.durable.is_some(),
                    invocations: counts.get(&f.name).copied().unwrap_or(0),
                    versions: f.versions.keys().copied().collect(),
                    aliases: f.aliases.iter().map(|(name, alias)| (name.clone(), alias.version)).collect(),
                    pids,
                };
                (f.name.clone(), status)
            })
            .collect();
        let clock_ms = self.manual_now();
        let engine = self.engine();
        let running = engine.list_running().map(|r| r.len()).unwrap_or_default();
        Ok(ServiceStatus {
            endpoint: self.options.endpoint.clone(),
            pid: std::process::id(),
            skip_time: engine.config().skip_time,
            clock: if clock_ms.is_some() {
                crate::protocol::ClockMode::Manual
            } else {
                crate::protocol::ClockMode::Wall
            },
            clock_ms,
            executions: engine.count()?,
            running,
            functions,
        })
    }

    /// Stops every function process.
    pub fn stop_all(&self) {
        self.pools.clear();
    }

    /// Counts a piece of work in flight until the guard is dropped.
    fn busy(&self) -> Busy<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(&self.in_flight)
    }

    /// Whether nothing runs and no timer is due: what the test library waits for before it moves its clock, and
    /// after. Work that ends hands its next actions over before it stops counting, so idle is never seen between
    /// a handler's end and the invocation it leads to.
    pub fn is_idle(&self) -> Result<bool, EngineError> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return Ok(false);
        }
        let engine = self.engine();
        let (due, _) = engine.timers_around(engine.environment().clock.now_ms())?;
        Ok(due == 0 && self.in_flight.load(Ordering::SeqCst) == 0)
    }
}

/// One piece of work in flight ([`Service::is_idle`]).
struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
