//! The pattern's stack: a durable orchestrator that invokes a plain processor function (the SAM pattern
//! `lambda-durable-invoke-lambda`, made safer).
//!
//! Each function gets its own log group (retention, deleted with the stack), its own least-privilege role and a
//! published version named after the hash of its code and configuration. The orchestrator's
//! `PROCESSOR_FUNCTION_NAME` is the processor's version ARN, so an execution that replays after a redeploy keeps
//! calling the processor it was deployed with; callers use the orchestrator's `live` alias.
//!
//! Durability can only be chosen when a function is created. Changing the orchestrator's `DurableConfig` values is
//! an update in place (and publishes a new version, since the version hashes the configuration); turning
//! durability on or off replaces the function, which deletes its versions and so cuts off executions still running
//! on them: the deployer warns and asks before such a change. No function here sets `FunctionName`, so a
//! replacement is created next to the old function and the update completes or rolls back as a whole.

use constructs::reference::{AliasRef, Expr, FunctionRef, Reference, RoleRef, VersionRef};
use constructs::resources::iam::{Policy, PolicyDocument, Role, Statement};
use constructs::resources::lambda::{Alias, DurableConfig, Function, LogFormat, Version};
use constructs::resources::logs::LogGroup;
use constructs::{App, AssetSource, Output, Stack, SynthError};

use crate::Settings;

/// Construct id (and logical ID) of the processor function.
pub const PROCESSOR_ID: &str = "Processor";
/// Construct id (and logical ID) of the orchestrator function.
pub const ORCHESTRATOR_ID: &str = "Orchestrator";
/// Name of the orchestrator's alias.
pub const ALIAS_NAME: &str = "live";
/// Environment variable through which the orchestrator learns the processor's version ARN.
pub const PROCESSOR_ENV: &str = "PROCESSOR_FUNCTION_NAME";
/// `DurableConfig` of the orchestrator.
pub const ORCHESTRATOR_DURABLE_CONFIG: DurableConfig = DurableConfig::new(600, 7);

/// Names of the stack's outputs.
pub mod outputs {
    /// Unqualified ARN of the orchestrator (the durable function).
    pub const DURABLE_FUNCTION_ARN: &str = "DurableLambdaFunctionArn";
    /// ARN of the orchestrator's `live` alias: what callers invoke.
    pub const DURABLE_FUNCTION_ALIAS_ARN: &str = "DurableLambdaFunctionAliasArn";
    /// Name of the orchestrator.
    pub const DURABLE_FUNCTION_NAME: &str = "DurableLambdaFunctionName";
    /// ARN of the orchestrator version the alias points at.
    pub const DURABLE_FUNCTION_VERSION_ARN: &str = "DurableLambdaFunctionVersionArn";
    /// Unqualified ARN of the processor.
    pub const PROCESSOR_FUNCTION_ARN: &str = "ProcessorFunctionArn";
    /// Name of the processor.
    pub const PROCESSOR_FUNCTION_NAME: &str = "ProcessorFunctionName";
    /// ARN of the processor version the orchestrator calls.
    pub const PROCESSOR_FUNCTION_VERSION_ARN: &str = "ProcessorFunctionVersionArn";
}

/// Checkov checks that do not fit these functions, with the reason.
const FUNCTION_SKIPS: &[(&str, &str)] = &[
    (
        "CKV_AWS_115",
        "reserving concurrency fails on accounts at the minimum unreserved concurrency (new accounts); the sample needs no cap",
    ),
    (
        "CKV_AWS_116",
        "failures are recorded by the durable execution or returned to the synchronous caller; an async dead-letter queue would stay empty",
    ),
    (
        "CKV_AWS_117",
        "reaches only public AWS APIs (Lambda, CloudWatch Logs); a VPC would add NAT cost and no isolation",
    ),
];

/// Checkov check that does not fit a function whose environment holds no secret, with the reason.
const ENVIRONMENT_SKIP: (&str, &str) = (
    "CKV_AWS_173",
    "the only variable is the processor's version ARN, not a secret; Lambda encrypts it at rest with its AWS managed key",
);

/// Checkov check that does not fit these log groups, with the reason.
const LOG_GROUP_SKIP: (&str, &str) = (
    "CKV_AWS_158",
    "encrypted at rest by CloudWatch Logs; a customer managed key would add a key and a key policy for the logs service",
);

/// One Rust function with its log group and role.
struct RustFunction {
    role: RoleRef,
    function: FunctionRef,
}

/// Adds `<id>LogGroup`, `<id>Role` (may only write to that group) and function `<id>` built from `package`.
fn rust_function(
    stack: &mut Stack,
    config: &Settings,
    id: &str,
    package: &str,
    configure: impl FnOnce(Function) -> Function,
) -> Result<RustFunction, SynthError> {
    let log_group = stack.add(&format!("{id}LogGroup"), LogGroup::new(config.log_retention_days))?;
    stack.skip_check(&log_group, LOG_GROUP_SKIP.0, LOG_GROUP_SKIP.1)?;
    let role = stack.add(
        &format!("{id}Role"),
        Role::for_service("lambda.amazonaws.com")
            .description(format!("Execution role of {}/{id}", stack.name()))
            .inline_policy(
                "write-own-logs",
                PolicyDocument::new().statement(
                    Statement::allow()
                        .sid("WriteOwnLogs")
                        .actions(["logs:CreateLogStream", "logs:PutLogEvents"])
                        .resource(log_group.arn()),
                ),
            ),
    )?;
    let code = AssetSource::CargoBinary { package: package.to_owned(), binary: package.to_owned() };
    let function = stack.add(
        id,
        configure(
            Function::new(code, &role)
                .architecture(config.architecture)
                .memory_size(128)
                .log_group(&log_group, LogFormat::Json),
        ),
    )?;
    Ok(RustFunction { role, function })
}

