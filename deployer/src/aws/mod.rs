//! The one layer that talks to AWS: configuration, clients and error conversion.

pub mod retry;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::error::{DeployerError, Result};

/// Where and as whom to talk to AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
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
pub struct Aws {
    /// The shared SDK configuration.
    pub config: SdkConfig,
    /// CloudFormation.
    pub cfn: aws_sdk_cloudformation::Client,
    /// S3 (path-style when a custom endpoint is set, as emulators need).
    pub s3: aws_sdk_s3::Client,
    /// Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// The region in use.
    pub region: String,
}

/// The user's credentials from the standard chain (or `profile`), for functions on the local target to call the
/// real AWS services; `None` when there are none (or they take more than a few seconds to find).
pub async fn user_credentials(profile: Option<&str>) -> Option<local::service::Credentials> {
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
    pub async fn connect(options: &AwsOptions) -> Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(retry::MAX_ATTEMPTS));
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
            .map_err(|e| no_credentials(&DisplayErrorContext(&e).to_string()))?;
        let custom_endpoint = options.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(custom_endpoint)
            .interceptor(retry::RetryNotice)
            .build();
        let cfn_config = aws_sdk_cloudformation::config::Builder::from(&config).interceptor(retry::RetryNotice).build();
        let lambda_config = aws_sdk_lambda::config::Builder::from(&config).interceptor(retry::RetryNotice).build();
        Ok(Self {
            cfn: aws_sdk_cloudformation::Client::from_conf(cfn_config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            lambda: aws_sdk_lambda::Client::from_conf(lambda_config),
            config,
            region,
        })
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String> {
        let sts = aws_sdk_sts::Client::new(&self.config);
        let identity = sts.get_caller_identity().send().await.map_err(|e| {
            let text = service_message(&e);
            if is_credentials_rejected(&text) {
                no_credentials(&text)
            } else {
                DeployerError::Aws { operation: "STS.GetCallerIdentity", message: text }
            }
        })?;
        identity.account().map(str::to_owned).ok_or_else(|| DeployerError::Aws {
            operation: "STS.GetCallerIdentity",
            message: "no account in the answer".into(),
        })
    }
}

fn no_credentials(detail: &str) -> DeployerError {
    DeployerError::AwsConfig(format!(
        "no usable AWS credentials ({detail}): run `aws configure` or `aws sso login`, pass `--profile <name>`, or set \
         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    ))
}

/// The service's error code and message, or the whole error chain for transport errors.
pub fn service_message<E, R>(error: &SdkError<E, R>) -> String
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
                _ => DisplayErrorContext(error).to_string(),
            }
        }
        _ => DisplayErrorContext(error).to_string(),
    }
}

/// Converts an SDK error into the deployer's, naming the operation.
pub fn aws_error<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> DeployerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |error| api_error(operation, service_message(&error))
}

/// The error for a failed API call: [`DeployerError::Aws`], or the credentials error with its remedy when the
/// service refused the credentials themselves.
pub fn api_error(operation: &'static str, message: String) -> DeployerError {
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
