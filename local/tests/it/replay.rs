//! Replay of a recorded execution against the current code: the same code replays cleanly (ended or still
//! waiting), and a change that renames the first operation is found at its position, without the engine
//! recording anything.

use std::time::Duration;

use local::ClockMove;
use local::service::replay::Verdict;

use crate::support::{Local, conformance_stack};

/// The execution's history as the API answers it, with its data, timestamps back in epoch milliseconds: what the
/// deployer reads from AWS for `replay`.
#[expect(clippy::cast_possible_truncation, reason = "epoch milliseconds fit an i64")]
fn recorded_events(local: &Local, arn: &str) -> Vec<local::engine::model::Event> {
    let path = format!(
        "/2025-12-01/durable-executions/{}/history?IncludeExecutionData=true",
        local::http::encode_segment(arn)
    );
    let mut history: serde_json::Value = local.call(hyper::Method::GET, &path, &[], "").json().unwrap();
    let events = history["Events"].as_array_mut().unwrap();
    for event in events.iter_mut() {
        let seconds = event["EventTimestamp"].as_f64().unwrap();
        event["EventTimestamp"] = serde_json::json!((seconds * 1000.0).round() as i64);
        for details in event.as_object_mut().unwrap().values_mut().filter(|v| v.is_object()) {
            if let Some(end) = details.get("ScheduledEndTimestamp").and_then(serde_json::Value::as_f64) {
                details["ScheduledEndTimestamp"] = serde_json::json!((end * 1000.0).round() as i64);
            }
        }
    }
    serde_json::from_value(history["Events"].clone()).unwrap()
}

#[test]
fn replay_reports_the_same_decisions_and_finds_where_changed_code_diverges() {
    // 2-3: two named waits, `wait-1` then `wait-2`, on a manual clock so the test decides when they end.
    let mut local = Local::deploy_on_manual_clock(&conformance_stack("replay", &[("Flow", "2-3", 600)]));
    let name = local::arn::Arns::new("replay", "us-east-1").function_name("Flow");
    let ended = local.start(&format!("{name}:$LATEST"), "{}");
    // Each wait must have started before the clock moves: the next timer is otherwise the execution's timeout.
    for started in 1..=2 {
        local.until_events(&ended, "WaitStarted", started, Duration::from_secs(30));
        local.rt.block_on(local.target.move_clock(ClockMove::Next)).unwrap();
    }
    let done = local.wait_all(std::slice::from_ref(&ended), Duration::from_secs(30));
    assert_eq!(done[0]["Status"], "SUCCEEDED", "{done:?}");
    let events_before = local.event_types(&ended);

    let report = local.rt.block_on(local.target.replay(&ended)).unwrap();
    assert!(
        matches!(&report.verdict, Verdict::Same { detail } if detail.contains("returns the recorded result")),
        "{report:?}"
    );
    assert_eq!(report.recorded.len(), 2);
    assert!(report.recorded[0].identity.contains("wait-1") && report.recorded[1].identity.contains("wait-2"));

    // In flight: the code reaches `wait-1` as recorded and waits there.
    let waiting = local.start(&format!("{name}:$LATEST"), "{\"second\": true}");
    local.until_events(&waiting, "WaitStarted", 1, Duration::from_secs(30));
    let report = local.rt.block_on(local.target.replay(&waiting)).unwrap();
    assert!(matches!(&report.verdict, Verdict::Same { detail } if detail.contains("waits")), "{report:?}");
    assert_eq!(report.recorded.len(), 1, "{report:?}");

    // The same execution as another service records it (AWS's history API, with its data): replayed from that
    // record, it makes the same decisions.
    let elsewhere = |local: &Local| local::protocol::RecordedExecution {
        function: name.clone(),
        status: local::engine::model::ExecutionStatus::Succeeded,
        result: done[0]["Result"].as_str().map(str::to_owned),
        error: None,
        events: recorded_events(local, &ended),
    };
    let report = local.rt.block_on(local.target.replay_recorded(&ended, elsewhere(&local))).unwrap();
    assert!(matches!(&report.verdict, Verdict::Same { .. }), "{report:?}");
    assert_eq!(report.recorded.len(), 2, "{report:?}");

    // The function's code changes: 2-2 waits once, under another name.
    local.change(&conformance_stack("replay", &[("Flow", "2-2", 600)]));
    let report = local.rt.block_on(local.target.replay_recorded(&ended, elsewhere(&local))).unwrap();
    assert!(matches!(&report.verdict, Verdict::Diverged { position: Some(1), .. }), "{report:?}");
    let report = local.rt.block_on(local.target.replay(&ended)).unwrap();
    let Verdict::Diverged { position, recorded, now, .. } = &report.verdict else { panic!("{report:?}") };
    assert_eq!(*position, Some(1), "{report:?}");
    assert!(recorded.as_deref().is_some_and(|r| r.contains("\"wait-1\"")), "{report:?}");
    assert!(now.as_deref().is_some_and(|n| n.contains("\"custom_wait_name\"")), "{report:?}");

    // Replays record nothing.
    assert_eq!(local.event_types(&ended), events_before);
    assert_eq!(local.execution(&waiting)["Status"], "RUNNING");
}
