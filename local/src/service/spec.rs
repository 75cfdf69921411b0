//! How a function version runs: its binary, limits and the environment Lambda gives a process (with the local
//! endpoint for the Lambda and durable APIs, and the user's credentials and endpoint for every other service).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ServiceOptions;
use crate::deployment::{Deployment, ResolvedFunction};
use crate::runtime::RunSpec;

/// AWS credentials passed to functions.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<String>,
}

impl Credentials {
    /// A short digest that changes when the credentials do, safe to write down.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        for part in [&self.access_key_id, &self.secret_access_key] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(self.session_token.as_deref().unwrap_or_default().as_bytes());
        hex::encode(hasher.finalize()).chars().take(16).collect()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log line.
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// Placeholders: the local Lambda endpoint accepts any signature, and a function calling another AWS service
/// with them gets that service's error about unknown credentials.
const PLACEHOLDER_KEY: &str = "AKIALOCALTARGET00000";
const PLACEHOLDER_SECRET: &str = "local-target-not-a-secret";

pub(super) fn run_spec(deployment: &Deployment, target: &ResolvedFunction<'_>, options: &ServiceOptions) -> RunSpec {
    let name = &target.function.name;
    let mut env = target.config.env.clone();
    let region = deployment.region.clone();
    let (key, secret, token) = match &options.credentials {
        Some(c) => (c.access_key_id.clone(), c.secret_access_key.clone(), c.session_token.clone()),
        None => (PLACEHOLDER_KEY.to_owned(), PLACEHOLDER_SECRET.to_owned(), Some("local-target".to_owned())),
    };
    let log_group = if target.config.log_group.is_empty() {
        format!("/aws/lambda/{name}")
    } else {
        target.config.log_group.clone()
    };
    let lambda_env = [
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", target.version.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", target.config.memory_mb.to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", log_group),
        ("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/[{}]", target.version)),
        ("AWS_LAMBDA_LOG_FORMAT", target.config.log_format.clone()),
        ("AWS_REGION", region.clone()),
        ("AWS_DEFAULT_REGION", region),
        ("AWS_ACCESS_KEY_ID", key),
        ("AWS_SECRET_ACCESS_KEY", secret),
        // Only the Lambda service (Invoke, the durable API) is local; every other service is the real one.
        ("AWS_ENDPOINT_URL_LAMBDA", options.durable_endpoint.clone().unwrap_or_else(|| options.endpoint.clone())),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("LAMBDA_TASK_ROOT", target.config.code.parent().map(|p| p.display().to_string()).unwrap_or_default()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
    ];
    for (key, value) in lambda_env {
        env.insert(key.to_owned(), value);
    }
    if let Some(token) = token {
        env.insert("AWS_SESSION_TOKEN".to_owned(), token);
    }
    // Every service but Lambda, whose own variable above wins: the SDKs prefer a service's endpoint to the global one.
    if let Some(url) = &options.aws_endpoint_url {
        env.insert("AWS_ENDPOINT_URL".to_owned(), url.clone());
    }
    for inherited in ["SSL_CERT_FILE", "SSL_CERT_DIR", "RUST_LOG", "RUST_BACKTRACE"] {
        if let Some(value) = std::env::var_os(inherited).and_then(|v| v.into_string().ok()) {
            env.entry(inherited.to_owned()).or_insert(value);
        }
    }
    let function_arn = if target.version == "$LATEST" {
        deployment.function_arn(name)
    } else {
        deployment.qualified_arn(name, &target.version)
    };
    RunSpec {
        function: name.clone(),
        version: target.version.clone(),
        function_arn,
        code: target.config.code.clone(),
        env,
        timeout: Duration::from_secs(target.config.timeout_s.max(1)),
        memory_mb: target.config.memory_mb,
        log: options.logs_dir.join(format!("{name}.log")),
        pid_file: options.pid_file.clone(),
    }
}
