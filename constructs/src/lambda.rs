//! A Rust Lambda function in one line, in CDK's L2 manner: [`RustFunction`] makes the function from a cargo package
//! with its log group (a retention, deleted with the stack), its role (which may only write to that group), JSON
//! logs and the app's architecture; `.durable(config)` makes it a durable function that may checkpoint its own
//! executions and nothing else. [`RustFunctionRef::publish`] publishes a version (and an alias on it) that waits for
//! the function's permissions; [`RustFunctionRef::grant_invoke`] lets another function call it.
//!
//! ```
//! use constructs::lambda::{Publish, RustFunction};
//! use constructs::resources::lambda::DurableConfig;
//! use constructs::{App, Stack};
//!
//! let app = App::new();
//! let mut stack = Stack::new(&app, "Orders")?;
//! let fulfil = stack.construct("Fulfil", RustFunction::new("fulfil").timeout_seconds(30))?;
//! let workflow = stack.construct(
//!     "Workflow",
//!     RustFunction::new("workflow").durable(DurableConfig::new(86_400, 7)).env("FULFIL", fulfil.function().ref_()),
//! )?;
//! fulfil.grant_invoke(&mut stack, &workflow)?;
//! let live = workflow.publish(&mut stack, Publish::alias("live"))?;
//! # let _ = live;
//! let template = app_template(stack)?;
//! // The role may invoke the other function; its own policy lets it checkpoint its own executions only.
//! assert!(template["Resources"]["WorkflowRole"]["Properties"]["Policies"].to_string().contains("lambda:InvokeFunction"));
//! assert!(template["Resources"]["WorkflowPolicy"].to_string().contains("lambda:CheckpointDurableExecution"));
//! # fn app_template(stack: Stack) -> Result<serde_json::Value, constructs::SynthError> {
//! #     let mut assets = constructs::AssetManifest::new();
//! #     for asset in stack.assets() { assets.insert(asset.id, "0".repeat(64)); }
//! #     Ok(stack.synth(&assets)?.template)
//! # }
//! # use constructs::reference::Reference;
//! # Ok::<(), constructs::SynthError>(())
//! ```

use std::collections::BTreeMap;

use serde_json::Value;

use crate::asset::AssetSource;
use crate::construct::{Construct, Scope, Stack};
use crate::error::SynthError;
use crate::grant::Grantee;
use crate::reference::{AliasRef, Expr, FunctionRef, LogGroupRef, Reference, RoleRef, VersionRef};
use crate::resources::iam::{PolicyDocument, Role, Statement};
use crate::resources::lambda::{Alias, Architecture, DurableConfig, Function, LogFormat, Version};
use crate::resources::logs::LogGroup;

/// The environment value that sets the log retention of functions made without one, in days.
pub const LOG_RETENTION_VALUE: &str = "log-retention-days";
/// Days a function's log group keeps events unless the function or the environment says otherwise.
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 14;

