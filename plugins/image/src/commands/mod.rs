//! One file per verb: an args struct parsed from the [`Invocation`], a `run` function
//! over rex-core's `Rex` facade, and a typed report that becomes
//! [`rex_plugin_api::Output`].

pub mod inspect;
pub mod list;
pub mod show;
pub mod tags;

use rex_core::config::Settings;
use rex_core::reference::Reference;
use rex_core::registry::Rex;
use rex_plugin_api::{ErrorKind, Host, Invocation, PluginError, Progress};
use std::future::Future;
use std::time::Duration;

/// The settings the host resolved (flags > env > file > defaults).
pub(crate) fn settings(inv: &Invocation) -> Result<Settings, PluginError> {
    serde_json::from_value(inv.settings.clone()).map_err(|e| {
        PluginError::new(
            ErrorKind::Config,
            format!("cannot read the settings rex passed to the image plugin: {e}"),
        )
    })
}

/// A core error as a plugin error: same kind (hence same exit code), message and hint.
/// (The registry and config plugins keep their own crate-private copies; there is no
/// shared helper because rex-plugin-api must not know rex-core.)
pub(crate) fn core_err(e: rex_core::Error) -> PluginError {
    let kind = match e.kind() {
        rex_core::ErrorKind::General => ErrorKind::General,
        rex_core::ErrorKind::Usage => ErrorKind::Usage,
        rex_core::ErrorKind::Network => ErrorKind::Network,
        rex_core::ErrorKind::Auth => ErrorKind::Auth,
        rex_core::ErrorKind::NotFound => ErrorKind::NotFound,
        rex_core::ErrorKind::Config => ErrorKind::Config,
        rex_core::ErrorKind::Cache => ErrorKind::Cache,
        rex_core::ErrorKind::Interrupted => ErrorKind::Interrupted,
    };
    let mut out = PluginError::new(kind, e.to_string());
    if let Some(hint) = e.hint() {
        out = out.with_hint(hint);
    }
    // Only a root cause the message does not already mention is worth a line.
    let mut root = std::error::Error::source(&e);
    while let Some(next) = root.and_then(|s| s.source()) {
        root = Some(next);
    }
    if let Some(root) = root.map(|r| r.to_string()) {
        let cause = root.to_ascii_lowercase();
        let known = cause
            .split(" (os error")
            .next()
            .is_some_and(|c| out.message.to_ascii_lowercase().contains(c.trim()));
        if !known {
            out = out.with_detail(root);
        }
    }
    out
}

/// A not-found error gets `hint`, naming this CLI's commands (the core's generic hint
/// does not know them), unless the core points at `--platform`.
pub(crate) fn not_found_hint(e: PluginError, hint: &str) -> PluginError {
    let about_platform = e.hint.as_deref().is_some_and(|h| h.contains("--platform"));
    if e.kind == ErrorKind::NotFound && !about_platform {
        PluginError {
            hint: Some(hint.to_owned()),
            ..e
        }
    } else {
        e
    }
}

/// Options given that mean nothing for this form of `rex image` are a usage error
/// rather than silently ignored (`rex image app:1 --sort date` would otherwise look like
/// it sorted something).
pub(crate) fn reject_options(
    inv: &Invocation,
    ids: &[&str],
    form: &str,
    hint: &str,
) -> Result<(), PluginError> {
    let given: Vec<String> = ids
        .iter()
        .filter(|id| inv.str(id).is_some())
        .map(|id| format!("--{id}"))
        .collect();
    if given.is_empty() {
        return Ok(());
    }
    let verb = if given.len() == 1 { "does" } else { "do" };
    Err(
        PluginError::usage(format!("{} {verb} not apply to {form}", given.join(", ")))
            .with_hint(hint),
    )
}

