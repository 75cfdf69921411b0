//! The private control API the CLI uses: health (open), and status, reload, shutdown and, in test builds, fault
//! injection, each behind the state folder's secret, so another local program or a web page that learns the port
//! cannot stop the service or read its state.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::ApiState;
use super::error::ApiError;
use crate::deployment::Deployment;
use crate::protocol::{self, Health};

/// The routes.
pub(crate) fn router() -> Router<ApiState> {
    let router = Router::new()
        .route(protocol::HEALTH, get(health))
        .route(protocol::STATUS, get(status))
        .route(protocol::RELOAD, post(reload))
        .route(protocol::SHUTDOWN, post(shutdown))
        .route(protocol::CLOCK, post(clock))
        .route(protocol::REPLAY, post(replay))
        .route(protocol::REPLAY_RELEASE, post(release_replay));
    #[cfg(feature = "test-hooks")]
    let router = router.route(protocol::FAULTS, post(faults));
    router
}

fn authorize(state: &ApiState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers.get(protocol::SECRET_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !state.control.secret.is_empty() && constant_time_eq(given.as_bytes(), state.control.secret.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            "the control API needs the secret of the local target's state folder",
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn health(State(state): State<ApiState>) -> Json<Health> {
    Json(Health { pid: std::process::id(), instance: state.control.instance.clone() })
}

async fn status(State(state): State<ApiState>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    Ok(Json(state.service.status()?).into_response())
}

async fn reload(State(state): State<ApiState>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let deployment: Deployment = crate::files::read_json(&state.control.deployment_file)
        .map_err(|e| ApiError::invalid(e.to_string()))?
        .ok_or_else(|| ApiError::not_found("nothing is deployed: deployment.json is missing"))?;
    state.service.set_deployment(deployment);
    Ok(Json(serde_json::json!({"reloaded": true})).into_response())
}

async fn shutdown(State(state): State<ApiState>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    state.service.shutdown.notify_one();
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({"stopping": true}))).into_response())
}

async fn clock(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let how: protocol::ClockMove =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("bad clock move: {e}")))?;
    let reading = state.service.move_clock(how).await?;
    // A restarted service carries on from this time; without the file it would start again from the wall clock.
    crate::files::write_json(&state.control.clock_file, &reading.now_ms)
        .map_err(|e| ApiError::service(e.to_string()))?;
    Ok(Json(reading).into_response())
}

async fn replay(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let request: protocol::ReplayRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("bad replay request: {e}")))?;
    if request.hold {
        return Ok(Json(state.service.replay_held(request).await?).into_response());
    }
    let report = match &request.recorded {
        Some(recorded) => state.service.replay_recorded(&request.execution, recorded).await?,
        None => state.service.replay(&request.execution).await?,
    };
    Ok(Json(report).into_response())
}

async fn release_replay(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let request: protocol::ReleaseRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("bad release request: {e}")))?;
    Ok(Json(state.service.release_replay(&request.session).await?).into_response())
}

#[cfg(feature = "test-hooks")]
async fn faults(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let fault: crate::service::faults::Fault =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("bad fault: {e}")))?;
    state.service.faults.arm(fault);
    Ok(Json(serde_json::json!({"armed": true})).into_response())
}
