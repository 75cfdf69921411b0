//! `invoke`: invoke the durable function's `live` alias (on AWS or the local target) and print the result.
//!
//! Right after `up` creates or changes the functions' roles, IAM may not have propagated their policies yet:
//! CloudFormation's `DependsOn` only waits for the policy to be created, not for every Lambda host to see it. The
//! durable SDK treats a denied checkpoint as retryable (the service invokes again), but a denied chained invoke of
//! the processor fails the execution. So a synchronous `invoke` that fails on a denied permission within a few
//! minutes of the stack's last change starts a new execution after a pause, a few times, saying so; nothing is
//! lost, since a denied execution did no work. A named execution cannot be retried under its name: the error says
//! to invoke again with another one.
//!
//! Every durable start carries an execution name: `--name`, or one generated here and shown before the call
//! ([`durable::api::generated_name`]). The SDK retries a call whose connection broke (standard mode, five attempts),
//! and a start the service accepted before the connection dropped is retried under the same name, which the service
//! answers with the execution it already started: a transient error never starts a second one. A new execution
//! started after a denial (above) is a new start, so it gets a new generated name.

use std::time::{Duration, SystemTime};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

use crate::cli::InvokeArgs;
use crate::durable;
use crate::error::{DeployerError, Result};
use crate::functions::Want;
use crate::io::Event;

use super::{Context, Resolved, resolve_function};

/// Runs `invoke`.
pub(crate) async fn run(ctx: &Context, args: &InvokeArgs) -> Result<()> {
    // A payload the user named is checked before anything is looked up.
    let given = args.payload.as_deref().map(read_payload).transpose()?;
    let resolved = resolve_function(ctx, &args.target, Want::Any).await?;
    let payload = match given {
        Some(payload) => payload,
        None => example_event(&resolved)?,
    };
    let function = resolved.invocation_target();
    if !resolved.spec.durable && (args.asynchronous || args.wait || args.name.is_some()) {
        return Err(DeployerError::Unsupported {
            what: format!(
                "{} is not a durable function: `--async`, `--wait` and `--name` start and follow durable executions",
                resolved.spec.construct_id
            ),
            remedy: "invoke it without them".into(),
        });
    }
    let name = resolved.spec.durable.then(|| ExecutionName::from_args(args.name.as_deref()));
    if let (Some(name @ ExecutionName::Generated(_)), false) = (&name, args.asynchronous) {
        ctx.run.host.notify(Event::Info { message: name.announce() });
    }
    if let (true, Some(name)) = (args.asynchronous || args.wait, &name) {
        return start_async(ctx, &resolved, &function, payload, name, args).await;
    }
    let retry = if ctx.target.retries_denials() {
        PropagationRetry::after(resolved.deployed.last_changed)
    } else {
        PropagationRetry::none()
    };
    let (text, execution) =
        invoke_retrying_denials(&resolved.aws.lambda, &function, &payload, name, &retry, ctx.run.host.as_ref()).await?;
    ctx.run.host.notify(Event::InvokeResult { function, execution, result: as_json(&text), text });
    Ok(())
}

/// The function's example event, as its stack declares it.
fn example_event(resolved: &Resolved) -> Result<Vec<u8>> {
    let event = resolved.spec.example_event.as_ref().ok_or_else(|| {
        DeployerError::Usage(format!(
            "{} declares no example event to send: pass `--payload <json>` (or `--payload @file.json`)",
            resolved.spec.construct_id
        ))
    })?;
    Ok(event.to_string().into_bytes())
}

/// An answer as JSON data, or as a string when it is not JSON.
fn as_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

/// How long after a stack change a denied permission is taken for IAM propagation rather than a missing grant.
pub(crate) const PROPAGATION_WINDOW: Duration = Duration::from_mins(10);

/// Pauses before each new attempt of an execution denied a permission while IAM propagates (80 s in all).
pub(crate) const PROPAGATION_PAUSES: [Duration; 5] = [
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(15),
    Duration::from_secs(20),
    Duration::from_secs(30),
];

/// When a synchronous invoke denied a permission is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PropagationRetry {
    /// The pauses before each new attempt; empty: never.
    pub(crate) pauses: Vec<Duration>,
}

impl PropagationRetry {
    /// No retry (the local target has no IAM).
    pub(crate) fn none() -> Self {
        Self { pauses: Vec::new() }
    }

    /// [`PROPAGATION_PAUSES`] when the stack changed less than [`PROPAGATION_WINDOW`] ago, else none.
    pub(crate) fn after(changed: Option<SystemTime>) -> Self {
        let recent =
            changed.and_then(|t| SystemTime::now().duration_since(t).ok()).is_some_and(|age| age < PROPAGATION_WINDOW);
        if recent { Self { pauses: PROPAGATION_PAUSES.to_vec() } } else { Self::none() }
    }
}

