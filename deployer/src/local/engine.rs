//! The durable engine: AWS's emulator `dex-local-runner` (`PyPI` `aws-durable-execution-sdk-python-testing`),
//! installed once into a project-local virtualenv and run on a loopback port with a sqlite store.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::LocalError;
use super::http::Client;

/// The `PyPI` package that ships the engine.
pub const PACKAGE: &str = "aws-durable-execution-sdk-python-testing";
/// The pinned version.
pub const VERSION: &str = "1.4.0";
/// The oldest Python the engine supports.
pub const MIN_PYTHON: (u32, u32) = (3, 11);

/// Where the engine's virtualenv lives under the tools folder.
pub fn venv_dir(tools_dir: &Path) -> PathBuf {
    tools_dir.join("dex-venv")
}

/// The `dex-local-runner` executable of an installed virtualenv.
pub fn runner(tools_dir: &Path) -> PathBuf {
    venv_dir(tools_dir).join("bin").join("dex-local-runner")
}

fn marker(tools_dir: &Path) -> PathBuf {
    venv_dir(tools_dir).join(".deployer-installed")
}

/// Whether the pinned engine is installed.
pub fn is_installed(tools_dir: &Path) -> bool {
    runner(tools_dir).is_file()
        && std::fs::read_to_string(marker(tools_dir)).is_ok_and(|m| m.trim() == format!("{PACKAGE}=={VERSION}"))
}

