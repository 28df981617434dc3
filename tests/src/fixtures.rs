//! Real content pushed through the registry API, and a description of it.
//!
//! [`Fixtures::push_standard`] pushes a small, varied set (OCI and Docker images and lists,
//! a multi-platform index with an attestation and a Windows entry, deep paths, a deleted
//! repository, an untagged manifest, an artifact with a referrers tag). [`Fixtures::push_large`]
//! adds 1,200 tags (1,000 distinct digests) in one repository and 1,100 small repositories.
//! Tests assert against the returned [`Fixtures`], never against hard-coded digests.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Map, Value};

use crate::oci::{self, Layer};
use crate::push::Pusher;

/// Parallel requests when pushing big sets (the registry's CPU is the limit beyond ~16).
pub const PUSH_CONCURRENCY: usize = 16;

/// An OS/architecture pair as in an index entry or image config.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub os_version: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str) -> Self {
        Self {
            os: os.into(),
            architecture: architecture.into(),
            variant: None,
            os_version: None,
        }
    }

    pub fn with_variant(mut self, variant: &str) -> Self {
        self.variant = Some(variant.into());
        self
    }

    pub fn with_os_version(mut self, v: &str) -> Self {
        self.os_version = Some(v.into());
        self
    }

    pub fn linux_amd64() -> Self {
        Self::new("linux", "amd64")
    }

    /// The JSON object used in index entries.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("architecture".into(), json!(self.architecture));
        m.insert("os".into(), json!(self.os));
        if let Some(v) = &self.os_version {
            m.insert("os.version".into(), json!(v));
        }
        if let Some(v) = &self.variant {
            m.insert("variant".into(), json!(v));
        }
        Value::Object(m)
    }
}

impl fmt::Display for Platform {
    /// `os/arch[/variant]`, e.g. `linux/arm64/v8`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// OCI or Docker media types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Oci,
    Docker,
}

impl Format {
    pub fn manifest_type(self) -> &'static str {
        match self {
            Format::Oci => oci::OCI_MANIFEST,
            Format::Docker => oci::DOCKER_MANIFEST,
        }
    }
    pub fn index_type(self) -> &'static str {
        match self {
            Format::Oci => oci::OCI_INDEX,
            Format::Docker => oci::DOCKER_LIST,
        }
    }
    pub fn config_type(self) -> &'static str {
        match self {
            Format::Oci => oci::OCI_CONFIG,
            Format::Docker => oci::DOCKER_CONFIG,
        }
    }
    pub fn layer_type(self) -> &'static str {
        match self {
            Format::Oci => oci::OCI_LAYER_GZIP,
            Format::Docker => oci::DOCKER_LAYER_GZIP,
        }
    }
}

/// One `history` entry of an image config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    pub created: String,
    pub created_by: String,
    pub empty_layer: bool,
    pub comment: Option<String>,
}

/// Everything that defines an image; [`ImageSpec::build`] turns it into blobs and a manifest.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    pub platform: Platform,
    pub format: Format,
    /// RFC 3339 creation time (config `created`).
    pub created: String,
    pub author: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: String,
    pub user: String,
    pub exposed_ports: Vec<String>,
    /// Empty = generated: one entry per layer plus `ENV`/`CMD` entries with `empty_layer`.
    pub history: Vec<History>,
    pub layers: Vec<Layer>,
    /// Overrides the layer media type (e.g. in-toto for attestations).
    pub layer_media_type: Option<String>,
    /// Manifest annotations (OCI only).
    pub annotations: BTreeMap<String, String>,
    /// Leave out the manifest's `mediaType` field (valid for OCI).
    pub omit_media_type: bool,
    /// Config with only platform and rootfs (attestations, artifacts-like images).
    pub minimal_config: bool,
}

