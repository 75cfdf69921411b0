//! The bootstrap stack as derived from this project's app (the pattern): its template, the asset bucket, and the
//! deployment policies it derives from the app's stacks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use constructs::{App, AppContext, AssetManifest, CloudAssembly, StackKind, SynthesizedStack};
use serde_json::{Value, json};

use super::{BUCKET_LOGICAL_ID, BootstrapConfig, STACK_NAME, synth};

/// The project's app for `qualifier`, synthesized with placeholder assets.
fn app_stacks(qualifier: &str) -> Vec<SynthesizedStack> {
    let context = AppContext { qualifier: qualifier.to_owned(), ..AppContext::default() };
    let mut app = App::with_context(context);
    stacks::app(&mut app).unwrap();
    let assets = AssetManifest::placeholders(&app.assets());
    app.synth_with(&assets).unwrap().stacks
}

/// The bootstrap stack `config` chooses for deploying the pattern, then the app's stacks (the pattern and the
/// example app, whose event source mapping the default execution policy alone does not cover).
fn assembly(config: &BootstrapConfig) -> CloudAssembly {
    let app = app_stacks(&config.qualifier);
    let mut stacks = vec![synth(config, &app, &[stacks::pattern::STACK_NAME.to_owned()]).unwrap()];
    stacks.extend(app);
    CloudAssembly { stacks }
}

fn resources_of_type<'a>(template: &'a Value, ty: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"].as_object().unwrap().iter().filter(|(_, r)| r["Type"] == ty).collect()
}

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
    panic!("{name} not found in DEPLOYER_TOOLS_BIN or PATH: run ./scripts/test, which installs the tools");
}

#[test]
fn bootstrap_template() {
    let stack = assembly(&BootstrapConfig::new("default")).stacks.remove(0);
    assert_eq!((stack.stack_name.as_str(), stack.kind), (STACK_NAME, StackKind::Bootstrap));
    insta::assert_json_snapshot!("bootstrap_template", stack.template);
}

