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
    // The qualifier, the account, the region and 8 hex digits of the bootstrap stack's UUID: not guessable.
    let uuid = serde_json::json!({"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]});
    assert_eq!(
        boot["Resources"][bootstrap::BUCKET_LOGICAL_ID]["Properties"]["BucketName"],
        serde_json::json!({"Fn::Sub": ["durable-assets-default-${AWS::AccountId}-${AWS::Region}-${V1}",
            {"V1": {"Fn::Select": [0, {"Fn::Split": ["-", uuid]}]}}]})
    );
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

#[test]
fn synth_is_identical_across_processes() {
    // Run by the test below in a second process: hash maps are seeded per process, so an order that leaks from
    // one into a template shows up here and not within one process.
    if let Some(path) = std::env::var_os("STACKS_SYNTH_DUMP") {
        std::fs::write(path, bodies()).unwrap();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.json");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["synth_is_identical_across_processes", "--exact", "--quiet"])
        .env("STACKS_SYNTH_DUMP", &other)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::read_to_string(other).unwrap() == bodies(), "another process synthesized other bytes");
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

/// The bootstrap's deployment policies: the CloudFormation execution role's default policy and the permissions
/// boundary. They act on resources that do not exist yet, whose names CloudFormation generates, so they name
/// resource families; `the_bootstrap_s_deployment_policies_name_only_the_app_s_resources` checks each family.
const DEPLOYMENT_POLICIES: [&str; 2] = ["DefaultExecutionPolicy", "PermissionsBoundary"];

/// Least privilege is about what is allowed: every Allow statement names its actions and resources (no `*` but the
/// trailing `:*` qualifier, no `NotAction`/`NotResource`); Deny statements may be broad.
#[test]
fn no_allow_statement_has_a_wildcard_beyond_a_trailing_qualifier() {
    let assembly = synth(&AppConfig::default());
    let mut found = Vec::new();
    for s in &assembly.stacks {
        let mut template = s.template.clone();
        if s.kind == StackKind::Bootstrap {
            let resources = template["Resources"].as_object_mut().unwrap();
            for id in DEPLOYMENT_POLICIES {
                assert!(resources.remove(id).is_some(), "{id}");
            }
        }
        let mut here = Vec::new();
        statements(&template, &mut here);
        found.extend(here.into_iter().cloned());
    }
    let found: Vec<&Value> = found.iter().collect();
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

/// The resources of the app's stacks as the bootstrap's deployment policies name them: exactly these families.
fn app_resource_families(assembly: &CloudAssembly) -> Vec<String> {
    let arn = |service: &str| format!("arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:");
    let mut families = Vec::new();
    for s in assembly.stacks.iter().filter(|s| s.kind == StackKind::App) {
        families.push(format!("{}function:{}-*", arn("lambda"), s.stack_name));
        families.push(format!("{}log-group:{}-*", arn("logs"), s.stack_name));
        families.push(format!("{}log-group:/aws/lambda/{}-*", arn("logs"), s.stack_name));
    }
    families.push("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/durable-deployer/default/${AWS::Region}/*".into());
    families.push(format!("${{{}.Arn}}/*", bootstrap::BUCKET_LOGICAL_ID));
    families
}

/// Every resource family the execution role's default policy names is one of the app's (its functions, log
/// groups, roles under the bootstrap's path, the asset bucket's objects), or, for read calls only, the account's
/// CloudFormation Logs settings. Roles are created, given policies or have their boundary set only when they carry
/// the boundary; the boundary is never lifted; roles are passed to Lambda only. No action is a wildcard.
#[test]
fn the_bootstrap_s_deployment_policies_name_only_the_app_s_resources() {
    let assembly = synth(&AppConfig::default());
    let boot = &assembly.stacks[0].template["Resources"];
    let families = app_resource_families(&assembly);
    let policy = &boot["DefaultExecutionPolicy"]["Properties"]["PolicyDocument"]["Statement"];
    let mut actions = Vec::new();
    for statement in policy.as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow");
        let allowed: Vec<&str> = statement["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        assert!(allowed.iter().all(|a| !a.contains('*')), "{statement}");
        actions.extend(allowed.iter().copied());
        for resource in statement["Resource"].as_array().unwrap().iter().map(iam_text) {
            let logs_reads = resource == "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"
                && allowed.iter().all(|a| a.starts_with("logs:Describe"));
            assert!(families.contains(&resource) || logs_reads, "{resource} is not a family of the app's: {statement}");
        }
        let writes_roles =
            allowed.iter().any(|a| ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"].contains(a));
        if writes_roles {
            assert_eq!(
                statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"],
                serde_json::json!({"Ref": "PermissionsBoundary"}),
                "{statement}"
            );
        }
        if allowed.contains(&"iam:PassRole") {
            assert_eq!(allowed, ["iam:PassRole"]);
            assert_eq!(statement["Condition"]["StringEquals"]["iam:PassedToService"], "lambda.amazonaws.com");
        }
        if allowed.iter().any(|a| a.starts_with("s3:")) {
            assert!(allowed.iter().all(|a| a.starts_with("s3:GetObject")), "{statement}");
        }
    }
    for needed in [
        "lambda:CreateFunction",
        "lambda:PublishVersion",
        "lambda:CreateAlias",
        "iam:CreateRole",
        "logs:CreateLogGroup",
        "s3:GetObject",
    ] {
        assert!(actions.contains(&needed), "{needed} missing");
    }
    assert!(!actions.contains(&"iam:DeleteRolePermissionsBoundary"));
    // The execution role: CloudFormation's, named for the deploy role's PassRole, with the default policy only.
    let role = &boot["ExecutionRole"]["Properties"];
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "cloudformation.amazonaws.com"
    );
    assert_eq!(role["RoleName"], serde_json::json!({"Fn::Sub": "durable-deployer-default-cfn-exec-${AWS::Region}"}));
    assert_eq!(role["ManagedPolicyArns"], serde_json::json!([{"Ref": "DefaultExecutionPolicy"}]));
    assert!(role.get("PermissionsBoundary").is_none() && role.get("Policies").is_none(), "{role}");
}

/// Every role of every app stack carries the bootstrap's permissions boundary and lives under its role path, and
/// the boundary allows every action those roles are granted (else a grant would silently do nothing) and no other,
/// on each service's resources of the account and region.
#[test]
fn every_app_role_carries_the_boundary_which_allows_exactly_what_the_roles_are_granted() {
    let assembly = synth(&AppConfig::default());
    let mut granted = std::collections::BTreeSet::new();
    let mut roles = 0;
    for s in assembly.stacks.iter().filter(|s| s.kind == StackKind::App) {
        for (id, role) in resources_of_type(&s.template, "AWS::IAM::Role") {
            roles += 1;
            let props = &role["Properties"];
            assert_eq!(
                iam_text(&props["PermissionsBoundary"]),
                "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/durable-deployer-default-boundary-${AWS::Region}",
                "{}/{id}",
                s.stack_name
            );
            assert_eq!(iam_text(&props["Path"]), "/durable-deployer/default/${AWS::Region}/", "{}/{id}", s.stack_name);
        }
        let mut found = Vec::new();
        statements(&s.template, &mut found);
        // Grants, not trust policies (which name a principal).
        for statement in found.iter().filter(|st| st["Effect"] == "Allow" && st.get("Principal").is_none()) {
            granted.extend(statement["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()));
        }
    }
    assert!(roles >= 14, "{roles} roles");
    let boundary = &assembly.stacks[0].template["Resources"]["PermissionsBoundary"]["Properties"];
    assert_eq!(
        boundary["ManagedPolicyName"],
        serde_json::json!({"Fn::Sub": "durable-deployer-default-boundary-${AWS::Region}"})
    );
    let mut allowed = std::collections::BTreeSet::new();
    for statement in boundary["PolicyDocument"]["Statement"].as_array().unwrap() {
        let actions: Vec<String> =
            statement["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
        let service = actions[0].split(':').next().unwrap().to_owned();
        assert!(actions.iter().all(|a| a.starts_with(&format!("{service}:"))), "{statement}");
        assert_eq!(
            statement["Resource"].as_array().unwrap().iter().map(iam_text).collect::<Vec<_>>(),
            [format!("arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:*")]
        );
        allowed.extend(actions);
    }
    assert_eq!(allowed, granted, "the boundary must allow exactly what the app's roles are granted");
}

/// IAM refuses a managed policy over 6,144 characters (whitespace aside): the default execution policy, with the
/// partition, region and account filled in as long as they get, stays under it.
#[test]
fn the_default_execution_policy_fits_iam_s_size_limit() {
    let assembly = synth(&AppConfig::default());
    let policy = &assembly.stacks[0].template["Resources"]["DefaultExecutionPolicy"]["Properties"]["PolicyDocument"];
    let text: String = serde_json::to_string(policy)
        .unwrap()
        .replace("${AWS::Partition}", "aws-us-gov")
        .replace("${AWS::Region}", "ap-southeast-5")
        .replace("${AWS::AccountId}", "123456789012")
        .replace(
            &format!("${{{}.Arn}}", bootstrap::BUCKET_LOGICAL_ID),
            &format!("arn:aws-us-gov:s3:::{}", "b".repeat(62)),
        )
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(text.len() < 6144, "{} characters", text.len());
}

/// Execution policies chosen at bootstrap replace the default policy, which is then not created; the choice is in
/// an output, for the next `up` to keep.
#[test]
fn execution_policies_chosen_at_bootstrap_replace_the_default() {
    let arns = vec!["arn:aws:iam::123456789012:policy/team-deploy".to_owned()];
    let config = AppConfig { execution_policies: arns.clone(), ..AppConfig::default() };
    let boot = &synth(&config).stacks[0].template;
    assert!(boot["Resources"].get("DefaultExecutionPolicy").is_none());
    assert_eq!(boot["Resources"]["ExecutionRole"]["Properties"]["ManagedPolicyArns"], serde_json::json!(arns));
    assert_eq!(boot["Outputs"][bootstrap::EXECUTION_POLICIES_OUTPUT]["Value"], arns[0].as_str());
    let default = &synth(&AppConfig::default()).stacks[0].template;
    assert_eq!(default["Outputs"][bootstrap::EXECUTION_POLICIES_OUTPUT]["Value"], bootstrap::DEFAULT_EXECUTION_POLICY);
}

/// Another qualifier is another bootstrap: its own stack, bucket, export, boundary, role path and execution role,
/// and the app's stacks name those.
#[test]
fn a_qualifier_names_every_bootstrap_resource_and_the_app_follows_it() {
    let config = AppConfig { qualifier: "team2".into(), ..AppConfig::default() };
    let assembly = synth(&config);
    let boot = &assembly.stacks[0];
    assert_eq!(boot.stack_name, "DurableDeployerToolkit-team2");
    let text = &boot.template_body;
    for name in [
        "durable-assets-team2-",
        "durable-deployer-team2-boundary-",
        "durable-deployer-team2-cfn-exec-",
        "role/durable-deployer/team2/",
    ] {
        assert!(text.contains(name), "{name}");
    }
    assert!(!text.contains("-default-") && !text.contains("/default/"), "the default qualifier leaked");
    let pattern = assembly.stack("durable-invoke-lambda").unwrap();
    assert!(pattern.template["Parameters"]["AssetBucket"]["Type"] == "String", "the bucket is a parameter");
    assert!(pattern.template_body.contains("durable-deployer-team2-boundary-"));
    assert!(pattern.template_body.contains("/durable-deployer/team2/"));
    let bad = AppConfig { qualifier: "Team_2".into(), ..AppConfig::default() };
    assert!(app(&bad).unwrap_err().to_string().contains("lowercase letters and digits"));
}

/// A resource type the default execution policy does not cover is refused at synth, naming the resource and the
/// two ways out; with policies chosen at bootstrap, the type is the user's business.
#[test]
fn a_resource_type_the_default_policy_does_not_cover_is_refused() {
    let template = serde_json::json!({"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": "x"}]}}]}}
    }});
    let app_stack = stacks::SynthesizedStack {
        id: "App".into(),
        stack_name: "app".into(),
        kind: StackKind::App,
        template_body: template.to_string(),
        template,
        example_events: std::collections::BTreeMap::new(),
    };
    let config =
        bootstrap::BootstrapConfig { qualifier: "default".into(), execution_policies: vec![], covered_stacks: vec![] };
    let error = bootstrap::stack(&config, std::slice::from_ref(&app_stack)).unwrap_err().to_string();
    assert!(
        error.contains("app/Topic") && error.contains("AWS::SNS::Topic") && error.contains("--execution-policy"),
        "{error}"
    );
    let chosen = bootstrap::BootstrapConfig { execution_policies: vec!["arn:aws:iam::1:policy/p".into()], ..config };
    bootstrap::stack(&chosen, &[app_stack]).unwrap();
}

