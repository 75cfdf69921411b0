//! The whole seed stack on the local target: `up --local`, the real AWS CLI against the endpoint it prints, the
//! service's errors, kill -9 of the orchestrator at three points of an execution, 200 concurrent executions, a
//! redeploy that keeps executions, and `down --local` leaving nothing behind.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use deployer::local::http::{Client, encode_segment};
use serde_json::{Value, json};

use crate::support::{Run, copy_workspace, deployer, tool, workspace_root};

const SEED_PAYLOAD: &str = r#"{"values": [10, 20, 30, 40, 50]}"#;
const SEED_OUTPUT: &str = r#"{"statusCode": 200, "body": "{\"message\": \"Durable orchestration completed successfully\", \"input_values\": [10, 20, 30, 40, 50], \"processing_result\": {\"operation\": \"sum_and_average\", \"count\": 5, \"sum\": 150, \"average\": 30.0, \"max\": 50, \"min\": 10}}"}"#;

struct Local {
    dir: PathBuf,
    alias: String,
    processor: String,
    endpoint: String,
}

fn envs() -> Vec<(&'static str, String)> {
    vec![("CARGO_TARGET_DIR", crate::support::target_dir().display().to_string()), ("AWS_REGION", "us-east-1".into())]
}

fn output_value(run: &Run, key: &str) -> String {
    run.stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("`up --local` printed no {key}:\n{}", run.all()))
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn up(dir: &Path) -> (Run, Local) {
    let run = deployer(dir, &["up", "--local"], &envs());
    assert!(run.ok, "up --local failed:\n{}", run.all());
    let local = Local {
        dir: dir.to_owned(),
        alias: output_value(&run, "DurableLambdaFunctionAliasArn"),
        processor: output_value(&run, "ProcessorFunctionArn"),
        endpoint: output_value(&run, "Endpoint"),
    };
    (run, local)
}

/// Runs `aws lambda invoke`; returns (exit ok, stdout+stderr, out file contents).
fn aws_invoke(local: &Local, function: &str, payload: &str, extra: &[&str]) -> (bool, String, String) {
    let out = local.dir.join("out.json");
    let _ = std::fs::remove_file(&out);
    let output = Command::new(tool("aws"))
        .args(["lambda", "invoke", "--endpoint-url", &local.endpoint, "--function-name", function])
        .args(["--payload", payload])
        .args(extra)
        .arg(&out)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text, std::fs::read_to_string(&out).unwrap_or_default())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn status(rt: &tokio::runtime::Runtime, local: &Local) -> Value {
    rt.block_on(Client::new().get(&format!("{}/_local/status", local.endpoint), Duration::from_secs(10)))
        .unwrap()
        .json()
        .unwrap()
}

fn invocations(rt: &tokio::runtime::Runtime, local: &Local, function_arn: &str) -> u64 {
    let name = function_arn.rsplit(':').find(|part| part.contains('-')).unwrap().to_owned();
    status(rt, local)["functions"][&name]["invocations"].as_u64().unwrap()
}

fn arm(rt: &tokio::runtime::Runtime, local: &Local, fault: &Value) {
    let url = format!("{}/_local/faults", local.endpoint);
    let answer = rt.block_on(Client::new().post_json(&url, fault, Duration::from_secs(10))).unwrap();
    assert!(answer.status.is_success(), "{answer:?}");
}

fn orchestrator_name(local: &Local) -> String {
    local.alias.rsplit(':').nth(1).unwrap().to_owned()
}

