//! The deploy loop against CloudFormation's and S3's real responses, replayed through the SDKs with
//! `aws-smithy-mocks`: XML bodies in the shapes of the AWS API references (awsQuery for CloudFormation, REST-XML
//! for S3). They cover what moto does not show: reads that lag behind the operation just started, operations that
//! never end, templates over the inline limit in another partition, and an asset bucket owned by someone else.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use std::fmt::Write as _;
use std::time::Duration;

use aws_sdk_cloudformation::Client as Cfn;
use aws_sdk_s3::Client as S3;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use serde_json::json;

use super::deploy::{Limits, MAX_TEMPLATE_BODY, StackDeployOutcome, StackDeployRequest, deploy_stack};
use super::monitor::{EventCursor, Operation, watch};
use super::{approval::RequireApproval, change_set};
use crate::error::DeployerError;
use crate::interrupt::Interrupt;
use crate::io::RecordingHost;
use crate::publish::{AssetBucket, PublishOutcome, publish_asset};

const STACK: &str = "app";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/5b2a3c30-a8b8-11f0-9d1f-0affd3b9a6c1";
const ACCOUNT: &str = "123456789012";

/// The asset bucket of a bootstrap stack in `region`, as its output names it.
fn bucket_in(region: &str) -> AssetBucket {
    AssetBucket { name: format!("durable-assets-default-{ACCOUNT}-{region}-5b2a3c30"), owner: ACCOUNT.to_owned() }
}

/// `DescribeStacks` answering one stack in `status`.
fn stacks_xml(status: &str) -> String {
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStacksResult>
    <Stacks>
      <member>
        <StackName>{STACK}</StackName>
        <StackId>{STACK_ID}</StackId>
        <CreationTime>2026-11-27T10:00:00.000Z</CreationTime>
        <LastUpdatedTime>2026-11-27T10:05:00.000Z</LastUpdatedTime>
        <StackStatus>{status}</StackStatus>
        <Outputs>
          <member><OutputKey>DurableLambdaFunctionAliasArn</OutputKey><OutputValue>arn:aws:lambda:us-east-1:123456789012:function:app-Orchestrator-1:live</OutputValue></member>
        </Outputs>
      </member>
    </Stacks>
  </DescribeStacksResult>
  <ResponseMetadata><RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId></ResponseMetadata>
</DescribeStacksResponse>"#
    )
}

/// An awsQuery error, as CloudFormation sends it with status 400.
fn error_xml(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
  <RequestId>5ccc7dcd-744c-11e5-be70-example</RequestId>
</ErrorResponse>"#
    )
}

/// One stack event: `(event id, logical id, resource type, status, reason)`.
type StackEvent<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// `DescribeStackEvents` with `events`, newest first as CloudFormation pages them.
fn events_xml(events: &[StackEvent<'_>]) -> String {
    let mut members = String::new();
    for (id, logical, kind, status, reason) in events {
        let _ = write!(
            members,
            "<member><EventId>{id}</EventId><StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName>\
             <LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{logical}-1</PhysicalResourceId>\
             <ResourceType>{kind}</ResourceType><Timestamp>2026-11-27T10:05:00.000Z</Timestamp>\
             <ResourceStatus>{status}</ResourceStatus><ResourceStatusReason>{reason}</ResourceStatusReason></member>"
        );
    }
    format!(
        r#"<DescribeStackEventsResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStackEventsResult><StackEvents>{members}</StackEvents></DescribeStackEventsResult>
  <ResponseMetadata><RequestId>e5e3b4d4-example</RequestId></ResponseMetadata>
</DescribeStackEventsResponse>"#
    )
}

/// `DescribeChangeSet` of a change set in `status` / `execution`, adding one function.
fn change_set_xml(name: &str, status: &str, execution: &str) -> String {
    change_set_with(
        name,
        status,
        execution,
        "<Action>Add</Action><LogicalResourceId>Processor</LogicalResourceId>\
         <ResourceType>AWS::Lambda::Function</ResourceType>",
    )
}

/// `DescribeChangeSet` of a change set with one resource change (`change`: the `ResourceChange` members).
fn change_set_with(name: &str, status: &str, execution: &str, change: &str) -> String {
    format!(
        r#"<DescribeChangeSetResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeChangeSetResult>
    <ChangeSetName>{name}</ChangeSetName>
    <ChangeSetId>arn:aws:cloudformation:us-east-1:123456789012:changeSet/{name}/1a2345b6-0000-00a0-a123-00abc0abc000</ChangeSetId>
    <StackId>{STACK_ID}</StackId>
    <StackName>{STACK}</StackName>
    <Status>{status}</Status>
    <ExecutionStatus>{execution}</ExecutionStatus>
    <Changes>
      <member>
        <Type>Resource</Type>
        <ResourceChange>{change}</ResourceChange>
      </member>
    </Changes>
  </DescribeChangeSetResult>
  <ResponseMetadata><RequestId>c5f1a8e1-example</RequestId></ResponseMetadata>
</DescribeChangeSetResponse>"#
    )
}

/// `GetTemplate` answering `template` (JSON text as the element's content).
fn template_xml(template: &serde_json::Value) -> String {
    let body = template.to_string().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        r#"<GetTemplateResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <GetTemplateResult>
    <TemplateBody>{body}</TemplateBody>
    <StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>
  </GetTemplateResult>
  <ResponseMetadata><RequestId>4d33d9ba-example</RequestId></ResponseMetadata>
</GetTemplateResponse>"#
    )
}

fn ok_xml(operation: &str) -> String {
    format!(
        r#"<{operation}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><{operation}Result/><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{operation}Response>"#
    )
}

fn cfn(rules: &[&Rule]) -> Cfn {
    mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, rules)
}

