//! `stats`, `clear`, `prune` and the periodic cleanup.

use super::disk::{self, remove_dir_if_empty, DirLock, FileInfo};
use super::entry::decode_header;
use super::key::{registry_hash, CacheKind};
use super::metadata::{self, RegistryCounters};
use super::{lock, Cache};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Cleanup runs at open when the last one is older than this.
pub(crate) const CLEANUP_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// Temp files older than this are leftovers of killed writers.
const TEMP_MAX_AGE: Duration = Duration::from_secs(3600);
const CLEANUP_LOCK: &str = "cleanup.lock";

/// Entries and bytes of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeUsage {
    pub entries: u64,
    pub size: u64,
}

/// Per-kind breakdown, named like the design's `by_type` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByType {
    pub catalogs: TypeUsage,
    pub tags: TypeUsage,
    pub manifests: TypeUsage,
    pub configs: TypeUsage,
}

impl ByType {
    pub fn get(&self, kind: CacheKind) -> TypeUsage {
        match kind {
            CacheKind::Catalog => self.catalogs,
            CacheKind::Tags => self.tags,
            CacheKind::Manifest => self.manifests,
            CacheKind::Config => self.configs,
        }
    }

    fn add(&mut self, kind: CacheKind, size: u64) {
        let u = match kind {
            CacheKind::Catalog => &mut self.catalogs,
            CacheKind::Tags => &mut self.tags,
            CacheKind::Manifest => &mut self.manifests,
            CacheKind::Config => &mut self.configs,
        };
        u.entries += 1;
        u.size += size;
    }
}

/// `rex registry cache stats`. Sizes are bytes; disk sizes are the entry files' sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheStats {
    /// The registry the numbers are scoped to (`None`: all registries).
    pub registry: Option<String>,
    pub registry_hash: Option<String>,
    pub enabled: bool,
    /// Distinct cached entries (the memory tier is a subset of the disk tier).
    pub total_entries: u64,
    pub total_size: u64,
    /// This process's memory tier.
    pub memory_entries: u64,
    pub memory_size: u64,
    pub disk_entries: u64,
    pub disk_size: u64,
    /// Hits and misses recorded by every process (see docs/cache.md for what counts).
    pub hits: u64,
    pub misses: u64,
    /// `hits / (hits + misses)`; `None` before any lookup.
    pub hit_rate: Option<f64>,
    pub last_cleanup: Option<DateTime<Utc>>,
    pub by_type: ByType,
    /// The cache directory.
    pub cache_path: Option<PathBuf>,
}

/// `rex registry cache clear`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearReport {
    pub entries: u64,
    pub bytes: u64,
    pub by_type: ByType,
}

/// `rex registry cache prune`. `entries`/`bytes`/`by_type` are what was (or, with
/// `dry_run`, would be) removed; the reason counters add up to `entries`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    pub dry_run: bool,
    pub entries: u64,
    pub bytes: u64,
    pub by_type: ByType,
    /// Past their TTL.
    pub expired: u64,
    /// Not accessed for `max_age_days`.
    pub unused: u64,
    /// Evicted to get under `disk_entries`/`disk_size_mb`.
    pub over_limit: u64,
    /// Unreadable, truncated, garbage or of another format version.
    pub corrupt: u64,
    /// Leftover temp files of killed writers (not counted in `entries`).
    pub temp_files: u64,
    /// What is left in scope afterwards.
    pub remaining_entries: u64,
    pub remaining_size: u64,
}

fn cache_error(root: &Path, e: std::io::Error) -> Error {
    Error::cache(format!(
        "cannot read the cache directory {}: {e}",
        root.display()
    ))
    .with_source(e)
}

fn in_scope(path: &Path, hash: Option<&str>) -> bool {
    selects(hash, |h| path.components().any(|c| c.as_os_str() == h))
}

/// `None` selects everything, `Some(v)` what `f(v)` accepts (`Option::is_none_or` is newer
/// than the workspace MSRV).
fn selects<T>(scope: Option<T>, f: impl FnOnce(T) -> bool) -> bool {
    match scope {
        None => true,
        Some(v) => f(v),
    }
}

