//! What to do with a stack, given the status CloudFormation reports for it.

/// The next step for a deployment, decided from the stack's current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StackAction {
    /// No stack: create it through a CREATE change set.
    Create,
    /// A stable stack: update it through an UPDATE change set (after the no-op check).
    Update,
    /// A stack that only exists as a failed creation: delete it, then create.
    DeleteThenCreate,
    /// An operation is running: wait for it to end, then decide again.
    WaitThenRetry,
    /// The stack needs a person: the text says what to do.
    Blocked(String),
}

/// Decides what `up` does with a stack in `status` (`None`: the stack does not exist).
pub(crate) fn action_for(stack: &str, status: Option<&str>) -> StackAction {
    let Some(status) = status else {
        return StackAction::Create;
    };
    match status {
        "DELETE_COMPLETE" | "REVIEW_IN_PROGRESS" => StackAction::Create,
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => StackAction::Update,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => StackAction::DeleteThenCreate,
        "UPDATE_ROLLBACK_FAILED" => StackAction::Blocked(format!(
            "stack {stack} is in UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back its last update. Fix the \
             resource named in its events, then run `aws cloudformation continue-update-rollback --stack-name {stack}` \
             and run `up` again"
        )),
        "DELETE_FAILED" => StackAction::Blocked(format!(
            "stack {stack} is in DELETE_FAILED: a resource could not be deleted. Look at its events \
             (`aws cloudformation describe-stack-events --stack-name {stack}`), remove what holds it, then run `down` \
             again"
        )),
        s if s.ends_with("_IN_PROGRESS") => StackAction::WaitThenRetry,
        other => StackAction::Blocked(format!(
            "stack {stack} is in status {other}, which the deployer does not know how to continue from; inspect it in \
             the CloudFormation console"
        )),
    }
}

/// Whether a status ends an operation (nothing is running on the stack).
pub(crate) fn is_terminal(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS")
}

/// Whether a final status means the last operation succeeded.
pub(crate) fn is_success(status: &str) -> bool {
    matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE")
}

/// Whether a resource status is final for progress counting.
pub(crate) fn resource_done(status: &str) -> bool {
    status.ends_with("_COMPLETE") || status.ends_with("_FAILED") || status.ends_with("_SKIPPED")
}

/// Whether CloudFormation's reason for a failed change set means "nothing to change".
pub(crate) fn is_no_change_reason(reason: &str) -> bool {
    reason.contains("didn't contain changes")
        || reason.contains("No updates are to be performed")
        || reason.contains("The submitted information didn't contain changes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_deleted_stack_is_created() {
        assert_eq!(action_for("s", None), StackAction::Create);
        assert_eq!(action_for("s", Some("DELETE_COMPLETE")), StackAction::Create);
        assert_eq!(action_for("s", Some("REVIEW_IN_PROGRESS")), StackAction::Create);
    }

    #[test]
    fn stable_stacks_are_updated() {
        for status in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"] {
            assert_eq!(action_for("s", Some(status)), StackAction::Update, "{status}");
        }
    }

    #[test]
    fn a_failed_create_is_deleted_and_recreated() {
        assert_eq!(action_for("s", Some("ROLLBACK_COMPLETE")), StackAction::DeleteThenCreate);
        assert_eq!(action_for("s", Some("ROLLBACK_FAILED")), StackAction::DeleteThenCreate);
    }

    #[test]
    fn running_operations_are_waited_for() {
        for status in
            ["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "DELETE_IN_PROGRESS"]
        {
            assert_eq!(action_for("s", Some(status)), StackAction::WaitThenRetry, "{status}");
            assert!(!is_terminal(status));
        }
    }

    #[test]
    fn update_rollback_failed_says_how_to_continue() {
        let StackAction::Blocked(text) = action_for("app", Some("UPDATE_ROLLBACK_FAILED")) else {
            unreachable!("UPDATE_ROLLBACK_FAILED must block");
        };
        assert!(text.contains("continue-update-rollback --stack-name app"), "{text}");
    }

    #[test]
    fn delete_failed_says_how_to_find_what_holds_the_stack() {
        let StackAction::Blocked(text) = action_for("app", Some("DELETE_FAILED")) else {
            unreachable!("DELETE_FAILED must block");
        };
        assert!(text.contains("aws cloudformation describe-stack-events --stack-name app"), "{text}");
        assert!(text.contains("run `down` again"), "{text}");
    }

    #[test]
    fn no_change_reasons_are_recognised() {
        assert!(is_no_change_reason(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(is_no_change_reason("No updates are to be performed."));
        assert!(!is_no_change_reason("Template format error: unresolved resource dependencies"));
    }

    #[test]
    fn success_and_progress_predicates() {
        assert!(is_success("UPDATE_COMPLETE"));
        assert!(!is_success("UPDATE_ROLLBACK_COMPLETE"));
        assert!(resource_done("CREATE_FAILED"));
        assert!(!resource_done("CREATE_IN_PROGRESS"));
    }
}
