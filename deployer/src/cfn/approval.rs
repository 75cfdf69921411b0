//! Whether a change widens what anyone may do (IAM broadening), and whether to ask before deploying it.

use std::collections::BTreeSet;

use serde_json::Value;

/// `--require-approval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum RequireApproval {
    /// Never ask.
    Never,
    /// Ask when the change widens IAM access or replaces a durable function (the default).
    #[default]
    Broadening,
    /// Ask for any change.
    AnyChange,
}

/// The ways a template widens access compared with `old`, one line each (empty: it only keeps or narrows access).
///
/// Access is compared as effective grants, statement by statement split into atoms (one action on one resource,
/// held by one role, bucket or other holder, with the statement's principal and conditions):
/// - an `Allow` atom of `new` widens unless an `Allow` atom of `old` with the same holder and principal already
///   covered it (its action and resource patterns match, and its conditions are a subset: fewer conditions allow
///   more), so removing an action or adding a condition is no widening, and a grant moved to another role is;
/// - a `Deny` atom of `old` widens when `new` no longer has a `Deny` atom covering it with at most the same
///   conditions: removing a Deny statement, an action or a resource from it, or narrowing its condition all give
///   back access that was denied;
/// - a managed policy newly attached to a holder widens.
pub(crate) fn broadening(old: Option<&Value>, new: &Value) -> Vec<String> {
    let before = atoms(old.unwrap_or(&Value::Null));
    let after = atoms(new);
    let mut widened = Vec::new();
    for atom in after.iter().filter(|a| a.effect != Effect::Deny) {
        if !before.iter().any(|o| o.effect == atom.effect && o.covers(atom)) {
            widened.push(atom.describe());
        }
    }
    for atom in before.iter().filter(|a| a.effect == Effect::Deny) {
        if !after.iter().any(|n| n.effect == Effect::Deny && n.covers(atom)) {
            widened.push(atom.describe());
        }
    }
    widened.dedup();
    widened
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
    /// A managed policy attachment: what it grants is not in the template.
    Attach,
}

/// One action on one resource, as one holder's statement says it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Atom {
    holder: String,
    effect: Effect,
    principal: String,
    /// `Action` or `NotAction`.
    action_key: &'static str,
    action: String,
    /// `Resource`, `NotResource`, or empty for trust policies (which name a principal instead).
    resource_key: &'static str,
    resource: String,
    /// One entry per condition clause (operator, key and its values): clauses are combined with AND, so more clauses match
    /// fewer requests.
    conditions: BTreeSet<String>,
}

impl Atom {
    /// Whether `self` applies to every request `other` applies to (same holder, principal and element kinds;
    /// wider or equal action and resource patterns; a subset of the conditions).
    fn covers(&self, other: &Self) -> bool {
        self.holder == other.holder
            && self.principal == other.principal
            && self.action_key == other.action_key
            && self.resource_key == other.resource_key
            && if self.action_key == "Action" {
                glob(&self.action.to_ascii_lowercase(), &other.action.to_ascii_lowercase())
            } else {
                self.action == other.action
            }
            && if self.resource_key == "Resource" {
                glob(&self.resource, &other.resource)
            } else {
                self.resource == other.resource
            }
            && self.conditions.is_subset(&other.conditions)
    }

    fn describe(&self) -> String {
        let verb = match self.effect {
            Effect::Allow => "allows",
            Effect::Deny => "no longer denies",
            Effect::Attach => return format!("{}: attaches managed policy {}", self.holder, self.action),
        };
        let every_but = if self.action_key == "NotAction" { "every action but " } else { "" };
        let mut text = format!("{}: {verb} {every_but}{}", self.holder, self.action);
        match self.resource_key {
            "Resource" => text = format!("{text} on {}", self.resource),
            "NotResource" => text = format!("{text} on everything but {}", self.resource),
            _ => {}
        }
        if !self.principal.is_empty() {
            text = format!("{text} to {}", self.principal);
        }
        if !self.conditions.is_empty() {
            let conditions: Vec<&str> = self.conditions.iter().map(String::as_str).collect();
            text = format!("{text} when {}", conditions.join(" and "));
        }
        text
    }
}

/// `*` matches any run of characters and `?` one, as IAM matches actions and resource ARNs.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Every atom of every policy in `template`.
fn atoms(template: &Value) -> Vec<Atom> {
    let mut found = Vec::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return found;
    };
    for (id, resource) in resources {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or_default();
        let Some(properties) = resource.get("Properties").and_then(Value::as_object) else {
            continue;
        };
        for (property, value) in properties {
            for holder in holders(id, kind, properties, property) {
                if property == "ManagedPolicyArns" {
                    for arn in value.as_array().into_iter().flatten() {
                        found.push(attachment(&holder, arn));
                    }
                } else {
                    collect(value, &holder, &mut found);
                }
            }
        }
    }
    found
}

