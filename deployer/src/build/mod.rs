//! Build: compiles every function binary the stacks declare, in one cargo invocation, for Lambda or for this host.
//!
//! Lambda builds target `provided.al2023`, which ships glibc 2.34: we link against exactly that glibc with
//! `cargo zigbuild` (zig as the C compiler and linker), so the same command works from an `x86_64` or an arm64 host.
//! Output follows cargo-lambda's layout, `target/lambda/<binary>/bootstrap`.

pub(crate) mod elf;
pub(crate) mod fingerprint;
pub(crate) mod toolchain;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use constructs::{Architecture, AssetSource, AssetSpec};

use crate::error::{DeployerError, Result};
use crate::workspace::{Workspace, cargo};

/// The glibc of Amazon Linux 2023, the newest a Lambda binary may need.
pub(crate) const LAMBDA_GLIBC: (u32, u32) = (2, 34);

/// The workspace member whose dependency list unifies the host build's features with the deployer's own build
/// (`workspace-hack/Cargo.toml`): selected with the functions, it makes cargo reuse the units `cargo run -p deployer`
/// compiled instead of compiling most of them again with other features.
pub(crate) const FEATURE_UNIFIER: &str = "workspace-hack";

/// What to build for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BuildTarget {
    /// The Lambda `provided.al2023` runtime on the given architecture.
    Lambda(Architecture),
    /// This machine, for the local target: the dev profile, so the edit-run loop reuses the incremental build
    /// (and, in the test suite, the dependencies the tests already compiled).
    Host,
}

/// One built binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuiltBinary {
    /// The asset's construct path.
    pub asset_id: String,
    /// The binary's name.
    pub binary: String,
    /// Path of the `bootstrap` file.
    pub bootstrap: PathBuf,
}

/// An asset ready to package: either built now or a prebuilt zip named by the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BuildOutput {
    /// A binary to zip.
    Binary(BuiltBinary),
    /// A zip the stack points at.
    Zip {
        /// The asset's construct path.
        asset_id: String,
        /// The zip.
        path: PathBuf,
    },
}

/// The Rust target triple of a Lambda architecture.
pub(crate) fn lambda_triple(arch: Architecture) -> &'static str {
    match arch {
        Architecture::Arm64 => "aarch64-unknown-linux-gnu",
        Architecture::X86_64 => "x86_64-unknown-linux-gnu",
    }
}

/// Builds every cargo asset in `assets` with one cargo invocation (release for Lambda) and lays them out as
/// `bootstrap` files. Prebuilt zips are passed through.
pub(crate) fn build(workspace: &Workspace, assets: &[AssetSpec], target: BuildTarget) -> Result<Vec<BuildOutput>> {
    let mut packages: Vec<(&str, &str)> = Vec::new();
    for asset in assets {
        if let AssetSource::CargoBinary { package, binary } = &asset.source
            && !packages.contains(&(package.as_str(), binary.as_str()))
        {
            packages.push((package.as_str(), binary.as_str()));
        }
    }
    if !packages.is_empty() {
        let mut command = cargo_command(workspace, target)?;
        for (package, binary) in &packages {
            command.args(["--package", package, "--bin", binary]);
        }
        if target == BuildTarget::Host && workspace.packages.iter().any(|p| p.name == FEATURE_UNIFIER) {
            command.args(["--package", FEATURE_UNIFIER, "--lib"]);
        }
        run_cargo(command)?;
    }
    let check = |bootstrap: &Path| match target {
        BuildTarget::Lambda(arch) => elf::check_lambda_binary(bootstrap, arch),
        BuildTarget::Host => Ok(()),
    };
    lay_out(workspace, assets, target, check)
}

