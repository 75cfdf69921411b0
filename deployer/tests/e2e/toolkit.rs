//! The deployer as a toolkit, on the local target: several stacks side by side (`up --local <stack>` adds one
//! without dropping the others, `down --local <stack>` removes one), functions by name in a stack of two durable
//! and two plain functions (each invoked, listed and shown), the choices when a name is wrong or missing, and the
//! `--json` output of every command walked: JSON lines whose values are data, not prose.

use std::path::Path;

use serde_json::Value;

use crate::support::{Down, Run, copy_workspace, deployer, local_envs as envs};

/// The fixture stack's construct id.
const FIXTURE: &str = "ToolkitFixture";
/// The fixture's app: a package of its own, never part of the project's app.
const FIXTURE_APP: &str = "toolkit-fixture";

/// Runs the deployer, which must succeed; with `--json`, its stdout goes to `walked` to be checked at the end.
fn run(dir: &Path, args: &[&str], walked: &mut Vec<(String, String)>) -> Run {
    let run = deployer(dir, args, &envs());
    assert!(run.ok, "`deployer {}` failed:\n{}", args.join(" "), run.all());
    if args.contains(&"--json") {
        walked.push((args.join(" "), run.stdout.clone()));
    }
    run
}

/// Runs the deployer, which must fail; returns what it said.
fn fails(dir: &Path, args: &[&str], walked: &mut Vec<(String, String)>) -> String {
    let run = deployer(dir, args, &envs());
    assert!(!run.ok, "`deployer {}` succeeded:\n{}", args.join(" "), run.all());
    if args.contains(&"--json") {
        walked.push((args.join(" "), run.stdout.clone()));
    }
    run.stderr
}

/// The events of a `--json` run, by name.
fn events(run: &Run, name: &str) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .filter(|event| event["event"] == name)
        .collect()
}

fn one(run: &Run, name: &str) -> Value {
    let found = events(run, name);
    assert_eq!(found.len(), 1, "one `{name}` event expected:\n{}", run.all());
    found.into_iter().next().unwrap()
}

