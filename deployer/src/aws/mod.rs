//! The one layer that talks to AWS: configuration, clients and error conversion.

pub(crate) mod retry;

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

use crate::error::{DeployerError, Result};

/// How long one attempt of a CloudFormation call may take: its calls are small queries, and without a bound a
/// connection that stalls after connecting would hang `up` past every limit of its own (the SDK only bounds the
/// connect). A timed-out attempt is retried like a transient error.
pub(crate) const CFN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one attempt of an S3 call may take: an upload of a few MiB on a slow link included.
pub(crate) const S3_ATTEMPT_TIMEOUT: Duration = Duration::from_mins(5);
/// How long one attempt of a Lambda call may take: a synchronous invoke of a durable function waits for the whole
/// execution, up to 15 minutes.
pub(crate) const LAMBDA_ATTEMPT_TIMEOUT: Duration = Duration::from_mins(16);
/// How long one attempt of a CloudWatch Logs call may take: a page of log events.
pub(crate) const LOGS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one attempt of an IAM call may take: the policy simulator answers in well under a second.
pub(crate) const IAM_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The SDK's own connect timeout, kept when the attempt timeout is set.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// How every client retries: standard mode (exponential backoff with jitter, throttling and transient errors,
/// a broken connection included), [`retry::MAX_ATTEMPTS`] attempts.
pub(crate) fn retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard().with_max_attempts(retry::MAX_ATTEMPTS)
}

fn attempt_timeout(limit: Duration) -> TimeoutConfig {
    TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).operation_attempt_timeout(limit).build()
}

/// Where and as whom to talk to AWS.
#[derive(Debug, Clone, Default)]
pub(crate) struct AwsOptions {
    /// Named profile (`--profile`), else the standard chain.
    pub profile: Option<String>,
    /// Region (`--region`), else the standard chain.
    pub region: Option<String>,
    /// An endpoint that serves every service (the local target, or `AWS_ENDPOINT_URL` handled by the SDK).
    pub endpoint_url: Option<String>,
    /// Static credentials (the local target's dummy keys).
    pub static_credentials: Option<(String, String)>,
}

/// Configured clients.
#[derive(Debug, Clone)]
pub(crate) struct Aws {
    /// The shared SDK configuration.
    pub config: SdkConfig,
    /// CloudFormation.
    pub cfn: aws_sdk_cloudformation::Client,
    /// S3 (path-style when a custom endpoint is set, as emulators need).
    pub s3: aws_sdk_s3::Client,
    /// Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// IAM: the policy simulator of the pre-flight check.
    pub iam: aws_sdk_iam::Client,
    /// The region in use.
    pub region: String,
}

/// Who the credentials belong to (`sts:GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The 12-digit account id.
    pub account: String,
    /// The caller's ARN: a user, an assumed role's session, the root user.
    pub arn: String,
}

impl Caller {
    /// The partition of the caller's ARN (`aws`, `aws-cn`, `aws-us-gov`).
    pub(crate) fn partition(&self) -> &str {
        self.arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws")
    }

    /// This caller's partition and account, in `region`.
    pub(crate) fn place(&self, region: &str) -> crate::bootstrap::execution_policy::Place {
        crate::bootstrap::execution_policy::Place {
            partition: self.partition().to_owned(),
            region: region.to_owned(),
            account: self.account.clone(),
        }
    }
}

/// The user's credentials from the standard chain (or `profile`), for functions on the local target to call the
/// real AWS services; `None` when there are none (or they take more than a few seconds to find).
pub(crate) async fn user_credentials(profile: Option<&str>) -> Option<local::service::Credentials> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    let config = loader.load().await;
    let provider = config.credentials_provider()?;
    let found = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        aws_credential_types::provider::ProvideCredentials::provide_credentials(&provider),
    )
    .await
    .ok()?
    .ok()?;
    Some(local::service::Credentials {
        access_key_id: found.access_key_id().to_owned(),
        secret_access_key: found.secret_access_key().to_owned(),
        session_token: found.session_token().map(str::to_owned),
    })
}

