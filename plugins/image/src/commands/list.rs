//! `rex image`: repositories with their tag count and last update.
//!
//! Cost (docs/image.md): the catalog, then per repository one tags/list plus one
//! manifest per tag and one config per distinct digest (unless cached). `--quiet` stops
//! after the catalog. `--filter` and `--limit` are applied to the names before any detail
//! is fetched, so `rex image --limit 10` costs ten repositories, not all of them.

use super::{apply_filter, block_on, clean, connect, core_err, rfc3339, ProgressReporter};
use futures::StreamExt;
use rex_core::config::Settings;
use rex_core::registry::Rex;
use rex_plugin_api::{Block, Cell, ErrorKind, Host, Invocation, Output, PluginError, Style};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListArgs {
    pub filter: Option<String>,
    pub limit: Option<usize>,
    /// Names only: nothing is fetched beyond the catalog.
    pub quiet: bool,
}

impl ListArgs {
    pub fn parse(inv: &Invocation, settings: &Settings) -> Result<Self, PluginError> {
        Ok(ListArgs {
            filter: super::filter(inv),
            limit: super::limit(inv)?,
            quiet: settings.output.quiet,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRow {
    pub name: String,
    pub tags: usize,
    /// Newest `created` among the repository's tags (RFC 3339), `None` without tags or
    /// timestamps.
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReport {
    Names(Vec<String>),
    Images(Vec<ImageRow>),
}

pub fn run(
    settings: &Settings,
    args: &ListArgs,
    host: &dyn Host,
) -> Result<ListReport, PluginError> {
    let rex = connect(settings, None)?;
    block_on(host, &rex, async {
        let names = rex
            .list_repositories()
            .await
            .map_err(|e| catalog_refused(&rex, e))?;
        let mut names = apply_filter(names, args.filter.as_deref())?;
        if let Some(n) = args.limit {
            names.truncate(n);
        }
        if args.quiet {
            return Ok(ListReport::Names(names));
        }
        Ok(ListReport::Images(details(&rex, names, host).await?))
    })
}

/// Docker Hub and most public registries refuse `/v2/_catalog` (401 without a usable
/// scope, 403, or 404): say what works instead of only relaying the refusal.
fn catalog_refused(rex: &Rex, e: rex_core::Error) -> PluginError {
    let err = core_err(e);
    let hub = rex.endpoint().is_docker_hub();
    let instead = "list the tags of one image with `rex image NAME`, or search them with \
                   `rex search tags QUERY --image NAME`";
    let hint = if hub {
        format!("Docker Hub does not list its repositories; {instead}")
    } else {
        match err.kind {
            ErrorKind::Auth => format!(
                "this registry may not list its repositories to you (public registries \
                 often do not); {instead}; if an account may list them, run \
                 `rex registry login`"
            ),
            ErrorKind::NotFound => {
                format!("this registry offers no repository listing (/v2/_catalog); {instead}")
            }
            _ => return err,
        }
    };
    err.with_hint(hint)
}

/// Tag count and last update of every repository, `max_concurrency` repositories at a
/// time (the client's own limit bounds the requests in flight overall).
async fn details(
    rex: &Rex,
    names: Vec<String>,
    host: &dyn Host,
) -> Result<Vec<ImageRow>, PluginError> {
    let progress = ProgressReporter::new(host, "Fetching repository details", names.len());
    let done = std::sync::atomic::AtomicUsize::new(0);
    let concurrency = rex.client().concurrency().max(1);
    let mut rows: Vec<(usize, ImageRow)> = futures::stream::iter(names.into_iter().enumerate())
        .map(|(i, name)| {
            let progress = &progress;
            let done = &done;
            async move {
                let row = repository_row(rex, name).await?;
                progress.report(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                Ok::<_, PluginError>((i, row))
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    rows.sort_by_key(|(i, _)| *i);
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

async fn repository_row(rex: &Rex, name: String) -> Result<ImageRow, PluginError> {
    let tags = match rex.list_tags(&name).await {
        Ok(t) => t,
        // Listed by the catalog but gone since: show it empty rather than fail the listing.
        Err(e) if e.kind() == rex_core::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(core_err(e)),
    };
    let details = rex
        .tag_details(&name, &tags, |_, _| {})
        .await
        .map_err(core_err)?;
    let newest = details
        .iter()
        .filter_map(|d| {
            d.created
                .as_deref()
                .and_then(rex_core::format::parse_timestamp)
        })
        .max();
    Ok(ImageRow {
        name,
        tags: tags.len(),
        last_updated: newest.map(rfc3339),
    })
}

impl ListReport {
    pub fn blocks(&self, now: chrono::DateTime<chrono::Utc>) -> Vec<Block> {
        match self {
            ListReport::Names(names) => vec![Block::Lines {
                lines: names.iter().map(|n| clean(n)).collect(),
            }],
            ListReport::Images(rows) if rows.is_empty() => vec![Block::Text {
                text: "No repositories found.".into(),
            }],
            ListReport::Images(rows) => vec![Block::Table {
                columns: ["NAME", "TAGS", "LAST UPDATED"].map(String::from).to_vec(),
                rows: rows
                    .iter()
                    .map(|r| {
                        vec![
                            Cell::styled(clean(&r.name), Style::Bold),
                            Cell::from(r.tags.to_string()),
                            Cell::styled(
                                rex_core::format::format_relative_str(
                                    r.last_updated.as_deref(),
                                    now,
                                ),
                                Style::Dim,
                            ),
                        ]
                    })
                    .collect(),
            }],
        }
    }

    pub fn value(&self) -> serde_json::Value {
        match self {
            ListReport::Names(names) => json!({
                "images": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()
            }),
            ListReport::Images(rows) => json!({ "images": rows }),
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

    #[test]
    fn json_shape_matches_design() {
        let r = ListReport::Images(vec![ImageRow {
            name: "alpine".into(),
            tags: 5,
            last_updated: Some("2024-01-15T10:30:00Z".into()),
        }]);
        assert_eq!(
            r.value(),
            json!({"images": [{"name": "alpine", "tags": 5, "last_updated": "2024-01-15T10:30:00Z"}]})
        );
        let q = ListReport::Names(vec!["a".into()]);
        assert_eq!(q.value(), json!({"images": [{"name": "a"}]}));
    }

    #[test]
    fn pretty_sanitises_names() {
        let r = ListReport::Images(vec![ImageRow {
            name: "bad\u{1b}[31mname".into(),
            tags: 0,
            last_updated: None,
        }]);
        let blocks = r.blocks(chrono::Utc::now());
        let Block::Table { rows, .. } = &blocks[0] else {
            panic!("table expected")
        };
        assert_eq!(rows[0][0].text(), "badname");
        assert_eq!(rows[0][2].text(), "-");
    }
}
