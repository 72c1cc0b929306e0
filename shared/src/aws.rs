//! AWS SDK set-up shared by the DynamoDB store, the SES mailer and the Secrets Manager key store:
//! one `SdkConfig` per process (per Lambda cold start), with tight timeouts so that an
//! unreachable endpoint becomes a quick 503 rather than a hung request, and the SDK's standard
//! retries for throttling. A binary built with none of those clients (`shared`'s `aws` feature
//! off: the functions that touch no store and read no secret) has no SDK at all.

#[cfg(feature = "aws")]
pub use sdk::{SdkConfig, sdk_config};

/// Without the `aws` feature there is no SDK configuration: no value of this type exists, so
/// every adapter that would need one is unreachable.
#[cfg(not(feature = "aws"))]
#[derive(Debug)]
pub enum SdkConfig {}

/// Without the `aws` feature: asking for the SDK is a start-up error, which a correct build
/// never reaches (App::build asks only when an AWS client is compiled in).
#[cfg(not(feature = "aws"))]
pub async fn sdk_config() -> anyhow::Result<SdkConfig> {
    anyhow::bail!(
        "this binary is built without the AWS SDK (cargo features `dynamodb`, `ses`, `secrets-manager` of shared)"
    )
}

#[cfg(feature = "dynamodb")]
pub use transient::is_transient;

#[cfg(feature = "aws")]
mod sdk {
    use std::time::Duration;

    use aws_config::BehaviorVersion;
    pub use aws_config::SdkConfig;
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    use aws_smithy_runtime_api::client::http::SharedHttpClient;

    /// The root CAs of AWS's public endpoints (Amazon Trust Services: Amazon Root CA 1 to 4, and the
    /// Starfield Services G2 root that cross-signs them). See [`https_client`].
    pub(super) const AWS_ROOT_CAS: &str = include_str!("../data/aws-root-cas.pem");

    /// The SDK's HTTPS client, trusting AWS's own root CAs only. The default client reads the whole
    /// system trust store (on Debian, one bundle and some 150 files) when a client is created,
    /// which cost each function about 5 ms of its cold start; five certificates cost nothing, and a
    /// narrower trust is no loss for a service that only ever calls AWS. (Emulators are plain HTTP.)
    pub(super) fn https_client() -> anyhow::Result<SharedHttpClient> {
        let trust = TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(AWS_ROOT_CAS.as_bytes());
        let context = TlsContext::builder().with_trust_store(trust).build()?;
        Ok(aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
            .tls_context(context)
            .build_https())
    }

    /// Loads region, credentials and endpoints the usual way: environment (`AWS_ENDPOINT_URL` and the
    /// per-service `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SESV2` point at an emulator),
    /// then the Lambda execution role.
    pub async fn sdk_config() -> anyhow::Result<SdkConfig> {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(1))
            .operation_attempt_timeout(Duration::from_secs(2))
            .operation_timeout(Duration::from_secs(5))
            .build();
        Ok(aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client()?)
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .load()
            .await)
    }
}

#[cfg(feature = "dynamodb")]
mod transient {
    use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

    /// Service error codes that mean "try again later" rather than "this request is wrong".
    const TRANSIENT_CODES: &[&str] = &[
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "LimitExceededException",
    ];

    /// Whether an SDK failure is transient: throttled, timed out, unreachable, or a 5xx.
    pub fn is_transient<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
        match error {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => service
                .err()
                .code()
                .is_some_and(|code| TRANSIENT_CODES.contains(&code)),
            _ => false,
        }
    }
}

#[cfg(all(test, feature = "dynamodb"))]
mod tests {
    use aws_config::BehaviorVersion;
    use aws_config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::{Credentials, Region};
    use aws_sdk_dynamodb::error::SdkError;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::is_transient;
    use super::sdk::{AWS_ROOT_CAS, https_client};

    #[test]
    fn the_aws_root_cas_are_five_valid_trust_anchors() {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(AWS_ROOT_CAS.as_bytes()) {
            roots.add(cert.expect("PEM")).expect("a trust anchor");
        }
        assert_eq!(roots.len(), 5);
    }

    #[tokio::test]
    async fn an_https_request_builds_the_tls_connector_and_fails_only_on_the_network() {
        // The TLS connector (and its trust store) is built on the first HTTPS request; a bad
        // certificate would panic there. Nothing listens on port 1, so the request must end in a
        // dispatch failure, which is_transient turns into a 503.
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client().unwrap())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url("https://127.0.0.1:1")
            .retry_config(RetryConfig::disabled())
            .load()
            .await;
        let error = aws_sdk_dynamodb::Client::new(&sdk)
            .describe_table()
            .table_name("t")
            .send()
            .await
            .unwrap_err();
        assert!(matches!(error, SdkError::DispatchFailure(_)), "{error:?}");
        assert!(is_transient(&error));
    }
}
