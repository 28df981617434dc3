//! `rex image NAME`: every tag of a repository with digest, size, created and platforms.
//!
//! One tags/list, then per tag one manifest GET and per distinct digest one config (and
//! for indexes the default platform's manifest), bounded by `network.max_concurrency`
//! (the facade's `tag_details`). `--quiet` fetches the tag list only.

use super::{
    apply_filter, block_on, clean, connect, core_err, not_found_hint, size, ProgressReporter,
};
use crate::sort::compare_versions;
use rex_core::config::Settings;
use rex_core::reference::Reference;
use rex_core::registry::TagDetail;
use rex_plugin_api::{Block, Cell, Host, Invocation, Output, PluginError, Style};
use serde::Serialize;
use serde_json::json;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    /// Version-aware ascending (`1.9` before `1.10`).
    #[default]
    Name,
    /// Newest first.
    Date,
    /// Largest first.
    Size,
}

impl SortBy {
    pub fn parse(s: &str) -> Result<SortBy, PluginError> {
        match s {
            "name" => Ok(SortBy::Name),
            "date" => Ok(SortBy::Date),
            "size" => Ok(SortBy::Size),
            other => Err(PluginError::usage(format!(
                "invalid --sort '{other}': expected name, date or size"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagsArgs {
    pub reference: Reference,
    pub filter: Option<String>,
    pub limit: Option<usize>,
    pub sort: SortBy,
    pub quiet: bool,
}

impl TagsArgs {
    pub fn new(
        reference: Reference,
        inv: &Invocation,
        settings: &Settings,
    ) -> Result<Self, PluginError> {
        Ok(TagsArgs {
            reference,
            filter: super::filter(inv),
            limit: super::limit(inv)?,
            sort: inv
                .str("sort")
                .map(SortBy::parse)
                .transpose()?
                .unwrap_or_default(),
            quiet: settings.output.quiet,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagRow {
    pub tag: String,
    pub digest: String,
    pub size: u64,
    pub created: Option<String>,
    pub platforms: Vec<String>,
}

impl From<TagDetail> for TagRow {
    fn from(d: TagDetail) -> Self {
        TagRow {
            tag: d.tag,
            digest: d.digest.to_string(),
            size: d.size,
            created: d.created,
            platforms: d.platforms,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagsReport {
    Names { name: String, tags: Vec<String> },
    Tags { name: String, tags: Vec<TagRow> },
}

pub fn run(
    settings: &Settings,
    args: &TagsArgs,
    host: &dyn Host,
) -> Result<TagsReport, PluginError> {
    let rex = connect(settings, Some(&args.reference))?;
    let repo = args
        .reference
        .normalized_for(&rex.endpoint().registry_host())
        .repository()
        .to_owned();
    block_on(host, &rex, async {
        let tags = rex
            .list_tags(&repo)
            .await
            .map_err(|e| not_found_hint(core_err(e), "Use 'rex image' to list repositories"))?;
        let mut tags = apply_filter(tags, args.filter.as_deref())?;
        // Name order needs no details: sort and cut before fetching anything.
        if args.quiet || args.sort == SortBy::Name {
            tags.sort_by(|a, b| compare_versions(a, b));
            if let Some(n) = args.limit {
                tags.truncate(n);
            }
        }
        if args.quiet {
            return Ok(TagsReport::Names { name: repo, tags });
        }
        let progress = ProgressReporter::new(
            host,
            format!("Fetching details of {}", clean(&repo)),
            tags.len(),
        );
        let details = rex
            .tag_details(&repo, &tags, |done, _| progress.report(done))
            .await
            .map_err(core_err)?;
        drop(progress);
        let mut rows: Vec<TagRow> = details.into_iter().map(TagRow::from).collect();
        sort_rows(&mut rows, args.sort);
        if let Some(n) = args.limit {
            rows.truncate(n);
        }
        Ok(TagsReport::Tags {
            name: repo,
            tags: rows,
        })
    })
}

pub fn sort_rows(rows: &mut [TagRow], by: SortBy) {
    let by_name = |a: &TagRow, b: &TagRow| compare_versions(&a.tag, &b.tag);
    match by {
        SortBy::Name => rows.sort_by(by_name),
        SortBy::Size => rows.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| by_name(a, b))),
        SortBy::Date => {
            let time = |r: &TagRow| {
                r.created
                    .as_deref()
                    .and_then(rex_core::format::parse_timestamp)
            };
            rows.sort_by(|a, b| {
                // Newest first; tags without a timestamp last.
                let order = match (time(a), time(b)) {
                    (Some(x), Some(y)) => y.cmp(&x),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                order.then_with(|| by_name(a, b))
            })
        }
    }
}

impl TagsReport {
    pub fn blocks(&self, now: chrono::DateTime<chrono::Utc>) -> Vec<Block> {
        match self {
            TagsReport::Names { tags, .. } => vec![Block::Lines {
                lines: tags.iter().map(|t| clean(t)).collect(),
            }],
            TagsReport::Tags { name, tags } if tags.is_empty() => vec![Block::Text {
                text: format!("No tags in {}.", clean(name)),
            }],
            TagsReport::Tags { tags, .. } => vec![Block::Table {
                columns: ["TAG", "DIGEST", "SIZE", "CREATED", "PLATFORMS"]
                    .map(String::from)
                    .to_vec(),
                rows: tags
                    .iter()
                    .map(|t| {
                        let digest = rex_core::digest::Digest::parse(&t.digest)
                            .map(|d| d.short())
                            .unwrap_or_else(|_| clean(&t.digest));
                        vec![
                            Cell::styled(clean(&t.tag), Style::Bold),
                            Cell::styled(digest, Style::Dim),
                            Cell::from(size(t.size)),
                            Cell::from(rex_core::format::format_relative_str(
                                t.created.as_deref(),
                                now,
                            )),
                            Cell::from(clean(&t.platforms.join(", "))),
                        ]
                    })
                    .collect(),
            }],
        }
    }

    pub fn value(&self) -> serde_json::Value {
        match self {
            TagsReport::Names { name, tags } => json!({
                "name": name,
                "tags": tags.iter().map(|t| json!({"tag": t})).collect::<Vec<_>>(),
            }),
            TagsReport::Tags { name, tags } => json!({"name": name, "tags": tags}),
        }
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks(chrono::Utc::now());
        Output::structured(self.value(), pretty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tag: &str, size: u64, created: Option<&str>) -> TagRow {
        TagRow {
            tag: tag.into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            size,
            created: created.map(str::to_owned),
            platforms: vec!["linux/amd64".into()],
        }
    }

    fn tags(rows: &[TagRow]) -> Vec<&str> {
        rows.iter().map(|r| r.tag.as_str()).collect()
    }

    #[test]
    fn sorts() {
        let mut rows = vec![
            row("1.10", 5, Some("2024-01-01T00:00:00Z")),
            row("1.9", 9, Some("2024-03-01T00:00:00Z")),
            row("latest", 5, None),
            row("1.2", 1, Some("2024-02-01T00:00:00Z")),
        ];
        sort_rows(&mut rows, SortBy::Name);
        assert_eq!(tags(&rows), ["1.2", "1.9", "1.10", "latest"]);
        sort_rows(&mut rows, SortBy::Date);
        assert_eq!(tags(&rows), ["1.9", "1.2", "1.10", "latest"]);
        sort_rows(&mut rows, SortBy::Size);
        assert_eq!(tags(&rows), ["1.9", "1.10", "latest", "1.2"]);
    }

    #[test]
    fn json_shape_matches_design() {
        let r = TagsReport::Tags {
            name: "alpine".into(),
            tags: vec![row("latest", 7, Some("2024-01-15T10:30:00Z"))],
        };
        let v = r.value();
        assert_eq!(v["name"], "alpine");
        let keys: Vec<&String> = v["tags"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["tag", "digest", "size", "created", "platforms"]);
    }
}
