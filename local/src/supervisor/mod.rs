//! The local target as the CLI drives it: [`Supervisor`] deploys stacks into the service (starting it, or
//! reloading or restarting it as needed), removes them, stops everything; [`daemon`] is the service process
//! itself; [`state`] the folder they share; [`process`] finds and signals our processes portably.

pub mod client;
pub mod daemon;
mod legacy;
pub mod process;
mod state;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use client::DaemonCommand;
pub use daemon::DaemonRequest;
pub use state::{DaemonInfo, StateDir};

use crate::deployment::{Deployment, plan};
use crate::error::LocalError;
use crate::files::{private_dir, read_json};
use crate::protocol::{ClockMode, ClockMove, ClockReading};
use crate::service::replay::ReplayReport;
use crate::service::{Credentials, ServiceStatus};

/// One stack's synthesized template.
#[derive(Debug, Clone, PartialEq)]
pub struct StackTemplate {
    /// Stack name.
    pub name: String,
    /// The CloudFormation template.
    pub template: serde_json::Value,
}

/// A deployment request.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    /// The region local ARNs name.
    pub region: String,
    /// The stacks to add or update (others stay as they are).
    pub stacks: Vec<StackTemplate>,
    /// Each `Code.S3Key` with the stored binary and its SHA-256 ([`Supervisor::store_binary`]).
    pub code: BTreeMap<String, (PathBuf, String)>,
    /// How to start the service when it is not running.
    pub daemon: DaemonCommand,
    /// Fire waits, retry delays and callback timeouts at once.
    pub skip_time: bool,
    /// Credentials for functions' calls to other AWS services (`None`: placeholders).
    pub credentials: Option<Credentials>,
    /// The clock the service runs on (a change restarts it; executions carry on).
    pub clock: ClockMode,
    /// Where functions' calls to AWS services other than Lambda go (`None`: each service's own endpoint; a change
    /// restarts the service).
    pub aws_endpoint_url: Option<String>,
}

/// What `deploy` did to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    /// It was not running and was started.
    Started,
    /// It ran with other settings and was restarted (executions carry on).
    Restarted,
    /// It loaded the new deployment.
    Reloaded,
    /// Nothing changed.
    Unchanged,
}

/// Something the user should know about a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The previous port was taken by another program.
    PortMoved {
        /// The previous port.
        previous: u16,
        /// The new one.
        now: u16,
    },
    /// An earlier (dex-based) local target's state was converted.
    LegacyState(legacy::Migrated),
}

/// The outcome of a deployment.
#[derive(Debug, Clone)]
pub struct DeployOutcome {
    /// The running service.
    pub info: DaemonInfo,
    /// What happened to it.
    pub action: ServiceAction,
    /// Stacks whose deployment changed.
    pub changed: Vec<String>,
    /// Every deployed stack's outputs.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Things to tell the user.
    pub notices: Vec<Notice>,
}

/// The local target kept in one state folder.
#[derive(Debug, Clone)]
pub struct Supervisor {
    state: StateDir,
}

