//! The events the deployer reports, each with a stable code and a level, carrying data only: how an event reads is
//! the output hosts' business (`super::text` for people, `super::json` for programs).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::payloads::changes::PlannedChange;
use crate::payloads::changes::ResourceChange;
use crate::payloads::executions::Timestamp;

/// How an event is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    /// Progress, on stderr.
    Info,
    /// Something the user should look at, on stderr.
    Warn,
    /// The answer the command was run for, on stdout.
    Result,
}

/// Something that happened. Serialized as-is for `--json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub(crate) enum Event {
    /// A pipeline stage starts.
    Stage {
        /// `build`, `package`, `publish`, `deploy`, `destroy`, `local`.
        stage: String,
        /// What it does.
        message: String,
    },
    /// A free-form progress line.
    Info {
        /// What happened.
        message: String,
    },
    /// Something that deserves attention but does not stop the command.
    Warning {
        /// What happened and what to do.
        message: String,
    },
    /// A function binary was packaged.
    AssetPackaged {
        /// The asset's construct path.
        asset: String,
        /// The zip's path.
        path: String,
        /// The zip's size in bytes.
        bytes: u64,
        /// Lowercase hex SHA-256 of the zip.
        sha256: String,
        /// The fingerprint of the build's inputs, which names the asset (`<fingerprint>.zip`).
        fingerprint: String,
    },
    /// An asset was uploaded.
    AssetUploaded {
        /// The construct path of the (first) asset it is the object of.
        asset: String,
        /// Object key.
        key: String,
        /// Bucket.
        bucket: String,
        /// Bytes sent.
        bytes: u64,
    },
    /// An asset was already in the bucket.
    AssetSkipped {
        /// Object key.
        key: String,
        /// Bucket.
        bucket: String,
    },
    /// A stack is already as wanted.
    NoChanges {
        /// Stack name.
        stack: String,
    },
    /// A change set was created and will be executed.
    ChangeSet {
        /// Stack name.
        stack: String,
        /// Change set name.
        change_set: String,
        /// One line per resource change: `Add AWS::Lambda::Function Processor`.
        changes: Vec<String>,
    },
    /// One CloudFormation stack event.
    #[expect(clippy::enum_variant_names, reason = "`stack_event` is the JSON name programs match on")]
    StackEvent {
        /// Stack name.
        stack: String,
        /// When it happened (RFC 3339).
        timestamp: String,
        /// Logical id of the resource.
        logical_id: String,
        /// Resource type.
        resource_type: String,
        /// Resource status.
        status: String,
        /// Status reason, if any.
        reason: Option<String>,
    },
    /// Progress over a stack operation.
    Progress {
        /// Stack name.
        stack: String,
        /// Resources in a final state.
        done: usize,
        /// Resources in the operation.
        total: usize,
        /// Logical ids still in progress.
        in_progress: Vec<String>,
    },
    /// A stack operation ended.
    StackDone {
        /// Stack name.
        stack: String,
        /// Final status.
        status: String,
        /// Seconds the operation took.
        seconds: f64,
    },
    /// The resources that failed, root cause first.
    FailureRecap {
        /// Stack name.
        stack: String,
        /// `(logical id, status, reason)` in causal order.
        failures: Vec<(String, String, String)>,
    },
    /// The stack's outputs.
    Outputs {
        /// Stack name.
        stack: String,
        /// Output key to value.
        outputs: BTreeMap<String, String>,
    },
    /// A template was written.
    TemplateWritten {
        /// Stack name.
        stack: String,
        /// Where.
        path: String,
    },
    /// Nothing to delete.
    NothingToDelete {
        /// Stack name.
        stack: String,
    },
    /// What a function answered to `invoke`.
    InvokeResult {
        /// The function invoked (name, with the qualifier for a durable one).
        function: String,
        /// The durable execution it ran, when it is durable.
        execution: Option<String>,
        /// The answer as JSON (a string when it is not JSON).
        result: serde_json::Value,
        /// The answer's bytes as the function sent them, for people (spacing kept).
        #[serde(skip)]
        text: String,
    },
    /// The local target's endpoint.
    Endpoint {
        /// `http://127.0.0.1:<port>`.
        url: String,
    },
    /// How a synthesized template differs from the deployed one.
    TemplateDiff {
        /// Stack name.
        stack: String,
        /// Whether the stack is deployed (without, the diff is against an empty stack).
        deployed: bool,
        /// Resource and output changes, sorted by logical id.
        changes: Vec<ResourceChange>,
        /// The ways the new template widens IAM access.
        widening: Vec<String>,
    },
    /// The change set CloudFormation computed for `diff` (deleted again, never executed).
    ChangeSetPreview {
        /// Stack name.
        stack: String,
        /// One entry per resource change.
        changes: Vec<PlannedChange>,
    },
    /// A stack as deployed on AWS.
    StackStatus {
        /// Stack name.
        stack: String,
        /// CloudFormation's status; `None` when the stack is not deployed.
        status: Option<String>,
        /// When the stack was last created or updated.
        last_changed: Option<Timestamp>,
        /// Its functions.
        functions: Vec<FunctionStatus>,
    },
    /// The local target: its service and the functions of the selected stacks.
    LocalStatus {
        /// The endpoint.
        endpoint: String,
        /// The service's process id.
        pid: u32,
        /// Whether waits, retry delays and callback timeouts fire at once.
        skip_time: bool,
        /// Executions in the store.
        executions: i64,
        /// Running executions.
        running: usize,
        /// The functions, by stack then name.
        functions: Vec<LocalFunctionStatus>,
    },
    /// One line of a function's log.
    LogLine {
        /// The function's logical id.
        function: String,
        /// When it was written, when known.
        timestamp: Option<Timestamp>,
        /// The line.
        message: String,
    },
    /// A stack was removed from the local target, the others keep running.
    LocalStackRemoved {
        /// Stack name.
        stack: String,
    },
    /// The local target was stopped and its state removed.
    LocalStopped {
        /// The state folder removed.
        state_dir: String,
    },
    /// `up --local --watch` deployed and now watches the functions' sources.
    WatchStarted {
        /// The function binaries watched.
        binaries: Vec<String>,
        /// How many source files they build from.
        files: usize,
    },
    /// A watched source file changed: the binaries that build from it are rebuilt.
    WatchChange {
        /// The changed files, relative to the workspace root.
        files: Vec<String>,
        /// The binaries rebuilt.
        binaries: Vec<String>,
    },
    /// A rebuild was deployed into the running local target.
    WatchDeployed {
        /// Seconds the build took.
        build_seconds: f64,
        /// Seconds from the end of the build to the deployment serving.
        deploy_seconds: f64,
        /// Each function of the redeployed stacks with its newest version, and its aliases.
        versions: Vec<WatchedVersion>,
    },
    /// A rebuild failed; what was deployed before keeps serving.
    WatchBuildFailed {
        /// What went wrong.
        message: String,
    },
    /// The watch ended (Ctrl-C); the local target keeps running.
    WatchStopped,
    /// A change was deployed to AWS by a watch (`up --watch` without `--local`).
    WatchUpdated {
        /// Seconds from the change seen to the deployment done, build included.
        seconds: f64,
    },
    /// `up --hotswap` changed a stack's functions through the Lambda API, without CloudFormation.
    Hotswapped {
        /// The stack.
        stack: String,
        /// Each function updated, in order.
        functions: Vec<HotswappedFunction>,
        /// The aliases moved, by logical id.
        aliases: Vec<String>,
        /// Outputs that name an old version until the next full deployment.
        stale_outputs: Vec<String>,
        /// Seconds the swap took.
        seconds: f64,
    },
    /// `up --hotswap` deploys a stack through CloudFormation after all.
    HotswapFallback {
        /// The stack.
        stack: String,
        /// Why the change is not code alone.
        reason: String,
    },
    /// Durable executions of a function, newest first.
    Executions {
        /// The function's name.
        function: String,
        /// The status filter, empty for all.
        statuses: Vec<String>,
        /// The executions.
        executions: Vec<crate::payloads::executions::ExecutionSummary>,
    },
    /// One durable execution: its state, then its operations and invocations in order.
    History {
        /// The execution.
        execution: crate::payloads::executions::ExecutionDetail,
        /// Its timeline.
        rows: Vec<crate::payloads::timeline::Row>,
    },
    /// Something happened in a durable execution being followed.
    ExecutionActivity {
        /// The execution's ARN.
        execution: String,
        /// The history event.
        activity: crate::payloads::executions::HistoryEvent,
    },
    /// A durable execution was started without waiting for it.
    ExecutionStarted {
        /// The execution's ARN.
        execution: String,
        /// Its name, when one was given.
        name: Option<String>,
    },
    /// A callback was completed (or kept alive).
    CallbackSent {
        /// The callback's id.
        callback_id: String,
        /// `succeed`, `fail` or `heartbeat`.
        action: String,
    },
    /// One check of `doctor`.
    Check {
        /// What was checked: `region`, `credentials`, `bootstrap`, `permissions`, `toolchain`.
        check: String,
        /// `ok`, `warn` or `fail`.
        status: CheckStatus,
        /// What was found, and what to do when it is not `ok`.
        detail: String,
    },
    /// The local target's manual clock moved.
    ClockMoved {
        /// The clock now.
        now: Timestamp,
        /// How far it moved, milliseconds.
        moved_ms: i64,
        /// Timers that fell due and were applied.
        fired: usize,
        /// When the next armed timer is due.
        next_timer: Option<Timestamp>,
    },
    /// What `replay` found.
    Replay {
        /// The report.
        report: local::service::replay::ReplayReport,
    },
    /// `replay --wait-for-debugger`: the replay's process waits before its handler starts.
    ReplayHeld {
        /// The execution replayed.
        execution: String,
        /// The process to attach a debugger to.
        pid: u32,
    },
    /// A durable execution was stopped.
    ExecutionStopped {
        /// The execution's ARN.
        execution: String,
        /// When the service stopped it.
        stopped_at: Option<crate::payloads::executions::Timestamp>,
    },
}

