//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use constructs::Architecture;

use crate::cfn::approval::RequireApproval;

/// Build, deploy, run and watch AWS Lambda durable functions.
#[derive(Debug, Parser)]
#[command(name = "deployer", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalArgs {
    /// AWS named profile (else the standard credential chain).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS region (else `AWS_REGION` or the profile's region).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// The app: the cargo package whose binary writes the cloud assembly (default: `[app] package` in
    /// deployer.toml).
    #[arg(long, global = true, value_name = "PACKAGE")]
    pub app: Option<String>,
    /// The environment (from deployer.toml) to synthesize for and deploy to: its account, region, stack-name prefix
    /// and values.
    #[arg(long, global = true, env = "DEPLOYER_ENV", value_name = "NAME")]
    pub env: Option<String>,
    /// CloudFormation name of the app's default stack (the pattern's, construct id `Pattern`, in this project).
    #[arg(long, global = true, value_parser = parse_stack_name)]
    pub stack_name: Option<String>,
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
    /// Which bootstrap to deploy with.
    #[command(flatten)]
    pub bootstrap: BootstrapOptions,
}

/// Which bootstrap stack the app deploys with.
#[derive(Debug, Clone, Args)]
pub(crate) struct BootstrapOptions {
    /// Bootstrap qualifier: tells several bootstraps of one account and region apart (its asset bucket, execution
    /// role and permissions boundary carry it), as CDK's does; 1 to 10 lowercase letters and digits.
    #[arg(long, global = true, default_value = constructs::qualifier::DEFAULT_QUALIFIER, value_parser = parse_qualifier)]
    pub qualifier: String,
}

/// What `up` creates the bootstrap stack with.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ExecutionPolicyArgs {
    /// Managed policy for the CloudFormation execution role the bootstrap creates (repeat for several); `default`:
    /// the policy derived from the app (what its resource types need, on its resources), alone or beside the ARNs
    /// given (it covers what it can, they the rest). Kept by later runs.
    #[arg(long = "execution-policy", value_name = "POLICY ARN|default", value_parser = parse_execution_policy)]
    pub execution_policies: Vec<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write the selected stacks' CloudFormation templates (and the bootstrap stack's) into a folder, without
    /// building anything: an asset is named by the fingerprint of its build inputs.
    Synth(SynthArgs),
    /// Build, package, publish and deploy the selected stacks (or run them locally with --local).
    Up(UpArgs),
    /// Delete the selected stacks (--all: every stack of the app and the bootstrap stack with its assets; with
    /// --local and no stack: stop the local target and remove its state).
    Down(DownArgs),
    /// Show what `up` would change in the selected stacks, without building anything.
    Diff(DiffArgs),
    /// Invoke a function (by default the stack's durable function, through its alias) and print its result.
    Invoke(InvokeArgs),
    /// List a durable function's executions, newest first.
    Executions(ExecutionsArgs),
    /// Show one execution's operations and invocations in order.
    History(HistoryArgs),
    /// Stop a running execution.
    Stop(StopArgs),
    /// Complete a durable execution's callback as the external system would: succeed, fail or heartbeat.
    Callback(CallbackArgs),
    /// Show the selected stacks as deployed: status, functions, versions and aliases (with --local also the
    /// local service).
    Status(StatusArgs),
    /// Print the functions' logs: CloudWatch Logs on AWS, the local target's log files with --local.
    Logs(LogsArgs),
    /// Check, in seconds and changing nothing, what a deployment needs: credentials, region, the bootstrap stack
    /// and its version, the permissions `up` will use (IAM's policy simulator), and the build toolchain.
    Doctor(DoctorArgs),
    /// Move the local target's manual clock (`up --local --clock manual`): the waits, retry delays and timeouts it
    /// passes fire, and the command returns once they were applied.
    Time(TimeArgs),
    /// Run a recorded execution's history against the current code of its function on the local target and report
    /// whether the code makes the same decisions (operations in the same order, with the same types and names) or
    /// where it diverges; nothing is recorded and no step runs twice. With --local the execution is the local
    /// target's; without, it is read from AWS (`GetDurableExecutionHistory`) and replayed against the same stack's
    /// function deployed locally (`up --local` first).
    Replay(ReplayArgs),
    /// Run the local target's service in the foreground (started in the background by `up --local`).
    #[command(hide = true, name = LOCAL_DAEMON)]
    LocalDaemon(LocalDaemonArgs),
}

