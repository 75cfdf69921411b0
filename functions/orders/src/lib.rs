//! The example app's order workflow, a durable function:
//!
//! 1. `reserve`: a step that reserves the order's stock and records the order in the orders table (`ORDERS_TABLE`,
//!    status `reserved`). The inventory service is busy now and then, so the step retries with backoff (2 s, 4 s,
//!    8 s; four attempts in all); a write the table refuses is retried the same way. An order's `reserveFailures`
//!    makes the first attempts fail, which is how the example shows a retry without a real inventory service.
//! 2. `approval`: a callback a person answers (`{"approved": true}`), with a heartbeat timeout: whoever holds the
//!    callback id reports every [`APPROVAL_HEARTBEAT`] (or `APPROVAL_HEARTBEAT_SECONDS`) that someone is still
//!    deciding, or the order fails. A rejected order ends in the `reject` step, which marks it `rejected`.
//! 3. `fulfil`: a chained invoke of the fulfilment function with the order's quantities.
//! 4. `return-window`: a wait of `holdDays` days before the order is closed (none when 0).
//! 5. `close`: a step that marks the order `closed` in the table and returns the outcome.
//!
//! The steps' checkpoints make each write happen once per order, whatever replays the workflow goes through. A stack
//! without a table (no `ORDERS_TABLE`) runs the same workflow without recording it.

use std::collections::HashMap;
use std::time::Duration;

use aws_durable_execution_sdk::builders::{JitterStrategy, RetryStrategyConfig};
use aws_durable_execution_sdk::{BoxError, DurableContext, TypedError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Environment variable naming the function the workflow invokes to fulfil an order.
pub const FULFIL_FUNCTION_ENV: &str = "FULFIL_FUNCTION_NAME";
/// Environment variable naming the table the workflow records orders in (none: orders are not recorded).
pub const TABLE_ENV: &str = "ORDERS_TABLE";
/// Name of the reservation step.
pub const RESERVE: &str = "reserve";
/// Name of the approval callback.
pub const APPROVAL: &str = "approval";
/// Name of the chained invoke that fulfils the order.
pub const FULFIL: &str = "fulfil";
/// Name of the wait before the order is closed.
pub const RETURN_WINDOW: &str = "return-window";
/// Name of the closing step.
pub const CLOSE: &str = "close";
/// Name of the step that records a rejected order.
pub const REJECT: &str = "reject";
/// Environment variable: how long an approver has, in seconds ([`APPROVAL_TIMEOUT`] when unset).
pub const APPROVAL_TIMEOUT_ENV: &str = "APPROVAL_TIMEOUT_SECONDS";
/// Environment variable: how often an approver must say they are still deciding, in seconds
/// ([`APPROVAL_HEARTBEAT`] when unset).
pub const APPROVAL_HEARTBEAT_ENV: &str = "APPROVAL_HEARTBEAT_SECONDS";
/// How long an approver has, in all, unless the function's configuration says.
pub const APPROVAL_TIMEOUT: Duration = Duration::from_hours(72);
/// How often an approver must say they are still deciding, unless the function's configuration says.
pub const APPROVAL_HEARTBEAT: Duration = Duration::from_hours(1);
/// Attempts of the reservation step, the first included.
pub const RESERVE_ATTEMPTS: u32 = 4;
/// Delay before the reservation's first retry; each next one doubles.
pub const RESERVE_FIRST_RETRY: Duration = Duration::from_secs(2);

/// The workflow's configuration, read once when the function starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The function that fulfils an order (name or ARN).
    pub fulfil: String,
    /// How long an approver has.
    pub approval_timeout: Duration,
    /// How often an approver must say they are still deciding.
    pub approval_heartbeat: Duration,
    /// The table orders are recorded in, when the stack gives one.
    pub table: Option<String>,
}

