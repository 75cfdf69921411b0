//! A first `cargo run -p deployer -- up --local` compiles the dependencies once: the functions' host build that `up
//! --local` runs next reuses every unit of the deployer's build that it shares, instead of compiling the SDK, tokio,
//! serde and the rest again with other features (issue 22: 212 units, 1,043 CPU-seconds before `workspace-hack`).
//!
//! Read from cargo's unit graph (`--unit-graph`, unstable, so asked with `RUSTC_BOOTSTRAP=1`; nothing is built): a
//! unit is the same compiled artifact in both builds when its package, target, mode, features and profile and those
//! of all its dependencies are.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::support::{cargo, workspace_root};

/// The app's function binaries, each `(package, binary)`: `up --local` builds them together, a watch only those whose
/// sources changed (`deployer/src/build/mod.rs` selects each package's binary and the feature unifier's library).
const FUNCTIONS: &[&str] = &["processor", "orchestrator", "orders"];
const UNIFIER: &[&str] = &["--package", "workspace-hack", "--lib"];

/// A unit as the package it compiles and an identity that differs whenever cargo would compile it separately.
struct Unit {
    package: String,
    identity: u64,
}

fn unit_graph(args: &[&str]) -> Vec<Unit> {
    let output = cargo()
        .current_dir(workspace_root())
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["build", "--locked", "--unit-graph", "-Z", "unstable-options"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo --unit-graph failed: {}", String::from_utf8_lossy(&output.stderr));
    let graph: Value = serde_json::from_slice(&output.stdout).unwrap();
    let units = graph["units"].as_array().unwrap();
    let mut identities: HashMap<usize, u64> = HashMap::new();
    (0..units.len())
        .map(|index| Unit {
            package: units[index]["pkg_id"].as_str().unwrap().to_owned(),
            identity: identity(units, index, &mut identities),
        })
        .collect()
}

fn identity(units: &[Value], index: usize, memo: &mut HashMap<usize, u64>) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    if let Some(known) = memo.get(&index) {
        return *known;
    }
    let unit = &units[index];
    let mut dependencies: Vec<u64> = unit["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| identity(units, usize::try_from(d["index"].as_u64().unwrap()).unwrap(), memo))
        .collect();
    dependencies.sort_unstable();
    let mut hasher = DefaultHasher::new();
    for field in ["pkg_id", "target", "mode", "platform", "features", "profile"] {
        unit[field].to_string().hash(&mut hasher);
    }
    dependencies.hash(&mut hasher);
    let identity = hasher.finish();
    memo.insert(index, identity);
    identity
}

/// The units of `second` whose package `first` also compiles, but which `first` compiled differently.
fn compiled_again(first: &[Unit], second: &[Unit]) -> BTreeSet<String> {
    let identities: BTreeSet<u64> = first.iter().map(|u| u.identity).collect();
    let packages: BTreeSet<&str> = first.iter().map(|u| u.package.as_str()).collect();
    second
        .iter()
        .filter(|u| packages.contains(u.package.as_str()) && !identities.contains(&u.identity))
        .map(|u| u.package.rsplit('#').next().unwrap_or(&u.package).to_owned())
        .collect()
}

fn host_build(functions: &[&str], unifier: bool) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    for function in functions {
        args.extend(["--package", function, "--bin", function].map(str::to_owned));
    }
    if unifier {
        args.extend(UNIFIER.iter().map(|a| (*a).to_owned()));
    }
    args
}

#[test]
fn the_functions_host_build_reuses_the_deployer_s_units() {
    let deployer = unit_graph(&["--package", "deployer"]);
    // Together (`up --local`) and each alone (a watch's rebuild after an edit of one function).
    let mut builds: Vec<Vec<&str>> = vec![FUNCTIONS.to_vec()];
    builds.extend(FUNCTIONS.iter().map(|f| vec![*f]));
    for functions in builds {
        let args = host_build(&functions, true);
        let again = compiled_again(&deployer, &unit_graph(&args.iter().map(String::as_str).collect::<Vec<_>>()));
        assert!(
            again.is_empty(),
            "the host build of {functions:?} would compile these packages again, with features the deployer's build \
             does not give them: {again:?}. Add each one's features from both builds to workspace-hack/Cargo.toml \
             (`cargo tree -e features -i <package>` shows who enables what)"
        );
    }
    // The unifier is what makes them equal: without it the same build compiles the SDK, hyper and serde again.
    let args = host_build(FUNCTIONS, false);
    let without = compiled_again(&deployer, &unit_graph(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    for package in ["aws-config@", "aws-sdk-lambda@", "hyper@", "serde@"] {
        assert!(without.iter().any(|p| p.starts_with(package)), "{package} not compiled again: {without:?}");
    }
}
