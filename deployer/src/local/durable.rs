//! Durable functions on the local endpoint: starting an execution in the engine for a client's Invoke, waiting for
//! its end, and forwarding the durable API (`/2025-12-01/...`) to the engine.

use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::{Value, json};

use super::deployment::Target;
use super::faults::Kill;
use super::http::{self, Reply};
use super::service::Service;

/// How long a `RequestResponse` invoke of a durable function waits for the execution, as Lambda does.
const MAX_SYNC_WAIT: Duration = Duration::from_mins(15);

/// Starts an execution of `target` with `payload` in the engine; returns its ARN, or the error reply.
pub async fn start(svc: &Service, target: &Target<'_>, payload: &str, name: Option<&str>) -> Result<String, Reply> {
    let payload_hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(payload.as_bytes()))
    };
    let name_key = name.map(|n| (target.function.name.clone(), n.to_owned()));
    if let Some(key) = &name_key
        && let Some((arn, hash)) = svc.names.lock().ok().and_then(|names| names.get(key).cloned())
    {
        // Same name and payload: the start is idempotent and answers with the existing execution.
        if hash == payload_hash {
            return Ok(arn);
        }
        return Err(http::aws_error(
            StatusCode::CONFLICT,
            "DurableExecutionAlreadyStartedException",
            &format!("Durable execution with name {} already exists with a different input: {arn}", key.1),
        ));
    }
    let deployment = svc.deployment();
    let durable = target
        .function
        .durable
        .unwrap_or(super::template::DurableSettings { execution_timeout: 900, retention_days: 14 });
    let execution_name = name.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let body = json!({
        "AccountId": deployment.arns().account,
        "FunctionName": target.function.name,
        "FunctionQualifier": target.version,
        "ExecutionName": execution_name,
        "ExecutionTimeoutSeconds": durable.execution_timeout,
        "ExecutionRetentionPeriodDays": durable.retention_days,
        "Input": payload,
    });
    let url = format!("{}/start-durable-execution", svc.engine());
    let _permit = svc.engine_starts.acquire().await.map_err(|e| engine_down(&e))?;
    let received = svc.client.post_json(&url, &body, Duration::from_mins(2)).await.map_err(|e| engine_down(&e))?;
    if !received.status.is_success() {
        return Err(passthrough(received));
    }
    let value = received.json().map_err(|e| engine_down(&e))?;
    let arn = value
        .get("ExecutionArn")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| engine_down(&format!("the engine's answer has no ExecutionArn: {value}")))?;
    if let (Some(key), Ok(mut names)) = (name_key, svc.names.lock()) {
        names.insert(key, (arn.clone(), payload_hash));
    }
    Ok(arn)
}

/// Waits for execution `arn` to end and answers as Lambda answers a `RequestResponse` invoke: the result's bytes,
/// or a function error.
pub async fn wait(svc: &Service, arn: &str) -> Reply {
    let ending = svc.watch_ending(arn);
    let reply = wait_polling(svc, arn, &ending).await;
    svc.stop_watching(arn);
    reply
}

/// Polls the engine with a growing delay (10 to 50 ms), and shortly after the handler returned its final envelope:
/// the engine records it a few milliseconds after we pass it on.
async fn wait_polling(svc: &Service, arn: &str, ending: &tokio::sync::Notify) -> Reply {
    let url = format!("{}/2025-12-01/durable-executions/{}", svc.engine(), http::encode_segment(arn));
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(10);
    loop {
        let execution = match svc.client.get(&url, Duration::from_secs(30)).await {
            Ok(received) if received.status.is_success() => match received.json() {
                Ok(value) => value,
                Err(e) => return engine_down(&e),
            },
            Ok(received) => return passthrough(received),
            Err(e) => return engine_down(&e),
        };
        let status = execution.get("Status").and_then(Value::as_str).unwrap_or("RUNNING");
        if status != "RUNNING" {
            return finished(&execution, status);
        }
        if started.elapsed() > MAX_SYNC_WAIT {
            let body = super::instance::error_body(
                "Sandbox.Timedout",
                &format!(
                    "the durable execution {arn} is still running after 15 minutes; follow it with GetDurableExecution"
                ),
            );
            return function_error(body);
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => delay = (delay * 3 / 2).min(Duration::from_millis(50)),
            () = ending.notified() => {
                tokio::time::sleep(Duration::from_millis(2)).await;
                delay = Duration::from_millis(2);
            }
        }
    }
}

