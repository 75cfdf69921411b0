//! Asset identity without a build: the fingerprint of everything a cargo build of one binary reads, as CDK hashes
//! an asset's source folder.
//!
//! The fingerprint is a SHA-256 over the toolchain (`rustc -vV`, and for Lambda the pinned cargo-zigbuild and
//! zig), the target and profile, every rustflags variable cargo reads, the workspace's `Cargo.toml`, `Cargo.lock`
//! and `.cargo/config.toml`, and the files of the package and of each path dependency it builds with: its
//! `Cargo.toml` and every file under the folders of its library, binary and build-script targets. Paths are
//! relative to the workspace root, so a clone elsewhere gets the same fingerprint. It names the asset (the S3 key
//! `<fingerprint>.zip`, hence the hash in the function's version logical id): `synth` and `diff` answer without
//! compiling, and `up` builds only what is not published yet.
//!
//! What it means: any change to those inputs, a comment included, is a new asset, so the function is updated and
//! a new version published although the binary may be byte-identical; a change outside them (tests, benches,
//! examples, READMEs) changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::{BuildTarget, LAMBDA_GLIBC, lambda_triple, toolchain};
use crate::error::{DeployerError, Result};
use crate::workspace::{Package, Workspace};

/// Raised whenever what goes into a fingerprint changes meaning (the zip layout, the build command).
const SCHEME: &str = "deployer asset fingerprint v1";

/// The rustflags variables cargo reads for a build (the per-target one is added for the target's triple).
const RUSTFLAGS_VARIABLES: [&str; 3] = ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS"];

/// Reads an environment variable.
type Env<'a> = Box<dyn Fn(&str) -> Option<String> + Send + Sync + 'a>;

/// Computes fingerprints for one workspace, reading the toolchain's version once and each binary's inputs once.
pub(crate) struct Fingerprints<'a> {
    workspace: &'a Workspace,
    toolchain: String,
    env: Env<'a>,
    memo: Mutex<BTreeMap<(String, String, String), String>>,
}

impl<'a> Fingerprints<'a> {
    /// Fingerprints for `workspace`, with the toolchain `rustc -vV` reports there and the process environment.
    pub(crate) fn new(workspace: &'a Workspace) -> Result<Self> {
        Ok(Self::with(workspace, rustc_version(&workspace.root)?, |name| std::env::var(name).ok()))
    }

    /// Fingerprints with a given toolchain description and environment (for tests).
    pub(crate) fn with(
        workspace: &'a Workspace,
        toolchain: String,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'a,
    ) -> Self {
        Self { workspace, toolchain, env: Box::new(env), memo: Mutex::new(BTreeMap::new()) }
    }

    /// The fingerprint of binary `binary` of package `package` built for `target`: 64 lowercase hex digits.
    pub(crate) fn binary(&self, package: &str, binary: &str, target: BuildTarget) -> Result<String> {
        let key = (package.to_owned(), binary.to_owned(), describe(target));
        if let Some(known) = self.memo.lock().ok().and_then(|memo| memo.get(&key).cloned()) {
            return Ok(known);
        }
        let fingerprint = self.compute(package, binary, target)?;
        if let Ok(mut memo) = self.memo.lock() {
            memo.insert(key, fingerprint.clone());
        }
        Ok(fingerprint)
    }