impl Aws {
    /// Loads configuration through the standard chain and checks that a region and credentials exist.
    pub(crate) async fn connect(options: &AwsOptions) -> Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((id, secret)) = &options.static_credentials {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                id,
                secret,
                None,
                None,
                "deployer-local",
            ));
        }
        let config = loader.load().await;
        let region = config.region().map(ToString::to_string).ok_or_else(|| {
            DeployerError::AwsConfig(
                "no AWS region is set: pass `--region <region>`, set AWS_REGION, or add `region = ...` to your \
                 profile in ~/.aws/config"
                    .into(),
            )
        })?;
        let Some(provider) = config.credentials_provider() else {
            return Err(no_credentials("no credentials provider is configured"));
        };
        aws_credential_types::provider::ProvideCredentials::provide_credentials(&provider)
            .await
            .map_err(|e| no_credentials(&one_line(&e)))?;
        let custom_endpoint = options.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(custom_endpoint)
            .timeout_config(attempt_timeout(S3_ATTEMPT_TIMEOUT))
            .interceptor(retry::RetryNotice)
            .build();
        let cfn_config = aws_sdk_cloudformation::config::Builder::from(&config)
            .timeout_config(attempt_timeout(CFN_ATTEMPT_TIMEOUT))
            .interceptor(retry::RetryNotice)
            .build();
        let lambda_config = aws_sdk_lambda::config::Builder::from(&config)
            .timeout_config(attempt_timeout(LAMBDA_ATTEMPT_TIMEOUT))
            .interceptor(retry::RetryNotice)
            .build();
        let logs_config = aws_sdk_cloudwatchlogs::config::Builder::from(&config)
            .timeout_config(attempt_timeout(LOGS_ATTEMPT_TIMEOUT))
            .interceptor(retry::RetryNotice)
            .build();
        let iam_config = aws_sdk_iam::config::Builder::from(&config)
            .timeout_config(attempt_timeout(IAM_ATTEMPT_TIMEOUT))
            .interceptor(retry::RetryNotice)
            .build();
        Ok(Self {
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs_config),
            iam: aws_sdk_iam::Client::from_conf(iam_config),
            cfn: aws_sdk_cloudformation::Client::from_conf(cfn_config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            lambda: aws_sdk_lambda::Client::from_conf(lambda_config),
            config,
            region,
        })
    }

    /// The account the credentials belong to.
    pub(crate) async fn account_id(&self) -> Result<String> {
        Ok(self.caller().await?.account)
    }

    /// Who the credentials belong to.
    pub(crate) async fn caller(&self) -> Result<Caller> {
        let sts = aws_sdk_sts::Client::new(&self.config);
        let identity = sts.get_caller_identity().send().await.map_err(|e| {
            let text = service_message(&e);
            if is_credentials_rejected(&text) {
                no_credentials(&text)
            } else {
                DeployerError::Aws { operation: "STS.GetCallerIdentity", message: text }
            }
        })?;
        match (identity.account(), identity.arn()) {
            (Some(account), Some(arn)) => Ok(Caller { account: account.to_owned(), arn: arn.to_owned() }),
            _ => Err(DeployerError::Aws {
                operation: "STS.GetCallerIdentity",
                message: "no account or ARN in the answer".into(),
            }),
        }
    }
}

#[cfg(test)]
impl Aws {
    /// Clients that reach nothing, for tests to replace the ones they mock.
    pub(crate) fn unconfigured(region: &str) -> Self {
        use aws_sdk_lambda::config::BehaviorVersion;
        Self {
            config: SdkConfig::builder().build(),
            cfn: aws_sdk_cloudformation::Client::from_conf(
                aws_sdk_cloudformation::Config::builder().behavior_version(BehaviorVersion::latest()).build(),
            ),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::Config::builder().behavior_version(BehaviorVersion::latest()).build(),
            ),
            lambda: aws_sdk_lambda::Client::from_conf(
                aws_sdk_lambda::Config::builder().behavior_version(BehaviorVersion::latest()).build(),
            ),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::Config::builder().behavior_version(BehaviorVersion::latest()).build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::Config::builder().behavior_version(BehaviorVersion::latest()).build(),
            ),
            region: region.to_owned(),
        }
    }
}