/// Checkov checks that do not fit a function made by [`RustFunction`], with the reason written beside the skip.
const FUNCTION_SKIPS: &[(&str, &str)] = &[
    (
        "CKV_AWS_115",
        "reserving concurrency fails on accounts at the minimum unreserved concurrency (new accounts); left to the account's pool",
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
    "the variables name other resources, not secrets; Lambda encrypts them at rest with its AWS managed key",
);

/// Checkov check that does not fit the functions' log groups, with the reason.
const LOG_GROUP_SKIP: (&str, &str) = (
    "CKV_AWS_158",
    "encrypted at rest by CloudWatch Logs; a customer managed key would add a key and a key policy for the logs service",
);

/// A Lambda function running a binary of a cargo package on `provided.al2023`: 128 MB, 3 s, the app's
/// architecture, JSON logs into a log group of its own.
#[derive(Clone, Debug)]
#[must_use]
pub struct RustFunction {
    package: String,
    binary: String,
    memory_size: u32,
    timeout_seconds: u32,
    environment: BTreeMap<String, Expr>,
    durable: Option<DurableConfig>,
    description: Option<String>,
    example_event: Option<Value>,
    log_retention_days: Option<u32>,
    architecture: Option<Architecture>,
}

impl RustFunction {
    /// A function running the binary of cargo package `package` named like the package.
    pub fn new(package: impl Into<String>) -> Self {
        let package = package.into();
        Self {
            binary: package.clone(),
            package,
            memory_size: 128,
            timeout_seconds: 3,
            environment: BTreeMap::new(),
            durable: None,
            description: None,
            example_event: None,
            log_retention_days: None,
            architecture: None,
        }
    }

    /// Runs the package's binary `binary` instead.
    pub fn binary(mut self, binary: impl Into<String>) -> Self {
        self.binary = binary.into();
        self
    }

    /// Sets `MemorySize` in MB (128..=10240).
    pub fn memory_size(mut self, megabytes: u32) -> Self {
        self.memory_size = megabytes;
        self
    }

    /// Sets `Timeout` of one invocation in seconds (1..=900).
    pub fn timeout_seconds(mut self, seconds: u32) -> Self {
        self.timeout_seconds = seconds;
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<Expr>) -> Self {
        self.environment.insert(name.into(), value.into());
        self
    }

    /// Makes it a durable function with `config`, allowed to checkpoint and read its own executions.
    pub fn durable(mut self, config: DurableConfig) -> Self {
        self.durable = Some(config);
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// What the deployer's `invoke` sends when given no payload (kept out of the template).
    pub fn example_event(mut self, event: Value) -> Self {
        self.example_event = Some(event);
        self
    }

    /// Days its log group keeps events (default: the environment's `log-retention-days`, else 14).
    pub fn log_retention_days(mut self, days: u32) -> Self {
        self.log_retention_days = Some(days);
        self
    }

    /// Its instruction set (default: the app's, from `--arch`).
    pub fn architecture(mut self, architecture: Architecture) -> Self {
        self.architecture = Some(architecture);
        self
    }
}

impl Construct for RustFunction {
    type Output = RustFunctionRef;

    /// Adds `<id>LogGroup`, `<id>Role` and the function `<id>` next to each other in `scope` (and `<id>Policy`
    /// for a durable function).
    fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<RustFunctionRef, SynthError> {
        let retention = match self.log_retention_days {
            Some(days) => days,
            None => scope.context().value(LOG_RETENTION_VALUE, DEFAULT_LOG_RETENTION_DAYS)?,
        };
        let architecture = self.architecture.unwrap_or(scope.context().architecture);
        let log_group = scope.add(&format!("{id}LogGroup"), LogGroup::new(retention))?;
        let stack_name = scope.stack().name().to_owned();
        let below_stack: Vec<&str> = scope.components().iter().map(String::as_str).chain(std::iter::once(id)).collect();
        let role = scope.add(
            &format!("{id}Role"),
            Role::for_service("lambda.amazonaws.com")
                .description(format!("Execution role of {stack_name}/{}", below_stack.join("/")))
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
        let code = AssetSource::CargoBinary { package: self.package.clone(), binary: self.binary.clone() };
        let mut function = Function::new(code, &role)
            .architecture(architecture)
            .memory_size(self.memory_size)
            .log_group(&log_group, LogFormat::Json)
            .timeout_seconds(self.timeout_seconds);
        if let Some(config) = self.durable.clone() {
            function = function.durable(config);
        }
        for (name, value) in self.environment.clone() {
            function = function.env(name, value);
        }
        if let Some(text) = self.description.clone() {
            function = function.description(text);
        }
        if let Some(event) = self.example_event.clone() {
            function = function.example_event(event);
        }
        let function = scope.add(id, function)?;
        let stack = scope.stack();
        stack.skip_check(&log_group, LOG_GROUP_SKIP.0, LOG_GROUP_SKIP.1)?;
        for (check, reason) in FUNCTION_SKIPS {
            stack.skip_check(&function, check, reason)?;
        }
        if !self.environment.is_empty() {
            stack.skip_check(&function, ENVIRONMENT_SKIP.0, ENVIRONMENT_SKIP.1)?;
        }
        let made = RustFunctionRef {
            function,
            role,
            log_group,
            timeout_seconds: self.timeout_seconds,
            execution_timeout_seconds: self.durable.as_ref().map(|d| d.execution_timeout_seconds),
        };
        if made.is_durable() {
            stack.add_to_policy(
                &made,
                Statement::allow()
                    .sid("CheckpointOwnExecutions")
                    .actions(["lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"])
                    .resource(made.function.qualified_arns()),
            )?;
        }
        Ok(made)
    }
}

/// What [`RustFunction`] made.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RustFunctionRef {
    function: FunctionRef,
    role: RoleRef,
    log_group: LogGroupRef,
    timeout_seconds: u32,
    /// `DurableConfig.ExecutionTimeout` of a durable function.
    execution_timeout_seconds: Option<u32>,
}

impl RustFunctionRef {
    /// The function.
    pub fn function(&self) -> &FunctionRef {
        &self.function
    }

    /// Its log group.
    pub fn log_group(&self) -> &LogGroupRef {
        &self.log_group
    }

    /// Whether it is durable (then it is invoked through a version or alias only).
    pub fn is_durable(&self) -> bool {
        self.execution_timeout_seconds.is_some()
    }

    /// The longest one invocation runs, in seconds (`Timeout`).
    pub fn timeout_seconds(&self) -> u32 {
        self.timeout_seconds
    }

    /// The longest a whole durable execution runs, in seconds (`DurableConfig.ExecutionTimeout`); `None` for a
    /// plain function.
    pub fn execution_timeout_seconds(&self) -> Option<u32> {
        self.execution_timeout_seconds
    }

    /// Lets `grantee` invoke this function, any version or alias of it (`lambda:InvokeFunction`).
    pub fn grant_invoke(&self, stack: &mut Stack, grantee: &impl Grantee) -> Result<(), SynthError> {
        let name = alphanumeric(self.function.handle().path());
        stack.add_to_policy(
            grantee,
            Statement::allow()
                .sid(format!("Invoke{name}"))
                .actions(["lambda:InvokeFunction"])
                .resource(self.function.arn())
                .resource(self.function.qualified_arns()),
        )
    }

    /// Publishes the function's current code and configuration as a version `<id>Version` (its logical id
    /// carries a hash of them, so a change publishes a new one), and an alias on it when asked; the version waits
    /// for the function's own policy, so nothing invokes it before it may checkpoint.
    pub fn publish(&self, stack: &mut Stack, publish: Publish) -> Result<Published, SynthError> {
        let path = self.function.handle().path();
        let (scope_path, id) = path.rsplit_once('/').unwrap_or(("", path));
        let prefix: Vec<String> = scope_path.split('/').skip(1).map(str::to_owned).collect();
        let mut version = Version::of(&self.function);
        if let Some(text) = publish.version_description {
            version = version.description(text);
        }
        let version = stack.add_at(&prefix, &format!("{id}Version"), version)?;
        stack.order_after_own_policy(version.handle(), &self.function);
        let alias = match publish.alias {
            Some(name) => {
                let mut alias = Alias::new(&name, &version);
                if let Some(text) = publish.alias_description {
                    alias = alias.description(text);
                }
                Some(stack.add_at(&prefix, &format!("{id}{}Alias", camel(&name)), alias)?)
            }
            None => None,
        };
        Ok(Published { version, alias, function: self.clone() })
    }
}

impl Grantee for RustFunctionRef {
    fn role(&self) -> &RoleRef {
        &self.role
    }

    fn own_function(&self) -> Option<&FunctionRef> {
        Some(&self.function)
    }
}

/// What [`RustFunctionRef::publish`] publishes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Publish {
    alias: Option<String>,
    alias_description: Option<String>,
    version_description: Option<String>,
}

impl Publish {
    /// A version only.
    pub fn version() -> Self {
        Self::default()
    }

    /// A version and the alias `name` on it (`<id><Name>Alias`): what callers, schedules and event sources invoke.
    pub fn alias(name: impl Into<String>) -> Self {
        Self { alias: Some(name.into()), ..Self::default() }
    }

    /// The alias's description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.alias_description = Some(text.into());
        self
    }

    /// The version's description.
    pub fn version_description(mut self, text: impl Into<String>) -> Self {
        self.version_description = Some(text.into());
        self
    }
}

