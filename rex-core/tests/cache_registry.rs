//! The registry layer reads through the cache: request counts the real registry
//! received prove which level serves what (docs/cache.md).

mod net_common;

use net_common::Conn;
use rex_core::cache::{CacheBuilder, CacheKey, Lookup};
use rex_core::config::{CacheSettings, Consistency, Settings};
use rex_core::reference::Reference;
use rex_core::registry::Rex;
use rex_tests::{Mode, TestRegistry};
use std::path::Path;

fn registry() -> TestRegistry {
    let reg = TestRegistry::start(Mode::Anonymous);
    reg.push_standard().expect("push fixtures");
    reg
}

fn rex(reg: &TestRegistry, dir: &Path, f: impl FnOnce(&mut CacheSettings)) -> Rex {
    let mut settings = CacheSettings::default();
    f(&mut settings);
    let cache = CacheBuilder::new(Some(dir.to_path_buf()))
        .settings(&settings)
        .fsync(false)
        .open()
        .expect("cache");
    Conn::new(reg.url()).connect().with_cache(cache)
}

/// Manifest and config (blob) requests so far.
fn body_requests(reg: &TestRegistry) -> (usize, usize) {
    (
        reg.request_count("*", "/manifests/"),
        reg.request_count("GET", "/blobs/"),
    )
}

async fn listing(rex: &Rex, repo: &str) -> Vec<String> {
    let tags = rex.list_tags(repo).await.expect("tags");
    let details = rex
        .tag_details(repo, &tags, |_, _| {})
        .await
        .expect("details");
    assert_eq!(details.len(), tags.len());
    details.iter().map(|d| d.digest.to_string()).collect()
}

#[tokio::test]
async fn warm_listing_makes_no_tag_manifest_or_config_request() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let cold = listing(&rex(&reg, dir.path(), |_| {}), "rex/multiarch").await;
    let tags_before = reg.request_count("GET", "/tags/list");
    let bodies_before = body_requests(&reg);
    assert!(bodies_before.0 > 0 && bodies_before.1 > 0);
    // A new facade (a new process): memory is empty, the disk tier serves everything.
    let warm = listing(&rex(&reg, dir.path(), |_| {}), "rex/multiarch").await;
    assert_eq!(warm, cold);
    assert_eq!(reg.request_count("GET", "/tags/list"), tags_before);
    assert_eq!(body_requests(&reg), bodies_before);
}

#[tokio::test]
async fn expired_tag_list_is_fetched_again_manifests_are_not() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let short = |c: &mut CacheSettings| c.ttl.tags = 1;
    listing(&rex(&reg, dir.path(), short), "rex/oci-image").await;
    let tags_before = reg.request_count("GET", "/tags/list");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let manifests_by_digest = reg.request_count("GET", "/manifests/sha256:");
    let r = rex(&reg, dir.path(), short);
    r.list_tags("rex/oci-image").await.unwrap();
    assert_eq!(reg.request_count("GET", "/tags/list"), tags_before + 1);
    // The tag -> digest snapshot expired with the list: tags are resolved again (GET by
    // tag), but no manifest is fetched by digest and no config at all.
    let blobs = reg.request_count("GET", "/blobs/");
    let tags = r.list_tags("rex/oci-image").await.unwrap();
    r.tag_details("rex/oci-image", &tags, |_, _| {})
        .await
        .unwrap();
    assert_eq!(reg.request_count("GET", "/blobs/"), blobs);
    assert_eq!(
        reg.request_count("GET", "/manifests/sha256:"),
        manifests_by_digest
    );
}

#[tokio::test]
async fn strong_consistency_revalidates_lists_but_trusts_digests() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    listing(&rex(&reg, dir.path(), |_| {}), "rex/oci-image").await;
    let tags_before = reg.request_count("GET", "/tags/list");
    let blobs_before = reg.request_count("GET", "/blobs/");
    let by_tag_before = reg.request_count("GET", "/manifests/latest");
    let strong = rex(&reg, dir.path(), |c| {
        c.behavior.consistency = Consistency::Strong
    });
    assert_eq!(strong.cache().consistency(), Consistency::Strong);
    listing(&strong, "rex/oci-image").await;
    assert_eq!(reg.request_count("GET", "/tags/list"), tags_before + 1);
    // Every tag is resolved again by the registry...
    assert_eq!(
        reg.request_count("GET", "/manifests/latest"),
        by_tag_before + 1
    );
    // ...but digest-addressed configs cannot change: still served from the cache.
    assert_eq!(reg.request_count("GET", "/blobs/"), blobs_before);
}

/// Responses the registry answered `304 Not Modified` whose target contains `path`.
fn not_modified(reg: &TestRegistry, path: &str) -> usize {
    // request_count waits until the access log is stable.
    reg.request_count("*", path);
    reg.access_log()
        .iter()
        .filter(|e| e.status == 304 && e.target.contains(path))
        .count()
}

