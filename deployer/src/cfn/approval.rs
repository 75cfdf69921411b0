//! Whether a change widens what anyone may do (IAM broadening), and whether to ask before deploying it.

use std::collections::BTreeSet;

use serde_json::Value;

/// `--require-approval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RequireApproval {
    /// Never ask.
    Never,
    /// Ask when the change adds IAM permissions (the default).
    #[default]
    Broadening,
    /// Ask for any change.
    AnyChange,
}

/// The permission-granting statements and managed policies a template adds compared with `old`.
///
/// A statement grants when its `Effect` is `Allow`; `Deny` statements only narrow and never need approval.
/// Statements are compared grant by grant (one action on one resource, with the statement's principal and
/// conditions), so an identical grant moved between policies is not new, and narrowing a statement never is.
pub fn broadening(old: Option<&Value>, new: &Value) -> Vec<String> {
    let before = grants(old.unwrap_or(&Value::Null));
    grants(new).into_iter().filter(|grant| !before.contains(grant)).collect()
}

fn grants(template: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    collect(template, &mut found);
    found
}

fn collect(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            let is_statement =
                map.contains_key("Effect") && (map.contains_key("Action") || map.contains_key("NotAction"));
            if is_statement {
                if map.get("Effect").and_then(Value::as_str) == Some("Allow") {
                    found.extend(atomic_grants(map));
                }
                return;
            }
            if let Some(Value::Array(arns)) = map.get("ManagedPolicyArns") {
                for arn in arns {
                    found.insert(format!("managed policy {arn}"));
                }
            }
            for child in map.values() {
                collect(child, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, found)),
        _ => {}
    }
}

/// Splits an Allow statement into one grant per action and resource, so that removing an action from a statement
/// is not mistaken for a new grant, and adding one is seen as exactly one new grant per resource.
fn atomic_grants(statement: &serde_json::Map<String, Value>) -> Vec<String> {
    let list = |key: &str| -> Vec<String> {
        match statement.get(key) {
            None => vec![],
            Some(Value::Array(items)) => items.iter().map(Value::to_string).collect(),
            Some(other) => vec![other.to_string()],
        }
    };
    let context: serde_json::Map<String, Value> = statement
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "Action" | "NotAction" | "Resource" | "NotResource" | "Sid"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (action_key, actions) =
        if statement.contains_key("NotAction") { ("NotAction", list("NotAction")) } else { ("Action", list("Action")) };
    let (resource_key, mut resources) = if statement.contains_key("NotResource") {
        ("NotResource", list("NotResource"))
    } else {
        ("Resource", list("Resource"))
    };
    if resources.is_empty() {
        // Trust policies have a principal instead of a resource.
        resources.push(String::new());
    }
    let context = Value::Object(context).to_string();
    let context = &context;
    let resources = &resources;
    actions
        .iter()
        .flat_map(|action| {
            resources.iter().map(move |resource| format!("{action_key} {action} {resource_key} {resource} {context}"))
        })
        .collect()
}

/// Whether the deployment must be approved before it runs.
pub fn needs_approval(mode: RequireApproval, has_changes: bool, broadening: &[String]) -> bool {
    match mode {
        RequireApproval::Never => false,
        RequireApproval::Broadening => !broadening.is_empty(),
        RequireApproval::AnyChange => has_changes,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn role(actions: &[&str]) -> Value {
        json!({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "arn:aws:logs:x"}]}}]}}}})
    }

    #[test]
    fn a_new_template_with_grants_is_broadening() {
        assert_eq!(broadening(None, &role(&["logs:PutLogEvents"])).len(), 1);
    }

    #[test]
    fn the_same_grants_are_not_broadening() {
        let t = role(&["logs:PutLogEvents"]);
        assert!(broadening(Some(&t), &t).is_empty());
    }

    #[test]
    fn an_added_action_is_broadening_and_a_removed_one_is_not() {
        let small = role(&["logs:PutLogEvents"]);
        let big = role(&["logs:PutLogEvents", "logs:CreateLogStream"]);
        let added = broadening(Some(&small), &big);
        assert_eq!(added.len(), 1, "{added:?}");
        assert!(added[0].contains("logs:CreateLogStream"), "{added:?}");
        assert!(broadening(Some(&big), &small).is_empty());
    }

    #[test]
    fn deny_statements_never_need_approval() {
        let deny = json!({"Resources": {"P": {"Properties": {"PolicyDocument": {"Statement": [
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}]}}}}});
        assert!(broadening(None, &deny).is_empty());
    }

    #[test]
    fn added_managed_policies_are_broadening() {
        let t = json!({"Resources": {"R": {"Properties": {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/X"]}}}});
        assert_eq!(broadening(None, &t), vec!["managed policy \"arn:aws:iam::aws:policy/X\"".to_owned()]);
    }

    #[test]
    fn approval_modes() {
        let grant = vec!["x".to_owned()];
        assert!(!needs_approval(RequireApproval::Never, true, &grant));
        assert!(needs_approval(RequireApproval::Broadening, true, &grant));
        assert!(!needs_approval(RequireApproval::Broadening, true, &[]));
        assert!(needs_approval(RequireApproval::AnyChange, true, &[]));
        assert!(!needs_approval(RequireApproval::AnyChange, false, &[]));
    }
}
