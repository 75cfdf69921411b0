//! Building the function binaries a stack declares, with the cargo that runs the test, into the test's own
//! target folder, once per test process and binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::{Result, TestError};

/// `(package, binary)` pairs built so far in this process, and where each binary is.
fn built() -> &'static Mutex<BTreeMap<(String, String), PathBuf>> {
    static BUILT: OnceLock<Mutex<BTreeMap<(String, String), PathBuf>>> = OnceLock::new();
    BUILT.get_or_init(Mutex::default)
}

/// The binaries of `wanted` (`(package, binary)`), built for this machine where they are not yet.
pub(crate) fn binaries(wanted: &[(String, String)]) -> Result<BTreeMap<(String, String), PathBuf>> {
    // One build at a time in this process: parallel tests asking for the same binaries wait for the first.
    let mut done = built().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let missing: Vec<&(String, String)> = wanted.iter().filter(|w| !done.contains_key(*w)).collect();
    if !missing.is_empty() {
        let (target, profile) = target_and_profile()?;
        let mut command = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command.arg("build").arg("--quiet").env("CARGO_TARGET_DIR", &target);
        if profile == "release" {
            command.arg("--release");
        }
        if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
            command.current_dir(dir);
        }
        // Without the variables `cargo test` sets for the test's own package: build scripts that watch them (ring's
        // watches CARGO_MANIFEST_DIR) would rebuild for this build and again for the next plain one.
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(is_package_variable) {
                command.env_remove(name);
            }
        }
        for (package, binary) in &missing {
            command.args(["-p", package, "--bin", binary]);
        }
        let status = command
            .status()
            .map_err(|e| TestError::Build(format!("cannot run cargo ({e}); is it on PATH, or CARGO set?")))?;
        if !status.success() {
            let names: Vec<String> = missing.iter().map(|(p, b)| format!("{p}/{b}")).collect();
            return Err(TestError::Build(format!(
                "`cargo build` of {} failed ({status}); its errors are above",
                names.join(", ")
            )));
        }
        for (package, binary) in missing {
            let path = target.join(&profile).join(binary);
            if !path.is_file() {
                return Err(TestError::Build(format!("cargo built {package} but {} is not there", path.display())));
            }
            done.insert((package.clone(), binary.clone()), path);
        }
    }
    Ok(wanted.iter().filter_map(|w| done.get(w).map(|path| (w.clone(), path.clone()))).collect())
}

/// The target folder and profile this test binary was built into (`<target>/<profile>/deps/<test>`), so the
/// functions share its build cache.
fn target_and_profile() -> Result<(PathBuf, String)> {
    let exe = std::env::current_exe().map_err(|e| TestError::Build(format!("cannot find the test binary: {e}")))?;
    let profile_dir = exe.ancestors().nth(2).map(Path::to_path_buf);
    let target = exe.ancestors().nth(3).map(Path::to_path_buf);
    match (target, profile_dir.as_deref().and_then(Path::file_name).and_then(|n| n.to_str())) {
        (Some(target), Some(profile)) if exe.parent().and_then(Path::file_name).is_some_and(|d| d == "deps") => {
            Ok((target, profile.to_owned()))
        }
        // A doctest runs from a folder of rustdoc's: the workspace's target folder, debug profile.
        _ => Ok((workspace_target()?, "debug".to_owned())),
    }
}

/// `CARGO_TARGET_DIR`, else the target folder `cargo metadata` names.
fn workspace_target() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let mut command = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.args(["metadata", "--format-version", "1", "--no-deps"]);
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        command.current_dir(dir);
    }
    let output = command.output().map_err(|e| TestError::Build(format!("cannot run `cargo metadata`: {e}")))?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        TestError::Build(format!(
            "`cargo metadata` answered no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    })?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| TestError::Build("`cargo metadata` names no target folder".into()))
}

/// A variable cargo sets for one package's build or run, which a nested cargo must not inherit.
fn is_package_variable(name: &str) -> bool {
    ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::is_package_variable;

    #[test]
    fn only_the_package_s_own_variables_are_dropped() {
        for name in
            ["CARGO_PKG_NAME", "CARGO_MANIFEST_DIR", "CARGO_CRATE_NAME", "CARGO_BIN_EXE_x", "CARGO_TARGET_TMPDIR"]
        {
            assert!(is_package_variable(name), "{name}");
        }
        for name in ["CARGO", "CARGO_HOME", "CARGO_TARGET_DIR", "RUSTFLAGS", "PATH"] {
            assert!(!is_package_variable(name), "{name}");
        }
    }
}
