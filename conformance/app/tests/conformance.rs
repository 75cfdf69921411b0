//! Synthesis of the conformance stacks: one per suite, within CloudFormation's limits, every requirement's
//! function where the runner looks for it, least-privilege roles, clean under cfn-lint and checkov, and the
//! runner's manifest in step with the catalog.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use conformance_app::catalog::{self, Suite, TARGETS};
use conformance_app::{HANDLER_ENV, POLICY_ID, ROLE_ID, manifest};
use constructs::{App, AssetManifest, AssetSource, SynthesizedStack};
use serde_json::{Value, json};

/// CloudFormation's resource limit per stack.
const MAX_RESOURCES: usize = 500;
/// The largest template CloudFormation accepts (from S3; the deployer uploads those over 51 200 bytes).
const MAX_TEMPLATE_BYTES: usize = 1_000_000;
/// IAM's limit on the inline policies of one role, in characters without whitespace.
const MAX_ROLE_POLICY_CHARS: usize = 10_240;

fn synth_all() -> Vec<SynthesizedStack> {
    let mut app = App::new();
    conformance_app::app(&mut app).unwrap();
    let mut assets = AssetManifest::new();
    for asset in app.assets() {
        // One binary, one zip: the same hash under every function's asset id.
        assets.insert(asset.id, "c0".repeat(32));
    }
    app.synth_with(&assets).unwrap().stacks
}

fn resources(template: &Value) -> &serde_json::Map<String, Value> {
    template["Resources"].as_object().unwrap()
}

fn of_type<'a>(template: &'a Value, ty: &str) -> Vec<(&'a String, &'a Value)> {
    resources(template).iter().filter(|(_, r)| r["Type"] == ty).collect()
}

#[test]
fn one_stack_per_suite_within_cloudformation_limits() {
    let synthesized = synth_all();
    let names: Vec<&str> = synthesized.iter().map(|s| s.stack_name.as_str()).collect();
    let expected: Vec<String> = Suite::ALL.iter().map(|s| s.stack_name()).collect();
    assert_eq!(names, expected);
    assert_eq!(names[5], "durable-conformance-wait-for-condition");
    for s in &synthesized {
        let count = resources(&s.template).len();
        assert!(count < MAX_RESOURCES, "{}: {count} resources", s.stack_name);
        assert!(s.template_body.len() < MAX_TEMPLATE_BYTES, "{}: {} bytes", s.stack_name, s.template_body.len());
        // The local target names functions `<stack>-<LogicalId>` and cuts at Lambda's 64 characters: no cut.
        for (id, _) in of_type(&s.template, "AWS::Lambda::Function") {
            assert!(s.stack_name.len() + 1 + id.len() <= 64, "{}-{id} is longer than 64 characters", s.stack_name);
        }
    }
}

#[test]
fn every_expressible_requirement_has_its_durable_function_and_log_group() {
    let synthesized = synth_all();
    let mut seen = BTreeSet::new();
    for requirement in catalog::requirements() {
        let stack = synthesized.iter().find(|s| s.stack_name == requirement.suite.stack_name()).unwrap();
        let id = requirement.logical_id();
        let function = &stack.template["Resources"][&id];
        if requirement.not_applicable().is_some() {
            assert!(function.is_null(), "{id} is not applicable but deployed");
            continue;
        }
        assert_eq!(function["Type"], "AWS::Lambda::Function", "{id}");
        let props = &function["Properties"];
        assert_eq!(props["Environment"]["Variables"][HANDLER_ENV], json!(requirement.id()), "{id}");
        assert_eq!(
            props["DurableConfig"],
            json!({"ExecutionTimeout": 7200, "RetentionPeriodInDays": 1}),
            "{id}: durable, and long enough for the one-hour wait of 2-5"
        );
        assert_eq!(
            (props["Runtime"].as_str(), props["Handler"].as_str()),
            (Some("provided.al2023"), Some("bootstrap"))
        );
        assert!(props.get("FunctionName").is_none(), "{id}: generated names only");
        let group = &stack.template["Resources"][format!("{id}LogGroup")];
        assert_eq!(group["Properties"]["LogGroupName"], json!({"Fn::Sub": format!("/aws/lambda/${{{id}}}")}), "{id}");
        assert_eq!(group["DeletionPolicy"], "Delete");
        seen.insert(requirement.id());
    }
    assert_eq!(seen.len(), 150, "155 requirements, 5 plugin requirements not applicable");
}