/// The name a durable start is made under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExecutionName {
    /// `--name`: the user's, never replaced.
    Given(String),
    /// Generated for this start; a new execution (after a denial) gets a new one.
    Generated(String),
}

impl ExecutionName {
    /// `--name` when given, else a generated name.
    pub(crate) fn from_args(given: Option<&str>) -> Self {
        given.map_or_else(|| Self::Generated(durable::api::generated_name()), |name| Self::Given(name.to_owned()))
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Given(name) | Self::Generated(name) => name,
        }
    }

    /// What the user is told before a start under a generated name: the name, to find the execution by.
    pub(crate) fn announce(&self) -> String {
        format!(
            "starting durable execution {} (a generated name: a retried start cannot start a second execution; \
             name one with `--name`)",
            self.as_str()
        )
    }
}

/// Whether a failed invocation's payload says a permission was denied (IAM's and Lambda's wording).
pub(crate) fn is_permission_denied(body: &str) -> bool {
    body.contains("is not authorized to perform") || body.contains("AccessDenied")
}

/// Invokes `function` synchronously, a durable one under `name`; an execution denied a permission is started again
/// after each pause of `retry` (under a new generated name; one the user named is not started again), with a
/// warning. Returns the result's text and the durable execution's ARN.
pub(crate) async fn invoke_retrying_denials(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    payload: &[u8],
    mut name: Option<ExecutionName>,
    retry: &PropagationRetry,
    host: &dyn crate::io::Host,
) -> Result<(String, Option<String>)> {
    let mut pauses = retry.pauses.iter();
    loop {
        let current = name.as_ref().map(|n| n.as_str().to_owned());
        let answer = lambda
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::RequestResponse)
            .set_durable_execution_name(current.clone())
            .payload(Blob::new(payload.to_vec()))
            .send()
            .await
            .map_err(|e| durable::api::invoke_error(&e, current.as_deref()))?;
        let body = answer.payload().map(|b| String::from_utf8_lossy(b.as_ref()).into_owned()).unwrap_or_default();
        let execution = answer.durable_execution_arn().map(str::to_owned);
        if let Some(arn) = &execution {
            host.notify(Event::Info { message: format!("durable execution {arn}") });
        }
        let Some(kind) = answer.function_error() else {
            return Ok((body, execution));
        };
        let failed = |remedy: String| DeployerError::FunctionFailed {
            function: function.to_owned(),
            error_type: kind.to_owned(),
            payload: body.clone(),
            remedy,
        };
        if !is_permission_denied(&body) {
            return Err(failed(String::new()));
        }
        match (&name, pauses.next()) {
            (None | Some(ExecutionName::Generated(_)), Some(pause)) => {
                // A new execution, so a new name: the old one would answer with the execution that was denied.
                let next = name.as_ref().map(|_| ExecutionName::Generated(durable::api::generated_name()));
                let under = next.as_ref().map(|n| format!(" ({})", n.as_str())).unwrap_or_default();
                host.notify(Event::Warning {
                    message: format!(
                        "the execution was denied a permission ({}): the stack changed minutes ago and IAM may not \
                         have propagated the functions' new policies yet; starting a new execution{under} in {} s",
                        excerpt(&body),
                        pause.as_secs()
                    ),
                });
                name = next;
                tokio::time::sleep(*pause).await;
            }
            (Some(ExecutionName::Given(name)), _) if !retry.pauses.is_empty() => {
                return Err(failed(format!(
                    ". The stack changed minutes ago, so IAM may still be propagating the functions' new policies; \
                     execution {name} cannot be started again under its name: wait a minute and invoke with another \
                     `--name`"
                )));
            }
            _ => {
                return Err(failed(
                    ". A permission was denied: if the stack was just deployed, IAM may not have propagated its \
                     policies yet, so wait a minute and invoke again; otherwise check the functions' roles (`deployer \
                     diff` shows what the template grants)"
                        .to_owned(),
                ));
            }
        }
    }
}

/// The first 160 characters of an error payload, for a one-line warning.
fn excerpt(body: &str) -> String {
    let mut text: String = body.chars().take(160).collect();
    if text.len() < body.len() {
        text.push_str("...");
    }
    text
}

