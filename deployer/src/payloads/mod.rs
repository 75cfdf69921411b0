//! The plain data the output messages (`io`'s events) carry: stack changes and durable executions.
//!
//! A leaf, as CDK toolkit-lib's payloads are: `io` draws these types and the domain modules (`cfn`, `durable`) make
//! them, so neither needs the other and no module imports its importer.

pub(crate) mod changes;
pub(crate) mod executions;
pub(crate) mod timeline;
