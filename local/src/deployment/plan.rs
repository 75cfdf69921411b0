//! Plans one stack's deployment from its synthesized template and the previous deployment of the same stack, as
//! CloudFormation would deploy it on AWS: `$LATEST` follows the template; each `AWS::Lambda::Version` not
//! deployed before publishes a new version (the next number) unless the function's code and configuration are
//! those of its last published version, which it then names (as `PublishVersion` does); a version already
//! published is never changed; aliases point where the template says.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::template;
use super::{Alias, CodeConfig, DeployedFunction, StackDeployment};
use crate::arn::Arns;
use crate::error::LocalError;

/// Each `Code.S3Key` of the template with the stored `bootstrap` binary and its SHA-256.
pub type CodeByKey = BTreeMap<String, (PathBuf, String)>;

/// Plans the deployment of `template` as stack `stack` in `region`. `code_by_key` maps each `Code.S3Key` to a
/// binary already copied into the state folder; `previous` is this stack's current deployment. What changes is
/// stamped with the current time as its `LastModified`.
pub fn plan(
    template: &serde_json::Value,
    stack: &str,
    region: &str,
    code_by_key: &CodeByKey,
    previous: Option<&StackDeployment>,
) -> Result<StackDeployment, LocalError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    plan_at(template, stack, region, code_by_key, previous, &crate::time::lambda_timestamp(now))
}

