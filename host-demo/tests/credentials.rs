//! Issue #5, credentials: which source `host-demo auth status` reports and uses, in the seed's
//! order (bearer token, access keys, AWS_PROFILE, then the SDK default chain), with blank
//! variables treated as unset, a stale bearer token winning over a working profile (and saying
//! so), the instance role found through a local IMDS with no AWS_PROFILE workaround and its
//! temporary credentials signing real calls, container credentials, web identity signing in
//! through the emulated STS (and failing, with STS's reason, on a token it refuses), and a
//! machine without a metadata service answering quickly. The IMDS, container and STS
//! look-alikes are `emulator::credential_endpoints`. Each case runs the binary with exactly
//! the environment it needs (`env_clear`) and a scratch HOME.

mod support;

use std::path::Path;
use std::time::Duration;

use emulator::{
    AuthKind, CredentialEndpoints, CredentialEndpointsConfig, Emulator, EmulatorConfig,
    EndpointKind, ImdsMode, RunningCredentialEndpoints, RunningEmulator, TemporaryCredentials,
};
use serde_json::Value;
use support::{
    aws_file, black_hole_url, closed_port_url, run_host_demo, scratch, write_config, Run,
};

const GROUP: &str = "host-demo-credentials";

/// A Bedrock emulator accepting the default keys, or only these temporary credentials.
fn emulator_for(creds: Option<&TemporaryCredentials>) -> RunningEmulator {
    let config = match creds {
        Some(c) => EmulatorConfig::default().with_credentials(c),
        None => EmulatorConfig::default(),
    };
    Emulator::start_background(config).unwrap()
}

/// The emulator crate's IMDS, container and STS look-alikes, handing out `creds`.
fn credential_endpoints(config: CredentialEndpointsConfig) -> RunningCredentialEndpoints {
    CredentialEndpoints::start_background(config).unwrap()
}

fn serving(creds: &TemporaryCredentials) -> RunningCredentialEndpoints {
    credential_endpoints(CredentialEndpointsConfig {
        credentials: creds.clone(),
        ..CredentialEndpointsConfig::default()
    })
}

fn auth_status(home: &Path, vars: &[(&str, &str)]) -> Run {
    run_host_demo(home, vars, &["auth", "status", "--json"])
}

fn detail<'a>(status: &'a Value, key: &str) -> Option<&'a str> {
    status["details"]
        .as_array()?
        .iter()
        .find(|d| d[0] == key)
        .and_then(|d| d[1].as_str())
}

fn details_with(status: &Value, key: &str) -> Vec<String> {
    status["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d[0] == key)
        .map(|d| d[1].as_str().unwrap().to_string())
        .collect()
}

/// Nothing secret may reach the terminal.
fn assert_no_secret(run: &Run, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !run.all().contains(s),
            "secret {s:?} printed:\n{}",
            run.all()
        );
    }
}

fn last_auth(emu: &RunningEmulator) -> Option<AuthKind> {
    emu.requests().last().and_then(|r| r.auth.clone())
}

const AKID: &str = emulator::DEFAULT_ACCESS_KEY_ID;
const SECRET: &str = emulator::DEFAULT_SECRET_ACCESS_KEY;
const API_KEY: &str = emulator::DEFAULT_API_KEY;

fn keys_profile(name: &str) -> String {
    format!("[{name}]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n")
}

