//! `up` and `down` against moto server, a real third-party AWS emulator started on a free loopback port.
//!
//! moto's known gaps shape the assertions: stacks created through change sets report no Outputs, `DurableConfig` is
//! not modelled, and only stack-level events exist. Its CloudFormation gets Lambda aliases and version references
//! from `moto_server.py`, through moto's own Lambda backend. What it does model (stacks, change sets, S3 objects,
//! the Lambda resources) is asserted exactly.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_cloudformation::config::{BehaviorVersion, Credentials, Region};

use crate::support::{Guard, Run, copy_workspace, deployer, free_port, tool, wait_http};

struct Moto {
    _guard: Guard,
    url: String,
    port: u16,
    /// The access key of an IAM user made in moto, the deployer's credentials: STS names its caller by the user's
    /// ARN, as AWS does, so the pre-flight check asks moto's IAM about that user.
    key: (String, String),
}

fn start_moto() -> Moto {
    let port = free_port();
    // Its log (each request, and the traceback of a 500) goes to a file a failing test can be read with.
    let log = std::fs::File::create(std::env::temp_dir().join(format!("moto-{port}.log"))).unwrap();
    // moto with the Lambda alias and version support its CloudFormation lacks (moto_server.py says what and why).
    let child = Command::new(tool("python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/moto_server.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let guard = Guard(child);
    wait_http(&url, Duration::from_secs(30));
    // Without Docker, moto must not try to run function code.
    let status = Command::new("curl")
        .args(["-sf", "-X", "POST", &format!("{url}/moto-api/config"), "-H", "Content-Type: application/json"])
        .args(["-d", r#"{"lambda": {"use_docker": false}}"#])
        .status()
        .unwrap();
    assert!(status.success());
    let key = std::thread::scope(|s| {
        s.spawn(|| tokio::runtime::Runtime::new().unwrap().block_on(deployer_user(&url))).join().unwrap()
    });
    Moto { _guard: guard, url, port, key }
}

/// An IAM user `deployer` in moto, and its access key.
async fn deployer_user(url: &str) -> (String, String) {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("testing", "testing-secret", None, None, "test"))
        .build();
    let iam = aws_sdk_iam::Client::from_conf(config);
    iam.create_user().user_name("deployer").send().await.unwrap();
    let key = iam.create_access_key().user_name("deployer").send().await.unwrap();
    let key = key.access_key().unwrap();
    (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
}

fn envs(moto: &Moto, target_dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto.url.clone()),
        ("AWS_ACCESS_KEY_ID", moto.key.0.clone()),
        ("AWS_SECRET_ACCESS_KEY", moto.key.1.clone()),
        ("AWS_REGION", "us-east-1".into()),
        ("CARGO_TARGET_DIR", target_dir.display().to_string()),
    ]
}

struct Clients {
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
}

fn clients(moto: &Moto) -> Clients {
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .credentials_provider(Credentials::new("testing", "testing-secret", None, None, "test"))
        .build();
    let s3 = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .credentials_provider(Credentials::new("testing", "testing-secret", None, None, "test"))
        .force_path_style(true)
        .build();
    let iam = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .credentials_provider(Credentials::new("testing", "testing-secret", None, None, "test"))
        .build();
    Clients {
        cfn: aws_sdk_cloudformation::Client::from_conf(config),
        s3: aws_sdk_s3::Client::from_conf(s3),
        iam: aws_sdk_iam::Client::from_conf(iam),
    }
}

/// The asset bucket's name, as the bootstrap stack made it.
async fn asset_bucket(c: &Clients) -> String {
    let resource = c
        .cfn
        .describe_stack_resource()
        .stack_name("DurableDeployerToolkit")
        .logical_resource_id("AssetBucket")
        .send()
        .await
        .unwrap();
    resource.stack_resource_detail().unwrap().physical_resource_id().unwrap().to_owned()
}

/// `(stack name, status, last updated)` of every live stack, and every zip key in every bucket.
async fn state(c: &Clients) -> (Vec<(String, String, String)>, Vec<String>) {
    let stacks = c.cfn.describe_stacks().send().await.unwrap();
    let mut live: Vec<(String, String, String)> = stacks
        .stacks()
        .iter()
        .filter(|s| !s.stack_status().unwrap().as_str().starts_with("DELETE"))
        .map(|s| {
            (
                s.stack_name().unwrap().to_owned(),
                s.stack_status().unwrap().as_str().to_owned(),
                format!("{:?}", s.last_updated_time()),
            )
        })
        .collect();
    live.sort();
    let mut keys = Vec::new();
    for bucket in c.s3.list_buckets().send().await.unwrap().buckets() {
        let listing = c.s3.list_objects_v2().bucket(bucket.name().unwrap()).send().await.unwrap();
        keys.extend(
            listing.contents().iter().filter_map(|o| o.key()).filter(|k| k.ends_with(".zip")).map(str::to_owned),
        );
    }
    keys.sort();
    (live, keys)
}

fn up(dir: &Path, env: &[(&str, String)]) -> Run {
    deployer(dir, &["up", "--require-approval", "never"], env)
}

#[tokio::test(flavor = "multi_thread")]
async fn up_no_op_change_and_down_against_moto() {
    let moto = start_moto();
    let c = clients(&moto);
    let work = tempfile::tempdir().unwrap();
    copy_workspace(work.path());
    // This test edits the processor's sources in its copy: it builds into a target folder of its own, so the
    // workspace's own `up` can never find (and ship) a binary built from the edited sources.
    let target = crate::support::edited_sources_target_dir();
    let env = envs(&moto, &target);
    let app_stack = "durable-invoke-lambda";

    // `invoke` before anything is deployed: the stack is named as missing, with the command that deploys it.
    let invoke = deployer(work.path(), &["invoke"], &env);
    assert!(!invoke.ok, "{}", invoke.all());
    assert!(
        invoke.stderr.contains("stack durable-invoke-lambda does not exist in us-east-1")
            && invoke.stderr.contains("deploy it with `deployer up` first"),
        "{}",
        invoke.all()
    );

    // First up: the bootstrap stack and the app stack, two assets; `--outputs-file` writes what CloudFormation
    // reports for the app stack (moto reports no Outputs for a stack made through a change set: an empty map).
    let outputs_file = work.path().join("out/outputs.json");
    let first =
        deployer(work.path(), &["up", "--require-approval", "never", "--outputs-file", "out/outputs.json"], &env);
    assert!(first.ok, "first up failed:\n{}", first.all());
    let (stacks1, keys1) = state(&c).await;
    assert_eq!(stacks1.len(), 2, "{stacks1:?}");
    assert!(stacks1.iter().all(|(_, status, _)| status.ends_with("_COMPLETE")), "{stacks1:?}");
    assert!(stacks1.iter().any(|(name, _, _)| name == "DurableDeployerToolkit"));
    assert!(stacks1.iter().any(|(name, _, _)| name == app_stack));
    assert_eq!(keys1.len(), 2, "{keys1:?}");
    assert!(keys1.iter().all(|k| k.len() == 64 + 4), "content-hash keys: {keys1:?}");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&outputs_file).expect("--outputs-file wrote no file")).unwrap();
    assert_eq!(written, serde_json::json!({ app_stack: stack_outputs(&c, app_stack).await }), "{written:#}");

    // The bootstrap made an unguessable bucket (the qualifier, account, region and 8 hex digits of its stack's id),
    // the CloudFormation execution role and the permissions boundary; moto's IAM holds the app's roles under the
    // bootstrap's path, each carrying the boundary. The pre-flight check asked moto's IAM, whose simulator is not
    // implemented: `up` said so and went on.
    let bucket = asset_bucket(&c).await;
    let (prefix, uuid) = bucket.rsplit_once('-').unwrap();
    assert_eq!(prefix, "durable-assets-default-123456789012-us-east-1");
    assert!(uuid.len() == 8 && uuid.chars().all(|c| c.is_ascii_hexdigit()), "{bucket}");
    let boundary = "arn:aws:iam::123456789012:policy/durable-deployer-default-boundary-us-east-1";
    c.iam.get_policy().policy_arn(boundary).send().await.expect("the boundary policy exists");
    c.iam.get_role().role_name("durable-deployer-default-cfn-exec-us-east-1").send().await.expect("the execution role");
    let roles = c.iam.list_roles().path_prefix("/durable-deployer/default/us-east-1/").send().await.unwrap();
    let names: Vec<&str> = roles.roles().iter().map(aws_sdk_iam::types::Role::role_name).collect();
    assert_eq!(names.len(), 2, "the app's two roles, under the bootstrap's path: {names:?}");
    for name in names {
        let role = c.iam.get_role().role_name(name).send().await.unwrap();
        let attached = role.role().unwrap().permissions_boundary().and_then(|b| b.permissions_boundary_arn());
        assert_eq!(attached, Some(boundary), "{name}");
    }
    assert!(
        first.stderr.contains("permissions not checked before building: IAM's policy simulator did not answer"),
        "{}",
        first.all()
    );
    // `doctor` reports each check on one line, in seconds, changing nothing.
    let doctor = deployer(work.path(), &["doctor"], &env);
    assert!(doctor.ok, "{}", doctor.all());
    for line in [
        "ok   region      us-east-1",
        "ok   credentials arn:aws:iam::123456789012:user/deployer",
        "ok   bootstrap   DurableDeployerToolkit version 2",
        &format!("ok   bucket      s3://{bucket} is reachable"),
        "warn permissions not checked: IAM's policy simulator did not answer",
    ] {
        assert!(doctor.stdout.contains(line), "{line}: {}", doctor.all());
    }
    assert_eq!(state(&c).await, (stacks1.clone(), keys1.clone()), "doctor changed something");

    // The Lambda binaries start on Amazon Linux 2023: aarch64, glibc at most 2.34.
    for function in ["processor", "orchestrator"] {
        let bytes = std::fs::read(target.join("lambda").join(function).join("bootstrap")).unwrap();
        let info = deployer::inspect_elf(&bytes).unwrap();
        assert_eq!(info.architecture, Some(constructs::Architecture::Arm64), "{function}");
        assert!(info.max_glibc.is_none_or(|v| v <= (2, 34)), "{function} needs {:?}", info.max_glibc);
    }

    // Second up: nothing uploaded, no change set executed, nothing updated.
    let change_sets_before = change_sets(&c, app_stack).await.len();
    let second = up(work.path(), &env);
    assert!(second.ok, "second up failed:\n{}", second.all());
    assert!(second.stderr.contains("durable-invoke-lambda: no changes"), "{}", second.all());
    assert!(!second.stderr.contains("uploaded s3://"), "{}", second.all());
    assert_eq!(state(&c).await, (stacks1.clone(), keys1.clone()));
    assert_eq!(change_sets_before, change_sets(&c, app_stack).await.len());

    // `diff` with nothing changed says so for each stack, and asks CloudFormation for no change set.
    let same = deployer(work.path(), &["diff"], &env);
    assert!(same.ok, "{}", same.all());
    assert!(same.stdout.contains("Stack durable-invoke-lambda: no differences"), "{}", same.all());
    assert!(same.stdout.contains("Stack DurableDeployerToolkit: no differences"), "{}", same.all());
    assert!(!same.stdout.contains("change set"), "{}", same.all());

    // A change to the processor's code: `diff` names it (the processor's code moves to a new asset key) and shows
    // CloudFormation's change set, which it deletes; nothing is built, uploaded or deployed by it.
    edit_processor(work.path());
    let template_before = deployed_template(&c, app_stack).await;
    let changed = deployer(work.path(), &["diff"], &env);
    assert!(changed.ok, "{}", changed.all());
    assert!(changed.stdout.contains("Stack DurableDeployerToolkit: no differences"), "{}", changed.all());
    assert!(!changed.stdout.contains("Stack durable-invoke-lambda: no differences"), "{}", changed.all());
    // The processor's code moves; the orchestrator's does not (it is only told the processor's new version).
    assert!(changed.stdout.contains("[~] AWS::Lambda::Function Processor (Properties.Code)"), "{}", changed.all());
    assert!(!changed.stdout.contains("Orchestrator (Properties.Code"), "{}", changed.all());
    assert!(changed.stdout.contains("CloudFormation's change set for durable-invoke-lambda"), "{}", changed.all());
    assert!(change_sets(&c, app_stack).await.len() <= change_sets_before, "diff left its change set behind");
    assert_eq!(state(&c).await, (stacks1.clone(), keys1.clone()), "diff changed something");
    assert_eq!(deployed_template(&c, app_stack).await, template_before);

    // The edit deployed: exactly one new asset, and the app stack is updated.
    let started = std::time::Instant::now();
    let third = up(work.path(), &env);
    eprintln!("figure: `up` after a one-line processor edit took {:?} (build included)", started.elapsed());
    assert!(third.ok, "third up failed:\n{}", third.all());
    let (stacks3, keys3) = state(&c).await;
    let new_keys: Vec<&String> = keys3.iter().filter(|k| !keys1.contains(k)).collect();
    assert_eq!(new_keys.len(), 1, "one new asset: {keys3:?}");
    assert_eq!(third.stderr.matches("uploaded s3://").count(), 1, "{}", third.all());
    let app = stacks3.iter().find(|(n, _, _)| n == app_stack).cloned().unwrap();
    assert_eq!(app.1, "UPDATE_COMPLETE");
    // moto keeps no LastUpdatedTime: the deployed template itself shows the update.
    assert!(deployed_template(&c, app_stack).await.contains(new_keys[0].as_str()), "the app stack uses the new asset");
    assert!(third.stderr.contains("change set"), "{}", third.all());

    // Ctrl-C at each safe point of `up`, reached on purpose (the `test-hooks` pause): the one message of that
    // point, exit 130, and the state it promises.
    // Before any stack is touched: after the build, before the app stack, during an upload.
    let stopped_before_any_stack = [
        ("after-build", "stopped after building; no stack was changed"),
        (
            "before-stack:durable-invoke-lambda",
            "stopped before deploying durable-invoke-lambda; the stacks before it are deployed",
        ),
    ];
    for (point, message) in stopped_before_any_stack {
        let stopped = up_interrupted_at(work.path(), &env, &[], point);
        stopped.assert_stopped_saying(message);
        assert_eq!(state(&c).await, (stacks3.clone(), keys3.clone()), "Ctrl-C at {point} changed something");
    }
    edit_processor_again(work.path());
    let template3 = deployed_template(&c, app_stack).await;
    let stopped = up_interrupted_at(work.path(), &env, &[], "upload");
    stopped.assert_stopped_saying("stopped while uploading assets; no stack was changed");
    assert_eq!(state(&c).await, (stacks3.clone(), keys3.clone()), "nothing uploaded, no stack changed");
    assert_eq!(deployed_template(&c, app_stack).await, template3);
    // During the upload itself: S3's requests go through a proxy that holds the zip's PUT after its first bytes,
    // so the Ctrl-C arrives with the object's body on its way. S3 keeps no part of an object whose body did not
    // all arrive; neither may moto, and no stack changes.
    let stopped = up_interrupted_mid_upload(work.path(), &env, &moto);
    stopped.assert_stopped_saying("stopped while uploading assets; no stack was changed");
    assert_eq!(state(&c).await, (stacks3.clone(), keys3.clone()), "no object from a cut upload, no stack changed");
    assert_eq!(deployed_template(&c, app_stack).await, template3);

    // With a change set created but not executed: it is deleted, the stack is as it was (the asset is uploaded).
    let change_sets_before = change_sets(&c, app_stack).await;
    let stopped = up_interrupted_at(work.path(), &env, &[], "change-set-created:durable-invoke-lambda");
    stopped.assert_stopped_saying(
        "stopped before changing durable-invoke-lambda: its change set was not executed and has been deleted, so \
         the stack is as it was",
    );
    // (moto keeps the executed change sets of earlier updates; CloudFormation would not list them.)
    assert_eq!(change_sets(&c, app_stack).await, change_sets_before, "the new change set is gone");
    assert!(!change_sets_before.iter().any(|s| s == "AVAILABLE"), "{change_sets_before:?}");
    assert_eq!(deployed_template(&c, app_stack).await, template3, "the stack is as it was");
    let (stacks_now, keys_now) = state(&c).await;
    assert_eq!(stacks_now, stacks3);
    let newest: Vec<String> = keys_now.iter().filter(|k| !keys3.contains(k)).cloned().collect();
    assert_eq!(newest.len(), 1, "the edited processor's asset was uploaded: {keys_now:?}");

    // With the change set executing: CloudFormation carries on, and the stack ends updated.
    let stopped = up_interrupted_at(work.path(), &env, &[], "change-set-executed:durable-invoke-lambda");
    stopped.assert_stopped_saying(
        "stopped watching durable-invoke-lambda: CloudFormation carries on executing change set",
    );
    let executing = stopped.stderr.split("executing change set ").nth(1).unwrap().split(',').next().unwrap().to_owned();
    let described = c.cfn.describe_change_set().stack_name(app_stack).change_set_name(&executing).send().await.unwrap();
    assert_eq!(
        described.execution_status().map(aws_sdk_cloudformation::types::ExecutionStatus::as_str),
        Some("EXECUTE_COMPLETE"),
        "{described:?}"
    );
    assert!(deployed_template(&c, app_stack).await.contains(newest[0].as_str()), "CloudFormation carried on");
    // The next `up` finds nothing left to do.
    let resumed = up(work.path(), &env);
    assert!(resumed.ok, "up after Ctrl-C failed:\n{}", resumed.all());
    assert!(resumed.stderr.contains("durable-invoke-lambda: no changes"), "{}", resumed.all());

    // A first deployment stopped with its change set created: the change set and the empty stack it made go.
    let stopped =
        up_interrupted_at(work.path(), &env, &["--stack-name", "first-stopped"], "change-set-created:first-stopped");
    stopped.assert_stopped_saying(
        "stopped before changing first-stopped: its change set was not executed and has been deleted",
    );
    assert!(!state(&c).await.0.iter().any(|(n, _, _)| n == "first-stopped"), "{:?}", state(&c).await.0);

    // A second Ctrl-C while the first one's clean-up runs (held by the hook): the run exits at once, 130, saying
    // so; what was in flight stays, here the change set of a first deployment (and its empty stack).
    let twice = up_interrupted_twice_at(work.path(), &env, "change-set-created:stopped-twice");
    assert_eq!(twice.code, Some(130), "{}", twice.stderr);
    assert!(
        twice.stderr.contains("second Ctrl-C: exiting now; run `deployer up` again to continue from the stack's state"),
        "{}",
        twice.stderr
    );
    assert!(!twice.stderr.contains("has been deleted"), "the first Ctrl-C's clean-up ran: {}", twice.stderr);
    let left = change_sets(&c, "stopped-twice").await;
    assert_eq!(left, ["AVAILABLE"], "the change set in flight stays");
    // The next `up` finds the empty stack with only its own unexecuted change set: it deletes the stack, creates it
    // again and completes. Then the stack is removed so the rest of the test starts from the app stack alone.
    let resumed = deployer(work.path(), &["up", "--stack-name", "stopped-twice", "--require-approval", "never"], &env);
    assert!(resumed.ok, "{}", resumed.all());
    assert!(resumed.stderr.contains("deleting the empty stack so it can be created again"), "{}", resumed.all());
    let described = c.cfn.describe_stacks().stack_name("stopped-twice").send().await.unwrap();
    let status = described.stacks()[0].stack_status().map(|s| s.as_str().to_owned());
    assert_eq!(status.as_deref(), Some("CREATE_COMPLETE"), "{}", resumed.all());
    c.cfn.delete_stack().stack_name("stopped-twice").send().await.unwrap();

    // An asset object cut short (half its bytes, as a broken upload by another tool would leave it): the next `up`
    // uploads it again, whole, though the stack itself has nothing to change.
    let bucket = bucket.as_str();
    let key = newest[0].clone();
    let whole = c.s3.get_object().bucket(bucket).key(&key).send().await.unwrap().body.collect().await.unwrap();
    let whole = whole.into_bytes();
    let half = whole.slice(..whole.len() / 2);
    c.s3.put_object().bucket(bucket).key(&key).body(half.into()).send().await.unwrap();
    let repaired = up(work.path(), &env);
    assert!(repaired.ok, "{}", repaired.all());
    assert_eq!(repaired.stderr.matches("uploaded s3://").count(), 1, "{}", repaired.all());
    let now = c.s3.get_object().bucket(bucket).key(&key).send().await.unwrap().body.collect().await.unwrap();
    assert_eq!(now.into_bytes(), whole, "the asset is whole again");

    // `up --hotswap`: a code-only change goes through the Lambda API, not CloudFormation. (moto answers
    // ListVersionsByFunction on these functions with a 500: the versions are read from what the hotswap says it
    // published.)
    let lambda = lambda_client(&moto);
    let function_of = |id: &str| {
        let c = &c;
        let id = id.to_owned();
        async move {
            // (moto answers DescribeStackResource on this stack with a 500; listing works.)
            let listed = c.cfn.list_stack_resources().stack_name(app_stack).send().await.unwrap();
            let resource = listed.stack_resource_summaries().iter().find(|r| r.logical_resource_id() == Some(&id));
            resource.and_then(|r| r.physical_resource_id()).unwrap().to_owned()
        }
    };
    let (processor, orchestrator) = (function_of("Processor").await, function_of("Orchestrator").await);
    let alias = lambda.get_alias().function_name(&orchestrator).name("live").send().await.unwrap();
    let live_version = alias.function_version().unwrap_or_default();
    assert!(
        live_version.parse::<u32>().is_ok_and(|v| v >= 2),
        "the stack's alias names the version of the last edit: {live_version}"
    );
    let configuration = |name: String, qualifier: Option<String>| {
        let lambda = &lambda;
        async move {
            let got =
                lambda.get_function_configuration().function_name(name).set_qualifier(qualifier).send().await.unwrap();
            (got.code_sha256().unwrap_or_default().to_owned(), got.environment().and_then(|e| e.variables()).cloned())
        }
    };
    let (processor_code, _) = configuration(processor.clone(), None).await;
    replace_in_processor(work.path(), "No values given", "No values at all");
    let template_before = deployed_template(&c, app_stack).await;
    let change_sets_before = change_sets(&c, app_stack).await.len();
    let started = std::time::Instant::now();
    let swapped = deployer(work.path(), &["up", "--hotswap", "--require-approval", "never"], &env);
    assert!(swapped.ok, "{}", swapped.all());
    let line = swapped.stderr.lines().find(|l| l.contains("hotswapped")).unwrap_or_default().to_owned();
    eprintln!(
        "figure: `up --hotswap` after a one-line processor edit took {:?} (build included): {line}",
        started.elapsed()
    );
    assert!(swapped.stderr.contains("hotswapped durable-invoke-lambda in"), "{}", swapped.all());
    assert!(swapped.stderr.contains("has drifted from its template"), "{}", swapped.all());
    assert!(swapped.stderr.contains("moved OrchestratorLiveAlias"), "{}", swapped.all());
    assert_eq!(deployed_template(&c, app_stack).await, template_before, "CloudFormation's template changed");
    assert_eq!(change_sets(&c, app_stack).await.len(), change_sets_before, "a change set was made");
    // The processor runs the new code as a new version; the orchestrator names that version and is republished;
    // the alias follows it.
    let published = |function: &str, what: &str| {
        let line = format!("{function} {what} → version ");
        let rest = swapped.stderr.split(&line).nth(1).unwrap_or_else(|| panic!("no `{line}`: {}", swapped.all()));
        rest.chars().take_while(char::is_ascii_digit).collect::<String>()
    };
    let (processor_version, orchestrator_version) =
        (published(&processor, "code"), published(&orchestrator, "environment"));
    let (processor_now, _) = configuration(processor.clone(), Some(processor_version.clone())).await;
    assert_ne!(processor_now, processor_code, "the processor's new version runs the old code");
    let (_, orchestrator_env) = configuration(orchestrator.clone(), Some(orchestrator_version.clone())).await;
    let processor_named =
        orchestrator_env.unwrap_or_default().get("PROCESSOR_FUNCTION_NAME").cloned().unwrap_or_default();
    assert!(processor_named.ends_with(&format!(":{processor_version}")), "the orchestrator names {processor_named}");
    let alias = lambda.get_alias().function_name(&orchestrator).name("live").send().await.unwrap();
    assert_eq!(alias.function_version(), Some(orchestrator_version.as_str()));

    // Anything beyond code deploys through CloudFormation, saying why: here a log retention from an environment
    // that keeps the stack's name.
    let config = work.path().join("deployer.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("\n[environments.dev]\nstack-prefix = \"\"\nvalues = { log-retention-days = 7 }\n");
    std::fs::write(&config, toml).unwrap();
    let full = deployer(work.path(), &["up", "--hotswap", "--env", "dev", "--require-approval", "never"], &env);
    assert!(full.ok, "{}", full.all());
    assert!(
        full.stderr.contains("durable-invoke-lambda cannot be hotswapped (")
            && full.stderr.contains("changes beyond its code): deploying it through CloudFormation"),
        "{}",
        full.all()
    );
    assert!(deployed_template(&c, app_stack).await.contains("\"RetentionInDays\": 7"), "not deployed fully");
    // A protected environment refuses it before anything is built.
    let refused = deployer(work.path(), &["up", "--hotswap", "--env", "production"], &env);
    assert_eq!(refused.code, Some(1), "{}", refused.all());
    assert!(refused.stderr.contains("environment production is protected"), "{}", refused.all());
    let refused = deployer(work.path(), &["up", "--watch", "--env", "production"], &env);
    assert_eq!(refused.code, Some(1), "{}", refused.all());
    assert!(refused.stderr.contains("environment production is protected"), "{}", refused.all());

    // `up --watch` on AWS: the first `up` deploys, then each saved change is hotswapped; Ctrl-C ends it with 0.
    let mut watching =
        crate::support::deployer_command(work.path(), &["up", "--watch", "--require-approval", "never"], &env)
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
    let lines = {
        let stderr = watching.stderr.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        lines
    };
    let mut said = String::new();
    let mut until = |needle: &str| {
        let deadline = std::time::Instant::now() + Duration::from_mins(5);
        while !said.lines().any(|l| l.contains(needle)) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line =
                lines.recv_timeout(left).unwrap_or_else(|e| panic!("no `{needle}` from `up --watch` ({e}):\n{said}"));
            said.push_str(&line);
            said.push('\n');
        }
    };
    until("watching");
    replace_in_processor(work.path(), "No values at all", "No values, none");
    until("deployed to AWS in");
    assert!(said.contains("hotswapped durable-invoke-lambda in"), "{said}");
    let pid = rustix::process::Pid::from_raw(i32::try_from(watching.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let status = watching.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{said}");

    // Non-interactive without approval: a new IAM grant is refused with the reason, nothing deployed.
    // With --json and debug logs on, too: every stdout line is JSON, and the secret key appears nowhere.
    let refused = deployer(work.path(), &["up", "--stack-name", "second-app", "--json", "-vv"], &env);
    assert!(!refused.ok);
    for line in refused.stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(event["code"].as_str().unwrap().starts_with("DEPLOYER_"), "{line}");
    }
    assert!(!refused.all().contains(&moto.key.1), "the secret key was printed");
    assert!(refused.stderr.contains("needs approval"), "{}", refused.all());
    assert!(refused.stderr.contains("--require-approval never"), "{}", refused.all());

    // On a terminal (a pty, through util-linux's `script`), the same new grants are asked about: `n` deploys
    // nothing, `y` deploys.
    let refused = up_on_a_terminal(work.path(), &env, "tty-app", "n");
    assert_eq!(refused.0, Some(1), "{}", refused.1);
    assert!(refused.1.contains("tty-app widens IAM access in"), "{}", refused.1);
    assert!(refused.1.contains("Deploy these changes to tty-app? [y/N]"), "{}", refused.1);
    assert!(refused.1.contains("it was not approved"), "{}", refused.1);
    assert!(!state(&c).await.0.iter().any(|(n, _, _)| n == "tty-app"), "{:?}", state(&c).await.0);
    let approved = up_on_a_terminal(work.path(), &env, "tty-app", "y");
    assert_eq!(approved.0, Some(0), "{}", approved.1);
    assert!(approved.1.contains("Deploy these changes to tty-app? [y/N]"), "{}", approved.1);
    let status = state(&c).await.0.into_iter().find(|(n, _, _)| n == "tty-app").map(|s| s.1);
    assert_eq!(status.as_deref(), Some("CREATE_COMPLETE"), "{}", approved.1);
    let gone = deployer(work.path(), &["down", "--stack-name", "tty-app"], &env);
    assert!(gone.ok, "{}", gone.all());

    // The asset bucket deleted behind CloudFormation's back: a non-zero exit that names the cause and the remedy.
    for key in &state(&c).await.1 {
        c.s3.delete_object().bucket(bucket).key(key).send().await.unwrap();
    }
    c.s3.delete_bucket().bucket(bucket).send().await.unwrap();
    let broken = up(work.path(), &env);
    assert!(!broken.ok, "up must fail without its bucket:\n{}", broken.all());
    assert!(broken.stderr.contains(&format!("the asset bucket {bucket} does not exist")), "{}", broken.all());
    assert!(broken.stderr.contains("down --all"), "{}", broken.all());

    // down removes the app stack; a second down succeeds with nothing to delete.
    let down = deployer(work.path(), &["down"], &env);
    assert!(down.ok, "down failed:\n{}", down.all());
    let (stacks4, _) = state(&c).await;
    assert!(!stacks4.iter().any(|(n, _, _)| n == app_stack), "{stacks4:?}");
    let again = deployer(work.path(), &["down"], &env);
    assert!(again.ok, "second down failed:\n{}", again.all());
    assert!(again.stderr.contains("nothing to delete"), "{}", again.all());

    // down --all empties the asset bucket, here re-created versioned and holding old versions and a delete marker
    // (as the real bucket does after assets are replaced or removed), then deletes the bootstrap stack.
    c.s3.create_bucket().bucket(bucket).send().await.unwrap();
    let enabled = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    c.s3.put_bucket_versioning().bucket(bucket).versioning_configuration(enabled).send().await.unwrap();
    for body in [&b"old"[..], b"new"] {
        c.s3.put_object().bucket(bucket).key("leftover.zip").body(body.to_vec().into()).send().await.unwrap();
    }
    c.s3.put_object().bucket(bucket).key("removed.zip").body(b"x".to_vec().into()).send().await.unwrap();
    c.s3.delete_object().bucket(bucket).key("removed.zip").send().await.unwrap();
    let listed = c.s3.list_object_versions().bucket(bucket).send().await.unwrap();
    assert_eq!((listed.versions().len(), listed.delete_markers().len()), (3, 1), "{listed:?}");
    let all = deployer(work.path(), &["down", "--all"], &env);
    assert!(all.ok, "down --all failed:\n{}", all.all());
    assert!(all.stderr.contains(&format!("emptied s3://{bucket} (4 object version(s))")), "{}", all.all());
    let (stacks5, keys5) = state(&c).await;
    assert!(stacks5.is_empty(), "{stacks5:?}");
    assert!(keys5.is_empty(), "{keys5:?}");
    assert!(c.s3.head_bucket().bucket(bucket).send().await.is_err(), "the asset bucket was deleted");
}

