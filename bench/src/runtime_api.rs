//! A minimal Lambda Runtime API (plus the durable checkpoint route) on loopback, to time one function process from
//! its start to its first response, a warm second invocation, and to read its peak memory.
//!
//! One thread per connection, each reporting what it saw, with the instant it saw it, to the driving thread over a
//! channel; `invocation/next` waits for the driver to hand it an event.

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::env::{Guard, ms};
use crate::error::{Context, Error, Result};
use crate::http::{read_message, write_response};

/// What a connection thread saw.
enum Seen {
    /// `GET invocation/next`; answer with `Some(event)` or `None` to hang up.
    Next(Instant, Sender<Option<(String, Vec<u8>)>>),
    /// `POST invocation/{id}/response`.
    Response(Instant, Vec<u8>),
    /// `POST invocation/{id}/error` or `init/error`.
    Error(Vec<u8>),
    /// A durable checkpoint call.
    Checkpoint,
}

/// One process's timings.
#[derive(Debug, Clone)]
pub struct ProcessRun {
    /// Process start to its first `invocation/next`.
    pub init_ms: f64,
    /// Process start to its first response.
    pub first_response_ms: f64,
    /// Event handed over to response, on the second (warm) invocation.
    pub warm_ms: f64,
    /// `VmHWM` after the warm invocation, MiB.
    pub peak_rss_mib: f64,
    /// Checkpoint calls seen over both invocations.
    pub checkpoints: u32,
    /// The first response's body.
    pub first_body: String,
}

/// Starts `binary` against a fresh Runtime API, gives it `event(1)` then `event(2)`, and measures it.
pub fn run_process(binary: &Path, env: &[(&str, String)], event: &dyn Fn(u32) -> Vec<u8>) -> Result<ProcessRun> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind the Runtime API port")?;
    let port = listener.local_addr().context("cannot read the Runtime API port")?.port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || serve_connection(stream, &tx));
        }
    });
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_ENDPOINT_URL_LAMBDA", format!("http://127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let child = Guard(command.spawn().with_context(|| format!("cannot start {}", binary.display()))?);
    let pid = child.0.id();
    drive(&rx, start, pid, event)
}

fn drive(rx: &Receiver<Seen>, start: Instant, pid: u32, event: &dyn Fn(u32) -> Vec<u8>) -> Result<ProcessRun> {
    let mut run = ProcessRun {
        init_ms: 0.0,
        first_response_ms: 0.0,
        warm_ms: 0.0,
        peak_rss_mib: 0.0,
        checkpoints: 0,
        first_body: String::new(),
    };
    let mut nexts = 0;
    let mut responses = 0;
    let mut sent = start;
    loop {
        let seen = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(seen) => seen,
            Err(RecvTimeoutError::Timeout) => {
                return Err(Error::msg("the function process did not answer within 30 s"));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::msg("the Runtime API stopped"));
            }
        };
        match seen {
            Seen::Next(at, reply) => {
                nexts += 1;
                if nexts == 1 {
                    run.init_ms = ms(at.saturating_duration_since(start));
                }
                if nexts == 3 {
                    run.peak_rss_mib = peak_rss_mib(pid)?;
                    let _ = reply.send(None);
                    return Ok(run);
                }
                sent = Instant::now();
                let _ = reply.send(Some((format!("bench-{nexts}"), event(nexts))));
            }
            Seen::Response(at, body) => {
                responses += 1;
                if responses == 1 {
                    run.first_response_ms = ms(at.saturating_duration_since(start));
                    run.first_body = String::from_utf8_lossy(&body).into_owned();
                } else {
                    run.warm_ms = ms(at.saturating_duration_since(sent));
                }
            }
            Seen::Error(body) => {
                return Err(Error::msg(format!("the function reported an error: {}", String::from_utf8_lossy(&body))));
            }
            Seen::Checkpoint => run.checkpoints += 1,
        }
    }
}

/// `VmHWM` of a live process, MiB.
pub fn peak_rss_mib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse::<u32>().ok())
        .with_context(|| format!("no VmHWM in /proc/{pid}/status"))?;
    Ok(f64::from(kib) / 1024.0)
}

fn serve_connection(stream: TcpStream, tx: &Sender<Seen>) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_message(&mut reader, true) {
        let at = Instant::now();
        let (method, path) = request.start.split_once(' ').unwrap_or_default();
        let path = path.to_owned();
        let written = if method == "GET" && path.ends_with("/invocation/next") {
            let (reply_tx, reply_rx) = mpsc::channel();
            if tx.send(Seen::Next(at, reply_tx)).is_err() {
                return;
            }
            let Ok(Some((id, body))) = reply_rx.recv() else {
                return;
            };
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()) + 30_000;
            let deadline = deadline.to_string();
            let headers = [
                ("lambda-runtime-aws-request-id", id.as_str()),
                ("lambda-runtime-deadline-ms", deadline.as_str()),
                ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench"),
                ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                ("content-type", "application/json"),
            ];
            write_response(&mut writer, 200, &headers, &body)
        } else if path.ends_with("/response") {
            let _ = tx.send(Seen::Response(at, request.body));
            write_response(&mut writer, 202, &[("content-type", "application/json")], b"{\"status\":\"OK\"}")
        } else if path.ends_with("/error") {
            let _ = tx.send(Seen::Error(request.body));
            write_response(&mut writer, 202, &[("content-type", "application/json")], b"{\"status\":\"OK\"}")
        } else if path.ends_with("/checkpoint") {
            let _ = tx.send(Seen::Checkpoint);
            let token = format!(
                "{{\"CheckpointToken\":\"token-{}\",\"NewExecutionState\":{{\"Operations\":[]}}}}",
                at.elapsed().as_nanos()
            );
            write_response(&mut writer, 200, &[("content-type", "application/json")], token.as_bytes())
        } else {
            write_response(&mut writer, 404, &[("x-amzn-errortype", "UnknownOperationException")], b"{}")
        };
        if written.is_err() {
            return;
        }
    }
}
