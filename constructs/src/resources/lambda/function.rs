//! `AWS::Lambda::Function` whose code is an asset in the bootstrap bucket.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{
    Architecture, DurableConfig, EXECUTION_TIMEOUT_RANGE, LogFormat, MEMORY_SIZE_RANGE, RETENTION_PERIOD_RANGE,
    Runtime, TIMEOUT_RANGE,
};
use crate::asset::AssetSource;
use crate::error::SynthError;
use crate::reference::{Expr, FunctionRef, LogGroupRef, Reference, ResourceHandle, RoleRef};
use crate::resources::sealed::{MakeRef, Synthesize};
use crate::resources::{Props, Resource, check_description};
use crate::synth::RenderContext;

/// Environment variable names Lambda reserves for itself.
const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
];

/// An `AWS::Lambda::Function` whose code is an asset in the bootstrap bucket.
///
/// There is deliberately no way to set `FunctionName`: with a generated name, changes that need a replacement
/// (such as turning durability on or off) are carried out by CloudFormation without a name clash.
#[derive(Clone, Debug)]
#[must_use]
pub struct Function {
    code: AssetSource,
    role: RoleRef,
    runtime: Runtime,
    handler: String,
    memory_size: u32,
    timeout_seconds: u32,
    architecture: Architecture,
    environment: BTreeMap<String, Expr>,
    logging: Option<(LogGroupRef, LogFormat)>,
    durable: Option<DurableConfig>,
    tenant_isolated: bool,
    description: Option<String>,
    example_event: Option<Value>,
}

impl Function {
    /// A function running `code` as `role`: `provided.al2023`, handler `bootstrap`, 128 MB, 3 s, arm64.
    pub fn new(code: AssetSource, role: &RoleRef) -> Self {
        Self {
            code,
            role: role.clone(),
            runtime: Runtime::default(),
            handler: "bootstrap".to_owned(),
            memory_size: 128,
            timeout_seconds: 3,
            architecture: Architecture::default(),
            environment: BTreeMap::new(),
            logging: None,
            durable: None,
            tenant_isolated: false,
            description: None,
            example_event: None,
        }
    }

    /// Sets the runtime.
    pub fn runtime(mut self, runtime: Runtime) -> Self {
        self.runtime = runtime;
        self
    }

