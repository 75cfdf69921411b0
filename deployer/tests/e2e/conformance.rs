//! AWS's conformance suite in CI, all of it: the runner deploys every suite's stack to the local target (in a copy
//! of the workspace, so a developer's own local target is left alone), runs the official validator on each
//! requirement, and fails when one listed in the baseline (they passed before) fails now. Every suite the runner's
//! manifest names gets its table, and every applicable requirement passes.

use std::collections::BTreeMap;
use std::process::Command;

use crate::support::{Run, copy_workspace, target_dir, tool, workspace_root};

/// Applicable requirements per suite, from the runner's manifest.
fn applicable_by_suite() -> BTreeMap<String, usize> {
    let path = workspace_root().join("conformance/runner/manifest.json");
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut suites = BTreeMap::new();
    for requirement in manifest["requirements"].as_array().unwrap() {
        let count = suites.entry(requirement["suite"].as_str().unwrap().to_owned()).or_insert(0);
        if requirement.get("not_applicable").is_none_or(serde_json::Value::is_null) {
            *count += 1;
        }
    }
    suites
}

#[test]
fn every_suite_passes_as_the_baseline_says() {
    let work = tempfile::tempdir().unwrap();
    copy_workspace(work.path());
    let tools = tool("aws").parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(tools).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let runner = || {
        let mut command = Command::new(work.path().join("conformance/runner/run"));
        command
            .current_dir(work.path())
            // The suite's virtualenv is made once, in the real workspace, not in every copy.
            .env("CONFORMANCE_VENV", workspace_root().join(".venv-conformance"))
            .env("CARGO_TARGET_DIR", target_dir())
            .env("DEPLOYER_TOOLS_BIN", tool("aws").parent().unwrap())
            .env("PATH", &path)
            .env("AWS_REGION", "us-east-1")
            .env("CI", "true");
        command
    };
    // The runner's own tests first: its stand-ins for CloudFormation and CloudWatch Logs, the baseline logic.
    let own: Run = runner().arg("--self-test").output().unwrap().into();
    assert!(own.ok, "the runner's self-test failed:\n{}", own.all());
    let started = std::time::Instant::now();
    let run: Run = runner()
        .args(["--deploy", "--baseline", "conformance/runner/baseline.json"])
        .arg("--deployer")
        .arg(crate::support::deployer_binary())
        .output()
        .unwrap()
        .into();
    println!("the whole suite took {:?}", started.elapsed());
    assert!(run.ok, "the conformance runner failed:\n{}", run.all());
    // One table per suite, each with every applicable requirement passed; nothing regressed.
    let suites = applicable_by_suite();
    for (suite, applicable) in &suites {
        let header = run
            .stdout
            .lines()
            .find(|line| line.starts_with(&format!("== {suite}: ")))
            .unwrap_or_else(|| panic!("no table for {suite}:\n{}", run.all()));
        let passed: usize = header.split_whitespace().nth(2).and_then(|n| n.parse().ok()).unwrap();
        assert_eq!(passed, *applicable, "{header}\n{}", run.all());
        assert!(header.contains(" 0 failed"), "{header}\n{}", run.all());
    }
    let applicable: usize = suites.values().sum();
    let total = format!("== total (ours): {applicable} of {applicable} applicable requirements passed");
    assert!(run.stdout.contains(&total), "expected {total:?}:\n{}", run.all());
    assert!(!run.stderr.contains("regressions"), "{}", run.all());
}
