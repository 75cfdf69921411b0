//! Shared helpers: finding the third-party tools, free loopback ports, running the deployer.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (tests run from the crate folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Cargo's target directory for this workspace (honours `CARGO_TARGET_DIR`), shared by the copies tests build in.
pub fn target_dir() -> PathBuf {
    deployer::Workspace::discover_from(&workspace_root()).unwrap().target_dir
}

/// The target folder of tests that edit sources in their copy of the workspace: never the workspace's own, so a
/// later `up` there cannot take a binary built from edited sources for its own (cargo uplifts every build of a
/// package to the same path, whatever folder its sources were in). Created on first use with the compiled
/// dependencies of the shared folder's release builds (theirs do not depend on where the workspace is), so only
/// the workspace's own crates are built again; kept afterwards, as a cache.
pub fn edited_sources_target_dir() -> PathBuf {
    let shared = target_dir();
    let own = shared.join("e2e-edited-sources");
    if own.exists() {
        return own;
    }
    let seeding = shared.join(format!("e2e-edited-sources.seeding-{}", std::process::id()));
    for profile in ["release", "aarch64-unknown-linux-gnu/release", "x86_64-unknown-linux-gnu/release"] {
        for part in ["deps", "build", ".fingerprint"] {
            let from = shared.join(profile).join(part);
            if !from.exists() {
                continue;
            }
            let to = seeding.join(profile);
            std::fs::create_dir_all(&to).unwrap();
            let copied = Command::new("cp").arg("-a").arg("--reflink=auto").arg(&from).arg(&to).status().unwrap();
            assert!(copied.success(), "could not copy {} into {}", from.display(), to.display());
        }
    }
    std::fs::create_dir_all(&seeding).unwrap();
    // Another test process may have seeded it meanwhile: theirs is as good.
    if std::fs::rename(&seeding, &own).is_err() {
        let _ = std::fs::remove_dir_all(&seeding);
    }
    own
}

/// A third-party tool, from `DEPLOYER_TOOLS_BIN` or `PATH`. A missing tool fails the test: it is never skipped.
pub fn tool(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("DEPLOYER_TOOLS_BIN") {
        let path = PathBuf::from(dir).join(name);
        if path.exists() {
            return path;
        }
    }
    let default = workspace_root().join(".venv-tools/bin").join(name);
    if default.exists() {
        return default;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join(name).exists() {
                return dir.join(name);
            }
        }
    }
    panic!("`{name}` is not installed: run the tests with `scripts/test`, which installs it");
}

/// A TCP port on loopback that was free a moment ago: another program may take it before the caller binds it.
/// To start a server on it, use [`spawn_listening`], which proves the server got the port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `command(port)` (a server told to listen on loopback `port`) on a free port, and waits until that very
/// process listens there: an answer on the port from another program that took it first does not count. When the
/// server exits at start (the port was taken), it is started again on another port. Killed when the guard drops,
/// also when the test panics.
#[allow(dead_code, reason = "for the moto tests' server, whose module another change owns")]
pub fn spawn_listening(command: impl FnMut(u16) -> Command, timeout: Duration) -> (Guard, u16) {
    spawn_listening_on(std::iter::repeat_with(free_port), command, timeout)
}

/// [`spawn_listening`] trying the ports of `ports` in turn (at most five).
pub fn spawn_listening_on(
    ports: impl IntoIterator<Item = u16>,
    mut command: impl FnMut(u16) -> Command,
    timeout: Duration,
) -> (Guard, u16) {
    let mut tried = Vec::new();
    for port in ports.into_iter().take(5) {
        let mut guard = Guard(command(port).spawn().unwrap());
        let start = Instant::now();
        loop {
            if local::supervisor::process::listens_on(guard.0.id(), port).unwrap_or(true)
                && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            {
                return (guard, port);
            }
            if let Some(status) = guard.0.try_wait().unwrap() {
                tried.push(format!("port {port}: exited at start ({status})"));
                break;
            }
            assert!(start.elapsed() < timeout, "{:?} did not listen on port {port} within {timeout:?}", guard.0.id());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("no port to start the server on: {}", tried.join("; "));
}

/// A process killed when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `url` answers (any HTTP status), or fails after `timeout`.
pub fn wait_http(url: &str, timeout: Duration) {
    let start = Instant::now();
    let authority = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(&authority).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} did not start listening within {timeout:?}");
}

/// Output of a command as text, for assertions and failure messages.
pub struct Run {
    pub ok: bool,
    /// The exit code (`None`: ended by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("--- exit {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            ok: o.status.success(),
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// The deployer binary, run in `dir` with `envs`.
pub fn deployer(dir: &Path, args: &[&str], envs: &[(&str, String)]) -> Run {
    deployer_command(dir, args, envs).output().unwrap().into()
}

/// The deployer binary the tests run.
pub fn deployer_binary() -> PathBuf {
    // A target folder shared by several checkouts holds one `deployer` at a time, the last one any of them built:
    // `DEPLOYER_E2E_BIN` names a copy of this checkout's own build to test instead.
    std::env::var_os("DEPLOYER_E2E_BIN").map_or_else(|| env!("CARGO_BIN_EXE_deployer").into(), PathBuf::from)
}

/// The command [`deployer`] runs, to spawn it instead.
pub fn deployer_command(dir: &Path, args: &[&str], envs: &[(&str, String)]) -> Command {
    let mut command = Command::new(deployer_binary());
    command.args(args).current_dir(dir).stdin(Stdio::null()).env_remove("AWS_PROFILE").env("CI", "true");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if let Some(bin) = std::env::var_os("DEPLOYER_TOOLS_BIN") {
        paths.insert(0, PathBuf::from(bin));
    }
    paths.insert(0, workspace_root().join(".venv-tools/bin"));
    command.env("PATH", std::env::join_paths(paths).unwrap());
    // An empty value removes the variable, so a test can run without the caller's AWS configuration.
    for (key, value) in envs {
        if value.is_empty() {
            command.env_remove(key);
        } else {
            command.env(key, value);
        }
    }
    command
}

/// Copies the workspace's sources (not `target/`, not dot folders such as `.git` or the tool virtualenvs) into `to`.
pub fn copy_workspace(to: &Path) {
    copy_tree(&workspace_root(), to);
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if name == "target" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            copy_tree(&entry.path(), &to.join(name));
        }
    } else {
        std::fs::copy(from, to).unwrap();
        // Same content, same modification time: cargo takes the copy's crates as fresh where the workspace's are.
        let modified = std::fs::metadata(from).unwrap().modified().unwrap();
        std::fs::File::options().write(true).open(to).unwrap().set_modified(modified).unwrap();
    }
}

