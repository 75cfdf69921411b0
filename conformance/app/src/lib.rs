//! The conformance stacks: the functions that run AWS's durable-execution conformance suite against the Rust
//! handlers of the `conformance` crate, one stack per suite.
//!
//! One stack per suite keeps each template far below CloudFormation's limits (500 resources, 1 MB template, a
//! role's 10 240 characters of inline policy): the largest suite, parallel, has 22 functions. Every function
//! runs the same binary (`conformance`), which picks its handler from `CONFORMANCE_HANDLER`:
//!
//! - per requirement `<s>-<n>` the Rust SDK can express, a durable function `<Suite><s>x<n>` ([`catalog`]) with
//!   `DurableConfig` and the requirement id as its handler; the validator resolves it by that logical id through
//!   `ListStackResources`, and invokes its `$LATEST`;
//! - in the invoke stack, the plain target functions the chained invokes call ([`catalog::TARGETS`]), each
//!   caller getting the names of the targets it uses as environment variables;
//! - per function, a log group named `/aws/lambda/<function name>`: the validator reads a function's logs there,
//!   from its physical name alone, so the group Lambda writes to by default is the one the stack owns (14-day
//!   retention by default, deleted with the stack);
//! - per stack, one role for all its functions, with one policy: write to those log groups, checkpoint and read
//!   the state of those functions' durable executions (`arn:...:function:<name>:*`, every version of each), and
//!   in the invoke stack, invoke those targets. No wildcard action, no `NotAction`/`NotResource`, no wildcard
//!   resource beyond a function's qualifier.
//!
//! [`app`] builds them; [`mapping`] lists which requirement runs where; [`manifest`] is that mapping as the
//! runner reads it (`conformance/runner/manifest.json`). They form an app of their own (this package's binary,
//! `deployer --app conformance-app`), under the construct ids `Conformance<Suite>` (`ConformanceStep`), never part
//! of the project's app: the runner deploys them (`deployer --app conformance-app up --local 'Conformance*'`).

pub mod catalog;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use self::catalog::{InvokedFunction, Requirement, Suite, TARGETS};
use constructs::reference::{Expr, FunctionRef, LogGroupRef, Reference, RoleRef, Sub};
use constructs::resources::iam::{Policy, PolicyDocument, Role, Statement};
use constructs::resources::lambda::{DurableConfig, Function};
use constructs::resources::logs::LogGroup;
use constructs::{App, Architecture, AssetSource, Stack, SynthError};

/// Start of every conformance stack's name (`durable-conformance-step`).
pub const STACK_PREFIX: &str = "durable-conformance";
/// The cargo package of the shared binary.
pub const PACKAGE: &str = "conformance";
/// The shared binary.
pub const BINARY: &str = "conformance";
/// Environment variable naming a function's handler.
pub const HANDLER_ENV: &str = "CONFORMANCE_HANDLER";
/// `DurableConfig` of every conformance function: two hours covers the suite's longest wait (one hour, 2-5),
/// and one day of retention is enough to read a run's histories.
pub const DURABLE_CONFIG: DurableConfig = DurableConfig::new(7200, 1);
/// `Timeout` of one invocation of a durable handler, in seconds.
pub const DURABLE_TIMEOUT_SECONDS: u32 = 60;
/// `Timeout` of one invocation of an invoke target, in seconds.
pub const TARGET_TIMEOUT_SECONDS: u32 = 30;
/// Logical id of each stack's role.
pub const ROLE_ID: &str = "ConformanceRole";
/// Logical id of each stack's policy.
pub const POLICY_ID: &str = "ConformancePolicy";

/// Checkov checks that do not fit these functions, with the reason.
const FUNCTION_SKIPS: &[(&str, &str)] = &[
    ("CKV_AWS_115", "test functions invoked one execution at a time by the conformance runner; no cap is needed"),
    ("CKV_AWS_116", "failures are recorded by the durable execution or returned to the invoking caller"),
    (
        "CKV_AWS_117",
        "reaches only public AWS APIs (Lambda, CloudWatch Logs); a VPC would add NAT cost and no isolation",
    ),
    (
        "CKV_AWS_173",
        "the variables are a handler id and function names, not secrets; Lambda encrypts them with its AWS managed key",
    ),
];

