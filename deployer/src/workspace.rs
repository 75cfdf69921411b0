//! Where the cargo workspace lives and where build output goes, as cargo itself reports it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::error::{DeployerError, Result};

/// The cargo workspace the deployer works on.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Directory of the workspace's root `Cargo.toml`.
    pub root: PathBuf,
    /// Cargo's target directory (honours `CARGO_TARGET_DIR` and `.cargo/config.toml`).
    pub target_dir: PathBuf,
    /// The workspace's packages, as `cargo metadata --no-deps` describes them.
    pub(crate) packages: Vec<Package>,
}

/// A workspace package: what the asset fingerprints read.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Package {
    /// The package's name.
    pub(crate) name: String,
    /// Its `Cargo.toml`.
    pub(crate) manifest_path: PathBuf,
    /// Its dependencies (path dependencies carry their folder).
    pub(crate) dependencies: Vec<Dependency>,
    /// Its targets.
    pub(crate) targets: Vec<CargoTarget>,
}

/// One dependency of a package.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Dependency {
    /// The package it names.
    pub(crate) name: String,
    /// `dev`, `build`, or none for a normal dependency.
    pub(crate) kind: Option<String>,
    /// The folder of a path dependency.
    pub(crate) path: Option<PathBuf>,
}

/// One target of a package.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CargoTarget {
    /// `lib`, `bin`, `test`, `custom-build`, ...
    pub(crate) kind: Vec<String>,
    /// The target's name.
    pub(crate) name: String,
    /// Its root source file.
    pub(crate) src_path: PathBuf,
}

impl Workspace {
    /// Asks `cargo metadata` for the workspace that contains the current directory.
    pub fn discover() -> Result<Self> {
        Self::discover_from(Path::new("."))
    }

    /// Asks `cargo metadata` for the workspace that contains `dir`.
    pub fn discover_from(dir: &Path) -> Result<Self> {
        let output = cargo()
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .current_dir(dir)
            .output()
            .map_err(|source| DeployerError::ToolMissing {
                tool: "cargo".into(),
                install: "install Rust with rustup (https://rustup.rs)".into(),
                source: Some(source),
            })?;
        if !output.status.success() {
            return Err(DeployerError::Workspace(format!(
                "`cargo metadata` failed in {}: {}; run the deployer inside the project's cargo workspace",
                dir.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let meta: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| DeployerError::Workspace(format!("`cargo metadata` printed invalid JSON: {e}")))?;
        let field = |name: &str| {
            meta.get(name)
                .and_then(serde_json::Value::as_str)
                .map(PathBuf::from)
                .ok_or_else(|| DeployerError::Workspace(format!("`cargo metadata` did not report `{name}`")))
        };
        let packages = meta
            .get("packages")
            .cloned()
            .map(serde_json::from_value::<Vec<Package>>)
            .transpose()
            .map_err(|e| DeployerError::Workspace(format!("`cargo metadata` described packages unexpectedly: {e}")))?
            .unwrap_or_default();
        Ok(Self { root: field("workspace_root")?, target_dir: field("target_directory")?, packages })
    }

    /// The folder synthesized templates are written to.
    pub fn synth_dir(&self) -> PathBuf {
        self.target_dir.join("deployer").join("synth")
    }

    /// The folder the local target keeps its state in (outside `target/` so `cargo clean` keeps executions).
    pub fn local_state_dir(&self) -> PathBuf {
        self.root.join(".deployer").join("local")
    }

    /// The folder of the per-stack deployment locks.
    pub fn lock_dir(&self) -> PathBuf {
        self.root.join(".deployer").join("locks")
    }

    /// The folder the deployer keeps its own tools (virtualenvs) in.
    pub fn tools_dir(&self) -> PathBuf {
        self.root.join(".deployer").join("tools")
    }
}

/// A `cargo` command: the cargo that runs us when there is one, without the variables `cargo run` and `cargo test`
/// set for the package they run (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, ...).
///
/// Build scripts see the environment cargo was started with, and some (ring's) rerun when `CARGO_MANIFEST_DIR`
/// changes: a build started from `cargo run -p deployer` would recompile ring and everything above it (rustls, the
/// AWS SDK) that the user's own `cargo build` compiled without it, and their next `cargo build` would compile it all
/// back.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_package_variable) {
            command.env_remove(name);
        }
    }
    command
}

/// Whether `name` is one of the variables cargo sets for the package it runs or tests.
pub fn is_package_variable(name: &str) -> bool {
    ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}