/// How one check of `doctor` came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CheckStatus {
    /// Ready.
    Ok,
    /// Works, but deserves a look (or could not be checked).
    Warn,
    /// Stops a deployment.
    Fail,
}

impl CheckStatus {
    /// `ok`, `warn`, `fail`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// One function of a stack deployed on AWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FunctionStatus {
    /// Logical id.
    pub logical_id: String,
    /// Deployed name; `None` when the stack does not hold it.
    pub name: Option<String>,
    /// Whether it is durable.
    pub durable: bool,
    /// The version the stack published of it (earlier ones are retained outside the stack); `None` when unknown.
    pub version: Option<String>,
    /// Its alias and the version it points at, when the stack declares one.
    pub alias: Option<AliasStatus>,
}

/// An alias and its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AliasStatus {
    /// The alias's name.
    pub name: String,
    /// The version it points at; `None` when the alias does not exist.
    pub version: Option<String>,
}

/// A function's newest version after a watch rebuild.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct WatchedVersion {
    /// The function's logical id.
    pub function: String,
    /// Its newest published version.
    pub version: u64,
    /// Its aliases with the version each points at.
    pub aliases: BTreeMap<String, u64>,
}

/// One function `up --hotswap` updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct HotswappedFunction {
    /// Its name.
    pub function: String,
    /// Whether its code changed (else only its environment, naming a republished version).
    pub code: bool,
    /// The version it published (`$LATEST` when it publishes none).
    pub version: String,
}

