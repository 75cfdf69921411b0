//! Testing durable workflows from the CLI: the local target on a manual clock (`up --local --clock manual`),
//! moved by `time advance|next --local`, and `replay` of a recorded execution against the current code; each
//! refused, with the next step named, where it cannot work.

use serde_json::Value;

use crate::support::{Down, Run, copy_workspace, deployer, local_envs as envs};

fn ok(dir: &std::path::Path, args: &[&str]) -> Run {
    let run = deployer(dir, args, &envs());
    assert!(run.ok, "`deployer {}` failed:\n{}", args.join(" "), run.all());
    run
}

fn refused(dir: &std::path::Path, args: &[&str]) -> String {
    let run = deployer(dir, args, &envs());
    assert!(!run.ok, "`deployer {}` succeeded:\n{}", args.join(" "), run.all());
    run.stderr
}

fn event(run: &Run, name: &str) -> Value {
    run.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|e| e["event"] == name)
        .unwrap_or_else(|| panic!("no `{name}` event:\n{}", run.all()))
}

#[test]
fn time_moves_a_manual_clock_and_replay_finds_the_same_decisions() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    let error = refused(dir, &["time", "next"]);
    assert!(error.contains("--local"), "{error}");
    let error = refused(dir, &["replay", "latest"]);
    assert!(error.contains("--local"), "{error}");
    let error = refused(dir, &["up", "--clock", "manual"]);
    assert!(error.contains("--local --clock manual"), "{error}");

    let _down = Down(dir);
    ok(dir, &["up", "--local"]);
    let error = refused(dir, &["time", "next", "--local"]);
    assert!(error.contains("wall clock") && error.contains("--clock manual"), "{error}");

    ok(dir, &["up", "--local", "--clock", "manual"]);
    ok(dir, &["invoke", "--local"]);
    let moved = event(&ok(dir, &["time", "advance", "2h", "--local", "--json"]), "clock_moved");
    assert_eq!(moved["moved_ms"], 7_200_000, "{moved}");
    let next = event(&ok(dir, &["time", "next", "--local", "--json"]), "clock_moved");
    assert_eq!((&next["moved_ms"], &next["next_timer"]), (&Value::from(0), &Value::Null), "nothing is armed: {next}");

    let replay = event(&ok(dir, &["replay", "latest", "--local", "--json"]), "replay");
    assert_eq!(replay["report"]["verdict"]["verdict"], "same", "{replay}");
    let recorded = replay["report"]["recorded"].as_array().unwrap();
    assert!(recorded.iter().any(|op| op["identity"].as_str().unwrap().contains("ChainedInvoke")), "{replay}");
    let text = ok(dir, &["replay", "latest", "--local"]);
    assert!(text.stdout.contains("same decisions"), "{}", text.all());
}