/// The qualifier, the account, the region and 8 hex digits of the bootstrap stack's UUID: not guessable.
#[test]
fn the_asset_bucket_name_cannot_be_guessed() {
    let template = assembly(&BootstrapConfig::new("default")).stacks.remove(0).template;
    let uuid = json!({"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]});
    assert_eq!(
        template["Resources"][BUCKET_LOGICAL_ID]["Properties"]["BucketName"],
        json!({"Fn::Sub": ["durable-assets-default-${AWS::AccountId}-${AWS::Region}-${V1}",
            {"V1": {"Fn::Select": [0, {"Fn::Split": ["-", uuid]}]}}]})
    );
}

/// The asset bucket refuses every plain-HTTP request, on the bucket and on its objects, whatever the action:
/// one broad Deny, as AWS Config's `s3-bucket-ssl-requests-only` rule expects (a list of actions left ACL and
/// tagging calls open over HTTP).
#[test]
fn the_asset_bucket_denies_all_of_s3_without_tls() {
    let template = assembly(&BootstrapConfig::new("default")).stacks.remove(0).template;
    let policy = &template["Resources"]["AssetBucketPolicy"]["Properties"];
    assert_eq!(policy["Bucket"], json!({"Ref": BUCKET_LOGICAL_ID}));
    let statements = policy["PolicyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{statements:?}");
    let deny = &statements[0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Principal"], "*");
    assert_eq!(deny["Action"], json!(["s3:*"]));
    assert_eq!(
        deny["Resource"],
        json!([
            {"Fn::GetAtt": [BUCKET_LOGICAL_ID, "Arn"]},
            {"Fn::Sub": format!("${{{BUCKET_LOGICAL_ID}.Arn}}/*")}
        ])
    );
    assert!(deny.get("NotResource").is_none(), "{deny}");
    assert_eq!(deny["Condition"], json!({"Bool": {"aws:SecureTransport": "false"}}));
}

fn app_resource_families(assembly: &CloudAssembly) -> Vec<String> {
    let arn = |service: &str| format!("arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:");
    let mut families = Vec::new();
    for s in assembly.stacks.iter().filter(|s| s.kind == StackKind::App) {
        families.push(format!("{}function:{}-*", arn("lambda"), s.stack_name));
        families.push(format!("{}log-group:{}-*", arn("logs"), s.stack_name));
        families.push(format!("{}log-group:/aws/lambda/{}-*", arn("logs"), s.stack_name));
        families.push(format!("{}{}-*", arn("sqs"), s.stack_name));
        families.push(format!("{}table/{}-*", arn("dynamodb"), s.stack_name));
    }
    families.push(format!("${{{}.Arn}}/*", super::BUCKET_LOGICAL_ID));
    families
}

/// The execution role's default policy: its `Allow` statements name each action's resource type in the account and
/// region (`...:function:*`, `...:log-group:*`, every S3 object as `arn:<p>:s3:::*`), or the roles under the
/// bootstrap's own path, and no wildcard action; its guard denies every one of those actions on everything but the
/// app's resource families (its stacks' generated names, the asset bucket's objects), so what the role may do is the
/// app's resources only. Left out of the guard: the account's CloudWatch Logs reads and the event
/// source mappings (named by a UUID), each allowed on its own. Roles are created, given policies or have their
/// boundary set only when they carry the boundary; the boundary is never lifted; roles are passed to Lambda only.
#[test]
fn the_bootstrap_s_deployment_policies_name_only_the_app_s_resources() {
    let assembly = assembly(&BootstrapConfig::new("default"));
    let boot = &assembly.stacks[0].template["Resources"];
    let families = app_resource_families(&assembly);
    let policy = &boot["DefaultExecutionPolicy"]["Properties"]["PolicyDocument"]["Statement"];
    let mut actions = Vec::new();
    let mut guarded = Vec::new();
    for statement in policy.as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow");
        let allowed: Vec<&str> = statement["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        assert!(allowed.iter().all(|a| !a.contains('*')), "{statement}");
        actions.extend(allowed.iter().copied());
        let mut narrowed = true;
        for resource in statement["Resource"].as_array().unwrap().iter().map(iam_text) {
            // One wildcard, as the last qualifier: every resource of one type (or service) in the account; or the
            // roles under the bootstrap's own path (no IAM role ARN ends in `:*`).
            let roles = resource
                == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/durable-deployer/default/${AWS::Region}/*"
                && allowed.iter().all(|a| a.starts_with("iam:"));
            if roles {
                narrowed = false;
                continue;
            }
            assert!(resource.matches('*').count() == 1 && resource.ends_with(":*"), "{resource}: {statement}");
            if resource.ends_with(":logs:${AWS::Region}:${AWS::AccountId}:*") {
                assert!(allowed.iter().all(|a| a.starts_with("logs:Describe")), "{statement}");
                narrowed = false;
            }
            if resource.ends_with(":event-source-mapping:*") {
                narrowed = false;
                // A mapping's ARN is a UUID Lambda draws: what CloudFormation reads, updates, tags and deletes.
                assert!(
                    allowed.iter().all(|a| a.ends_with("EventSourceMapping") && !a.starts_with("lambda:Create")
                        || ["lambda:ListTags", "lambda:TagResource", "lambda:UntagResource"].contains(a)),
                    "{statement}"
                );
            }
        }
        if narrowed {
            guarded.extend(allowed.iter().copied());
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

    // The guard: every action allowed on a resource type, denied outside exactly the app's families.
    let guard = boot["DefaultExecutionGuard"]["Properties"]["PolicyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(guard.len(), 1, "{guard:?}");
    let deny = &guard[0];
    assert_eq!(deny["Effect"], "Deny");
    assert!(deny.get("Resource").is_none(), "{deny}");
    let mut denied: Vec<&str> = deny["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let mut expected = guarded;
    for list in [&mut denied, &mut expected] {
        list.sort_unstable();
        list.dedup();
    }
    assert_eq!(denied, expected);
    let mut kept: Vec<String> = deny["NotResource"].as_array().unwrap().iter().map(iam_text).collect();
    let mut app = families.clone();
    // Tagging is allowed on the app's functions and on the mappings: the guard leaves the mappings to it.
    app.push("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:event-source-mapping:*".into());
    kept.sort();
    app.sort();
    assert_eq!(kept, app);

    // The execution role: CloudFormation's, named for the deploy role's PassRole, with the default policy only.
    let role = &boot["ExecutionRole"]["Properties"];
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "cloudformation.amazonaws.com"
    );
    assert_eq!(role["RoleName"], serde_json::json!({"Fn::Sub": "durable-deployer-default-cfn-exec-${AWS::Region}"}));
    assert_eq!(
        role["ManagedPolicyArns"],
        serde_json::json!([{"Ref": "DefaultExecutionPolicy"}, {"Ref": "DefaultExecutionGuard"}])
    );
    assert!(role.get("PermissionsBoundary").is_none() && role.get("Policies").is_none(), "{role}");
}

/// Every role of every app stack carries the bootstrap's permissions boundary and lives under its role path, and
/// the boundary allows every action those roles are granted (else a grant would silently do nothing) and no other,
/// on each service's resources of the account and region.
#[test]
fn every_app_role_carries_the_boundary_which_allows_exactly_what_the_roles_are_granted() {
    let assembly = assembly(&BootstrapConfig::new("default"));
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
    assert!(roles >= 2, "{roles} roles");
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

/// IAM refuses a managed policy over 6,144 characters (whitespace aside): the default execution policy and its
/// guard, with the partition, region and account filled in as long as they get, each stay under it.
#[test]
fn the_default_execution_policy_fits_iam_s_size_limit() {
    let assembly = assembly(&BootstrapConfig::new("default"));
    for id in ["DefaultExecutionPolicy", "DefaultExecutionGuard"] {
        let policy = &assembly.stacks[0].template["Resources"][id]["Properties"]["PolicyDocument"];
        let text: String = serde_json::to_string(policy)
            .unwrap()
            .replace("${AWS::Partition}", "aws-us-gov")
            .replace("${AWS::Region}", "ap-southeast-5")
            .replace("${AWS::AccountId}", "123456789012")
            .replace(
                &format!("${{{}.Arn}}", super::BUCKET_LOGICAL_ID),
                &format!("arn:aws-us-gov:s3:::{}", "b".repeat(62)),
            )
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(text.len() < 6144, "{id}: {} characters", text.len());
        eprintln!("{id}: {} characters", text.len());
    }
}

/// Execution policies chosen at bootstrap replace the default policy, which is then not created; the choice is in
/// an output, for the next `up` to keep.
#[test]
fn execution_policies_chosen_at_bootstrap_replace_the_default() {
    let arns = vec!["arn:aws:iam::123456789012:policy/team-deploy".to_owned()];
    let config = BootstrapConfig { execution_policies: arns.clone(), ..BootstrapConfig::new("default") };
    let boot = &assembly(&config).stacks[0].template;
    assert!(boot["Resources"].get("DefaultExecutionPolicy").is_none());
    assert_eq!(boot["Resources"]["ExecutionRole"]["Properties"]["ManagedPolicyArns"], serde_json::json!(arns));
    assert_eq!(boot["Outputs"][super::EXECUTION_POLICIES_OUTPUT]["Value"], arns[0].as_str());
    let default = &assembly(&BootstrapConfig::new("default")).stacks[0].template;
    assert_eq!(default["Outputs"][super::EXECUTION_POLICIES_OUTPUT]["Value"], super::DEFAULT_EXECUTION_POLICY);
}

/// Another qualifier is another bootstrap: its own stack, bucket, export, boundary, role path and execution role,
/// and the app's stacks name those.
#[test]
fn a_qualifier_names_every_bootstrap_resource_and_the_app_follows_it() {
    let assembly = assembly(&BootstrapConfig::new("team2"));
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
    let pattern = assembly.stack(stacks::pattern::STACK_NAME).unwrap();
    assert!(pattern.template["Parameters"]["AssetBucket"]["Type"] == "String", "the bucket is a parameter");
    assert!(pattern.template_body.contains("durable-deployer-team2-boundary-"));
    assert!(pattern.template_body.contains("/durable-deployer/team2/"));
    let bad = AppContext { qualifier: "Team_2".into(), ..AppContext::default() };
    let mut app = App::with_context(bad);
    assert!(stacks::app(&mut app).unwrap_err().to_string().contains("lowercase letters and digits"));
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
    let app_stack = SynthesizedStack {
        id: "App".into(),
        stack_name: "app".into(),
        kind: StackKind::App,
        template_body: template.to_string(),
        template,
        example_events: std::collections::BTreeMap::new(),
        assets: Vec::new(),
    };
    let config = BootstrapConfig {
        qualifier: "default".into(),
        execution_policies: vec![],
        covered_stacks: vec![],
        place: None,
    };
    let error = super::synth(&config, std::slice::from_ref(&app_stack), &["app".to_owned()]).unwrap_err().to_string();
    assert!(
        error.contains("app/Topic") && error.contains("AWS::SNS::Topic") && error.contains("--execution-policy"),
        "{error}"
    );
    let chosen =
        BootstrapConfig { execution_policies: vec!["arn:aws:iam::123456789012:policy/p".into()], ..config.clone() };
    super::synth(&chosen, std::slice::from_ref(&app_stack), &["app".to_owned()]).unwrap();
    // Not being deployed, the stack does not stop the bootstrap of the others: its topic is left out.
    let boot = super::synth(&config, &[app_stack], &[]).unwrap();
    assert!(!boot.template_body.contains("sns:CreateTopic"), "{}", boot.template_body);
}

/// The example app's order stack: its table, queues (AWS managed key) and the event source mapping's reads,
/// updates and deletes are the default policy's, each on the app's own resources; creating the mapping is
/// authorized on `*` only, so the default alone refuses the stack and names the statement a policy of the user's
/// needs, and kept beside that policy the default covers the rest.
#[test]
fn the_order_stack_needs_the_default_policy_and_one_statement_of_the_user_s() {
    let app = app_stacks("default");
    let deploying = [stacks::orders::STACK_NAME.to_owned()];
    let error = synth(&BootstrapConfig::new("default"), &app, &deploying).unwrap_err().to_string();
    for part in [
        "durable-orders/OrderQueueSource",
        "lambda:CreateEventSourceMapping",
        r#""Version":"2012-10-17""#,
        r#""Resource":"*""#,
        r#""ArnLike":{"lambda:FunctionArn":["#,
        "function:durable-orders-*",
        "--execution-policy default --execution-policy",
        "fill in `<region>` and `<account>`",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }

    // At `up`, where the bootstrap goes is known: the document is ready to create as it is.
    let placed = BootstrapConfig {
        place: Some(super::execution_policy::Place {
            partition: "aws-us-gov".into(),
            region: "us-gov-west-1".into(),
            account: "123456789012".into(),
        }),
        ..BootstrapConfig::new("default")
    };
    let error = synth(&placed, &app, &deploying).unwrap_err().to_string();
    assert!(error.contains("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:durable-orders-*"), "{error}");
    assert!(!error.contains("<region>") && !error.contains("<account>") && !error.contains("fill in"), "{error}");

    let arn = "arn:aws:iam::123456789012:policy/create-mappings".to_owned();
    let config =
        BootstrapConfig { execution_policies: vec!["default".into(), arn.clone()], ..BootstrapConfig::new("default") };
    let boot = synth(&config, &app, &deploying).unwrap().template;
    assert_eq!(
        boot["Resources"]["ExecutionRole"]["Properties"]["ManagedPolicyArns"],
        json!([{"Ref": "DefaultExecutionPolicy"}, {"Ref": "DefaultExecutionGuard"}, arn])
    );
    assert_eq!(boot["Outputs"][super::EXECUTION_POLICIES_OUTPUT]["Value"], format!("default,{arn}"));
    let mut found = Vec::new();
    statements(&boot["Resources"]["DefaultExecutionPolicy"], &mut found);
    let by_sid = |sid: &str| *found.iter().find(|s| s["Sid"] == sid).unwrap_or_else(|| panic!("{sid}"));
    let resources = |s: &Value| -> Vec<String> {
        match &s["Resource"] {
            Value::Array(list) => list.iter().map(iam_text).collect(),
            one => vec![iam_text(one)],
        }
    };
    let tables = by_sid("Tables");
    assert!(tables["Action"].as_array().unwrap().contains(&json!("dynamodb:CreateTable")));
    let guard = boot["Resources"]["DefaultExecutionGuard"]["Properties"]["PolicyDocument"]["Statement"][0].clone();
    assert!(guard["Action"].as_array().unwrap().contains(&json!("dynamodb:CreateTable")), "{guard}");
    let table_family = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/durable-orders-*";
    assert!(guard["NotResource"].as_array().unwrap().iter().map(iam_text).any(|r| r == table_family), "{guard}");
    let mappings = by_sid("EventSourceMappings");
    assert_eq!(
        resources(mappings),
        ["arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:event-source-mapping:*"]
    );
    for statement in &found {
        let actions = statement["Action"].to_string();
        assert!(!actions.contains("CreateEventSourceMapping") && !actions.contains("kms:"), "{statement}");
        assert!(!resources(statement).iter().any(|r| r == "*"), "{statement}");
    }
}

/// The default execution policy's table against CloudFormation's own schemas (the handler permissions, as the
/// pinned cfn-lint ships them): each action it allows is one the schema lists for that type, and each one the
/// schema lists is either allowed or left out with a reason. A new cfn-lint whose schemas list more fails here.
#[test]
fn the_execution_policy_table_matches_cloudformation_s_schemas() {
    let python = tool("python");
    let types: Vec<&str> = super::execution_policy::TABLE.iter().map(|t| t.resource_type).collect();
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
    for needs in super::execution_policy::TABLE {
        let listed: std::collections::BTreeSet<&str> =
            schemas[needs.resource_type].iter().map(String::as_str).collect();
        let mut ours = std::collections::BTreeSet::new();
        for (_, actions) in needs.allowed {
            for action in *actions {
                assert!(listed.contains(action), "{}: {action} is not in the schema", needs.resource_type);
                ours.insert(*action);
            }
        }
        for (action, reason) in needs.excluded.iter().chain(needs.own_policy) {
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
    let config = BootstrapConfig { covered_stacks: vec!["old-name".into()], ..BootstrapConfig::new("default") };
    let boot = &assembly(&config).stacks[0].template;
    let guard = boot["Resources"]["DefaultExecutionGuard"].to_string();
    assert!(guard.contains("function:old-name-*") && guard.contains("function:durable-invoke-lambda-*"), "{guard}");
    let covered = boot["Outputs"][super::APP_STACKS_OUTPUT]["Value"].as_str().unwrap();
    assert!(covered.split(',').any(|s| s == "old-name") && covered.split(',').any(|s| s == "durable-invoke-lambda"));
}
