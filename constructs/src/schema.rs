//! CloudFormation's published resource provider schemas, and the check of a resource's properties against them.
//!
//! The schemas come from the cfn-lint wheel pinned in `constructs/schemas/cfn-lint.lock`, trimmed to what validation
//! needs by `constructs/schemas/generate.py` (which can also prove the checked-in bundle is exactly what that
//! wheel yields) and embedded in the library. Every resource of a stack is checked at synth, whether a typed builder
//! or [`crate::resources::cfn::CfnResource`] made it: a property that does not exist, a value of the wrong type, a
//! missing required property, a value outside an enum, a pattern, a length or a range is an error naming the
//! construct path and the rule. Values CloudFormation computes (`Ref`, `Fn::GetAtt`, `Fn::Sub`...) are not checked;
//! as CloudFormation does, numbers and booleans written as strings are accepted.
//!
//! `Fn::GetAtt` attributes are checked against the type's attributes (its read-only properties, and what cfn-lint
//! adds to them), so a misspelled attribute fails at synth, not in CloudFormation.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::SynthError;

/// The compressed bundle: one JSON object, type name → trimmed schema with its `getAtt` list.
const BUNDLE: &[u8] = include_bytes!("../schemas/us-east-1.json.gz");
/// Where the bundle comes from, for messages.
pub const SOURCE: &str = "cfn-lint 1.58.0 (us-east-1)";

/// The schemas by type, each parsed when first needed.
struct Registry {
    raw: BTreeMap<String, Box<RawValue>>,
    parsed: Mutex<BTreeMap<String, &'static Value>>,
    patterns: Mutex<BTreeMap<String, Option<&'static regex::Regex>>>,
}

fn registry() -> Result<&'static Registry, String> {
    static REGISTRY: OnceLock<Result<Registry, String>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let mut text = String::new();
            flate2::read::GzDecoder::new(BUNDLE)
                .read_to_string(&mut text)
                .map_err(|e| format!("the embedded resource schemas cannot be read: {e}"))?;
            let raw: BTreeMap<String, Box<RawValue>> =
                serde_json::from_str(&text).map_err(|e| format!("the embedded resource schemas are not JSON: {e}"))?;
            Ok(Registry { raw, parsed: Mutex::new(BTreeMap::new()), patterns: Mutex::new(BTreeMap::new()) })
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl Registry {
    /// The schema of `type_name`, parsed once and kept for the life of the process (an app synthesizes once).
    fn schema(&self, type_name: &str) -> Option<&'static Value> {
        let mut parsed = self.parsed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(schema) = parsed.get(type_name) {
            return Some(schema);
        }
        let value: Value = serde_json::from_str(self.raw.get(type_name)?.get()).ok()?;
        let leaked: &'static Value = Box::leak(Box::new(value));
        parsed.insert(type_name.to_owned(), leaked);
        Some(leaked)
    }

    /// `pattern` compiled once; `None` for the few patterns the `regex` crate cannot compile (look-around), which
    /// are then not checked.
    fn pattern(&self, pattern: &str) -> Option<&'static regex::Regex> {
        let mut patterns = self.patterns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *patterns
            .entry(pattern.to_owned())
            .or_insert_with(|| regex::Regex::new(pattern).ok().map(|r| &*Box::leak(Box::new(r))))
    }
}

/// Whether CloudFormation's published schemas are expected to know `type_name`: every `AWS::` type is; custom
/// resources (`Custom::`) and third-party registry types are not checked.
fn is_checked(type_name: &str) -> bool {
    type_name.starts_with("AWS::")
}

/// Whether `type_name` is a resource type CloudFormation has (or one this check does not cover).
pub fn exists(type_name: &str) -> Result<bool, SynthError> {
    if !is_checked(type_name) {
        return Ok(true);
    }
    let registry = registry().map_err(|message| SynthError::invalid("(schemas)", message))?;
    Ok(registry.raw.contains_key(type_name))
}

/// The attributes `Fn::GetAtt` reads on `type_name`; `None` for a type that is not checked.
pub fn attributes(type_name: &str) -> Option<Vec<String>> {
    if !is_checked(type_name) {
        return None;
    }
    let schema = registry().ok()?.schema(type_name)?;
    let list = schema.get("getAtt")?.as_array()?;
    Some(list.iter().filter_map(|a| a.as_str().map(str::to_owned)).collect())
}