fn s3(rules: &[&Rule]) -> S3 {
    mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules)
}

const BEFORE: StackEvent<'static> = ("old-1", STACK, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", "");
const STARTED: StackEvent<'static> =
    ("new-1", STACK, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated");
const FAILED: StackEvent<'static> = (
    "new-2",
    "Processor",
    "AWS::Lambda::Function",
    "UPDATE_FAILED",
    "Resource handler returned message: &quot;Memory size must be at least 128&quot;",
);
const ROLLING_BACK: StackEvent<'static> = (
    "new-3",
    STACK,
    "AWS::CloudFormation::Stack",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "The following resource(s) failed to update: [Processor]",
);
const ROLLED_BACK: StackEvent<'static> = ("new-4", STACK, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", "");

/// Right after `ExecuteChangeSet`, CloudFormation still reads `UPDATE_COMPLETE` from the previous update. The
/// update then fails and rolls back: the watch must report the rollback, not the stale success.
#[tokio::test]
async fn a_stale_status_right_after_execute_change_set_is_not_taken_for_the_end() {
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        .http_status(200, Some(stacks_xml("UPDATE_COMPLETE")))
        .http_status(200, Some(stacks_xml("UPDATE_ROLLBACK_IN_PROGRESS")))
        .http_status(200, Some(stacks_xml("UPDATE_ROLLBACK_COMPLETE")))
        .repeatedly()
        .build();
    let events = mock!(Cfn::describe_stack_events)
        .sequence()
        .http_status(200, Some(events_xml(&[BEFORE])))
        .http_status(200, Some(events_xml(&[ROLLING_BACK, FAILED, STARTED, BEFORE])))
        .http_status(200, Some(events_xml(&[ROLLED_BACK, ROLLING_BACK, FAILED, STARTED, BEFORE])))
        .repeatedly()
        .build();
    let change_set = mock!(Cfn::describe_change_set)
        .sequence()
        .http_status(200, Some(change_set_xml("deployer-1", "CREATE_COMPLETE", "EXECUTE_IN_PROGRESS")))
        .repeatedly()
        .build();
    let client = cfn(&[&stacks, &events, &change_set]);
    let host = RecordingHost::default();
    let cursor = EventCursor::after("old-1");
    let outcome =
        watch(&client, STACK, STACK, cursor, Operation::ChangeSet("deployer-1"), 3, Duration::from_mins(1), &host)
            .await
            .unwrap();
    assert_eq!(outcome.status, "UPDATE_ROLLBACK_COMPLETE");
    assert_eq!(outcome.failures.first().map(|f| f.0.as_str()), Some("Processor"), "{outcome:?}");
    assert_eq!(stacks.num_calls(), 3);
}

