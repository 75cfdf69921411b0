//! `up --local --watch` in a copy of the workspace: a one-line edit of the processor is rebuilt (the processor
//! alone), redeployed as new versions with the alias moved, and serving from the next invoke; a build error is
//! shown while the previous version keeps serving, and the fix is deployed; Ctrl-C ends the watch cleanly and
//! leaves the local target running.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{Down, Guard, deployer_command, edited_sources_target_dir, run_ok as run};

/// The processor's source line the edits change.
const HANDLER: &str = "functions/processor/src/handler.rs";

/// Waits until the watch's stderr (`err`) has `count` lines containing `text`; returns the whole log.
fn wait_log(watch: &mut Guard, err: &Path, text: &str, count: usize, timeout: Duration) -> String {
    let started = Instant::now();
    loop {
        let log = std::fs::read_to_string(err).unwrap_or_default();
        if log.lines().filter(|l| l.contains(text)).count() >= count {
            return log;
        }
        let ended = watch.0.try_wait().unwrap();
        assert!(ended.is_none(), "the watch ended ({ended:?}) before printing {text:?}:\n{log}");
        assert!(started.elapsed() < timeout, "no {text:?} within {timeout:?}:\n{log}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Invokes the pattern's durable function through its alias until its answer contains `text`; returns how long
/// that took.
fn serving(dir: &Path, text: &str, timeout: Duration, log: &Path) -> Duration {
    let started = Instant::now();
    loop {
        let answer = run(dir, &["invoke", "--local"]);
        if answer.stdout.contains(text) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < timeout,
            "still not serving {text:?} after {timeout:?}: {}\nwatch log:\n{}",
            answer.all(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The watch builds the copy's edited sources: into their own target folder, never the shared one, where cargo would
/// take them for the workspace's own (a path crate's artifacts are keyed by its path inside the workspace) and a
/// later `up --local` of the real sources, in this run or the next, would ship the edited binary.
fn edited_sources_envs() -> Vec<(&'static str, String)> {
    vec![("CARGO_TARGET_DIR", edited_sources_target_dir().display().to_string()), ("AWS_REGION", "us-east-1".into())]
}

fn edit(dir: &Path, from: &str, to: &str) {
    let path = dir.join(HANDLER);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{HANDLER} no longer contains {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn watch_serves_an_edit_keeps_serving_through_a_build_error_and_stops_on_ctrl_c() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    crate::support::copy_workspace(dir);
    let _down = Down(dir);
    let logs = tempfile::tempdir().unwrap();
    let err = logs.path().join("watch.err");
    let mut watch = Guard(
        deployer_command(dir, &["up", "--local", "--watch"], &edited_sources_envs())
            .stdout(std::fs::File::create(logs.path().join("watch.out")).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap(),
    );
    // The first build of the copy's crates, in their own target folder (its dependencies too, the first time).
    wait_log(&mut watch, &err, "watching", 1, Duration::from_mins(20));
    serving(dir, r#"\"max\": 50"#, Duration::from_secs(30), &err);

    // A one-line edit of the processor: rebuilt alone, and serving through the moved alias.
    edit(dir, r#"("max".to_owned()"#, r#"("maximum".to_owned()"#);
    // Bounds for a machine busy with other builds (cargo's lock on the shared target folder); the figure is printed.
    let took = serving(dir, r#"\"maximum\": 50"#, Duration::from_mins(10), &err);
    eprintln!("edit -> serving through `up --local --watch`: {:.1} s", took.as_secs_f64());
    let log = wait_log(&mut watch, &err, "built in", 1, Duration::from_secs(30));
    assert!(log.contains(&format!("changed: {HANDLER}; rebuilding processor\n")), "{log}");
    assert!(log.contains("Orchestrator v2 (live -> 2), Processor v2"), "{log}");

    // A build error: shown, the watch goes on, the previous version keeps serving.
    edit(dir, r#"("maximum".to_owned()"#, r#"("maximum".to_owned(,"#);
    let log =
        wait_log(&mut watch, &err, "rebuild failed, the previous version keeps serving", 1, Duration::from_mins(2));
    assert!(log.contains("error") && log.contains(&format!("{HANDLER}:")), "cargo's message names the file: {log}");
    serving(dir, r#"\"maximum\": 50"#, Duration::from_secs(30), &err);

    // The fix is deployed as the next versions.
    edit(dir, r#"("maximum".to_owned(,"#, r#"("largest".to_owned()"#);
    serving(dir, r#"\"largest\": 50"#, Duration::from_mins(10), &err);
    let log = wait_log(&mut watch, &err, "built in", 2, Duration::from_secs(30));
    assert!(log.contains("Orchestrator v3 (live -> 3), Processor v3"), "{log}");

    // Ctrl-C: the watch ends with success, the local target keeps serving.
    let pid = rustix::process::Pid::from_raw(i32::try_from(watch.0.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = watch.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the watch did not end on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(&err).unwrap();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("stopped watching; the local target keeps running"), "{log}");
    serving(dir, r#"\"largest\": 50"#, Duration::from_secs(30), &err);
}
