//! `up --hotswap`, as `cdk deploy --hotswap`: when the only change to a deployed stack is function code, update
//! the code through the Lambda API, publish the versions that follow from it and move the aliases, without
//! CloudFormation. The stack then differs from its template (drift) until the next full `up`.
//!
//! A code change renames a version resource (its logical id follows the zip's hash) and everything that names the
//! version; once those names are mapped back, the two templates must be equal but for functions' `Code`. A
//! function whose environment names a republished version is updated and republished too (the pattern's
//! orchestrator names the processor's version); an alias that names one moves. Anything else that names a
//! republished version, or any other difference, needs CloudFormation: [`plan`] says which, and `up` deploys fully.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;

use crate::aws::Aws;
use crate::aws::aws_error;
use crate::error::{DeployerError, Result};

/// What a hotswap changes, in the order it changes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The functions to update, each after the functions whose versions it names.
    pub(crate) functions: Vec<FunctionSwap>,
    /// The aliases to move.
    pub(crate) aliases: Vec<AliasSwap>,
    /// Outputs naming a republished version: they show the old one until the next full deployment.
    pub(crate) stale_outputs: Vec<String>,
}

/// One alias to move to a republished version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AliasSwap {
    /// Its logical id.
    pub(crate) logical_id: String,
    /// Its function's logical id.
    pub(crate) function: String,
    /// Its name.
    pub(crate) name: String,
    /// The version logical id it follows.
    pub(crate) version: String,
}

/// One function's update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionSwap {
    /// Its logical id.
    pub(crate) logical_id: String,
    /// The new code's S3 key, when its code changed.
    pub(crate) code_key: Option<String>,
    /// Environment variables naming a republished version: (variable, version logical id).
    pub(crate) environment: Vec<(String, String)>,
    /// Its version resource, republished after the update (none: only `$LATEST` changes).
    pub(crate) version: Option<String>,
}

const FUNCTION: &str = "AWS::Lambda::Function";
const VERSION: &str = "AWS::Lambda::Version";
const ALIAS: &str = "AWS::Lambda::Alias";

fn resources(template: &Value) -> BTreeMap<String, Value> {
    template["Resources"].as_object().map(|r| r.clone().into_iter().collect()).unwrap_or_default()
}

fn type_of(resource: &Value) -> &str {
    resource["Type"].as_str().unwrap_or_default()
}

fn function_of_version(resource: &Value) -> Option<&str> {
    resource["Properties"]["FunctionName"]["Ref"].as_str()
}

/// `value` with every reference to a key of `names` (`Ref`, `Fn::GetAtt`, `DependsOn`) renamed.
fn rename(value: &Value, names: &BTreeMap<String, String>) -> Value {
    let renamed = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let v = match (key.as_str(), v) {
                        ("Ref" | "DependsOn", Value::String(id)) => Value::String(renamed(id)),
                        ("Fn::GetAtt", Value::Array(parts)) if !parts.is_empty() => {
                            let mut parts = parts.clone();
                            if let Some(Value::String(id)) = parts.first() {
                                parts[0] = Value::String(renamed(id));
                            }
                            Value::Array(parts)
                        }
                        ("DependsOn", Value::Array(ids)) => Value::Array(
                            ids.iter()
                                .map(|id| id.as_str().map_or_else(|| id.clone(), |id| Value::String(renamed(id))))
                                .collect(),
                        ),
                        _ => rename(v, names),
                    };
                    (key.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| rename(v, names)).collect()),
        other => other.clone(),
    }
}

/// Whether `value` names `id` (by `Ref` or `Fn::GetAtt`).
fn names_resource(value: &Value, id: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, v)| match (key.as_str(), v) {
            ("Ref", Value::String(name)) => name == id,
            ("Fn::GetAtt", Value::Array(parts)) => parts.first().and_then(Value::as_str) == Some(id),
            _ => names_resource(v, id),
        }),
        Value::Array(items) => items.iter().any(|v| names_resource(v, id)),
        _ => false,
    }
}