/// Construct id of the pattern's stack: it names the stack on the command line whatever its stack name.
pub const STACK_ID: &str = "Pattern";
/// The pattern stack's name unless the command line gives another (`--stack-name`).
pub const STACK_NAME: &str = "durable-invoke-lambda";

/// The event the pattern's README sends, and what `invoke` sends to either function when given no payload.
pub fn example_event() -> serde_json::Value {
    serde_json::json!({"values": [10, 20, 30, 40, 50]})
}

/// The functions and versions of one orchestrator–processor pair.
pub struct Pair {
    /// The orchestrator (durable).
    pub orchestrator: FunctionRef,
    /// The version behind the alias.
    pub orchestrator_version: VersionRef,
    /// The `live` alias.
    pub alias: AliasRef,
    /// The processor (plain).
    pub processor: FunctionRef,
    /// The processor version the orchestrator calls.
    pub processor_version: VersionRef,
}

/// Adds a durable orchestrator `orchestrator_id` calling a processor `processor_id`, each with its log group, role
/// and published version, the orchestrator's policy and its `live` alias: the pattern, under the given ids.
pub fn add_pair(
    stack: &mut Stack,
    config: &Settings,
    orchestrator_id: &str,
    processor_id: &str,
) -> Result<Pair, SynthError> {
    let processor = rust_function(stack, config, processor_id, "processor", |f| {
        f.timeout_seconds(30).description("Computes statistics over a list of numbers").example_event(example_event())
    })?;
    let processor_version = stack.add(
        &format!("{processor_id}Version"),
        Version::of(&processor.function).description("Processor version the orchestrator calls"),
    )?;

    let orchestrator = rust_function(stack, config, orchestrator_id, "orchestrator", |f| {
        f.timeout_seconds(600)
            .durable(ORCHESTRATOR_DURABLE_CONFIG)
            .env(PROCESSOR_ENV, processor_version.ref_())
            .description("Durable function: validates input in a step, then invokes the processor")
            .example_event(example_event())
    })?;
    // A separate policy, because it names the orchestrator's own ARN: inline in the role it would make the role
    // depend on the function that depends on the role.
    let policy = stack.add(
        &format!("{orchestrator_id}Policy"),
        Policy::new(
            "durable-execution-and-invoke",
            PolicyDocument::new()
                .statement(
                    Statement::allow()
                        .sid("CheckpointOwnExecutions")
                        .actions(["lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"])
                        .resource(orchestrator.function.qualified_arns()),
                )
                .statement(
                    Statement::allow()
                        .sid("InvokeProcessor")
                        .actions(["lambda:InvokeFunction"])
                        .resource(processor.function.arn())
                        .resource(processor.function.qualified_arns()),
                ),
        )
        .role(&orchestrator.role),
    )?;
    for (check, reason) in FUNCTION_SKIPS {
        stack.skip_check(&processor.function, check, reason)?;
        stack.skip_check(&orchestrator.function, check, reason)?;
    }
    stack.skip_check(&orchestrator.function, ENVIRONMENT_SKIP.0, ENVIRONMENT_SKIP.1)?;

    let orchestrator_version = stack.add(
        &format!("{orchestrator_id}Version"),
        Version::of(&orchestrator.function).description("Orchestrator version behind the live alias"),
    )?;
    // The function cannot depend on the policy (the policy names the function's ARN), so the published version,
    // and through it the alias callers use, waits for the permissions instead.
    stack.add_dependency(&orchestrator_version, &policy)?;
    let alias = stack.add(
        &format!("{orchestrator_id}LiveAlias"),
        Alias::new(ALIAS_NAME, &orchestrator_version).description("What callers invoke"),
    )?;
    Ok(Pair {
        orchestrator: orchestrator.function,
        orchestrator_version,
        alias,
        processor: processor.function,
        processor_version,
    })
}

/// The pattern's stack: construct id [`STACK_ID`], named [`STACK_NAME`] unless the command line renames it.
pub fn stack(app: &App) -> Result<Stack, SynthError> {
    let config = Settings::of(app)?;
    let mut stack = Stack::new(app, STACK_ID)?;
    stack.set_stack_name(STACK_NAME)?;
    stack.set_description("Lambda durable function (orchestrator) invoking a standard Lambda function (processor)");
    let pair = add_pair(&mut stack, &config, ORCHESTRATOR_ID, PROCESSOR_ID)?;

    let outputs: [(&str, Expr, &str); 7] = [
        (outputs::DURABLE_FUNCTION_ARN, pair.orchestrator.arn(), "Durable function ARN (invoke it through the alias)"),
        (outputs::DURABLE_FUNCTION_ALIAS_ARN, pair.alias.ref_(), "Durable function alias ARN: invoke this"),
        (outputs::DURABLE_FUNCTION_NAME, pair.orchestrator.ref_(), "Durable function name"),
        (
            outputs::DURABLE_FUNCTION_VERSION_ARN,
            pair.orchestrator_version.ref_(),
            "Durable function version behind the alias",
        ),
        (outputs::PROCESSOR_FUNCTION_ARN, pair.processor.arn(), "Processor function ARN"),
        (outputs::PROCESSOR_FUNCTION_NAME, pair.processor.ref_(), "Processor function name"),
        (
            outputs::PROCESSOR_FUNCTION_VERSION_ARN,
            pair.processor_version.ref_(),
            "Processor version the durable function invokes",
        ),
    ];
    for (name, value, description) in outputs {
        stack.add_output(name, Output::new(value).description(description))?;
    }
    Ok(stack)
}