    /// Sets the handler.
    pub fn handler(mut self, handler: impl Into<String>) -> Self {
        self.handler = handler.into();
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

    /// Sets the instruction set.
    pub fn architecture(mut self, architecture: Architecture) -> Self {
        self.architecture = architecture;
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<Expr>) -> Self {
        self.environment.insert(name.into(), value.into());
        self
    }

    /// Sends logs to `group` in `format` (`LoggingConfig`).
    pub fn log_group(mut self, group: &LogGroupRef, format: LogFormat) -> Self {
        self.logging = Some((group.clone(), format));
        self
    }

    /// Makes the function durable.
    pub fn durable(mut self, config: DurableConfig) -> Self {
        self.durable = Some(config);
        self
    }

    /// Runs each tenant in execution environments of its own (`TenancyConfig` `PER_TENANT`): callers must then
    /// pass a tenant id, as a durable function's chained invoke does when given one. Create-only, like
    /// `DurableConfig`.
    pub fn tenant_isolated(mut self) -> Self {
        self.tenant_isolated = true;
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Gives the function an example event: what the deployer's `invoke` sends when no payload is named. It is
    /// not part of the template (see [`crate::SynthesizedStack::example_events`]).
    pub fn example_event(mut self, event: Value) -> Self {
        self.example_event = Some(event);
        self
    }
}

impl Synthesize for Function {
    fn resource_type(&self) -> &'static str {
        "AWS::Lambda::Function"
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        let range = |property, value: u32, (min, max): (u32, u32)| {
            SynthError::check_range(path, property, value.into(), min.into(), max.into())
        };
        range("MemorySize", self.memory_size, MEMORY_SIZE_RANGE)?;
        range("Timeout", self.timeout_seconds, TIMEOUT_RANGE)?;
        if let Some(d) = &self.durable {
            range("DurableConfig.ExecutionTimeout", d.execution_timeout_seconds, EXECUTION_TIMEOUT_RANGE)?;
            range("DurableConfig.RetentionPeriodInDays", d.retention_period_in_days, RETENTION_PERIOD_RANGE)?;
            if let Some(arn) = d.kms_key_arn.as_ref().and_then(Expr::as_literal) {
                check_kms_key_arn(path, arn)?;
            }
        }
        if self.handler.is_empty() || self.handler.len() > 128 {
            return Err(SynthError::invalid(path, "Handler must be 1 to 128 characters"));
        }
        for name in self.environment.keys() {
            let well_formed = name.len() >= 2
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !well_formed || RESERVED_ENV.contains(&name.as_str()) {
                return Err(SynthError::invalid(
                    path,
                    format!(
                        "environment variable `{name}` is reserved by lambda or not of the form [A-Za-z][A-Za-z0-9_]+"
                    ),
                ));
            }
        }
        check_description(path, self.description.as_deref(), 256)
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        let asset = cx.asset()?;
        let environment = if self.environment.is_empty() {
            None
        } else {
            let mut vars = Map::new();
            for (name, value) in &self.environment {
                vars.insert(name.clone(), value.render(cx)?);
            }
            Some(json!({ "Variables": vars }))
        };
        let logging = match &self.logging {
            Some((group, format)) => Some(json!({
                "LogFormat": format.as_str(),
                "LogGroup": group.ref_().render(cx)?,
            })),
            None => None,
        };
        let durable = match &self.durable {
            Some(d) => Some(
                Props::new()
                    .set("ExecutionTimeout", d.execution_timeout_seconds)
                    .set_opt("KMSKeyArn", d.kms_key_arn.as_ref().map(|arn| arn.render(cx)).transpose()?)
                    .set("RetentionPeriodInDays", d.retention_period_in_days)
                    .build(),
            ),
            None => None,
        };
        Ok(Props::new()
            .set("Architectures", json!([self.architecture.as_str()]))
            .set(
                "Code",
                json!({
                    "S3Bucket": { "Ref": crate::asset::BUCKET_PARAMETER },
                    "S3Key": asset.object_key(),
                }),
            )
            .set_opt("Description", self.description.clone())
            .set_opt("DurableConfig", durable)
            .set_opt("Environment", environment)
            .set("Handler", self.handler.clone())
            .set_opt("LoggingConfig", logging)
            .set("MemorySize", self.memory_size)
            .set("Role", self.role.arn().render(cx)?)
            .set("Runtime", self.runtime.as_str())
            .set_opt("TenancyConfig", self.tenant_isolated.then(|| json!({ "TenantIsolationMode": "PER_TENANT" })))
            .set("Timeout", self.timeout_seconds)
            .build())
    }

    fn asset(&self) -> Option<&AssetSource> {
        Some(&self.code)
    }

    fn example_event(&self) -> Option<&Value> {
        self.example_event.as_ref()
    }
}

/// A literal `DurableConfig.KMSKeyArn` must name a KMS key (`arn:<partition>:kms:<region>:<account>:key/<id>`):
/// an alias ARN or a key of another service would only fail when CloudFormation creates the function.
fn check_kms_key_arn(path: &str, arn: &str) -> Result<(), SynthError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = matches!(
        parts.as_slice(),
        ["arn", partition, "kms", region, account, resource]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && resource.strip_prefix("key/").is_some_and(|id| !id.is_empty())
    );
    if well_formed {
        Ok(())
    } else {
        Err(SynthError::invalid(
            path,
            format!(
                "DurableConfig.KMSKeyArn `{arn}` must be a KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<key id>"
            ),
        ))
    }
}

