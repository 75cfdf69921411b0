//! The cross toolchain of Lambda builds: `cargo-zigbuild` and zig. When neither `PATH` nor the tools folder has
//! them, they are installed on first use, pinned, into the tools folder's virtualenv (`.deployer/tools/venv`, which
//! the build puts first on `PATH`), the way the local target installs its engine.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{DeployerError, Result};
use crate::workspace::Workspace;

/// The pinned packages: `cargo-zigbuild` brings the cargo subcommand, `ziglang` the zig it links with.
pub(crate) const PACKAGES: [&str; 2] = ["cargo-zigbuild==0.24.1", "ziglang==0.17.1"];

/// Makes sure `cargo zigbuild` can run: already on the search path, or installed now (reported through
/// `progress`).
pub(crate) fn ensure(workspace: &Workspace, progress: &dyn Fn(String)) -> Result<()> {
    if super::zigbuild_found(workspace) {
        return Ok(());
    }
    let tools = workspace.tools_dir();
    std::fs::create_dir_all(&tools).map_err(|e| DeployerError::io("create", &tools, e))?;
    // The virtualenv's scripts start with the path it was created at: create it at the real one, not through a
    // symlink that may go away.
    let tools = std::fs::canonicalize(&tools).map_err(|e| DeployerError::io("resolve", &tools, e))?;
    // Two deployers installing at once would recreate each other's virtualenv: the second waits for the first.
    let lock_path = tools.join("toolchain-install.lock");
    let _lock = crate::lock::wait_exclusive(&lock_path, || {
        progress("another deployer is installing cargo-zigbuild; waiting for it".to_owned());
    })
    .map_err(|e| DeployerError::io("lock", &lock_path, e))?;
    if super::zigbuild_found(workspace) {
        return Ok(());
    }
    let venv = tools.join("venv");
    progress(format!("installing {} into {} (once)", PACKAGES.join(" and "), venv.display()));
    install(&venv).map_err(|why| missing(&why))?;
    if super::zigbuild_found(workspace) { Ok(()) } else { Err(missing("the installation did not provide it")) }
}

fn install(venv: &Path) -> std::result::Result<(), String> {
    let python = std::env::var("DEPLOYER_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    if !venv.join("bin").join("python").is_file() {
        run(Command::new(&python).args(["-m", "venv"]).arg(venv), &format!("`{python} -m venv`"))?;
    }
    let pip = venv.join("bin").join("python");
    run(
        Command::new(&pip).args(["-m", "pip", "install", "--disable-pip-version-check", "--quiet"]).args(PACKAGES),
        "pip",
    )
}

fn run(command: &mut Command, what: &str) -> std::result::Result<(), String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let mut errors = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut errors);
    }
    let status = child.wait().map_err(|e| format!("{what} did not finish: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        let tail: Vec<&str> = errors.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        Err(format!("{what} failed ({status}): {}", tail.join(" | ")))
    }
}

fn missing(why: &str) -> DeployerError {
    DeployerError::ToolMissing {
        tool: "cargo-zigbuild".into(),
        install: format!(
            "Lambda builds link against Amazon Linux 2023's glibc 2.34 with zig, and installing them failed ({why}); \
             install both with `python3 -m pip install cargo-zigbuild` (brings zig), or `cargo install \
             cargo-zigbuild` plus zig"
        ),
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::PACKAGES;

    /// The deployer and the project's test tools install the same pinned toolchain.
    #[test]
    fn the_pins_match_the_project_s_tool_requirements() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/requirements-tools.txt");
        let requirements = std::fs::read_to_string(path).unwrap();
        for package in PACKAGES {
            assert!(requirements.lines().any(|line| line.trim() == package), "{package} is not pinned in {path}");
        }
    }
}