#[test]
fn instance_role_is_detected_without_aws_profile_and_signs_the_calls() {
    let home = scratch(GROUP, "imds");
    let creds = TemporaryCredentials::new("IMDS");
    let imds = serving(&creds);
    let emu = emulator_for(Some(&creds));
    write_config(&home, &emu.url(), "");
    let imds_url = imds.imds_endpoint();
    let vars = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds_url.as_str()),
    ];

    let r = auth_status(&home, &vars);
    assert_eq!(r.status, 0, "{}", r.all());
    let s = r.json();
    assert_eq!(s["source"], "instance role (IMDS)");
    assert_eq!(s["check"]["ok"], true, "{s:#}");
    assert_eq!(detail(&s, "temporary"), Some("yes (session token)"));
    assert_eq!(detail(&s, "access key id"), Some("ASIA…0000"));
    assert!(detail(&s, "expires")
        .unwrap()
        .starts_with("2099-01-01T00:00:00Z"));
    assert_no_secret(&r, &[&creds.secret_access_key, &creds.session_token]);
    // IMDSv2: a session token first, then the role and its credentials.
    let seen: Vec<String> = imds.requests().iter().map(|r| r.line()).collect();
    assert_eq!(seen[0], "PUT /latest/api/token", "{seen:?}");
    assert!(
        seen.iter().any(|r| r.ends_with(&imds.config().role_name)),
        "{seen:?}"
    );
    // The check was signed with the role's temporary credentials.
    assert_eq!(
        last_auth(&emu),
        Some(AuthKind::SigV4 {
            access_key_id: creds.access_key_id.clone(),
            session_token: true
        })
    );

    // Discovery is on by default (credentials are present) and its calls are signed too.
    let r = run_host_demo(&home, &vars, &["models", "list", "--json"]);
    assert_eq!(r.status, 0, "{}", r.all());
    assert!(r.json().as_array().unwrap().len() > 5);

    // And so is a conversation.
    let r = run_host_demo(
        &home,
        &vars,
        &[
            "chat",
            "--model",
            "amazon.nova-micro-v1:0",
            "hello from the role",
        ],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    assert!(r.stdout.contains("hello from the role"), "{}", r.all());
    let stream = emu
        .requests()
        .into_iter()
        .rfind(|r| r.operation == "ConverseStream")
        .expect("a ConverseStream call");
    assert_eq!(
        stream.auth,
        Some(AuthKind::SigV4 {
            access_key_id: creds.access_key_id.clone(),
            session_token: true
        })
    );

    // A model that answers only on Mantle's Responses API is signed with the same role.
    let r = run_host_demo(
        &home,
        &vars,
        &["chat", "--model", "openai.gpt-5.5", "hello from Mantle"],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    assert!(r.stdout.contains("hello from Mantle"), "{}", r.all());
    let response = emu.requests().pop().expect("a request");
    assert_eq!(response.operation, "CreateResponse");
    assert_eq!(
        response.auth,
        Some(AuthKind::SigV4 {
            access_key_id: creds.access_key_id.clone(),
            session_token: true
        })
    );
}

#[test]
fn without_a_metadata_service_detection_is_quick() {
    let home = scratch(GROUP, "no-imds");
    let emu = emulator_for(None);
    write_config(&home, &emu.url(), "");
    let refused = closed_port_url();
    let (_hole, black_hole) = black_hole_url();
    for endpoint in [refused.as_str(), black_hole.as_str()] {
        let vars = [
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint),
        ];
        let r = auth_status(&home, &vars);
        assert_ne!(r.status, 0, "no credentials: the check fails\n{}", r.all());
        let s = r.json();
        assert_eq!(s["source"], "none");
        assert_eq!(s["check"]["code"], "no_credentials");
        // The SDK's defaults (1 s connect + 1 s read, 4 attempts, backoff) wait several
        // seconds; the whole process, plugin loading included, must not.
        assert!(
            r.elapsed < Duration::from_millis(2500),
            "{endpoint}: took {:?}",
            r.elapsed
        );

        // `models list` with nothing configured says what to do, just as quickly.
        let r = run_host_demo(&home, &vars, &["models", "list"]);
        assert_ne!(r.status, 0);
        assert!(r.stderr.contains("no AWS credentials"), "{}", r.all());
        assert!(r.elapsed < Duration::from_millis(2500), "{:?}", r.elapsed);
    }
    assert!(
        emu.requests().is_empty(),
        "nothing was sent without credentials"
    );
}