#[test]
fn functions_by_name_in_stacks_side_by_side_on_the_local_target() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    let mut walked = Vec::new();
    // Armed before `up`: an `up` that fails half-way may have started the service.
    let _down = Down(dir);
    let up = run(dir, &["--app", FIXTURE_APP, "up", "--local", "--json"], &mut walked);
    assert!(one(&up, "endpoint")["url"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{}", up.all());
    // The pattern's stack next to it: the fixture keeps running.
    let pattern = run(dir, &["up", "--local", "--json"], &mut walked);
    assert_eq!(one(&pattern, "outputs")["stack"], "durable-invoke-lambda");
    for (app, stack) in [(None, "durable-invoke-lambda"), (Some(FIXTURE_APP), "durable-toolkit-fixture")] {
        let mut args = vec!["status", "--local", "*", "--json"];
        args.extend(app.map(|app| ["--app", app]).into_iter().flatten());
        let status = one(&run(dir, &args, &mut walked), "local_status");
        let stacks: std::collections::BTreeSet<&str> =
            status["functions"].as_array().unwrap().iter().map(|f| f["stack"].as_str().unwrap()).collect();
        assert_eq!(stacks, [stack].into(), "each app shows its own stacks of the one service: {status:#}");
    }

    for (orchestrator, processor) in
        [("First/Orchestrator", "First/Processor"), ("Second/Orchestrator", "Second/Processor")]
    {
        let fixture = |args: &[&'static str], function: &'static str| -> Vec<&'static str> {
            let mut all = args.to_vec();
            all.extend(["--local", "--app", FIXTURE_APP, "--stack", FIXTURE, "--function", function, "--json"]);
            all
        };
        // Invoked by name, with the example event its stack declares.
        let invoked = one(&run(dir, &fixture(&["invoke"], orchestrator), &mut walked), "invoke_result");
        assert_eq!(invoked["result"]["statusCode"], 200, "{invoked:#}");
        assert!(invoked["result"]["body"].as_str().unwrap().contains("\"sum\": 150"), "{invoked:#}");
        assert!(invoked["function"].as_str().unwrap().ends_with(":live"), "through its alias: {invoked:#}");
        // Listed by name: its own execution, and only its own.
        let listed = one(&run(dir, &fixture(&["executions"], orchestrator), &mut walked), "executions");
        assert_eq!(listed["executions"].as_array().unwrap().len(), 1, "{listed:#}");
        // Deployed names carry the logical id (`FirstOrchestrator1A2B3C4D`), the construct path without its `/`.
        assert!(listed["function"].as_str().unwrap().contains(&orchestrator.replace('/', "")), "{listed:#}");
        // Shown by name: the chained invoke went to its own processor.
        let history = one(&run(dir, &fixture(&["history", "latest"], orchestrator), &mut walked), "history");
        assert_eq!(history["execution"]["status"], "SUCCEEDED");
        let invoke = history["rows"].as_array().unwrap().iter().find(|r| r["kind"] == "chained_invoke").unwrap();
        assert!(invoke["target"].as_str().unwrap().contains(&processor.replace('/', "")), "{history:#}");
        // The plain function: invoked and its log read by name; it has no executions.
        let args = fixture(&["invoke", "--payload", r#"{"values": [1, 2]}"#], processor);
        let invoked = one(&run(dir, &args, &mut walked), "invoke_result");
        assert_eq!(invoked["result"]["sum"], 3, "{invoked:#}");
        let logs = run(dir, &fixture(&["logs"], processor), &mut walked);
        let lines = events(&logs, "log_line");
        assert!(lines.iter().all(|l| l["function"] == processor), "{}", logs.all());
        assert!(
            lines.iter().any(|l| l["message"].as_str().unwrap().starts_with("REPORT RequestId:")),
            "{}",
            logs.all()
        );
        let said = fails(dir, &fixture(&["executions"], processor), &mut walked);
        assert!(said.contains("not a durable function") && said.contains(orchestrator), "{said}");
    }

    // No `--function` in a stack of two durable functions, or an unknown one: the choices.
    let said = fails(dir, &["invoke", "--local", "--app", FIXTURE_APP, "--stack", FIXTURE], &mut walked);
    for choice in
        ["First/Orchestrator (durable, alias live)", "Second/Orchestrator", "First/Processor", "Second/Processor"]
    {
        assert!(said.contains(choice), "{choice} missing from: {said}");
    }
    let said = fails(dir, &["invoke", "--local", "--function", "NoSuchFunction"], &mut walked);
    assert!(said.contains("Orchestrator (durable, alias live), Processor"), "{said}");
    let said = fails(dir, &["invoke", "--local", "--stack", "NoSuchStack*"], &mut walked);
    assert!(said.contains("Pattern (durable-invoke-lambda)") && !said.contains(FIXTURE), "{said}");
    let said = fails(dir, &["diff", "--local"], &mut walked);
    assert!(said.contains("`deployer up --local`"), "{said}");

    // The pattern's stack answers by default, and its execution by the alias output's name too.
    let seed = one(&run(dir, &["invoke", "--local", "--json"], &mut walked), "invoke_result");
    assert!(seed["result"]["body"].as_str().unwrap().contains("\"sum\": 150"), "{seed:#}");
    let by_output = &["executions", "--local", "--function", "DurableLambdaFunctionAliasArn", "--json"];
    assert_eq!(one(&run(dir, by_output, &mut walked), "executions")["executions"].as_array().unwrap().len(), 1);
    let said = fails(dir, &["stop", "latest", "--local", "--json"], &mut walked);
    assert!(said.contains("already ended"), "{said}");
    let said = fails(dir, &["callback", "heartbeat", "no-such-callback", "--local", "--json"], &mut walked);
    assert!(said.contains("no-such-callback"), "{said}");
    run(dir, &["synth", "*", "--json"], &mut walked);
    // `diff` without AWS credentials compares with an empty account, and says so.
    let home = tempfile::tempdir().unwrap();
    let mut offline = envs();
    offline.extend([
        ("HOME", home.path().display().to_string()),
        ("AWS_CONFIG_FILE", home.path().join("none").display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none").display().to_string()),
        ("AWS_ACCESS_KEY_ID", String::new()),
        ("AWS_SECRET_ACCESS_KEY", String::new()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]);
    let diff = deployer(dir, &["diff", "--json"], &offline);
    assert!(diff.ok, "{}", diff.all());
    assert_eq!(events(&diff, "template_diff").len(), 2, "the bootstrap stack and the pattern's: {}", diff.all());
    walked.push(("diff --json".to_owned(), diff.stdout));

    // One stack down: the other keeps running.
    let removed = run(dir, &["down", "--local", "--app", FIXTURE_APP, FIXTURE, "--json"], &mut walked);
    assert_eq!(one(&removed, "local_stack_removed")["stack"], "durable-toolkit-fixture");
    let args = ["invoke", "--local", "--app", FIXTURE_APP, "--stack", FIXTURE, "--function", "First/Processor"];
    let said = fails(dir, &args, &mut walked);
    assert!(said.contains("not deployed on the local target") && said.contains("up --local"), "{said}");
    run(dir, &["invoke", "--local", "--function", "Processor", "--payload", r#"{"values": [2]}"#], &mut walked);
    let stopped = run(dir, &["down", "--local", "--json"], &mut walked);
    one(&stopped, "local_stopped");

    walk_json_lines(&walked);
}

/// Every line of every `--json` run is a JSON object with an event name, a stable code and a level, and every value
/// in it is data: no string holds a line break, which prose (tables, rendered lists) would.
fn walk_json_lines(walked: &[(String, String)]) {
    let mut seen = std::collections::BTreeSet::new();
    for (command, stdout) in walked {
        for line in stdout.lines() {
            let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("`{command}` printed {e}: {line}"));
            let name = event["event"].as_str().unwrap_or_else(|| panic!("`{command}`: no event name in {line}"));
            assert!(event["code"].as_str().is_some_and(|c| c.starts_with("DEPLOYER_")), "`{command}`: {line}");
            assert!(["info", "warn", "result"].contains(&event["level"].as_str().unwrap_or("")), "`{command}`: {line}");
            assert_ne!(name, "value", "`{command}`: a pre-rendered value: {line}");
            no_prose(&event, &format!("`{command}` {name}"));
            seen.insert(name.to_owned());
        }
    }
    for expected in [
        "endpoint",
        "outputs",
        "local_status",
        "invoke_result",
        "executions",
        "history",
        "log_line",
        "template_written",
        "template_diff",
        "local_stack_removed",
        "local_stopped",
    ] {
        assert!(seen.contains(expected), "no `{expected}` event among {seen:?}");
    }
}

fn no_prose(value: &Value, at: &str) {
    match value {
        Value::String(text) => assert!(!text.contains('\n'), "{at}: a multi-line string, rendered prose: {text}"),
        Value::Array(items) => items.iter().for_each(|item| no_prose(item, at)),
        Value::Object(fields) => fields.iter().for_each(|(key, item)| no_prose(item, &format!("{at}.{key}"))),
        _ => {}
    }
}
