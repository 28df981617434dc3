//! `metadata.json`: hit/miss counters per registry and kind, and the last cleanup time.
//!
//! Lookups only bump in-process counters; [`merge`] folds them into the file under the
//! root lock (at flush/drop), so concurrent processes never lose each other's counts.

use super::disk::{write_atomic, DirLock, LOCK_TIMEOUT};
use super::key::CacheKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) const METADATA_FILE: &str = "metadata.json";

/// Counts per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KindCounters {
    pub catalog: u64,
    pub tags: u64,
    pub manifest: u64,
    pub config: u64,
}

impl KindCounters {
    pub fn get(&self, kind: CacheKind) -> u64 {
        match kind {
            CacheKind::Catalog => self.catalog,
            CacheKind::Tags => self.tags,
            CacheKind::Manifest => self.manifest,
            CacheKind::Config => self.config,
        }
    }

    pub fn get_mut(&mut self, kind: CacheKind) -> &mut u64 {
        match kind {
            CacheKind::Catalog => &mut self.catalog,
            CacheKind::Tags => &mut self.tags,
            CacheKind::Manifest => &mut self.manifest,
            CacheKind::Config => &mut self.config,
        }
    }

    pub fn total(&self) -> u64 {
        self.catalog + self.tags + self.manifest + self.config
    }

    fn add(&mut self, other: &KindCounters) {
        for k in CacheKind::ALL {
            *self.get_mut(k) += other.get(k);
        }
    }
}

/// Hits and misses of one registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistryCounters {
    pub hits: KindCounters,
    pub misses: KindCounters,
}

impl RegistryCounters {
    pub fn add(&mut self, other: &RegistryCounters) {
        self.hits.add(&other.hits);
        self.misses.add(&other.misses);
    }

    pub fn is_empty(&self) -> bool {
        self.hits.total() == 0 && self.misses.total() == 0
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Metadata {
    pub version: u32,
    pub last_cleanup: Option<DateTime<Utc>>,
    /// Keyed by the canonical registry string.
    pub registries: BTreeMap<String, RegistryCounters>,
}

/// Read `metadata.json`; a missing or unreadable file is an empty one.
pub(crate) fn load(root: &Path) -> Metadata {
    let path = root.join(METADATA_FILE);
    match std::fs::read(&path) {
        Ok(raw) => match serde_json::from_slice::<Metadata>(&raw) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring corrupt cache metadata");
                Metadata::default()
            }
        },
        Err(_) => Metadata::default(),
    }
}

/// Read-modify-write `metadata.json` under the root lock.
pub(crate) fn update(root: &Path, change: impl FnOnce(&mut Metadata)) -> std::io::Result<()> {
    let _lock = DirLock::acquire(root, LOCK_TIMEOUT)?;
    let mut meta = load(root);
    change(&mut meta);
    meta.version = 1;
    let bytes = serde_json::to_vec_pretty(&meta).map_err(std::io::Error::other)?;
    // Statistics are not worth an fsync.
    write_atomic(&root.join(METADATA_FILE), &bytes, None, false)
}