/// A server started on a port another program holds (a listener that answers every connection) is not taken for
/// started: it is started again on a port of its own.
#[test]
fn a_server_whose_port_was_taken_is_started_on_another() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port();
    let ports = std::iter::once(taken_port).chain(std::iter::repeat_with(free_port));
    let (guard, port) = spawn_listening_on(
        ports,
        |port| {
            let mut command = Command::new(tool("python3"));
            command.args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()]);
            command.stdout(Stdio::null()).stderr(Stdio::null());
            command
        },
        Duration::from_secs(30),
    );
    assert_ne!(port, taken_port, "the other program's port was taken for the server's");
    assert_eq!(local::supervisor::process::listens_on(guard.0.id(), port), Some(true));
}

/// The environment of a deployer run against the local target: the shared target folder, a fixed region.
pub fn local_envs() -> Vec<(&'static str, String)> {
    vec![("CARGO_TARGET_DIR", target_dir().display().to_string()), ("AWS_REGION", "us-east-1".into())]
}

/// Stops the local target of a workspace copy when the test ends, passed or not.
pub struct Down<'a>(pub &'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = deployer(self.0, &["down", "--local"], &local_envs());
    }
}

/// Runs the deployer against the local target; it must succeed.
pub fn run_ok(dir: &Path, args: &[&str]) -> Run {
    let run = deployer(dir, args, &local_envs());
    assert!(run.ok, "`deployer {}` failed:\n{}", args.join(" "), run.all());
    run
}

/// The cargo running the tests, as the deployer runs cargo: without the variables cargo set for this test's package,
/// which would make build scripts rerun (ring's, when `CARGO_MANIFEST_DIR` changes) and rebuild what is built.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(deployer::is_package_variable) {
            command.env_remove(name);
        }
    }
    command
}

/// The executable `name` that this test's cargo runs: next to `$CARGO` (rustup's proxies), else on `PATH`.
pub fn which(name: &str) -> PathBuf {
    let beside_cargo = std::env::var_os("CARGO").map(PathBuf::from).and_then(|c| Some(c.parent()?.join(name)));
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    beside_cargo
        .into_iter()
        .chain(on_path.map(|dir| dir.join(name)))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no `{name}` next to $CARGO or on PATH"))
}

/// The one JSON line of `event` a `--json` run printed.
pub fn json_event(run: &Run, event: &str) -> serde_json::Value {
    run.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|value| value["event"] == event)
        .unwrap_or_else(|| panic!("no `{event}` event:\n{}", run.all()))
}

/// `history <name> --local --json` with `scope` (`--app`, `--stack`, `--function` as needed).
pub fn local_history(dir: &Path, scope: &[&str], name: &str) -> serde_json::Value {
    let mut args = vec!["history", name, "--local", "--json"];
    args.extend_from_slice(scope);
    json_event(&run_ok(dir, &args), "history")
}

/// Waits until execution `name` has a callback open; returns its id.
pub fn open_callback_id(dir: &Path, scope: &[&str], name: &str) -> String {
    let started = Instant::now();
    loop {
        let history = local_history(dir, scope, name);
        let open = history["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "callback" && r["callback_id"].is_string())
            .map(|r| r["callback_id"].as_str().unwrap().to_owned());
        if let Some(id) = open {
            assert_eq!(history["execution"]["status"], "RUNNING", "{history:#}");
            return id;
        }
        assert!(started.elapsed() < Duration::from_mins(1), "no callback opened by {name}: {history:#}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until execution `name` has ended; returns its history.
pub fn ended_history(dir: &Path, scope: &[&str], name: &str) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let history = local_history(dir, scope, name);
        if history["execution"]["status"] != "RUNNING" {
            return history;
        }
        assert!(started.elapsed() < Duration::from_mins(1), "{name} still RUNNING: {history:#}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
