//! Small HTTP plumbing on hyper: a loopback server loop, response builders in the shapes AWS SDKs parse, and a
//! client for the engine and the daemon's control routes.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::LocalError;

/// The body type of every response we build.
pub type Body = Full<Bytes>;

/// A response we send.
pub type Reply = Response<Body>;

/// A response with a body and content type.
pub fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

/// A JSON response.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
    reply(status, "application/json", value.to_string())
}

/// A service error as the AWS SDKs parse it: `x-amzn-errortype` plus `{"__type", "message"}`.
pub fn aws_error(status: StatusCode, code: &str, message: &str) -> Reply {
    let body = serde_json::json!({"Type": "User", "__type": code, "message": message});
    let mut response = json(status, &body);
    set_header(&mut response, "x-amzn-errortype", code);
    response
}

/// Sets a header, ignoring values that are not valid header text.
pub fn set_header(response: &mut Reply, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(HeaderName::from_static(name), value);
    }
}

/// A header's value as text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads a whole request body.
pub async fn body_bytes(body: Incoming) -> Result<Bytes, LocalError> {
    body.collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .map_err(|e| LocalError::Http(format!("cannot read the request body: {e}")))
}

/// Serves `handler` on `listener` until the returned future is dropped; dropping it also closes every connection.
pub async fn serve<F, Fut>(listener: TcpListener, handler: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let handler = handler.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let handler = handler.clone();
                        async move { Ok::<_, Infallible>(handler(request).await) }
                    });
                    // A client that goes away mid-request is not an error worth reporting.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// A response received by [`Client`].
#[derive(Debug, Clone)]
pub struct Received {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value, LocalError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| LocalError::Http(format!("expected JSON, got {e}: {}", String::from_utf8_lossy(&self.body))))
    }
}

/// An HTTP/1 client for loopback services.
#[derive(Debug, Clone)]
pub struct Client {
    inner: HyperClient<HttpConnector, Body>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client with pooled connections.
    pub fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let inner =
            HyperClient::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        Self { inner }
    }

    /// Sends a request and reads the whole response, giving up after `timeout`.
    pub async fn send(&self, request: Request<Body>, timeout: Duration) -> Result<Received, LocalError> {
        let uri = request.uri().clone();
        let exchange = async {
            let response = self.inner.request(request).await.map_err(|e| LocalError::Http(format!("{uri}: {e}")))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| LocalError::Http(format!("{uri}: {e}")))?.to_bytes();
            Ok(Received { status: parts.status, headers: parts.headers, body })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| LocalError::Http(format!("{uri} did not answer within {} s", timeout.as_secs())))?
    }

    /// `GET url`.
    pub async fn get(&self, url: &str, timeout: Duration) -> Result<Received, LocalError> {
        self.send(build(Method::GET, url, Bytes::new())?, timeout).await
    }

    /// `POST url` with a JSON body.
    pub async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> Result<Received, LocalError> {
        let mut request = build(Method::POST, url, Bytes::from(body.to_string()))?;
        request.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.send(request, timeout).await
    }
}

/// Builds a request.
pub fn build(method: Method, url: &str, body: Bytes) -> Result<Request<Body>, LocalError> {
    Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(body))
        .map_err(|e| LocalError::Http(format!("invalid request to {url}: {e}")))
}

/// Percent-decodes a path segment or query value.
pub fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// The value of a query parameter.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(key) == name).then(|| decode(&value.replace('+', " ")))
    })
}

/// Percent-encodes one path segment (an ARN inside a path).
pub fn encode_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