#[test]
fn container_credentials_are_detected() {
    let home = scratch(GROUP, "container");
    let creds = TemporaryCredentials::new("ECS");
    let server = serving(&creds);
    let emu = emulator_for(Some(&creds));
    write_config(&home, &emu.url(), "");
    let uri = server.container_credentials_url();
    let r = auth_status(
        &home,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    let s = r.json();
    assert_eq!(s["source"], "container role");
    assert_eq!(s["check"]["ok"], true);
    assert_no_secret(&r, &[&creds.secret_access_key, &creds.session_token]);
}

#[test]
fn a_metadata_service_that_refuses_is_no_instance_role() {
    let home = scratch(GROUP, "imds-refuses");
    let imds = credential_endpoints(CredentialEndpointsConfig {
        imds: ImdsMode::RefuseTokens,
        ..CredentialEndpointsConfig::default()
    });
    let emu = emulator_for(None);
    write_config(&home, &emu.url(), "");
    let imds_url = imds.imds_endpoint();
    let vars = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds_url.as_str()),
    ];
    let r = auth_status(&home, &vars);
    assert_ne!(r.status, 0, "{}", r.all());
    let s = r.json();
    assert_eq!(s["source"], "none", "{s:#}");
    let why = detail(&s, "default chain").unwrap_or_default();
    assert!(why.contains("instance role (IMDS) failed"), "{s:#}");

    // No credentials, so discovery is not enabled by default: `models list` says what to do
    // instead of calling ListFoundationModels with nothing to sign it.
    emu.clear_requests();
    let r = run_host_demo(&home, &vars, &["models", "list", "--refresh"]);
    assert_ne!(r.status, 0, "{}", r.all());
    assert!(
        r.all().contains("no AWS credentials were found"),
        "{}",
        r.all()
    );
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

