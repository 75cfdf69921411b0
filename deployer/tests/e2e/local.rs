//! `up --local` through the CLI: the real AWS CLI gets the seed's output, a second `up` changes nothing, the
//! service killed with SIGKILL comes back with the next `up` and finishes what was running, `status` and `logs`
//! answer, `down --local` leaves nothing running or listening; two `up --local` at once share one service; a state
//! folder of the earlier, dex-based target is carried over.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{
    Down, Guard, Run, copy_workspace, deployer, ended_history, local_envs as envs, run_ok as run, tool,
};

const SEED_PAYLOAD: &str = r#"{"values": [10, 20, 30, 40, 50]}"#;
const SEED_OUTPUT: &str = r#"{"statusCode": 200, "body": "{\"message\": \"Durable orchestration completed successfully\", \"input_values\": [10, 20, 30, 40, 50], \"processing_result\": {\"operation\": \"sum_and_average\", \"count\": 5, \"sum\": 150, \"average\": 30.0, \"max\": 50, \"min\": 10}}"}"#;

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

fn daemon(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(".deployer/local/daemon.json")).unwrap()).unwrap()
}

fn aws_invoke(dir: &Path, endpoint: &str, function: &str, payload: &str) -> (String, Value) {
    let out = dir.join("out.json");
    let output = Command::new(tool("aws"))
        .args(["lambda", "invoke", "--endpoint-url", endpoint, "--function-name", function, "--payload", payload])
        .arg(&out)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (std::fs::read_to_string(&out).unwrap(), serde_json::from_slice(&output.stdout).unwrap())
}

fn listening(port: u64) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", u16::try_from(port).unwrap())).is_ok()
}

#[test]
fn up_local_serves_the_seed_survives_a_kill_and_down_leaves_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    // Armed before `up`: an `up` that fails half-way may have started the service.
    let _down = Down(dir);
    let up = run(dir, &["up", "--local"]);
    let alias = output_value(&up, "DurableLambdaFunctionAliasArn");
    let endpoint = output_value(&up, "Endpoint");
    let (payload, meta) = aws_invoke(dir, &endpoint, &alias, SEED_PAYLOAD);
    assert_eq!(payload, SEED_OUTPUT);
    assert!(
        meta["DurableExecutionArn"].as_str().unwrap().starts_with(&alias.replace(":live", ":1/durable-execution/"))
    );

    // A second `up` with nothing changed: no redeploy, the same service.
    let pid = daemon(dir)["pid"].as_u64().unwrap();
    let again = run(dir, &["up", "--local"]);
    assert!(again.stderr.contains("durable-invoke-lambda: no changes"), "{}", again.all());
    assert!(
        !again.all().contains("redeployed") && !again.all().contains("started the local service"),
        "{}",
        again.all()
    );
    assert_eq!(daemon(dir)["pid"].as_u64().unwrap(), pid);

    // status and logs answer from the local target.
    let status = run(dir, &["status", "--local"]);
    assert!(status.stdout.contains("durable-invoke-lambda-Processor: 1 invocation(s)"), "{}", status.all());
    let logs = run(dir, &["logs", "--local", "--function", "Processor"]);
    assert!(logs.stdout.contains("START RequestId:") && logs.stdout.contains("REPORT RequestId:"), "{}", logs.all());

    // Killed with SIGKILL: the next `up` starts the service again on the same port, and it serves.
    let port = daemon(dir)["port"].as_u64().unwrap();
    // The pid comes from the state folder: signalled only when it is ours, as the product checks.
    let root = dir.join(".deployer/local");
    let pid_u32 = u32::try_from(pid).unwrap();
    assert!(
        local::supervisor::process::signal_if_ours(pid_u32, &root, rustix::process::Signal::KILL),
        "daemon.json's pid {pid} is not the local target's service"
    );
    while local::supervisor::process::is_alive(u32::try_from(pid).unwrap()) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let back = run(dir, &["up", "--local"]);
    assert!(back.stderr.contains("started the local service"), "{}", back.all());
    assert_eq!(daemon(dir)["port"].as_u64().unwrap(), port, "the endpoint moved");
    assert_eq!(aws_invoke(dir, &endpoint, &alias, SEED_PAYLOAD).0, SEED_OUTPUT);

    run(dir, &["down", "--local"]);
    assert!(!listening(port), "port {port} still listening after down --local");
    assert!(!root.exists(), "down --local left {}", root.display());
    let ours: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|p| local::supervisor::process::is_ours(*p, &root))
        .collect();
    assert!(ours.is_empty(), "processes left after down --local: {ours:?}");
}

