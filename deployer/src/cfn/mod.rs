//! Deploy and watch: CloudFormation stacks, change sets, stack events and the decisions between them.
//!
//! Pure decisions ([`status`], [`approval`], [`replacement`], [`template_diff`]) are kept apart from the calls that act on them
//! ([`stack`], [`change_set`], [`monitor`]) and from the orchestration ([`deploy`], [`destroy`]).

pub(crate) mod approval;
pub(crate) mod change_set;
pub(crate) mod deploy;
pub(crate) mod destroy;
pub(crate) mod monitor;
pub(crate) mod replacement;
pub(crate) mod stack;
pub(crate) mod status;
pub(crate) mod template_diff;

#[cfg(test)]
mod tests;
