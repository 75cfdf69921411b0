//! File helpers of the state folder: private permissions (it holds payloads, results and logs) and atomic JSON.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::LocalError;

/// Creates `dir` (and its missing parents) readable by the user alone, and narrows it if it already exists.
pub(crate) fn private_dir(dir: &Path) -> Result<(), LocalError> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| LocalError::io("create", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| LocalError::io("chmod", dir, e))
}

/// Opens a file for appending, created readable by the user alone.
pub(crate) fn private_log(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)
}

/// A temporary path beside `path` that no other writer uses: two deployments may write the same file at once
/// (storing a binary, its hash cache), and with a shared temporary name one renames the other's away mid-write.
pub(crate) fn temporary_beside(path: &Path) -> std::path::PathBuf {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{name}.tmp-{}-{write}", std::process::id()))
}

/// Writes a JSON file atomically (temporary file, then rename), readable by the user alone.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), LocalError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| LocalError::State(format!("cannot encode {}: {e}", path.display())))?;
    let tmp = temporary_beside(path);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| LocalError::io("write", &tmp, e))?;
    file.write_all(&text).map_err(|e| LocalError::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| LocalError::io("write", path, e))
}

/// Reads a JSON file; `None` when it does not exist.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, LocalError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            LocalError::State(format!(
                "{} is unreadable ({e}); run `deployer down --local` to reset the local target",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LocalError::io("read", path, e)),
    }
}

/// Opens (creating it) a file whose OS lock guards something in the state folder; the lock is taken by the caller.
pub(crate) fn lock_file(path: &Path) -> Result<std::fs::File, LocalError> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| LocalError::io("open", path, e))
}
