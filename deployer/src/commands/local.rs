//! The `--local` target's entry points (placeholder until the local target lands).

use std::collections::BTreeMap;

use crate::aws::Aws;
use crate::cli::{LocalDaemonArgs, LogsArgs, UpArgs};
use crate::error::{DeployerError, Result};

use super::Context;

fn unavailable() -> DeployerError {
    DeployerError::Local("the local target is not available in this build".into())
}

/// `up --local`.
pub async fn up(_ctx: &Context, _args: &UpArgs) -> Result<()> {
    Err(unavailable())
}

/// `down --local`.
pub async fn down(_ctx: &Context) -> Result<()> {
    Err(unavailable())
}

/// `status --local`.
pub async fn status(_ctx: &Context) -> Result<()> {
    Err(unavailable())
}

/// `logs --local`.
pub async fn logs(_ctx: &Context, _args: &LogsArgs) -> Result<()> {
    Err(unavailable())
}

/// The hidden daemon.
pub async fn daemon(_args: &LocalDaemonArgs) -> Result<()> {
    Err(unavailable())
}

/// Clients pointed at the local endpoint, and the local stack's outputs.
pub async fn connect(_ctx: &Context) -> Result<(Aws, BTreeMap<String, String>)> {
    Err(unavailable())
}
