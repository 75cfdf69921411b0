//! `up --watch`: after the first deployment, watch the sources of the functions the selected stacks declare and, on
//! every saved change, rebuild only the binaries built from the changed files and redeploy them: into the running
//! local target (`--local`), or to AWS as `up --hotswap` does (function code through the Lambda API, anything else
//! through CloudFormation), as `cdk watch` does.
//!
//! Each cycle is a few lines: the change seen, cargo's own output (errors with file and line), then the build and
//! deployment times with each function's new version. A build that fails leaves the deployment as it was, so the
//! previous version keeps serving; the binary is retried with the next change. The stacks themselves (the app's
//! code) are read once, when the watch starts.

mod sources;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use constructs::{AssetSource, AssetSpec};

use self::sources::{Binary, Snapshot};
use crate::app::Selection;
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::io::Event;
use crate::target::aws::AwsTarget;
use crate::target::local::{LocalSession, LocalTarget};
use crate::target::{TargetContext, UpOptions};

/// Where each change is deployed.
pub(crate) enum Redeploy<'a> {
    /// Into the running local target, with what the first `up --local` built.
    Local(&'a LocalTarget, LocalSession),
    /// To AWS, as `up --hotswap` (the options must ask for it).
    Aws(&'a AwsTarget),
}

/// How often the sources are read: short against the build it triggers, and cheap (a few dozen small files).
const POLL_EVERY: Duration = Duration::from_millis(100);

/// Watches until Ctrl-C, redeploying each change as `redeploy` says.
pub(crate) async fn run(
    ctx: &TargetContext,
    redeploy: Redeploy<'_>,
    selection: &Selection,
    args: &UpOptions,
) -> Result<()> {
    let (local, session) = match redeploy {
        Redeploy::Local(local, session) => (local, session),
        Redeploy::Aws(aws) => return run_aws(ctx, aws, selection, args).await,
    };
    let LocalSession { credentials, mut built } = session;
    let interrupt = Interrupt::listen(|| {});
    let assets = selection.assets();
    let watched = binaries(&assets);
    let mut seen = Snapshot::take(&ctx.workspace, &watched)?;
    ctx.host.notify(Event::WatchStarted {
        binaries: watched.iter().map(|(_, binary)| binary.clone()).collect(),
        files: seen.file_count(),
    });
    // Binaries whose last build failed: built again with the next change, whatever it touches.
    let mut failed: BTreeSet<Binary> = BTreeSet::new();
    let mut unreadable: Option<String> = None;
    loop {
        tokio::select! {
            () = interrupt.requested() => break,
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
        let now = match Snapshot::take(&ctx.workspace, &watched) {
            Ok(now) => now,
            Err(error) => {
                // A folder removed or renamed mid-save: said once, then read again at the next poll.
                let message = error.to_string();
                if unreadable.as_ref() != Some(&message) {
                    ctx.host.notify(Event::Warning { message: format!("cannot read the sources: {message}") });
                    unreadable = Some(message);
                }
                continue;
            }
        };
        unreadable = None;
        let change = seen.change(&now);
        seen = now;
        if change.files.is_empty() {
            continue;
        }
        let mut rebuild = change.binaries;
        rebuild.append(&mut failed);
        ctx.host.notify(change_seen(ctx, &change.files, &rebuild));
        let chosen: Vec<AssetSpec> =
            assets.iter().filter(|a| binary_of(a).is_some_and(|b| rebuild.contains(&b))).cloned().collect();
        let started = Instant::now();
        let stacks = match local.prepare(ctx, selection, &chosen, &mut built, false) {
            Ok(stacks) => stacks,
            Err(error) => {
                if interrupt.is_requested() {
                    break;
                }
                ctx.host.notify(Event::WatchBuildFailed { message: error.to_string() });
                failed = rebuild;
                continue;
            }
        };
        if interrupt.is_requested() {
            // Ctrl-C sent to this process alone lets the build finish; what it built is left undeployed.
            break;
        }
        let build_seconds = started.elapsed().as_secs_f64();
        let deployed = Instant::now();
        let outcome = match local.deploy(ctx, args, credentials.as_ref(), &stacks, &built, false).await {
            Ok(outcome) => outcome,
            Err(error) => {
                ctx.host.notify(Event::WatchBuildFailed { message: error.to_string() });
                continue;
            }
        };
        let deploy_seconds = deployed.elapsed().as_secs_f64();
        let versions = if outcome.changed.is_empty() { Vec::new() } else { local.versions(&outcome.changed).await? };
        ctx.host.notify(Event::WatchDeployed { build_seconds, deploy_seconds, versions });
    }
    ctx.host.notify(Event::WatchStopped);
    Ok(())
}

/// The watch on AWS: each change is an `up --hotswap`, which builds what changed and says what it swapped.
async fn run_aws(ctx: &TargetContext, aws: &AwsTarget, selection: &Selection, args: &UpOptions) -> Result<()> {
    let interrupt = Interrupt::listen(|| {});
    let watched = binaries(&selection.assets());
    let mut seen = Snapshot::take(&ctx.workspace, &watched)?;
    ctx.host.notify(Event::WatchStarted {
        binaries: watched.iter().map(|(_, binary)| binary.clone()).collect(),
        files: seen.file_count(),
    });
    loop {
        tokio::select! {
            () = interrupt.requested() => break,
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
        // A folder removed or renamed mid-save: read again at the next poll.
        let Ok(now) = Snapshot::take(&ctx.workspace, &watched) else { continue };
        let change = seen.change(&now);
        seen = now;
        if change.files.is_empty() {
            continue;
        }
        ctx.host.notify(change_seen(ctx, &change.files, &change.binaries));
        let started = Instant::now();
        match aws.up(ctx, selection, args).await {
            Ok(()) => ctx.host.notify(Event::WatchUpdated { seconds: started.elapsed().as_secs_f64() }),
            Err(_) if interrupt.is_requested() => break,
            // A build error or a refused deployment: what runs in AWS stays as it was; the next save tries again.
            Err(error) => ctx.host.notify(Event::WatchBuildFailed { message: error.to_string() }),
        }
    }
    ctx.host.notify(Event::WatchStopped);
    Ok(())
}

/// The line a change gets: its files, relative to the workspace, and the binaries rebuilt for it.
fn change_seen(ctx: &TargetContext, files: &[std::path::PathBuf], binaries: &BTreeSet<Binary>) -> Event {
    Event::WatchChange {
        files: files.iter().map(|f| f.strip_prefix(&ctx.workspace.root).unwrap_or(f).display().to_string()).collect(),
        binaries: binaries.iter().map(|(_, binary)| binary.clone()).collect(),
    }
}

/// The cargo binary an asset runs, if it is built from the workspace.
fn binary_of(asset: &AssetSpec) -> Option<Binary> {
    match &asset.source {
        AssetSource::CargoBinary { package, binary } => Some((package.clone(), binary.clone())),
        AssetSource::Zip { .. } => None,
    }
}

/// The distinct cargo binaries of `assets`.
fn binaries(assets: &[AssetSpec]) -> BTreeSet<Binary> {
    assets.iter().filter_map(binary_of).collect()
}
