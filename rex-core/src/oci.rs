//! OCI image-spec and Docker schema 2 models (seed 1.4): descriptors, platforms, image
//! manifests, indexes / manifest lists, image configs, and media types.
//!
//! The structs keep only parsed fields; the registry layer keeps the original bytes
//! (their digest is what identifies a manifest). Unknown fields are ignored and `null`
//! arrays/maps are read as empty, because real registries and builders emit both.

use crate::digest::Digest;
use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Media types rex recognises.
pub mod media_types {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
    pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    pub const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP: &str =
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    /// The empty descriptor (`{}`) of OCI 1.1 artifacts.
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_LAYER_TAR_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    pub const DOCKER_FOREIGN_LAYER: &str =
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    pub const DOCKER_PLUGIN_CONFIG: &str = "application/vnd.docker.plugin.v1+json";

    /// Schema 1 (refused: deprecated, signed, and rewritten by registries).
    pub const DOCKER_MANIFEST_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    pub const DOCKER_MANIFEST_V1_SIGNED: &str =
        "application/vnd.docker.distribution.manifest.v1+prettyjws";

    /// In-toto attestations (BuildKit provenance / SBOM layers).
    pub const IN_TOTO: &str = "application/vnd.in-toto+json";
    /// Annotation BuildKit puts on attestation manifests inside an index.
    pub const DOCKER_REFERENCE_TYPE_ANNOTATION: &str = "vnd.docker.reference.type";
    pub const DOCKER_REFERENCE_DIGEST_ANNOTATION: &str = "vnd.docker.reference.digest";
    pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";

    /// `application/json`, sent by some registries for any manifest.
    pub const JSON: &str = "application/json";

    /// Whether `mt` is a single-image manifest type.
    pub fn is_manifest(mt: &str) -> bool {
        let mt = super::strip_params(mt);
        mt == OCI_MANIFEST || mt == DOCKER_MANIFEST
    }

    /// Whether `mt` is an index / manifest list type.
    pub fn is_index(mt: &str) -> bool {
        let mt = super::strip_params(mt);
        mt == OCI_INDEX || mt == DOCKER_MANIFEST_LIST
    }

    /// Whether `mt` is any manifest type rex reads (image or index).
    pub fn is_any_manifest(mt: &str) -> bool {
        is_manifest(mt) || is_index(mt)
    }

    /// Whether `mt` is an image config type.
    pub fn is_config(mt: &str) -> bool {
        let mt = super::strip_params(mt);
        mt == OCI_CONFIG || mt == DOCKER_CONFIG
    }

    /// Whether `mt` is a filesystem layer.
    pub fn is_layer(mt: &str) -> bool {
        let mt = super::strip_params(mt);
        mt.starts_with("application/vnd.oci.image.layer.")
            || mt.starts_with("application/vnd.docker.image.rootfs.")
    }

    /// A short human name for a media type (`oci manifest`, `docker layer`, …), or the
    /// type itself.
    pub fn short_name(mt: &str) -> &str {
        match super::strip_params(mt) {
            OCI_MANIFEST => "OCI manifest",
            OCI_INDEX => "OCI index",
            OCI_CONFIG => "OCI config",
            OCI_LAYER_TAR => "OCI layer (tar)",
            OCI_LAYER_TAR_GZIP => "OCI layer (gzip)",
            OCI_LAYER_TAR_ZSTD => "OCI layer (zstd)",
            OCI_EMPTY => "empty",
            DOCKER_MANIFEST => "Docker manifest",
            DOCKER_MANIFEST_LIST => "Docker manifest list",
            DOCKER_CONFIG => "Docker config",
            DOCKER_LAYER_TAR_GZIP => "Docker layer (gzip)",
            DOCKER_FOREIGN_LAYER => "Docker foreign layer",
            IN_TOTO => "in-toto attestation",
            _ => mt,
        }
    }
}

/// The `Accept` header for manifest requests: all four types, or registries rewrite
/// Docker manifests to schema 1 and 404 OCI ones.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// The manifest media types, in the order of [`MANIFEST_ACCEPT`].
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    media_types::OCI_MANIFEST,
    media_types::OCI_INDEX,
    media_types::DOCKER_MANIFEST,
    media_types::DOCKER_MANIFEST_LIST,
];

