//! `rex registry cache stats [NAME]`: hit rate, entries and size by type, memory vs
//! disk, last cleanup and the cache location.

use super::{by_type_fields, core_err, entries, open, scope, size, Scope};
use rex_core::cache::ByType;
use rex_core::config::Settings;
use rex_core::format::format_relative;
use rex_plugin_api::{Block, Cell, Invocation, Output, PluginError, Style};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsArgs {
    pub name: Option<String>,
}

impl StatsArgs {
    pub fn parse(inv: &Invocation) -> Self {
        StatsArgs {
            name: inv.str("name").map(str::to_owned),
        }
    }
}

/// The design's JSON shape (2.4), plus `enabled`, `hits`, `misses` and `registry_hash`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsReport {
    pub registry: String,
    pub url: String,
    /// `cache.enabled` (statistics of a disabled cache's files are still shown).
    pub enabled: bool,
    pub total_entries: u64,
    pub total_size: u64,
    /// This process only: memory is empty at the start of a `rex` run.
    pub memory_entries: u64,
    pub memory_size: u64,
    pub disk_entries: u64,
    pub disk_size: u64,
    pub hits: u64,
    pub misses: u64,
    /// `null` before the first lookup.
    pub hit_rate: Option<f64>,
    pub last_cleanup: Option<chrono::DateTime<chrono::Utc>>,
    pub by_type: ByType,
    /// The cache directory.
    pub cache_path: Option<PathBuf>,
    pub registry_hash: Option<String>,
}

pub fn run(settings: &Settings, args: &StatsArgs) -> Result<StatsReport, PluginError> {
    let Scope { name, url, key } = scope(settings, args.name.as_deref())?;
    let cache = open(settings)?;
    let s = cache.stats(Some(&key)).map_err(core_err)?;
    Ok(StatsReport {
        registry: name,
        url,
        enabled: settings.cache.enabled,
        total_entries: s.total_entries,
        total_size: s.total_size,
        memory_entries: s.memory_entries,
        memory_size: s.memory_size,
        disk_entries: s.disk_entries,
        disk_size: s.disk_size,
        hits: s.hits,
        misses: s.misses,
        hit_rate: s.hit_rate,
        last_cleanup: s.last_cleanup,
        by_type: s.by_type,
        cache_path: s.cache_path,
        registry_hash: s.registry_hash,
    })
}

impl StatsReport {
    fn blocks(&self) -> Vec<Block> {
        let now = chrono::Utc::now();
        let plain = |s: String| Cell::Plain(s);
        let mut overview = vec![
            (
                "Total Entries".to_owned(),
                plain(self.total_entries.to_string()),
            ),
            ("Total Size".to_owned(), plain(size(self.total_size))),
            (
                "Memory Cache".to_owned(),
                plain(format!(
                    "{} {} ({})",
                    self.memory_entries,
                    entries(self.memory_entries),
                    size(self.memory_size)
                )),
            ),
            (
                "Disk Cache".to_owned(),
                plain(format!(
                    "{} {} ({})",
                    self.disk_entries,
                    entries(self.disk_entries),
                    size(self.disk_size)
                )),
            ),
            (
                "Hit Rate".to_owned(),
                match self.hit_rate {
                    Some(r) => plain(format!(
                        "{:.1}% ({} hits, {} misses)",
                        r * 100.0,
                        self.hits,
                        self.misses
                    )),
                    None => Cell::styled("no lookups yet", Style::Dim),
                },
            ),
            (
                "Last Cleanup".to_owned(),
                match self.last_cleanup {
                    Some(t) => plain(format_relative(t, now)),
                    None => Cell::styled("never", Style::Dim),
                },
            ),
        ];
        if !self.enabled {
            overview.push((
                "Status".to_owned(),
                Cell::styled("disabled (cache.enabled = false)", Style::Warn),
            ));
        }
        let location = match (&self.cache_path, &self.registry_hash) {
            (Some(p), _) => p.display().to_string(),
            (None, _) => "none (no cache directory)".to_owned(),
        };
        vec![
            Block::Text {
                text: format!("Cache Statistics for '{}' ({})", self.registry, self.url),
            },
            Block::Fields {
                title: Some("Overview".into()),
                fields: overview,
            },
            Block::Fields {
                title: Some("By Type".into()),
                fields: by_type_fields(&self.by_type),
            },
            Block::Fields {
                title: None,
                fields: vec![("Cache Location".to_owned(), plain(location))],
            },
        ]
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks();
        Output::from_serialize(&self, pretty)
    }
}
