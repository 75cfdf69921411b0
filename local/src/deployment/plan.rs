//! Plans one stack's deployment from its synthesized template and the previous deployment of the same stack:
//! version numbers stay stable (a version whose code did not change keeps its number; new code gets the next
//! number) and every version deployed before stays, for executions pinned to it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::template;
use super::{CodeConfig, DeployedFunction, StackDeployment};
use crate::arn::Arns;
use crate::error::LocalError;

/// Each `Code.S3Key` of the template with the stored `bootstrap` binary and its SHA-256.
pub type CodeByKey = BTreeMap<String, (PathBuf, String)>;

/// Plans the deployment of `template` as stack `stack` in `region`. `code_by_key` maps each `Code.S3Key` to a
/// binary already copied into the state folder; `previous` is this stack's current deployment.
pub fn plan(
    template: &serde_json::Value,
    stack: &str,
    region: &str,
    code_by_key: &CodeByKey,
    previous: Option<&StackDeployment>,
) -> Result<StackDeployment, LocalError> {
    let arns = Arns::new(stack, region);
    let code_keys = function_code_keys(template);
    let mut version_numbers = previous.map(|p| p.version_numbers.clone()).unwrap_or_default();
    let mut used: BTreeMap<String, u64> = BTreeMap::new();
    for p in previous.iter().flat_map(|p| p.functions.values()) {
        used.insert(p.logical_id.clone(), p.versions.keys().max().copied().unwrap_or(0));
    }
    let previous_by_logical_id = |id: &str| previous.and_then(|p| p.functions.values().find(|f| f.logical_id == id));
    for version in template::versions(template) {
        if version_numbers.contains_key(&version.logical_id) {
            continue;
        }
        let sha = code_keys.get(&version.function).and_then(|k| code_by_key.get(k)).map(|(_, sha)| sha.as_str());
        let reuse = previous_by_logical_id(&version.function).and_then(|f| {
            let (number, config) = f.versions.iter().next_back()?;
            (Some(config.code_sha256.as_str()) == sha).then_some(*number)
        });
        let number = reuse.unwrap_or_else(|| {
            let next = used.get(&version.function).copied().unwrap_or(0) + 1;
            used.insert(version.function.clone(), next);
            next
        });
        version_numbers.insert(version.logical_id.clone(), number);
    }
    let model = template::read(template, &arns, &version_numbers)?;
    let mut functions = BTreeMap::new();
    for f in &model.functions {
        let key = f.code_key.as_deref().unwrap_or_default();
        let Some((code, code_sha256)) = code_by_key.get(key).cloned() else {
            return Err(LocalError::Template(format!(
                "function {} uses code {key:?}, which no built asset provides; check that the function's asset is a \
                 cargo binary of this workspace",
                f.logical_id
            )));
        };
        let latest = CodeConfig {
            code,
            code_sha256,
            env: f.env.clone(),
            memory_mb: f.memory_mb,
            timeout_s: f.timeout_s,
            log_format: f.log_format.clone(),
            log_group: f.log_group.clone(),
        };
        let before = previous_by_logical_id(&f.logical_id).filter(|b| b.name == f.name);
        let mut versions = before.map(|b| b.versions.clone()).unwrap_or_default();
        for v in model.versions.iter().filter(|v| v.function == f.logical_id) {
            if let Some(n) = version_numbers.get(&v.logical_id) {
                versions.entry(*n).or_insert_with(|| latest.clone());
            }
        }
        let aliases = model
            .aliases
            .iter()
            .filter(|a| a.function == f.logical_id)
            .filter_map(|a| Some((a.name.clone(), *version_numbers.get(&a.version)?)))
            .collect();
        // Durability is chosen when a function is created: an existing function keeps its mode, as on AWS (where
        // turning it on or off replaces the function); its timeout and retention follow the template.
        let durable = match before {
            Some(b) if b.durable.is_some() != f.durable.is_some() => b.durable,
            _ => f.durable,
        };
        functions.insert(
            f.name.clone(),
            DeployedFunction {
                name: f.name.clone(),
                logical_id: f.logical_id.clone(),
                stack: stack.to_owned(),
                durable,
                latest,
                versions,
                aliases,
            },
        );
    }
    Ok(StackDeployment {
        stack: stack.to_owned(),
        functions,
        version_numbers,
        outputs: model.outputs,
        resources: model.resources,
    })
}

