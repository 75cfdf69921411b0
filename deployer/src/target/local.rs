//! The local target (the `local` crate) as the deployer drives it: several stacks side by side in one service.
//! `up --local <stacks>` adds or updates those stacks and leaves the others running, `down --local <stacks>`
//! removes them, and a bare `down --local` stops everything and removes the state.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead as _, Seek as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use constructs::{AssetManifest, AssetSpec, ResolvedAsset, SynthesizedStack};
use local::{DaemonCommand, DeployOutcome, DeployRequest, Notice, ServiceAction, StackTemplate};

use super::{Deployed, DownScope, LogsRequest, not_emulated};
use super::{TargetContext, UpOptions, report_outputs};
use crate::app::Selection;
use crate::aws::{Aws, AwsOptions};
use crate::build::{self, BuildOutput, BuildTarget};
use crate::durable::Timestamp;
use crate::error::{DeployerError, Result};
use crate::io::Event;
use crate::io::message::{LocalFunctionStatus, WatchedVersion};

/// How often `logs --follow` looks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// The local target kept in the workspace's `.deployer/local`.
pub(crate) struct LocalTarget {
    target: local::Supervisor,
    /// What AWS said each stack holds there (`None`: not deployed, or no answer), asked once per run: a watch's
    /// rebuilds deploy the same ids without asking again.
    aws_ids: std::sync::Mutex<BTreeMap<String, Option<BTreeMap<String, String>>>>,
}

/// How long `up --local` waits for AWS to say what the same stack holds there.
const AWS_LOOKUP_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Each `Code.S3Key` of the templates with the stored binary and its SHA-256.
type CodeByKey = BTreeMap<String, (PathBuf, String)>;

/// What `up --local` leaves for a watch to redeploy with.
pub(crate) struct LocalSession {
    /// The credentials the functions got.
    pub(crate) credentials: Option<local::service::Credentials>,
    /// The binaries built.
    pub(crate) built: LocalBuild,
}

/// The binaries built for the local target so far: each asset's name (its binary's hash) and each stored binary.
/// `up --local --watch` keeps it between rebuilds, so a rebuild of one function leaves the others as they were.
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalBuild {
    manifest: AssetManifest,
    code: CodeByKey,
}

impl LocalTarget {
    /// The local target of `workspace`.
    pub(crate) fn new(workspace: &crate::workspace::Workspace) -> Self {
        Self { target: local::Supervisor::new(workspace.local_state_dir()), aws_ids: std::sync::Mutex::default() }
    }

    /// The physical ids of stack `stack` deployed on AWS with the user's credentials, if it is deployed there and
    /// AWS answers in time; `None` otherwise (placeholders stand in, as without an account).
    async fn aws_physical_ids(&self, ctx: &TargetContext, stack: &str) -> Option<BTreeMap<String, String>> {
        let known = self.aws_ids.lock().ok().and_then(|ids| ids.get(stack).cloned());
        if let Some(known) = known {
            return known;
        }
        let options = AwsOptions {
            profile: ctx.profile.clone(),
            region: ctx.region.clone(),
            endpoint_url: None,
            static_credentials: None,
        };
        let lookup = async {
            let aws = Aws::connect(&options).await.ok()?;
            crate::cfn::stack::physical_ids(&aws.cfn, stack).await.ok().filter(|ids| !ids.is_empty())
        };
        let found = tokio::time::timeout(AWS_LOOKUP_LIMIT, lookup).await.ok().flatten();
        if let Ok(mut ids) = self.aws_ids.lock() {
            ids.insert(stack.to_owned(), found.clone());
        }
        found
    }

    /// `up --local`: builds the selected stacks' functions for this machine, adds or updates those stacks in the
    /// local service (starting it if needed) and prints their outputs and the endpoint.
    pub(crate) async fn up(&self, ctx: &TargetContext, selection: &Selection, args: &UpOptions) -> Result<()> {
        self.start(ctx, selection, args).await.map(|_| ())
    }

