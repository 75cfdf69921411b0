//! The real AWS CLI against the local endpoint: invoke (synchronous, asynchronous, named), the durable execution
//! API, versions and aliases in the Lambda API reference's shapes, and the service's error codes.

use serde_json::Value;

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

/// Whether `text` is a `LastModified` as Lambda writes it: `2026-11-27T10:00:00.000+0000`.
fn is_lambda_timestamp(text: &str) -> bool {
    let digits = |range: std::ops::Range<usize>| text.get(range).is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
    text.len() == 28
        && [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.')]
            .iter()
            .all(|(i, c)| text.as_bytes().get(*i) == Some(c))
        && text.ends_with("+0000")
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19, 20..23].into_iter().all(digits)
}

/// Whether `text` is UUID-shaped (8-4-4-4-12 hex digits), as `RevisionId`s are.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// A `FunctionConfiguration` as the Lambda API reference describes it: these members, typed so. `Environment`
/// and `DurableConfig` only for a function that has them.
fn assert_function_configuration(config: &Value, durable: bool) {
    let mut expected = vec![
        "Architectures",
        "CodeSha256",
        "CodeSize",
        "Description",
        "EphemeralStorage",
        "FunctionArn",
        "FunctionName",
        "Handler",
        "LastModified",
        "LastUpdateStatus",
        "LoggingConfig",
        "MemorySize",
        "PackageType",
        "RevisionId",
        "Role",
        "Runtime",
        "State",
        "Timeout",
        "TracingConfig",
        "Version",
    ];
    if durable {
        expected.extend(["DurableConfig", "Environment"]);
    }
    expected.sort_unstable();
    assert_eq!(keys(config), expected, "{config:#}");
    // CodeSha256 is the base64 of a SHA-256 digest.
    let sha = config["CodeSha256"].as_str().unwrap();
    assert_eq!((sha.len(), sha.ends_with('=')), (44, true), "{sha}");
    assert!(is_lambda_timestamp(config["LastModified"].as_str().unwrap()), "{config:#}");
    assert!(is_uuid(config["RevisionId"].as_str().unwrap()), "{config:#}");
    assert!(config["CodeSize"].as_u64().unwrap() > 0);
    if durable {
        assert!(config["Environment"]["Variables"]["PROCESSOR_FUNCTION_NAME"].is_string(), "{config:#}");
    }
    assert_eq!(config["Runtime"], "provided.al2023");
}

