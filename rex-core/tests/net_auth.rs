//! Authentication against real registries: token caching per scope, expiry refresh,
//! one retry after a rejected token, single-flight token fetches, and credentials found
//! through docker config files, a real `docker-credential-*` helper and rex's own store.

mod net_common;

use base64::Engine as _;
use net_common::Conn;
use rex_core::config::Settings;
use rex_core::credentials::{CredentialSources, CredentialStore, Credentials};
use rex_core::registry::Rex;
use rex_core::ErrorKind;
use rex_tests::{Mode, TestRegistry};
use std::path::Path;
use std::time::Duration;

fn token_registry() -> TestRegistry {
    let reg = TestRegistry::start(Mode::token(&[("bob", "builder")]));
    reg.push_standard().expect("fixtures");
    reg
}

#[tokio::test]
async fn tokens_are_cached_per_scope_and_fetched_with_basic_credentials() {
    let reg = token_registry();
    let ts = reg.token_server().unwrap();
    let rex = Conn::new(reg.url()).creds("bob", "builder").connect();
    ts.reset();
    for _ in 0..3 {
        rex.list_tags("rex/oci-image").await.expect("tags");
    }
    assert_eq!(ts.request_count(), 1, "one token for three requests");
    rex.list_tags("rex/multiarch").await.expect("tags");
    assert_eq!(ts.request_count(), 2, "a new scope needs a new token");
    let repos = rex.list_repositories().await.expect("catalog with bob");
    assert!(repos.iter().any(|r| r == "rex/oci-image"));
    let reqs = ts.requests();
    assert!(reqs.iter().all(|r| r.user.as_deref() == Some("bob")));
    assert!(reqs
        .iter()
        .any(|r| r.scopes.iter().any(|s| s == "registry:catalog:*")));
    assert!(reqs
        .iter()
        .any(|r| r.scopes == vec!["repository:rex/oci-image:pull".to_owned()]));
}

#[tokio::test]
async fn expired_tokens_are_refreshed_and_rejected_tokens_retried_once() {
    let reg = token_registry();
    let ts = reg.token_server().unwrap();
    let rex = Conn::new(reg.url()).creds("bob", "builder").connect();

    // expires_in: 1 → the cached token is refreshed after a second.
    ts.set_expires_in(1);
    rex.list_tags("rex/oci-image").await.unwrap();
    let before = ts.request_count();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    rex.list_tags("rex/oci-image").await.unwrap();
    assert_eq!(ts.request_count(), before + 1, "expired token refreshed");

    // Tokens the registry rejects: the first request fails after exactly one retry.
    ts.set_expires_in(300);
    ts.set_exp_offset(-100_000);
    let fresh = Conn::new(reg.url()).creds("bob", "builder").connect();
    ts.reset();
    let e = fresh.list_tags("rex/oci-image").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(
        ts.request_count(),
        1,
        "one token fetch, one retry, then give up"
    );
    // Once tokens are good again, the cached bad token is invalidated and replaced.
    ts.set_exp_offset(0);
    fresh
        .list_tags("rex/oci-image")
        .await
        .expect("re-auth after a 401");
    assert_eq!(ts.request_count(), 2);
}

#[tokio::test]
async fn concurrent_requests_share_one_token_fetch() {
    let reg = token_registry();
    let ts = reg.token_server().unwrap();
    let rex = Conn::new(reg.url()).creds("bob", "builder").connect();
    let ping = rex.ping().await.unwrap();
    assert_eq!(ping.auth_scheme, "bearer");
    assert!(ping.authenticated);
    assert_eq!(ping.realm.as_deref(), Some(ts.realm().as_str()));
    ts.reset();
    let tags: Vec<String> = vec![
        "1.0".into(),
        "1.0.1".into(),
        "latest".into(),
        "stable".into(),
    ];
    let futs = (0..8).map(|_| rex.tag_details("rex/oci-image", &tags, |_, _| {}));
    for r in futures::future::join_all(futs).await {
        assert_eq!(r.expect("details").len(), 4);
    }
    assert_eq!(ts.request_count(), 1, "single-flight token fetch");
}

#[tokio::test]
async fn anonymous_is_refused_where_the_token_server_wants_a_login() {
    let reg = token_registry();
    let rex = Conn::new(reg.url()).connect();
    let e = rex.list_tags("rex/oci-image").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(
        e.hint().unwrap().contains("rex registry login"),
        "{:?}",
        e.hint()
    );
    let bad = Conn::new(reg.url()).creds("bob", "wrong").connect();
    let e = bad.list_tags("rex/oci-image").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!format!("{e:?}").contains("wrong"), "no password in errors");
}

fn settings_for(reg: &TestRegistry, sources: CredentialSources) -> Settings {
    let mut s = Settings::default();
    s.runtime.registry = Some(reg.url());
    s.runtime.credentials = sources;
    s.network.timeout = 5;
    s
}