/// A published version, and the alias on it when one was asked for: what event sources, schedules and rules
/// invoke ([`Invocable`]), by the alias's ARN when there is one, else by the version's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The version.
    pub version: VersionRef,
    /// The alias.
    pub alias: Option<AliasRef>,
    function: RustFunctionRef,
}

impl Published {
    /// The qualified ARN callers invoke: the alias's, else the version's.
    pub fn arn(&self) -> Expr {
        self.alias.as_ref().map_or_else(|| self.version.ref_(), Reference::ref_)
    }
}

/// What a service invokes (an event source mapping, a schedule, a rule's target): a function by its unqualified
/// ARN, or a published version or alias of it by its qualified ARN. A durable function accepts only the latter.
pub trait Invocable {
    /// The ARN the service names when it invokes.
    fn invoke_arn(&self) -> Expr;

    /// The function behind it: its role gets what consuming an event source needs.
    fn target_function(&self) -> &RustFunctionRef;

    /// Whether [`Invocable::invoke_arn`] names a version or an alias.
    fn is_qualified(&self) -> bool;

    /// An error at `path` when this names a durable function without a qualifier: Lambda runs a durable function
    /// only through a version or alias.
    fn check_invocable(&self, path: &str, by: &str) -> Result<(), SynthError> {
        let function = self.target_function();
        if function.is_durable() && !self.is_qualified() {
            let name = function.function().handle().path();
            return Err(SynthError::invalid(
                path,
                format!(
                    "{by} targets {name}, a durable function, by its unqualified ARN; Lambda invokes a durable function \
                     only through a qualified ARN: target its alias instead (`let live = function.publish(&mut stack, \
                     Publish::alias(\"live\"))?;` and `&live`)"
                ),
            ));
        }
        Ok(())
    }
}

/// An [`Invocable`] as the constructs that invoke it keep it: its ARN, its function and whether it is qualified.
#[derive(Clone, Debug, PartialEq)]
pub struct InvokeTarget {
    arn: Expr,
    function: RustFunctionRef,
    qualified: bool,
}

