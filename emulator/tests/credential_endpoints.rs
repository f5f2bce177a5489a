//! The credential endpoint look-alikes against clients nobody here wrote: aws-config's own
//! IMDS, container and web identity credential providers, and the STS deserializer behind
//! the last one. Then the Bedrock emulator accepts exactly the calls signed with what they
//! handed out.

mod common;

use aws_config::ecs::EcsCredentialsProvider;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_bedrockruntime::config::Region;
use common::{retry_fast, runtime_builder};
use emulator::credential_endpoints::{
    CONTAINER_CREDENTIALS_PATH, DEFAULT_ROLE_ARN, DEFAULT_WEB_IDENTITY_TOKEN,
};
use emulator::{
    AuthKind, CredentialEndpoints, CredentialEndpointsConfig, Emulator, EmulatorConfig,
    EndpointKind, ImdsMode, RunningCredentialEndpoints, TemporaryCredentials,
};
use std::time::{Duration, UNIX_EPOCH};

fn endpoints(config: CredentialEndpointsConfig) -> RunningCredentialEndpoints {
    CredentialEndpoints::start_background(config).expect("credential endpoints start")
}

fn provider_config() -> ProviderConfig {
    ProviderConfig::empty()
        .with_region(Some(Region::new("us-east-1")))
        .with_retry_config(retry_fast(1))
}

fn imds_provider(url: &str) -> ImdsCredentialsProvider {
    let client = aws_config::imds::Client::builder()
        .configure(&provider_config())
        .endpoint(url)
        .unwrap()
        .max_attempts(1)
        .build();
    ImdsCredentialsProvider::builder()
        .configure(&provider_config())
        .imds_client(client)
        .build()
}

