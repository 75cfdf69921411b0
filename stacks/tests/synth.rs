//! Synthesis of the project's app: snapshots, determinism, version hashing, IAM rules and the external validators.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use constructs::reference::Reference;
use constructs::resources::iam::Role;
use constructs::resources::lambda::{Alias, DurableConfig, Function, Version};
use constructs::{App, AppContext, Architecture, AssetManifest, AssetSource, CloudAssembly, Stack, SynthError};
use serde_json::Value;
use sha2::{Digest, Sha256};
use stacks::orders;
use stacks::pattern::{ORCHESTRATOR_ID, PROCESSOR_ID, STACK_ID, outputs};

/// The app's context: the default one but for the architecture and the environment's log retention.
fn context(architecture: Architecture, log_retention_days: Option<u32>) -> AppContext {
    let mut context = AppContext { architecture, ..AppContext::default() };
    if let Some(days) = log_retention_days {
        context.environment.values.insert(constructs::lambda::LOG_RETENTION_VALUE.into(), days.into());
    }
    context
}

fn default_context() -> AppContext {
    context(Architecture::Arm64, None)
}

/// The project's app with `context`.
fn app(context: &AppContext) -> App {
    let mut app = App::with_context(context.clone());
    stacks::app(&mut app).unwrap();
    app
}

/// A manifest whose hashes are the SHA-256 of the asset's binary plus `salt`: fixed, realistic-looking, and the
/// same whatever the construct paths.
fn manifest(context: &AppContext, salt: &str) -> AssetManifest {
    let mut m = AssetManifest::new();
    for asset in app(context).assets() {
        let AssetSource::CargoBinary { binary, .. } = &asset.source else { panic!("{asset:?}") };
        let sha = hex::encode(Sha256::digest(format!("{binary}{salt}")));
        m.insert(asset.id, sha);
    }
    m
}

fn synth(context: &AppContext) -> CloudAssembly {
    app(context).synth_with(&manifest(context, "")).unwrap()
}

