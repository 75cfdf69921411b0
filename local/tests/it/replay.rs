//! Replay of a recorded execution against the current code: the same code replays cleanly (ended or still
//! waiting), and a change that renames the first operation is found at its position, without the engine
//! recording anything.

use std::time::Duration;

use local::ClockMove;
use local::service::replay::Verdict;

use crate::support::{Local, conformance_stack};

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

    // The function's code changes: 2-2 waits once, under another name.
    local.change(&conformance_stack("replay", &[("Flow", "2-2", 600)]));
    let report = local.rt.block_on(local.target.replay(&ended)).unwrap();
    let Verdict::Diverged { position, recorded, now, .. } = &report.verdict else { panic!("{report:?}") };
    assert_eq!(*position, Some(1), "{report:?}");
    assert!(recorded.as_deref().is_some_and(|r| r.contains("\"wait-1\"")), "{report:?}");
    assert!(now.as_deref().is_some_and(|n| n.contains("\"custom_wait_name\"")), "{report:?}");

    // Replays record nothing.
    assert_eq!(local.event_types(&ended), events_before);
    assert_eq!(local.execution(&waiting)["Status"], "RUNNING");
}
