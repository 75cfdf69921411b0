//! The CI deployment workflow passes actionlint and deploys with OIDC through the deployer.

use std::process::Command;

use crate::support::{tool, workspace_root};

#[test]
fn deploy_workflow_passes_actionlint_and_uses_oidc() {
    let path = workspace_root().join(".github/workflows/deploy.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("id-token: write"), "the workflow must request an OIDC token");
    assert!(text.contains("role-to-assume"), "the workflow must assume a role, not use stored keys");
    assert!(text.contains("cargo run --locked -p deployer -- up --require-approval never"));
    assert!(!text.contains("AWS_SECRET_ACCESS_KEY"), "no stored secret keys");
    let out = Command::new(tool("actionlint")).arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "actionlint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
