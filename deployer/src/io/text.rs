//! Events as prose, for the terminal and plain hosts: the only place that decides how an event reads.

use std::fmt::Write as _;

use super::Event;
use super::durable::{self, Style};
use super::message::{FunctionStatus, LocalFunctionStatus, WatchedVersion};

/// The event as prose, one or more lines; `style` applies to the durable tables (colours, truncated cells).
pub(crate) fn render(event: &Event, style: Style) -> String {
    match event {
        Event::Stage { stage, message } => format!("{stage}: {message}"),
        Event::Info { message } => message.clone(),
        Event::Warning { message } => format!("warning: {message}"),
        Event::AssetPackaged { asset, path, bytes, fingerprint, .. } => {
            format!("packaged {asset}: {path} ({bytes} bytes, fingerprint {})", short(fingerprint))
        }
        Event::AssetUploaded { key, bucket, bytes, .. } => format!("uploaded s3://{bucket}/{key} ({bytes} bytes)"),
        Event::AssetSkipped { key, bucket } => format!("s3://{bucket}/{key} already published, not uploaded"),
        Event::NoChanges { stack } => format!("{stack}: no changes"),
        Event::ChangeSet { stack, change_set, changes } => {
            let mut text = format!("{stack}: change set {change_set} with {} change(s)", changes.len());
            for change in changes {
                text.push_str("\n  ");
                text.push_str(change);
            }
            text
        }
        Event::StackEvent { stack, logical_id, resource_type, status, reason, .. } => {
            let mut text = format!("{stack} | {status} | {resource_type} | {logical_id}");
            if let Some(reason) = reason.as_deref().filter(|r| !r.is_empty()) {
                text.push_str(" | ");
                text.push_str(reason);
            }
            text
        }
        Event::Progress { stack, done, total, in_progress } => {
            format!("{stack}: {done}/{total} resources done; in progress: {}", in_progress.join(", "))
        }
        Event::StackDone { stack, status, seconds } => format!("{stack}: {status} in {seconds:.1}s"),
        Event::FailureRecap { stack, failures } => {
            let lines: Vec<String> =
                failures.iter().map(|(id, status, reason)| format!("\n  {id} {status}: {reason}")).collect();
            format!("{stack}: the deployment failed; failed resources, root cause first:{}", lines.concat())
        }
        Event::Outputs { stack, outputs } if outputs.is_empty() => format!("{stack}: the stack reports no outputs"),
        Event::Outputs { stack, outputs } => {
            let lines: Vec<String> = outputs.iter().map(|(key, value)| format!("\n{key} = {value}")).collect();
            format!("Outputs of {stack}:{}", lines.concat())
        }
        Event::TemplateWritten { stack, path } => format!("{stack}: {path}"),
        Event::NothingToDelete { stack } => format!("{stack}: does not exist, nothing to delete"),
        Event::InvokeResult { text, .. } => text.clone(),
        Event::Check { check, status, detail } => format!("{:<4} {check:<11} {detail}", status.as_str()),
        Event::Endpoint { url } => {
            format!("Endpoint = {url} (use it as --endpoint-url; logs: `deployer logs --local`)")
        }
        Event::TemplateDiff { stack, changes, widening, .. } => {
            let mut text = if changes.is_empty() {
                format!("Stack {stack}: no differences")
            } else {
                let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
                format!("Stack {stack}:\n  {}", lines.join("\n  "))
            };
            if !widening.is_empty() {
                let _ = write!(text, "\n  IAM: widens access in {} way(s):", widening.len());
                for grant in widening {
                    text.push_str("\n    ");
                    text.push_str(grant);
                }
            }
            text
        }
        Event::ChangeSetPreview { stack, changes } => {
            let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
            format!("CloudFormation's change set for {stack}:\n  {}", lines.join("\n  "))
        }
        Event::StackStatus { stack, status: None, .. } => {
            format!("{stack}: not deployed (deploy it with `deployer up`)")
        }
        Event::StackStatus { stack, status: Some(status), last_changed, functions } => {
            let mut text = format!("{stack}: {status}");
            if let Some(at) = last_changed {
                let _ = write!(text, " (last changed {})", at.rfc3339());
            }
            for function in functions {
                text.push_str("\n  ");
                text.push_str(&function_line(function));
            }
            text
        }
        Event::LocalStatus { endpoint, pid, skip_time, executions, running, functions } => {
            let mut text = format!(
                "local target running: endpoint {endpoint} (pid {pid}{}); {executions} execution(s) stored, {running} \
                 running",
                if *skip_time { ", time control on" } else { "" },
            );
            for function in functions {
                text.push_str("\n  ");
                text.push_str(&local_function_line(function));
            }
            text
        }
        Event::LogLine { function, timestamp, message } => match timestamp {
            Some(at) => format!("{} {function}  {message}", at.clock()),
            None => format!("{function}  {message}"),
        },
        Event::LocalStackRemoved { stack } => {
            format!("{stack}: removed from the local target; the other stacks keep running")
        }
        Event::LocalStopped { state_dir } => format!("local target stopped; removed {state_dir}"),
        Event::WatchStarted { binaries, files } => format!(
            "watching {files} source file(s) of {}: a saved change rebuilds and redeploys the functions it builds \
             into (Ctrl-C stops watching)",
            binaries.join(", ")
        ),
        Event::WatchChange { files, binaries } => {
            format!("changed: {}; rebuilding {}", files.join(", "), binaries.join(", "))
        }
        Event::WatchDeployed { build_seconds, deploy_seconds, versions } => {
            let versions: Vec<String> = versions.iter().map(watched_version).collect();
            format!(
                "built in {build_seconds:.1}s, deployed in {deploy_seconds:.1}s: {}",
                if versions.is_empty() { "no function changed".to_owned() } else { versions.join(", ") }
            )
        }
        Event::WatchBuildFailed { message } => {
            format!("rebuild failed, the previous version keeps serving; save a fix to try again: {message}")
        }
        Event::Hotswapped { stack, functions, aliases, stale_outputs, seconds } => {
            let functions: Vec<String> = functions
                .iter()
                .map(|f| {
                    format!("{} {} → version {}", f.function, if f.code { "code" } else { "environment" }, f.version)
                })
                .collect();
            let moved = if aliases.is_empty() { String::new() } else { format!("; moved {}", aliases.join(", ")) };
            let old_outputs = if stale_outputs.is_empty() {
                String::new()
            } else {
                format!(" (its outputs {} still name the old versions)", stale_outputs.join(", "))
            };
            format!(
                "hotswapped {stack} in {seconds:.1}s without CloudFormation: {}{moved}. The stack has drifted from \
                 its template until the next `deployer up` without --hotswap{old_outputs}",
                if functions.is_empty() { "nothing changed".to_owned() } else { functions.join(", ") }
            )
        }
        Event::HotswapFallback { stack, reason } => {
            format!("{stack} cannot be hotswapped ({reason}): deploying it through CloudFormation")
        }
        Event::WatchUpdated { seconds } => format!("deployed to AWS in {seconds:.1}s (build included)"),
        Event::WatchStopped => {
            "stopped watching; the local target keeps running (`deployer down --local` stops it)".to_owned()
        }
        Event::Executions { function, statuses, executions } => {
            durable::executions(function, statuses, executions, style)
        }
        Event::History { execution, rows } => durable::history(execution, rows, style),
        Event::ExecutionActivity { activity, .. } => durable::activity(activity),
        Event::ExecutionStarted { execution, .. } => execution.clone(),
        Event::CallbackSent { callback_id, action } => match action.as_str() {
            "succeed" => format!("callback {callback_id} succeeded"),
            "fail" => format!("callback {callback_id} failed"),
            _ => format!("callback {callback_id}: heartbeat sent"),
        },
        Event::ClockMoved { now, moved_ms, fired, next_timer } => {
            let next = next_timer
                .map_or_else(|| "no timer is armed".to_owned(), |next| format!("next timer at {}", next.rfc3339()));
            format!(
                "clock at {} (moved {}), {fired} timer(s) fired; {next}",
                now.rfc3339(),
                durable::duration(*moved_ms)
            )
        }
        Event::Replay { report } => replay_text(report),
        Event::ReplayHeld { execution, pid } => format!(
            "replaying {execution}: process {pid} waits before its handler starts. Attach a debugger (`rust-gdb -p \
             {pid}` or `rust-lldb -p {pid}`), set breakpoints, let it continue, then press Enter here"
        ),
        Event::ExecutionStopped { execution, stopped_at } => match stopped_at {
            Some(at) => format!("stopped {execution} at {}", at.rfc3339()),
            None => format!("stopped {execution}"),
        },
    }
}