impl Supervisor {
    /// The local target whose state folder is `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { state: StateDir::new(root) }
    }

    /// Its state folder.
    pub fn state(&self) -> &StateDir {
        &self.state
    }

    /// Copies a built `bootstrap` into the state folder (so a rebuild never touches a running binary); returns
    /// its SHA-256 and the stored copy.
    pub fn store_binary(&self, bootstrap: &Path) -> Result<(String, PathBuf), LocalError> {
        private_dir(&self.state.root)?;
        let sha = self.state.binary_sha256(bootstrap)?;
        let stored = self.state.store_binary(bootstrap, &sha)?;
        Ok((sha, stored))
    }

    /// Adds or updates `request.stacks` and makes the service run them. Two deployments to the same folder run
    /// one after the other (an OS lock), so they never start two services.
    pub async fn deploy(&self, request: DeployRequest) -> Result<DeployOutcome, LocalError> {
        private_dir(&self.state.root)?;
        let _lock = self.lock().await?;
        let mut notices = Vec::new();
        if let Some(migrated) = legacy::migrate(&self.state)? {
            notices.push(Notice::LegacyState(migrated));
        }
        let previous = self
            .state
            .read_deployment()?
            .filter(|d| d.region == request.region)
            .unwrap_or_else(|| Deployment::new(&request.region));
        let mut next = previous.clone();
        let mut changed = Vec::new();
        for stack in &request.stacks {
            let before = previous.stacks.get(&stack.name);
            let planned = plan(&stack.template, &stack.name, &request.region, &request.code, before)?;
            if before != Some(&planned) {
                changed.push(stack.name.clone());
            }
            next = next.with_stack(planned);
        }
        self.state.write_deployment(&next)?;
        let daemon_request = DaemonRequest {
            port: self.state.read_daemon().ok().flatten().map_or(0, |i| i.port),
            skip_time: request.skip_time,
            credentials: request.credentials.is_some(),
            credentials_fingerprint: request.credentials.as_ref().map(Credentials::fingerprint),
            clock: request.clock,
            aws_endpoint_url: request.aws_endpoint_url.clone(),
        };
        let stored: Option<DaemonRequest> = read_json(&self.state.request_file()).ok().flatten();
        let same_settings = stored.as_ref().is_some_and(|s| {
            s.skip_time == daemon_request.skip_time
                && s.clock == daemon_request.clock
                && s.credentials_fingerprint == daemon_request.credentials_fingerprint
                && s.aws_endpoint_url == daemon_request.aws_endpoint_url
        });
        let (info, action) = match client::running(&self.state).await? {
            Some(info) if same_settings => {
                if changed.is_empty() {
                    (info, ServiceAction::Unchanged)
                } else {
                    client::reload(&self.state, &info).await?;
                    (info, ServiceAction::Reloaded)
                }
            }
            Some(info) => {
                // Other settings (time control, renewed credentials, another AWS endpoint): restart; the stored
                // executions carry on in the new process.
                client::stop(&self.state).await?;
                let restart = DaemonRequest { port: info.port, ..daemon_request };
                let started =
                    client::start(&self.state, &request.daemon, &restart, request.credentials.as_ref()).await?;
                (started, ServiceAction::Restarted)
            }
            None => {
                client::stop(&self.state).await?;
                let info =
                    client::start(&self.state, &request.daemon, &daemon_request, request.credentials.as_ref()).await?;
                if daemon_request.port != 0 && info.port != daemon_request.port {
                    notices.push(Notice::PortMoved { previous: daemon_request.port, now: info.port });
                }
                (info, ServiceAction::Started)
            }
        };
        let outputs = next.stacks.iter().map(|(name, s)| (name.clone(), s.outputs.clone())).collect();
        Ok(DeployOutcome { info, action, changed, outputs, notices })
    }

    /// Waits for the folder's deployment lock (held until the returned file is dropped).
    async fn lock(&self) -> Result<std::fs::File, LocalError> {
        let path = self.state.root.join("deploy.lock");
        let file = crate::files::lock_file(&path)?;
        tokio::task::spawn_blocking(move || {
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).map(|()| file)
        })
        .await
        .map_err(|e| LocalError::Service(format!("cannot wait for the deployment lock: {e}")))?
        .map_err(|e| LocalError::io("lock", &path, e.into()))
    }

    /// Removes stacks from the running deployment; returns the names that were deployed.
    pub async fn remove_stacks(&self, names: &[String]) -> Result<Vec<String>, LocalError> {
        let Some(deployment) = self.state.read_deployment()? else { return Ok(Vec::new()) };
        let removed: Vec<String> = names.iter().filter(|n| deployment.stacks.contains_key(*n)).cloned().collect();
        let next = names.iter().fold(deployment, |d, name| d.without_stack(name));
        self.state.write_deployment(&next)?;
        if let Some(info) = client::running(&self.state).await? {
            client::reload(&self.state, &info).await?;
        }
        Ok(removed)
    }

    /// Stops the service and every process it started, and removes the state folder (executions included).
    /// Returns whether anything was running.
    pub async fn down(&self) -> Result<bool, LocalError> {
        let was_running = client::stop(&self.state).await?;
        self.state.remove()?;
        Ok(was_running)
    }

    /// The running service, when there is one.
    pub async fn running(&self) -> Result<Option<DaemonInfo>, LocalError> {
        client::running(&self.state).await
    }

    /// The running service's status.
    pub async fn status(&self) -> Result<ServiceStatus, LocalError> {
        let info = client::running(&self.state).await?.ok_or(LocalError::NotRunning)?;
        client::status(&self.state, &info).await
    }

    /// Moves the running service's manual clock (`up --local --clock manual`); refused on the wall clock.
    pub async fn move_clock(&self, how: ClockMove) -> Result<ClockReading, LocalError> {
        let info = client::running(&self.state).await?.ok_or(LocalError::NotRunning)?;
        client::move_clock(&self.state, &info, how).await
    }

    /// Replays the recorded execution `arn` against the current code of its function.
    pub async fn replay(&self, arn: &str) -> Result<ReplayReport, LocalError> {
        let info = client::running(&self.state).await?.ok_or(LocalError::NotRunning)?;
        client::replay(&self.state, &info, arn, None).await
    }

    /// Starts a replay (of a stored execution, or of `recorded`) whose process waits before its handler starts.
    pub async fn replay_held(
        &self,
        arn: &str,
        recorded: Option<crate::protocol::RecordedExecution>,
    ) -> Result<crate::service::replay::ReplayAnswer, LocalError> {
        let info = client::running(&self.state).await?.ok_or(LocalError::NotRunning)?;
        client::replay_held(&self.state, &info, arn, recorded).await
    }

    /// Lets a held replay go on; answers its report.
    pub async fn release_replay(&self, session: &str) -> Result<ReplayReport, LocalError> {
        let info = client::running(&self.state).await?.ok_or(LocalError::NotRunning)?;
        client::release_replay(&self.state, &info, session).await
    }

    /// Replays an execution recorded elsewhere (on AWS) against the current code of `recorded.function` here.
    pub async fn replay_recorded(
        &self,
        arn: &str,
        recorded: crate::protocol::RecordedExecution,
    ) -> Result<ReplayReport, LocalError> {
        let info = client::running(&self.state).await?.ok_or(LocalError::NotRunning)?;
        client::replay(&self.state, &info, arn, Some(recorded)).await
    }

    /// What is deployed.
    pub fn deployment(&self) -> Result<Option<Deployment>, LocalError> {
        self.state.read_deployment()
    }
}
