//! The Lambda function API: `Invoke` (plain and durable; `RequestResponse`, `Event`, `DryRun`), `GetFunction`,
//! `GetFunctionConfiguration` (with a version or alias qualifier), `ListFunctions`, `ListVersionsByFunction`,
//! `GetAlias` and `ListAliases`, in the shapes of the Lambda API reference. Each version answers with its own
//! configuration, the one it was published with.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

use super::error::ApiError;
use super::{ApiState, query_param};
use crate::arn::parse_function_ref;
use crate::deployment::{Alias, DeployedFunction, Deployment, ResolvedFunction};
use crate::engine::model::ExecutionStatus;
use crate::engine::{ExecutionRecord, StartOutcome};
use crate::runtime::FunctionResponse;
use crate::service::Service;

/// Lambda's limit on a synchronous request payload.
pub(crate) const MAX_SYNC_PAYLOAD: usize = 6_291_456;
/// Lambda's limit on an asynchronous request payload.
pub(crate) const MAX_ASYNC_PAYLOAD: usize = 1_048_576;
/// How long a `RequestResponse` invoke of a durable function waits for its execution, as Lambda does.
const MAX_SYNC_WAIT: Duration = Duration::from_mins(15);

/// The routes.
pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/2015-03-31/functions/{function}/invocations", post(invoke))
        .route("/2015-03-31/functions", get(list_functions))
        .route("/2015-03-31/functions/", get(list_functions))
        .route("/2015-03-31/functions/{function}", get(get_function))
        .route("/2015-03-31/functions/{function}/configuration", get(get_configuration))
        .route("/2015-03-31/functions/{function}/versions", get(list_versions))
        .route("/2015-03-31/functions/{function}/aliases", get(list_aliases))
        .route("/2015-03-31/functions/{function}/aliases/{alias}", get(get_alias))
}

const NAME_PATTERN: &str = "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

fn not_found(deployment: &Deployment, name: &str, qualifier: Option<&str>) -> ApiError {
    let arn = match qualifier {
        Some(q) => deployment.qualified_arn(name, q),
        None => deployment.function_arn(name),
    };
    ApiError::not_found(format!("Function not found: {arn}"))
}

/// Resolves the path's function identifier and the `Qualifier` parameter, or the service's error.
fn resolve<'a>(
    deployment: &'a Deployment,
    identifier: &str,
    query: Option<&str>,
) -> Result<(ResolvedFunction<'a>, Option<String>), ApiError> {
    let function =
        parse_function_ref(identifier).ok_or_else(|| ApiError::validation("functionName", identifier, NAME_PATTERN))?;
    let qualifier = match (function.qualifier, query_param(query, "Qualifier")) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        (a, b) => a.or(b),
    };
    match deployment.resolve(&function.name, qualifier.as_deref()) {
        Some(target) => Ok((target, qualifier)),
        None => Err(not_found(deployment, &function.name, qualifier.as_deref())),
    }
}

fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
    response
}

fn json_body(status: StatusCode, body: impl Into<Bytes>) -> Response {
    (status, [("content-type", "application/json")], body.into()).into_response()
}

/// A 200 with `X-Amz-Function-Error: Unhandled`, as Lambda answers a failed synchronous invocation.
fn function_error(body: impl Into<Bytes>) -> Response {
    with_header(json_body(StatusCode::OK, body), "x-amz-function-error", "Unhandled")
}

