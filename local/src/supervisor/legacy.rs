//! A state folder left by the earlier local target, which ran AWS's Python emulator as its engine: its deployment
//! is carried over (same stacks, same version numbers); its engine is stopped and its execution store set aside,
//! because those executions were never this engine's.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::process;
use super::state::StateDir;
use crate::deployment::{DeployedFunction, Deployment, StackDeployment};
use crate::error::LocalError;
use crate::files::read_json;

/// The earlier single-stack `deployment.json`.
#[derive(Debug, Deserialize)]
struct OldDeployment {
    stack: String,
    region: String,
    functions: BTreeMap<String, DeployedFunction>,
    version_numbers: BTreeMap<String, u64>,
    outputs: BTreeMap<String, String>,
}

/// What was done with an earlier local target's state, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// Where its execution store now is.
    pub kept_at: Option<std::path::PathBuf>,
    /// Whether its deployment was carried over.
    pub deployment: bool,
}

/// Recognises and converts an earlier local target's state; `None` when there is none.
pub(super) fn migrate(state: &StateDir) -> Result<Option<Migrated>, LocalError> {
    let old_daemon: Option<serde_json::Value> = read_json(&state.daemon_file()).ok().flatten();
    let engine_pid = old_daemon.as_ref().and_then(|d| d.get("engine_pid")).and_then(serde_json::Value::as_u64);
    let engine_dir = state.legacy_engine_dir();
    let old_deployment: Option<OldDeployment> =
        std::fs::read(state.deployment_file()).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if engine_pid.is_none() && !engine_dir.exists() && old_deployment.is_none() {
        return Ok(None);
    }
    if let Some(daemon) = &old_daemon {
        for key in ["pid", "engine_pid"] {
            if let Some(pid) = daemon.get(key).and_then(serde_json::Value::as_u64).and_then(|p| u32::try_from(p).ok())
                && process::is_ours(pid, &state.root)
            {
                process::kill(pid);
            }
        }
        let _ = std::fs::remove_file(state.daemon_file());
    }
    let kept_at = if engine_dir.exists() {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let kept = state.root.join(format!("legacy-dex-engine-{stamp}"));
        std::fs::rename(&engine_dir, &kept).map_err(|e| LocalError::io("move", &engine_dir, e))?;
        Some(kept)
    } else {
        None
    };
    let deployment = match old_deployment {
        Some(old) => {
            let functions = old
                .functions
                .into_iter()
                .map(|(name, mut f)| {
                    f.stack.clone_from(&old.stack);
                    (name, f)
                })
                .collect();
            let stack = StackDeployment {
                stack: old.stack,
                functions,
                version_numbers: old.version_numbers,
                outputs: old.outputs,
                resources: Vec::new(),
            };
            state.write_deployment(&Deployment::new(&old.region).with_stack(stack))?;
            true
        }
        None => false,
    };
    Ok(Some(Migrated { kept_at, deployment }))
}
