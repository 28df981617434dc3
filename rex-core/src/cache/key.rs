//! Cache keys, kinds and the on-disk path of each key.

use crate::config::CacheTtl;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// What a cache entry holds. The names are those of `--type catalog|tags|manifest|config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheKind {
    /// A registry's repository list (`/v2/_catalog`). Mutable.
    Catalog,
    /// A repository's tag list. Mutable.
    Tags,
    /// A manifest addressed by digest. Immutable.
    Manifest,
    /// An image config blob addressed by digest. Immutable.
    Config,
}

impl CacheKind {
    pub const ALL: [CacheKind; 4] = [
        CacheKind::Catalog,
        CacheKind::Tags,
        CacheKind::Manifest,
        CacheKind::Config,
    ];

    /// The `--type` name: `catalog`, `tags`, `manifest`, `config`.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheKind::Catalog => "catalog",
            CacheKind::Tags => "tags",
            CacheKind::Manifest => "manifest",
            CacheKind::Config => "config",
        }
    }

    /// The top-level directory of this kind in the cache dir (and the `by_type` field name).
    pub fn dir_name(self) -> &'static str {
        match self {
            CacheKind::Catalog => "catalogs",
            CacheKind::Tags => "tags",
            CacheKind::Manifest => "manifests",
            CacheKind::Config => "configs",
        }
    }

    /// Digest-addressed content never changes: its TTL only bounds how long it is kept.
    pub fn is_immutable(self) -> bool {
        matches!(self, CacheKind::Manifest | CacheKind::Config)
    }

    /// The configured TTL of this kind, in seconds.
    pub fn ttl(self, ttl: &CacheTtl) -> u64 {
        match self {
            CacheKind::Catalog => ttl.catalog,
            CacheKind::Tags => ttl.tags,
            CacheKind::Manifest => ttl.manifest,
            CacheKind::Config => ttl.config,
        }
    }
}

impl fmt::Display for CacheKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CacheKind {
    type Err = Error;

    /// Accepts the singular and plural forms (`manifest`, `manifests`), any case.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "catalog" | "catalogs" => Ok(CacheKind::Catalog),
            "tag" | "tags" => Ok(CacheKind::Tags),
            "manifest" | "manifests" => Ok(CacheKind::Manifest),
            "config" | "configs" => Ok(CacheKind::Config),
            _ => Err(Error::usage(format!(
                "unknown cache type '{s}'; expected one of: catalog, tags, manifest, config"
            ))),
        }
    }
}

/// Identifies one cached response. `registry` is the canonical `host[:port]` of the
/// registry (the same string for every call against one registry, e.g.
/// `Endpoint::registry_host()`); `digest` is `algorithm:hex`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    Catalog {
        registry: String,
    },
    Tags {
        registry: String,
        repository: String,
    },
    Manifest {
        registry: String,
        repository: String,
        digest: String,
    },
    Config {
        registry: String,
        repository: String,
        digest: String,
    },
}

impl CacheKey {
    pub fn catalog(registry: impl Into<String>) -> Self {
        CacheKey::Catalog {
            registry: registry.into(),
        }
    }

    pub fn tags(registry: impl Into<String>, repository: impl Into<String>) -> Self {
        CacheKey::Tags {
            registry: registry.into(),
            repository: repository.into(),
        }
    }

    pub fn manifest(
        registry: impl Into<String>,
        repository: impl Into<String>,
        digest: impl Into<String>,
    ) -> Self {
        CacheKey::Manifest {
            registry: registry.into(),
            repository: repository.into(),
            digest: digest.into(),
        }
    }

    pub fn config(
        registry: impl Into<String>,
        repository: impl Into<String>,
        digest: impl Into<String>,
    ) -> Self {
        CacheKey::Config {
            registry: registry.into(),
            repository: repository.into(),
            digest: digest.into(),
        }
    }

    pub fn kind(&self) -> CacheKind {
        match self {
            CacheKey::Catalog { .. } => CacheKind::Catalog,
            CacheKey::Tags { .. } => CacheKind::Tags,
            CacheKey::Manifest { .. } => CacheKind::Manifest,
            CacheKey::Config { .. } => CacheKind::Config,
        }
    }

    pub fn registry(&self) -> &str {
        match self {
            CacheKey::Catalog { registry }
            | CacheKey::Tags { registry, .. }
            | CacheKey::Manifest { registry, .. }
            | CacheKey::Config { registry, .. } => registry,
        }
    }

    pub fn repository(&self) -> Option<&str> {
        match self {
            CacheKey::Catalog { .. } => None,
            CacheKey::Tags { repository, .. }
            | CacheKey::Manifest { repository, .. }
            | CacheKey::Config { repository, .. } => Some(repository),
        }
    }

