//! `stats`, `clear`, `prune` and the daily cleanup.

use chrono::{DateTime, Utc};
use rex_core::cache::{registry_hash, Cache, CacheKey, CacheKind, Lookup, ManualClock, NewEntry};
use rex_core::config::CacheSettings;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const A: &str = "localhost:5000";
const B: &str = "registry.example.com";

fn t0() -> DateTime<Utc> {
    "2025-01-01T00:00:00Z".parse().unwrap()
}

fn open(dir: &Path, clock: &Arc<ManualClock>, s: &CacheSettings) -> Cache {
    Cache::builder(dir)
        .settings(s)
        .clock(clock.clone())
        .cleanup_on_open(false)
        .open()
        .unwrap()
}

fn digest(n: u8) -> String {
    format!("sha256:{}", hex::encode([n; 32]))
}

fn file_len(dir: &Path, key: &CacheKey) -> u64 {
    std::fs::metadata(dir.join(key.relative_path()))
        .unwrap()
        .len()
}

/// Two registries: A has a catalog, 2 tag lists, 3 manifests, 1 config; B has 1 tag list.
fn populate(cache: &Cache) -> Vec<CacheKey> {
    let mut keys = vec![
        CacheKey::catalog(A),
        CacheKey::tags(A, "app"),
        CacheKey::tags(A, "team/tool"),
        CacheKey::manifest(A, "app", digest(1)),
        CacheKey::manifest(A, "app", digest(2)),
        CacheKey::manifest(A, "team/tool", digest(3)),
        CacheKey::config(A, "app", digest(4)),
        CacheKey::tags(B, "app"),
    ];
    for k in &keys {
        let new = match k.kind() {
            CacheKind::Catalog | CacheKind::Tags => NewEntry::names(vec!["x".into(); 3]),
            _ => NewEntry::bytes(vec![b'{'; 100]),
        };
        cache.put(k, new);
    }
    keys.sort_by_key(|k| k.kind());
    keys
}

#[test]
fn stats_are_scoped_by_registry_and_broken_down_by_type() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let cache = open(dir.path(), &clock, &CacheSettings::default());
    let keys = populate(&cache);
    let size_of = |pred: &dyn Fn(&CacheKey) -> bool| -> u64 {
        keys.iter()
            .filter(|k| pred(k))
            .map(|k| file_len(dir.path(), k))
            .sum()
    };

    let a = cache.stats(Some(A)).unwrap();
    assert_eq!(a.registry.as_deref(), Some(A));
    assert_eq!(a.registry_hash, Some(registry_hash(A)));
    assert_eq!(a.cache_path.as_deref(), Some(dir.path()));
    assert!(a.enabled);
    assert_eq!(
        (a.disk_entries, a.total_entries, a.memory_entries),
        (7, 7, 7)
    );
    assert_eq!(a.disk_size, size_of(&|k| k.registry() == A));
    assert_eq!(a.total_size, a.disk_size);
    assert_eq!(a.by_type.catalogs.entries, 1);
    assert_eq!(a.by_type.tags.entries, 2);
    assert_eq!(a.by_type.manifests.entries, 3);
    assert_eq!(a.by_type.configs.entries, 1);
    assert_eq!(
        a.by_type.manifests.size,
        size_of(&|k| k.registry() == A && k.kind() == CacheKind::Manifest)
    );
    let all = cache.stats(None).unwrap();
    assert_eq!(all.disk_entries, 8);
    assert_eq!(all.by_type.tags.entries, 3);
    assert_eq!(all.registry, None);
    // Same JSON field names as the design's `rex registry cache stats --format json`.
    let json = serde_json::to_value(&a).unwrap();
    for field in [
        "total_entries",
        "total_size",
        "memory_entries",
        "memory_size",
        "disk_entries",
        "disk_size",
        "hit_rate",
        "last_cleanup",
        "by_type",
        "cache_path",
    ] {
        assert!(json.get(field).is_some(), "{field}");
    }
    assert!(json["by_type"]["configs"]["size"].is_u64());
}