/// `type/subtype` without `; charset=…` parameters, trimmed and lower-cased where the
/// input already is (media types are compared case-sensitively by registries).
fn strip_params(mt: &str) -> &str {
    mt.split(';').next().unwrap_or("").trim()
}

/// Read `null` as the type's default (Docker writes `"Env": null`).
fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub urls: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }

    /// Whether this index entry is a BuildKit attestation manifest (or otherwise has the
    /// `unknown/unknown` platform of one).
    pub fn is_attestation(&self) -> bool {
        self.annotations
            .get(media_types::DOCKER_REFERENCE_TYPE_ANNOTATION)
            .is_some_and(|v| v == media_types::ATTESTATION_MANIFEST)
            || self.platform.as_ref().is_some_and(Platform::is_unknown)
    }
}

/// An OS/architecture pair with optional details.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub features: Vec<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            variant: variant.map(str::to_owned),
            ..Platform::default()
        }
    }

    /// `unknown/unknown`, used by BuildKit for attestation manifests.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }

    /// Whether this platform satisfies `selector` (os and architecture equal; variant
    /// equal after normalisation, or not asked for).
    pub fn matches(&self, selector: &PlatformSelector) -> bool {
        if !self.os.eq_ignore_ascii_case(&selector.os) {
            return false;
        }
        let (arch, variant) = normalize_arch(&self.architecture, self.variant.as_deref());
        let (sel_arch, sel_variant) =
            normalize_arch(&selector.architecture, selector.variant.as_deref());
        if arch != sel_arch {
            return false;
        }
        if selector.variant.is_none() {
            // `linux/arm` matches any arm; `find_platform` prefers the default variant.
            return true;
        }
        sel_variant == variant
    }

    /// Like [`Platform::matches`], but a selector without variant only matches the
    /// architecture's default variant (arm64 → v8, arm → v7, amd64 → none).
    pub fn matches_exactly(&self, selector: &PlatformSelector) -> bool {
        if !self.matches(selector) {
            return false;
        }
        let (_, variant) = normalize_arch(&self.architecture, self.variant.as_deref());
        let (_, sel_variant) = normalize_arch(&selector.architecture, selector.variant.as_deref());
        variant == sel_variant
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Bring architecture names and default variants to one form: `aarch64` = `arm64`,
/// `x86_64` = `amd64`; arm64's default variant is v8; amd64 has no variant (v1 = none);
/// 32-bit arm defaults to v7.
fn normalize_arch(arch: &str, variant: Option<&str>) -> (String, Option<String>) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant
        .map(str::to_ascii_lowercase)
        .filter(|v| !v.is_empty());
    match arch.as_str() {
        "aarch64" | "arm64" => ("arm64".into(), Some(variant.unwrap_or_else(|| "v8".into()))),
        "x86_64" | "x86-64" | "amd64" => {
            let v = variant.filter(|v| v != "v1");
            ("amd64".into(), v)
        }
        "armhf" => ("arm".into(), Some("v7".into())),
        "armel" => ("arm".into(), Some("v6".into())),
        "arm" => ("arm".into(), Some(variant.unwrap_or_else(|| "v7".into()))),
        "i386" | "386" | "x86" => ("386".into(), variant),
        _ => (arch, variant),
    }
}

/// A `os/arch[/variant]` filter given by the user, e.g. `linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlatformSelector {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl PlatformSelector {
    /// Parse `os/arch[/variant]`.
    pub fn parse(input: &str) -> Result<PlatformSelector> {
        let bad = |why: &str| {
            Error::usage(format!("invalid platform '{input}': {why}"))
                .with_hint("write os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8")
        };
        let parts: Vec<&str> = input.trim().split('/').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(bad("expected os/arch or os/arch/variant"));
        }
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad("a part is empty"));
        }
        let valid = |p: &&str| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        };
        if !parts.iter().all(valid) {
            return Err(bad("only letters, digits, '.', '_' and '-' are allowed"));
        }
        Ok(PlatformSelector {
            os: parts[0].to_ascii_lowercase(),
            architecture: parts[1].to_ascii_lowercase(),
            variant: parts.get(2).map(|v| v.to_ascii_lowercase()),
        })
    }
}

