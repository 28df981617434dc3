//! Consistency levels at the cache API: what is served, and when the fetch function (the
//! registry) is called and with which etag.

use chrono::{DateTime, Utc};
use rex_core::cache::{Cache, CacheKey, FetchOutcome, Fetched, ManualClock, NewEntry, Provenance};
use rex_core::config::{CacheSettings, Consistency};
use rex_core::{Error, ErrorKind, Result};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const REG: &str = "localhost:5000";

fn t0() -> DateTime<Utc> {
    "2025-01-01T00:00:00Z".parse().unwrap()
}

/// A stand-in for the registry call: records each call's etag and answers from a script.
#[derive(Default, Clone)]
struct Registry {
    calls: Arc<Mutex<Vec<Option<String>>>>,
}

enum Answer {
    Names(&'static [&'static str], &'static str),
    NotModified,
    Fail(ErrorKind),
}

impl Registry {
    async fn ask(&self, cache: &Cache, key: &CacheKey, answer: Answer) -> Result<Fetched> {
        self.ask_with(cache, key, cache.consistency(), answer).await
    }

    async fn ask_with(
        &self,
        cache: &Cache,
        key: &CacheKey,
        consistency: Consistency,
        answer: Answer,
    ) -> Result<Fetched> {
        let calls = self.calls.clone();
        cache
            .get_or_fetch_with(key, consistency, move |etag| async move {
                calls.lock().unwrap().push(etag);
                respond(answer)
            })
            .await
    }

    fn calls(&self) -> Vec<Option<String>> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

fn respond(answer: Answer) -> Result<FetchOutcome> {
    match answer {
        Answer::Names(names, etag) => Ok(FetchOutcome::Fresh(
            NewEntry::names(names.iter().map(|s| s.to_string()).collect())
                .with_etag(Some(etag.to_owned())),
        )),
        Answer::NotModified => Ok(FetchOutcome::NotModified),
        Answer::Fail(kind) => Err(Error::new(kind, "registry trouble")),
    }
}

fn open(dir: &Path, clock: &Arc<ManualClock>, s: &CacheSettings, no_cache: bool) -> Cache {
    Cache::builder(dir)
        .settings(s)
        .clock(clock.clone())
        .no_cache(no_cache)
        .cleanup_on_open(false)
        .open()
        .unwrap()
}

fn names(f: &Fetched) -> Vec<String> {
    f.payload().names().unwrap().to_vec()
}

#[tokio::test]
async fn weak_serves_fresh_and_revalidates_expired_with_the_etag() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let s = CacheSettings::default();
    let cache = open(dir.path(), &clock, &s, false);
    assert_eq!(cache.consistency(), Consistency::Weak);
    let reg = Registry::default();
    let key = CacheKey::tags(REG, "app");

    let f = reg
        .ask(&cache, &key, Answer::Names(&["v1"], "\"e1\""))
        .await
        .unwrap();
    assert_eq!((f.provenance, f.stale), (Provenance::Network, false));
    assert_eq!(reg.calls(), vec![None], "a miss fetches unconditionally");

    clock.advance(Duration::from_secs(299));
    let f = reg
        .ask(&cache, &key, Answer::Fail(ErrorKind::General))
        .await
        .unwrap();
    assert_eq!(
        (f.provenance, names(&f)),
        (Provenance::Memory, vec!["v1".to_string()])
    );
    assert!(
        reg.calls().is_empty(),
        "fresh entries are served without the registry"
    );
    cache.flush(); // stores reach the disk behind the caller; another cache reads it
    let other = open(dir.path(), &clock, &s, false);
    let f = reg
        .ask(&other, &key, Answer::Fail(ErrorKind::General))
        .await
        .unwrap();
    assert_eq!(f.provenance, Provenance::Disk);
    assert!(reg.calls().is_empty());

    clock.advance(Duration::from_secs(1));
    let f = reg.ask(&cache, &key, Answer::NotModified).await.unwrap();
    assert_eq!((f.provenance, f.stale), (Provenance::Revalidated, false));
    assert_eq!(reg.calls(), vec![Some("\"e1\"".to_string())]);
    assert_eq!(f.entry.cached_at, t0() + chrono::Duration::seconds(300));
    // The renewal reached the disk: another process sees a fresh entry.
    let other = open(dir.path(), &clock, &s, false);
    reg.ask(&other, &key, Answer::Fail(ErrorKind::General))
        .await
        .unwrap();
    assert!(reg.calls().is_empty());

