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
    let assets = package_outputs(outputs, &ctx.workspace.target_dir, package::package_bootstrap)?;
    for prepared in &assets {
        ctx.host.notify(Event::AssetPackaged {
            asset: prepared.asset_id.clone(),
            path: prepared.packaged.zip_path.display().to_string(),
            bytes: prepared.packaged.bytes,
            sha256: prepared.packaged.sha256.clone(),
        });
    }
    let manifest = AssetManifest(
        assets.iter().map(|a| (a.asset_id.clone(), ResolvedAsset { sha256: a.packaged.sha256.clone() })).collect(),
    );
    let assembly = app.synth(&manifest)?;
    Ok(Prepared { assembly, assets })
}

/// Packages the build outputs: one zip per distinct `bootstrap` (`package(bootstrap, out_dir)`), shared by every
/// asset built from that binary (every conformance function runs the same one), and prebuilt zips as they are.
/// Returns one prepared asset per output, in order.
fn package_outputs(
    outputs: Vec<BuildOutput>,
    target_dir: &std::path::Path,
    mut package: impl FnMut(&std::path::Path, &std::path::Path) -> Result<PackagedAsset>,
) -> Result<Vec<PreparedAsset>> {
    let mut zips: Vec<(PathBuf, PackagedAsset)> = Vec::new();
    let mut assets = Vec::new();
    for output in outputs {
        let prepared = match output {
            BuildOutput::Binary(binary) => {
                let packaged = if let Some((_, zip)) = zips.iter().find(|(path, _)| *path == binary.bootstrap) {
                    zip.clone()
                } else {
                    let dir = binary.bootstrap.parent().map_or_else(|| target_dir.to_path_buf(), PathBuf::from);
                    let zip = package(&binary.bootstrap, &dir)?;
                    zips.push((binary.bootstrap.clone(), zip.clone()));
                    zip
                };
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
        assets.push(prepared);
    }
    Ok(assets)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::path::{Path, PathBuf};

    use super::package_outputs;
    use crate::build::{BuildOutput, BuiltBinary};
    use crate::package::PackagedAsset;

    fn binary(asset: &str, bootstrap: &str) -> BuildOutput {
        BuildOutput::Binary(BuiltBinary {
            asset_id: asset.into(),
            binary: "b".into(),
            bootstrap: PathBuf::from(bootstrap),
        })
    }

    #[test]
    fn assets_built_from_one_binary_share_one_zip() {
        let outputs = vec![
            binary("s/A", "/t/lambda/shared/bootstrap"),
            binary("s/B", "/t/lambda/shared/bootstrap"),
            binary("s/C", "/t/lambda/other/bootstrap"),
            binary("s/D", "/t/lambda/shared/bootstrap"),
        ];
        let mut packaged: Vec<(PathBuf, PathBuf)> = Vec::new();
        let assets = package_outputs(outputs, Path::new("/t"), |bootstrap, dir| {
            packaged.push((bootstrap.to_path_buf(), dir.to_path_buf()));
            Ok(PackagedAsset {
                zip_path: dir.join("bootstrap.zip"),
                sha256: format!("{:0>64}", packaged.len()),
                bytes: 1,
            })
        })
        .unwrap();
        assert_eq!(
            packaged,
            [
                (PathBuf::from("/t/lambda/shared/bootstrap"), PathBuf::from("/t/lambda/shared")),
                (PathBuf::from("/t/lambda/other/bootstrap"), PathBuf::from("/t/lambda/other")),
            ],
            "one zip per distinct binary"
        );
        let ids: Vec<(&str, &str)> = assets.iter().map(|a| (a.asset_id.as_str(), &a.packaged.sha256[63..])).collect();
        assert_eq!(ids, [("s/A", "1"), ("s/B", "1"), ("s/C", "2"), ("s/D", "1")], "every asset, in order");
    }
}