fn app_template(assembly: &CloudAssembly) -> &Value {
    &assembly.stack_by_id(STACK_ID).unwrap().template
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
fn snapshot_app_template() {
    let assembly = synth(&default_context());
    insta::assert_json_snapshot!("app_template", app_template(&assembly));
}

#[test]
fn snapshot_orders_template() {
    let assembly = synth(&default_context());
    insta::assert_json_snapshot!("orders_template", &assembly.stack_by_id(orders::STACK_ID).unwrap().template);
}

/// The user's app holds the user's stacks only (the pattern and the example app): the deployer's test fixture and
/// the conformance suites are apps of their own, and the bootstrap stack is the deployer's.
#[test]
fn the_app_is_the_pattern_and_the_example_alone() {
    let assembly = synth(&default_context());
    let stacks: Vec<(&str, &str)> = assembly.stacks.iter().map(|s| (s.id.as_str(), s.stack_name.as_str())).collect();
    assert_eq!(stacks, [("Pattern", "durable-invoke-lambda"), ("Orders", "durable-orders")]);
    for s in &assembly.stacks {
        assert_eq!(s.template_body, format!("{:#}\n", s.template));
        assert_eq!(s.file_name(), format!("{}.template.json", s.stack_name));
    }
}

#[test]
fn the_pattern_s_assets_are_its_two_functions_by_construct_path() {
    let assets = app(&default_context()).stack(STACK_ID).unwrap().assets();
    let ids: Vec<(&str, &AssetSource)> = assets.iter().map(|a| (a.id.as_str(), &a.source)).collect();
    let bin = |name: &str| AssetSource::CargoBinary { package: name.into(), binary: name.into() };
    assert_eq!(ids, [("Pattern/Processor", &bin("processor")), ("Pattern/Orchestrator", &bin("orchestrator")),]);
}

/// The example app: a queue with its dead-letter queue triggers the workflow's alias (never the unqualified durable
/// function), and the workflow's role holds exactly the three grants the stack code asks for, each on its own
/// resource: consume the queue (not its dead-letter queue), read and write the table, invoke the plain function.
#[test]
fn orders_queue_triggers_the_workflow_alias_with_grants_on_their_resources_only() {
    let assembly = synth(&default_context());
    let t = &assembly.stack_by_id(orders::STACK_ID).unwrap().template;
    let queue = &t["Resources"]["OrderQueue"];
    assert_eq!(queue["Type"], "AWS::SQS::Queue");
    assert_eq!(
        queue["Properties"]["RedrivePolicy"],
        serde_json::json!({"deadLetterTargetArn": {"Fn::GetAtt": ["OrderQueueDeadLetterQueue", "Arn"]}, "maxReceiveCount": 3})
    );
    assert_eq!(t["Resources"]["OrderQueueDeadLetterQueue"]["Type"], "AWS::SQS::Queue");
    let mapping = &t["Resources"]["OrderQueueSource"];
    assert_eq!(mapping["Type"], "AWS::Lambda::EventSourceMapping");
    assert_eq!(mapping["Properties"]["EventSourceArn"], serde_json::json!({"Fn::GetAtt": ["OrderQueue", "Arn"]}));
    assert_eq!(mapping["Properties"]["FunctionName"], serde_json::json!({"Ref": "WorkflowLiveAlias"}));
    let workflow = &t["Resources"]["Workflow"]["Properties"];
    assert_eq!(workflow["DurableConfig"]["ExecutionTimeout"], 600);
    assert_eq!(workflow["Environment"]["Variables"][orders::TABLE_ENV], serde_json::json!({"Ref": "OrderTable"}));

    let policies = t["Resources"]["WorkflowRole"]["Properties"]["Policies"].as_array().unwrap();
    let grants = policies.iter().find(|p| p["PolicyName"] == "permissions").unwrap();
    let by_sid: Vec<(&str, &Value)> = grants["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["Sid"].as_str().unwrap(), &s["Resource"]))
        .collect();
    assert_eq!(
        by_sid,
        [
            (
                "InvokeFulfil",
                &serde_json::json!([
                    {"Fn::GetAtt": ["Fulfil", "Arn"]},
                    {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Fulfil}:*"}
                ])
            ),
            ("ReadWriteDataOrderTable", &serde_json::json!([{"Fn::GetAtt": ["OrderTable", "Arn"]}])),
            ("ConsumeOrderQueue", &serde_json::json!([{"Fn::GetAtt": ["OrderQueue", "Arn"]}])),
        ]
    );
    // The plain function has no grant of its own: it only writes its logs.
    assert_eq!(t["Resources"]["FulfilRole"]["Properties"]["Policies"].as_array().unwrap().len(), 1);
}

/// The example events travel beside the templates, never in them: `invoke` finds its default payload there, and
/// changing an example updates no stack.
#[test]
fn example_events_are_beside_the_template_not_in_it() {
    let assembly = synth(&default_context());
    let pattern = assembly.stack("durable-invoke-lambda").unwrap();
    let seed = serde_json::json!({"values": [10, 20, 30, 40, 50]});
    assert_eq!(pattern.example_events.get(ORCHESTRATOR_ID), Some(&seed));
    assert_eq!(pattern.example_events.get(PROCESSOR_ID), Some(&seed));
    assert!(!pattern.template_body.contains("\"values\""), "an example event leaked into the template");
}

#[test]
fn synth_is_deterministic() {
    let config = default_context();
    let a = synth(&config);
    let b = app(&config).synth_with(&manifest(&config, "")).unwrap();
    for (x, y) in a.stacks.iter().zip(&b.stacks) {
        assert_eq!(x.template_body.as_bytes(), y.template_body.as_bytes());
    }
}

/// Every template body of the default app, one after the other.
fn bodies() -> String {
    synth(&default_context()).stacks.iter().map(|s| s.template_body.clone()).collect::<Vec<_>>().join("\n")
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
    let config = default_context();
    let mut m = manifest(&config, "");
    m.0.remove("Pattern/Processor");
    let err = app(&config).synth_with(&m).unwrap_err();
    assert!(matches!(err, SynthError::MissingAsset { .. }));
    assert!(err.to_string().contains("Pattern/Processor"), "{err}");
}

#[test]
fn functions_match_the_pattern() {
    let assembly = synth(&context(Architecture::X86_64, None));
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
    let assembly = synth(&default_context());
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
fn version_ids(config: &AppContext, processor_salt: &str, orchestrator_salt: &str) -> (String, String) {
    let mut m = manifest(config, orchestrator_salt);
    let p = manifest(config, processor_salt);
    let key = format!("{STACK_ID}/{PROCESSOR_ID}");
    m.0.insert(key.clone(), p.0[&key].clone());
    let assembly = app(config).synth_with(&m).unwrap();
    let t = app_template(&assembly);
    (logical_id_with_prefix(t, "ProcessorVersion"), logical_id_with_prefix(t, "OrchestratorVersion"))
}

#[test]
fn version_ids_change_exactly_when_code_or_configuration_changes() {
    let config = default_context();
    let base = version_ids(&config, "", "");
    assert_eq!(base, version_ids(&config, "", ""), "unchanged code publishes nothing");

    let orchestrator_changed = version_ids(&config, "", "v2");
    assert_eq!(orchestrator_changed.0, base.0);
    assert_ne!(orchestrator_changed.1, base.1);

    // The orchestrator's environment names the processor's version, so it is republished too.
    let processor_changed = version_ids(&config, "v2", "");
    assert_ne!(processor_changed.0, base.0);
    assert_ne!(processor_changed.1, base.1);

    let arch = context(Architecture::X86_64, None);
    let arch_changed = version_ids(&arch, "", "");
    assert_ne!(arch_changed.0, base.0);
    assert_ne!(arch_changed.1, base.1);

    // Log retention is a property of the log group, not of the functions.
    let retention = context(Architecture::Arm64, Some(30));
    assert_eq!(version_ids(&retention, "", ""), base);
}

/// A one-function stack with the given durable config, as (function properties, version logical ID).
fn durable_stack(config: DurableConfig) -> (Value, String) {
    let mut stack = Stack::new(&App::new(), "durable").unwrap();
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
    let assembly = synth(&default_context());
    let mut found = Vec::new();
    for s in &assembly.stacks {
        statements(&s.template, &mut found);
    }
    let allows: Vec<&&Value> = found.iter().filter(|s| s["Effect"] == "Allow").collect();
    assert!(allows.len() >= 4, "found only {} Allow statements", allows.len());
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
    let files: Vec<PathBuf> = synth(&default_context())
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

/// A version is named after the code Lambda will hold, the zip's SHA-256, once known: new build inputs that leave
/// the zip byte-identical (a change to `Cargo.lock` the functions do not use) move the S3 key but publish no new
/// version, which CloudFormation would refuse ("A version for this Lambda function exists"); new zip bytes under
/// the same key do publish one.
#[test]
fn versions_follow_the_zip_s_bytes_not_the_object_s_name() {
    let config = default_context();
    let ids = |salt: &str, code: Option<&str>| {
        let mut m = manifest(&config, salt);
        if let Some(code) = code {
            for id in m.0.keys().cloned().collect::<Vec<_>>() {
                m.set_code_sha256(&id, hex::encode(Sha256::digest(format!("{id}{code}"))));
            }
        }
        let assembly = app(&config).synth_with(&m).unwrap();
        let t = app_template(&assembly);
        let key = t["Resources"][PROCESSOR_ID]["Properties"]["Code"]["S3Key"].as_str().unwrap().to_owned();
        (key, logical_id_with_prefix(t, "ProcessorVersion"), logical_id_with_prefix(t, "OrchestratorVersion"))
    };
    let (key, processor, orchestrator) = ids("", Some("zip-1"));
    let (moved_key, same_processor, same_orchestrator) = ids("new-lockfile", Some("zip-1"));
    assert_ne!(key, moved_key, "the object's name follows the build's inputs");
    assert_eq!((&processor, &orchestrator), (&same_processor, &same_orchestrator), "identical zips, same versions");
    let (_, new_processor, new_orchestrator) = ids("", Some("zip-2"));
    assert_ne!(new_processor, processor, "new code publishes a new version");
    assert_ne!(new_orchestrator, orchestrator);
    // Unknown code (nothing built yet): named after the object, as before.
    let (_, unknown, _) = ids("", None);
    assert_ne!(unknown, processor);
}
