//! What a user can throw at the local target: bad and oversized payloads (the service's own errors, the
//! processor never reached), function processes killed at the worst moments (fault injection, test builds only),
//! a stale `daemon.json` naming other programs and a taken port; and what it must never do: listen beyond
//! loopback, leave its state readable by others, answer the control API without the secret.

use std::time::Duration;

use hyper::Method;
use serde_json::{Value, json};

use crate::support::{Aws, Local};

const SEED_PAYLOAD: &str = r#"{"values": [10, 20, 30, 40, 50]}"#;
const SEED_OUTPUT: &str = r#"{"statusCode": 200, "body": "{\"message\": \"Durable orchestration completed successfully\", \"input_values\": [10, 20, 30, 40, 50], \"processing_result\": {\"operation\": \"sum_and_average\", \"count\": 5, \"sum\": 150, \"average\": 30.0, \"max\": 50, \"min\": 10}}"}"#;

fn processor_runs(local: &Local) -> u64 {
    let status = local.rt.block_on(local.target.status()).unwrap();
    status.functions[&local.outputs["ProcessorFunctionName"]].invocations
}

#[test]
fn bad_and_oversized_payloads_get_the_services_errors_and_never_reach_the_processor() {
    let local = Local::seed("hardening-payloads");
    let aws = Aws { local: &local };
    let alias = local.alias();
    let (answer, _) = aws.invoke(&alias, "{not json", &[]);
    assert!(!answer.ok && answer.stderr.contains("InvalidRequestContentException"), "{}", answer.stderr);
    let (answer, _) = aws.invoke(&alias, r#"{"values": [NaN]}"#, &[]);
    assert!(!answer.ok && answer.stderr.contains("InvalidRequestContentException"), "{}", answer.stderr);
    let processor = local.outputs["ProcessorFunctionArn"].clone();
    let (answer, out) = aws.invoke(&processor, r#"{"values": "ten"}"#, &[]);
    assert!(answer.ok && answer.json()["FunctionError"] == "Unhandled" && out.contains("errorType"), "{out}");
    let before = processor_runs(&local);
    let (answer, out) = aws.invoke(&alias, r#"{"values": "ten"}"#, &[]);
    assert!(answer.ok && answer.json()["FunctionError"] == "Unhandled" && out.contains("InvalidValues"), "{out}");
    let huge = local.dir.path().join("huge.json");
    std::fs::write(&huge, format!(r#"{{"values": "{}"}}"#, "1".repeat(6 << 20))).unwrap();
    let (answer, _) = aws.invoke(&alias, &format!("fileb://{}", huge.display()), &[]);
    assert!(!answer.ok && answer.stderr.contains("RequestTooLargeException") && answer.stderr.contains("6291456"));
    let many = local.dir.path().join("many.json");
    std::fs::write(&many, format!(r#"{{"values": [{}]}}"#, vec!["1"; 100_000].join(", "))).unwrap();
    let (answer, out) = aws.invoke(&alias, &format!("fileb://{}", many.display()), &[]);
    assert!(answer.ok && out.contains("PayloadTooLarge"), "{out}");
    assert_eq!(processor_runs(&local), before, "invalid input reached the processor");
    let (answer, out) = aws.invoke(&alias, SEED_PAYLOAD, &[]);
    assert!(answer.ok && out == SEED_OUTPUT, "the service still serves after errors: {out}");
}

#[test]
fn the_orchestrator_killed_at_three_moments_still_succeeds_with_the_processor_run_once() {
    let local = Local::seed("hardening-faults");
    let aws = Aws { local: &local };
    let secret = std::fs::read_to_string(local.target.state().secret_file()).unwrap();
    let orchestrator = local.outputs["DurableLambdaFunctionName"].clone();
    let arm = |fault: &Value| {
        let answer =
            local.call(Method::POST, "/_local/faults", &[("x-local-target-secret", &secret)], &fault.to_string());
        assert!(answer.status.is_success(), "{}", String::from_utf8_lossy(&answer.body));
    };
    // Without the secret, the control API refuses: no other local program can arm a fault or stop the service.
    let refused = local.call(Method::POST, "/_local/faults", &[], "{}");
    assert_eq!(refused.status, 403);
    assert_eq!(local.call(Method::POST, "/_local/shutdown", &[], "").status, 403);
    for fault in [
        json!({"function": orchestrator, "trigger": {"on": "checkpoint", "operation_type": "STEP", "action": "SUCCEED"}}),
        json!({"function": orchestrator, "trigger": {"on": "checkpoint", "operation_type": "CHAINED_INVOKE", "action": "START"}}),
        json!({"function": orchestrator, "trigger": {"on": "delivery", "operation_type": "CHAINED_INVOKE", "status": "SUCCEEDED"}}),
    ] {
        let before = processor_runs(&local);
        // Only what this fault's invocation logged: the faults before it wrote their own exits.
        let logged_before = local.log(&orchestrator).len();
        arm(&fault);
        let (answer, out) = aws.invoke(&local.alias(), SEED_PAYLOAD, &[]);
        assert!(answer.ok && out == SEED_OUTPUT, "after {fault}: {}\n{out}", answer.stderr);
        assert_eq!(processor_runs(&local) - before, 1, "the processor ran once with {fault}");
        let log = local.log(&orchestrator);
        let this_run = log.get(logged_before..).unwrap_or_default();
        assert_eq!(
            this_run.matches("Runtime.ExitError").count(),
            1,
            "the fault {fault} did not kill the orchestrator exactly once:\n{this_run}"
        );
    }
}

/// An unrelated program, killed when dropped (also when the test fails).
struct Stranger(std::process::Child);

impl Drop for Stranger {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_stale_pid_file_and_a_taken_port_are_survived_and_the_state_stays_private_and_on_loopback() {
    use std::os::unix::process::CommandExt as _;
    let mut local = Local::seed("hardening-stale");
    let state = local.target.state().clone();
    // The service stops; its state folder (the stored binaries among it) stays.
    local.rt.block_on(local::supervisor::client::stop(&state)).unwrap();
    // Two unrelated programs whose pids a stale daemon.json names, and another program on its port; killed at the
    // end whatever happens.
    let spawn = || Stranger(std::process::Command::new("sleep").arg("600").process_group(0).spawn().unwrap());
    let (mut stranger, mut bystander) = (spawn(), spawn());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    std::fs::create_dir_all(&state.root).unwrap();
    let daemon_json = json!({"pid": stranger.0.id(), "port": port, "instance": "old"});
    std::fs::write(state.daemon_file(), daemon_json.to_string()).unwrap();
    std::fs::write(state.pid_file(), format!("{}\n", bystander.0.id())).unwrap();
    let outcome = local.redeploy();
    assert_eq!(outcome.action, local::ServiceAction::Started);
    assert!(outcome.notices.contains(&local::Notice::PortMoved { previous: port, now: outcome.info.port }));
    let aws = Aws { local: &local };
    let (answer, out) = aws.invoke(&local.alias(), SEED_PAYLOAD, &[]);
    assert!(answer.ok && out == SEED_OUTPUT, "{}\n{out}", answer.stderr);

    // Nothing listens beyond loopback: the service and every function's Runtime API.
    let sockets = std::process::Command::new("ss").args(["-ltnpH"]).output().unwrap();
    let text = String::from_utf8_lossy(&sockets.stdout).into_owned();
    let ours: Vec<&str> = text
        .lines()
        .filter(|line| {
            line.split("pid=")
                .skip(1)
                .filter_map(|p| p.split(',').next()?.parse::<u32>().ok())
                .any(|pid| local::supervisor::process::is_ours(pid, &state.root))
        })
        .map(|line| line.split_whitespace().nth(3).unwrap_or_default())
        .collect();
    assert!(ours.len() >= 3, "the service and at least two Runtime APIs listen: {ours:?}");
    assert!(ours.iter().all(|s| s.starts_with("127.0.0.1:")), "{ours:?}");

    // The state folder (payloads in logs, the execution store) and what is in it are the user's alone.
    let mode = |path: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode(&state.root), 0o700);
    for file in [state.daemon_log(), state.secret_file(), state.deployment_file(), state.daemon_file()] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    for log in std::fs::read_dir(state.logs_dir()).unwrap().map(|e| e.unwrap().path()) {
        assert_eq!(mode(&log), 0o600, "{}", log.display());
    }

    local.rt.block_on(local.target.down()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    for process in [&mut stranger.0, &mut bystander.0] {
        assert!(process.try_wait().unwrap().is_none(), "an unrelated process {} was signalled", process.id());
    }
    drop(taken);
}