/// Stacks by construct id or CloudFormation name, globs `*` and `?` allowed (quote them); none: the app's default
/// stack.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct StackSelectors {
    /// Stacks by construct id (`Pattern`) or stack name (`durable-invoke-lambda`), globs allowed; default: the app's
    /// default stack.
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
}

/// Which function of which stack.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct FunctionArgs {
    /// The stack holding the function (construct id or name); default: the app's default stack.
    #[arg(long, value_name = "STACK")]
    pub stack: Option<String>,
    /// The function: its construct id or path, logical id, deployed name, alias, or a stack output naming it;
    /// default: the stack's durable function, when it has exactly one.
    #[arg(long, value_name = "FUNCTION")]
    pub function: Option<String>,
}

/// `synth`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SynthArgs {
    /// The stacks to synthesize.
    #[command(flatten)]
    pub selectors: StackSelectors,
    /// Folder for the templates (default: target/deployer/synth).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `diff`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DiffArgs {
    /// The stacks to compare.
    #[command(flatten)]
    pub selectors: StackSelectors,
}

/// `status`.
#[derive(Debug, Clone, Args)]
pub(crate) struct StatusArgs {
    /// The stacks to show.
    #[command(flatten)]
    pub selectors: StackSelectors,
}

/// The hidden subcommand that runs the local service (the local target starts this very binary with it).
pub(crate) const LOCAL_DAEMON: &str = crate::target::local::DAEMON_SUBCOMMAND;

/// `up`.
#[derive(Debug, Clone, Args)]
#[expect(clippy::struct_excessive_bools, reason = "command-line switches, each its own flag")]
pub(crate) struct UpArgs {
    /// The stacks to deploy (the bootstrap stack comes first whatever the selection).
    #[command(flatten)]
    pub selectors: StackSelectors,
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
    /// With --local: the clock the local target runs on: `wall`, or `manual`, a virtual clock that stands still
    /// until `deployer time advance <duration> --local` or `deployer time next --local` moves it.
    #[arg(long, value_enum, conflicts_with = "skip_time")]
    pub clock: Option<ClockArg>,
    /// With --local: give functions placeholder keys instead of your AWS credentials (from the standard chain or
    /// --profile), so code that calls other AWS services cannot reach them.
    #[arg(long)]
    pub no_credentials: bool,
    /// After deploying, stay in the foreground and watch the functions' sources; each saved change rebuilds only the
    /// functions built from the changed files and redeploys them: with --local into the running local target (new
    /// versions, aliases moved), on AWS as `--hotswap` does (refused for a protected environment). A build error is
    /// shown and the previous version keeps serving. Ctrl-C stops.
    #[arg(long)]
    pub watch: bool,
    /// On AWS, for development stacks (as `cdk deploy --hotswap`): when only function code changed, update the
    /// code, publish the versions and move the aliases through the Lambda API, without CloudFormation; the stack
    /// drifts from its template until the next `up` without it. Any other change deploys as usual. Refused for a
    /// protected environment.
    #[arg(long, conflicts_with = "watch")]
    pub hotswap: bool,
    /// The bootstrap's execution role.
    #[command(flatten)]
    pub bootstrap: ExecutionPolicyArgs,
}

/// `doctor`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DoctorArgs {
    /// The stacks whose deployment is checked (as `up` takes them).
    #[command(flatten)]
    pub selectors: StackSelectors,
}

/// The clock `up --local --clock` runs the local target on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ClockArg {
    /// The wall clock (the default).
    Wall,
    /// A virtual clock moved by `deployer time`.
    Manual,
}

/// `time`.
#[derive(Debug, Clone, Args)]
pub(crate) struct TimeArgs {
    /// How to move the clock.
    #[command(subcommand)]
    pub action: TimeAction,
}

/// How `time` moves the clock.
#[derive(Debug, Clone, Copy, Subcommand)]
pub(crate) enum TimeAction {
    /// Move the clock forward by a duration: `30s`, `10m`, `2h`, `7d`.
    Advance {
        /// How far.
        #[arg(value_parser = parse_duration)]
        duration: std::time::Duration,
    },
    /// Move the clock to the next armed timer (a wait's end, a step's retry, a callback's timeout).
    Next,
}

/// `replay`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReplayArgs {
    /// The durable function whose executions a name or `latest` refers to.
    #[command(flatten)]
    pub target: FunctionArgs,
    /// The execution: its ARN, its name, or `latest`.
    #[arg(default_value = "latest")]
    pub execution: String,
    /// Start the replay's function process and stop before its handler starts: the process id is printed for a
    /// debugger to attach; Enter lets the handler run (its timeout lifted to an hour).
    #[arg(long)]
    pub wait_for_debugger: bool,
}

