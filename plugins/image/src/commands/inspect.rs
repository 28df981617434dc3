//! `rex image inspect REF`: everything about one image (design 2.5), or the registry's
//! bytes of its manifest (`--raw-manifest`) or config (`--raw-config`).
//!
//! Requests: the manifest, for an index the chosen platform's manifest, the config, and
//! the referrers (the API, then the OCI 1.1 fallback tag: usually two 404s).

use super::show::{fetch, os_versions, platform as platform_arg, platform_label};
use super::{block_on, clean, connect, size};
use rex_core::config::Settings;
use rex_core::oci::{Descriptor, PlatformSelector};
use rex_core::reference::Reference;
use rex_core::registry::ImageInfo;
use rex_plugin_api::{Block, Cell, ErrorKind, Host, Invocation, Output, PluginError, Style};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw {
    Manifest,
    Config,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectArgs {
    pub reference: Reference,
    pub platform: Option<PlatformSelector>,
    pub raw: Option<Raw>,
}

impl InspectArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        let text = inv
            .str("reference")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                PluginError::usage("missing image reference (NAME:TAG or NAME@DIGEST)")
            })?;
        let reference = Reference::parse(text).map_err(super::core_err)?;
        let raw = match (inv.flag("raw-manifest"), inv.flag("raw-config")) {
            (true, true) => {
                return Err(PluginError::usage(
                    "--raw-manifest and --raw-config cannot be combined",
                ))
            }
            (true, false) => Some(Raw::Manifest),
            (false, true) => Some(Raw::Config),
            (false, false) => None,
        };
        Ok(InspectArgs {
            reference,
            platform: platform_arg(inv)?,
            raw,
        })
    }
}

pub struct InspectReport {
    pub info: ImageInfo,
    pub referrers: Vec<Descriptor>,
}