/// Whether process `pid` has `file` open.
fn has_open(pid: u32, file: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.filter_map(Result::ok).any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == file))
}

/// Two `up --local` commands at once into one workspace. The test holds the state folder's deployment lock until
/// both commands wait on it, so they deploy at the same moment once it is released: they take turns, and end with
/// one service between them, at one endpoint.
#[test]
fn two_up_local_commands_at_once_share_one_service() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    let _down = Down(dir);
    let root = dir.join(".deployer/local");
    std::fs::create_dir_all(&root).unwrap();
    let lock_path = root.join("deploy.lock");
    let lock = std::fs::File::options().create(true).truncate(false).write(true).open(&lock_path).unwrap();
    lock.lock().unwrap();
    let lock_path = lock_path.canonicalize().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let spawn = |name: &str| {
        let (out, err) = (logs.path().join(format!("{name}.out")), logs.path().join(format!("{name}.err")));
        let child = crate::support::deployer_command(dir, &["up", "--local"], &envs())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        (Guard(child), out, err)
    };
    let mut commands = [spawn("a"), spawn("b")];
    let started = std::time::Instant::now();
    while !commands.iter().all(|(c, _, _)| has_open(c.0.id(), &lock_path)) {
        for (command, _, err) in &mut commands {
            let ended = command.0.try_wait().unwrap();
            let text = std::fs::read_to_string(&*err).unwrap_or_default();
            assert!(ended.is_none(), "`up --local` ended ({ended:?}) without waiting for the deployment lock:\n{text}");
        }
        assert!(started.elapsed() < std::time::Duration::from_mins(5), "`up --local` never took the deployment lock");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Both wait: neither goes on while another holder has the lock.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(commands.iter_mut().all(|(c, _, _)| c.0.try_wait().unwrap().is_none()), "a deployment ignored the lock");
    drop(lock);

    let runs: Vec<Run> = commands
        .iter_mut()
        .map(|(command, out, err)| {
            let status = command.0.wait().unwrap();
            Run {
                ok: status.success(),
                code: status.code(),
                stdout: std::fs::read_to_string(&*out).unwrap(),
                stderr: std::fs::read_to_string(&*err).unwrap(),
            }
        })
        .collect();
    for run in &runs {
        assert!(run.ok, "{}", run.all());
    }
    assert_eq!(output_value(&runs[0], "Endpoint"), output_value(&runs[1], "Endpoint"), "two endpoints");
    let starts = runs.iter().filter(|r| r.stderr.contains("started the local service")).count();
    assert_eq!(starts, 1, "{}\n{}", runs[0].all(), runs[1].all());
    // One service process for the folder: every other process naming it runs a function's code.
    let code = root.join("code");
    let services: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|p| local::supervisor::process::is_ours(*p, &root))
        .filter(|p| local::supervisor::process::command_line(*p).is_some_and(|c| !c.contains(&*code.to_string_lossy())))
        .collect();
    let pid = u32::try_from(daemon(dir)["pid"].as_u64().unwrap()).unwrap();
    assert_eq!(services, [pid], "the service of daemon.json, alone");
}

