//! Bad input on the command line gets a clear answer and a non-zero exit, before anything is built or called.

use crate::support::{deployer, workspace_root};

/// An environment with no AWS configuration at all.
fn bare_env(home: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", home.display().to_string()),
        ("AWS_CONFIG_FILE", home.join("none").display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", home.join("none").display().to_string()),
        ("AWS_REGION", String::new()),
        ("AWS_DEFAULT_REGION", String::new()),
        ("AWS_ACCESS_KEY_ID", String::new()),
        ("AWS_SECRET_ACCESS_KEY", String::new()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

#[test]
fn missing_region_says_how_to_set_one() {
    let home = tempfile::tempdir().unwrap();
    let run = deployer(&workspace_root(), &["down"], &bare_env(home.path()));
    assert!(!run.ok);
    assert!(run.stderr.contains("no AWS region is set"), "{}", run.all());
    assert!(run.stderr.contains("--region"), "{}", run.all());
}

#[test]
fn missing_credentials_say_how_to_configure_them() {
    let home = tempfile::tempdir().unwrap();
    let mut env = bare_env(home.path());
    env.push(("AWS_REGION", "eu-west-1".into()));
    let run = deployer(&workspace_root(), &["down"], &env);
    assert!(!run.ok);
    assert!(run.stderr.contains("no usable AWS credentials"), "{}", run.all());
    assert!(run.stderr.contains("aws configure"), "{}", run.all());
}

#[test]
fn an_arch_typo_lists_the_valid_values() {
    let run = deployer(&workspace_root(), &["synth", "--arch", "amd64"], &[]);
    assert!(!run.ok);
    assert!(run.stderr.contains("unknown architecture `amd64`: use `arm64` or `x86_64`"), "{}", run.all());
}

#[test]
fn an_invalid_stack_name_is_refused_with_the_rule() {
    let run = deployer(&workspace_root(), &["down", "--stack-name", "my_stack!"], &[]);
    assert!(!run.ok);
    assert!(run.stderr.contains("is not a valid stack name"), "{}", run.all());
}

#[test]
fn a_payload_file_that_does_not_exist_is_named() {
    let run = deployer(&workspace_root(), &["invoke", "--payload", "@/no/such/payload.json"], &[]);
    assert!(!run.ok);
    assert!(run.stderr.contains("cannot read the payload file /no/such/payload.json"), "{}", run.all());
}

#[test]
fn a_payload_that_is_not_json_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload.json");
    std::fs::write(&file, "values: [1, 2]").unwrap();
    let run = deployer(&workspace_root(), &["invoke", "--payload", &format!("@{}", file.display())], &[]);
    assert!(!run.ok);
    assert!(run.stderr.contains("the payload is not valid JSON"), "{}", run.all());
}

/// Serves every request on a loopback port with CloudFormation's answer to an expired session token.
fn expired_token_endpoint() -> String {
    error_endpoint("400 Bad Request", "ExpiredToken", "The security token included in the request is expired")
}

/// Serves every request on a loopback port with one CloudFormation (awsQuery) error.
fn error_endpoint(status: &'static str, code: &'static str, message: &'static str) -> String {
    use std::io::{BufRead as _, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
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
    url
}

#[test]
fn expired_credentials_say_to_renew_them() {
    let home = tempfile::tempdir().unwrap();
    let mut env = bare_env(home.path());
    env.extend([
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "ASIAEXPIREDEXAMPLE00".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "expired-secret-never-printed".to_owned()),
        ("AWS_SESSION_TOKEN", "expired-session".to_owned()),
        ("AWS_ENDPOINT_URL", expired_token_endpoint()),
    ]);
    // Its own stack name: `down` locks the stack, and the other tests here run `down` on the default one.
    let run = deployer(&workspace_root(), &["down", "--stack-name", "expired-credentials"], &env);
    assert!(!run.ok);
    assert!(run.stderr.contains("no usable AWS credentials"), "{}", run.all());
    assert!(run.stderr.contains("ExpiredToken"), "{}", run.all());
    assert!(run.stderr.contains("aws sso login"), "{}", run.all());
    assert!(!run.all().contains("expired-secret-never-printed"), "the secret key was printed");
}

#[test]
fn throttling_is_retried_with_backoff_visibly_then_reported() {
    let home = tempfile::tempdir().unwrap();
    let mut env = bare_env(home.path());
    env.extend([
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIATHROTTLED0000000".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "throttled-secret".to_owned()),
        ("AWS_ENDPOINT_URL", error_endpoint("400 Bad Request", "Throttling", "Rate exceeded")),
    ]);
    let started = std::time::Instant::now();
    let run = deployer(&workspace_root(), &["down", "--stack-name", "throttled"], &env);
    let took = started.elapsed();
    assert!(!run.ok);
    for attempt in 2..=5 {
        let line = format!("retrying CloudFormation.DescribeStacks (attempt {attempt} of 5)");
        assert!(run.stderr.contains(&line), "no `{line}`:\n{}", run.all());
    }
    assert!(run.stderr.contains("Throttling: Rate exceeded"), "{}", run.all());
    // Four waits of exponential backoff with jitter: not a tight loop.
    assert!(took >= std::time::Duration::from_millis(500), "5 attempts in {took:?}");
}

/// `up` with functions to build, on a machine that has no `cargo-zigbuild` and cannot install it, says so before it
/// asks AWS anything (no region or credentials here); `synth` on the same machine needs no toolchain at all.
#[test]
fn a_toolchain_that_cannot_be_installed_says_how_to_install_it() {
    let work = tempfile::tempdir().unwrap();
    crate::support::copy_workspace(work.path());
    // An empty target folder: nothing is packaged yet, so `up` has functions to build.
    let target = tempfile::tempdir().unwrap();
    // Only the system and cargo on PATH: no cargo-zigbuild anywhere, and a Python that cannot make a virtualenv.
    let cargo_bin = std::env::var_os("CARGO").map(std::path::PathBuf::from).and_then(|c| c.parent().map(Into::into));
    let mut paths = vec![std::path::PathBuf::from("/usr/bin"), std::path::PathBuf::from("/bin")];
    paths.extend(cargo_bin);
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        crate::support::deployer_command(work.path(), args, &bare_env(home.path()))
            .env("PATH", std::env::join_paths(&paths).unwrap())
            .env("DEPLOYER_PYTHON", "/bin/false")
            .env("CARGO_TARGET_DIR", target.path())
            .output()
            .unwrap()
    };
    let synth = run(&["synth"]);
    assert!(synth.status.success(), "synth needs no toolchain: {}", String::from_utf8_lossy(&synth.stderr));
    let output = run(&["up"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("`cargo-zigbuild` is not available"), "{stderr}");
    assert!(stderr.contains("installing them failed"), "{stderr}");
    assert!(stderr.contains("python3 -m pip install cargo-zigbuild"), "{stderr}");
}
