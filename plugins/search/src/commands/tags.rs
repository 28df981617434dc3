//! `rex search tags QUERY [--image NAME] [--exact] [--limit N]`: tags ranked by how well
//! they match, across every repository or within one.

use super::{
    block_on, catalog, clean, concurrency, core_err, details_per_repo, limit, nothing_found, opt,
    query, tags_or_skip, wants_details, ProgressReporter,
};
use futures::StreamExt as _;
use rex_core::config::Settings;
use rex_core::reference::Reference;
use rex_core::registry::Rex;
use rex_core::search::{search, Query};
use rex_plugin_api::{Block, Host, Invocation, InvocationContext, LogLevel, Output, PluginError};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagsArgs {
    pub query: String,
    /// `--image`: search only this repository's tags.
    pub image: Option<String>,
    pub exact: bool,
    pub limit: usize,
}

impl TagsArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        Ok(TagsArgs {
            query: query(inv)?,
            image: opt(inv, "image"),
            exact: inv.flag("exact"),
            limit: limit(inv)?,
        })
    }
}

/// One tag found (design 2.6 JSON). `image` is left out with `--image` (it is the scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagHit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub tag: String,
    /// `image:tag`.
    pub reference: String,
    /// Manifest digest; `null` when not fetched (pretty/quiet output) or unreadable.
    pub digest: Option<String>,
    /// Config + layers in bytes (for an index: its default platform's image).
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagsSearchReport {
    pub query: String,
    pub search_type: &'static str,
    pub image_scope: Option<String>,
    pub total_results: usize,
    pub results: Vec<TagHit>,
    /// `--quiet`: no note when nothing matched.
    #[serde(skip)]
    pub quiet: bool,
}

/// `--image NAME` as the repository to ask for (Docker Hub's `library/` added when the
/// registry is the Hub) and the registry it names, if any (`ghcr.io/org/app`).
fn scope(name: &str) -> Result<Reference, PluginError> {
    let r = Reference::parse(name).map_err(core_err)?;
    if r.tag().is_some() || r.digest().is_some() {
        return Err(PluginError::usage(format!(
            "--image takes an image name without tag or digest, got '{name}'"
        ))
        .with_hint("search its tags with `rex search tags QUERY --image NAME`"));
    }
    Ok(r)
}

pub fn run(
    settings: &Settings,
    args: &TagsArgs,
    context: &InvocationContext,
    host: &dyn Host,
) -> Result<TagsSearchReport, PluginError> {
    // A bad pattern or image name is a usage error before any request.
    let query = Query::parse(&args.query, args.exact).map_err(core_err)?;
    let image = args.image.as_deref().map(scope).transpose()?;
    let rex = match image.as_ref().and_then(Reference::registry) {
        Some(registry) => {
            let mut s = settings.clone();
            s.runtime.registry = Some(registry.to_owned());
            Rex::new(&s)
        }
        None => Rex::new(settings),
    }
    .map_err(core_err)?;
    let conc = concurrency(settings);
    let details = wants_details(settings, context);
    let results = block_on(
        host,
        &rex,
        find(&rex, &query, args, image.as_ref(), conc, details, host),
    )?;
    Ok(TagsSearchReport {
        query: args.query.clone(),
        search_type: "tags",
        image_scope: args.image.clone(),
        total_results: results.len(),
        results,
        quiet: settings.output.quiet,
    })
}

