//! Errors in the shape the AWS SDKs and CLI parse: the `x-amzn-ErrorType` header and a JSON body with `__type`
//! and `message`, so a client prints `ResourceNotFoundException: ...` as it would against AWS.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::engine::EngineError;

/// An error answer of the Lambda API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The service's error code.
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// An error with a status, code and message.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// `ResourceNotFoundException` (404).
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
    }

    /// `InvalidParameterValueException` (400).
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidParameterValueException", message)
    }

    /// `ValidationException` (400) in the service's words.
    pub(crate) fn validation(field: &str, value: &str, constraint: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    /// `InvalidRequestContentException` (400).
    pub(crate) fn bad_content(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequestContentException", message)
    }

    /// `ServiceException` (500): our fault, with what to do.
    pub(crate) fn service(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", message)
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::NotFound(m) => Self::not_found(m),
            EngineError::InvalidParameter(m) => Self::invalid(m),
            EngineError::AlreadyStarted(m) => {
                Self::new(StatusCode::CONFLICT, "DurableExecutionAlreadyStartedException", m)
            }
            other => Self::service(format!(
                "{other}; see .deployer/local/daemon.log, or reset the local target with `deployer down --local`"
            )),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"Type": "User", "__type": self.code, "message": self.message});
        let mut response = (self.status, [("content-type", "application/json")], body.to_string()).into_response();
        response.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static(self.code));
        response
    }
}
