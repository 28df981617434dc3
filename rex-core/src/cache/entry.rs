//! Cached values and their on-disk JSON form.

use super::key::{CacheKey, CacheKind};
use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Version of the entry file format; files with another version are discarded.
pub const ENTRY_VERSION: u32 = 1;

/// What an entry holds: a list of names (catalog, tags) or the registry's exact bytes
/// (manifest, config). Cloning is cheap (shared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Names(Arc<[String]>),
    Bytes(Bytes),
}

impl Payload {
    pub fn names(&self) -> Option<&[String]> {
        match self {
            Payload::Names(n) => Some(n),
            Payload::Bytes(_) => None,
        }
    }

    pub fn bytes(&self) -> Option<&Bytes> {
        match self {
            Payload::Bytes(b) => Some(b),
            Payload::Names(_) => None,
        }
    }

    /// Approximate bytes held (names: their UTF-8 length plus per-string overhead).
    pub fn size(&self) -> u64 {
        match self {
            Payload::Names(n) => n.iter().map(|s| s.len() as u64 + 24).sum(),
            Payload::Bytes(b) => b.len() as u64,
        }
    }

    /// Whether this payload shape belongs to `kind` (names for catalog/tags, bytes otherwise).
    pub fn fits(&self, kind: CacheKind) -> bool {
        matches!(
            (self, kind),
            (Payload::Names(_), CacheKind::Catalog | CacheKind::Tags)
                | (Payload::Bytes(_), CacheKind::Manifest | CacheKind::Config)
        )
    }
}

/// A cached value with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub cached_at: DateTime<Utc>,
    pub ttl_seconds: u64,
    /// The registry's `ETag`, for conditional revalidation.
    pub etag: Option<String>,
    /// The `Content-Type` the registry sent (manifests).
    pub media_type: Option<String>,
    pub payload: Payload,
}

impl Entry {
    pub fn expires_at(&self) -> DateTime<Utc> {
        let ttl = i64::try_from(self.ttl_seconds).unwrap_or(i64::MAX);
        self.cached_at
            .checked_add_signed(chrono::Duration::try_seconds(ttl).unwrap_or(chrono::Duration::MAX))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Past its TTL at `now` (an entry with TTL 0 is expired immediately).
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at()
    }

    /// Approximate memory footprint, used for the memory limit.
    pub fn size(&self) -> u64 {
        self.payload.size()
            + self.etag.as_ref().map_or(0, |s| s.len() as u64)
            + self.media_type.as_ref().map_or(0, |s| s.len() as u64)
            + 64
    }
}

/// A value to store, as returned by a fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub payload: Payload,
    pub etag: Option<String>,
    pub media_type: Option<String>,
}

impl NewEntry {
    /// A catalog or tag list.
    pub fn names(names: Vec<String>) -> Self {
        NewEntry {
            payload: Payload::Names(names.into()),
            etag: None,
            media_type: None,
        }
    }

    /// A manifest or config: the registry's exact bytes.
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        NewEntry {
            payload: Payload::Bytes(bytes.into()),
            etag: None,
            media_type: None,
        }
    }

    pub fn with_etag(mut self, etag: Option<String>) -> Self {
        self.etag = etag;
        self
    }

    pub fn with_media_type(mut self, media_type: Option<String>) -> Self {
        self.media_type = media_type;
        self
    }
}

// ----- disk form -----