fn finished(execution: &Value, status: &str) -> Reply {
    if status == "SUCCEEDED" {
        let result = execution.get("Result").and_then(Value::as_str).unwrap_or("null").to_owned();
        return http::reply(StatusCode::OK, "application/json", result);
    }
    let error = execution.get("Error").cloned().unwrap_or(Value::Null);
    let text = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut body = serde_json::Map::new();
    body.insert(
        "errorType".into(),
        Value::String(text("ErrorType").unwrap_or_else(|| format!("DurableExecution{}", title(status)))),
    );
    body.insert(
        "errorMessage".into(),
        Value::String(text("ErrorMessage").unwrap_or_else(|| format!("The durable execution ended {status}"))),
    );
    if let Some(data) = text("ErrorData") {
        body.insert("errorData".into(), Value::String(data));
    }
    if let Some(trace) = error.get("StackTrace").filter(|t| !t.is_null()) {
        body.insert("stackTrace".into(), trace.clone());
    }
    function_error(Bytes::from(Value::Object(body).to_string()))
}

fn title(status: &str) -> String {
    status.split('_').fold(String::new(), |mut out, word| {
        out.push_str(word.get(..1).unwrap_or(""));
        out.push_str(&word.get(1..).unwrap_or("").to_lowercase());
        out
    })
}

/// A 200 with `X-Amz-Function-Error: Unhandled`.
pub fn function_error(body: Bytes) -> Reply {
    let mut reply = http::reply(StatusCode::OK, "application/json", body);
    http::set_header(&mut reply, "x-amz-function-error", "Unhandled");
    reply
}

fn engine_down(detail: &impl std::fmt::Display) -> Reply {
    http::aws_error(
        StatusCode::BAD_GATEWAY,
        "ServiceException",
        &format!(
            "the local durable engine did not answer ({detail}); see .deployer/local/engine/engine.log, or restart with \
             `deployer down --local && deployer up --local`"
        ),
    )
}

fn passthrough(received: http::Received) -> Reply {
    let content_type = http::header(&received.headers, "content-type").unwrap_or("application/json").to_owned();
    let mut reply = http::reply(received.status, &content_type, received.body);
    if let Some(code) = http::header(&received.headers, "x-amzn-errortype").map(str::to_owned) {
        http::set_header(&mut reply, "x-amzn-errortype", &code);
    }
    reply
}

/// Forwards a durable API request to the engine. A checkpoint the engine accepted may fire an armed fault: the
/// process that sent it is killed before it sees the answer.
pub async fn forward(svc: &Service, request: Request<Incoming>) -> Reply {
    let (parts, body) = request.into_parts();
    let body = match http::body_bytes(body).await {
        Ok(body) => body,
        Err(e) => return http::aws_error(StatusCode::BAD_REQUEST, "InvalidRequestContentException", &e.to_string()),
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path_and_query}", svc.engine());
    let mut outgoing = match http::build(parts.method.clone(), &url, body.clone()) {
        Ok(request) => request,
        Err(e) => return engine_down(&e),
    };
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            outgoing.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let received = match svc.client.send(outgoing, Duration::from_mins(2)).await {
        Ok(received) => received,
        Err(e) => return engine_down(&e),
    };
    let segments: Vec<&str> = parts.uri.path().trim_start_matches('/').split('/').collect();
    if received.status.is_success()
        && let ["2025-12-01", "durable-executions", arn, "checkpoint"] = segments.as_slice()
    {
        let arn = http::decode(arn);
        let fired = svc.running_function(&arn).and_then(|function| {
            let value = serde_json::from_slice(&body).ok()?;
            svc.faults.take_checkpoint(&function, &value)
        });
        match fired {
            Some(Kill::Process) => {
                svc.kill_execution(&arn);
            }
            Some(Kill::Daemon) => {
                super::control::kill_pid(std::process::id());
            }
            None => {}
        }
    }
    passthrough(received)
}