/// `--async` and `--wait`: starts the execution with an `Event` invocation, then prints its ARN, or follows it
/// until it ends and prints its result.
async fn start_async(
    ctx: &Context,
    resolved: &Resolved,
    function: &str,
    payload: Vec<u8>,
    name: &ExecutionName,
    args: &InvokeArgs,
) -> Result<()> {
    let lambda = &resolved.aws.lambda;
    let arn = match durable::api::start(lambda, function, payload, Some(name.as_str())).await? {
        Some(arn) => arn,
        None => {
            durable::api::resolve(lambda, &resolved.name, &durable::Selector::Name(name.as_str().to_owned())).await?
        }
    };
    if !args.wait {
        ctx.run.host.notify(Event::ExecutionStarted { execution: arn, name: Some(name.as_str().to_owned()) });
        return Ok(());
    }
    ctx.run.host.notify(Event::Info { message: format!("durable execution {arn}") });
    let execution = durable::follow::follow(lambda, &arn, ctx.run.host.as_ref()).await?;
    if execution.status == "SUCCEEDED" {
        let text = execution.result.unwrap_or_default();
        ctx.run.host.notify(Event::InvokeResult {
            function: function.to_owned(),
            execution: Some(arn),
            result: as_json(&text),
            text,
        });
        return Ok(());
    }
    let summary = execution.error.map(|e| e.summary());
    let denied = summary.as_deref().is_some_and(is_permission_denied);
    Err(DeployerError::ExecutionFailed {
        remedy: format!(
            "see `deployer history {}{}{}`{}",
            execution.name,
            stack_and_function(args),
            ctx.target.flag(),
            if denied {
                ". A permission was denied: if the stack was just deployed, IAM may not have propagated its policies \
                 yet; start a new execution in a minute (a synchronous `invoke` retries this by itself)"
            } else {
                ""
            },
        ),
        execution: execution.name,
        status: execution.status,
        error: summary,
    })
}

/// The `--stack` and `--function` options of `args`, to repeat in advice.
fn stack_and_function(args: &InvokeArgs) -> String {
    let stack = args.target.stack.as_ref().map(|s| format!(" --stack {s}"));
    let function = args.target.function.as_ref().map(|f| format!(" --function {f}"));
    [stack, function].into_iter().flatten().collect()
}