impl ImageSpec {
    /// A full linux/amd64 OCI image with two small layers derived from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut labels = BTreeMap::new();
        labels.insert("org.opencontainers.image.title".into(), "rex-demo".into());
        labels.insert(
            "org.opencontainers.image.source".into(),
            "https://example.invalid/rex-demo".into(),
        );
        labels.insert("rex.test.seed".into(), seed.to_string());
        Self {
            platform: Platform::linux_amd64(),
            format: Format::Oci,
            created: "2024-03-01T12:00:00Z".into(),
            author: Some("rex tests <rex@example.invalid>".into()),
            labels,
            env: vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                "REX_DEMO=1".into(),
            ],
            entrypoint: vec!["/usr/bin/rex-demo".into()],
            cmd: vec!["serve".into(), "--port".into(), "8080".into()],
            working_dir: "/srv/rex".into(),
            user: "1000:1000".into(),
            exposed_ports: vec!["8080/tcp".into(), "9090/udp".into()],
            history: Vec::new(),
            layers: vec![
                oci::random_layer(seed.wrapping_mul(10), 1536),
                oci::random_layer(seed.wrapping_mul(10) + 1, 3072),
            ],
            layer_media_type: None,
            annotations: BTreeMap::new(),
            omit_media_type: false,
            minimal_config: false,
        }
    }

    pub fn platform(mut self, p: Platform) -> Self {
        self.platform = p;
        self
    }
    pub fn docker(mut self) -> Self {
        self.format = Format::Docker;
        self
    }
    pub fn created(mut self, rfc3339: &str) -> Self {
        self.created = rfc3339.into();
        self
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.insert(k.into(), v.into());
        self
    }
    pub fn annotation(mut self, k: &str, v: &str) -> Self {
        self.annotations.insert(k.into(), v.into());
        self
    }
    /// Replace the layers by `n` (1–3 is typical) layers derived from `seed`.
    pub fn layer_count(mut self, seed: u64, n: usize) -> Self {
        self.layers = (0..n)
            .map(|i| oci::random_layer(seed.wrapping_mul(10) + i as u64, 1024 * (i + 1)))
            .collect();
        self
    }
    pub fn with_layers(mut self, layers: Vec<Layer>) -> Self {
        self.layers = layers;
        self
    }
    pub fn without_media_type(mut self) -> Self {
        self.omit_media_type = true;
        self
    }

    /// The history written to the config (explicit or generated).
    pub fn effective_history(&self) -> Vec<History> {
        if !self.history.is_empty() || self.minimal_config {
            return self.history.clone();
        }
        let mut h = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            h.push(History {
                created: self.created.clone(),
                created_by: format!("/bin/sh -c #(nop) ADD file:{} in /", &layer.diff_id[7..19]),
                empty_layer: false,
                comment: None,
            });
            if i == 0 {
                h.push(History {
                    created: self.created.clone(),
                    created_by: format!("/bin/sh -c #(nop)  ENV {}", self.env.join(" ")),
                    empty_layer: true,
                    comment: None,
                });
            }
        }
        h.push(History {
            created: self.created.clone(),
            created_by: format!("/bin/sh -c #(nop)  CMD {:?}", self.cmd),
            empty_layer: true,
            comment: Some("buildkit.dockerfile.v0".into()),
        });
        h
    }

    /// The config JSON document.
    pub fn config_json(&self) -> Value {
        let mut c = Map::new();
        if !self.minimal_config {
            c.insert("created".into(), json!(self.created));
            if let Some(a) = &self.author {
                c.insert("author".into(), json!(a));
            }
        }
        c.insert("architecture".into(), json!(self.platform.architecture));
        c.insert("os".into(), json!(self.platform.os));
        if let Some(v) = &self.platform.os_version {
            c.insert("os.version".into(), json!(v));
        }
        if let Some(v) = &self.platform.variant {
            c.insert("variant".into(), json!(v));
        }
        if self.minimal_config {
            c.insert("config".into(), json!({}));
        } else {
            let ports: Map<String, Value> = self
                .exposed_ports
                .iter()
                .map(|p| (p.clone(), json!({})))
                .collect();
            c.insert(
                "config".into(),
                json!({
                    "User": self.user,
                    "ExposedPorts": ports,
                    "Env": self.env,
                    "Entrypoint": self.entrypoint,
                    "Cmd": self.cmd,
                    "WorkingDir": self.working_dir,
                    "Labels": self.labels,
                }),
            );
        }
        c.insert(
            "rootfs".into(),
            json!({
                "type": "layers",
                "diff_ids": self.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>(),
            }),
        );
        let history: Vec<Value> = self
            .effective_history()
            .iter()
            .map(|h| {
                let mut m = Map::new();
                m.insert("created".into(), json!(h.created));
                m.insert("created_by".into(), json!(h.created_by));
                if let Some(comment) = &h.comment {
                    m.insert("comment".into(), json!(comment));
                }
                if h.empty_layer {
                    m.insert("empty_layer".into(), json!(true));
                }
                Value::Object(m)
            })
            .collect();
        if !history.is_empty() {
            c.insert("history".into(), Value::Array(history));
        }
        Value::Object(c)
    }

    /// Serialize config and manifest.
    pub fn build(&self) -> BuiltImage {
        let config = serde_json::to_vec(&self.config_json()).unwrap_or_default();
        let config_digest = oci::sha256_digest(&config);
        let config_media_type = self.format.config_type().to_string();
        let layer_type = self
            .layer_media_type
            .clone()
            .unwrap_or_else(|| self.format.layer_type().to_string());
        let layers: Vec<LayerInfo> = self
            .layers
            .iter()
            .map(|l| LayerInfo {
                digest: l.digest.clone(),
                size: l.size(),
                media_type: layer_type.clone(),
                diff_id: l.diff_id.clone(),
            })
            .collect();
        let media_type = self.format.manifest_type().to_string();
        let mut m = Map::new();
        m.insert("schemaVersion".into(), json!(2));
        if !self.omit_media_type {
            m.insert("mediaType".into(), json!(media_type));
        }
        m.insert(
            "config".into(),
            json!({"mediaType": config_media_type, "digest": config_digest, "size": config.len()}),
        );
        m.insert(
            "layers".into(),
            Value::Array(
                layers
                    .iter()
                    .map(|l| json!({"mediaType": l.media_type, "digest": l.digest, "size": l.size}))
                    .collect(),
            ),
        );
        if self.format == Format::Oci && !self.annotations.is_empty() {
            m.insert("annotations".into(), json!(self.annotations));
        }
        let manifest = serde_json::to_vec_pretty(&Value::Object(m)).unwrap_or_default();
        BuiltImage {
            digest: oci::sha256_digest(&manifest),
            media_type,
            manifest,
            config_digest,
            config_media_type,
            config,
            layers,
            spec: self.clone(),
        }
    }
}

