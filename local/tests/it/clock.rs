//! The manual clock (`up --local --clock manual`): time stands still until it is moved, a move fires exactly the
//! timers it passes and answers once they were applied, and the wall clock refuses to be moved.

use std::time::Duration;

use local::{ClockMove, ServiceAction};

use crate::support::{Local, conformance_stack};

fn function(local: &Local, id: &str) -> String {
    let name = local::arn::Arns::new(local.request.stacks[0].name.as_str(), "us-east-1").function_name(id);
    format!("{name}:$LATEST")
}

#[test]
fn a_manual_clock_stands_still_until_moved_and_a_move_fires_the_timers_it_passes() {
    let mut local = Local::deploy_on_manual_clock(&conformance_stack("clock-manual", &[("WaitHour", "2-5", 7200)]));
    let arn = local.start(&function(&local, "WaitHour"), "{}");
    local.until_events(&arn, "WaitStarted", 1, Duration::from_secs(30));
    let before = local.rt.block_on(local.target.status()).unwrap();
    assert_eq!(before.clock, local::ClockMode::Manual);
    let start = before.clock_ms.unwrap();

    // Real time passes, virtual time does not: the one-hour wait stays pending.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(local.rt.block_on(local.target.status()).unwrap().clock_ms, Some(start), "the manual clock moved");
    let short = local.rt.block_on(local.target.move_clock(ClockMove::Advance { ms: 3_599_000 })).unwrap();
    assert_eq!((short.moved_ms, short.fired), (3_599_000, 0), "{short:?}");
    let wait_end = short.next_timer_ms.unwrap();
    assert_eq!(wait_end, start + 3_600_000, "the wait's end is not the next timer: {short:?}");
    assert_eq!(local.execution(&arn)["Status"], "RUNNING", "the wait ended before its hour");

    // `next` moves exactly to the wait's end and fires it; the execution then runs to its end.
    let next = local.rt.block_on(local.target.move_clock(ClockMove::Next)).unwrap();
    assert_eq!((next.now_ms, next.fired), (wait_end, 1), "{next:?}");
    let ended = local.wait_all(std::slice::from_ref(&arn), Duration::from_secs(30));
    assert_eq!(ended[0]["Status"], "SUCCEEDED", "{ended:?}");
    assert!(local.event_types(&arn).contains(&"WaitSucceeded".to_owned()));

    // A restarted service carries on from the clock's last move, not from the wall clock's time.
    local.request.clock = local::ClockMode::Wall;
    assert_eq!(local.redeploy().action, ServiceAction::Restarted);
    local.request.clock = local::ClockMode::Manual;
    assert_eq!(local.redeploy().action, ServiceAction::Restarted);
    assert_eq!(local.rt.block_on(local.target.status()).unwrap().clock_ms, Some(wait_end));
}

#[test]
fn the_wall_clock_refuses_to_move_and_names_the_manual_clock() {
    let local = Local::deploy(&conformance_stack("clock-wall", &[]), |_, _| Vec::new());
    let error = local.rt.block_on(local.target.move_clock(ClockMove::Next)).unwrap_err().to_string();
    assert!(error.contains("wall clock") && error.contains("--clock manual"), "{error}");
}
