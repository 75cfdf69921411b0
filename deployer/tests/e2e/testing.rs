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
    // Without --local, `replay` reads the execution from AWS: without credentials it says how to get them.
    let mut no_aws = envs();
    no_aws.extend([
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".to_owned()),
        ("AWS_CONFIG_FILE", "/nonexistent".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_ACCESS_KEY_ID", String::new()),
        ("AWS_SECRET_ACCESS_KEY", String::new()),
    ]);
    let run = deployer(dir, &["replay", "latest"], &no_aws);
    assert!(!run.ok && run.stderr.contains("no usable AWS credentials"), "{}", run.all());
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

/// `replay --wait-for-debugger`: the replay's function process starts and waits before its handler runs, its id
/// printed for a debugger; Enter lets the handler run, and the replay reports as usual.
#[test]
fn replay_waits_for_a_debugger_before_the_handler_starts() {
    use std::io::{BufRead as _, Write as _};
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    let _down = Down(dir);
    ok(dir, &["up", "--local"]);
    ok(dir, &["invoke", "--local"]);
    let mut child =
        crate::support::deployer_command(dir, &["replay", "latest", "--local", "--wait-for-debugger"], &envs())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    let pid: u32 = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "replay ended without holding:\n{said}");
        said.push_str(&line);
        if let Some(rest) = line.split("process ").nth(1).filter(|_| line.contains("waits before its handler starts")) {
            break rest.split(' ').next().unwrap().parse().unwrap();
        }
    };
    // The process runs the function's stored binary and stays held: the replay has no report yet.
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert!(exe.starts_with(dir.join(".deployer/local/code")), "{}", exe.display());
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "the replay ended while held:\n{said}");
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{said}");
    assert!(stdout.contains("same decisions"), "{stdout}");
}
