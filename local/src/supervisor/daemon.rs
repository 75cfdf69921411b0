//! The service process: stops what a killed predecessor left running, opens the execution store, serves the
//! endpoint on 127.0.0.1, resumes every running execution, and stops on SIGTERM, SIGINT or the control API's
//! shutdown.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use super::process;
use super::state::{DaemonInfo, StateDir};
use crate::api::{self, ApiState, ControlConfig};
use crate::deployment::Deployment;
use crate::engine::{Engine, EngineConfig, Environment, ManualClock};
use crate::error::LocalError;
use crate::files::{private_dir, read_json, write_json};
use crate::protocol::ClockMode;
use crate::service::{Credentials, MAX_INSTANCES, Service, ServiceOptions};

/// Environment variables carrying the credentials functions get, so they are never written to disk.
pub const CREDENTIAL_ENV: [&str; 3] =
    ["DEPLOYER_LOCAL_ACCESS_KEY_ID", "DEPLOYER_LOCAL_SECRET_ACCESS_KEY", "DEPLOYER_LOCAL_SESSION_TOKEN"];

/// How the CLI asks the service to run (`daemon-request.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonRequest {
    /// The port to serve on; 0 (or taken): any free port.
    pub port: u16,
    /// Fire waits, retry delays and callback timeouts at once.
    #[serde(default)]
    pub skip_time: bool,
    /// Whether functions get the user's credentials (passed in [`CREDENTIAL_ENV`]).
    #[serde(default)]
    pub credentials: bool,
    /// A digest of those credentials (never the credentials): a change restarts the service.
    #[serde(default)]
    pub credentials_fingerprint: Option<String>,
    /// The clock the engine and its timers run on.
    #[serde(default)]
    pub clock: ClockMode,
    /// Where functions' calls to AWS services other than Lambda go ([`ServiceOptions::aws_endpoint_url`]).
    #[serde(default)]
    pub aws_endpoint_url: Option<String>,
}

fn credentials_from_env() -> Option<Credentials> {
    let [key, secret, token] = CREDENTIAL_ENV.map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    Some(Credentials { access_key_id: key?, secret_access_key: secret?, session_token: token })
}

/// How long a starting service waits for the state folder's lock. A service killed a moment ago can hold it
/// for a few milliseconds more: until the kernel has finished its exit, and through any child it was forking (a
/// forked child shares the lock until it execs).
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Takes the state folder's service lock (an OS lock, released however the process ends), waiting a bounded time
/// for a service that is still dying.
async fn lock_state(state: &StateDir) -> Result<std::fs::File, LocalError> {
    let path = state.root.join("service.lock");
    let file = crate::files::lock_file(&path)?;
    let deadline = tokio::time::Instant::now() + LOCK_WAIT;
    loop {
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(file),
            Err(rustix::io::Errno::WOULDBLOCK) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(LocalError::Service(format!(
                    "another local service already runs with the state folder {}; use it, or stop it with \
                     `deployer down --local`",
                    state.root.display()
                )));
            }
            Err(e) => return Err(LocalError::io("lock", &path, e.into())),
        }
    }
}

/// The engine's time and ids: the wall clock, or a manual clock that carries on from its last move (a restarted
/// service must not jump to the wall clock's time and fire every timer set in virtual time), starting at the wall
/// clock's time the first time.
fn environment(state: &StateDir, clock: ClockMode) -> Result<Environment, LocalError> {
    let system = Environment::system();
    Ok(match clock {
        ClockMode::Wall => system,
        ClockMode::Manual => {
            let start = read_json::<i64>(&state.clock_file())?.unwrap_or_else(|| system.clock.now_ms());
            Environment { clock: Arc::new(ManualClock::new(start)), ids: system.ids }
        }
    })
}

/// Runs the service until it is told to stop.
pub async fn run(state: StateDir) -> Result<(), LocalError> {
    private_dir(&state.root)?;
    // One service per state folder: a second one would drive the same executions twice.
    let _lock = lock_state(&state).await?;
    let request: DaemonRequest = read_json(&state.request_file())?.unwrap_or_default();
    let secret = state.secret()?;
    let left = process::kill_listed(&state.pid_file(), &state.root);
    if left > 0 {
        tracing::warn!(processes = left, "stopped function processes a killed service left running");
    }
    let config = EngineConfig { skip_time: request.skip_time, ..EngineConfig::default() };
    let engine = Engine::open(&state.store_file(), environment(&state, request.clock)?, config)?;
    let deployment: Deployment = state.read_deployment()?.unwrap_or_default();
    let listener = match TcpListener::bind(("127.0.0.1", request.port)).await {
        Ok(listener) => listener,
        Err(_) if request.port != 0 => TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| LocalError::Service(format!("cannot listen on 127.0.0.1: {e}")))?,
        Err(e) => return Err(LocalError::Service(format!("cannot listen on 127.0.0.1: {e}"))),
    };
    let port = listener.local_addr().map_err(|e| LocalError::Service(e.to_string()))?.port();
    let endpoint = format!("http://127.0.0.1:{port}");
    private_dir(&state.logs_dir())?;
    #[cfg(feature = "test-hooks")]
    let durable_endpoint = std::env::var(crate::oracle::DURABLE_ENDPOINT_ENV).ok().filter(|v| !v.is_empty());
    #[cfg(not(feature = "test-hooks"))]
    let durable_endpoint = None;
    let options = ServiceOptions {
        endpoint: endpoint.clone(),
        durable_endpoint,
        logs_dir: state.logs_dir(),
        pid_file: state.pid_file(),
        credentials: if request.credentials { credentials_from_env() } else { None },
        aws_endpoint_url: request.aws_endpoint_url.clone(),
        max_instances: MAX_INSTANCES,
    };
    let service = Service::new(engine, deployment, options);
    let instance = uuid::Uuid::new_v4().simple().to_string();
    let control = ControlConfig {
        secret,
        instance: instance.clone(),
        deployment_file: state.deployment_file(),
        clock_file: state.clock_file(),
    };
    let app = api::router(ApiState { service: service.clone(), control: Arc::new(control) });
    write_json(&state.daemon_file(), &DaemonInfo { pid: std::process::id(), port, instance })?;
    tracing::info!(%endpoint, skip_time = request.skip_time, clock = request.clock.as_str(), "local endpoint listening");
    service.recover().map_err(|e| LocalError::Service(format!("cannot resume the stored executions: {e}")))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| LocalError::Service(e.to_string()))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| LocalError::Service(e.to_string()))?;
    let serving = axum::serve(listener, app);
    tokio::select! {
        served = serving => served.map_err(|e| LocalError::Service(format!("the endpoint stopped: {e}")))?,
        _ = term.recv() => {}
        _ = interrupt.recv() => {}
        () = service.shutdown.notified() => {}
    }
    tracing::info!("stopping");
    service.stop_all();
    let _ = std::fs::remove_file(state.daemon_file());
    Ok(())
}

/// Runs the service in the foreground on its own runtime, logging to stderr (`DEPLOYER_LOG`, default `info`): the
/// body of the crate's `local-service` binary and of the bench's copy of it.
pub fn run_foreground(state_dir: std::path::PathBuf) -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DEPLOYER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(StateDir::new(state_dir))) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