impl InvokeTarget {
    /// What `target` invokes.
    pub fn of(target: &impl Invocable) -> Self {
        Self { arn: target.invoke_arn(), function: target.target_function().clone(), qualified: target.is_qualified() }
    }
}

impl Invocable for InvokeTarget {
    fn invoke_arn(&self) -> Expr {
        self.arn.clone()
    }

    fn target_function(&self) -> &RustFunctionRef {
        &self.function
    }

    fn is_qualified(&self) -> bool {
        self.qualified
    }
}

impl Invocable for RustFunctionRef {
    fn invoke_arn(&self) -> Expr {
        self.function.arn()
    }

    fn target_function(&self) -> &RustFunctionRef {
        self
    }

    fn is_qualified(&self) -> bool {
        false
    }
}

impl Invocable for Published {
    fn invoke_arn(&self) -> Expr {
        self.arn()
    }

    fn target_function(&self) -> &RustFunctionRef {
        &self.function
    }

    fn is_qualified(&self) -> bool {
        true
    }
}

/// The letters and digits of `text`.
fn alphanumeric(text: &str) -> String {
    text.rsplit('/').next().unwrap_or(text).chars().filter(char::is_ascii_alphanumeric).collect()
}

/// `live` → `Live`, `blue-green` → `BlueGreen`.
fn camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{App, AssetManifest};

    fn synth(stack: &Stack) -> Value {
        let mut assets = AssetManifest::new();
        for asset in stack.assets() {
            assets.insert(asset.id, "0".repeat(64));
        }
        stack.synth(&assets).unwrap().template
    }

    #[test]
    fn a_durable_function_checkpoints_only_its_own_executions_and_its_versions_wait_for_that() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let f = stack.construct("Flow", RustFunction::new("flow").durable(DurableConfig::new(60, 1))).unwrap();
        let published = f.publish(&mut stack, Publish::alias("live")).unwrap();
        assert!(published.alias.is_some());
        let t = synth(&stack);
        let policy = &t["Resources"]["FlowPolicy"]["Properties"];
        assert_eq!(policy["PolicyName"], OWN);
        assert_eq!(
            policy["PolicyDocument"]["Statement"][0]["Resource"],
            json!([{"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Flow}:*"}])
        );
        let version =
            t["Resources"].as_object().unwrap().keys().find(|k| k.starts_with("FlowVersion")).unwrap().clone();
        assert_eq!(t["Resources"][&version]["DependsOn"], json!(["FlowPolicy"]));
        assert_eq!(t["Resources"]["FlowLiveAlias"]["Properties"]["Name"], "live");
    }

    const OWN: &str = crate::grant::OWN_POLICY;

    #[test]
    fn invoke_grants_are_inline_in_the_callers_role_and_name_the_callee_only() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let target = stack.construct("Callee", RustFunction::new("callee")).unwrap();
        let source = stack.construct("Caller", RustFunction::new("caller")).unwrap();
        target.grant_invoke(&mut stack, &source).unwrap();
        let t = synth(&stack);
        let policies = &t["Resources"]["CallerRole"]["Properties"]["Policies"];
        assert_eq!(policies[1]["PolicyName"], crate::grant::INLINE_POLICY);
        let statement = &policies[1]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Sid"], "InvokeCallee");
        assert_eq!(statement["Action"], json!(["lambda:InvokeFunction"]));
        assert_eq!(statement["Resource"][0], json!({"Fn::GetAtt": ["Callee", "Arn"]}));
        assert!(t["Resources"].get("CallerPolicy").is_none(), "no separate policy for a plain grant");
        assert!(t["Resources"]["CalleeRole"]["Properties"]["Policies"].as_array().unwrap().len() == 1);
    }

    #[test]
    fn nested_functions_take_their_scope_s_path_and_the_environment_s_retention() {
        let mut context = crate::AppContext::default();
        context.environment.values.insert(LOG_RETENTION_VALUE.into(), json!(30));
        let mut stack = Stack::new(&App::with_context(context), "S").unwrap();
        let f = stack.scope("Checkout").unwrap().construct("Worker", RustFunction::new("worker")).unwrap();
        assert_eq!(f.function().handle().path(), "S/Checkout/Worker");
        f.publish(&mut stack, Publish::version()).unwrap();
        let t = synth(&stack);
        let group = t["Resources"].as_object().unwrap().iter().find(|(k, _)| k.starts_with("CheckoutWorkerLogGroup"));
        assert_eq!(group.unwrap().1["Properties"]["RetentionInDays"], 30);
        assert!(t["Resources"].as_object().unwrap().keys().any(|k| k.starts_with("CheckoutWorkerVersion")), "{t:#}");
    }
}
