//! Fault injection for the interruption tests and the test library (built only with the `test-hooks` feature):
//! SIGKILL a function process, or the service itself, at a precise point of a durable execution, or fail or cut a
//! chained invoke. Armed through the control API or, in the test library, directly; each fault fires once.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::engine::Envelope;
use crate::engine::model::OperationUpdate;

/// When to kill, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// The function whose invocation triggers it.
    pub function: String,
    /// The moment.
    pub trigger: Trigger,
    /// What is killed.
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
    /// The service itself.
    Service,
}

/// The moment a fault fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Trigger {
    /// After the engine accepted a checkpoint with an update of this type and action (`STEP`/`SUCCEED`), and of
    /// this operation name when one is given (`STEP`/`START`/`reserve`: the step `reserve` starts).
    Checkpoint {
        /// Operation type; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operation_type: Option<String>,
        /// Update action.
        action: String,
        /// The operation's name; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Right after the process took an invocation whose envelope holds an operation of this type and status
    /// (`CHAINED_INVOKE`/`SUCCEEDED`: the processor returned, the orchestrator is about to resume).
    Delivery {
        /// Operation type.
        operation_type: String,
        /// Operation status.
        status: String,
    },
    /// The next chained invoke of this function (the fault's `function` is the invoked one): it fails without
    /// running, or it runs and its answer never reaches the engine, as when the service dies at that moment (the
    /// engine invokes it again after a restart).
    ChainedInvoke {
        /// What happens to it.
        fault: InvokeFault,
    },
}

/// What a chained-invoke fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvokeFault {
    /// The invoke fails at once with `Fault.InjectedFailure`; the target never runs.
    Fail,
    /// The target runs; its answer is dropped.
    Cut,
}

/// The armed faults, and which request each execution's handler is running.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<Vec<Fault>>,
    fired: Mutex<Vec<Fault>>,
    running: Mutex<HashMap<String, String>>,
}

fn kill_self() {
    if let Some(me) = rustix::process::Pid::from_raw(i32::try_from(std::process::id()).unwrap_or(0)) {
        let _ = rustix::process::kill_process(me, rustix::process::Signal::KILL);
    }
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

    /// The request id the handler of `execution` runs right now.
    pub fn request_of(&self, execution: &str) -> Option<String> {
        self.running.lock().ok()?.get(execution).cloned()
    }

    /// A handler invocation is delivered: whether to kill its process right after it took the envelope (a
    /// service fault kills the service at once).
    pub fn on_delivery(&self, function: &str, envelope: &Envelope) -> bool {
        if let Ok(mut running) = self.running.lock() {
            running.insert(envelope.execution.clone(), envelope.request_id.clone());
        }
        let fired = self.take(|fault| match &fault.trigger {
            Trigger::Delivery { operation_type, status } => {
                fault.function == function
                    && envelope.operations.iter().any(|op| {
                        serde_json::to_value(op.operation_type).ok().as_ref().and_then(|v| v.as_str())
                            == Some(operation_type.as_str())
                            && serde_json::to_value(op.status).ok().as_ref().and_then(|v| v.as_str())
                                == Some(status.as_str())
                    })
            }
            Trigger::Checkpoint { .. } | Trigger::ChainedInvoke { .. } => false,
        });
        match fired {
            Some(Kill::Service) => {
                kill_self();
                false
            }
            Some(Kill::Process) => true,
            None => false,
        }
    }

    /// A checkpoint of `function` was accepted: the fault it fires, if any (a service fault kills at once).
    pub fn on_checkpoint(&self, function: &str, updates: &[OperationUpdate]) -> Option<Kill> {
        let fired = self.take(|fault| match &fault.trigger {
            Trigger::Checkpoint { operation_type, action, name } => {
                fault.function == function
                    && updates.iter().any(|u| {
                        operation_type.as_ref().is_none_or(|t| {
                            serde_json::to_value(u.operation_type).ok().as_ref().and_then(|v| v.as_str())
                                == Some(t.as_str())
                        }) && serde_json::to_value(u.action).ok().as_ref().and_then(|v| v.as_str())
                            == Some(action.as_str())
                            && name.as_ref().is_none_or(|name| u.name.as_ref() == Some(name))
                    })
            }
            Trigger::Delivery { .. } | Trigger::ChainedInvoke { .. } => false,
        });
        if fired == Some(Kill::Service) {
            kill_self();
        }
        fired
    }

    /// A chained invoke of `function` is about to run: the fault armed for it, if any.
    pub fn on_chained_invoke(&self, function: &str) -> Option<InvokeFault> {
        let fault = self
            .take_fault(|fault| fault.function == function && matches!(fault.trigger, Trigger::ChainedInvoke { .. }))?;
        match fault.trigger {
            Trigger::ChainedInvoke { fault } => Some(fault),
            Trigger::Checkpoint { .. } | Trigger::Delivery { .. } => None,
        }
    }

    fn take(&self, matches: impl Fn(&Fault) -> bool) -> Option<Kill> {
        self.take_fault(matches).map(|fault| fault.kill)
    }

    fn take_fault(&self, matches: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let mut armed = self.armed.lock().ok()?;
        let index = armed.iter().position(matches)?;
        let fault = armed.remove(index);
        if let Ok(mut fired) = self.fired.lock() {
            fired.push(fault.clone());
        }
        Some(fault)
    }
}

impl super::Service {
    /// Kills (SIGKILL) the process running the handler of `execution`, if one does.
    pub fn kill_handler_of(&self, execution: &str) -> bool {
        let Some(request_id) = self.faults.request_of(execution) else { return false };
        for pool in self.pools.all() {
            if let Some(pid) = pool.pid_of(&request_id)
                && let Some(pid) = rustix::process::Pid::from_raw(i32::try_from(pid).unwrap_or(0))
            {
                return rustix::process::kill_process(pid, rustix::process::Signal::KILL).is_ok();
            }
        }
        false
    }
}