/// Runs `up --stack-name <stack>` on a pseudo-terminal (`script -q -e`, outside CI, so it may ask) and answers
/// `answer`: its exit code and everything it wrote to the terminal.
fn up_on_a_terminal(dir: &Path, env: &[(&str, String)], stack: &str, answer: &str) -> (Option<i32>, String) {
    use std::io::Write as _;
    let command = format!("'{}' up --stack-name {stack}", crate::support::deployer_binary().display());
    let mut script = Command::new("script");
    script.args(["-q", "-e", "-c", &command, "/dev/null"]).current_dir(dir).env_remove("CI").env("TERM", "xterm");
    for (key, value) in env {
        script.env(key, value);
    }
    let mut child = script
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Typed ahead: the terminal keeps the line until the prompt reads it.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What CloudFormation reports as `stack`'s outputs.
async fn stack_outputs(c: &Clients, stack: &str) -> serde_json::Value {
    let described = c.cfn.describe_stacks().stack_name(stack).send().await.unwrap();
    let outputs = described.stacks()[0].outputs();
    outputs
        .iter()
        .map(|o| (o.output_key().unwrap().to_owned(), serde_json::Value::from(o.output_value().unwrap())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The template `stack` runs, as CloudFormation returns it.
async fn deployed_template(c: &Clients, stack: &str) -> String {
    let deployed = c.cfn.get_template().stack_name(stack).send().await.unwrap();
    deployed.template_body().unwrap().to_owned()
}

/// The execution status of each change set of `stack` (none for a stack that does not exist).
async fn change_sets(c: &Clients, stack: &str) -> Vec<String> {
    let Ok(listed) = c.cfn.list_change_sets().stack_name(stack).send().await else {
        return vec![];
    };
    // moto lists every stack's change sets, whatever stack is asked for.
    listed
        .summaries()
        .iter()
        .filter(|s| s.stack_name() == Some(stack))
        .map(|s| s.execution_status().map(|e| e.as_str().to_owned()).unwrap_or_default())
        .collect()
}

struct Interrupted {
    code: Option<i32>,
    stderr: String,
}

impl Interrupted {
    /// Exit 130 with the message of the point where the run stopped (and no other point's).
    fn assert_stopped_saying(&self, message: &str) {
        assert_eq!(self.code, Some(130), "exit {:?}:\n{}", self.code, self.stderr);
        assert!(self.stderr.contains(message), "expected {message:?} in:\n{}", self.stderr);
        let stops = self.stderr.lines().filter(|l| l.contains("interrupted: ")).count();
        assert_eq!(stops, 1, "one stop reported:\n{}", self.stderr);
    }
}

/// A TCP proxy to moto for S3 that passes everything through, except a `PUT` of a `.zip` object: after its first
/// 64 KiB the proxy stops forwarding and stops reading it, so the upload is in flight, its sender blocked, until
/// the proxy is released. Then the client's side is drained and moto's connection closed: moto sees the body end
/// early, as S3 does when a client goes away.
struct HoldingProxy {
    url: String,
    held: std::sync::mpsc::Receiver<()>,
    released: Arc<AtomicBool>,
}

impl HoldingProxy {
    fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (held_tx, held) = std::sync::mpsc::channel();
        let released = Arc::new(AtomicBool::new(false));
        let release = released.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
                let (held_tx, release) = (held_tx.clone(), release.clone());
                std::thread::spawn(move || pass_or_hold(client, upstream, &held_tx, &release));
            }
        });
        Self { url, held, released }
    }

    fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
    }
}

