//! Function processes under the local Runtime API, with small shell-script runtimes (bash + curl speak the Runtime
//! API): responses, function errors, crashes, timeouts, init errors, warm reuse and bounded scale-out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use local::runtime::{FunctionResponse, Pool, RunSpec};

const RUNTIME: &str = r#"#!/bin/bash
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
HDRS=$(mktemp)
while true; do
  BODY=$(curl -sS -D "$HDRS" "$API/invocation/next") || exit 7
  ID=$(grep -i '^lambda-runtime-aws-request-id' "$HDRS" | tr -d '\r' | awk '{print $2}')
  case "$BODY" in
    *sleep*) sleep 30 ;;
    *slow*) sleep 0.3; curl -sS -X POST "$API/invocation/$ID/response" -d "{\"pid\":$$}" >/dev/null ;;
    *exit*) exit 3 ;;
    *fail*) curl -sS -X POST "$API/invocation/$ID/error" -d '{"errorType":"Boom","errorMessage":"failed on purpose"}' >/dev/null ;;
    *) curl -sS -X POST "$API/invocation/$ID/response" -d "{\"echo\":$BODY,\"pid\":$$,\"fn\":\"$AWS_LAMBDA_FUNCTION_NAME\",\"mem\":\"$AWS_LAMBDA_FUNCTION_MEMORY_SIZE\"}" >/dev/null ;;
  esac
done
"#;

const INIT_ERROR: &str = r#"#!/bin/bash
curl -sS -X POST "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error" -d '{"errorType":"Config.Missing","errorMessage":"PROCESSOR_FUNCTION_NAME is not set"}' >/dev/null
exit 1
"#;

fn spec(dir: &Path, script: &str, timeout: Duration) -> RunSpec {
    use std::os::unix::fs::PermissionsExt;
    let code = dir.join("bootstrap");
    std::fs::write(&code, script).unwrap();
    std::fs::set_permissions(&code, std::fs::Permissions::from_mode(0o755)).unwrap();
    RunSpec {
        function: "fixture".into(),
        version: "$LATEST".into(),
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:fixture".into(),
        code,
        env: BTreeMap::from([
            ("PATH".to_owned(), "/usr/local/bin:/usr/bin:/bin".to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME".to_owned(), "fixture".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(), "256".to_owned()),
        ]),
        timeout,
        memory_mb: 256,
        log: dir.join("fixture.log"),
        pid_file: dir.join("processes"),
    }
}

fn json(outcome: &FunctionResponse) -> serde_json::Value {
    match outcome {
        FunctionResponse::Success(body) | FunctionResponse::FunctionError(body) => {
            serde_json::from_slice(body).unwrap()
        }
    }
}

async fn call(pool: &Pool, payload: &str) -> FunctionResponse {
    pool.invoke(&uuid::Uuid::new_v4().to_string(), Bytes::from(payload.to_owned()), false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_errors_crashes_and_timeouts_are_answered_like_lambda() {
    let dir = tempfile::tempdir().unwrap();
    let pool = Pool::new(spec(dir.path(), RUNTIME, Duration::from_secs(2)), 4);

    let first = call(&pool, r#"{"n": 1}"#).await;
    assert!(matches!(first, FunctionResponse::Success(_)), "{first:?}");
    let first = json(&first);
    assert_eq!(first["echo"], serde_json::json!({"n": 1}));
    assert_eq!((first["fn"].as_str(), first["mem"].as_str()), (Some("fixture"), Some("256")));
    let second = json(&call(&pool, r#"{"n": 2}"#).await);
    assert_eq!(first["pid"], second["pid"], "a warm instance is reused");

    let failed = call(&pool, r#""fail""#).await;
    assert!(matches!(failed, FunctionResponse::FunctionError(_)), "{failed:?}");
    assert_eq!(json(&failed), serde_json::json!({"errorType": "Boom", "errorMessage": "failed on purpose"}));

    let crashed = call(&pool, r#""exit""#).await;
    let body = json(&crashed);
    assert!(matches!(crashed, FunctionResponse::FunctionError(_)));
    assert_eq!(body["errorType"], "Runtime.ExitError");
    assert!(body["errorMessage"].as_str().unwrap().contains("Runtime exited with error: exit status 3"), "{body}");
    let after_crash = json(&call(&pool, "{}").await);
    assert_ne!(after_crash["pid"], first["pid"], "a dead instance is replaced");

    let started = std::time::Instant::now();
    let timed_out = json(&call(&pool, r#""sleep""#).await);
    assert!(started.elapsed() < Duration::from_secs(5), "the timeout is enforced");
    assert_eq!(timed_out["errorType"], "Sandbox.Timedout");
    assert!(timed_out["errorMessage"].as_str().unwrap().ends_with("Task timed out after 2.00 seconds"), "{timed_out}");
    let after_timeout = json(&call(&pool, "{}").await);
    assert!(after_timeout["pid"].is_number(), "the pool serves again after a timeout");

    let recorded = std::fs::read_to_string(dir.path().join("processes")).unwrap();
    assert!(recorded.lines().count() >= 3, "every started process is recorded for the cleanup after a crash");
    let log = std::fs::read_to_string(dir.path().join("fixture.log")).unwrap();
    assert!(log.contains("START RequestId:") && log.contains("REPORT RequestId:"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_scale_out_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let pool = Arc::new(Pool::new(spec(dir.path(), RUNTIME, Duration::from_secs(10)), 3));
    let calls: Vec<_> = (0..9)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { json(&call(&pool, r#""slow""#).await) })
        })
        .collect();
    let mut pids = BTreeSet::new();
    for call in calls {
        let body = call.await.unwrap();
        pids.insert(body["pid"].as_u64().unwrap());
    }
    assert!(pids.len() > 1 && pids.len() <= 3, "more instances under load, at most 3: {pids:?}");
    assert_eq!(pool.invocations(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_error_is_reported_with_the_runtime_s_own_body() {
    let dir = tempfile::tempdir().unwrap();
    let pool = Pool::new(spec(dir.path(), INIT_ERROR, Duration::from_secs(5)), 1);
    let outcome = call(&pool, "{}").await;
    assert!(matches!(outcome, FunctionResponse::FunctionError(_)), "{outcome:?}");
    assert_eq!(json(&outcome)["errorType"], "Config.Missing");
}