fn write_docker_config(path: &Path, json: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, json).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn rex_new_finds_credentials_in_docker_config_helpers_and_the_rex_store() {
    use std::os::unix::fs::PermissionsExt;
    let reg = TestRegistry::shared("basic");
    let host = reg.host_port();
    let dir = tempfile::tempdir().unwrap();
    let docker = dir.path().join("docker/config.json");
    let sources = CredentialSources {
        docker_config: Some(docker.clone()),
        podman_auth: vec![dir.path().join("containers/auth.json")],
        use_keyring: false,
        fallback_file: Some(dir.path().join("rex/credentials.json")),
        helper_path: vec![dir.path().join("bin")],
    };

    // Nothing configured: anonymous, and the basic registry says no.
    let rex = Rex::new(&settings_for(reg, sources.clone())).unwrap();
    assert_eq!(
        rex.list_tags("rex/oci-image").await.unwrap_err().kind(),
        ErrorKind::Auth
    );

    // 1. docker config.json `auths`
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:wonderland");
    write_docker_config(
        &docker,
        &format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    );
    let rex = Rex::new(&settings_for(reg, sources.clone())).unwrap();
    assert!(!rex.list_tags("rex/oci-image").await.unwrap().is_empty());

    // 2. a real credential helper speaking the docker protocol
    let bin = dir.path().join("bin/docker-credential-test");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\nread server\nif [ \"$server\" = \"{host}\" ]; then\n  echo '{{\"ServerURL\":\"'$server'\",\"Username\":\"alice\",\"Secret\":\"wonderland\"}}'\nelse\n  echo 'credentials not found in native keychain'; exit 1\nfi\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    write_docker_config(&docker, r#"{"credsStore":"test","auths":{}}"#);
    let rex = Rex::new(&settings_for(reg, sources.clone())).unwrap();
    assert!(!rex.list_tags("rex/oci-image").await.unwrap().is_empty());

    // 3. rex's own store (login), then logout
    write_docker_config(&docker, "{}");
    let store = CredentialStore::new(sources.clone());
    store
        .store(&host, &Credentials::new("alice", "wonderland"))
        .unwrap();
    let rex = Rex::new(&settings_for(reg, sources.clone())).unwrap();
    assert!(rex.ping().await.unwrap().authenticated);
    assert!(store.delete(&host).unwrap());
    let rex = Rex::new(&settings_for(reg, sources)).unwrap();
    assert!(!rex.ping().await.unwrap().authenticated);
}

/// Sources with only a docker config.json holding `entry` for the registry.
fn docker_config_with(
    dir: &Path,
    reg: &TestRegistry,
    entry: serde_json::Value,
) -> CredentialSources {
    let docker = dir.join("docker/config.json");
    let json = serde_json::json!({ "auths": { reg.host_port(): entry } });
    write_docker_config(&docker, &json.to_string());
    CredentialSources {
        docker_config: Some(docker),
        ..CredentialSources::default()
    }
}

#[tokio::test]
async fn identity_tokens_are_exchanged_with_an_oauth2_refresh_token_post() {
    let reg = token_registry();
    let ts = reg.token_server().unwrap();
    let refresh = ts.issue_refresh_token("bob").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sources = docker_config_with(
        dir.path(),
        &reg,
        serde_json::json!({ "identitytoken": refresh }),
    );
    // Identity tokens never reach the logs.
    let capture = net_common::Capture::default();
    let _guard = capture.install(tracing::Level::TRACE);

    let rex = Rex::new(&settings_for(&reg, sources)).unwrap();
    ts.reset();
    assert!(!rex.list_tags("rex/oci-image").await.unwrap().is_empty());
    let repos = rex.list_repositories().await.expect("catalog as bob");
    assert!(repos.iter().any(|r| r == "rex/oci-image"));

    let reqs = ts.requests();
    assert!(!reqs.is_empty());
    for r in &reqs {
        assert_eq!(r.method, "POST", "{r:?}");
        assert_eq!(r.grant_type.as_deref(), Some("refresh_token"));
        assert_eq!(r.client_id.as_deref(), Some("rex"));
        assert_eq!(r.user.as_deref(), Some("bob"), "the token's owner");
        assert_eq!(r.service.as_deref(), Some(rex_tests::token::SERVICE));
        assert_eq!(r.status, 200);
    }
    assert!(reqs
        .iter()
        .any(|r| r.scopes == ["repository:rex/oci-image:pull"]));

    let logs = capture.text();
    assert!(
        logs.contains("refresh_token grant"),
        "token requests logged"
    );
    assert!(!logs.contains(&refresh), "the identity token was logged");
}

#[tokio::test]
async fn a_wrong_identity_token_is_an_auth_error_with_a_hint() {
    let reg = token_registry();
    let ts = reg.token_server().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sources = docker_config_with(
        dir.path(),
        &reg,
        serde_json::json!({ "identitytoken": "forged-refresh-token" }),
    );
    let rex = Rex::new(&settings_for(&reg, sources)).unwrap();
    ts.reset();
    let e = rex.list_tags("rex/oci-image").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e:?}");
    assert!(e.message().contains("identity token"), "{}", e.message());
    assert!(e.message().contains("invalid_grant"), "{}", e.message());
    assert!(e.hint().unwrap().contains("docker login"), "{:?}", e.hint());
    assert!(!format!("{e:?} {e}").contains("forged-refresh-token"));
    let reqs = ts.requests();
    assert_eq!(reqs.len(), 1, "no retry loop on a rejected grant: {reqs:?}");
    assert_eq!(reqs[0].status, 400);
    assert_eq!(reqs[0].grant_type.as_deref(), Some("refresh_token"));
}