fn function_code_keys(template: &serde_json::Value) -> BTreeMap<String, String> {
    let mut keys = BTreeMap::new();
    if let Some(resources) = template.get("Resources").and_then(serde_json::Value::as_object) {
        for (id, res) in resources {
            let key = res.pointer("/Properties/Code/S3Key").and_then(serde_json::Value::as_str);
            if let Some(key) = key {
                keys.insert(id.clone(), key.to_owned());
            }
        }
    }
    keys
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;
    use serde_json::json;

    fn template(processor_version: &str) -> serde_json::Value {
        json!({
            "Resources": {
                "Orchestrator": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Code": {"S3Bucket": {"Fn::Sub": "assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "orch.zip"},
                    "MemorySize": 256, "Timeout": 30,
                    "Environment": {"Variables": {"PROCESSOR_FUNCTION_NAME": {"Ref": processor_version}}},
                    "DurableConfig": {"ExecutionTimeout": 900, "RetentionPeriodInDays": 7},
                    "LoggingConfig": {"LogFormat": "JSON"}
                }},
                "Processor": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "proc.zip"}}},
                "Named": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "proc.zip"}, "FunctionName": "my-named-fn"}},
                "OrchestratorVersionA1": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Orchestrator"}}},
                processor_version: {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Processor"}}},
                "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
                    "FunctionName": {"Ref": "Orchestrator"},
                    "FunctionVersion": {"Fn::GetAtt": ["OrchestratorVersionA1", "Version"]},
                    "Name": "live"
                }},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
                "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${Processor}"}}}
            },
            "Outputs": {
                "AliasArn": {"Value": {"Ref": "Live"}},
                "ProcessorFunctionArn": {"Value": {"Fn::GetAtt": ["Processor", "Arn"]}},
                "RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}},
                "Joined": {"Value": {"Fn::Join": ["/", [{"Ref": "AWS::StackName"}, {"Fn::Sub": "${Processor}"}]]}}
            }
        })
    }

    fn binaries(processor: &str) -> CodeByKey {
        BTreeMap::from([
            ("orch.zip".to_owned(), (PathBuf::from("/code/orch"), "o".repeat(64))),
            ("proc.zip".to_owned(), (PathBuf::from("/code/proc"), processor.repeat(64))),
        ])
    }

    #[test]
    fn plans_functions_versions_aliases_outputs_and_resources_from_the_template() {
        let d = plan(&template("ProcessorVersionB1"), "App", "eu-west-1", &binaries("1"), None).unwrap();
        let orchestrator = &d.functions["App-Orchestrator"];
        assert_eq!(
            orchestrator.latest.env["PROCESSOR_FUNCTION_NAME"],
            "arn:aws:lambda:eu-west-1:000000000000:function:App-Processor:1"
        );
        assert_eq!((orchestrator.latest.memory_mb, orchestrator.latest.timeout_s), (256, 30));
        assert_eq!(orchestrator.latest.log_format, "JSON");
        assert_eq!(orchestrator.latest.log_group, "/aws/lambda/App-Orchestrator");
        assert_eq!(orchestrator.aliases["live"], 1);
        assert!(d.functions.contains_key("my-named-fn"), "a literal FunctionName is kept");
        assert_eq!(d.functions["App-Processor"].latest.timeout_s, 3, "Lambda's default timeout");
        assert_eq!(d.outputs["AliasArn"], "arn:aws:lambda:eu-west-1:000000000000:function:App-Orchestrator:live");
        assert_eq!(d.outputs["ProcessorFunctionArn"], "arn:aws:lambda:eu-west-1:000000000000:function:App-Processor");
        assert_eq!(d.outputs["RoleArn"], "arn:aws:iam::000000000000:role/App-Role");
        assert_eq!(d.outputs["Joined"], "App/App-Processor");
        let logs = d.resources.iter().find(|r| r.logical_id == "Logs").unwrap();
        assert_eq!(logs.physical_id, "/aws/lambda/App-Processor");
        let deployment = Deployment::new("eu-west-1").with_stack(d.clone());
        assert_eq!(deployment.resolve("App-Orchestrator", Some("live")).map(|t| t.version), Some("1".to_owned()));
        assert_eq!(deployment.resolve("App-Orchestrator", None).map(|t| t.version), Some("$LATEST".to_owned()));
        assert!(deployment.resolve("App-Orchestrator", Some("7")).is_none());
        assert!(deployment.resolve("Nope", None).is_none());

        // Same template again: nothing changes. New processor code: a new version 2, version 1 kept for executions
        // pinned to it.
        let again = plan(&template("ProcessorVersionB1"), "App", "eu-west-1", &binaries("1"), Some(&d)).unwrap();
        assert_eq!(again, d);
        let next = plan(&template("ProcessorVersionB2"), "App", "eu-west-1", &binaries("2"), Some(&d)).unwrap();
        let processor = &next.functions["App-Processor"];
        assert_eq!(processor.versions.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert_ne!(processor.versions[&1].code_sha256, processor.versions[&2].code_sha256);
        assert!(next.functions["App-Orchestrator"].latest.env["PROCESSOR_FUNCTION_NAME"].ends_with(":App-Processor:2"));
    }

    #[test]
    fn an_unknown_intrinsic_or_missing_code_is_a_clear_error() {
        let mut t = template("ProcessorVersionB1");
        t["Resources"]["Processor"]["Properties"]["Environment"] =
            json!({"Variables": {"X": {"Fn::ImportValue": "x"}}});
        let error = plan(&t, "App", "us-east-1", &binaries("1"), None).unwrap_err().to_string();
        assert!(error.contains("Fn::ImportValue") && error.contains("Processor.Environment.X"), "{error}");
        let error =
            plan(&template("ProcessorVersionB1"), "App", "us-east-1", &BTreeMap::new(), None).unwrap_err().to_string();
        assert!(error.contains("no built asset provides"), "{error}");
    }
}