/// A layer as referenced by a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    pub digest: String,
    pub size: u64,
    pub media_type: String,
    pub diff_id: String,
}

/// An image serialized but not yet pushed.
#[derive(Clone, Debug)]
pub struct BuiltImage {
    pub digest: String,
    pub media_type: String,
    pub manifest: Vec<u8>,
    pub config_digest: String,
    pub config_media_type: String,
    pub config: Vec<u8>,
    pub layers: Vec<LayerInfo>,
    pub spec: ImageSpec,
}

/// A pushed image manifest.
#[derive(Clone, Debug)]
pub struct ImageInfo {
    pub repo: String,
    /// Tags pointing at this digest (empty when pushed by digest only).
    pub tags: Vec<String>,
    pub digest: String,
    pub media_type: String,
    /// The manifest bytes exactly as pushed (the registry serves the same bytes).
    pub manifest: Vec<u8>,
    pub config_digest: String,
    pub config_media_type: String,
    pub config: Vec<u8>,
    pub layers: Vec<LayerInfo>,
    pub spec: ImageSpec,
}

impl ImageInfo {
    fn from_built(repo: &str, tags: &[&str], b: BuiltImage) -> Self {
        Self {
            repo: repo.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            digest: b.digest,
            media_type: b.media_type,
            manifest: b.manifest,
            config_digest: b.config_digest,
            config_media_type: b.config_media_type,
            config: b.config,
            layers: b.layers,
            spec: b.spec,
        }
    }
    pub fn manifest_size(&self) -> u64 {
        self.manifest.len() as u64
    }
    pub fn config_size(&self) -> u64 {
        self.config.len() as u64
    }
    /// Sum of compressed layer sizes.
    pub fn layers_size(&self) -> u64 {
        self.layers.iter().map(|l| l.size).sum()
    }
    /// Config plus layers (what `docker manifest inspect`-style tools call the image size).
    pub fn total_size(&self) -> u64 {
        self.config_size() + self.layers_size()
    }
    pub fn created(&self) -> &str {
        &self.spec.created
    }
    pub fn platform(&self) -> &Platform {
        &self.spec.platform
    }
    /// `repo@digest`.
    pub fn reference(&self) -> String {
        format!("{}@{}", self.repo, self.digest)
    }
    pub fn manifest_json(&self) -> Value {
        serde_json::from_slice(&self.manifest).unwrap_or(Value::Null)
    }
    pub fn config_json(&self) -> Value {
        serde_json::from_slice(&self.config).unwrap_or(Value::Null)
    }
}

/// One entry of a pushed index / manifest list.
#[derive(Clone, Debug)]
pub struct IndexEntry {
    /// `None` only if the entry was written without a platform.
    pub platform: Option<Platform>,
    pub annotations: BTreeMap<String, String>,
    pub image: ImageInfo,
}

impl IndexEntry {
    pub fn is_attestation(&self) -> bool {
        self.annotations
            .get("vnd.docker.reference.type")
            .is_some_and(|v| v == "attestation-manifest")
    }
}

/// A pushed OCI index or Docker manifest list.
#[derive(Clone, Debug)]
pub struct IndexInfo {
    pub repo: String,
    pub tags: Vec<String>,
    pub digest: String,
    pub media_type: String,
    pub manifest: Vec<u8>,
    pub entries: Vec<IndexEntry>,
}

