//! Where the TUI gets its data: the [`Source`] trait and the plain view-model structs it
//! returns. The UI never talks to a registry itself; `RexSource` (an adapter over
//! `rex_core::registry::Rex`) and the in-memory [`crate::memory::MemorySource`] implement it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future returned by [`Source`] methods (object safe, `Send`).
pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SourceError>> + Send + 'a>>;

/// The data behind the TUI. Every method is called from a background tokio task, never from
/// the UI thread, so implementations may do network I/O freely.
pub trait Source: Send + Sync + 'static {
    /// Configured registries. The one with `current == true` is listed first.
    fn registries(&self) -> SourceFuture<'_, Vec<RegistryEntry>>;

    /// Repository names of `registry` (a registry *name* from [`Source::registries`]).
    /// `fresh`: ask the registry now, whatever is cached (the `r` refresh action).
    fn repositories<'a>(&'a self, registry: &'a str, fresh: bool) -> SourceFuture<'a, Listing>;

    /// Tag names of `repository`; must be fast (one list call), details come separately.
    /// `fresh` as for [`Source::repositories`].
    fn tags<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
        fresh: bool,
    ) -> SourceFuture<'a, Listing>;

    /// Details of `tags`, delivered one by one through `sink` as they arrive (any order).
    /// The future resolves when all were attempted; per-tag failures go to the sink as
    /// [`TagDetailUpdate::Failed`], a failure of the whole operation as the `Err`.
    /// `fresh`: resolve every tag with the registry again (no cached tag → digest pairs).
    fn tag_details<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
        tags: &'a [String],
        fresh: bool,
        sink: DetailSink,
    ) -> SourceFuture<'a, ()>;

    /// One image. `reference` is relative to the registry: `repo:tag` or `repo@digest`.
    /// `platform` (`os/arch[/variant]`) picks a platform of a multi-platform index; `None`
    /// means the source's default (the host platform, else the first one).
    fn image<'a>(
        &'a self,
        registry: &'a str,
        reference: &'a str,
        platform: Option<&'a str>,
    ) -> SourceFuture<'a, ImageView>;
}

/// Names from a listing call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listing {
    pub names: Vec<String>,
    /// Served from a cache entry past its TTL (eventual consistency): the UI shows it and
    /// asks again with `fresh` behind it.
    pub stale: bool,
}

impl Listing {
    /// A listing straight from the registry (or a fresh cache entry).
    pub fn current(names: Vec<String>) -> Self {
        Listing {
            names,
            stale: false,
        }
    }
}

/// Receives streamed tag details. Cheap to clone; safe to call from any thread.
#[derive(Clone)]
pub struct DetailSink {
    f: Arc<dyn Fn(TagDetailUpdate) + Send + Sync>,
}

impl DetailSink {
    pub fn new(f: impl Fn(TagDetailUpdate) + Send + Sync + 'static) -> Self {
        DetailSink { f: Arc::new(f) }
    }

    pub fn send(&self, update: TagDetailUpdate) {
        (self.f)(update)
    }
}

impl fmt::Debug for DetailSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DetailSink")
    }
}

/// One streamed result of [`Source::tag_details`].
#[derive(Debug, Clone, PartialEq)]
pub enum TagDetailUpdate {
    Ready(TagDetail),
    Failed { tag: String, error: SourceError },
}

/// A configured registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEntry {
    /// The name used in rex commands (`rex registry login <name>`).
    pub name: String,
    /// Host (and port) used in image references, e.g. `localhost:5000`.
    pub host: String,
    /// Whether this is the current registry.
    pub current: bool,
}

impl AsRef<str> for RegistryEntry {
    /// The registry name: what the filter matches.
    fn as_ref(&self) -> &str {
        &self.name
    }
}

/// Details of one tag, as shown in the tags table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagDetail {
    pub tag: String,
    /// `sha256:…` digest of the manifest or index.
    pub digest: String,
    pub media_type: String,
    /// Total size (manifest + config + layers; for an index the sum over platforms).
    pub size: Option<u64>,
    /// Creation time, seconds since the Unix epoch (from the image config).
    pub created: Option<i64>,
    /// `os/arch[/variant]` of each platform.
    pub platforms: Vec<String>,
}

/// Everything the image screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageView {
    /// `repo:tag` or `repo@digest` as requested.
    pub reference: String,
    pub digest: String,
    pub media_type: String,
    pub size: Option<u64>,
    pub created: Option<i64>,
    /// Platforms of an index (empty for a single-platform manifest).
    pub platforms: Vec<PlatformView>,
    /// The platform whose config/layers are shown, when the image has several.
    pub shown_platform: Option<String>,
    pub config: Option<ConfigView>,
    pub layers: Vec<LayerView>,
    pub history: Vec<HistoryView>,
    /// The manifest (or index) exactly as served; pretty-printed for display.
    pub raw_manifest: String,
    /// The config blob exactly as served.
    pub raw_config: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlatformView {
    pub platform: String,
    pub digest: String,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigView {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub labels: Vec<(String, String)>,
    pub exposed_ports: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LayerView {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryView {
    pub created: Option<i64>,
    pub created_by: String,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

/// What went wrong, coarse enough for the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceErrorKind {
    Network,
    /// 401/403 or bad credentials: the status line tells how to log in.
    Auth,
    NotFound,
    Other,
}

/// An error from a [`Source`]; shown in the status line, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub kind: SourceErrorKind,
    pub message: String,
    /// What to try next, if the source knows better than the TUI's default hint.
    pub hint: Option<String>,
}

impl SourceError {
    pub fn new(kind: SourceErrorKind, message: impl Into<String>) -> Self {
        SourceError {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The status-line text; auth errors without a hint say how to log in to `registry`.
    pub fn status_text(&self, registry: Option<&str>) -> String {
        let mut text = self.message.trim_end_matches('.').to_string();
        text.push('.');
        match (&self.hint, self.kind, registry) {
            (Some(hint), _, _) => {
                text.push(' ');
                text.push_str(hint);
            }
            (None, SourceErrorKind::Auth, Some(name)) => {
                text.push_str(&format!(" Run 'rex registry login {name}'."));
            }
            (None, SourceErrorKind::Auth, None) => {
                text.push_str(" Run 'rex registry login <name>'.");
            }
            _ => {}
        }
        text
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SourceError {}
