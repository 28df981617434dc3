//! The client against a misbehaving server (the harness fault server): rate limits,
//! flaky 503s, resets, wrong digests, cross-host redirects and token realms, malformed
//! JSON, oversize and slow responses; tag pages and Link loops, blob bodies that do not
//! match their digest, the referrers API, token reply shapes, and TLS verification.

mod net_common;

use futures::StreamExt;
use net_common::Conn;
use rex_core::digest::Digest;
use rex_core::reference::Reference;
use rex_core::ErrorKind;
use rex_tests::faults::{FaultServer, ACCESS_ONLY_TOKEN, FAULT_TOKEN, NO_EXPIRY_TOKEN, PAGED_TAGS};
use rex_tests::proxy::ConnectProxy;
use rex_tests::TestRegistry;
use std::time::{Duration, Instant};

fn digest(s: &str) -> Digest {
    Digest::parse(s).unwrap()
}

#[tokio::test]
async fn rate_limit_429_honours_retry_after_then_succeeds() {
    let f = FaultServer::start();
    f.set_retry_after(1);
    let rex = Conn::new(f.url()).connect();
    let started = Instant::now();
    let m = rex
        .client()
        .get_manifest("fault-429", "latest")
        .await
        .expect("succeeds after the 429");
    assert_eq!(m.digest, digest(f.manifest_digest()));
    assert_eq!(f.hits("fault-429"), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured ({:?})",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_is_capped_by_max_retry_after() {
    let f = FaultServer::start();
    f.set_retry_after(3600);
    let rex = Conn::new(f.url())
        .client(|o| o.max_retry_after = Duration::from_millis(100))
        .connect();
    let started = Instant::now();
    rex.client()
        .get_manifest("fault-429", "latest")
        .await
        .expect("succeeds");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn service_unavailable_twice_then_success() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    let tags = rex
        .list_tags("fault-503")
        .await
        .expect("third attempt succeeds");
    assert_eq!(tags, vec!["latest".to_owned()]);
    assert_eq!(f.hits("fault-503"), 3);
}

#[tokio::test]
async fn service_unavailable_beyond_the_retry_budget_is_a_network_error() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url())
        .client(|o| o.retry_attempts = 1)
        .connect();
    let e = rex.list_tags("fault-503").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network);
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.registry_errors()[0].code, "UNAVAILABLE");
    assert_eq!(f.hits("fault-503"), 2);
}

#[tokio::test]
async fn connection_reset_mid_body_is_retried_then_reported() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    let e = rex
        .client()
        .get_manifest("fault-reset", "latest")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert_eq!(f.hits("fault-reset"), 4, "1 attempt + 3 retries");
    // Streaming: the error arrives as a stream item, never as a silent short body.
    let mut s = rex
        .client()
        .get_blob_stream("fault-reset", &digest(&f.layer_digest()))
        .await
        .expect("headers arrive");
    let mut saw_error = false;
    while let Some(item) = s.next().await {
        if let Err(e) = item {
            assert!(matches!(e.kind(), ErrorKind::Network | ErrorKind::General));
            saw_error = true;
            break;
        }
    }
    assert!(saw_error, "a truncated blob must not end cleanly");
}

#[tokio::test]
async fn digest_mismatch_is_detected() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    let e = rex
        .client()
        .get_manifest("fault-digest", "latest")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::General);
    assert!(e.message().contains("digest mismatch"), "{}", e.message());
    // Asking by a digest the content does not have is caught as well.
    let wrong = Digest::sha256_of(b"something else");
    let e = rex
        .client()
        .get_manifest("fault-503", wrong.as_str())
        .await
        .unwrap_err();
    assert!(e.message().contains("digest mismatch"), "{}", e.message());
}

#[tokio::test]
async fn redirect_to_another_host_never_carries_authorization() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).creds("alice", "secret").connect();
    let layer = digest(&f.layer_digest());
    let blob = rex
        .client()
        .get_blob("fault-redirect", &layer)
        .await
        .expect("blob via redirect");
    assert_eq!(blob.as_ref(), f.layer_bytes());
    let mut s = rex
        .client()
        .get_blob_stream("fault-redirect", &layer)
        .await
        .expect("stream via redirect");
    let mut n = 0;
    while let Some(c) = s.next().await {
        n += c.expect("verified chunk").len();
    }
    assert_eq!(n, f.layer_bytes().len());
    // The registry itself did get credentials (it demands them)...
    assert!(f
        .requests("fault-redirect")
        .iter()
        .any(|r| r.header("authorization").is_some()));
    // ...the storage host never did.
    assert_eq!(f.other_requests().len(), 2);
    assert!(!f.other_saw_authorization());
}