#[test]
fn web_identity_is_detected() {
    let home = scratch(GROUP, "web-identity");
    let emu = emulator_for(None);
    write_config(&home, &emu.url(), "");
    std::fs::write(home.join("token"), "eyJhbGciOi.test.token").unwrap();
    let token_file = home.join("token").display().to_string();
    let sts = closed_port_url();
    let r = auth_status(
        &home,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.as_str()),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/bedrock"),
            ("AWS_ENDPOINT_URL_STS", sts.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    // STS is not reachable here: the source is still reported for what it is.
    let s = r.json();
    assert_eq!(s["source"], "web identity", "{s:#}");
    assert!(r.elapsed < Duration::from_secs(8), "{:?}", r.elapsed);
}

/// The variables an EKS pod with IRSA gets, with STS pointed at the emulated one.
fn web_identity_env(
    home: &Path,
    token: &str,
    sts: &RunningCredentialEndpoints,
) -> Vec<(String, String)> {
    std::fs::write(home.join("token"), token).unwrap();
    [
        ("AWS_REGION", "us-east-1".to_string()),
        (
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            home.join("token").display().to_string(),
        ),
        ("AWS_ROLE_ARN", sts.config().role_arn.clone()),
        ("AWS_ENDPOINT_URL_STS", sts.sts_endpoint()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn borrowed(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn web_identity_signs_in_through_sts_and_its_credentials_sign_the_calls() {
    let home = scratch(GROUP, "web-identity-sts");
    let creds = TemporaryCredentials::new("WEBID");
    let sts = serving(&creds);
    // Bedrock accepts exactly what STS hands out, nothing else.
    let emu = emulator_for(Some(&creds));
    write_config(&home, &emu.url(), "");
    let token = sts.config().web_identity_token.clone();
    let owned = web_identity_env(&home, &token, &sts);
    let vars = borrowed(&owned);
    let secrets = [
        creds.secret_access_key.as_str(),
        creds.session_token.as_str(),
        token.as_str(),
    ];

    let r = auth_status(&home, &vars);
    assert_eq!(r.status, 0, "{}", r.all());
    let s = r.json();
    assert_eq!(s["source"], "web identity", "{s:#}");
    assert_eq!(s["check"]["ok"], true, "{s:#}");
    assert_eq!(detail(&s, "temporary"), Some("yes (session token)"));
    assert_eq!(detail(&s, "access key id"), Some("ASIA…0000"));
    assert!(detail(&s, "expires")
        .unwrap()
        .starts_with("2099-01-01T00:00:00Z"));
    assert_eq!(detail(&s, "default chain"), None, "{s:#}");
    assert_no_secret(&r, &secrets);
    // The SDK asked STS exactly as the real service expects it.
    let calls = sts.requests_to(EndpointKind::Sts);
    assert!(!calls.is_empty(), "{:?}", sts.requests());
    for call in &calls {
        assert_eq!(call.status, 200, "{call:?}");
        assert_eq!(call.param("Action"), Some("AssumeRoleWithWebIdentity"));
        assert_eq!(call.param("RoleArn"), Some(sts.config().role_arn.as_str()));
    }
    // The check was signed with the STS-issued temporary credentials.
    let signed_with_sts_credentials = Some(AuthKind::SigV4 {
        access_key_id: creds.access_key_id.clone(),
        session_token: true,
    });
    assert_eq!(last_auth(&emu), signed_with_sts_credentials);

    let r = run_host_demo(&home, &vars, &["models", "list", "--json"]);
    assert_eq!(r.status, 0, "{}", r.all());
    assert!(r.json().as_array().unwrap().len() > 5);
    assert_no_secret(&r, &secrets);

    let r = run_host_demo(
        &home,
        &vars,
        &[
            "chat",
            "--model",
            "amazon.nova-micro-v1:0",
            "hello from the pod",
        ],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    assert!(r.stdout.contains("hello from the pod"), "{}", r.all());
    assert_no_secret(&r, &secrets);
    let stream = emu
        .requests()
        .into_iter()
        .rfind(|r| r.operation == "ConverseStream")
        .expect("a ConverseStream call");
    assert_eq!(stream.auth, signed_with_sts_credentials);
    assert!(
        emu.requests().iter().all(|r| r.status == 200),
        "every Bedrock call authenticated: {:?}",
        emu.requests()
    );
}

#[test]
fn a_web_identity_token_sts_refuses_fails_the_check_and_says_why() {
    let home = scratch(GROUP, "web-identity-refused");
    let creds = TemporaryCredentials::new("WEBID");
    let sts = serving(&creds);
    let emu = emulator_for(Some(&creds));
    write_config(&home, &emu.url(), "");
    let wrong = "eyJhbGciOiJSUzI1NiJ9.d3Jvbmc.c2lnbmF0dXJl";
    let owned = web_identity_env(&home, wrong, &sts);
    let vars = borrowed(&owned);

    let r = auth_status(&home, &vars);
    assert_ne!(r.status, 0, "{}", r.all());
    let s = r.json();
    assert_eq!(s["source"], "web identity", "{s:#}");
    assert_eq!(s["check"]["ok"], false, "{s:#}");
    let message = s["check"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("web identity"), "{s:#}");
    assert!(message.contains("InvalidIdentityToken"), "{s:#}");
    assert!(
        sts.requests_to(EndpointKind::Sts)
            .iter()
            .all(|c| c.status == 400),
        "{:?}",
        sts.requests()
    );
    assert_no_secret(&r, &[wrong, &creds.secret_access_key]);
    assert!(
        emu.requests().iter().all(|r| r.auth.is_none()),
        "nothing reached Bedrock signed: {:?}",
        emu.requests()
    );

    // The human form exits non-zero too.
    let r = run_host_demo(&home, &vars, &["auth", "status"]);
    assert_eq!(r.status, 1, "{}", r.all());
    assert!(r.all().contains("InvalidIdentityToken"), "{}", r.all());
}

#[test]
fn the_default_profile_is_part_of_the_default_chain() {
    let home = scratch(GROUP, "default-profile");
    let emu = emulator_for(None);
    write_config(&home, &emu.url(), "");
    aws_file(&home, "credentials", &keys_profile("default"));
    let r = auth_status(
        &home,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    assert_eq!(r.json()["source"], "default profile");
    assert_eq!(detail(&r.json(), "access key id"), Some("AKIA…0000"));
    assert_no_secret(&r, &[SECRET]);
}

#[test]
fn sources_are_tried_in_the_seeds_order() {
    let home = scratch(GROUP, "order");
    let emu = emulator_for(None);
    write_config(&home, &emu.url(), "");
    aws_file(&home, "credentials", &keys_profile("dev"));
    let base = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let bearer = ("AWS_BEARER_TOKEN_BEDROCK", API_KEY);
    let keys = [
        ("AWS_ACCESS_KEY_ID", AKID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ];
    let profile = ("AWS_PROFILE", "dev");

    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        base.iter().chain(extra.iter()).copied().collect()
    };

    // 1. The bearer token wins over everything, and says what it shadows.
    let r = auth_status(&home, &with(&[bearer, keys[0], keys[1], profile]));
    assert_eq!(r.status, 0, "{}", r.all());
    let s = r.json();
    assert_eq!(s["source"], "AWS_BEARER_TOKEN_BEDROCK");
    assert_eq!(last_auth(&emu), Some(AuthKind::Bearer));
    let ignored = details_with(&s, "ignored");
    assert_eq!(ignored.len(), 2, "{ignored:?}");
    assert!(ignored[0].starts_with("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"));
    assert!(ignored[1].starts_with("AWS_PROFILE \"dev\""));
    assert_no_secret(&r, &[API_KEY, SECRET]);
    // The API key also calls the models that answer only on Mantle's Responses API.
    let r = run_host_demo(
        &home,
        &with(&[bearer]),
        &["chat", "--model", "openai.gpt-5.5", "hello with a key"],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    assert!(r.stdout.contains("hello with a key"), "{}", r.all());
    let response = emu.requests().pop().expect("a request");
    assert_eq!(
        (response.operation.as_str(), response.auth),
        ("CreateResponse", Some(AuthKind::Bearer))
    );
    assert_no_secret(&r, &[API_KEY]);

    // 2. Then the access keys.
    let r = auth_status(&home, &with(&[keys[0], keys[1], profile]));
    assert_eq!(r.status, 0, "{}", r.all());
    assert_eq!(r.json()["source"], "environment keys (AWS_ACCESS_KEY_ID)");
    assert_eq!(detail(&r.json(), "temporary"), Some("no"));
    assert!(matches!(last_auth(&emu), Some(AuthKind::SigV4 { .. })));

    // 3. Then AWS_PROFILE.
    let r = auth_status(&home, &with(&[profile]));
    assert_eq!(r.status, 0, "{}", r.all());
    assert_eq!(r.json()["source"], "AWS_PROFILE \"dev\"");
    assert_no_secret(&r, &[SECRET]);

    // 4. A session token goes with the keys.
    let creds = TemporaryCredentials::new("STS");
    let sts_emu = emulator_for(Some(&creds));
    let sts_home = scratch(GROUP, "order-session");
    write_config(&sts_home, &sts_emu.url(), "");
    let r = auth_status(
        &sts_home,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", creds.access_key_id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.as_str()),
            ("AWS_SESSION_TOKEN", creds.session_token.as_str()),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    assert_eq!(detail(&r.json(), "temporary"), Some("yes (session token)"));
    assert_no_secret(&r, &[&creds.secret_access_key, &creds.session_token]);
}

#[test]
fn a_stale_bearer_token_wins_over_a_working_profile_and_is_reported() {
    let home = scratch(GROUP, "stale-bearer");
    let emu = emulator_for(None);
    write_config(&home, &emu.url(), "");
    aws_file(&home, "credentials", &keys_profile("work"));
    let stale = "ABSKc3RhbGUtdG9rZW4tZnJvbS1sYXN0LXdlZWs=";
    let r = auth_status(
        &home,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_BEARER_TOKEN_BEDROCK", stale),
            ("AWS_PROFILE", "work"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_ne!(r.status, 0, "the check fails: {}", r.all());
    let s = r.json();
    assert_eq!(s["source"], "AWS_BEARER_TOKEN_BEDROCK");
    assert_eq!(s["check"]["ok"], false);
    assert_eq!(s["check"]["code"], "access_denied");
    let message = s["check"]["message"].as_str().unwrap();
    assert!(message.contains("AWS_BEARER_TOKEN_BEDROCK"), "{message}");
    let ignored = details_with(&s, "ignored");
    assert_eq!(
        ignored,
        ["AWS_PROFILE \"work\" is also set, but AWS_BEARER_TOKEN_BEDROCK comes first"]
    );
    assert_no_secret(&r, &[stale, SECRET]);

    // The human form says the same and exits non-zero.
    let r = run_host_demo(
        &home,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_BEARER_TOKEN_BEDROCK", stale),
            ("AWS_PROFILE", "work"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
        &["auth", "status"],
    );
    assert_eq!(r.status, 1);
    assert!(r.stdout.contains("source:"), "{}", r.all());
    assert!(
        r.stdout.contains("check:") && r.stdout.contains("FAILED"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("AWS_BEARER_TOKEN_BEDROCK"), "{}", r.all());
    assert_no_secret(&r, &[stale, SECRET]);
}

#[test]
fn blank_variables_are_unset() {
    let home = scratch(GROUP, "blank");
    let emu = emulator_for(None);
    write_config(&home, &emu.url(), "");
    aws_file(&home, "credentials", &keys_profile("default"));
    // Blank bearer token and blank keys: the keys... are blank too, so the default profile.
    let r = auth_status(
        &home,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_BEARER_TOKEN_BEDROCK", "   "),
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", "\t"),
            ("AWS_PROFILE", " "),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    assert_eq!(r.json()["source"], "default profile");
    // A blank bearer token next to real keys: SigV4 with the keys, not bearer auth.
    let r = auth_status(
        &home,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_BEARER_TOKEN_BEDROCK", " "),
            ("AWS_ACCESS_KEY_ID", AKID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    assert_eq!(r.json()["source"], "environment keys (AWS_ACCESS_KEY_ID)");
    assert!(matches!(last_auth(&emu), Some(AuthKind::SigV4 { .. })));
}

#[test]
fn region_rules() {
    let home = scratch(GROUP, "regions");
    // Nothing listens: only the reported regions matter here.
    let url = closed_port_url();
    let keys = [
        ("AWS_ACCESS_KEY_ID", AKID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ];
    let region_of = |home: &Path, extra: &[(&str, &str)], discovery: &str| {
        write_config(home, &url, discovery);
        let vars: Vec<(&str, &str)> = keys.iter().chain(extra.iter()).copied().collect();
        let s = auth_status(home, &vars).json();
        (
            s["region"].as_str().unwrap().to_string(),
            detail(&s, "discovery region").unwrap().to_string(),
        )
    };
    let r = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(region_of(&home, &[], ""), r("us-east-1", "us-east-1"));
    assert_eq!(
        region_of(&home, &[("AWS_DEFAULT_REGION", "eu-west-3")], ""),
        r("eu-west-3", "eu-west-3")
    );
    assert_eq!(
        region_of(
            &home,
            &[
                ("AWS_REGION", "us-west-2"),
                ("AWS_DEFAULT_REGION", "eu-west-3")
            ],
            ""
        ),
        r("us-west-2", "us-west-2")
    );
    aws_file(
        &home,
        "config",
        "[profile dev]\nregion = ap-south-1\n[default]\nregion = ca-central-1\n",
    );
    aws_file(&home, "credentials", &keys_profile("dev"));
    assert_eq!(region_of(&home, &[], ""), r("ca-central-1", "ca-central-1"));
    let profile_only = |home: &Path| {
        write_config(home, &url, "");
        auth_status(home, &[("AWS_PROFILE", "dev")]).json()
    };
    let s = profile_only(&home);
    assert_eq!(s["region"], "ap-south-1");
    assert_eq!(
        region_of(
            &home,
            &[("AWS_REGION", "us-east-2")],
            "region: 'eu-central-1'"
        ),
        r("us-east-2", "eu-central-1")
    );
}

#[test]
fn without_credentials_discovery_is_off_by_default_and_configured_models_remain() {
    let home = scratch(GROUP, "no-credentials-configured");
    let emu = emulator_for(None);
    std::fs::write(
        home.join("config.json5"),
        format!(
            "{{ models: {{ providers: {{ 'amazon-bedrock': {{ baseUrl: '{}', models: [{{ id: 'us.anthropic.claude-opus-4-6-v1:0', name: 'Opus' }}] }} }} }} }}",
            emu.url()
        ),
    )
    .unwrap();
    let r = run_host_demo(
        &home,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
        &["models", "list", "--json"],
    );
    assert_eq!(r.status, 0, "{}", r.all());
    let ids: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["us.anthropic.claude-opus-4-6-v1:0"]);
    assert!(
        emu.requests().is_empty(),
        "no discovery without credentials"
    );
}

/// An emulator serving HTTPS, a scratch HOME whose config points at it, and its CA's PEM
/// written there.
fn https_emulator(name: &str) -> (RunningEmulator, std::path::PathBuf, std::path::PathBuf) {
    let emu = Emulator::start_background(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let home = scratch(GROUP, name);
    write_config(&home, &emu.url(), "");
    let ca = home.join("ca.pem");
    std::fs::write(&ca, emu.ca_pem().unwrap()).unwrap();
    (emu, home, ca)
}

/// AWS_CA_BUNDLE (the AWS CLI's variable) makes the plugin trust an extra CA: here the one
/// the emulator's HTTPS certificate comes from.
#[test]
fn aws_ca_bundle_trusts_the_emulators_https_certificate() {
    let (_emu, home, ca) = https_emulator("aws-ca-bundle");
    let keys = [
        ("AWS_ACCESS_KEY_ID", emulator::DEFAULT_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", emulator::DEFAULT_SECRET_ACCESS_KEY),
        ("AWS_REGION", "us-east-1"),
    ];
    let untrusted = run_host_demo(&home, &keys, &["chat", "Hello"]);
    assert_ne!(untrusted.status, 0, "{}", untrusted.all());
    assert!(
        untrusted.all().contains("AWS_CA_BUNDLE"),
        "{}",
        untrusted.all()
    );
    let mut with_ca = keys.to_vec();
    with_ca.push(("AWS_CA_BUNDLE", ca.to_str().unwrap()));
    let trusted = run_host_demo(&home, &with_ca, &["chat", "Hello"]);
    assert_eq!(trusted.status, 0, "{}", trusted.all());
    assert!(trusted.stdout.contains("Hello"), "{}", trusted.stdout);
    // Mantle's Responses API goes through the same trust.
    let mantle = ["chat", "-m", "openai.gpt-5.5", "Hello Mantle"];
    let untrusted = run_host_demo(&home, &keys, &mantle);
    assert_ne!(untrusted.status, 0, "{}", untrusted.all());
    assert!(
        untrusted.all().contains("AWS_CA_BUNDLE"),
        "{}",
        untrusted.all()
    );
    let trusted = run_host_demo(&home, &with_ca, &mantle);
    assert_eq!(trusted.status, 0, "{}", trusted.all());
    assert!(
        trusted.stdout.contains("Hello Mantle"),
        "{}",
        trusted.stdout
    );
}

/// A CONNECT proxy on loopback that records where it tunnelled to.
fn connect_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let record = record.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let Some(target) = head
                    .strip_prefix("CONNECT ")
                    .and_then(|rest| rest.split(' ').next())
                else {
                    return;
                };
                record.lock().unwrap().push(target.to_string());
                let Ok(upstream) = std::net::TcpStream::connect(target) else {
                    return;
                };
                let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let (mut c1, mut u1) = (client, upstream);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut u2);
                    let _ = u2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut u1, &mut c1);
                let _ = c1.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (url, seen)
}

/// HTTPS_PROXY sends the plugin's calls through the proxy (a CONNECT tunnel, TLS inside);
/// NO_PROXY exempts a host.
#[test]
fn https_proxy_and_no_proxy_are_honoured() {
    let (emu, home, ca) = https_emulator("https-proxy");
    let (proxy, seen) = connect_proxy();
    let base = vec![
        ("AWS_ACCESS_KEY_ID", emulator::DEFAULT_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", emulator::DEFAULT_SECRET_ACCESS_KEY),
        ("AWS_REGION", "us-east-1"),
        ("AWS_CA_BUNDLE", ca.to_str().unwrap()),
        ("HTTPS_PROXY", proxy.as_str()),
    ];
    let ran = run_host_demo(&home, &base, &["chat", "Hello"]);
    assert_eq!(ran.status, 0, "{}", ran.all());
    let target = emu.addr().to_string();
    assert!(
        seen.lock().unwrap().contains(&target),
        "the proxy tunnelled to {target}: {:?}",
        seen.lock().unwrap()
    );
    seen.lock().unwrap().clear();
    // Mantle's Responses API goes through the same proxy.
    let ran = run_host_demo(&home, &base, &["chat", "-m", "openai.gpt-5.5", "Hello"]);
    assert_eq!(ran.status, 0, "{}", ran.all());
    assert!(
        seen.lock().unwrap().contains(&target),
        "{:?}",
        seen.lock().unwrap()
    );
    seen.lock().unwrap().clear();
    let mut exempt = base.clone();
    exempt.push(("NO_PROXY", "127.0.0.1"));
    let ran = run_host_demo(&home, &exempt, &["chat", "Hello"]);
    assert_eq!(ran.status, 0, "{}", ran.all());
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

/// AWS_PROFILE naming a profile the shared files do not define: said plainly, with the files
/// read and the profiles they define, before any call (no network error, no retry).
#[test]
fn a_missing_profile_is_named_with_the_files_read() {
    let emu = emulator_for(None);
    let home = scratch(GROUP, "missing-profile");
    write_config(&home, &emu.url(), "enabled: false");
    aws_file(
        &home,
        "config",
        "[default]\nregion = us-east-1\n[profile work]\nregion = eu-west-1\n",
    );
    let vars = [("AWS_PROFILE", "nope"), ("AWS_REGION", "us-east-1")];
    let ran = run_host_demo(
        &home,
        &vars,
        &["chat", "-m", "amazon.nova-micro-v1:0", "hi"],
    );
    assert_ne!(ran.status, 0);
    let all = ran.all();
    assert!(
        all.contains("profile `nope` (AWS_PROFILE) is not defined"),
        "{all}"
    );
    assert!(all.contains(".aws/config"), "{all}");
    assert!(
        all.contains("profiles defined there: default, work"),
        "{all}"
    );
    assert!(!all.contains("retrying"), "{all}");
    assert!(!all.contains("network"), "{all}");
    assert!(emu.requests().is_empty(), "no call was made");
    let status = run_host_demo(&home, &vars, &["auth", "status"]);
    assert!(status.all().contains("is not defined"), "{}", status.all());
}