/// Lays the built binaries out as `<layout>/<binary>/bootstrap` and checks each with `check`, once per distinct
/// binary however many assets use it (every conformance function runs the same one), and passes prebuilt zips
/// through. Returns one output per asset, in order.
fn lay_out(
    workspace: &Workspace,
    assets: &[AssetSpec],
    target: BuildTarget,
    mut check: impl FnMut(&Path) -> Result<()>,
) -> Result<Vec<BuildOutput>> {
    let release_dir = match target {
        BuildTarget::Lambda(arch) => workspace.target_dir.join(lambda_triple(arch)).join("release"),
        BuildTarget::Host => workspace.target_dir.join("debug"),
    };
    let layout_dir = match target {
        BuildTarget::Lambda(_) => workspace.target_dir.join("lambda"),
        BuildTarget::Host => workspace.target_dir.join("lambda-host"),
    };
    let mut laid_out: Vec<(&str, PathBuf)> = Vec::new();
    let mut outputs = Vec::new();
    for asset in assets {
        match &asset.source {
            AssetSource::CargoBinary { binary, .. } => {
                let bootstrap = if let Some((_, bootstrap)) = laid_out.iter().find(|(b, _)| b == binary) {
                    bootstrap.clone()
                } else {
                    let built = release_dir.join(binary);
                    let dir = layout_dir.join(binary);
                    std::fs::create_dir_all(&dir).map_err(|e| DeployerError::io("create", &dir, e))?;
                    let bootstrap = dir.join("bootstrap");
                    if !same_file_contents_likely(&built, &bootstrap) {
                        std::fs::copy(&built, &bootstrap).map_err(|e| DeployerError::io("copy", &built, e))?;
                    }
                    check(&bootstrap)?;
                    laid_out.push((binary.as_str(), bootstrap.clone()));
                    bootstrap
                };
                outputs.push(BuildOutput::Binary(BuiltBinary {
                    asset_id: asset.id.clone(),
                    binary: binary.clone(),
                    bootstrap,
                }));
            }
            AssetSource::Zip { path } => {
                let path = if path.is_absolute() { path.clone() } else { workspace.root.join(path) };
                if !path.is_file() {
                    return Err(DeployerError::Build(format!(
                        "asset {} points at {}, which does not exist; build that zip first or fix the path in stacks/",
                        asset.id,
                        path.display()
                    )));
                }
                outputs.push(BuildOutput::Zip { asset_id: asset.id.clone(), path });
            }
        }
    }
    Ok(outputs)
}

fn cargo_command(workspace: &Workspace, target: BuildTarget) -> Result<Command> {
    let mut command = cargo();
    command.current_dir(&workspace.root);
    match target {
        BuildTarget::Host => {
            command.args(["build", "--locked"]);
        }
        BuildTarget::Lambda(arch) => {
            let triple = lambda_triple(arch);
            ensure_rust_target(triple)?;
            ensure_zigbuild(workspace)?;
            let (major, minor) = LAMBDA_GLIBC;
            command.args(["zigbuild", "--release", "--locked", "--target", &format!("{triple}.{major}.{minor}")]);
            command.env("PATH", path_with_tools(workspace));
            if let Some((key, value)) = cpu_tuning(arch, |name| std::env::var_os(name).is_some()) {
                command.env(key, value);
            }
        }
    }
    Ok(command)
}

/// Tunes arm64 code for the oldest CPU Lambda runs it on, Graviton2 (Neoverse N1), as `cargo lambda build` does:
/// LSE atomics and ARMv8.2 instructions make smaller and faster code than the generic ARMv8.0 baseline, and every
/// later Graviton runs it. Left alone when the user sets rustflags through the environment (`is_set`), which
/// would take precedence anyway. Returns the variable to set.
fn cpu_tuning(arch: Architecture, is_set: impl Fn(&str) -> bool) -> Option<(&'static str, &'static str)> {
    const KEY: &str = "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS";
    let user_flags = ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", KEY];
    (arch == Architecture::Arm64 && !user_flags.iter().any(|name| is_set(name)))
        .then_some((KEY, "-C target-cpu=neoverse-n1"))
}

fn run_cargo(mut command: Command) -> Result<()> {
    // Cargo's own progress goes straight to the user's stderr: it is the best progress display for a build.
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| DeployerError::Build(format!("cannot run cargo: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(DeployerError::Build(format!(
            "cargo build of the functions failed ({status}); the compiler's messages are above"
        )))
    }
}