#[tokio::test]
async fn token_realm_on_another_host() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    let m = rex
        .client()
        .get_manifest("fault-realm", "latest")
        .await
        .expect("token from the foreign realm");
    assert_eq!(m.digest, digest(f.manifest_digest()));
    let token_reqs: Vec<_> = f
        .other_requests()
        .into_iter()
        .filter(|r| r.target.starts_with("/token"))
        .collect();
    assert_eq!(token_reqs.len(), 1);
    assert!(token_reqs[0]
        .target
        .contains("scope=repository%3Afault-realm%3Apull"));
    assert!(token_reqs[0].target.contains("service=fault"));
    // The token is cached: a second request needs no new token and goes out with it.
    rex.client()
        .get_manifest("fault-realm", "latest")
        .await
        .unwrap();
    assert_eq!(
        f.other_requests()
            .iter()
            .filter(|r| r.target.starts_with("/token"))
            .count(),
        1
    );
    let last = f.requests("fault-realm").pop().unwrap();
    assert_eq!(
        last.header("authorization"),
        Some(format!("Bearer {FAULT_TOKEN}").as_str())
    );
}

#[tokio::test]
async fn malformed_json_is_a_clear_error() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    let e = rex
        .client()
        .get_manifest("fault-malformed", "latest")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::General);
    assert!(e.message().contains("JSON"), "{}", e.message());
    let e = rex.list_tags("fault-malformed").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::General);
    assert!(e.message().contains("invalid tag list"), "{}", e.message());
}

#[tokio::test]
async fn oversize_manifests_are_refused_with_and_without_length() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    for repo in ["fault-oversize", "fault-oversize-chunked"] {
        let e = rex.client().get_manifest(repo, "latest").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::General, "{repo}");
        assert!(
            e.message().contains("exceeds the 4 MiB limit"),
            "{repo}: {}",
            e.message()
        );
    }
}

#[tokio::test]
async fn slow_response_times_out_quickly_and_fast_enough_succeeds() {
    let f = FaultServer::start();
    f.set_slow_delay(Duration::from_millis(1500));
    let rex = Conn::new(f.url())
        .client(|o| {
            o.timeout = Duration::from_millis(300);
            o.retry_attempts = 1;
        })
        .connect();
    let started = Instant::now();
    let e = rex
        .client()
        .get_manifest("fault-slow", "latest")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network);
    assert!(e.message().contains("timed out"), "{}", e.message());
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );

    f.set_slow_delay(Duration::from_millis(50));
    rex.client()
        .get_manifest("fault-slow", "latest")
        .await
        .expect("within the timeout");
}

#[tokio::test]
async fn connection_refused_has_the_registry_hint() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let rex = Conn::new(format!("http://127.0.0.1:{port}")).connect();
    let e = rex.ping().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network);
    assert!(
        e.message().contains("connection refused"),
        "{}",
        e.message()
    );
    assert_eq!(e.hint(), Some("Is the registry running?"));
}

#[tokio::test]
async fn proxies_come_only_from_settings_and_honour_no_proxy() {
    let f = FaultServer::start();
    // The fault server's second host plays the forward proxy: it records what it gets.
    let proxied = Conn::new(f.url())
        .network(|n| n.proxy.http = Some(f.other_url()))
        .connect();
    let e = proxied.ping().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "the proxy answers 404: {e}");
    let seen = f.other_requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].target.contains("/v2/"), "{:?}", seen[0].target);

    // NO_PROXY matching the registry host goes direct.
    let direct = Conn::new(f.url())
        .network(|n| {
            n.proxy.http = Some(f.other_url());
            n.proxy.no_proxy = Some("example.com, 127.0.0.1".into());
        })
        .connect();
    direct.ping().await.expect("direct connection");
    assert_eq!(f.other_requests().len(), 1, "no_proxy bypassed the proxy");
}

