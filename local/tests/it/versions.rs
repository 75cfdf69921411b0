//! Published versions on the local target are immutable, as on AWS: a redeploy that changes a function publishes a
//! new version and leaves the old ones running the binary and configuration they were published with, so an
//! execution suspended across the redeploy resumes on its own version and calls the processor version it was
//! deployed with.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use constructs::reference::Reference;
use constructs::resources::iam::Role;
use constructs::resources::lambda::{Alias, DurableConfig, Function, Version};
use constructs::{AssetSource, Output, Stack};
use serde_json::{Value, json};

use crate::support::{Aws, Local, synth};

/// Which processor a deployment ships.
#[derive(Clone, Copy)]
enum Processor {
    /// The pattern's processor binary: statistics over `values`.
    Statistics,
    /// The conformance binary's `target-measure`: the size of its input, `{"bytes": N}`.
    Measure,
}

/// An orchestrator (conformance handler 5-14) that first invokes `Approval` (4-1, a durable function waiting on a
/// callback named after its input) and then the processor's published version with the callback's result; the
/// orchestrator's version behind a `live` alias. The processor's version ARN is in the orchestrator's environment,
/// so changing the processor publishes a new version of both, as in the pattern.
fn stack(name: &str, processor: Processor) -> Stack {
    let mut stack = Stack::new(&constructs::App::new(), name).unwrap();
    let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
    let conformance = || AssetSource::CargoBinary { package: "conformance".into(), binary: "conformance".into() };
    let durable = |handler: &str| {
        Function::new(conformance(), &role)
            .timeout_seconds(60)
            .durable(DurableConfig::new(600, 1))
            .env("CONFORMANCE_HANDLER", handler)
    };
    let approval = stack.add("Approval", durable("4-1")).unwrap();
    let approval_version = stack.add("ApprovalVersion", Version::of(&approval)).unwrap();
    let processor = match processor {
        Processor::Statistics => {
            let code = AssetSource::CargoBinary { package: "processor".into(), binary: "processor".into() };
            Function::new(code, &role).timeout_seconds(30)
        }
        Processor::Measure => {
            Function::new(conformance(), &role).timeout_seconds(20).env("CONFORMANCE_HANDLER", "target-measure")
        }
    };
    let processor = stack.add("Processor", processor).unwrap();
    let processor_version = stack.add("ProcessorVersion", Version::of(&processor)).unwrap();
    let orchestrator = stack
        .add(
            "Orchestrator",
            durable("5-14")
                .env("ECHO_FUNCTION_NAME", approval_version.ref_())
                .env("MEASURE_FUNCTION_NAME", processor_version.ref_()),
        )
        .unwrap();
    let orchestrator_version = stack.add("OrchestratorVersion", Version::of(&orchestrator)).unwrap();
    let alias = stack.add("Live", Alias::new("live", &orchestrator_version)).unwrap();
    let outputs = [
        ("AliasArn", alias.ref_()),
        ("OrchestratorVersionArn", orchestrator_version.ref_()),
        ("ProcessorVersionArn", processor_version.ref_()),
        ("ProcessorName", processor.ref_()),
        ("OrchestratorName", orchestrator.ref_()),
        ("ApprovalName", approval.ref_()),
    ];
    for (key, value) in outputs {
        stack.add_output(key, Output::new(value)).unwrap();
    }
    stack
}

/// Deploys `stack` over what `local` runs, as a second `up --local` would; returns the stack's new outputs.
fn redeploy(local: &mut Local, stack: &Stack) -> BTreeMap<String, String> {
    let (template, code) = synth(&local.target, stack);
    local.request.stacks = vec![local::StackTemplate { name: stack.name().to_owned(), template }];
    local.request.code = code;
    let outcome = local.redeploy();
    assert_eq!(outcome.action, local::ServiceAction::Reloaded, "a new version needs no restart of the service");
    local.outputs = outcome.outputs[stack.name()].clone();
    local.outputs.clone()
}

/// Starts an execution of the alias asynchronously; returns its ARN and the version it runs.
fn start(aws: &Aws<'_>, alias: &str, input: &str) -> (String, String) {
    let (answer, _) = aws.invoke(alias, &json!(input).to_string(), &["--invocation-type", "Event"]);
    assert!(answer.ok, "{}", answer.stderr);
    let meta = answer.json();
    (meta["DurableExecutionArn"].as_str().unwrap().to_owned(), meta["ExecutedVersion"].as_str().unwrap().to_owned())
}

