//! Synthesis of the project's app: snapshots, determinism, version hashing, IAM rules and the external validators.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};
use stacks::app::pattern::{ORCHESTRATOR_ID, PROCESSOR_ID, outputs};
use stacks::app::{AppConfig, Architecture, app};
use stacks::bootstrap;
use stacks::reference::Reference;
use stacks::resources::iam::Role;
use stacks::resources::lambda::{Alias, DurableConfig, Function, Version};
use stacks::{AssetManifest, AssetSource, CloudAssembly, Stack, StackKind, SynthError};

/// A manifest whose hashes are the SHA-256 of the asset id plus `salt`: fixed, and realistic-looking.
fn manifest(config: &AppConfig, salt: &str) -> AssetManifest {
    let mut m = AssetManifest::new();
    for asset in app(config).unwrap().assets() {
        let sha = hex::encode(Sha256::digest(format!("{}{salt}", asset.id)));
        m.insert(asset.id, sha);
    }
    m
}

fn synth(config: &AppConfig) -> CloudAssembly {
    app(config).unwrap().synth(&manifest(config, "")).unwrap()
}

fn app_template(assembly: &CloudAssembly) -> &Value {
    &assembly.stacks.iter().find(|s| s.kind == StackKind::App).unwrap().template
}

fn resources_of_type<'a>(template: &'a Value, ty: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"].as_object().unwrap().iter().filter(|(_, r)| r["Type"] == ty).collect()
}

fn logical_id_with_prefix(template: &Value, prefix: &str) -> String {
    let ids: Vec<&String> = template["Resources"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with(prefix) && k.len() == prefix.len() + 8)
        .collect();
    assert_eq!(ids.len(), 1, "{prefix}: {ids:?}");
    ids[0].clone()
}

#[test]
fn snapshot_bootstrap_template() {
    let assembly = synth(&AppConfig::default());
    insta::assert_json_snapshot!("bootstrap_template", assembly.stacks[0].template);
}

#[test]
fn snapshot_app_template() {
    let assembly = synth(&AppConfig::default());
    insta::assert_json_snapshot!("app_template", app_template(&assembly));
}

#[test]
fn assembly_has_bootstrap_first_then_the_pattern_the_fixture_and_the_conformance_stacks() {
    let assembly = synth(&AppConfig::default());
    let names: Vec<(&str, &str, StackKind)> =
        assembly.stacks.iter().map(|s| (s.id.as_str(), s.stack_name.as_str(), s.kind)).collect();
    assert_eq!(names.len(), 3 + 10, "{names:?}");
    assert_eq!(
        names[..4],
        [
            (bootstrap::STACK_NAME, bootstrap::STACK_NAME, StackKind::Bootstrap),
            ("Pattern", "durable-invoke-lambda", StackKind::App),
            ("ToolkitFixture", "durable-toolkit-fixture", StackKind::App),
            ("ConformanceStep", "durable-conformance-step", StackKind::App),
        ]
    );
    assert!(names[3..].iter().all(|(id, name, kind)| id.starts_with("Conformance")
        && name.starts_with("durable-conformance-")
        && *kind == StackKind::App));
    let boot = &assembly.stacks[0].template;
    assert_eq!(boot["Resources"][bootstrap::BUCKET_LOGICAL_ID]["Type"], "AWS::S3::Bucket");
    assert_eq!(
        boot["Resources"][bootstrap::BUCKET_LOGICAL_ID]["Properties"]["BucketName"],
        serde_json::json!({"Fn::Sub": "durable-deployer-assets-${AWS::AccountId}-${AWS::Region}"})
    );
    assert_eq!(bootstrap::bucket_name("123456789012", "eu-west-1"), "durable-deployer-assets-123456789012-eu-west-1");
    for s in &assembly.stacks {
        assert_eq!(s.template_body, format!("{:#}\n", s.template));
        assert_eq!(s.file_name(), format!("{}.template.json", s.stack_name));
    }
}

#[test]
fn the_pattern_s_assets_are_its_two_functions_by_construct_path() {
    let assets = app(&AppConfig::default()).unwrap().stack("durable-invoke-lambda").unwrap().assets();
    let ids: Vec<(&str, &AssetSource)> = assets.iter().map(|a| (a.id.as_str(), &a.source)).collect();
    let bin = |name: &str| AssetSource::CargoBinary { package: name.into(), binary: name.into() };
    assert_eq!(
        ids,
        [
            ("durable-invoke-lambda/Processor", &bin("processor")),
            ("durable-invoke-lambda/Orchestrator", &bin("orchestrator")),
        ]
    );
}