/// HTTPS through a forward proxy is a `CONNECT` tunnel: TLS to the real registry runs
/// inside it (verified against the harness CA), and the proxy sees only the target.
#[tokio::test]
async fn https_registries_are_reached_through_a_connect_proxy() {
    let reg = TestRegistry::shared("tls");
    let proxy = ConnectProxy::start();
    let rex = Conn::new(reg.url())
        .ca(reg.ca_cert_path().map(Into::into))
        .network(|n| n.proxy.https = Some(proxy.url()))
        .connect();
    rex.ping().await.expect("ping through the tunnel");
    let image = &reg.fixtures.oci_image;
    let tags = rex
        .list_tags(&image.repo)
        .await
        .expect("tags through the tunnel");
    assert!(tags.contains(&image.tags[0]), "{tags:?}");
    let connects = proxy.connects();
    assert!(
        !connects.is_empty(),
        "rex went direct, not through the proxy"
    );
    assert!(
        connects.iter().all(|c| *c == reg.host_port()),
        "{connects:?} vs {}",
        reg.host_port()
    );

    // An https proxy setting does not apply to a plain-http registry.
    let plain = TestRegistry::shared("anonymous");
    let before = proxy.connects().len();
    Conn::new(plain.url())
        .network(|n| n.proxy.https = Some(proxy.url()))
        .connect()
        .ping()
        .await
        .expect("direct");
    assert_eq!(proxy.connects().len(), before);
}

#[tokio::test]
async fn requests_carry_the_rex_user_agent() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    rex.list_tags("fault-503").await.unwrap();
    let ua = f.requests("fault-503")[0]
        .header("user-agent")
        .map(str::to_owned);
    assert_eq!(
        ua.as_deref(),
        Some(concat!("rex/", env!("CARGO_PKG_VERSION")))
    );
}

#[tokio::test]
async fn tag_pages_follow_relative_then_absolute_links_with_the_page_size() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).network(|n| n.page_size = 2).connect();
    let tags = rex.list_tags("fault-pages").await.expect("all pages");
    assert_eq!(tags, PAGED_TAGS, "every tag once, in order");
    let reqs = f.requests("fault-pages");
    assert_eq!(
        reqs.len(),
        3,
        "{:?}",
        reqs.iter().map(|r| &r.target).collect::<Vec<_>>()
    );
    // `n` goes out on the first request; the links (relative, then absolute) keep it.
    assert_eq!(reqs[0].target, "/v2/fault-pages/tags/list?n=2");
    assert_eq!(reqs[1].target, "/v2/fault-pages/tags/list?n=2&last=p2");
    assert_eq!(reqs[2].target, "/v2/fault-pages/tags/list?n=2&last=p4");
}

#[tokio::test]
async fn a_link_loop_is_a_clear_error_not_an_endless_listing() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    for (repo, pages) in [("fault-link-self", 1), ("fault-link-cycle", 2)] {
        let e = rex.list_tags(repo).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::General, "{repo}: {e}");
        assert!(e.message().contains("Link"), "{repo}: {}", e.message());
        assert!(e.message().contains("already"), "{repo}: {}", e.message());
        assert_eq!(f.hits(repo), pages, "{repo}: each page fetched once");
    }
    // The catalog has the same guard.
    let e = rex.list_repositories().await.unwrap_err();
    assert!(e.message().contains("already fetched"), "{}", e.message());
}

#[tokio::test]
async fn null_tags_are_an_empty_list() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    assert!(rex.list_tags("fault-tags-null").await.unwrap().is_empty());
    assert_eq!(f.hits("fault-tags-null"), 1);
}

#[tokio::test]
async fn blob_bodies_that_do_not_match_the_digest_are_refused() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    // Capped path: the config of an inspect (the header even claims the right digest).
    let reference = Reference::parse(&format!("{}/fault-blob-body:latest", f.host_port())).unwrap();
    let e = rex.inspect(&reference, None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::General, "{e}");
    assert!(e.message().contains("digest mismatch"), "{}", e.message());
    assert!(e.message().contains(&f.config_digest()), "{}", e.message());
    let e = rex
        .client()
        .get_blob("fault-blob-body", &digest(&f.config_digest()))
        .await
        .unwrap_err();
    assert!(e.message().contains("digest mismatch"), "{}", e.message());

    // Streamed path (no header at all): every byte arrives, then the mismatch.
    let mut s = rex
        .client()
        .get_blob_stream("fault-blob-body", &digest(&f.layer_digest()))
        .await
        .expect("headers arrive");
    let mut last_err = None;
    while let Some(item) = s.next().await {
        if let Err(e) = item {
            last_err = Some(e);
        }
    }
    let e = last_err.expect("a mismatched stream must end in an error");
    assert_eq!(e.kind(), ErrorKind::General);
    assert!(e.message().contains("digest mismatch"), "{}", e.message());
}

