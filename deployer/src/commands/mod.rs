//! One module per verb, each with a `run`. The shared pipeline (synthesize the app, build, package) lives here.

pub mod callback;
pub mod diff;
pub mod down;
pub mod executions;
pub mod history;
pub mod invoke;
pub mod local;
pub mod stop;
pub mod synth;
pub mod up;

use std::path::PathBuf;
use std::sync::Arc;

use stacks::{AppConfig, AssetManifest, CloudAssembly, ResolvedAsset, StackKind, SynthesizedStack};

use crate::aws::{Aws, AwsOptions};
use crate::build::{self, BuildOutput, BuildTarget};
use crate::cli::GlobalArgs;
use crate::error::{DeployerError, Result};
use crate::io::{Event, Host};
use crate::package::{self, PackagedAsset};
use crate::workspace::Workspace;

/// What every command runs with.
#[derive(Clone)]
pub struct Context {
    /// Global options.
    pub global: GlobalArgs,
    /// Where output goes.
    pub host: Arc<dyn Host>,
    /// The cargo workspace.
    pub workspace: Workspace,
}

impl Context {
    /// The app configuration the options describe.
    pub fn app_config(&self) -> AppConfig {
        AppConfig { stack_name: self.global.stack_name.clone(), architecture: self.global.arch, ..AppConfig::default() }
    }

    /// AWS options from the command line.
    pub fn aws_options(&self) -> AwsOptions {
        AwsOptions { profile: self.global.profile.clone(), region: self.global.region.clone(), ..AwsOptions::default() }
    }

    /// Connects to AWS.
    pub async fn aws(&self) -> Result<Aws> {
        Aws::connect(&self.aws_options()).await
    }
}

/// One asset after build and package.
#[derive(Debug, Clone)]
pub struct PreparedAsset {
    /// Construct path of the asset.
    pub asset_id: String,
    /// The built `bootstrap`, for cargo assets.
    pub bootstrap: Option<PathBuf>,
    /// The zip.
    pub packaged: PackagedAsset,
}

/// The app, built, packaged and synthesized.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The templates.
    pub assembly: CloudAssembly,
    /// The assets.
    pub assets: Vec<PreparedAsset>,
}

impl Prepared {
    /// The bootstrap stack.
    pub fn bootstrap(&self) -> Option<&SynthesizedStack> {
        self.assembly.stacks.iter().find(|s| s.kind == StackKind::Bootstrap)
    }

    /// The app stacks, in deployment order.
    pub fn app_stacks(&self) -> impl Iterator<Item = &SynthesizedStack> {
        self.assembly.stacks.iter().filter(|s| s.kind == StackKind::App)
    }
}

/// Synthesizes the app: builds every function the stacks declare for `target`, packages each as a deterministic
/// zip and synthesizes the templates with the zips' hashes, then writes the templates to the synth folder.
pub fn prepare(ctx: &Context, target: BuildTarget) -> Result<Prepared> {
    let app = stacks::app::app(&ctx.app_config())?;
    let specs = app.assets();
    ctx.host.notify(Event::Stage {
        stage: "build".into(),
        message: format!("compiling {} function(s) for {}", specs.len(), describe_target(target)),
    });
    if matches!(target, BuildTarget::Lambda(_)) {
        let host = ctx.host.clone();
        build::toolchain::ensure(&ctx.workspace, &move |message| host.notify(Event::Info { message }))?;
    }
    let outputs = build::build(&ctx.workspace, &specs, target)?;
    let mut assets = Vec::new();
    for output in outputs {
        let prepared = match output {
            BuildOutput::Binary(binary) => {
                let dir = binary.bootstrap.parent().map_or_else(|| ctx.workspace.target_dir.clone(), PathBuf::from);
                let packaged = package::package_bootstrap(&binary.bootstrap, &dir)?;
                PreparedAsset { asset_id: binary.asset_id, bootstrap: Some(binary.bootstrap), packaged }
            }
            BuildOutput::Zip { asset_id, path } => {
                let bytes = std::fs::read(&path).map_err(|e| DeployerError::io("read", &path, e))?;
                let packaged = PackagedAsset {
                    sha256: package::zip::sha256_hex(&bytes),
                    bytes: bytes.len() as u64,
                    zip_path: path,
                };
                PreparedAsset { asset_id, bootstrap: None, packaged }
            }
        };
        ctx.host.notify(Event::AssetPackaged {
            asset: prepared.asset_id.clone(),
            path: prepared.packaged.zip_path.display().to_string(),
            bytes: prepared.packaged.bytes,
            sha256: prepared.packaged.sha256.clone(),
        });
        assets.push(prepared);
    }
    let manifest = AssetManifest(
        assets.iter().map(|a| (a.asset_id.clone(), ResolvedAsset { sha256: a.packaged.sha256.clone() })).collect(),
    );
    let assembly = app.synth(&manifest)?;
    Ok(Prepared { assembly, assets })
}

/// Writes each template as `<stack>.template.json` into `dir` and returns the paths.
pub fn write_templates(assembly: &CloudAssembly, dir: &std::path::Path) -> Result<Vec<(String, PathBuf)>> {
    std::fs::create_dir_all(dir).map_err(|e| DeployerError::io("create", dir, e))?;
    let mut written = Vec::new();
    for stack in &assembly.stacks {
        let path = dir.join(format!("{}.template.json", stack.stack_name));
        package::zip::write_atomically(&path, stack.template_body.as_bytes())?;
        written.push((stack.stack_name.clone(), path));
    }
    Ok(written)
}

fn describe_target(target: BuildTarget) -> String {
    match target {
        BuildTarget::Lambda(arch) => format!("provided.al2023 ({arch})"),
        BuildTarget::Host => "this machine".into(),
    }
}
