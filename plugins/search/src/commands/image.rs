//! `rex search image QUERY [--tag T] [--exact] [--limit N]`: repositories ranked by how
//! well their name matches.

use super::{
    block_on, catalog, clean, concurrency, core_err, details_per_repo, limit, newest,
    nothing_found, opt, query, tags_or_skip, wants_details, ProgressReporter,
};
use futures::StreamExt as _;
use rex_core::config::Settings;
use rex_core::registry::Rex;
use rex_core::search::{search, Query};
use rex_plugin_api::{Block, Host, Invocation, InvocationContext, LogLevel, Output, PluginError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageArgs {
    pub query: String,
    /// `--tag`: keep only repositories that have exactly this tag.
    pub tag: Option<String>,
    pub exact: bool,
    pub limit: usize,
}

impl ImageArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        Ok(ImageArgs {
            query: query(inv)?,
            tag: opt(inv, "tag"),
            exact: inv.flag("exact"),
            limit: limit(inv)?,
        })
    }
}

/// One repository found (design 2.6 JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageHit {
    pub name: String,
    /// Number of tags; `null` when the tag list could not be read (logged).
    pub tags: Option<usize>,
    /// Newest `created` among the tags' images (RFC 3339 UTC); `null` when not fetched
    /// (pretty/quiet output) or unknown.
    pub last_updated: Option<String>,
    /// The `--tag` the repository has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matching_tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageSearchReport {
    pub query: String,
    pub search_type: &'static str,
    pub tag_filter: Option<String>,
    pub total_results: usize,
    pub results: Vec<ImageHit>,
    /// `--quiet`: no note when nothing matched.
    #[serde(skip)]
    pub quiet: bool,
}

pub fn run(
    settings: &Settings,
    args: &ImageArgs,
    context: &InvocationContext,
    host: &dyn Host,
) -> Result<ImageSearchReport, PluginError> {
    // A bad pattern is a usage error before any request.
    let query = Query::parse(&args.query, args.exact).map_err(core_err)?;
    let rex = Rex::new(settings).map_err(core_err)?;
    let conc = concurrency(settings);
    let details = wants_details(settings, context);
    let results = block_on(host, &rex, find(&rex, &query, args, conc, details, host))?;
    Ok(ImageSearchReport {
        query: args.query.clone(),
        search_type: "image",
        tag_filter: args.tag.clone(),
        total_results: results.len(),
        results,
        quiet: settings.output.quiet,
    })
}

async fn find(
    rex: &Rex,
    query: &Query,
    args: &ImageArgs,
    conc: usize,
    details: bool,
    host: &dyn Host,
) -> Result<Vec<ImageHit>, PluginError> {
    if args.limit == 0 {
        return Ok(Vec::new());
    }
    let repos = catalog(rex).await?;
    // With --tag the best `limit` names may not have the tag: rank all, filter in order.
    let cap = args.tag.is_none().then_some(args.limit);
    let hits = search(query, repos.iter().map(String::as_str), cap);
    let ranked: Vec<&str> = hits.iter().map(|h| repos[h.index].as_str()).collect();

    // Tag lists (counts, the --tag check) for candidates in rank order; `buffered` keeps
    // that order, so the walk stops as soon as `limit` repositories qualified.
    let mut shown: Vec<(String, Option<Vec<String>>)> = Vec::new();
    {
        let progress = ProgressReporter::new(host, "Listing tags", ranked.len());
        let mut lists = futures::stream::iter(ranked.iter().copied())
            .map(|repo| async move { (repo, tags_or_skip(rex, host, repo).await) })
            .buffered(conc);
        while let Some((repo, tags)) = lists.next().await {
            progress.tick();
            // Without --tag a matching name is shown even when its tags cannot be read.
            let tags = tags?;
            if let Some(wanted) = &args.tag {
                if !tags.iter().flatten().any(|t| t == wanted) {
                    continue;
                }
            }
            shown.push((repo.to_owned(), tags));
            if shown.len() >= args.limit {
                break;
            }
        }
    }

    let mut updated: Vec<Option<String>> = vec![None; shown.len()];
    if details {
        let groups: Vec<(String, Vec<String>)> = shown
            .iter()
            .map(|(r, t)| (r.clone(), t.clone().unwrap_or_default()))
            .collect();
        let total = groups.iter().map(|(_, t)| t.len()).sum();
        let progress = ProgressReporter::new(host, "Fetching tag details", total);
        let fetched = details_per_repo(rex, &groups, conc, &progress).await;
        for (slot, ((repo, _), got)) in updated.iter_mut().zip(groups.iter().zip(fetched)) {
            match got {
                Ok(d) => *slot = newest(d.iter().filter_map(|t| t.created.as_deref())),
                Err(e) if e.kind() == rex_core::ErrorKind::Interrupted => return Err(core_err(e)),
                Err(e) => host.log(
                    LogLevel::Warn,
                    "rex::search",
                    &format!("no last_updated for '{}': {e}", clean(repo)),
                ),
            }
        }
    }

    Ok(shown
        .into_iter()
        .zip(updated)
        .map(|((name, tags), last_updated)| ImageHit {
            name,
            tags: tags.as_ref().map(Vec::len),
            last_updated,
            matching_tag: args.tag.clone(),
        })
        .collect())
}

impl ImageSearchReport {
    /// The design's pretty form: one name per line, best first (also with `--quiet`).
    /// No results: a note, or nothing with `--quiet` (exit 0 either way).
    pub fn blocks(&self) -> Vec<Block> {
        if self.results.is_empty() {
            return vec![nothing_found(self.quiet, "images", &self.query)];
        }
        vec![Block::Lines {
            lines: self.results.iter().map(|r| clean(&r.name)).collect(),
        }]
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks();
        Output::from_serialize(&self, pretty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_shape_matches_design() {
        let r = ImageSearchReport {
            query: "alpine".into(),
            search_type: "image",
            tag_filter: Some("3.19".into()),
            total_results: 1,
            quiet: false,
            results: vec![ImageHit {
                name: "alpine".into(),
                tags: Some(5),
                last_updated: Some("2024-01-15T10:30:00Z".into()),
                matching_tag: Some("3.19".into()),
            }],
        };
        let Output::Structured { value, .. } = r.into_output() else {
            panic!("structured expected")
        };
        assert_eq!(
            value,
            json!({"query": "alpine", "search_type": "image", "tag_filter": "3.19",
                   "total_results": 1, "results": [{"name": "alpine", "tags": 5,
                   "last_updated": "2024-01-15T10:30:00Z", "matching_tag": "3.19"}]})
        );
    }

    #[test]
    fn pretty_names_are_sanitised() {
        let r = ImageSearchReport {
            query: "x".into(),
            search_type: "image",
            tag_filter: None,
            total_results: 1,
            quiet: false,
            results: vec![ImageHit {
                name: "evil\u{1b}[31m/red\nline".into(),
                tags: None,
                last_updated: None,
                matching_tag: None,
            }],
        };
        let Block::Lines { lines } = &r.blocks()[0] else {
            panic!("lines expected")
        };
        assert!(
            !lines[0].contains('\u{1b}') && !lines[0].contains('\n'),
            "{lines:?}"
        );
        let Output::Structured { value, .. } = r.into_output() else {
            unreachable!()
        };
        // json keeps the registry's bytes (serde escapes them).
        assert_eq!(value["results"][0]["name"], "evil\u{1b}[31m/red\nline");
        assert!(value["results"][0].get("matching_tag").is_none());
    }
}
