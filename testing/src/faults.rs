//! Faults a test arms before it starts (or moves) an execution, to prove the workflow survives them: each fires
//! once, at the first moment that matches. With [`crate::TestApp::restart`] they cover the interruptions a
//! durable function must survive: its process killed, the service killed, a chained invoke failed or lost.

use std::sync::Arc;

use local::service::faults::{Fault, InvokeFault, Kill, Trigger};

use crate::app::Inner;
use crate::error::Result;

/// The faults of one [`crate::TestApp`].
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

impl Faults {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    fn arm(&self, fault: Fault) -> Result<()> {
        self.inner.service()?.faults.arm(fault);
        Ok(())
    }

    fn function_name(&self, function: &str) -> Result<String> {
        Ok(crate::TestApp::from_inner(self.inner.clone()).function(function)?.name().to_owned())
    }

    /// Kills (SIGKILL) the process of `function` running the operation named `operation` once its start is
    /// checkpointed: the engine invokes the handler again, which replays up to that operation.
    ///
    /// # Errors
    ///
    /// An unknown function.
    pub fn kill_process_when_started(&self, function: &str, operation: &str) -> Result<()> {
        self.arm(Fault {
            function: self.function_name(function)?,
            trigger: Trigger::Checkpoint { operation_type: None, action: "START".into(), name: Some(operation.into()) },
            kill: Kill::Process,
        })
    }

    /// Kills the process of `function` once the operation named `operation` has succeeded and the engine stored
    /// it, before the handler goes on: the replay must take the stored result, not run it again.
    ///
    /// # Errors
    ///
    /// An unknown function.
    pub fn kill_process_when_succeeded(&self, function: &str, operation: &str) -> Result<()> {
        self.arm(Fault {
            function: self.function_name(function)?,
            trigger: Trigger::Checkpoint {
                operation_type: None,
                action: "SUCCEED".into(),
                name: Some(operation.into()),
            },
            kill: Kill::Process,
        })
    }

    /// Fails the next chained invoke of `function` (the invoked one) with `Fault.InjectedFailure`; the function
    /// does not run.
    ///
    /// # Errors
    ///
    /// An unknown function.
    pub fn fail_next_invoke(&self, function: &str) -> Result<()> {
        self.arm(Fault {
            function: self.function_name(function)?,
            trigger: Trigger::ChainedInvoke { fault: InvokeFault::Fail },
            kill: Kill::Process,
        })
    }

    /// Cuts the next chained invoke of `function`: it runs, and its answer is lost, as when the service dies at
    /// that moment. The execution waits for the answer until [`crate::TestApp::restart`], after which the engine
    /// invokes the function again: the invoked function must be safe to run twice.
    ///
    /// # Errors
    ///
    /// An unknown function.
    pub fn cut_next_invoke(&self, function: &str) -> Result<()> {
        self.arm(Fault {
            function: self.function_name(function)?,
            trigger: Trigger::ChainedInvoke { fault: InvokeFault::Cut },
            kill: Kill::Process,
        })
    }

    /// How many armed faults have fired so far.
    ///
    /// # Errors
    ///
    /// A service that is not running.
    pub fn fired(&self) -> Result<usize> {
        Ok(self.inner.service()?.faults.fired().len())
    }
}
