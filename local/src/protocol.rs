//! The private control API between the CLI and the service: paths, the secret header, and the health answer
//! that proves which process answered.

use serde::{Deserialize, Serialize};

/// Header carrying the control secret (the state folder's `secret` file, readable by its owner alone).
pub const SECRET_HEADER: &str = "x-local-target-secret";
/// `GET`: who answers (no secret needed, nothing private in it).
pub const HEALTH: &str = "/_local/health";
/// `GET`: functions, processes and executions.
pub const STATUS: &str = "/_local/status";
/// `POST`: load `deployment.json` again.
pub const RELOAD: &str = "/_local/reload";
/// `POST`: stop the service.
pub const SHUTDOWN: &str = "/_local/shutdown";
/// `POST`: arm a fault (test builds only).
pub const FAULTS: &str = "/_local/faults";

/// The health answer: the process and the run it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The service's process id.
    pub pid: u32,
    /// A random id of this run of the service, also in `daemon.json`: a port reused by another program (or
    /// another run) cannot pass for this one.
    pub instance: String,
}
