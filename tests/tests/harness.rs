//! Proves the harness itself: every registry mode, fixtures, the large set, faults, and the
//! CLI isolation helper.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine;
use rex_tests::faults::{
    FaultServer, ACCESS_ONLY_TOKEN, FAULT_TOKEN, NO_EXPIRY_TOKEN, OVERSIZE_BYTES, PAGED_TAGS,
    SCENARIOS, SHORT_TOKEN,
};
use rex_tests::fixtures::{push_image, ImageSpec};
use rex_tests::oci::{self, accept_all};
use rex_tests::push::{PushAuth, Pusher};
use rex_tests::registry::{SHARED_PASSWORD, SHARED_USER};
use rex_tests::{Credentials, Mode, TestRegistry, TokenOptions};
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `(realm, service, scope)` of a Bearer challenge.
fn bearer(resp: &reqwest::Response) -> (String, String, String) {
    let h = resp
        .headers()
        .get("www-authenticate")
        .expect("challenge header")
        .to_str()
        .expect("ascii");
    let get = |k: &str| {
        let start = h
            .find(&format!("{k}=\""))
            .unwrap_or_else(|| panic!("{k} in {h}"))
            + k.len()
            + 2;
        h[start..start + h[start..].find('"').expect("closing quote")].to_string()
    };
    assert!(h.starts_with("Bearer "), "{h}");
    (get("realm"), get("service"), get("scope"))
}

async fn token_for(
    realm: &str,
    service: &str,
    scopes: &[&str],
    creds: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut url = url::Url::parse(realm).expect("realm url");
    url.query_pairs_mut().append_pair("service", service);
    for s in scopes {
        url.query_pairs_mut().append_pair("scope", s);
    }
    let mut rb = client().get(url);
    if let Some((u, p)) = creds {
        rb = rb.basic_auth(u, Some(p));
    }
    rb.send().await.expect("token request")
}

#[tokio::test]
async fn anonymous_mode_serves_v2_and_counts_requests() {
    let reg = TestRegistry::start_async(Mode::Anonymous).await;
    assert!(reg.url().starts_with("http://127.0.0.1:"));
    assert_eq!(reg.url(), format!("http://{}", reg.host_port()));
    let before = reg.request_count("GET", "/v2/");
    let resp = client()
        .get(format!("{}/v2/", reg.url()))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(reg.request_count("GET", "/v2/"), before + 1);
    assert_eq!(reg.request_count("PUT", "/v2/"), 0);
    assert!(reg.log_path().exists());
    assert!(std::fs::read_to_string(reg.log_path())
        .expect("log")
        .contains("listening on"));
}

#[test]
fn dropping_a_registry_kills_and_reaps_it() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let pid = reg.pid().expect("running");
    assert!(reg.is_running());
    let dir = reg.temp_dir().to_path_buf();
    drop(reg);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "registry {pid} still exists after drop"
    );
    assert!(!dir.exists(), "temp dir removed");
}

#[tokio::test]
async fn basic_mode_requires_the_right_password() {
    let reg = TestRegistry::start_async(Mode::basic("bob", "builder")).await;
    let url = format!("{}/v2/", reg.url());
    let none = client().get(&url).send().await.expect("get");
    assert_eq!(none.status(), 401);
    let challenge = none.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(challenge.starts_with("Basic "), "{challenge}");
    let wrong = client()
        .get(&url)
        .basic_auth("bob", Some("nope"))
        .send()
        .await
        .expect("get");
    assert_eq!(wrong.status(), 401);
    let right = client()
        .get(&url)
        .basic_auth("bob", Some("builder"))
        .send()
        .await
        .expect("get");
    assert_eq!(right.status(), 200);
    assert_eq!(reg.credentials(), Some(Credentials::new("bob", "builder")));
    assert!(!format!("{:?}", reg.credentials()).contains("builder"));
}

