//! IAM's policy simulator (`SimulatePrincipalPolicy`) asked whether the caller may make each call of a list.
//!
//! The simulator evaluates the caller's identity policies, permissions boundary and the organization's SCPs as
//! IAM would, without making the calls. It answers per action and resource: `allowed`, `implicitDeny` (nothing
//! allows it: a policy to add fixes it) or `explicitDeny` (a Deny statement refuses it: adding an Allow does not
//! help). It cannot evaluate the session policy of an assumed role's session, nor resource policies it is not
//! given; a caller it cannot simulate (the root user, a federated user), one that may not call it, or a service
//! that does not implement it (emulators) leaves the check undone, which the caller reports and goes on.

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType};

use super::needs::Need;
use crate::aws::Caller;

/// Calls of one simulation at most (the simulator's own limit on action names per request is far above).
const MAX_PAGES: usize = 20;

/// One call the simulator refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Denied {
    /// What was asked.
    pub need: Need,
    /// A Deny statement refuses it (an Allow added would not help).
    pub explicit: bool,
    /// The policies whose statements decided, as the simulator names them.
    pub policies: Vec<String>,
}

/// What the simulator said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every call is allowed.
    Allowed,
    /// These calls are not.
    Denied(Vec<Denied>),
    /// The check could not be made; why.
    NotChecked(String),
}

/// The IAM principal whose policies apply to `caller`: the user, or the role an assumed-role session belongs to
/// (`arn:aws:sts::1:assumed-role/Name/session` → `arn:aws:iam::1:role/Name`). The simulator cannot stand in for the
/// root user or a federated user.
pub(crate) fn principal(caller: &Caller) -> Result<String, String> {
    let parts: Vec<&str> = caller.arn.splitn(6, ':').collect();
    let [_, partition, service, _, account, resource] = parts[..] else {
        return Err(format!("the caller's ARN {} is not one IAM's simulator reads", caller.arn));
    };
    match (service, resource.split('/').collect::<Vec<_>>().as_slice()) {
        ("iam", ["root"]) => Err(
            "these are the account's root user's credentials, which IAM's simulator cannot check (and which may do \
             everything): deploy with a role or a user instead"
                .to_owned(),
        ),
        ("iam", ["user", ..]) => Ok(caller.arn.clone()),
        ("sts", ["assumed-role", role, _session]) => Ok(format!("arn:{partition}:iam::{account}:role/{role}")),
        _ => Err(format!("IAM's simulator cannot check a caller like {}", caller.arn)),
    }
}

/// Asks the simulator about `needs` for `caller`: one request per resource and context, following its pages.
pub(crate) async fn simulate(iam: &aws_sdk_iam::Client, caller: &Caller, needs: &[Need]) -> Verdict {
    let mut source = match principal(caller) {
        Ok(source) => source,
        Err(why) => return Verdict::NotChecked(why),
    };
    let mut groups: Vec<super::needs::Group<'_, &Need>> = Vec::new();
    for need in needs {
        match groups.iter_mut().find(|(r, c, _)| *r == need.resource && *c == need.context.as_slice()) {
            Some((_, _, list)) => list.push(need),
            None => groups.push((&need.resource, &need.context, vec![need])),
        }
    }
    let mut denied = Vec::new();
    let mut resolved_path = false;
    let mut index = 0;
    while let Some((resource, context, list)) = groups.get(index) {
        match simulate_group(iam, &source, resource, context, list).await {
            Ok(found) => denied.extend(found),
            // A role with a path: its session's ARN drops the path, so the simulator knows no role of that ARN.
            Err(error) if error.0.as_deref() == Some("NoSuchEntity") && !resolved_path => {
                resolved_path = true;
                match role_arn_with_path(iam, &source).await {
                    Some(arn) => {
                        source = arn;
                        continue;
                    }
                    None => return Verdict::NotChecked(error.1),
                }
            }
            Err((code, message)) => {
                let why = match code.as_deref() {
                    Some("AccessDenied" | "AccessDeniedException") => format!(
                        "{source} may not call iam:SimulatePrincipalPolicy on itself ({message}); allow it to have \
                         missing permissions found before anything is built"
                    ),
                    _ => format!("IAM's policy simulator did not answer ({message})"),
                };
                return Verdict::NotChecked(why);
            }
        }
        index += 1;
    }
    if denied.is_empty() { Verdict::Allowed } else { Verdict::Denied(denied) }
}

/// The simulator's code and message for a failed request.
type Failure = (Option<String>, String);

async fn simulate_group(
    iam: &aws_sdk_iam::Client,
    source: &str,
    resource: &str,
    context: &[(String, String)],
    needs: &[&Need],
) -> Result<Vec<Denied>, Failure> {
    let mut denied = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut call = iam
            .simulate_principal_policy()
            .policy_source_arn(source)
            .resource_arns(resource)
            .set_marker(marker.clone());
        for need in needs {
            call = call.action_names(&need.action);
        }
        for (key, value) in context {
            call = call.context_entries(
                ContextEntry::builder()
                    .context_key_name(key)
                    .context_key_values(value)
                    .context_key_type(ContextKeyTypeEnum::String)
                    .build(),
            );
        }
        let answer = call.send().await.map_err(|e| (e.code().map(str::to_owned), crate::aws::service_message(&e)))?;
        for result in answer.evaluation_results() {
            let decision = result.eval_decision();
            if *decision == PolicyEvaluationDecisionType::Allowed {
                continue;
            }
            let Some(need) = needs.iter().find(|n| n.action.eq_ignore_ascii_case(result.eval_action_name())) else {
                continue;
            };
            denied.push(Denied {
                need: (*need).clone(),
                explicit: *decision == PolicyEvaluationDecisionType::ExplicitDeny,
                policies: result
                    .matched_statements()
                    .iter()
                    .filter_map(|s| s.source_policy_id())
                    .map(str::to_owned)
                    .collect(),
            });
        }
        marker = answer.marker().filter(|_| answer.is_truncated()).map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    Ok(denied)
}

/// The ARN, path included, of the role `source` names without its path.
async fn role_arn_with_path(iam: &aws_sdk_iam::Client, source: &str) -> Option<String> {
    let name = source.rsplit('/').next()?;
    let role = iam.get_role().role_name(name).send().await.ok()?;
    role.role().map(|r| r.arn().to_owned())
}