/// A stack that reaches its final status before the first read: the stack's own final event, newer than the
/// cursor, proves that status belongs to this operation.
#[tokio::test]
async fn a_final_status_confirmed_by_the_stack_event_is_taken_at_once() {
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        .http_status(200, Some(stacks_xml("UPDATE_COMPLETE")))
        .repeatedly()
        .build();
    let done: StackEvent<'static> = ("new-9", STACK, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", "");
    let events = mock!(Cfn::describe_stack_events)
        .sequence()
        .http_status(200, Some(events_xml(&[done, STARTED, BEFORE])))
        .repeatedly()
        .build();
    let client = cfn(&[&stacks, &events]);
    let outcome = watch(
        &client,
        STACK,
        STACK,
        EventCursor::after("old-1"),
        Operation::ChangeSet("deployer-1"),
        3,
        Duration::from_mins(1),
        &RecordingHost::default(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, "UPDATE_COMPLETE");
    assert_eq!(stacks.num_calls(), 1);
}

/// Right after `DeleteStack`, the first read still shows the last update's `UPDATE_COMPLETE`: `down` must wait for
/// the delete, not report "ended in `UPDATE_COMPLETE`".
#[tokio::test]
async fn a_stale_status_right_after_delete_stack_is_not_taken_for_the_end() {
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        .http_status(200, Some(stacks_xml("UPDATE_COMPLETE")))
        .http_status(200, Some(stacks_xml("DELETE_IN_PROGRESS")))
        .http_status(400, Some(error_xml("ValidationError", "Stack with id app does not exist")))
        .repeatedly()
        .build();
    let events =
        mock!(Cfn::describe_stack_events).sequence().http_status(200, Some(events_xml(&[BEFORE]))).repeatedly().build();
    let client = cfn(&[&stacks, &events]);
    let outcome = watch(
        &client,
        STACK,
        STACK,
        EventCursor::after("old-1"),
        Operation::Delete,
        3,
        Duration::from_mins(1),
        &RecordingHost::default(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, "DELETE_COMPLETE");
    assert_eq!(stacks.num_calls(), 3);
}

/// An operation that never ends: the watch stops after its limit and says the operation goes on in AWS and how to
/// follow it.
#[tokio::test]
async fn a_stack_operation_that_never_ends_stops_the_watch_with_directions() {
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        .http_status(200, Some(stacks_xml("UPDATE_IN_PROGRESS")))
        .repeatedly()
        .build();
    let events =
        mock!(Cfn::describe_stack_events).sequence().http_status(200, Some(events_xml(&[BEFORE]))).repeatedly().build();
    let client = cfn(&[&stacks, &events]);
    let host = RecordingHost::default();
    let watched = watch(
        &client,
        STACK,
        STACK,
        EventCursor::after("old-1"),
        Operation::Running,
        3,
        Duration::from_millis(500),
        &host,
    );
    let error =
        tokio::time::timeout(Duration::from_secs(20), watched).await.expect("the watch never gave up").unwrap_err();
    assert!(matches!(error, DeployerError::TimedOut(_)), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("still running") && text.contains("UPDATE_IN_PROGRESS"), "{text}");
    assert!(text.contains("aws cloudformation describe-stack-events --stack-name app"), "{text}");
}

/// A change set CloudFormation never finishes computing: it is deleted after the limit, and the error says so.
#[tokio::test]
async fn a_change_set_that_is_never_computed_is_deleted_after_the_limit() {
    let create =
        mock!(Cfn::create_change_set).sequence().http_status(200, Some(ok_xml("CreateChangeSet"))).repeatedly().build();
    let describe = mock!(Cfn::describe_change_set)
        .sequence()
        .http_status(200, Some(change_set_xml("deployer-1", "CREATE_PENDING", "UNAVAILABLE")))
        .repeatedly()
        .build();
    let delete =
        mock!(Cfn::delete_change_set).sequence().http_status(200, Some(ok_xml("DeleteChangeSet"))).repeatedly().build();
    let client = cfn(&[&create, &describe, &delete]);
    let request = change_set::ChangeSetRequest {
        stack: STACK,
        create: false,
        template: change_set::TemplateSource::Body("{}".into()),
        parameters: &[],
        tags: &[],
        role_arn: None,
    };
    let created = change_set::create(&client, &request, "deployer-1", Duration::from_millis(500));
    let error =
        tokio::time::timeout(Duration::from_secs(20), created).await.expect("polling never gave up").unwrap_err();
    assert!(matches!(error, DeployerError::TimedOut(_)), "{error:?}");
    assert!(error.to_string().contains("deleted it and changed nothing"), "{error}");
    assert_eq!(delete.num_calls(), 1);
}

/// A template over 51,200 bytes in the China partition: uploaded to the asset bucket (owner checked), and the
/// change set is created from its `amazonaws.com.cn` URL, not an `amazonaws.com` one CloudFormation there cannot
/// read.
#[tokio::test]
async fn a_template_over_the_inline_limit_deploys_from_its_url_in_the_partition() {
    let bucket = bucket_in("cn-north-1");
    let padding = "x".repeat(MAX_TEMPLATE_BODY);
    let template = json!({"Description": padding, "Resources": {"Processor": {"Type": "AWS::Lambda::Function"}}});
    let body = format!("{template:#}\n");
    let key = format!("templates/{}.json", crate::package::zip::sha256_hex(body.as_bytes()));
    let url = format!("https://{}.s3.cn-north-1.amazonaws.com.cn/{key}", bucket.name);

    let put = mock!(S3::put_object)
        .match_requests({
            let key = key.clone();
            move |r| r.key() == Some(key.as_str()) && r.expected_bucket_owner() == Some(ACCOUNT)
        })
        .sequence()
        .http_status(200, None)
        .repeatedly()
        .build();
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        .http_status(400, Some(error_xml("ValidationError", "Stack with id app does not exist")))
        .times(1)
        .http_status(200, Some(stacks_xml("CREATE_IN_PROGRESS")))
        .times(1)
        .http_status(200, Some(stacks_xml("CREATE_COMPLETE")))
        .repeatedly()
        .build();
    let create = mock!(Cfn::create_change_set)
        .match_requests({
            let url = url.clone();
            move |r| r.template_url() == Some(url.as_str()) && r.template_body().is_none()
        })
        .sequence()
        .http_status(200, Some(ok_xml("CreateChangeSet")))
        .repeatedly()
        .build();
    let describe = mock!(Cfn::describe_change_set)
        .sequence()
        .http_status(200, Some(change_set_xml("deployer-1", "CREATE_COMPLETE", "AVAILABLE")))
        .repeatedly()
        .build();
    let review: StackEvent<'static> =
        ("r-1", STACK, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS", "User Initiated");
    let created: StackEvent<'static> = ("c-2", STACK, "AWS::CloudFormation::Stack", "CREATE_COMPLETE", "");
    let events = mock!(Cfn::describe_stack_events)
        .sequence()
        .http_status(200, Some(events_xml(&[review])))
        .times(1)
        .http_status(200, Some(events_xml(&[created, review])))
        .repeatedly()
        .build();
    let execute = mock!(Cfn::execute_change_set)
        .sequence()
        .http_status(200, Some(ok_xml("ExecuteChangeSet")))
        .repeatedly()
        .build();
    let aws = crate::aws::Aws {
        cfn: cfn(&[&stacks, &create, &describe, &events, &execute]),
        s3: s3(&[&put]),
        ..crate::aws::Aws::unconfigured("cn-north-1")
    };
    let interrupt = Interrupt::never();
    let request = StackDeployRequest {
        stack: STACK,
        template: &template,
        template_body: &body,
        parameters: vec![],
        tags: vec![],
        require_approval: RequireApproval::Never,
        template_bucket: Some(&bucket),
        role_arn: None,
        interrupt: &interrupt,
        limits: Limits::default(),
    };
    let outcome = deploy_stack(&aws, &request, &RecordingHost::default()).await.unwrap();
    assert!(
        matches!(outcome, StackDeployOutcome::Deployed { ref status, .. } if status == "CREATE_COMPLETE"),
        "{outcome:?}"
    );
    assert_eq!((put.num_calls(), create.num_calls(), execute.num_calls()), (1, 1, 1));
}

fn aws_with(cfn_client: Cfn, region: &str) -> crate::aws::Aws {
    crate::aws::Aws { cfn: cfn_client, s3: s3(&[]), ..crate::aws::Aws::unconfigured(region) }
}

/// A change set that replaces the durable function: `up` warns what it does to running executions, and in the
/// default approval mode a run nobody can approve refuses, deletes the change set and executes nothing.
#[tokio::test]
async fn a_change_set_replacing_the_durable_function_is_warned_about_and_needs_approval() {
    let durable = json!({"ExecutionTimeout": 600, "RetentionPeriodInDays": 7});
    let old = json!({"Resources": {"Orchestrator": {"Type": "AWS::Lambda::Function",
        "Properties": {"Handler": "bootstrap", "DurableConfig": durable}}}});
    let new = json!({"Resources": {"Orchestrator": {"Type": "AWS::Lambda::Function",
        "Properties": {"Handler": "bootstrap"}}}});
    let body = format!("{new:#}\n");
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        .http_status(200, Some(stacks_xml("UPDATE_COMPLETE")))
        .repeatedly()
        .build();
    let template = mock!(Cfn::get_template).sequence().http_status(200, Some(template_xml(&old))).repeatedly().build();
    let create =
        mock!(Cfn::create_change_set).sequence().http_status(200, Some(ok_xml("CreateChangeSet"))).repeatedly().build();
    let describe = mock!(Cfn::describe_change_set)
        .sequence()
        .http_status(
            200,
            Some(change_set_with(
                "deployer-1",
                "CREATE_COMPLETE",
                "AVAILABLE",
                "<Action>Modify</Action><LogicalResourceId>Orchestrator</LogicalResourceId>\
                 <ResourceType>AWS::Lambda::Function</ResourceType><Replacement>True</Replacement>",
            )),
        )
        .repeatedly()
        .build();
    let delete =
        mock!(Cfn::delete_change_set).sequence().http_status(200, Some(ok_xml("DeleteChangeSet"))).repeatedly().build();
    let execute = mock!(Cfn::execute_change_set)
        .sequence()
        .http_status(200, Some(ok_xml("ExecuteChangeSet")))
        .repeatedly()
        .build();
    let aws = aws_with(cfn(&[&stacks, &template, &create, &describe, &delete, &execute]), "us-east-1");
    let interrupt = Interrupt::never();
    let request = StackDeployRequest {
        stack: STACK,
        template: &new,
        template_body: &body,
        parameters: vec![],
        tags: vec![],
        require_approval: RequireApproval::Broadening,
        template_bucket: None,
        role_arn: None,
        interrupt: &interrupt,
        limits: Limits::default(),
    };
    let host = RecordingHost::default();
    let error = deploy_stack(&aws, &request, &host).await.unwrap_err();
    assert!(matches!(error, DeployerError::ApprovalRequired(_)), "{error:?}");
    assert!(error.to_string().contains("replaces or removes durable function(s) Orchestrator"), "{error}");
    let warned = host.events().into_iter().any(|e| {
        matches!(e, crate::io::Event::Warning { ref message }
            if message.contains("Orchestrator") && message.contains("cannot continue") && message.contains("up to 600 s"))
    });
    assert!(warned, "{:?}", host.events());
    assert_eq!((delete.num_calls(), execute.num_calls()), (1, 0));
}

#[tokio::test]
async fn template_urls_use_the_partition_of_the_region() {
    let url = |region: &'static str| super::super::publish::s3::object_url("b-1", region, "templates/t.json");
    assert_eq!(url("eu-west-1").await.unwrap(), "https://b-1.s3.eu-west-1.amazonaws.com/templates/t.json");
    assert_eq!(url("cn-northwest-1").await.unwrap(), "https://b-1.s3.cn-northwest-1.amazonaws.com.cn/templates/t.json");
    assert_eq!(url("us-gov-west-1").await.unwrap(), "https://b-1.s3.us-gov-west-1.amazonaws.com/templates/t.json");
}

/// S3's answer to a request whose `ExpectedBucketOwner` is not the bucket's owner: 403 `AccessDenied`.
const ACCESS_DENIED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>Ek8dVXhO+4QKmBxR5x9nq8FVP2hBLCxvmQKAl9jXtTGmJw7v8ENEvW/8Mu6SMs4ugjQVdUO6W0k=</HostId></Error>"#;

const EMPTY_LISTING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>k</Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"#;

/// A 6-byte zip on disk, and the key it is published under.
fn asset(dir: &std::path::Path) -> (String, std::path::PathBuf) {
    let zip_path = dir.join("bootstrap.zip");
    std::fs::write(&zip_path, b"PK zip").unwrap();
    (format!("{}.zip", "ab".repeat(32)), zip_path)
}

/// Every call on the asset bucket names its owner; a bucket of that name in another account is refused with what
/// to check and what to do, and nothing is uploaded to it.
#[tokio::test]
async fn an_asset_bucket_owned_by_another_account_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = bucket_in("us-east-1");
    let listed = mock!(S3::list_objects_v2)
        .match_requests(|r| r.expected_bucket_owner() == Some(ACCOUNT))
        .sequence()
        .http_status(403, Some(ACCESS_DENIED.to_owned()))
        .repeatedly()
        .build();
    let put = mock!(S3::put_object).sequence().http_status(200, None).repeatedly().build();
    let (key, zip) = asset(dir.path());
    let error = publish_asset(&s3(&[&listed, &put]), &bucket, &key, &zip, 6, &"c".repeat(64)).await.unwrap_err();
    assert!(matches!(error, DeployerError::BucketNotOwned(_)), "{error:?}");
    let text = error.to_string();
    assert!(text.contains(&bucket.name) && text.contains("another AWS account"), "{text}");
    assert!(text.contains(&format!("--expected-bucket-owner {ACCOUNT}")), "{text}");
    assert_eq!(put.num_calls(), 0, "nothing may be uploaded to a bucket that is not ours");
}

/// A bucket in another region answers 301 `PermanentRedirect` (with the region in `x-amz-bucket-region`): the
/// error names the bucket and the region S3 gave, and nothing is uploaded.
#[tokio::test]
async fn an_asset_bucket_in_another_region_is_reported_with_its_region() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = bucket_in("us-east-1");
    let listed = mock!(S3::list_objects_v2)
        .sequence()
        .http_response(|| {
            let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>s3.eu-west-1.amazonaws.com</Endpoint><Bucket>durable-assets-default-123456789012-us-east-1-5b2a3c30</Bucket><RequestId>8EXAMPLE</RequestId><HostId>EXAMPLE</HostId></Error>"#;
            let mut response = aws_smithy_runtime_api::http::Response::new(
                301.try_into().unwrap(),
                aws_smithy_types::body::SdkBody::from(body),
            );
            response.headers_mut().insert("x-amz-bucket-region", "eu-west-1");
            response.headers_mut().insert("Content-Type", "application/xml");
            response
        })
        .repeatedly()
        .build();
    let put = mock!(S3::put_object).sequence().http_status(200, None).repeatedly().build();
    let (key, zip) = asset(dir.path());
    let error = publish_asset(&s3(&[&listed, &put]), &bucket, &key, &zip, 6, &"c".repeat(64)).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("301 PermanentRedirect") && text.contains("region eu-west-1"), "{text}");
    assert!(text.contains(&bucket.name) && text.contains("--region"), "{text}");
    assert_eq!(put.num_calls(), 0, "nothing is uploaded to a bucket of another region");
}