impl Drop for HoldingProxy {
    fn drop(&mut self) {
        self.release();
    }
}

/// Where a `PUT` request line for a `.zip` object starts in `bytes`.
fn zip_put_at(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len().saturating_sub(5)).find(|&start| {
        bytes[start..].starts_with(b"PUT /") && {
            let rest = &bytes[start..bytes.len().min(start + 4096)];
            rest.windows(2).position(|w| w == b"\r\n").is_some_and(|end| {
                let line = &rest[..end];
                line.ends_with(b" HTTP/1.1") && line.windows(4).any(|w| w == b".zip")
            })
        }
    })
}

fn pass_or_hold(
    mut client: TcpStream,
    mut upstream: TcpStream,
    held: &std::sync::mpsc::Sender<()>,
    release: &AtomicBool,
) {
    const PASSED: usize = 64 << 10;
    let (mut from_upstream, mut to_client) = (upstream.try_clone().unwrap(), client.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_upstream, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    // Bytes of this connection read so far, and the last few KiB of them, where a request line is looked for.
    let (mut read, mut recent, mut limit) = (0usize, Vec::<u8>::new(), None::<usize>);
    let mut buf = vec![0u8; 16 << 10];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if limit.is_none() {
            recent.extend_from_slice(&buf[..n]);
            let recent_start = read + n - recent.len();
            if let Some(at) = zip_put_at(&recent) {
                limit = Some(recent_start + at + PASSED);
            } else if recent.len() > 8192 {
                recent.drain(..recent.len() - 8192);
            }
        }
        let pass = limit.map_or(n, |limit| limit.saturating_sub(read).min(n));
        if upstream.write_all(&buf[..pass]).is_err() {
            break;
        }
        read += n;
        if pass < n {
            let _ = held.send(());
            while !release.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = std::io::copy(&mut client, &mut std::io::sink());
            break;
        }
    }
    let _ = upstream.shutdown(Shutdown::Both);
}

