//! The CLI's side of the service: find it (and prove it is ours), start it in the background, ask it to reload,
//! read its status, stop it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use hyper::Method;

use super::daemon::{CREDENTIAL_ENV, DaemonRequest};
use super::process;
use super::state::{DaemonInfo, StateDir};
use crate::error::LocalError;
use crate::files::{private_log, write_json};
use crate::http::Client;
use crate::protocol::{self, Health};
use crate::service::{Credentials, ServiceStatus};

/// How to start the service process: a program and its arguments; `--state-dir <folder>` is appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonCommand {
    /// The program.
    pub program: PathBuf,
    /// Its arguments before `--state-dir`.
    pub args: Vec<OsString>,
    /// Extra environment variables.
    pub env: Vec<(OsString, OsString)>,
}

/// How long a started service may take to answer its health route.
const START_TIMEOUT: Duration = Duration::from_mins(1);

/// The running service, if `daemon.json` names a live process of ours that answers its health route as the same
/// run.
pub async fn running(state: &StateDir) -> Result<Option<DaemonInfo>, LocalError> {
    let Some(info) = state.read_daemon()? else { return Ok(None) };
    if !process::is_ours(info.pid, &state.root) {
        return Ok(None);
    }
    let url = format!("{}{}", info.endpoint(), protocol::HEALTH);
    match Client::new().get(&url, Duration::from_secs(5)).await {
        Ok(received) if received.status.is_success() => {
            let health: Option<Health> = received.json().ok();
            Ok(health.filter(|h| h.pid == info.pid && h.instance == info.instance).map(|_| info))
        }
        _ => Ok(None),
    }
}

