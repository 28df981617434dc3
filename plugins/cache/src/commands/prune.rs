//! `rex registry cache prune [NAME] [--all] [--dry-run]`.

use super::{core_err, entries, open, scope, size};
use rex_core::cache::PruneReport;
use rex_core::config::Settings;
use rex_plugin_api::{Block, Cell, Invocation, Output, PluginError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneArgs {
    pub name: Option<String>,
    pub all: bool,
    pub dry_run: bool,
}

impl PruneArgs {
    pub fn parse(inv: &Invocation) -> Self {
        PruneArgs {
            name: inv.str("name").map(str::to_owned),
            all: inv.flag("all"),
            dry_run: inv.flag("dry-run"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PruneOutcome {
    /// `null` with `--all`.
    pub registry: Option<String>,
    pub url: Option<String>,
    #[serde(flatten)]
    pub report: PruneReport,
}

pub fn run(settings: &Settings, args: &PruneArgs) -> Result<PruneOutcome, PluginError> {
    let scope = if args.all {
        None
    } else {
        Some(scope(settings, args.name.as_deref())?)
    };
    let cache = open(settings)?;
    let report = cache
        .prune(scope.as_ref().map(|s| s.key.as_str()), args.dry_run)
        .map_err(core_err)?;
    Ok(PruneOutcome {
        registry: scope.as_ref().map(|s| s.name.clone()),
        url: scope.map(|s| s.url),
        report,
    })
}

impl PruneOutcome {
    fn blocks(&self) -> Vec<Block> {
        let r = &self.report;
        let by = &r.by_type;
        let kinds = [
            (by.catalogs.entries, "catalog"),
            (by.tags.entries, "tag"),
            (by.manifests.entries, "manifest"),
            (by.configs.entries, "config"),
        ];
        if r.dry_run {
            return vec![Block::List {
                title: Some(format!(
                    "Would remove {} {} ({})",
                    r.entries,
                    entries(r.entries),
                    size(r.bytes)
                )),
                items: kinds
                    .iter()
                    .map(|(n, k)| Cell::Plain(format!("{n} {k} {}", entries(*n))))
                    .collect(),
            }];
        }
        let mut blocks = Vec::new();
        if let (Some(name), Some(url)) = (&self.registry, &self.url) {
            blocks.push(Block::Text {
                text: format!("Pruning cache for '{name}' ({url})..."),
            });
        }
        blocks.push(Block::Success {
            message: format!(
                "Removed {} {} ({} expired, {} unused, {} over the limits, {} corrupt)",
                r.entries,
                entries(r.entries),
                r.expired,
                r.unused,
                r.over_limit,
                r.corrupt
            ),
        });
        blocks.push(Block::Success {
            message: format!("Freed {} of disk space", size(r.bytes)),
        });
        blocks.push(Block::Text {
            text: format!(
                "Remaining: {} {} ({})",
                r.remaining_entries,
                entries(r.remaining_entries),
                size(r.remaining_size)
            ),
        });
        blocks
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks();
        Output::from_serialize(&self, pretty)
    }
}