/// Checks that `Fn::GetAtt` of `attribute` exists on a resource of `type_name` at `path`.
pub fn check_attribute(path: &str, type_name: &str, attribute: &str) -> Result<(), SynthError> {
    let Some(known) = attributes(type_name) else { return Ok(()) };
    if known.iter().any(|a| a == attribute) {
        return Ok(());
    }
    Err(SynthError::Schema {
        path: path.to_owned(),
        type_name: type_name.to_owned(),
        message: format!(
            "Fn::GetAtt `{attribute}` does not exist{}; the type's attributes: {}",
            suggestion(attribute, known.iter().map(String::as_str)),
            known.join(", ")
        ),
    })
}

/// Checks a resource's rendered `Properties` against its type's schema.
pub fn validate(path: &str, type_name: &str, properties: &Value) -> Result<(), SynthError> {
    if !is_checked(type_name) {
        return Ok(());
    }
    let registry = registry().map_err(|message| SynthError::invalid(path, message))?;
    let Some(schema) = registry.schema(type_name) else {
        return Err(SynthError::Schema {
            path: path.to_owned(),
            type_name: type_name.to_owned(),
            message: format!("is not a resource type CloudFormation knows (schemas of {SOURCE})"),
        });
    };
    let fail = |message: String| SynthError::Schema { path: path.to_owned(), type_name: type_name.to_owned(), message };
    if let Some(read_only) = schema.get("readOnlyProperties").and_then(Value::as_array)
        && let Some(object) = properties.as_object()
    {
        for pointer in read_only.iter().filter_map(Value::as_str) {
            let name = pointer.trim_start_matches("/properties/");
            if !name.contains('/') && object.contains_key(name) {
                return Err(fail(format!(
                    "property `{name}` is read-only: CloudFormation sets it; read it with Fn::GetAtt instead"
                )));
            }
        }
    }
    let checker = Checker { registry, root: schema };
    checker.check(schema, properties, "").map_err(fail)
}

/// Validates values against one type's schema.
struct Checker<'a> {
    registry: &'a Registry,
    root: &'static Value,
}

/// How deep `$ref`s and nesting are followed (some schemas are recursive).
const MAX_DEPTH: usize = 32;

