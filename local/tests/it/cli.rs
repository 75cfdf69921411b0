//! The real AWS CLI against the local endpoint: invoke (synchronous, asynchronous, named), the durable execution
//! API, and the service's error codes.

use crate::support::{Aws, Local};

const SEED_PAYLOAD: &str = r#"{"values": [10, 20, 30, 40, 50]}"#;
const SEED_OUTPUT: &str = r#"{"statusCode": 200, "body": "{\"message\": \"Durable orchestration completed successfully\", \"input_values\": [10, 20, 30, 40, 50], \"processing_result\": {\"operation\": \"sum_and_average\", \"count\": 5, \"sum\": 150, \"average\": 30.0, \"max\": 50, \"min\": 10}}"}"#;

fn is_execution_arn(arn: &str, function_arn: &str, qualifier: &str) -> bool {
    let Some(rest) = arn.strip_prefix(&format!("{function_arn}:{qualifier}/durable-execution/")) else { return false };
    let parts: Vec<&str> = rest.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

#[test]
fn the_aws_cli_invokes_lists_reads_and_gets_the_services_errors() {
    let local = Local::seed("cli-seed");
    let aws = Aws { local: &local };
    let alias = local.alias();
    let function_arn = local.outputs["DurableLambdaFunctionArn"].clone();
    let function_name = local.outputs["DurableLambdaFunctionName"].clone();

    // Synchronous invoke of the alias: the seed's output, byte for byte, with the execution's ARN.
    let (answer, payload) = aws.invoke(&alias, SEED_PAYLOAD, &[]);
    assert!(answer.ok, "{}", answer.stderr);
    assert_eq!(payload, SEED_OUTPUT);
    let meta = answer.json();
    assert_eq!(meta["ExecutedVersion"], "1");
    let first = meta["DurableExecutionArn"].as_str().unwrap().to_owned();
    assert!(is_execution_arn(&first, &function_arn, "1"), "{first}");

    // Named: the same name and payload give the same execution; another payload is refused.
    let (named, _) = aws.invoke(&alias, r#"{"values": [1, 2]}"#, &["--durable-execution-name", "order-42"]);
    assert!(named.ok, "{}", named.stderr);
    let named_arn = named.json()["DurableExecutionArn"].as_str().unwrap().to_owned();
    assert!(named_arn.contains("/durable-execution/order-42/"), "{named_arn}");
    let (again, _) = aws.invoke(&alias, r#"{"values": [1, 2]}"#, &["--durable-execution-name", "order-42"]);
    assert_eq!(again.json()["DurableExecutionArn"], named_arn.as_str());
    let (other, _) = aws.invoke(&alias, r#"{"values": [3]}"#, &["--durable-execution-name", "order-42"]);
    assert!(!other.ok && other.stderr.contains("DurableExecutionAlreadyStartedException"), "{}", other.stderr);

    // Asynchronous: 202 at once, the execution ends on its own.
    let (event, _) = aws.invoke(&alias, r#"{"values": [7]}"#, &["--invocation-type", "Event"]);
    assert!(event.ok, "{}", event.stderr);
    assert_eq!(event.json()["StatusCode"], 202);
    let async_arn = event.json()["DurableExecutionArn"].as_str().unwrap().to_owned();
    let ended = local.wait_all(std::slice::from_ref(&async_arn), std::time::Duration::from_mins(1));
    assert_eq!(ended[0]["Status"], "SUCCEEDED");

    // GetDurableExecution and its history.
    let got = aws.run(&["lambda", "get-durable-execution", "--durable-execution-arn", &first]).json();
    assert_eq!(got["Status"], "SUCCEEDED");
    assert_eq!(got["Result"], SEED_OUTPUT);
    assert_eq!(got["InputPayload"], SEED_PAYLOAD);
    assert_eq!(got["FunctionArn"], format!("{function_arn}:1"));
    let history = aws.run(&["lambda", "get-durable-execution-history", "--durable-execution-arn", &first]).json();
    let types: Vec<&str> =
        history["Events"].as_array().unwrap().iter().map(|e| e["EventType"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "StepStarted",
            "StepSucceeded",
            "ChainedInvokeStarted",
            "InvocationCompleted",
            "ChainedInvokeSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded"
        ]
    );
    let invoke_started = &history["Events"][3]["ChainedInvokeStartedDetails"];
    assert_eq!(invoke_started["ExecutedVersion"], "1");
    assert_eq!(invoke_started["DurableExecutionArn"], first.as_str());
    assert!(history["Events"][4]["InvocationCompletedDetails"]["RequestId"].is_string());

    // ListDurableExecutionsByFunction by name, ARN and partial ARN, with status and name filters.
    let list = |function: &str, extra: &[&str]| -> Vec<String> {
        let mut args = vec!["lambda", "list-durable-executions-by-function", "--function-name", function];
        args.extend_from_slice(extra);
        let answer = aws.run(&args);
        assert!(answer.ok, "{}", answer.stderr);
        answer.json()["DurableExecutions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["DurableExecutionArn"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_name = list(&function_name, &[]);
    assert_eq!(by_name.len(), 3, "{by_name:?}");
    assert_eq!(list(&function_arn, &[]), by_name);
    let partial = format!("000000000000:function:{function_name}");
    assert_eq!(list(&partial, &[]), by_name);
    assert_eq!(list(&function_name, &["--durable-execution-name", "order-42"]), vec![named_arn.clone()]);
    assert_eq!(list(&function_name, &["--statuses", "SUCCEEDED", "FAILED"]).len(), 3);
    assert!(list(&function_name, &["--statuses", "RUNNING", "STOPPED"]).is_empty());
    assert_eq!(list(&function_name, &["--page-size", "1"]), by_name, "the CLI pages through every execution");

    // The service's errors, by name.
    let unknown = format!("{function_arn}:1/durable-execution/nope/0000");
    let missing = aws.run(&["lambda", "get-durable-execution", "--durable-execution-arn", &unknown]);
    assert!(!missing.ok && missing.stderr.contains("ResourceNotFoundException"), "{}", missing.stderr);
    let (unqualified, _) = aws.invoke(&function_name, SEED_PAYLOAD, &[]);
    assert!(!unqualified.ok && unqualified.stderr.contains("InvalidParameterValueException"), "{}", unqualified.stderr);
    let (nofunction, _) = aws.invoke("no-such-function", "{}", &[]);
    assert!(!nofunction.ok && nofunction.stderr.contains("ResourceNotFoundException"), "{}", nofunction.stderr);
    let stop = aws.run(&["lambda", "stop-durable-execution", "--durable-execution-arn", &first]);
    assert!(!stop.ok && stop.stderr.contains("InvalidParameterValueException"), "{}", stop.stderr);
    let processor = local.outputs["ProcessorFunctionArn"].clone();
    let (plain, result) = aws.invoke(&processor, r#"{"values": [1, 2, 3]}"#, &[]);
    assert!(plain.ok, "{}", plain.stderr);
    assert!(result.contains("\"sum\": 6"), "{result}");
}

#[test]
fn deployments_started_at_once_share_one_service() {
    let local = Local::seed("cli-concurrent");
    let target = local.target.clone();
    let request = local.request.clone();
    let first = local.daemon_pid();
    local.rt.block_on(target.down()).unwrap();
    // Two deployments at the same moment, into a stopped target: one starts the service, the other finds it.
    let (a, b) = local.rt.block_on(async {
        let (a, b) = tokio::join!(target.deploy(request.clone()), target.deploy(request.clone()));
        (a.unwrap(), b.unwrap())
    });
    assert_eq!(a.info.pid, b.info.pid, "two services started");
    assert_ne!(a.info.pid, first);
    let actions = [a.action, b.action];
    assert!(actions.contains(&local::ServiceAction::Started), "{actions:?}");
    assert!(actions.contains(&local::ServiceAction::Unchanged), "{actions:?}");
}