#[test]
fn clear_by_registry_kind_and_everything() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let cache = open(dir.path(), &clock, &CacheSettings::default());
    let keys = populate(&cache);

    let manifest_bytes: u64 = keys
        .iter()
        .filter(|k| k.registry() == A && k.kind() == CacheKind::Manifest)
        .map(|k| file_len(dir.path(), k))
        .sum();
    let r = cache.clear(Some(A), Some(CacheKind::Manifest)).unwrap();
    assert_eq!((r.entries, r.bytes), (3, manifest_bytes));
    assert_eq!(r.by_type.manifests.entries, 3);
    for k in &keys {
        let gone = k.registry() == A && k.kind() == CacheKind::Manifest;
        // Cleared from memory too, not just disk.
        assert_eq!(cache.get(k) == Lookup::Miss, gone, "{k}");
    }

    let b_bytes = file_len(dir.path(), &CacheKey::tags(B, "app"));
    let r = cache.clear(Some(B), None).unwrap();
    assert_eq!((r.entries, r.bytes), (1, b_bytes));
    assert!(!dir.path().join("tags").join(registry_hash(B)).exists());
    assert_eq!(cache.get(&CacheKey::tags(B, "app")), Lookup::Miss);

    let r = cache.clear(None, None).unwrap();
    assert_eq!(r.entries, 4);
    assert_eq!(cache.stats(None).unwrap().disk_entries, 0);
    for k in &keys {
        assert_eq!(cache.get(k), Lookup::Miss);
    }
    // Usable afterwards.
    cache.put(&keys[0], NewEntry::names(vec![]));
    assert!(matches!(cache.get(&keys[0]), Lookup::Fresh(_)));
}

#[test]
fn prune_removes_expired_and_unused_entries_with_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut s = CacheSettings::default();
    s.ttl.manifest = 10 * 86400;
    s.ttl.config = 10 * 86400;
    s.limits.max_age_days = 1;
    let cache = open(dir.path(), &clock, &s);
    populate(&cache);

    // Two days later: catalog and tags expired; manifests not, but only one was used.
    clock.advance(Duration::from_secs(2 * 86400));
    let used = CacheKey::manifest(A, "app", digest(1));
    assert!(matches!(
        open(dir.path(), &clock, &s).get(&used),
        Lookup::Fresh(_)
    ));

    let dry = cache.prune(Some(A), true).unwrap();
    assert!(dry.dry_run);
    assert_eq!(
        (dry.expired, dry.unused, dry.over_limit, dry.corrupt),
        (3, 3, 0, 0)
    );
    assert_eq!(dry.entries, 6);
    assert_eq!(dry.by_type.catalogs.entries, 1);
    assert_eq!(dry.by_type.tags.entries, 2);
    assert_eq!(dry.by_type.manifests.entries, 2);
    assert_eq!(dry.by_type.configs.entries, 1);
    assert_eq!(dry.remaining_entries, 1);
    assert_eq!(
        cache.stats(Some(A)).unwrap().disk_entries,
        7,
        "dry run removes nothing"
    );

    let real = cache.prune(Some(A), false).unwrap();
    assert_eq!((real.entries, real.bytes), (dry.entries, dry.bytes));
    let after = cache.stats(None).unwrap();
    assert_eq!(
        after.disk_entries, 2,
        "the used manifest and registry B's (out of scope) entry"
    );
    assert!(matches!(cache.get(&used), Lookup::Fresh(_)));
    assert_eq!(
        cache.get(&CacheKey::catalog(A)),
        Lookup::Miss,
        "gone from memory too"
    );
    assert!(matches!(
        cache.get(&CacheKey::tags(B, "app")),
        Lookup::Stale(_)
    ));
    assert_eq!(
        after.last_cleanup, None,
        "a scoped prune is not a full cleanup"
    );
    cache.prune(None, false).unwrap();
    assert_eq!(
        cache.stats(None).unwrap().last_cleanup,
        Some(clock_now(&clock))
    );
}

fn clock_now(c: &ManualClock) -> DateTime<Utc> {
    use rex_core::cache::Clock as _;
    c.now()
}