impl MakeRef for Function {
    type Ref = FunctionRef;
    fn make_ref(&self, handle: ResourceHandle) -> FunctionRef {
        FunctionRef::new(handle)
    }
}

impl Resource for Function {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::construct::Stack;
    use crate::resources::iam::Role;

    fn add(configure: impl FnOnce(Function) -> Function) -> Result<FunctionRef, SynthError> {
        let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
        let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
        let code = AssetSource::Zip { path: "f.zip".into() };
        stack.add("Fn", configure(Function::new(code, &role)))
    }

    fn durable(execution_timeout_seconds: u32, retention_period_in_days: u32) -> DurableConfig {
        DurableConfig::new(execution_timeout_seconds, retention_period_in_days)
    }

    #[test]
    fn out_of_range_values_are_rejected_naming_the_construct() {
        type Case = (&'static str, fn(Function) -> Function);
        let cases: &[Case] = &[
            ("MemorySize", |f| f.memory_size(127)),
            ("MemorySize", |f| f.memory_size(10_241)),
            ("Timeout", |f| f.timeout_seconds(0)),
            ("Timeout", |f| f.timeout_seconds(901)),
            ("DurableConfig.ExecutionTimeout", |f| f.durable(durable(0, 7))),
            ("DurableConfig.ExecutionTimeout", |f| f.durable(durable(31_622_401, 7))),
            ("DurableConfig.RetentionPeriodInDays", |f| f.durable(durable(600, 0))),
            ("DurableConfig.RetentionPeriodInDays", |f| f.durable(durable(600, 91))),
        ];
        for (property, configure) in cases {
            let err = add(configure).unwrap_err();
            assert!(
                matches!(&err, SynthError::OutOfRange { path, property: p, .. } if path == "s/Fn" && p == property),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(message.starts_with("s/Fn: ") && message.contains(property), "{message}");
        }
    }

    #[test]
    fn boundary_values_are_accepted() {
        for configure in [
            |f: Function| f.memory_size(128).timeout_seconds(1).durable(durable(1, 1)),
            |f: Function| f.memory_size(10_240).timeout_seconds(900).durable(durable(31_622_400, 90)),
        ] {
            add(configure).unwrap();
        }
    }

    #[test]
    fn tenant_isolation_renders_per_tenant_tenancy() {
        let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
        let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
        let code = || AssetSource::Zip { path: "f.zip".into() };
        stack.add("Isolated", Function::new(code(), &role).tenant_isolated()).unwrap();
        stack.add("Shared", Function::new(code(), &role)).unwrap();
        let mut assets = crate::asset::AssetManifest::new();
        assets.insert("s/Isolated", "0".repeat(64));
        assets.insert("s/Shared", "0".repeat(64));
        let t = stack.synth(&assets).unwrap().template;
        assert_eq!(
            t["Resources"]["Isolated"]["Properties"]["TenancyConfig"],
            serde_json::json!({"TenantIsolationMode": "PER_TENANT"})
        );
        assert!(t["Resources"]["Shared"]["Properties"].get("TenancyConfig").is_none());
    }

    #[test]
    fn a_kms_key_arn_is_rendered_and_a_malformed_one_rejected() {
        let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        add(|f| f.durable(durable(600, 7).kms_key_arn(key))).unwrap();
        for bad in [
            "arn:aws:kms:eu-west-1:123456789012:alias/mine",
            "arn:aws:s3:::bucket",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-west-1:1234:key/x",
        ] {
            let err = add(|f| f.durable(durable(600, 7).kms_key_arn(bad))).unwrap_err().to_string();
            assert!(err.starts_with("s/Fn: ") && err.contains("KMSKeyArn") && err.contains(bad), "{err}");
        }
    }

    #[test]
    fn reserved_or_malformed_environment_names_are_rejected() {
        for name in ["AWS_REGION", "1X", "A-B", "X"] {
            let err = add(|f| f.env(name, "v")).unwrap_err().to_string();
            assert!(err.contains("s/Fn") && err.contains(name), "{err}");
        }
    }
}
