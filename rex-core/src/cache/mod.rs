//! Persistent two-tier cache for registry responses (design 1.9).
//!
//! * L1: an in-process LRU bounded by entries and bytes (`cache.limits.memory_*`).
//! * L2: one JSON file per entry below the cache directory:
//!   `catalogs/{registry_hash}/catalog.json`, `tags/{registry_hash}/{repo_hash}/tags.json`,
//!   `manifests/{registry_hash}/{repo_hash}/{algo}-{hex}.json`, `configs/…` likewise, and
//!   `metadata.json` (hit/miss counters, last cleanup).
//!
//! Writes go to both tiers; disk writes are atomic (temp file + fsync + rename) under a
//! per-directory lock, reads never lock. Cache trouble is logged and treated as a miss:
//! it never fails a registry operation. Only [`CacheBuilder::open`] with
//! [`CacheBuilder::required`] returns an error ([`crate::ErrorKind::Cache`], exit 7).
//!
//! The registry layer wraps its fetches with [`Cache::get_or_fetch`]; the exact
//! behaviour of each consistency level is documented in `docs/cache.md`.

mod clock;
mod disk;
mod entry;
mod key;
mod lru;
mod maintenance;
mod metadata;
mod writer;

pub use clock::{Clock, ManualClock, SystemClock};
pub use entry::{Entry, NewEntry, Payload, ENTRY_VERSION};
pub use key::{registry_hash, repository_hash, CacheKey, CacheKind};
pub use maintenance::{ByType, CacheStats, ClearReport, PruneReport, TypeUsage};
pub use metadata::{KindCounters, RegistryCounters};

use crate::config::{CacheLimits, CacheSettings, CacheTtl, Consistency, Settings};
use crate::{Error, ErrorKind, Result};
use disk::{Disk, DiskRead};
use lru::Lru;
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

/// Result of [`Cache::get`].
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Within its TTL (digest-addressed entries are always fresh while present).
    Fresh(Arc<Entry>),
    /// Past its TTL (catalog and tags only); still usable for revalidation or eventual reads.
    Stale(Arc<Entry>),
    Miss,
}

/// Where a [`Fetched`] value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    /// This process's memory tier.
    Memory,
    /// The disk tier (now also in memory).
    Disk,
    /// Fetched from the registry (and stored).
    Network,
    /// The registry answered 304 Not Modified to a conditional request; the cached entry's
    /// TTL was renewed.
    Revalidated,
}

/// What a fetch function reports.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchOutcome {
    /// A full response to store.
    Fresh(NewEntry),
    /// `304 Not Modified`: the cached entry (whose etag was passed in) is still current.
    NotModified,
}

/// Result of [`Cache::get_or_fetch`].
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub entry: Arc<Entry>,
    pub provenance: Provenance,
    /// The entry is past its TTL: it was served under eventual consistency, or because the
    /// registry could not be reached. The caller should refresh it ([`Cache::refresh`]).
    pub stale: bool,
}

impl Fetched {
    pub fn payload(&self) -> &Payload {
        &self.entry.payload
    }

    /// True when the value came from the cache without asking the registry.
    pub fn from_cache(&self) -> bool {
        matches!(self.provenance, Provenance::Memory | Provenance::Disk)
    }
}

/// Opens a [`Cache`]. Defaults: settings defaults, not required, system clock, cleanup at
/// open, fsync on.
#[derive(Debug, Clone)]
pub struct CacheBuilder {
    dir: Option<PathBuf>,
    settings: CacheSettings,
    required: bool,
    no_cache: bool,
    clock: Arc<dyn Clock>,
    cleanup_on_open: bool,
    fsync: bool,
}

impl CacheBuilder {
    /// A cache in `dir` (`None`: no directory known; the cache is then disabled).
    pub fn new(dir: Option<PathBuf>) -> Self {
        CacheBuilder {
            dir,
            settings: CacheSettings::default(),
            required: false,
            no_cache: false,
            clock: Arc::new(SystemClock),
            cleanup_on_open: true,
            fsync: true,
        }
    }

    /// The builder [`Cache::open`] uses: directory `runtime.cache_dir`, else
    /// `cache.location`; `cache.*` settings; `runtime.no_cache` (not required, fsync on).
    pub fn from_settings(settings: &Settings) -> Self {
        let dir = settings
            .runtime
            .cache_dir
            .clone()
            .or_else(|| settings.cache.location.clone());
        CacheBuilder::new(dir)
            .settings(&settings.cache)
            .no_cache(settings.runtime.no_cache)
    }