pub fn run(
    settings: &Settings,
    args: &InspectArgs,
    host: &dyn Host,
) -> Result<Output, PluginError> {
    let rex = connect(settings, Some(&args.reference))?;
    let want_referrers = args.raw.is_none();
    let (info, referrers) = block_on(host, &rex, async {
        let info = fetch(&rex, &args.reference, args.platform.as_ref()).await?;
        let referrers = if want_referrers {
            // Nice to have: a registry that refuses it should not spoil the inspection.
            match rex.referrers(&info.repository, &info.digest).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(error = %e, "referrers not available");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        Ok((info, referrers))
    })?;
    match args.raw {
        Some(Raw::Manifest) => {
            // With --platform on an index, the chosen platform's manifest; else the
            // manifest the reference names.
            let bytes = if args.platform.is_some() && info.manifest.is_index() {
                info.raw_image_manifest
                    .clone()
                    .unwrap_or_else(|| info.raw_manifest.clone())
            } else {
                info.raw_manifest.clone()
            };
            Ok(Output::bytes(bytes.to_vec()))
        }
        Some(Raw::Config) => {
            let bytes = info.raw_config.clone().ok_or_else(|| {
                PluginError::new(
                    ErrorKind::NotFound,
                    format!("{} has no image config", clean(&info.reference.to_string())),
                )
                .with_hint("it may be an artifact; use --raw-manifest to see what it holds")
            })?;
            Ok(Output::bytes(bytes.to_vec()))
        }
        None => Ok(InspectReport { info, referrers }.into_output()),
    }
}

/// `Title:` and the `key: value` pairs, or nothing when there are none.
fn annotations_block(title: &str, a: &std::collections::BTreeMap<String, String>) -> Option<Block> {
    (!a.is_empty()).then(|| Block::Fields {
        title: Some(title.to_owned()),
        fields: a
            .iter()
            .map(|(k, v)| (clean(k), Cell::from(clean(v))))
            .collect(),
    })
}

fn descriptor_json(d: &Descriptor) -> Value {
    serde_json::to_value(d).unwrap_or(Value::Null)
}

impl InspectReport {
    pub fn value(&self) -> Value {
        let i = &self.info;
        let platforms: Vec<Value> = i
            .manifest
            .manifests()
            .iter()
            .map(|d| {
                let p = d.platform.clone().unwrap_or_default();
                json!({
                    "platform": p.to_string(),
                    "os": p.os,
                    "architecture": p.architecture,
                    "variant": p.variant,
                    "os_version": p.os_version,
                    "digest": d.digest,
                    "size": d.size,
                    "media_type": d.media_type,
                    "attestation": d.is_attestation(),
                    "annotations": d.annotations,
                })
            })
            .collect();
        let config = i.config.as_ref();
        json!({
            "reference": i.reference.to_string(),
            "registry": i.registry,
            "repository": i.repository,
            "digest": i.digest,
            "media_type": i.media_type,
            "manifest_type": i.kind,
            "manifest_size": i.raw_manifest.len(),
            "total_size": i.total_size,
            "platforms": platforms,
            "platform": i.platform,
            "image_digest": i.image_digest,
            "config_digest": i.config_digest,
            "created": i.created,
            "config": config,
            "labels": i.labels,
            "layers": i.layers.iter().map(descriptor_json).collect::<Vec<_>>(),
            "history": config.map(|c| c.history.clone()).unwrap_or_default(),
            "rootfs": config.and_then(|c| c.rootfs.clone()),
            "annotations": i.manifest.annotations(),
            "image_annotations": i.image_manifest.as_ref().map(|m| m.annotations().clone()).unwrap_or_default(),
            "artifact_type": i.manifest.artifact_type(),
            "subject": i.manifest.subject().map(descriptor_json),
            "referrers": self.referrers.iter().map(descriptor_json).collect::<Vec<_>>(),
        })
    }

    pub fn blocks(&self) -> Vec<Block> {
        let i = &self.info;
        let is_index = i.manifest.is_index();
        let versions = os_versions(i);
        let mut blocks = Vec::new();
        let kind = if is_index {
            format!("{} (multi-platform)", i.kind)
        } else {
            i.kind.clone()
        };
        blocks.push(Block::Fields {
            title: None,
            fields: vec![
                (
                    "Image".into(),
                    Cell::styled(clean(&i.reference.to_string()), Style::Bold),
                ),
                ("Digest".into(), Cell::from(i.digest.to_string())),
                ("Registry".into(), Cell::from(clean(&i.registry))),
                ("Type".into(), Cell::from(kind)),
                ("Media Type".into(), Cell::from(clean(&i.media_type))),
                ("Total Size".into(), Cell::from(size(i.total_size))),
            ],
        });
        let mut digests = vec![(
            "Manifest Digest".to_owned(),
            Cell::from(i.digest.to_string()),
        )];
        if is_index {
            if let Some(d) = &i.image_digest {
                digests.push(("Image Manifest Digest".into(), Cell::from(d.to_string())));
            }
        }
        if let Some(d) = &i.config_digest {
            digests.push(("Config Digest".into(), Cell::from(d.to_string())));
        }
        if let Some(t) = i.manifest.artifact_type() {
            digests.push(("Artifact Type".into(), Cell::from(clean(t))));
        }
        blocks.push(Block::Fields {
            title: None,
            fields: digests,
        });

        if is_index {
            let entries = i
                .platforms
                .iter()
                .enumerate()
                .map(|(n, p)| {
                    let mut fields = vec![
                        ("Digest".to_owned(), Cell::from(p.digest.to_string())),
                        ("Size".to_owned(), Cell::from(size(p.size))),
                    ];
                    if p.attestation {
                        let of = i.manifest.manifests()[n]
                            .annotations
                            .get(rex_core::oci::media_types::DOCKER_REFERENCE_DIGEST_ANNOTATION)
                            .map(|d| format!(" for {}", clean(d)))
                            .unwrap_or_default();
                        fields.push((
                            "Note".into(),
                            Cell::styled(format!("attestation manifest{of}"), Style::Dim),
                        ));
                    }
                    let mut inner = vec![Block::Fields {
                        title: None,
                        fields,
                    }];
                    inner.extend(annotations_block(
                        "Annotations",
                        &i.manifest.manifests()[n].annotations,
                    ));
                    Block::Section {
                        title: format!("{}. {}", n + 1, platform_label(&p.platform, &versions)),
                        blocks: inner,
                    }
                })
                .collect();
            blocks.push(Block::Section {
                title: "Platforms Available:".into(),
                blocks: entries,
            });
        }

        if let Some(c) = &i.config {
            let mut cfg = vec![
                (
                    "Architecture".to_owned(),
                    Cell::from(clean(&c.architecture)),
                ),
                ("OS".to_owned(), Cell::from(clean(&c.os))),
            ];
            if let Some(v) = &c.variant {
                cfg.push(("Variant".into(), Cell::from(clean(v))));
            }
            if let Some(v) = &c.os_version {
                cfg.push(("OS Version".into(), Cell::from(clean(v))));
            }
            cfg.push((
                "Created".into(),
                Cell::from(
                    c.created
                        .as_deref()
                        .map(clean)
                        .unwrap_or_else(|| "-".into()),
                ),
            ));
            if let Some(a) = &c.author {
                cfg.push(("Author".into(), Cell::from(clean(a))));
            }
            let mut inner = vec![Block::Fields {
                title: None,
                fields: cfg,
            }];
            if let Some(cc) = &c.config {
                let list = |title: &str, v: &[String]| Block::List {
                    title: Some(title.to_owned()),
                    items: v
                        .iter()
                        .map(|s| Cell::from(format!("- {}", clean(s))))
                        .collect(),
                };
                let mut sub = vec![Block::Fields {
                    title: None,
                    fields: vec![(
                        "User".into(),
                        Cell::from(
                            cc.user
                                .as_deref()
                                .filter(|u| !u.is_empty())
                                .map(clean)
                                .unwrap_or_else(|| "(empty)".into()),
                        ),
                    )],
                }];
                for (title, v) in [
                    ("Env", &cc.env),
                    ("Entrypoint", &cc.entrypoint),
                    ("Cmd", &cc.cmd),
                    ("ExposedPorts", &cc.exposed_ports),
                    ("Volumes", &cc.volumes),
                ] {
                    if !v.is_empty() {
                        sub.push(list(title, v));
                    }
                }
                let mut tail = vec![(
                    "WorkingDir".to_owned(),
                    Cell::from(
                        cc.working_dir
                            .as_deref()
                            .filter(|u| !u.is_empty())
                            .map(clean)
                            .unwrap_or_else(|| "(empty)".into()),
                    ),
                )];
                if let Some(s) = &cc.stop_signal {
                    tail.push(("StopSignal".into(), Cell::from(clean(s))));
                }
                sub.push(Block::Fields {
                    title: None,
                    fields: tail,
                });
                inner.push(Block::Section {
                    title: "Config:".into(),
                    blocks: sub,
                });
            }
            if !i.labels.is_empty() {
                inner.push(Block::Fields {
                    title: Some("Labels".into()),
                    fields: i
                        .labels
                        .iter()
                        .map(|(k, v)| (clean(k), Cell::from(clean(v))))
                        .collect(),
                });
            }
            let title = match &i.platform {
                Some(p) => format!("Configuration ({}):", clean(p)),
                None => "Configuration:".into(),
            };
            blocks.push(Block::Section {
                title,
                blocks: inner,
            });
        }

        let layers: Vec<Block> = i
            .layers
            .iter()
            .enumerate()
            .map(|(n, l)| {
                let mut inner = vec![Block::Fields {
                    title: None,
                    fields: vec![
                        (
                            "Size".into(),
                            Cell::from(format!(
                                "{} ({} bytes)",
                                size(l.size),
                                rex_core::format::format_bytes_exact(l.size)
                            )),
                        ),
                        ("Media Type".into(), Cell::from(clean(&l.media_type))),
                    ],
                }];
                inner.extend(annotations_block("Annotations", &l.annotations));
                Block::Section {
                    title: format!("{}. {}", n + 1, l.digest),
                    blocks: inner,
                }
            })
            .collect();
        blocks.push(Block::Section {
            title: format!("Layers ({}):", i.layers.len()),
            blocks: layers,
        });

        if let Some(c) = &i.config {
            if !c.history.is_empty() {
                // Non-empty history entries map to the layers in order.
                let mut layer_sizes = i.layers.iter().map(|l| l.size);
                let entries = c
                    .history
                    .iter()
                    .enumerate()
                    .map(|(n, h)| {
                        let mut f = vec![(
                            "Created".to_owned(),
                            Cell::from(
                                h.created
                                    .as_deref()
                                    .map(clean)
                                    .unwrap_or_else(|| "-".into()),
                            ),
                        )];
                        if let Some(by) = &h.created_by {
                            f.push(("Created By".into(), Cell::from(clean(by))));
                        }
                        if let Some(cm) = &h.comment {
                            f.push(("Comment".into(), Cell::from(clean(cm))));
                        }
                        if h.empty_layer {
                            f.push(("Size".into(), Cell::styled("0 B (no layer)", Style::Dim)));
                        } else if let Some(s) = layer_sizes.next() {
                            f.push(("Size".into(), Cell::from(size(s))));
                        }
                        Block::Section {
                            title: format!("{}.", n + 1),
                            blocks: vec![Block::Fields {
                                title: None,
                                fields: f,
                            }],
                        }
                    })
                    .collect();
                blocks.push(Block::Section {
                    title: format!("History ({} entries):", c.history.len()),
                    blocks: entries,
                });
            }
            if let Some(r) = &c.rootfs {
                blocks.push(Block::Section {
                    title: "RootFS:".into(),
                    blocks: vec![
                        Block::Fields {
                            title: None,
                            fields: vec![("Type".into(), Cell::from(clean(&r.fs_type)))],
                        },
                        Block::List {
                            title: Some("DiffIDs".into()),
                            items: r
                                .diff_ids
                                .iter()
                                .map(|d| Cell::from(format!("- {d}")))
                                .collect(),
                        },
                    ],
                });
            }
        }

        let top = if is_index {
            "Index Annotations"
        } else {
            "Annotations"
        };
        blocks.extend(annotations_block(top, i.manifest.annotations()));
        if is_index {
            if let Some(m) = &i.image_manifest {
                let title = match &i.platform {
                    Some(p) => format!("Image Annotations ({})", clean(p)),
                    None => "Image Annotations".into(),
                };
                blocks.extend(annotations_block(&title, m.annotations()));
            }
        }
        if let Some(c) = i.image_manifest.as_ref().and_then(|m| m.config()) {
            blocks.extend(annotations_block("Config Annotations", &c.annotations));
        }
        if let Some(s) = i.manifest.subject() {
            blocks.push(Block::Fields {
                title: Some("Subject".into()),
                fields: vec![
                    ("Digest".into(), Cell::from(s.digest.to_string())),
                    ("Media Type".into(), Cell::from(clean(&s.media_type))),
                ],
            });
        }
        if !self.referrers.is_empty() {
            blocks.push(Block::List {
                title: Some(format!("Referrers ({})", self.referrers.len())),
                items: self
                    .referrers
                    .iter()
                    .map(|r| {
                        let t = r.artifact_type.as_deref().unwrap_or(&r.media_type);
                        Cell::from(format!("{} {}", r.digest, clean(t)))
                    })
                    .collect(),
            });
        }
        blocks
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks();
        Output::structured(self.value(), pretty)
    }
}