impl std::str::FromStr for PlatformSelector {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        PlatformSelector::parse(s)
    }
}

impl fmt::Display for PlatformSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An image manifest (OCI image manifest or Docker schema 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    #[serde(default, deserialize_with = "null_default")]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

/// An image index (OCI index or Docker manifest list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// Entries that are images for a real platform (attestations left out).
    pub fn platform_manifests(&self) -> impl Iterator<Item = &Descriptor> {
        self.manifests.iter().filter(|d| !d.is_attestation())
    }

    /// The entry for `selector`: the first exact match (default variant when the selector
    /// names none), else the first entry of that os/arch. Attestations never match.
    pub fn find_platform(&self, selector: &PlatformSelector) -> Option<&Descriptor> {
        let mut candidates = self
            .platform_manifests()
            .filter(|d| d.platform.as_ref().is_some_and(|p| p.matches(selector)));
        let first = candidates.next()?;
        if first
            .platform
            .as_ref()
            .is_some_and(|p| p.matches_exactly(selector))
        {
            return Some(first);
        }
        candidates
            .find(|d| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| p.matches_exactly(selector))
            })
            .or(Some(first))
    }
}

/// Any manifest rex reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Manifest {
    OciImage(ImageManifest),
    OciIndex(ImageIndex),
    DockerV2(ImageManifest),
    DockerList(ImageIndex),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    OciImage,
    OciIndex,
    DockerV2,
    DockerList,
}

fn kind_of_media_type(mt: &str) -> Option<Kind> {
    match strip_params(mt) {
        media_types::OCI_MANIFEST => Some(Kind::OciImage),
        media_types::OCI_INDEX => Some(Kind::OciIndex),
        media_types::DOCKER_MANIFEST => Some(Kind::DockerV2),
        media_types::DOCKER_MANIFEST_LIST => Some(Kind::DockerList),
        _ => None,
    }
}

fn is_schema1(mt: &str) -> bool {
    let mt = strip_params(mt);
    mt == media_types::DOCKER_MANIFEST_V1 || mt == media_types::DOCKER_MANIFEST_V1_SIGNED
}

fn schema1_error() -> Error {
    Error::general(
        "this is a Docker schema 1 manifest, which rex does not read (it is deprecated and \
         cannot be pushed to current registries)",
    )
    .with_hint(
        "re-push the image with a current docker/buildah/crane to get a schema 2 or OCI manifest",
    )
}

impl<'de> Deserialize<'de> for Manifest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Manifest::from_json(value, None).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