async fn invoke(
    State(state): State<ApiState>,
    Path(identifier): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let svc = state.service.clone();
    let deployment = svc.deployment();
    let (target, qualifier) = resolve(&deployment, &identifier, query.as_deref())?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let invocation_type = header("x-amz-invocation-type").unwrap_or("RequestResponse").to_owned();
    if !["RequestResponse", "Event", "DryRun"].contains(&invocation_type.as_str()) {
        return Err(ApiError::validation(
            "invocationType",
            &invocation_type,
            "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
        ));
    }
    let limit = if invocation_type == "Event" { MAX_ASYNC_PAYLOAD } else { MAX_SYNC_PAYLOAD };
    if payload.len() > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        ));
    }
    let payload = if payload.iter().all(u8::is_ascii_whitespace) { Bytes::from_static(b"{}") } else { payload };
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        return Err(ApiError::bad_content(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        )));
    }
    let version = target.version.clone();
    let direct = direct_handler_invoke(&headers);
    let response = if target.function.durable.is_some() && !direct {
        if qualifier.is_none() {
            return Err(ApiError::invalid("You cannot invoke a durable function using an unqualified ARN."));
        }
        invoke_durable(&svc, &target, &payload, &invocation_type, header("x-amz-durable-execution-name")).await?
    } else if invocation_type == "DryRun" {
        StatusCode::NO_CONTENT.into_response()
    } else if invocation_type == "Event" {
        svc.invoke_async(&target, payload)?;
        StatusCode::ACCEPTED.into_response()
    } else {
        let name = target.function.name.clone();
        match svc.invoke_function(&name, Some(&version), payload).await {
            Some(FunctionResponse::Success(body)) => json_body(StatusCode::OK, body),
            Some(FunctionResponse::FunctionError(body)) => function_error(body),
            None => return Err(not_found(&deployment, &name, Some(&version))),
        }
    };
    let response = with_header(response, "x-amz-executed-version", &version);
    Ok(with_header(response, "x-amzn-requestid", &uuid::Uuid::new_v4().to_string()))
}

