//! What is deployed on the local target: functions with `$LATEST`, numbered versions and aliases, planned from a
//! synthesized template and the previous deployment (so version numbers and executions survive a redeploy).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::LocalError;
use super::arn::Arns;
use super::state::StateDir;
use super::template::{self, DurableSettings};

/// The configuration one version of a function runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeConfig {
    /// The `bootstrap` binary, inside the state folder.
    pub code: PathBuf,
    /// SHA-256 of the binary.
    pub code_sha256: String,
    /// Environment variables, with local ARNs.
    pub env: BTreeMap<String, String>,
    /// Memory, MB.
    pub memory_mb: u64,
    /// Timeout, seconds.
    pub timeout_s: u64,
    /// `Text` or `JSON`.
    pub log_format: String,
}

/// One deployed function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedFunction {
    /// Function name.
    pub name: String,
    /// Logical id in the template.
    pub logical_id: String,
    /// Durable settings (create-only, as on AWS).
    pub durable: Option<DurableSettings>,
    /// `$LATEST`.
    pub latest: CodeConfig,
    /// Published versions by number.
    pub versions: BTreeMap<u64, CodeConfig>,
    /// Aliases to version numbers.
    pub aliases: BTreeMap<String, u64>,
}

/// Everything deployed on the local target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Stack name.
    pub stack: String,
    /// Region the ARNs name.
    pub region: String,
    /// Functions by name.
    pub functions: BTreeMap<String, DeployedFunction>,
    /// Version logical ids to their numbers.
    pub version_numbers: BTreeMap<String, u64>,
    /// The stack's outputs, with local ARNs.
    pub outputs: BTreeMap<String, String>,
}

/// What a function name and qualifier resolve to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    /// The function.
    pub function: &'a DeployedFunction,
    /// `$LATEST` or the version number.
    pub version: String,
    /// The configuration that version runs with.
    pub config: &'a CodeConfig,
}

impl Deployment {
    /// The ARNs of this deployment.
    pub fn arns(&self) -> Arns {
        Arns::new(&self.stack, &self.region)
    }

    /// The engine's `--function-configs`: every function by name, durable ones with their `DurableConfig`.
    pub fn function_configs(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (name, function) in &self.functions {
            let entry = match function.durable {
                Some(d) => serde_json::json!({"DurableConfig": {
                    "ExecutionTimeout": d.execution_timeout,
                    "RetentionPeriodInDays": d.retention_days,
                }}),
                None => serde_json::json!({}),
            };
            map.insert(name.clone(), entry);
        }
        serde_json::Value::Object(map)
    }

    /// Resolves a function name and qualifier (`None`/`$LATEST`, a version number or an alias).
    pub fn resolve(&self, name: &str, qualifier: Option<&str>) -> Option<Target<'_>> {
        let function = self.functions.get(name)?;
        match qualifier {
            None | Some("$LATEST") => {
                Some(Target { function, version: "$LATEST".to_owned(), config: &function.latest })
            }
            Some(q) => {
                let number = q.parse::<u64>().ok().or_else(|| function.aliases.get(q).copied())?;
                let config = function.versions.get(&number)?;
                Some(Target { function, version: number.to_string(), config })
            }
        }
    }
}

