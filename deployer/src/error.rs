//! Every error a user can hit, each saying what went wrong and what to do next.

use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

/// Result type of the deployer.
pub type Result<T, E = DeployerError> = std::result::Result<T, E>;

/// What went wrong, by pipeline stage.
#[derive(Debug, Error, Diagnostic)]
#[non_exhaustive]
pub enum DeployerError {
    /// A tool the deployer needs is not installed.
    #[error("`{tool}` is not available: {install}")]
    #[diagnostic(code(deployer::tool_missing))]
    ToolMissing {
        /// The missing tool.
        tool: String,
        /// The exact command or step that installs it.
        install: String,
        /// Why running it failed, when it was tried.
        #[source]
        source: Option<std::io::Error>,
    },

    /// The cargo workspace could not be read.
    #[error("{0}")]
    #[diagnostic(code(deployer::workspace))]
    Workspace(String),

    /// The stack definition is invalid.
    #[error("the stack definition is invalid: {0}")]
    #[diagnostic(
        code(deployer::synth),
        help("fix the construct named above in the app's stacks, or deploy as the message says")
    )]
    Synth(constructs::SynthError),

    /// `deployer.toml` or `--app` does not name a usable app.
    #[error("{0}")]
    #[diagnostic(code(deployer::config))]
    Config(String),

    /// The app ran and reported an error (its own message, which names the construct at fault).
    #[error("the app failed: {0}")]
    #[diagnostic(code(deployer::app), help("fix the app's stacks; run `deployer synth` to see it again"))]
    App(String),

    /// The app's cloud assembly could not be read.
    #[error(transparent)]
    #[diagnostic(code(deployer::assembly))]
    Assembly(#[from] constructs::assembly::AssemblyError),

    /// Compiling the functions failed.
    #[error("{0}")]
    #[diagnostic(code(deployer::build))]
    Build(String),

    /// Packaging a binary failed.
    #[error("cannot package {path}: {source}")]
    #[diagnostic(code(deployer::package))]
    Package {
        /// The file being packaged or written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// A file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    #[diagnostic(code(deployer::io))]
    Io {
        /// What was being done ("read", "write", "create").
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// No usable AWS region or credentials.
    #[error("{0}")]
    #[diagnostic(code(deployer::aws_config))]
    AwsConfig(String),

    /// An AWS API call failed.
    #[error("{operation} failed: {message}")]
    #[diagnostic(code(deployer::aws))]
    Aws {
        /// The API operation, e.g. `CloudFormation.CreateChangeSet`.
        operation: &'static str,
        /// The service's error code and message, or the transport error.
        message: String,
    },

    /// The deployment did not reach a successful state.
    #[error("{0}")]
    #[diagnostic(code(deployer::deploy))]
    DeployFailed(String),

    /// The caller may not make calls a command is about to make (IAM's policy simulator says so): the message
    /// lists them and the policy to add.
    #[error("{0}")]
    #[diagnostic(code(deployer::missing_permissions))]
    MissingPermissions(String),

    /// `doctor` found something that stops a deployment; the message lists what and what to do.
    #[error("{0}")]
    #[diagnostic(code(deployer::not_ready))]
    NotReady(String),

    /// The asset bucket does not belong to the caller's account (or the caller may not use it): nothing is sent to
    /// it.
    #[error("{0}")]
    #[diagnostic(code(deployer::bucket_not_owned))]
    BucketNotOwned(String),

    /// An AWS operation took longer than the deployer waits for it; the message says what still runs in AWS and
    /// how to look at it.
    #[error("{0}")]
    #[diagnostic(code(deployer::timed_out))]
    TimedOut(String),

    /// The user refused, or could not be asked, to approve a change.
    #[error("{0}")]
    #[diagnostic(code(deployer::approval))]
    ApprovalRequired(String),

    /// Ctrl-C stopped the run; the message says what state it left behind and how to continue.
    #[error("interrupted: {0}")]
    #[diagnostic(code(deployer::interrupted))]
    Interrupted(String),

    /// Bad input on the command line.
    #[error("{0}")]
    #[diagnostic(code(deployer::usage))]
    Usage(String),

    /// `replay`: the current code does not make the recorded decisions (or could not be replayed); the report was
    /// printed before.
    #[error("{0}")]
    #[diagnostic(code(deployer::replay_diverged))]
    ReplayDiverged(String),

    /// A stack, function, execution or callback that does not exist where the command looked.
    #[error("{what}: {remedy}")]
    #[diagnostic(code(deployer::not_found))]
    NotFound {
        /// What was looked for, and where.
        what: String,
        /// What to do: the choices there are, or the command that creates it.
        remedy: String,
        /// The service's answer, when a service said so.
        #[source]
        source: Option<BoxError>,
    },

    /// A function answered its invocation with an error.
    #[error("the function {function} failed ({error_type}): {payload}{remedy}")]
    #[diagnostic(code(deployer::function_failed))]
    FunctionFailed {
        /// The function (name and qualifier) that was invoked.
        function: String,
        /// Lambda's `X-Amz-Function-Error` (`Unhandled`, `Handled`).
        error_type: String,
        /// The error payload the function returned.
        payload: String,
        /// What to do, as a sentence starting with `. `, or empty.
        remedy: String,
    },

    /// A durable execution ended in another state than SUCCEEDED.
    #[error("the durable execution {execution} ended {status}{}: {remedy}", error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())]
    #[diagnostic(code(deployer::execution_failed))]
    ExecutionFailed {
        /// The execution's name.
        execution: String,
        /// Its final status.
        status: String,
        /// Its error, summarized.
        error: Option<String>,
        /// What to do next.
        remedy: String,
    },

    /// The request contradicts the state things are in: a deployment of the stack is running, an execution already
    /// ended, a name is already used.
    #[error("{what}: {remedy}")]
    #[diagnostic(code(deployer::conflict))]
    Conflict {
        /// What is in the way.
        what: String,
        /// What to do.
        remedy: String,
    },

    /// The command cannot do this on this target, or with this kind of function or asset.
    #[error("{what}: {remedy}")]
    #[diagnostic(code(deployer::unsupported))]
    Unsupported {
        /// What cannot be done.
        what: String,
        /// What to do instead.
        remedy: String,
    },

    /// The local target's own error, whose message says what to do.
    #[error(transparent)]
    #[diagnostic(code(deployer::local))]
    LocalTarget(#[from] local::LocalError),
}

/// Not a `#[from]`: the message already holds the synth error's, and a source would print it a second time.
impl From<constructs::SynthError> for DeployerError {
    fn from(error: constructs::SynthError) -> Self {
        Self::Synth(error)
    }
}

/// A cause kept as an error's source.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl DeployerError {
    /// Wraps an I/O error with the action and path it happened on.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action, path: path.into(), source }
    }
}
