//! The local engine's capabilities through the real AWS CLI, on handlers of the conformance binary: waits and
//! step retries as timers (surviving a restart of the service while they are pending), time control, callbacks
//! (success, failure, timeout, heartbeats; pending across a restart), stop, the execution timeout and chained
//! invokes of plain and durable targets, one of which times out.

use std::time::{Duration, Instant};

use constructs::reference::{Reference, Sub};
use constructs::resources::iam::Role;
use constructs::resources::lambda::{DurableConfig, Function};
use constructs::{AssetSource, Stack};
use serde_json::Value;

use crate::support::{Aws, Local};

/// A stack of conformance handlers: `(logical id, handler, ExecutionTimeout)`, an echo target, and two callers of
/// it, one whose target is a durable function that times out.
fn stack(name: &str) -> Stack {
    let mut stack = Stack::new(&constructs::App::new(), name).unwrap();
    let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
    let code = || AssetSource::CargoBinary { package: "conformance".into(), binary: "conformance".into() };
    let durable = |handler: &str, timeout: u32| {
        Function::new(code(), &role)
            .timeout_seconds(60)
            .durable(DurableConfig::new(timeout, 1))
            .env("CONFORMANCE_HANDLER", handler)
    };
    for (id, handler, timeout) in [
        ("Wait", "2-1", 600),
        ("WaitHour", "2-5", 7200),
        ("Retry", "1-11", 600),
        ("Callback", "4-1", 600),
        ("CallbackFails", "4-6", 600),
        ("CallbackTimesOut", "4-3", 600),
        ("Heartbeat", "4-4", 600),
    ] {
        stack.add(id, durable(handler, timeout)).unwrap();
    }
    let short = stack.add("ShortLived", durable("2-5", 3)).unwrap();
    let echo = stack
        .add("Echo", Function::new(code(), &role).timeout_seconds(30).env("CONFORMANCE_HANDLER", "target-echo"))
        .unwrap();
    stack.add("InvokeEcho", durable("5-1", 600).env("ECHO_FUNCTION_NAME", echo.ref_())).unwrap();
    let short_latest = Sub::new().value(short.arn()).text(":$LATEST").build();
    stack.add("InvokeTimesOut", durable("5-1", 600).env("ECHO_FUNCTION_NAME", short_latest)).unwrap();
    stack
}

fn function(id: &str, stack: &str) -> String {
    format!(
        "arn:aws:lambda:us-east-1:000000000000:function:{}",
        local::arn::Arns::new(stack, "us-east-1").function_name(id)
    ) + ":$LATEST"
}

/// Starts an execution asynchronously; returns its ARN.
fn start(aws: &Aws<'_>, function: &str, payload: &str) -> String {
    let (answer, _) = aws.invoke(function, payload, &["--invocation-type", "Event"]);
    assert!(answer.ok, "{}", answer.stderr);
    answer.json()["DurableExecutionArn"].as_str().unwrap().to_owned()
}

fn get(aws: &Aws<'_>, arn: &str) -> Value {
    let answer = aws.run(&["lambda", "get-durable-execution", "--durable-execution-arn", arn]);
    assert!(answer.ok, "{}", answer.stderr);
    answer.json()
}

fn events(aws: &Aws<'_>, arn: &str) -> Vec<Value> {
    let answer = aws.run(&["lambda", "get-durable-execution-history", "--durable-execution-arn", arn]);
    assert!(answer.ok, "{}", answer.stderr);
    answer.json()["Events"].as_array().unwrap().clone()
}

fn types(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["EventType"].as_str().unwrap().to_owned()).collect()
}

