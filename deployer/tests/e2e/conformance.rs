//! AWS's conformance suite in CI: the runner deploys the step and invoke suites' stacks to the local target (in a
//! copy of the workspace, so a developer's own local target is left alone), runs the official validator on each
//! requirement and fails when one listed in the baseline (they passed before) fails now.

use std::process::Command;

use crate::support::{Run, copy_workspace, target_dir, tool, workspace_root};

#[test]
fn the_step_and_invoke_suites_pass_as_the_baseline_says() {
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
    let run: Run = runner()
        .args(["--deploy", "--suite", "step", "invoke", "--baseline", "conformance/runner/baseline.json"])
        .arg("--deployer")
        .arg(crate::support::deployer_binary())
        .output()
        .unwrap()
        .into();
    assert!(run.ok, "the conformance runner failed:\n{}", run.all());
    // One table per suite, each saying how many passed; nothing failed, nothing regressed.
    for suite in ["step", "invoke"] {
        let header = run
            .stdout
            .lines()
            .find(|line| line.starts_with(&format!("== {suite}: ")))
            .unwrap_or_else(|| panic!("no table for {suite}:\n{}", run.all()));
        let passed: usize = header.split_whitespace().nth(2).and_then(|n| n.parse().ok()).unwrap();
        assert!(passed >= 10, "{header}");
        assert!(header.contains(" 0 failed"), "{header}\n{}", run.all());
    }
    assert!(!run.stderr.contains("regressions"), "{}", run.all());
}
