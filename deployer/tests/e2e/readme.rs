//! The README's troubleshooting table names, in brackets at the end of each row, the tests that prove it. This test
//! fails when a row names no test, or a test (or module of tests) that `cargo nextest list` does not find: a test
//! renamed or moved fails the build instead of leaving the README pointing at nothing.
//!
//! A name is written as the end of a test's path (`cli::missing_region_says_how_to_set_one`), as a module of tests
//! (`lock::tests`), or as `cargo nextest list` prints a test of a one-file test binary, its binary id and its name
//! (`stacks::synth the_asset_bucket_denies_all_of_s3_without_tls`); `..::name` is a sibling of the name before it,
//! and a trailing `*` stands for the rest of the last part.

use crate::support::{cargo, target_dir, workspace_root};

/// The rows of the README's troubleshooting table: the case, and the test names in the row's brackets.
fn troubleshooting_rows(readme: &str) -> Vec<(String, Vec<String>)> {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Troubleshooting"))
        .expect("the README has no Troubleshooting section");
    section
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| case") && !line.starts_with("|---"))
        .map(|line| {
            let case = line.trim_start_matches("| ").split(" | ").next().unwrap_or_default().to_owned();
            // The names are in the last bracket of the row's text.
            let bracket = line.rfind('[').map_or("", |start| &line[start..]);
            let mut names: Vec<String> = Vec::new();
            for span in bracket.split('`').skip(1).step_by(2) {
                let words: Vec<&str> = span.split(' ').collect();
                let is_path =
                    |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "_:.*/-".contains(c));
                let span = match words[..] {
                    [path] if path.contains("::") && is_path(path) => path.to_owned(),
                    [binary, test] if is_path(binary) && is_path(test) => format!("{binary}::{test}"),
                    _ => continue,
                };
                let span = span.as_str();
                let name = match (span.strip_prefix("..::"), names.last()) {
                    (Some(rest), Some(previous)) => {
                        let module = previous.rsplit_once("::").map_or(previous.as_str(), |(m, _)| m);
                        format!("{module}::{rest}")
                    }
                    (Some(_), None) => panic!("row {case:?}: `{span}` follows no name"),
                    (None, _) => span.to_owned(),
                };
                names.push(name);
            }
            (case, names)
        })
        .collect()
}

/// Every test `cargo nextest list` finds in the workspace (ignored ones left out), as the parts of its path: the
/// test binary's id, then the test's own path.
fn workspace_tests() -> Vec<Vec<String>> {
    // Without this package's variables (`cargo()`), so cargo lists what is built instead of rebuilding the TLS and
    // SDK crates first.
    let output = cargo()
        .args(["nextest", "list", "--workspace", "--all-features", "--message-format", "json"])
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo nextest list failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut tests = Vec::new();
    for suite in list["rust-suites"].as_object().unwrap().values() {
        let binary: Vec<String> = suite["binary-id"].as_str().unwrap().split("::").map(str::to_owned).collect();
        for (name, case) in suite["testcases"].as_object().unwrap() {
            if case["ignored"] == true {
                continue;
            }
            tests.push(binary.iter().cloned().chain(name.split("::").map(str::to_owned)).collect());
        }
    }
    tests
}

/// Whether `name` (parts, the last one perhaps ending in `*`) names the test `path`: the end of its path, or a run
/// of its modules.
fn names(name: &[&str], path: &[String]) -> bool {
    let part_matches = |pattern: &str, part: &str| match pattern.strip_suffix('*') {
        Some(prefix) => part.starts_with(prefix),
        None => pattern == part,
    };
    let at = |start: usize| name.iter().zip(&path[start..]).all(|(n, p)| part_matches(n, p));
    let Some(last_start) = path.len().checked_sub(name.len()) else { return false };
    // The test itself (its path ends with the name), or a module holding it (the name ends before the test).
    at(last_start) || (0..last_start).any(at)
}

#[test]
fn every_test_the_troubleshooting_table_names_exists() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let rows = troubleshooting_rows(&readme);
    assert!(rows.len() >= 30, "the troubleshooting table has {} rows: is it still a table?", rows.len());
    let tests = workspace_tests();
    assert!(tests.len() >= 100, "cargo nextest list found {} tests", tests.len());
    let mut missing = Vec::new();
    for (case, names_in_row) in &rows {
        if names_in_row.is_empty() {
            missing.push(format!("row {case:?} names no test"));
        }
        for name in names_in_row {
            let parts: Vec<&str> = name.split("::").collect();
            if !tests.iter().any(|path| names(&parts, path)) {
                missing.push(format!("row {case:?} names `{name}`, which `cargo nextest list` does not find"));
            }
        }
    }
    assert!(missing.is_empty(), "the README's troubleshooting table is out of date:\n{}", missing.join("\n"));
}

/// The matching itself: ends of paths, modules, siblings and globs.
#[test]
fn names_are_matched_by_the_end_of_a_test_s_path_or_a_module() {
    let path = |p: &str| p.split("::").map(str::to_owned).collect::<Vec<_>>();
    let test = path("deployer::cfn::status::tests::delete_failed_says_how_to_find_what_holds_the_stack");
    assert!(names(&["status", "tests", "delete_failed_says_how_to_find_what_holds_the_stack"], &test));
    assert!(names(&["cfn", "status", "tests"], &test), "a module of tests");
    assert!(names(&["tests", "delete_failed_*"], &test), "a glob");
    assert!(!names(&["tests", "delete_failed"], &test), "a prefix without its glob");
    assert!(!names(&["status", "delete_failed_says_how_to_find_what_holds_the_stack"], &test), "a part skipped");
    assert!(!names(&["delete_failed_says_how_to_find_what_holds_the_stack", "more"], &test));
    let readme = "# x\n\n## Troubleshooting\n\n| case | what happens |\n|---|---|\n\
                  | a | text [`m::t_1`, `..::t_2` (local crate); `n` and `y`] |\n| b | nothing named |\n\
                  | c | `aws s3 rb s3://x` [`crate::bin t_3`] |\n\n## Next\n";
    let rows = troubleshooting_rows(readme);
    let owned = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        rows,
        [
            ("a".to_owned(), owned(&["m::t_1", "m::t_2"])),
            ("b".to_owned(), vec![]),
            ("c".to_owned(), owned(&["crate::bin::t_3"])),
        ]
    );
}