impl Checker<'_> {
    fn check(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        self.check_depth(schema, value, at, 0)
    }

    fn check_depth(&self, schema: &Value, value: &Value, at: &str, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH || is_intrinsic(value) {
            return Ok(());
        }
        let Some(schema) = schema.as_object() else { return Ok(()) };
        if let Some(target) = schema.get("$ref").and_then(Value::as_str).and_then(|r| self.resolve(r)) {
            self.check_depth(target, value, at, depth + 1)?;
        }
        if let Some(types) = schema.get("type") {
            check_type(types, value, at)?;
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.iter().any(|o| same_scalar(o, value))
        {
            let listed: Vec<String> = options.iter().map(scalar_text).collect();
            return Err(format!("{} must be one of {}; got {}", name(at), listed.join(", "), scalar_text(value)));
        }
        if let Some(expected) = schema.get("const")
            && !same_scalar(expected, value)
        {
            return Err(format!("{} must be {}; got {}", name(at), scalar_text(expected), scalar_text(value)));
        }
        self.check_string(schema, value, at)?;
        check_number(schema, value, at)?;
        if let Some(items) = value.as_array() {
            check_count(schema, "minItems", "maxItems", items.len(), at, "items")?;
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    self.check_depth(item_schema, item, &format!("{at}[{index}]"), depth + 1)?;
                }
            }
        }
        if let Some(object) = value.as_object() {
            self.check_object(schema, object, at, depth)?;
        }
        for key in ["allOf"] {
            for branch in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
                self.check_depth(branch, value, at, depth + 1)?;
            }
        }
        // Schemas use `oneOf` for branches that differ only in which properties are required; one that fits is
        // enough (CloudFormation and cfn-lint accept the same), else the first branch's error is the clearest.
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array).filter(|b| !b.is_empty()) {
                let mut first = None;
                let fits = branches.iter().any(|branch| match self.check_depth(branch, value, at, depth + 1) {
                    Ok(()) => true,
                    Err(e) => {
                        first.get_or_insert(e);
                        false
                    }
                });
                if !fits {
                    return Err(first.unwrap_or_default());
                }
            }
        }
        Ok(())
    }

    fn check_object(
        &self,
        schema: &serde_json::Map<String, Value>,
        object: &serde_json::Map<String, Value>,
        at: &str,
        depth: usize,
    ) -> Result<(), String> {
        let properties = schema.get("properties").and_then(Value::as_object);
        let patterns = schema.get("patternProperties").and_then(Value::as_object);
        let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
        for (key, child) in object {
            let path = join(at, key);
            if let Some(child_schema) = properties.and_then(|p| p.get(key)) {
                self.check_depth(child_schema, child, &path, depth + 1)?;
                continue;
            }
            let mut matched = false;
            for (pattern, child_schema) in patterns.into_iter().flatten() {
                if self.registry.pattern(pattern).is_none_or(|r| r.is_match(key)) {
                    matched = true;
                    self.check_depth(child_schema, child, &path, depth + 1)?;
                }
            }
            if matched {
                continue;
            }
            if closed {
                let known: Vec<&str> = properties.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                return Err(format!(
                    "property `{path}` does not exist{}; {}",
                    suggestion(key, known.iter().copied()),
                    if known.is_empty() {
                        "this object takes no properties".to_owned()
                    } else {
                        format!("known here: {}", known.join(", "))
                    }
                ));
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                self.check_depth(extra, child, &path, depth + 1)?;
            }
        }
        // After the names: a misspelled required property is reported as misspelled, with its right name.
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if let Some(required) = required.as_str()
                && !object.contains_key(required)
            {
                return Err(format!("{} is required{}", name(&join(at, required)), within(at)));
            }
        }
        check_count_map(schema, object.len(), at)
    }

    fn check_string(&self, schema: &serde_json::Map<String, Value>, value: &Value, at: &str) -> Result<(), String> {
        let Some(text) = value.as_str() else { return Ok(()) };
        check_count(schema, "minLength", "maxLength", text.chars().count(), at, "characters")?;
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && let Some(regex) = self.registry.pattern(pattern)
            && !regex.is_match(text)
        {
            return Err(format!("{} must match the pattern {pattern}; got {}", name(at), quoted(text)));
        }
        Ok(())
    }

    fn resolve(&self, reference: &str) -> Option<&'static Value> {
        let mut node = self.root;
        for part in reference.strip_prefix("#/")?.split('/') {
            node = node.get(part)?;
        }
        Some(node)
    }
}

/// `{"Ref": ...}` or `{"Fn::...": ...}`: a value CloudFormation computes, which the schema cannot judge.
fn is_intrinsic(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.len() == 1 && o.keys().next().is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
    })
}