/// One function on the local target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LocalFunctionStatus {
    /// Its stack.
    pub stack: String,
    /// Its logical id.
    pub logical_id: String,
    /// Its name.
    pub name: String,
    /// Whether it is durable.
    pub durable: bool,
    /// Invocations since the service started.
    pub invocations: u64,
    /// Published versions.
    pub versions: Vec<u64>,
    /// Aliases to version numbers.
    pub aliases: BTreeMap<String, u64>,
    /// Processes running it.
    pub processes: usize,
}

impl Event {
    /// The event's stable code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Stage { .. } => "DEPLOYER_I0001",
            Self::Info { .. } => "DEPLOYER_I0002",
            Self::Warning { .. } => "DEPLOYER_W0003",
            Self::AssetPackaged { .. } => "DEPLOYER_I1001",
            Self::AssetUploaded { .. } => "DEPLOYER_I2001",
            Self::AssetSkipped { .. } => "DEPLOYER_I2002",
            Self::NoChanges { .. } => "DEPLOYER_I3001",
            Self::ChangeSet { .. } => "DEPLOYER_I3002",
            Self::StackEvent { .. } => "DEPLOYER_I4001",
            Self::Progress { .. } => "DEPLOYER_I4002",
            Self::StackDone { .. } => "DEPLOYER_I4003",
            Self::FailureRecap { .. } => "DEPLOYER_E4004",
            Self::Outputs { .. } => "DEPLOYER_R5001",
            Self::TemplateWritten { .. } => "DEPLOYER_R5002",
            Self::NothingToDelete { .. } => "DEPLOYER_I3003",
            Self::InvokeResult { .. } => "DEPLOYER_R5003",
            Self::Endpoint { .. } => "DEPLOYER_R5004",
            Self::TemplateDiff { .. } => "DEPLOYER_R5005",
            Self::ChangeSetPreview { .. } => "DEPLOYER_R5006",
            Self::StackStatus { .. } => "DEPLOYER_R7001",
            Self::LocalStatus { .. } => "DEPLOYER_R7002",
            Self::LogLine { .. } => "DEPLOYER_R7003",
            Self::LocalStackRemoved { .. } => "DEPLOYER_R7004",
            Self::LocalStopped { .. } => "DEPLOYER_R7005",
            Self::WatchStarted { .. } => "DEPLOYER_I8001",
            Self::WatchChange { .. } => "DEPLOYER_I8002",
            Self::WatchDeployed { .. } => "DEPLOYER_I8003",
            Self::WatchBuildFailed { .. } => "DEPLOYER_W8004",
            Self::WatchStopped => "DEPLOYER_I8005",
            Self::WatchUpdated { .. } => "DEPLOYER_I8006",
            Self::Hotswapped { .. } => "DEPLOYER_I3004",
            Self::HotswapFallback { .. } => "DEPLOYER_W3005",
            Self::Executions { .. } => "DEPLOYER_R6001",
            Self::History { .. } => "DEPLOYER_R6002",
            Self::ExecutionActivity { .. } => "DEPLOYER_I6003",
            Self::ExecutionStarted { .. } => "DEPLOYER_R6004",
            Self::ExecutionStopped { .. } => "DEPLOYER_R6005",
            Self::CallbackSent { .. } => "DEPLOYER_R6006",
            Self::Check { .. } => "DEPLOYER_R8001",
            Self::ClockMoved { .. } => "DEPLOYER_R6007",
            Self::Replay { .. } => "DEPLOYER_R6008",
            Self::ReplayHeld { .. } => "DEPLOYER_W6009",
        }
    }

    /// How it is shown.
    pub(crate) fn level(&self) -> Level {
        match self {
            Self::Warning { .. }
            | Self::FailureRecap { .. }
            | Self::WatchBuildFailed { .. }
            | Self::Hotswapped { .. }
            | Self::HotswapFallback { .. }
            | Self::ReplayHeld { .. } => Level::Warn,
            Self::Outputs { .. }
            | Self::TemplateWritten { .. }
            | Self::InvokeResult { .. }
            | Self::Endpoint { .. }
            | Self::TemplateDiff { .. }
            | Self::ChangeSetPreview { .. }
            | Self::StackStatus { .. }
            | Self::LocalStatus { .. }
            | Self::LogLine { .. }
            | Self::LocalStackRemoved { .. }
            | Self::LocalStopped { .. }
            | Self::Executions { .. }
            | Self::History { .. }
            | Self::ExecutionStarted { .. }
            | Self::ExecutionStopped { .. }
            | Self::CallbackSent { .. }
            | Self::Check { .. }
            | Self::ClockMoved { .. }
            | Self::Replay { .. } => Level::Result,
            _ => Level::Info,
        }
    }
}