/// Checkov check that does not fit these log groups, with the reason.
const LOG_GROUP_SKIP: (&str, &str) = (
    "CKV_AWS_158",
    "encrypted at rest by CloudWatch Logs; a customer managed key would add a key and a key policy for the logs service",
);

/// Where one requirement runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mapping {
    /// The requirement id (`1-1`).
    pub requirement: String,
    /// Its suite's folder (`step`).
    pub suite: &'static str,
    /// The stack holding its function.
    pub stack: String,
    /// The logical id of its function (`Step1x1`).
    pub logical_id: String,
    /// The function's `CONFORMANCE_HANDLER`.
    pub handler: String,
    /// Why there is no function, when the Rust SDK cannot express the requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<&'static str>,
}

/// Every requirement: its stack, logical id and handler, or why it has none.
pub fn mapping() -> Vec<Mapping> {
    catalog::requirements()
        .into_iter()
        .map(|r| Mapping {
            requirement: r.id(),
            suite: r.suite.folder(),
            stack: r.suite.stack_name(),
            logical_id: r.logical_id(),
            handler: r.handler(),
            not_applicable: r.not_applicable(),
        })
        .collect()
}

/// The mapping as the runner reads it: the binary, the stacks by suite, every requirement and the targets.
pub fn manifest() -> Value {
    let stacks: BTreeMap<&str, String> = Suite::ALL.iter().map(|s| (s.folder(), s.stack_name())).collect();
    let targets: Vec<Value> = TARGETS
        .iter()
        .map(|t| json!({"logical_id": t.logical_id, "stack": Suite::Invoke.stack_name(), "handler": t.handler}))
        .collect();
    json!({
        "package": PACKAGE,
        "binary": BINARY,
        "handler_env": HANDLER_ENV,
        "stacks": stacks,
        "requirements": mapping(),
        "targets": targets,
    })
}

/// What the stacks read from the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Instruction set of every function.
    pub architecture: Architecture,
    /// `RetentionInDays` of every log group.
    pub log_retention_days: u32,
}

impl Settings {
    /// The app's architecture and the environment's `log-retention-days` (default 14).
    pub fn of(app: &App) -> Result<Self, SynthError> {
        Ok(Self { architecture: app.architecture(), log_retention_days: app.value("log-retention-days", 14)? })
    }
}

/// Adds one stack per suite, in suite order: the whole app (`src/main.rs` runs it).
pub fn app(app: &mut App) -> Result<(), SynthError> {
    let settings = Settings::of(app)?;
    for suite in Suite::ALL {
        let stack = stack(app, settings, suite)?;
        app.add_stack(stack)?;
    }
    Ok(())
}

/// A function of a conformance stack with its log group.
struct Added {
    function: FunctionRef,
    log_group: LogGroupRef,
}

/// Adds function `id` and its log group `/aws/lambda/<name>` (`<id>LogGroup`).
fn add_function(stack: &mut Stack, config: Settings, id: &str, function: Function) -> Result<Added, SynthError> {
    let function = stack.add(id, function.architecture(config.architecture).memory_size(128))?;
    let name = Sub::new().text("/aws/lambda/").value(function.ref_()).build();
    let log_group = stack.add(&format!("{id}LogGroup"), LogGroup::new(config.log_retention_days).name(name))?;
    for (check, reason) in FUNCTION_SKIPS {
        stack.skip_check(&function, check, reason)?;
    }
    stack.skip_check(&log_group, LOG_GROUP_SKIP.0, LOG_GROUP_SKIP.1)?;
    Ok(Added { function, log_group })
}