fn check_type(types: &Value, value: &Value, at: &str) -> Result<(), String> {
    let allowed: Vec<&str> = match types {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    if allowed.iter().any(|t| has_type(t, value)) {
        return Ok(());
    }
    Err(format!("{} must be {}; got {}", name(at), article(&allowed), kind(value)))
}

/// Whether `value` is of JSON schema type `ty`, as CloudFormation reads templates (numbers and booleans may be
/// written as strings, and a number may be given where a string is expected).
fn has_type(ty: &str, value: &Value) -> bool {
    match ty {
        "string" => value.is_string() || value.is_number() || value.is_boolean(),
        "integer" => {
            value.as_i64().is_some()
                || value.as_u64().is_some()
                || value.as_str().is_some_and(|s| s.trim().parse::<i64>().is_ok())
        }
        "number" => value.is_number() || value.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok()),
        "boolean" => value.is_boolean() || value.as_str().is_some_and(|s| matches!(s, "true" | "false")),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn check_number(schema: &serde_json::Map<String, Value>, value: &Value, at: &str) -> Result<(), String> {
    let Some(number) = value.as_f64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok())) else {
        return Ok(());
    };
    if !(value.is_number() || schema.get("type").is_some_and(|t| t == "integer" || t == "number")) {
        return Ok(());
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && number < min
    {
        return Err(format!("{} must be at least {min}; got {number}", name(at)));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && number > max
    {
        return Err(format!("{} must be at most {max}; got {number}", name(at)));
    }
    Ok(())
}

fn check_count(
    schema: &serde_json::Map<String, Value>,
    min_key: &str,
    max_key: &str,
    count: usize,
    at: &str,
    unit: &str,
) -> Result<(), String> {
    let count = u64::try_from(count).unwrap_or(u64::MAX);
    if let Some(min) = schema.get(min_key).and_then(Value::as_u64)
        && count < min
    {
        return Err(format!("{} must have at least {min} {unit}; got {count}", name(at)));
    }
    if let Some(max) = schema.get(max_key).and_then(Value::as_u64)
        && count > max
    {
        return Err(format!("{} must have at most {max} {unit}; got {count}", name(at)));
    }
    Ok(())
}

fn check_count_map(schema: &serde_json::Map<String, Value>, count: usize, at: &str) -> Result<(), String> {
    check_count(schema, "minProperties", "maxProperties", count, at, "properties")
}

fn same_scalar(expected: &Value, value: &Value) -> bool {
    expected == value || scalar_text(expected).trim_matches('`') == scalar_text(value).trim_matches('`')
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

fn quoted(text: &str) -> String {
    let mut shown: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        shown.push('…');
    }
    format!("`{shown}`")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn article(types: &[&str]) -> String {
    let one = |t: &str| -> String {
        match t {
            "integer" => "an integer".to_owned(),
            "object" => "an object".to_owned(),
            "array" => "a list".to_owned(),
            "string" => "a string".to_owned(),
            "number" => "a number".to_owned(),
            "boolean" => "a boolean".to_owned(),
            other => other.to_owned(),
        }
    };
    types.iter().map(|t| one(t)).collect::<Vec<_>>().join(" or ")
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() { key.to_owned() } else { format!("{at}.{key}") }
}

fn name(at: &str) -> String {
    if at.is_empty() { "the properties".to_owned() } else { format!("`{at}`") }
}

fn within(at: &str) -> String {
    if at.is_empty() { String::new() } else { format!(" in `{at}`") }
}

/// ` (did you mean `X`?)` when a known name is close to `wrong`.
fn suggestion<'a>(wrong: &str, known: impl Iterator<Item = &'a str>) -> String {
    known
        .map(|k| (strsim::damerau_levenshtein(&wrong.to_lowercase(), &k.to_lowercase()), k))
        .filter(|(distance, k)| *distance <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(type_name: &str, properties: &Value) -> String {
        validate("S/R", type_name, properties).unwrap_err().to_string()
    }

    #[test]
    fn every_aws_type_is_known_and_unknown_ones_are_named() {
        assert!(exists("AWS::SQS::Queue").unwrap() && exists("AWS::Lambda::Function").unwrap());
        assert!(exists("Custom::Anything").unwrap(), "custom resources are not checked");
        let message = error("AWS::SQS::Queu", &json!({}));
        assert!(message.starts_with("S/R: AWS::SQS::Queu") && message.contains("not a resource type"), "{message}");
    }

    #[test]
    fn intrinsics_and_strings_for_numbers_pass() {
        validate("S/R", "AWS::SQS::Queue", &json!({"DelaySeconds": "30", "QueueName": {"Fn::Sub": "${A}-q"}})).unwrap();
        validate("S/R", "AWS::SQS::Queue", &json!({"DelaySeconds": {"Ref": "Delay"}})).unwrap();
    }

    #[test]
    fn each_rule_names_the_path_and_what_is_accepted() {
        let m = error("AWS::SQS::Queue", &json!({"VisibilityTimout": 30}));
        assert!(
            m.contains("`VisibilityTimout` does not exist") && m.contains("did you mean `VisibilityTimeout`"),
            "{m}"
        );
        let m = error("AWS::SQS::Queue", &json!({"DelaySeconds": 901}));
        assert!(m.contains("`DelaySeconds` must be at most 900"), "{m}");
        let m = error("AWS::SQS::Queue", &json!({"FifoQueue": [true]}));
        assert!(m.contains("`FifoQueue` must be a boolean; got a list"), "{m}");
        let m = error("AWS::SQS::Queue", &json!({"Arn": "x"}));
        assert!(m.contains("`Arn` is read-only"), "{m}");
        let m = error("AWS::DynamoDB::Table", &json!({"AttributeDefinitions": []}));
        assert!(m.contains("`KeySchema` is required"), "{m}");
    }

    #[test]
    fn attributes_are_checked() {
        check_attribute("S/Q", "AWS::SQS::Queue", "Arn").unwrap();
        check_attribute("S/Q", "AWS::SQS::Queue", "QueueUrl").unwrap();
        let m = check_attribute("S/Q", "AWS::SQS::Queue", "Arnn").unwrap_err().to_string();
        assert!(m.starts_with("S/Q: AWS::SQS::Queue") && m.contains("did you mean `Arn`"), "{m}");
    }
}
