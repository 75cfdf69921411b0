//! The local Lambda endpoint's routes: `Invoke` (plain and durable, from clients and from the engine),
//! `GetFunction`, `GetFunctionConfiguration` and `ListFunctions`; durable API paths go to the engine.

use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::arn::parse_function_ref;
use super::deployment::{Deployment, Target};
use super::durable;
use super::http::{self, Reply};
use super::instance::Outcome;
use super::service::Service;

/// Lambda's limit on a synchronous request payload.
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;
/// Lambda's limit on an asynchronous request payload.
pub const MAX_ASYNC_PAYLOAD: usize = 1_048_576;

/// Answers one request to the endpoint.
pub async fn handle(svc: Arc<Service>, request: Request<Incoming>) -> Reply {
    let path = request.uri().path().to_owned();
    if path.starts_with("/2025-12-01/") {
        return durable::forward(&svc, request).await;
    }
    if path.starts_with("/_local/") {
        return super::daemon::control(svc, request).await;
    }
    let method = request.method().clone();
    let segments: Vec<String> = path.trim_start_matches('/').split('/').map(http::decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method, segments.as_slice()) {
        (Method::POST, ["2015-03-31", "functions", name, "invocations"]) => invoke(&svc, name, request).await,
        (Method::GET, ["2015-03-31", "functions"] | ["2015-03-31", "functions", ""]) => list_functions(&svc),
        (Method::GET, ["2015-03-31", "functions", name] | ["2015-03-31", "functions", name, "configuration"]) => {
            let with_code = !path.ends_with("/configuration");
            get_function(&svc, name, request.uri().query(), with_code)
        }
        _ => http::aws_error(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            &format!("the local Lambda endpoint does not implement {} {path}", request.method()),
        ),
    }
}

fn validation(field: &str, value: &str, constraint: &str) -> Reply {
    http::aws_error(
        StatusCode::BAD_REQUEST,
        "ValidationException",
        &format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ),
    )
}

fn not_found(deployment: &Deployment, name: &str, qualifier: Option<&str>) -> Reply {
    let arns = deployment.arns();
    let arn = match qualifier {
        Some(q) => arns.qualified_arn(name, q),
        None => arns.function_arn(name),
    };
    http::aws_error(StatusCode::NOT_FOUND, "ResourceNotFoundException", &format!("Function not found: {arn}"))
}

/// Resolves the path's function identifier and the `Qualifier` parameter, or answers the service's error.
fn resolve<'a>(
    deployment: &'a Deployment,
    identifier: &str,
    query: Option<&str>,
) -> Result<(Target<'a>, Option<String>), Box<Reply>> {
    let Some(function) = parse_function_ref(identifier) else {
        return Err(Box::new(validation(
            "functionName",
            identifier,
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
        )));
    };
    let query_qualifier = http::query_param(query, "Qualifier");
    let qualifier = match (function.qualifier, query_qualifier) {
        (Some(a), Some(b)) if a != b => {
            return Err(Box::new(http::aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified qualifier.",
            )));
        }
        (a, b) => a.or(b),
    };
    match deployment.resolve(&function.name, qualifier.as_deref()) {
        Some(target) => Ok((target, qualifier)),
        None => Err(Box::new(not_found(deployment, &function.name, qualifier.as_deref()))),
    }
}

async fn invoke(svc: &Arc<Service>, identifier: &str, request: Request<Incoming>) -> Reply {
    let deployment = svc.deployment();
    let (target, qualifier) = match resolve(&deployment, identifier, request.uri().query()) {
        Ok(found) => found,
        Err(reply) => return *reply,
    };
    let headers = request.headers().clone();
    let invocation_type = http::header(&headers, "x-amz-invocation-type").unwrap_or("RequestResponse").to_owned();
    if !["RequestResponse", "Event", "DryRun"].contains(&invocation_type.as_str()) {
        return validation(
            "invocationType",
            &invocation_type,
            "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
        );
    }
    let from_engine = http::header(&headers, "x-dex-handler-invoke").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let payload = match http::body_bytes(request.into_body()).await {
        Ok(body) => body,
        Err(e) => return http::aws_error(StatusCode::BAD_REQUEST, "InvalidRequestContentException", &e.to_string()),
    };
    let limit = if invocation_type == "Event" { MAX_ASYNC_PAYLOAD } else { MAX_SYNC_PAYLOAD };
    if payload.len() > limit {
        return http::aws_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            &format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        );
    }
    let payload = if payload.iter().all(u8::is_ascii_whitespace) { Bytes::from_static(b"{}") } else { payload };
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        return http::aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            &format!("Could not parse request body into json: Could not parse payload into json: {e}"),
        );
    }
    let version = target.version.clone();
    let mut reply = if target.function.durable.is_some() && !from_engine {
        if qualifier.is_none() {
            return http::aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                "You cannot invoke a durable function using an unqualified ARN.",
            );
        }
        invoke_durable(svc, &target, &payload, &invocation_type, http::header(&headers, "x-amz-durable-execution-name"))
            .await
    } else if invocation_type == "DryRun" {
        http::reply(StatusCode::NO_CONTENT, "application/json", Bytes::new())
    } else if invocation_type == "Event" {
        spawn_event(svc.clone(), deployment.clone(), target.function.name.clone(), version.clone(), payload);
        http::reply(StatusCode::ACCEPTED, "application/json", Bytes::new())
    } else {
        let execution_arn = from_engine
            .then(|| serde_json::from_slice::<Value>(&payload).ok())
            .flatten()
            .and_then(|v| v.get("DurableExecutionArn").and_then(Value::as_str).map(str::to_owned));
        match svc.run(&target, payload, execution_arn.as_deref()).await {
            Outcome::Success(body) => {
                if let Some(arn) = execution_arn.as_deref()
                    && is_final_envelope(&body)
                {
                    svc.handler_ended(arn);
                }
                http::reply(StatusCode::OK, "application/json", body)
            }
            Outcome::FunctionError(body) => durable::function_error(body),
        }
    };
    http::set_header(&mut reply, "x-amz-executed-version", &version);
    http::set_header(&mut reply, "x-amzn-requestid", &uuid::Uuid::new_v4().to_string());
    reply
}

