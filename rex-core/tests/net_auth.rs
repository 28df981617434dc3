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