impl Cache {
    /// Statistics, for one registry or all. A disabled cache reports zeros (and its
    /// directory, if it was given one).
    pub fn stats(&self, registry: Option<&str>) -> Result<CacheStats> {
        self.flush_writes();
        let hash = registry.map(registry_hash);
        let mut stats = CacheStats {
            registry: registry.map(str::to_owned),
            registry_hash: hash.clone(),
            enabled: self.inner.enabled,
            total_entries: 0,
            total_size: 0,
            memory_entries: 0,
            memory_size: 0,
            disk_entries: 0,
            disk_size: 0,
            hits: 0,
            misses: 0,
            hit_rate: None,
            last_cleanup: None,
            by_type: ByType::default(),
            cache_path: self.inner.dir.clone(),
        };
        let Some(disk) = &self.inner.disk else {
            return Ok(stats);
        };
        let (n, b) = lock(&self.inner.memory).usage(|k| selects(registry, |r| k.registry() == r));
        stats.memory_entries = n;
        stats.memory_size = b;

        let walk = disk::walk(&disk.root, hash.as_deref(), &CacheKind::ALL)
            .map_err(|e| cache_error(&disk.root, e))?;
        for f in &walk.entries {
            stats.by_type.add(f.kind, f.len);
            stats.disk_entries += 1;
            stats.disk_size += f.len;
        }
        stats.total_entries = stats.disk_entries;
        stats.total_size = stats.disk_size;

        let meta = metadata::load(&disk.root);
        stats.last_cleanup = meta.last_cleanup;
        let mut counters = RegistryCounters::default();
        let pending = lock(&self.inner.counters).clone();
        for (name, c) in meta.registries.iter().chain(pending.iter()) {
            if selects(registry, |r| r == name) {
                counters.add(c);
            }
        }
        stats.hits = counters.hits.total();
        stats.misses = counters.misses.total();
        let lookups = stats.hits + stats.misses;
        if lookups > 0 {
            stats.hit_rate = Some(stats.hits as f64 / lookups as f64);
        }
        Ok(stats)
    }