/// Installs the engine on first use, reporting each step through `progress`; returns the runner's path.
/// The Python is `DEPLOYER_PYTHON`, else `python3`.
pub fn ensure_installed(tools_dir: &Path, progress: &dyn Fn(String)) -> Result<PathBuf, LocalError> {
    let python = std::env::var("DEPLOYER_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    ensure_installed_with(tools_dir, &python, progress)
}

/// [`ensure_installed`] with an explicit Python.
pub fn ensure_installed_with(tools_dir: &Path, python: &str, progress: &dyn Fn(String)) -> Result<PathBuf, LocalError> {
    if is_installed(tools_dir) {
        return Ok(runner(tools_dir));
    }
    // Two deployers installing at once would recreate each other's virtualenv (and a failed one removes it): the
    // second waits for the first under an OS file lock, released however the first ends, then finds it installed.
    std::fs::create_dir_all(tools_dir).map_err(|e| LocalError::io("create", tools_dir, &e))?;
    // The virtualenv's scripts start with the path it was created at: through a symlink that may go away (another
    // checkout sharing this folder), they would stop starting. Create it at the real path.
    let tools_dir = &std::fs::canonicalize(tools_dir).map_err(|e| LocalError::io("resolve", tools_dir, &e))?;
    let lock_path = tools_dir.join("install.lock");
    let _lock = crate::lock::wait_exclusive(&lock_path, || {
        progress("another deployer is installing the durable engine; waiting for it".to_owned());
    })
    .map_err(|e| LocalError::io("lock", &lock_path, &e))?;
    if is_installed(tools_dir) {
        return Ok(runner(tools_dir));
    }
    let python = python.to_owned();
    let version = python_version(&python)?;
    let venv = venv_dir(tools_dir);
    progress(format!(
        "installing the durable engine ({PACKAGE}=={VERSION}) into {} with {python} {}.{}; this happens once",
        venv.display(),
        version.0,
        version.1
    ));
    let result = install(&python, &venv, progress);
    if result.is_err() {
        // A half-made virtualenv would be mistaken for a working one next time.
        let _ = std::fs::remove_dir_all(&venv);
    }
    result?;
    std::fs::write(marker(tools_dir), format!("{PACKAGE}=={VERSION}\n"))
        .map_err(|e| LocalError::io("write", &marker(tools_dir), &e))?;
    progress("durable engine installed".to_owned());
    Ok(runner(tools_dir))
}

fn python_version(python: &str) -> Result<(u32, u32), LocalError> {
    let need = format!("{}.{}", MIN_PYTHON.0, MIN_PYTHON.1);
    let output = Command::new(python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .map_err(|e| {
            LocalError::Python(format!(
                "cannot run `{python}` ({e}): the local target runs AWS's durable execution emulator, which needs \
                 Python >= {need}; install it (e.g. `apt-get install python3 python3-venv`) or set DEPLOYER_PYTHON to \
                 a Python >= {need}"
            ))
        })?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let parsed = text.split_once('.').and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
    match parsed {
        Some(version) if version >= MIN_PYTHON => Ok(version),
        Some((major, minor)) => Err(LocalError::Python(format!(
            "`{python}` is Python {major}.{minor}, but the durable engine needs Python >= {need}; install a newer \
             Python and set DEPLOYER_PYTHON to it"
        ))),
        None => Err(LocalError::Python(format!(
            "`{python}` did not report its version ({text:?}); set DEPLOYER_PYTHON to a Python >= {need}"
        ))),
    }
}

fn install(python: &str, venv: &Path, progress: &dyn Fn(String)) -> Result<(), LocalError> {
    let status = Command::new(python)
        .args(["-m", "venv"])
        .arg(venv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| LocalError::Engine(format!("cannot run `{python} -m venv`: {e}")))?;
    if !status.status.success() {
        return Err(LocalError::Engine(format!(
            "`{python} -m venv {}` failed: {}; install the venv module (e.g. `apt-get install python3-venv`)",
            venv.display(),
            String::from_utf8_lossy(&status.stderr).trim()
        )));
    }
    progress("virtualenv created; installing packages with pip".to_owned());
    let mut child = Command::new(venv.join("bin").join("python"))
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"])
        .arg(format!("{PACKAGE}=={VERSION}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| LocalError::Engine(format!("cannot run pip in {}: {e}", venv.display())))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let line = line.trim();
            if ["Collecting", "Downloading", "Installing", "Successfully"].iter().any(|p| line.starts_with(p)) {
                progress(format!("pip: {line}"));
            }
        }
    }
    let output = child.wait_with_output().map_err(|e| LocalError::Engine(format!("pip did not finish: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(LocalError::Engine(format!(
            "pip could not install {PACKAGE}=={VERSION}: {}; check that PyPI is reachable (or a wheel is in PIP_FIND_LINKS) \
             and run `deployer up --local` again",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// A running engine: one we started, or one a crashed daemon left running and a new daemon adopted.
#[derive(Debug)]
pub struct Engine {
    child: Option<tokio::process::Child>,
    /// Its process id.
    pub pid: u32,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Engine {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Adopts the engine a crashed daemon left running, when it is alive and answers its health route: its
    /// in-memory scheduler still holds the executions in flight, which a restarted engine would not resume.
    pub async fn adopt(pid: u32, port: u16, state: &super::state::StateDir) -> Option<Self> {
        if !super::control::is_alive(pid) || !super::control::is_ours(pid, state) {
            return None;
        }
        let health = Client::new().get(&format!("http://127.0.0.1:{port}/health"), Duration::from_secs(5)).await;
        health.is_ok_and(|r| r.status.is_success()).then_some(Self { child: None, pid, port })
    }

    /// Points the engine at the Lambda endpoint (an adopted engine may know an older one).
    pub async fn set_lambda_endpoint(&self, endpoint: &str, region: &str) -> Result<(), LocalError> {
        let body = serde_json::json!({"EndpointUrl": endpoint, "RegionName": region});
        let mut request = super::http::build(
            hyper::Method::PUT,
            &format!("{}/lambda-endpoint", self.url()),
            bytes::Bytes::from(body.to_string()),
        )?;
        request
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
        let received = Client::new().send(request, Duration::from_secs(10)).await?;
        if received.status.is_success() {
            Ok(())
        } else {
            Err(LocalError::Engine(format!(
                "the engine refused the endpoint {endpoint}: {}",
                String::from_utf8_lossy(&received.body)
            )))
        }
    }

    /// Resolves when the engine process has ended.
    pub async fn exited(&mut self) {
        match &mut self.child {
            Some(child) => {
                let _ = child.wait().await;
            }
            None => {
                while super::control::is_alive(self.pid) {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Stops the engine and waits for it to end.
    pub async fn stop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.start_kill();
            let _ = child.wait().await;
        } else {
            super::control::kill_pid(self.pid);
            for _ in 0..50 {
                if !super::control::is_alive(self.pid) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Picks a free loopback port.
pub fn free_port() -> Result<u16, LocalError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| LocalError::Engine(format!("no free loopback port: {e}")))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| LocalError::Engine(e.to_string()))
}

/// Starts the engine with its state in `dir`, invoking functions at `lambda_endpoint`, and waits until it is
/// healthy.
pub async fn start(
    runner: &Path,
    dir: &Path,
    lambda_endpoint: &str,
    region: &str,
    function_configs: &serde_json::Value,
) -> Result<Engine, LocalError> {
    std::fs::create_dir_all(dir).map_err(|e| LocalError::io("create", dir, &e))?;
    let configs = dir.join("function-configs.json");
    std::fs::write(&configs, function_configs.to_string()).map_err(|e| LocalError::io("write", &configs, &e))?;
    let log_path = dir.join("engine.log");
    let (log, err_log) = super::append_log(&log_path)?;
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let child = tokio::process::Command::new(runner)
        .arg("start-server")
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--lambda-endpoint", lambda_endpoint, "--local-runner-endpoint", &url, "--local-runner-region", region])
        .args(["--store-type", "sqlite", "--store-path"])
        .arg(dir.join("executions.sqlite"))
        .arg("--function-configs")
        .arg(format!("file://{}", configs.display()))
        .current_dir(dir)
        .env("PYTHONUNBUFFERED", "1")
        // The engine calls the local endpoint with boto3, which signs requests: dummy keys, never the user's.
        .env("AWS_ACCESS_KEY_ID", "AKIALOCALTARGET00000")
        .env("AWS_SECRET_ACCESS_KEY", "local-target-not-a-secret")
        .env("AWS_DEFAULT_REGION", region)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            LocalError::Engine(format!(
                "cannot start {}: {e}; run `deployer down --local` and try again",
                runner.display()
            ))
        })?;
    let pid = child.id().unwrap_or_default();
    let mut engine = Engine { child: Some(child), pid, port };
    let client = Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    loop {
        if let Ok(received) = client.get(&format!("{url}/health"), Duration::from_secs(2)).await
            && received.status.is_success()
        {
            return Ok(engine);
        }
        if let Some(Ok(Some(status))) = engine.child.as_mut().map(tokio::process::Child::try_wait) {
            return Err(LocalError::Engine(format!(
                "the durable engine exited at start ({status}); its log {} ends with:\n{}",
                log_path.display(),
                tail(&log_path, 15)
            )));
        }
        if tokio::time::Instant::now() > deadline {
            engine.stop().await;
            return Err(LocalError::Engine(format!(
                "the durable engine did not become healthy within 60 s; see {}",
                log_path.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The last `lines` lines of a file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_old_python_is_a_clear_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let error = ensure_installed_with(dir.path(), "/no/such/python3", &|_| {}).unwrap_err().to_string();
        assert!(error.contains("cannot run `/no/such/python3`") && error.contains("Python >= 3.11"), "{error}");
        let old = dir.path().join("python3.9");
        std::fs::write(&old, "#!/bin/sh\necho 3.9\n").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = ensure_installed_with(dir.path(), &old.display().to_string(), &|_| {}).unwrap_err().to_string();
        assert!(error.contains("is Python 3.9") && error.contains("needs Python >= 3.11"), "{error}");
        assert!(!venv_dir(dir.path()).exists(), "nothing is installed");
    }
}