/// `resource` without the members a hotswap may change (a function's code and metadata).
fn without_code(resource: &Value) -> Value {
    let mut resource = resource.clone();
    if let Some(map) = resource.as_object_mut() {
        map.remove("Metadata");
    }
    if let Some(properties) = resource["Properties"].as_object_mut() {
        properties.remove("Code");
    }
    resource
}

/// What a hotswap of `next` over `deployed` does, or why it cannot be one (the reason says which resource).
pub(crate) fn plan(deployed: &Value, next: &Value) -> std::result::Result<Plan, String> {
    let old = resources(deployed);
    let new = resources(next);
    // Each function's version resource, by the function it publishes; a renamed one maps back to its old id.
    let mut renames = BTreeMap::new();
    for (id, resource) in new.iter().filter(|(_, r)| type_of(r) == VERSION) {
        let function = function_of_version(resource).unwrap_or_default();
        let before = old.iter().find(|(_, r)| type_of(r) == VERSION && function_of_version(r) == Some(function));
        match before {
            Some((old_id, _)) if old_id != id => {
                renames.insert(id.clone(), old_id.clone());
            }
            Some(_) => {}
            None => return Err(format!("{id} is a new version resource")),
        }
    }
    let mut next = rename(next, &renames);
    if let Some(map) = next["Resources"].as_object_mut() {
        for (new_id, old_id) in &renames {
            if let Some(resource) = map.remove(new_id) {
                map.insert(old_id.clone(), resource);
            }
        }
    }
    let new = resources(&next);
    for key in ["Parameters", "Conditions", "Mappings", "Outputs", "Transform", "Rules"] {
        if deployed.get(key) != next.get(key) {
            return Err(format!("the template's {key} changed"));
        }
    }
    if let Some(id) = old.keys().find(|id| !new.contains_key(*id)) {
        return Err(format!("{id} is removed"));
    }
    let mut code_changed = BTreeMap::new();
    for (id, resource) in &new {
        let Some(before) = old.get(id) else { return Err(format!("{id} is added")) };
        if before == resource {
            continue;
        }
        if type_of(resource) != FUNCTION || without_code(before) != without_code(resource) {
            return Err(format!("{id} ({}) changes beyond its code", type_of(resource)));
        }
        if before["Properties"]["Code"] != resource["Properties"]["Code"] {
            let key = resource["Properties"]["Code"]["S3Key"].as_str().ok_or_else(|| {
                format!("{id}'s new code is not an S3 object (inline code or an image is deployed fully)")
            })?;
            code_changed.insert(id.clone(), key.to_owned());
        }
    }
    let version_of = |function: &str| {
        old.iter()
            .find(|(_, r)| type_of(r) == VERSION && function_of_version(r) == Some(function))
            .map(|(id, _)| id.clone())
    };
    // Republished versions, growing while functions naming them in their environment are republished too.
    let mut swaps: BTreeMap<String, FunctionSwap> = code_changed
        .iter()
        .map(|(id, key)| {
            (
                id.clone(),
                FunctionSwap {
                    logical_id: id.clone(),
                    code_key: Some(key.clone()),
                    environment: vec![],
                    version: version_of(id),
                },
            )
        })
        .collect();
    let mut republished: BTreeSet<String> = swaps.values().filter_map(|s| s.version.clone()).collect();
    let mut examined = BTreeSet::new();
    while let Some(version) = republished.iter().find(|v| !examined.contains(*v)).cloned() {
        examined.insert(version.clone());
        for (id, resource) in &old {
            if !names_resource(resource, &version) || id == &version {
                continue;
            }
            match type_of(resource) {
                FUNCTION => {
                    let variables = resource["Properties"]["Environment"]["Variables"].as_object();
                    let named: Vec<String> = variables
                        .into_iter()
                        .flatten()
                        .filter(|(_, v)| v["Ref"].as_str() == Some(version.as_str()))
                        .map(|(name, _)| name.clone())
                        .collect();
                    let mut rest = resource.clone();
                    if let Some(vars) = rest["Properties"]["Environment"]["Variables"].as_object_mut() {
                        vars.retain(|name, _| !named.contains(name));
                    }
                    if names_resource(&rest, &version) || named.is_empty() {
                        return Err(format!("{id} names the republished version {version} outside its environment"));
                    }
                    let swap = swaps.entry(id.clone()).or_insert_with(|| FunctionSwap {
                        logical_id: id.clone(),
                        code_key: None,
                        environment: vec![],
                        version: version_of(id),
                    });
                    swap.environment.extend(named.into_iter().map(|name| (name, version.clone())));
                    if let Some(own) = &swap.version {
                        republished.insert(own.clone());
                    }
                }
                ALIAS
                    if resource["Properties"]["FunctionVersion"]["Fn::GetAtt"][0].as_str()
                        == Some(version.as_str()) => {}
                other => return Err(format!("{id} ({other}) names the republished version {version}")),
            }
        }
    }
    let aliases = old
        .iter()
        .filter(|(_, r)| type_of(r) == ALIAS)
        .filter_map(|(id, r)| {
            let version = r["Properties"]["FunctionVersion"]["Fn::GetAtt"][0].as_str()?;
            republished.contains(version).then(|| AliasSwap {
                logical_id: id.clone(),
                function: r["Properties"]["FunctionName"]["Ref"].as_str().unwrap_or_default().to_owned(),
                name: r["Properties"]["Name"].as_str().unwrap_or_default().to_owned(),
                version: version.to_owned(),
            })
        })
        .collect();
    let stale_outputs = deployed["Outputs"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, output)| republished.iter().any(|v| names_resource(output, v)))
        .map(|(name, _)| name.clone())
        .collect();
    // Each function after those whose versions its environment names.
    let mut ordered: Vec<FunctionSwap> = Vec::new();
    let mut pending: Vec<FunctionSwap> = swaps.into_values().collect();
    while !pending.is_empty() {
        let ready = pending.iter().position(|swap| {
            swap.environment
                .iter()
                .all(|(_, version)| !pending.iter().any(|other| other.version.as_deref() == Some(version.as_str())))
        });
        let Some(index) = ready else { return Err("the functions name each other's versions in a cycle".into()) };
        ordered.push(pending.remove(index));
    }
    Ok(Plan { functions: ordered, aliases, stale_outputs })
}

