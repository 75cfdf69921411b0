//! The harness's surroundings: the workspace, third-party tools, loopback ports, child processes and timed commands.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Context, Error, Result};

/// The workspace root: the parent of this crate's folder.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}

/// Folders searched for third-party tools, in order: `DEPLOYER_TOOLS_BIN`, the project's tool virtualenv, the
/// harness's own virtualenv (`target/bench/venv`, where it may install cargo-lambda), then `PATH`.
pub fn tool_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("DEPLOYER_TOOLS_BIN") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(workspace_root().join(".venv-tools/bin"));
    dirs.push(workspace_root().join("target/bench/venv/bin"));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs
}

/// A third-party tool, if installed.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    tool_dirs().into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A third-party tool, or an error that says how to install it.
pub fn tool(name: &str, install: &str) -> Result<PathBuf> {
    find_tool(name).with_context(|| {
        format!(
            "`{name}` not found in DEPLOYER_TOOLS_BIN, {}/.venv-tools/bin or PATH; {install}",
            workspace_root().display()
        )
    })
}

/// `PATH` with the tool folders first, for the commands the harness starts.
pub fn tools_path() -> std::ffi::OsString {
    std::env::join_paths(tool_dirs()).unwrap_or_default()
}

/// A free TCP port on loopback.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(listener.local_addr().context("cannot read a bound port")?.port())
}

/// A child process killed and reaped when dropped.
#[derive(Debug)]
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something listens on `127.0.0.1:port`.
pub fn wait_port(port: u16, timeout: Duration, what: &str) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(Error::msg(format!("{what} did not listen on 127.0.0.1:{port} within {timeout:?}")))
}

/// A finished command: how long it took and what it printed.
#[derive(Debug)]
pub struct Timed {
    /// Wall time.
    pub elapsed: Duration,
    /// Its output.
    pub output: Output,
}

impl Timed {
    /// Stdout and stderr as text, for error messages.
    pub fn text(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&self.output.stdout),
            tail(&String::from_utf8_lossy(&self.output.stderr), 4000)
        )
    }

    /// Fails with the output when the command failed.
    pub fn check(self, what: &str) -> Result<Self> {
        if self.output.status.success() {
            Ok(self)
        } else {
            Err(Error::msg(format!("{what} failed ({}):\n{}", self.output.status, self.text())))
        }
    }
}

/// The last `max` bytes of `text` (at a character boundary).
pub fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text.get(start..).unwrap_or(text)
}

/// Runs `command` to completion with no input, timing it.
pub fn run_timed(command: &mut Command, what: &str) -> Result<Timed> {
    let start = Instant::now();
    let output = command.stdin(Stdio::null()).output().with_context(|| format!("cannot start {what}"))?;
    Ok(Timed { elapsed: start.elapsed(), output })
}

/// The harness's own release target folder (`target/bench/deployer-target`): the deployer and the host builds of
/// the functions are built there, so the harness never holds the lock of the shared `target/release` that the
/// other engineers' Lambda builds need.
pub fn own_target() -> PathBuf {
    workspace_root().join("target/bench/deployer-target")
}

/// `cargo` (the one running us, when there is one) at nice 19, so the other engineers' builds on this machine go
/// first, with the tool folders on `PATH`.
pub fn cargo_niced() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new("nice");
    command.args(["-n", "19", &cargo]).env("PATH", tools_path());
    command
}

/// Copies the workspace's sources (not `target/`, not dot folders) into `to`, as the end-to-end tests do; files
/// already there with the same contents are left alone.
pub fn copy_workspace(to: &Path) -> Result<()> {
    let root = workspace_root();
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    // Every top-level entry, as `copy_tree` filters them: a list of members would miss the next one added.
    for entry in std::fs::read_dir(&root).with_context(|| format!("cannot list {}", root.display()))? {
        let name = entry.with_context(|| format!("cannot list {}", root.display()))?.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        copy_tree(&root.join(&name), &to.join(&name))?;
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
        for entry in std::fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))? {
            let entry = entry.with_context(|| format!("cannot list {}", from.display()))?;
            let name = entry.file_name();
            if name == "target" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            copy_tree(&entry.path(), &to.join(name))?;
        }
        Ok(())
    } else {
        let contents = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
        // An unchanged file keeps its modification time, so cargo's fingerprints in the copy stay fresh.
        if std::fs::read(to).is_ok_and(|old| old == contents) {
            return Ok(());
        }
        std::fs::write(to, contents).with_context(|| format!("cannot write {}", to.display()))
    }
}

/// The harness's copy of the workspace (`target/bench/work/ws`), refreshed from the sources: one stable path, so
/// cargo's artifacts for its crates stay warm from one run of the harness to the next.
pub fn workspace_copy() -> Result<PathBuf> {
    let work = workspace_root().join("target/bench/work/ws");
    copy_workspace(&work)?;
    Ok(work)
}

/// The cargo target folder for builds of the harness's copy (`target/bench/ws-target`). Never the workspace's own
/// `target`: cargo keys a path crate's artifacts by its path relative to its workspace, so the copy and the sources
/// would share fingerprints, and a build of the sources could take the copy's unchanged files as its own and keep a
/// stale binary.
pub fn copy_target_dir() -> PathBuf {
    workspace_root().join("target/bench/ws-target")
}

/// Milliseconds of a duration.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