/// `PATH` with the deployer's tool virtualenv first, so a project-local `cargo-zigbuild` and `zig` are found.
pub(crate) fn path_with_tools(workspace: &Workspace) -> std::ffi::OsString {
    let venv_bin = workspace.tools_dir().join("venv").join("bin");
    let mut paths = vec![venv_bin];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// Whether the Rust standard library for `triple` is installed; an error naming the command that adds it.
pub(crate) fn ensure_rust_target(triple: &str) -> Result<()> {
    let sysroot = Command::new("rustc").args(["--print", "sysroot"]).output();
    let Ok(output) = sysroot else {
        return Err(DeployerError::ToolMissing {
            tool: "rustc".into(),
            install: "install Rust with rustup (https://rustup.rs)".into(),
            source: None,
        });
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if sysroot.join("lib").join("rustlib").join(triple).join("lib").is_dir() {
        Ok(())
    } else {
        Err(DeployerError::ToolMissing {
            tool: format!("the Rust standard library for {triple}"),
            install: format!("run `rustup target add {triple}`"),
            source: None,
        })
    }
}

/// Whether `cargo-zigbuild` is on the build's search path (the tools folder's virtualenv, then `PATH`).
pub(crate) fn zigbuild_found(workspace: &Workspace) -> bool {
    std::env::split_paths(&path_with_tools(workspace)).any(|dir| is_executable(&dir.join("cargo-zigbuild")))
}

fn ensure_zigbuild(workspace: &Workspace) -> Result<()> {
    if !zigbuild_found(workspace) {
        return Err(DeployerError::ToolMissing {
            tool: "cargo-zigbuild".into(),
            install: "Lambda builds link against Amazon Linux 2023's glibc 2.34 with zig; install both with \
                      `python3 -m pip install cargo-zigbuild` (brings zig), or `cargo install cargo-zigbuild` plus zig"
                .into(),
            source: None,
        });
    }
    Ok(())
}

/// Whether `copy` is an up-to-date copy of `original`: same size and not older. Cargo rewrites `original` on every
/// rebuild, so a stale copy always has an older modification time.
fn same_file_contents_likely(original: &Path, copy: &Path) -> bool {
    match (original.metadata(), copy.metadata()) {
        (Ok(a), Ok(b)) => a.len() == b.len() && matches!((a.modified(), b.modified()), (Ok(ta), Ok(tb)) if tb >= ta),
        _ => false,
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use constructs::{Architecture, AssetSource, AssetSpec};

    use super::{BuildOutput, BuildTarget, cpu_tuning, lay_out};
    use crate::workspace::Workspace;

    #[test]
    fn a_binary_shared_by_many_assets_is_laid_out_and_checked_once() {
        let dir = tempfile::tempdir().unwrap();
        let workspace =
            Workspace { root: dir.path().to_path_buf(), target_dir: dir.path().join("target"), packages: vec![] };
        let built = workspace.target_dir.join("debug");
        std::fs::create_dir_all(&built).unwrap();
        std::fs::write(built.join("shared"), b"shared binary").unwrap();
        std::fs::write(built.join("other"), b"other binary").unwrap();
        let cargo = |id: &str, binary: &str| AssetSpec {
            id: id.into(),
            source: AssetSource::CargoBinary { package: binary.into(), binary: binary.into() },
        };
        let assets = [cargo("s/A", "shared"), cargo("s/B", "shared"), cargo("s/C", "other"), cargo("s/D", "shared")];
        let mut checked = Vec::new();
        let outputs = lay_out(&workspace, &assets, BuildTarget::Host, |bootstrap| {
            checked.push(bootstrap.to_path_buf());
            Ok(())
        })
        .unwrap();
        let layout = workspace.target_dir.join("lambda-host");
        assert_eq!(checked, [layout.join("shared/bootstrap"), layout.join("other/bootstrap")]);
        let laid: Vec<(&str, std::path::PathBuf)> = outputs
            .iter()
            .map(|o| match o {
                BuildOutput::Binary(b) => (b.asset_id.as_str(), b.bootstrap.clone()),
                BuildOutput::Zip { .. } => panic!("no zip assets here"),
            })
            .collect();
        assert_eq!(laid[1], ("s/B", layout.join("shared/bootstrap")));
        assert_eq!(laid.len(), 4, "one output per asset");
        assert_eq!(std::fs::read(layout.join("shared/bootstrap")).unwrap(), b"shared binary");
    }

    #[test]
    fn arm64_is_tuned_for_graviton2_unless_the_user_sets_rustflags() {
        let tuning = cpu_tuning(Architecture::Arm64, |_| false);
        assert_eq!(tuning, Some(("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS", "-C target-cpu=neoverse-n1")));
        assert_eq!(cpu_tuning(Architecture::X86_64, |_| false), None);
        for name in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS"] {
            assert_eq!(cpu_tuning(Architecture::Arm64, |set| set == name), None, "{name} set");
        }
    }
}
