//! Unit tests of the parent module.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::App;
use crate::logical_id::logical_id;
use crate::resources::iam::Role;
use crate::resources::logs::LogGroup;

fn role() -> Role {
    Role::for_service("lambda.amazonaws.com")
}

#[test]
fn stack_ids_follow_cloudformation_name_rules() {
    for bad in ["", "1stack", "my_stack", "a b", &"a".repeat(129)] {
        assert!(matches!(Stack::new(&crate::App::new(), bad), Err(SynthError::InvalidConstructId { .. })), "{bad}");
    }
    let mut stack = Stack::new(&crate::App::new(), "durable-invoke-lambda").unwrap();
    assert!(matches!(stack.set_stack_name("bad_name"), Err(SynthError::InvalidStackName { .. })));
}

#[test]
fn ids_must_be_unique_and_slash_free() {
    let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
    stack.add("Role", role()).unwrap();
    let err = stack.add("Role", role()).unwrap_err().to_string();
    assert!(err.contains("s/Role"), "{err}");
    assert!(matches!(stack.add("a/b", role()), Err(SynthError::InvalidConstructId { .. })));
    assert!(matches!(stack.add("", role()), Err(SynthError::InvalidConstructId { .. })));
}

#[test]
fn scopes_nest_paths_and_hash_logical_ids() {
    let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
    let r = stack.scope("Api").unwrap().add("Handler", role()).unwrap();
    assert_eq!(r.handle().path(), "s/Api/Handler");
    let nested = stack.scope("Api").unwrap().scope("Inner").unwrap().add("Resource", role()).unwrap();
    assert_eq!(nested.handle().path(), "s/Api/Inner/Resource");
    let t = stack.synth(&AssetManifest::new()).unwrap().template;
    let expected = logical_id(&["Api", "Handler"]).unwrap();
    assert_eq!(expected, "ApiHandler0AA9C78B");
    assert!(t["Resources"].get(&expected).is_some(), "{t:#}");
    assert!(t["Resources"].get(logical_id(&["Api", "Inner", "Resource"]).unwrap()).is_some());
}

#[test]
fn colliding_logical_ids_are_an_error() {
    let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
    stack.add("Foo-Bar", role()).unwrap();
    stack.add("FooBar", role()).unwrap();
    let err = stack.synth(&AssetManifest::new()).unwrap_err().to_string();
    assert!(err.contains("FooBar") && err.contains("s/Foo-Bar") && err.contains("s/FooBar"), "{err}");
}

#[test]
fn references_across_stacks_are_rejected() {
    let mut a = Stack::new(&crate::App::new(), "a").unwrap();
    let group = a.add("Group", LogGroup::new(14)).unwrap();
    let mut b = Stack::new(&crate::App::new(), "b").unwrap();
    let own = b.add("Own", LogGroup::new(14)).unwrap();
    b.add_output("Foreign", Output::new(group.arn())).unwrap();
    let err = b.synth(&AssetManifest::new()).unwrap_err();
    assert!(matches!(err, SynthError::UnresolvedReference { .. }), "{err:?}");
    assert!(err.to_string().contains("a/Group"), "{err}");
    assert!(b.add_dependency(&own, &group).is_err());
    assert!(b.add_dependency(&own, &own).is_err());
    assert!(b.skip_check(&group, "CKV_AWS_1", "reason").is_err());
}

#[test]
fn checkov_skips_need_an_id_and_a_reason() {
    let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
    let g = stack.add("Group", LogGroup::new(14)).unwrap();
    assert!(stack.skip_check(&g, "AWS_1", "reason").is_err());
    assert!(stack.skip_check(&g, "CKV_AWS_1", " ").is_err());
    stack.skip_check(&g, "CKV_AWS_1", "reason").unwrap();
    let t = stack.synth(&AssetManifest::new()).unwrap().template;
    assert_eq!(t["Resources"]["Group"]["Metadata"]["checkov"]["skip"][0]["id"], "CKV_AWS_1");
}

#[test]
fn outputs_are_named_once_and_apart_from_resources() {
    let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
    let g = stack.add("Group", LogGroup::new(14)).unwrap();
    assert!(stack.add_output("bad-name", Output::new("x")).is_err());
    stack.add_output("GroupArn", Output::new(g.arn())).unwrap();
    assert!(stack.add_output("GroupArn", Output::new("x")).is_err());
    stack.add_output("Group", Output::new("x")).unwrap();
    let err = stack.synth(&AssetManifest::new()).unwrap_err();
    assert!(matches!(err, SynthError::DuplicateLogicalId { .. }), "{err:?}");
}

#[test]
fn apps_reject_duplicate_stack_names_and_order_bootstrap_first() {
    let mut app = App::new();
    let first = Stack::new(&app, "app").unwrap();
    app.add_stack(first).unwrap();
    let boot = Stack::with_kind(&app, "boot", StackKind::Bootstrap).unwrap();
    app.add_stack(boot).unwrap();
    let again = Stack::new(&app, "app").unwrap();
    assert!(matches!(app.add_stack(again), Err(SynthError::DuplicateStack { .. })));
    let assembly = app.synth_with(&AssetManifest::new()).unwrap();
    let names: Vec<&str> = assembly.stacks.iter().map(|s| s.stack_name.as_str()).collect();
    assert_eq!(names, ["boot", "app"]);
}