/// `down`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DownArgs {
    /// The stacks to delete (with --local and none named: everything, and the local state).
    #[command(flatten)]
    pub selectors: StackSelectors,
    /// Delete every stack of the app this tool deployed, then the bootstrap stack after emptying its asset bucket
    /// (every version); with --local, stop the local target.
    #[arg(long, conflicts_with = "stacks")]
    pub all: bool,
}

/// `invoke`.
#[derive(Debug, Clone, Args)]
pub(crate) struct InvokeArgs {
    /// The function to invoke.
    #[command(flatten)]
    pub target: FunctionArgs,
    /// The event: JSON text, or @path to read it from a file; default: the function's example event, as its stack
    /// declares it.
    #[arg(long)]
    pub payload: Option<String>,
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
pub(crate) struct ExecutionsArgs {
    /// The durable function.
    #[command(flatten)]
    pub target: FunctionArgs,
    /// Only executions with this status (repeat for several).
    #[arg(long, value_enum)]
    pub status: Vec<ExecutionStatusArg>,
    /// At most this many executions.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,
}

/// A durable execution status, as `--status` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExecutionStatusArg {
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
    pub(crate) fn as_api(self) -> &'static str {
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
pub(crate) struct HistoryArgs {
    /// The durable function whose executions a name or `latest` refers to.
    #[command(flatten)]
    pub target: FunctionArgs,
    /// The execution: its ARN, its name, or `latest`.
    #[arg(default_value = "latest")]
    pub execution: String,
    /// Start the replay's function process and stop before its handler starts: the process id is printed for a
    /// debugger to attach; Enter lets the handler run (its timeout lifted to an hour).
    #[arg(long)]
    pub wait_for_debugger: bool,
}

/// `stop`.
#[derive(Debug, Clone, Args)]
pub(crate) struct StopArgs {
    /// The durable function whose executions a name or `latest` refers to.
    #[command(flatten)]
    pub target: FunctionArgs,
    /// The execution: its ARN, its name, or `latest`.
    pub execution: String,
}

/// `callback`.
#[derive(Debug, Clone, Args)]
pub(crate) struct CallbackArgs {
    /// What to send.
    #[command(subcommand)]
    pub action: CallbackAction,
}

/// What `callback` sends.
#[derive(Debug, Clone, Subcommand)]
pub(crate) enum CallbackAction {
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
pub(crate) struct LogsArgs {
    /// The stack (construct id or name); default: the app's default stack.
    #[arg(long, value_name = "STACK")]
    pub stack: Option<String>,
    /// Only this function (as for `invoke`); default: every function of the stack.
    #[arg(long, value_name = "FUNCTION")]
    pub function: Option<String>,
    /// Only lines of this long ago or newer: `30s`, `10m`, `2h`, `1d` (default on AWS: 10m; on the local target:
    /// the whole log).
    #[arg(long, value_parser = parse_duration)]
    pub since: Option<std::time::Duration>,
    /// Keep printing new lines as they come, until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Only lines that name this durable execution (its ARN, or its name among the stack's durable functions).
    #[arg(long, value_name = "ARN or NAME")]
    pub execution: Option<String>,
}

/// `local-daemon`.
#[derive(Debug, Clone, Args)]
pub(crate) struct LocalDaemonArgs {
    /// The state folder the daemon keeps its files in.
    #[arg(long)]
    pub state_dir: PathBuf,
}

fn parse_qualifier(text: &str) -> Result<String, String> {
    constructs::qualifier::check(text).map(|()| text.to_owned()).map_err(|_| {
        format!("`{text}` is not a valid qualifier: use 1 to 10 lowercase letters and digits (e.g. `team2`)")
    })
}

/// A managed policy's ARN (`arn:<partition>:iam::<account or aws>:policy/<path and name>`), or `default`.
fn parse_execution_policy(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let arn = matches!(parts[..], ["arn", partition, "iam", "", owner, resource]
        if partition.starts_with("aws") && (owner == "aws" || owner.len() == 12) && resource.starts_with("policy/")
            && resource.len() > "policy/".len());
    if arn || text == crate::bootstrap::DEFAULT_EXECUTION_POLICY {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a managed policy ARN: pass one as `arn:aws:iam::123456789012:policy/name` (or \
             `arn:aws:iam::aws:policy/...`), or `default` for the policy derived from the app"
        ))
    }
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

/// A duration as `--since` takes it: a number and a unit, `s`, `m`, `h` or `d`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let invalid = || format!("`{text}` is not a duration: write a number and a unit, as in `30s`, `10m`, `2h` or `1d`");
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    number.checked_mul(seconds).map(std::time::Duration::from_secs).ok_or_else(invalid)
}

/// CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters.
pub(crate) fn parse_stack_name(text: &str) -> Result<String, String> {
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
    #![allow(clippy::unwrap_used, clippy::panic)]
    use clap::Parser;

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
    fn durations_take_a_number_and_a_unit() {
        assert_eq!(parse_duration("10m"), Ok(std::time::Duration::from_mins(10)));
        assert_eq!(parse_duration("1d"), Ok(std::time::Duration::from_hours(24)));
        for bad in ["", "10", "m", "10x", "-1m", "99999999999999999999d"] {
            assert!(parse_duration(bad).unwrap_err().contains("`10m`"), "{bad}");
        }
    }

    #[test]
    fn stack_selectors_and_functions_parse() {
        let cli = Cli::try_parse_from(["deployer", "up", "--local", "Pattern", "durable-conformance-*"]).unwrap();
        let Command::Up(args) = cli.command else { panic!() };
        assert_eq!(args.selectors.stacks, ["Pattern", "durable-conformance-*"]);
        let cli = Cli::try_parse_from(["deployer", "invoke", "--stack", "ToolkitFixture", "--function", "First"]);
        let Command::Invoke(args) = cli.unwrap().command else { panic!() };
        assert_eq!(
            (args.target.stack.as_deref(), args.target.function.as_deref()),
            (Some("ToolkitFixture"), Some("First"))
        );
        assert!(args.payload.is_none(), "the payload defaults to the stack's example event, not to a CLI value");
        assert!(Cli::try_parse_from(["deployer", "down", "--all", "Pattern"]).is_err(), "--all names no stack");
    }

    #[test]
    fn qualifiers_and_execution_policies_are_checked() {
        let cli = Cli::try_parse_from(["deployer", "synth", "--qualifier", "team2"]).unwrap();
        assert_eq!(cli.global.bootstrap.qualifier, "team2");
        let cli = Cli::try_parse_from(["deployer", "synth"]).unwrap();
        assert_eq!(cli.global.bootstrap.qualifier, constructs::qualifier::DEFAULT_QUALIFIER);
        let error = Cli::try_parse_from(["deployer", "up", "--qualifier", "Team_2"]).unwrap_err().to_string();
        assert!(error.contains("lowercase letters and digits"), "{error}");
        let arn = "arn:aws:iam::123456789012:policy/deploy/app";
        let cli = Cli::try_parse_from(["deployer", "up", "--execution-policy", arn, "--execution-policy", "default"]);
        let Command::Up(args) = cli.unwrap().command else { panic!() };
        assert_eq!(args.bootstrap.execution_policies, [arn, "default"]);
        for bad in ["AdministratorAccess", "arn:aws:iam::123:policy/x", "arn:aws:iam::aws:role/x"] {
            let error = Cli::try_parse_from(["deployer", "up", "--execution-policy", bad]).unwrap_err().to_string();
            assert!(error.contains("not a managed policy ARN"), "{bad}: {error}");
        }
        assert!(Cli::try_parse_from(["deployer", "doctor", "Pattern"]).is_ok());
    }

    #[test]
    fn the_clock_commands_parse() {
        let cli = Cli::try_parse_from(["deployer", "up", "--local", "--clock", "manual"]).unwrap();
        let Command::Up(args) = cli.command else { panic!() };
        assert_eq!(args.clock, Some(ClockArg::Manual));
        assert!(Cli::try_parse_from(["deployer", "up", "--local", "--clock", "manual", "--skip-time"]).is_err());
        let cli = Cli::try_parse_from(["deployer", "time", "advance", "7d", "--local"]).unwrap();
        let Command::Time(TimeArgs { action: TimeAction::Advance { duration } }) = cli.command else { panic!() };
        assert_eq!(duration, std::time::Duration::from_hours(168));
        assert!(Cli::try_parse_from(["deployer", "time", "advance", "soon"]).is_err());
        let cli = Cli::try_parse_from(["deployer", "replay", "--local", "run-1"]).unwrap();
        let Command::Replay(args) = cli.command else { panic!() };
        assert_eq!(args.execution, "run-1");
    }

    #[test]
    fn an_arch_typo_names_the_valid_values() {
        let error = parse_arch("amd64").unwrap_err();
        assert!(error.contains("arm64") && error.contains("x86_64"), "{error}");
    }
}
