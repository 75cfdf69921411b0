//! Functions by name: what a synthesized stack declares about its functions, and which one a command means.
//!
//! A function is found by its construct id (`Processor`) or path (`Pattern/Processor`, or with the stack's name), its logical
//! id, its alias's logical id, a stack output that names it (or its alias or version), or its deployed name. With
//! no name, a command means the stack's durable function, when the stack has exactly one.

use std::collections::BTreeMap;

use constructs::{PATH_METADATA_KEY, SynthesizedStack};
use serde_json::Value;

use crate::error::{DeployerError, Result};

/// One function as the synthesized template declares it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FunctionSpec {
    /// The stack's CloudFormation name.
    pub(crate) stack: String,
    /// The stack's construct id.
    pub(crate) stack_id: String,
    /// Logical id.
    pub(crate) logical_id: String,
    /// Construct id below the stack (`Processor`).
    pub(crate) construct_id: String,
    /// Whether it has `DurableConfig`.
    pub(crate) durable: bool,
    /// Its alias (logical id, name), when the stack declares one.
    pub(crate) alias: Option<(String, String)>,
    /// The stack outputs that name it, its alias or a version of it.
    pub(crate) outputs: Vec<String>,
    /// What `invoke` sends when given no payload.
    pub(crate) example_event: Option<Value>,
    /// Logical id of the log group its `LoggingConfig` names.
    pub(crate) log_group: Option<String>,
}

impl FunctionSpec {
    /// How the function is listed among choices: `Orchestrator (durable, alias live)`.
    pub(crate) fn label(&self) -> String {
        let mut notes = Vec::new();
        if self.durable {
            notes.push("durable".to_owned());
        }
        if let Some((_, name)) = &self.alias {
            notes.push(format!("alias {name}"));
        }
        if notes.is_empty() {
            self.construct_id.clone()
        } else {
            format!("{} ({})", self.construct_id, notes.join(", "))
        }
    }
}

/// What a command can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Any function.
    Any,
    /// Durable functions only (executions, history, stop).
    Durable,
}

/// The functions of `stack`, in logical-id order.
pub(crate) fn catalog(stack: &SynthesizedStack) -> Vec<FunctionSpec> {
    let empty = serde_json::Map::new();
    let resources = stack.template.get("Resources").and_then(Value::as_object).unwrap_or(&empty);
    let of_type =
        |kind: &'static str| resources.iter().filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind));
    // Versions and aliases name their function with `Ref`: map each to the function it belongs to.
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (id, resource) in of_type("AWS::Lambda::Version").chain(of_type("AWS::Lambda::Alias")) {
        if let Some(function) = reference(resource.pointer("/Properties/FunctionName")) {
            owner.insert(id.as_str(), function);
        }
    }
    let outputs = stack.template.get("Outputs").and_then(Value::as_object).unwrap_or(&empty);
    of_type("AWS::Lambda::Function")
        .map(|(id, resource)| {
            let path = resource
                .pointer(&format!("/Metadata/{}", PATH_METADATA_KEY.replace('/', "~1")))
                .and_then(Value::as_str);
            let construct_id = path.and_then(|p| p.strip_prefix(&format!("{}/", stack.id))).unwrap_or(id).to_owned();
            let alias = of_type("AWS::Lambda::Alias")
                .find(|(alias_id, _)| owner.get(alias_id.as_str()) == Some(&id.as_str()))
                .and_then(|(alias_id, a)| {
                    Some((alias_id.clone(), a.pointer("/Properties/Name")?.as_str()?.to_owned()))
                });
            let names_it = |target: &str| target == id || owner.get(target) == Some(&id.as_str());
            let outputs = outputs
                .iter()
                .filter(|(_, output)| reference(output.get("Value")).is_some_and(names_it))
                .map(|(name, _)| name.clone())
                .collect();
            FunctionSpec {
                stack: stack.stack_name.clone(),
                stack_id: stack.id.clone(),
                logical_id: id.clone(),
                construct_id,
                durable: resource.pointer("/Properties/DurableConfig").is_some(),
                alias,
                outputs,
                example_event: stack.example_events.get(id).cloned(),
                log_group: reference(resource.pointer("/Properties/LoggingConfig/LogGroup")).map(str::to_owned),
            }
        })
        .collect()
}

/// The logical id a `Ref` or `Fn::GetAtt` names.
fn reference(value: Option<&Value>) -> Option<&str> {
    let value = value?;
    value
        .get("Ref")
        .and_then(Value::as_str)
        .or_else(|| value.get("Fn::GetAtt").and_then(|a| a.get(0)).and_then(Value::as_str))
}