/// One function updated by a hotswap: its name and the version it now has (`$LATEST` when it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Swapped {
    /// The function's name.
    pub(crate) function: String,
    /// Whether its code changed (else its configuration).
    pub(crate) code: bool,
    /// The version published.
    pub(crate) version: String,
}

/// Carries out `plan` on the stack whose physical ids are `physical`, taking code from `bucket`.
pub(crate) async fn execute(
    aws: &Aws,
    plan: &Plan,
    physical: &BTreeMap<String, String>,
    bucket: &str,
) -> Result<Vec<Swapped>> {
    let physical_id = |id: &str| {
        physical.get(id).cloned().ok_or_else(|| {
            DeployerError::DeployFailed(format!("the deployed stack has no {id}; run `deployer up` without --hotswap"))
        })
    };
    // Version logical id → the version this hotswap published: (ARN, number).
    let mut versions: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut swapped = Vec::new();
    for swap in &plan.functions {
        let name = physical_id(&swap.logical_id)?;
        if let Some(key) = &swap.code_key {
            aws.lambda
                .update_function_code()
                .function_name(&name)
                .s3_bucket(bucket)
                .s3_key(key)
                .send()
                .await
                .map_err(aws_error("Lambda.UpdateFunctionCode"))?;
            wait_updated(aws, &name).await?;
        }
        if !swap.environment.is_empty() {
            let current = aws
                .lambda
                .get_function_configuration()
                .function_name(&name)
                .send()
                .await
                .map_err(aws_error("Lambda.GetFunctionConfiguration"))?;
            let mut variables = current.environment().and_then(|e| e.variables()).cloned().unwrap_or_default();
            for (variable, version) in &swap.environment {
                let (published, _) = versions.get(version).ok_or_else(|| {
                    DeployerError::DeployFailed(format!("{version} was not republished before {name}"))
                })?;
                variables.insert(variable.clone(), published.clone());
            }
            let environment = aws_sdk_lambda::types::Environment::builder().set_variables(Some(variables)).build();
            aws.lambda
                .update_function_configuration()
                .function_name(&name)
                .environment(environment)
                .send()
                .await
                .map_err(aws_error("Lambda.UpdateFunctionConfiguration"))?;
            wait_updated(aws, &name).await?;
        }
        let version = match &swap.version {
            None => "$LATEST".to_owned(),
            Some(version_id) => {
                let published = aws
                    .lambda
                    .publish_version()
                    .function_name(&name)
                    .send()
                    .await
                    .map_err(aws_error("Lambda.PublishVersion"))?;
                let arn = published.function_arn().unwrap_or_default().to_owned();
                let number = published.version().unwrap_or_default().to_owned();
                versions.insert(version_id.clone(), (arn, number.clone()));
                number
            }
        };
        swapped.push(Swapped { function: name, code: swap.code_key.is_some(), version });
    }
    for alias in &plan.aliases {
        let (_, number) = versions.get(&alias.version).ok_or_else(|| {
            DeployerError::DeployFailed(format!(
                "{} was not republished before its alias {}",
                alias.version, alias.logical_id
            ))
        })?;
        aws.lambda
            .update_alias()
            .function_name(physical_id(&alias.function)?)
            .name(&alias.name)
            .function_version(number)
            .send()
            .await
            .map_err(aws_error("Lambda.UpdateAlias"))?;
    }
    Ok(swapped)
}