#[test]
fn invoke_callers_get_exactly_their_targets_names() {
    let synthesized = synth_all();
    let invoke = synthesized.iter().find(|s| s.stack_name == Suite::Invoke.stack_name()).unwrap();
    for target in TARGETS {
        let props = &invoke.template["Resources"][target.logical_id]["Properties"];
        assert_eq!(props["Environment"]["Variables"][HANDLER_ENV], target.handler, "{}", target.logical_id);
        assert!(props.get("DurableConfig").is_none(), "{}: a plain function", target.logical_id);
        assert_eq!(props.get("TenancyConfig").is_some(), target.tenant_isolated, "{}", target.logical_id);
    }
    for requirement in Suite::Invoke.requirements() {
        let vars = &invoke.template["Resources"][requirement.logical_id()]["Properties"]["Environment"]["Variables"];
        let names: BTreeSet<&str> =
            vars.as_object().unwrap().keys().map(String::as_str).filter(|k| *k != HANDLER_ENV).collect();
        let expected: BTreeSet<&str> = requirement.targets().iter().map(|t| t.env).collect();
        assert_eq!(names, expected, "{}", requirement.id());
        for target in requirement.targets() {
            assert_eq!(vars[target.env], json!({"Ref": target.logical_id}), "{}", requirement.id());
        }
    }
}

#[test]
fn every_function_shares_the_one_binary() {
    for stack in synth_all() {
        for asset in stack.assets {
            assert_eq!(
                asset.source,
                AssetSource::CargoBinary { package: "conformance".into(), binary: "conformance".into() },
                "{}",
                asset.id
            );
        }
    }
}

/// The text of an IAM element as the acceptance check reads it: literals and Sub templates; other intrinsics
/// (`Fn::GetAtt`) are opaque and hold no wildcard written by us.
fn iam_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("Fn::Sub") => o["Fn::Sub"].as_str().unwrap_or("X").to_owned(),
        _ => "X".to_owned(),
    }
}

#[test]
fn one_least_privilege_role_per_stack() {
    for s in synth_all() {
        let roles = of_type(&s.template, "AWS::IAM::Role");
        assert_eq!(roles.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), [ROLE_ID], "{}", s.stack_name);
        for (id, function) in of_type(&s.template, "AWS::Lambda::Function") {
            assert_eq!(function["Properties"]["Role"], json!({"Fn::GetAtt": [ROLE_ID, "Arn"]}), "{id}");
        }
        let policy = &s.template["Resources"][POLICY_ID]["Properties"];
        assert_eq!(policy["Roles"], json!([{"Ref": ROLE_ID}]));
        let statements = policy["PolicyDocument"]["Statement"].as_array().unwrap();
        for statement in statements {
            assert_eq!(statement["Effect"], "Allow");
            assert!(statement.get("NotAction").is_none() && statement.get("NotResource").is_none(), "{statement}");
            for action in statement["Action"].as_array().unwrap() {
                assert!(!action.as_str().unwrap().contains('*'), "{}: wildcard action {action}", s.stack_name);
            }
            for resource in statement["Resource"].as_array().unwrap() {
                let text = iam_text(resource);
                if text.contains('*') {
                    let qualifier =
                        text.matches('*').count() == 1 && text.contains(":function:${") && text.ends_with("}:*");
                    assert!(qualifier, "{}: wildcard resource {text}", s.stack_name);
                }
            }
        }
        let sids: Vec<&str> = statements.iter().map(|st| st["Sid"].as_str().unwrap()).collect();
        let expected: &[&str] = if s.stack_name == Suite::Invoke.stack_name() {
            &["WriteOwnLogs", "CheckpointOwnExecutions", "InvokeTargets"]
        } else {
            &["WriteOwnLogs", "CheckpointOwnExecutions"]
        };
        assert_eq!(sids, expected, "{}", s.stack_name);
        // Every log group, every durable function and (invoke) every target is named once, nothing else.
        let functions = of_type(&s.template, "AWS::Lambda::Function");
        let durable = functions.iter().filter(|(_, f)| f["Properties"].get("DurableConfig").is_some()).count();
        assert_eq!(statements[0]["Resource"].as_array().unwrap().len(), functions.len());
        assert_eq!(statements[1]["Resource"].as_array().unwrap().len(), durable);
        assert!(rendered_policy_chars(policy) < MAX_ROLE_POLICY_CHARS, "{}", s.stack_name);
    }
}

