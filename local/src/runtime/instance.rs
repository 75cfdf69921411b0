//! Function processes: one [`Instance`] is one running `bootstrap` with its own Runtime API; a [`Pool`] keeps warm
//! instances of one function version, starts more under concurrent load (bounded) and replaces dead ones.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::api::{Delivery, RuntimeApi, RuntimeReply, router};

/// How one function version runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    /// Function name.
    pub function: String,
    /// `$LATEST` or the version number.
    pub version: String,
    /// The invoked function ARN the runtime reports.
    pub function_arn: String,
    /// The `bootstrap` binary.
    pub code: PathBuf,
    /// The process environment, complete except `AWS_LAMBDA_RUNTIME_API`.
    pub env: BTreeMap<String, String>,
    /// The configured timeout.
    pub timeout: Duration,
    /// The configured memory, MB (reported).
    pub memory_mb: u64,
    /// The function's log file.
    pub log: PathBuf,
    /// The file every started process's id is appended to, so a restarted service can stop the processes a
    /// killed one left behind.
    pub pid_file: PathBuf,
}

/// How an invocation ended, in Lambda's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionResponse {
    /// The handler's response.
    Success(Bytes),
    /// A function error: the body Lambda returns with `X-Amz-Function-Error: Unhandled`.
    FunctionError(Bytes),
}

/// One running function process.
#[derive(Debug)]
pub(crate) struct Instance {
    /// The process id.
    pub pid: u32,
    deliver: mpsc::Sender<Delivery>,
    exit: watch::Receiver<Option<String>>,
    kill: Arc<Notify>,
    api: Arc<RuntimeApi>,
    server: JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill.notify_one();
        self.server.abort();
    }
}

impl Instance {
    /// Starts a process of `spec` with its own Runtime API on a loopback port.
    pub(crate) async fn start(spec: &RunSpec) -> Result<Self, String> {
        let listener =
            TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("cannot bind a Runtime API port: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let (deliver, deliveries) = mpsc::channel(1);
        let api = RuntimeApi::new(deliveries);
        let app = router(api.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let log = open_log(spec)?;
        let err_log = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = tokio::process::Command::new(&spec.code);
        command
            .env_clear()
            .envs(&spec.env)
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .current_dir(spec.code.parent().unwrap_or(&spec.code))
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(err_log)
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| format!("cannot start {}: {e}", spec.code.display()))?;
        let pid = child.id().unwrap_or_default();
        record_pid(&spec.pid_file, pid);
        let (exit_tx, exit) = watch::channel(None);
        let kill = Arc::new(Notify::new());
        let killer = kill.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                () = killer.notified() => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let text = match status {
                Ok(status) => describe_exit(status),
                Err(e) => format!("wait failed: {e}"),
            };
            let _ = exit_tx.send(Some(text));
        });
        Ok(Self { pid, deliver, exit, kill, api, server })
    }

    /// Whether the process still runs.
    pub(crate) fn is_alive(&self) -> bool {
        self.exit.borrow().is_none()
    }

    /// Kills the process (SIGKILL).
    pub(crate) fn kill(&self) {
        self.kill.notify_one();
    }

    /// Runs one invocation. `kill_after_delivery` kills the process right after it took the invocation (fault
    /// injection for tests). Its answer is then never taken, even when a fast handler posts it before the signal
    /// lands: the fault fires on every run, not only when the handler is slower than the kill.
    pub(crate) async fn invoke(
        &self,
        spec: &RunSpec,
        request_id: &str,
        payload: Bytes,
        kill_after_delivery: bool,
    ) -> FunctionResponse {
        let deadline = SystemTime::now() + spec.timeout;
        let deadline_ms = deadline.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
        let (reply_tx, reply_rx) = oneshot::channel();
        let (delivered_tx, delivered_rx) = oneshot::channel();
        let delivery = Delivery {
            request_id: request_id.to_owned(),
            payload,
            deadline_ms,
            function_arn: spec.function_arn.clone(),
            reply: reply_tx,
            delivered: Some(delivered_tx),
        };
        if self.deliver.send(delivery).await.is_err() {
            return exit_error(request_id, "Runtime exited without providing a reason");
        }
        if kill_after_delivery {
            let kill = self.kill.clone();
            tokio::spawn(async move {
                if delivered_rx.await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    kill.notify_one();
                }
            });
        }
        let mut watch_exit = self.exit.clone();
        let exited = async move {
            let _ = watch_exit.wait_for(Option::is_some).await;
        };
        let timeout = tokio::time::sleep(spec.timeout);
        tokio::select! {
            biased;
            reply = reply_rx, if !kill_after_delivery => match reply {
                Ok(RuntimeReply::Response(body)) => FunctionResponse::Success(body),
                Ok(RuntimeReply::Error(body)) => FunctionResponse::FunctionError(body),
                Err(_) => self.exited(request_id).await,
            },
            () = exited => self.exited(request_id).await,
            () = timeout => {
                self.kill();
                self.wait_exit().await;
                let message = format!(
                    "RequestId: {request_id} Error: Task timed out after {}.00 seconds",
                    spec.timeout.as_secs()
                );
                FunctionResponse::FunctionError(error_body("Sandbox.Timedout", &message))
            }
        }
    }

    async fn wait_exit(&self) -> String {
        let mut exit = self.exit.clone();
        exit.wait_for(Option::is_some).await.ok().and_then(|s| s.clone()).unwrap_or_default()
    }

    async fn exited(&self, request_id: &str) -> FunctionResponse {
        let status = self.wait_exit().await;
        if let Some(body) = self.api.init_error().await {
            return FunctionResponse::FunctionError(body);
        }
        exit_error(request_id, &format!("Runtime exited with error: {status}"))
    }
}