#[test]
fn the_aws_cli_reads_versions_and_aliases_in_the_lambda_api_shapes() {
    let local = Local::seed("cli-versions");
    let aws = Aws { local: &local };
    let name = local.outputs["DurableLambdaFunctionName"].clone();
    let function_arn = local.outputs["DurableLambdaFunctionArn"].clone();
    let ok = |args: &[&str]| {
        let answer = aws.run(args);
        assert!(answer.ok, "aws {args:?}: {}", answer.stderr);
        answer.json()
    };

    // GetAlias: an AliasConfiguration (no RoutingConfig: the alias sends everything to one version).
    let alias = ok(&["lambda", "get-alias", "--function-name", &name, "--name", "live"]);
    assert_eq!(keys(&alias), ["AliasArn", "Description", "FunctionVersion", "Name", "RevisionId"]);
    assert_eq!(alias["AliasArn"], format!("{function_arn}:live"));
    assert_eq!((alias["Name"].as_str(), alias["FunctionVersion"].as_str()), (Some("live"), Some("1")));
    assert_eq!(alias["Description"], "What callers invoke");
    assert!(is_uuid(alias["RevisionId"].as_str().unwrap()), "{alias}");
    assert_eq!(ok(&["lambda", "get-alias", "--function-name", &function_arn, "--name", "live"]), alias);
    let missing = aws.run(&["lambda", "get-alias", "--function-name", &name, "--name", "nope"]);
    assert!(
        !missing.ok
            && missing.stderr.contains(&format!(
                "ResourceNotFoundException) when calling the GetAlias operation: Alias not found: {function_arn}:nope"
            )),
        "{}",
        missing.stderr
    );
    let digits = aws.run(&["lambda", "get-alias", "--function-name", &name, "--name", "12"]);
    assert!(!digits.ok && digits.stderr.contains("ValidationException"), "{}", digits.stderr);
    let no_function = aws.run(&["lambda", "get-alias", "--function-name", "no-such-function", "--name", "live"]);
    assert!(!no_function.ok && no_function.stderr.contains("ResourceNotFoundException"), "{}", no_function.stderr);

    // ListAliases: every alias, or those of one version.
    let aliases = ok(&["lambda", "list-aliases", "--function-name", &name]);
    assert_eq!(aliases["Aliases"], Value::Array(vec![alias.clone()]));
    let of_one = ok(&["lambda", "list-aliases", "--function-name", &name, "--function-version", "1"]);
    assert_eq!(of_one["Aliases"].as_array().map(Vec::len), Some(1));
    let of_other = ok(&["lambda", "list-aliases", "--function-name", &name, "--function-version", "2"]);
    assert_eq!(of_other["Aliases"], Value::Array(vec![]));

    // ListVersionsByFunction: `$LATEST`, then each version, with its own ARN and configuration; the CLI follows
    // NextMarker across pages of one.
    let versions = ok(&["lambda", "list-versions-by-function", "--function-name", &name]);
    let list = versions["Versions"].as_array().unwrap();
    assert_eq!(list.iter().map(|v| v["Version"].as_str().unwrap()).collect::<Vec<_>>(), ["$LATEST", "1"]);
    assert_eq!(list[0]["FunctionArn"], format!("{function_arn}:$LATEST"));
    assert_eq!(list[1]["FunctionArn"], format!("{function_arn}:1"));
    for version in list {
        assert_function_configuration(version, true);
    }
    assert_eq!(list[1]["Description"], "Orchestrator version behind the live alias", "a version's own description");
    assert_ne!(list[0]["Description"], list[1]["Description"]);
    assert_eq!(list[0]["CodeSha256"], list[1]["CodeSha256"]);
    let paged = ok(&["lambda", "list-versions-by-function", "--function-name", &name, "--page-size", "1"]);
    assert_eq!(paged["Versions"], versions["Versions"], "the CLI pages through every version");
    let first = ok(&["lambda", "list-versions-by-function", "--function-name", &name, "--max-items", "1"]);
    assert_eq!(first["Versions"].as_array().map(Vec::len), Some(1));
    assert!(first["NextToken"].is_string(), "{first}");

    // GetFunction and GetFunctionConfiguration with a qualifier: the version's configuration under the ARN the
    // request named (an alias ARN for an alias).
    for (qualifier, version) in [("live", "1"), ("1", "1"), ("$LATEST", "$LATEST")] {
        let got = ok(&["lambda", "get-function", "--function-name", &name, "--qualifier", qualifier]);
        assert_eq!(keys(&got), ["Code", "Configuration"]);
        assert_eq!(got["Code"]["RepositoryType"], "S3");
        assert!(got["Code"]["Location"].is_string());
        let config = &got["Configuration"];
        assert_function_configuration(config, true);
        assert_eq!(config["FunctionArn"], format!("{function_arn}:{qualifier}"));
        assert_eq!(config["Version"], version);
        let alone = ok(&["lambda", "get-function-configuration", "--function-name", &format!("{name}:{qualifier}")]);
        assert_eq!(&alone, config);
    }
    let unqualified = ok(&["lambda", "get-function", "--function-name", &name]);
    assert_eq!(unqualified["Configuration"]["FunctionArn"], function_arn.as_str());
    assert_eq!(unqualified["Configuration"]["Version"], "$LATEST");
    let absent = aws.run(&["lambda", "get-function", "--function-name", &name, "--qualifier", "7"]);
    assert!(
        !absent.ok && absent.stderr.contains(&format!("ResourceNotFoundException) when calling the GetFunction operation: Function not found: {function_arn}:7")),
        "{}",
        absent.stderr
    );
    let plain = local.outputs["ProcessorFunctionName"].clone();
    let processor = ok(&["lambda", "get-function-configuration", "--function-name", &plain, "--qualifier", "1"]);
    assert_function_configuration(&processor, false);
}