#[tokio::test]
async fn referrers_api_answer_is_used_without_the_tag_fallback() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    let subject = digest(f.manifest_digest());
    let got = rex
        .referrers("fault-referrers", &subject)
        .await
        .expect("referrers");
    let got: Vec<(String, Option<String>)> = got
        .into_iter()
        .map(|d| (d.digest.to_string(), d.artifact_type))
        .collect();
    let want: Vec<(String, Option<String>)> = f
        .referrers()
        .iter()
        .map(|(d, t)| (d.clone(), Some(t.clone())))
        .collect();
    assert_eq!(got, want);
    let targets: Vec<String> = f
        .requests("fault-referrers")
        .into_iter()
        .map(|r| r.target)
        .collect();
    assert_eq!(
        targets,
        [format!("/v2/fault-referrers/referrers/{subject}")],
        "the sha256-<hex> fallback tag must not be asked for"
    );
}

fn token_fetches(f: &FaultServer, path: &str) -> usize {
    f.other_requests()
        .iter()
        .filter(|r| r.target.split('?').next() == Some(path))
        .count()
}

#[tokio::test]
async fn token_reply_with_only_access_token() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    let m = rex
        .client()
        .get_manifest("fault-realm-access", "latest")
        .await
        .expect("access_token accepted");
    assert_eq!(m.digest, digest(f.manifest_digest()));
    let last = f.requests("fault-realm-access").pop().unwrap();
    assert_eq!(
        last.header("authorization"),
        Some(format!("Bearer {ACCESS_ONLY_TOKEN}").as_str())
    );
    assert_eq!(token_fetches(&f, "/token-access"), 1);
}

#[tokio::test]
async fn token_without_expires_in_lives_the_default_ttl() {
    let f = FaultServer::start();
    let rex = Conn::new(f.url()).connect();
    // Control: a token that says `expires_in: 1` is fetched again after it expires...
    for _ in 0..2 {
        rex.client()
            .get_manifest("fault-realm-short", "latest")
            .await
            .expect("short token");
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    assert_eq!(token_fetches(&f, "/token-short"), 2);
    // ...one without `expires_in` is not (default 60 s): one fetch for the whole run.
    for _ in 0..3 {
        rex.client()
            .get_manifest("fault-realm-noexp", "latest")
            .await
            .expect("token without expires_in");
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    rex.client()
        .get_manifest("fault-realm-noexp", "latest")
        .await
        .unwrap();
    assert_eq!(token_fetches(&f, "/token-noexp"), 1);
    let reqs = f.requests("fault-realm-noexp");
    let bearer = format!("Bearer {NO_EXPIRY_TOKEN}");
    assert_eq!(
        reqs.iter()
            .filter(|r| r.header("authorization") == Some(bearer.as_str()))
            .count(),
        4,
        "every GET after the challenge carries the cached token"
    );
}

#[tokio::test]
async fn global_no_verify_tls_reaches_the_tls_registry_without_its_ca() {
    let reg = TestRegistry::shared("tls");
    // Verification on, CA not trusted: a TLS error of kind Network (exit code 3).
    let strict = Conn::new(reg.url()).connect();
    let e = strict.list_tags("rex/oci-image").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert!(e.message().contains("TLS"), "{}", e.message());
    assert!(
        e.hint().unwrap_or("").contains("verify-tls"),
        "{:?}",
        e.hint()
    );
    // Global `verify_tls = false` (not the per-registry skip): the same calls work.
    let lax = Conn::new(reg.url())
        .network(|n| n.verify_tls = false)
        .connect();
    assert!(lax.ping().await.is_ok());
    let tags = lax.list_tags("rex/oci-image").await.expect("tags over TLS");
    assert!(!tags.is_empty());
}