/// Calls Converse on a Bedrock emulator accepting only `expected`, signed with `got`.
async fn converse_signed_with(
    expected: &TemporaryCredentials,
    got: aws_credential_types::Credentials,
) {
    let bedrock = Emulator::start_background(EmulatorConfig::default().with_credentials(expected))
        .expect("emulator starts");
    let client = aws_sdk_bedrockruntime::Client::from_conf(
        runtime_builder(&bedrock).credentials_provider(got).build(),
    );
    client
        .converse()
        .model_id("amazon.nova-micro-v1:0")
        .messages(
            aws_sdk_bedrockruntime::types::Message::builder()
                .role(aws_sdk_bedrockruntime::types::ConversationRole::User)
                .content(aws_sdk_bedrockruntime::types::ContentBlock::Text(
                    "hi".into(),
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("Converse signed with the temporary credentials succeeds");
    assert_eq!(
        bedrock.requests()[0].auth,
        Some(AuthKind::SigV4 {
            access_key_id: expected.access_key_id.clone(),
            session_token: true,
        })
    );
}

#[tokio::test]
async fn imds_v2_serves_the_instance_role_to_the_sdk_provider() {
    let creds = TemporaryCredentials::new("IMDSSDK");
    let server = endpoints(CredentialEndpointsConfig {
        credentials: creds.clone(),
        role_name: "sdk-role".into(),
        ..CredentialEndpointsConfig::default()
    });
    let got = imds_provider(&server.imds_endpoint())
        .provide_credentials()
        .await
        .expect("the SDK's IMDS provider gets the role's credentials");
    assert_eq!(got.access_key_id(), creds.access_key_id);
    assert_eq!(got.secret_access_key(), creds.secret_access_key);
    assert_eq!(got.session_token(), Some(creds.session_token.as_str()));
    assert_eq!(
        got.expiry().unwrap().duration_since(UNIX_EPOCH).unwrap(),
        Duration::from_secs(4_070_908_800),
        "2099-01-01T00:00:00Z"
    );

    // IMDSv2: a token with a TTL first, then the role list and the role, both with the token.
    let seen = server.requests_to(EndpointKind::Imds);
    let lines: Vec<String> = seen.iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/sdk-role",
        ]
    );
    assert!(seen[0]
        .header("x-aws-ec2-metadata-token-ttl-seconds")
        .is_some());
    assert_eq!(
        seen[1].header("x-aws-ec2-metadata-token"),
        Some("<redacted>")
    );
    assert!(seen.iter().all(|r| r.status == 200), "{seen:?}");

    converse_signed_with(&creds, got).await;
}

#[tokio::test]
async fn imds_refusing_tokens_and_imds_v1_requests_are_refused() {
    let server = endpoints(CredentialEndpointsConfig {
        imds: ImdsMode::RefuseTokens,
        ..CredentialEndpointsConfig::default()
    });
    let err = imds_provider(&server.imds_endpoint())
        .provide_credentials()
        .await
        .expect_err("no token, no role");
    // A 403 on the token is a provider error (the SDK's "forbidden" token error), not a
    // connection failure.
    assert!(matches!(err, CredentialsError::ProviderError(_)), "{err:?}");
    assert_eq!(server.requests()[0].status, 403);

    // Plain HTTP, as an IMDSv1 client or a wrong TTL would send it.
    let serving = endpoints(CredentialEndpointsConfig::default());
    let http = Http(serving.url());
    assert_eq!(
        http.send("GET /latest/meta-data/iam/security-credentials/", &[], "")
            .await
            .0,
        401
    );
    assert_eq!(http.send("PUT /latest/api/token", &[], "").await.0, 400);
    assert_eq!(
        http.send(
            "PUT /latest/api/token",
            &[("x-aws-ec2-metadata-token-ttl-seconds", "99999")],
            ""
        )
        .await
        .0,
        400
    );
    let (status, token) = http
        .send(
            "PUT /latest/api/token",
            &[("x-aws-ec2-metadata-token-ttl-seconds", "60")],
            "",
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = http
        .send(
            "GET /latest/meta-data/iam/security-credentials/another-role",
            &[("x-aws-ec2-metadata-token", &token)],
            "",
        )
        .await;
    assert_eq!(status, 404);
}

/// Marks the child process of the environment-reading test below; holds its port.
const CHILD_PORT: &str = "CREDENTIAL_ENDPOINTS_TEST_PORT";
const ENV_TEST: &str = "web_identity_and_container_providers_get_the_temporary_credentials";

/// Web identity and container credentials. Both SDK providers read their endpoints from the
/// process environment only, and changing the environment of a test process (many threads)
/// is undefined behaviour. So the test runs this binary again as a child process, for this
/// test alone, with the variables set on its command; the child starts the endpoints on the
/// port the parent picked. Once with the right container token, once with a wrong one.
#[test]
fn web_identity_and_container_providers_get_the_temporary_credentials() {
    if let Ok(port) = std::env::var(CHILD_PORT) {
        let authorization = std::env::var("AWS_CONTAINER_AUTHORIZATION_TOKEN").unwrap();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(providers_in_child(
                port.parse().unwrap(),
                authorization == "container-secret",
            ));
        return;
    }
    for authorization in ["container-secret", "wrong"] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([ENV_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_PORT, port.to_string())
            .env("AWS_ENDPOINT_URL_STS", &base)
            .env(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("{base}{CONTAINER_CREDENTIALS_PATH}"),
            )
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", authorization)
            .output()
            .expect("the test binary runs again");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{authorization}: {text}");
        assert!(text.contains("1 passed"), "the child ran the test: {text}");
    }
}

async fn providers_in_child(port: u16, right_token: bool) {
    let creds = TemporaryCredentials::new("WEBID");
    let server = endpoints(CredentialEndpointsConfig {
        port,
        credentials: creds.clone(),
        container_authorization: Some("container-secret".into()),
        ..CredentialEndpointsConfig::default()
    });
    let container = || {
        EcsCredentialsProvider::builder()
            .configure(&provider_config())
            .build()
    };
    if !right_token {
        let err = container()
            .provide_credentials()
            .await
            .expect_err("a wrong Authorization header is refused");
        assert_eq!(server.requests().last().unwrap().status, 401, "{err:?}");
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("credential-endpoints");
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("token");
    let bad = dir.join("bad-token");
    std::fs::write(&good, DEFAULT_WEB_IDENTITY_TOKEN).unwrap();
    std::fs::write(&bad, "eyJ.not-the-token.x").unwrap();
    let web_identity = |token_file: &std::path::Path, role_arn: &str| {
        WebIdentityTokenCredentialsProvider::builder()
            .configure(&provider_config())
            .static_configuration(StaticConfiguration {
                web_identity_token_file: token_file.to_owned(),
                role_arn: role_arn.to_string(),
                session_name: "emulator-test-session".into(),
            })
            .build()
    };
    let got = web_identity(&good, DEFAULT_ROLE_ARN)
        .provide_credentials()
        .await
        .expect("STS AssumeRoleWithWebIdentity succeeds");
    assert_eq!(got.access_key_id(), creds.access_key_id);
    assert_eq!(got.secret_access_key(), creds.secret_access_key);
    assert_eq!(got.session_token(), Some(creds.session_token.as_str()));
    assert_eq!(got.account_id().map(|a| a.as_str()), Some("123456789012"));
    let sts = server.requests_to(EndpointKind::Sts);
    assert_eq!(sts.len(), 1, "{sts:?}");
    assert_eq!(sts[0].param("Action"), Some("AssumeRoleWithWebIdentity"));
    assert_eq!(sts[0].param("Version"), Some("2011-06-15"));
    assert_eq!(sts[0].param("RoleArn"), Some(DEFAULT_ROLE_ARN));
    assert_eq!(
        sts[0].param("RoleSessionName"),
        Some("emulator-test-session")
    );
    assert_eq!(sts[0].param("WebIdentityToken"), Some("<redacted>"));
    converse_signed_with(&creds, got).await;

    // A wrong token: the SDK reads the real error shape as InvalidIdentityTokenException.
    let err = web_identity(&bad, DEFAULT_ROLE_ARN)
        .provide_credentials()
        .await
        .expect_err("a wrong token is refused");
    let text = format!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(&err)
    );
    assert!(text.contains("InvalidIdentityToken"), "{text}");
    // A role the identity may not assume.
    let err = web_identity(&good, "arn:aws:iam::123456789012:role/other")
        .provide_credentials()
        .await
        .expect_err("another role is refused");
    let text = format!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(&err)
    );
    assert!(text.contains("AccessDenied"), "{text}");

    // The container provider, with its Authorization header.
    let got = container()
        .provide_credentials()
        .await
        .expect("container credentials");
    assert_eq!(got.access_key_id(), creds.access_key_id);
    let container = server.requests_to(EndpointKind::Container);
    assert_eq!(container.len(), 1);
    assert_eq!(container[0].header("authorization"), Some("<redacted>"));
}

#[tokio::test]
async fn sts_errors_have_the_service_shape() {
    let server = endpoints(CredentialEndpointsConfig::default());
    let http = Http(server.url());
    let form = "application/x-www-form-urlencoded";
    let (status, body) = http
        .send(
            "POST /",
            &[("content-type", form)],
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Femulator-web-identity&RoleSessionName=s&WebIdentityToken=nope",
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.starts_with("<ErrorResponse"), "{body}");
    assert!(body.contains("<Type>Sender</Type>"), "{body}");
    assert!(body.contains("<Code>InvalidIdentityToken</Code>"), "{body}");
    assert!(body.contains("<RequestId>"), "{body}");

    let (status, body) = http
        .send(
            "POST /",
            &[("content-type", form)],
            "Action=GetCallerIdentity&Version=2011-06-15",
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");

    let (status, body) = http
        .send(
            "POST /",
            &[("content-type", form)],
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleSessionName=s&WebIdentityToken=t",
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>ValidationError</Code>"), "{body}");
    assert!(body.contains("'roleArn'"), "{body}");
}

/// A bare HTTP/1.1 client for the requests no SDK would send.
struct Http(String);

impl Http {
    async fn send(
        &self,
        request_line: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.0.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut request = format!(
            "{request_line} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}
