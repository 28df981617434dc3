//! One file per verb: an args struct parsed from the [`Invocation`], a `run` function
//! over rex-core's `Rex` facade, and a typed report that becomes
//! [`rex_plugin_api::Output`]. Shared glue below.

pub mod image;
pub mod tags;

use rex_core::config::{OutputFormat, Settings};
use rex_plugin_api::{ErrorKind, Host, Invocation, InvocationContext, PluginError, Progress};
use std::sync::atomic::{AtomicU64, Ordering};

/// The settings the host resolved (flags > env > file > defaults).
pub(crate) fn settings(inv: &Invocation) -> Result<Settings, PluginError> {
    rex_plugin_support::settings(inv, "search")
}

/// The required QUERY positional. An empty query is allowed (it lists everything).
pub(crate) fn query(inv: &Invocation) -> Result<String, PluginError> {
    inv.str("query")
        .map(str::to_owned)
        .ok_or_else(|| PluginError::usage("missing QUERY"))
}

/// `--limit N` (default 50).
pub(crate) fn limit(inv: &Invocation) -> Result<usize, PluginError> {
    match inv.str("limit") {
        None => Ok(rex_core::search::DEFAULT_LIMIT),
        Some(s) => s.trim().parse::<usize>().map_err(|_| {
            PluginError::usage(format!(
                "invalid --limit '{s}': expected a whole number >= 0"
            ))
        }),
    }
}

/// A non-empty optional value (`--tag`, `--image`).
pub(crate) fn opt(inv: &Invocation, id: &str) -> Option<String> {
    inv.str(id)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Whether json/yaml will be printed. The pretty layout shows names only, so details
/// (digests, sizes, dates: a manifest and a config per tag) are fetched only when the
/// structured form is shown, and never with `--quiet`. Format unset = pretty on a
/// terminal, yaml when piped (the host's rule).
pub(crate) fn wants_details(settings: &Settings, context: &InvocationContext) -> bool {
    if settings.output.quiet {
        return false;
    }
    match settings.output.format {
        Some(OutputFormat::Pretty) => false,
        Some(OutputFormat::Json | OutputFormat::Yaml) => true,
        None => !context.stdout_is_tty,
    }
}

/// How many registry requests may be in flight.
pub(crate) fn concurrency(settings: &Settings) -> usize {
    settings.network.max_concurrency.max(1)
}

/// Progress of a task of `total` items; thread-safe `tick`, ended on drop.
pub(crate) struct ProgressReporter<'a> {
    host: &'a dyn Host,
    message: String,
    total: u64,
    done: AtomicU64,
}

impl<'a> ProgressReporter<'a> {
    pub fn new(host: &'a dyn Host, message: impl Into<String>, total: usize) -> Self {
        let r = ProgressReporter {
            host,
            message: message.into(),
            total: total as u64,
            done: AtomicU64::new(0),
        };
        r.send(0, false);
        r
    }

    /// One more item finished.
    pub fn tick(&self) {
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        self.send(n.min(self.total), false);
    }

    fn send(&self, current: u64, done: bool) {
        self.host.progress(&Progress {
            message: self.message.clone(),
            current,
            total: Some(self.total),
            done,
        });
    }
}

impl Drop for ProgressReporter<'_> {
    fn drop(&mut self) {
        self.send(self.total, true);
    }
}

/// A registry string made safe for one terminal line.
pub(crate) fn clean(s: &str) -> String {
    rex_core::format::sanitize_line(s).into_owned()
}

/// The pretty form of an empty result. Never an empty block list: the host would fall
/// back to rendering the raw value.
pub(crate) fn nothing_found(quiet: bool, what: &str, query: &str) -> rex_plugin_api::Block {
    if quiet {
        rex_plugin_api::Block::Lines { lines: Vec::new() }
    } else {
        rex_plugin_api::Block::Text {
            text: format!("No {what} match '{}'.", clean(query)),
        }
    }
}

/// The newest of RFC 3339 timestamps, as RFC 3339 UTC with seconds (`…Z`, the design's
/// form). Unparseable dates are ignored.
pub(crate) fn newest<'a>(dates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    dates
        .into_iter()
        .filter_map(|d| chrono::DateTime::parse_from_rfc3339(d.trim()).ok())
        .map(|d| d.with_timezone(&chrono::Utc))
        .max()
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