#[tokio::test]
async fn uploads_to_our_own_bucket_name_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = bucket_in("us-east-1");
    let listed = mock!(S3::list_objects_v2)
        .match_requests(|r| r.expected_bucket_owner() == Some(ACCOUNT))
        .sequence()
        .http_status(200, Some(EMPTY_LISTING.to_owned()))
        .repeatedly()
        .build();
    // The zip's SHA-256 travels with the object: `diff` and later `up`s name versions after it without the zip.
    let code = "c".repeat(64);
    let put = mock!(S3::put_object)
        .match_requests(move |r| {
            r.expected_bucket_owner() == Some(ACCOUNT)
                && r.metadata().and_then(|m| m.get("code-sha256")) == Some(&"c".repeat(64))
        })
        .sequence()
        .http_status(200, None)
        .repeatedly()
        .build();
    let (key, zip) = asset(dir.path());
    let published = publish_asset(&s3(&[&listed, &put]), &bucket, &key, &zip, 6, &code).await.unwrap();
    assert_eq!(published, PublishOutcome::Uploaded);
    assert_eq!(put.num_calls(), 1);
}

/// The zip's SHA-256 recorded at upload is read back from the object's metadata; an object without it (uploaded
/// by an earlier deployer) or missing gives none, and the versions are then named after the object's name.
#[tokio::test]
async fn the_zip_s_sha256_is_read_back_from_the_object_s_metadata() {
    let bucket = bucket_in("us-east-1");
    let head = mock!(S3::head_object)
        .match_requests(|r| r.expected_bucket_owner() == Some(ACCOUNT) && r.key() == Some("a.zip"))
        .sequence()
        .output(|| {
            aws_sdk_s3::operation::head_object::HeadObjectOutput::builder()
                .metadata("code-sha256", "d".repeat(64))
                .build()
        })
        .output(|| aws_sdk_s3::operation::head_object::HeadObjectOutput::builder().build())
        .http_status(404, None)
        .build();
    let client = s3(&[&head]);
    let read = crate::publish::s3::code_sha256(&client, &bucket, "a.zip").await.unwrap();
    assert_eq!(read, Some("d".repeat(64)));
    assert_eq!(crate::publish::s3::code_sha256(&client, &bucket, "a.zip").await.unwrap(), None, "no metadata");
    assert_eq!(crate::publish::s3::code_sha256(&client, &bucket, "a.zip").await.unwrap(), None, "no object");
}

