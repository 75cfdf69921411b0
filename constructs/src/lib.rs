//! `constructs`: a typed, CDK-style construct library that synthesizes CloudFormation for AWS Lambda durable
//! functions written in Rust. It declares no stack of its own: a project's app does.
//!
//! # Overview
//!
//! - [`app`](mod@app): an [`App`] holds [`Stack`]s and knows what the deployer told it (the environment and its
//!   values, stack names, the functions' architecture); [`App::run`] is a project's whole app binary.
//! - [`construct`]: a stack holds resources under construct ids and paths such as `Pattern/Processor`;
//!   [`logical_id`] derives logical IDs from paths with the CDK's algorithm.
//! - Higher-level constructs with grants, in CDK's L2 manner, one module per service: [`lambda`] (a Rust function in
//!   one line), [`sqs`], [`event_sources`] (a queue triggering a function), [`dynamodb`], [`scheduler`],
//!   [`events`] and [`sns`]. Each makes the least-privilege `Allow` statements its grants describe; a durable
//!   function is invoked by its alias only (targeting the function itself is a synth error).
//! - [`resources`]: typed builders (Lambda function, version, alias; IAM role and policy; log group; S3 bucket and
//!   bucket policy). Values CloudFormation would reject are errors naming the construct path.
//! - [`reference`](mod@reference): adding a resource returns a typed reference (`FunctionRef`, ...) whose methods
//!   give its `Ref` and attributes; [`reference::Sub`] builds `Fn::Sub` from them, so nothing is spelled by hand.
//! - [`asset`]: functions declare their code as assets; the deployer builds them and passes their names back.
//! - Synthesis: [`App::synth`] renders deterministic templates (sorted keys, pretty JSON) into a
//!   [`CloudAssembly`]; [`assembly`] writes and reads it as the folder the deployer reads.
//!
//! # Quick start
//!
//! ```
//! use constructs::{App, AssetSource, Output, Stack};
//! use constructs::resources::{lambda::Function, iam::Role};
//! use constructs::reference::Reference;
//!
//! let mut app = App::new();
//! let mut stack = Stack::new(&app, "Demo")?;
//! let role = stack.add("HandlerRole", Role::for_service("lambda.amazonaws.com"))?;
//! let code = AssetSource::CargoBinary { package: "processor".into(), binary: "processor".into() };
//! let handler = stack.add("Handler", Function::new(code, &role).timeout_seconds(30))?;
//! stack.add_output("HandlerArn", Output::new(handler.arn()))?;
//! app.add_stack(stack)?;
//!
//! let assembly = app.synth()?;
//! assert_eq!(assembly.stacks[0].template["Outputs"]["HandlerArn"]["Value"]["Fn::GetAtt"][0], "Handler");
//! # Ok::<(), constructs::SynthError>(())
//! ```

pub mod app;
pub mod assembly;
pub mod asset;
pub mod construct;
pub mod dynamodb;
pub mod error;
pub mod event_sources;
pub mod events;
pub mod grant;
pub mod lambda;
pub mod logical_id;
pub mod qualifier;
pub mod reference;
pub mod resources;
pub mod scheduler;
pub mod schema;
pub mod sns;
pub mod sqs;
mod synth;
pub mod template;

pub use app::{App, AppContext, Environment};
pub use asset::{AssetManifest, AssetSource, AssetSpec, ResolvedAsset};
pub use construct::{Construct, Output, Scope, Stack};
pub use error::SynthError;
pub use grant::Grantee;
pub use resources::lambda::{Architecture, ParseArchitectureError};
pub use synth::{ASSET_METADATA_KEY, CloudAssembly, PATH_METADATA_KEY, StackKind, SynthesizedStack};
pub use template::RemovalPolicy;