/// The function `selector` names in `functions` (of one stack), or with none the stack's one durable function.
/// `deployed` maps logical ids to deployed names, so a deployed name is found too. Errors list the choices.
pub(crate) fn choose<'a>(
    functions: &'a [FunctionSpec],
    stack: &str,
    selector: Option<&str>,
    deployed: &BTreeMap<String, String>,
    want: Want,
) -> Result<&'a FunctionSpec> {
    let durable: Vec<&FunctionSpec> = functions.iter().filter(|f| f.durable).collect();
    let Some(selector) = selector else {
        return match durable.as_slice() {
            [one] => Ok(one),
            _ => Err(DeployerError::NotFound {
                what: format!(
                    "stack {stack} has {} durable functions, so no function is meant by default",
                    durable.len()
                ),
                remedy: format!("pass `--function` with one of: {}", labels(functions)),
                source: None,
            }),
        };
    };
    let found = functions.iter().find(|f| {
        f.logical_id == selector
            || f.construct_id == selector
            || format!("{}/{}", f.stack_id, f.construct_id) == selector
            || format!("{}/{}", f.stack, f.construct_id) == selector
            || f.alias.as_ref().is_some_and(|(id, _)| id == selector)
            || f.outputs.iter().any(|o| o == selector)
            || deployed.get(&f.logical_id).is_some_and(|name| name == selector)
    });
    let Some(function) = found else {
        return Err(DeployerError::NotFound {
            what: format!("no function `{selector}` in stack {stack}"),
            remedy: format!(
                "pass `--function` with one of: {} (or `--stack` for a function of another stack)",
                labels(functions)
            ),
            source: None,
        });
    };
    if want == Want::Durable && !function.durable {
        let choices: Vec<FunctionSpec> = durable.into_iter().cloned().collect();
        return Err(DeployerError::Unsupported {
            what: format!("{} is not a durable function: it has no executions", function.construct_id),
            remedy: if choices.is_empty() {
                format!("stack {stack} has no durable function")
            } else {
                format!("the durable functions of stack {stack}: {}", labels(&choices))
            },
        });
    }
    Ok(function)
}

fn labels(functions: &[FunctionSpec]) -> String {
    if functions.is_empty() {
        return "(the stack has no function)".to_owned();
    }
    functions.iter().map(FunctionSpec::label).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// The stack `name` of an app holding this project's pattern and a stack of two pairs, as the deployer's test
    /// fixture has them.
    fn synthesized(name: &str) -> SynthesizedStack {
        let mut app = constructs::App::new();
        stacks::app(&mut app).unwrap();
        let mut fixture = constructs::Stack::new(&app, "ToolkitFixture").unwrap();
        fixture.set_stack_name("durable-toolkit-fixture").unwrap();
        for pair in ["First", "Second"] {
            fixture.construct(pair, stacks::pattern::DurableInvoke).unwrap();
        }
        app.add_stack(fixture).unwrap();
        app.synth().unwrap().stack(name).unwrap().clone()
    }

    #[test]
    fn the_pattern_s_functions_come_with_their_alias_outputs_example_and_log_group() {
        let functions = catalog(&synthesized("durable-invoke-lambda"));
        let ids: Vec<&str> = functions.iter().map(|f| f.construct_id.as_str()).collect();
        assert_eq!(ids, ["Orchestrator", "Processor"]);
        let orchestrator = &functions[0];
        assert!(orchestrator.durable);
        assert_eq!(orchestrator.alias, Some(("OrchestratorLiveAlias".into(), "live".into())));
        assert_eq!(orchestrator.log_group.as_deref(), Some("OrchestratorLogGroup"));
        for output in ["DurableLambdaFunctionArn", "DurableLambdaFunctionAliasArn", "DurableLambdaFunctionVersionArn"] {
            assert!(orchestrator.outputs.iter().any(|o| o == output), "{output}: {:?}", orchestrator.outputs);
        }
        assert_eq!(orchestrator.example_event, Some(serde_json::json!({"values": [10, 20, 30, 40, 50]})));
        assert!(!functions[1].durable && functions[1].alias.is_none());
        assert!(functions[1].outputs.iter().any(|o| o == "ProcessorFunctionVersionArn"));
    }

    #[test]
    fn a_function_is_found_by_any_of_its_names() {
        let functions = catalog(&synthesized("durable-invoke-lambda"));
        let deployed = BTreeMap::from([("Processor".to_owned(), "durable-invoke-lambda-Processor-X1".to_owned())]);
        let find = |s: Option<&str>| choose(&functions, "durable-invoke-lambda", s, &deployed, Want::Any);
        for name in ["Processor", "Pattern/Processor", "ProcessorFunctionArn", "durable-invoke-lambda-Processor-X1"] {
            assert_eq!(find(Some(name)).unwrap().logical_id, "Processor", "{name}");
        }
        for name in [None, Some("OrchestratorLiveAlias"), Some("DurableLambdaFunctionAliasArn")] {
            assert_eq!(find(name).unwrap().logical_id, "Orchestrator", "{name:?}");
        }
    }

    #[test]
    fn an_unknown_or_ambiguous_function_lists_the_choices() {
        let pattern = catalog(&synthesized("durable-invoke-lambda"));
        let error = choose(&pattern, "durable-invoke-lambda", Some("NoSuch"), &BTreeMap::new(), Want::Any);
        let text = error.unwrap_err().to_string();
        assert!(text.contains("no function `NoSuch`"), "{text}");
        assert!(text.contains("Orchestrator (durable, alias live), Processor"), "{text}");
        let fixture = catalog(&synthesized("durable-toolkit-fixture"));
        let text =
            choose(&fixture, "durable-toolkit-fixture", None, &BTreeMap::new(), Want::Any).unwrap_err().to_string();
        assert!(text.contains("2 durable functions") && text.contains("Second/Orchestrator (durable"), "{text}");
        let text =
            choose(&fixture, "f", Some("First/Processor"), &BTreeMap::new(), Want::Durable).unwrap_err().to_string();
        assert!(text.contains("not a durable function") && text.contains("First/Orchestrator"), "{text}");
    }
}