// ───────────────────────── fetching, bounded ─────────────────────────

use futures::StreamExt as _;
use rex_core::registry::{Rex, TagDetail};
pub(crate) use rex_plugin_support::{block_on, core_err};

/// The catalog. Docker Hub (like most public registries) refuses `/v2/_catalog`; say
/// what works there instead of only relaying the refusal.
pub(crate) async fn catalog(rex: &Rex) -> Result<Vec<String>, PluginError> {
    rex.list_repositories().await.map_err(|e| {
        let hub = rex_core::reference::is_docker_hub(&rex.endpoint().registry_host());
        let err = core_err(e);
        if hub && err.kind != ErrorKind::Interrupted {
            err.with_hint(
                "Docker Hub does not list its repositories; search the tags of one image \
                 with `rex search tags QUERY --image NAME`",
            )
        } else {
            err
        }
    })
}

/// A repository's tag list, or `None` when it cannot be read (gone since the catalog
/// was listed, not readable with these credentials, or a name from the catalog that is
/// not a valid repository name): a search over many repositories skips those with a
/// log line instead of failing.
pub(crate) async fn tags_or_skip(
    rex: &Rex,
    host: &dyn Host,
    repository: &str,
) -> Result<Option<Vec<String>>, PluginError> {
    match rex.list_tags(repository).await {
        Ok(tags) => Ok(Some(tags)),
        Err(e)
            if matches!(
                e.kind(),
                rex_core::ErrorKind::NotFound
                    | rex_core::ErrorKind::Auth
                    | rex_core::ErrorKind::Usage
            ) =>
        {
            host.log(
                rex_plugin_api::LogLevel::Warn,
                "rex::search",
                &format!("skipping repository '{}': {e}", clean(repository)),
            );
            Ok(None)
        }
        Err(e) => Err(core_err(e)),
    }
}

/// Tag details (digest, size, created) for several repositories. Each repository's
/// `tag_details` already bounds its own requests and fetches a digest shared by tags
/// once; across repositories a semaphore weighted by each one's share keeps the total
/// in flight near `concurrency`. Per-repository failures are returned, not raised, so
/// one unreadable image costs only its own details.
pub(crate) async fn details_per_repo(
    rex: &Rex,
    groups: &[(String, Vec<String>)],
    concurrency: usize,
    progress: &ProgressReporter<'_>,
) -> Vec<Result<Vec<TagDetail>, rex_core::Error>> {
    let sem = tokio::sync::Semaphore::new(concurrency);
    let sem = &sem;
    let mut out: Vec<(usize, Result<Vec<TagDetail>, rex_core::Error>)> =
        futures::stream::iter(0..groups.len())
            .map(|i| async move {
                let (repo, tags) = &groups[i];
                if tags.is_empty() {
                    return (i, Ok(Vec::new()));
                }
                let weight = tags.len().clamp(1, concurrency) as u32;
                // The semaphore is never closed, so acquiring cannot fail; if it somehow
                // did, going on unthrottled is harmless.
                let _permit = sem.acquire_many(weight).await.ok();
                let r = rex.tag_details(repo, tags, |_, _| progress.tick()).await;
                (i, r)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_compares_instants_not_strings() {
        // 10:00+02:00 is 08:00Z: older than 09:00Z although it sorts later as text.
        assert_eq!(
            newest([
                "2024-01-15T10:00:00+02:00",
                "2024-01-15T09:00:00Z",
                "garbage"
            ]),
            Some("2024-01-15T09:00:00Z".into())
        );
        assert_eq!(newest([]), None);
        assert_eq!(newest(["not a date"]), None);
    }

    #[test]
    fn details_only_for_structured_output() {
        let mut s = Settings::default();
        let tty = InvocationContext {
            stdout_is_tty: true,
            ..InvocationContext::default()
        };
        let pipe = InvocationContext::default();
        assert!(!wants_details(&s, &tty));
        assert!(wants_details(&s, &pipe));
        s.output.format = Some(OutputFormat::Json);
        assert!(wants_details(&s, &tty));
        s.output.quiet = true;
        assert!(!wants_details(&s, &tty));
        s.output.quiet = false;
        s.output.format = Some(OutputFormat::Pretty);
        assert!(!wants_details(&s, &pipe));
    }
}
