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

/// `POST`: move the service's manual clock ([`ClockMove`]); answers a [`ClockReading`].
pub const CLOCK: &str = "/_local/clock";
/// `POST`: replay a recorded execution against the current code ([`ReplayRequest`]); answers a
/// [`crate::service::replay::ReplayReport`].
pub const REPLAY: &str = "/_local/replay";
/// Control route: let a held replay's handler start, answering its report.
pub const REPLAY_RELEASE: &str = "/_local/replay/release";

/// Which clock the service's engine and timers run on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// The wall clock: waits, retry delays and timeouts fire at their time.
    #[default]
    Wall,
    /// A virtual clock that stands still until the CLI (or a test) moves it: `deployer time advance|next`.
    Manual,
}

impl ClockMode {
    /// The spelling `--clock` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wall => "wall",
            Self::Manual => "manual",
        }
    }
}

/// How to move a manual clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "move", rename_all = "snake_case")]
pub enum ClockMove {
    /// Forward by this many milliseconds.
    Advance {
        /// Milliseconds.
        ms: u64,
    },
    /// Forward to the earliest armed timer (a wait's end, a retry, a timeout); no move when none is armed.
    Next,
}

/// The manual clock after a move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockReading {
    /// The clock now, epoch milliseconds.
    pub now_ms: i64,
    /// How far it moved, milliseconds.
    pub moved_ms: i64,
    /// Timers that fell due with this move and were applied.
    pub fired: usize,
    /// When the next armed timer is due, epoch milliseconds, if any.
    pub next_timer_ms: Option<i64>,
}

/// A request to replay a recorded execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayRequest {
    /// The recorded execution's ARN.
    pub execution: String,
    /// An execution recorded elsewhere (on AWS): replayed from this record instead of the store's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<RecordedExecution>,
    /// Hold the replay's process before its handler starts, for a debugger; the answer is then a
    /// [`crate::service::replay::ReplayAnswer`], and [`REPLAY_RELEASE`] lets it go on.
    #[serde(default)]
    pub hold: bool,
}

/// Lets a held replay go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRequest {
    /// The session [`crate::service::replay::HeldReplay`] named.
    pub session: String,
}

/// An execution recorded elsewhere, to replay against the current code of a function of this target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedExecution {
    /// The function of this target whose current code replays it (the same stack's function of the same logical
    /// id as the one that ran it).
    pub function: String,
    /// How the execution stands: `RUNNING`, `SUCCEEDED`, ...
    pub status: crate::engine::model::ExecutionStatus,
    /// Its result, when it succeeded.
    pub result: Option<String>,
    /// Its error, when it failed.
    pub error: Option<crate::engine::model::ErrorObject>,
    /// Its history, with inputs and results (`IncludeExecutionData`), timestamps in epoch milliseconds.
    pub events: Vec<crate::engine::model::Event>,
}