impl Settings {
    /// Reads the settings from `lookup` (the process environment in `main`).
    ///
    /// # Errors
    ///
    /// A message naming the variable that is missing or not a number of seconds.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let fulfil = lookup(FULFIL_FUNCTION_ENV).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            format!("{FULFIL_FUNCTION_ENV} is not set: the order workflow needs the name or ARN of the function that fulfils an order")
        })?;
        let seconds = |name: &str, default: Duration| match lookup(name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| format!("{name} must be a whole number of seconds, got `{text}`")),
        };
        Ok(Self {
            fulfil: fulfil.trim().to_owned(),
            approval_timeout: seconds(APPROVAL_TIMEOUT_ENV, APPROVAL_TIMEOUT)?,
            approval_heartbeat: seconds(APPROVAL_HEARTBEAT_ENV, APPROVAL_HEARTBEAT)?,
            table: lookup(TABLE_ENV).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()),
        })
    }
}

/// The orders table: one item per order (key `orderId`), its status and lines.
#[derive(Debug, Clone)]
pub struct OrderTable {
    client: aws_sdk_dynamodb::Client,
    name: String,
}

impl OrderTable {
    /// The table `name`, written with `client`.
    pub fn new(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into() }
    }

    /// Writes the order's item with `status` (the whole item: a retried write leaves the same one).
    async fn record(&self, order: &Order, status: &str) -> Result<(), BoxError> {
        self.client.put_item().table_name(&self.name).set_item(Some(item(order, status))).send().await.map_err(
            |e| -> BoxError {
                let message = format!(
                    "cannot record order {} in table {}: {}",
                    order.order_id,
                    self.name,
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                );
                Box::new(TypedError::with_type("OrderTableWrite", StoreError(message)))
            },
        )?;
        Ok(())
    }
}

/// A write the orders table refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct StoreError(String);

/// The table item of `order` in `status`.
#[must_use]
pub fn item(order: &Order, status: &str) -> HashMap<String, AttributeValue> {
    let quantities = order.quantities.iter().map(|q| AttributeValue::N(q.to_string())).collect();
    let total: u64 = order.quantities.iter().map(|q| u64::from(*q)).sum();
    HashMap::from([
        ("orderId".to_owned(), AttributeValue::S(order.order_id.clone())),
        ("status".to_owned(), AttributeValue::S(status.to_owned())),
        ("quantities".to_owned(), AttributeValue::L(quantities)),
        ("total".to_owned(), AttributeValue::N(total.to_string())),
    ])
}

/// An order: the execution's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The order's id.
    pub order_id: String,
    /// Quantities of its lines.
    pub quantities: Vec<u32>,
    /// Days to wait after fulfilment before the order is closed.
    #[serde(default)]
    pub hold_days: u64,
    /// How many reservation attempts fail before one succeeds (the example's stand-in for a busy inventory).
    #[serde(default)]
    pub reserve_failures: u32,
}

/// An approver's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Whether the order goes ahead.
    pub approved: bool,
}

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The order's id.
    pub order_id: String,
    /// `closed` or `rejected`.
    pub status: String,
    /// The fulfilment function's answer, for a closed order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<Value>,
}

/// Why an order's workflow failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// The inventory service did not answer this attempt.
    #[error("the inventory service is busy (attempt {attempt}); the reservation is retried")]
    InventoryBusy {
        /// The attempt that failed.
        attempt: u32,
    },
    /// An order without lines.
    #[error("order {order_id} has no lines")]
    Empty {
        /// The order's id.
        order_id: String,
    },
}

fn durable_error(error: OrderError) -> BoxError {
    let kind = match &error {
        OrderError::InventoryBusy { .. } => "InventoryBusy",
        OrderError::Empty { .. } => "EmptyOrder",
    };
    Box::new(TypedError::with_type(kind, error))
}

