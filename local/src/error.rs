//! What can go wrong on the local target, each variant saying what to do next.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// An error of the local target.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LocalError {
    /// The template uses something the local target cannot evaluate.
    #[error("cannot run the stack locally: {0}")]
    Template(String),
    /// The state folder is unreadable or inconsistent.
    #[error("{0}")]
    State(String),
    /// The execution store failed.
    #[error("the local execution store failed: {0}")]
    Store(String),
    /// A file operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The service could not be started, reached or stopped.
    #[error("{0}")]
    Service(String),
    /// Nothing is running.
    #[error("the local target is not running; start it with `deployer up --local`")]
    NotRunning,
    /// An HTTP exchange with the service failed.
    #[error("{0}")]
    Http(String),
}

impl LocalError {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io { action, path: path.to_owned(), source }
    }
}

impl From<String> for LocalError {
    fn from(message: String) -> Self {
        Self::Store(message)
    }
}
