//! The pre-flight check against IAM's policy simulator, its answers replayed through the real IAM SDK with
//! `aws-smithy-mocks` (awsQuery XML in the shape of the IAM API reference): every call allowed, one only implicitly
//! denied (a policy to add fixes it), one explicitly denied (an SCP's Deny: no Allow helps), a caller who may not
//! ask, and a role with a path its session's ARN does not show.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use aws_sdk_iam::Client;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};

use super::needs::{Need, Place, for_up};
use super::simulate::{Verdict, principal, simulate};
use crate::aws::Caller;
use crate::error::DeployerError;

const ROLE: &str = "arn:aws:iam::123456789012:role/github-deploy";

fn caller() -> Caller {
    Caller {
        account: "123456789012".into(),
        arn: "arn:aws:sts::123456789012:assumed-role/github-deploy/GitHubActions".into(),
    }
}

fn needs() -> Vec<Need> {
    let place =
        Place { partition: "aws", region: "eu-west-1", account: "123456789012", qualifier: "default", stack_id: "x" };
    for_up(&place, &["app".to_owned()], Some("durable-assets-default-123456789012-eu-west-1-5b2a3c30"), "a.zip", false)
}

/// One `EvaluationResults` member: `(action, resource, decision, matched policy)`.
type Evaluation<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);

fn answer(results: &[Evaluation<'_>]) -> String {
    let members: Vec<String> = results
        .iter()
        .map(|(action, resource, decision, policy)| {
            let matched = policy.map_or_else(String::new, |p| {
                format!(
                    "<member><SourcePolicyId>{p}</SourcePolicyId><SourcePolicyType>role</SourcePolicyType>\
                     <StartPosition><Line>1</Line><Column>1</Column></StartPosition>\
                     <EndPosition><Line>1</Line><Column>90</Column></EndPosition></member>"
                )
            });
            format!(
                "<member><EvalActionName>{action}</EvalActionName><EvalResourceName>{resource}</EvalResourceName>\
                 <EvalDecision>{decision}</EvalDecision><MatchedStatements>{matched}</MatchedStatements>\
                 <MissingContextValues/></member>"
            )
        })
        .collect();
    let members = members.concat();
    format!(
        r#"<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <SimulatePrincipalPolicyResult>
    <IsTruncated>false</IsTruncated>
    <EvaluationResults>{members}</EvaluationResults>
  </SimulatePrincipalPolicyResult>
  <ResponseMetadata><RequestId>004d7059-4c14-11e5-b121-bd8c7EXAMPLE</RequestId></ResponseMetadata>
</SimulatePrincipalPolicyResponse>"#
    )
}

fn error(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
  <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>
</ErrorResponse>"#
    )
}

/// A simulator that answers each request with `decide(action, resource)` for every action it was asked about.
fn simulator(decide: fn(&str, &str) -> (&'static str, Option<&'static str>)) -> Rule {
    mock!(Client::simulate_principal_policy).then_compute_response(move |request| {
        let resource = request.resource_arns().first().cloned().unwrap_or_default();
        let results: Vec<(String, String, &str, Option<&str>)> = request
            .action_names()
            .iter()
            .map(|action| {
                let (decision, policy) = decide(action, &resource);
                (action.clone(), resource.clone(), decision, policy)
            })
            .collect();
        let borrowed: Vec<Evaluation<'_>> =
            results.iter().map(|(a, r, d, p)| (a.as_str(), r.as_str(), *d, *p)).collect();
        let body = answer(&borrowed);
        aws_smithy_mocks::MockResponse::Http(aws_smithy_runtime_api::http::Response::new(
            200.try_into().unwrap(),
            aws_smithy_types::body::SdkBody::from(body),
        ))
    })
}

fn client(rules: &[&Rule]) -> Client {
    mock_client!(aws_sdk_iam, RuleMode::MatchAny, rules)
}

#[tokio::test]
async fn every_call_allowed_is_a_pass_and_the_assumed_role_is_simulated_with_the_pass_role_context() {
    let asked = mock!(Client::simulate_principal_policy)
        .match_requests(|r| {
            r.policy_source_arn() == Some(ROLE)
                && (!r.action_names().contains(&"iam:PassRole".to_owned())
                    || r.context_entries().iter().any(|c| {
                        c.context_key_name() == Some("iam:PassedToService")
                            && c.context_key_values() == ["cloudformation.amazonaws.com"]
                    }))
        })
        .then_compute_response(|request| {
            let resource = request.resource_arns()[0].clone();
            let results: Vec<(String, String)> =
                request.action_names().iter().map(|a| (a.clone(), resource.clone())).collect();
            let borrowed: Vec<Evaluation<'_>> =
                results.iter().map(|(a, r)| (a.as_str(), r.as_str(), "allowed", Some("deploy"))).collect();
            aws_smithy_mocks::MockResponse::Http(aws_smithy_runtime_api::http::Response::new(
                200.try_into().unwrap(),
                aws_smithy_types::body::SdkBody::from(answer(&borrowed)),
            ))
        });
    let verdict = simulate(&client(&[&asked]), &caller(), &needs()).await;
    assert_eq!(verdict, Verdict::Allowed);
    let all = needs();
    let resources: std::collections::BTreeSet<&str> = all.iter().map(|n| n.resource.as_str()).collect();
    assert_eq!(asked.num_calls(), resources.len(), "one request per resource");
}

