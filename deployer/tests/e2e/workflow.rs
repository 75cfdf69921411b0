//! The CI workflows pass actionlint and deploy with OIDC through the deployer; the trust policy the project gives
//! users matches the token the deploy job really gets; and the test job installs every interpreter and tool the
//! test command needs, as the scripts themselves state their needs.
//!
//! The workflows are read with a real YAML parser (`PyYAML`, from the tools' virtualenv), so a key hidden in a comment
//! or an indentation slip is read as GitHub reads it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{tool, workspace_root};

const TESTS: &str = ".github/workflows/deploy.yml";
const DEPLOY: &str = ".github/workflows/deploy-environment.yml";

fn text(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap()
}

/// A workflow file as GitHub reads it (YAML 1.1, as `PyYAML` parses it).
fn workflow(path: &str) -> Value {
    let out = Command::new(tool("python"))
        .args(["-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)"])
        .arg(workspace_root().join(path))
        .output()
        .unwrap();
    assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

#[test]
fn deploy_workflow_passes_actionlint_and_uses_oidc() {
    let deploy = text(DEPLOY);
    assert!(deploy.contains("role-to-assume"), "the deploy job must assume a role, not use stored keys");
    assert!(
        deploy.contains(
            r#"cargo run --locked -p deployer -- up --env "${{ inputs.environment }}" --require-approval never"#
        ),
        "the deploy job must deploy the environment it was called for, without waiting for a human"
    );
    for path in [TESTS, DEPLOY] {
        assert!(!text(path).contains("AWS_SECRET_ACCESS_KEY"), "{path}: no stored secret keys");
        let out = Command::new(tool("actionlint")).arg(workspace_root().join(path)).output().unwrap();
        assert!(
            out.status.success(),
            "actionlint {path}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let job = &workflow(DEPLOY)["jobs"]["deploy"];
    assert_eq!(job["permissions"]["id-token"], "write", "the deploy job must request an OIDC token");
}

/// The jobs of deploy.yml that deploy an environment: each calls deploy-environment.yml, naming the environment.
fn environment_jobs(tests: &Value) -> Vec<(String, &Value)> {
    let jobs = tests["jobs"].as_object().unwrap();
    jobs.iter()
        .filter(|(_, job)| str_of(&job["uses"]) == format!("./{DEPLOY}"))
        .map(|(name, job)| (str_of(&job["with"]["environment"]).to_owned(), &jobs[name]))
        .collect()
}

/// GitHub puts the environment into the token's subject when a job names one
/// (`repo:<owner>/<repo>:environment:<name>`), and the branch's ref only when it does not: the trust policy users
/// paste, and the workflow's own comment, must ask for the subject the deploy job really gets.
#[test]
fn the_trust_policy_matches_the_subject_github_issues_to_the_deploy_job() {
    let (tests, deploy) = (workflow(TESTS), workflow(DEPLOY));
    let job = &deploy["jobs"]["deploy"];
    assert_eq!(job["environment"], "${{ inputs.environment }}", "the deploy job runs in the caller's environment");
    let environments = environment_jobs(&tests);
    assert!(!environments.is_empty(), "deploy.yml deploys no environment");
    // One role per environment, each trusting only its environment's subject.
    assert!(environments.len() >= 2, "deploy.yml deploys staging, then production: {environments:?}");
    for (name, _) in &environments {
        let file = if name == "production" {
            ".github/aws/deploy-role-trust-policy.json".to_owned()
        } else {
            format!(".github/aws/deploy-role-trust-policy-{name}.json")
        };
        let policy: serde_json::Value = serde_json::from_str(&text(&file)).unwrap();
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity", "{file}");
        let condition = &statement["Condition"]["StringEquals"];
        assert_eq!(condition["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com", "{file}");
        let sub = str_of(&condition["token.actions.githubusercontent.com:sub"]);
        assert_eq!(sub, format!("repo:<OWNER>/<REPO>:environment:{name}"), "{file}");
    }
    let deploys_environment = text(DEPLOY).contains("--env \"${{ inputs.environment }}\"");
    assert!(deploys_environment, "the deploy job deploys the deployer.toml environment of its GitHub environment");
    let config = text("deployer.toml");
    for (name, _) in &environments {
        assert!(config.contains(&format!("[environments.{name}]")), "deployer.toml defines no environment {name}");
    }
    // Production deploys after staging.
    let production = &environments.iter().find(|(name, _)| name == "production").expect("a production job").1;
    assert!(production["needs"].as_array().is_some_and(|n| n.contains(&"staging".into())), "{production}");
    assert!(
        text(DEPLOY).contains("sub = repo:<owner>/<repo>:environment:<environment>"),
        "the deploy workflow's comment must name the subject"
    );
    // Only the deploy jobs get an OIDC token, and they run only after the tests, from main.
    for (name, caller) in &environments {
        assert_eq!(caller["permissions"]["id-token"], "write", "{name}: the called job needs the caller's grant");
        let needs = &caller["needs"];
        assert!(needs == "test" || needs.as_array().is_some_and(|n| n.contains(&"test".into())), "{name}: {needs}");
        assert_eq!(caller["if"], "github.ref == 'refs/heads/main'", "{name}");
    }
    let id_token_jobs =
        |w: &Value| w["jobs"].as_object().unwrap().values().filter(|j| j["permissions"]["id-token"] == "write").count();
    assert_eq!(id_token_jobs(&tests), environments.len());
    assert_eq!(id_token_jobs(&deploy), 1);
    for w in [&tests, &deploy] {
        assert_ne!(w["permissions"]["id-token"], "write", "no workflow-wide OIDC grant");
    }
}

/// A cached `target/` built by another toolchain is rebuilt whole: the cache key names the compiler.
#[test]
fn build_caches_are_keyed_by_toolchain_and_lock_file() {
    for path in [TESTS, DEPLOY] {
        let text = text(path);
        let keys: Vec<&str> = text.lines().filter_map(|l| l.trim().strip_prefix("key: ")).collect();
        assert!(!keys.is_empty(), "{path}");
        for key in keys {
            assert!(key.contains("steps.toolchain.outputs.rustc") && key.contains("hashFiles('Cargo.lock')"), "{key}");
        }
    }
    let gate = &workflow(TESTS)["jobs"]["test"];
    let runs: Vec<&str> = gate["steps"].as_array().unwrap().iter().map(|s| str_of(&s["run"])).collect();
    assert!(runs.contains(&"bash .ci/run"), "the gate runs the project's CI script: {runs:?}");
}

/// The Python versions a script refuses to run below, as its own `sys.version_info` checks say (`>= (3, 11)` to
/// pass, `< (3, 13)` to fail).
fn python_minimums(script: &str) -> Vec<(u32, u32)> {
    let mut found = Vec::new();
    for (at, _) in script.match_indices("version_info") {
        let rest = script[at + "version_info".len()..].trim_start();
        let Some(rest) = rest.strip_prefix(">=").or_else(|| rest.strip_prefix('<')) else { continue };
        let Some(tuple) = rest.trim_start().strip_prefix('(').and_then(|r| r.split(')').next()) else { continue };
        let parts: Vec<u32> = tuple.split(',').filter_map(|p| p.trim().parse().ok()).collect();
        if let [major, minor] = parts[..] {
            found.push((major, minor));
        }
    }
    found
}

fn version(text: &str) -> (u32, u32) {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap_or(0))
}

/// The test command (`.ci/run` → `scripts/test` → `scripts/install-tools`, and the conformance runner a test drives)
/// states what it needs; the CI test job must provide each of those, or a script must install it itself.
///
/// - Python: `install-tools` makes the tools' virtualenvs with the default `python3`, and refuses one older than
///   its own check says; the conformance runner takes `CONFORMANCE_PYTHON` (else pyenv, else `python3.14`/`3.13` on
///   PATH) and refuses one older than its check says.
/// - Tools the tests run: each `tool("x")` must be installed by `install-tools` (its virtualenvs hold it, made from
///   the pinned requirements); each program started by name must come from the runner image's essential packages
///   or be installed by `.ci/run`.
/// - Rust: the components `.ci/run` uses are installed by the job or by `.ci/run` itself.
#[test]
fn the_test_job_installs_every_interpreter_and_tool_the_test_command_needs() {
    let job = &workflow(TESTS)["jobs"]["test"];
    let steps = job["steps"].as_array().unwrap();
    let ci = text(".ci/run");
    assert!(ci.contains("scripts/test") && text("scripts/test").contains("scripts/install-tools"));

    // The interpreters the job sets up, in order; the last one is the default `python3`.
    let pythons: Vec<(&str, (u32, u32))> = steps
        .iter()
        .filter(|s| str_of(&s["uses"]).starts_with("actions/setup-python@"))
        .map(|s| (str_of(&s["id"]), version(s["with"]["python-version"].to_string().trim_matches('"'))))
        .collect();
    let default = pythons.last().map(|(_, v)| *v).expect("the test job sets up no Python");
    let tools_minimum = python_minimums(&text("scripts/install-tools")).into_iter().max().unwrap();
    assert!(default >= tools_minimum, "install-tools needs Python {tools_minimum:?}, the job's python3 is {default:?}");

    let runner = text("conformance/runner/run");
    let conformance_minimum = python_minimums(&runner).into_iter().max().expect("the runner states no version");
    let ci_step = steps.iter().find(|s| str_of(&s["run"]).contains(".ci/run")).unwrap();
    let named = [&ci_step["env"]["CONFORMANCE_PYTHON"], &job["env"]["CONFORMANCE_PYTHON"]]
        .into_iter()
        .find_map(|v| v.as_str().map(str::to_owned));
    let conformance = match named {
        Some(expression) => {
            assert!(runner.contains("CONFORMANCE_PYTHON"), "the runner no longer reads CONFORMANCE_PYTHON");
            let id = expression.trim_start_matches("${{").trim().trim_start_matches("steps.").split('.').next();
            let step = pythons.iter().find(|(step, _)| Some(*step) == id);
            let (_, found) =
                step.unwrap_or_else(|| panic!("CONFORMANCE_PYTHON names no setup-python step: {expression}"));
            assert!(expression.contains("outputs.python-path"), "{expression}");
            *found
        }
        // Without it, the runner looks for python3.14 and python3.13 on PATH.
        None => pythons.iter().map(|(_, v)| *v).filter(|v| *v >= (3, 13)).max().unwrap_or(default),
    };
    assert!(
        conformance >= conformance_minimum,
        "the conformance runner needs Python {conformance_minimum:?}; the job gives it {conformance:?}"
    );

    // Tools the tests run through `tool(..)`: installed by install-tools, from its pinned requirements.
    let sources = test_sources();
    let bin =
        std::env::var_os("DEPLOYER_TOOLS_BIN").map_or_else(|| workspace_root().join(".venv-tools/bin"), Into::into);
    for venv in [".venv-tools", ".venv-checkov"] {
        let stamp = workspace_root().join(venv).join(".requirements");
        let requirements = format!("scripts/requirements-{}.txt", venv.trim_start_matches(".venv-"));
        assert_eq!(
            std::fs::read_to_string(&stamp).unwrap(),
            text(&requirements),
            "{venv} is not made from {requirements}"
        );
    }
    for name in called(&sources, "tool(\"") {
        assert!(bin.join(&name).exists(), "tests run `{name}`, which scripts/install-tools does not install");
    }
    // Programs started by name: coreutils and util-linux are on every Ubuntu runner; the rest .ci/run installs.
    let essential = ["cp", "sleep", "script"];
    let installed_by_ci = [("curl", "curl"), ("ss", "iproute2")];
    for name in called(&sources, "Command::new(\"") {
        let by_ci = installed_by_ci.iter().find(|(program, _)| *program == name);
        match by_ci {
            Some((program, package)) => assert!(
                ci.contains(&format!("command -v {program}"))
                    && ci.contains("apt-get install -y -q")
                    && ci.contains(package),
                ".ci/run does not install {package} for `{program}`"
            ),
            None => assert!(essential.contains(&name.as_str()), "tests run `{name}`: install it in .ci/run or the job"),
        }
    }
    // Rust: the components .ci/run uses.
    let rustup: String = steps.iter().map(|s| str_of(&s["run"])).filter(|r| r.contains("rustup")).collect();
    for (command, component) in [("cargo fmt", "rustfmt"), ("cargo clippy", "clippy")] {
        if ci.contains(command) {
            let by_ci = ci.lines().any(|l| l.contains("rustup component add") && l.contains(component));
            assert!(by_ci || rustup.contains(component), "`{command}` needs the {component} component");
        }
    }
}

/// The text of every integration test source, where the tests start other programs.
fn test_sources() -> String {
    let mut text = String::new();
    for dir in ["deployer/tests", "local/tests", "conformance/tests"] {
        collect(&workspace_root().join(dir), &mut text);
    }
    text
}

fn collect(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The literal names after `prefix` (`tool("`, `Command::new("`), skipping this file's own examples.
fn called(sources: &str, prefix: &str) -> BTreeSet<String> {
    sources
        .match_indices(prefix)
        .filter_map(|(at, _)| sources[at + prefix.len()..].split('"').next())
        .filter(|name| !name.is_empty() && !name.contains(' ') && *name != "x" && !name.contains('…'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn python_checks_of_the_scripts_are_read() {
    assert_eq!(python_minimums("sys.exit(0 if sys.version_info >= (3, 11) else 1)"), [(3, 11)]);
    assert_eq!(python_minimums("sys.exit(sys.version_info < (3, 13))"), [(3, 13)]);
    assert!(python_minimums("no check here").is_empty());
}
