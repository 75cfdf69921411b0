//! AWS's durable execution emulator (`dex-local-runner`, `PyPI` `aws-durable-execution-sdk-python-testing`) beside
//! our engine, as the differential oracle of the tests and the benchmark (built only with `test-hooks`).
//!
//! dex runs executions itself and calls our endpoint to run handlers (`X-Dex-Handler-Invoke`) and chained-invoke
//! targets; the functions of a service started with [`DURABLE_ENDPOINT_ENV`] send their checkpoints to dex.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use crate::deployment::Deployment;
use crate::error::LocalError;
use crate::http::Client;

/// Set on the service: the durable API endpoint its functions use (dex's), instead of the service itself.
pub const DURABLE_ENDPOINT_ENV: &str = "DEPLOYER_LOCAL_DURABLE_ENDPOINT";

/// A running `dex-local-runner`, stopped when dropped.
#[derive(Debug)]
pub struct Dex {
    /// Its base URL.
    pub url: String,
    /// Its log file.
    pub log: PathBuf,
    _child: tokio::process::Child,
}

/// dex's `--function-configs`: every function by name, durable ones with their `DurableConfig`.
pub fn function_configs(deployment: &Deployment) -> Value {
    let map = deployment
        .functions()
        .map(|f| {
            let config = match f.durable {
                Some(d) => json!({"DurableConfig": {
                    "ExecutionTimeout": d.execution_timeout,
                    "RetentionPeriodInDays": d.retention_days,
                }}),
                None => json!({}),
            };
            (f.name.clone(), config)
        })
        .collect();
    Value::Object(map)
}

impl Dex {
    /// Starts dex with its state in `dir` on a free loopback port (another port when one is taken meanwhile),
    /// knowing `deployment`'s functions; it invokes functions at `lambda_endpoint` once set with
    /// [`Dex::set_lambda_endpoint`].
    pub async fn start(
        runner: &Path,
        dir: &Path,
        deployment: &Deployment,
        skip_time: bool,
    ) -> Result<Self, LocalError> {
        std::fs::create_dir_all(dir).map_err(|e| LocalError::io("create", dir, e))?;
        let configs = dir.join("function-configs.json");
        std::fs::write(&configs, function_configs(deployment).to_string())
            .map_err(|e| LocalError::io("write", &configs, e))?;
        let log = dir.join("dex.log");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| LocalError::Service(format!("no free port: {e}")))?
                .port();
            let url = format!("http://127.0.0.1:{port}");
            let out = crate::files::private_log(&log).map_err(|e| LocalError::io("open", &log, e))?;
            let err = out.try_clone().map_err(|e| LocalError::io("open", &log, e))?;
            let mut command = tokio::process::Command::new(runner);
            command
                .arg("start-server")
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--lambda-endpoint", "http://127.0.0.1:9", "--local-runner-endpoint", &url])
                .args(["--local-runner-region", &deployment.region, "--store-type", "sqlite", "--store-path"])
                .arg(dir.join(format!("dex-{port}.sqlite")))
                .arg("--function-configs")
                .arg(format!("file://{}", configs.display()))
                .env("PYTHONUNBUFFERED", "1")
                .env("AWS_ACCESS_KEY_ID", "AKIALOCALTARGET00000")
                .env("AWS_SECRET_ACCESS_KEY", "local-target-not-a-secret")
                .env("AWS_DEFAULT_REGION", &deployment.region)
                .env_remove("AWS_PROFILE")
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .kill_on_drop(true);
            if skip_time {
                command.arg("--skip-time");
            }
            let mut child = command.spawn().map_err(|e| {
                LocalError::Service(format!("cannot start {}: {e}; run scripts/install-tools", runner.display()))
            })?;
            let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
            loop {
                if let Ok(answer) = Client::new().get(&format!("{url}/health"), Duration::from_secs(2)).await
                    && answer.status.is_success()
                {
                    // The answer proves something listens, not that it is this dex: another program may have taken
                    // the port between its release above and dex's bind.
                    let pid = child.id().unwrap_or_default();
                    if crate::supervisor::process::listens_on(pid, port) == Some(false) {
                        last_error = format!("another program answered on port {port}, which dex was started on");
                        let _ = child.kill().await;
                        break;
                    }
                    return Ok(Self { url, log, _child: child });
                }
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!("dex exited at start ({status}); see {}", log.display());
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    return Err(LocalError::Service(format!("dex did not answer within 60 s; see {}", log.display())));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Err(LocalError::Service(last_error))
    }

    /// Points dex's function invocations at `endpoint` (our service).
    pub async fn set_lambda_endpoint(&self, endpoint: &str, region: &str) -> Result<(), LocalError> {
        let body = json!({"EndpointUrl": endpoint, "RegionName": region}).to_string();
        let answer = Client::new()
            .call(
                Method::PUT,
                &format!("{}/lambda-endpoint", self.url),
                &[],
                Bytes::from(body),
                Duration::from_secs(10),
            )
            .await?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(LocalError::Service(format!("dex refused the endpoint: {}", String::from_utf8_lossy(&answer.body))))
        }
    }

    /// Starts an execution of `function` at `qualifier` on dex; returns its ARN.
    pub async fn start_execution(
        &self,
        deployment: &Deployment,
        function: &str,
        qualifier: &str,
        input: &str,
    ) -> Result<String, LocalError> {
        let durable = deployment.function(function).and_then(|f| f.durable).unwrap_or_default();
        let body = json!({
            "AccountId": crate::arn::LOCAL_ACCOUNT,
            "FunctionName": function,
            "FunctionQualifier": qualifier,
            "ExecutionName": uuid::Uuid::new_v4().to_string(),
            "ExecutionTimeoutSeconds": durable.execution_timeout,
            "ExecutionRetentionPeriodDays": durable.retention_days,
            "Input": input,
        });
        let answer = Client::new()
            .call(
                Method::POST,
                &format!("{}/start-durable-execution", self.url),
                &[],
                Bytes::from(body.to_string()),
                Duration::from_mins(1),
            )
            .await?;
        let value: Value = answer.json()?;
        value
            .get("ExecutionArn")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| LocalError::Service(format!("dex started no execution: {value}")))
    }
}
