//! The example app's order workflow, written with the library's public L2 constructs only, the way a project
//! adds a stack of its own: orders arrive on a queue (with a dead-letter queue for the ones that keep failing), an
//! event source mapping hands each one to a durable workflow (`functions/orders`: a retried reservation step, an
//! `approval` callback, a chained invoke of the fulfilment function, a return-window wait) through its `live`
//! alias, and the workflow may read and write the orders table. Every permission comes from a grant. The fulfilment
//! function reuses the pattern's processor. Not the default stack: `up` without a selection deploys the pattern
//! only, `up Orders` this one.

use constructs::dynamodb::{Attribute, Table};
use constructs::event_sources::SqsEventSource;
use constructs::lambda::{Publish, RustFunction};
use constructs::reference::Reference;
use constructs::resources::lambda::DurableConfig;
use constructs::sqs::Queue;
use constructs::{App, Output, RemovalPolicy, Stack, SynthError};

/// Construct id of the stack: it names the stack on the command line (`up Orders`).
pub const STACK_ID: &str = "Orders";
/// The stack's name unless the command line gives another.
pub const STACK_NAME: &str = "durable-orders";
/// The workflow's `DurableConfig`: an event source mapping waits for the execution it starts, at most 900 s.
pub const WORKFLOW_DURABLE_CONFIG: DurableConfig = DurableConfig::new(600, 7);
/// Environment variable naming the fulfilment function to the workflow.
pub const FULFIL_ENV: &str = "FULFIL_FUNCTION_NAME";
/// How long an approver has, in seconds: within the execution timeout, which the queue's trigger bounds.
pub const APPROVAL_TIMEOUT_SECONDS: u32 = 480;
/// How often an approver must send a heartbeat, in seconds.
pub const APPROVAL_HEARTBEAT_SECONDS: u32 = 120;
/// Environment variable naming the orders table to the workflow.
pub const TABLE_ENV: &str = "ORDERS_TABLE";

/// The order workflow's stack: construct id [`STACK_ID`], named [`STACK_NAME`].
pub fn stack(app: &App) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(app, STACK_ID)?;
    stack.set_stack_name(STACK_NAME)?;
    stack.set_description("Example app: a queue-triggered durable order workflow");

    // Deleted with the stack: an example's data (a real app keeps the default, Retain).
    let table = stack
        .construct("OrderTable", Table::new(Attribute::string("orderId")).removal_policy(RemovalPolicy::Delete))?;
    // Hidden from other consumers for as long as the workflow may hold a message; three tries, then the DLQ.
    let queue = stack.construct("OrderQueue", Queue::new().visibility_timeout_seconds(900).dead_letter_queue(3))?;
    let fulfil = stack.construct("Fulfil", RustFunction::new("processor").timeout_seconds(30))?;
    let fulfil_version = fulfil.publish(&mut stack, Publish::version())?.version;
    let workflow = stack.construct(
        "Workflow",
        RustFunction::new("orders")
            .timeout_seconds(60)
            .durable(WORKFLOW_DURABLE_CONFIG)
            .env(FULFIL_ENV, fulfil_version.ref_())
            .env("APPROVAL_TIMEOUT_SECONDS", APPROVAL_TIMEOUT_SECONDS.to_string())
            .env("APPROVAL_HEARTBEAT_SECONDS", APPROVAL_HEARTBEAT_SECONDS.to_string())
            .env(TABLE_ENV, table.table_name()),
    )?;
    fulfil.grant_invoke(&mut stack, &workflow)?;
    table.grant_read_write_data(&mut stack, &workflow)?;
    let live = workflow.publish(&mut stack, Publish::alias("live"))?;
    stack.construct("OrderQueueSource", SqsEventSource::new(&queue, &live).batch_size(1))?;

    stack.add_output("OrderQueueUrl", Output::new(queue.url()).description("Send orders here"))?;
    stack.add_output("OrderTableName", Output::new(table.table_name()).description("Orders table"))?;
    stack.add_output("WorkflowAliasArn", Output::new(live.arn()).description("Durable workflow alias ARN"))?;
    Ok(stack)
}