/// The durable handler.
///
/// # Errors
///
/// [`OrderError::Empty`] for an order without lines; the reservation's last error once its attempts are spent
/// (a busy inventory, or a write the orders table refused: `OrderTableWrite`); the approval's timeout or failure;
/// the fulfilment's failure; the table's refusal of the closing (or rejecting) write.
pub async fn handle(
    order: Order,
    ctx: DurableContext,
    settings: Settings,
    table: Option<OrderTable>,
) -> Result<Outcome, BoxError> {
    if order.quantities.is_empty() {
        return Err(durable_error(OrderError::Empty { order_id: order.order_id }));
    }
    let failures = order.reserve_failures;
    let total: u32 = order.quantities.iter().sum();
    let retries = RetryStrategyConfig::builder()
        .max_attempts(RESERVE_ATTEMPTS)
        .initial_delay(RESERVE_FIRST_RETRY)
        .backoff_rate(2.0)
        .jitter(JitterStrategy::None)
        .build();
    let (reserving, reserve_table) = (order.clone(), table.clone());
    let _reserved: u32 = ctx
        .step(move |step| async move {
            if step.attempt() <= failures {
                return Err(durable_error(OrderError::InventoryBusy { attempt: step.attempt() }));
            }
            if let Some(table) = &reserve_table {
                table.record(&reserving, "reserved").await?;
            }
            Ok(total)
        })
        .name(RESERVE)
        .retry_strategy_config(retries)
        .await?;

    let approval: Approval = ctx
        .wait_for_callback(|_step, callback_id: String| async move {
            // A real app sends the id to the approver (a message, an email); here it goes to the log.
            tracing::info!(%callback_id, "waiting for an approver");
            Ok::<(), BoxError>(())
        })
        .name(APPROVAL)
        .timeout(settings.approval_timeout)
        .heartbeat(settings.approval_heartbeat)
        .await?;
    if !approval.approved {
        return ctx
            .step(move |_| async move {
                if let Some(table) = &table {
                    table.record(&order, "rejected").await?;
                }
                Ok::<_, BoxError>(Outcome { order_id: order.order_id, status: "rejected".into(), fulfilment: None })
            })
            .name(REJECT)
            .await
            .map_err(Into::into);
    }

    let fulfilment: Value =
        ctx.invoke(settings.fulfil, serde_json::json!({ "values": order.quantities })).name(FULFIL).await?;
    if order.hold_days > 0 {
        ctx.wait(Duration::from_hours(24 * order.hold_days)).name(RETURN_WINDOW).await?;
    }
    ctx.step(move |_| async move {
        if let Some(table) = &table {
            table.record(&order, "closed").await?;
        }
        Ok::<_, BoxError>(Outcome { order_id: order.order_id, status: "closed".into(), fulfilment: Some(fulfilment) })
    })
    .name(CLOSE)
    .await
    .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_sdk_dynamodb::types::AttributeValue;

    use super::{APPROVAL_HEARTBEAT, FULFIL_FUNCTION_ENV, Order, Settings, TABLE_ENV, item};

    #[test]
    fn settings_default_the_approval_times_and_name_a_bad_variable() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let settings = Settings::from_env(env(&[(FULFIL_FUNCTION_ENV, "fulfil"), ("APPROVAL_TIMEOUT_SECONDS", "480")]));
        let settings = settings.unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (settings.fulfil.as_str(), settings.approval_timeout, settings.approval_heartbeat),
            ("fulfil", Duration::from_mins(8), APPROVAL_HEARTBEAT)
        );
        assert_eq!(settings.table, None, "no table: orders are not recorded");
        let with_table = Settings::from_env(env(&[(FULFIL_FUNCTION_ENV, "f"), (TABLE_ENV, " orders-Table-1 ")]));
        assert_eq!(with_table.ok().and_then(|s| s.table).as_deref(), Some("orders-Table-1"));
        let missing = Settings::from_env(env(&[])).err().unwrap_or_default();
        assert!(missing.contains(FULFIL_FUNCTION_ENV), "{missing}");
        let bad = Settings::from_env(env(&[(FULFIL_FUNCTION_ENV, "f"), ("APPROVAL_HEARTBEAT_SECONDS", "1h")]));
        let bad = bad.err().unwrap_or_default();
        assert!(bad.contains("APPROVAL_HEARTBEAT_SECONDS") && bad.contains("`1h`"), "{bad}");
    }

    #[test]
    fn an_order_s_item_holds_its_key_status_lines_and_total() {
        let order = Order { order_id: "o-1".into(), quantities: vec![2, 3], hold_days: 0, reserve_failures: 0 };
        let item = item(&order, "reserved");
        assert_eq!(item["orderId"], AttributeValue::S("o-1".into()));
        assert_eq!(item["status"], AttributeValue::S("reserved".into()));
        assert_eq!(
            item["quantities"],
            AttributeValue::L(vec![AttributeValue::N("2".into()), AttributeValue::N("3".into())])
        );
        assert_eq!(item["total"], AttributeValue::N("5".into()));
        assert_eq!(item.len(), 4);
    }
}
