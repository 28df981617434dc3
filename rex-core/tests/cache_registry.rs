//! The registry layer reads through the cache: request counts the real registry
//! received prove which level serves what (docs/cache.md).

mod net_common;

use net_common::Conn;
use rex_core::cache::{CacheBuilder, CacheKey, Lookup};
use rex_core::config::{CacheSettings, Consistency, Settings};
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
