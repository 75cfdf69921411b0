//! The local target: runs a synthesized stack on this machine, with a Lambda service of our own (Invoke API and
//! Runtime API for the real `bootstrap` binaries) and AWS's durable execution emulator (`dex-local-runner`) as the
//! durable engine.
//!
//! Layout: [`template`] and [`deployment`] turn a template into what runs; [`engine`] installs and starts the
//! emulator; [`instance`] and [`runtime_api`] run function processes; [`invoke_api`] is the endpoint clients and
//! the engine call; [`daemon`] ties them together in the background process; [`control`] is the CLI's side.

pub mod arn;
pub mod control;
pub mod daemon;
pub mod deployment;
pub mod durable;
pub mod engine;
pub mod faults;
pub mod http;
pub mod instance;
pub mod invoke_api;
pub mod runtime_api;
pub mod service;
pub mod state;
pub mod template;

use std::path::Path;

use thiserror::Error;

/// What went wrong on the local target.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LocalError {
    /// The template uses something the local target cannot evaluate.
    #[error("cannot run the stack locally: {0}")]
    Template(String),
    /// The state folder is unreadable or inconsistent.
    #[error("{0}")]
    State(String),
    /// A file operation failed.
    #[error("cannot {action} {path}: {message}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: String,
        /// The cause.
        message: String,
    },
    /// No usable Python for the engine.
    #[error("{0}")]
    Python(String),
    /// The engine could not be installed or started.
    #[error("{0}")]
    Engine(String),
    /// The daemon could not be started, reached or stopped.
    #[error("{0}")]
    Daemon(String),
    /// Nothing is running.
    #[error("the local target is not running; start it with `deployer up --local`")]
    NotRunning,
    /// An HTTP exchange failed.
    #[error("{0}")]
    Http(String),
}

impl LocalError {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: &Path, error: &std::io::Error) -> Self {
        Self::Io { action, path: path.display().to_string(), message: error.to_string() }
    }
}

/// Opens `path` for appending twice, as a child process's stdout and stderr, so both land in one log file.
pub fn append_log(path: &Path) -> Result<(std::fs::File, std::fs::File), LocalError> {
    let out = private_log(path).map_err(|e| LocalError::io("open", path, &e))?;
    let err = out.try_clone().map_err(|e| LocalError::io("open", path, &e))?;
    Ok((out, err))
}

/// Creates `dir` (and its missing parents) readable by the user alone, and narrows it if it already exists: the
/// state folder holds the functions' logs, their payloads and the engine's store of executions.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Opens a log file for appending, created readable by the user alone (logs hold payloads and results).
pub fn private_log(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)
}

impl From<LocalError> for crate::error::DeployerError {
    fn from(error: LocalError) -> Self {
        Self::Local(error.to_string())
    }
}