#[test]
fn prune_enforces_limits_mutable_first_then_least_recently_used() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let s = CacheSettings::default();
    let cache = open(dir.path(), &clock, &s);
    let m = |n| CacheKey::manifest(A, "app", digest(n));
    for n in 1..=3 {
        cache.put(&m(n), NewEntry::bytes(vec![b'x'; 1000]));
        clock.advance(Duration::from_secs(10));
    }
    cache.put(&CacheKey::tags(A, "app"), NewEntry::names(vec!["t".into()]));
    cache.put(&CacheKey::catalog(A), NewEntry::names(vec!["app".into()]));
    clock.advance(Duration::from_secs(10));
    // Manifest 1 (the oldest write) is read from disk by another process: now most recent.
    assert!(matches!(
        open(dir.path(), &clock, &s).get(&m(1)),
        Lookup::Fresh(_)
    ));

    let mut limited = s.clone();
    limited.limits.disk_entries = 3;
    let small = open(dir.path(), &clock, &limited);
    let r = small.prune(None, false).unwrap();
    assert_eq!(
        (
            r.over_limit,
            r.by_type.tags.entries,
            r.by_type.catalogs.entries
        ),
        (2, 1, 1)
    );
    assert_eq!(r.remaining_entries, 3);

    limited.limits.disk_entries = 2;
    let r = open(dir.path(), &clock, &limited)
        .prune(None, false)
        .unwrap();
    assert_eq!(r.over_limit, 1);
    let left: Vec<bool> = (1..=3)
        .map(|n| dir.path().join(m(n).relative_path()).exists())
        .collect();
    assert_eq!(
        left,
        vec![true, false, true],
        "manifest 2 was the least recently used"
    );

    // Size limit: 3 × 400 KiB against 1 MiB.
    let dir = tempfile::tempdir().unwrap();
    let mut sized = s.clone();
    sized.limits.disk_size_mb = 1;
    let cache = open(dir.path(), &clock, &sized);
    for n in 1..=3 {
        cache.put(&m(n), NewEntry::bytes(vec![b'x'; 400 * 1024]));
        clock.advance(Duration::from_secs(10));
    }
    let r = cache.prune(None, false).unwrap();
    assert_eq!(r.over_limit, 1);
    assert!(r.remaining_size <= 1024 * 1024);
    assert!(!dir.path().join(m(1).relative_path()).exists());
}

#[test]
fn prune_removes_corrupt_files_and_old_temp_files_only_in_scope() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let s = CacheSettings::default();
    let cache = open(dir.path(), &clock, &s);
    let keys = populate(&cache);
    let bad = dir.path().join(CacheKey::tags(A, "app").relative_path());
    std::fs::write(&bad, b"{\"version\":1,\"cached_").unwrap();
    let entry_dir = bad.parent().unwrap();
    let temp = entry_dir.join(".tags.json.999.0.tmp");
    std::fs::write(&temp, b"half").unwrap();
    let other_temp = dir
        .path()
        .join(CacheKey::tags(B, "app").relative_path())
        .with_file_name(".tags.json.999.1.tmp");
    std::fs::write(&other_temp, b"half").unwrap();

    // A fresh temp may belong to a live writer: kept.
    let r = cache.prune(Some(A), false).unwrap();
    assert_eq!((r.corrupt, r.temp_files, r.entries), (1, 0, 1));
    assert!(!bad.exists() && temp.exists());
    // Two hours later (and every entry is past its TTL by then... except digest ones).
    let later = Arc::new(ManualClock::new(
        chrono::DateTime::<Utc>::from(std::time::SystemTime::now()) + chrono::Duration::hours(2),
    ));
    let r = open(dir.path(), &later, &s).prune(Some(A), false).unwrap();
    assert_eq!(r.temp_files, 1);
    assert!(!temp.exists());
    assert!(other_temp.exists(), "registry B is out of scope");
    let _ = keys;
}

#[test]
fn cleanup_runs_at_open_at_most_once_a_day() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let s = CacheSettings::default();
    let cache = open(dir.path(), &clock, &s);
    cache.put(&CacheKey::tags(A, "app"), NewEntry::names(vec![]));
    clock.advance(Duration::from_secs(600));
    let r = cache.maybe_cleanup().expect("never cleaned up: due");
    assert_eq!(r.expired, 1);
    cache.put(&CacheKey::tags(A, "app"), NewEntry::names(vec![]));
    clock.advance(Duration::from_secs(600));
    assert!(cache.maybe_cleanup().is_none(), "cleaned up 10 minutes ago");
    clock.advance(Duration::from_secs(24 * 3600));
    // Opening runs it when due.
    let reopened = Cache::builder(dir.path())
        .settings(&s)
        .clock(clock.clone())
        .open()
        .unwrap();
    assert_eq!(reopened.stats(None).unwrap().disk_entries, 0);
    assert_eq!(
        reopened.stats(None).unwrap().last_cleanup,
        Some(clock_now(&clock))
    );
}