#[tokio::test]
async fn token_mode_challenge_token_and_catalog_scope() {
    let reg = TestRegistry::start_async(Mode::token(&[("alice", "pw1")])).await;
    let ts = reg.token_server().expect("token server");
    // Push something with the harness admin so there is a repository to read.
    let pusher = reg.pusher();
    let img = push_image(&pusher, "tok/app", &ImageSpec::new(500), &["v1"])
        .await
        .expect("push through token flow");
    ts.reset();

    let manifest_url = format!("{}/v2/tok/app/manifests/v1", reg.url());
    let first = client()
        .get(&manifest_url)
        .header("accept", accept_all())
        .send()
        .await
        .expect("get");
    assert_eq!(first.status(), 401);
    let (realm, service, scope) = bearer(&first);
    assert_eq!(realm, ts.realm());
    assert_eq!(scope, "repository:tok/app:pull");

    // Wrong password and anonymous are refused by the token server.
    assert_eq!(
        token_for(&realm, &service, &[&scope], Some(("alice", "bad")))
            .await
            .status(),
        401
    );
    assert_eq!(
        token_for(&realm, &service, &[&scope], None).await.status(),
        401
    );

    let resp = token_for(&realm, &service, &[&scope], Some(("alice", "pw1"))).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    let token = body["token"].as_str().expect("token").to_string();
    assert_eq!(body["access_token"].as_str(), Some(token.as_str()));
    assert_eq!(body["expires_in"], 300);
    assert!(body["issued_at"].is_string());
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("jwt header"))
            .expect("b64"),
    )
    .expect("header json");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"].as_str().expect("kid").split(':').count(), 12);
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).expect("jwt claims"))
            .expect("b64"),
    )
    .expect("claims json");
    assert!(claims["aud"].is_string(), "aud must be a string");
    assert_eq!(claims["sub"], "alice");

    let ok = client()
        .get(&manifest_url)
        .header("accept", accept_all())
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["docker-content-digest"]
            .to_str()
            .expect("ascii"),
        img.digest
    );

    // A repository token is not enough for the catalog.
    let catalog_url = format!("{}/v2/_catalog", reg.url());
    let insufficient = client()
        .get(&catalog_url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(insufficient.status(), 401);
    let (_, _, catalog_scope) = bearer(&insufficient);
    assert_eq!(catalog_scope, "registry:catalog:*");
    assert!(insufficient.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains("insufficient_scope"));
    // Several scopes in one token request.
    let resp = token_for(
        &realm,
        &service,
        &[&catalog_scope, "repository:tok/app:pull"],
        Some(("alice", "pw1")),
    )
    .await;
    let body: Value = resp.json().await.expect("json");
    let catalog_token = body["token"].as_str().expect("token");
    let catalog: Value = client()
        .get(&catalog_url)
        .bearer_auth(catalog_token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(catalog["repositories"], serde_json::json!(["tok/app"]));

    assert_eq!(ts.request_count(), 4);
    let reqs = ts.requests();
    assert_eq!(reqs.iter().filter(|r| r.status == 401).count(), 2);
    assert_eq!(reqs[3].scopes.len(), 2);
    assert_eq!(reqs[3].granted.len(), 2);
    assert_eq!(ts.request_count_for(Some("alice")), 3);
}

#[tokio::test]
async fn token_mode_anonymous_pull_and_expired_tokens() {
    let reg = TestRegistry::start_async(Mode::Token(TokenOptions {
        users: vec![Credentials::new("carol", "pw")],
        allow_anonymous: true,
        expires_in: 60,
    }))
    .await;
    let ts = reg.token_server().expect("token server");
    push_image(&reg.pusher(), "anon/app", &ImageSpec::new(501), &["v1"])
        .await
        .expect("push");
    let url = format!("{}/v2/anon/app/manifests/v1", reg.url());
    let first = client()
        .get(&url)
        .header("accept", accept_all())
        .send()
        .await
        .expect("get");
    let (realm, service, scope) = bearer(&first);
    let body: Value = token_for(
        &realm,
        &service,
        &[&scope, "repository:anon/app:push"],
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(body["expires_in"], 60);
    let token = body["token"].as_str().expect("token").to_string();
    let last = ts.requests().pop().expect("recorded");
    assert_eq!(last.user, None);
    // Anonymous gets pull only, even when asking for push.
    assert_eq!(last.granted.len(), 1);
    assert_eq!(last.granted[0].actions, vec!["pull".to_string()]);
    let ok = client()
        .get(&url)
        .header("accept", accept_all())
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
    let upload = client()
        .post(format!("{}/v2/anon/app/blobs/uploads/", reg.url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("post");
    assert_eq!(upload.status(), 401, "pull-only token must not push");

    // Tokens whose exp is past the registry's 60 s leeway are rejected.
    ts.set_exp_offset(-200);
    let body: Value = token_for(&realm, &service, &[&scope], None)
        .await
        .json()
        .await
        .expect("json");
    let expired = client()
        .get(&url)
        .header("accept", accept_all())
        .bearer_auth(body["token"].as_str().expect("token"))
        .send()
        .await
        .expect("get");
    assert_eq!(expired.status(), 401);
}

#[tokio::test]
async fn tls_mode_works_with_the_ca_and_fails_without() {
    let reg = TestRegistry::start_async(Mode::tls()).await;
    assert!(reg.url().starts_with("https://127.0.0.1:"));
    let ca = reg.ca_pem().expect("ca pem");
    assert!(ca.contains("BEGIN CERTIFICATE"));
    assert_eq!(
        std::fs::read_to_string(reg.ca_cert_path().expect("ca path")).expect("read"),
        ca
    );
    let ok = reg
        .http_client()
        .get(format!("{}/v2/", reg.url()))
        .send()
        .await
        .expect("tls get");
    assert_eq!(ok.status(), 200);
    // Also valid for the name localhost.
    let by_name = reg
        .http_client()
        .get(format!("https://localhost:{}/v2/", reg.port()))
        .send()
        .await
        .expect("tls get by name");
    assert_eq!(by_name.status(), 200);
    let err = client()
        .get(format!("{}/v2/", reg.url()))
        .send()
        .await
        .expect_err("untrusted CA must fail");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}

#[tokio::test]
async fn tls_with_basic_auth() {
    let reg = TestRegistry::start_async(Mode::tls_basic("dave", "pw")).await;
    let c = reg.http_client();
    let url = format!("{}/v2/", reg.url());
    assert_eq!(c.get(&url).send().await.expect("get").status(), 401);
    let ok = c
        .get(&url)
        .basic_auth("dave", Some("pw"))
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
    // The pusher carries the basic credentials.
    let img = push_image(&reg.pusher(), "tls/app", &ImageSpec::new(502), &["x"])
        .await
        .expect("push over tls+basic");
    assert_eq!(reg.request_count("PUT", "/v2/tls/app/manifests/x"), 1);
    assert!(!img.digest.is_empty());
}

async fn catalog_all(p: &Pusher, n: usize) -> (Vec<String>, usize) {
    let mut path = format!("/v2/_catalog?n={n}");
    let mut repos = Vec::new();
    let mut pages = 0;
    loop {
        let resp = p.get(None, &path, None).await.expect("catalog");
        assert_eq!(resp.status(), 200);
        let link = resp
            .headers()
            .get("link")
            .map(|v| v.to_str().expect("ascii").to_string());
        let body: Value = resp.json().await.expect("json");
        pages += 1;
        repos.extend(
            body["repositories"]
                .as_array()
                .expect("array")
                .iter()
                .map(|r| r.as_str().expect("str").to_string()),
        );
        match link {
            Some(l) => {
                let start = l.find('<').expect("<") + 1;
                path = l[start..l.find('>').expect(">")].to_string();
            }
            None => break,
        }
    }
    (repos, pages)
}

async fn check_fixtures(reg: &TestRegistry, fx: &rex_tests::Fixtures, user: PushAuth) {
    let p = Pusher::new(reg.http_client(), reg.url(), user);
    let (repos, _) = catalog_all(&p, 100).await;
    let listed: BTreeSet<String> = repos.into_iter().collect();
    assert_eq!(listed, fx.repositories());

    for m in fx.manifests() {
        let resp = p
            .get(
                Some(&m.repo),
                &format!("/v2/{}/manifests/{}", m.repo, m.digest),
                Some(&accept_all()),
            )
            .await
            .expect("get manifest");
        assert_eq!(resp.status(), 200, "{}@{}", m.repo, m.digest);
        assert_eq!(
            resp.headers()["content-type"].to_str().expect("ascii"),
            m.media_type,
            "{}@{}",
            m.repo,
            m.digest
        );
        assert_eq!(resp.bytes().await.expect("body").as_ref(), &m.body[..]);
    }
    for (repo, tags) in fx.tags() {
        let body: Value = p
            .get(Some(&repo), &format!("/v2/{repo}/tags/list"), None)
            .await
            .expect("tags")
            .json()
            .await
            .expect("json");
        if tags.is_empty() {
            assert!(body["tags"].is_null(), "{repo}: {body}");
            continue;
        }
        let got: BTreeSet<String> = body["tags"]
            .as_array()
            .expect("tags array")
            .iter()
            .map(|t| t.as_str().expect("str").to_string())
            .collect();
        assert_eq!(got, tags.keys().cloned().collect::<BTreeSet<_>>(), "{repo}");
    }
    // A config and a layer blob round-trip.
    let img = &fx.oci_image;
    for (digest, len) in [
        (img.config_digest.clone(), img.config_size()),
        (img.layers[0].digest.clone(), img.layers[0].size),
    ] {
        let bytes = p
            .get(
                Some(&img.repo),
                &format!("/v2/{}/blobs/{digest}", img.repo),
                None,
            )
            .await
            .expect("blob")
            .bytes()
            .await
            .expect("body");
        assert_eq!(bytes.len() as u64, len);
        assert_eq!(oci::sha256_digest(&bytes), digest);
    }
}

#[tokio::test]
async fn standard_fixtures_are_listed_and_fetchable() {
    let shared = TestRegistry::shared("anonymous");
    let fx = &shared.fixtures;
    check_fixtures(shared, fx, PushAuth::None).await;

    // The truth the fixtures describe.
    assert_eq!(fx.oci_image.tags, ["1.0", "1.0.1", "latest", "stable"]);
    assert_eq!(fx.oci_image_v2.layers.len(), 3);
    let platforms: Vec<String> = fx
        .multiarch
        .platforms()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        platforms,
        [
            "linux/amd64",
            "linux/arm64/v8",
            "linux/arm/v7",
            "windows/amd64",
            "unknown/unknown"
        ]
    );
    let win = fx.multiarch.entry("windows/amd64").expect("windows entry");
    assert_eq!(
        win.platform.as_ref().and_then(|p| p.os_version.as_deref()),
        Some("10.0.17763.5206")
    );
    let att = fx.multiarch.entries.last().expect("attestation");
    assert!(att.is_attestation());
    let cfg = fx.oci_image.config_json();
    assert_eq!(cfg["config"]["WorkingDir"], "/srv/rex");
    assert_eq!(cfg["created"], "2024-02-10T08:30:00Z");
    let history = cfg["history"].as_array().expect("history");
    assert!(history.iter().any(|h| h["empty_layer"] == true));
    assert_eq!(
        history.iter().filter(|h| h["empty_layer"] != true).count(),
        fx.oci_image.layers.len()
    );
    assert_eq!(fx.docker_image.media_type, oci::DOCKER_MANIFEST);
    assert_eq!(fx.docker_list.media_type, oci::DOCKER_LIST);
    assert!(fx.no_media_type.manifest_json().get("mediaType").is_none());
    let art = fx.artifact.manifest.clone();
    let art: Value = serde_json::from_slice(&art).expect("artifact json");
    assert_eq!(
        art["subject"]["digest"],
        fx.artifact.subject.digest.as_str()
    );
    assert_eq!(art["artifactType"], fx.artifact.artifact_type.as_str());
    assert_eq!(
        fx.artifact.referrers_tag,
        format!("sha256-{}", &fx.artifact.subject.digest[7..])
    );
    // The untagged manifest is not reachable through any tag.
    assert!(fx.tags()["rex/untagged"]
        .values()
        .all(|d| *d != fx.untagged.digest));

    // Schema2 fetched by tag without its type is rewritten by the registry (schema1).
    let resp = client()
        .get(format!("{}/v2/rex/docker-image/manifests/v1", shared.url()))
        .send()
        .await
        .expect("get");
    assert_ne!(
        resp.headers()["docker-content-digest"]
            .to_str()
            .expect("ascii"),
        fx.docker_image.digest
    );
    // No referrers API on this registry.
    let resp = client()
        .get(format!(
            "{}/v2/rex/artifact/referrers/{}",
            shared.url(),
            fx.artifact.subject.digest
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn standard_fixtures_through_token_auth() {
    let shared = TestRegistry::shared("token");
    check_fixtures(
        shared,
        &shared.fixtures,
        PushAuth::Token(Credentials::new(SHARED_USER, SHARED_PASSWORD)),
    )
    .await;
    assert!(shared.token_server().expect("ts").request_count() > 0);
}

#[tokio::test]
async fn standard_fixtures_over_tls_with_basic() {
    let shared = TestRegistry::shared("tls-basic");
    check_fixtures(
        shared,
        &shared.fixtures,
        PushAuth::Basic(Credentials::new(SHARED_USER, SHARED_PASSWORD)),
    )
    .await;
}

#[tokio::test]
#[allow(clippy::print_stderr)] // timing is the point of reporting here
async fn fixture_push_timings() {
    let reg = TestRegistry::start_async(Mode::Anonymous).await;
    let t = Instant::now();
    let fx = reg.push_standard().expect("standard");
    let standard = t.elapsed();
    eprintln!("push_standard: {standard:?}");
    assert!(standard < Duration::from_secs(30), "{standard:?}");
    assert_eq!(fx.repositories().len(), 10);
}

#[tokio::test]
#[allow(clippy::print_stderr)]
async fn large_fixtures_span_catalog_pages() {
    let t = Instant::now();
    let shared = TestRegistry::shared("large");
    eprintln!("shared large (start + standard + large): {:?}", t.elapsed());
    let fx = &shared.fixtures;
    let large = fx.large.as_ref().expect("large set");
    assert_eq!(large.tags.len(), 1200);
    assert_eq!(large.images.len(), 1000);
    let distinct: BTreeSet<&String> = large.tags.values().collect();
    assert_eq!(distinct.len(), 1000);
    assert_eq!(large.repos.len(), 1100);

    let p = shared.pusher();
    let (repos100, pages100) = catalog_all(&p, 100).await;
    let (repos1000, pages1000) = catalog_all(&p, 1000).await;
    let expected = fx.repositories();
    assert!(expected.len() > 1100);
    assert_eq!(repos100.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(repos1000, repos100);
    assert_eq!(pages100, expected.len().div_ceil(100));
    assert_eq!(pages1000, 2);
    let over = client()
        .get(format!("{}/v2/_catalog?n=1001", shared.url()))
        .send()
        .await
        .expect("get");
    assert_eq!(over.status(), 400);

    let body: Value = client()
        .get(format!("{}/v2/{}/tags/list", shared.url(), large.tags_repo))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(body["tags"].as_array().expect("tags").len(), 1200);
    // Spot-check that tags resolve to the recorded digests, aliases included.
    for tag in ["t0000", "t0999", "t1000", "t1199"] {
        let resp = client()
            .head(format!(
                "{}/v2/{}/manifests/{tag}",
                shared.url(),
                large.tags_repo
            ))
            .header("accept", accept_all())
            .send()
            .await
            .expect("head");
        assert_eq!(
            resp.headers()["docker-content-digest"]
                .to_str()
                .expect("ascii"),
            large.tags[tag]
        );
    }
    assert_eq!(large.tags["t1199"], large.tags["t0199"]);
    assert_ne!(large.images[0].created(), large.images[999].created());
}

#[tokio::test]
async fn fault_429_then_success() {
    let f = FaultServer::start();
    let url = format!("{}/v2/fault-429/manifests/latest", f.url());
    let r1 = client().get(&url).send().await.expect("get");
    assert_eq!(r1.status(), 429);
    assert_eq!(r1.headers()["retry-after"], "1");
    let r2 = client().get(&url).send().await.expect("get");
    assert_eq!(r2.status(), 200);
    assert_eq!(r2.headers()["docker-content-digest"], f.manifest_digest());
    assert_eq!(f.hits("fault-429"), 2);
    f.reset();
    assert_eq!(f.hits("fault-429"), 0);
}

#[tokio::test]
async fn fault_503_twice_then_success() {
    let f = FaultServer::start();
    let url = format!("{}/v2/fault-503/tags/list", f.url());
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            client()
                .get(&url)
                .send()
                .await
                .expect("get")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [503, 503, 200]);
    assert_eq!(f.hits("fault-503"), 3);
}

#[tokio::test]
async fn fault_reset_mid_body() {
    let f = FaultServer::start();
    let resp = client()
        .get(format!("{}/v2/fault-reset/manifests/latest", f.url()))
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(f.manifest_bytes().len() as u64));
    assert!(resp.bytes().await.is_err(), "body must fail");
}

#[tokio::test]
async fn fault_digest_mismatch() {
    let f = FaultServer::start();
    let resp = client()
        .get(format!("{}/v2/fault-digest/manifests/latest", f.url()))
        .send()
        .await
        .expect("get");
    let header = resp.headers()["docker-content-digest"]
        .to_str()
        .expect("ascii")
        .to_string();
    let body = resp.bytes().await.expect("body");
    assert_ne!(header, oci::sha256_digest(&body));
    assert_eq!(oci::sha256_digest(&body), f.manifest_digest());
}

#[tokio::test]
async fn fault_redirect_records_authorization_on_the_other_host() {
    let f = FaultServer::start();
    let blob = format!("{}/v2/fault-redirect/blobs/{}", f.url(), f.layer_digest());
    assert_eq!(client().get(&blob).send().await.expect("get").status(), 401);
    // reqwest drops Authorization on a cross-host redirect.
    let following = reqwest::Client::new();
    let resp = following
        .get(&blob)
        .basic_auth("u", Some("p"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.expect("body").as_ref(), f.layer_bytes());
    assert_eq!(f.other_requests().len(), 1);
    assert!(!f.other_saw_authorization());
    // A client that forwards the header is caught.
    let r = client()
        .get(&blob)
        .basic_auth("u", Some("p"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 307);
    let location = r.headers()["location"].to_str().expect("ascii").to_string();
    assert!(location.starts_with(&f.other_url()));
    client()
        .get(&location)
        .basic_auth("u", Some("p"))
        .send()
        .await
        .expect("get");
    assert!(f.other_saw_authorization());
    assert_eq!(f.hits("fault-redirect"), 3);
}

#[tokio::test]
async fn fault_realm_on_another_host() {
    let f = FaultServer::start();
    let url = format!("{}/v2/fault-realm/manifests/latest", f.url());
    let first = client().get(&url).send().await.expect("get");
    assert_eq!(first.status(), 401);
    let (realm, service, scope) = bearer(&first);
    assert!(realm.starts_with(&f.other_url()));
    let body: Value = token_for(&realm, &service, &[&scope], Some(("u", "p")))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["token"], FAULT_TOKEN);
    let ok = client()
        .get(&url)
        .bearer_auth(FAULT_TOKEN)
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
    let token_req = &f.other_requests()[0];
    assert!(token_req.target.starts_with("/token?"));
    assert!(token_req.header("authorization").is_some());
}

#[tokio::test]
async fn fault_malformed_and_oversize() {
    let f = FaultServer::start();
    let bad = client()
        .get(format!("{}/v2/fault-malformed/manifests/latest", f.url()))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    assert!(serde_json::from_slice::<Value>(&bad).is_err());

    let big = client()
        .get(format!("{}/v2/fault-oversize/manifests/latest", f.url()))
        .send()
        .await
        .expect("get");
    assert_eq!(big.content_length(), Some(OVERSIZE_BYTES as u64));
    let body = big.bytes().await.expect("body");
    assert_eq!(body.len(), OVERSIZE_BYTES);
    assert!(serde_json::from_slice::<Value>(&body).is_ok());

    let chunked = client()
        .get(format!(
            "{}/v2/fault-oversize-chunked/manifests/latest",
            f.url()
        ))
        .send()
        .await
        .expect("get");
    assert!(chunked.headers().get("content-length").is_none());
    assert_eq!(chunked.bytes().await.expect("body").len(), OVERSIZE_BYTES);
}

#[tokio::test]
async fn fault_slow_exceeds_a_timeout() {
    let f = FaultServer::start();
    f.set_slow_delay(Duration::from_millis(1500));
    let t = Instant::now();
    let err = client()
        .get(format!("{}/v2/fault-slow/manifests/latest", f.url()))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .expect_err("must time out");
    assert!(err.is_timeout(), "{err:?}");
    assert!(t.elapsed() < Duration::from_millis(1000));
    assert_eq!(f.hits("fault-slow"), 1);
    let unknown = client()
        .get(format!("{}/v2/nope/manifests/latest", f.url()))
        .send()
        .await
        .expect("get");
    assert_eq!(unknown.status(), 404);
}

/// `(status, Link header, JSON body)` of a GET on the fault server.
async fn get_json(url: &str) -> (u16, Option<String>, Value) {
    let resp = client().get(url).send().await.expect("get");
    let status = resp.status().as_u16();
    let link = resp
        .headers()
        .get("link")
        .map(|v| v.to_str().expect("ascii").to_string());
    (status, link, resp.json().await.expect("json"))
}

#[tokio::test]
async fn fault_pages_link_relative_then_absolute() {
    let f = FaultServer::start();
    let base = format!("{}/v2/fault-pages/tags/list", f.url());
    let (_, link, body) = get_json(&format!("{base}?n=2")).await;
    assert_eq!(body["tags"], serde_json::json!(["p1", "p2"]));
    assert_eq!(
        link.as_deref(),
        Some("</v2/fault-pages/tags/list?n=2&last=p2>; rel=\"next\"")
    );
    let (_, link, body) = get_json(&format!("{base}?n=2&last=p2")).await;
    assert_eq!(body["tags"], serde_json::json!(["p3", "p4"]));
    assert_eq!(
        link,
        Some(format!(
            "<{}/v2/fault-pages/tags/list?n=2&last=p4>; rel=\"next\"",
            f.url()
        ))
    );
    let (_, link, body) = get_json(&format!("{base}?n=2&last=p4")).await;
    assert_eq!(body["tags"], serde_json::json!(["p5"]));
    assert_eq!(link, None);
    // Without `n`, everything in one page.
    let (_, link, body) = get_json(&base).await;
    assert_eq!(
        body["tags"].as_array().map(Vec::len),
        Some(PAGED_TAGS.len())
    );
    assert_eq!(link, None);
}

#[tokio::test]
async fn fault_link_loops_and_null_tags() {
    let f = FaultServer::start();
    let (_, link, _) = get_json(&format!("{}/v2/fault-link-self/tags/list?n=7", f.url())).await;
    assert_eq!(
        link.as_deref(),
        Some("</v2/fault-link-self/tags/list?n=7>; rel=\"next\"")
    );
    let first = format!("{}/v2/fault-link-cycle/tags/list?n=3", f.url());
    let (_, link, body) = get_json(&first).await;
    assert_eq!(body["tags"], serde_json::json!(["c1"]));
    assert_eq!(
        link.as_deref(),
        Some("</v2/fault-link-cycle/tags/list?n=3&last=c1>; rel=\"next\"")
    );
    let (_, link, body) = get_json(&format!("{first}&last=c1")).await;
    assert_eq!(body["tags"], serde_json::json!(["c2"]));
    assert_eq!(
        link.as_deref(),
        Some("</v2/fault-link-cycle/tags/list?n=3>; rel=\"next\"")
    );
    let (status, _, body) = get_json(&format!("{}/v2/fault-tags-null/tags/list", f.url())).await;
    assert_eq!(status, 200);
    assert!(body["tags"].is_null(), "{body}");
    let (_, link, body) = get_json(&format!("{}/v2/_catalog?n=5", f.url())).await;
    assert_eq!(
        body["repositories"].as_array().map(Vec::len),
        Some(SCENARIOS.len())
    );
    assert_eq!(link.as_deref(), Some("</v2/_catalog?n=5>; rel=\"next\""));
}

#[tokio::test]
async fn fault_blob_body_is_not_the_blob_asked_for() {
    let f = FaultServer::start();
    for (digest, header) in [(f.config_digest(), true), (f.layer_digest(), false)] {
        let resp = client()
            .get(format!("{}/v2/fault-blob-body/blobs/{digest}", f.url()))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200);
        let got = resp
            .headers()
            .get("docker-content-digest")
            .map(|v| v.to_str().expect("ascii").to_string());
        assert_eq!(got, header.then(|| digest.clone()));
        let body = resp.bytes().await.expect("body");
        assert_ne!(oci::sha256_digest(&body), digest);
    }
    // The manifest itself is sound.
    let resp = client()
        .get(format!("{}/v2/fault-blob-body/manifests/latest", f.url()))
        .send()
        .await
        .expect("get");
    assert_eq!(
        oci::sha256_digest(&resp.bytes().await.expect("body")),
        f.manifest_digest()
    );
}

#[tokio::test]
async fn fault_referrers_api_answers_an_index() {
    let f = FaultServer::start();
    let resp = client()
        .get(format!(
            "{}/v2/fault-referrers/referrers/{}",
            f.url(),
            f.manifest_digest()
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], oci::OCI_INDEX);
    let body: Value = resp.json().await.expect("json");
    let listed: Vec<(String, String)> = body["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|d| {
            (
                d["digest"].as_str().unwrap_or_default().to_string(),
                d["artifactType"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(listed, f.referrers());
    assert_eq!(listed.len(), 2);
}

#[tokio::test]
async fn fault_realm_variants_reply_shapes() {
    let f = FaultServer::start();
    for (repo, token, has_token, has_access, expires) in [
        (
            "fault-realm-access",
            ACCESS_ONLY_TOKEN,
            false,
            true,
            Some(300),
        ),
        ("fault-realm-noexp", NO_EXPIRY_TOKEN, true, false, None),
        ("fault-realm-short", SHORT_TOKEN, true, false, Some(1)),
    ] {
        let url = format!("{}/v2/{repo}/manifests/latest", f.url());
        let first = client().get(&url).send().await.expect("get");
        assert_eq!(first.status(), 401, "{repo}");
        let (realm, service, scope) = bearer(&first);
        assert!(realm.starts_with(&f.other_url()), "{repo}: {realm}");
        assert_eq!(scope, format!("repository:{repo}:pull"));
        let body: Value = token_for(&realm, &service, &[&scope], None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(body.get("token").is_some(), has_token, "{repo}: {body}");
        assert_eq!(
            body.get("access_token").is_some(),
            has_access,
            "{repo}: {body}"
        );
        assert_eq!(body["expires_in"].as_i64(), expires, "{repo}: {body}");
        let ok = client()
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        assert_eq!(ok.status(), 200, "{repo}");
        // Another scenario's token is not accepted.
        let wrong = client()
            .get(&url)
            .bearer_auth(FAULT_TOKEN)
            .send()
            .await
            .expect("get");
        assert_eq!(wrong.status(), 401, "{repo}");
    }
}

#[tokio::test]
async fn fault_in_flight_counts_overlapping_requests() {
    let f = FaultServer::start();
    f.set_in_flight_delay(Duration::from_millis(200));
    let url = format!("{}/v2/fault-inflight/manifests/latest", f.url());
    let c = client();
    let all = futures::future::join_all((0..3).map(|_| c.get(&url).send())).await;
    for r in all {
        assert_eq!(r.expect("get").status(), 200);
    }
    assert_eq!(f.max_in_flight(), 3);
    f.reset();
    for _ in 0..2 {
        c.get(&url).send().await.expect("get");
    }
    assert_eq!(f.max_in_flight(), 1, "one after the other never overlaps");
}

#[test]
fn rex_command_isolates_the_environment() {
    let home = rex_tests::cli::RexHome::new();
    let cmd = home.command("/usr/bin/env");
    assert!(cmd.get_envs().any(|(k, v)| k == "NO_COLOR" && v.is_none()));
    let out = home.command("/usr/bin/env").output().expect("run env");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&format!("HOME={}", home.home().display()).as_str()));
    assert!(lines.contains(&format!("XDG_CONFIG_HOME={}", home.config_home().display()).as_str()));
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("REX_") || l.starts_with("NO_COLOR=")));
    assert!(home.home().join(".docker").is_dir());
}
