//! The CLI's side of the local target: find, start, reload and stop the daemon, by pid and through its private
//! control routes.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rustix::process::{Pid, Signal};

use super::LocalError;
use super::daemon::{DaemonRequest, request_file};
use super::engine;
use super::http::Client;
use super::state::{DaemonInfo, StateDir};

/// The hidden subcommand that runs the daemon.
pub const DAEMON_SUBCOMMAND: &str = "local-daemon";

/// Set on the daemon, and passed on to the engine and every function process: the state folder they belong to.
/// A pid file outlives its process, and the kernel reuses pids: only processes carrying this mark are ever
/// signalled, so a stale `daemon.json` can never make us stop somebody else's program.
pub const OWNER_ENV: &str = "DEPLOYER_LOCAL_OWNER";

/// Whether `process` belongs to the local target kept in `state` (carries [`OWNER_ENV`] with its folder).
pub fn is_ours(process: u32, state: &StateDir) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{process}/environ")) else { return false };
    let wanted = format!("{OWNER_ENV}={}", state.root.display());
    environ.split(|byte| *byte == 0).any(|entry| entry == wanted.as_bytes())
}

/// The live processes of `group` that belong to the local target in `state`.
fn our_members(group: u32, state: &StateDir) -> Vec<u32> {
    group_members(group).into_iter().filter(|member| is_ours(*member, state)).collect()
}

fn pid(pid: u32) -> Option<Pid> {
    Pid::from_raw(i32::try_from(pid).ok()?)
}

/// `(pid, state, process group)` of every process, from `/proc`.
fn processes() -> Vec<(u32, char, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let process: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // The command name may hold spaces and parentheses: fields start after the last ')'.
            let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
            let state = fields.first()?.chars().next()?;
            let group = fields.get(2)?.parse().ok()?;
            Some((process, state, group))
        })
        .collect()
}

/// Whether a process with this id exists and is not a zombie.
pub fn is_alive(process: u32) -> bool {
    if process == 0 {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{process}/stat")) {
        Ok(stat) => {
            stat.rfind(')').and_then(|i| stat.get(i + 1..)).and_then(|rest| rest.split_whitespace().next()) != Some("Z")
        }
        Err(_) => pid(process).is_some_and(|p| rustix::process::test_kill_process(p).is_ok()),
    }
}

/// Sends SIGKILL to one process.
pub fn kill_pid(process: u32) -> bool {
    pid(process).is_some_and(|p| rustix::process::kill_process(p, Signal::KILL).is_ok())
}

/// Sends a signal to a whole process group (the daemon, the engine and the function processes).
pub fn signal_group(group: u32, signal: Signal) -> bool {
    pid(group).is_some_and(|p| rustix::process::kill_process_group(p, signal).is_ok())
}

/// The live (not zombie) processes of a group.
pub fn group_members(group: u32) -> Vec<u32> {
    processes().into_iter().filter(|(_, state, g)| *g == group && *state != 'Z').map(|(p, _, _)| p).collect()
}

/// Whether any live process of a group is left.
pub fn group_alive(group: u32) -> bool {
    group != 0 && !group_members(group).is_empty()
}

/// The running daemon, if its pid is alive and it answers its health route.
pub async fn running(state: &StateDir) -> Result<Option<DaemonInfo>, LocalError> {
    let Some(info) = state.read_daemon()? else { return Ok(None) };
    if !is_alive(info.pid) || !is_ours(info.pid, state) {
        return Ok(None);
    }
    let url = format!("{}/_local/health", info.endpoint());
    match Client::new().get(&url, Duration::from_secs(5)).await {
        Ok(received) if received.status.is_success() => {
            let answered = received.json().ok().and_then(|v| v.get("pid").and_then(serde_json::Value::as_u64));
            Ok((answered == Some(u64::from(info.pid))).then_some(info))
        }
        _ => Ok(None),
    }
}

/// Stops whatever a crashed daemon left behind (its function processes, in its process group). Its engine is kept
/// for adoption when it is healthy and serves the same function configurations: returns it as `(pid, port)`.
pub async fn clean_stale(state: &StateDir, configs: &serde_json::Value) -> Result<Option<(u32, u16)>, LocalError> {
    let Some(info) = state.read_daemon()? else { return Ok(None) };
    let served: Option<serde_json::Value> =
        super::state::read_json(&state.engine_dir().join("function-configs.json")).ok().flatten();
    let adoptable = served.as_ref() == Some(configs)
        && engine::Engine::adopt(info.engine_pid, info.engine_port, state).await.is_some();
    for member in our_members(info.pid, state) {
        if !(adoptable && member == info.engine_pid) {
            kill_pid(member);
        }
    }
    if !adoptable && is_alive(info.engine_pid) && is_ours(info.engine_pid, state) {
        kill_pid(info.engine_pid);
    }
    let _ = std::fs::remove_file(state.daemon_file());
    Ok(adoptable.then_some((info.engine_pid, info.engine_port)))
}

