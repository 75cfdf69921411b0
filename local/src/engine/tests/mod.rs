//! The engine's tests: its decisions as tables of (state, command) → (changes, actions) ([`tables`]), and the
//! engine with its store ([`engine`]): loading, storing, follow-ups between executions, paging and retention.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod engine;
mod tables;

use serde_json::{Value, json};

use super::model::{ErrorObject, OperationAction, OperationType, OperationUpdate};
use super::{Functions, InvokeTarget};

/// Chained-invoke targets: `fn-processor` (plain, version 1), `fn-child` (durable); nothing else.
pub(super) struct Deployed;

impl Functions for Deployed {
    fn resolve(&self, identifier: &str) -> Result<InvokeTarget, ErrorObject> {
        let name = identifier.rsplit(':').find(|p| p.starts_with("fn-")).unwrap_or(identifier);
        let function_arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
        match name {
            "fn-processor" => {
                Ok(InvokeTarget { function_name: name.into(), function_arn, qualifier: "1".into(), durable: None })
            }
            "fn-child" => Ok(InvokeTarget {
                function_name: name.into(),
                function_arn,
                qualifier: "$LATEST".into(),
                durable: Some((60, 1)),
            }),
            _ => Err(ErrorObject::new("ResourceNotFoundException", format!("Function not found: {identifier}"))),
        }
    }
}

/// An update of operation `id`, named `<id>-name`.
pub(super) fn update(id: &str, kind: OperationType, action: OperationAction) -> OperationUpdate {
    OperationUpdate {
        id: id.into(),
        parent_id: None,
        name: Some(format!("{id}-name")),
        operation_type: kind,
        sub_type: None,
        action,
        payload: None,
        error: None,
        context_options: None,
        step_options: None,
        wait_options: None,
        callback_options: None,
        chained_invoke_options: None,
    }
}

/// An error object as the API spells it.
pub(super) fn error_json(error_type: &str, message: &str) -> Value {
    json!({"ErrorType": error_type, "ErrorMessage": message})
}