/// The example events travel beside the templates, never in them: `invoke` finds its default payload there, and
/// changing an example updates no stack.
#[test]
fn example_events_are_beside_the_template_not_in_it() {
    let assembly = synth(&AppConfig::default());
    let pattern = assembly.stack("durable-invoke-lambda").unwrap();
    let seed = serde_json::json!({"values": [10, 20, 30, 40, 50]});
    assert_eq!(pattern.example_events.get(ORCHESTRATOR_ID), Some(&seed));
    assert_eq!(pattern.example_events.get(PROCESSOR_ID), Some(&seed));
    assert!(!pattern.template_body.contains("\"values\""), "an example event leaked into the template");
    let fixture = assembly.stack("durable-toolkit-fixture").unwrap();
    let functions = resources_of_type(&fixture.template, "AWS::Lambda::Function");
    let durable = functions.iter().filter(|(_, f)| f["Properties"].get("DurableConfig").is_some()).count();
    assert_eq!((functions.len(), durable), (4, 2), "the fixture has two durable and two plain functions");
}

#[test]
fn synth_is_deterministic() {
    let config = AppConfig::default();
    let a = synth(&config);
    let b = app(&config).unwrap().synth(&manifest(&config, "")).unwrap();
    for (x, y) in a.stacks.iter().zip(&b.stacks) {
        assert_eq!(x.template_body.as_bytes(), y.template_body.as_bytes());
    }
}

/// Every template body of the default app, one after the other.
fn bodies() -> String {
    synth(&AppConfig::default()).stacks.iter().map(|s| s.template_body.clone()).collect::<Vec<_>>().join("\n")
}

/// The second process of [`synth_is_identical_across_processes`]: writes the bodies where `STACKS_SYNTH_DUMP`
/// says. Ignored in a normal run, and failing without that variable, so it never passes on its own.
#[test]
#[ignore = "the child process of synth_is_identical_across_processes, which starts it with STACKS_SYNTH_DUMP"]
fn synth_in_another_process() {
    let path = std::env::var_os("STACKS_SYNTH_DUMP").expect("started by synth_is_identical_across_processes only");
    std::fs::write(path, bodies()).unwrap();
}

#[test]
fn synth_is_identical_across_processes() {
    // Hash maps are seeded per process, so an order that leaks from one into a template shows up in a second
    // process and not within one.
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.json");
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["synth_in_another_process", "--exact", "--ignored", "--test-threads=1"])
        .env("STACKS_SYNTH_DUMP", &other)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(child.status.success() && stdout.contains("1 passed"), "the second process failed: {child:?}");
    let theirs = std::fs::read_to_string(other).expect("the second process wrote no templates");
    assert!(theirs == bodies(), "another process synthesized other bytes");
}

#[test]
fn missing_asset_is_an_error_naming_it() {
    let config = AppConfig::default();
    let mut m = manifest(&config, "");
    m.0.remove("durable-invoke-lambda/Processor");
    let err = app(&config).unwrap().synth(&m).unwrap_err();
    assert!(matches!(err, SynthError::MissingAsset { .. }));
    assert!(err.to_string().contains("durable-invoke-lambda/Processor"), "{err}");
}

#[test]
fn functions_match_the_pattern() {
    let assembly = synth(&AppConfig { architecture: Architecture::X86_64, ..AppConfig::default() });
    let t = app_template(&assembly);
    let p = &t["Resources"][PROCESSOR_ID]["Properties"];
    let o = &t["Resources"][ORCHESTRATOR_ID]["Properties"];
    for f in [p, o] {
        assert_eq!(f["Runtime"], "provided.al2023");
        assert_eq!(f["Handler"], "bootstrap");
        assert_eq!(f["MemorySize"], 128);
        assert_eq!(f["Architectures"], serde_json::json!(["x86_64"]));
        assert_eq!(f["LoggingConfig"]["LogFormat"], "JSON");
        let key = f["Code"]["S3Key"].as_str().unwrap();
        assert!(key.strip_suffix(".zip").is_some_and(|h| h.len() == 64), "{key}");
        assert!(f.get("FunctionName").is_none(), "an explicit name would block replacement");
    }
    assert_eq!(p["Timeout"], 30);
    assert_eq!(o["Timeout"], 600);
    assert_eq!(o["DurableConfig"], serde_json::json!({"ExecutionTimeout": 600, "RetentionPeriodInDays": 7}));
    let pv = logical_id_with_prefix(t, "ProcessorVersion");
    assert_eq!(o["Environment"]["Variables"]["PROCESSOR_FUNCTION_NAME"], serde_json::json!({"Ref": pv}));
    let alias = &t["Resources"]["OrchestratorLiveAlias"];
    assert_eq!(alias["Properties"]["Name"], "live");
    let ov = logical_id_with_prefix(t, "OrchestratorVersion");
    assert_eq!(alias["Properties"]["FunctionVersion"], serde_json::json!({"Fn::GetAtt": [ov, "Version"]}));
    assert_eq!(t["Resources"][&ov]["DependsOn"], serde_json::json!(["OrchestratorPolicy"]));
    for (_, group) in resources_of_type(t, "AWS::Logs::LogGroup") {
        assert_eq!(group["Properties"]["RetentionInDays"], 14);
        assert_eq!(group["DeletionPolicy"], "Delete");
        assert_eq!(group["UpdateReplacePolicy"], "Delete");
    }
}