/// Starts the daemon in the background (its own process group, logs in `daemon.log`) and waits until it serves.
pub async fn start(
    state: &StateDir,
    runner: &Path,
    port_hint: u16,
    adopt_engine: Option<(u32, u16)>,
) -> Result<DaemonInfo, LocalError> {
    use std::os::unix::process::CommandExt;
    let request = DaemonRequest { engine: runner.to_owned(), port: port_hint, adopt_engine };
    StateDir::write_json(&request_file(state), &request)?;
    // `/proc/self/exe` runs this very binary even when a rebuild has replaced the file since we started.
    let proc_exe = Path::new("/proc/self/exe");
    let exe = if proc_exe.exists() {
        proc_exe.to_owned()
    } else {
        std::env::current_exe().map_err(|e| LocalError::Daemon(format!("cannot find the deployer binary: {e}")))?
    };
    let log_path = state.daemon_log();
    let (log, err_log) = super::append_log(&log_path)?;
    let mut child = std::process::Command::new(exe)
        .arg(DAEMON_SUBCOMMAND)
        .arg("--state-dir")
        .arg(&state.root)
        .env("DEPLOYER_LOG", std::env::var("DEPLOYER_LOG").unwrap_or_else(|_| "info".to_owned()))
        .env(OWNER_ENV, &state.root)
        .current_dir(&state.root)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .spawn()
        .map_err(|e| LocalError::Daemon(format!("cannot start the local daemon: {e}")))?;
    let daemon_pid = child.id();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(info) = running(state).await?
            && info.pid == daemon_pid
        {
            return Ok(info);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(LocalError::Daemon(format!(
                "the local daemon exited at start ({status}); {} ends with:\n{}",
                log_path.display(),
                engine::tail(&log_path, 15)
            )));
        }
        if tokio::time::Instant::now() > deadline {
            signal_group(daemon_pid, Signal::KILL);
            return Err(LocalError::Daemon(format!(
                "the local daemon did not come up within 90 s; see {}",
                log_path.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asks a running daemon to load `deployment.json` again.
pub async fn reload(info: &DaemonInfo) -> Result<(), LocalError> {
    let url = format!("{}/_local/reload", info.endpoint());
    let received = Client::new().post_json(&url, &serde_json::json!({}), Duration::from_secs(30)).await?;
    if received.status.is_success() {
        Ok(())
    } else {
        Err(LocalError::Daemon(format!(
            "the local daemon refused the new deployment: {}",
            String::from_utf8_lossy(&received.body)
        )))
    }
}

/// The daemon's status document.
pub async fn status(info: &DaemonInfo) -> Result<serde_json::Value, LocalError> {
    let url = format!("{}/_local/status", info.endpoint());
    Client::new().get(&url, Duration::from_secs(10)).await?.json()
}

/// Stops the daemon and everything it started: asks it first, then SIGTERM and SIGKILL to its process group.
/// Returns whether anything was running.
pub async fn stop(state: &StateDir) -> Result<bool, LocalError> {
    let Some(info) = state.read_daemon()? else { return Ok(false) };
    let url = format!("{}/_local/shutdown", info.endpoint());
    let _ = Client::new().post_json(&url, &serde_json::json!({}), Duration::from_secs(5)).await;
    let mut was_running = false;
    let engine_ours = is_ours(info.engine_pid, state);
    let left = || !our_members(info.pid, state).is_empty() || (engine_ours && is_alive(info.engine_pid));
    for (signal, wait) in [(None, 50), (Some(Signal::TERM), 30), (Some(Signal::KILL), 30)] {
        if !left() {
            break;
        }
        was_running = true;
        if let Some(signal) = signal {
            let engine = engine_ours.then_some(info.engine_pid);
            for process in our_members(info.pid, state).into_iter().chain(engine) {
                pid(process).map(|p| rustix::process::kill_process(p, signal));
            }
        }
        for _ in 0..wait {
            if !left() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    if left() {
        return Err(LocalError::Daemon(format!(
            "processes of the local target (group {}) are still running after SIGKILL; stop them by hand \
             (`kill -9 -{}`)",
            info.pid, info.pid
        )));
    }
    Ok(was_running)
}