    /// TTLs, limits, behaviour and `enabled` from the settings (`location` is ignored:
    /// the directory is the builder's).
    pub fn settings(mut self, settings: &CacheSettings) -> Self {
        self.settings = settings.clone();
        self
    }

    /// Override `cache.enabled` (maintenance commands work on a disabled cache's files).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.settings.enabled = enabled;
        self
    }

    /// Fail with [`ErrorKind::Cache`] instead of degrading to a disabled cache when the
    /// directory is unusable (e.g. `--cache-dir` given explicitly).
    pub fn required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }

    /// `--no-cache`/`--fresh`/`REX_NO_CACHE`: strong consistency for this run.
    pub fn no_cache(mut self, no_cache: bool) -> Self {
        self.no_cache = no_cache;
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Run [`Cache::maybe_cleanup`] when opening (default true).
    pub fn cleanup_on_open(mut self, cleanup: bool) -> Self {
        self.cleanup_on_open = cleanup;
        self
    }

    /// fsync entry files before renaming them into place (default true).
    pub fn fsync(mut self, fsync: bool) -> Self {
        self.fsync = fsync;
        self
    }

    pub fn open(self) -> Result<Cache> {
        if !self.settings.enabled {
            return Ok(self.build(None));
        }
        let Some(dir) = self.dir.clone() else {
            if self.required {
                return Err(Error::cache("no cache directory is configured")
                    .with_hint("pass --cache-dir or set cache.location"));
            }
            tracing::warn!("no cache directory is configured; caching is disabled");
            return Ok(self.build(None));
        };
        if let Err(e) = prepare_dir(&dir) {
            if self.required {
                return Err(Error::cache(format!(
                    "cache directory {} is not usable: {e}",
                    dir.display()
                ))
                .with_hint("choose a writable directory with --cache-dir, or use --no-cache")
                .with_source(e));
            }
            tracing::warn!(path = %dir.display(), error = %e, "cache directory is not usable; caching is disabled");
            return Ok(self.build(None));
        }
        let fsync = self.fsync;
        let cleanup = self.cleanup_on_open;
        let cache = self.build(Some(Disk { root: dir, fsync }));
        if cleanup {
            cache.maybe_cleanup();
        }
        Ok(cache)
    }

    fn build(self, disk: Option<Disk>) -> Cache {
        let enabled = disk.is_some();
        let limits = &self.settings.limits;
        let memory = Lru::new(
            usize::try_from(limits.memory_entries).unwrap_or(usize::MAX),
            limits.memory_size_mb.saturating_mul(1024 * 1024),
        );
        let consistency = if self.no_cache {
            Consistency::Strong
        } else {
            self.settings.behavior.consistency
        };
        Cache {
            inner: Arc::new(Inner {
                dir: self.dir,
                disk,
                enabled,
                ttl: self.settings.ttl.clone(),
                limits: self.settings.limits.clone(),
                consistency,
                serve_stale: self.settings.behavior.serve_stale,
                memory: Mutex::new(memory),
                clock: self.clock,
                counters: Mutex::new(HashMap::new()),
                disk_writes: Arc::new(Mutex::new(())),
                write_behind: OnceLock::new(),
                behind: Mutex::new(Vec::new()),
            }),
        }
    }
}

fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // Creating a directory that exists succeeds even when it is read-only: probe a write.
    tempfile::Builder::new()
        .prefix(".probe")
        .tempfile_in(dir)
        .map(drop)
}

/// The persistent two-tier cache. Cheap to clone (shared); share one per process.
#[derive(Debug, Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    /// The directory asked for (also kept when the cache is disabled, for reporting).
    dir: Option<PathBuf>,
    disk: Option<Disk>,
    enabled: bool,
    ttl: CacheTtl,
    limits: CacheLimits,
    consistency: Consistency,
    serve_stale: bool,
    memory: Mutex<Lru>,
    clock: Arc<dyn Clock>,
    /// This process's hit/miss counts not yet merged into `metadata.json`.
    counters: Mutex<HashMap<String, RegistryCounters>>,
    /// One disk write at a time per process. Concurrent creates in one entry directory
    /// contend on its inode lock in the kernel, which spins: a cold 1,200-tag listing
    /// spent ~1 s of system CPU that way (0.15 s on tmpfs). One at a time costs ~0.1 ms a
    /// write and never waits on another process (those are kept safe by the rename).
    disk_writes: Arc<Mutex<()>>,
    /// The writer thread for stores from async code, started on the first one (`None`
    /// inside when it could not be started: those stores then write themselves).
    write_behind: OnceLock<Option<writer::WriteBehind>>,
    /// Refreshes started by [`Cache::refresh_behind`] and not yet settled.
    behind: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("dir", &self.dir)
            .field("enabled", &self.enabled)
            .field("consistency", &self.consistency)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Every queued write lands before the cache is gone.
        drop(self.write_behind.take());
        flush_counters(self);
    }
}

