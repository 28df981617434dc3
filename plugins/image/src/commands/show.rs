//! `rex image NAME:TAG` / `rex image NAME@DIGEST`: the summary of one image (design 2.5).
//!
//! One manifest GET; for an index one more for the chosen platform; one config GET.

use super::{block_on, clean, connect, core_err, not_found_hint, size};
use rex_core::config::Settings;
use rex_core::oci::PlatformSelector;
use rex_core::reference::Reference;
use rex_core::registry::{ImageInfo, Rex};
use rex_plugin_api::{Block, Cell, Host, Invocation, Output, PluginError, Style};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowArgs {
    pub reference: Reference,
    pub platform: Option<PlatformSelector>,
}

impl ShowArgs {
    pub fn new(reference: Reference, inv: &Invocation) -> Result<Self, PluginError> {
        Ok(ShowArgs {
            reference,
            platform: platform(inv)?,
        })
    }
}

/// `--platform os/arch[/variant]`.
pub(crate) fn platform(inv: &Invocation) -> Result<Option<PlatformSelector>, PluginError> {
    inv.str("platform")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(PlatformSelector::parse)
        .transpose()
        .map_err(core_err)
}

/// Fetch what `show` and `inspect` display, with a hint when it is not there.
pub(crate) async fn fetch(
    rex: &Rex,
    reference: &Reference,
    platform: Option<&PlatformSelector>,
) -> Result<ImageInfo, PluginError> {
    rex.inspect(reference, platform).await.map_err(|e| {
        let repo = clean(reference.repository());
        not_found_hint(
            core_err(e),
            &format!(
                "Use 'rex image {repo}' to list its tags, or 'rex image' to list repositories"
            ),
        )
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigSummary {
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerSummary {
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShowReport {
    pub reference: String,
    pub digest: String,
    pub manifest_type: String,
    /// Config + layers of the image shown (the chosen platform's for an index).
    pub size: u64,
    /// Runnable platforms (attestation entries left out).
    pub platforms: Vec<String>,
    /// The platform whose configuration is shown.
    pub platform: Option<String>,
    pub config: ConfigSummary,
    pub layers: Vec<LayerSummary>,
    pub labels: BTreeMap<String, String>,
    pub created: Option<String>,
    /// `os.version` by platform (Windows), for the pretty view.
    #[serde(skip)]
    pub os_versions: BTreeMap<String, String>,
    #[serde(skip)]
    pub attestations: usize,
    #[serde(skip)]
    pub is_index: bool,
}

pub fn run(
    settings: &Settings,
    args: &ShowArgs,
    host: &dyn Host,
) -> Result<ShowReport, PluginError> {
    let rex = connect(settings, Some(&args.reference))?;
    let info = block_on(
        host,
        &rex,
        fetch(&rex, &args.reference, args.platform.as_ref()),
    )?;
    Ok(ShowReport::from_info(&info))
}

/// Runnable platforms of an image: the index's non-attestation entries, or the config's.
pub(crate) fn runnable_platforms(info: &ImageInfo) -> Vec<String> {
    if info.manifest.is_index() {
        info.platforms
            .iter()
            .filter(|p| !p.attestation)
            .map(|p| p.platform.clone())
            .collect()
    } else {
        info.platform.iter().cloned().collect()
    }
}

/// `os.version` of each platform that has one (index entries, else the config).
pub(crate) fn os_versions(info: &ImageInfo) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for d in info.manifest.manifests() {
        if let Some(p) = &d.platform {
            if let Some(v) = &p.os_version {
                out.insert(p.to_string(), v.clone());
            }
        }
    }
    if let Some(c) = &info.config {
        if let Some(v) = &c.os_version {
            out.insert(c.platform().to_string(), v.clone());
        }
    }
    out
}

impl ShowReport {
    pub fn from_info(info: &ImageInfo) -> Self {
        let cc = info.config.as_ref().and_then(|c| c.config.as_ref());
        ShowReport {
            reference: info.reference.to_string(),
            digest: info.digest.to_string(),
            manifest_type: info.kind.clone(),
            size: info.total_size,
            platforms: runnable_platforms(info),
            platform: info.platform.clone(),
            config: ConfigSummary {
                entrypoint: cc.map(|c| c.entrypoint.clone()).unwrap_or_default(),
                env: cc.map(|c| c.env.clone()).unwrap_or_default(),
                working_dir: cc.and_then(|c| c.working_dir.clone()).unwrap_or_default(),
                user: cc.and_then(|c| c.user.clone()).unwrap_or_default(),
            },
            layers: info
                .layers
                .iter()
                .map(|l| LayerSummary {
                    digest: l.digest.to_string(),
                    size: l.size,
                })
                .collect(),
            labels: info.labels.clone(),
            created: info.created.clone(),
            os_versions: os_versions(info),
            attestations: info.platforms.iter().filter(|p| p.attestation).count(),
            is_index: info.manifest.is_index(),
        }
    }

    /// The design's layout, line for line: `Key: value` without column alignment (hence
    /// lists of pre-joined lines rather than `Fields`), `Layers: N`, one `Env:` line with
    /// further variables aligned under the first.
    pub fn blocks(&self) -> Vec<Block> {
        let kind = if self.is_index {
            format!("{} (multi-platform)", self.manifest_type)
        } else {
            self.manifest_type.clone()
        };
        let line = |k: &str, v: &str| Cell::from(format!("{k}: {v}"));
        let mut blocks = vec![Block::List {
            title: None,
            items: vec![
                Cell::styled(format!("Image: {}", clean(&self.reference)), Style::Bold),
                line("Digest", &self.digest),
                line("Type", &kind),
                line("Size", &size(self.size)),
            ],
        }];
        // Which entry's configuration follows, when an index has a choice.
        let shown = self
            .platform
            .as_deref()
            .filter(|_| self.is_index && self.platforms.len() > 1);
        let mut platforms: Vec<Cell> = self
            .platforms
            .iter()
            .map(|p| {
                let label = platform_label(p, &self.os_versions);
                if shown == Some(p.as_str()) {
                    Cell::from(format!("{label} (shown)"))
                } else {
                    Cell::from(label)
                }
            })
            .collect();
        if self.attestations > 0 {
            platforms.push(Cell::styled(
                format!(
                    "(+{} attestation manifest{})",
                    self.attestations,
                    if self.attestations == 1 { "" } else { "s" }
                ),
                Style::Dim,
            ));
        }
        blocks.push(Block::List {
            title: Some("Platforms".into()),
            items: platforms,
        });
        let or_empty = |s: &str| {
            if s.is_empty() {
                "(empty)".to_owned()
            } else {
                clean(s)
            }
        };
        let mut config = vec![line(
            "Entrypoint",
            &or_empty(&self.config.entrypoint.join(" ")),
        )];
        match self.config.env.split_first() {
            None => config.push(line("Env", "(empty)")),
            Some((first, rest)) => {
                config.push(line("Env", &clean(first)));
                let indent = " ".repeat("Env: ".len());
                config.extend(
                    rest.iter()
                        .map(|e| Cell::from(format!("{indent}{}", clean(e)))),
                );
            }
        }
        config.push(line("WorkingDir", &or_empty(&self.config.working_dir)));
        config.push(line("User", &or_empty(&self.config.user)));
        blocks.push(Block::List {
            title: Some("Configuration".into()),
            items: config,
        });
        let layers = self
            .layers
            .iter()
            .map(|l| {
                let short = rex_core::digest::Digest::parse(&l.digest)
                    .map(|d| d.short())
                    .unwrap_or_else(|_| clean(&l.digest));
                Cell::from(format!("{short}... ({})", size(l.size)))
            })
            .collect();
        blocks.push(Block::Section {
            title: format!("Layers: {}", self.layers.len()),
            blocks: vec![Block::List {
                title: None,
                items: layers,
            }],
        });
        if !self.labels.is_empty() {
            blocks.push(Block::List {
                title: Some("Labels".into()),
                items: self
                    .labels
                    .iter()
                    .map(|(k, v)| line(&clean(k), &clean(v)))
                    .collect(),
            });
        }
        blocks.push(Block::List {
            title: None,
            items: vec![line(
                "Created",
                &self
                    .created
                    .as_deref()
                    .map(clean)
                    .unwrap_or_else(|| "-".into()),
            )],
        });
        blocks
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks();
        Output::from_serialize(&self, pretty)
    }
}

/// `windows/amd64 (os.version 10.0.17763.5206)`.
pub(crate) fn platform_label(p: &str, os_versions: &BTreeMap<String, String>) -> String {
    match os_versions.get(p) {
        Some(v) => clean(&format!("{p} (os.version {v})")),
        None => clean(p),
    }
}
