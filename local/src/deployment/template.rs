//! Reads a synthesized app template generically: its Lambda functions, versions, aliases and outputs, with the
//! intrinsic functions evaluated to local ARNs.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::arn::Arns;
use crate::error::LocalError;

/// A durable function's settings, from `DurableConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DurableSettings {
    /// `ExecutionTimeout`, seconds.
    pub execution_timeout: u64,
    /// `RetentionPeriodInDays`.
    pub retention_days: u64,
}

impl Default for DurableSettings {
    /// Lambda's defaults: a 15-minute timeout (what a synchronous invoke waits), 14 days of retention.
    fn default() -> Self {
        Self { execution_timeout: 900, retention_days: 14 }
    }
}

/// One `AWS::Lambda::Function` of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TemplateFunction {
    /// Logical id.
    pub logical_id: String,
    /// The local function name, `<stack>-<LogicalId>` (at most 64 characters).
    pub name: String,
    /// `Code.S3Key`, naming the asset zip (`<sha256>.zip`).
    pub code_key: Option<String>,
    /// `MemorySize`, MB (Lambda's default 128).
    pub memory_mb: u64,
    /// `Timeout`, seconds (Lambda's default 3).
    pub timeout_s: u64,
    /// `Environment.Variables`, evaluated.
    pub env: BTreeMap<String, String>,
    /// `DurableConfig`, when the function is durable.
    pub durable: Option<DurableSettings>,
    /// `LoggingConfig.LogFormat` (`Text` or `JSON`).
    pub log_format: String,
    /// `LoggingConfig.LogGroup`, else `/aws/lambda/<name>`.
    pub log_group: String,
    /// `Description`, else empty.
    pub description: String,
}

/// One `AWS::Lambda::Version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TemplateVersion {
    /// Logical id (it carries a hash of the code, so new code means a new id).
    pub logical_id: String,
    /// Logical id of the function it publishes.
    pub function: String,
    /// Its own `Description`, which overrides the function's in the published version.
    pub description: Option<String>,
}

/// One `AWS::Lambda::Alias`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TemplateAlias {
    /// Alias name.
    pub name: String,
    /// Logical id of the function.
    pub function: String,
    /// Logical id of the version it points at.
    pub version: String,
    /// `Description`, else empty.
    pub description: String,
}

/// What the local target runs of one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TemplateModel {
    /// Functions in logical-id order.
    pub functions: Vec<TemplateFunction>,
    /// Versions in logical-id order.
    pub versions: Vec<TemplateVersion>,
    /// Aliases in logical-id order.
    pub aliases: Vec<TemplateAlias>,
    /// Outputs, evaluated.
    pub outputs: BTreeMap<String, String>,
    /// Every resource with its local physical id, in logical-id order (what `ListStackResources` shows).
    pub resources: Vec<TemplateResource>,
}

/// One resource of the template and the physical id the local target gives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TemplateResource {
    /// Logical id.
    pub logical_id: String,
    /// `AWS::...` type.
    pub kind: String,
    /// Local physical id: a function's name, a version's or alias's ARN, a log group's name, else
    /// `<stack>-<LogicalId>`.
    pub physical_id: String,
}

/// Lists the version logical ids of a template with the function each publishes (needed to number versions
/// before the template can be evaluated).
pub(super) fn versions(template: &Value) -> Vec<TemplateVersion> {
    resources(template)
        .filter(|(_, kind, _)| *kind == "AWS::Lambda::Version")
        .filter_map(|(id, _, props)| {
            let function = ref_target(props.get("FunctionName")?)?;
            Some(TemplateVersion { logical_id: id.to_owned(), function, description: None })
        })
        .collect()
}