#[derive(Serialize)]
struct EntryOut<'a> {
    version: u32,
    cached_at: DateTime<Utc>,
    ttl_seconds: u64,
    registry: &'a str,
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    etag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_type: Option<&'a str>,
    /// Payload bytes (names: total length), for humans and `stats`.
    size: u64,
    data: DataOut<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum DataOut<'a> {
    Repositories { repositories: &'a [String] },
    Tags { tags: &'a [String] },
    // Valid UTF-8 is stored as a JSON string: readable, and serde_json round-trips it exactly.
    Text { text: &'a str },
    Base64 { base64: String },
}

#[derive(Deserialize)]
struct EntryIn {
    version: u32,
    cached_at: DateTime<Utc>,
    ttl_seconds: u64,
    registry: String,
    key: String,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    media_type: Option<String>,
    data: DataIn,
}

#[derive(Deserialize)]
struct DataIn {
    #[serde(default)]
    repositories: Option<Vec<String>>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    base64: Option<String>,
}

/// The fields `prune` needs, read without decoding the payload.
#[derive(Debug, Deserialize)]
pub(crate) struct EntryHeader {
    pub version: u32,
    pub cached_at: DateTime<Utc>,
    pub ttl_seconds: u64,
    pub registry: String,
}

impl EntryHeader {
    pub fn expires_at(&self) -> DateTime<Utc> {
        Entry {
            cached_at: self.cached_at,
            ttl_seconds: self.ttl_seconds,
            etag: None,
            media_type: None,
            payload: Payload::Bytes(Bytes::new()),
        }
        .expires_at()
    }
}

pub(crate) fn encode(key: &CacheKey, entry: &Entry) -> serde_json::Result<Vec<u8>> {
    let key_string = key.key_string();
    let data = match (&entry.payload, key.kind()) {
        (Payload::Names(n), CacheKind::Catalog) => DataOut::Repositories { repositories: n },
        (Payload::Names(n), _) => DataOut::Tags { tags: n },
        (Payload::Bytes(b), _) => match std::str::from_utf8(b) {
            Ok(text) => DataOut::Text { text },
            Err(_) => DataOut::Base64 {
                base64: base64::engine::general_purpose::STANDARD.encode(b),
            },
        },
    };
    let size = match &entry.payload {
        Payload::Names(n) => n.iter().map(|s| s.len() as u64).sum(),
        Payload::Bytes(b) => b.len() as u64,
    };
    serde_json::to_vec(&EntryOut {
        version: ENTRY_VERSION,
        cached_at: entry.cached_at,
        ttl_seconds: entry.ttl_seconds,
        registry: key.registry(),
        key: &key_string,
        etag: entry.etag.as_deref(),
        media_type: entry.media_type.as_deref(),
        size,
        data,
    })
}

/// Decode an entry file for `key`. `Err` says why the file is unusable (it is then deleted).
pub(crate) fn decode(key: &CacheKey, raw: &[u8]) -> Result<Entry, String> {
    let parsed: EntryIn = serde_json::from_slice(raw).map_err(|e| {
        // Say "wrong version" rather than a parse error when that is the cause.
        match decode_header(raw) {
            Err(reason) => reason,
            Ok(_) => format!("not a cache entry: {e}"),
        }
    })?;
    if parsed.version != ENTRY_VERSION {
        return Err(format!("unsupported entry version {}", parsed.version));
    }
    if parsed.registry != key.registry() || parsed.key != key.key_string() {
        // A hash collision or a misplaced file: never serve another key's data.
        return Err(format!(
            "entry is for {}/{}, not {key}",
            parsed.registry, parsed.key
        ));
    }
    let data = parsed.data;
    let payload = match key.kind() {
        CacheKind::Catalog => Payload::Names(
            data.repositories
                .ok_or("catalog entry without repositories")?
                .into(),
        ),
        CacheKind::Tags => Payload::Names(data.tags.ok_or("tags entry without tags")?.into()),
        CacheKind::Manifest | CacheKind::Config => match (data.text, data.base64) {
            (Some(text), None) => Payload::Bytes(Bytes::from(text.into_bytes())),
            (None, Some(b64)) => Payload::Bytes(Bytes::from(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| format!("bad base64 payload: {e}"))?,
            )),
            _ => return Err("entry without exactly one of text/base64".to_owned()),
        },
    };
    Ok(Entry {
        cached_at: parsed.cached_at,
        ttl_seconds: parsed.ttl_seconds,
        etag: parsed.etag,
        media_type: parsed.media_type,
        payload,
    })
}

pub(crate) fn decode_header(raw: &[u8]) -> Result<EntryHeader, String> {
    let header: EntryHeader =
        serde_json::from_slice(raw).map_err(|e| format!("not a cache entry: {e}"))?;
    if header.version != ENTRY_VERSION {
        return Err(format!("unsupported entry version {}", header.version));
    }
    Ok(header)
}
