//! Bad input on the command line gets a clear answer and a non-zero exit, before anything is built or called.
//!
//! Each test runs in a copy of the workspace of its own and names a stack of its own: `down` takes the per-stack
//! lock in the workspace's `.deployer/`, and must never race a developer's `up` or another test for the real one.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::{Guard, Run, copy_workspace, deployer, which};

/// The variables of the AWS SDK's credential and configuration chain that `bare_env` removes whatever the caller
/// set; every other `AWS_*` variable of the caller's environment is removed too.
const CHAIN_VARIABLES: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_SDK_LOAD_CONFIG",
];

/// An environment with no AWS configuration at all: a fresh `HOME`, no config or credentials file, no instance
/// metadata, and none of the caller's `AWS_*` variables (web identity, container credentials, profiles).
fn bare_env(home: &Path) -> Vec<(&'static str, String)> {
    let inherited = std::env::vars_os()
        .filter_map(|(key, _)| key.into_string().ok())
        .filter(|key| key.starts_with("AWS_") && !CHAIN_VARIABLES.contains(&key.as_str()))
        .map(|key| -> &'static str { Box::leak(key.into_boxed_str()) });
    let mut env: Vec<(&'static str, String)> =
        CHAIN_VARIABLES.iter().copied().chain(inherited).map(|key| (key, String::new())).collect();
    env.extend([
        ("HOME", home.display().to_string()),
        ("AWS_CONFIG_FILE", home.join("none").display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", home.join("none").display().to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]);
    env
}

/// A copy of the workspace for one test, and a `HOME` with nothing in it.
struct Sandbox {
    work: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let work = tempfile::tempdir().unwrap();
        copy_workspace(work.path());
        Self { work, home: tempfile::tempdir().unwrap() }
    }

    fn dir(&self) -> &Path {
        self.work.path()
    }

    /// The deployer in the copy, with no AWS configuration but `extra`.
    fn bare(&self, args: &[&str], extra: &[(&'static str, String)]) -> Run {
        let mut env = bare_env(self.home.path());
        env.extend(extra.iter().cloned());
        deployer(self.dir(), args, &env)
    }

    /// The deployer in the copy, with the caller's environment.
    fn run(&self, args: &[&str]) -> Run {
        deployer(self.dir(), args, &[])
    }
}

#[test]
fn missing_region_says_how_to_set_one() {
    let run = Sandbox::new().bare(&["down", "--stack-name", "cli-missing-region"], &[]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("no AWS region is set"), "{}", run.all());
    assert!(run.stderr.contains("--region"), "{}", run.all());
}

#[test]
fn missing_credentials_say_how_to_configure_them() {
    let run = Sandbox::new()
        .bare(&["down", "--stack-name", "cli-missing-credentials"], &[("AWS_REGION", "eu-west-1".into())]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("no usable AWS credentials"), "{}", run.all());
    assert!(run.stderr.contains("aws configure"), "{}", run.all());
}

#[test]
fn an_arch_typo_lists_the_valid_values() {
    let run = Sandbox::new().run(&["synth", "--arch", "amd64"]);
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(run.stderr.contains("unknown architecture `amd64`: use `arm64` or `x86_64`"), "{}", run.all());
}

#[test]
fn hotswap_on_the_local_target_says_what_to_run_instead() {
    let run = Sandbox::new().run(&["up", "--hotswap", "--local"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stderr.contains("`--hotswap` updates function code on AWS without CloudFormation")
            && run.stderr.contains("deployer up --local --watch"),
        "{}",
        run.all()
    );
}

#[test]
fn an_invalid_stack_name_is_refused_with_the_rule() {
    let run = Sandbox::new().run(&["down", "--stack-name", "my_stack!"]);
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(run.stderr.contains("is not a valid stack name"), "{}", run.all());
}

/// A region, keys and an endpoint that answers every AWS call (with a CloudFormation error): a run that fails
/// without calling it failed before any AWS call.
fn configured_env(endpoint: &Endpoint) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIAPAYLOADEXAMPLE00".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "payload-secret".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.url.clone()),
    ]
}

#[test]
fn a_payload_file_that_does_not_exist_is_named() {
    let aws = error_endpoint("400 Bad Request", "ValidationError", "Stack with id cli-payload-missing does not exist");
    let run = Sandbox::new().bare(
        &["invoke", "--stack-name", "cli-payload-missing", "--payload", "@/no/such/payload.json"],
        &configured_env(&aws),
    );
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("cannot read the payload file /no/such/payload.json"), "{}", run.all());
    assert_eq!(aws.connections(), 0, "AWS was called before the payload was read:\n{}", run.all());
}

#[test]
fn a_payload_that_is_not_json_is_refused() {
    let aws = error_endpoint("400 Bad Request", "ValidationError", "Stack with id cli-payload-not-json does not exist");
    let sandbox = Sandbox::new();
    let file = sandbox.dir().join("payload.json");
    std::fs::write(&file, "values: [1, 2]").unwrap();
    let run = sandbox.bare(
        &["invoke", "--stack-name", "cli-payload-not-json", "--payload", &format!("@{}", file.display())],
        &configured_env(&aws),
    );
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("the payload is not valid JSON"), "{}", run.all());
    assert_eq!(aws.connections(), 0, "AWS was called before the payload was checked:\n{}", run.all());
}

/// An HTTP endpoint on a loopback port, and how many connections it has accepted.
struct Endpoint {
    url: String,
    accepted: Arc<AtomicUsize>,
}

impl Endpoint {
    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Accepts connections on a loopback port and never answers: a call to it waits until its own timeout.
fn silent_endpoint() -> Endpoint {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    Endpoint { url, accepted }
}

/// Serves every request on a loopback port with one CloudFormation (awsQuery) error.
fn error_endpoint(status: &'static str, code: &'static str, message: &'static str) -> Endpoint {
    use std::io::{BufRead as _, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let mut reader = std::io::BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let answer = format!(
                "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type>\
                 <Code>{code}</Code><Message>{message}</Message></Error><RequestId>test-1</RequestId></ErrorResponse>"
            );
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    Endpoint { url, accepted }
}

/// Each code the README lists for credentials the service refuses, with the message AWS sends with it.
#[test]
fn expired_credentials_say_to_renew_them() {
    let sandbox = Sandbox::new();
    for (code, message) in [
        ("ExpiredToken", "The security token included in the request is expired"),
        ("InvalidClientTokenId", "The security token included in the request is invalid."),
        ("UnrecognizedClientException", "The security token included in the request is invalid."),
        ("RequestExpired", "Request has expired."),
    ] {
        let aws = error_endpoint("400 Bad Request", code, message);
        let env = [
            ("AWS_REGION", "eu-west-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "ASIAEXPIREDEXAMPLE00".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "expired-secret-never-printed".to_owned()),
            ("AWS_SESSION_TOKEN", "expired-session".to_owned()),
            ("AWS_ENDPOINT_URL", aws.url.clone()),
        ];
        let run = sandbox.bare(&["down", "--stack-name", "cli-expired-credentials"], &env);
        assert_eq!(run.code, Some(1), "{code}: {}", run.all());
        assert!(run.stderr.contains("no usable AWS credentials"), "{code}: {}", run.all());
        // The call and the service's code, on the message's line.
        let line = run.stderr.lines().find(|l| l.contains("no usable AWS credentials")).unwrap();
        assert!(line.contains("CloudFormation.DescribeStacks") && line.contains(code), "{code}: {}", run.all());
        assert!(run.stderr.contains("aws sso login"), "{code}: {}", run.all());
        assert!(!run.all().contains("expired-secret-never-printed"), "{code}: the secret key was printed");
        // Not retried: no retry fixes refused credentials.
        assert_eq!(aws.connections(), 1, "{code}: {}", run.all());
    }
}

/// A second `down` of a stack while another process runs one: refused at once, naming the first one's pid, and
/// without calling AWS. The lock is the operating system's: once the first process is killed (SIGKILL, no clean-up
/// of its own), the next run goes ahead.
#[test]
fn a_second_deployment_of_a_stack_is_refused_while_another_process_runs_one() {
    let sandbox = Sandbox::new();
    let stack = "cli-locked";
    let env = |aws: &Endpoint| {
        let mut env = bare_env(sandbox.home.path());
        env.extend(configured_env(aws));
        env
    };
    // The first run takes the lock, then waits on an endpoint that never answers.
    let silent = silent_endpoint();
    let first = crate::support::deployer_command(sandbox.dir(), &["down", "--stack-name", stack], &env(&silent))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = Guard(first);
    let started = Instant::now();
    while silent.connections() == 0 {
        assert!(first.0.try_wait().unwrap().is_none(), "the first `down` ended before calling AWS");
        // It first builds and runs the app (a cargo build): slow on a busy machine.
        assert!(started.elapsed() < Duration::from_mins(5), "the first `down` never called AWS");
        std::thread::sleep(Duration::from_millis(20));
    }

    let absent = error_endpoint("400 Bad Request", "ValidationError", "Stack with id cli-locked does not exist");
    let second = deployer(sandbox.dir(), &["down", "--stack-name", stack], &env(&absent));
    assert_eq!(second.code, Some(1), "{}", second.all());
    let refusal = format!("another deployment of stack {stack} is running on this machine (pid {})", first.0.id());
    assert!(second.stderr.contains(&refusal), "expected {refusal:?}:\n{}", second.all());
    assert_eq!(absent.connections(), 0, "the refused run called AWS:\n{}", second.all());

    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let third = deployer(sandbox.dir(), &["down", "--stack-name", stack], &env(&absent));
    assert!(third.ok, "the lock outlived its killed holder:\n{}", third.all());
    assert!(third.stderr.contains(&format!("{stack}: does not exist, nothing to delete")), "{}", third.all());
}

#[test]
fn throttling_is_retried_with_backoff_visibly_then_reported() {
    let env = [
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIATHROTTLED0000000".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "throttled-secret".to_owned()),
        ("AWS_ENDPOINT_URL", error_endpoint("400 Bad Request", "Throttling", "Rate exceeded").url),
    ];
    let sandbox = Sandbox::new();
    let started = std::time::Instant::now();
    let run = sandbox.bare(&["down", "--stack-name", "cli-throttled"], &env);
    let took = started.elapsed();
    assert_eq!(run.code, Some(1), "{}", run.all());
    for attempt in 2..=5 {
        let line = format!("retrying CloudFormation.DescribeStacks (attempt {attempt} of 5)");
        assert!(run.stderr.contains(&line), "no `{line}`:\n{}", run.all());
    }
    assert!(run.stderr.contains("Throttling: Rate exceeded"), "{}", run.all());
    // Four waits of exponential backoff with jitter: not a tight loop.
    assert!(took >= std::time::Duration::from_millis(500), "5 attempts in {took:?}");
}

/// `up` with functions to build, on a machine that has no `cargo-zigbuild` and cannot install it, says so before it
/// asks AWS anything (no region or credentials here); `synth` on the same machine needs only what builds the app
/// for this machine (cargo, rustc and the system's linker), not the Lambda toolchain.
///
/// `PATH` holds one folder with only `cargo`, `rustc` and the linker (`cc`, `ld`) in it: not the folder cargo lives
/// in (`~/.cargo/bin`, where `cargo install cargo-zigbuild` puts it), not `/usr/bin` (a system package).
#[test]
fn a_toolchain_that_cannot_be_installed_says_how_to_install_it() {
    let sandbox = Sandbox::new();
    // An empty target folder: nothing is packaged yet, so `up` has functions to build.
    let target = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    for tool in ["cargo", "rustc", "cc", "ld"] {
        std::os::unix::fs::symlink(which(tool), bin.path().join(tool)).unwrap();
    }
    let run = |args: &[&str]| -> Run {
        crate::support::deployer_command(sandbox.dir(), args, &bare_env(sandbox.home.path()))
            .env("PATH", bin.path())
            .env("DEPLOYER_PYTHON", "/bin/false")
            .env("CARGO_TARGET_DIR", target.path())
            .output()
            .unwrap()
            .into()
    };
    let synth = run(&["synth"]);
    assert!(synth.ok, "synth needs no toolchain: {}", synth.all());
    let up = run(&["up", "--stack-name", "cli-no-toolchain"]);
    assert_eq!(up.code, Some(1), "{}", up.all());
    assert!(up.stderr.contains("`cargo-zigbuild` is not available"), "{}", up.all());
    assert!(up.stderr.contains("installing them failed"), "{}", up.all());
    assert!(up.stderr.contains("python3 -m pip install cargo-zigbuild"), "{}", up.all());
}