/// Reads the template. `version_numbers` maps each version logical id to the version number it was given.
pub(super) fn read(
    template: &Value,
    arns: &Arns,
    version_numbers: &BTreeMap<String, u64>,
) -> Result<TemplateModel, LocalError> {
    let names = function_names(template, arns);
    let eval = Evaluator { template, arns, version_numbers, names: &names };
    let mut functions = Vec::new();
    let mut aliases = Vec::new();
    let mut versions = versions(template);
    for (id, kind, props) in resources(template) {
        match kind {
            "AWS::Lambda::Function" => functions.push(eval.function(id, props)?),
            "AWS::Lambda::Version" => {
                if let (Some(version), Some(description)) =
                    (versions.iter_mut().find(|v| v.logical_id == id), props.get("Description"))
                {
                    version.description = Some(eval.string(description, &format!("{id}.Description"))?);
                }
            }
            "AWS::Lambda::Alias" => {
                let name = eval.string(props.get("Name").unwrap_or(&Value::Null), id)?;
                let function = props.get("FunctionName").and_then(ref_target).unwrap_or_default();
                let version = props.get("FunctionVersion").and_then(ref_or_getatt_target).unwrap_or_default();
                let description = match props.get("Description") {
                    Some(text) => eval.string(text, &format!("{id}.Description"))?,
                    None => String::new(),
                };
                aliases.push(TemplateAlias { name, function, version, description });
            }
            _ => {}
        }
    }
    let mut outputs = BTreeMap::new();
    if let Some(Value::Object(outs)) = template.get("Outputs") {
        for (key, out) in outs {
            let value = out.get("Value").unwrap_or(&Value::Null);
            outputs.insert(key.clone(), eval.string(value, &format!("output {key}"))?);
        }
    }
    let mut resources_list = Vec::new();
    for (id, kind, props) in resources(template) {
        let physical_id = match kind {
            "AWS::Lambda::Function" => eval.name_of(id),
            "AWS::Lambda::Version" | "AWS::Lambda::Alias" => eval.reference(id, id)?,
            "AWS::Logs::LogGroup" => match props.get("LogGroupName") {
                Some(name) => eval.string(name, &format!("{id}.LogGroupName"))?,
                None => arns.physical_id(id),
            },
            _ => arns.physical_id(id),
        };
        resources_list.push(TemplateResource { logical_id: id.to_owned(), kind: kind.to_owned(), physical_id });
    }
    Ok(TemplateModel { functions, versions, aliases, outputs, resources: resources_list })
}

/// Each function's fingerprint: the SHA-256 of its properties as the template writes them (keys sorted, `Tags`
/// left out: they are not part of a version), of the template's parameters, which those properties may name, and
/// of the code its `Code.S3Key` names (`code_sha256` gives the hash of the binary behind a key). Two equal
/// fingerprints mean the same code and the same configuration, so a new `AWS::Lambda::Version` of an unchanged
/// function publishes nothing new, as `PublishVersion` does on AWS.
pub(super) fn fingerprints<'a>(
    template: &Value,
    code_sha256: impl Fn(&str) -> Option<&'a str>,
) -> BTreeMap<String, String> {
    use sha2::Digest as _;
    let parameters = canonical(template.get("Parameters").unwrap_or(&Value::Null));
    resources(template)
        .filter(|(_, kind, _)| *kind == "AWS::Lambda::Function")
        .map(|(id, _, props)| {
            let code = props.get("Code").and_then(|c| c.get("S3Key")).and_then(Value::as_str).and_then(&code_sha256);
            let mut props = props.clone();
            props.remove("Tags");
            let mut hasher = sha2::Sha256::new();
            for part in [canonical(&Value::Object(props)).as_str(), &parameters, code.unwrap_or_default()] {
                hasher.update(part.as_bytes());
                hasher.update([0]);
            }
            (id.to_owned(), hex::encode(hasher.finalize()))
        })
        .collect()
}

/// JSON text with every object's keys sorted, whatever order the template was written in.
fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// Each function's name: its literal `FunctionName`, else `<stack>-<LogicalId>` as CloudFormation would
/// generate one (without the random suffix, so names stay stable across deployments).
fn function_names(template: &Value, arns: &Arns) -> BTreeMap<String, String> {
    resources(template)
        .filter(|(_, kind, _)| *kind == "AWS::Lambda::Function")
        .map(|(id, _, props)| {
            let name =
                props.get("FunctionName").and_then(Value::as_str).map_or_else(|| arns.function_name(id), str::to_owned);
            (id.to_owned(), name)
        })
        .collect()
}

fn resources(template: &Value) -> impl Iterator<Item = (&str, &str, &Map<String, Value>)> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    let empty = EMPTY.get_or_init(Map::new);
    template.get("Resources").and_then(Value::as_object).into_iter().flatten().map(move |(id, res)| {
        let kind = res.get("Type").and_then(Value::as_str).unwrap_or_default();
        let props = res.get("Properties").and_then(Value::as_object).unwrap_or(empty);
        (id.as_str(), kind, props)
    })
}

fn ref_target(value: &Value) -> Option<String> {
    value.get("Ref").and_then(Value::as_str).map(str::to_owned)
}

fn ref_or_getatt_target(value: &Value) -> Option<String> {
    ref_target(value).or_else(|| {
        let att = value.get("Fn::GetAtt")?;
        let first = match att {
            Value::Array(parts) => parts.first()?.as_str()?,
            Value::String(s) => s.split('.').next()?,
            _ => return None,
        };
        Some(first.to_owned())
    })
}

struct Evaluator<'a> {
    template: &'a Value,
    arns: &'a Arns,
    version_numbers: &'a BTreeMap<String, u64>,
    names: &'a BTreeMap<String, String>,
}

