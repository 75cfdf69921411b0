//! A small HTTP/1 client on hyper for loopback calls: the CLI to the service's control API, and the tests.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::LocalError;

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Received {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Received {
    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, LocalError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| LocalError::Http(format!("unexpected answer ({e}): {}", String::from_utf8_lossy(&self.body))))
    }
}

/// An HTTP/1 client with pooled connections.
#[derive(Debug, Clone)]
pub struct Client {
    inner: HyperClient<HttpConnector, Full<Bytes>>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A new client.
    pub fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let inner =
            HyperClient::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        Self { inner }
    }

    /// Sends a request and reads the whole answer, giving up after `timeout`.
    pub async fn send(&self, request: Request<Full<Bytes>>, timeout: Duration) -> Result<Received, LocalError> {
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

    /// `method url` with `body` and extra headers.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<Received, LocalError> {
        let mut request = build(method, url, body)?;
        for (name, value) in headers {
            let name = hyper::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| LocalError::Http(format!("bad header {name}: {e}")))?;
            let value = HeaderValue::from_str(value).map_err(|e| LocalError::Http(format!("bad header value: {e}")))?;
            request.headers_mut().insert(name, value);
        }
        request.headers_mut().entry(CONTENT_TYPE).or_insert(HeaderValue::from_static("application/json"));
        self.send(request, timeout).await
    }

    /// `GET url`.
    pub async fn get(&self, url: &str, timeout: Duration) -> Result<Received, LocalError> {
        self.call(Method::GET, url, &[], Bytes::new(), timeout).await
    }
}

/// Builds a request.
pub fn build(method: Method, url: &str, body: Bytes) -> Result<Request<Full<Bytes>>, LocalError> {
    Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(body))
        .map_err(|e| LocalError::Http(format!("invalid request to {url}: {e}")))
}

/// Percent-encodes one path segment (an ARN inside a path).
pub fn encode_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