/// Write one entry under `writes` (one at a time); on a full disk, `prune` and try once more.
fn write_entry(
    disk: &Disk,
    writes: &Mutex<()>,
    key: &CacheKey,
    entry: &Entry,
    mtime: std::time::SystemTime,
    prune: impl FnOnce(),
) {
    let _one_writer = lock(writes);
    match disk.write(key, entry, mtime) {
        Ok(_) => {}
        Err(e) if is_disk_full(&e) => {
            // Design: on a full disk, evict and try once more.
            tracing::warn!(error = %e, "cache disk is full; pruning");
            prune();
            if let Err(e) = disk.write(key, entry, mtime) {
                tracing::error!(key = %key, error = %e, "cannot write cache entry");
            }
        }
        Err(e) => tracing::warn!(key = %key, error = %e, "cannot write cache entry"),
    }
}

/// Evict to make room after a write found the disk full.
fn prune_for_space(cache: &Cache) {
    if let Err(e) = cache.prune(None, false) {
        tracing::error!(error = %e, "cache eviction failed");
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data; keep using it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn flush_counters(inner: &Inner) {
    let Some(disk) = &inner.disk else { return };
    let pending = std::mem::take(&mut *lock(&inner.counters));
    if pending.values().all(RegistryCounters::is_empty) {
        return;
    }
    let result = metadata::update(&disk.root, |meta| {
        for (registry, delta) in &pending {
            meta.registries
                .entry(registry.clone())
                .or_default()
                .add(delta);
        }
    });
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot update cache statistics");
    }
}

impl Cache {
    pub fn builder(dir: impl Into<PathBuf>) -> CacheBuilder {
        CacheBuilder::new(Some(dir.into()))
    }

    /// Open the cache the settings describe: directory `runtime.cache_dir`, else
    /// `cache.location`; `runtime.no_cache` selects strong consistency. `required`: see
    /// [`CacheBuilder::required`].
    pub fn open(settings: &Settings, required: bool) -> Result<Cache> {
        CacheBuilder::from_settings(settings)
            .required(required)
            .open()
    }

    /// A cache that always misses and stores nothing.
    pub fn disabled() -> Cache {
        CacheBuilder::new(None).enabled(false).build(None)
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.enabled
    }

    /// The cache directory (also reported for a disabled cache that was given one).
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    /// The consistency [`Cache::get_or_fetch`] uses.
    pub fn consistency(&self) -> Consistency {
        self.inner.consistency
    }

    /// The configured TTL of `kind`, in seconds.
    pub fn ttl(&self, kind: CacheKind) -> u64 {
        kind.ttl(&self.inner.ttl)
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    fn is_fresh(&self, kind: CacheKind, entry: &Entry, now: chrono::DateTime<chrono::Utc>) -> bool {
        kind.is_immutable() || !entry.is_expired_at(now)
    }

    fn record(&self, key: &CacheKey, hit: bool) {
        if !self.inner.enabled {
            return;
        }
        let mut counters = lock(&self.inner.counters);
        let c = match counters.get_mut(key.registry()) {
            Some(c) => c,
            None => counters.entry(key.registry().to_owned()).or_default(),
        };
        let side = if hit { &mut c.hits } else { &mut c.misses };
        *side.get_mut(key.kind()) += 1;
    }

    /// Look up without counting: memory first, then disk (a stale memory entry is
    /// re-checked on disk, where another process may have stored a newer one).
    fn lookup(&self, key: &CacheKey) -> (Lookup, Provenance) {
        if !self.inner.enabled {
            return (Lookup::Miss, Provenance::Network);
        }
        let now = self.now();
        let kind = key.kind();
        let in_memory = lock(&self.inner.memory).get(key);
        if let Some(e) = &in_memory {
            if self.is_fresh(kind, e, now) {
                return (Lookup::Fresh(e.clone()), Provenance::Memory);
            }
        }
        let Some(disk) = &self.inner.disk else {
            return (Lookup::Miss, Provenance::Network);
        };
        match disk.read(key, Some(now.into())) {
            DiskRead::Hit(e) => {
                if let Some(m) = in_memory.filter(|m| m.cached_at >= e.cached_at) {
                    return (Lookup::Stale(m), Provenance::Memory);
                }
                let e = Arc::new(e);
                lock(&self.inner.memory).insert(key.clone(), e.clone());
                if self.is_fresh(kind, &e, now) {
                    (Lookup::Fresh(e), Provenance::Disk)
                } else {
                    (Lookup::Stale(e), Provenance::Disk)
                }
            }
            DiskRead::Missing | DiskRead::Corrupt => match in_memory {
                Some(m) => (Lookup::Stale(m), Provenance::Memory),
                None => (Lookup::Miss, Provenance::Network),
            },
        }
    }

    /// Look up `key` in memory, then on disk. Counts a hit for `Fresh`, a miss otherwise.
    pub fn get(&self, key: &CacheKey) -> Lookup {
        let (lookup, _) = self.lookup(key);
        self.record(key, matches!(lookup, Lookup::Fresh(_)));
        lookup
    }

    /// [`Cache::get`] without counting a hit or miss: for a caller that only wants the
    /// entry as a validator (what to revalidate), not to serve it.
    pub fn peek(&self, key: &CacheKey) -> Lookup {
        self.lookup(key).0
    }

    /// The etag of the cached entry for `key`, fresh or stale (for `If-None-Match`).
    pub fn cached_etag(&self, key: &CacheKey) -> Option<String> {
        match self.lookup(key).0 {
            Lookup::Fresh(e) | Lookup::Stale(e) => e.etag.clone(),
            Lookup::Miss => None,
        }
    }

    fn make_entry(&self, new: NewEntry, ttl_seconds: u64) -> Arc<Entry> {
        Arc::new(Entry {
            cached_at: self.now(),
            ttl_seconds,
            etag: new.etag,
            media_type: new.media_type,
            payload: new.payload,
        })
    }

    /// Store with the kind's configured TTL, in memory and on disk. Returns the entry
    /// (also when the cache is disabled, when nothing is stored).
    pub fn put(&self, key: &CacheKey, new: NewEntry) -> Arc<Entry> {
        self.put_with_ttl(key, new, self.ttl(key.kind()))
    }

    /// Store with an explicit TTL in seconds.
    pub fn put_with_ttl(&self, key: &CacheKey, new: NewEntry, ttl_seconds: u64) -> Arc<Entry> {
        let entry = self.make_entry(new, ttl_seconds);
        if self.store_memory(key, &entry) {
            self.write_disk(key, &entry);
        }
        entry
    }

    /// Memory half of a store; false when the entry must not be stored at all.
    fn store_memory(&self, key: &CacheKey, entry: &Arc<Entry>) -> bool {
        if !self.inner.enabled {
            return false;
        }
        if !entry.payload.fits(key.kind()) {
            tracing::warn!(key = %key, "not caching a payload of the wrong shape for its kind");
            return false;
        }
        lock(&self.inner.memory).insert(key.clone(), entry.clone());
        true
    }

    fn write_disk(&self, key: &CacheKey, entry: &Entry) {
        let Some(disk) = &self.inner.disk else { return };
        write_entry(
            disk,
            &self.inner.disk_writes,
            key,
            entry,
            self.now().into(),
            || prune_for_space(self),
        );
    }

    /// The write-behind thread, started on first use; `None` without a disk tier or when
    /// no thread could be started.
    fn write_behind(&self) -> Option<&writer::WriteBehind> {
        let disk = self.inner.disk.as_ref()?;
        self.inner
            .write_behind
            .get_or_init(|| {
                let (disk, writes) = (disk.clone(), self.inner.disk_writes.clone());
                let cache: Weak<Inner> = Arc::downgrade(&self.inner);
                let write = move |key: &CacheKey, entry: &Entry, mtime| {
                    write_entry(&disk, &writes, key, entry, mtime, || {
                        if let Some(inner) = cache.upgrade() {
                            prune_for_space(&Cache { inner });
                        }
                    })
                };
                writer::WriteBehind::start(write)
                    .map_err(|e| tracing::warn!(error = %e, "cannot start the cache writer; writing inline"))
                    .ok()
            })
            .as_ref()
    }

    /// Wait until every store queued for the disk so far is written (before deleting or
    /// counting entry files; [`Cache::flush`] for callers).
    pub(crate) fn flush_writes(&self) {
        if let Some(Some(w)) = self.inner.write_behind.get() {
            w.flush();
        }
    }

    /// A store from async code: memory now, the disk write queued for the cache's writer
    /// thread ([`writer`]), so neither the caller nor the runtime waits for the disk.
    async fn store(&self, key: &CacheKey, new: NewEntry) -> Arc<Entry> {
        let entry = self.make_entry(new, self.ttl(key.kind()));
        if !self.store_memory(key, &entry) {
            return entry;
        }
        let queued = self
            .write_behind()
            .is_some_and(|w| w.enqueue(key.clone(), entry.clone(), self.now().into()));
        if !queued {
            self.write_disk(key, &entry);
        }
        entry
    }

    /// Renew the TTL of `key`'s entry (after a `304 Not Modified`): `cached_at` becomes now
    /// and the TTL the kind's configured one. `None` when nothing is cached.
    pub fn refresh_ttl(&self, key: &CacheKey) -> Option<Arc<Entry>> {
        match self.lookup(key).0 {
            Lookup::Fresh(e) | Lookup::Stale(e) => Some(self.renew(key, &e)),
            Lookup::Miss => None,
        }
    }

    fn renew(&self, key: &CacheKey, old: &Entry) -> Arc<Entry> {
        let entry = Arc::new(Entry {
            cached_at: self.now(),
            ttl_seconds: self.ttl(key.kind()),
            ..old.clone()
        });
        if self.store_memory(key, &entry) {
            self.write_disk(key, &entry);
        }
        entry
    }

    /// Forget `key` in memory and on disk.
    pub fn remove(&self, key: &CacheKey) {
        // A queued write of the old entry must not land after the removal.
        self.flush_writes();
        lock(&self.inner.memory).remove(key);
        if let Some(disk) = &self.inner.disk {
            if let Err(e) = disk.remove(key) {
                tracing::warn!(key = %key, error = %e, "cannot remove cache entry");
            }
        }
    }

    /// [`Cache::get_or_fetch_with`] at the cache's consistency level.
    pub async fn get_or_fetch<F, Fut>(&self, key: &CacheKey, fetch: F) -> Result<Fetched>
    where
        F: FnOnce(Option<String>) -> Fut,
        Fut: Future<Output = Result<FetchOutcome>>,
    {
        self.get_or_fetch_with(key, self.inner.consistency, fetch)
            .await
    }

    /// Serve `key` from the cache or call `fetch` (at most once). `fetch` receives the
    /// cached entry's etag when there is one, for `If-None-Match`, and answers
    /// [`FetchOutcome::NotModified`] on a 304. What is served when, per level, is in
    /// `docs/cache.md`. Errors are `fetch`'s (cache trouble is only logged).
    pub async fn get_or_fetch_with<F, Fut>(
        &self,
        key: &CacheKey,
        consistency: Consistency,
        fetch: F,
    ) -> Result<Fetched>
    where
        F: FnOnce(Option<String>) -> Fut,
        Fut: Future<Output = Result<FetchOutcome>>,
    {
        let (lookup, source) = self.lookup(key);
        let immutable = key.kind().is_immutable();
        match (&lookup, consistency) {
            (Lookup::Fresh(e), c) if c != Consistency::Strong || immutable => {
                self.record(key, true);
                return Ok(Fetched {
                    entry: e.clone(),
                    provenance: source,
                    stale: false,
                });
            }
            (Lookup::Stale(e), Consistency::Eventual) if self.inner.serve_stale => {
                self.record(key, true);
                return Ok(Fetched {
                    entry: e.clone(),
                    provenance: source,
                    stale: true,
                });
            }
            _ => {}
        }
        let cached = match lookup {
            Lookup::Fresh(e) | Lookup::Stale(e) => Some(e),
            Lookup::Miss => None,
        };
        match fetch(cached.as_ref().and_then(|e| e.etag.clone())).await {
            Ok(outcome) => self.settle(key, cached, outcome).await,
            Err(err)
                if err.kind() == ErrorKind::Network
                    && consistency != Consistency::Strong
                    && self.inner.serve_stale
                    && cached.is_some() =>
            {
                let entry = cached.expect("checked above");
                tracing::warn!(key = %key, error = %err, "registry unreachable; serving an expired cache entry");
                self.record(key, true);
                Ok(Fetched {
                    entry,
                    provenance: source,
                    stale: true,
                })
            }
            Err(err) => Err(err),
        }
    }

    /// Ask the registry now, whatever is cached (the background half of eventual
    /// consistency, or a TUI refresh): conditional when an etag is cached.
    pub async fn refresh<F, Fut>(&self, key: &CacheKey, fetch: F) -> Result<Fetched>
    where
        F: FnOnce(Option<String>) -> Fut,
        Fut: Future<Output = Result<FetchOutcome>>,
    {
        let cached = match self.lookup(key).0 {
            Lookup::Fresh(e) | Lookup::Stale(e) => Some(e),
            Lookup::Miss => None,
        };
        let outcome = fetch(cached.as_ref().and_then(|e| e.etag.clone())).await?;
        self.settle(key, cached, outcome).await
    }

    /// [`Cache::refresh`] as a tokio task, for the "refresh behind" half of eventual
    /// consistency. `None` outside a tokio runtime. The task's result says whether the
    /// refresh worked; dropping the handle detaches it.
    pub fn spawn_refresh<F, Fut>(
        &self,
        key: CacheKey,
        fetch: F,
    ) -> Option<tokio::task::JoinHandle<Result<Fetched>>>
    where
        F: FnOnce(Option<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<FetchOutcome>> + Send + 'static,
    {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let cache = self.clone();
        Some(handle.spawn(async move { cache.refresh(&key, fetch).await }))
    }

    /// Eventual consistency's "refresh behind": [`Cache::spawn_refresh`], kept so that
    /// [`Cache::settle_refreshes`] can wait for it. A long-lived caller (the TUI) never
    /// needs to; a one-shot command settles before its runtime ends, since a runtime
    /// that ends drops its unfinished tasks and the stale entry would stay stale.
    pub fn refresh_behind<F, Fut>(&self, key: CacheKey, fetch: F)
    where
        F: FnOnce(Option<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<FetchOutcome>> + Send + 'static,
    {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let cache = self.clone();
        let handle = runtime.spawn(async move {
            if let Err(e) = cache.refresh(&key, fetch).await {
                // The stale entry stays; the next read tries again.
                tracing::debug!(key = %key, error = %e, "refresh behind failed");
            }
        });
        let mut behind = self.inner.behind.lock().unwrap_or_else(|e| e.into_inner());
        behind.retain(|h| !h.is_finished());
        behind.push(handle);
    }

    /// Wait for every refresh started by [`Cache::refresh_behind`]. A failed refresh
    /// leaves the stale entry as it was (logged); it is not an error of the command.
    pub async fn settle_refreshes(&self) {
        let pending =
            std::mem::take(&mut *self.inner.behind.lock().unwrap_or_else(|e| e.into_inner()));
        for handle in pending {
            if let Err(e) = handle.await {
                tracing::debug!(error = %e, "refresh behind did not finish");
            }
        }
    }

    async fn settle(
        &self,
        key: &CacheKey,
        cached: Option<Arc<Entry>>,
        outcome: FetchOutcome,
    ) -> Result<Fetched> {
        match outcome {
            FetchOutcome::Fresh(new) => {
                self.record(key, false);
                Ok(Fetched {
                    entry: self.store(key, new).await,
                    provenance: Provenance::Network,
                    stale: false,
                })
            }
            FetchOutcome::NotModified => match cached {
                Some(old) => {
                    self.record(key, true);
                    Ok(Fetched {
                        entry: self.renew(key, &old),
                        provenance: Provenance::Revalidated,
                        stale: false,
                    })
                }
                None => Err(Error::general(format!(
                    "the registry answered 304 Not Modified for {key}, which is not cached"
                ))),
            },
        }
    }

    /// Put everything pending on disk: the stores queued behind async callers, and this
    /// process's hit/miss counts merged into `metadata.json`. Dropping the cache does this
    /// too; call it when another cache or process must see the entries now.
    pub fn flush(&self) {
        self.flush_writes();
        flush_counters(&self.inner);
    }
}

fn is_disk_full(e: &std::io::Error) -> bool {
    // ENOSPC (28) on Linux and macOS; `ErrorKind::StorageFull` is newer than our MSRV.
    cfg!(unix) && e.raw_os_error() == Some(28)
}