async fn find(
    rex: &Rex,
    query: &Query,
    args: &TagsArgs,
    image: Option<&Reference>,
    conc: usize,
    details: bool,
    host: &dyn Host,
) -> Result<Vec<TagHit>, PluginError> {
    if args.limit == 0 {
        return Ok(Vec::new());
    }
    // (repository to ask, name to show) per repository, with its tags.
    let mut repos: Vec<(String, String, Vec<String>)> = Vec::new();
    match (image, &args.image) {
        (Some(r), Some(shown)) => {
            let repo = r
                .normalized_for(&rex.endpoint().registry_host())
                .repository()
                .to_owned();
            let tags = rex.list_tags(&repo).await.map_err(core_err)?;
            repos.push((repo, shown.clone(), tags));
        }
        _ => {
            let names = catalog(rex).await?;
            let progress = ProgressReporter::new(host, "Listing tags", names.len());
            let progress = &progress;
            let mut lists: Vec<(usize, Option<Vec<String>>)> =
                futures::stream::iter(0..names.len())
                    .map(|i| {
                        let names = &names;
                        async move {
                            let r = tags_or_skip(rex, host, &names[i]).await;
                            progress.tick();
                            r.map(|t| (i, t))
                        }
                    })
                    .buffer_unordered(conc)
                    .collect::<Vec<_>>()
                    .await
                    .into_iter()
                    .collect::<Result<_, _>>()?;
            // Catalog order, so equal matches rank the same way on every run.
            lists.sort_by_key(|(i, _)| *i);
            repos.extend(
                lists
                    .into_iter()
                    .filter_map(|(i, t)| t.map(|t| (names[i].clone(), names[i].clone(), t))),
            );
        }
    }

    let owners: Vec<usize> = repos
        .iter()
        .enumerate()
        .flat_map(|(i, (_, _, tags))| std::iter::repeat_n(i, tags.len()))
        .collect();
    let all: Vec<&str> = repos
        .iter()
        .flat_map(|(_, _, tags)| tags.iter().map(String::as_str))
        .collect();
    let hits = search(query, all.iter().copied(), Some(args.limit));
    let picked: Vec<(usize, &str)> = hits
        .iter()
        .map(|h| (owners[h.index], all[h.index]))
        .collect();

    let mut found: HashMap<(usize, &str), (String, u64)> = HashMap::new();
    if details && !picked.is_empty() {
        // Only the tags shown, grouped per repository (shared digests fetched once).
        let mut order: Vec<usize> = Vec::new();
        let mut per_repo: HashMap<usize, Vec<String>> = HashMap::new();
        for (owner, tag) in &picked {
            let list = per_repo.entry(*owner).or_insert_with(|| {
                order.push(*owner);
                Vec::new()
            });
            if !list.iter().any(|t| t == tag) {
                list.push((*tag).to_owned());
            }
        }
        let groups: Vec<(String, Vec<String>)> = order
            .iter()
            .map(|o| (repos[*o].0.clone(), per_repo.remove(o).unwrap_or_default()))
            .collect();
        let progress = ProgressReporter::new(host, "Fetching tag details", picked.len());
        let fetched = details_per_repo(rex, &groups, conc, &progress).await;
        for (owner, got) in order.iter().zip(fetched) {
            match got {
                Ok(list) => {
                    for d in list {
                        if let Some(&(_, tag)) =
                            picked.iter().find(|(o, t)| o == owner && *t == d.tag)
                        {
                            found.insert((*owner, tag), (d.digest.to_string(), d.size));
                        }
                    }
                }
                Err(e) if e.kind() == rex_core::ErrorKind::Interrupted => return Err(core_err(e)),
                Err(e) => host.log(
                    LogLevel::Warn,
                    "rex::search",
                    &format!("no digest/size for '{}': {e}", clean(&repos[*owner].1)),
                ),
            }
        }
    }

    let scoped = args.image.is_some();
    Ok(picked
        .into_iter()
        .map(|(owner, tag)| {
            let shown = &repos[owner].1;
            let (digest, size) = match found.get(&(owner, tag)) {
                Some((d, s)) => (Some(d.clone()), Some(*s)),
                None => (None, None),
            };
            TagHit {
                image: (!scoped).then(|| shown.clone()),
                tag: tag.to_owned(),
                reference: format!("{shown}:{tag}"),
                digest,
                size,
            }
        })
        .collect())
}

impl TagsSearchReport {
    /// The design's pretty form, best first: `image:tag` lines, or bare tags with
    /// `--image`. `--quiet` prints the same (the reference is what scripts pass on).
    /// No results: a note, or nothing with `--quiet` (exit 0 either way).
    pub fn blocks(&self) -> Vec<Block> {
        if self.results.is_empty() {
            return vec![nothing_found(self.quiet, "tags", &self.query)];
        }
        let lines = self
            .results
            .iter()
            .map(|r| match &r.image {
                Some(_) => clean(&r.reference),
                None => clean(&r.tag),
            })
            .collect();
        vec![Block::Lines { lines }]
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

    fn hit(image: Option<&str>, tag: &str) -> TagHit {
        TagHit {
            image: image.map(str::to_owned),
            tag: tag.into(),
            reference: format!("{}:{tag}", image.unwrap_or("myapp")),
            digest: Some("sha256:aaa".into()),
            size: Some(42),
        }
    }

    #[test]
    fn json_shape_matches_design() {
        let r = TagsSearchReport {
            query: "v1".into(),
            search_type: "tags",
            image_scope: Some("myapp".into()),
            total_results: 1,
            quiet: false,
            results: vec![hit(None, "v1.0.0")],
        };
        let Output::Structured { value, pretty } = r.into_output() else {
            panic!("structured expected")
        };
        assert_eq!(
            value,
            json!({"query": "v1", "search_type": "tags", "image_scope": "myapp",
                   "total_results": 1, "results": [{"tag": "v1.0.0",
                   "reference": "myapp:v1.0.0", "digest": "sha256:aaa", "size": 42}]})
        );
        assert_eq!(
            pretty,
            vec![Block::Lines {
                lines: vec!["v1.0.0".into()]
            }]
        );
    }

    #[test]
    fn unscoped_pretty_lines_are_references_sanitised() {
        let mut h = hit(Some("nginx"), "alpine");
        h.reference = "nginx:al\u{1b}]0;pwned\u{7}pine".into();
        let r = TagsSearchReport {
            query: "alpine".into(),
            search_type: "tags",
            image_scope: None,
            total_results: 1,
            quiet: false,
            results: vec![h],
        };
        let Block::Lines { lines } = &r.blocks()[0] else {
            panic!("lines expected")
        };
        assert!(lines[0].starts_with("nginx:al"), "{lines:?}");
        assert!(!lines[0].chars().any(|c| c.is_control()), "{lines:?}");
        let Output::Structured { value, .. } = r.into_output() else {
            unreachable!()
        };
        assert_eq!(value["results"][0]["image"], "nginx");
        assert_eq!(value["image_scope"], serde_json::Value::Null);
    }

    #[test]
    fn image_scope_rejects_a_tag() {
        assert_eq!(scope("myapp").unwrap().repository(), "myapp");
        let e = scope("myapp:v1").unwrap_err();
        assert_eq!(e.kind, rex_plugin_api::ErrorKind::Usage);
        assert_eq!(
            scope("ghcr.io/org/app").unwrap().registry(),
            Some("ghcr.io")
        );
    }
}
