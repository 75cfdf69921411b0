//! The state folder, `<workspace>/.deployer/local` (0700): what is deployed, the running service's pid and port,
//! the control secret, logs, function binaries and the execution store.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::deployment::Deployment;
use crate::error::LocalError;
use crate::files::{read_json, write_json};

/// The layout of the state folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    /// The folder itself.
    pub root: PathBuf,
}

/// What a running service wrote about itself (`daemon.json`; people and scripts read its `pid` and `port`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonInfo {
    /// The service's process id (also its process group id).
    pub pid: u32,
    /// The port of the endpoint on 127.0.0.1.
    pub port: u16,
    /// This run's random id, which the health route answers with.
    #[serde(default)]
    pub instance: String,
}

impl DaemonInfo {
    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl StateDir {
    /// The state folder at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `deployment.json`: what is deployed.
    pub fn deployment_file(&self) -> PathBuf {
        self.root.join("deployment.json")
    }

    /// `clock.json`: a manual clock's time at its last move.
    pub fn clock_file(&self) -> PathBuf {
        self.root.join("clock.json")
    }

    /// `daemon.json`: the running service's pid and port.
    pub fn daemon_file(&self) -> PathBuf {
        self.root.join("daemon.json")
    }

    /// `daemon-request.json`: how the service was asked to run.
    pub fn request_file(&self) -> PathBuf {
        self.root.join("daemon-request.json")
    }

    /// `daemon.log`: the service's own log.
    pub fn daemon_log(&self) -> PathBuf {
        self.root.join("daemon.log")
    }

    /// `secret`: the control API's secret.
    pub fn secret_file(&self) -> PathBuf {
        self.root.join("secret")
    }

    /// `processes`: ids of the function processes started, for the cleanup after a crash.
    pub fn pid_file(&self) -> PathBuf {
        self.root.join("processes")
    }

    /// `executions.db`: the engine's store.
    pub fn store_file(&self) -> PathBuf {
        self.root.join("executions.db")
    }

    /// `logs/`: one log file per function.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The log file of one function.
    pub fn function_log(&self, function: &str) -> PathBuf {
        self.logs_dir().join(format!("{function}.log"))
    }

    /// `code/`: function binaries by content hash, so a rebuild never touches a running binary.
    pub fn code_dir(&self) -> PathBuf {
        self.root.join("code")
    }

    /// `engine/`: where the earlier, dex-based local target kept its engine and store.
    pub fn legacy_engine_dir(&self) -> PathBuf {
        self.root.join("engine")
    }

    /// The service's self-description, when one was written.
    pub fn read_daemon(&self) -> Result<Option<DaemonInfo>, LocalError> {
        read_json(&self.daemon_file())
    }

    /// What is deployed, when anything is.
    pub fn read_deployment(&self) -> Result<Option<Deployment>, LocalError> {
        read_json(&self.deployment_file())
    }

    /// Writes what is deployed.
    pub fn write_deployment(&self, deployment: &Deployment) -> Result<(), LocalError> {
        write_json(&self.deployment_file(), deployment)
    }

    /// The control secret, created (readable by the user alone) when missing.
    pub fn secret(&self) -> Result<String, LocalError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = self.secret_file();
        if let Ok(secret) = std::fs::read_to_string(&path)
            && !secret.trim().is_empty()
        {
            return Ok(secret.trim().to_owned());
        }
        let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| LocalError::io("create", &path, e))?;
        file.write_all(secret.as_bytes()).map_err(|e| LocalError::io("write", &path, e))?;
        Ok(secret)
    }

    /// Copies a binary whose SHA-256 is `sha256` into `code/<sha256>/bootstrap` (once); returns the copy's path.
    pub fn store_binary(&self, bootstrap: &Path, sha256: &str) -> Result<PathBuf, LocalError> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = self.code_dir().join(sha256);
        let target = dir.join("bootstrap");
        if !target.is_file() {
            std::fs::create_dir_all(&dir).map_err(|e| LocalError::io("create", &dir, e))?;
            // Two deployments may store the same binary at once: they take turns only afterwards, on the lock.
            let tmp = crate::files::temporary_beside(&target);
            std::fs::copy(bootstrap, &tmp).map_err(|e| LocalError::io("copy", bootstrap, e))?;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| LocalError::io("chmod", &tmp, e))?;
            std::fs::rename(&tmp, &target).map_err(|e| LocalError::io("write", &target, e))?;
        }
        Ok(target)
    }

    /// The SHA-256 of a binary. Hashing a debug build takes a while and a restart after a crash must be quick:
    /// when the binary is byte-identical to the copy stored last time for the same path, that copy's hash is
    /// reused (comparing bytes is a `memcmp`).
    pub fn binary_sha256(&self, path: &Path) -> Result<String, LocalError> {
        use sha2::Digest;
        let bytes = std::fs::read(path).map_err(|e| LocalError::io("read", path, e))?;
        let cache_file = self.code_dir().join("hashes.json");
        let mut cache: std::collections::BTreeMap<String, String> =
            read_json(&cache_file).ok().flatten().unwrap_or_default();
        let key = path.display().to_string();
        if let Some(sha) = cache.get(&key) {
            let stored = self.code_dir().join(sha).join("bootstrap");
            if std::fs::read(&stored).is_ok_and(|copy| copy == bytes) {
                return Ok(sha.clone());
            }
        }
        let sha = hex::encode(sha2::Sha256::digest(&bytes));
        cache.insert(key, sha.clone());
        std::fs::create_dir_all(self.code_dir()).map_err(|e| LocalError::io("create", &self.code_dir(), e))?;
        write_json(&cache_file, &cache)?;
        Ok(sha)
    }

    /// Removes the whole state folder.
    pub fn remove(&self) -> Result<(), LocalError> {
        match std::fs::remove_dir_all(&self.root) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(LocalError::io("remove", &self.root, e)),
        }
    }
}