/// The policy's size once CloudFormation has resolved it, with realistic worst-case values: 64-character
/// function names (Lambda's maximum) and a 14-character region.
fn rendered_policy_chars(policy: &Value) -> usize {
    let name = "f".repeat(64);
    let arn = format!("arn:aws-us-gov:lambda:ap-southeast-4:123456789012:function:{name}");
    let resolve = |v: &Value| -> String {
        match v {
            Value::Object(o) if o.contains_key("Fn::GetAtt") => {
                if o["Fn::GetAtt"][0].as_str().unwrap().ends_with("LogGroup") {
                    format!("arn:aws-us-gov:logs:ap-southeast-4:123456789012:log-group:/aws/lambda/{name}:*")
                } else {
                    arn.clone()
                }
            }
            Value::Object(_) => format!("{arn}:*"),
            other => other.to_string(),
        }
    };
    let mut document = policy["PolicyDocument"].clone();
    for statement in document["Statement"].as_array_mut().unwrap() {
        let resolved: Vec<Value> =
            statement["Resource"].as_array().unwrap().iter().map(|r| json!(resolve(r))).collect();
        statement["Resource"] = Value::Array(resolved);
    }
    document.to_string().len()
}

#[test]
fn the_runners_manifest_matches_the_catalog() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runner/manifest.json");
    let expected = format!("{:#}\n", manifest());
    let found = std::fs::read_to_string(&path).unwrap_or_default();
    // Compared before any rewrite: with UPDATE_CONFORMANCE_MANIFEST an out-of-date file is rewritten and the test
    // still fails, so the variable never turns a stale manifest into a pass.
    if found != expected && std::env::var_os("UPDATE_CONFORMANCE_MANIFEST").is_some() {
        std::fs::write(&path, &expected).unwrap();
        panic!("{} was out of date and has been rewritten: review the change and run the test again", path.display());
    }
    assert!(
        found == expected,
        "{} is out of date: run `UPDATE_CONFORMANCE_MANIFEST=1 cargo test -p conformance-app --test conformance`, review \
         the change, then run it again without the variable",
        path.display()
    );
    let requirements = manifest()["requirements"].as_array().unwrap().len();
    assert_eq!(requirements, 155);
    assert_eq!(conformance_app::mapping().iter().filter(|m| m.not_applicable.is_some()).count(), 5);
}

/// Finds an executable in `DEPLOYER_TOOLS_BIN`, then on `PATH`.
fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs =
        std::env::var_os("DEPLOYER_TOOLS_BIN").into_iter().map(PathBuf::from).chain(std::env::split_paths(&path));
    for dir in dirs {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "{name} not found in DEPLOYER_TOOLS_BIN or PATH: run ./scripts/test, which installs cfn-lint and checkov \
         and points DEPLOYER_TOOLS_BIN at them"
    );
}

#[test]
fn validators() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = synth_all()
        .iter()
        .map(|s| {
            let path = dir.path().join(s.file_name());
            std::fs::write(&path, &s.template_body).unwrap();
            path
        })
        .collect();
    let out = Command::new(tool("cfn-lint")).args(&files).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.trim().is_empty(), "cfn-lint reports errors or warnings:\n{text}");

    let mut command = Command::new(tool("checkov"));
    command.env("BC_SKIP_MAPPING", "TRUE").args(["--quiet", "--framework", "cloudformation"]);
    for f in &files {
        command.arg("-f").arg(f);
    }
    let out = command.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !text.contains("FAILED"), "checkov reports failed checks:\n{text}");
}