/// [`plan`], with `now` as the `LastModified` of what changes.
pub fn plan_at(
    template: &serde_json::Value,
    stack: &str,
    region: &str,
    code_by_key: &CodeByKey,
    previous: Option<&StackDeployment>,
    now: &str,
) -> Result<StackDeployment, LocalError> {
    let arns = Arns::new(stack, region);
    let fingerprints = template::fingerprints(template, |key| code_by_key.get(key).map(|(_, sha)| sha.as_str()));
    let previous_by_logical_id = |id: &str| previous.and_then(|p| p.functions.values().find(|f| f.logical_id == id));
    let version_numbers = number_versions(template, previous, &fingerprints);
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
        let before = previous_by_logical_id(&f.logical_id).filter(|b| b.name == f.name);
        let mut latest = CodeConfig {
            code,
            code_sha256,
            env: f.env.clone(),
            memory_mb: f.memory_mb,
            timeout_s: f.timeout_s,
            log_format: f.log_format.clone(),
            log_group: f.log_group.clone(),
            description: f.description.clone(),
            fingerprint: fingerprints.get(&f.logical_id).cloned().unwrap_or_default(),
            last_modified: now.to_owned(),
        };
        // `$LATEST` keeps its `LastModified` while nothing of it changes.
        if let Some(b) = before
            .filter(|b| CodeConfig { last_modified: b.latest.last_modified.clone(), ..latest.clone() } == b.latest)
        {
            latest.last_modified.clone_from(&b.latest.last_modified);
        }
        // Versions published before stay exactly as they were published.
        let mut versions = before.map(|b| b.versions.clone()).unwrap_or_default();
        for v in model.versions.iter().filter(|v| v.function == f.logical_id) {
            if let Some(n) = version_numbers.get(&v.logical_id) {
                versions.entry(*n).or_insert_with(|| CodeConfig {
                    description: v.description.clone().unwrap_or_else(|| latest.description.clone()),
                    last_modified: now.to_owned(),
                    ..latest.clone()
                });
            }
        }
        let aliases = model
            .aliases
            .iter()
            .filter(|a| a.function == f.logical_id)
            .filter_map(|a| {
                let version = *version_numbers.get(&a.version)?;
                Some((a.name.clone(), Alias { version, description: a.description.clone() }))
            })
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

/// Gives each version logical id of the template its number: the one it had (CloudFormation does not publish a
/// version resource again), else the number of its function's last published version when the function's
/// fingerprint is that version's (nothing changed since), else the next number.
fn number_versions(
    template: &serde_json::Value,
    previous: Option<&StackDeployment>,
    fingerprints: &BTreeMap<String, String>,
) -> BTreeMap<String, u64> {
    let mut numbers = previous.map(|p| p.version_numbers.clone()).unwrap_or_default();
    // Per function logical id: its last published version's number and fingerprint.
    let mut last: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for f in previous.iter().flat_map(|p| p.functions.values()) {
        if let Some((number, config)) = f.versions.iter().next_back() {
            last.insert(f.logical_id.clone(), (*number, config.fingerprint.clone()));
        }
    }
    for version in template::versions(template) {
        if numbers.contains_key(&version.logical_id) {
            continue;
        }
        let fingerprint = fingerprints.get(&version.function).cloned().unwrap_or_default();
        let number = match last.get(&version.function) {
            Some((number, published)) if !published.is_empty() && *published == fingerprint => *number,
            Some((number, _)) => number + 1,
            None => 1,
        };
        last.insert(version.function.clone(), (number, fingerprint));
        numbers.insert(version.logical_id.clone(), number);
    }
    numbers
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;
    use serde_json::json;

    /// The app's shape: the orchestrator's environment names the processor's version, so a new processor version
    /// changes the orchestrator too (and the synthesizer gives its version a new logical id).
    fn template_with(processor_version: &str, orchestrator_version: &str) -> serde_json::Value {
        json!({
            "Resources": {
                "Orchestrator": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Code": {"S3Bucket": {"Fn::Sub": "assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "orch.zip"},
                    "MemorySize": 256, "Timeout": 30, "Description": "Durable",
                    "Environment": {"Variables": {"PROCESSOR_FUNCTION_NAME": {"Ref": processor_version}}},
                    "DurableConfig": {"ExecutionTimeout": 900, "RetentionPeriodInDays": 7},
                    "LoggingConfig": {"LogFormat": "JSON"}
                }},
                "Processor": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "proc.zip"}}},
                "Named": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "proc.zip"}, "FunctionName": "my-named-fn"}},
                orchestrator_version: {"Type": "AWS::Lambda::Version", "Properties": {
                    "FunctionName": {"Ref": "Orchestrator"}, "Description": "Behind the alias"
                }},
                processor_version: {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Processor"}}},
                "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
                    "FunctionName": {"Ref": "Orchestrator"},
                    "FunctionVersion": {"Fn::GetAtt": [orchestrator_version, "Version"]},
                    "Name": "live",
                    "Description": "What callers invoke"
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

    fn template(processor_version: &str) -> serde_json::Value {
        template_with(processor_version, "OrchestratorVersionA1")
    }

    fn binaries(processor: &str) -> CodeByKey {
        BTreeMap::from([
            ("orch.zip".to_owned(), (PathBuf::from("/code/orch"), "o".repeat(64))),
            ("proc.zip".to_owned(), (PathBuf::from(format!("/code/proc{processor}")), processor.repeat(64))),
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
        assert_eq!(orchestrator.aliases["live"], Alias { version: 1, description: "What callers invoke".into() });
        assert_eq!(orchestrator.latest.description, "Durable");
        assert_eq!(orchestrator.versions[&1].description, "Behind the alias", "a version's own description wins");
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
        let again = plan(&template("ProcessorVersionB1"), "App", "eu-west-1", &binaries("1"), Some(&d)).unwrap();
        assert_eq!(again, d, "the same template again changes nothing");
    }

    #[test]
    fn a_new_version_id_publishes_a_new_version_and_published_versions_never_change() {
        let (first, second, third) =
            ("2026-11-27T10:00:00.000+0000", "2026-11-27T11:00:00.000+0000", "2026-11-27T12:00:00.000+0000");
        let at = |template: &serde_json::Value, code: &str, previous: Option<&StackDeployment>, now: &str| {
            plan_at(template, "App", "eu-west-1", &binaries(code), previous, now).unwrap()
        };
        let d = at(&template_with("ProcessorVersionB1", "OrchestratorVersionA1"), "1", None, first);
        assert_eq!(d.functions["App-Processor"].latest.last_modified, first);

        // New processor code: processor version 2 and, since the orchestrator's environment changed with it,
        // orchestrator version 2, which the alias now names. Every version 1 is exactly what it was.
        let next = at(&template_with("ProcessorVersionB2", "OrchestratorVersionA2"), "2", Some(&d), second);
        for name in ["App-Processor", "App-Orchestrator"] {
            let (before, after) = (&d.functions[name], &next.functions[name]);
            assert_eq!(after.versions.keys().copied().collect::<Vec<_>>(), [1, 2], "{name}");
            assert_eq!(after.versions[&1], before.versions[&1], "{name} version 1 changed");
            assert_eq!(after.versions[&2].last_modified, second);
            assert_eq!(after.versions[&2].env, after.latest.env, "{name} version 2 is what `$LATEST` is now");
            assert_eq!(after.versions[&2].code_sha256, after.latest.code_sha256);
        }
        let processor = &next.functions["App-Processor"];
        assert_eq!(
            (processor.versions[&1].code_sha256.as_str(), processor.latest.code_sha256.as_str()),
            ("1".repeat(64).as_str(), "2".repeat(64).as_str())
        );
        assert_eq!(processor.versions[&1].code, PathBuf::from("/code/proc1"));
        let orchestrator = &next.functions["App-Orchestrator"];
        assert!(orchestrator.versions[&1].env["PROCESSOR_FUNCTION_NAME"].ends_with(":App-Processor:1"));
        assert!(orchestrator.versions[&2].env["PROCESSOR_FUNCTION_NAME"].ends_with(":App-Processor:2"));
        assert_eq!(orchestrator.aliases["live"].version, 2);
        assert_eq!(orchestrator.latest.last_modified, second, "`$LATEST` changed");

        // A version resource renamed over an unchanged function names the version already published, as
        // `PublishVersion` answers on AWS; going back to the first code publishes a third version.
        let renamed = at(&template_with("ProcessorVersionRenamed", "OrchestratorVersionA2"), "2", Some(&next), third);
        assert_eq!(renamed.version_numbers["ProcessorVersionRenamed"], 2);
        assert_eq!(renamed.functions["App-Processor"], next.functions["App-Processor"]);
        assert_eq!(renamed.functions["App-Processor"].latest.last_modified, second, "unchanged, it keeps its time");
        let back = at(&template_with("ProcessorVersionB1", "OrchestratorVersionA1"), "1", Some(&next), third);
        assert_eq!(back.version_numbers["ProcessorVersionB1"], 1, "a version resource keeps its number");
        let back = at(&template_with("ProcessorVersionB3", "OrchestratorVersionA3"), "1", Some(&next), third);
        assert_eq!(back.functions["App-Processor"].versions.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(back.functions["App-Orchestrator"].aliases["live"].version, 3);
    }

    #[test]
    fn a_deployment_written_before_aliases_had_descriptions_still_reads() {
        let d = plan(&template("ProcessorVersionB1"), "App", "eu-west-1", &binaries("1"), None).unwrap();
        let mut stored = serde_json::to_value(&d).unwrap();
        stored["functions"]["App-Orchestrator"]["aliases"] = json!({"live": 1});
        for config in ["description", "fingerprint", "last_modified"] {
            stored["functions"]["App-Orchestrator"]["latest"].as_object_mut().unwrap().remove(config);
        }
        let read: StackDeployment = serde_json::from_value(stored).unwrap();
        assert_eq!(
            read.functions["App-Orchestrator"].aliases["live"],
            Alias { version: 1, description: String::new() }
        );
        assert_eq!(read.functions["App-Orchestrator"].latest.fingerprint, "");
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