#[tokio::test]
async fn without_oauth2_post_identity_tokens_fall_back_to_basic_or_fail_clearly() {
    let reg = token_registry();
    let ts = reg.token_server().unwrap();
    ts.set_oauth_post(false);
    let refresh = ts.issue_refresh_token("bob").unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Only the token: nothing to fall back to.
    let sources = docker_config_with(
        dir.path(),
        &reg,
        serde_json::json!({ "identitytoken": refresh }),
    );
    let rex = Rex::new(&settings_for(&reg, sources)).unwrap();
    ts.reset();
    let e = rex.list_tags("rex/oci-image").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.message().contains("OAuth2"), "{}", e.message());
    assert!(e.hint().unwrap().contains("rex registry login"));
    assert!(ts.requests().iter().all(|r| r.method == "POST"));

    // Token plus user and password: the GET with Basic credentials works.
    let auth = base64::engine::general_purpose::STANDARD.encode("bob:builder");
    let sources = docker_config_with(
        dir.path(),
        &reg,
        serde_json::json!({ "auth": auth, "identitytoken": refresh }),
    );
    let rex = Rex::new(&settings_for(&reg, sources)).unwrap();
    ts.reset();
    assert!(!rex.list_tags("rex/oci-image").await.unwrap().is_empty());
    let reqs = ts.requests();
    let methods: Vec<(&str, u16)> = reqs.iter().map(|r| (r.method.as_str(), r.status)).collect();
    assert_eq!(methods, [("POST", 404), ("GET", 200)]);
    assert_eq!(reqs[1].user.as_deref(), Some("bob"));
}

/// The harness token server checks OAuth2 requests as a real one does, so the tests
/// above could fail: client_id and grant_type are required, refresh tokens come from
/// an offline password grant, and unknown ones are refused.
#[tokio::test]
async fn the_harness_token_server_validates_oauth2_forms() {
    let reg = TestRegistry::start(Mode::token(&[("bob", "builder")]));
    let ts = reg.token_server().unwrap();
    let http = reqwest::Client::new();
    let post = |form: &'static [(&'static str, &'static str)]| {
        let req = http.post(ts.realm()).form(form);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (s, b) = post(&[("grant_type", "refresh_token"), ("refresh_token", "x")]).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    let (s, b) = post(&[("grant_type", "client_credentials"), ("client_id", "t")]).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, b) = post(&[
        ("grant_type", "password"),
        ("client_id", "t"),
        ("username", "bob"),
        ("password", "wrong"),
    ])
    .await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_grant")));
    let (s, b) = post(&[
        ("grant_type", "refresh_token"),
        ("client_id", "t"),
        ("refresh_token", "never-issued"),
    ])
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));

    // docker login's flow: an offline password grant returns a refresh token...
    let (s, b) = post(&[
        ("grant_type", "password"),
        ("client_id", "t"),
        ("access_type", "offline"),
        ("username", "bob"),
        ("password", "builder"),
        ("scope", "repository:rex/x:pull registry:catalog:*"),
    ])
    .await;
    assert_eq!(s, 200, "{b}");
    assert!(
        b["token"].is_null(),
        "OAuth2 replies carry access_token only"
    );
    assert!(b["access_token"].as_str().is_some());
    assert_eq!(b["scope"], "repository:rex/x:pull registry:catalog:*");
    let refresh = b["refresh_token"].as_str().unwrap().to_owned();
    // ...which a refresh_token grant accepts.
    let r = http
        .post(ts.realm())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "t"),
            ("refresh_token", refresh.as_str()),
            ("scope", "repository:rex/x:pull"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.json::<serde_json::Value>().await.unwrap()["refresh_token"].is_null());
    let last = ts.requests().pop().unwrap();
    assert_eq!(last.user.as_deref(), Some("bob"));
    assert_eq!(last.granted.len(), 1);
}
