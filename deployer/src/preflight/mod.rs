//! The pre-flight check: before `up` builds anything, IAM's policy simulator is asked whether the caller may make
//! the calls `up` is about to make; a refusal stops `up` with the missing calls and the policy to add, instead of a
//! rollback minutes later. `doctor` runs the same check. [`needs`] lists the calls, [`simulate`] asks IAM.

pub(crate) mod needs;
pub(crate) mod simulate;
#[cfg(test)]
mod tests;

use needs::Need;
use simulate::{Denied, Verdict};

use crate::error::DeployerError;

/// The error for calls the simulator refused: each call, then the policy to add for the implicitly denied ones and
/// the Deny statements that refuse the others.
pub(crate) fn missing_permissions(principal: &str, denied: &[Denied], before: &str) -> DeployerError {
    let mut lines: Vec<String> = denied
        .iter()
        .map(|d| {
            let why = if d.explicit {
                format!("explicitly denied by {}", d.policies.join(", "))
            } else {
                "no policy allows it".to_owned()
            };
            format!("  {} on {} ({why})", d.need.action, d.need.resource)
        })
        .collect();
    lines.sort();
    lines.dedup();
    let implicit: Vec<Need> = denied.iter().filter(|d| !d.explicit).map(|d| d.need.clone()).collect();
    let explicit = denied.iter().any(|d| d.explicit);
    let mut text = format!(
        "{principal} may not make {} call(s) {before} (IAM's policy simulator says so; nothing was built or \
         changed):\n{}",
        denied.len(),
        lines.join("\n")
    );
    if !implicit.is_empty() {
        let policy = needs::policy(&implicit, |index, _| format!("DeployerNeeds{}", index + 1));
        text.push_str(
            &[
                "\nAdd this policy to ",
                principal,
                " (`aws iam put-role-policy` or `put-user-policy`), or use credentials that have it:\n",
            ]
            .concat(),
        );
        text.push_str(&serde_json::to_string_pretty(&policy).unwrap_or_default());
    }
    if explicit {
        text.push_str(
            "\nA Deny statement refuses the calls marked explicitly denied: an Allow does not override it; ask \
             whoever owns the policies named (an SCP or a permissions boundary) to lift it",
        );
    }
    DeployerError::MissingPermissions(text)
}

/// What the check came to, for `up`: `Ok(Some(why))` when it could not be made (the caller warns and goes on).
pub(crate) fn outcome(verdict: Verdict, principal: &str, before: &str) -> Result<Option<String>, DeployerError> {
    match verdict {
        Verdict::Allowed => Ok(None),
        Verdict::Denied(denied) => Err(missing_permissions(principal, &denied, before)),
        Verdict::NotChecked(why) => Ok(Some(why)),
    }
}