/// `ListObjectVersions` answering one version that never goes away (a bucket written faster than it is emptied).
const ONE_VERSION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Version><Key>a.zip</Key><VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId><IsLatest>true</IsLatest><LastModified>2026-11-27T10:00:00.000Z</LastModified><ETag>"fba9dede5f27731c9771645a39863328"</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass></Version></ListVersionsResult>"#;

/// `down --all` empties the bucket only if it is ours, and gives up on a bucket that never empties.
#[tokio::test]
async fn emptying_the_asset_bucket_checks_its_owner_and_is_bounded() {
    let bucket = bucket_in("us-east-1");
    let denied = mock!(S3::list_object_versions)
        .match_requests(|r| r.expected_bucket_owner() == Some(ACCOUNT))
        .sequence()
        .http_status(403, Some(ACCESS_DENIED.to_owned()))
        .repeatedly()
        .build();
    let error = super::destroy::empty_bucket(&s3(&[&denied]), &bucket, Duration::from_mins(1)).await.unwrap_err();
    assert!(matches!(error, DeployerError::BucketNotOwned(_)), "{error:?}");

    let listed = mock!(S3::list_object_versions)
        .match_requests(|r| r.expected_bucket_owner() == Some(ACCOUNT))
        .sequence()
        .http_status(200, Some(ONE_VERSION.to_owned()))
        .repeatedly()
        .build();
    let deleted = mock!(S3::delete_object)
        .match_requests(|r| r.expected_bucket_owner() == Some(ACCOUNT) && r.version_id().is_some())
        .sequence()
        .http_status(204, None)
        .repeatedly()
        .build();
    let client = s3(&[&listed, &deleted]);
    let emptied = super::destroy::empty_bucket(&client, &bucket, Duration::from_millis(300));
    let error =
        tokio::time::timeout(Duration::from_secs(20), emptied).await.expect("emptying never gave up").unwrap_err();
    assert!(matches!(error, DeployerError::TimedOut(_)), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("aws s3api list-object-versions") && text.contains("down --all"), "{text}");
    assert!(deleted.num_calls() > 0);
}