fn exit_error(request_id: &str, detail: &str) -> FunctionResponse {
    FunctionResponse::FunctionError(error_body(
        "Runtime.ExitError",
        &format!("RequestId: {request_id} Error: {detail}"),
    ))
}

/// `{"errorType", "errorMessage"}` as Lambda writes it.
pub fn error_body(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string())
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(9)) => "signal: killed".to_owned(),
        (None, Some(signal)) => format!("signal: {signal}"),
        (None, None) => status.to_string(),
    }
}

fn record_pid(file: &std::path::Path, pid: u32) {
    use std::os::unix::fs::OpenOptionsExt as _;
    let opened = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(file);
    if let Ok(mut opened) = opened {
        let _ = writeln!(opened, "{pid}");
    }
}

fn open_log(spec: &RunSpec) -> Result<std::fs::File, String> {
    if let Some(dir) = spec.log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    crate::files::private_log(&spec.log).map_err(|e| format!("cannot open {}: {e}", spec.log.display()))
}

/// Appends one platform line (`START`, `END`, `REPORT`) to a function's log.
fn log_line(spec: &RunSpec, line: &str) {
    if let Ok(mut file) = open_log(spec) {
        let _ = writeln!(file, "{line}");
    }
}

/// Warm instances of one function version, at most `max_instances` at once.
#[derive(Debug)]
pub struct Pool {
    /// How the instances run.
    pub spec: RunSpec,
    idle: Mutex<Vec<Arc<Instance>>>,
    busy: Mutex<BTreeMap<String, u32>>,
    permits: Arc<Semaphore>,
    invocations: AtomicU64,
}

impl Pool {
    /// An empty pool; instances start on demand.
    pub fn new(spec: RunSpec, max_instances: usize) -> Self {
        Self {
            spec,
            idle: Mutex::new(Vec::new()),
            busy: Mutex::new(BTreeMap::new()),
            permits: Arc::new(Semaphore::new(max_instances)),
            invocations: AtomicU64::new(0),
        }
    }

    /// Invocations this pool ran.
    pub fn invocations(&self) -> u64 {
        self.invocations.load(Ordering::Relaxed)
    }

    /// Process ids of idle and busy instances.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.idle.lock().map(|i| i.iter().map(|i| i.pid).collect()).unwrap_or_default();
        if let Ok(busy) = self.busy.lock() {
            pids.extend(busy.values());
        }
        pids
    }

    /// The pid of the instance running `request_id`, if any.
    pub fn pid_of(&self, request_id: &str) -> Option<u32> {
        self.busy.lock().ok()?.get(request_id).copied()
    }

    /// Runs one invocation on a warm instance, or a new one (waiting while all allowed instances are busy).
    pub async fn invoke(&self, request_id: &str, payload: Bytes, kill_after_delivery: bool) -> FunctionResponse {
        let Ok(_permit) = self.permits.clone().acquire_owned().await else {
            return FunctionResponse::FunctionError(error_body("ServiceException", "the function is shutting down"));
        };
        let warm = self.idle.lock().ok().and_then(|mut idle| {
            idle.retain(|i| i.is_alive());
            idle.pop()
        });
        let started = Instant::now();
        let instance = match warm {
            Some(instance) => instance,
            None => match Instance::start(&self.spec).await {
                Ok(instance) => Arc::new(instance),
                Err(message) => {
                    log_line(&self.spec, &format!("deployer: {message}"));
                    return FunctionResponse::FunctionError(error_body("Runtime.InvalidEntrypoint", &message));
                }
            },
        };
        self.invocations.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut busy) = self.busy.lock() {
            busy.insert(request_id.to_owned(), instance.pid);
        }
        log_line(&self.spec, &format!("START RequestId: {request_id} Version: {}", self.spec.version));
        let outcome = instance.invoke(&self.spec, request_id, payload, kill_after_delivery).await;
        if let Ok(mut busy) = self.busy.lock() {
            busy.remove(request_id);
        }
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        log_line(&self.spec, &format!("END RequestId: {request_id}"));
        log_line(
            &self.spec,
            &format!(
                "REPORT RequestId: {request_id}\tDuration: {millis:.2} ms\tMemory Size: {} MB\tpid: {}{}",
                self.spec.memory_mb,
                instance.pid,
                if let FunctionResponse::FunctionError(body) = &outcome {
                    format!("\tError: {}", String::from_utf8_lossy(body))
                } else {
                    String::new()
                }
            ),
        );
        if instance.is_alive()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(instance);
        }
        outcome
    }
}
