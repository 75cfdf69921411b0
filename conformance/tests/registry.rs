//! The binary's handlers and the stacks' catalog agree: every requirement the stacks deploy has a durable
//! handler under its id, nothing else has one, every target the invoke stack deploys has a plain handler, and
//! both sides name the same environment variables.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use std::collections::BTreeSet;

use conformance::registry::{self, Handler, durable_ids, handler, plain_ids};
use conformance::targets::{ECHO_ENV, FAILING_ENV, MEASURE_ENV, TENANT_ECHO_ENV};
use conformance_app::catalog::{self, TARGETS};

#[test]
fn deployed_requirements_and_handlers_are_the_same_set() {
    let deployed: BTreeSet<String> = catalog::requirements()
        .into_iter()
        .filter(|r| r.not_applicable().is_none())
        .map(catalog::Requirement::handler)
        .collect();
    let handled: BTreeSet<String> = durable_ids().map(str::to_owned).collect();
    assert_eq!(deployed, handled);
    assert_eq!(handled.len(), durable_ids().count(), "no id twice");
    for requirement in catalog::requirements() {
        let found = handler(&requirement.handler());
        match requirement.not_applicable() {
            Some(_) => assert!(found.is_none(), "{} is not applicable but has a handler", requirement.id()),
            None => assert!(matches!(found, Some(Handler::Durable(_))), "{}", requirement.id()),
        }
    }
    for id in conformance::plugin::PROBED {
        assert!(handled.contains(*id), "{id}");
    }
}

#[test]
fn targets_and_their_variables_match() {
    let deployed: BTreeSet<&str> = TARGETS.iter().map(|t| t.handler).collect();
    let handled: BTreeSet<&str> = plain_ids().collect();
    assert_eq!(deployed, handled);
    let variables: BTreeSet<&str> = TARGETS.iter().map(|t| t.env).collect();
    assert_eq!(variables, BTreeSet::from([ECHO_ENV, FAILING_ENV, MEASURE_ENV, TENANT_ECHO_ENV]));
    assert_eq!(registry::HANDLER_ENV, conformance_app::HANDLER_ENV);
    assert!(handler("no-such-handler").is_none());
}

#[test]
fn targets_answer_as_documented() {
    use serde_json::json;
    assert_eq!(conformance::targets::echo(json!({"a": [1]})).unwrap(), json!({"a": [1]}));
    let error = conformance::targets::failing(json!(null)).unwrap_err();
    let diagnostic = conformance::targets::diagnostic(&error);
    assert_eq!(diagnostic.error_type, "IntentionalFailure");
    assert_eq!(diagnostic.error_message, "the target function failed on purpose");
    assert_eq!(conformance::targets::measure(&json!("abc")).unwrap(), json!({"bytes": 5}));
}