/// `Orchestrator v3 (live -> 3)`.
fn watched_version(version: &WatchedVersion) -> String {
    let mut text = format!("{} v{}", version.function, version.version);
    if !version.aliases.is_empty() {
        let aliases: Vec<String> = version.aliases.iter().map(|(name, to)| format!("{name} -> {to}")).collect();
        let _ = write!(text, " ({})", aliases.join(", "));
    }
    text
}

/// The recorded operations, then the verdict.
fn replay_text(report: &local::service::replay::ReplayReport) -> String {
    use local::service::replay::Verdict;
    let mut text = format!("replayed {} on {}:\n", report.execution, report.qualifier);
    for op in &report.recorded {
        let _ = writeln!(text, "  {:>3}. {} ({})", op.position, op.identity, op.id);
    }
    let (verdict, detail) = match &report.verdict {
        Verdict::Same { detail } => ("same decisions", detail),
        Verdict::Diverged { detail, .. } => ("DIVERGES", detail),
        Verdict::Failed { detail } => ("cannot replay", detail),
    };
    let _ = write!(text, "{verdict}: {detail}");
    text
}

/// `Orchestrator (durable): durable-invoke-lambda-Orchestrator-1A2B, version 2; alias live -> 2`.
fn function_line(function: &FunctionStatus) -> String {
    let mut text = function.logical_id.clone();
    if function.durable {
        text.push_str(" (durable)");
    }
    let _ = write!(text, ": {}", function.name.as_deref().unwrap_or("not in the stack"));
    if let Some(version) = &function.version {
        let _ = write!(text, ", version {version}");
    }
    if let Some(alias) = &function.alias {
        match &alias.version {
            Some(version) => {
                let _ = write!(text, "; alias {} -> {version}", alias.name);
            }
            None => {
                let _ = write!(text, "; alias {} missing", alias.name);
            }
        }
    }
    text
}

/// `durable-invoke-lambda-Processor: 1 invocation(s), 1 process(es)`.
fn local_function_line(function: &LocalFunctionStatus) -> String {
    format!(
        "{}: {} invocation(s), {} process(es){}",
        function.name,
        function.invocations,
        function.processes,
        if function.durable { ", durable" } else { "" }
    )
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
