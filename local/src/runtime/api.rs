//! The Lambda Runtime API (2018-06-01) one function process polls: `invocation/next`, `{id}/response`,
//! `{id}/error` and `init/error`. One router per process, so an answer always belongs to that process.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Mutex, mpsc, oneshot};

/// One invocation handed to the process.
#[derive(Debug)]
pub(super) struct Delivery {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The event.
    pub payload: Bytes,
    /// `Lambda-Runtime-Deadline-Ms`, epoch milliseconds.
    pub deadline_ms: u128,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// Where the process's answer goes.
    pub reply: oneshot::Sender<RuntimeReply>,
    /// Told when the process has taken the invocation.
    pub delivered: Option<oneshot::Sender<()>>,
}

/// What the process answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RuntimeReply {
    /// `POST /invocation/{id}/response`.
    Response(Bytes),
    /// `POST /invocation/{id}/error`: the body (`{"errorType", "errorMessage"}`).
    Error(Bytes),
}

/// The state behind one process's Runtime API.
#[derive(Debug)]
pub(super) struct RuntimeApi {
    next: Mutex<mpsc::Receiver<Delivery>>,
    inflight: Mutex<HashMap<String, oneshot::Sender<RuntimeReply>>>,
    init_error: Mutex<Option<Bytes>>,
}

impl RuntimeApi {
    /// A Runtime API fed by `deliveries`.
    pub(super) fn new(deliveries: mpsc::Receiver<Delivery>) -> Arc<Self> {
        Arc::new(Self {
            next: Mutex::new(deliveries),
            inflight: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        })
    }

    /// The body the process posted to `init/error`, if it did.
    pub(super) async fn init_error(&self) -> Option<Bytes> {
        self.init_error.lock().await.clone()
    }
}

/// The routes of one process's Runtime API.
pub(super) fn router(api: Arc<RuntimeApi>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .fallback(|| async {
            runtime_error(StatusCode::NOT_FOUND, "UnknownOperationException", "no such Runtime API route")
        })
        .with_state(api)
}

fn runtime_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"errorType": code, "errorMessage": message});
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, [("content-type", "application/json")], r#"{"status":"OK"}"#).into_response()
}

async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    let delivery = {
        let mut next = api.next.lock().await;
        next.recv().await
    };
    let Some(delivery) = delivery else {
        // The instance is being retired: no more invocations will come.
        return runtime_error(StatusCode::GONE, "ServiceException", "this runtime is shutting down");
    };
    let Delivery { request_id, payload, deadline_ms, function_arn, reply, delivered } = delivery;
    api.inflight.lock().await.insert(request_id.clone(), reply);
    if let Some(delivered) = delivered {
        let _ = delivered.send(());
    }
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("content-type", "application/json");
    set("lambda-runtime-aws-request-id", &request_id);
    set("lambda-runtime-deadline-ms", &deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &function_arn);
    set(
        "lambda-runtime-trace-id",
        &format!("Root=1-00000000-{}", request_id.replace('-', "").get(..24).unwrap_or("0")),
    );
    (StatusCode::OK, headers, payload).into_response()
}

async fn answer(api: &RuntimeApi, id: &str, reply: RuntimeReply) -> Response {
    let Some(waiting) = api.inflight.lock().await.remove(id) else {
        return runtime_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestIDException",
            &format!("invocation {id} is not in flight"),
        );
    };
    // The invoker may have given up (timeout): then the answer is dropped, as Lambda does.
    let _ = waiting.send(reply);
    accepted()
}

async fn response(State(api): State<Arc<RuntimeApi>>, Path(id): Path<String>, body: Bytes) -> Response {
    answer(&api, &id, RuntimeReply::Response(body)).await
}

async fn error(State(api): State<Arc<RuntimeApi>>, Path(id): Path<String>, body: Bytes) -> Response {
    answer(&api, &id, RuntimeReply::Error(body)).await
}

async fn init_error(State(api): State<Arc<RuntimeApi>>, body: Bytes) -> Response {
    *api.init_error.lock().await = Some(body);
    accepted()
}
