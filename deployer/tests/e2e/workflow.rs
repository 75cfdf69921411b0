//! The CI deployment workflow passes actionlint, deploys with OIDC through the deployer, and the trust policy the
//! project gives users matches the token the deploy job really gets.

use std::process::Command;

use crate::support::{tool, workspace_root};

fn workflow_text() -> String {
    std::fs::read_to_string(workspace_root().join(".github/workflows/deploy.yml")).unwrap()
}

/// The lines of job `name` (its header and everything indented under it).
fn job(text: &str, name: &str) -> Vec<String> {
    let header = format!("  {name}:");
    let mut lines = text.lines().skip_while(|l| *l != header);
    let mut job: Vec<String> = lines.next().into_iter().map(str::to_owned).collect();
    job.extend(lines.take_while(|l| l.is_empty() || l.starts_with("    ")).map(str::to_owned));
    assert!(!job.is_empty(), "no job `{name}` in deploy.yml");
    job
}

/// The value of `key:` directly under a job.
fn job_value(job: &[String], key: &str) -> Option<String> {
    let prefix = format!("    {key}:");
    job.iter().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.split('#').next().unwrap_or_default().trim().to_owned())
}

#[test]
fn deploy_workflow_passes_actionlint_and_uses_oidc() {
    let path = workspace_root().join(".github/workflows/deploy.yml");
    let text = workflow_text();
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

/// GitHub puts the environment into the token's subject when a job names one
/// (`repo:<owner>/<repo>:environment:<name>`), and the branch's ref only when it does not: the trust policy users
/// paste, and the workflow's own comment, must ask for the subject the deploy job really gets.
#[test]
fn the_trust_policy_matches_the_subject_github_issues_to_the_deploy_job() {
    let text = workflow_text();
    let deploy = job(&text, "deploy");
    let policy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join(".github/aws/deploy-role-trust-policy.json")).unwrap(),
    )
    .unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    let condition = &statement["Condition"]["StringEquals"];
    assert_eq!(condition["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com");
    let sub = condition["token.actions.githubusercontent.com:sub"].as_str().unwrap();
    let expected = match job_value(&deploy, "environment") {
        Some(environment) => format!("repo:<OWNER>/<REPO>:environment:{environment}"),
        None => "repo:<OWNER>/<REPO>:ref:refs/heads/main".to_owned(),
    };
    assert_eq!(sub, expected, "the trust policy's subject is not what GitHub issues to the deploy job");
    let documented = expected.replace("<OWNER>/<REPO>", "<owner>/<repo>");
    assert!(text.contains(&format!("sub = {documented}")), "the workflow's comment must name the subject {documented}");
    assert!(!text.contains("sub = repo:<owner>/<repo>:ref:") || job_value(&deploy, "environment").is_none());
    // The id-token permission is the deploy job's alone, and it runs only after the tests, from main.
    let id_token_lines = text.lines().filter(|l| l.contains("id-token: write")).count();
    assert_eq!(id_token_lines, 1);
    assert!(deploy.iter().any(|l| l.contains("id-token: write")), "only the deploy job needs an OIDC token");
    assert_eq!(job_value(&deploy, "needs").as_deref(), Some("test"));
    assert_eq!(job_value(&deploy, "if").as_deref(), Some("github.ref == 'refs/heads/main'"));
}

/// A cached `target/` built by another toolchain is rebuilt whole: the cache key names the compiler.
#[test]
fn build_caches_are_keyed_by_toolchain_and_lock_file() {
    let text = workflow_text();
    let keys: Vec<&str> = text.lines().filter_map(|l| l.trim().strip_prefix("key: ")).collect();
    assert!(!keys.is_empty());
    for key in keys {
        assert!(key.contains("steps.toolchain.outputs.rustc") && key.contains("hashFiles('Cargo.lock')"), "{key}");
    }
    let gate = job(&text, "test");
    assert!(gate.iter().any(|l| l.contains("bash .ci/run")), "the gate runs the project's CI script");
}