/// Whether the request is the dex oracle invoking a durable handler with its own envelope (test builds only).
fn direct_handler_invoke(headers: &HeaderMap) -> bool {
    cfg!(feature = "test-hooks")
        && headers
            .get("x-dex-handler-invoke")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

async fn invoke_durable(
    svc: &Arc<Service>,
    target: &ResolvedFunction<'_>,
    payload: &Bytes,
    invocation_type: &str,
    name: Option<&str>,
) -> Result<Response, ApiError> {
    if let Some(name) = name
        && !crate::engine::is_valid_name(name)
    {
        return Err(ApiError::validation(
            "durableExecutionName",
            name,
            "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ (1 to 64 characters)",
        ));
    }
    if invocation_type == "DryRun" {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let input = String::from_utf8_lossy(payload).into_owned();
    let outcome = svc.start_execution(target, &input, name)?;
    let arn = outcome.record().arn.clone();
    let response = if invocation_type == "Event" {
        StatusCode::ACCEPTED.into_response()
    } else {
        let record = match outcome {
            StartOutcome::Existing(record) if record.status != ExecutionStatus::Running => record,
            _ => svc.wait_for_end(&arn, MAX_SYNC_WAIT).await?,
        };
        finished(&record)
    };
    Ok(with_header(response, "x-amz-durable-execution-arn", &arn))
}

/// The answer to a `RequestResponse` invoke of a durable function whose execution ended (or is still running).
fn finished(record: &ExecutionRecord) -> Response {
    match record.status {
        ExecutionStatus::Succeeded => json_body(StatusCode::OK, record.result.clone().unwrap_or_else(|| "null".into())),
        ExecutionStatus::Running => function_error(
            json!({
                "errorType": "Sandbox.Timedout",
                "errorMessage": format!(
                    "the durable execution {} is still running after 15 minutes; follow it with GetDurableExecution",
                    record.arn
                ),
            })
            .to_string(),
        ),
        status => {
            let error = record.error.clone().unwrap_or_default();
            let mut body = serde_json::Map::new();
            let default_type = match status {
                ExecutionStatus::TimedOut => "DurableExecutionTimedOut",
                ExecutionStatus::Stopped => "DurableExecutionStopped",
                _ => "DurableExecutionFailed",
            };
            body.insert("errorType".into(), json!(error.error_type.unwrap_or_else(|| default_type.to_owned())));
            body.insert(
                "errorMessage".into(),
                json!(
                    error.error_message.unwrap_or_else(|| format!("The durable execution ended {}", status.as_str()))
                ),
            );
            if let Some(data) = error.error_data {
                body.insert("errorData".into(), json!(data));
            }
            if let Some(trace) = error.stack_trace {
                body.insert("stackTrace".into(), json!(trace));
            }
            function_error(Value::Object(body).to_string())
        }
    }
}

/// A `FunctionConfiguration`. `qualifier` is what the request named (a version, an alias or `$LATEST`), which
/// the `FunctionArn` carries as Lambda's does; `None` for the unqualified function.
fn configuration(deployment: &Deployment, target: &ResolvedFunction<'_>, qualifier: Option<&str>) -> Value {
    let name = &target.function.name;
    let config = target.config;
    let code_sha256 = hex::decode(&config.code_sha256)
        .map_or_else(|_| config.code_sha256.clone(), |digest| base64::engine::general_purpose::STANDARD.encode(digest));
    let mut answer = json!({
        "FunctionName": name,
        "FunctionArn": match qualifier {
            Some(q) => deployment.qualified_arn(name, q),
            None => deployment.function_arn(name),
        },
        "Runtime": "provided.al2023",
        "Handler": "bootstrap",
        "Role": format!("arn:aws:iam::{}:role/{name}-role", crate::arn::LOCAL_ACCOUNT),
        "CodeSha256": code_sha256,
        "CodeSize": std::fs::metadata(&config.code).map_or(0, |m| m.len()),
        "Description": config.description,
        "Timeout": config.timeout_s,
        "MemorySize": config.memory_mb,
        "LastModified": config.last_modified,
        "Version": target.version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": revision_id(&[name, &target.version, &config.fingerprint, &config.code_sha256, &config.last_modified]),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": [if cfg!(target_arch = "aarch64") { "arm64" } else { "x86_64" }],
        "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {"LogFormat": config.log_format, "LogGroup": config.log_group},
    });
    let Some(map) = answer.as_object_mut() else { return answer };
    // Lambda leaves out what a function does not have.
    if !config.env.is_empty() {
        map.insert("Environment".into(), json!({"Variables": config.env}));
    }
    if let Some(d) = target.function.durable {
        map.insert(
            "DurableConfig".into(),
            json!({"ExecutionTimeout": d.execution_timeout, "RetentionPeriodInDays": d.retention_days}),
        );
    }
    answer
}

/// A `RevisionId`: UUID-shaped, the same for the same state and different when it changes, as Lambda's are.
fn revision_id(parts: &[&str]) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

async fn get_function(
    State(state): State<ApiState>,
    Path(identifier): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let deployment = state.service.deployment();
    let (target, qualifier) = resolve(&deployment, &identifier, query.as_deref())?;
    let location = format!("file://{}", target.config.code.display());
    let body = json!({
        "Configuration": configuration(&deployment, &target, qualifier.as_deref()),
        "Code": {"RepositoryType": "S3", "Location": location},
    });
    Ok(json_body(StatusCode::OK, body.to_string()))
}

async fn get_configuration(
    State(state): State<ApiState>,
    Path(identifier): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let deployment = state.service.deployment();
    let (target, qualifier) = resolve(&deployment, &identifier, query.as_deref())?;
    Ok(json_body(StatusCode::OK, configuration(&deployment, &target, qualifier.as_deref()).to_string()))
}

async fn list_functions(State(state): State<ApiState>) -> Response {
    let deployment = state.service.deployment();
    let functions: Vec<Value> = deployment
        .functions()
        .filter_map(|f| deployment.resolve(&f.name, None))
        .map(|target| configuration(&deployment, &target, None))
        .collect();
    json_body(StatusCode::OK, json!({"Functions": functions}).to_string())
}

/// Lambda's page size when `MaxItems` is not given.
const DEFAULT_PAGE: usize = 50;

/// The page of `items` a `Marker` and `MaxItems` ask for, and the `NextMarker` when more follow. A marker is the
/// position the next page starts at, written by the previous page.
fn page<T>(items: Vec<T>, query: Option<&str>) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = match query_param(query, "MaxItems") {
        None => DEFAULT_PAGE,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => return Err(ApiError::validation("maxItems", &text, "Member must have value between 1 and 10000")),
        },
    };
    let start = match query_param(query, "Marker") {
        None => 0,
        Some(marker) => match marker.parse::<usize>() {
            Ok(n) if n <= items.len() => n,
            _ => {
                return Err(ApiError::invalid(format!(
                    "Invalid marker {marker:?}: pass the NextMarker of the previous page, or no marker for the first"
                )));
            }
        },
    };
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items.into_iter().skip(start).take(end - start).collect(), next))
}