impl Evaluator<'_> {
    fn name_of(&self, function: &str) -> String {
        self.names.get(function).cloned().unwrap_or_else(|| self.arns.function_name(function))
    }

    fn function(&self, id: &str, props: &Map<String, Value>) -> Result<TemplateFunction, LocalError> {
        let mut env = BTreeMap::new();
        if let Some(Value::Object(vars)) = props.get("Environment").and_then(|e| e.get("Variables")) {
            for (key, value) in vars {
                env.insert(key.clone(), self.string(value, &format!("{id}.Environment.{key}"))?);
            }
        }
        let durable = match props.get("DurableConfig") {
            Some(config) => Some(DurableSettings {
                execution_timeout: self.number(config.get("ExecutionTimeout"), 900)?,
                retention_days: self.number(config.get("RetentionPeriodInDays"), 14)?,
            }),
            None => None,
        };
        let code_key = match props.get("Code").and_then(|c| c.get("S3Key")) {
            Some(key) => Some(self.string(key, &format!("{id}.Code.S3Key"))?),
            None => None,
        };
        let log_format = match props.get("LoggingConfig").and_then(|l| l.get("LogFormat")) {
            Some(format) => self.string(format, &format!("{id}.LoggingConfig.LogFormat"))?,
            None => "Text".to_owned(),
        };
        let name = self.name_of(id);
        let description = match props.get("Description") {
            Some(text) => self.string(text, &format!("{id}.Description"))?,
            None => String::new(),
        };
        let log_group = match props.get("LoggingConfig").and_then(|l| l.get("LogGroup")) {
            Some(group) => self.string(group, &format!("{id}.LoggingConfig.LogGroup"))?,
            None => format!("/aws/lambda/{name}"),
        };
        Ok(TemplateFunction {
            logical_id: id.to_owned(),
            log_group,
            name,
            code_key,
            memory_mb: self.number(props.get("MemorySize"), 128)?,
            timeout_s: self.number(props.get("Timeout"), 3)?,
            env,
            durable,
            log_format,
            description,
        })
    }

    fn number(&self, value: Option<&Value>, default: u64) -> Result<u64, LocalError> {
        let Some(value) = value else { return Ok(default) };
        if let Some(n) = value.as_u64() {
            return Ok(n);
        }
        let text = self.string(value, "a number property")?;
        text.parse().map_err(|_| LocalError::Template(format!("`{text}` is not a whole number")))
    }

    fn string(&self, value: &Value, context: &str) -> Result<String, LocalError> {
        match self.eval(value, context)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(LocalError::Template(format!("{context} evaluates to {other}, not a string"))),
        }
    }

    fn eval(&self, value: &Value, context: &str) -> Result<Value, LocalError> {
        let Value::Object(map) = value else { return Ok(value.clone()) };
        if map.len() != 1 {
            return Ok(value.clone());
        }
        let Some((key, arg)) = map.iter().next() else { return Ok(value.clone()) };
        let text = |v: &Value| self.string(v, context);
        match key.as_str() {
            "Ref" => Ok(Value::String(self.reference(arg.as_str().unwrap_or_default(), context)?)),
            "Fn::GetAtt" => {
                let (target, attr) = match arg {
                    Value::Array(parts) => (
                        parts.first().and_then(Value::as_str).unwrap_or_default().to_owned(),
                        parts.get(1).map(&text).transpose()?.unwrap_or_default(),
                    ),
                    Value::String(s) => {
                        let (t, a) = s.split_once('.').unwrap_or((s, ""));
                        (t.to_owned(), a.to_owned())
                    }
                    _ => return Err(LocalError::Template(format!("{context}: malformed Fn::GetAtt {arg}"))),
                };
                Ok(Value::String(self.attribute(&target, &attr, context)?))
            }
            "Fn::Join" => {
                let sep = arg.get(0).map(&text).transpose()?.unwrap_or_default();
                let items = match arg.get(1).map(|v| self.eval(v, context)).transpose()? {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                let parts = items.iter().map(&text).collect::<Result<Vec<_>, _>>()?;
                Ok(Value::String(parts.join(&sep)))
            }
            "Fn::Select" => {
                let index = self.number(arg.get(0), 0)?;
                let list = arg.get(1).map(|v| self.eval(v, context)).transpose()?;
                let item = list
                    .as_ref()
                    .and_then(Value::as_array)
                    .and_then(|l| l.get(usize::try_from(index).unwrap_or(usize::MAX)))
                    .ok_or_else(|| LocalError::Template(format!("{context}: Fn::Select index {index} out of range")))?;
                self.eval(item, context)
            }
            "Fn::Split" => {
                let sep = arg.get(0).map(&text).transpose()?.unwrap_or_default();
                let whole = arg.get(1).map(&text).transpose()?.unwrap_or_default();
                Ok(Value::Array(whole.split(sep.as_str()).map(|s| Value::String(s.to_owned())).collect()))
            }
            "Fn::Sub" => {
                let (pattern, vars) = match arg {
                    Value::Array(parts) => (
                        parts.first().map(&text).transpose()?.unwrap_or_default(),
                        parts.get(1).and_then(Value::as_object).cloned().unwrap_or_default(),
                    ),
                    other => (text(other)?, Map::new()),
                };
                Ok(Value::String(self.substitute(&pattern, &vars, context)?))
            }
            _ if key.starts_with("Fn::") => Err(LocalError::Template(format!(
                "{context} uses {key}, which the local target does not evaluate; use Ref, Fn::GetAtt, Fn::Sub or Fn::Join"
            ))),
            _ => Ok(value.clone()),
        }
    }

    fn substitute(&self, pattern: &str, vars: &Map<String, Value>, context: &str) -> Result<String, LocalError> {
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(end) = after.find('}') else {
                return Err(LocalError::Template(format!("{context}: unclosed ${{ in Fn::Sub `{pattern}`")));
            };
            let name = &after[..end];
            let value = if let Some(v) = vars.get(name) {
                self.string(v, context)?
            } else if let Some((target, attr)) = name.split_once('.') {
                self.attribute(target, attr, context)?
            } else {
                self.reference(name, context)?
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn resource_type(&self, id: &str) -> Option<&str> {
        self.template.get("Resources")?.get(id)?.get("Type")?.as_str()
    }

    fn reference(&self, name: &str, context: &str) -> Result<String, LocalError> {
        let a = self.arns;
        if let Some(pseudo) = a.pseudo(name) {
            return Ok(pseudo);
        }
        if let Some(param) = self.template.get("Parameters").and_then(|p| p.get(name)) {
            return match param.get("Default") {
                Some(default) => self.string(default, context),
                None => Err(LocalError::Template(format!(
                    "{context} refers to parameter {name}, which has no default; the local target takes no parameters"
                ))),
            };
        }
        match self.resource_type(name) {
            Some("AWS::Lambda::Function") => Ok(self.name_of(name)),
            Some("AWS::Lambda::Version") => self.version_arn(name, context),
            Some("AWS::Lambda::Alias") => {
                let props = self.template.get("Resources").and_then(|r| r.get(name)).and_then(|r| r.get("Properties"));
                let function = props.and_then(|p| p.get("FunctionName")).and_then(ref_target).unwrap_or_default();
                let alias = self.string(props.and_then(|p| p.get("Name")).unwrap_or(&Value::Null), context)?;
                Ok(a.qualified_arn(&self.name_of(&function), &alias))
            }
            Some(_) => Ok(a.physical_id(name)),
            None => {
                Err(LocalError::Template(format!("{context} refers to {name}, which the template does not define")))
            }
        }
    }

    fn version_arn(&self, id: &str, context: &str) -> Result<String, LocalError> {
        let version = versions(self.template).into_iter().find(|v| v.logical_id == id);
        let number = self.version_numbers.get(id);
        match (version, number) {
            (Some(v), Some(n)) => Ok(self.arns.qualified_arn(&self.name_of(&v.function), &n.to_string())),
            _ => Err(LocalError::Template(format!("{context}: version {id} has no number or no function"))),
        }
    }

    fn attribute(&self, target: &str, attr: &str, context: &str) -> Result<String, LocalError> {
        let a = self.arns;
        match (self.resource_type(target), attr) {
            (Some("AWS::Lambda::Function"), "Arn") => Ok(a.function_arn(&self.name_of(target))),
            (Some("AWS::Lambda::Version"), "Version") => self
                .version_numbers
                .get(target)
                .map(ToString::to_string)
                .ok_or_else(|| LocalError::Template(format!("{context}: version {target} has no number"))),
            (Some("AWS::Lambda::Version" | "AWS::Lambda::Alias"), "Arn" | "FunctionArn") => {
                self.reference(target, context)
            }
            (Some("AWS::IAM::Role"), "Arn") => Ok(format!("arn:aws:iam::{}:role/{}", a.account, a.physical_id(target))),
            (Some("AWS::Logs::LogGroup"), "Arn") => {
                Ok(format!("arn:aws:logs:{}:{}:log-group:{}:*", a.region, a.account, a.physical_id(target)))
            }
            (Some(kind), _) => Ok(a.generic_attribute(kind, target, attr)),
            (None, _) => {
                Err(LocalError::Template(format!("{context} refers to {target}, which the template does not define")))
            }
        }
    }
}