/// Sends `count` Event invocations at once through the Invoke API; returns the execution ARNs.
async fn start_events(local: &Local, count: usize) -> Vec<String> {
    let client = Client::new();
    let url = format!("{}/2015-03-31/functions/{}/invocations", local.endpoint, encode_segment(&local.alias));
    let calls: Vec<_> = (0..count)
        .map(|i| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let body = bytes::Bytes::from(format!(r#"{{"values": [{i}, 1, 2]}}"#));
                let mut request = deployer::local::http::build(hyper::Method::POST, &url, body).unwrap();
                request.headers_mut().insert("x-amz-invocation-type", hyper::header::HeaderValue::from_static("Event"));
                let answer = client.send(request, Duration::from_mins(5)).await.unwrap();
                assert_eq!(answer.status, 202, "{answer:?}");
                answer.headers.get("x-amz-durable-execution-arn").unwrap().to_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut arns = Vec::new();
    for call in calls {
        arns.push(call.await.unwrap());
    }
    arns
}

async fn wait_all(local: &Local, arns: &[String], timeout: Duration) -> Vec<Value> {
    let client = Client::new();
    let started = Instant::now();
    let mut done = Vec::new();
    for arn in arns {
        let url = format!("{}/2025-12-01/durable-executions/{}", local.endpoint, encode_segment(arn));
        loop {
            let execution = client.get(&url, Duration::from_secs(30)).await.unwrap().json().unwrap();
            if execution["Status"] != "RUNNING" {
                done.push(execution);
                break;
            }
            assert!(started.elapsed() < timeout, "{arn} still RUNNING after {timeout:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    done
}

fn listening_sockets_of(group: u32) -> Vec<String> {
    let output = Command::new("ss").args(["-ltnpH"]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let pids = deployer::local::control::group_members(group);
    text.lines()
        .filter(|line| pids.iter().any(|pid| line.contains(&format!("pid={pid},"))))
        .map(|line| line.split_whitespace().nth(3).unwrap_or_default().to_owned())
        .collect()
}

fn read_daemon_json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(".deployer/local/daemon.json")).unwrap()).unwrap()
}

fn daemon_pid(dir: &Path) -> u32 {
    u32::try_from(read_daemon_json(dir)["pid"].as_u64().unwrap()).unwrap()
}

/// Stops whatever the test's local target runs when the test ends, passed or failed: SIGKILL to the daemon's
/// process group and to the engine (which outlives a crashed daemon).
struct StopOnDrop(PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let Ok(bytes) = std::fs::read(self.0.join(".deployer/local/daemon.json")) else { return };
        let Ok(info) = serde_json::from_slice::<Value>(&bytes) else { return };
        for key in ["pid", "engine_pid"] {
            if let Some(pid) = info[key].as_u64().and_then(|p| u32::try_from(p).ok()) {
                deployer::local::control::signal_group(pid, rustix::process::Signal::KILL);
                deployer::local::control::kill_pid(pid);
            }
        }
    }
}

/// Copies the workspace members `copy_workspace` does not know about (added later), so `cargo metadata` works.
fn copy_missing_members(dir: &Path) {
    fn copy(from: &Path, to: &Path) {
        if from.is_dir() {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap().map(Result::unwrap) {
                if entry.file_name() != "target" {
                    copy(&entry.path(), &to.join(entry.file_name()));
                }
            }
        } else {
            std::fs::copy(from, to).unwrap();
        }
    }
    let manifest: String = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let members = manifest.split("members = [").nth(1).unwrap().split(']').next().unwrap().to_owned();
    for member in members.split(',').map(|m| m.trim().trim_matches('"')).filter(|m| !m.is_empty()) {
        if !dir.join(member).exists() {
            copy(&workspace_root().join(member), &dir.join(member));
        }
    }
}

/// A copy of the workspace in a temporary folder that shares the workspace's engine virtualenv (installed once).
fn workspace_copy() -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    copy_missing_members(dir);
    let tools = workspace_root().join(".deployer").join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::create_dir_all(dir.join(".deployer")).unwrap();
    std::os::unix::fs::symlink(&tools, dir.join(".deployer").join("tools")).unwrap();
    temp
}

#[test]
fn the_seed_runs_locally_through_the_real_aws_cli() {
    let temp = workspace_copy();
    let dir = temp.path();
    let rt = runtime();
    let _stop = StopOnDrop(dir.to_owned());

    let (_, local) = up(dir);
    assert!(
        local.alias.starts_with("arn:aws:lambda:us-east-1:000000000000:function:") && local.alias.ends_with(":live")
    );
    assert!(local.endpoint.starts_with("http://127.0.0.1:"), "{}", local.endpoint);

    // The seed's promise, byte for byte, through the real AWS CLI.
    let (ok, meta, out) = aws_invoke(&local, &local.alias, SEED_PAYLOAD, &[]);
    assert!(ok, "{meta}");
    assert_eq!(out, SEED_OUTPUT, "{meta}");
    assert_eq!(invocations(&rt, &local, &local.processor), 1);

    // The service's own errors, and the daemon keeps serving.
    let unqualified = local.alias.trim_end_matches(":live");
    let (ok, text, _) = aws_invoke(&local, unqualified, SEED_PAYLOAD, &[]);
    assert!(
        !ok && text.contains("InvalidParameterValueException")
            && text.contains("You cannot invoke a durable function using an unqualified ARN."),
        "{text}"
    );
    let (ok, text, _) = aws_invoke(&local, "no-such-function", "{}", &[]);
    assert!(!ok && text.contains("ResourceNotFoundException") && text.contains("Function not found"), "{text}");
    let (ok, text, _) = aws_invoke(&local, &local.alias, "{not json", &[]);
    assert!(!ok && text.contains("InvalidRequestContentException"), "{text}");
    let (ok, text, out) = aws_invoke(&local, &local.processor, r#"{"values": "ten"}"#, &[]);
    assert!(ok && text.contains("Unhandled") && out.contains("errorType"), "{text}\n{out}");
    let (ok, text, out) = aws_invoke(&local, &local.alias, r#"{"values": "ten"}"#, &[]);
    assert!(ok && text.contains("Unhandled") && out.contains("errorType"), "{text}\n{out}");
    // Payloads past the limits: over 6 MB is refused by the Invoke API itself; 100 000 values fail the execution
    // with a typed error before anything reaches the processor.
    let processor_runs = invocations(&rt, &local, &local.processor);
    let huge = dir.join("huge.json");
    std::fs::write(&huge, format!(r#"{{"values": "{}"}}"#, "1".repeat(6 << 20))).unwrap();
    let (ok, text, _) = aws_invoke(&local, &local.alias, &format!("fileb://{}", huge.display()), &[]);
    assert!(!ok && text.contains("RequestTooLargeException") && text.contains("6291456"), "{text}");
    let many = dir.join("many.json");
    std::fs::write(&many, format!(r#"{{"values": [{}]}}"#, vec!["1"; 100_000].join(", "))).unwrap();
    let (ok, text, out) = aws_invoke(&local, &local.alias, &format!("fileb://{}", many.display()), &[]);
    assert!(ok && text.contains("Unhandled") && out.contains("PayloadTooLarge"), "{text}\n{out}");
    assert_eq!(invocations(&rt, &local, &local.processor), processor_runs, "invalid input reached the processor");
    let (ok, _, out) = aws_invoke(&local, &local.alias, SEED_PAYLOAD, &[]);
    assert!(ok && out == SEED_OUTPUT, "the daemon still serves after errors: {out}");

    // kill -9 of the orchestrator at three points: the execution still succeeds and the processor runs once.
    let orchestrator = orchestrator_name(&local);
    let faults = [
        json!({"function": orchestrator, "trigger": {"on": "checkpoint", "operation_type": "STEP", "action": "SUCCEED"}}),
        json!({"function": orchestrator, "trigger": {"on": "checkpoint", "operation_type": "CHAINED_INVOKE", "action": "START"}}),
        json!({"function": orchestrator, "trigger": {"on": "delivery", "operation_type": "CHAINED_INVOKE", "status": "SUCCEEDED"}}),
    ];
    for fault in &faults {
        let before = invocations(&rt, &local, &local.processor);
        arm(&rt, &local, fault);
        let (ok, meta, out) = aws_invoke(&local, &local.alias, SEED_PAYLOAD, &[]);
        assert!(ok && out == SEED_OUTPUT, "after {fault}: {meta}\n{out}");
        assert_eq!(invocations(&rt, &local, &local.processor) - before, 1, "processor ran once with {fault}");
        let fired = status(&rt, &local)["faults_fired"].as_array().unwrap().len();
        assert!(fired >= 1, "the fault fired: {fault}");
    }
    assert_eq!(status(&rt, &local)["faults_fired"].as_array().unwrap().len(), 3);

    // 200 concurrent executions started with Event invocations all succeed with their own results.
    let started = Instant::now();
    let arns = rt.block_on(start_events(&local, 200));
    let finished = rt.block_on(wait_all(&local, &arns, Duration::from_mins(10)));
    for (i, execution) in finished.iter().enumerate() {
        assert_eq!(execution["Status"], "SUCCEEDED", "{execution}");
        let result = execution["Result"].as_str().unwrap();
        assert!(result.contains(&format!(r#"\"input_values\": [{i}, 1, 2]"#)), "{result}");
    }
    eprintln!("200 concurrent executions succeeded in {:?}", started.elapsed());

    // Nothing listens beyond loopback.
    let group = daemon_pid(dir);
    let sockets = listening_sockets_of(group);
    assert!(!sockets.is_empty() && sockets.iter().all(|s| s.starts_with("127.0.0.1:")), "{sockets:?}");

    // A second `up` changes nothing and keeps the executions.
    let list_url = format!("{}/2025-12-01/functions/{}/durable-executions", local.endpoint, orchestrator);
    let count = |rt: &tokio::runtime::Runtime| {
        let list = rt.block_on(Client::new().get(&list_url, Duration::from_secs(30))).unwrap().json().unwrap();
        list["DurableExecutions"].as_array().map_or(0, Vec::len)
    };
    let before = count(&rt);
    let (again, local_again) = up(dir);
    // "no changes", unless another build in the shared target folder replaced a binary meanwhile: then the
    // changed functions are redeployed, and the executions must survive that too.
    let text = again.all();
    assert!(text.contains("no changes") || text.contains("redeploying"), "{text}");
    assert_eq!(local_again.endpoint, local.endpoint);
    assert_eq!(count(&rt), before);
    let (ok, _, out) = aws_invoke(&local_again, &local_again.alias, SEED_PAYLOAD, &[]);
    assert!(ok && out == SEED_OUTPUT, "after the second up: {out}");

    // kill -9 of the daemon itself right after `prepare_input` is checkpointed: the engine survives, the next
    // `up --local` adopts it, the engine's retry of the cut handler invocation reaches the new daemon, and the
    // execution succeeds with the processor run once.
    let old_daemon = daemon_pid(dir);
    arm(
        &rt,
        &local,
        &json!({"function": orchestrator, "kill": "daemon",
        "trigger": {"on": "checkpoint", "operation_type": "STEP", "action": "SUCCEED"}}),
    );
    let (ok, meta, _) = aws_invoke(&local, &local.alias, SEED_PAYLOAD, &["--invocation-type", "Event"]);
    assert!(ok, "{meta}");
    let arn = serde_json::from_str::<Value>(&meta).unwrap()["DurableExecutionArn"].as_str().unwrap().to_owned();
    let crashed = Instant::now();
    while deployer::local::control::is_alive(old_daemon) {
        assert!(crashed.elapsed() < Duration::from_secs(20), "the daemon fault did not fire");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (restart, local) = up(dir);
    assert!(restart.all().contains("survived"), "{}", restart.all());
    eprintln!("daemon restarted {:?} after its crash", crashed.elapsed());
    let finished = rt.block_on(wait_all(&local, std::slice::from_ref(&arn), Duration::from_mins(2)));
    assert_eq!(finished[0]["Status"], "SUCCEEDED", "{}", finished[0]);
    assert_eq!(finished[0]["Result"], SEED_OUTPUT);
    assert_eq!(invocations(&rt, &local, &local.processor), 1, "the processor ran once, in the new daemon");
    let group = daemon_pid(dir);

    // `down --local` stops every process it started and frees the port.
    let engine_pid_before_down = read_daemon_json(dir)["engine_pid"].as_u64().unwrap();
    let down = deployer(dir, &["down", "--local"], &envs());
    assert!(down.ok, "{}", down.all());
    let engine = u32::try_from(engine_pid_before_down).unwrap();
    assert!(deployer::local::control::group_members(group).is_empty(), "processes left after down");
    assert!(!deployer::local::control::is_alive(engine), "the engine is left after down");
    assert!(std::net::TcpStream::connect(local.endpoint.trim_start_matches("http://")).is_err(), "port still open");
    assert!(!dir.join(".deployer/local").exists());
}

/// A `daemon.json` left by a crash whose pids now belong to other programs, and whose port another program holds:
/// `up --local` starts afresh on another port and says so, and neither `up` nor `down` signals those programs.
#[test]
fn a_stale_pid_file_and_a_taken_port_are_survived() {
    use std::os::unix::process::CommandExt as _;
    let temp = workspace_copy();
    let dir = temp.path();
    std::fs::create_dir_all(dir.join(".deployer/local")).unwrap();
    let _stop = StopOnDrop(dir.to_owned());

    // Two unrelated programs, each leading its own process group, as a reused pid would.
    let spawn = || Command::new("sleep").arg("600").process_group(0).spawn().unwrap();
    let (mut stranger, mut other) = (spawn(), spawn());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let stale = json!({"pid": stranger.id(), "port": port, "engine_pid": other.id(), "engine_port": port});
    std::fs::write(dir.join(".deployer/local/daemon.json"), stale.to_string()).unwrap();

    let (run, local) = up(dir);
    let text = run.all();
    assert!(text.contains(&format!("port {port} of the previous run is taken by another program")), "{text}");
    assert!(!local.endpoint.ends_with(&format!(":{port}")), "{}", local.endpoint);
    let (ok, meta, out) = aws_invoke(&local, &local.alias, SEED_PAYLOAD, &[]);
    assert!(ok && out == SEED_OUTPUT, "{meta}\n{out}");

    // The state folder (payloads in logs, the engine's store) and every log in it are the user's alone.
    let mode = |path: &Path| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    };
    let state_dir = dir.join(".deployer/local");
    assert_eq!(mode(&state_dir), 0o700);
    let mut logs = vec![state_dir.join("daemon.log"), state_dir.join("engine/engine.log")];
    logs.extend(std::fs::read_dir(state_dir.join("logs")).unwrap().map(|e| e.unwrap().path()));
    assert!(logs.len() >= 4, "{logs:?}");
    for log in &logs {
        assert_eq!(mode(log), 0o600, "{}", log.display());
    }

    let down = deployer(dir, &["down", "--local"], &envs());
    assert!(down.ok, "{}", down.all());
    for process in [&mut stranger, &mut other] {
        assert!(process.try_wait().unwrap().is_none(), "an unrelated process {} was signalled", process.id());
        process.kill().unwrap();
        process.wait().unwrap();
    }
    drop(taken);
}
