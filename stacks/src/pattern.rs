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

use constructs::lambda::{Publish, RustFunction};
use constructs::reference::{AliasRef, Expr, FunctionRef, Reference, VersionRef};
use constructs::resources::lambda::DurableConfig;
use constructs::{App, Construct, Output, Scope, Stack, SynthError};

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

/// Construct id of the pattern's stack: it names the stack on the command line whatever its stack name.
pub const STACK_ID: &str = "Pattern";
/// The pattern stack's name unless the command line gives another (`--stack-name`).
pub const STACK_NAME: &str = "durable-invoke-lambda";

/// The event the pattern's README sends, and what `invoke` sends to either function when given no payload.
pub fn example_event() -> serde_json::Value {
    serde_json::json!({"values": [10, 20, 30, 40, 50]})
}

/// The pattern as a construct: a durable orchestrator (`Orchestrator`, with a `live` alias) that invokes a plain
/// processor (`Processor`) by the processor's published version, each with its own log group and least-privilege
/// role. Usable several times in a stack, each under an id of its own (`First`, `Second`: `First/Orchestrator`);
/// under the id `Default` its resources sit directly in the scope, as in the pattern's stack.
#[derive(Clone, Debug, Default)]
pub struct DurableInvoke;

/// What [`DurableInvoke`] made.
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

impl Construct for DurableInvoke {
    type Output = Pair;

    fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<Pair, SynthError> {
        let mut scope = scope.scope(id)?;
        let processor = scope.construct(
            PROCESSOR_ID,
            RustFunction::new("processor")
                .timeout_seconds(30)
                .description("Computes statistics over a list of numbers")
                .example_event(example_event()),
        )?;
        let processor_version = processor
            .publish(scope.stack(), Publish::version().version_description("Processor version the orchestrator calls"))?
            .version;
        let orchestrator = scope.construct(
            ORCHESTRATOR_ID,
            RustFunction::new("orchestrator")
                .timeout_seconds(600)
                .durable(ORCHESTRATOR_DURABLE_CONFIG)
                .env(PROCESSOR_ENV, processor_version.ref_())
                .description("Durable function: validates input in a step, then invokes the processor")
                .example_event(example_event()),
        )?;
        processor.grant_invoke(scope.stack(), &orchestrator)?;
        let published = orchestrator.publish(
            scope.stack(),
            Publish::alias(ALIAS_NAME)
                .description("What callers invoke")
                .version_description("Orchestrator version behind the live alias"),
        )?;
        let alias = published.alias.ok_or_else(|| SynthError::invalid(&scope.path(), "the alias was not made"))?;
        Ok(Pair {
            orchestrator: orchestrator.function().clone(),
            orchestrator_version: published.version,
            alias,
            processor: processor.function().clone(),
            processor_version,
        })
    }
}

/// The pattern's stack: construct id [`STACK_ID`], named [`STACK_NAME`] unless the command line renames it.
pub fn stack(app: &App) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(app, STACK_ID)?;
    stack.set_stack_name(STACK_NAME)?;
    stack.set_description("Lambda durable function (orchestrator) invoking a standard Lambda function (processor)");
    let pair = stack.construct("Default", DurableInvoke)?;

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