impl IndexInfo {
    pub fn manifest_size(&self) -> u64 {
        self.manifest.len() as u64
    }
    /// Platforms of all entries, in order (attestations included as `unknown/unknown`).
    pub fn platforms(&self) -> Vec<Platform> {
        self.entries
            .iter()
            .filter_map(|e| e.platform.clone())
            .collect()
    }
    /// Runnable platforms (attestations left out).
    pub fn image_platforms(&self) -> Vec<Platform> {
        self.entries
            .iter()
            .filter(|e| !e.is_attestation())
            .filter_map(|e| e.platform.clone())
            .collect()
    }
    /// Entry whose platform displays as `os/arch[/variant]`.
    pub fn entry(&self, platform: &str) -> Option<&IndexEntry> {
        self.entries.iter().find(|e| {
            e.platform
                .as_ref()
                .is_some_and(|p| p.to_string() == platform)
        })
    }
}

/// An OCI artifact with a `subject`, plus the fallback referrers tag.
#[derive(Clone, Debug)]
pub struct ArtifactInfo {
    pub repo: String,
    pub subject: ImageInfo,
    pub digest: String,
    pub media_type: String,
    pub manifest: Vec<u8>,
    pub artifact_type: String,
    pub layers: Vec<LayerInfo>,
    pub annotations: BTreeMap<String, String>,
    /// `sha256-<hex of subject digest>`.
    pub referrers_tag: String,
    pub referrers_index_digest: String,
    pub referrers_index: Vec<u8>,
}

/// A manifest as pushed, for by-digest checks.
#[derive(Clone, Debug)]
pub struct PushedManifest {
    pub repo: String,
    pub digest: String,
    /// The media type the registry must answer with.
    pub media_type: String,
    pub body: Vec<u8>,
}

/// A repository whose only manifest was deleted (`tags: null`).
#[derive(Clone, Debug)]
pub struct DeletedInfo {
    pub repo: String,
    pub deleted_digest: String,
    pub deleted_tag: String,
}

/// The large set.
#[derive(Clone, Debug)]
pub struct LargeFixtures {
    /// Repository with [`LargeFixtures::tags`] (1,200 tags).
    pub tags_repo: String,
    /// Distinct images; `images[i]` is tagged `t{i:04}` (and maybe an alias).
    pub images: Vec<ImageInfo>,
    /// Every tag → digest (1,000 distinct digests; `t1000..t1199` alias `t0000..t0199`).
    pub tags: BTreeMap<String, String>,
    /// The 1,100 extra repositories (`many/repo-0000`…), each with tag `latest`.
    pub repos: Vec<String>,
    /// Digest of `latest` in every extra repository.
    pub repos_digest: String,
}

/// What was pushed. Field docs name the repository and tags.
#[derive(Clone, Debug)]
pub struct Fixtures {
    /// `rex/oci-image`: full-config OCI image, tags `1.0`, `1.0.1`, `latest`, `stable`.
    pub oci_image: ImageInfo,
    /// `rex/oci-image:2.0`: another image (3 layers, newer `created`).
    pub oci_image_v2: ImageInfo,
    /// `rex/multiarch`, tags `latest`, `v1`: OCI index with linux/amd64, linux/arm64/v8,
    /// linux/arm/v7, windows/amd64 (with `os.version`) and an attestation for amd64.
    pub multiarch: IndexInfo,
    /// `rex/docker-image`, tags `v1`, `latest`: Docker schema2 manifest.
    pub docker_image: ImageInfo,
    /// `rex/docker-list:latest`: Docker manifest list (linux/amd64, linux/arm64/v8).
    pub docker_list: IndexInfo,
    /// `a/b/c/d/e/image:deep`.
    pub deep: ImageInfo,
    /// `library/alpine`: `3.19`, then `3.20` (also tagged `latest`).
    pub alpine: Vec<ImageInfo>,
    /// `rex/deleted`: only manifest deleted; catalog lists it, tags are `null`.
    pub deleted: DeletedInfo,
    /// `rex/untagged:tagged`.
    pub untagged_repo_tagged: ImageInfo,
    /// A manifest in `rex/untagged` pushed by digest only.
    pub untagged: ImageInfo,
    /// `rex/no-mediatype:latest`: OCI manifest without the `mediaType` field.
    pub no_media_type: ImageInfo,
    /// `rex/artifact`: subject image `v1`, an SBOM artifact referring to it, and the
    /// referrers tag.
    pub artifact: ArtifactInfo,
    /// Present after [`Fixtures::push_large`].
    pub large: Option<LargeFixtures>,
}