/// Tag -> digest of a listing.
async fn listing_map(rex: &Rex, repo: &str) -> std::collections::BTreeMap<String, String> {
    let tags = rex.list_tags(repo).await.expect("tags");
    rex.tag_details(repo, &tags, |_, _| {})
        .await
        .expect("details")
        .into_iter()
        .map(|d| (d.tag, d.digest.to_string()))
        .collect()
}

async fn pushed(reg: &TestRegistry, repo: &str, seed: u64, tags: &[&str]) -> String {
    let spec = rex_tests::fixtures::ImageSpec::new(seed);
    rex_tests::fixtures::push_image(&reg.pusher(), repo, &spec, tags)
        .await
        .expect("push image")
        .digest
}

#[tokio::test]
async fn strong_revalidates_tags_with_if_none_match_and_sees_a_moved_tag() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let repo = "etag/app";
    let a = pushed(&reg, repo, 101, &["stable", "moving"]).await;
    let dir = tempfile::tempdir().unwrap();
    let cold = listing_map(&rex(&reg, dir.path(), |_| {}), repo).await;
    assert_eq!(cold["moving"], a);
    assert_eq!(
        not_modified(&reg, "/manifests/"),
        0,
        "nothing conditional yet"
    );

    let strong = rex(&reg, dir.path(), |c| {
        c.behavior.consistency = Consistency::Strong
    });
    let by_tag = reg.request_count("GET", "/etag/app/manifests/moving");
    let by_digest = reg.request_count("GET", "/manifests/sha256:");
    let blobs = reg.request_count("GET", "/blobs/");
    assert_eq!(listing_map(&strong, repo).await, cold);
    // Each tag asked again (a GET by tag), each answered 304: no manifest body by tag
    // or digest, no config downloaded.
    assert_eq!(
        reg.request_count("GET", "/etag/app/manifests/moving"),
        by_tag + 1
    );
    assert_eq!(not_modified(&reg, "/etag/app/manifests/"), 2);
    assert_eq!(reg.request_count("GET", "/manifests/sha256:"), by_digest);
    assert_eq!(reg.request_count("GET", "/blobs/"), blobs);
    // A single tag under strong consistency is revalidated the same way.
    let moving = Reference::parse("etag/app:moving").unwrap();
    assert_eq!(
        strong.get_manifest(&moving).await.unwrap().digest.as_str(),
        a
    );
    assert_eq!(not_modified(&reg, "/etag/app/manifests/moving"), 2);

    // The tag moves: the registry answers in full and the new digest is shown.
    let b = pushed(&reg, repo, 202, &["moving"]).await;
    assert_ne!(a, b);
    let moved = listing_map(&strong, repo).await;
    assert_eq!(moved["moving"], b);
    assert_eq!(moved["stable"], a);
    assert_eq!(
        not_modified(&reg, "/etag/app/manifests/moving"),
        2,
        "a full answer"
    );
    assert_eq!(not_modified(&reg, "/etag/app/manifests/stable"), 2);
    assert_eq!(
        strong.get_manifest(&moving).await.unwrap().digest.as_str(),
        b
    );
    // A weak listing (a new process) now uses the revalidated snapshot: no requests.
    let weak = rex(&reg, dir.path(), |_| {});
    let manifests = reg.request_count("*", "/manifests/");
    assert_eq!(listing_map(&weak, repo).await, moved);
    assert_eq!(reg.request_count("*", "/manifests/"), manifests);
}

#[tokio::test]
async fn weak_revalidates_an_expired_snapshot_with_if_none_match() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let repo = "etag/expiring";
    let a = pushed(&reg, repo, 303, &["one", "two"]).await;
    let dir = tempfile::tempdir().unwrap();
    let short = |c: &mut CacheSettings| c.ttl.tags = 1;
    let cold = listing_map(&rex(&reg, dir.path(), short), repo).await;
    // Within the TTL: no request at all.
    let manifests = reg.request_count("*", "/manifests/");
    assert_eq!(listing_map(&rex(&reg, dir.path(), short), repo).await, cold);
    assert_eq!(reg.request_count("*", "/manifests/"), manifests);

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let by_digest = reg.request_count("GET", "/manifests/sha256:");
    assert_eq!(listing_map(&rex(&reg, dir.path(), short), repo).await, cold);
    assert_eq!(not_modified(&reg, "/etag/expiring/manifests/"), 2);
    assert_eq!(reg.request_count("GET", "/manifests/sha256:"), by_digest);

    let b = pushed(&reg, repo, 404, &["two"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let moved = listing_map(&rex(&reg, dir.path(), short), repo).await;
    assert_eq!(moved["one"], a);
    assert_eq!(moved["two"], b);
    assert_eq!(not_modified(&reg, "/etag/expiring/manifests/one"), 2);
    assert_eq!(not_modified(&reg, "/etag/expiring/manifests/two"), 1);
}

#[tokio::test]
async fn disabled_cache_fetches_every_time_and_writes_nothing() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let off = |c: &mut CacheSettings| c.enabled = false;
    listing(&rex(&reg, dir.path(), off), "rex/docker-image").await;
    let before = (reg.request_count("GET", "/tags/list"), body_requests(&reg));
    listing(&rex(&reg, dir.path(), off), "rex/docker-image").await;
    let after = (reg.request_count("GET", "/tags/list"), body_requests(&reg));
    assert_eq!(after.0, before.0 + 1);
    assert!(after.1 .0 > before.1 .0 && after.1 .1 > before.1 .1);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[tokio::test]
async fn single_image_by_tag_is_resolved_every_time_body_from_cache() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let r: rex_core::reference::Reference = "rex/oci-image:latest".parse().unwrap();
    let first = rex(&reg, dir.path(), |_| {})
        .inspect(&r, None)
        .await
        .unwrap();
    let gets = reg.request_count("GET", "/manifests/");
    let blobs = reg.request_count("GET", "/blobs/");
    let heads = reg.request_count("HEAD", "/manifests/latest");
    let second = rex(&reg, dir.path(), |_| {})
        .inspect(&r, None)
        .await
        .unwrap();
    assert_eq!(second.digest, first.digest);
    assert_eq!(second.raw_manifest, first.raw_manifest);
    assert_eq!(reg.request_count("HEAD", "/manifests/latest"), heads + 1);
    assert_eq!(reg.request_count("GET", "/manifests/"), gets);
    assert_eq!(reg.request_count("GET", "/blobs/"), blobs);
}