    clock.advance(Duration::from_secs(300));
    let f = reg
        .ask(&cache, &key, Answer::Names(&["v1", "v2"], "\"e2\""))
        .await
        .unwrap();
    assert_eq!(f.provenance, Provenance::Network);
    assert_eq!(reg.calls(), vec![Some("\"e1\"".to_string())]);
    cache.flush();
    let other = open(dir.path(), &clock, &s, false);
    let f = reg
        .ask(&other, &key, Answer::Fail(ErrorKind::General))
        .await
        .unwrap();
    assert_eq!(names(&f), vec!["v1".to_string(), "v2".to_string()]);
    assert_eq!(f.entry.etag.as_deref(), Some("\"e2\""));
}

#[tokio::test]
async fn strong_asks_the_registry_for_mutable_entries_only() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let s = CacheSettings::default();
    let cache = open(dir.path(), &clock, &s, true);
    assert_eq!(cache.consistency(), Consistency::Strong);
    let reg = Registry::default();
    let tags = CacheKey::tags(REG, "app");
    let manifest = CacheKey::manifest(REG, "app", format!("sha256:{}", "1".repeat(64)));

    reg.ask(&cache, &tags, Answer::Names(&["v1"], "\"e1\""))
        .await
        .unwrap();
    assert_eq!(reg.calls(), vec![None]);
    // Fresh, but strong revalidates anyway, conditionally.
    let f = reg.ask(&cache, &tags, Answer::NotModified).await.unwrap();
    assert_eq!(f.provenance, Provenance::Revalidated);
    assert_eq!(reg.calls(), vec![Some("\"e1\"".to_string())]);
    let f = reg
        .ask(&cache, &tags, Answer::Names(&["v2"], "\"e2\""))
        .await
        .unwrap();
    assert_eq!(
        (f.provenance, names(&f)),
        (Provenance::Network, vec!["v2".to_string()])
    );
    assert_eq!(reg.calls(), vec![Some("\"e1\"".to_string())]);
    // Strong never falls back to a cached value when the registry fails.
    let err = reg
        .ask(&cache, &tags, Answer::Fail(ErrorKind::Network))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    reg.calls();

    // Digest-addressed content cannot change: served from the cache, no request.
    cache.put(&manifest, NewEntry::bytes(&b"{}"[..]));
    let calls = reg.calls.clone();
    let f = cache
        .get_or_fetch(&manifest, move |etag| async move {
            calls.lock().unwrap().push(etag);
            Err::<FetchOutcome, _>(Error::general("must not be called"))
        })
        .await
        .unwrap();
    assert_eq!(f.provenance, Provenance::Memory);
    assert!(reg.calls().is_empty());
}

#[tokio::test]
async fn eventual_serves_stale_at_once_and_asks_for_a_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut s = CacheSettings::default();
    s.behavior.consistency = Consistency::Eventual;
    let cache = open(dir.path(), &clock, &s, false);
    let reg = Registry::default();
    let key = CacheKey::catalog(REG);

    reg.ask(&cache, &key, Answer::Names(&["a"], "\"e1\""))
        .await
        .unwrap();
    reg.calls();
    clock.advance(Duration::from_secs(1000));
    let f = reg
        .ask(&cache, &key, Answer::Fail(ErrorKind::General))
        .await
        .unwrap();
    assert_eq!((f.provenance, f.stale), (Provenance::Memory, true));
    assert_eq!(names(&f), vec!["a".to_string()]);
    assert!(reg.calls().is_empty(), "no request before serving");

    // The caller's background refresh.
    let calls = reg.calls.clone();
    let f = cache
        .refresh(&key, move |etag| async move {
            calls.lock().unwrap().push(etag);
            respond(Answer::Names(&["a", "b"], "\"e2\""))
        })
        .await
        .unwrap();
    assert_eq!(f.provenance, Provenance::Network);
    assert_eq!(reg.calls(), vec![Some("\"e1\"".to_string())]);
    let f = reg
        .ask(&cache, &key, Answer::Fail(ErrorKind::General))
        .await
        .unwrap();
    assert_eq!((f.stale, names(&f).len()), (false, 2));

    // serve_stale = false: eventual no longer serves expired data; it fetches like weak.
    s.behavior.serve_stale = false;
    cache.flush();
    let strict = open(dir.path(), &clock, &s, false);
    clock.advance(Duration::from_secs(1000));
    let f = reg.ask(&strict, &key, Answer::NotModified).await.unwrap();
    assert_eq!((f.provenance, f.stale), (Provenance::Revalidated, false));
    assert_eq!(reg.calls(), vec![Some("\"e2\"".to_string())]);
}