/// Plans a deployment of `template` (the synthesized app stack). `code_by_key` maps each `Code.S3Key` to the host
/// build of its binary and the binary's SHA-256; binaries are copied into the state folder. `previous` keeps
/// version numbers stable.
pub fn plan(
    template: &serde_json::Value,
    stack: &str,
    region: &str,
    code_by_key: &BTreeMap<String, (PathBuf, String)>,
    previous: Option<&Deployment>,
    state: &StateDir,
) -> Result<Deployment, LocalError> {
    let arns = Arns::new(stack, region);
    // Store every binary first: version numbering compares code hashes.
    let mut stored: BTreeMap<String, (PathBuf, String)> = BTreeMap::new();
    for (key, (path, sha256)) in code_by_key {
        stored.insert(key.clone(), (state.store_binary(path, sha256)?, sha256.clone()));
    }
    let code_keys = function_code_keys(template);
    let mut version_numbers = previous.map(|p| p.version_numbers.clone()).unwrap_or_default();
    let mut used: BTreeMap<String, u64> = BTreeMap::new();
    for p in previous.iter().flat_map(|p| p.functions.values()) {
        used.insert(p.logical_id.clone(), p.versions.keys().max().copied().unwrap_or(0));
    }
    for version in template::versions(template) {
        if version_numbers.contains_key(&version.logical_id) {
            continue;
        }
        let sha = code_keys.get(&version.function).and_then(|k| stored.get(k)).map(|(_, sha)| sha.as_str());
        let previous_function = previous.and_then(|p| p.functions.get(&arns.function_name(&version.function)));
        let reuse = previous_function.and_then(|f| {
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
        let Some((code, code_sha256)) = stored.get(key).cloned() else {
            return Err(LocalError::Template(format!(
                "function {} uses code {key:?}, which no built asset provides; run `deployer build` to see which \
                 assets the stack declares",
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
        };
        let before = previous.and_then(|p| p.functions.get(&f.name));
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
        // DurableConfig is create-only: an existing function keeps its own.
        let durable = before.map_or(f.durable, |b| b.durable);
        functions.insert(
            f.name.clone(),
            DeployedFunction {
                name: f.name.clone(),
                logical_id: f.logical_id.clone(),
                durable,
                latest,
                versions,
                aliases,
            },
        );
    }
    Ok(Deployment {
        stack: stack.to_owned(),
        region: region.to_owned(),
        functions,
        version_numbers,
        outputs: model.outputs,
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
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
                "OrchestratorVersionA1": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Orchestrator"}}},
                processor_version: {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Processor"}}},
                "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
                    "FunctionName": {"Ref": "Orchestrator"},
                    "FunctionVersion": {"Fn::GetAtt": ["OrchestratorVersionA1", "Version"]},
                    "Name": "live"
                }},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {}}
            },
            "Outputs": {
                "AliasArn": {"Value": {"Ref": "Live"}},
                "ProcessorFunctionArn": {"Value": {"Fn::GetAtt": ["Processor", "Arn"]}},
                "RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}},
                "Joined": {"Value": {"Fn::Join": ["/", [{"Ref": "AWS::StackName"}, {"Fn::Sub": "${Processor}"}]]}}
            }
        })
    }

    fn binaries(dir: &std::path::Path, processor: &[u8]) -> BTreeMap<String, (PathBuf, String)> {
        use sha2::Digest;
        let mut code = BTreeMap::new();
        for (key, bytes) in [("orch.zip", b"orchestrator".as_slice()), ("proc.zip", processor)] {
            let path = dir.join(key);
            std::fs::write(&path, bytes).unwrap();
            code.insert(key.to_owned(), (path, hex::encode(sha2::Sha256::digest(bytes))));
        }
        code
    }

    #[test]
    fn plans_functions_versions_aliases_and_outputs_from_the_template() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("state"));
        let code = binaries(dir.path(), b"processor v1");
        let d = plan(&template("ProcessorVersionB1"), "App", "eu-west-1", &code, None, &state).unwrap();
        let orchestrator = &d.functions["App-Orchestrator"];
        assert_eq!(
            orchestrator.latest.env["PROCESSOR_FUNCTION_NAME"],
            "arn:aws:lambda:eu-west-1:000000000000:function:App-Processor:1"
        );
        assert_eq!((orchestrator.latest.memory_mb, orchestrator.latest.timeout_s), (256, 30));
        assert_eq!(orchestrator.latest.log_format, "JSON");
        assert_eq!(orchestrator.aliases["live"], 1);
        assert!(orchestrator.latest.code.starts_with(state.code_dir()));
        assert_eq!(d.functions["App-Processor"].latest.timeout_s, 3, "Lambda's default timeout");
        assert_eq!(d.outputs["AliasArn"], "arn:aws:lambda:eu-west-1:000000000000:function:App-Orchestrator:live");
        assert_eq!(d.outputs["ProcessorFunctionArn"], "arn:aws:lambda:eu-west-1:000000000000:function:App-Processor");
        assert_eq!(d.outputs["RoleArn"], "arn:aws:iam::000000000000:role/App-Role");
        assert_eq!(d.outputs["Joined"], "App/App-Processor");
        assert_eq!(
            d.function_configs(),
            json!({"App-Orchestrator": {"DurableConfig": {"ExecutionTimeout": 900, "RetentionPeriodInDays": 7}}, "App-Processor": {}})
        );
        assert_eq!(d.resolve("App-Orchestrator", Some("live")).map(|t| t.version), Some("1".to_owned()));
        assert_eq!(d.resolve("App-Orchestrator", None).map(|t| t.version), Some("$LATEST".to_owned()));
        assert!(d.resolve("App-Orchestrator", Some("7")).is_none());
        assert!(d.resolve("Nope", None).is_none());

        // Same template again: nothing changes. New processor code: a new version 2, version 1 kept for executions
        // pinned to it.
        let again = plan(&template("ProcessorVersionB1"), "App", "eu-west-1", &code, Some(&d), &state).unwrap();
        assert_eq!(again, d);
        let code2 = binaries(dir.path(), b"processor v2");
        let next = plan(&template("ProcessorVersionB2"), "App", "eu-west-1", &code2, Some(&d), &state).unwrap();
        let processor = &next.functions["App-Processor"];
        assert_eq!(processor.versions.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert_ne!(processor.versions[&1].code, processor.versions[&2].code);
        assert!(next.functions["App-Orchestrator"].latest.env["PROCESSOR_FUNCTION_NAME"].ends_with(":App-Processor:2"));
    }

    #[test]
    fn an_unknown_intrinsic_or_missing_code_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("state"));
        let mut t = template("ProcessorVersionB1");
        t["Resources"]["Processor"]["Properties"]["Environment"] =
            json!({"Variables": {"X": {"Fn::ImportValue": "x"}}});
        let error = plan(&t, "App", "us-east-1", &binaries(dir.path(), b"p"), None, &state).unwrap_err().to_string();
        assert!(error.contains("Fn::ImportValue") && error.contains("Processor.Environment.X"), "{error}");
        let error = plan(&template("ProcessorVersionB1"), "App", "us-east-1", &BTreeMap::new(), None, &state)
            .unwrap_err()
            .to_string();
        assert!(error.contains("no built asset provides"), "{error}");
    }
}
