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
pub(crate) use rex_plugin_support::{block_on, core_err};

/// The settings the host resolved (flags > env > file > defaults).
pub(crate) fn settings(inv: &Invocation) -> Result<Settings, PluginError> {
    rex_plugin_support::settings(inv, "image")
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