const CREATED_BASE: &str = "2024-01-01T00:00:00Z";

impl Fixtures {
    /// Push the standard set (about 1 s).
    pub async fn push_standard(p: &Pusher) -> anyhow::Result<Fixtures> {
        let oci_repo = "rex/oci-image";
        let oci_image_fut = async {
            let a = ImageSpec::new(1)
                .created("2024-02-10T08:30:00Z")
                .label("org.opencontainers.image.version", "1.0.1")
                .annotation("org.opencontainers.image.created", "2024-02-10T08:30:00Z");
            let a = push_image(p, oci_repo, &a, &["1.0", "1.0.1", "latest", "stable"]).await?;
            let b = ImageSpec::new(2)
                .created("2024-06-01T09:00:00Z")
                .label("org.opencontainers.image.version", "2.0")
                .layer_count(2, 3);
            let b = push_image(p, oci_repo, &b, &["2.0"]).await?;
            anyhow::Ok((a, b))
        };
        let multiarch_fut = push_multiarch(p, "rex/multiarch", &["latest", "v1"]);
        let docker_fut = async {
            let spec = ImageSpec::new(20).docker().created("2023-11-05T16:45:00Z");
            push_image(p, "rex/docker-image", &spec, &["v1", "latest"]).await
        };
        let docker_list_fut = async {
            let repo = "rex/docker-list";
            let amd = ImageSpec::new(30).docker().created("2023-12-01T00:00:00Z");
            let arm = ImageSpec::new(31)
                .docker()
                .created("2023-12-01T00:00:00Z")
                .platform(Platform::new("linux", "arm64").with_variant("v8"));
            let amd = push_image(p, repo, &amd, &[]).await?;
            let arm = push_image(p, repo, &arm, &[]).await?;
            push_index(
                p,
                repo,
                Format::Docker,
                vec![entry(amd), entry(arm)],
                &["latest"],
            )
            .await
        };
        let deep_fut = async {
            let spec = ImageSpec::new(40)
                .created("2024-04-04T04:04:04Z")
                .layer_count(40, 1);
            push_image(p, "a/b/c/d/e/image", &spec, &["deep"]).await
        };
        let alpine_fut = async {
            let repo = "library/alpine";
            let s319 = ImageSpec::new(50)
                .created("2023-12-07T09:00:00Z")
                .layer_count(50, 1)
                .label("org.opencontainers.image.version", "3.19.0");
            let s320 = ImageSpec::new(51)
                .created("2024-05-22T09:00:00Z")
                .layer_count(51, 1)
                .label("org.opencontainers.image.version", "3.20.0");
            let a = push_image(p, repo, &s319, &["3.19"]).await?;
            let b = push_image(p, repo, &s320, &["3.20", "latest"]).await?;
            anyhow::Ok(vec![a, b])
        };
        let deleted_fut = async {
            let repo = "rex/deleted";
            let spec = ImageSpec::new(60).layer_count(60, 1);
            let img = push_image(p, repo, &spec, &["gone"]).await?;
            p.delete_manifest(repo, &img.digest).await?;
            anyhow::Ok(DeletedInfo {
                repo: repo.into(),
                deleted_digest: img.digest,
                deleted_tag: "gone".into(),
            })
        };
        let untagged_fut = async {
            let repo = "rex/untagged";
            let t = ImageSpec::new(70).layer_count(70, 1);
            let u = ImageSpec::new(71)
                .layer_count(71, 1)
                .created("2022-01-01T00:00:00Z");
            let t = push_image(p, repo, &t, &["tagged"]).await?;
            let u = push_image(p, repo, &u, &[]).await?;
            anyhow::Ok((t, u))
        };
        let no_mt_fut = async {
            let spec = ImageSpec::new(80).layer_count(80, 1).without_media_type();
            push_image(p, "rex/no-mediatype", &spec, &["latest"]).await
        };
        let artifact_fut = push_artifact(p, "rex/artifact");

        let (oci, multiarch, docker_image, docker_list, deep, alpine) = futures::try_join!(
            oci_image_fut,
            multiarch_fut,
            docker_fut,
            docker_list_fut,
            deep_fut,
            alpine_fut
        )?;
        let (deleted, (untagged_repo_tagged, untagged), no_media_type, artifact) =
            futures::try_join!(deleted_fut, untagged_fut, no_mt_fut, artifact_fut)?;
        Ok(Fixtures {
            oci_image: oci.0,
            oci_image_v2: oci.1,
            multiarch,
            docker_image,
            docker_list,
            deep,
            alpine,
            deleted,
            untagged_repo_tagged,
            untagged,
            no_media_type,
            artifact,
            large: None,
        })
    }

