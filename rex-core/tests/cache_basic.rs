//! Cache basics: TTL per kind, exact round-trips through disk, corrupt files, the memory
//! bound, disabled and unusable caches.

use chrono::{DateTime, Utc};
use rex_core::cache::{
    Cache, CacheKey, FetchOutcome, Lookup, ManualClock, NewEntry, Payload, Provenance,
};
use rex_core::config::CacheSettings;
use rex_core::{Error, ErrorKind};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const REG: &str = "localhost:5000";

fn t0() -> DateTime<Utc> {
    "2025-01-01T00:00:00Z".parse().unwrap()
}

fn open(dir: &Path, clock: &Arc<ManualClock>, settings: &CacheSettings) -> Cache {
    Cache::builder(dir)
        .settings(settings)
        .clock(clock.clone())
        .cleanup_on_open(false)
        .open()
        .unwrap()
}

fn digest(n: u8) -> String {
    format!("sha256:{}", hex::encode([n; 32]))
}

fn state(l: &Lookup) -> &'static str {
    match l {
        Lookup::Fresh(_) => "fresh",
        Lookup::Stale(_) => "stale",
        Lookup::Miss => "miss",
    }
}

#[test]
fn ttl_expiry_per_kind_in_memory_and_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut s = CacheSettings::default();
    s.ttl.catalog = 300;
    s.ttl.tags = 60;
    s.ttl.manifest = 3600;
    s.ttl.config = 7200;
    let cache = open(dir.path(), &clock, &s);
    let keys = [
        CacheKey::catalog(REG),
        CacheKey::tags(REG, "app"),
        CacheKey::manifest(REG, "app", digest(1)),
        CacheKey::config(REG, "app", digest(2)),
    ];
    cache.put(&keys[0], NewEntry::names(vec!["app".into()]));
    cache.put(&keys[1], NewEntry::names(vec!["v1".into()]));
    cache.put(&keys[2], NewEntry::bytes(&b"{}"[..]));
    cache.put(&keys[3], NewEntry::bytes(&b"{}"[..]));

    // Every check is made twice: in this process (memory) and in a fresh one (disk).
    let check = |expected: [&str; 4]| {
        let other = open(dir.path(), &clock, &s);
        for (key, want) in keys.iter().zip(expected) {
            assert_eq!(state(&cache.get(key)), want, "memory {key}");
            assert_eq!(state(&other.get(key)), want, "disk {key}");
        }
    };
    check(["fresh", "fresh", "fresh", "fresh"]);
    clock.advance(Duration::from_secs(59));
    check(["fresh", "fresh", "fresh", "fresh"]);
    clock.advance(Duration::from_secs(1));
    check(["fresh", "stale", "fresh", "fresh"]);
    clock.advance(Duration::from_secs(240));
    check(["stale", "stale", "fresh", "fresh"]);
    // Digest-addressed content past its TTL is still valid content (the TTL only bounds
    // how long it is kept; prune removes it).
    clock.advance(Duration::from_secs(86400));
    check(["stale", "stale", "fresh", "fresh"]);
    let report = cache.prune(None, false).unwrap();
    assert_eq!(report.expired, 4);
    for key in &keys {
        assert_eq!(state(&cache.get(key)), "miss", "{key} after prune");
    }
}

#[test]
fn explicit_ttl_and_refresh_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let cache = open(dir.path(), &clock, &CacheSettings::default());
    let key = CacheKey::tags(REG, "app");
    assert!(cache.refresh_ttl(&key).is_none());
    cache.put_with_ttl(
        &key,
        NewEntry::names(vec!["a".into()]).with_etag(Some("\"e1\"".into())),
        10,
    );
    clock.advance(Duration::from_secs(11));
    assert_eq!(state(&cache.get(&key)), "stale");
    assert_eq!(cache.cached_etag(&key).as_deref(), Some("\"e1\""));
    let renewed = cache.refresh_ttl(&key).unwrap();
    assert_eq!(renewed.cached_at, clock_now(&clock));
    assert_eq!(renewed.ttl_seconds, 300, "renewal uses the configured TTL");
    let other = open(dir.path(), &clock, &CacheSettings::default());
    match other.get(&key) {
        Lookup::Fresh(e) => {
            assert_eq!(e.etag.as_deref(), Some("\"e1\""));
            assert_eq!(e.payload.names().unwrap(), ["a".to_string()]);
        }
        l => panic!("expected fresh after renewal, got {}", state(&l)),
    }
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    use rex_core::cache::Clock as _;
    clock.now()
}

