//! `stacks`: a typed, CDK-style construct library that synthesizes CloudFormation, and this project's stacks.
//!
//! # Overview
//!
//! - [`construct`]: an [`App`] holds [`Stack`]s; resources are added under construct ids and get paths such as
//!   `durable-invoke-lambda/Processor`. [`logical_id`] derives logical IDs from paths with the CDK's algorithm.
//! - [`resources`]: typed builders (Lambda function, version, alias; IAM role and policy; log group; S3 bucket and
//!   bucket policy). Values CloudFormation would reject are errors naming the construct path.
//! - [`reference`](mod@reference): adding a resource returns a typed reference (`FunctionRef`, ...) whose methods give its
//!   `Ref` and attributes; [`reference::Sub`] builds `Fn::Sub` from them, so nothing is spelled by hand.
//! - [`asset`]: functions declare their code as assets; the deployer builds them and passes their hashes back.
//! - Synthesis: [`App::synth`] renders deterministic templates (sorted keys, pretty JSON) into a
//!   [`CloudAssembly`], the bootstrap stack first.
//! - [`app`]: this project's app, the only entry point the deployer needs: [`app::app`].
//!
//! # Quick start
//!
//! ```
//! use stacks::{AssetManifest, AssetSource, Output, Stack};
//! use stacks::resources::{lambda::Function, iam::Role};
//! use stacks::reference::Reference;
//!
//! let mut stack = Stack::new("demo")?;
//! let role = stack.add("HandlerRole", Role::for_service("lambda.amazonaws.com"))?;
//! let code = AssetSource::CargoBinary { package: "processor".into(), binary: "processor".into() };
//! let handler = stack.add("Handler", Function::new(code, &role).timeout_seconds(30))?;
//! stack.add_output("HandlerArn", Output::new(handler.arn()))?;
//!
//! let mut assets = AssetManifest::new();
//! assets.insert("demo/Handler", "ab".repeat(32));
//! let synthesized = stack.synth(&assets)?;
//! assert_eq!(synthesized.template["Outputs"]["HandlerArn"]["Value"]["Fn::GetAtt"][0], "Handler");
//! # Ok::<(), stacks::SynthError>(())
//! ```

pub mod app;
pub mod asset;
pub mod construct;
pub mod error;
pub mod logical_id;
pub mod qualifier;
pub mod reference;
pub mod resources;
mod synth;
pub mod template;

pub use app::bootstrap;
pub use app::{AppConfig, Architecture};
pub use asset::{AssetManifest, AssetSource, AssetSpec, ResolvedAsset};
pub use construct::{App, Output, Scope, Stack};
pub use error::SynthError;
pub use resources::lambda::ParseArchitectureError;
pub use synth::{ASSET_METADATA_KEY, CloudAssembly, PATH_METADATA_KEY, StackKind, SynthesizedStack};
pub use template::RemovalPolicy;