impl Manifest {
    /// Parse a manifest body. The kind comes from `content_type` (parameters ignored), then
    /// the document's `mediaType`, then its shape (`manifests` = index, `config` +
    /// `layers` = image; OCI when unsure, since only OCI may omit `mediaType`).
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::general(format!("the manifest is not valid JSON: {e}")))?;
        Self::from_json(value, content_type)
    }

    /// Like [`Manifest::parse`], from an already parsed JSON document.
    pub fn from_json(value: serde_json::Value, content_type: Option<&str>) -> Result<Manifest> {
        let Some(obj) = value.as_object() else {
            return Err(Error::general("the manifest is not a JSON object"));
        };
        let doc_mt = obj.get("mediaType").and_then(|v| v.as_str());
        let schema = obj.get("schemaVersion").and_then(|v| v.as_u64());
        if schema == Some(1)
            || content_type.is_some_and(is_schema1)
            || doc_mt.is_some_and(is_schema1)
        {
            return Err(schema1_error());
        }

        let by_header = content_type.and_then(kind_of_media_type);
        let by_doc = doc_mt.and_then(kind_of_media_type);
        let by_shape = if obj.contains_key("manifests") {
            Some(Kind::OciIndex)
        } else if obj.contains_key("config") || obj.contains_key("layers") {
            Some(Kind::OciImage)
        } else {
            None
        };
        let kind = match (by_header, by_doc, by_shape) {
            (Some(k), _, _) | (None, Some(k), _) | (None, None, Some(k)) => k,
            (None, None, None) => {
                let what = doc_mt
                    .or(content_type)
                    .map(|m| format!(" (media type '{m}')"))
                    .unwrap_or_default();
                return Err(Error::general(format!(
                    "unrecognised manifest{what}: it has neither 'manifests' nor 'config'"
                )));
            }
        };
        let name = kind_name(kind);
        let fail = |e: serde_json::Error| Error::general(format!("invalid {name}: {e}"));
        let is_index_kind = matches!(kind, Kind::OciIndex | Kind::DockerList);
        if is_index_kind && !obj.contains_key("manifests") {
            return Err(Error::general(format!(
                "invalid {name}: the 'manifests' field is missing"
            )));
        }
        if !is_index_kind && !obj.contains_key("config") {
            return Err(Error::general(format!(
                "invalid {name}: the 'config' field is missing"
            )));
        }
        Ok(match kind {
            Kind::OciImage => Manifest::OciImage(serde_json::from_value(value).map_err(fail)?),
            Kind::DockerV2 => Manifest::DockerV2(serde_json::from_value(value).map_err(fail)?),
            Kind::OciIndex => Manifest::OciIndex(serde_json::from_value(value).map_err(fail)?),
            Kind::DockerList => Manifest::DockerList(serde_json::from_value(value).map_err(fail)?),
        })
    }

    fn kind(&self) -> Kind {
        match self {
            Manifest::OciImage(_) => Kind::OciImage,
            Manifest::OciIndex(_) => Kind::OciIndex,
            Manifest::DockerV2(_) => Kind::DockerV2,
            Manifest::DockerList(_) => Kind::DockerList,
        }
    }

    /// The media type of this kind (what the registry should serve it as).
    pub fn media_type(&self) -> &str {
        match self.kind() {
            Kind::OciImage => media_types::OCI_MANIFEST,
            Kind::OciIndex => media_types::OCI_INDEX,
            Kind::DockerV2 => media_types::DOCKER_MANIFEST,
            Kind::DockerList => media_types::DOCKER_MANIFEST_LIST,
        }
    }

    /// "OCI Image Manifest", "OCI Image Index", "Docker Image Manifest V2",
    /// "Docker Manifest List".
    pub fn kind_name(&self) -> &'static str {
        kind_name(self.kind())
    }

    pub fn is_index(&self) -> bool {
        matches!(self, Manifest::OciIndex(_) | Manifest::DockerList(_))
    }

    pub fn is_docker(&self) -> bool {
        matches!(self, Manifest::DockerV2(_) | Manifest::DockerList(_))
    }

    pub fn as_image(&self) -> Option<&ImageManifest> {
        match self {
            Manifest::OciImage(m) | Manifest::DockerV2(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_index(&self) -> Option<&ImageIndex> {
        match self {
            Manifest::OciIndex(i) | Manifest::DockerList(i) => Some(i),
            _ => None,
        }
    }

    pub fn schema_version(&self) -> u32 {
        match self {
            Manifest::OciImage(m) | Manifest::DockerV2(m) => m.schema_version,
            Manifest::OciIndex(i) | Manifest::DockerList(i) => i.schema_version,
        }
    }

    /// The config descriptor of an image manifest.
    pub fn config(&self) -> Option<&Descriptor> {
        self.as_image().map(|m| &m.config)
    }

    /// The layers of an image manifest (empty for indexes).
    pub fn layers(&self) -> &[Descriptor] {
        self.as_image().map_or(&[], |m| &m.layers)
    }

    /// The entries of an index (empty for image manifests).
    pub fn manifests(&self) -> &[Descriptor] {
        self.as_index().map_or(&[], |i| &i.manifests)
    }

    pub fn subject(&self) -> Option<&Descriptor> {
        match self {
            Manifest::OciImage(m) | Manifest::DockerV2(m) => m.subject.as_ref(),
            Manifest::OciIndex(i) | Manifest::DockerList(i) => i.subject.as_ref(),
        }
    }

    pub fn artifact_type(&self) -> Option<&str> {
        match self {
            Manifest::OciImage(m) | Manifest::DockerV2(m) => m.artifact_type.as_deref(),
            Manifest::OciIndex(i) | Manifest::DockerList(i) => i.artifact_type.as_deref(),
        }
    }

    pub fn annotations(&self) -> &BTreeMap<String, String> {
        match self {
            Manifest::OciImage(m) | Manifest::DockerV2(m) => &m.annotations,
            Manifest::OciIndex(i) | Manifest::DockerList(i) => &i.annotations,
        }
    }

    /// Config plus layers for an image; the sum of the entries' sizes for an index (the
    /// size of the child manifests, not of the images they describe).
    pub fn total_size(&self) -> u64 {
        match self {
            Manifest::OciImage(m) | Manifest::DockerV2(m) => m
                .layers
                .iter()
                .fold(m.config.size, |acc, l| acc.saturating_add(l.size)),
            Manifest::OciIndex(i) | Manifest::DockerList(i) => i
                .manifests
                .iter()
                .fold(0u64, |acc, d| acc.saturating_add(d.size)),
        }
    }

    /// Layers only (what an image takes to pull).
    pub fn layers_size(&self) -> u64 {
        self.layers()
            .iter()
            .fold(0u64, |acc, l| acc.saturating_add(l.size))
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::OciImage => "OCI Image Manifest",
        Kind::OciIndex => "OCI Image Index",
        Kind::DockerV2 => "Docker Image Manifest V2",
        Kind::DockerList => "Docker Manifest List",
    }
}

/// The image configuration blob (OCI `config.v1` / Docker `container.image.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub architecture: String,
    #[serde(default, deserialize_with = "null_default")]
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<RootFs>,
    #[serde(default, deserialize_with = "null_default")]
    pub history: Vec<History>,
}

impl ImageConfig {
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::general(format!("invalid image config: {e}")))
    }

    /// `created` as a time, when present and valid.
    pub fn created_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.created
            .as_deref()
            .and_then(crate::format::parse_timestamp)
    }

    /// History entries that produced a layer (in layer order).
    pub fn layer_history(&self) -> impl Iterator<Item = &History> {
        self.history.iter().filter(|h| !h.empty_layer)
    }

    /// The platform this config describes.
    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            os_version: self.os_version.clone(),
            variant: self.variant.clone(),
            ..Platform::default()
        }
    }

    /// Labels of the container config (empty when there are none).
    pub fn labels(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.config.as_ref().map_or(&EMPTY, |c| &c.labels)
    }
}

