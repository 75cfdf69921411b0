//! The deployer's module structure, read from its sources: no top-level module imports, through any chain, a module
//! that imports it back, and the output messages (`io`) and the data they carry (`payloads`) import no domain
//! module. A change that brings a cycle back fails here, naming the modules and the files that import each other.
//!
//! An import is a `crate::<module>` path in code (comments are not code). Unit-test files (a folder module's
//! `tests.rs`) and the test modules at the end of a file are left out: a test may reach into any module it checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::workspace_root;

/// Which top-level modules each top-level module imports, with a file that does it for each import.
type Imports = BTreeMap<String, BTreeMap<String, PathBuf>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file, without comments and without its trailing test module.
fn code(text: &str) -> String {
    let end = text.find("#[cfg(test)]\nmod tests {").unwrap_or(text.len());
    text[..end].lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn imports(src: &Path) -> Imports {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let module_of = |path: &Path| -> String {
        let relative = path.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        first.trim_end_matches(".rs").to_owned()
    };
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).filter(|m| m != "lib" && m != "main").collect();
    let mut graph = Imports::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        let from = module_of(file);
        if name == "tests.rs" || !modules.contains(&from) {
            continue;
        }
        let text = code(&std::fs::read_to_string(file).unwrap());
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let to: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let preceded_by_ident =
                text[..at].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if preceded_by_ident || to == from || !modules.contains(&to) {
                continue;
            }
            graph.entry(from.clone()).or_default().entry(to).or_insert_with(|| file.clone());
        }
    }
    graph
}

/// A chain of imports from `from` back to itself, if there is one.
fn cycle_through(graph: &Imports, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in graph.get(last).into_iter().flat_map(BTreeMap::keys) {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn the_deployer_s_modules_import_no_cycle_and_its_output_imports_no_domain_module() {
    let src = workspace_root().join("deployer/src");
    let graph = imports(&src);
    assert!(graph.len() >= 15, "the module graph looks empty: {graph:?}");
    // The reading must see real imports, or the checks below pass on nothing.
    assert!(graph["commands"].contains_key("target") && graph["target"].contains_key("cfn"), "{graph:?}");

    // One report per cycle, whichever of its modules it was found from.
    let mut found = BTreeSet::new();
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|module| cycle_through(&graph, module))
        .filter(|cycle| found.insert(cycle.iter().cloned().collect::<BTreeSet<_>>()))
        .map(|cycle| {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|pair| {
                    let file = &graph[&pair[0]][&pair[1]];
                    format!("{} -> {} ({})", pair[0], pair[1], file.strip_prefix(&src).unwrap().display())
                })
                .collect();
            steps.join(", ")
        })
        .collect();
    assert!(cycles.is_empty(), "modules that import their importers:\n{}", cycles.join("\n"));

    let leaf = |module: &str, allowed: &[&str]| {
        let extra: Vec<&String> =
            graph.get(module).into_iter().flat_map(BTreeMap::keys).filter(|m| !allowed.contains(&m.as_str())).collect();
        assert!(extra.is_empty(), "`{module}` imports {extra:?}: it must stay below the domain modules");
    };
    leaf("io", &["payloads", "error"]);
    leaf("payloads", &[]);
}

/// One convention for unit tests across the crates: a module's `mod tests`, at the end of its file or, for a folder
/// module, in the folder's `tests.rs` (or a `tests/` folder when they are many); no `*_tests.rs` beside it.
#[test]
fn unit_tests_live_in_tests_modules_only() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    for krate in ["deployer", "local", "constructs", "stacks", "testing", "bench", "conformance", "functions"] {
        walk(&workspace_root().join(krate), &mut files);
    }
    let astray: Vec<String> = files
        .iter()
        .filter(|path| !path.components().any(|c| c.as_os_str() == "target"))
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let in_src = path.components().any(|c| c.as_os_str() == "src");
            let in_tests_folder = path.parent().and_then(Path::file_name).is_some_and(|p| p == "tests");
            let test_file = name.ends_with("_tests.rs") || name.ends_with("_test.rs") || name == "test.rs";
            in_src && test_file && !in_tests_folder
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(astray.is_empty(), "unit-test files outside the convention (name them tests.rs): {astray:?}");
}
