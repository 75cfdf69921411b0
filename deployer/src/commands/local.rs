//! The `--local` target's entry points: `up`, `down`, `status`, `logs`, `invoke` (through [`connect`]) and the
//! hidden daemon.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::aws::{Aws, AwsOptions};
use stacks::{AssetManifest, ResolvedAsset, StackKind, SynthesizedStack};

use crate::build::{self, BuildOutput, BuildTarget};
use crate::cli::{LocalDaemonArgs, LogsArgs, UpArgs};
use crate::error::{DeployerError, Result};
use crate::io::Event;
use crate::local::deployment::{self, Deployment};
use crate::local::state::{StateDir, read_json};
use crate::local::{LocalError, control, engine};

use super::Context;

fn state(ctx: &Context) -> StateDir {
    StateDir::new(ctx.workspace.local_state_dir())
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

/// `up --local`: build for this machine, deploy the app stack into the local daemon (starting it if needed) and
/// print its outputs and endpoint.
pub async fn up(ctx: &Context, args: &UpArgs) -> Result<()> {
    let host = ctx.host.clone();
    let state = state(ctx);
    let tools = ctx.workspace.tools_dir();
    host.notify(Event::Stage { stage: "local".into(), message: "checking the durable engine".into() });
    let progress_host = host.clone();
    let runner = tokio::task::spawn_blocking(move || {
        engine::ensure_installed(&tools, &|message| progress_host.notify(Event::Info { message }))
    })
    .await
    .map_err(|e| DeployerError::Local(format!("the engine installation was interrupted: {e}")))??;
    recover(ctx, &state, &runner).await?;
    let (stack, code_by_key) = prepare_local(ctx)?;
    crate::local::private_dir(&state.root).map_err(|e| DeployerError::io("create", &state.root, e))?;
    let previous: Option<Deployment> = read_json(&state.deployment_file())?;
    let previous = previous.filter(|p| p.stack == stack.stack_name && p.region == region(ctx));
    let deployment =
        deployment::plan(&stack.template, &stack.stack_name, &region(ctx), &code_by_key, previous.as_ref(), &state)?;
    let changed = previous.as_ref() != Some(&deployment);
    StateDir::write_json(&state.deployment_file(), &deployment)?;
    let info = if let Some(info) = control::running(&state).await? {
        if changed {
            host.notify(Event::Stage {
                stage: "local".into(),
                message: format!("redeploying {} into the running local target", stack.stack_name),
            });
            control::reload(&info).await?;
        } else {
            host.notify(Event::NoChanges { stack: stack.stack_name.clone() });
        }
        info
    } else {
        let port_hint = state.read_daemon().ok().flatten().map_or(0, |i| i.port);
        let adopt = control::clean_stale(&state, &deployment.function_configs()).await?;
        let message = if adopt.is_some() {
            "restarting the local Lambda service; the durable engine survived and keeps its executions in flight"
        } else {
            "starting the local Lambda service and durable engine"
        };
        host.notify(Event::Stage { stage: "local".into(), message: message.into() });
        let info = control::start(&state, &runner, port_hint, adopt).await?;
        if port_hint != 0 && info.port != port_hint {
            host.notify(Event::Warning {
                message: format!(
                    "port {port_hint} of the previous run is taken by another program; the endpoint moved to {}",
                    info.endpoint()
                ),
            });
        }
        info
    };
    let outputs = BTreeMap::from([(stack.stack_name.clone(), deployment.outputs.clone())]);
    super::up::report_outputs(ctx, &outputs, args.outputs_file.as_deref())?;
    host.notify(Event::Value {
        kind: "endpoint".into(),
        text: format!("Endpoint = {} (use it as --endpoint-url; logs: `deployer logs --local`)", info.endpoint()),
    });
    Ok(())
}

/// After a crash of the daemon whose engine survived, restarts the daemon on the last deployment at once, before
/// building: the engine retries a cut invocation only 5 times, 5 s apart, so recovery must not wait for cargo.
async fn recover(ctx: &Context, state: &StateDir, runner: &std::path::Path) -> Result<()> {
    let Some(crashed) = state.read_daemon()? else { return Ok(()) };
    if control::running(state).await?.is_some()
        || engine::Engine::adopt(crashed.engine_pid, crashed.engine_port, state).await.is_none()
    {
        return Ok(());
    }
    let Some(previous) = read_json::<Deployment>(&state.deployment_file())? else { return Ok(()) };
    let adopt = control::clean_stale(state, &previous.function_configs()).await?;
    if adopt.is_some() {
        ctx.host.notify(Event::Stage {
            stage: "local".into(),
            message:
                "restarting the local Lambda service; the durable engine survived and keeps its executions in flight"
                    .into(),
        });
        control::start(state, runner, crashed.port, adopt).await?;
    }
    Ok(())
}

/// Each `Code.S3Key` of the template with the host binary and its SHA-256.
type CodeByKey = BTreeMap<String, (PathBuf, String)>;

/// Builds the functions for this machine and synthesizes the app stack against the binaries' hashes. No zips: the
/// local target runs the binaries themselves, so `Code.S3Key` is `<sha256 of the binary>.zip`.
fn prepare_local(ctx: &Context) -> Result<(SynthesizedStack, CodeByKey)> {
    let app = stacks::app::app(&ctx.app_config())?;
    let specs = app.assets();
    ctx.host.notify(Event::Stage {
        stage: "build".into(),
        message: format!("compiling {} function(s) for this machine", specs.len()),
    });
    let mut manifest = AssetManifest::new();
    let mut code_by_key = BTreeMap::new();
    for output in build::build(&ctx.workspace, &specs, BuildTarget::Host)? {
        match output {
            BuildOutput::Binary(binary) => {
                let resolved = ResolvedAsset { sha256: state(ctx).binary_sha256(&binary.bootstrap)? };
                code_by_key.insert(resolved.object_key(), (binary.bootstrap, resolved.sha256.clone()));
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
    Ok((stack, code_by_key))
}

/// `down --local`: stop the daemon, the engine and every function process, and remove the state.
pub async fn down(ctx: &Context) -> Result<()> {
    let state = state(ctx);
    ctx.host.notify(Event::Stage { stage: "local".into(), message: "stopping the local target".into() });
    let was_running = control::stop(&state).await?;
    state.remove()?;
    if was_running {
        ctx.host.notify(Event::Info { message: format!("local target stopped; removed {}", state.root.display()) });
    } else {
        ctx.host.notify(Event::NothingToDelete { stack: format!("{} (local)", ctx.global.stack_name) });
    }
    Ok(())
}

/// `status --local`: endpoint, processes and per-function invocation counts.
pub async fn status(ctx: &Context) -> Result<()> {
    let state = state(ctx);
    let Some(info) = control::running(&state).await? else {
        return Err(LocalError::NotRunning.into());
    };
    let status = control::status(&info).await?;
    let mut text = format!(
        "local target running: endpoint {} (daemon pid {}, engine pid {} on port {})",
        info.endpoint(),
        info.pid,
        info.engine_pid,
        info.engine_port
    );
    if let Some(functions) = status.get("functions").and_then(serde_json::Value::as_object) {
        for (name, f) in functions {
            let _ = write!(
                text,
                "\n  {name}: {} invocation(s), {} process(es){}",
                f.get("invocations").and_then(serde_json::Value::as_u64).unwrap_or(0),
                f.get("pids").and_then(serde_json::Value::as_array).map_or(0, Vec::len),
                if f.get("durable").and_then(serde_json::Value::as_bool) == Some(true) { ", durable" } else { "" }
            );
        }
    }
    ctx.host.notify(Event::Value { kind: "local_status".into(), text });
    Ok(())
}

/// `logs --local`: the function logs (one file per function).
#[expect(clippy::unused_async, reason = "every command entry point is async")]
pub async fn logs(ctx: &Context, args: &LogsArgs) -> Result<()> {
    let state = state(ctx);
    let deployment: Option<Deployment> = read_json(&state.deployment_file())?;
    let Some(deployment) = deployment else { return Err(LocalError::NotRunning.into()) };
    let wanted = args.function.as_deref();
    let mut shown = 0;
    for function in deployment.functions.values() {
        if wanted.is_some_and(|w| w != function.name && w != function.logical_id) {
            continue;
        }
        let path = state.function_log(&function.name);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        ctx.host.notify(Event::Value {
            kind: "log".into(),
            text: format!("==> {} ({}) <==\n{}", function.name, path.display(), text.trim_end()),
        });
        shown += 1;
    }
    if shown == 0 {
        let names: Vec<&str> = deployment.functions.values().map(|f| f.logical_id.as_str()).collect();
        return Err(DeployerError::Usage(format!(
            "no function {} in the local stack; choose one of: {}",
            wanted.unwrap_or_default(),
            names.join(", ")
        )));
    }
    Ok(())
}

/// The hidden daemon: serves until stopped.
pub async fn daemon(args: &LocalDaemonArgs) -> Result<()> {
    crate::local::daemon::run(StateDir::new(args.state_dir.clone())).await.map_err(Into::into)
}

/// Clients pointed at the local endpoint, and the local stack's outputs.
pub async fn connect(ctx: &Context) -> Result<(Aws, BTreeMap<String, String>)> {
    let state = state(ctx);
    let Some(info) = control::running(&state).await? else {
        return Err(LocalError::NotRunning.into());
    };
    let deployment: Deployment = read_json(&state.deployment_file())?.ok_or(LocalError::NotRunning)?;
    let options = AwsOptions {
        profile: None,
        region: Some(deployment.region.clone()),
        endpoint_url: Some(info.endpoint()),
        static_credentials: Some(("AKIALOCALTARGET00000".to_owned(), "local-target-not-a-secret".to_owned())),
    };
    let aws = Aws::connect(&options).await?;
    Ok((aws, deployment.outputs))
}