/// `ListChangeSets` answering one change set `name` in `status` / `execution`.
fn change_sets_xml(name: &str, status: &str, execution: &str) -> String {
    format!(
        r#"<ListChangeSetsResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <ListChangeSetsResult>
    <Summaries>
      <member>
        <StackId>{STACK_ID}</StackId>
        <StackName>{STACK}</StackName>
        <ChangeSetId>arn:aws:cloudformation:us-east-1:123456789012:changeSet/{name}/9d1a2b3c-0000-00a0-a123-00abc0abc000</ChangeSetId>
        <ChangeSetName>{name}</ChangeSetName>
        <ExecutionStatus>{execution}</ExecutionStatus>
        <Status>{status}</Status>
        <CreationTime>2026-11-27T09:58:00.000Z</CreationTime>
        <Description>created by deployer up</Description>
      </member>
    </Summaries>
  </ListChangeSetsResult>
  <ResponseMetadata><RequestId>9f3c1f5e-example</RequestId></ResponseMetadata>
</ListChangeSetsResponse>"#
    )
}

const DOES_NOT_EXIST: &str = "Stack with id app does not exist";

/// A request for `template` with short limits, never interrupted.
fn loop_request<'a>(
    template: &'a serde_json::Value,
    body: &'a str,
    interrupt: &'a Interrupt,
) -> StackDeployRequest<'a> {
    StackDeployRequest {
        stack: STACK,
        template,
        template_body: body,
        parameters: vec![],
        tags: vec![],
        require_approval: RequireApproval::Never,
        template_bucket: None,
        role_arn: None,
        interrupt,
        limits: Limits { change_set: Duration::from_secs(5), watch: Duration::from_secs(5) },
    }
}

fn info_messages(host: &RecordingHost) -> Vec<String> {
    host.events()
        .into_iter()
        .filter_map(|e| match e {
            crate::io::Event::Info { message } | crate::io::Event::Warning { message } => Some(message),
            _ => None,
        })
        .collect()
}

fn ok_rule_execute() -> Rule {
    mock!(Cfn::execute_change_set).sequence().http_status(200, Some(ok_xml("ExecuteChangeSet"))).repeatedly().build()
}

/// A stack in `UPDATE_IN_PROGRESS` (someone else's update): `up` says it waits, follows that operation until it ends,
/// reads the stack again and only then creates and executes an UPDATE change set.
#[tokio::test]
async fn an_operation_in_progress_is_waited_for_then_the_stack_is_updated() {
    let old = json!({"Resources": {"Processor": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 128}}}});
    let new = json!({"Resources": {"Processor": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 256}}}});
    let body = format!("{new:#}\n");
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        // The loop's first read, then the watch of the running update.
        .http_status(200, Some(stacks_xml("UPDATE_IN_PROGRESS")))
        .times(2)
        .http_status(200, Some(stacks_xml("UPDATE_COMPLETE")))
        // The loop reads again: stable, so an update.
        .http_status(200, Some(stacks_xml("UPDATE_COMPLETE")))
        // The watch of our own change set, then the outputs.
        .http_status(200, Some(stacks_xml("UPDATE_IN_PROGRESS")))
        .http_status(200, Some(stacks_xml("UPDATE_COMPLETE")))
        .repeatedly()
        .build();
    let events =
        mock!(Cfn::describe_stack_events).sequence().http_status(200, Some(events_xml(&[BEFORE]))).repeatedly().build();
    let template = mock!(Cfn::get_template).sequence().http_status(200, Some(template_xml(&old))).repeatedly().build();
    let create = mock!(Cfn::create_change_set)
        .match_requests(|r| r.change_set_type() == Some(&aws_sdk_cloudformation::types::ChangeSetType::Update))
        .sequence()
        .http_status(200, Some(ok_xml("CreateChangeSet")))
        .repeatedly()
        .build();
    let describe = mock!(Cfn::describe_change_set)
        .sequence()
        .http_status(200, Some(change_set_xml("deployer-1", "CREATE_COMPLETE", "AVAILABLE")))
        .repeatedly()
        .build();
    let execute = ok_rule_execute();
    let aws = aws_with(cfn(&[&stacks, &events, &template, &create, &describe, &execute]), "us-east-1");
    let interrupt = Interrupt::never();
    let host = RecordingHost::default();
    let outcome = deploy_stack(&aws, &loop_request(&new, &body, &interrupt), &host).await.unwrap();
    assert!(
        matches!(outcome, StackDeployOutcome::Deployed { ref status, .. } if status == "UPDATE_COMPLETE"),
        "{outcome:?}"
    );
    let messages = info_messages(&host);
    assert!(
        messages.iter().any(|m| m == "app: an operation is in progress (UPDATE_IN_PROGRESS); waiting for it to end"),
        "{messages:?}"
    );
    // The running operation's end is reported before our change set exists.
    let events = host.events();
    let waited = events.iter().position(|e| matches!(e, crate::io::Event::StackDone { .. }));
    let change_set = events.iter().position(|e| matches!(e, crate::io::Event::ChangeSet { .. }));
    assert!(waited.is_some() && change_set.is_some() && waited < change_set, "{events:?}");
    assert_eq!((create.num_calls(), execute.num_calls()), (1, 1));
    assert_eq!(stacks.num_calls(), 7, "loop, watch ×2, loop, watch ×2, outputs");
}

