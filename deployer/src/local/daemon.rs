//! The background process of the local target: serves the Lambda endpoint on 127.0.0.1, runs and supervises the
//! durable engine, and answers the private control routes (`/_local/...`) the CLI and the tests use.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use super::LocalError;
use super::deployment::Deployment;
use super::engine::{self, Engine};
use super::faults::Fault;
use super::http::{self, Reply};
use super::invoke_api;
use super::service::Service;
use super::state::{DaemonInfo, StateDir, read_json};

/// Function processes allowed per function version.
pub const MAX_INSTANCES: usize = 10;

/// What `up --local` asks of the daemon it starts (`daemon-request.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonRequest {
    /// The engine's `dex-local-runner`.
    pub engine: PathBuf,
    /// The port to serve on (0: any free port).
    pub port: u16,
    /// An engine a crashed daemon left running, to adopt: `(pid, port)`.
    #[serde(default)]
    pub adopt_engine: Option<(u32, u16)>,
}

/// The request file's path.
pub fn request_file(state: &StateDir) -> PathBuf {
    state.root.join("daemon-request.json")
}

/// Runs the daemon until SIGTERM, SIGINT or `POST /_local/shutdown`.
pub async fn run(state: StateDir) -> Result<(), LocalError> {
    let request: DaemonRequest = read_json(&request_file(&state))?.ok_or_else(|| {
        LocalError::Daemon(format!(
            "{} is missing; start the daemon with `deployer up --local`",
            request_file(&state).display()
        ))
    })?;
    let deployment: Deployment = read_json(&state.deployment_file())?
        .ok_or_else(|| LocalError::Daemon("nothing is deployed; run `deployer up --local`".to_owned()))?;
    let listener = match TcpListener::bind(("127.0.0.1", request.port)).await {
        Ok(listener) => listener,
        Err(_) if request.port != 0 => TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| LocalError::Daemon(format!("cannot listen on 127.0.0.1: {e}")))?,
        Err(e) => return Err(LocalError::Daemon(format!("cannot listen on 127.0.0.1: {e}"))),
    };
    let port = listener.local_addr().map_err(|e| LocalError::Daemon(e.to_string()))?.port();
    let endpoint = format!("http://127.0.0.1:{port}");
    tracing::info!(%endpoint, "local Lambda endpoint listening");
    let svc = Arc::new(Service::new(deployment.clone(), endpoint.clone(), state.clone(), MAX_INSTANCES));
    let handler_svc = svc.clone();
    let server = tokio::spawn(http::serve(listener, move |request| invoke_api::handle(handler_svc.clone(), request)));
    let mut configs = deployment.function_configs();
    let adopted = match request.adopt_engine {
        Some((pid, engine_port)) => Engine::adopt(pid, engine_port, &state).await,
        None => None,
    };
    let mut engine = match adopted {
        Some(engine) => {
            engine.set_lambda_endpoint(&endpoint, &deployment.region).await?;
            if let Ok(mut url) = svc.engine_url.write() {
                *url = engine.url();
            }
            tracing::info!(engine = %engine.url(), pid = engine.pid, "adopted the running durable engine");
            engine
        }
        None => start_engine(&svc, &request, &deployment, &configs).await?,
    };
    write_info(&state, port, &engine)?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| LocalError::Daemon(e.to_string()))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| LocalError::Daemon(e.to_string()))?;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = interrupt.recv() => break,
            () = svc.shutdown.notified() => break,
            () = engine.exited() => {
                tracing::warn!("the durable engine exited; restarting it");
                tokio::time::sleep(Duration::from_millis(500)).await;
                engine = start_engine(&svc, &request, &svc.deployment(), &configs).await?;
                write_info(&state, port, &engine)?;
            }
            () = svc.engine_restart.notified() => {
                let deployment = svc.deployment();
                let wanted = deployment.function_configs();
                if wanted != configs {
                    tracing::info!("function set changed; restarting the durable engine with the new configurations");
                    engine.stop().await;
                    configs = wanted;
                    engine = start_engine(&svc, &request, &deployment, &configs).await?;
                    write_info(&state, port, &engine)?;
                }
            }
        }
    }
    tracing::info!("stopping");
    svc.stop_all();
    server.abort();
    engine.stop().await;
    let _ = std::fs::remove_file(state.daemon_file());
    Ok(())
}

async fn start_engine(
    svc: &Service,
    request: &DaemonRequest,
    deployment: &Deployment,
    configs: &serde_json::Value,
) -> Result<Engine, LocalError> {
    let engine =
        engine::start(&request.engine, &svc.state.engine_dir(), &svc.endpoint, &deployment.region, configs).await?;
    if let Ok(mut url) = svc.engine_url.write() {
        *url = engine.url();
    }
    tracing::info!(engine = %engine.url(), "durable engine healthy");
    Ok(engine)
}

fn write_info(state: &StateDir, port: u16, engine: &Engine) -> Result<(), LocalError> {
    let info = DaemonInfo { pid: std::process::id(), port, engine_pid: engine.pid, engine_port: engine.port };
    StateDir::write_json(&state.daemon_file(), &info)
}

/// The private control routes: `GET /_local/health`, `GET /_local/status`, `POST /_local/reload`,
/// `POST /_local/faults`, `POST /_local/shutdown`.
pub async fn control(svc: Arc<Service>, request: Request<Incoming>) -> Reply {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    match (method, path.as_str()) {
        (Method::GET, "/_local/health") => http::json(StatusCode::OK, &json!({"ok": true, "pid": std::process::id()})),
        (Method::GET, "/_local/status") => http::json(StatusCode::OK, &svc.status()),
        (Method::POST, "/_local/reload") => match read_json::<Deployment>(&svc.state.deployment_file()) {
            Ok(Some(deployment)) => {
                svc.set_deployment(deployment);
                svc.engine_restart.notify_one();
                http::json(StatusCode::OK, &json!({"reloaded": true}))
            }
            Ok(None) => http::aws_error(StatusCode::BAD_REQUEST, "ResourceNotFoundException", "no deployment.json"),
            Err(e) => http::aws_error(StatusCode::BAD_REQUEST, "InvalidParameterValueException", &e.to_string()),
        },
        (Method::POST, "/_local/faults") => {
            let body = http::body_bytes(request.into_body()).await.unwrap_or_default();
            match serde_json::from_slice::<Fault>(&body) {
                Ok(fault) => {
                    svc.faults.arm(fault);
                    http::json(StatusCode::OK, &json!({"armed": true}))
                }
                Err(e) => http::aws_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterValueException",
                    &format!("bad fault: {e}"),
                ),
            }
        }
        (Method::POST, "/_local/shutdown") => {
            svc.shutdown.notify_one();
            http::json(StatusCode::ACCEPTED, &json!({"stopping": true}))
        }
        _ => http::aws_error(StatusCode::NOT_FOUND, "UnknownOperationException", &format!("no control route {path}")),
    }
}