/// Waits until the execution has a history event of `kind`; returns it.
fn until_event(aws: &Aws<'_>, arn: &str, kind: &str, timeout: Duration) -> Value {
    let started = Instant::now();
    loop {
        if let Some(found) = events(aws, arn).into_iter().find(|e| e["EventType"] == kind) {
            return found;
        }
        assert!(started.elapsed() < timeout, "{arn} has no {kind} after {timeout:?}: {:?}", types(&events(aws, arn)));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the execution ends; returns it.
fn until_ended(aws: &Aws<'_>, arn: &str, timeout: Duration) -> Value {
    let started = Instant::now();
    loop {
        let execution = get(aws, arn);
        if execution["Status"] != "RUNNING" {
            return execution;
        }
        assert!(started.elapsed() < timeout, "{arn} still RUNNING after {timeout:?}: {:?}", types(&events(aws, arn)));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kills the service (SIGKILL) and starts it again.
fn restart(local: &mut Local) {
    let pid = local.daemon_pid();
    let root = &local.target.state().root;
    assert!(
        local::supervisor::process::signal_if_ours(pid, root, rustix::process::Signal::KILL),
        "daemon.json's pid {pid} is not the service of {}",
        root.display()
    );
    while local::supervisor::process::is_alive(pid) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(local.redeploy().action, local::ServiceAction::Started);
}

#[test]
fn waits_retries_and_callbacks_pending_across_a_restart_of_the_service_complete() {
    let name = "capabilities-restart";
    let mut local = Local::deploy(&stack(name), |_, _| Vec::new());
    let (wait, retry, callback, heartbeat) = {
        let aws = Aws { local: &local };
        let wait = start(&aws, &function("Wait", name), "{}");
        let retry = start(&aws, &function("Retry", name), "{}");
        let callback = start(&aws, &function("Callback", name), "\"approval\"");
        let heartbeat = start(&aws, &function("Heartbeat", name), "\"beat\"");
        until_event(&aws, &wait, "WaitStarted", Duration::from_secs(30));
        let failed = until_event(&aws, &retry, "StepFailed", Duration::from_secs(30));
        assert_eq!(failed["StepFailedDetails"]["RetryDetails"]["CurrentAttempt"], 1);
        until_event(&aws, &callback, "CallbackStarted", Duration::from_secs(30));
        until_event(&aws, &heartbeat, "CallbackStarted", Duration::from_secs(30));
        (wait, retry, callback, heartbeat)
    };
    // The wait, the retry delay and both callbacks are pending: the service dies and comes back.
    restart(&mut local);
    let aws = Aws { local: &local };
    let waited = until_ended(&aws, &wait, Duration::from_secs(30));
    assert_eq!(waited["Status"], "SUCCEEDED");
    let history = types(&events(&aws, &wait));
    assert!(history.contains(&"WaitSucceeded".to_owned()), "{history:?}");
    let retried = until_ended(&aws, &retry, Duration::from_secs(30));
    assert_eq!(retried["Status"], "SUCCEEDED");
    assert_eq!(retried["Result"], "\"Operation succeeded\"");
    let success = events(&aws, &retry).into_iter().find(|e| e["EventType"] == "StepSucceeded").unwrap();
    assert_eq!(success["StepSucceededDetails"]["RetryDetails"]["CurrentAttempt"], 2);

    // The callback opened before the restart still takes its result.
    let started = until_event(&aws, &callback, "CallbackStarted", Duration::from_secs(5));
    let id = started["CallbackStartedDetails"]["CallbackId"].as_str().unwrap().to_owned();
    let sent = aws.run(&[
        "lambda",
        "send-durable-execution-callback-success",
        "--callback-id",
        &id,
        "--result",
        r#"{"approved": true}"#,
        "--cli-binary-format",
        "raw-in-base64-out",
    ]);
    assert!(sent.ok || sent.stderr.contains("cli-binary-format"), "{}", sent.stderr);
    if !sent.ok {
        // CLI v1 sends blobs as they are.
        let sent = aws.run(&[
            "lambda",
            "send-durable-execution-callback-success",
            "--callback-id",
            &id,
            "--result",
            r#"{"approved": true}"#,
        ]);
        assert!(sent.ok, "{}", sent.stderr);
    }
    let done = until_ended(&aws, &callback, Duration::from_secs(30));
    assert_eq!(done["Status"], "SUCCEEDED");
    assert_eq!(
        serde_json::from_str::<Value>(done["Result"].as_str().unwrap()).unwrap(),
        serde_json::json!({"approved": true})
    );
    let again = aws.run(&["lambda", "send-durable-execution-callback-success", "--callback-id", &id, "--result", "1"]);
    assert!(!again.ok && again.stderr.contains("InvalidParameterValueException"), "{}", again.stderr);
    let unknown = aws.run(&["lambda", "send-durable-execution-callback-heartbeat", "--callback-id", "nope"]);
    assert!(!unknown.ok && unknown.stderr.contains("ResourceNotFoundException"), "{}", unknown.stderr);

    // The heartbeat timeout armed before the restart fires after it.
    let timed_out = until_ended(&aws, &heartbeat, Duration::from_secs(30));
    assert_eq!(timed_out["Status"], "FAILED");
    let event = until_event(&aws, &heartbeat, "CallbackTimedOut", Duration::from_secs(1));
    assert_eq!(event["CallbackTimedOutDetails"]["Error"]["Payload"]["ErrorType"], "Callback.Heartbeat");
}

#[test]
fn time_control_stop_timeouts_and_callback_failures() {
    let name = "capabilities-time";
    let local = Local::deploy_skipping_time(&stack(name));
    let aws = Aws { local: &local };

    // One hour of waiting in under five seconds, and the history still says one hour.
    let clock = Instant::now();
    let hour = start(&aws, &function("WaitHour", name), "{}");
    let ended = until_ended(&aws, &hour, Duration::from_secs(5));
    assert_eq!(ended["Status"], "SUCCEEDED");
    assert!(clock.elapsed() < Duration::from_secs(5), "{:?}", clock.elapsed());
    let history = events(&aws, &hour);
    let started = history.iter().find(|e| e["EventType"] == "WaitStarted").unwrap();
    assert_eq!(started["WaitStartedDetails"]["Duration"], 3600);
    let scheduled = started["WaitStartedDetails"]["ScheduledEndTimestamp"].as_f64().unwrap();
    let at = started["EventTimestamp"].as_f64().unwrap();
    assert!((scheduled - at - 3600.0).abs() < 1.0, "scheduled {scheduled}, started {at}");
    assert!(types(&history).contains(&"WaitSucceeded".to_owned()));

    // A callback timeout fires at once under time control: CallbackTimedOut, the execution fails.
    let cb = start(&aws, &function("CallbackTimesOut", name), "\"late\"");
    assert_eq!(until_ended(&aws, &cb, Duration::from_secs(10))["Status"], "FAILED");
    let event = until_event(&aws, &cb, "CallbackTimedOut", Duration::from_secs(1));
    assert_eq!(event["CallbackTimedOutDetails"]["Error"]["Payload"]["ErrorType"], "Callback.Timeout");

    // A callback failure sent by the external system fails the execution with that error.
    let fails = start(&aws, &function("CallbackFails", name), "\"rejected\"");
    let opened = until_event(&aws, &fails, "CallbackStarted", Duration::from_secs(30));
    let id = opened["CallbackStartedDetails"]["CallbackId"].as_str().unwrap().to_owned();
    let sent = aws.run(&[
        "lambda",
        "send-durable-execution-callback-failure",
        "--callback-id",
        &id,
        "--error",
        r#"{"ErrorType": "RejectedError", "ErrorMessage": "not approved"}"#,
    ]);
    assert!(sent.ok, "{}", sent.stderr);
    assert_eq!(until_ended(&aws, &fails, Duration::from_secs(30))["Status"], "FAILED");
    let failed = until_event(&aws, &fails, "CallbackFailed", Duration::from_secs(1));
    assert_eq!(failed["CallbackFailedDetails"]["Error"]["Payload"]["ErrorMessage"], "not approved");

    // Stop: a long wait is cancelled and the history says so.
    let waiting = start(&aws, &function("Callback", name), "\"never\"");
    until_event(&aws, &waiting, "CallbackStarted", Duration::from_secs(30));
    let stopped = aws.run(&[
        "lambda",
        "stop-durable-execution",
        "--durable-execution-arn",
        &waiting,
        "--error",
        r#"{"ErrorType": "Operator", "ErrorMessage": "enough"}"#,
    ]);
    assert!(stopped.ok, "{}", stopped.stderr);
    assert!(stopped.json()["StopTimestamp"].is_number(), "{}", stopped.stdout);
    let execution = get(&aws, &waiting);
    assert_eq!(execution["Status"], "STOPPED");
    let last = events(&aws, &waiting).pop().unwrap();
    assert_eq!(last["EventType"], "ExecutionStopped");
    assert_eq!(last["ExecutionStoppedDetails"]["Error"]["Payload"]["ErrorMessage"], "enough");
}

#[test]
fn execution_timeouts_and_chained_invokes_of_plain_and_durable_targets() {
    let name = "capabilities-timeout";
    let local = Local::deploy(&stack(name), |_, _| Vec::new());
    let aws = Aws { local: &local };
    let echo = start(&aws, &function("InvokeEcho", name), "\"hello\"");
    let short = start(&aws, &function("ShortLived", name), "{}");
    // The caller of a durable function that runs out of time: its chained invoke ends TIMED_OUT.
    let caller = start(&aws, &function("InvokeTimesOut", name), "\"ping\"");
    let done = until_ended(&aws, &echo, Duration::from_secs(30));
    assert_eq!(done["Status"], "SUCCEEDED", "{done}");
    assert_eq!(done["Result"], "\"hello\"");
    let timed_out = until_ended(&aws, &short, Duration::from_secs(20));
    assert_eq!(timed_out["Status"], "TIMED_OUT");
    assert_eq!(events(&aws, &short).pop().unwrap()["EventType"], "ExecutionTimedOut");
    let timed = until_event(&aws, &caller, "ChainedInvokeTimedOut", Duration::from_secs(30));
    assert!(timed["ChainedInvokeTimedOutDetails"]["Error"]["Payload"]["ErrorType"].is_string(), "{timed}");
    assert_eq!(until_ended(&aws, &caller, Duration::from_secs(30))["Status"], "FAILED");

    // Heartbeats push a callback's heartbeat deadline (5 s): sent every 2 s for 8 s it stays open, then it times out.
    let beating = start(&aws, &function("Heartbeat", name), "\"beat\"");
    let opened = until_event(&aws, &beating, "CallbackStarted", Duration::from_secs(30));
    assert_eq!(opened["CallbackStartedDetails"]["HeartbeatTimeout"], 5);
    let id = opened["CallbackStartedDetails"]["CallbackId"].as_str().unwrap().to_owned();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_secs(2));
        let sent = aws.run(&["lambda", "send-durable-execution-callback-heartbeat", "--callback-id", &id]);
        assert!(sent.ok, "a heartbeat within the timeout was refused: {}", sent.stderr);
    }
    assert_eq!(get(&aws, &beating)["Status"], "RUNNING", "the callback timed out despite its heartbeats");
    assert_eq!(until_ended(&aws, &beating, Duration::from_secs(30))["Status"], "FAILED");
    let event = until_event(&aws, &beating, "CallbackTimedOut", Duration::from_secs(1));
    assert_eq!(event["CallbackTimedOutDetails"]["Error"]["Payload"]["ErrorType"], "Callback.Heartbeat");
}
