//! The deployer's own end-to-end fixture: two durable functions and two plain ones in one stack, each durable
//! orchestrator calling its own processor. The deployer's tests deploy it on the local target to prove that every
//! command finds a function by name when a stack holds several; it is never part of a default selection.

use super::AppConfig;
use super::pattern::add_pair;
use crate::construct::Stack;
use crate::error::SynthError;

/// Name of the fixture stack.
pub const STACK_NAME: &str = "durable-toolkit-fixture";
/// Construct id of the fixture stack.
pub const STACK_ID: &str = "ToolkitFixture";
/// The durable functions' construct ids, each paired with the processor it calls.
pub const PAIRS: [(&str, &str); 2] =
    [("FirstOrchestrator", "FirstProcessor"), ("SecondOrchestrator", "SecondProcessor")];

/// The fixture stack.
pub fn stack(config: &AppConfig) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(STACK_NAME)?;
    stack.set_id(STACK_ID)?;
    stack.set_description(
        "Fixture of the deployer's tests: two durable orchestrators, each invoking a processor of its own",
    );
    for (orchestrator, processor) in PAIRS {
        add_pair(&mut stack, config, orchestrator, processor)?;
    }
    Ok(stack)
}