    /// Remove every entry of `registry` (all registries when `None`), optionally of one
    /// kind only, from memory and disk.
    pub fn clear(&self, registry: Option<&str>, kind: Option<CacheKind>) -> Result<ClearReport> {
        self.flush_writes();
        lock(&self.inner.memory).retain(|k| {
            !(selects(registry, |r| k.registry() == r) && selects(kind, |kd| k.kind() == kd))
        });
        let mut report = ClearReport::default();
        let Some(disk) = &self.inner.disk else {
            return Ok(report);
        };
        let kinds: Vec<CacheKind> = kind.map_or(CacheKind::ALL.to_vec(), |k| vec![k]);
        let hash = registry.map(registry_hash);
        let walk = disk::walk(&disk.root, hash.as_deref(), &kinds)
            .map_err(|e| cache_error(&disk.root, e))?;
        for f in &walk.entries {
            match std::fs::remove_file(&f.path) {
                Ok(()) => {
                    report.entries += 1;
                    report.bytes += f.len;
                    report.by_type.add(f.kind, f.len);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %f.path.display(), error = %e, "cannot remove cache entry")
                }
            }
        }
        remove_old_temps(&walk.temps, self.now().into());
        for d in &walk.dirs {
            remove_dir_if_empty(d);
        }
        Ok(report)
    }

    /// Remove, for `registry` (all when `None`): corrupt entries, expired entries (for
    /// manifests and configs the TTL is a maximum age), entries not accessed for
    /// `max_age_days`, then — while the whole cache is over `disk_entries` or
    /// `disk_size_mb` — catalog/tag entries before manifest/config entries, least recently
    /// accessed first, larger first on ties. With `dry_run` nothing is removed.
    pub fn prune(&self, registry: Option<&str>, dry_run: bool) -> Result<PruneReport> {
        self.flush_writes();
        let mut report = PruneReport {
            dry_run,
            ..PruneReport::default()
        };
        let Some(disk) = &self.inner.disk else {
            return Ok(report);
        };
        let now = self.now();
        let now_sys: SystemTime = now.into();
        let hash = registry.map(registry_hash);
        let walk = disk::walk(&disk.root, None, &CacheKind::ALL)
            .map_err(|e| cache_error(&disk.root, e))?;
        let max_age = match self.inner.limits.max_age_days {
            0 => None,
            d => Some(Duration::from_secs(d.saturating_mul(86400))),
        };

        let mut removed: HashSet<PathBuf> = HashSet::new();
        let mut survivors: Vec<FileInfo> = Vec::new();
        for f in walk.entries {
            if !selects(hash.as_deref(), |h| h == f.registry_hash) {
                survivors.push(f);
                continue;
            }
            let raw = match std::fs::read(&f.path) {
                Ok(raw) => raw,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    tracing::warn!(path = %f.path.display(), error = %e, "cannot read cache entry");
                    survivors.push(f);
                    continue;
                }
            };
            let reason = match decode_header(&raw) {
                Err(_) => &mut report.corrupt,
                // In another registry's directory: a misplaced file, never served.
                Ok(h) if registry_hash(&h.registry) != f.registry_hash => &mut report.corrupt,
                Ok(h) if now >= h.expires_at() => &mut report.expired,
                Ok(_)
                    if max_age
                        .is_some_and(|a| f.mtime.checked_add(a).is_some_and(|t| t < now_sys)) =>
                {
                    &mut report.unused
                }
                Ok(_) => {
                    survivors.push(f);
                    continue;
                }
            };
            *reason += 1;
            remove_entry(&f, dry_run, &mut report, &mut removed);
        }

        let limits = &self.inner.limits;
        let max_entries = match limits.disk_entries {
            0 => u64::MAX,
            n => n,
        };
        let max_bytes = match limits.disk_size_mb {
            0 => u64::MAX,
            mb => mb.saturating_mul(1024 * 1024),
        };
        let mut total_entries = survivors.len() as u64;
        let mut total_bytes: u64 = survivors.iter().map(|f| f.len).sum();
        let mut evicted: HashSet<PathBuf> = HashSet::new();
        if total_entries > max_entries || total_bytes > max_bytes {
            let mut candidates: Vec<&FileInfo> = survivors
                .iter()
                .filter(|f| selects(hash.as_deref(), |h| h == f.registry_hash))
                .collect();
            candidates.sort_by_key(|f| (f.kind.is_immutable(), f.mtime, std::cmp::Reverse(f.len)));
            for f in candidates {
                if total_entries <= max_entries && total_bytes <= max_bytes {
                    break;
                }
                report.over_limit += 1;
                total_entries -= 1;
                total_bytes -= f.len;
                evicted.insert(f.path.clone());
                remove_entry(f, dry_run, &mut report, &mut removed);
            }
        }
        for f in &survivors {
            if selects(hash.as_deref(), |h| h == f.registry_hash) && !evicted.contains(&f.path) {
                report.remaining_entries += 1;
                report.remaining_size += f.len;
            }
        }

        let temps: Vec<_> = walk
            .temps
            .into_iter()
            .filter(|(p, _)| in_scope(p, hash.as_deref()))
            .collect();
        report.temp_files = if dry_run {
            temps
                .iter()
                .filter(|(_, t)| is_old_temp(*t, now_sys))
                .count() as u64
        } else {
            remove_old_temps(&temps, now_sys)
        };

        if !dry_run {
            for d in walk.dirs.iter().filter(|d| in_scope(d, hash.as_deref())) {
                remove_dir_if_empty(d);
            }
            if !removed.is_empty() {
                lock(&self.inner.memory).retain(|k| !removed.contains(&disk.path(k)));
            }
            if registry.is_none() {
                if let Err(e) = metadata::update(&disk.root, |m| m.last_cleanup = Some(now)) {
                    tracing::warn!(error = %e, "cannot record the cache cleanup time");
                }
            }
        }
        Ok(report)
    }

    /// Prune everything when the last cleanup is more than 24 hours old (or never ran).
    /// Another process already cleaning up makes this a no-op. Returns the report when it ran.
    pub fn maybe_cleanup(&self) -> Option<PruneReport> {
        let disk = self.inner.disk.as_ref()?;
        let due = |last: Option<DateTime<Utc>>, now: DateTime<Utc>| match last {
            None => true,
            Some(t) => t > now || (now - t).to_std().is_ok_and(|d| d >= CLEANUP_INTERVAL),
        };
        if !due(metadata::load(&disk.root).last_cleanup, self.now()) {
            return None;
        }
        let _guard = match DirLock::try_acquire_file(&disk.root.join(CLEANUP_LOCK)) {
            Ok(Some(g)) => g,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot lock the cache for cleanup");
                return None;
            }
        };
        // Someone may have finished a cleanup between our check and the lock.
        if !due(metadata::load(&disk.root).last_cleanup, self.now()) {
            return None;
        }
        match self.prune(None, false) {
            Ok(report) => {
                tracing::debug!(
                    removed = report.entries,
                    bytes = report.bytes,
                    "cache cleanup"
                );
                Some(report)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cache cleanup failed");
                None
            }
        }
    }
}

fn remove_entry(
    f: &FileInfo,
    dry_run: bool,
    report: &mut PruneReport,
    removed: &mut HashSet<PathBuf>,
) {
    if !dry_run {
        match std::fs::remove_file(&f.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %f.path.display(), error = %e, "cannot remove cache entry");
                return;
            }
        }
        removed.insert(f.path.clone());
    }
    report.entries += 1;
    report.bytes += f.len;
    report.by_type.add(f.kind, f.len);
}

fn is_old_temp(mtime: SystemTime, now: SystemTime) -> bool {
    now.duration_since(mtime)
        .is_ok_and(|age| age >= TEMP_MAX_AGE)
}

/// Remove temp files older than an hour (younger ones may belong to a live writer).
fn remove_old_temps(temps: &[(PathBuf, SystemTime)], now: SystemTime) -> u64 {
    let mut n = 0;
    for (p, t) in temps {
        if is_old_temp(*t, now) && std::fs::remove_file(p).is_ok() {
            n += 1;
        }
    }
    n
}
