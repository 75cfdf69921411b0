//! Unit tests of the parent module: stack selection over an app defined here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use constructs::resources::logs::LogGroup;
use constructs::{App, AppContext, Stack, SynthError};

use super::*;

/// Three kinds of stacks, as a project with a pattern, a fixture and suites would have them.
fn define(app: &mut App) -> Result<(), SynthError> {
    let mut pattern = Stack::new(app, "Pattern")?;
    pattern.set_stack_name("durable-invoke-lambda")?;
    pattern.add("Group", LogGroup::new(14))?;
    app.add_stack(pattern)?;
    let mut fixture = Stack::new(app, "ToolkitFixture")?;
    fixture.set_stack_name("durable-toolkit-fixture")?;
    app.add_stack(fixture)?;
    for suite in ["Step", "Wait", "Invoke"] {
        let mut stack = Stack::new(app, &format!("Conformance{suite}"))?;
        stack.set_stack_name(&format!("durable-conformance-{}", suite.to_lowercase()))?;
        app.add_stack(stack)?;
    }
    Ok(())
}

fn app() -> ProjectApp {
    ProjectApp::defined(define, Some("Pattern"), AppContext::default())
}

fn names(selectors: &[&str]) -> Result<Vec<String>> {
    let selectors: Vec<String> = selectors.iter().map(|s| (*s).to_owned()).collect();
    Selection::new(app(), &selectors).map(|s| s.names())
}

#[test]
fn globs_match_like_cdk_selectors() {
    assert!(glob("*", "anything") && glob("*", ""));
    assert!(glob("durable-conformance-*", "durable-conformance-wait-for-condition"));
    assert!(glob("Conformance?tep", "ConformanceStep"));
    assert!(glob("*-step", "durable-conformance-step") && glob("a*b*c", "aXXbYc"));
    assert!(!glob("durable-conformance-*", "durable-invoke-lambda"));
    assert!(!glob("Pattern", "Patterns") && !glob("?", "") && !glob("a*c", "abcd"));
}

#[test]
fn stacks_are_selected_by_id_or_name_and_default_to_the_default_stack() {
    assert_eq!(names(&[]).unwrap(), ["durable-invoke-lambda"]);
    assert_eq!(names(&["Pattern"]).unwrap(), names(&["durable-invoke-lambda"]).unwrap());
    let conformance = names(&["durable-conformance-*"]).unwrap();
    assert_eq!(conformance.len(), 3);
    assert_eq!(names(&["Conformance*"]).unwrap(), conformance);
    let all = names(&["*"]).unwrap();
    assert_eq!(all.len(), 5, "every app stack, never the bootstrap stack: {all:?}");
    assert_eq!(all[..2], ["durable-invoke-lambda", "durable-toolkit-fixture"], "in the app's order");
    assert_eq!(names(&["ToolkitFixture", "Pattern", "Pattern"]).unwrap(), all[..2], "deduplicated");
}

#[test]
fn a_selector_that_matches_nothing_lists_the_stacks() {
    let error = names(&["Nope*"]).unwrap_err().to_string();
    assert!(error.contains("`Nope*`") && error.contains("Pattern (durable-invoke-lambda)"), "{error}");
    let error = names(&["DurableDeployerToolkit"]).unwrap_err().to_string();
    assert!(error.contains("bootstrap stack") && error.contains("down --all"), "{error}");
    let error = Selection::one(app(), Some("Conformance*")).err().unwrap().to_string();
    assert!(error.contains("names 3 stacks") && error.contains("--stack"), "{error}");
}

#[test]
fn without_a_default_an_app_of_several_stacks_asks_for_a_selector_and_one_of_one_is_the_default() {
    let app = ProjectApp::defined(define, None, AppContext::default());
    let error = Selection::new(app, &[]).err().unwrap().to_string();
    assert!(
        error.contains("5 stacks") && error.contains("default-stack") && error.contains("ConformanceWait"),
        "{error}"
    );
    let single = ProjectApp::defined(|app| app.add_stack(Stack::new(app, "Only")?), None, AppContext::default());
    assert_eq!(Selection::new(single, &[]).unwrap().names(), ["Only"]);
}

#[test]
fn a_renamed_stack_keeps_its_id_and_an_environment_prefixes_every_name() {
    let mut context = AppContext::default();
    context.stack_names.insert("Pattern".into(), "renamed".into());
    context.environment.stack_prefix = "staging-".into();
    let app = ProjectApp::defined(define, Some("Pattern"), context);
    let selection = Selection::new(app, &["Pattern".to_owned(), "ToolkitFixture".to_owned()]).unwrap();
    assert_eq!(selection.names(), ["staging-renamed", "staging-durable-toolkit-fixture"]);
}

#[test]
fn the_selected_stacks_are_synthesized_after_the_bootstrap_stack() {
    let selection = Selection::new(app(), &["Conformance*".to_owned()]).unwrap();
    let assembly = selection.synth_with_bootstrap(&AssetManifest::new(), &selection.default_bootstrap()).unwrap();
    let names: Vec<&str> = assembly.stacks.iter().map(|s| s.stack_name.as_str()).collect();
    assert_eq!(names[0], crate::bootstrap::STACK_NAME);
    assert_eq!(names[1..], ["durable-conformance-step", "durable-conformance-wait", "durable-conformance-invoke"]);
}

#[test]
fn stacks_left_out_of_the_selection_need_no_assets() {
    fn with_functions(app: &mut App) -> Result<(), SynthError> {
        use constructs::resources::iam::Role;
        use constructs::resources::lambda::Function;
        for id in ["First", "Second"] {
            let mut stack = Stack::new(app, id)?;
            let role = stack.add("Role", Role::for_service("lambda.amazonaws.com"))?;
            let code = constructs::AssetSource::CargoBinary { package: "p".into(), binary: "p".into() };
            stack.add("Fn", Function::new(code, &role))?;
            app.add_stack(stack)?;
        }
        Ok(())
    }
    let app = ProjectApp::defined(with_functions, Some("First"), AppContext::default());
    let selection = Selection::new(app, &[]).unwrap();
    let mut assets = AssetManifest::new();
    assets.insert("First/Fn", "ab".repeat(32));
    let assembly = selection.synth_with_bootstrap(&assets, &selection.default_bootstrap()).unwrap();
    let code = &assembly.stacks[1].template["Resources"]["Fn"]["Properties"]["Code"]["S3Key"];
    assert_eq!(code, &serde_json::json!(format!("{}.zip", "ab".repeat(32))));
    assert_eq!(assembly.stacks.len(), 2, "the bootstrap stack and the selected one");
}
