//! A readable diff between the deployed template and the new one, resource by resource.

use std::collections::BTreeSet;

use serde_json::Value;

pub(crate) use crate::payloads::changes::ResourceChange;

/// Differences between sections of two templates: resources, then outputs, each sorted by logical id.
pub(crate) fn diff(old: Option<&Value>, new: &Value) -> Vec<ResourceChange> {
    let mut changes = section(old, new, "Resources");
    changes.extend(section(old, new, "Outputs"));
    changes
}

fn section(old: Option<&Value>, new: &Value, name: &str) -> Vec<ResourceChange> {
    let empty = serde_json::Map::new();
    let old_map = old.and_then(|t| t.get(name)).and_then(Value::as_object).unwrap_or(&empty);
    let new_map = new.get(name).and_then(Value::as_object).unwrap_or(&empty);
    let kind_of = |v: &Value| {
        v.get("Type").and_then(Value::as_str).map_or_else(|| name.trim_end_matches('s').to_owned(), str::to_owned)
    };
    let ids: BTreeSet<&String> = old_map.keys().chain(new_map.keys()).collect();
    let mut changes = Vec::new();
    for id in ids {
        match (old_map.get(id), new_map.get(id)) {
            (None, Some(v)) => changes.push(ResourceChange::Added { id: id.clone(), kind: kind_of(v) }),
            (Some(v), None) => changes.push(ResourceChange::Removed { id: id.clone(), kind: kind_of(v) }),
            (Some(a), Some(b)) if a != b => {
                changes.push(ResourceChange::Modified { id: id.clone(), kind: kind_of(b), paths: paths(a, b) });
            }
            _ => {}
        }
    }
    changes
}

fn paths(a: &Value, b: &Value) -> Vec<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return vec!["(value)".into()];
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        match (a.get(key), b.get(key)) {
            (Some(Value::Object(x)), Some(Value::Object(y))) if key == "Properties" => {
                let inner: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                out.extend(inner.into_iter().filter(|k| x.get(*k) != y.get(*k)).map(|k| format!("Properties.{k}")));
            }
            (x, y) if x != y => out.push(key.clone()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn classifies_added_removed_and_modified_resources() {
        let old = json!({"Resources": {
            "Keep": {"Type": "T", "Properties": {"A": 1}},
            "Gone": {"Type": "T"},
            "Edit": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "a.zip"}, "Timeout": 3}}}});
        let new = json!({"Resources": {
            "Keep": {"Type": "T", "Properties": {"A": 1}},
            "New": {"Type": "T"},
            "Edit": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "b.zip"}, "Timeout": 3}}}});
        let changes = diff(Some(&old), &new);
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0].to_string(), "[~] AWS::Lambda::Function Edit (Properties.Code)");
        assert_eq!(changes[1].to_string(), "[-] T Gone");
        assert_eq!(changes[2].to_string(), "[+] T New");
    }

    #[test]
    fn identical_templates_have_no_diff() {
        let t = json!({"Resources": {"A": {"Type": "T"}}, "Outputs": {"O": {"Value": "x"}}});
        assert!(diff(Some(&t), &t).is_empty());
    }
}