/// Who a policy under `property` of resource `id` gives access through. An `AWS::IAM::Policy` holds nothing
/// itself: its statements apply to the roles, users and groups it is attached to, as inline policies do.
fn holders(id: &str, kind: &str, properties: &serde_json::Map<String, Value>, property: &str) -> Vec<String> {
    match (kind, property) {
        ("AWS::IAM::Role", "AssumeRolePolicyDocument") => vec![format!("trust policy of role {id}")],
        ("AWS::IAM::Role", _) => vec![format!("role {id}")],
        ("AWS::IAM::User", _) => vec![format!("user {id}")],
        ("AWS::IAM::Group", _) => vec![format!("group {id}")],
        ("AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy", _) => {
            let mut attached = Vec::new();
            for (key, label) in [("Roles", "role"), ("Users", "user"), ("Groups", "group")] {
                for target in properties.get(key).and_then(Value::as_array).into_iter().flatten() {
                    attached.push(format!("{label} {}", name_of(target)));
                }
            }
            if attached.is_empty() {
                attached.push(format!("policy {id}"));
            }
            attached
        }
        ("AWS::S3::BucketPolicy", _) => {
            vec![format!("bucket {}", properties.get("Bucket").map_or_else(|| id.to_owned(), name_of))]
        }
        _ => vec![format!("{id}.{property}")],
    }
}

/// A reference as the logical id or text it names: `{"Ref": "R"}` is `R`, `{"Fn::GetAtt": ["R", "Arn"]}` is
/// `${R.Arn}`, a `Fn::Sub` its template; anything else its JSON.
fn name_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("Ref") {
                return r.clone();
            }
            if let Some(Value::Array(parts)) = o.get("Fn::GetAtt")
                && let [Value::String(r), Value::String(attribute)] = parts.as_slice()
            {
                return format!("${{{r}.{attribute}}}");
            }
            match o.get("Fn::Sub") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => {
                    a.first().and_then(Value::as_str).map_or_else(|| value.to_string(), str::to_owned)
                }
                _ => value.to_string(),
            }
        }
        other => other.to_string(),
    }
}

fn attachment(holder: &str, arn: &Value) -> Atom {
    Atom {
        holder: holder.to_owned(),
        effect: Effect::Attach,
        principal: String::new(),
        action_key: "Action",
        action: name_of(arn),
        resource_key: "",
        resource: String::new(),
        conditions: BTreeSet::new(),
    }
}

fn collect(value: &Value, holder: &str, found: &mut Vec<Atom>) {
    match value {
        Value::Object(map) => {
            let is_statement =
                map.contains_key("Effect") && (map.contains_key("Action") || map.contains_key("NotAction"));
            if is_statement {
                found.extend(statement_atoms(map, holder));
                return;
            }
            for child in map.values() {
                collect(child, holder, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, holder, found)),
        _ => {}
    }
}

/// In a bucket's own policy, the only resources are the bucket and its objects: `NotResource` naming just the
/// bucket's ARN means its objects, `<bucket ARN>/*`, and is compared as that.
fn bucket_objects(holder: &str, not_resources: &[String]) -> Option<String> {
    let bucket = holder.strip_prefix("bucket ")?;
    let arn = format!("${{{bucket}.Arn}}");
    (not_resources == [arn.clone()]).then(|| format!("{arn}/*"))
}

/// Splits a statement into one atom per action and resource, so that removing an action from an Allow is not
/// mistaken for a new grant, and removing one from a Deny is seen as exactly the access it gives back.
fn statement_atoms(statement: &serde_json::Map<String, Value>, holder: &str) -> Vec<Atom> {
    let effect = match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Vec::new(),
    };
    let list = |key: &str| -> Vec<String> {
        match statement.get(key) {
            None => vec![],
            Some(Value::Array(items)) => items.iter().map(name_of).collect(),
            Some(other) => vec![name_of(other)],
        }
    };
    let (action_key, actions) =
        if statement.contains_key("NotAction") { ("NotAction", list("NotAction")) } else { ("Action", list("Action")) };
    let (resource_key, resources) = if statement.contains_key("NotResource") {
        match bucket_objects(holder, &list("NotResource")) {
            Some(objects) => ("Resource", vec![objects]),
            None => ("NotResource", list("NotResource")),
        }
    } else if statement.contains_key("Resource") {
        ("Resource", list("Resource"))
    } else {
        // Trust policies have a principal instead of a resource.
        ("", vec![String::new()])
    };
    let principal = ["Principal", "NotPrincipal"]
        .iter()
        .find_map(|key| statement.get(*key).map(|p| format!("{key} {p}")))
        .unwrap_or_default();
    let mut conditions = BTreeSet::new();
    for (operator, clauses) in statement.get("Condition").and_then(Value::as_object).into_iter().flatten() {
        for (key, values) in clauses.as_object().into_iter().flatten() {
            // Values within one key are ORed: the clause is compared whole, with its values sorted.
            let mut values: Vec<String> = match values {
                Value::Array(items) => items.iter().map(name_of).collect(),
                one => vec![name_of(one)],
            };
            values.sort();
            conditions.insert(format!("{operator} {key} {}", values.join("|")));
        }
    }
    let mut atoms = Vec::new();
    for action in &actions {
        for resource in &resources {
            atoms.push(Atom {
                holder: holder.to_owned(),
                effect,
                principal: principal.clone(),
                action_key,
                action: action.clone(),
                resource_key,
                resource: resource.clone(),
                conditions: conditions.clone(),
            });
        }
    }
    atoms
}