#[tokio::test]
async fn an_implicitly_denied_call_is_reported_with_the_policy_to_add() {
    let rule = simulator(|action, _| match action {
        "cloudformation:CreateChangeSet" | "iam:PassRole" => ("implicitDeny", None),
        _ => ("allowed", Some("deploy")),
    });
    let Verdict::Denied(denied) = simulate(&client(&[&rule]), &caller(), &needs()).await else {
        panic!("the denial was not found");
    };
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert!(denied.iter().all(|d| !d.explicit));
    let error = super::missing_permissions(ROLE, &denied, "to deploy");
    assert!(matches!(error, DeployerError::MissingPermissions(_)));
    let text = error.to_string();
    assert!(
        text.contains("cloudformation:CreateChangeSet on arn:aws:cloudformation:eu-west-1:123456789012:stack/app/x"),
        "{text}"
    );
    assert!(text.contains("no policy allows it") && text.contains("Add this policy"), "{text}");
    let policy: serde_json::Value = serde_json::from_str(&text[text.find("{\n").unwrap()..]).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let pass = statements.iter().find(|s| s["Action"] == serde_json::json!(["iam:PassRole"])).unwrap();
    assert_eq!(pass["Resource"], "arn:aws:iam::123456789012:role/durable-deployer-default-cfn-exec-eu-west-1");
    assert_eq!(pass["Condition"]["StringEquals"]["iam:PassedToService"], "cloudformation.amazonaws.com");
    assert!(statements.iter().any(|s| s["Action"] == serde_json::json!(["cloudformation:CreateChangeSet"])));
}

#[tokio::test]
async fn an_explicitly_denied_call_names_the_deny_and_says_an_allow_will_not_help() {
    let rule = simulator(|action, _| match action {
        "s3:PutObject" => ("explicitDeny", Some("p-8j2k3l4m (service control policy DenyUploads)")),
        _ => ("allowed", Some("deploy")),
    });
    let Verdict::Denied(denied) = simulate(&client(&[&rule]), &caller(), &needs()).await else {
        panic!("the denial was not found");
    };
    assert_eq!(denied.len(), 1);
    assert!(denied[0].explicit);
    let text = super::missing_permissions(ROLE, &denied, "to deploy").to_string();
    assert!(text.contains("explicitly denied by p-8j2k3l4m"), "{text}");
    assert!(text.contains("an Allow does not override it"), "{text}");
    assert!(!text.contains("Add this policy"), "nothing to add for an explicit deny: {text}");
}

#[tokio::test]
async fn a_caller_who_may_not_simulate_is_not_checked_and_told_why() {
    let denied = mock!(Client::simulate_principal_policy).sequence().http_status(
        403,
        Some(error("AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/github-deploy/x is not authorized to perform: iam:SimulatePrincipalPolicy")),
    ).repeatedly().build();
    let Verdict::NotChecked(why) = simulate(&client(&[&denied]), &caller(), &needs()).await else {
        panic!("expected the check to be skipped");
    };
    assert!(why.contains("may not call iam:SimulatePrincipalPolicy"), "{why}");
}

/// A role under a path: the session's ARN drops the path, the simulator knows no role without it, so the
/// role's ARN is read with `GetRole` and the question asked again.
#[tokio::test]
async fn a_role_with_a_path_is_found_through_get_role() {
    const WITH_PATH: &str = "arn:aws:iam::123456789012:role/ci/github-deploy";
    let with_path = WITH_PATH;
    let unknown = mock!(Client::simulate_principal_policy)
        .match_requests(|r| r.policy_source_arn() == Some(ROLE))
        .sequence()
        .http_status(404, Some(error("NoSuchEntity", "The role with name github-deploy cannot be found.")))
        .repeatedly()
        .build();
    let known = mock!(Client::simulate_principal_policy)
        .match_requests(move |r| r.policy_source_arn() == Some(with_path))
        .then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                200.try_into().unwrap(),
                aws_smithy_types::body::SdkBody::from(answer(&[])),
            )
        });
    let get_role =
        mock!(Client::get_role).match_requests(|r| r.role_name() == Some("github-deploy")).then_output(move || {
            aws_sdk_iam::operation::get_role::GetRoleOutput::builder()
                .role(
                    aws_sdk_iam::types::Role::builder()
                        .path("/ci/")
                        .role_name("github-deploy")
                        .role_id("AROAEXAMPLE")
                        .arn(WITH_PATH)
                        .create_date(aws_smithy_types::DateTime::from_secs(0))
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let verdict = simulate(&client(&[&unknown, &known, &get_role]), &caller(), &needs()).await;
    assert_eq!(verdict, Verdict::Allowed);
    assert_eq!(get_role.num_calls(), 1);
    assert!(known.num_calls() > 0);
}

#[test]
fn the_principal_of_a_session_is_its_role_and_the_root_user_cannot_be_simulated() {
    assert_eq!(principal(&caller()).unwrap(), ROLE);
    let user = Caller { account: "1".into(), arn: "arn:aws:iam::123456789012:user/ops/alice".into() };
    assert_eq!(principal(&user).unwrap(), "arn:aws:iam::123456789012:user/ops/alice");
    let china = Caller { account: "1".into(), arn: "arn:aws-cn:sts::123456789012:assumed-role/r/s".into() };
    assert_eq!(principal(&china).unwrap(), "arn:aws-cn:iam::123456789012:role/r");
    let root = Caller { account: "1".into(), arn: "arn:aws:iam::123456789012:root".into() };
    assert!(principal(&root).unwrap_err().contains("root user"));
}