    /// `up --local`, returning what a watch needs to redeploy: the functions' credentials and the binaries built.
    pub(crate) async fn start(
        &self,
        ctx: &TargetContext,
        selection: &Selection,
        args: &UpOptions,
    ) -> Result<LocalSession> {
        let credentials = Self::credentials(ctx, args).await;
        let mut built = LocalBuild::default();
        let assets = selection.assets();
        let outcome = self.build_and_deploy(ctx, selection, args, credentials.as_ref(), &assets, &mut built).await?;
        let names = selection.names();
        let outputs: BTreeMap<String, BTreeMap<String, String>> =
            outcome.outputs.into_iter().filter(|(name, _)| names.contains(name)).collect();
        report_outputs(ctx, &outputs, args.outputs_file.as_deref())?;
        ctx.host.notify(Event::Endpoint { url: outcome.info.endpoint() });
        Ok(LocalSession { credentials, built })
    }

    /// The credentials the functions get: the user's (unless `--no-credentials`), else placeholders, said once.
    async fn credentials(ctx: &TargetContext, args: &UpOptions) -> Option<local::service::Credentials> {
        if args.no_credentials {
            return None;
        }
        let found = crate::aws::user_credentials(ctx.profile.as_deref()).await;
        if found.is_none() {
            ctx.host.notify(Event::Info {
                message: "no AWS credentials found: functions get placeholder keys (their calls to other AWS \
                          services fail; the Lambda and durable APIs are local)"
                    .into(),
            });
        }
        found
    }

    /// Builds the functions of `assets` into `built`, synthesizes the selected stacks and deploys them.
    async fn build_and_deploy(
        &self,
        ctx: &TargetContext,
        selection: &Selection,
        args: &UpOptions,
        credentials: Option<&local::service::Credentials>,
        assets: &[AssetSpec],
        built: &mut LocalBuild,
    ) -> Result<DeployOutcome> {
        let stacks = self.prepare(ctx, selection, assets, built, true)?;
        self.deploy(ctx, args, credentials, &stacks, built, true).await
    }

