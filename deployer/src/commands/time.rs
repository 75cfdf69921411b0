//! `time advance <duration>|next --local`: moves the local target's manual clock (`up --local --clock manual`).

use crate::cli::{TimeAction, TimeArgs};
use crate::durable::Timestamp;
use crate::error::{DeployerError, Result};
use crate::io::Event;
use crate::target::Target;

use super::Context;

/// Runs `time`.
pub(crate) async fn run(ctx: &Context, args: &TimeArgs) -> Result<()> {
    let Target::Local(local) = &ctx.target else {
        return Err(DeployerError::Unsupported {
            what: "`deployer time` moves the local target's manual clock; AWS runs on the wall clock".into(),
            remedy: "add --local, after starting the local target with `deployer up --local --clock manual`".into(),
        });
    };
    let how = match args.action {
        TimeAction::Advance { duration } => {
            local::ClockMove::Advance { ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX) }
        }
        TimeAction::Next => local::ClockMove::Next,
    };
    let reading = local.move_clock(how).await?;
    ctx.run.host.notify(Event::ClockMoved {
        now: Timestamp(reading.now_ms),
        moved_ms: reading.moved_ms,
        fired: reading.fired,
        next_timer: reading.next_timer_ms.map(Timestamp),
    });
    Ok(())
}
