//! Retries made visible: the SDK retries throttling and transient errors with backoff (standard mode, up to five
//! attempts); this interceptor says so on stderr, so a slow deployment is never a silent one.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// How many times one call is attempted before its error is reported.
pub(crate) const MAX_ATTEMPTS: u32 = 5;

/// Logs a warning before every retry attempt.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RetryNotice;

impl Intercept for RetryNotice {
    fn name(&self) -> &'static str {
        "RetryNotice"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<RequestAttempts>().map_or(1, RequestAttempts::attempts);
        if attempt > 1 {
            let operation = cfg
                .load::<Metadata>()
                .map_or_else(|| "an AWS call".to_owned(), |m| format!("{}.{}", m.service(), m.name()));
            tracing::warn!(
                "retrying {operation} (attempt {attempt} of {MAX_ATTEMPTS}) after a throttling or transient error"
            );
        }
        Ok(())
    }
}