#[tokio::test]
async fn registry_bytes_round_trip_exactly_through_disk() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let s = CacheSettings::default();
    // Odd whitespace, escapes and non-ASCII must survive: `--raw-manifest` prints these bytes.
    let manifest = b"{ \"schemaVersion\": 2,\n\t\"x\": \"\\u00e9 \xc3\xa9\" }\r\n".to_vec();
    let config: Vec<u8> = (0..=255u8).rev().collect(); // not UTF-8
    let mkey = CacheKey::manifest(REG, "team/app", digest(3));
    let ckey = CacheKey::config(REG, "team/app", digest(4));
    {
        let cache = open(dir.path(), &clock, &s);
        cache.put(
            &mkey,
            NewEntry::bytes(manifest.clone())
                .with_media_type(Some("application/vnd.oci.image.manifest.v1+json".into()))
                .with_etag(Some(format!("\"{}\"", digest(3)))),
        );
        cache.put(&ckey, NewEntry::bytes(config.clone()));
    }
    let cache = open(dir.path(), &clock, &s);
    let never = |_etag: Option<String>| async {
        Err::<FetchOutcome, _>(Error::general("the registry must not be asked"))
    };
    let got = cache.get_or_fetch(&mkey, never).await.unwrap();
    assert_eq!(got.provenance, Provenance::Disk);
    assert_eq!(got.payload(), &Payload::Bytes(manifest.clone().into()));
    assert_eq!(
        got.entry.media_type.as_deref(),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert_eq!(got.entry.etag, Some(format!("\"{}\"", digest(3))));
    let again = cache.get_or_fetch(&mkey, never).await.unwrap();
    assert_eq!(again.provenance, Provenance::Memory);
    let got = cache.get_or_fetch(&ckey, never).await.unwrap();
    assert_eq!(got.payload().bytes().unwrap().as_ref(), &config[..]);

    // The files follow the documented format.
    let file = dir.path().join(mkey.relative_path());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["registry"], REG);
    assert_eq!(v["key"], format!("team/app/manifests/{}", digest(3)));
    assert_eq!(v["ttl_seconds"], 86400);
    assert_eq!(v["cached_at"], "2025-01-01T00:00:00Z");
    assert_eq!(
        v["data"]["text"].as_str().unwrap().as_bytes(),
        &manifest[..]
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(ckey.relative_path())).unwrap())
            .unwrap();
    assert!(v["data"]["base64"].is_string());
    assert!(v.get("etag").is_none());
    let v: serde_json::Value = {
        cache.put(
            &CacheKey::catalog(REG),
            NewEntry::names(vec!["a".into(), "b/c".into()]),
        );
        let p = dir.path().join(CacheKey::catalog(REG).relative_path());
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    assert_eq!(v["data"]["repositories"], serde_json::json!(["a", "b/c"]));
}

#[test]
fn corrupt_truncated_and_foreign_files_are_removed_and_missed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let s = CacheSettings::default();
    let key = CacheKey::tags(REG, "app");
    let path = dir.path().join(key.relative_path());
    let valid = |repo: &str| {
        let c = open(dir.path(), &clock, &s);
        let k = CacheKey::tags(REG, repo);
        c.put(
            &k,
            NewEntry::names((0..50).map(|i| format!("tag{i}")).collect()),
        );
        std::fs::read(dir.path().join(k.relative_path())).unwrap()
    };
    let good = valid("app");
    let other_repo = valid("other");
    let mut wrong_version: serde_json::Value = serde_json::from_slice(&good).unwrap();
    wrong_version["version"] = 2.into();
    let mut no_data: serde_json::Value = serde_json::from_slice(&good).unwrap();
    no_data["data"] = serde_json::json!({});
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("garbage", vec![0xde, 0xad, 0xbe, 0xef, b'{']),
        ("wrong version", serde_json::to_vec(&wrong_version).unwrap()),
        ("no data", serde_json::to_vec(&no_data).unwrap()),
        ("another key's entry", other_repo),
    ];
    for (what, bytes) in variants {
        std::fs::write(&path, &bytes).unwrap();
        let cache = open(dir.path(), &clock, &s);
        assert_eq!(state(&cache.get(&key)), "miss", "{what}");
        assert!(!path.exists(), "{what}: the bad file is deleted");
        // And the cache keeps working for that key.
        cache.put(&key, NewEntry::names(vec!["ok".into()]));
        let fresh = open(dir.path(), &clock, &s);
        assert_eq!(state(&fresh.get(&key)), "fresh", "{what}: rewritten");
    }
}

