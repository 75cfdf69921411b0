//! The CloudFormation template model: serde structs with sorted maps, rendered as deterministic pretty JSON.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// The only template format version CloudFormation knows.
pub const FORMAT_VERSION: &str = "2010-09-09";

/// A whole template. Maps are sorted by key, so the same stack always renders the same bytes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Template {
    /// `AWSTemplateFormatVersion`.
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: &'static str,
    /// `Description`.
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Parameters`, by name: what the deployer passes at each deployment (the asset bucket's name).
    #[serde(rename = "Parameters", skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Value>,
    /// `Resources`, by logical ID.
    #[serde(rename = "Resources")]
    pub resources: BTreeMap<String, ResourceEntry>,
    /// `Outputs`, by name.
    #[serde(rename = "Outputs", skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, OutputEntry>,
}

/// One entry of `Resources`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceEntry {
    /// `Type`, e.g. `AWS::Lambda::Function`.
    #[serde(rename = "Type")]
    pub resource_type: String,
    /// `Properties`, as rendered by the resource's builder.
    pub properties: Value,
    /// `DependsOn`: sorted logical IDs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// `DeletionPolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<RemovalPolicy>,
    /// `UpdateReplacePolicy` (always written together with `DeletionPolicy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<RemovalPolicy>,
    /// `Metadata`: the construct path and checkov skips.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, Value>,
}

/// What CloudFormation does with a resource it deletes or replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum RemovalPolicy {
    /// Delete the physical resource.
    Delete,
    /// Keep the physical resource (it leaves the stack).
    Retain,
}

/// One entry of `Outputs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputEntry {
    /// `Description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Value`.
    pub value: Value,
}

impl Template {
    /// An empty template.
    pub fn new(description: Option<String>) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            description,
            parameters: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// The template as a JSON value.
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }
}

/// Pretty JSON (two-space indent) with a trailing newline: the bytes written to disk and sent to CloudFormation.
pub fn to_pretty_json(value: &Value) -> Result<String, serde_json::Error> {
    let mut body = serde_json::to_string_pretty(value)?;
    body.push('\n');
    Ok(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_sorted_and_skips_empty_sections() {
        let mut t = Template::new(None);
        for id in ["B", "A"] {
            t.resources.insert(
                id.into(),
                ResourceEntry {
                    resource_type: "AWS::Logs::LogGroup".to_owned(),
                    properties: json!({}),
                    depends_on: vec![],
                    deletion_policy: Some(RemovalPolicy::Delete),
                    update_replace_policy: Some(RemovalPolicy::Delete),
                    metadata: BTreeMap::new(),
                },
            );
        }
        let body = to_pretty_json(&t.to_value().unwrap()).unwrap();
        assert!(body.ends_with("}\n"));
        assert!(!body.contains("Outputs") && !body.contains("Description"));
        let a = body.find("\"A\"").unwrap();
        let b = body.find("\"B\"").unwrap();
        assert!(a < b, "{body}");
        assert!(body.contains("\"DeletionPolicy\": \"Delete\""));
    }
}