#[test]
fn the_state_of_the_earlier_dex_based_target_is_carried_over() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    // What the earlier local target left: its engine's store, its single-stack deployment, a daemon.json naming
    // an engine process (long gone).
    let state = dir.join(".deployer/local");
    std::fs::create_dir_all(state.join("engine")).unwrap();
    std::fs::write(state.join("engine/executions.sqlite"), b"dex store").unwrap();
    std::fs::write(state.join("daemon.json"), r#"{"pid": 999999, "port": 1, "engine_pid": 999998, "engine_port": 2}"#)
        .unwrap();
    std::fs::write(
        state.join("deployment.json"),
        r#"{"stack": "durable-invoke-lambda", "region": "us-east-1", "functions": {}, "version_numbers": {"OrchestratorVersionX": 4}, "outputs": {}}"#,
    )
    .unwrap();
    // Armed before `up`: an `up` that fails half-way may have started the service.
    let _down = Down(dir);
    let up = run(dir, &["up", "--local"]);
    assert!(up.stderr.contains("earlier local target"), "{}", up.all());
    let kept: Vec<String> = std::fs::read_dir(&state)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("legacy-dex-engine-"))
        .collect();
    assert_eq!(kept.len(), 1, "the dex store was not set aside: {:?}", std::fs::read_dir(&state).unwrap().count());
    assert!(up.stderr.contains(&kept[0]), "the warning does not say where the dex store is: {}", up.all());
    assert_eq!(std::fs::read(state.join(&kept[0]).join("executions.sqlite")).unwrap(), b"dex store");
    let endpoint = output_value(&up, "Endpoint");
    let alias = output_value(&up, "DurableLambdaFunctionAliasArn");
    assert_eq!(aws_invoke(dir, &endpoint, &alias, SEED_PAYLOAD).0, SEED_OUTPUT);
}

/// The environment of the first running process of `function` on the local target in `dir`.
pub(crate) fn function_environment(dir: &Path, function: &str) -> std::collections::BTreeMap<String, String> {
    let root = dir.join(".deployer/local");
    let code = root.join("code");
    let find = || {
        std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()).find(
            |p| {
                std::fs::read(format!("/proc/{p}/environ")).is_ok_and(|env| {
                    env.split(|b| *b == 0).any(|kv| kv == format!("AWS_LAMBDA_FUNCTION_NAME={function}").as_bytes())
                }) && local::supervisor::process::command_line(*p).is_some_and(|c| c.contains(&*code.to_string_lossy()))
            },
        )
    };
    // An invocation accepted a moment ago may not have started its process yet.
    let started = std::time::Instant::now();
    let pid = loop {
        if let Some(pid) = find() {
            break pid;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "no running process of {function}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap()
        .split(|b| *b == 0)
        .filter_map(|kv| {
            let text = String::from_utf8_lossy(kv).into_owned();
            let (k, v) = text.split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[test]
fn functions_get_the_users_credentials_and_only_the_lambda_api_is_local() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    let mut env = envs();
    env.extend([
        ("AWS_ACCESS_KEY_ID", "AKIAUSERFROMTHECHAIN".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "user-secret".to_owned()),
        ("AWS_SESSION_TOKEN", "user-token".to_owned()),
    ]);
    let _down = Down(dir);
    let up = deployer(dir, &["up", "--local"], &env);
    assert!(up.ok, "{}", up.all());
    let endpoint = output_value(&up, "Endpoint");
    let processor = output_value(&up, "ProcessorFunctionName");
    aws_invoke(dir, &endpoint, &output_value(&up, "DurableLambdaFunctionAliasArn"), SEED_PAYLOAD);
    let seen = function_environment(dir, &processor);
    assert_eq!(seen.get("AWS_ACCESS_KEY_ID").map(String::as_str), Some("AKIAUSERFROMTHECHAIN"));
    assert_eq!(seen.get("AWS_SECRET_ACCESS_KEY").map(String::as_str), Some("user-secret"));
    assert_eq!(seen.get("AWS_SESSION_TOKEN").map(String::as_str), Some("user-token"));
    assert_eq!(seen.get("AWS_ENDPOINT_URL_LAMBDA"), Some(&endpoint));
    assert!(!seen.contains_key("AWS_ENDPOINT_URL"), "a global endpoint override would send every service to us");
    // The keys never reach the state folder.
    for entry in walk(&dir.join(".deployer/local")) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&bytes).contains("user-secret"), "{} holds the secret", entry.display());
    }

    // --no-credentials: placeholders, and the service restarts to apply it.
    let placeholder = deployer(dir, &["up", "--local", "--no-credentials"], &env);
    assert!(placeholder.ok && placeholder.stderr.contains("restarted the local service"), "{}", placeholder.all());
    aws_invoke(dir, &endpoint, &output_value(&up, "DurableLambdaFunctionAliasArn"), SEED_PAYLOAD);
    let seen = function_environment(dir, &processor);
    assert_eq!(seen.get("AWS_ACCESS_KEY_ID").map(String::as_str), Some("AKIALOCALTARGET00000"));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "code") {
                files.extend(walk(&path));
            }
        } else {
            files.push(path);
        }
    }
    files
}