/// A stack in `UPDATE_ROLLBACK_FAILED` or `DELETE_FAILED` needs a person: `up` stops with the command that
/// continues (or shows what holds the stack) and touches nothing: no change set, no delete.
#[tokio::test]
async fn a_stack_that_needs_a_person_stops_up_with_the_command_to_continue() {
    let new = json!({"Resources": {"Processor": {"Type": "AWS::Lambda::Function"}}});
    let body = format!("{new:#}\n");
    for (status, command) in [
        ("UPDATE_ROLLBACK_FAILED", "aws cloudformation continue-update-rollback --stack-name app"),
        ("DELETE_FAILED", "aws cloudformation describe-stack-events --stack-name app"),
    ] {
        let stacks =
            mock!(Cfn::describe_stacks).sequence().http_status(200, Some(stacks_xml(status))).repeatedly().build();
        let create = mock!(Cfn::create_change_set)
            .sequence()
            .http_status(200, Some(ok_xml("CreateChangeSet")))
            .repeatedly()
            .build();
        let delete_stack =
            mock!(Cfn::delete_stack).sequence().http_status(200, Some(ok_xml("DeleteStack"))).repeatedly().build();
        let aws = aws_with(cfn(&[&stacks, &create, &delete_stack]), "us-east-1");
        let interrupt = Interrupt::never();
        let host = RecordingHost::default();
        let error = deploy_stack(&aws, &loop_request(&new, &body, &interrupt), &host).await.unwrap_err();
        assert!(matches!(error, DeployerError::DeployFailed(_)), "{status}: {error:?}");
        assert!(error.to_string().contains(command), "{status}: {error}");
        assert_eq!((create.num_calls(), delete_stack.num_calls()), (0, 0), "{status}: the stack was touched");
    }
}

/// A stack left in `ROLLBACK_COMPLETE` by a failed first creation: `up` warns, deletes it, watches it until it is
/// gone, then creates it through a CREATE change set.
#[tokio::test]
async fn a_stack_in_rollback_complete_is_deleted_then_created() {
    let new = json!({"Resources": {"Processor": {"Type": "AWS::Lambda::Function"}}});
    let body = format!("{new:#}\n");
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        .http_status(200, Some(stacks_xml("ROLLBACK_COMPLETE")))
        .http_status(200, Some(stacks_xml("DELETE_IN_PROGRESS")))
        // Gone: the delete watch ends, and the loop's next read finds no stack.
        .http_status(400, Some(error_xml("ValidationError", DOES_NOT_EXIST)))
        .times(2)
        .http_status(200, Some(stacks_xml("CREATE_IN_PROGRESS")))
        .http_status(200, Some(stacks_xml("CREATE_COMPLETE")))
        .repeatedly()
        .build();
    let events =
        mock!(Cfn::describe_stack_events).sequence().http_status(200, Some(events_xml(&[BEFORE]))).repeatedly().build();
    let delete_stack =
        mock!(Cfn::delete_stack).sequence().http_status(200, Some(ok_xml("DeleteStack"))).repeatedly().build();
    let create = mock!(Cfn::create_change_set)
        .match_requests(|r| r.change_set_type() == Some(&aws_sdk_cloudformation::types::ChangeSetType::Create))
        .sequence()
        .http_status(200, Some(ok_xml("CreateChangeSet")))
        .repeatedly()
        .build();
    let describe = mock!(Cfn::describe_change_set)
        .sequence()
        .http_status(200, Some(change_set_xml("deployer-1", "CREATE_COMPLETE", "AVAILABLE")))
        .repeatedly()
        .build();
    let execute = ok_rule_execute();
    let aws = aws_with(cfn(&[&stacks, &events, &delete_stack, &create, &describe, &execute]), "us-east-1");
    let interrupt = Interrupt::never();
    let host = RecordingHost::default();
    let outcome = deploy_stack(&aws, &loop_request(&new, &body, &interrupt), &host).await.unwrap();
    assert!(
        matches!(outcome, StackDeployOutcome::Deployed { ref status, .. } if status == "CREATE_COMPLETE"),
        "{outcome:?}"
    );
    let messages = info_messages(&host);
    assert!(
        messages.iter().any(|m| m.contains("left in ROLLBACK_COMPLETE by a failed creation; deleting it")),
        "{messages:?}"
    );
    let done: Vec<String> = host
        .events()
        .into_iter()
        .filter_map(|e| match e {
            crate::io::Event::StackDone { status, .. } => Some(status),
            _ => None,
        })
        .collect();
    assert_eq!(done, ["DELETE_COMPLETE", "CREATE_COMPLETE"]);
    assert_eq!((delete_stack.num_calls(), create.num_calls(), execute.num_calls()), (1, 1, 1));
}

