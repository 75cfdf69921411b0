//! `up` and `down` against moto server, a real third-party AWS emulator started on a free loopback port.
//!
//! moto's known gaps shape the assertions: stacks created through change sets report no Outputs, Alias and
//! `DurableConfig` are not modelled, and only stack-level events exist. What it does model (stacks, change sets,
//! S3 objects) is asserted exactly.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use aws_sdk_cloudformation::config::{BehaviorVersion, Credentials, Region};

use crate::support::{Guard, Run, copy_workspace, deployer, free_port, tool, wait_http};

struct Moto {
    _guard: Guard,
    url: String,
}

fn start_moto() -> Moto {
    let port = free_port();
    let child = Command::new(tool("moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
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
    Moto { _guard: guard, url }
}

fn envs(moto: &Moto, target_dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto.url.clone()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing-secret".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("CARGO_TARGET_DIR", target_dir.display().to_string()),
    ]
}

struct Clients {
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
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
    Clients { cfn: aws_sdk_cloudformation::Client::from_conf(config), s3: aws_sdk_s3::Client::from_conf(s3) }
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
    let target = crate::support::target_dir();
    let env = envs(&moto, &target);

    // First up: the bootstrap stack and the app stack, two assets.
    let first = up(work.path(), &env);
    assert!(first.ok, "first up failed:\n{}", first.all());
    let (stacks1, keys1) = state(&c).await;
    assert_eq!(stacks1.len(), 2, "{stacks1:?}");
    assert!(stacks1.iter().all(|(_, status, _)| status.ends_with("_COMPLETE")), "{stacks1:?}");
    assert!(stacks1.iter().any(|(name, _, _)| name == "DurableDeployerToolkit"));
    assert!(stacks1.iter().any(|(name, _, _)| name == "durable-invoke-lambda"));
    assert_eq!(keys1.len(), 2, "{keys1:?}");
    assert!(keys1.iter().all(|k| k.len() == 64 + 4), "content-hash keys: {keys1:?}");

    // The Lambda binaries start on Amazon Linux 2023: aarch64, glibc at most 2.34.
    for function in ["processor", "orchestrator"] {
        let bytes = std::fs::read(target.join("lambda").join(function).join("bootstrap")).unwrap();
        let info = deployer::inspect_elf(&bytes).unwrap();
        assert_eq!(info.architecture, Some(stacks::Architecture::Arm64), "{function}");
        assert!(info.max_glibc.is_none_or(|v| v <= (2, 34)), "{function} needs {:?}", info.max_glibc);
    }

    // Second up: nothing uploaded, no change set executed, nothing updated.
    let change_sets_before =
        c.cfn.list_change_sets().stack_name("durable-invoke-lambda").send().await.unwrap().summaries().len();
    let second = up(work.path(), &env);
    assert!(second.ok, "second up failed:\n{}", second.all());
    assert!(second.stderr.contains("durable-invoke-lambda: no changes"), "{}", second.all());
    assert!(!second.stderr.contains("uploaded s3://"), "{}", second.all());
    assert_eq!(state(&c).await, (stacks1.clone(), keys1.clone()));
    let change_sets_after =
        c.cfn.list_change_sets().stack_name("durable-invoke-lambda").send().await.unwrap().summaries().len();
    assert_eq!(change_sets_before, change_sets_after);

    // A change to the processor's code: exactly one new asset, and the app stack is updated.
    edit_processor(work.path());
    let third = up(work.path(), &env);
    assert!(third.ok, "third up failed:\n{}", third.all());
    let (stacks3, keys3) = state(&c).await;
    let new_keys: Vec<&String> = keys3.iter().filter(|k| !keys1.contains(k)).collect();
    assert_eq!(new_keys.len(), 1, "one new asset: {keys3:?}");
    assert_eq!(third.stderr.matches("uploaded s3://").count(), 1, "{}", third.all());
    let app = stacks3.iter().find(|(n, _, _)| n == "durable-invoke-lambda").cloned().unwrap();
    assert_eq!(app.1, "UPDATE_COMPLETE");
    // moto keeps no LastUpdatedTime: the deployed template itself shows the update.
    let deployed = c.cfn.get_template().stack_name("durable-invoke-lambda").send().await.unwrap();
    assert!(deployed.template_body().unwrap().contains(new_keys[0].as_str()), "the app stack uses the new asset");
    assert!(third.stderr.contains("change set"), "{}", third.all());

    // Ctrl-C once the app stack's deployment starts: the run stops at a safe point and says which, no change set
    // is left waiting, and the next `up` finishes the job.
    edit_processor_again(work.path());
    let interrupted = up_interrupted_at_app_deploy(work.path(), &env);
    eprintln!("Ctrl-C during up: {}", interrupted.stderr.lines().last().unwrap_or_default());
    assert!(
        interrupted.code == Some(130) || interrupted.code == Some(0),
        "exit {:?}:\n{}",
        interrupted.code,
        interrupted.stderr
    );
    if interrupted.code == Some(130) {
        let said = &interrupted.stderr;
        assert!(
            said.contains("its change set was not executed and has been deleted")
                || said.contains("CloudFormation carries on executing change set")
                || said.contains("no stack was changed")
                || said.contains("stopped before deploying"),
            "{said}"
        );
    }
    let waiting = c.cfn.list_change_sets().stack_name("durable-invoke-lambda").send().await.unwrap();
    let left: Vec<_> = waiting
        .summaries()
        .iter()
        .filter(|s| s.execution_status().is_some_and(|e| e.as_str() == "AVAILABLE"))
        .collect();
    assert!(left.is_empty(), "a change set was left waiting: {left:?}");
    let resumed = up(work.path(), &env);
    assert!(resumed.ok, "up after Ctrl-C failed:\n{}", resumed.all());
    let (stacks_resumed, keys_resumed) = state(&c).await;
    let app = stacks_resumed.iter().find(|(n, _, _)| n == "durable-invoke-lambda").cloned().unwrap();
    assert!(app.1.ends_with("_COMPLETE") && !app.1.contains("ROLLBACK"), "{app:?}");
    let newest: Vec<String> = keys_resumed.iter().filter(|k| !keys3.contains(k)).cloned().collect();
    assert_eq!(newest.len(), 1, "{keys_resumed:?}");
    let deployed = c.cfn.get_template().stack_name("durable-invoke-lambda").send().await.unwrap();
    assert!(deployed.template_body().unwrap().contains(newest[0].as_str()), "the resumed up deployed the edit");
    let keys3 = keys_resumed;

    // An asset object cut short (half its bytes, as a broken upload by another tool would leave it): the next `up`
    // uploads it again, whole, though the stack itself has nothing to change.
    let bucket = "durable-deployer-assets-123456789012-us-east-1";
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

    // Non-interactive without approval: a new IAM grant is refused with the reason, nothing deployed.
    // With --json and debug logs on, too: every stdout line is JSON, and the secret key appears nowhere.
    let refused = deployer(work.path(), &["up", "--stack-name", "second-app", "--json", "-vv"], &env);
    assert!(!refused.ok);
    for line in refused.stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(event["code"].as_str().unwrap().starts_with("DEPLOYER_"), "{line}");
    }
    assert!(!refused.all().contains("testing-secret"), "the secret key was printed");
    assert!(refused.stderr.contains("needs approval"), "{}", refused.all());
    assert!(refused.stderr.contains("--require-approval never"), "{}", refused.all());

    // The asset bucket deleted behind CloudFormation's back: a non-zero exit that names the cause and the remedy.
    for key in &keys3 {
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
    assert!(!stacks4.iter().any(|(n, _, _)| n == "durable-invoke-lambda"), "{stacks4:?}");
    let again = deployer(work.path(), &["down"], &env);
    assert!(again.ok, "second down failed:\n{}", again.all());
    assert!(again.stderr.contains("nothing to delete"), "{}", again.all());

    // down --all empties the asset bucket (here re-created with an object in it), then deletes the bootstrap stack.
    c.s3.create_bucket().bucket(bucket).send().await.unwrap();
    c.s3.put_object().bucket(bucket).key("leftover.zip").body(b"x".to_vec().into()).send().await.unwrap();
    let all = deployer(work.path(), &["down", "--all"], &env);
    assert!(all.ok, "down --all failed:\n{}", all.all());
    assert!(all.stderr.contains(&format!("emptied s3://{bucket} (1 object")), "{}", all.all());
    let (stacks5, keys5) = state(&c).await;
    assert!(stacks5.is_empty(), "{stacks5:?}");
    assert!(keys5.is_empty(), "{keys5:?}");
}

struct Interrupted {
    code: Option<i32>,
    stderr: String,
}

/// Runs `up --json` and sends it SIGINT as soon as it reports the deploy stage of the app stack.
fn up_interrupted_at_app_deploy(dir: &Path, env: &[(&str, String)]) -> Interrupted {
    use std::io::BufRead as _;
    let mut child = crate::support::deployer_command(dir, &["up", "--require-approval", "never", "--json"], env)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let collect = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    let mut signalled = false;
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let event: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if !signalled && event["stage"] == "deploy" && event["message"] == "stack durable-invoke-lambda" {
            rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
            signalled = true;
        }
    }
    let status = child.wait().unwrap();
    assert!(signalled, "up never reached the app stack's deploy stage");
    Interrupted { code: status.code(), stderr: collect.join().unwrap() }
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
/// status and functions (moto keeps no aliases, so the alias reads as missing; the versions and the alias target
/// are read as AWS answers in `target::aws_status::tests`); `logs` reads the
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
    // moto gives versions no physical id (on AWS it is the version's ARN): the version reads as unknown.
    assert!(processor.get("version").is_some(), "{after:#}");
    assert_eq!(orchestrator["alias"]["name"], "live");
    assert_eq!(orchestrator["alias"]["version"], serde_json::Value::Null, "moto creates no alias: {after:#}");

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