#[tokio::test]
async fn disabled_cache_always_misses_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = CacheSettings {
        enabled: false,
        ..CacheSettings::default()
    };
    for cache in [
        Cache::builder(dir.path().join("c"))
            .settings(&s)
            .open()
            .unwrap(),
        Cache::disabled(),
    ] {
        assert!(!cache.is_enabled());
        let key = CacheKey::tags(REG, "app");
        let stored = cache.put(&key, NewEntry::names(vec!["a".into()]));
        assert_eq!(stored.payload.names().unwrap(), ["a".to_string()]);
        assert_eq!(cache.get(&key), Lookup::Miss);
        let mut calls = 0;
        for _ in 0..2 {
            let got = cache
                .get_or_fetch(&key, |etag| {
                    calls += 1;
                    assert_eq!(etag, None);
                    async { Ok(FetchOutcome::Fresh(NewEntry::names(vec!["b".into()]))) }
                })
                .await
                .unwrap();
            assert_eq!(got.provenance, Provenance::Network);
        }
        assert_eq!(calls, 2);
        let err = cache
            .get_or_fetch(&key, |_| async { Ok(FetchOutcome::NotModified) })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::General);
        let stats = cache.stats(None).unwrap();
        assert_eq!((stats.disk_entries, stats.hits, stats.misses), (0, 0, 0));
    }
    assert!(
        !dir.path().join("c").exists(),
        "a disabled cache creates nothing"
    );
}

#[test]
fn unusable_directory_fails_only_when_required() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("cache");
    let err = Cache::builder(&bad).required(true).open().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cache);
    assert!(err.message().contains("not usable"), "{}", err.message());
    let cache = Cache::builder(&bad).open().unwrap();
    assert!(!cache.is_enabled());
    cache.put(&CacheKey::catalog(REG), NewEntry::names(vec![]));
    assert_eq!(cache.get(&CacheKey::catalog(REG)), Lookup::Miss);
    // No directory at all.
    let settings = rex_core::config::Settings::default();
    assert!(!Cache::open(&settings, false).unwrap().is_enabled());
    assert_eq!(
        Cache::open(&settings, true).unwrap_err().kind(),
        ErrorKind::Cache
    );
}

#[test]
fn memory_tier_is_bounded_by_entries_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut s = CacheSettings::default();
    s.limits.memory_entries = 2;
    let cache = open(dir.path(), &clock, &s);
    for i in 0..3u8 {
        cache.put(
            &CacheKey::manifest(REG, "app", digest(i)),
            NewEntry::bytes(vec![i; 10]),
        );
    }
    let stats = cache.stats(Some(REG)).unwrap();
    assert_eq!(stats.memory_entries, 2);
    assert_eq!(stats.disk_entries, 3, "disk keeps what memory evicts");

    s.limits.memory_entries = 100;
    s.limits.memory_size_mb = 1;
    let cache = open(dir.path(), &clock, &s);
    for i in 0..3u8 {
        cache.put(
            &CacheKey::config(REG, "app", digest(i)),
            NewEntry::bytes(vec![i; 400 * 1024]),
        );
    }
    let stats = cache.stats(Some(REG)).unwrap();
    assert_eq!(stats.memory_entries, 2);
    assert!(stats.memory_size <= 1024 * 1024);
    // An evicted entry is still served, from disk.
    assert_eq!(
        state(&cache.get(&CacheKey::config(REG, "app", digest(0)))),
        "fresh"
    );
}

#[test]
fn open_from_settings_uses_the_runtime_dir_and_no_cache() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = rex_core::config::Settings::default();
    settings.cache.location = Some(dir.path().join("from-config"));
    settings.runtime.cache_dir = Some(dir.path().join("resolved"));
    settings.runtime.no_cache = true;
    let cache = Cache::open(&settings, true).unwrap();
    assert!(cache.is_enabled());
    assert_eq!(cache.dir(), Some(dir.path().join("resolved").as_path()));
    assert_eq!(cache.consistency(), rex_core::config::Consistency::Strong);
    settings.runtime.cache_dir = None;
    settings.runtime.no_cache = false;
    let cache = Cache::open(&settings, false).unwrap();
    assert_eq!(cache.dir(), Some(dir.path().join("from-config").as_path()));
    assert_eq!(cache.consistency(), rex_core::config::Consistency::Weak);
    assert!(dir.path().join("from-config").is_dir());
}