/// A stack in `REVIEW_IN_PROGRESS` with our own AVAILABLE change set from an interrupted first deployment: the empty
/// stack is deleted (taking the stale change set with it) and watched until gone before a CREATE change set is
/// made, so nothing is created beside the stale one (what made moto keep a second stack, and the watch follow the
/// first one's `REVIEW_IN_PROGRESS` until its limit).
#[tokio::test]
async fn a_stack_left_in_review_with_our_stale_change_set_is_cleared_then_created() {
    let new = json!({"Resources": {"Processor": {"Type": "AWS::Lambda::Function"}}});
    let body = format!("{new:#}\n");
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        .http_status(200, Some(stacks_xml("REVIEW_IN_PROGRESS")))
        .http_status(200, Some(stacks_xml("DELETE_IN_PROGRESS")))
        .http_status(400, Some(error_xml("ValidationError", DOES_NOT_EXIST)))
        .times(2)
        .http_status(200, Some(stacks_xml("CREATE_IN_PROGRESS")))
        .http_status(200, Some(stacks_xml("CREATE_COMPLETE")))
        .repeatedly()
        .build();
    let listed = mock!(Cfn::list_change_sets)
        .sequence()
        .http_status(200, Some(change_sets_xml("deployer-1764237480000", "CREATE_COMPLETE", "AVAILABLE")))
        .repeatedly()
        .build();
    let events =
        mock!(Cfn::describe_stack_events).sequence().http_status(200, Some(events_xml(&[BEFORE]))).repeatedly().build();
    let delete_stack =
        mock!(Cfn::delete_stack).sequence().http_status(200, Some(ok_xml("DeleteStack"))).repeatedly().build();
    let create = mock!(Cfn::create_change_set)
        .match_requests(|r| r.change_set_type() == Some(&aws_sdk_cloudformation::types::ChangeSetType::Create))
        .sequence()
        .http_status(200, Some(ok_xml("CreateChangeSet")))
        .repeatedly()
        .build();
    let describe = mock!(Cfn::describe_change_set)
        .sequence()
        .http_status(200, Some(change_set_xml("deployer-2", "CREATE_COMPLETE", "AVAILABLE")))
        .repeatedly()
        .build();
    let execute = ok_rule_execute();
    let aws = aws_with(cfn(&[&stacks, &listed, &events, &delete_stack, &create, &describe, &execute]), "us-east-1");
    let interrupt = Interrupt::never();
    let host = RecordingHost::default();
    let outcome = deploy_stack(&aws, &loop_request(&new, &body, &interrupt), &host).await.unwrap();
    assert!(
        matches!(outcome, StackDeployOutcome::Deployed { ref status, .. } if status == "CREATE_COMPLETE"),
        "{outcome:?}"
    );
    let messages = info_messages(&host);
    assert!(
        messages.iter().any(|m| m.contains("REVIEW_IN_PROGRESS") && m.contains("deployer-1764237480000")),
        "{messages:?}"
    );
    assert_eq!((delete_stack.num_calls(), create.num_calls(), execute.num_calls()), (1, 1, 1));
    assert_eq!(stacks.num_calls(), 7, "loop, delete watch ×2, loop, create watch ×2, outputs");
}

/// A `REVIEW_IN_PROGRESS` stack holding a change set that is not ours (someone's review): it is left alone, and a
/// CREATE change set is made beside it, as CloudFormation allows.
#[tokio::test]
async fn a_stack_in_review_with_someone_elses_change_set_is_not_deleted() {
    let new = json!({"Resources": {"Processor": {"Type": "AWS::Lambda::Function"}}});
    let body = format!("{new:#}\n");
    let stacks = mock!(Cfn::describe_stacks)
        .sequence()
        .http_status(200, Some(stacks_xml("REVIEW_IN_PROGRESS")))
        .times(2)
        .http_status(200, Some(stacks_xml("CREATE_IN_PROGRESS")))
        .http_status(200, Some(stacks_xml("CREATE_COMPLETE")))
        .repeatedly()
        .build();
    let listed = mock!(Cfn::list_change_sets)
        .sequence()
        .http_status(200, Some(change_sets_xml("reviewed-by-ops", "CREATE_COMPLETE", "AVAILABLE")))
        .repeatedly()
        .build();
    let events =
        mock!(Cfn::describe_stack_events).sequence().http_status(200, Some(events_xml(&[BEFORE]))).repeatedly().build();
    let delete_stack =
        mock!(Cfn::delete_stack).sequence().http_status(200, Some(ok_xml("DeleteStack"))).repeatedly().build();
    let create =
        mock!(Cfn::create_change_set).sequence().http_status(200, Some(ok_xml("CreateChangeSet"))).repeatedly().build();
    let describe = mock!(Cfn::describe_change_set)
        .sequence()
        .http_status(200, Some(change_set_xml("deployer-2", "CREATE_COMPLETE", "AVAILABLE")))
        .repeatedly()
        .build();
    let execute = ok_rule_execute();
    let aws = aws_with(cfn(&[&stacks, &listed, &events, &delete_stack, &create, &describe, &execute]), "us-east-1");
    let interrupt = Interrupt::never();
    let outcome = deploy_stack(&aws, &loop_request(&new, &body, &interrupt), &RecordingHost::default()).await.unwrap();
    assert!(matches!(outcome, StackDeployOutcome::Deployed { .. }), "{outcome:?}");
    assert_eq!((delete_stack.num_calls(), create.num_calls(), execute.num_calls()), (0, 1, 1));
}

/// An app stack's change set names the bootstrap's CloudFormation execution role (`RoleARN`): CloudFormation
/// creates the stack's resources with that role, not with the caller's credentials.
#[tokio::test]
async fn a_change_set_names_the_execution_role() {
    const ROLE: &str = "arn:aws:iam::123456789012:role/durable-deployer-default-cfn-exec-us-east-1";
    let create = mock!(Cfn::create_change_set)
        .match_requests(|r| r.role_arn() == Some(ROLE))
        .sequence()
        .http_status(200, Some(ok_xml("CreateChangeSet")))
        .repeatedly()
        .build();
    let describe = mock!(Cfn::describe_change_set)
        .sequence()
        .http_status(200, Some(change_set_xml("deployer-1", "CREATE_COMPLETE", "AVAILABLE")))
        .repeatedly()
        .build();
    let client = cfn(&[&create, &describe]);
    let request = change_set::ChangeSetRequest {
        stack: STACK,
        create: true,
        template: change_set::TemplateSource::Body("{}".into()),
        parameters: &[],
        tags: &[],
        role_arn: Some(ROLE),
    };
    let outcome = change_set::create(&client, &request, "deployer-1", Duration::from_secs(5)).await.unwrap();
    assert!(matches!(outcome, change_set::ChangeSetOutcome::Ready { .. }), "{outcome:?}");
    assert_eq!(create.num_calls(), 1);
}
