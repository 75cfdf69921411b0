//! IAM: `AWS::IAM::Role` (trust, inline policies, managed policy ARNs), `AWS::IAM::Policy` and policy documents.
//!
//! Every statement is checked when it is rendered: no `*` in an action, and a resource (or not-resource) may only
//! hold a wildcard in the qualifier form `<arn>:*`. A statement that allows must not name the `*` principal.

mod document;
mod role;

pub use document::{Effect, POLICY_VERSION, PolicyDocument, Principal, Statement};
pub use role::{ManagedPolicy, Policy, Role};
