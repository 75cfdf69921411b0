//! The local target's state folder: where the deployment, the daemon's pid and port, logs, function binaries and
//! the engine's store live.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::LocalError;

/// The layout of `<root>/.deployer/local`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    /// The folder itself.
    pub root: PathBuf,
}

/// What a running daemon wrote about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonInfo {
    /// The daemon's process id (also its process group id).
    pub pid: u32,
    /// The port of the local Lambda endpoint on 127.0.0.1.
    pub port: u16,
    /// The engine's process id.
    pub engine_pid: u32,
    /// The engine's port on 127.0.0.1.
    pub engine_port: u16,
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

    /// `daemon.json`: the running daemon's pid and ports.
    pub fn daemon_file(&self) -> PathBuf {
        self.root.join("daemon.json")
    }

    /// `daemon.log`: the daemon's own log.
    pub fn daemon_log(&self) -> PathBuf {
        self.root.join("daemon.log")
    }

    /// `logs/`: one log file per function.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The log file of one function.
    pub fn function_log(&self, function: &str) -> PathBuf {
        self.logs_dir().join(format!("{function}.log"))
    }

    /// `code/`: function binaries, by content hash, so rebuilds never touch a running binary.
    pub fn code_dir(&self) -> PathBuf {
        self.root.join("code")
    }

    /// `engine/`: the engine's sqlite store, function configurations and log.
    pub fn engine_dir(&self) -> PathBuf {
        self.root.join("engine")
    }

    /// The daemon info, when a daemon wrote one.
    pub fn read_daemon(&self) -> Result<Option<DaemonInfo>, LocalError> {
        read_json(&self.daemon_file())
    }

    /// Writes a JSON file atomically (temporary file, then rename).
    pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), LocalError> {
        let text = serde_json::to_vec_pretty(value)
            .map_err(|e| LocalError::State(format!("cannot encode {}: {e}", path.display())))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| LocalError::io("create", parent, &e))?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| LocalError::io("write", &tmp, &e))?;
        std::fs::rename(&tmp, path).map_err(|e| LocalError::io("write", path, &e))
    }

    /// Copies a binary whose SHA-256 is `sha256` into `code/<sha256>/bootstrap` (once) and returns the copy's path.
    pub fn store_binary(&self, bootstrap: &Path, sha256: &str) -> Result<PathBuf, LocalError> {
        let dir = self.code_dir().join(sha256);
        let target = dir.join("bootstrap");
        if !target.is_file() {
            std::fs::create_dir_all(&dir).map_err(|e| LocalError::io("create", &dir, &e))?;
            let tmp = dir.join("bootstrap.tmp");
            std::fs::copy(bootstrap, &tmp).map_err(|e| LocalError::io("copy", bootstrap, &e))?;
            set_executable(&tmp)?;
            std::fs::rename(&tmp, &target).map_err(|e| LocalError::io("write", &target, &e))?;
        }
        Ok(target)
    }

    /// The SHA-256 of a binary. Hashing a debug build takes seconds, and a restart after a crash must be quick:
    /// when the binary is byte-identical to the copy stored last time for the same path, that copy's hash is
    /// reused (comparing bytes is a `memcmp`).
    pub fn binary_sha256(&self, path: &Path) -> Result<String, LocalError> {
        use sha2::Digest;
        let bytes = std::fs::read(path).map_err(|e| LocalError::io("read", path, &e))?;
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
        Self::write_json(&cache_file, &cache)?;
        Ok(sha)
    }

    /// Removes the whole state folder.
    pub fn remove(&self) -> Result<(), LocalError> {
        match std::fs::remove_dir_all(&self.root) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(LocalError::io("remove", &self.root, &e)),
        }
    }
}

/// Reads a JSON file; `None` when it does not exist.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, LocalError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            LocalError::State(format!(
                "{} is corrupt ({e}); run `deployer down --local` to reset the local target",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LocalError::io("read", path, &e)),
    }
}

fn set_executable(path: &Path) -> Result<(), LocalError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| LocalError::io("chmod", path, &e))
}
