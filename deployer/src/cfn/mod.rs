//! Deploy and watch: CloudFormation stacks, change sets, stack events and the decisions between them.
//!
//! Pure decisions ([`status`], [`approval`], [`replacement`], [`template_diff`]) are kept apart from the calls that act on them
//! ([`stack`], [`change_set`], [`monitor`]) and from the orchestration ([`deploy`], [`destroy`]).

pub mod approval;
pub mod change_set;
pub mod deploy;
pub mod destroy;
pub mod monitor;
pub mod replacement;
pub mod stack;
pub mod status;
pub mod template_diff;

#[cfg(test)]
mod replay_tests;
