//! Running functions for the Lambda API: a plain function synchronously or from the asynchronous queue (kept in
//! the store, so an accepted `Event` invocation runs even if the service is killed before it does), and the start
//! of a durable execution.

use std::sync::Arc;

use bytes::Bytes;

use super::Service;
use crate::deployment::ResolvedFunction;
use crate::engine::{EngineError, StartOutcome, StartRequest};
use crate::runtime::FunctionResponse;

impl Service {
    /// Runs one invocation of function `name` at `qualifier`; `None` when no such function or version exists.
    pub async fn invoke_function(
        &self,
        name: &str,
        qualifier: Option<&str>,
        payload: Bytes,
    ) -> Option<FunctionResponse> {
        let deployment = self.deployment();
        let target = deployment.resolve(name, qualifier)?;
        let spec = self.spec(&deployment, &target);
        self.count(&spec.function);
        let pool = self.pools.pool(spec);
        let request_id = uuid::Uuid::new_v4().to_string();
        Some(pool.invoke(&request_id, payload, false).await)
    }

    /// Accepts an asynchronous invocation of a plain function: recorded before this returns, run in the
    /// background, forgotten once it ran.
    pub fn invoke_async(self: &Arc<Self>, target: &ResolvedFunction<'_>, payload: Bytes) -> Result<(), EngineError> {
        let seq = self.engine().accept_async(&target.function.name, &target.version, &payload)?;
        self.spawn_async(seq, target.function.name.clone(), target.version.clone(), payload);
        Ok(())
    }

    pub(super) fn spawn_async(self: &Arc<Self>, seq: i64, function: String, qualifier: String, payload: Bytes) {
        let service = self.clone();
        self.in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::spawn(async move {
            let _busy = super::Busy(&service.in_flight);
            if let Some(FunctionResponse::FunctionError(body)) =
                service.invoke_function(&function, Some(&qualifier), payload).await
            {
                // Lambda would retry twice and then send the event to a failure destination; there is none here.
                tracing::warn!(%function, error = %String::from_utf8_lossy(&body), "an asynchronous invocation failed");
            }
            if let Err(e) = service.engine().finish_async(seq) {
                tracing::warn!(error = %e, "cannot forget a finished asynchronous invocation");
            }
        });
    }

    /// Starts a durable execution of `target` (or finds the one its name already started).
    pub fn start_execution(
        self: &Arc<Self>,
        target: &ResolvedFunction<'_>,
        input: &str,
        name: Option<&str>,
    ) -> Result<StartOutcome, EngineError> {
        let deployment = self.deployment();
        let durable = target.function.durable.unwrap_or_default();
        let request = StartRequest {
            function_name: target.function.name.clone(),
            function_arn: deployment.function_arn(&target.function.name),
            qualifier: target.version.clone(),
            name: name.map(str::to_owned),
            input: input.to_owned(),
            timeout_s: i64::try_from(durable.execution_timeout).unwrap_or(i64::MAX),
            retention_days: i64::try_from(durable.retention_days).unwrap_or(i64::MAX),
        };
        let (outcome, actions) = self.engine().start(&request)?;
        self.execute(actions);
        Ok(outcome)
    }
}