/// An optional whole-number option (`--limit`).
pub(crate) fn limit(inv: &Invocation) -> Result<Option<usize>, PluginError> {
    match inv.str("limit") {
        None => Ok(None),
        Some(s) => s.trim().parse::<usize>().map(Some).map_err(|_| {
            PluginError::usage(format!(
                "invalid --limit '{s}': expected a whole number >= 0"
            ))
        }),
    }
}

/// A non-empty `--filter`.
pub(crate) fn filter(inv: &Invocation) -> Option<String> {
    inv.str("filter")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Keep the names matching the fuzzy pattern (same matcher and threshold as `rex search`),
/// in their original order.
pub(crate) fn apply_filter(
    names: Vec<String>,
    pattern: Option<&str>,
) -> Result<Vec<String>, PluginError> {
    let Some(p) = pattern else {
        return Ok(names);
    };
    let kept: Vec<String> = rex_core::search::filter_names(p, false, &names)
        .map_err(core_err)?
        .into_iter()
        .cloned()
        .collect();
    Ok(kept)
}

/// The facade for the registry `reference` names (`localhost:5000/app:1`), else the one
/// the settings select. A registry in the reference goes through the same resolution
/// as `--registry` (a configured entry with that address keeps its credentials and
/// TLS options).
pub(crate) fn connect(
    settings: &Settings,
    reference: Option<&Reference>,
) -> Result<Rex, PluginError> {
    match reference.and_then(Reference::registry) {
        Some(registry) => {
            let mut s = settings.clone();
            s.runtime.registry = Some(registry.to_owned());
            Rex::new(&s).map_err(core_err)
        }
        None => Rex::new(settings).map_err(core_err),
    }
}

/// The plugin owns its async runtime (the host's never crosses the plugin boundary).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, PluginError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PluginError::general(format!("cannot start an async runtime: {e}")))
}

/// Run `fut` for `rex`, giving up with `Interrupted` as soon as the user presses Ctrl+C.
/// Before the runtime ends, the refreshes that eventual consistency started in the
/// background (they ran alongside the rest of `fut`) are waited for, so the next run
/// reads the refreshed value (`Rex::settle_background`).
pub(crate) fn block_on<T>(
    host: &dyn Host,
    rex: &Rex,
    fut: impl Future<Output = Result<T, PluginError>>,
) -> Result<T, PluginError> {
    let rt = runtime()?;
    rt.block_on(async {
        let cancelled = async {
            loop {
                if host.is_cancelled() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let settled = async {
            let r = fut.await;
            rex.settle_background().await;
            r
        };
        tokio::select! {
            r = settled => r,
            () = cancelled => Err(PluginError::new(ErrorKind::Interrupted, "interrupted")),
        }
    })
}

/// Progress reports for a task of `total` items, ended on drop.
pub(crate) struct ProgressReporter<'a> {
    host: &'a dyn Host,
    message: String,
    total: u64,
}

impl<'a> ProgressReporter<'a> {
    pub fn new(host: &'a dyn Host, message: impl Into<String>, total: usize) -> Self {
        let r = ProgressReporter {
            host,
            message: message.into(),
            total: total as u64,
        };
        r.report(0);
        r
    }

    pub fn report(&self, current: usize) {
        self.host.progress(&Progress {
            message: self.message.clone(),
            current: current as u64,
            total: Some(self.total),
            done: false,
        });
    }
}

impl Drop for ProgressReporter<'_> {
    fn drop(&mut self) {
        self.host.progress(&Progress {
            message: self.message.clone(),
            current: self.total,
            total: Some(self.total),
            done: true,
        });
    }
}

/// RFC 3339 with seconds, `Z` for UTC (what the design's JSON shows).
pub(crate) fn rfc3339(dt: chrono::DateTime<chrono::Utc>) -> String {
    dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A registry string made safe for one terminal line.
pub(crate) fn clean(s: &str) -> String {
    rex_core::format::sanitize_line(s).into_owned()
}

/// Human size, e.g. `7.3 MB`.
pub(crate) fn size(bytes: u64) -> String {
    rex_core::format::format_size(bytes, rex_core::format::Units::Binary)
}
