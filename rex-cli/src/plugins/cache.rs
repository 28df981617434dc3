//! The description cache: each external plugin's manifest (or why it cannot load),
//! keyed by its path and checked against size, mtime, inode and the sha256 of the file.
//! A new rex (or plugin API) discards it.
//!
//! Hashing every plugin on every run would cost more than describing saves, so the hash
//! is compared only when the metadata cannot vouch for the content: size, mtime and
//! inode can be kept while the bytes change (`touch -d` after a rewrite), but not the
//! ctime, which no user can set. A changed ctime with equal size/mtime/inode means
//! "hash and compare"; equal hashes keep the description.

use rex_plugin_api::{PluginManifest, API_VERSION};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Described {
    pub size: u64,
    pub mtime_ns: i128,
    pub inode: u64,
    /// The status-change time when last verified (0 in older caches: hash once).
    #[serde(default)]
    pub ctime_ns: i128,
    pub sha256: String,
    /// The manifest, when the plugin loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<PluginManifest>,
    /// The one-line reason it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Described {
    pub fn matches(&self, meta: &std::fs::Metadata) -> bool {
        self.size == meta.len() && self.mtime_ns == mtime_ns(meta) && self.inode == meta.ino()
    }
}

pub fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128
}

pub fn ctime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    host_version: String,
    api_version: String,
    entries: BTreeMap<PathBuf, Described>,
}

/// The cache, loaded once per run and written back only when it changed.
pub struct DescriptionCache {
    path: Option<PathBuf>,
    file: CacheFile,
    dirty: bool,
}

fn host_version() -> String {
    concat!(
        env!("CARGO_PKG_VERSION"),
        "+",
        env!("REX_BUILD_COMMIT_SHORT")
    )
    .to_owned()
}

impl DescriptionCache {
    pub fn open(path: Option<PathBuf>) -> DescriptionCache {
        let fresh = CacheFile {
            format: FORMAT,
            host_version: host_version(),
            api_version: API_VERSION.to_string(),
            entries: BTreeMap::new(),
        };
        let file = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
            .filter(|f| {
                f.format == FORMAT
                    && f.host_version == fresh.host_version
                    && f.api_version == fresh.api_version
            })
            .unwrap_or(fresh);
        DescriptionCache {
            path,
            file,
            dirty: false,
        }
    }

    /// The cached description of `path`, if it still describes the file's content.
    pub fn get(&mut self, path: &Path, meta: &std::fs::Metadata) -> Option<Described> {
        let d = self
            .file
            .entries
            .get_mut(path)
            .filter(|d| d.matches(meta))?;
        let ctime = ctime_ns(meta);
        if d.ctime_ns != ctime {
            let sha = sha256_file(path).ok()?;
            if sha != d.sha256 {
                tracing::debug!(path = %path.display(), "plugin content changed under the same size and mtime");
                return None;
            }
            d.ctime_ns = ctime;
            self.dirty = true;
        }
        Some(d.clone())
    }

    pub fn put(&mut self, path: &Path, described: Described) {
        self.file.entries.insert(path.to_owned(), described);
        self.dirty = true;
    }

    /// Forget files that no longer exist.
    pub fn prune(&mut self) {
        let before = self.file.entries.len();
        self.file.entries.retain(|p, _| p.exists());
        self.dirty |= before != self.file.entries.len();
    }

    pub fn remove(&mut self, path: &Path) {
        self.dirty |= self.file.entries.remove(path).is_some();
    }

    /// Write atomically (temp file + rename); a cache that cannot be written is only slower.
    pub fn save(&mut self) {
        if !self.dirty {
            return;
        }
        let Some(path) = &self.path else { return };
        let write = || -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join(format!(".plugin-descriptions.{}.tmp", std::process::id()));
            std::fs::write(
                &tmp,
                serde_json::to_vec_pretty(&self.file).unwrap_or_default(),
            )?;
            std::fs::rename(&tmp, path)
        };
        match write() {
            Ok(()) => self.dirty = false,
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "cannot write the plugin description cache")
            }
        }
    }
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Describe a plugin file by loading it (the slow path) into a cache record.
pub fn describe(path: &Path, meta: &std::fs::Metadata) -> Described {
    let started = std::time::Instant::now();
    let (manifest, error) = match rex_plugin_api::ExternalPlugin::load(path) {
        Ok(p) => {
            use rex_plugin_api::Plugin;
            (Some(p.manifest()), None)
        }
        Err(e) => {
            if let Some(d) = &e.detail {
                tracing::debug!(path = %path.display(), detail = %d, "plugin load detail");
            }
            (None, Some(e.reason.clone()))
        }
    };
    tracing::debug!(path = %path.display(), elapsed_ms = started.elapsed().as_millis() as u64, ok = manifest.is_some(), "described plugin");
    Described {
        size: meta.len(),
        mtime_ns: mtime_ns(meta),
        inode: meta.ino(),
        ctime_ns: ctime_ns(meta),
        sha256: sha256_file(path).unwrap_or_default(),
        manifest,
        error,
    }
}