/// Starts the service in the background (its own process group, output in `daemon.log`) and waits until it
/// answers.
pub async fn start(
    state: &StateDir,
    command: &DaemonCommand,
    request: &DaemonRequest,
    credentials: Option<&Credentials>,
) -> Result<DaemonInfo, LocalError> {
    use std::os::unix::process::CommandExt as _;
    write_json(&state.request_file(), request)?;
    state.secret()?;
    let log_path = state.daemon_log();
    let log = private_log(&log_path).map_err(|e| LocalError::io("open", &log_path, e))?;
    let err_log = log.try_clone().map_err(|e| LocalError::io("open", &log_path, e))?;
    let mut child = std::process::Command::new(&command.program);
    child
        .args(&command.args)
        .arg("--state-dir")
        .arg(&state.root)
        .env("DEPLOYER_LOG", std::env::var("DEPLOYER_LOG").unwrap_or_else(|_| "info".to_owned()))
        .env_remove(CREDENTIAL_ENV[0])
        .env_remove(CREDENTIAL_ENV[1])
        .env_remove(CREDENTIAL_ENV[2])
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&state.root)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log);
    if let Some(c) = credentials.filter(|_| request.credentials) {
        child.env(CREDENTIAL_ENV[0], &c.access_key_id).env(CREDENTIAL_ENV[1], &c.secret_access_key);
        if let Some(token) = &c.session_token {
            child.env(CREDENTIAL_ENV[2], token);
        }
    }
    let mut child = child.spawn().map_err(|e| {
        LocalError::Service(format!("cannot start the local service ({}): {e}", command.program.display()))
    })?;
    let pid = child.id();
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    loop {
        if let Some(info) = running(state).await?
            && info.pid == pid
        {
            return Ok(info);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(LocalError::Service(format!(
                "the local service exited at start ({status}); {} ends with:\n{}",
                log_path.display(),
                tail(&log_path, 15)
            )));
        }
        if tokio::time::Instant::now() > deadline {
            process::kill(pid);
            return Err(LocalError::Service(format!(
                "the local service did not answer within {} s; see {}",
                START_TIMEOUT.as_secs(),
                log_path.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The last `lines` lines of a file.
pub fn tail(path: &std::path::Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

async fn control(state: &StateDir, info: &DaemonInfo, method: Method, path: &str) -> Result<Bytes, LocalError> {
    control_with(state, info, method, path, Bytes::from_static(b"{}"), Duration::from_secs(30)).await
}

/// A control call with a body; a refusal carries the service's own message.
async fn control_with(
    state: &StateDir,
    info: &DaemonInfo,
    method: Method,
    path: &str,
    body: Bytes,
    timeout: Duration,
) -> Result<Bytes, LocalError> {
    let secret = state.secret()?;
    let url = format!("{}{path}", info.endpoint());
    let received = Client::new().call(method, &url, &[(protocol::SECRET_HEADER, &secret)], body, timeout).await?;
    if received.status.is_success() {
        Ok(received.body)
    } else {
        let message = serde_json::from_slice::<serde_json::Value>(&received.body)
            .ok()
            .and_then(|v| v.get("message").and_then(serde_json::Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| format!("{path}: {}", String::from_utf8_lossy(&received.body)));
        Err(LocalError::Service(format!("the local service refused: {message}")))
    }
}

/// Moves the service's manual clock.
pub async fn move_clock(
    state: &StateDir,
    info: &DaemonInfo,
    how: protocol::ClockMove,
) -> Result<protocol::ClockReading, LocalError> {
    let body = serde_json::to_vec(&how).map_err(|e| LocalError::Http(e.to_string()))?;
    let answer = control_with(state, info, Method::POST, protocol::CLOCK, body.into(), Duration::from_mins(1)).await?;
    serde_json::from_slice(&answer).map_err(|e| LocalError::Http(format!("unreadable clock reading ({e})")))
}

/// Replays a recorded execution against the current code.
pub async fn replay(
    state: &StateDir,
    info: &DaemonInfo,
    arn: &str,
    recorded: Option<protocol::RecordedExecution>,
) -> Result<crate::service::replay::ReplayReport, LocalError> {
    let request = protocol::ReplayRequest { execution: arn.to_owned(), recorded, hold: false };
    post_json(state, info, protocol::REPLAY, &request, "replay report").await
}

/// Starts a replay held before its handler starts (`replay --wait-for-debugger`).
pub async fn replay_held(
    state: &StateDir,
    info: &DaemonInfo,
    arn: &str,
    recorded: Option<protocol::RecordedExecution>,
) -> Result<crate::service::replay::ReplayAnswer, LocalError> {
    let request = protocol::ReplayRequest { execution: arn.to_owned(), recorded, hold: true };
    post_json(state, info, protocol::REPLAY, &request, "replay answer").await
}

/// Lets a held replay go on; answers its report.
pub async fn release_replay(
    state: &StateDir,
    info: &DaemonInfo,
    session: &str,
) -> Result<crate::service::replay::ReplayReport, LocalError> {
    let request = protocol::ReleaseRequest { session: session.to_owned() };
    post_json(state, info, protocol::REPLAY_RELEASE, &request, "replay report").await
}

/// A control call with a JSON body and a JSON answer (`what` names it in errors); as long as a replay may run.
async fn post_json<T: serde::de::DeserializeOwned>(
    state: &StateDir,
    info: &DaemonInfo,
    route: &str,
    request: &impl serde::Serialize,
    what: &str,
) -> Result<T, LocalError> {
    let body = serde_json::to_vec(request).map_err(|e| LocalError::Http(e.to_string()))?;
    let answer = control_with(state, info, Method::POST, route, body.into(), Duration::from_hours(1)).await?;
    serde_json::from_slice(&answer).map_err(|e| LocalError::Http(format!("unreadable {what} ({e})")))
}

/// Asks the running service to load `deployment.json` again.
pub async fn reload(state: &StateDir, info: &DaemonInfo) -> Result<(), LocalError> {
    control(state, info, Method::POST, protocol::RELOAD).await.map(|_| ())
}

/// The running service's status.
pub async fn status(state: &StateDir, info: &DaemonInfo) -> Result<ServiceStatus, LocalError> {
    let body = control(state, info, Method::GET, protocol::STATUS).await?;
    serde_json::from_slice(&body).map_err(|e| LocalError::Http(format!("unreadable status ({e})")))
}

/// Stops the service and every process it started: asks it (once it has proved it is ours), then SIGTERM and
/// SIGKILL to its process; then whatever function process of ours is left. Returns whether anything ran.
pub async fn stop(state: &StateDir) -> Result<bool, LocalError> {
    let Some(info) = state.read_daemon()? else {
        return Ok(process::kill_listed(&state.pid_file(), &state.root) > 0);
    };
    let mut was_running = false;
    if running(state).await?.is_some() {
        was_running = true;
        let _ = control(state, &info, Method::POST, protocol::SHUTDOWN).await;
    }
    for (signal, waits) in
        [(None, 50), (Some(rustix::process::Signal::TERM), 30), (Some(rustix::process::Signal::KILL), 30)]
    {
        if !process::is_ours(info.pid, &state.root) {
            break;
        }
        was_running = true;
        if let Some(signal) = signal {
            process::signal(info.pid, signal);
        }
        for _ in 0..waits {
            if !process::is_ours(info.pid, &state.root) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    if process::is_ours(info.pid, &state.root) {
        return Err(LocalError::Service(format!(
            "the local service (pid {}) is still running after SIGKILL; stop it by hand (`kill -9 {}`)",
            info.pid, info.pid
        )));
    }
    let leftovers = process::kill_listed(&state.pid_file(), &state.root);
    let _ = std::fs::remove_file(state.daemon_file());
    Ok(was_running || leftovers > 0)
}
