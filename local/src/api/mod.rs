//! The HTTP layer: one axum router per API (Lambda functions and Invoke, the durable execution API, the private
//! control API) on one loopback endpoint, every error in the shape the AWS SDKs parse. The Runtime API the
//! function processes poll is in [`crate::runtime::api`], one per process.

pub(crate) mod control;
pub(crate) mod durable;
pub(crate) mod error;
pub(crate) mod lambda;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};

use crate::service::Service;
use error::ApiError;

/// The largest request body accepted: Lambda's 6 MB synchronous payload, with room for checkpoint batches.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// What the control routes need besides the service.
#[derive(Debug, Clone)]
pub(crate) struct ControlConfig {
    /// The control secret.
    pub secret: String,
    /// This run's random id.
    pub instance: String,
    /// `deployment.json`, read again on reload.
    pub deployment_file: PathBuf,
    /// `clock.json`: a manual clock's time, written at each move so a restarted service carries on from it.
    pub clock_file: PathBuf,
}

/// State of every route.
#[derive(Debug, Clone)]
pub(crate) struct ApiState {
    /// The service.
    pub service: Arc<Service>,
    /// Control settings.
    pub control: Arc<ControlConfig>,
}

/// The whole endpoint.
pub(crate) fn router(state: ApiState) -> Router {
    Router::new()
        .merge(lambda::router())
        .merge(durable::router())
        .merge(control::router())
        .fallback(|method: Method, uri: Uri| async move {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                format!("the local endpoint does not implement {method} {}", uri.path()),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Percent-decodes a query value.
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Every `key=value` pair of a query string, decoded, in order (repeated keys included).
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// The first value of a query parameter.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query_pairs(query).into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}
