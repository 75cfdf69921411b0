//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use stacks::Architecture;

use crate::cfn::approval::RequireApproval;

/// Build, deploy, run and watch AWS Lambda durable functions.
#[derive(Debug, Parser)]
#[command(name = "deployer", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// AWS named profile (else the standard credential chain).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS region (else `AWS_REGION` or the profile's region).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Name of the app stack.
    #[arg(long, global = true, default_value = "durable-invoke-lambda", value_parser = parse_stack_name)]
    pub stack_name: String,
    /// Lambda architecture of the functions.
    #[arg(long, global = true, default_value = "arm64", value_parser = parse_arch)]
    pub arch: Architecture,
    /// Run against the local target on this machine instead of AWS.
    #[arg(long, global = true)]
    pub local: bool,
    /// Print machine-readable JSON lines instead of prose.
    #[arg(long, global = true)]
    pub json: bool,
    /// More detail (-v: plain progress lines and info logs, -vv: debug logs).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Synthesize the stacks' CloudFormation templates into a folder (builds the functions to know their hashes).
    Synth(SynthArgs),
    /// Build, package, publish and deploy the stacks (or start them locally with --local).
    Up(UpArgs),
    /// Delete the app stack (with --all also the bootstrap stack and its assets; with --local stop the local target).
    Down(DownArgs),
    /// Show what `up` would change.
    Diff,
    /// Invoke the durable function's `live` alias with a payload and print its result.
    Invoke(InvokeArgs),
    /// List the durable function's executions, newest first.
    Executions(ExecutionsArgs),
    /// Show one execution's operations and invocations in order.
    History(HistoryArgs),
    /// Stop a running execution.
    Stop(StopArgs),
    /// Complete a durable execution's callback as the external system would: succeed, fail or heartbeat.
    Callback(CallbackArgs),
    /// Show the local target's state: endpoint, process, functions.
    Status,
    /// Print the local target's function logs.
    Logs(LogsArgs),
    /// Run the local target's service in the foreground (started in the background by `up --local`).
    #[command(hide = true, name = LOCAL_DAEMON)]
    LocalDaemon(LocalDaemonArgs),
}

/// `synth`.
#[derive(Debug, Clone, Args)]
pub struct SynthArgs {
    /// Folder for the templates (default: target/deployer/synth).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The hidden subcommand that runs the local service.
pub const LOCAL_DAEMON: &str = "local-daemon";

/// `up`.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// When to ask before deploying.
    #[arg(long, value_enum, default_value_t = RequireApproval::Broadening)]
    pub require_approval: RequireApproval,
    /// Also write the stack outputs to this JSON file.
    #[arg(long)]
    pub outputs_file: Option<PathBuf>,
    /// With --local: fire waits, step retry delays and callback timeouts at once (the history keeps the times the
    /// functions asked for), to test long workflows in seconds.
    #[arg(long)]
    pub skip_time: bool,
    /// With --local: give functions placeholder keys instead of your AWS credentials (from the standard chain or
    /// --profile), so code that calls other AWS services cannot reach them.
    #[arg(long)]
    pub no_credentials: bool,
}

/// `down`.
#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Also delete the bootstrap stack, after emptying its asset bucket (every version).
    #[arg(long)]
    pub all: bool,
}

/// `invoke`.
#[derive(Debug, Clone, Args)]
pub struct InvokeArgs {
    /// The event: JSON text, or @path to read it from a file.
    #[arg(long, default_value = r#"{"values": [10, 20, 30, 40, 50]}"#)]
    pub payload: String,
    /// Start the execution and return at once (an `Event` invocation); prints the execution's ARN.
    #[arg(long = "async")]
    pub asynchronous: bool,
    /// Name the execution (1 to 64 letters, digits, `-`, `_`): starting the same name again with the same payload
    /// returns the same execution instead of starting another.
    #[arg(long, value_parser = parse_execution_name)]
    pub name: Option<String>,
    /// Start the execution asynchronously, show its operations live until it ends, then print its result.
    #[arg(long)]
    pub wait: bool,
}

/// `executions`.
#[derive(Debug, Clone, Args)]
pub struct ExecutionsArgs {
    /// Only executions with this status (repeat for several).
    #[arg(long, value_enum)]
    pub status: Vec<ExecutionStatusArg>,
    /// At most this many executions.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,
}

/// A durable execution status, as `--status` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExecutionStatusArg {
    /// Still running.
    Running,
    /// Ended with a result.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Ran out of time.
    TimedOut,
    /// Stopped with `stop`.
    Stopped,
}

impl ExecutionStatusArg {
    /// The API's spelling: `RUNNING`, `TIMED_OUT`, ...
    pub fn as_api(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Stopped => "STOPPED",
        }
    }
}

/// `history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The execution: its ARN, its name, or `latest`.
    #[arg(default_value = "latest")]
    pub execution: String,
}

/// `stop`.
#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// The execution: its ARN, its name, or `latest`.
    pub execution: String,
}

/// `callback`.
#[derive(Debug, Clone, Args)]
pub struct CallbackArgs {
    /// What to send.
    #[command(subcommand)]
    pub action: CallbackAction,
}

/// What `callback` sends.
#[derive(Debug, Clone, Subcommand)]
pub enum CallbackAction {
    /// The callback succeeded: its result goes to the waiting operation.
    Succeed {
        /// The callback's id (`CallbackId` in the history's `CallbackStarted` event).
        callback_id: String,
        /// The result: JSON text, or @path to read it from a file.
        #[arg(long, default_value = "null")]
        result: String,
    },
    /// The callback failed: the waiting operation raises this error.
    Fail {
        /// The callback's id.
        callback_id: String,
        /// `ErrorType`.
        #[arg(long)]
        error_type: Option<String>,
        /// `ErrorMessage`.
        #[arg(long)]
        error_message: Option<String>,
        /// `ErrorData`.
        #[arg(long)]
        error_data: Option<String>,
    },
    /// The external system still works on it: resets the callback's heartbeat timeout.
    Heartbeat {
        /// The callback's id.
        callback_id: String,
    },
}

/// `logs`.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Only this function (its logical id or local name).
    pub function: Option<String>,
}

/// `local-daemon`.
#[derive(Debug, Clone, Args)]
pub struct LocalDaemonArgs {
    /// The state folder the daemon keeps its files in.
    #[arg(long)]
    pub state_dir: PathBuf,
}

fn parse_arch(text: &str) -> Result<Architecture, String> {
    text.parse().map_err(|_| format!("unknown architecture `{text}`: use `arm64` or `x86_64`"))
}

fn parse_execution_name(text: &str) -> Result<String, String> {
    if crate::durable::api::is_execution_name(text) {
        Ok(text.to_owned())
    } else {
        Err(format!("`{text}` is not a valid execution name: use 1 to 64 letters, digits, `-` or `_`"))
    }
}

/// CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters.
pub fn parse_stack_name(text: &str) -> Result<String, String> {
    let valid = text.len() <= 128
        && text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a valid stack name: start with a letter, then use only letters, digits and hyphens (at \
             most 128 characters)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_follow_cloudformation_rules() {
        assert!(parse_stack_name("durable-invoke-lambda").is_ok());
        assert!(parse_stack_name("1abc").is_err());
        assert!(parse_stack_name("my_stack").is_err());
        assert!(parse_stack_name("").is_err());
        assert!(parse_stack_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn an_arch_typo_names_the_valid_values() {
        let error = parse_arch("amd64").unwrap_err();
        assert!(error.contains("arm64") && error.contains("x86_64"), "{error}");
    }
}