    pub fn digest(&self) -> Option<&str> {
        match self {
            CacheKey::Manifest { digest, .. } | CacheKey::Config { digest, .. } => Some(digest),
            _ => None,
        }
    }

    /// The key as written in an entry's `key` field (the registry is a separate field):
    /// `catalog`, `{repo}/tags`, `{repo}/manifests/{digest}`, `{repo}/configs/{digest}`.
    pub fn key_string(&self) -> String {
        match self {
            CacheKey::Catalog { .. } => "catalog".to_owned(),
            CacheKey::Tags { repository, .. } => format!("{repository}/tags"),
            CacheKey::Manifest {
                repository, digest, ..
            } => format!("{repository}/manifests/{digest}"),
            CacheKey::Config {
                repository, digest, ..
            } => format!("{repository}/configs/{digest}"),
        }
    }

    /// The entry's path relative to the cache directory, e.g.
    /// `tags/{registry_hash}/{repo_hash}/tags.json`.
    pub fn relative_path(&self) -> PathBuf {
        let mut p = PathBuf::from(self.kind().dir_name());
        p.push(registry_hash(self.registry()));
        match self {
            CacheKey::Catalog { .. } => p.push("catalog.json"),
            CacheKey::Tags { repository, .. } => {
                p.push(repository_hash(repository));
                p.push("tags.json");
            }
            CacheKey::Manifest {
                repository, digest, ..
            }
            | CacheKey::Config {
                repository, digest, ..
            } => {
                p.push(repository_hash(repository));
                p.push(digest_file_name(digest));
            }
        }
        p
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry(), self.key_string())
    }
}

fn short_sha256(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    hex::encode(&digest[..8])
}

/// The directory name of a registry in the cache: sha256 of the canonical `host[:port]`,
/// truncated to 16 hex characters.
pub fn registry_hash(registry: &str) -> String {
    short_sha256(registry)
}

/// The directory name of a repository below its registry's directory (same scheme).
pub fn repository_hash(repository: &str) -> String {
    short_sha256(repository)
}

/// `sha256:abc…` → `sha256-abc….json`. Anything that is not a plain `algo:hex` digest
/// (which the registry layer should never pass) is hashed so it cannot escape the directory.
pub(crate) fn digest_file_name(digest: &str) -> String {
    let safe = digest.split_once(':').is_some_and(|(algo, hex)| {
        !algo.is_empty()
            && !hex.is_empty()
            && digest.len() <= 200
            && algo
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'+' || b == b'_')
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if safe {
        format!("{}.json", digest.replacen(':', "-", 1))
    } else {
        format!("x-{}.json", hex::encode(Sha256::digest(digest.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_16_hex_and_deterministic() {
        let h = registry_hash("localhost:5000");
        assert_eq!(h.len(), 16);
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(h, registry_hash("localhost:5000"));
        assert_ne!(h, registry_hash("localhost:5001"));
    }

    #[test]
    fn paths_follow_the_design_layout() {
        let r = registry_hash("localhost:5000");
        let repo = repository_hash("my/app");
        assert_eq!(
            CacheKey::catalog("localhost:5000").relative_path(),
            PathBuf::from(format!("catalogs/{r}/catalog.json"))
        );
        assert_eq!(
            CacheKey::tags("localhost:5000", "my/app").relative_path(),
            PathBuf::from(format!("tags/{r}/{repo}/tags.json"))
        );
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            CacheKey::manifest("localhost:5000", "my/app", &d).relative_path(),
            PathBuf::from(format!(
                "manifests/{r}/{repo}/sha256-{}.json",
                "ab".repeat(32)
            ))
        );
        assert_eq!(
            CacheKey::config("localhost:5000", "my/app", &d).relative_path(),
            PathBuf::from(format!(
                "configs/{r}/{repo}/sha256-{}.json",
                "ab".repeat(32)
            ))
        );
    }

    #[test]
    fn hostile_digests_cannot_escape() {
        for d in [
            "../../etc/passwd",
            "sha256:../x",
            "",
            "sha256:",
            ":abc",
            "a/b:cd",
        ] {
            let name = digest_file_name(d);
            assert!(name.starts_with("x-"), "{d} -> {name}");
            assert!(!name.contains('/'));
        }
    }

    #[test]
    fn kinds_parse_singular_and_plural() {
        for k in CacheKind::ALL {
            assert_eq!(k.as_str().parse::<CacheKind>().unwrap(), k);
            assert_eq!(k.dir_name().parse::<CacheKind>().unwrap(), k);
        }
        let err = "blobs".parse::<CacheKind>().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Usage);
    }
}