#[test]
fn outputs_are_present_and_avoid_version_attributes() {
    let assembly = synth(&AppConfig::default());
    let outs = app_template(&assembly)["Outputs"].as_object().unwrap();
    for name in [
        outputs::DURABLE_FUNCTION_ARN,
        outputs::DURABLE_FUNCTION_ALIAS_ARN,
        outputs::PROCESSOR_FUNCTION_ARN,
        outputs::PROCESSOR_FUNCTION_VERSION_ARN,
    ] {
        assert!(outs.contains_key(name), "{name}");
    }
    for (name, out) in outs {
        if let Some(att) = out["Value"].get("Fn::GetAtt") {
            assert_eq!(att[1], "Arn", "output {name} reads {att}");
        }
    }
}

/// Version logical IDs of (processor, orchestrator) for a config and a manifest salt per asset.
fn version_ids(config: &AppConfig, processor_salt: &str, orchestrator_salt: &str) -> (String, String) {
    let mut m = manifest(config, orchestrator_salt);
    let p = manifest(config, processor_salt);
    let key = format!("{}/{PROCESSOR_ID}", config.stack_name);
    m.0.insert(key.clone(), p.0[&key].clone());
    let assembly = app(config).unwrap().synth(&m).unwrap();
    let t = app_template(&assembly);
    (logical_id_with_prefix(t, "ProcessorVersion"), logical_id_with_prefix(t, "OrchestratorVersion"))
}

#[test]
fn version_ids_change_exactly_when_code_or_configuration_changes() {
    let config = AppConfig::default();
    let base = version_ids(&config, "", "");
    assert_eq!(base, version_ids(&config, "", ""), "unchanged code publishes nothing");

    let orchestrator_changed = version_ids(&config, "", "v2");
    assert_eq!(orchestrator_changed.0, base.0);
    assert_ne!(orchestrator_changed.1, base.1);

    // The orchestrator's environment names the processor's version, so it is republished too.
    let processor_changed = version_ids(&config, "v2", "");
    assert_ne!(processor_changed.0, base.0);
    assert_ne!(processor_changed.1, base.1);

    let arch = AppConfig { architecture: Architecture::X86_64, ..AppConfig::default() };
    let arch_changed = version_ids(&arch, "", "");
    assert_ne!(arch_changed.0, base.0);
    assert_ne!(arch_changed.1, base.1);

    // Log retention is a property of the log group, not of the functions.
    let retention = AppConfig { log_retention_days: 30, ..AppConfig::default() };
    assert_eq!(version_ids(&retention, "", ""), base);
}

/// A one-function stack with the given durable config, as (function properties, version logical ID).
fn durable_stack(config: DurableConfig) -> (Value, String) {
    let mut stack = Stack::new("durable").unwrap();
    let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
    let code = AssetSource::Zip { path: PathBuf::from("fn.zip") };
    let f = stack.add("Fn", Function::new(code, &role).durable(config)).unwrap();
    let v = stack.add("FnVersion", Version::of(&f)).unwrap();
    stack.add("FnAlias", Alias::new("live", &v)).unwrap();
    let mut m = AssetManifest::new();
    m.insert(f.handle().path(), "0".repeat(64));
    let t = stack.synth(&m).unwrap().template;
    let version = logical_id_with_prefix(&t, "FnVersion");
    assert_eq!(t["Resources"]["FnAlias"]["Properties"]["FunctionName"], serde_json::json!({"Ref": "Fn"}));
    (t["Resources"]["Fn"]["Properties"].clone(), version)
}

/// Changing `DurableConfig` values is an update in place (CloudFormation: "no interruption"): the function keeps
/// its logical id, and a new version is published because its configuration changed. A `FunctionName` is never
/// set, so turning durability on or off (a replacement) has no name to clash on.
#[test]
fn durable_config_value_changes_update_the_function_and_publish_a_version() {
    let (before, v1) = durable_stack(DurableConfig::new(600, 7));
    let (after, v2) = durable_stack(DurableConfig::new(900, 7));
    assert!(before.get("FunctionName").is_none() && after.get("FunctionName").is_none());
    assert_eq!(after["DurableConfig"], serde_json::json!({"ExecutionTimeout": 900, "RetentionPeriodInDays": 7}));
    assert_ne!(v1, v2, "the changed configuration is published as a new version");
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let (encrypted, v3) = durable_stack(DurableConfig::new(900, 7).kms_key_arn(key));
    assert_eq!(
        encrypted["DurableConfig"],
        serde_json::json!({"ExecutionTimeout": 900, "KMSKeyArn": key, "RetentionPeriodInDays": 7})
    );
    assert_ne!(v2, v3);
}

