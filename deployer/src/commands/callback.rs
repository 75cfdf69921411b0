//! `callback succeed|fail|heartbeat <id>`: what an external system sends to a durable execution waiting on a
//! callback, on AWS or the local target (the same Lambda API either way).

use crate::cli::{CallbackAction, CallbackArgs};
use crate::durable::api::{self, CallbackOutcome};
use crate::error::Result;
use crate::io::Event;

use super::Context;
use super::invoke::read_payload;

/// Runs `callback`.
pub(crate) async fn run(ctx: &Context, args: &CallbackArgs) -> Result<()> {
    let (callback_id, outcome, action) = match &args.action {
        CallbackAction::Succeed { callback_id, result } => {
            (callback_id, CallbackOutcome::Succeed(read_payload(result)?), "succeed")
        }
        CallbackAction::Fail { callback_id, error_type, error_message, error_data } => (
            callback_id,
            CallbackOutcome::Fail {
                error_type: error_type.clone(),
                message: error_message.clone(),
                data: error_data.clone(),
            },
            "fail",
        ),
        CallbackAction::Heartbeat { callback_id } => (callback_id, CallbackOutcome::Heartbeat, "heartbeat"),
    };
    let aws = ctx.target.connect().await?;
    api::send_callback(&aws.lambda, callback_id, outcome).await?;
    ctx.run.host.notify(Event::CallbackSent { callback_id: callback_id.clone(), action: action.to_owned() });
    Ok(())
}