#[tokio::test]
async fn weak_falls_back_to_stale_only_on_network_errors_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut s = CacheSettings::default();
    let cache = open(dir.path(), &clock, &s, false);
    let reg = Registry::default();
    let key = CacheKey::tags(REG, "app");
    reg.ask(&cache, &key, Answer::Names(&["v1"], "\"e1\""))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(301));

    let f = reg
        .ask(&cache, &key, Answer::Fail(ErrorKind::Network))
        .await
        .unwrap();
    assert_eq!((f.provenance, f.stale), (Provenance::Memory, true));
    for kind in [ErrorKind::Auth, ErrorKind::NotFound, ErrorKind::General] {
        let err = reg.ask(&cache, &key, Answer::Fail(kind)).await.unwrap_err();
        assert_eq!(err.kind(), kind);
    }
    s.behavior.serve_stale = false;
    let strict = open(dir.path(), &clock, &s, false);
    let err = reg
        .ask(&strict, &key, Answer::Fail(ErrorKind::Network))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    // A miss has nothing to fall back to.
    let err = reg
        .ask(
            &cache,
            &CacheKey::tags(REG, "new"),
            Answer::Fail(ErrorKind::Network),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    // 304 to an unconditional request is the registry's bug, reported as such.
    let err = reg
        .ask(&cache, &CacheKey::tags(REG, "new"), Answer::NotModified)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::General);
}

#[tokio::test]
async fn hits_and_misses_are_counted_and_persisted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let s = CacheSettings::default();
    let reg = Registry::default();
    let key = CacheKey::tags(REG, "app");
    {
        let cache = open(dir.path(), &clock, &s, false);
        reg.ask(&cache, &key, Answer::Names(&["v1"], "\"e\""))
            .await
            .unwrap(); // miss
        reg.ask(&cache, &key, Answer::NotModified).await.unwrap(); // hit (memory)
        clock.advance(Duration::from_secs(301));
        reg.ask(&cache, &key, Answer::NotModified).await.unwrap(); // hit (revalidated)
                                                                   // Visible before the flush, from this process's counters.
        let stats = cache.stats(Some(REG)).unwrap();
        assert_eq!((stats.hits, stats.misses), (2, 1));
    } // dropped: counters merged into metadata.json
    let other = open(dir.path(), &clock, &s, false);
    reg.ask(&other, &CacheKey::catalog(REG), Answer::Names(&[], "\"c\""))
        .await
        .unwrap(); // miss
    other.flush();
    let stats = open(dir.path(), &clock, &s, false)
        .stats(Some(REG))
        .unwrap();
    assert_eq!((stats.hits, stats.misses), (2, 2));
    assert_eq!(stats.hit_rate, Some(0.5));
    let none = open(dir.path(), &clock, &s, false)
        .stats(Some("elsewhere:1"))
        .unwrap();
    assert_eq!(none.hit_rate, None);
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("metadata.json")).unwrap()).unwrap();
    assert_eq!(raw["registries"][REG]["hits"]["tags"], 2);
    assert_eq!(raw["registries"][REG]["misses"]["catalog"], 1);
}

#[tokio::test]
async fn spawn_refresh_updates_a_stale_entry_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut s = CacheSettings::default();
    s.behavior.consistency = Consistency::Eventual;
    let cache = open(dir.path(), &clock, &s, false);
    let reg = Registry::default();
    let key = CacheKey::tags(REG, "app");
    reg.ask(&cache, &key, Answer::Names(&["v1"], "\"e1\""))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(301));
    let f = reg
        .ask(&cache, &key, Answer::Fail(ErrorKind::General))
        .await
        .unwrap();
    assert!(f.stale);
    let task = cache
        .spawn_refresh(key.clone(), |etag| async move {
            assert_eq!(etag.as_deref(), Some("\"e1\""));
            respond(Answer::Names(&["v1", "v2"], "\"e2\""))
        })
        .expect("inside a runtime");
    let refreshed = task.await.unwrap().unwrap();
    assert_eq!(refreshed.provenance, Provenance::Network);
    let f = reg
        .ask(&cache, &key, Answer::Fail(ErrorKind::General))
        .await
        .unwrap();
    assert_eq!((f.stale, names(&f).len()), (false, 2));
    assert!(Cache::disabled()
        .spawn_refresh(key, |_| async { Ok(FetchOutcome::NotModified) })
        .is_some());
}