/// The default execution policy's table against CloudFormation's own schemas (the handler permissions, as the
/// pinned cfn-lint ships them): each action it allows is one the schema lists for that type, and each one the
/// schema lists is either allowed or left out with a reason. A new cfn-lint whose schemas list more fails here.
#[test]
fn the_execution_policy_table_matches_cloudformation_s_schemas() {
    let python = tool("python");
    let types: Vec<&str> = stacks::app::execution_policy::TABLE.iter().map(|t| t.resource_type).collect();
    let script = r#"
import json, sys, os, cfnlint
root = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")
index = json.load(open(os.path.join(root, "providers", "us-east-1.json")))
out = {}
for kind in sys.argv[1:]:
    schema = json.load(open(os.path.join(root, "resources", index[kind] + ".json")))
    out[kind] = sorted({p for h in schema["handlers"].values() for p in h.get("permissions", [])})
print(json.dumps(out))
"#;
    let out = Command::new(python).arg("-c").arg(script).args(&types).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let schemas: std::collections::BTreeMap<String, Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    for needs in stacks::app::execution_policy::TABLE {
        let listed: std::collections::BTreeSet<&str> =
            schemas[needs.resource_type].iter().map(String::as_str).collect();
        let mut ours = std::collections::BTreeSet::new();
        for (_, actions) in needs.allowed {
            for action in *actions {
                assert!(listed.contains(action), "{}: {action} is not in the schema", needs.resource_type);
                ours.insert(*action);
            }
        }
        for (action, reason) in needs.excluded {
            assert!(listed.contains(action), "{}: excluded {action} is not in the schema", needs.resource_type);
            assert!(!reason.is_empty() && ours.insert(*action), "{}: {action}", needs.resource_type);
        }
        let missing: Vec<&&str> = listed.difference(&ours).collect();
        assert!(missing.is_empty(), "{}: the schema lists {missing:?}: allow or exclude them", needs.resource_type);
    }
}

/// Stacks deployed earlier under other names stay covered by the execution role's default policy, so deploying
/// under a new `--stack-name` never takes away what CloudFormation needs to update or delete them.
#[test]
fn stacks_of_earlier_deployments_stay_covered() {
    let config = AppConfig { covered_stacks: vec!["old-name".into()], ..AppConfig::default() };
    let boot = &synth(&config).stacks[0].template;
    let policy = boot["Resources"]["DefaultExecutionPolicy"].to_string();
    assert!(policy.contains("function:old-name-*") && policy.contains("function:durable-invoke-lambda-*"), "{policy}");
    let covered = boot["Outputs"][bootstrap::APP_STACKS_OUTPUT]["Value"].as_str().unwrap();
    assert!(covered.split(',').any(|s| s == "old-name") && covered.split(',').any(|s| s == "durable-invoke-lambda"));
}
