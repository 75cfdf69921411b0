//! Fault injection for the interruption tests: kill -9 a function process at a precise point of a durable
//! execution. Armed through the daemon's private control route; each fault fires once.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// When to kill the process of `function`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// The function whose process is killed.
    pub function: String,
    /// The moment.
    pub trigger: Trigger,
    /// What is killed: the function's process (default) or the whole daemon (a crash of the local service).
    #[serde(default)]
    pub kill: Kill,
}

/// What a fault kills (SIGKILL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kill {
    /// The function process running the execution.
    #[default]
    Process,
    /// The daemon itself; the engine and the function processes outlive it.
    Daemon,
}

/// The moment a fault fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Trigger {
    /// After the engine accepted a checkpoint carrying an update of this type and action (`STEP`/`SUCCEED`,
    /// `CHAINED_INVOKE`/`START`).
    Checkpoint {
        /// Operation type.
        operation_type: String,
        /// Update action.
        action: String,
    },
    /// Right after the process took an invocation whose envelope holds an operation of this type and status
    /// (`CHAINED_INVOKE`/`SUCCEEDED`: the processor has returned, the orchestrator is about to resume).
    Delivery {
        /// Operation type.
        operation_type: String,
        /// Operation status.
        status: String,
    },
}

/// The armed faults.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<Vec<Fault>>,
    fired: Mutex<Vec<Fault>>,
}

impl Faults {
    /// Arms a fault.
    pub fn arm(&self, fault: Fault) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.push(fault);
        }
    }

    /// Faults that fired so far.
    pub fn fired(&self) -> Vec<Fault> {
        self.fired.lock().map(|f| f.clone()).unwrap_or_default()
    }

    /// The fault a checkpoint request (its JSON body) of `function` fires, if any; consumes it.
    pub fn take_checkpoint(&self, function: &str, body: &Value) -> Option<Kill> {
        let updates = body.get("Updates").and_then(Value::as_array).cloned().unwrap_or_default();
        self.take(|fault| match &fault.trigger {
            Trigger::Checkpoint { operation_type, action } => {
                fault.function == function
                    && updates.iter().any(|u| {
                        u.get("Type").and_then(Value::as_str) == Some(operation_type.as_str())
                            && u.get("Action").and_then(Value::as_str) == Some(action.as_str())
                    })
            }
            Trigger::Delivery { .. } => false,
        })
    }

    /// The fault delivering a durable envelope to `function` fires, if any; consumes it.
    pub fn take_delivery(&self, function: &str, envelope: &Value) -> Option<Kill> {
        let operations = envelope
            .pointer("/InitialExecutionState/Operations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        self.take(|fault| match &fault.trigger {
            Trigger::Delivery { operation_type, status } => {
                fault.function == function
                    && operations.iter().any(|op| {
                        op.get("Type").and_then(Value::as_str) == Some(operation_type.as_str())
                            && op.get("Status").and_then(Value::as_str) == Some(status.as_str())
                    })
            }
            Trigger::Checkpoint { .. } => false,
        })
    }

    fn take(&self, matches: impl Fn(&Fault) -> bool) -> Option<Kill> {
        let mut armed = self.armed.lock().ok()?;
        let index = armed.iter().position(matches)?;
        let fault = armed.remove(index);
        let kill = fault.kill;
        if let Ok(mut fired) = self.fired.lock() {
            fired.push(fault);
        }
        Some(kill)
    }
}