/// Waits until a function's last update has finished (Lambda refuses the next one until then).
async fn wait_updated(aws: &Aws, name: &str) -> Result<()> {
    use aws_sdk_lambda::types::LastUpdateStatus;
    for _ in 0..120 {
        let configuration = aws
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(aws_error("Lambda.GetFunctionConfiguration"))?;
        match configuration.last_update_status() {
            Some(LastUpdateStatus::InProgress) => tokio::time::sleep(Duration::from_millis(500)).await,
            Some(LastUpdateStatus::Failed) => {
                return Err(DeployerError::DeployFailed(format!(
                    "Lambda could not update {name}: {}",
                    configuration.last_update_status_reason().unwrap_or("no reason given")
                )));
            }
            _ => return Ok(()),
        }
    }
    Err(DeployerError::DeployFailed(format!("{name} was still updating after a minute")))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::plan;

    /// The pattern's shape: a processor and its version; an orchestrator naming that version in its environment,
    /// its own version and a `live` alias.
    fn template(
        processor_key: &str,
        processor_version: &str,
        orchestrator_key: &str,
        orchestrator_version: &str,
    ) -> Value {
        json!({
            "Parameters": {"AssetBucket": {"Type": "String"}},
            "Resources": {
                "Processor": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Code": {"S3Bucket": {"Ref": "AssetBucket"}, "S3Key": processor_key}, "Timeout": 30}},
                processor_version: {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Processor"}}},
                "Orchestrator": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Code": {"S3Bucket": {"Ref": "AssetBucket"}, "S3Key": orchestrator_key},
                    "Environment": {"Variables": {"PROCESSOR_FUNCTION_NAME": {"Ref": processor_version}}}}},
                orchestrator_version: {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Orchestrator"}}},
                "Live": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Orchestrator"}, "Name": "live",
                    "FunctionVersion": {"Fn::GetAtt": [orchestrator_version, "Version"]}}},
            },
            "Outputs": {"ProcessorVersionArn": {"Value": {"Ref": processor_version}}},
        })
    }

    #[test]
    fn a_processor_edit_republishes_it_then_the_orchestrator_naming_it_and_moves_the_alias() {
        let deployed = template("p1.zip", "ProcessorVersionA", "o1.zip", "OrchestratorVersionA");
        let next = template("p2.zip", "ProcessorVersionB", "o1.zip", "OrchestratorVersionB");
        let plan = plan(&deployed, &next).unwrap();
        let order: Vec<_> = plan.functions.iter().map(|f| (f.logical_id.as_str(), f.code_key.as_deref())).collect();
        assert_eq!(order, [("Processor", Some("p2.zip")), ("Orchestrator", None)]);
        assert_eq!(
            plan.functions[1].environment,
            [("PROCESSOR_FUNCTION_NAME".to_owned(), "ProcessorVersionA".to_owned())]
        );
        assert_eq!(plan.functions[1].version.as_deref(), Some("OrchestratorVersionA"));
        let aliases: Vec<_> = plan
            .aliases
            .iter()
            .map(|a| (a.logical_id.as_str(), a.function.as_str(), a.name.as_str(), a.version.as_str()))
            .collect();
        assert_eq!(aliases, [("Live", "Orchestrator", "live", "OrchestratorVersionA")]);
        assert_eq!(plan.stale_outputs, ["ProcessorVersionArn"]);
    }

    #[test]
    fn an_orchestrator_edit_leaves_the_processor_alone() {
        let deployed = template("p1.zip", "ProcessorVersionA", "o1.zip", "OrchestratorVersionA");
        let next = template("p1.zip", "ProcessorVersionA", "o2.zip", "OrchestratorVersionB");
        let plan = plan(&deployed, &next).unwrap();
        assert_eq!(plan.functions.len(), 1);
        assert_eq!((plan.functions[0].logical_id.as_str(), plan.functions[0].environment.len()), ("Orchestrator", 0));
        assert!(plan.stale_outputs.is_empty());
    }

    #[test]
    fn anything_but_code_is_deployed_by_cloudformation_and_named() {
        let deployed = template("p1.zip", "ProcessorVersionA", "o1.zip", "OrchestratorVersionA");
        let mut next = template("p2.zip", "ProcessorVersionB", "o1.zip", "OrchestratorVersionB");
        next["Resources"]["Processor"]["Properties"]["Timeout"] = json!(60);
        assert_eq!(plan(&deployed, &next).unwrap_err(), "Processor (AWS::Lambda::Function) changes beyond its code");
        let mut added = template("p1.zip", "ProcessorVersionA", "o1.zip", "OrchestratorVersionA");
        added["Resources"]["Queue"] = json!({"Type": "AWS::SQS::Queue"});
        assert_eq!(plan(&deployed, &added).unwrap_err(), "Queue is added");
        // A permission on the processor's version would still name the old one.
        let mut permitted = template("p2.zip", "ProcessorVersionB", "o1.zip", "OrchestratorVersionB");
        let mut base = deployed.clone();
        for t in [&mut base, &mut permitted] {
            let version =
                t["Resources"].as_object().unwrap().keys().find(|k| k.starts_with("ProcessorVersion")).unwrap().clone();
            t["Resources"]["Permission"] =
                json!({"Type": "AWS::Lambda::Permission", "Properties": {"FunctionName": {"Ref": version}}});
        }
        let error = plan(&base, &permitted).unwrap_err();
        assert!(error.contains("Permission") && error.contains("ProcessorVersionA"), "{error}");
    }

    #[test]
    fn identical_templates_plan_nothing() {
        let deployed = template("p1.zip", "ProcessorVersionA", "o1.zip", "OrchestratorVersionA");
        assert!(plan(&deployed, &deployed.clone()).unwrap().functions.is_empty());
    }
}