/// A list answer: `{member: [...]}` with `NextMarker` when more follow.
fn listing(member: &str, items: Vec<Value>, next: Option<String>) -> Response {
    let mut body = serde_json::Map::new();
    body.insert(member.into(), Value::Array(items));
    if let Some(next) = next {
        body.insert("NextMarker".into(), json!(next));
    }
    json_body(StatusCode::OK, Value::Object(body).to_string())
}

async fn list_versions(
    State(state): State<ApiState>,
    Path(identifier): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let deployment = state.service.deployment();
    let name = unqualified(&deployment, &identifier)?.name.clone();
    // `$LATEST` first, then each published version with the configuration it was published with.
    let qualifiers = std::iter::once("$LATEST".to_owned())
        .chain(deployment.function(&name).into_iter().flat_map(|f| f.versions.keys().map(ToString::to_string)));
    let versions = qualifiers
        .filter_map(|q| deployment.resolve(&name, Some(&q)).map(|target| configuration(&deployment, &target, Some(&q))))
        .collect();
    let (versions, next) = page(versions, query.as_deref())?;
    Ok(listing("Versions", versions, next))
}

/// An `AliasConfiguration`.
fn alias_configuration(deployment: &Deployment, function: &str, name: &str, alias: &Alias) -> Value {
    let version = alias.version.to_string();
    json!({
        "AliasArn": deployment.qualified_arn(function, name),
        "Name": name,
        "FunctionVersion": version,
        "Description": alias.description,
        "RevisionId": revision_id(&[function, name, &version, &alias.description]),
    })
}

/// The function a `FunctionName` path parameter names: aliases and versions belong to the function itself, so a
/// qualifier in it is ignored, as Lambda ignores it.
fn unqualified<'a>(deployment: &'a Deployment, identifier: &str) -> Result<&'a DeployedFunction, ApiError> {
    let function =
        parse_function_ref(identifier).ok_or_else(|| ApiError::validation("functionName", identifier, NAME_PATTERN))?;
    deployment.function(&function.name).ok_or_else(|| not_found(deployment, &function.name, None))
}

async fn list_aliases(
    State(state): State<ApiState>,
    Path(identifier): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let deployment = state.service.deployment();
    let function = unqualified(&deployment, &identifier)?;
    let only = query_param(query.as_deref(), "FunctionVersion");
    if let Some(version) = only.as_deref()
        && version != "$LATEST"
        && version.parse::<u64>().is_err()
    {
        return Err(ApiError::validation(
            "functionVersion",
            version,
            "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)",
        ));
    }
    let aliases: Vec<Value> = function
        .aliases
        .iter()
        .filter(|(_, alias)| only.as_deref().is_none_or(|v| v == alias.version.to_string()))
        .map(|(name, alias)| alias_configuration(&deployment, &function.name, name, alias))
        .collect();
    let (aliases, next) = page(aliases, query.as_deref())?;
    Ok(listing("Aliases", aliases, next))
}

async fn get_alias(
    State(state): State<ApiState>,
    Path((identifier, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let deployment = state.service.deployment();
    let function = unqualified(&deployment, &identifier)?;
    let valid = (1..=128).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.chars().all(|c| c.is_ascii_digit());
    if !valid {
        return Err(ApiError::validation(
            "name",
            &name,
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        ));
    }
    let alias = function.aliases.get(&name).ok_or_else(|| {
        ApiError::not_found(format!("Alias not found: {}", deployment.qualified_arn(&function.name, &name)))
    })?;
    Ok(json_body(StatusCode::OK, alias_configuration(&deployment, &function.name, &name, alias).to_string()))
}
