//! The deployer: builds the functions a stack declares, packages them as deterministic zips, publishes them to the
//! asset bucket and deploys the stack through CloudFormation change sets, or runs the same stack on this machine.
//!
//! The pipeline is visible in the module names: [`build`] → [`package`] → [`publish`] → [`cfn`] (deploy and watch).
//! Deploy decisions never print: they report typed [`io::Event`]s to an [`io::Host`], which decides how a terminal,
//! a CI log or a JSON consumer sees them.

pub mod aws;
pub mod build;
pub mod cfn;
pub mod cli;
pub mod commands;
pub mod durable;
pub mod error;
pub mod interrupt;
pub mod io;
pub mod lock;
pub mod package;
pub mod publish;
pub mod workspace;

pub use error::{DeployerError, Result};