/// Runs `up` with S3 behind a [`HoldingProxy`], and sends it SIGINT once the proxy holds an asset's upload.
fn up_interrupted_mid_upload(dir: &Path, env: &[(&str, String)], moto: &Moto) -> Interrupted {
    let proxy = HoldingProxy::start(moto.port);
    let mut env = env.to_vec();
    env.push(("AWS_ENDPOINT_URL_S3", proxy.url.clone()));
    let mut child = crate::support::deployer_command(dir, &["up", "--require-approval", "never"], &env)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let mut guard = Guard(child);
    let held = proxy.held.recv_timeout(Duration::from_mins(5));
    if held.is_err() {
        let _ = guard.0.kill();
        panic!("up never uploaded an asset through the proxy:\n{}", reader.join().unwrap());
    }
    let pid = rustix::process::Pid::from_raw(i32::try_from(guard.0.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let stopped = std::time::Instant::now();
    let status = loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            break status;
        }
        if stopped.elapsed() > Duration::from_mins(1) {
            let _ = guard.0.kill();
            proxy.release();
            panic!("up did not stop within a minute of Ctrl-C during an upload:\n{}", reader.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    proxy.release();
    let stderr = reader.join().unwrap();
    // The proxy lets moto's side of the cut upload go; give moto a moment to finish with it.
    std::thread::sleep(Duration::from_millis(500));
    Interrupted { code: status.code(), stderr }
}

/// `up` on a machine without the Rust standard library for arm64 (here a `rustc` whose sysroot lacks it): exits 1
/// naming the `rustup` command that adds it, before anything is built, uploaded or deployed.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_arm64_rust_target_names_the_rustup_command() {
    let moto = start_moto();
    let c = clients(&moto);
    let work = tempfile::tempdir().unwrap();
    copy_workspace(work.path());
    // An empty target folder: nothing is packaged, so `up` has functions to build.
    let target = tempfile::tempdir().unwrap();
    let sysroot = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(sysroot.path().join("lib/rustlib/x86_64-unknown-linux-gnu/lib")).unwrap();
    // `rustc` gives a sysroot without arm64 when asked for it alone (the deployer's check of the Lambda target);
    // everything else, the app's own build for this machine included, goes to the real one.
    let bin = tempfile::tempdir().unwrap();
    let rustc = bin.path().join("rustc");
    let script = format!(
        r#"#!/bin/sh
case "$1 $2" in
  "--print sysroot") echo '{sysroot}' ;;
  *) exec '{real}' "$@" ;;
esac
"#,
        sysroot = sysroot.path().display(),
        real = crate::support::which("rustc").display(),
    );
    std::fs::write(&rustc, script).unwrap();
    std::fs::set_permissions(&rustc, <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755))
        .unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_path_buf())
            .chain(std::env::var_os("DEPLOYER_TOOLS_BIN").map(std::path::PathBuf::from))
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let up: Run = crate::support::deployer_command(
        work.path(),
        &["up", "--require-approval", "never"],
        &envs(&moto, target.path()),
    )
    .env("PATH", path)
    .output()
    .unwrap()
    .into();
    assert_eq!(up.code, Some(1), "{}", up.all());
    assert!(up.stderr.contains("the Rust standard library for aarch64-unknown-linux-gnu"), "{}", up.all());
    assert!(up.stderr.contains("rustup target add aarch64-unknown-linux-gnu"), "{}", up.all());
    assert_eq!(state(&c).await, (vec![], vec![]), "nothing uploaded or deployed");
}