    /// Adds or updates `stacks` in the local service (starting it if needed), running the binaries `built` holds.
    /// `announce`: report each stage and stacks left unchanged (`up`), or only warnings (a watch rebuild, which
    /// reports its own line).
    pub(crate) async fn deploy(
        &self,
        ctx: &TargetContext,
        args: &UpOptions,
        credentials: Option<&local::service::Credentials>,
        stacks: &[SynthesizedStack],
        built: &LocalBuild,
        announce: bool,
    ) -> Result<DeployOutcome> {
        let host = ctx.host.clone();
        let names: Vec<String> = stacks.iter().map(|s| s.stack_name.clone()).collect();
        if announce {
            host.notify(Event::Stage {
                stage: "local".into(),
                message: format!("deploying {} locally", names.join(", ")),
            });
        }
        let mut templates = Vec::new();
        for stack in stacks {
            let mut resources = not_emulated::not_emulated(&stack.template);
            let mut template = stack.template.clone();
            if credentials.is_some()
                && not_emulated::names_real_resources(&resources)
                && let Some(ids) = self.aws_physical_ids(ctx, &stack.stack_name).await
            {
                template = not_emulated::with_aws_ids(&stack.template, &ids, &mut resources);
            }
            if let Some(message) = not_emulated::warning(&stack.stack_name, &resources) {
                host.notify(Event::Warning { message });
            }
            templates.push(StackTemplate { name: stack.stack_name.clone(), template });
        }
        let request = DeployRequest {
            region: region(ctx),
            stacks: templates,
            code: built.code.clone(),
            daemon: daemon_command()?,
            skip_time: args.skip_time,
            credentials: credentials.cloned(),
            clock: args.clock,
            // The endpoint the user's tools name (an emulator standing in for AWS): their functions' calls follow.
            aws_endpoint_url: std::env::var("AWS_ENDPOINT_URL").ok().filter(|url| !url.trim().is_empty()),
        };
        let outcome = self.target.deploy(request).await?;
        for notice in &outcome.notices {
            host.notify(Event::Warning { message: notice_text(notice) });
        }
        if !announce {
            return Ok(outcome);
        }
        for name in names.iter().filter(|n| !outcome.changed.contains(n)) {
            host.notify(Event::NoChanges { stack: name.clone() });
        }
        match outcome.action {
            ServiceAction::Unchanged => {}
            ServiceAction::Reloaded => host.notify(Event::Stage {
                stage: "local".into(),
                message: format!("redeployed {} into the running local service", outcome.changed.join(", ")),
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
        Ok(outcome)
    }

    /// Builds the function binaries of `assets` for this machine (one cargo invocation), stores each distinct binary
    /// once into `built`, and synthesizes the selected stacks against the binaries' hashes: the local target runs
    /// the binaries themselves, so `Code.S3Key` is `<sha256 of the binary>.zip`.
    /// `announce`: say what is compiled (`up`; a watch rebuild reports its own line).
    pub(crate) fn prepare(
        &self,
        ctx: &TargetContext,
        selection: &Selection,
        assets: &[AssetSpec],
        built: &mut LocalBuild,
        announce: bool,
    ) -> Result<Vec<SynthesizedStack>> {
        let mut binaries: Vec<&str> = assets
            .iter()
            .filter_map(|a| match &a.source {
                constructs::AssetSource::CargoBinary { binary, .. } => Some(binary.as_str()),
                constructs::AssetSource::Zip { .. } => None,
            })
            .collect();
        binaries.sort_unstable();
        binaries.dedup();
        if announce {
            ctx.host.notify(Event::Stage {
                stage: "build".into(),
                message: format!("compiling {} function binary(ies) for this machine", binaries.len()),
            });
        }
        let outputs = build::build(&ctx.workspace, assets, BuildTarget::Host)?;
        let (manifest, code) = store_each_once(outputs, |bootstrap| Ok(self.target.store_binary(bootstrap)?))?;
        built.manifest.0.extend(manifest.0);
        built.code.extend(code);
        Ok(selection.synth_app(&built.manifest)?.stacks)
    }

    /// Each function of `stacks` on the running service with its newest version and its aliases.
    pub(crate) async fn versions(&self, stacks: &[String]) -> Result<Vec<WatchedVersion>> {
        let status = self.target.status().await?;
        Ok(status
            .functions
            .into_values()
            .filter(|f| stacks.contains(&f.stack))
            .map(|f| WatchedVersion {
                function: f.logical_id,
                version: f.versions.iter().copied().max().unwrap_or_default(),
                aliases: f.aliases,
            })
            .collect())
    }

    /// `down --local`: the selected stacks, or with no stack named (or `--all`) everything and the state.
    pub(crate) async fn down(&self, ctx: &TargetContext, selection: &Selection, scope: DownScope) -> Result<()> {
        if scope == DownScope::Selected {
            let names = selection.names();
            let removed = self.target.remove_stacks(&names).await?;
            for name in names {
                if removed.contains(&name) {
                    ctx.host.notify(Event::LocalStackRemoved { stack: name });
                } else {
                    ctx.host.notify(Event::NothingToDelete { stack: format!("{name} (local)") });
                }
            }
            return Ok(());
        }
        ctx.host.notify(Event::Stage { stage: "local".into(), message: "stopping the local target".into() });
        if self.target.down().await? {
            ctx.host.notify(Event::LocalStopped { state_dir: self.target.state().root.display().to_string() });
        } else {
            ctx.host.notify(Event::NothingToDelete { stack: "the local target".into() });
        }
        Ok(())
    }

    /// `diff --local`: not offered; the local target holds no templates to compare with.
    pub(crate) fn diff() -> Result<()> {
        Err(DeployerError::Unsupported {
            what: "`diff` compares with what CloudFormation deployed; the local target keeps no templates".into(),
            remedy: "run `deployer up --local`, which redeploys only what changed and says `no changes` otherwise, \
                     or `deployer diff` against AWS"
                .into(),
        })
    }

    /// `status --local`: the service, and the functions of the selected stacks.
    pub(crate) async fn status(&self, ctx: &TargetContext, selection: &Selection) -> Result<()> {
        let info = self.target.running().await?.ok_or(local::LocalError::NotRunning)?;
        let status = self.target.status().await?;
        let names = selection.names();
        let functions = status
            .functions
            .into_iter()
            .filter(|(_, f)| names.contains(&f.stack))
            .map(|(name, f)| LocalFunctionStatus {
                stack: f.stack,
                logical_id: f.logical_id,
                name,
                durable: f.durable,
                invocations: f.invocations,
                versions: f.versions,
                aliases: f.aliases,
                processes: f.pids.len(),
            })
            .collect();
        ctx.host.notify(Event::LocalStatus {
            endpoint: info.endpoint(),
            pid: info.pid,
            skip_time: status.skip_time,
            executions: status.executions,
            running: status.running,
            functions,
        });
        Ok(())
    }

    /// Moves the running service's manual clock.
    pub(crate) async fn move_clock(&self, how: local::ClockMove) -> Result<local::ClockReading> {
        Ok(self.target.move_clock(how).await?)
    }

    /// Replays a recorded execution against the current code of its function.
    pub(crate) async fn replay(&self, arn: &str) -> Result<local::service::replay::ReplayReport> {
        Ok(self.target.replay(arn).await?)
    }

    /// Starts a replay held before its handler starts (of a local execution, or of `recorded`).
    pub(crate) async fn replay_held(
        &self,
        arn: &str,
        recorded: Option<local::protocol::RecordedExecution>,
    ) -> Result<local::service::replay::ReplayAnswer> {
        Ok(self.target.replay_held(arn, recorded).await?)
    }

    /// Lets a held replay go on; answers its report.
    pub(crate) async fn release_replay(&self, session: &str) -> Result<local::service::replay::ReplayReport> {
        Ok(self.target.release_replay(session).await?)
    }

    /// Replays an execution recorded on AWS (`recorded`, its `function` the local one) against the current code
    /// here.
    pub(crate) async fn replay_recorded(
        &self,
        arn: &str,
        recorded: local::protocol::RecordedExecution,
    ) -> Result<local::service::replay::ReplayReport> {
        Ok(self.target.replay_recorded(arn, recorded).await?)
    }

    /// The local name of stack `stack`'s function `logical_id`: what replays an execution it ran on AWS.
    pub(crate) fn function_name(&self, stack: &str, logical_id: &str, arn: &str) -> Result<String> {
        let deployment = self.target.deployment()?.ok_or(local::LocalError::NotRunning)?;
        deployment
            .stacks
            .get(stack)
            .and_then(|s| s.functions.values().find(|f| f.logical_id == logical_id))
            .map(|f| f.name.clone())
            .ok_or_else(|| DeployerError::NotFound {
                what: format!("the local target has no {logical_id} of stack {stack} to replay {arn} with"),
                remedy: format!("deploy the current code locally first: `deployer up --local {stack}`"),
                source: None,
            })
    }

    /// Clients pointed at the local endpoint.
    pub(crate) async fn connect(&self) -> Result<Aws> {
        let Some(info) = self.target.running().await? else { return Err(local::LocalError::NotRunning.into()) };
        let deployment = self.target.deployment()?.ok_or(local::LocalError::NotRunning)?;
        let options = AwsOptions {
            profile: None,
            region: Some(deployment.region.clone()),
            endpoint_url: Some(info.endpoint()),
            static_credentials: Some(("AKIALOCALTARGET00000".to_owned(), "local-target-not-a-secret".to_owned())),
        };
        Aws::connect(&options).await
    }

    /// The local physical ids of stack `stack`'s resources.
    pub(crate) fn deployed(&self, stack: &str) -> Result<Deployed> {
        let deployment = self.target.deployment()?.ok_or(local::LocalError::NotRunning)?;
        let deployed = deployment.stacks.get(stack).ok_or_else(|| DeployerError::NotFound {
            what: format!("stack {stack} is not deployed on the local target"),
            remedy: format!(
                "deploy it with `deployer up --local {stack}` (deployed now: {})",
                if deployment.stacks.is_empty() {
                    "none".to_owned()
                } else {
                    deployment.stacks.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            ),
            source: None,
        })?;
        let physical = deployed.resources.iter().map(|r| (r.logical_id.clone(), r.physical_id.clone())).collect();
        Ok(Deployed { physical, last_changed: None })
    }

    /// `logs --local`: the functions' log files, whole or from `--since`, then new lines with `--follow`.
    pub(crate) async fn logs(&self, ctx: &TargetContext, request: LogsRequest<'_>) -> Result<()> {
        let files: Vec<(String, PathBuf)> = request
            .functions
            .iter()
            .map(|(spec, name)| (spec.construct_id.clone(), self.target.state().function_log(name)))
            .collect();
        let since = request.since.map(|d| Timestamp::from_system(SystemTime::now() - d));
        let mut offsets = BTreeMap::new();
        for (function, path) in &files {
            let (lines, end) = read_from(path, 0)?;
            offsets.insert(path.clone(), end);
            let mut time = None;
            for line in lines {
                time = line_time(&line).or(time);
                if since.is_some_and(|since| time.is_none_or(|t| t < since)) {
                    continue;
                }
                emit(ctx, function, time, line, request.execution.as_deref());
            }
        }
        if !request.follow {
            return Ok(());
        }
        loop {
            tokio::time::sleep(FOLLOW_EVERY).await;
            for (function, path) in &files {
                let start = offsets.get(path).copied().unwrap_or(0);
                let (lines, end) = read_from(path, start)?;
                offsets.insert(path.clone(), end);
                for line in lines {
                    emit(ctx, function, line_time(&line), line, request.execution.as_deref());
                }
            }
        }
    }
}

/// Stores each built binary in the local target's state folder (`store` returns its SHA-256 and the stored copy)
/// and names each asset by its binary's SHA-256. Every conformance function runs one binary of 250 MB: it is hashed
/// and stored once, however many functions run it.
fn store_each_once(
    outputs: Vec<BuildOutput>,
    mut store: impl FnMut(&Path) -> Result<(String, PathBuf)>,
) -> Result<(AssetManifest, CodeByKey)> {
    let mut manifest = AssetManifest::new();
    let mut code = BTreeMap::new();
    let mut stored: BTreeMap<PathBuf, ResolvedAsset> = BTreeMap::new();
    for output in outputs {
        match output {
            BuildOutput::Binary(binary) => {
                let resolved = if let Some(resolved) = stored.get(&binary.bootstrap) {
                    resolved.clone()
                } else {
                    let (sha256, path) = store(&binary.bootstrap)?;
                    let resolved = ResolvedAsset { sha256: sha256.clone(), code_sha256: None };
                    code.insert(resolved.object_key(), (path, sha256));
                    stored.insert(binary.bootstrap.clone(), resolved.clone());
                    resolved
                };
                manifest.0.insert(binary.asset_id, resolved);
            }
            BuildOutput::Zip { asset_id, path } => {
                return Err(DeployerError::Unsupported {
                    what: format!("asset {asset_id} is a prebuilt zip ({})", path.display()),
                    remedy: "the local target runs only functions built from this workspace's cargo binaries; \
                             deploy this stack to AWS"
                        .into(),
                });
            }
        }
    }
    Ok((manifest, code))
}

/// Reports one log line, unless `execution` is given and the line does not name it.
fn emit(ctx: &TargetContext, function: &str, timestamp: Option<Timestamp>, message: String, execution: Option<&str>) {
    if execution.is_some_and(|arn| !names_execution(&message, arn)) {
        return;
    }
    ctx.host.notify(Event::LogLine { function: function.to_owned(), timestamp, message });
}

/// Whether a log line names the execution `arn`: the whole ARN, or its final id.
pub(crate) fn names_execution(line: &str, arn: &str) -> bool {
    let id = arn.rsplit('/').next().filter(|id| id.len() >= 8);
    line.contains(arn) || id.is_some_and(|id| line.contains(id))
}

/// The complete lines of `path` after byte `start`, and the offset after the last one (a line still being
/// written is left for the next read). A missing file has no lines.
fn read_from(path: &Path, start: u64) -> Result<(Vec<String>, u64)> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), start)),
        Err(e) => return Err(DeployerError::io("read", path, e)),
    };
    // A log shorter than what was read (the state removed and made again) is read from its start.
    let length = file.metadata().map_err(|e| DeployerError::io("read", path, e))?.len();
    let start = if length < start { 0 } else { start };
    file.seek(std::io::SeekFrom::Start(start)).map_err(|e| DeployerError::io("read", path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let (mut lines, mut offset) = (Vec::new(), start);
    loop {
        let mut buffer = Vec::new();
        let read = reader.read_until(b'\n', &mut buffer).map_err(|e| DeployerError::io("read", path, e))?;
        if read == 0 || buffer.last() != Some(&b'\n') {
            break;
        }
        offset += read as u64;
        lines.push(String::from_utf8_lossy(&buffer).trim_end_matches(['\n', '\r']).to_owned());
    }
    Ok((lines, offset))
}

/// The time a log line carries: the `timestamp` (or `time`) field of a JSON line, as the functions' JSON log
/// format writes it.
fn line_time(line: &str) -> Option<Timestamp> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let text = value.get("timestamp").or_else(|| value.get("time"))?.as_str()?;
    Timestamp::parse_rfc3339(text)
}