    /// Add the large set: `rex/many-tags` with 1,200 tags and `many/repo-0000..1099`.
    pub async fn push_large(&mut self, p: &Pusher) -> anyhow::Result<()> {
        let tags_repo = "rex/many-tags";
        // One tiny layer shared by every image keeps the push cheap; configs differ.
        let layer = oci::random_layer(9_000, 256);
        p.push_blob(tags_repo, &layer.blob).await?;
        let base = chrono::DateTime::parse_from_rfc3339(CREATED_BASE)?;
        let specs: Vec<ImageSpec> = (0..1000u64)
            .map(|i| {
                let created = (base + chrono::Duration::minutes(i as i64 * 7))
                    .to_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let mut s = ImageSpec::new(9_000)
                    .with_layers(vec![layer.clone()])
                    .created(&created)
                    .label("rex.test.index", &i.to_string());
                s.labels.remove("rex.test.seed");
                s
            })
            .collect();
        let images: Vec<ImageInfo> = futures::stream::iter(specs.into_iter().enumerate())
            .map(|(i, spec)| async move {
                let tag = format!("t{i:04}");
                let mut tags = vec![tag];
                if i < 200 {
                    tags.push(format!("t{:04}", i + 1000));
                }
                let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
                push_image(p, tags_repo, &spec, &tag_refs).await
            })
            .buffered(PUSH_CONCURRENCY)
            .try_collect()
            .await?;
        let mut tags = BTreeMap::new();
        for img in &images {
            for t in &img.tags {
                tags.insert(t.clone(), img.digest.clone());
            }
        }

        let repo_spec = ImageSpec::new(9_001)
            .with_layers(vec![layer.clone()])
            .created(CREATED_BASE);
        let built = repo_spec.build();
        // The config must exist in the source repository to be mounted from it.
        p.push_blob(tags_repo, &built.config).await?;
        let repos: Vec<String> = (0..1100).map(|i| format!("many/repo-{i:04}")).collect();
        let built_ref = &built;
        let layer_ref = &layer;
        futures::stream::iter(repos.clone())
            .map(|repo: String| async move {
                p.mount_or_push(&repo, &layer_ref.blob, tags_repo).await?;
                p.mount_or_push(&repo, &built_ref.config, tags_repo).await?;
                p.push_manifest(&repo, "latest", &built_ref.media_type, &built_ref.manifest)
                    .await
                    .with_context(|| format!("push {repo}:latest"))
            })
            .buffer_unordered(PUSH_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        self.large = Some(LargeFixtures {
            tags_repo: tags_repo.into(),
            images,
            tags,
            repos,
            repos_digest: built.digest,
        });
        Ok(())
    }

    /// Every repository the catalog should list.
    pub fn repositories(&self) -> BTreeSet<String> {
        let mut set: BTreeSet<String> = [
            &self.oci_image.repo,
            &self.multiarch.repo,
            &self.docker_image.repo,
            &self.docker_list.repo,
            &self.deep.repo,
            &self.deleted.repo,
            &self.untagged.repo,
            &self.no_media_type.repo,
            &self.artifact.repo,
        ]
        .into_iter()
        .cloned()
        .collect();
        set.extend(self.alpine.iter().map(|a| a.repo.clone()));
        if let Some(l) = &self.large {
            set.insert(l.tags_repo.clone());
            set.extend(l.repos.iter().cloned());
        }
        set
    }

    /// Every manifest that should be fetchable by digest (images, index children, indexes,
    /// the untagged manifest, the artifact and the referrers index; not the deleted one).
    pub fn manifests(&self) -> Vec<PushedManifest> {
        let mut out = Vec::new();
        let img = |i: &ImageInfo| PushedManifest {
            repo: i.repo.clone(),
            digest: i.digest.clone(),
            media_type: i.media_type.clone(),
            body: i.manifest.clone(),
        };
        for i in [
            &self.oci_image,
            &self.oci_image_v2,
            &self.docker_image,
            &self.deep,
            &self.untagged_repo_tagged,
            &self.untagged,
            &self.no_media_type,
            &self.artifact.subject,
        ] {
            out.push(img(i));
        }
        out.extend(self.alpine.iter().map(img));
        for idx in [&self.multiarch, &self.docker_list] {
            out.extend(idx.entries.iter().map(|e| img(&e.image)));
            out.push(PushedManifest {
                repo: idx.repo.clone(),
                digest: idx.digest.clone(),
                media_type: idx.media_type.clone(),
                body: idx.manifest.clone(),
            });
        }
        let a = &self.artifact;
        out.push(PushedManifest {
            repo: a.repo.clone(),
            digest: a.digest.clone(),
            media_type: a.media_type.clone(),
            body: a.manifest.clone(),
        });
        out.push(PushedManifest {
            repo: a.repo.clone(),
            digest: a.referrers_index_digest.clone(),
            media_type: oci::OCI_INDEX.into(),
            body: a.referrers_index.clone(),
        });
        out
    }

    /// repo → tag → digest for every tag pushed (the deleted repository maps to nothing).
    pub fn tags(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        fn add(
            out: &mut BTreeMap<String, BTreeMap<String, String>>,
            repo: &str,
            tags: &[String],
            digest: &str,
        ) {
            let e = out.entry(repo.to_string()).or_default();
            for t in tags {
                e.insert(t.clone(), digest.to_string());
            }
        }
        for img in [
            &self.oci_image,
            &self.oci_image_v2,
            &self.docker_image,
            &self.deep,
            &self.untagged_repo_tagged,
            &self.untagged,
            &self.no_media_type,
            &self.artifact.subject,
        ] {
            add(&mut out, &img.repo, &img.tags, &img.digest);
        }
        for a in &self.alpine {
            add(&mut out, &a.repo, &a.tags, &a.digest);
        }
        for idx in [&self.multiarch, &self.docker_list] {
            add(&mut out, &idx.repo, &idx.tags, &idx.digest);
        }
        add(
            &mut out,
            &self.artifact.repo,
            std::slice::from_ref(&self.artifact.referrers_tag),
            &self.artifact.referrers_index_digest,
        );
        out.entry(self.deleted.repo.clone()).or_default();
        if let Some(l) = &self.large {
            out.insert(l.tags_repo.clone(), l.tags.clone());
            for r in &l.repos {
                add(&mut out, r, &["latest".to_string()], &l.repos_digest);
            }
        }
        out
    }
}

fn entry(image: ImageInfo) -> IndexEntry {
    IndexEntry {
        platform: Some(image.spec.platform.clone()),
        annotations: BTreeMap::new(),
        image,
    }
}

/// Push blobs and the manifest of `spec` to `repo`, tagged with each of `tags` (by digest
/// when `tags` is empty).
pub async fn push_image(
    p: &Pusher,
    repo: &str,
    spec: &ImageSpec,
    tags: &[&str],
) -> anyhow::Result<ImageInfo> {
    let built = spec.build();
    for layer in &spec.layers {
        p.push_blob(repo, &layer.blob).await?;
    }
    p.push_blob(repo, &built.config).await?;
    push_built(p, repo, built, tags).await
}

async fn push_built(
    p: &Pusher,
    repo: &str,
    built: BuiltImage,
    tags: &[&str],
) -> anyhow::Result<ImageInfo> {
    if tags.is_empty() {
        let got = p
            .push_manifest(repo, &built.digest, &built.media_type, &built.manifest)
            .await?;
        anyhow::ensure!(
            got == built.digest,
            "registry digest {got} != {}",
            built.digest
        );
    }
    for tag in tags {
        let got = p
            .push_manifest(repo, tag, &built.media_type, &built.manifest)
            .await?;
        anyhow::ensure!(
            got == built.digest,
            "registry digest {got} != {}",
            built.digest
        );
    }
    Ok(ImageInfo::from_built(repo, tags, built))
}

/// Push an index / manifest list over already pushed `entries`.
pub async fn push_index(
    p: &Pusher,
    repo: &str,
    format: Format,
    entries: Vec<IndexEntry>,
    tags: &[&str],
) -> anyhow::Result<IndexInfo> {
    let media_type = format.index_type();
    let manifests: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("mediaType".into(), json!(e.image.media_type));
            m.insert("digest".into(), json!(e.image.digest));
            m.insert("size".into(), json!(e.image.manifest.len()));
            if let Some(pl) = &e.platform {
                m.insert("platform".into(), pl.to_json());
            }
            if !e.annotations.is_empty() {
                m.insert("annotations".into(), json!(e.annotations));
            }
            Value::Object(m)
        })
        .collect();
    let body = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": manifests,
    }))?;
    let digest = oci::sha256_digest(&body);
    if tags.is_empty() {
        p.push_manifest(repo, &digest, media_type, &body).await?;
    }
    for tag in tags {
        let got = p.push_manifest(repo, tag, media_type, &body).await?;
        anyhow::ensure!(got == digest, "registry digest {got} != {digest}");
    }
    Ok(IndexInfo {
        repo: repo.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        digest,
        media_type: media_type.into(),
        manifest: body,
        entries,
    })
}