/// Whether a durable handler's answer ends its execution (`SUCCEEDED` or `FAILED`, not `PENDING`).
fn is_final_envelope(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(rename = "Status", borrow)]
        status: Option<&'a str>,
    }
    serde_json::from_slice::<Envelope<'_>>(body).is_ok_and(|e| matches!(e.status, Some("SUCCEEDED" | "FAILED")))
}

async fn invoke_durable(
    svc: &Service,
    target: &Target<'_>,
    payload: &Bytes,
    invocation_type: &str,
    name: Option<&str>,
) -> Reply {
    if invocation_type == "DryRun" {
        return http::reply(StatusCode::NO_CONTENT, "application/json", Bytes::new());
    }
    if let Some(name) = name {
        let valid =
            (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return validation(
                "durableExecutionName",
                name,
                "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+",
            );
        }
    }
    let text = String::from_utf8_lossy(payload).into_owned();
    let arn = match durable::start(svc, target, &text, name).await {
        Ok(arn) => arn,
        Err(reply) => return reply,
    };
    let mut reply = if invocation_type == "Event" {
        http::reply(StatusCode::ACCEPTED, "application/json", Bytes::new())
    } else {
        durable::wait(svc, &arn).await
    };
    http::set_header(&mut reply, "x-amz-durable-execution-arn", &arn);
    reply
}

fn spawn_event(svc: Arc<Service>, deployment: Arc<Deployment>, function: String, version: String, payload: Bytes) {
    tokio::spawn(async move {
        if let Some(target) = deployment.resolve(&function, Some(&version)) {
            let _ = svc.run(&target, payload, None).await;
        }
    });
}

fn configuration(deployment: &Deployment, target: &Target<'_>) -> Value {
    let arns = deployment.arns();
    let name = &target.function.name;
    let mut config = json!({
        "FunctionName": name,
        "FunctionArn": if target.version == "$LATEST" { arns.function_arn(name) } else { arns.qualified_arn(name, &target.version) },
        "Runtime": "provided.al2023",
        "Handler": "bootstrap",
        "Role": format!("arn:aws:iam::{}:role/{name}-role", arns.account),
        "CodeSha256": target.config.code_sha256,
        "CodeSize": std::fs::metadata(&target.config.code).map_or(0, |m| m.len()),
        "Timeout": target.config.timeout_s,
        "MemorySize": target.config.memory_mb,
        "Version": target.version,
        "Environment": {"Variables": target.config.env},
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": [if cfg!(target_arch = "aarch64") { "arm64" } else { "x86_64" }],
        "LoggingConfig": {"LogFormat": target.config.log_format, "LogGroup": format!("/aws/lambda/{name}")},
    });
    if let (Some(d), Some(map)) = (target.function.durable, config.as_object_mut()) {
        map.insert(
            "DurableConfig".into(),
            json!({"ExecutionTimeout": d.execution_timeout, "RetentionPeriodInDays": d.retention_days}),
        );
    }
    config
}

fn get_function(svc: &Service, identifier: &str, query: Option<&str>, with_code: bool) -> Reply {
    let deployment = svc.deployment();
    let (target, _) = match resolve(&deployment, identifier, query) {
        Ok(found) => found,
        Err(reply) => return *reply,
    };
    let config = configuration(&deployment, &target);
    if !with_code {
        return http::json(StatusCode::OK, &config);
    }
    let location = format!("file://{}", target.config.code.display());
    http::json(
        StatusCode::OK,
        &json!({"Configuration": config, "Code": {"RepositoryType": "S3", "Location": location}}),
    )
}

fn list_functions(svc: &Service) -> Reply {
    let deployment = svc.deployment();
    let functions: Vec<Value> = deployment
        .functions
        .keys()
        .filter_map(|name| deployment.resolve(name, None))
        .map(|target| configuration(&deployment, &target))
        .collect();
    http::json(StatusCode::OK, &json!({"Functions": functions}))
}

#[cfg(test)]
mod tests {
    use super::is_final_envelope;

    #[test]
    fn only_succeeded_and_failed_envelopes_end_an_execution() {
        assert!(is_final_envelope(br#"{"Status": "SUCCEEDED", "Result": "{}"}"#));
        assert!(is_final_envelope(br#"{"Status":"FAILED","Error":{"ErrorType":"X"}}"#));
        assert!(!is_final_envelope(br#"{"Status": "PENDING"}"#));
        assert!(!is_final_envelope(br#"{"statusCode": 200}"#));
        assert!(!is_final_envelope(b"not json"));
    }
}