/// An error and its causes on one line (`a: b: c`), the chain's own line breaks folded: error messages are read in
/// logs and JSON lines, where a line break splits a message.
fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let more = next.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = next.source();
    }
    text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

fn no_credentials(detail: &str) -> DeployerError {
    DeployerError::AwsConfig(format!(
        "no usable AWS credentials ({detail}): run `aws configure` or `aws sso login`, pass `--profile <name>`, or set \
         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    ))
}

/// The service's error code and message, or the whole error chain for transport errors.
pub(crate) fn service_message<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error {
        SdkError::ServiceError(inner) => {
            let err = inner.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => one_line(error),
            }
        }
        _ => one_line(error),
    }
}

/// Converts an SDK error into the deployer's, naming the operation.
pub(crate) fn aws_error<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> DeployerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |error| api_error(operation, service_message(&error))
}

/// The error for a failed API call: [`DeployerError::Aws`], or the credentials error with its remedy when the
/// service refused the credentials themselves.
pub(crate) fn api_error(operation: &'static str, message: String) -> DeployerError {
    if is_credentials_rejected(&message) {
        no_credentials(&format!("{operation}: {message}"))
    } else {
        DeployerError::Aws { operation, message }
    }
}

/// Whether the service refused the credentials themselves (expired session, unknown or revoked key), which no
/// retry fixes: the user has to renew them.
fn is_credentials_rejected(message: &str) -> bool {
    const CODES: [&str; 5] = [
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "RequestExpired",
    ];
    let code = message.split(':').next().unwrap_or_default().trim();
    CODES.contains(&code) || message.contains("security token included in the request is expired")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use aws_smithy_types::error::display::DisplayErrorContext;

    use super::*;

    /// How long a call to an endpoint that accepts connections and never answers took to fail, and its error
    /// (time is paused: tokio advances it whenever everything waits).
    async fn time_to_fail<T, E: std::error::Error + Send + Sync + 'static>(
        call: impl std::future::Future<Output = std::result::Result<T, E>>,
    ) -> (Duration, String) {
        let started = tokio::time::Instant::now();
        let answer = tokio::time::timeout(Duration::from_hours(10), call).await.expect("the call hung");
        let Err(error) = answer else { panic!("a silent endpoint answered") };
        (started.elapsed(), DisplayErrorContext(error).to_string())
    }

    /// Each service's calls to an endpoint that accepts connections and never answers: every attempt is abandoned
    /// after that service's bound (CloudFormation 30 s, S3 5 min, Lambda 16 min) and the call fails after its
    /// retries instead of hanging. The upper bound tells the services' bounds apart: each retry waits at most the
    /// standard mode's 20 s backoff.
    #[tokio::test(start_paused = true)]
    async fn a_call_to_an_endpoint_that_never_answers_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let options = AwsOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(url),
            static_credentials: Some(("AKIDEXAMPLE".into(), "secret".into())),
            ..AwsOptions::default()
        };
        let aws = Aws::connect(&options).await.unwrap();
        let cfn = time_to_fail(aws.cfn.describe_stacks().stack_name("app").send()).await;
        let s3 = time_to_fail(aws.s3.list_objects_v2().bucket("assets").send()).await;
        let lambda = time_to_fail(aws.lambda.invoke().function_name("f").send()).await;
        let backoff = Duration::from_secs(20) * (retry::MAX_ATTEMPTS - 1);
        // The README's figures, not the constants: the test checks what users are told.
        let bounds = [
            ("CloudFormation", cfn, Duration::from_secs(30)),
            ("S3", s3, Duration::from_mins(5)),
            ("Lambda", lambda, Duration::from_mins(16)),
        ];
        for (service, (waited, error), limit) in bounds {
            assert!(error.to_lowercase().contains("timeout"), "{service}: {error}");
            let least = limit * retry::MAX_ATTEMPTS;
            assert!(waited >= least && waited <= least + backoff, "{service}: failed after {waited:?}, not {least:?}");
        }
        held.abort();
    }
}