/// The id of the callback `Approval` opened for `input` (its callback is named after it), once it is open.
fn callback_for(aws: &Aws<'_>, approval: &str, input: &str) -> String {
    let started = Instant::now();
    loop {
        let listed = aws.run(&["lambda", "list-durable-executions-by-function", "--function-name", approval]);
        assert!(listed.ok, "{}", listed.stderr);
        for execution in listed.json()["DurableExecutions"].as_array().unwrap() {
            let arn = execution["DurableExecutionArn"].as_str().unwrap();
            let history = aws.run(&["lambda", "get-durable-execution-history", "--durable-execution-arn", arn]);
            assert!(history.ok, "{}", history.stderr);
            let found = history.json()["Events"].as_array().unwrap().iter().find_map(|e| {
                let details = &e["CallbackStartedDetails"];
                (e["EventType"] == "CallbackStarted" && e["Name"] == input)
                    .then(|| details["CallbackId"].as_str().unwrap().to_owned())
            });
            if let Some(id) = found {
                return id;
            }
        }
        assert!(started.elapsed() < Duration::from_mins(1), "no callback named {input} opened");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn answer_callback(aws: &Aws<'_>, id: &str, result: &Value) {
    let result = result.to_string();
    // The pinned AWS CLI (v1) sends a blob argument as it is.
    let sent =
        aws.run(&["lambda", "send-durable-execution-callback-success", "--callback-id", id, "--result", &result]);
    assert!(sent.ok, "{}", sent.stderr);
}

fn until_ended(aws: &Aws<'_>, arn: &str) -> Value {
    let started = Instant::now();
    loop {
        let answer = aws.run(&["lambda", "get-durable-execution", "--durable-execution-arn", arn]);
        assert!(answer.ok, "{}", answer.stderr);
        let execution = answer.json();
        if execution["Status"] != "RUNNING" {
            return execution;
        }
        assert!(started.elapsed() < Duration::from_mins(1), "{arn} still RUNNING");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `invoke` of a plain function's qualified name; the payload it returned, as JSON.
fn invoke(aws: &Aws<'_>, function: &str, payload: &Value) -> (Value, String) {
    let (answer, out) = aws.invoke(function, &payload.to_string(), &[]);
    assert!(answer.ok, "{}", answer.stderr);
    let version = answer.json()["ExecutedVersion"].as_str().unwrap().to_owned();
    (serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")), version)
}

/// The pattern's processor on `values`: what version 1 answers.
fn statistics(values: &[i64]) -> Value {
    let (mut sum, mut max, mut min) = (0, i64::MIN, i64::MAX);
    for v in values {
        sum += v;
        max = max.max(*v);
        min = min.min(*v);
    }
    #[allow(clippy::cast_precision_loss)]
    let average = sum as f64 / values.len() as f64;
    json!({"operation": "sum_and_average", "count": values.len(), "sum": sum, "average": average, "max": max, "min": min})
}

#[test]
fn a_redeploy_publishes_new_versions_and_old_ones_keep_their_code_and_configuration() {
    let name = "versions-immutable";
    let mut local = Local::deploy(&stack(name, Processor::Statistics), |_, _| Vec::new());
    let outputs = local.outputs.clone();
    let (alias, approval, processor) = (&outputs["AliasArn"], &outputs["ApprovalName"], &outputs["ProcessorName"]);
    assert!(outputs["ProcessorVersionArn"].ends_with(":1"), "{outputs:?}");
    assert!(outputs["OrchestratorVersionArn"].ends_with(":1"), "{outputs:?}");

    // An execution on version 1 waits on its approval: it has not reached the processor yet.
    let (before, version) = start(&Aws { local: &local }, alias, "before-redeploy");
    assert_eq!(version, "1");
    let before_callback = callback_for(&Aws { local: &local }, approval, "before-redeploy");
    let values = json!({"values": [4, 8, 15, 16, 23, 42]});
    let (old, _) = invoke(&Aws { local: &local }, &format!("{processor}:1"), &values);
    assert_eq!(old, statistics(&[4, 8, 15, 16, 23, 42]));

    // The processor changes (another binary, another configuration): a second deployment publishes processor
    // version 2 and, since the orchestrator's environment names it, orchestrator version 2, and moves the alias.
    let outputs = redeploy(&mut local, &stack(name, Processor::Measure));
    assert!(outputs["ProcessorVersionArn"].ends_with(&format!("{processor}:2")), "{outputs:?}");
    assert!(outputs["OrchestratorVersionArn"].ends_with(":2"), "{outputs:?}");
    let aws = Aws { local: &local };

    // The suspended execution resumes on its version 1, which calls processor version 1: the old result.
    answer_callback(&aws, &before_callback, &values);
    let ended = until_ended(&aws, &before);
    assert_eq!(ended["Status"], "SUCCEEDED", "{ended}");
    let result: Value = serde_json::from_str(ended["Result"].as_str().unwrap()).unwrap();
    assert_eq!(result, json!([values, statistics(&[4, 8, 15, 16, 23, 42])]));

    // A new execution runs orchestrator version 2, which calls processor version 2.
    let (after, version) = start(&aws, alias, "after-redeploy");
    assert_eq!(version, "2");
    answer_callback(&aws, &callback_for(&aws, approval, "after-redeploy"), &values);
    let ended = until_ended(&aws, &after);
    assert_eq!(ended["Status"], "SUCCEEDED", "{ended}");
    let result: Value = serde_json::from_str(ended["Result"].as_str().unwrap()).unwrap();
    assert_eq!(result, json!([values, {"bytes": values.to_string().len()}]));

    // Invoked directly, each version runs its own binary; `$LATEST` is the last deployment.
    let measured = json!({"bytes": values.to_string().len()});
    assert_eq!(invoke(&aws, &format!("{processor}:1"), &values), (statistics(&[4, 8, 15, 16, 23, 42]), "1".into()));
    assert_eq!(invoke(&aws, &format!("{processor}:2"), &values), (measured.clone(), "2".into()));
    assert_eq!(invoke(&aws, processor, &values), (measured, "$LATEST".into()));

    // The alias points at orchestrator version 2; each version lists the configuration it was published with.
    let orchestrator = &outputs["OrchestratorName"];
    let alias = aws.run(&["lambda", "get-alias", "--function-name", orchestrator, "--name", "live"]);
    assert!(alias.ok, "{}", alias.stderr);
    assert_eq!(alias.json()["FunctionVersion"], "2");
    let versions = |function: &str| -> Vec<Value> {
        let answer = aws.run(&["lambda", "list-versions-by-function", "--function-name", function]);
        assert!(answer.ok, "{}", answer.stderr);
        answer.json()["Versions"].as_array().unwrap().clone()
    };
    let called: Vec<(String, String)> = versions(orchestrator)
        .iter()
        .map(|v| {
            let target = v["Environment"]["Variables"]["MEASURE_FUNCTION_NAME"].as_str().unwrap();
            (v["Version"].as_str().unwrap().to_owned(), target.rsplit(':').next().unwrap().to_owned())
        })
        .collect();
    let expected = [("$LATEST", "2"), ("1", "1"), ("2", "2")].map(|(v, p)| (v.to_owned(), p.to_owned()));
    assert_eq!(called, expected, "(orchestrator version, processor version it calls)");
    let processors = versions(processor);
    let handler = |v: &Value| v["Environment"]["Variables"]["CONFORMANCE_HANDLER"].as_str().map(str::to_owned);
    assert_eq!(
        processors.iter().map(handler).collect::<Vec<_>>(),
        [Some("target-measure".into()), None, Some("target-measure".into())]
    );
    assert_ne!(processors[1]["CodeSha256"], processors[2]["CodeSha256"], "version 1 keeps its own binary");
    assert_eq!(processors[0]["CodeSha256"], processors[2]["CodeSha256"]);
    assert_eq!((processors[1]["Timeout"].as_u64(), processors[2]["Timeout"].as_u64()), (Some(30), Some(20)));

    // Warm processes belong to one version: no process ever served two versions' requests.
    let served = served_versions(&local.log(processor));
    assert!(served.values().any(|versions| versions.contains("1")), "{served:?}");
    assert!(served.values().any(|versions| versions.contains("2")), "{served:?}");
    assert!(served.values().all(|versions| versions.len() == 1), "a process served several versions: {served:?}");
}

/// From a function's log: the versions each process (by pid) ran requests of. `START` lines name a request's
/// version, `REPORT` lines the pid that ran it.
fn served_versions(log: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut version_of = BTreeMap::new();
    let mut served: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in log.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let field = |name: &str| words.windows(2).find(|w| w[0] == name).map(|w| w[1].to_owned());
        if line.starts_with("START ") {
            if let (Some(request), Some(version)) = (field("RequestId:"), field("Version:")) {
                version_of.insert(request, version);
            }
        } else if line.starts_with("REPORT ")
            && let (Some(request), Some(pid)) = (field("RequestId:"), field("pid:"))
            && let Some(version) = version_of.get(&request)
        {
            served.entry(pid).or_default().insert(version.clone());
        }
    }
    served
}