/// The text of an IAM element as the acceptance check reads it: literals and Sub templates; other intrinsics
/// are opaque (`X`).
fn iam_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("Fn::Sub") => match &o["Fn::Sub"] {
            Value::String(s) => s.clone(),
            other => other[0].as_str().unwrap_or("X").to_owned(),
        },
        Value::Object(o) if o.contains_key("Fn::Join") => {
            o["Fn::Join"][1].as_array().unwrap().iter().map(|p| p.as_str().unwrap_or("X")).collect()
        }
        _ => "X".to_owned(),
    }
}

fn statements<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) => {
            if o.contains_key("Effect") && (o.contains_key("Action") || o.contains_key("NotAction")) {
                out.push(v);
            }
            o.values().for_each(|x| statements(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| statements(x, out)),
        _ => {}
    }
}

/// Least privilege is about what is allowed: every Allow statement names its actions and resources (no `*` but the
/// trailing `:*` qualifier, no `NotAction`/`NotResource`); Deny statements may be broad.
#[test]
fn no_allow_statement_has_a_wildcard_beyond_a_trailing_qualifier() {
    let assembly = synth(&AppConfig::default());
    let mut found = Vec::new();
    for s in &assembly.stacks {
        statements(&s.template, &mut found);
    }
    let allows: Vec<&&Value> = found.iter().filter(|s| s["Effect"] == "Allow").collect();
    assert!(allows.len() >= 5, "found only {} Allow statements", allows.len());
    for s in allows {
        for key in ["NotAction", "NotResource"] {
            assert!(s.get(key).is_none(), "{key} in an Allow statement: {s}");
        }
        for key in ["Action", "Resource"] {
            let values = match &s[key] {
                Value::Null => vec![],
                Value::Array(a) => a.iter().collect(),
                one => vec![one],
            };
            for text in values.into_iter().map(iam_text) {
                if key == "Action" {
                    assert!(!text.contains('*'), "wildcard in {key}: {text}");
                } else if text.contains('*') {
                    let qualifier = text.matches('*').count() == 1 && text.ends_with(":*") && text.len() > 20;
                    assert!(qualifier, "wildcard in {key}: {text}");
                }
            }
        }
    }
}

/// The asset bucket refuses every plain-HTTP request, on the bucket and on its objects, whatever the action: one
/// broad Deny, as AWS Config's `s3-bucket-ssl-requests-only` rule expects (a list of actions left ACL and tagging
/// calls open over HTTP).
#[test]
fn the_asset_bucket_denies_all_of_s3_without_tls() {
    let assembly = synth(&AppConfig::default());
    let policy = &assembly.stacks[0].template["Resources"]["AssetBucketPolicy"]["Properties"];
    assert_eq!(policy["Bucket"], serde_json::json!({"Ref": bootstrap::BUCKET_LOGICAL_ID}));
    let statements = policy["PolicyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{statements:?}");
    let deny = &statements[0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Principal"], "*");
    assert_eq!(deny["Action"], serde_json::json!(["s3:*"]));
    assert_eq!(
        deny["Resource"],
        serde_json::json!([
            {"Fn::GetAtt": [bootstrap::BUCKET_LOGICAL_ID, "Arn"]},
            {"Fn::Sub": format!("${{{}.Arn}}/*", bootstrap::BUCKET_LOGICAL_ID)}
        ])
    );
    assert!(deny.get("NotResource").is_none(), "{deny}");
    assert_eq!(deny["Condition"], serde_json::json!({"Bool": {"aws:SecureTransport": "false"}}));
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

fn run(tool: &Path, args: &[&str], files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(tool)
        // checkov: no attempt to fetch guideline mappings from the network.
        .env("BC_SKIP_MAPPING", "TRUE")
        .args(args)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn validators() {
    let cfn_lint = tool("cfn-lint");
    let checkov = tool("checkov");
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = synth(&AppConfig::default())
        .stacks
        .iter()
        .map(|s| {
            let path = dir.path().join(s.file_name());
            std::fs::write(&path, &s.template_body).unwrap();
            path
        })
        .collect();

    let (ok, text) = run(&cfn_lint, &[], &files);
    assert!(ok && text.trim().is_empty(), "cfn-lint reports errors or warnings:\n{text}");

    let mut checkov_files = Vec::new();
    for f in &files {
        checkov_files.push(PathBuf::from("-f"));
        checkov_files.push(f.clone());
    }
    let (ok, text) = run(&checkov, &["--quiet", "--framework", "cloudformation"], &checkov_files);
    assert!(ok && !text.contains("FAILED"), "checkov reports failed checks:\n{text}");
}