/// The multi-platform OCI index (with an attestation and a Windows entry).
pub async fn push_multiarch(p: &Pusher, repo: &str, tags: &[&str]) -> anyhow::Result<IndexInfo> {
    let created = "2024-07-15T10:20:30Z";
    let specs = [
        ImageSpec::new(10).created(created),
        ImageSpec::new(11)
            .created(created)
            .platform(Platform::new("linux", "arm64").with_variant("v8")),
        ImageSpec::new(12)
            .created(created)
            .platform(Platform::new("linux", "arm").with_variant("v7"))
            .layer_count(12, 1),
        ImageSpec::new(13)
            .created(created)
            .platform(Platform::new("windows", "amd64").with_os_version("10.0.17763.5206"))
            .layer_count(13, 3),
    ];
    let mut entries = Vec::new();
    for s in &specs {
        entries.push(entry(push_image(p, repo, s, &[]).await?));
    }
    let amd64_digest = entries[0].image.digest.clone();
    let statement = serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://spdx.dev/Document",
        "subject": [{"name": repo, "digest": {"sha256": &amd64_digest[7..]}}],
        "predicate": {"spdxVersion": "SPDX-2.3", "name": "rex-demo"},
    }))?;
    let mut att = ImageSpec::new(14)
        .created(created)
        .platform(Platform::new("unknown", "unknown"))
        .with_layers(vec![raw_layer(statement)]);
    att.layer_media_type = Some(oci::IN_TOTO.into());
    att.minimal_config = true;
    att.labels.clear();
    let att = push_image(p, repo, &att, &[]).await?;
    let mut annotations = BTreeMap::new();
    annotations.insert("vnd.docker.reference.digest".into(), amd64_digest);
    annotations.insert(
        "vnd.docker.reference.type".into(),
        "attestation-manifest".into(),
    );
    entries.push(IndexEntry {
        platform: Some(att.spec.platform.clone()),
        annotations,
        image: att,
    });
    push_index(p, repo, Format::Oci, entries, tags).await
}