/// Runs `up` paused (by the `test-hooks` pause) at `point`, and sends it SIGINT there.
fn up_interrupted_at(dir: &Path, env: &[(&str, String)], args: &[&str], point: &str) -> Interrupted {
    run_interrupted(dir, env, args, point, false)
}

/// Runs `up` paused at `point`, held there after the first SIGINT, and sends it a second one.
fn up_interrupted_twice_at(dir: &Path, env: &[(&str, String)], point: &str) -> Interrupted {
    let stack = point.split(':').nth(1).unwrap();
    run_interrupted(dir, env, &["--stack-name", stack], point, true)
}

fn run_interrupted(dir: &Path, env: &[(&str, String)], args: &[&str], point: &str, twice: bool) -> Interrupted {
    use std::io::BufRead as _;
    let mut env = env.to_vec();
    env.push(("DEPLOYER_TEST_PAUSE_AT", point.to_owned()));
    if twice {
        env.push(("DEPLOYER_TEST_HOLD_AFTER_CTRL_C", "1".to_owned()));
    }
    let mut all_args = vec!["up", "--require-approval", "never"];
    all_args.extend_from_slice(args);
    let mut child = crate::support::deployer_command(dir, &all_args, &env)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    let mut stderr = String::new();
    let (mut paused, mut held) = (false, false);
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == format!("test hook: paused at {point}") {
            paused = true;
            rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
        }
        if twice && line == format!("test hook: holding at {point} after the first Ctrl-C") {
            held = true;
            rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(paused, "up never reached {point}:\n{stderr}");
    assert!(held || !twice, "up was not held at {point} after the first Ctrl-C:\n{stderr}");
    Interrupted { code: status.code(), stderr }
}

/// Changes an observable string of the processor (in the copy), so its binary and only its binary changes.
fn edit_processor(root: &Path) {
    replace_in_processor(root, "No values provided", "No values were provided");
}

/// A second, different edit of the processor.
fn edit_processor_again(root: &Path) {
    replace_in_processor(root, "No values were provided", "No values given");
}

fn replace_in_processor(root: &Path, from: &str, to: &str) {
    let src = root.join("functions/processor/src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains(from) {
            std::fs::write(&path, text.replace(from, to)).unwrap();
            return;
        }
    }
    panic!("the processor's sources no longer contain {from:?}, the text this test edits");
}

