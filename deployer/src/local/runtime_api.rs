//! The Lambda Runtime API (2018-06-01) one function process polls: `invocation/next`, `{id}/response`,
//! `{id}/error` and `init/error`. One server per process, so a reply always belongs to that process.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::http::{self, Reply};

/// One invocation handed to the process.
#[derive(Debug)]
pub struct Delivery {
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
pub enum RuntimeReply {
    /// `POST /invocation/{id}/response`.
    Response(Bytes),
    /// `POST /invocation/{id}/error`: the body (`{"errorType", "errorMessage"}`).
    Error(Bytes),
}

/// The state behind one process's Runtime API.
#[derive(Debug)]
pub struct RuntimeApi {
    next: Mutex<mpsc::Receiver<Delivery>>,
    inflight: Mutex<HashMap<String, oneshot::Sender<RuntimeReply>>>,
    init_error: Mutex<Option<Bytes>>,
}

impl RuntimeApi {
    /// A Runtime API fed by `deliveries`.
    pub fn new(deliveries: mpsc::Receiver<Delivery>) -> Arc<Self> {
        Arc::new(Self {
            next: Mutex::new(deliveries),
            inflight: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        })
    }

    /// The body the process posted to `init/error`, if it did.
    pub async fn init_error(&self) -> Option<Bytes> {
        self.init_error.lock().await.clone()
    }

    /// Answers one Runtime API request.
    pub async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Reply {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
            return not_found(&path);
        };
        match (method, rest.split('/').collect::<Vec<_>>().as_slice()) {
            (Method::GET, ["invocation", "next"]) => self.next().await,
            (Method::POST, ["invocation", id, kind @ ("response" | "error")]) => {
                let id = (*id).to_owned();
                let is_error = *kind == "error";
                let body = match http::body_bytes(request.into_body()).await {
                    Ok(body) => body,
                    Err(e) => {
                        return http::aws_error(
                            StatusCode::BAD_REQUEST,
                            "InvalidRequestContentException",
                            &e.to_string(),
                        );
                    }
                };
                let Some(reply) = self.inflight.lock().await.remove(&id) else {
                    return http::aws_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidRequestIDException",
                        &format!("invocation {id} is not in flight"),
                    );
                };
                let answer = if is_error { RuntimeReply::Error(body) } else { RuntimeReply::Response(body) };
                // The invoker may have given up (timeout): then the answer is dropped, as Lambda does.
                let _ = reply.send(answer);
                http::json(StatusCode::ACCEPTED, &serde_json::json!({"status": "OK"}))
            }
            (Method::POST, ["init", "error"]) => {
                let body = http::body_bytes(request.into_body()).await.unwrap_or_default();
                *self.init_error.lock().await = Some(body);
                http::json(StatusCode::ACCEPTED, &serde_json::json!({"status": "OK"}))
            }
            _ => not_found(&path),
        }
    }

    async fn next(&self) -> Reply {
        let delivery = {
            let mut next = self.next.lock().await;
            next.recv().await
        };
        let Some(delivery) = delivery else {
            // The instance is being retired: no more invocations will come.
            return http::aws_error(StatusCode::GONE, "ServiceException", "this runtime is shutting down");
        };
        let Delivery { request_id, payload, deadline_ms, function_arn, reply, delivered } = delivery;
        self.inflight.lock().await.insert(request_id.clone(), reply);
        if let Some(delivered) = delivered {
            let _ = delivered.send(());
        }
        let mut response = http::reply(StatusCode::OK, "application/json", payload);
        http::set_header(&mut response, "lambda-runtime-aws-request-id", &request_id);
        http::set_header(&mut response, "lambda-runtime-deadline-ms", &deadline_ms.to_string());
        http::set_header(&mut response, "lambda-runtime-invoked-function-arn", &function_arn);
        http::set_header(
            &mut response,
            "lambda-runtime-trace-id",
            &format!("Root=1-00000000-{}", request_id.replace('-', "").get(..24).unwrap_or("0")),
        );
        response
    }
}

fn not_found(path: &str) -> Reply {
    http::aws_error(StatusCode::NOT_FOUND, "UnknownOperationException", &format!("no Runtime API route {path}"))
}
