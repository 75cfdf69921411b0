//! Runs the project's app as `cdk` runs the app named in `cdk.json`: builds its binary with cargo, runs it with
//! the context (environment, stack names, architecture, asset names) in a fresh output folder, and reads the cloud
//! assembly it wrote there.
//!
//! The app is a process, not a library linked into the deployer: the deployer then builds once for every project
//! (`cargo install`), an app compiles in seconds without the AWS SDKs, and the same contract serves this repository's
//! three apps (the user's `stacks`, the deployer's test fixture, the conformance suites).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use constructs::{AppContext, CloudAssembly};

use crate::error::{DeployerError, Result};
use crate::workspace::{Workspace, cargo};

/// Which binary of which package is the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppBinary {
    /// The cargo package.
    pub(crate) package: String,
    /// The binary target, when the package names several.
    pub(crate) bin: Option<String>,
}

impl AppBinary {
    /// Compiles the app (cargo's own messages go to the user's terminal) and returns its executable.
    pub(crate) fn build(&self, workspace: &Workspace) -> Result<PathBuf> {
        let package = workspace.packages.iter().find(|p| p.name == self.package).ok_or_else(|| {
            DeployerError::Config(format!(
                "the app package `{}` is not a member of the workspace at {}; fix `[app] package` in \
                 deployer.toml or `--app`",
                self.package,
                workspace.root.display()
            ))
        })?;
        let bins: Vec<&str> =
            package.targets.iter().filter(|t| t.kind.iter().any(|k| k == "bin")).map(|t| t.name.as_str()).collect();
        let bin = match (&self.bin, bins.as_slice()) {
            (Some(bin), _) if bins.contains(&bin.as_str()) => bin.clone(),
            (None, [only]) => (*only).to_owned(),
            (Some(bin), _) => {
                return Err(DeployerError::Config(format!(
                    "package `{}` has no binary `{bin}`; its binaries: {}",
                    self.package,
                    bins.join(", ")
                )));
            }
            (None, []) => {
                return Err(DeployerError::Config(format!(
                    "package `{}` has no binary: an app is a binary whose `main` calls `constructs::App::run`",
                    self.package
                )));
            }
            (None, _) => {
                return Err(DeployerError::Config(format!(
                    "package `{}` has several binaries ({}); name the app's with `bin = \"...\"` under [app] in \
                     deployer.toml",
                    self.package,
                    bins.join(", ")
                )));
            }
        };
        let output = cargo()
            .current_dir(&workspace.root)
            .args(["build", "--quiet", "--locked", "--message-format=json-render-diagnostics"])
            .args(["--package", &self.package, "--bin", &bin])
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| DeployerError::Build(format!("cannot run cargo to build the app: {e}")))?;
        if !output.status.success() {
            return Err(DeployerError::Build(format!(
                "the app (package `{}`) does not compile ({}); the compiler's messages are above",
                self.package, output.status
            )));
        }
        executable_of(&output.stdout, &bin).ok_or_else(|| {
            DeployerError::Build(format!("cargo built the app `{bin}` but did not say where its executable is"))
        })
    }
}

/// The executable of binary `bin` in cargo's JSON messages.
fn executable_of(messages: &[u8], bin: &str) -> Option<PathBuf> {
    messages
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == bin)
        .filter(|m| m["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin")))
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// Runs the app's `executable` with `context` and reads the assembly it writes.
pub(crate) fn synth(workspace: &Workspace, executable: &Path, context: &AppContext) -> Result<CloudAssembly> {
    let parent = workspace.target_dir.join("deployer").join("assembly");
    std::fs::create_dir_all(&parent).map_err(|e| DeployerError::io("create", &parent, e))?;
    // A folder of its own per run: a watch loop and a command typed beside it may synthesize at the same time.
    let dir = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&parent)
        .map_err(|e| DeployerError::io("create a folder in", &parent, e))?;
    context.write(dir.path())?;
    let output = Command::new(executable)
        .current_dir(&workspace.root)
        .env(constructs::app::OUTDIR_ENV, dir.path())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| DeployerError::Build(format!("cannot run the app {}: {e}", executable.display())))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr.trim().strip_prefix("error: ").unwrap_or(stderr.trim()).to_owned();
        return Err(DeployerError::App(if message.is_empty() {
            format!("the app {} failed ({}) without saying why", executable.display(), output.status)
        } else {
            message
        }));
    }
    Ok(constructs::assembly::read(dir.path())?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_executable_is_read_from_cargo_s_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"constructs","kind":["lib"]},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"stacks","kind":["lib"]},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"stacks","kind":["bin"]},"executable":"/t/stacks"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(executable_of(messages.as_bytes(), "stacks"), Some(PathBuf::from("/t/stacks")));
        assert_eq!(executable_of(messages.as_bytes(), "other"), None);
    }
}