/// A non-tar blob used as a "layer" (attestations, artifacts): diff_id = digest.
fn raw_layer(data: Vec<u8>) -> Layer {
    let digest = oci::sha256_digest(&data);
    Layer {
        diff_id: digest.clone(),
        digest,
        blob: data,
        files: Vec::new(),
    }
}

/// Subject image (`v1`), an SBOM artifact referring to it (pushed by digest) and the
/// referrers fallback tag.
pub async fn push_artifact(p: &Pusher, repo: &str) -> anyhow::Result<ArtifactInfo> {
    let subject = ImageSpec::new(90)
        .layer_count(90, 1)
        .created("2024-08-08T08:08:08Z");
    let subject = push_image(p, repo, &subject, &["v1"]).await?;
    let artifact_type = "application/vnd.rex.test.sbom.v1+json";
    let empty = b"{}".to_vec();
    p.push_blob(repo, &empty).await?;
    let sbom = serde_json::to_vec(&json!({"spdxVersion": "SPDX-2.3", "name": "rex-demo-sbom"}))?;
    p.push_blob(repo, &sbom).await?;
    let layer = LayerInfo {
        digest: oci::sha256_digest(&sbom),
        size: sbom.len() as u64,
        media_type: "application/spdx+json".into(),
        diff_id: oci::sha256_digest(&sbom),
    };
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "org.opencontainers.image.created".to_string(),
        "2024-08-09T00:00:00Z".to_string(),
    );
    let body = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": oci::OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": oci::OCI_EMPTY, "digest": oci::sha256_digest(&empty), "size": 2},
        "layers": [{
            "mediaType": layer.media_type, "digest": layer.digest, "size": layer.size,
            "annotations": {"org.opencontainers.image.title": "sbom.spdx.json"}
        }],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.manifest.len()},
        "annotations": annotations,
    }))?;
    let digest = oci::sha256_digest(&body);
    p.push_manifest(repo, &digest, oci::OCI_MANIFEST, &body)
        .await?;
    let referrers_tag = subject.digest.replacen(':', "-", 1);
    let index = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": oci::OCI_INDEX,
        "manifests": [{
            "mediaType": oci::OCI_MANIFEST,
            "digest": digest,
            "size": body.len(),
            "artifactType": artifact_type,
            "annotations": annotations,
        }],
    }))?;
    let referrers_index_digest = p
        .push_manifest(repo, &referrers_tag, oci::OCI_INDEX, &index)
        .await?;
    Ok(ArtifactInfo {
        repo: repo.into(),
        subject,
        digest,
        media_type: oci::OCI_MANIFEST.into(),
        manifest: body,
        artifact_type: artifact_type.into(),
        layers: vec![layer],
        annotations,
        referrers_tag,
        referrers_index_digest,
        referrers_index: index,
    })
}