    fn compute(&self, package: &str, binary: &str, target: BuildTarget) -> Result<String> {
        let root = &self.workspace.root;
        let mut hasher = Sha256::new();
        let mut line = |text: &str| {
            hasher.update(text.as_bytes());
            hasher.update(b"\n");
        };
        line(SCHEME);
        line(&format!("package {package} binary {binary} target {}", describe(target)));
        line(&format!("toolchain {}", self.toolchain));
        if let BuildTarget::Lambda(arch) = target {
            let (major, minor) = LAMBDA_GLIBC;
            line(&format!("lambda glibc {major}.{minor} with {}", toolchain::PACKAGES.join(" ")));
            let per_target = format!("CARGO_TARGET_{}_RUSTFLAGS", lambda_triple(arch).to_uppercase().replace('-', "_"));
            for name in RUSTFLAGS_VARIABLES.iter().copied().chain([per_target.as_str()]) {
                line(&format!("{name}={}", (self.env)(name).unwrap_or_default()));
            }
            let tuning = super::cpu_tuning(arch, |name| (self.env)(name).is_some());
            line(&format!("tuning {tuning:?}"));
        } else {
            for name in RUSTFLAGS_VARIABLES {
                line(&format!("{name}={}", (self.env)(name).unwrap_or_default()));
            }
        }
        for file in input_files(self.workspace, package, binary)? {
            let relative = file.strip_prefix(root).unwrap_or(&file).display().to_string();
            match std::fs::read(&file) {
                Ok(bytes) => line(&format!("file {relative} {}", hex::encode(Sha256::digest(&bytes)))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => line(&format!("absent {relative}")),
                Err(e) => return Err(DeployerError::io("read", &file, e)),
            }
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

/// Every file a build of binary `binary` of package `package` reads from the workspace: the workspace's
/// `Cargo.toml`, `Cargo.lock` and cargo configuration (listed even when absent), and for the package and each path
/// dependency it builds with, its `Cargo.toml` and the files under its targets' folders. What the fingerprint
/// hashes, and what `up --local --watch` watches.
pub(crate) fn input_files(workspace: &Workspace, package: &str, binary: &str) -> Result<BTreeSet<PathBuf>> {
    let root = &workspace.root;
    let mut files: BTreeSet<PathBuf> =
        ["Cargo.toml", "Cargo.lock", ".cargo/config.toml", ".cargo/config"].iter().map(|f| root.join(f)).collect();
    for (member, sources) in closure(workspace, package, binary)? {
        files.extend(package_files(member, &sources)?);
    }
    Ok(files)
}

/// The package with the targets its binary builds from, then every path dependency it builds with
/// (transitively; dev-dependencies excluded) with their library and build-script targets.
fn closure<'w>(workspace: &'w Workspace, package: &str, binary: &str) -> Result<Vec<(&'w Package, Vec<&'w Path>)>> {
    let find = |name: &str| workspace.packages.iter().find(|p| p.name == name);
    let first = find(package).ok_or_else(|| {
        DeployerError::Workspace(format!(
            "the stacks name cargo package `{package}`, which is not in this workspace; add it to the \
                 workspace's members or fix the asset in stacks/"
        ))
    })?;
    if !first.targets.iter().any(|t| t.kind.iter().any(|k| k == "bin") && t.name == binary) {
        return Err(DeployerError::Workspace(format!(
            "cargo package `{package}` has no binary `{binary}`; fix the asset in stacks/ or add the binary"
        )));
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    let mut queue = vec![(first, Some(binary))];
    while let Some((next, bin)) = queue.pop() {
        if !seen.insert(next.name.as_str()) {
            continue;
        }
        let sources = next
            .targets
            .iter()
            .filter(|t| {
                t.kind.iter().any(|k| matches!(k.as_str(), "lib" | "rlib" | "proc-macro" | "custom-build"))
                    || (bin == Some(t.name.as_str()) && t.kind.iter().any(|k| k == "bin"))
            })
            .map(|t| t.src_path.as_path())
            .collect();
        out.push((next, sources));
        for dependency in next.dependencies.iter().filter(|d| d.kind.as_deref() != Some("dev")) {
            if dependency.path.is_some()
                && let Some(found) = find(&dependency.name)
            {
                queue.push((found, None));
            }
        }
    }
    Ok(out)
}

/// `Cargo.toml` of the package and every file under the folders of `sources` (hidden entries and `target`
/// skipped).
fn package_files(package: &Package, sources: &[&Path]) -> Result<Vec<PathBuf>> {
    let mut files = vec![package.manifest_path.clone()];
    let mut folders: Vec<&Path> = sources.iter().filter_map(|s| s.parent()).collect();
    folders.sort();
    folders.dedup();
    // A folder inside another is walked with it.
    let outermost: Vec<&Path> =
        folders.iter().copied().filter(|f| !folders.iter().any(|o| o != f && f.starts_with(o))).collect();
    for folder in outermost {
        walk(folder, &mut files)?;
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| DeployerError::io("read", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DeployerError::io("read", dir, e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "target" {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| DeployerError::io("read", &path, e))?;
        if kind.is_dir() {
            walk(&path, files)?;
        } else if kind.is_file() || kind.is_symlink() {
            files.push(path);
        }
    }
    Ok(())
}

/// `rustc -vV` as run in `root` (where rustup applies the workspace's toolchain file).
fn rustc_version(root: &Path) -> Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output =
        Command::new(&rustc).arg("-vV").current_dir(root).output().map_err(|source| DeployerError::ToolMissing {
            tool: rustc.clone(),
            install: "install Rust with rustup (https://rustup.rs)".into(),
            source: Some(source),
        })?;
    if !output.status.success() {
        return Err(DeployerError::Build(format!(
            "`{rustc} -vV` failed: {}; check the Rust toolchain with `rustup show`",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The target and profile as the fingerprint names them.
fn describe(target: BuildTarget) -> String {
    match target {
        BuildTarget::Lambda(arch) => format!("{} release", lambda_triple(arch)),
        BuildTarget::Host => "host dev".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::path::Path;

    use constructs::Architecture;

    use super::Fingerprints;
    use crate::build::BuildTarget;
    use crate::workspace::Workspace;

    const ARM: BuildTarget = BuildTarget::Lambda(Architecture::Arm64);

    /// A workspace of two packages: `app` (a binary) depending on `shared` by path, plus a test and a README
    /// that are not build inputs.
    fn workspace(root: &Path) -> Workspace {
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("Cargo.toml", "[workspace]\nmembers = [\"app\", \"shared\"]\n");
        write("Cargo.lock", "version = 4\n");
        write("app/Cargo.toml", "[package]\nname = \"app\"\n[dependencies]\nshared = { path = \"../shared\" }\n");
        write("app/src/main.rs", "fn main() { shared::go() }\n");
        write("app/src/util/mod.rs", "// util\n");
        write("app/tests/it.rs", "#[test] fn t() {}\n");
        write("app/README.md", "read me\n");
        write("shared/Cargo.toml", "[package]\nname = \"shared\"\n");
        write("shared/src/lib.rs", "pub fn go() {}\n");
        Workspace::discover_from(root).unwrap()
    }

    fn fingerprint(ws: &Workspace, env: &'static [(&'static str, &'static str)], target: BuildTarget) -> String {
        Fingerprints::with(ws, "rustc 1.94.1".into(), |name| {
            env.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        })
        .binary("app", "app", target)
        .unwrap()
    }

    #[test]
    fn a_fingerprint_names_the_build_inputs_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        let base = fingerprint(&ws, &[], ARM);
        assert_eq!(base.len(), 64);
        assert_eq!(base, fingerprint(&ws, &[], ARM), "stable");

        // Not build inputs: tests, READMEs.
        std::fs::write(dir.path().join("app/tests/it.rs"), "#[test] fn u() {}\n").unwrap();
        std::fs::write(dir.path().join("app/README.md"), "changed\n").unwrap();
        assert_eq!(fingerprint(&ws, &[], ARM), base, "tests and docs are not build inputs");

        // Inputs: the target, rustflags, the toolchain, the lock file, a path dependency's source, a comment.
        assert_ne!(fingerprint(&ws, &[], BuildTarget::Lambda(Architecture::X86_64)), base);
        assert_ne!(fingerprint(&ws, &[], BuildTarget::Host), base);
        assert_ne!(fingerprint(&ws, &[("RUSTFLAGS", "-C opt-level=1")], ARM), base);
        let other_toolchain =
            Fingerprints::with(&ws, "rustc 1.95.0".into(), |_| None).binary("app", "app", ARM).unwrap();
        assert_ne!(other_toolchain, base);
        let mut seen = vec![base.clone()];
        for (file, text) in [
            ("Cargo.lock", "version = 4\n# changed\n"),
            ("shared/src/lib.rs", "pub fn go() { }\n"),
            ("app/src/util/mod.rs", "// a comment-only change\n"),
            (
                "app/Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.2.0\"\n[dependencies]\nshared = { path = \"../shared\" }\n",
            ),
        ] {
            std::fs::write(dir.path().join(file), text).unwrap();
            let now = fingerprint(&ws, &[], ARM);
            assert!(!seen.contains(&now), "changing {file} did not change the fingerprint");
            seen.push(now);
        }
    }

    #[test]
    fn a_clone_elsewhere_has_the_same_fingerprint() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        assert_eq!(fingerprint(&workspace(a.path()), &[], ARM), fingerprint(&workspace(b.path()), &[], ARM));
    }

    #[test]
    fn an_unknown_package_or_binary_says_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        let prints = Fingerprints::with(&ws, "rustc".into(), |_| None);
        let error = prints.binary("nope", "nope", ARM).unwrap_err().to_string();
        assert!(error.contains("`nope`") && error.contains("stacks/"), "{error}");
        let error = prints.binary("app", "other", ARM).unwrap_err().to_string();
        assert!(error.contains("no binary `other`"), "{error}");
    }
}
