//! The AWS configuration the durable SDK's checkpoint client is built
//! from: the SDK's defaults, with the trust store read from one CA bundle.
//!
//! The SDK's default HTTPS client loads the system trust store through
//! `rustls-native-certs`, which reads the CA bundle *and* every file of the
//! certificate folder: on Debian-like systems about 290 files, opened and
//! parsed during the first checkpoint, most of a cold start. The bundle
//! alone holds the same roots, so that is what this client trusts.
//! `SSL_CERT_FILE` or `SSL_CERT_DIR`, when set, keep their usual meaning:
//! the SDK's own loader honours them.

use std::path::{Path, PathBuf};

use aws_durable_execution_sdk::SdkConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig};

/// Where systems keep their CA bundle, most likely first: Amazon Linux 2023
/// (Lambda's `provided.al2023`), Debian and Ubuntu, then Alpine and others.
pub const CA_BUNDLES: [&str; 3] =
    ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem"];

/// The CA bundle to trust, unless the environment (`lookup`) chooses the
/// trust store itself or no bundle exists (`exists`).
pub fn ca_bundle(lookup: impl Fn(&str) -> Option<String>, exists: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    if lookup("SSL_CERT_FILE").is_some() || lookup("SSL_CERT_DIR").is_some() {
        return None;
    }
    CA_BUNDLES.iter().map(PathBuf::from).find(|path| exists(path))
}

/// The SDK's default configuration with an HTTPS client that trusts the
/// system's CA bundle; `None` (use the SDK's defaults unchanged) when there
/// is no bundle to read or it holds no certificate.
pub async fn sdk_config() -> Option<SdkConfig> {
    let bundle = ca_bundle(|name| std::env::var(name).ok(), Path::is_file)?;
    let pem = std::fs::read(&bundle).ok()?;
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(pem);
    let context = TlsContext::builder().with_trust_store(trust).build().ok()?;
    // The SDK's default client, built the same way, apart from the trust store.
    let http = Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
            .tls_context(context.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    Some(aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).load().await)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{CA_BUNDLES, ca_bundle};

    #[test]
    fn the_first_existing_bundle_is_used_unless_the_environment_chooses() {
        let none = |_: &str| None;
        assert_eq!(ca_bundle(none, |_| true).as_deref(), Some(Path::new(CA_BUNDLES[0])));
        let debian = |p: &Path| p == Path::new("/etc/ssl/certs/ca-certificates.crt");
        assert_eq!(ca_bundle(none, debian).as_deref(), Some(Path::new(CA_BUNDLES[1])));
        assert_eq!(ca_bundle(none, |_| false), None);
        for variable in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
            let set = |name: &str| (name == variable).then(|| "/custom".to_owned());
            assert_eq!(ca_bundle(set, |_| true), None, "{variable} set");
        }
    }
}
