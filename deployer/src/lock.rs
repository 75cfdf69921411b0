//! One deployment per stack at a time on this machine: a second `up` or `down` is refused instead of racing.
//!
//! The lock is an advisory file lock held for the command's lifetime. The operating system releases it when the
//! process ends, however it ends, so a crash or Ctrl-C never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::error::{DeployerError, Result};

/// Opens `path` (created if missing) and takes an exclusive OS lock on it, calling `on_wait` first when another
/// process holds it and then waiting for it. The lock lasts as long as the returned file.
pub(crate) fn wait_exclusive(path: &Path, on_wait: impl FnOnce()) -> std::io::Result<File> {
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    if file.try_lock().is_err() {
        on_wait();
        file.lock()?;
    }
    Ok(file)
}

/// A held deployment lock; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct DeployLock {
    _file: File,
}

/// Takes the lock for `stack` in `dir`, or explains who holds it.
pub(crate) fn acquire(dir: &Path, stack: &str) -> Result<DeployLock> {
    std::fs::create_dir_all(dir).map_err(|e| DeployerError::io("create", dir, e))?;
    let path = dir.join(format!("{stack}.lock"));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| DeployerError::io("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(DeployerError::Conflict {
                what: format!(
                    "another deployment of stack {stack} is running on this machine ({})",
                    if holder.trim().is_empty() { "holder unknown".to_owned() } else { holder.trim().to_owned() }
                ),
                remedy: "wait for it to finish, then run the command again".to_owned(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(DeployerError::io("lock", &path, e)),
    }
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "pid {}", std::process::id());
    Ok(DeployLock { _file: file })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "app").unwrap();
        let error = acquire(dir.path(), "app").unwrap_err().to_string();
        assert!(error.contains("another deployment of stack app"), "{error}");
        assert!(error.contains(&format!("pid {}", std::process::id())), "{error}");
        drop(first);
        assert!(acquire(dir.path(), "app").is_ok(), "released on drop");
        assert!(acquire(dir.path(), "other").is_ok(), "stacks lock independently");
    }
}