/// The example app's order stack holds what the local target does not emulate (two queues, a table, an event source
/// mapping): `up --local Orders` deploys it with one warning naming each resource and what that means, its
/// functions run, and the variable the warning names holds the placeholder it names: the workflow's write to the
/// table fails naming it, and the order fails once its retries are spent. (The same run with the stack on AWS, to
/// its end: `moto::up_local_gives_functions_the_physical_ids_of_the_stack_deployed_on_aws`.) The pattern, which
/// holds only what the local target runs, gets no such warning.
#[test]
fn up_local_names_what_it_does_not_emulate_and_runs_the_functions() {
    const ORDER: &str = r#"{"orderId": "o-1", "quantities": [2, 3]}"#;
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    let _down = Down(dir);
    // No AWS account here: the functions' calls to other services go to a loopback port nobody listens on (rather
    // than to AWS, with placeholder credentials), and the retries' delays are skipped.
    let closed = crate::support::free_port();
    let mut env = envs();
    env.push(("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{closed}")));
    let up = deployer(dir, &["up", "--local", "--skip-time", "Orders"], &env);
    assert!(up.ok, "{}", up.all());
    let text = up.all();
    for expected in [
        "warning: the local target runs the functions of durable-orders but does not emulate 4 of its resources",
        "  - OrderQueue (AWS::SQS::Queue): not created locally\n",
        "  - OrderQueueDeadLetterQueue (AWS::SQS::Queue): not created locally\n",
        "  - OrderQueueSource (AWS::Lambda::EventSourceMapping): never fires locally",
        "  - OrderTable (AWS::DynamoDB::Table): not created locally; Workflow.ORDERS_TABLE get(s) the placeholder \
         `durable-orders-OrderTable`",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    let scope = ["--stack", "Orders", "--function", "Workflow"];
    let mut invoke = vec!["invoke", "--local", "--async", "--name", "order-1", "--payload", ORDER];
    invoke.extend_from_slice(&scope);
    run(dir, &invoke);
    let seen = function_environment(dir, "durable-orders-Workflow");
    assert_eq!(seen.get("ORDERS_TABLE").map(String::as_str), Some("durable-orders-OrderTable"));
    let history = ended_history(dir, &scope, "order-1");
    assert_eq!(history["execution"]["status"], "FAILED", "{history:#}");
    let error = history["execution"]["error"].to_string();
    assert!(
        error.contains("OrderTableWrite")
            && error.contains("cannot record order o-1 in table durable-orders-OrderTable"),
        "{history:#}"
    );

    let pattern = run(dir, &["up", "--local"]);
    assert!(!pattern.all().contains("does not emulate"), "{}", pattern.all());
}