/// `status` and `logs` on AWS, against moto: before `up` the stack is reported as not deployed; after it, its
/// status and functions (each function's version, and the alias with the version it names); `logs` reads the
/// function's own log group, filters by execution and by age, and `--follow` prints a line written after it
/// started.
#[tokio::test(flavor = "multi_thread")]
async fn status_and_logs_read_the_deployed_stack_on_aws() {
    let moto = start_moto();
    let c = clients(&moto);
    let work = tempfile::tempdir().unwrap();
    copy_workspace(work.path());
    let env = envs(&moto, &crate::support::target_dir());
    let json = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = args.to_vec();
        all.push("--json");
        let run = deployer(work.path(), &all, &env);
        assert!(run.ok, "`deployer {}` failed:\n{}", args.join(" "), run.all());
        run.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    };
    let status_of = |events: &[serde_json::Value]| -> serde_json::Value {
        events.iter().find(|e| e["event"] == "stack_status").cloned().expect("no stack_status event")
    };

    let before = status_of(&json(&["status"]));
    assert_eq!((&before["stack"], &before["status"]), (&"durable-invoke-lambda".into(), &serde_json::Value::Null));
    let logs = deployer(work.path(), &["logs"], &env);
    assert!(
        !logs.ok && logs.stderr.contains("does not exist") && logs.stderr.contains("deployer up"),
        "{}",
        logs.all()
    );

    let first = up(work.path(), &env);
    assert!(first.ok, "up failed:\n{}", first.all());
    let after = status_of(&json(&["status"]));
    assert!(after["status"].as_str().unwrap().ends_with("_COMPLETE"), "{after:#}");
    let functions = after["functions"].as_array().unwrap();
    let find = |id: &str| functions.iter().find(|f| f["logical_id"] == id).unwrap_or_else(|| panic!("{after:#}"));
    let (orchestrator, processor) = (find("Orchestrator"), find("Processor"));
    assert_eq!(orchestrator["durable"], true);
    assert!(processor["name"].as_str().unwrap().contains("Processor"), "{after:#}");
    // Each function's published version, and the alias naming the orchestrator's.
    assert_eq!(processor["version"], "1", "{after:#}");
    assert_eq!(orchestrator["alias"]["name"], "live");
    assert_eq!(orchestrator["alias"]["version"], "1", "{after:#}");

    // `invoke` on the AWS path: the stack's example event to the durable function's `live` alias, and the answer
    // printed. Without Docker, moto answers an invoke with its own payload: the answer shows what was sent, and to
    // which function.
    let orchestrator_name = orchestrator["name"].as_str().unwrap().to_owned();
    let invoked = json(&["invoke"]);
    let result = invoked.iter().find(|e| e["event"] == "invoke_result").unwrap_or_else(|| panic!("{invoked:?}"));
    assert_eq!(result["function"], format!("{orchestrator_name}:live"), "{result:#}");
    assert_eq!(result["result"], serde_json::json!({"values": [10, 20, 30, 40, 50]}), "{result:#}");
    let invoked = json(&["invoke", "--payload", r#"{"values": [7]}"#]);
    let result = invoked.iter().find(|e| e["event"] == "invoke_result").unwrap_or_else(|| panic!("{invoked:?}"));
    assert_eq!(result["result"], serde_json::json!({"values": [7]}), "{result:#}");

    // Lines in the processor's own log group, as Lambda would write them.
    let resources = c.cfn.list_stack_resources().stack_name("durable-invoke-lambda").send().await.unwrap();
    let group = resources
        .stack_resource_summaries()
        .iter()
        .find(|r| r.logical_resource_id() == Some("ProcessorLogGroup"))
        .and_then(|r| r.physical_resource_id())
        .unwrap()
        .to_owned();
    let logs_client = cloudwatch_logs(&moto);
    logs_client.create_log_stream().log_group_name(&group).log_stream_name("s1").send().await.unwrap();
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:orch:1/durable-execution/run-7/0a1b2c3d4e5f";
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let now = i64::try_from(now).unwrap();
    let lines = [
        (now - 3_600_000, "an hour old".to_owned()),
        (now - 2000, "START RequestId: r1 Version: 1".to_owned()),
        (now - 1000, format!(r#"{{"level":"INFO","executionArn":"{arn}","message":"computed"}}"#)),
        (now - 500, "REPORT RequestId: r1 Duration: 1.00 ms".to_owned()),
    ];
    put_lines(&logs_client, &group, &lines).await;

    let messages = |events: &[serde_json::Value]| -> Vec<String> {
        events.iter().filter(|e| e["event"] == "log_line").map(|e| e["message"].as_str().unwrap().to_owned()).collect()
    };
    let recent = json(&["logs", "--function", "Processor"]);
    assert_eq!(messages(&recent), lines[1..].iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(), "10 minutes back");
    assert!(recent.iter().filter(|e| e["event"] == "log_line").all(|e| e["function"] == "Processor"));
    assert_eq!(messages(&json(&["logs", "--function", "Processor", "--since", "2h"])).len(), 4);
    assert_eq!(messages(&json(&["logs", "--function", "Processor", "--execution", arn])), [lines[2].1.clone()]);
    let everything = json(&["logs"]);
    assert_eq!(messages(&everything).len(), 3, "every function of the stack, the orchestrator's group empty");

    // --follow: the lines so far, then one written after it started.
    let mut follow =
        crate::support::deployer_command(work.path(), &["logs", "--function", "Processor", "--follow", "--json"], &env)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    let stdout = follow.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut follow_guard = crate::support::Guard(follow);
    let next = |what: &str| {
        rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("logs --follow printed no {what}"))
    };
    for _ in 0..3 {
        next("line already written");
    }
    put_lines(&logs_client, &group, &[(now + 100, "written later".to_owned())]).await;
    let late: serde_json::Value = serde_json::from_str(&next("line written later")).unwrap();
    assert_eq!(late["message"], "written later");
    let _ = follow_guard.0.kill();
}

fn lambda_client(moto: &Moto) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .credentials_provider(aws_sdk_lambda::config::Credentials::new("testing", "testing-secret", None, None, "test"))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

fn cloudwatch_logs(moto: &Moto) -> aws_sdk_cloudwatchlogs::Client {
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
            "testing",
            "testing-secret",
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

async fn put_lines(client: &aws_sdk_cloudwatchlogs::Client, group: &str, lines: &[(i64, String)]) {
    let events: Vec<_> = lines
        .iter()
        .map(|(at, message)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(*at).message(message).build().unwrap()
        })
        .collect();
    client
        .put_log_events()
        .log_group_name(group)
        .log_stream_name("s1")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
}

/// `up --local` of a stack that is also deployed on AWS: its functions run here, and a variable naming a resource
/// the local target does not create gets that resource's physical id on AWS instead of a placeholder; their calls to
/// it reach the endpoint the user's tools name (moto here). The order workflow runs to its end, approved with
/// `deployer callback`, and its steps' writes are in the real table.
#[tokio::test(flavor = "multi_thread")]
async fn up_local_gives_functions_the_physical_ids_of_the_stack_deployed_on_aws() {
    let moto = start_moto();
    let c = clients(&moto);
    // The order stack "on AWS": its table alone, made through moto's CloudFormation (what this test needs of it;
    // `the_order_app_deploys_against_moto` deploys the whole stack).
    let table = serde_json::json!({"Resources": {"OrderTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "AttributeDefinitions": [{"AttributeName": "orderId", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "orderId", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"}}}});
    c.cfn.create_stack().stack_name("durable-orders").template_body(table.to_string()).send().await.unwrap();
    let listed = c.cfn.list_stack_resources().stack_name("durable-orders").send().await.unwrap();
    let physical = listed.stack_resource_summaries()[0].physical_resource_id().unwrap().to_owned();

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    copy_workspace(dir);
    let _down = crate::support::Down(dir);
    let mut env = crate::support::local_envs();
    env.extend([
        ("AWS_ENDPOINT_URL", moto.url.clone()),
        ("AWS_ACCESS_KEY_ID", moto.key.0.clone()),
        ("AWS_SECRET_ACCESS_KEY", moto.key.1.clone()),
    ]);
    let up = deployer(dir, &["up", "--local", "Orders"], &env);
    assert!(up.ok, "{}", up.all());
    assert!(
        up.stderr
            .contains(&format!("Workflow.ORDERS_TABLE get(s) `{physical}`, the resource of the stack deployed on AWS")),
        "{}",
        up.all()
    );
    let scope = ["--stack", "Orders", "--function", "Workflow"];
    let invoke = ["invoke", "--local", "--async", "--name", "order-1", "--payload"];
    let order = r#"{"orderId": "o-1", "quantities": [2, 3]}"#;
    let started = deployer(dir, &[&invoke[..], &[order], &scope[..]].concat(), &env);
    assert!(started.ok, "{}", started.all());
    let seen = crate::local::function_environment(dir, "durable-orders-Workflow");
    assert_eq!(seen.get("ORDERS_TABLE"), Some(&physical));
    assert_eq!(seen.get("AWS_ENDPOINT_URL"), Some(&moto.url));

    // Reserved (the first step's write), then approved by a person through `deployer callback`, fulfilled and closed.
    let id = crate::support::open_callback_id(dir, &scope, "order-1");
    assert_eq!(order_item(&moto, &physical, "o-1")["status"]["S"], "reserved");
    crate::support::run_ok(dir, &["callback", "succeed", &id, "--result", r#"{"approved": true}"#, "--local"]);
    let history = crate::support::ended_history(dir, &scope, "order-1");
    assert_eq!(history["execution"]["status"], "SUCCEEDED", "{history:#}");
    let item = order_item(&moto, &physical, "o-1");
    assert_eq!(item["status"]["S"], "closed", "{item:#}");
    assert_eq!(item["total"]["N"], "5", "{item:#}");
    assert_eq!(item["quantities"]["L"], serde_json::json!([{"N": "2"}, {"N": "3"}]), "{item:#}");
}

/// Order `id`'s item in moto's `table`, read with the AWS CLI.
fn order_item(moto: &Moto, table: &str, id: &str) -> serde_json::Value {
    let key = serde_json::json!({"orderId": {"S": id}}).to_string();
    let out = Command::new(tool("aws"))
        .args(["dynamodb", "get-item", "--table-name", table, "--key", &key, "--output", "json"])
        .args(["--endpoint-url", &moto.url, "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    got["Item"].clone()
}

/// One app, two environments side by side in one account: each `--env` deploys the app's stacks (the pattern and
/// the order workflow) under its own prefix with its own values, beside the other, sharing the bootstrap. The
/// second environment's refusal asks for a policy document covering both environments' functions (the bootstrap's
/// default policy keeps covering the stacks deployed before), which then serves both.
#[tokio::test(flavor = "multi_thread")]
async fn two_environments_deploy_side_by_side_against_moto() {
    let moto = start_moto();
    let c = clients(&moto);
    let work = tempfile::tempdir().unwrap();
    copy_workspace(work.path());
    let config = work.path().join("deployer.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("\n[environments.dev]\nvalues = { log-retention-days = 3 }\n");
    std::fs::write(&config, toml).unwrap();
    let env = envs(&moto, &crate::support::target_dir());
    let up_env = |name: &str, policies: &[&str]| {
        let args = [&["up", "--env", name, "Pattern", "Orders", "--require-approval", "never"][..], policies].concat();
        deployer(work.path(), &args, &env)
    };
    let staging = policy_document_asked_for(&up_env("staging", &[]));
    let staging = create_policy(&c, "staging-event-source-mappings", &staging).await;
    let up = up_env("staging", &["--execution-policy", "default", "--execution-policy", &staging]);
    assert!(up.ok, "up --env staging failed:\n{}", up.all());
    let both = policy_document_asked_for(&up_env("dev", &["--execution-policy", "default"]));
    let functions = both["Statement"][0]["Condition"]["ArnLike"]["lambda:FunctionArn"].to_string();
    for stack in ["staging-durable-orders", "dev-durable-orders"] {
        assert!(functions.contains(&format!("function:{stack}-*")), "{both}");
    }
    let both = create_policy(&c, "app-event-source-mappings", &both).await;
    let up = up_env("dev", &["--execution-policy", "default", "--execution-policy", &both]);
    assert!(up.ok, "up --env dev failed:\n{}", up.all());
    let (stacks, _) = state(&c).await;
    let names: Vec<&str> = stacks.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "DurableDeployerToolkit",
            "dev-durable-invoke-lambda",
            "dev-durable-orders",
            "staging-durable-invoke-lambda",
            "staging-durable-orders"
        ]
    );
    assert!(stacks.iter().all(|(_, status, _)| status.ends_with("_COMPLETE")), "{stacks:?}");
    // The bootstrap covers both: deploying staging again after dev changes neither its stacks nor the bootstrap,
    // whose execution policies stay as chosen last.
    let again = up_env("staging", &[]);
    assert!(again.ok, "{}", again.all());
    for stack in ["DurableDeployerToolkit", "staging-durable-invoke-lambda", "staging-durable-orders"] {
        assert!(again.stderr.contains(&format!("{stack}: no changes")), "{}", again.all());
    }
    let bootstrap: serde_json::Value =
        serde_json::from_str(&deployed_template(&c, "DurableDeployerToolkit").await).unwrap();
    assert_eq!(
        bootstrap["Resources"]["ExecutionRole"]["Properties"]["ManagedPolicyArns"],
        serde_json::json!([{"Ref": "DefaultExecutionPolicy"}, {"Ref": "DefaultExecutionGuard"}, both])
    );
    for (stack, days) in [
        ("staging-durable-invoke-lambda", 7),
        ("dev-durable-invoke-lambda", 3),
        ("staging-durable-orders", 7),
        ("dev-durable-orders", 3),
    ] {
        let template: serde_json::Value = serde_json::from_str(&deployed_template(&c, stack).await).unwrap();
        let retention: Vec<&serde_json::Value> = template["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|r| r["Type"] == "AWS::Logs::LogGroup")
            .map(|r| &r["Properties"]["RetentionInDays"])
            .collect();
        assert_eq!(retention, [&serde_json::json!(days), &serde_json::json!(days)], "{stack}");
    }
}

/// The example app's order stack, deployed against moto the way a user would: the first `up` stops before anything
/// is built, naming the one policy document the default execution policy cannot hold (creating an event source
/// mapping, which IAM authorizes on `*` only); with a managed policy of that document beside the default, `up`
/// deploys the queues, the table, both functions, their versions, the alias and the mapping that hands the queue to
/// the alias; the next `up` changes nothing, and `down` deletes the stack and its mapping.
#[tokio::test(flavor = "multi_thread")]
async fn the_order_app_deploys_against_moto() {
    let moto = start_moto();
    let c = clients(&moto);
    let work = tempfile::tempdir().unwrap();
    copy_workspace(work.path());
    let env = envs(&moto, &crate::support::target_dir());
    let stack = "durable-orders";

    let refused = deployer(work.path(), &["up", "Orders", "--require-approval", "never"], &env);
    let document = policy_document_asked_for(&refused);
    assert_eq!(document["Statement"][0]["Action"], "lambda:CreateEventSourceMapping", "{document}");
    let functions = &document["Statement"][0]["Condition"]["ArnLike"]["lambda:FunctionArn"];
    assert!(functions.to_string().contains("function:durable-orders-*"), "{document}");
    let (stacks, _) = state(&c).await;
    assert!(stacks.is_empty(), "nothing is deployed before the policy exists: {stacks:?}");
    let arn = create_policy(&c, "create-event-source-mappings", &document).await;

    let policies = ["--execution-policy", "default", "--execution-policy", &arn];
    let first =
        deployer(work.path(), &[&["up", "Orders", "--require-approval", "never"][..], &policies].concat(), &env);
    assert!(first.ok, "{}", first.all());
    let (stacks, _) = state(&c).await;
    let names: Vec<&str> = stacks.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["DurableDeployerToolkit", stack]);
    assert!(stacks.iter().all(|(_, status, _)| status.ends_with("_COMPLETE")), "{stacks:?}");
    // The execution role holds both: the default policy and its guard (references to the bootstrap's own) and the
    // user's.
    let bootstrap: serde_json::Value =
        serde_json::from_str(&deployed_template(&c, "DurableDeployerToolkit").await).unwrap();
    assert_eq!(
        bootstrap["Resources"]["ExecutionRole"]["Properties"]["ManagedPolicyArns"],
        serde_json::json!([{"Ref": "DefaultExecutionPolicy"}, {"Ref": "DefaultExecutionGuard"}, arn])
    );

    let listed = c.cfn.list_stack_resources().stack_name(stack).send().await.unwrap();
    let physical = |id: &str| {
        let found = listed.stack_resource_summaries().iter().find(|r| r.logical_resource_id() == Some(id));
        found.and_then(|r| r.physical_resource_id()).unwrap_or_else(|| panic!("no {id}")).to_owned()
    };
    let mut types: Vec<&str> =
        listed.stack_resource_summaries().iter().filter_map(|r| r.resource_type()).collect::<Vec<_>>();
    types.sort_unstable();
    types.dedup();
    assert_eq!(
        types,
        [
            "AWS::DynamoDB::Table",
            "AWS::IAM::Policy",
            "AWS::IAM::Role",
            "AWS::Lambda::Alias",
            "AWS::Lambda::EventSourceMapping",
            "AWS::Lambda::Function",
            "AWS::Lambda::Version",
            "AWS::Logs::LogGroup",
            "AWS::SQS::Queue",
        ]
    );
    let workflow = physical("Workflow");
    let lambda = lambda_client(&moto);
    let alias = lambda.get_alias().function_name(&workflow).name("live").send().await.unwrap();
    assert_eq!(alias.function_version(), Some("1"));
    let mapping = lambda.get_event_source_mapping().uuid(physical("OrderQueueSource")).send().await.unwrap();
    let queue_url = physical("OrderQueue");
    let queue_name = queue_url.rsplit('/').next().unwrap();
    assert_eq!(mapping.event_source_arn(), Some(format!("arn:aws:sqs:us-east-1:123456789012:{queue_name}").as_str()));
    // (moto reports the version the alias names, where Lambda reports the alias.)
    assert!(mapping.function_arn().unwrap_or_default().contains(&format!(":function:{workflow}:")), "{mapping:?}");
    assert_eq!(mapping.batch_size(), Some(1));
    // The workflow names the fulfilment function's version and the table, as the stack's references resolve.
    let configuration = lambda.get_function_configuration().function_name(&workflow).send().await.unwrap();
    let variables = configuration.environment().and_then(|e| e.variables()).cloned().unwrap_or_default();
    assert_eq!(variables.get("ORDERS_TABLE"), Some(&physical("OrderTable")));
    // (A version's logical id carries its zip's digest.)
    let fulfil_version = listed.stack_resource_summaries().iter().find(|r| {
        r.resource_type() == Some("AWS::Lambda::Version")
            && r.logical_resource_id().is_some_and(|id| id.starts_with("FulfilVersion"))
    });
    let fulfil_version = fulfil_version.and_then(|r| r.physical_resource_id()).unwrap();
    assert!(fulfil_version.contains(&format!(":function:{}:1", physical("Fulfil"))), "{fulfil_version}");
    assert_eq!(variables.get("FULFIL_FUNCTION_NAME").map(String::as_str), Some(fulfil_version));

    let again = deployer(work.path(), &["up", "Orders", "--require-approval", "never"], &env);
    assert!(again.ok, "{}", again.all());
    for name in ["DurableDeployerToolkit", stack] {
        assert!(again.stderr.contains(&format!("{name}: no changes")), "{}", again.all());
    }

    let down = deployer(work.path(), &["down", "Orders"], &env);
    assert!(down.ok, "{}", down.all());
    let (stacks, _) = state(&c).await;
    assert_eq!(stacks.iter().map(|(n, _, _)| n.as_str()).collect::<Vec<_>>(), ["DurableDeployerToolkit"]);
    let mappings = lambda.list_event_source_mappings().send().await.unwrap();
    assert!(mappings.event_source_mappings().is_empty(), "{mappings:?}");
}

/// The policy document a refused `up` asks for, naming the caller's partition, region and account: what a user
/// pastes into `aws iam create-policy`.
fn policy_document_asked_for(refused: &Run) -> serde_json::Value {
    assert!(!refused.ok, "{}", refused.all());
    let (_, document) = refused
        .stderr
        .lines()
        .find_map(|l| l.split_once("--execution-policy <its ARN>`: "))
        .unwrap_or_else(|| panic!("no policy document in:\n{}", refused.all()));
    assert!(document.contains(":lambda:us-east-1:123456789012:function:"), "{document}");
    serde_json::from_str(document).unwrap_or_else(|e| panic!("{e}: {document}"))
}

/// A managed policy of `document` in moto's IAM, by ARN.
async fn create_policy(c: &Clients, name: &str, document: &serde_json::Value) -> String {
    let created = c.iam.create_policy().policy_name(name).policy_document(document.to_string()).send().await.unwrap();
    created.policy().unwrap().arn().unwrap().to_owned()
}
