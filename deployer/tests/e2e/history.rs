//! `history`, `executions` and `invoke --wait/--async/--name` on the local target, through the same durable
//! execution API the commands use on AWS: after the seed payload, `history latest` lists the `prepare_input` step
//! (succeeded), then the `invoke_processor` chained invoke (succeeded) with the processor's result, and the two
//! invocations of the orchestrator around the suspension.

use serde_json::Value;

use crate::support::{Down, copy_workspace, deployer, json_event, local_envs as envs, run_ok as run};

const SEED_PAYLOAD: &str = r#"{"values": [10, 20, 30, 40, 50]}"#;
const PROCESSOR_RESULT: &str =
    r#"{"operation": "sum_and_average", "count": 5, "sum": 150, "average": 30.0, "max": 50, "min": 10}"#;

fn position(text: &str, needle: &[&str]) -> usize {
    text.lines()
        .position(|line| needle.iter().all(|n| line.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

#[test]
fn history_latest_shows_the_step_then_the_chained_invoke_with_the_processor_result() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    let _down = Down(dir);
    let up = deployer(dir, &["up", "--local"], &envs());
    assert!(up.ok, "up --local failed:\n{}", up.all());
    run(dir, &["invoke", "--local", "--payload", SEED_PAYLOAD]);

    // Prose on a pipe: aligned columns, nothing truncated.
    let prose = run(dir, &["history", "latest", "--local"]).stdout;
    let step = position(&prose, &["step", "prepare_input", "SUCCEEDED"]);
    let invoke = position(&prose, &["chained invoke", "invoke_processor", "SUCCEEDED", PROCESSOR_RESULT]);
    assert!(step < invoke, "{prose}");
    assert!(position(&prose, &["invocation", "SUSPENDED"]) > invoke, "{prose}");
    assert!(prose.starts_with("execution  ") && prose.lines().next().unwrap().ends_with("SUCCEEDED"), "{prose}");

    // JSON: the same rows with whole values.
    let history = json_event(&run(dir, &["history", "latest", "--local", "--json"]), "history");
    assert_eq!(history["execution"]["status"], "SUCCEEDED");
    assert_eq!(history["execution"]["input"], SEED_PAYLOAD);
    let rows = history["rows"].as_array().unwrap();
    let operations: Vec<&Value> = rows.iter().filter(|r| r["row"] == "operation").collect();
    assert_eq!(operations.len(), 2, "{history:#}");
    assert_eq!((&operations[0]["kind"], &operations[0]["name"]), (&"step".into(), &"prepare_input".into()));
    assert_eq!(operations[0]["status"], "SUCCEEDED");
    assert_eq!(operations[0]["attempt"], 1);
    assert_eq!(
        (&operations[1]["kind"], &operations[1]["name"]),
        (&"chained_invoke".into(), &"invoke_processor".into())
    );
    assert_eq!(operations[1]["status"], "SUCCEEDED");
    assert_eq!(operations[1]["result"], PROCESSOR_RESULT);
    let outcomes: Vec<&Value> = rows.iter().filter(|r| r["row"] == "invocation").map(|r| &r["outcome"]).collect();
    assert_eq!(outcomes, [&Value::from("suspended"), &"completed".into()], "{history:#}");

    // The list names the same execution, newest first.
    let name = history["execution"]["name"].as_str().unwrap().to_owned();
    let listed = json_event(&run(dir, &["executions", "--local", "--json"]), "executions");
    assert_eq!(listed["executions"][0]["name"], name.as_str());
    assert_eq!(listed["executions"][0]["status"], "SUCCEEDED");
    let table = run(dir, &["executions", "--local"]).stdout;
    assert!(table.starts_with("NAME") && position(&table, &[&name, "SUCCEEDED"]) == 1, "{table}");

    // A named execution, followed live; starting it again with the same name returns the same execution.
    let payload = r#"{"values": [1, 2, 3]}"#;
    let wait = run(dir, &["invoke", "--local", "--wait", "--name", "e2e-wait", "--payload", payload]);
    assert!(wait.stdout.contains(r#"\"sum\": 6"#), "{}", wait.all());
    assert!(wait.stderr.contains("step prepare_input succeeded"), "{}", wait.all());
    assert!(wait.stderr.contains("chained invoke invoke_processor succeeded"), "{}", wait.all());
    let again = run(dir, &["invoke", "--local", "--async", "--name", "e2e-wait", "--payload", payload]);
    let by_name = json_event(&run(dir, &["history", "e2e-wait", "--local", "--json"]), "history");
    assert_eq!(again.stdout.trim(), by_name["execution"]["arn"].as_str().unwrap(), "{}", again.all());

    // An execution that ended cannot be stopped, and the error says so.
    let refused = deployer(dir, &["stop", "e2e-wait", "--local"], &envs());
    assert!(!refused.ok && refused.stderr.contains("already ended"), "{}", refused.all());
}