/// Reads `--payload`: JSON text, or `@path`. Either must be valid JSON.
pub(crate) fn read_payload(arg: &str) -> Result<Vec<u8>> {
    let bytes = match arg.strip_prefix('@') {
        Some(path) => std::fs::read(path).map_err(|e| {
            DeployerError::Usage(format!("cannot read the payload file {path}: {e}; pass an existing file after @"))
        })?,
        None => arg.as_bytes().to_vec(),
    };
    serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| {
        DeployerError::Usage(format!(
            "the payload is not valid JSON ({e}); pass a JSON object such as '{{\"values\": [1, 2]}}'"
        ))
    })?;
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::io::RecordingHost;

    #[test]
    fn payload_must_be_json() {
        assert!(read_payload(r#"{"values": [1]}"#).is_ok());
        let error = read_payload("{values").unwrap_err().to_string();
        assert!(error.contains("not valid JSON"), "{error}");
    }

    /// What a synchronous invoke of the alias answers when the execution failed because the orchestrator's role
    /// was denied the chained invoke (IAM's wording, inside Lambda's function-error payload).
    const DENIED: &str = r#"{"errorType":"AccessDeniedException","errorMessage":"User: arn:aws:sts::123456789012:assumed-role/app-OrchestratorRole-1/app-Orchestrator-1 is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:app-Processor-1:1 because no identity-based policy allows the lambda:InvokeFunction action"}"#;
    const RESULT: &str = r#"{"statusCode": 200, "body": "{}"}"#;

    fn reply(status: u16, function_error: Option<&str>, body: &str) -> HttpResponse {
        let mut response = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body.to_owned()));
        response.headers_mut().insert("Content-Type", "application/json");
        if let Some(kind) = function_error {
            response.headers_mut().insert("X-Amz-Function-Error", kind.to_owned());
        }
        response
    }

    fn quick() -> PropagationRetry {
        PropagationRetry { pauses: vec![Duration::from_millis(10); 3] }
    }

    #[tokio::test]
    async fn a_denied_execution_right_after_a_deploy_is_started_again() {
        let invoke = mock!(aws_sdk_lambda::Client::invoke)
            .sequence()
            .http_response(|| reply(200, Some("Unhandled"), DENIED))
            .times(2)
            .http_response(|| reply(200, None, RESULT))
            .repeatedly()
            .build();
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&invoke]);
        let host = RecordingHost::default();
        let (result, _) = invoke_retrying_denials(&lambda, "fn:live", b"{}", None, &quick(), &host).await.unwrap();
        assert_eq!(result, RESULT);
        assert_eq!(invoke.num_calls(), 3);
        let warnings = host.events().into_iter().filter(|e| matches!(e, Event::Warning { .. })).count();
        assert_eq!(warnings, 2, "each new attempt is announced");
    }

    #[tokio::test]
    async fn a_denial_is_reported_with_its_cause_when_retries_run_out_or_do_not_apply() {
        let invoke = mock!(aws_sdk_lambda::Client::invoke)
            .sequence()
            .http_response(|| reply(200, Some("Unhandled"), DENIED))
            .repeatedly()
            .build();
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&invoke]);
        let host = RecordingHost::default();
        let error = invoke_retrying_denials(&lambda, "fn:live", b"{}", None, &quick(), &host).await.unwrap_err();
        assert_eq!(invoke.num_calls(), 4);
        assert!(error.to_string().contains("IAM may not have propagated"), "{error}");
        let given = Some(ExecutionName::Given("order-1".into()));
        let named = invoke_retrying_denials(&lambda, "fn:live", b"{}", given, &quick(), &host).await;
        let error = named.unwrap_err().to_string();
        assert!(error.contains("another `--name`"), "{error}");
        assert_eq!(invoke.num_calls(), 5, "a named execution is not started again");
    }

    /// A synchronous start whose connection dropped after the service accepted it is retried by the SDK under the
    /// same generated name: the service answers with the execution already running, so the processor runs once.
    #[tokio::test(start_paused = true)]
    async fn a_synchronous_invoke_retried_after_the_connection_dropped_runs_one_execution() {
        let service = std::sync::Arc::new(crate::durable::tests::DroppingLambda::default());
        let name = ExecutionName::from_args(None);
        assert!(matches!(name, ExecutionName::Generated(_)), "an unnamed invoke gets a generated name");
        let host = RecordingHost::default();
        let (result, arn) =
            invoke_retrying_denials(&service.client(), "fn:live", b"{}", Some(name), &PropagationRetry::none(), &host)
                .await
                .unwrap();
        assert_eq!(result, r#"{"statusCode": 200}"#);
        assert_eq!(service.requests().len(), 2, "the SDK retried once");
        assert_eq!(service.executions(), [arn.unwrap()], "one execution");
    }

    /// After a denial, a new execution is started: under a new generated name (the old one would return the denied
    /// execution), each name announced.
    #[tokio::test]
    async fn a_new_execution_after_a_denial_gets_a_new_generated_name() {
        let names = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = names.clone();
        let invoke = mock!(aws_sdk_lambda::Client::invoke)
            .match_requests(move |r| {
                seen.lock().unwrap().push(r.durable_execution_name().unwrap_or_default().to_owned());
                true
            })
            .sequence()
            .http_response(|| reply(200, Some("Unhandled"), DENIED))
            .times(2)
            .http_response(|| reply(200, None, RESULT))
            .repeatedly()
            .build();
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&invoke]);
        let host = RecordingHost::default();
        let first = ExecutionName::from_args(None);
        invoke_retrying_denials(&lambda, "fn:live", b"{}", Some(first.clone()), &quick(), &host).await.unwrap();
        let names = names.lock().unwrap().clone();
        assert_eq!(names.len(), 3);
        assert_eq!(names[0], first.as_str());
        assert!(names[0] != names[1] && names[1] != names[2] && names[0] != names[2], "{names:?}");
        let warnings: Vec<String> = host
            .events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Warning { message } => Some(message),
                _ => None,
            })
            .collect();
        assert!(warnings[0].contains(&names[1]) && warnings[1].contains(&names[2]), "{warnings:?}");
    }

    #[tokio::test]
    async fn other_function_errors_are_not_retried() {
        let invoke = mock!(aws_sdk_lambda::Client::invoke)
            .sequence()
            .http_response(|| reply(200, Some("Unhandled"), r#"{"errorType":"InvalidValues","errorMessage":"no"}"#))
            .repeatedly()
            .build();
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&invoke]);
        let error = invoke_retrying_denials(&lambda, "fn:live", b"{}", None, &quick(), &RecordingHost::default())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("InvalidValues"), "{error}");
        assert_eq!(invoke.num_calls(), 1);
    }

    #[test]
    fn retries_apply_only_soon_after_a_change() {
        assert_eq!(PropagationRetry::after(Some(SystemTime::now())).pauses.len(), PROPAGATION_PAUSES.len());
        let old = SystemTime::now() - Duration::from_hours(1);
        assert!(PropagationRetry::after(Some(old)).pauses.is_empty());
        assert!(PropagationRetry::after(None).pauses.is_empty());
    }

    #[test]
    fn a_missing_payload_file_is_named() {
        let error = read_payload("@/does/not/exist.json").unwrap_err().to_string();
        assert!(error.contains("/does/not/exist.json"), "{error}");
    }
}