/// The shared binary.
fn code() -> AssetSource {
    AssetSource::CargoBinary { package: PACKAGE.to_owned(), binary: BINARY.to_owned() }
}

/// The stack of one suite.
pub fn stack(app: &App, config: Settings, suite: Suite) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(app, &format!("Conformance{}", suite.logical_prefix()))?;
    stack.set_stack_name(&suite.stack_name())?;
    stack.set_description(format!(
        "AWS durable-execution conformance suite `{}`: one durable function per requirement, running the shared \
         conformance binary",
        suite.folder()
    ));
    let role = stack.add(
        ROLE_ID,
        Role::for_service("lambda.amazonaws.com")
            .description(format!("Execution role of the conformance functions of {}", suite.stack_name())),
    )?;

    let mut log_groups: Vec<Expr> = Vec::new();
    let mut targets: BTreeMap<&str, FunctionRef> = BTreeMap::new();
    if suite == Suite::Invoke {
        for target in TARGETS {
            let added = add_target(&mut stack, config, target, &role)?;
            log_groups.push(added.log_group.arn());
            targets.insert(target.logical_id, added.function);
        }
    }

    let mut durable: Vec<FunctionRef> = Vec::new();
    for requirement in suite.requirements().into_iter().filter(|r| r.not_applicable().is_none()) {
        let added = add_durable(&mut stack, config, requirement, &role, &targets)?;
        log_groups.push(added.log_group.arn());
        durable.push(added.function);
    }

    let mut logs = Statement::allow().sid("WriteOwnLogs").actions(["logs:CreateLogStream", "logs:PutLogEvents"]);
    for group in log_groups {
        logs = logs.resource(group);
    }
    let mut checkpoint = Statement::allow()
        .sid("CheckpointOwnExecutions")
        .actions(["lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"]);
    for function in &durable {
        checkpoint = checkpoint.resource(function.qualified_arns());
    }
    let mut document = PolicyDocument::new().statement(logs).statement(checkpoint);
    if !targets.is_empty() {
        let mut invoke = Statement::allow().sid("InvokeTargets").actions(["lambda:InvokeFunction"]);
        for target in targets.values() {
            invoke = invoke.resource(target.arn()).resource(target.qualified_arns());
        }
        document = document.statement(invoke);
    }
    // A policy of its own, because it names the functions, which themselves need the role.
    stack.add(POLICY_ID, Policy::new("conformance-functions", document).role(&role))?;
    Ok(stack)
}

/// Adds the durable function of `requirement`, given the names of the targets it calls.
fn add_durable(
    stack: &mut Stack,
    config: Settings,
    requirement: Requirement,
    role: &RoleRef,
    targets: &BTreeMap<&str, FunctionRef>,
) -> Result<Added, SynthError> {
    let mut function = Function::new(code(), role)
        .timeout_seconds(DURABLE_TIMEOUT_SECONDS)
        .durable(DURABLE_CONFIG)
        .env(HANDLER_ENV, requirement.handler())
        .description(format!("Conformance requirement {} ({} suite)", requirement.id(), requirement.suite.folder()));
    for target in requirement.targets() {
        let reference = targets.get(target.logical_id).ok_or_else(|| {
            SynthError::invalid(
                &format!("{}/{}", stack.id(), requirement.logical_id()),
                format!("invoke target {} is not in this stack", target.logical_id),
            )
        })?;
        function = function.env(target.env, reference.ref_());
    }
    add_function(stack, config, &requirement.logical_id(), function)
}

/// Adds a plain invoke target.
fn add_target(
    stack: &mut Stack,
    config: Settings,
    target: &InvokedFunction,
    role: &RoleRef,
) -> Result<Added, SynthError> {
    let mut function = Function::new(code(), role)
        .timeout_seconds(TARGET_TIMEOUT_SECONDS)
        .env(HANDLER_ENV, target.handler)
        .description(target.description);
    if target.tenant_isolated {
        function = function.tenant_isolated();
    }
    add_function(stack, config, target.logical_id, function)
}