#[tokio::test]
async fn eventual_serves_stale_and_refreshes_behind() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let eventual = |c: &mut CacheSettings| {
        c.ttl.catalog = 1;
        c.behavior.consistency = Consistency::Eventual;
    };
    let r = rex(&reg, dir.path(), eventual);
    let repos = r.list_repositories().await.unwrap();
    assert!(repos.contains(&"rex/oci-image".to_owned()));
    let before = reg.request_count("GET", "/_catalog");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let key = CacheKey::catalog(r.endpoint().registry_host());
    assert!(matches!(r.cache().get(&key), Lookup::Stale(_)));
    // Served at once from the stale entry; the refresh runs behind.
    assert_eq!(r.list_repositories().await.unwrap(), repos);
    for _ in 0..100 {
        if matches!(r.cache().get(&key), Lookup::Fresh(_)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(matches!(r.cache().get(&key), Lookup::Fresh(_)));
    assert_eq!(reg.request_count("GET", "/_catalog"), before + 1);
}

#[tokio::test]
async fn damaged_cached_manifest_is_refetched_not_returned() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let cold = listing(&rex(&reg, dir.path(), |_| {}), "rex/docker-image").await;
    // Valid JSON entries whose bytes no longer match their digest.
    let mut damaged = 0;
    for e in walk(&dir.path().join("manifests")) {
        let text = std::fs::read_to_string(&e).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut v = v;
        v["data"] = serde_json::json!({"text": "{\"schemaVersion\":2}"});
        std::fs::write(&e, serde_json::to_vec(&v).unwrap()).unwrap();
        damaged += 1;
    }
    assert!(damaged > 0);
    let gets = reg.request_count("GET", "/manifests/sha256:");
    let warm = listing(&rex(&reg, dir.path(), |_| {}), "rex/docker-image").await;
    assert_eq!(warm, cold);
    assert!(reg.request_count("GET", "/manifests/sha256:") > gets);
}

#[test]
fn rex_new_opens_the_cache_from_settings_and_fails_only_when_required() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Settings::default();
    s.runtime.registry = Some(reg.url());
    s.runtime.cache_dir = Some(dir.path().join("c"));
    let rex = Rex::new(&s).unwrap();
    assert!(rex.cache().is_enabled());
    assert_eq!(rex.cache().dir(), Some(dir.path().join("c").as_path()));
    s.runtime.no_cache = true;
    assert_eq!(
        Rex::new(&s).unwrap().cache().consistency(),
        Consistency::Strong
    );
    // A file where the directory should be.
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    s.runtime.cache_dir = Some(file);
    assert!(!Rex::new(&s).unwrap().cache().is_enabled());
    s.runtime.cache_required = true;
    let err = Rex::new(&s).unwrap_err();
    assert_eq!(err.kind(), rex_core::ErrorKind::Cache);
    s.cache.enabled = false;
    assert!(!Rex::new(&s).unwrap().cache().is_enabled());
}

#[test]
fn facades_of_one_process_share_one_http_client() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let mut s = Settings::default();
    s.runtime.registry = Some(reg.url());
    s.cache.enabled = false;
    let a = Rex::new(&s).unwrap();
    let b = Rex::new(&s).unwrap();
    assert!(a.client().http().shares_pool_with(b.client().http()));
    // Another registry, same network settings: still the one pool.
    s.runtime.registry = Some("http://127.0.0.1:1".into());
    let c = Rex::new(&s).unwrap();
    assert!(a.client().http().shares_pool_with(c.client().http()));
    // Different client settings need a client of their own.
    s.network.timeout += 17;
    let d = Rex::new(&s).unwrap();
    assert!(!a.client().http().shares_pool_with(d.client().http()));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    out
}