/// Runtime defaults of an image. Docker and OCI both use the capitalised keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ContainerConfig {
    #[serde(rename = "User", default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Keys like `80/tcp`; values are empty objects in the spec.
    #[serde(
        rename = "ExposedPorts",
        default,
        deserialize_with = "keys_only",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "as_empty_objects"
    )]
    pub exposed_ports: Vec<String>,
    #[serde(rename = "Env", default, deserialize_with = "null_default")]
    pub env: Vec<String>,
    #[serde(rename = "Entrypoint", default, deserialize_with = "null_default")]
    pub entrypoint: Vec<String>,
    #[serde(rename = "Cmd", default, deserialize_with = "null_default")]
    pub cmd: Vec<String>,
    #[serde(
        rename = "Volumes",
        default,
        deserialize_with = "keys_only",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "as_empty_objects"
    )]
    pub volumes: Vec<String>,
    #[serde(
        rename = "WorkingDir",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub working_dir: Option<String>,
    #[serde(rename = "Labels", default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(
        rename = "StopSignal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_signal: Option<String>,
}

/// `{"80/tcp": {}, "443/tcp": {}}` (or `null`) → `["443/tcp", "80/tcp"]` sorted.
fn keys_only<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let map = Option::<BTreeMap<String, serde::de::IgnoredAny>>::deserialize(d)?;
    Ok(map.map(|m| m.into_keys().collect()).unwrap_or_default())
}

fn as_empty_objects<S: serde::Serializer>(
    keys: &[String],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(keys.len()))?;
    for k in keys {
        m.serialize_entry(k, &serde_json::Map::new())?;
    }
    m.end()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub fs_type: String,
    #[serde(default, deserialize_with = "null_default")]
    pub diff_ids: Vec<Digest>,
}

/// One build step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub empty_layer: bool,
}

#[cfg(test)]
#[path = "oci/tests.rs"]
mod tests;