/// Whether the deployment must be approved before it runs: in the default mode, when it widens IAM access or
/// replaces a durable function (which cuts off its running executions).
pub(crate) fn needs_approval(
    mode: RequireApproval,
    has_changes: bool,
    broadening: &[String],
    replaced: &[super::replacement::DurableReplacement],
) -> bool {
    match mode {
        RequireApproval::Never => false,
        RequireApproval::Broadening => !broadening.is_empty() || !replaced.is_empty(),
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

    /// A bucket policy with the given statements.
    fn bucket_policy(statements: &Value) -> Value {
        json!({"Resources": {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "B"}, "PolicyDocument": {"Statement": statements}}}}})
    }

    fn tls_deny(actions: &Value, resources: &Value, conditions: &Value) -> Value {
        json!({"Effect": "Deny", "Principal": "*", "Action": actions, "Resource": resources, "Condition": conditions})
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
    fn a_new_deny_statement_never_needs_approval() {
        let deny = bucket_policy(&json!([{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}]));
        assert!(broadening(None, &deny).is_empty());
    }

    #[test]
    fn removing_a_deny_statement_is_broadening() {
        let secure = json!({"Bool": {"aws:SecureTransport": "false"}});
        let with = bucket_policy(&json!([tls_deny(&json!("s3:*"), &json!(["arn:aws:s3:::b"]), &secure)]));
        let without = json!({"Resources": {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "B"}, "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/logs"}]}}}}});
        let widened = broadening(Some(&with), &without);
        assert!(widened.iter().any(|w| w.contains("no longer denies s3:*")), "{widened:?}");
        // Removing one resource from the Deny gives back access to that resource.
        let fewer = bucket_policy(&json!([tls_deny(&json!("s3:*"), &json!([]), &secure)]));
        assert_eq!(broadening(Some(&with), &fewer).len(), 1);
    }

    #[test]
    fn narrowing_a_deny_condition_is_broadening_and_widening_it_is_not() {
        let one = json!({"Bool": {"aws:SecureTransport": "false"}});
        let two = json!({"Bool": {"aws:SecureTransport": "false"}, "StringNotEquals": {"aws:SourceVpce": "vpce-1"}});
        let broad = bucket_policy(&json!([tls_deny(&json!("s3:*"), &json!("arn:aws:s3:::b"), &one)]));
        let narrow = bucket_policy(&json!([tls_deny(&json!("s3:*"), &json!("arn:aws:s3:::b"), &two)]));
        let widened = broadening(Some(&broad), &narrow);
        assert_eq!(widened.len(), 1, "{widened:?}");
        assert!(widened[0].starts_with("bucket B: no longer denies s3:* on arn:aws:s3:::b"), "{widened:?}");
        assert!(broadening(Some(&narrow), &broad).is_empty());
    }

    #[test]
    fn a_deny_replaced_by_a_wider_one_is_not_broadening() {
        let secure = json!({"Bool": {"aws:SecureTransport": "false"}});
        let listed = bucket_policy(&json!([tls_deny(
            &json!(["s3:GetObject", "s3:PutObject"]),
            &json!("arn:aws:s3:::b/*"),
            &secure
        )]));
        let all =
            bucket_policy(&json!([tls_deny(&json!("s3:*"), &json!(["arn:aws:s3:::b", "arn:aws:s3:::b/*"]), &secure)]));
        assert!(broadening(Some(&listed), &all).is_empty());
        assert_eq!(broadening(Some(&all), &listed).len(), 2, "s3:* on the bucket and on its objects are given back");
    }

    /// The bootstrap stack's TLS policy as it was (a list of actions per statement, objects named by `NotResource`
    /// on the bucket) and as it is (one `s3:*` Deny on the bucket and its objects): the change only narrows.
    #[test]
    fn the_old_listed_tls_policy_to_the_broad_one_is_not_broadening() {
        let secure = json!({"Bool": {"aws:SecureTransport": "false"}});
        let arn = json!({"Fn::GetAtt": ["AssetBucket", "Arn"]});
        let policy = |statements: Value| {
            json!({"Resources": {"AssetBucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
                "Bucket": {"Ref": "AssetBucket"}, "PolicyDocument": {"Statement": statements}}}}})
        };
        let old = policy(json!([
            {"Effect": "Deny", "Principal": "*", "Action": ["s3:ListBucket"], "Resource": [arn], "Condition": secure},
            {"Effect": "Deny", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"], "NotResource": [arn],
             "Condition": secure}]));
        let new = policy(json!([{"Effect": "Deny", "Principal": "*", "Action": ["s3:*"],
            "Resource": [arn, {"Fn::Sub": "${AssetBucket.Arn}/*"}], "Condition": secure}]));
        assert!(broadening(Some(&old), &new).is_empty(), "{:?}", broadening(Some(&old), &new));
        assert_eq!(broadening(Some(&new), &old).len(), 2, "s3:* on the bucket and on its objects");
    }

    #[test]
    fn dropping_an_allow_condition_is_broadening_and_adding_one_is_not() {
        let allow = |condition: &Value| {
            json!({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k",
                               "Condition": condition}]}}]}}}})
        };
        let loose = allow(&json!({}));
        let tight = allow(&json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}));
        assert!(broadening(Some(&loose), &tight).is_empty());
        assert_eq!(broadening(Some(&tight), &loose).len(), 1);
    }

    #[test]
    fn a_grant_moved_to_another_role_is_broadening_and_one_moved_between_policies_of_a_role_is_not() {
        let statement = json!({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:f"});
        let inline = json!({"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [
            {"PolicyName": "one", "PolicyDocument": {"Statement": [statement]}}]}}}});
        let attached_to = |role: &str| {
            json!({"Resources": {"P": {"Type": "AWS::IAM::Policy", "Properties": {
                "Roles": [{"Ref": role}], "PolicyDocument": {"Statement": [statement]}}}}})
        };
        assert!(broadening(Some(&inline), &attached_to("A")).is_empty());
        let moved = broadening(Some(&inline), &attached_to("B"));
        assert_eq!(moved, vec!["role B: allows lambda:InvokeFunction on arn:aws:lambda:f".to_owned()]);
    }

    #[test]
    fn added_managed_policies_are_broadening() {
        let t = json!({"Resources": {"R": {"Type": "AWS::IAM::Role",
            "Properties": {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/X"]}}}});
        assert_eq!(broadening(None, &t), vec!["role R: attaches managed policy arn:aws:iam::aws:policy/X".to_owned()]);
    }

    #[test]
    fn globs_match_as_iam_does() {
        assert!(glob("s3:*", "s3:getobject"));
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x"));
        assert!(!glob("arn:aws:s3:::b/*", "arn:aws:s3:::b"));
        assert!(glob("s3:Get?bject", "s3:GetObject"));
        assert!(!glob("s3:Get", "s3:GetObject"));
    }

    #[test]
    fn approval_modes() {
        let grant = vec!["x".to_owned()];
        let replaced = vec![super::super::replacement::DurableReplacement {
            logical_id: "Orchestrator".into(),
            why: "removed".into(),
            execution_timeout_seconds: None,
        }];
        assert!(!needs_approval(RequireApproval::Never, true, &grant, &replaced));
        assert!(needs_approval(RequireApproval::Broadening, true, &grant, &[]));
        assert!(needs_approval(RequireApproval::Broadening, true, &[], &replaced));
        assert!(!needs_approval(RequireApproval::Broadening, true, &[], &[]));
        assert!(needs_approval(RequireApproval::AnyChange, true, &[], &[]));
        assert!(!needs_approval(RequireApproval::AnyChange, false, &[], &[]));
    }
}
