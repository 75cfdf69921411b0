//! The dex side: AWS's durable execution emulator (`dex-local-runner`) as the engine, as the local crate's
//! differential tests run it (local/tests/it/oracle.rs). The seed pattern's stack, with the very binaries `up
//! --local` built for our side, is deployed into a local target of its own whose functions send their checkpoints to
//! dex; dex runs the handlers through that service. Executions start with dex's `StartDurableExecution`, and their
//! end is found by polling dex's `GetDurableExecution`: dex has no synchronous invoke to wait on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use constructs::{AssetManifest, AssetSource, ResolvedAsset};
use local::deployment::Deployment;
use local::oracle::{DURABLE_ENDPOINT_ENV, Dex};
use local::{DaemonCommand, DeployRequest, StackTemplate, Supervisor};
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::env::{ms, tool, workspace_root};
use crate::error::{Context, Error, Result};
use crate::http;

use super::super::functions::SEED_PAYLOAD;
use super::Sample;

const REGION: &str = "us-east-1";

/// dex and the local target whose functions it drives; both stopped when dropped.
pub struct DexSide<'rt> {
    rt: &'rt Runtime,
    target: Supervisor,
    deployment: Deployment,
    function: String,
    qualifier: String,
    poll: Duration,
    dir: PathBuf,
    /// dex's `host:port`.
    pub authority: String,
    // Killed when dropped, after `Drop::drop` has taken the service down (fields drop after it).
    dex: Dex,
}

impl Drop for DexSide<'_> {
    fn drop(&mut self) {
        let _ = self.rt.block_on(self.target.down());
    }
}

impl<'rt> DexSide<'rt> {
    /// Starts dex and the local service that runs its handlers, with the seed pattern's stack built from the
    /// binaries in `binaries` (a cargo profile folder); clients will poll every `poll`.
    pub fn start(rt: &'rt Runtime, binaries: &Path, poll: Duration) -> Result<Self> {
        let dir = workspace_root().join("target/bench/work/dex");
        let target = Supervisor::new(dir.join("state"));
        // A run that was killed may have left its service running: stop it before its folder goes.
        let _ = rt.block_on(target.down());
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot empty {}", dir.display()))?;
        }
        let stack = stacks::pattern::stack(&constructs::App::new()).context("cannot build the seed stack")?;
        let name = stack.name().to_owned();
        let mut manifest = AssetManifest::new();
        let mut code = BTreeMap::new();
        for asset in stack.assets() {
            let AssetSource::CargoBinary { binary, .. } = &asset.source else {
                return Err(Error::msg(format!("asset {} is not a cargo binary", asset.id)));
            };
            let (sha, stored) = target.store_binary(&binaries.join(binary)).context("cannot store a function")?;
            let resolved = ResolvedAsset { sha256: sha.clone(), code_sha256: None };
            code.insert(resolved.object_key(), (stored, sha));
            manifest.0.insert(asset.id.clone(), resolved);
        }
        let template = stack.synth(&manifest).context("cannot synthesize the seed stack")?.template;
        let planned = local::deployment::plan(&template, &name, REGION, &code, None)
            .context("cannot plan the seed stack's deployment")?;
        let deployment = Deployment::new(REGION).with_stack(planned);
        let runner = tool("dex-local-runner", "run scripts/install-tools")?;
        let dex = rt.block_on(Dex::start(&runner, &dir.join("dex"), &deployment, false)).context("cannot start dex")?;
        let program = std::env::current_exe().context("cannot find the harness's own binary")?;
        let request = DeployRequest {
            region: REGION.to_owned(),
            stacks: vec![StackTemplate { name: name.clone(), template }],
            code,
            daemon: DaemonCommand {
                program,
                args: vec![crate::dex_service::SUBCOMMAND.into()],
                env: vec![(DURABLE_ENDPOINT_ENV.into(), dex.url.clone().into())],
            },
            skip_time: false,
            clock: local::ClockMode::Wall,
            aws_endpoint_url: None,
            credentials: None,
        };
        let outcome = rt.block_on(target.deploy(request)).context("cannot deploy the dex side's stack")?;
        rt.block_on(dex.set_lambda_endpoint(&outcome.info.endpoint(), REGION))
            .context("cannot point dex at the service")?;
        let outputs = outcome.outputs.get(&name).context("the dex side's deployment has no outputs")?;
        let function = outputs.get("DurableLambdaFunctionName").context("no DurableLambdaFunctionName output")?.clone();
        // The version the live alias points at, as our side's Invoke of the alias runs.
        let alias = outputs
            .get("DurableLambdaFunctionAliasArn")
            .and_then(|arn| arn.rsplit(':').next())
            .context("no DurableLambdaFunctionAliasArn output")?;
        let qualifier = deployment
            .resolve(&function, Some(alias))
            .map(|t| t.version)
            .with_context(|| format!("alias {alias} of {function} resolves to no version"))?;
        eprintln!(
            "local: dex at {} ({}), its functions' service at {}",
            dex.url,
            dir.display(),
            outcome.info.endpoint()
        );
        Ok(Self {
            rt,
            target,
            deployment,
            function,
            qualifier,
            poll,
            authority: http::authority(&dex.url).to_owned(),
            dir,
            dex,
        })
    }

    /// One execution of the seed payload: started on dex, then polled every `poll` until it is no longer running.
    pub fn execute(&self) -> Result<Sample> {
        let start = Instant::now();
        let arn = self
            .rt
            .block_on(self.dex.start_execution(&self.deployment, &self.function, &self.qualifier, SEED_PAYLOAD))
            .context("dex did not start an execution")?;
        let path = format!("/2025-12-01/durable-executions/{}", http::encode_segment(&arn));
        let mut polls = 0;
        loop {
            std::thread::sleep(self.poll);
            let reply = http::request(&self.authority, "GET", &path, &[], b"", Duration::from_secs(30))?;
            polls += 1;
            let execution: Value = serde_json::from_slice(&reply.body)
                .with_context(|| format!("dex's GetDurableExecution is not JSON: {}", reply.text()))?;
            match execution.get("Status").and_then(Value::as_str) {
                Some("RUNNING") => {}
                Some("SUCCEEDED")
                    if execution
                        .get("Result")
                        .and_then(Value::as_str)
                        .is_some_and(|r| r.contains("Durable orchestration completed successfully")) =>
                {
                    return Ok(Sample { latency: ms(start.elapsed()), arn, polls });
                }
                _ => return Err(Error::msg(format!("dex's execution {arn} ended unexpectedly: {execution}"))),
            }
            if start.elapsed() > Duration::from_mins(2) {
                return Err(Error::msg(format!("dex's execution {arn} still RUNNING after 2 minutes")));
            }
        }
    }

    /// dex's own process id: the process whose command line names dex's folder (dex is a Python program; its
    /// `tokio` child handle keeps the id private).
    pub fn dex_pid(&self) -> Option<u32> {
        let dex_dir = self.dir.join("dex");
        let needle = dex_dir.to_string_lossy();
        std::fs::read_dir("/proc")
            .ok()?
            .filter_map(std::result::Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| {
                local::supervisor::process::command_line(*pid)
                    .is_some_and(|c| c.contains("start-server") && c.contains(&*needle))
            })
    }
}
