//! The `--local` target's entry points: `up`, `down`, `status`, `logs`, the clients of `invoke` and friends
//! ([`connect`]), and the hidden service process. The local target itself is the `local` crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use local::{DaemonCommand, DeployRequest, LocalTarget, Notice, ServiceAction, StackTemplate};
use stacks::{AssetManifest, ResolvedAsset, StackKind, SynthesizedStack};

use crate::aws::{Aws, AwsOptions};
use crate::build::{self, BuildOutput, BuildTarget};
use crate::cli::{LocalDaemonArgs, LogsArgs, UpArgs};
use crate::error::{DeployerError, Result};
use crate::io::Event;

use super::Context;

fn target(ctx: &Context) -> LocalTarget {
    LocalTarget::new(ctx.workspace.local_state_dir())
}

fn region(ctx: &Context) -> String {
    ctx.global
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// This very binary, run with the hidden `local-daemon` subcommand: `/proc/self/exe` where it exists, so a rebuild
/// that replaced the file since we started still runs the same program.
fn daemon_command() -> Result<DaemonCommand> {
    let proc_exe = std::path::Path::new("/proc/self/exe");
    let program = if proc_exe.exists() {
        proc_exe.to_owned()
    } else {
        std::env::current_exe().map_err(|e| {
            DeployerError::Local(format!("cannot find the deployer binary to run the local service: {e}"))
        })?
    };
    Ok(DaemonCommand { program, args: vec![crate::cli::LOCAL_DAEMON.into()], env: vec![] })
}

/// `up --local`: build for this machine, deploy the app stack into the local service (starting it if needed) and
/// print its outputs and endpoint.
pub async fn up(ctx: &Context, args: &UpArgs) -> Result<()> {
    let host = ctx.host.clone();
    let target = target(ctx);
    let (stack, code) = prepare_local(ctx, &target)?;
    host.notify(Event::Stage { stage: "local".into(), message: format!("deploying {} locally", stack.stack_name) });
    let credentials = if args.no_credentials {
        None
    } else {
        let found = crate::aws::user_credentials(ctx.global.profile.as_deref()).await;
        if found.is_none() {
            host.notify(Event::Info {
                message: "no AWS credentials found: functions get placeholder keys (their calls to other AWS \
                          services fail; the Lambda and durable APIs are local)"
                    .into(),
            });
        }
        found
    };
    let request = DeployRequest {
        region: region(ctx),
        stacks: vec![StackTemplate { name: stack.stack_name.clone(), template: stack.template.clone() }],
        code,
        daemon: daemon_command()?,
        skip_time: args.skip_time,
        credentials,
    };
    let outcome = target.deploy(request).await?;
    for notice in &outcome.notices {
        let message = match notice {
            Notice::PortMoved { previous, now } => format!(
                "port {previous} of the previous run is taken by another program; the endpoint moved to port {now}"
            ),
            Notice::LegacyState(migrated) => {
                let mut text = "found the state of the earlier local target (AWS's Python emulator as engine): its \
                                deployment is carried over"
                    .to_owned();
                if let Some(kept) = &migrated.kept_at {
                    let _ = write!(
                        text,
                        "; its executions cannot move to the new engine and stay, read-only, in {} (sqlite), \
                         until `deployer down --local`",
                        kept.display()
                    );
                }
                text
            }
        };
        host.notify(Event::Warning { message });
    }
    match outcome.action {
        ServiceAction::Unchanged => host.notify(Event::NoChanges { stack: stack.stack_name.clone() }),
        ServiceAction::Reloaded => host.notify(Event::Stage {
            stage: "local".into(),
            message: format!("redeployed {} into the running local service", stack.stack_name),
        }),
        ServiceAction::Restarted => host.notify(Event::Stage {
            stage: "local".into(),
            message: "restarted the local service with the new settings; running executions carry on".into(),
        }),
        ServiceAction::Started => host.notify(Event::Stage {
            stage: "local".into(),
            message: format!("started the local service (pid {})", outcome.info.pid),
        }),
    }
    let outputs: BTreeMap<String, BTreeMap<String, String>> =
        outcome.outputs.into_iter().filter(|(name, _)| *name == stack.stack_name).collect();
    super::up::report_outputs(ctx, &outputs, args.outputs_file.as_deref())?;
    host.notify(Event::Value {
        kind: "endpoint".into(),
        text: format!(
            "Endpoint = {} (use it as --endpoint-url; logs: `deployer logs --local`)",
            outcome.info.endpoint()
        ),
    });
    Ok(())
}

/// Each `Code.S3Key` of the template with the stored binary and its SHA-256.
type CodeByKey = BTreeMap<String, (std::path::PathBuf, String)>;

/// Builds the functions for this machine and synthesizes the app stack against the binaries' hashes. No zips: the
/// local target runs the binaries themselves, so `Code.S3Key` is `<sha256 of the binary>.zip`.
fn prepare_local(ctx: &Context, target: &LocalTarget) -> Result<(SynthesizedStack, CodeByKey)> {
    let app = stacks::app::app(&ctx.app_config())?;
    let specs = app.assets();
    ctx.host.notify(Event::Stage {
        stage: "build".into(),
        message: format!("compiling {} function(s) for this machine", specs.len()),
    });
    let mut manifest = AssetManifest::new();
    let mut code = BTreeMap::new();
    for output in build::build(&ctx.workspace, &specs, BuildTarget::Host)? {
        match output {
            BuildOutput::Binary(binary) => {
                let (sha256, stored) = target.store_binary(&binary.bootstrap)?;
                let resolved = ResolvedAsset { sha256: sha256.clone() };
                code.insert(resolved.object_key(), (stored, sha256));
                manifest.0.insert(binary.asset_id, resolved);
            }
            BuildOutput::Zip { asset_id, path } => {
                return Err(DeployerError::Local(format!(
                    "asset {asset_id} is a prebuilt zip ({}); the local target runs only functions built from this \
                     workspace's cargo binaries",
                    path.display()
                )));
            }
        }
    }
    let assembly = app.synth(&manifest)?;
    let mut app_stacks = assembly.stacks.into_iter().filter(|s| s.kind == StackKind::App);
    let stack = app_stacks
        .find(|s| s.stack_name == ctx.global.stack_name)
        .ok_or_else(|| DeployerError::Local("the app synthesizes no app stack; nothing to run locally".into()))?;
    Ok((stack, code))
}

/// `down --local`: stop the service and every function process, and remove the state.
pub async fn down(ctx: &Context) -> Result<()> {
    let target = target(ctx);
    ctx.host.notify(Event::Stage { stage: "local".into(), message: "stopping the local target".into() });
    let was_running = target.down().await?;
    if was_running {
        ctx.host.notify(Event::Info {
            message: format!("local target stopped; removed {}", target.state().root.display()),
        });
    } else {
        ctx.host.notify(Event::NothingToDelete { stack: format!("{} (local)", ctx.global.stack_name) });
    }
    Ok(())
}

/// `status --local`: endpoint, processes, per-function invocation counts and executions.
pub async fn status(ctx: &Context) -> Result<()> {
    let target = target(ctx);
    let info = target.running().await?.ok_or(local::LocalError::NotRunning)?;
    let status = target.status().await?;
    let mut text = format!(
        "local target running: endpoint {} (pid {}{}); {} execution(s) stored, {} running",
        info.endpoint(),
        info.pid,
        if status.skip_time { ", time control on" } else { "" },
        status.executions,
        status.running
    );
    for (name, f) in &status.functions {
        let _ = write!(
            text,
            "\n  {name}: {} invocation(s), {} process(es){}",
            f.invocations,
            f.pids.len(),
            if f.durable { ", durable" } else { "" }
        );
    }
    ctx.host.notify(Event::Value { kind: "local_status".into(), text });
    Ok(())
}

/// `logs --local`: the function logs (one file per function).
#[expect(clippy::unused_async, reason = "every command entry point is async")]
pub async fn logs(ctx: &Context, args: &LogsArgs) -> Result<()> {
    let target = target(ctx);
    let Some(deployment) = target.deployment()? else { return Err(local::LocalError::NotRunning.into()) };
    let wanted = args.function.as_deref();
    let mut shown = 0;
    for function in deployment.functions() {
        if wanted.is_some_and(|w| w != function.name && w != function.logical_id) {
            continue;
        }
        let path = target.state().function_log(&function.name);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        ctx.host.notify(Event::Value {
            kind: "log".into(),
            text: format!("==> {} ({}) <==\n{}", function.name, path.display(), text.trim_end()),
        });
        shown += 1;
    }
    if shown == 0 {
        let names: Vec<&str> = deployment.functions().map(|f| f.logical_id.as_str()).collect();
        return Err(DeployerError::Usage(format!(
            "no function {} in the local stack; choose one of: {}",
            wanted.unwrap_or_default(),
            names.join(", ")
        )));
    }
    Ok(())
}

/// The hidden service process: serves until stopped.
pub async fn daemon(args: &LocalDaemonArgs) -> Result<()> {
    local::supervisor::daemon::run(local::supervisor::StateDir::new(args.state_dir.clone())).await.map_err(Into::into)
}

/// Clients pointed at the local endpoint, and the local stack's outputs.
pub async fn connect(ctx: &Context) -> Result<(Aws, BTreeMap<String, String>)> {
    let target = target(ctx);
    let Some(info) = target.running().await? else { return Err(local::LocalError::NotRunning.into()) };
    let deployment = target.deployment()?.ok_or(local::LocalError::NotRunning)?;
    let outputs = deployment.stacks.get(&ctx.global.stack_name).map(|s| s.outputs.clone()).unwrap_or_default();
    let options = AwsOptions {
        profile: None,
        region: Some(deployment.region.clone()),
        endpoint_url: Some(info.endpoint()),
        static_credentials: Some(("AKIALOCALTARGET00000".to_owned(), "local-target-not-a-secret".to_owned())),
    };
    let aws = Aws::connect(&options).await?;
    Ok((aws, outputs))
}