fn notice_text(notice: &Notice) -> String {
    match notice {
        Notice::PortMoved { previous, now } => {
            format!("port {previous} of the previous run is taken by another program; the endpoint moved to port {now}")
        }
        Notice::LegacyState(migrated) => {
            let mut text = "found the state of the earlier local target (AWS's Python emulator as engine): its \
                            deployment is carried over"
                .to_owned();
            if let Some(kept) = &migrated.kept_at {
                let _ = write!(
                    text,
                    "; its executions cannot move to the new engine and stay, read-only, in {} (sqlite), until \
                     `deployer down --local`",
                    kept.display()
                );
            }
            text
        }
    }
}

fn region(ctx: &TargetContext) -> String {
    ctx.region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// The hidden subcommand of this binary that runs the local service.
pub(crate) const DAEMON_SUBCOMMAND: &str = "local-daemon";

/// This very binary, run with the hidden `local-daemon` subcommand: `/proc/self/exe` where it exists, so a rebuild
/// that replaced the file since we started still runs the same program.
fn daemon_command() -> Result<DaemonCommand> {
    let proc_exe = Path::new("/proc/self/exe");
    let program = if proc_exe.exists() {
        proc_exe.to_owned()
    } else {
        std::env::current_exe().map_err(|e| DeployerError::io("find", "the deployer's own executable", e))?
    };
    Ok(DaemonCommand { program, args: vec![DAEMON_SUBCOMMAND.into()], env: vec![] })
}

/// The hidden service process: serves until stopped.
pub(crate) async fn daemon(state_dir: PathBuf) -> Result<()> {
    local::supervisor::daemon::run(local::supervisor::StateDir::new(state_dir)).await.map_err(Into::into)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn only_complete_lines_are_read_and_a_follow_resumes_after_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.log");
        assert_eq!(read_from(&path, 0).unwrap(), (vec![], 0), "a missing log has no lines");
        std::fs::write(
            &path,
            "START RequestId: 1\n{\"timestamp\":\"2026-11-27T10:00:00.000Z\",\"message\":\"hi\"}\npartial",
        )
        .unwrap();
        let (lines, end) = read_from(&path, 0).unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(line_time(&lines[1]).map(Timestamp::rfc3339).as_deref(), Some("2026-11-27T10:00:00.000Z"));
        assert_eq!(line_time(&lines[0]), None);
        std::fs::write(
            &path,
            "START RequestId: 1\n{\"timestamp\":\"2026-11-27T10:00:00.000Z\",\"message\":\"hi\"}\npartial line\n",
        )
        .unwrap();
        assert_eq!(read_from(&path, end).unwrap().0, ["partial line"]);
        assert_eq!(read_from(&path, 10_000).unwrap().0.len(), 3, "a log that shrank is read again from its start");
    }

    #[test]
    fn a_binary_run_by_many_functions_is_stored_once() {
        let binary = |asset: &str, path: &str| {
            BuildOutput::Binary(build::BuiltBinary {
                asset_id: asset.into(),
                binary: "b".into(),
                bootstrap: PathBuf::from(path),
            })
        };
        let outputs = vec![
            binary("s/A", "/t/shared"),
            binary("s/B", "/t/shared"),
            binary("s/C", "/t/other"),
            binary("s/D", "/t/shared"),
        ];
        let mut stored = Vec::new();
        let (manifest, code) = store_each_once(outputs, |path| {
            stored.push(path.to_path_buf());
            Ok((format!("{:0>64}", stored.len()), PathBuf::from("/state/code").join(stored.len().to_string())))
        })
        .unwrap();
        assert_eq!(stored, [PathBuf::from("/t/shared"), PathBuf::from("/t/other")], "each binary stored once");
        assert_eq!(manifest.0.len(), 4, "every asset named");
        assert_eq!(manifest.0["s/D"], manifest.0["s/A"]);
        assert_eq!(code.len(), 2);
        let zip = BuildOutput::Zip { asset_id: "s/Z".into(), path: "z.zip".into() };
        let error = store_each_once(vec![zip], |_| unreachable!()).unwrap_err().to_string();
        assert!(error.contains("s/Z") && error.contains("deploy this stack to AWS"), "{error}");
    }

    #[test]
    fn a_line_names_an_execution_by_arn_or_id() {
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:f:1/durable-execution/run-1/0a1b2c3d4e5f";
        assert!(names_execution(&format!("{{\"executionArn\":\"{arn}\"}}"), arn));
        assert!(names_execution("step for 0a1b2c3d4e5f done", arn));
        assert!(!names_execution("START RequestId: 1", arn));
    }
}
