//! Changes that replace or remove a durable function, and what they do to its executions.
//!
//! A replaced (or removed) `AWS::Lambda::Function` is deleted with all its versions. Durable executions still
//! running on those versions replay on them, so they cannot continue: they are cut off however far they got.
//! Updating a durable function's `DurableConfig` values is no replacement; adding or removing `DurableConfig`
//! (durability is chosen at creation) and renaming the function are.

use serde_json::Value;

use super::change_set::PlannedChange;

/// Properties of `AWS::Lambda::Function` whose change makes CloudFormation create a new function.
const CREATE_ONLY: &[&str] = &["FunctionName", "PackageType"];

/// A durable function that a change replaces or removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DurableReplacement {
    /// The function's logical id.
    pub logical_id: String,
    /// Why it goes: `replaced (DurableConfig added or removed)`, `removed`, ...
    pub why: String,
    /// Its deployed `DurableConfig.ExecutionTimeout`: how long an execution cut off by the change may have had left.
    pub execution_timeout_seconds: Option<u64>,
}

impl DurableReplacement {
    /// What the user is told before such a change is deployed.
    pub(crate) fn warning(&self, stack: &str) -> String {
        let lifetime =
            self.execution_timeout_seconds.map_or_else(String::new, |s| format!(" (an execution may run up to {s} s)"));
        format!(
            "{stack}: durable function {id} is {why}. CloudFormation deletes the old function with all its versions, \
             so executions still running on them{lifetime} cannot continue. List them with `deployer executions \
             --status running`, and deploy when none is left",
            id = self.logical_id,
            why = self.why,
        )
    }
}

/// The durable functions of `old` that deploying `new` replaces or removes. `planned` is CloudFormation's change
/// set when there is one: its `Replacement` verdict is authoritative; the templates alone decide otherwise.
pub(crate) fn durable_replacements(
    old: Option<&Value>,
    new: &Value,
    planned: Option<&[PlannedChange]>,
) -> Vec<DurableReplacement> {
    let empty = serde_json::Map::new();
    let old_resources = old.and_then(|t| t.get("Resources")).and_then(Value::as_object).unwrap_or(&empty);
    let new_resources = new.get("Resources").and_then(Value::as_object).unwrap_or(&empty);
    let mut found = Vec::new();
    for (id, before) in old_resources {
        if before.get("Type").and_then(Value::as_str) != Some("AWS::Lambda::Function") {
            continue;
        }
        let Some(durable) = before.pointer("/Properties/DurableConfig") else {
            continue;
        };
        let after = new_resources.get(id);
        let why = match (after, planned) {
            (None, _) => Some("removed from the template".to_owned()),
            (Some(_), Some(planned)) => {
                planned.iter().find(|c| &c.logical_id == id).and_then(|c| match c.replacement.as_deref() {
                    Some("True") => Some("replaced (CloudFormation's change set says so)".to_owned()),
                    Some("Conditional") => Some("possibly replaced (CloudFormation's change set says so)".to_owned()),
                    _ if c.action == "Remove" => Some("removed".to_owned()),
                    _ => None,
                })
            }
            (Some(after), None) => template_replacement(before, after),
        };
        if let Some(why) = why {
            found.push(DurableReplacement {
                logical_id: id.clone(),
                why,
                execution_timeout_seconds: durable.get("ExecutionTimeout").and_then(Value::as_u64),
            });
        }
    }
    found
}

/// Why `after` replaces `before` (both `AWS::Lambda::Function`), judged from the templates alone.
fn template_replacement(before: &Value, after: &Value) -> Option<String> {
    let property = |resource: &Value, name: &str| resource.pointer(&format!("/Properties/{name}")).cloned();
    if property(after, "DurableConfig").is_none() {
        return Some("replaced (DurableConfig removed: durability is chosen when a function is created)".to_owned());
    }
    CREATE_ONLY
        .iter()
        .find(|name| property(before, name) != property(after, name))
        .map(|name| format!("replaced ({name} changed)"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn function(durable: Option<Value>, extra: &Value) -> Value {
        let mut properties = json!({"Runtime": "provided.al2023", "Handler": "bootstrap"});
        if let Some(d) = durable {
            properties["DurableConfig"] = d;
        }
        for (k, v) in extra.as_object().unwrap() {
            properties[k] = v.clone();
        }
        json!({"Resources": {"Orchestrator": {"Type": "AWS::Lambda::Function", "Properties": properties}}})
    }

    fn durable(timeout: u64) -> Value {
        json!({"ExecutionTimeout": timeout, "RetentionPeriodInDays": 7})
    }

    #[test]
    fn changing_durable_config_values_replaces_nothing() {
        let old = function(Some(durable(600)), &json!({}));
        let new = function(Some(durable(900)), &json!({"Timeout": 60}));
        assert!(durable_replacements(Some(&old), &new, None).is_empty());
        let in_place = [PlannedChange::new("Modify", "AWS::Lambda::Function", "Orchestrator", Some("False"))];
        assert!(durable_replacements(Some(&old), &new, Some(&in_place)).is_empty());
    }

    #[test]
    fn removing_durability_renaming_or_deleting_a_durable_function_is_reported() {
        let old = function(Some(durable(600)), &json!({}));
        let plain = function(None, &json!({}));
        let found = durable_replacements(Some(&old), &plain, None);
        assert_eq!(found.len(), 1);
        assert!(found[0].why.contains("DurableConfig removed"), "{found:?}");
        let warning = found[0].warning("app");
        assert!(warning.contains("Orchestrator") && warning.contains("up to 600 s"), "{warning}");
        assert!(warning.contains("deployer executions --status running"), "{warning}");

        let renamed = function(Some(durable(600)), &json!({"FunctionName": "new-name"}));
        assert!(durable_replacements(Some(&old), &renamed, None)[0].why.contains("FunctionName"));

        let gone = json!({"Resources": {}});
        assert_eq!(durable_replacements(Some(&old), &gone, None)[0].why, "removed from the template");
    }

    #[test]
    fn the_change_set_verdict_wins() {
        let old = function(Some(durable(600)), &json!({}));
        let new = function(Some(durable(600)), &json!({"Code": {"S3Key": "b.zip"}}));
        let replaced = [PlannedChange::new("Modify", "AWS::Lambda::Function", "Orchestrator", Some("True"))];
        let found = durable_replacements(Some(&old), &new, Some(&replaced));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].why.contains("replaced"), "{found:?}");
    }

    #[test]
    fn plain_functions_and_new_stacks_are_not_reported() {
        let plain = function(None, &json!({}));
        assert!(durable_replacements(Some(&plain), &json!({"Resources": {}}), None).is_empty());
        assert!(durable_replacements(None, &function(Some(durable(600)), &json!({})), None).is_empty());
    }
}
