//! One file per verb: an args struct parsed from the [`Invocation`], a `run` function
//! over `rex_core::cache`, and a typed report that becomes [`rex_plugin_api::Output`].

pub mod clear;
pub mod prune;
pub mod stats;

use rex_core::cache::{ByType, Cache, CacheBuilder};
use rex_core::config::{RegistryTarget, Settings};
use rex_core::endpoint::Endpoint;
use rex_core::format::{format_size, Units};
use rex_plugin_api::{Cell, ErrorKind, Invocation, PluginError};
pub(crate) use rex_plugin_support::core_err;
use serde::Serialize;

/// The settings the host resolved (flags > env > file > defaults).
pub(crate) fn settings(inv: &Invocation) -> Result<Settings, PluginError> {
    rex_plugin_support::settings(inv, "cache")
}

/// The cache directory the settings name, opened for maintenance: also when
/// `cache.enabled = false` (its files are still there), without the start-up cleanup
/// (`prune` is explicit). An unusable directory the user named is an error (exit 7).
pub(crate) fn open(settings: &Settings) -> Result<Cache, PluginError> {
    CacheBuilder::from_settings(settings)
        .enabled(true)
        .cleanup_on_open(false)
        .required(settings.runtime.cache_required)
        .open()
        .map_err(core_err)
}

/// Which registry a command is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// The configured name, else the address as given.
    pub name: String,
    pub url: String,
    /// The registry string of cache keys (`host[:port]`).
    pub key: String,
}

/// `NAME` may be a configured name or an address; without one, the registry rex would
/// use (`--registry`, else the current one).
pub(crate) fn scope(settings: &Settings, name: Option<&str>) -> Result<Scope, PluginError> {
    let target = match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => settings.resolve_registry().map_err(core_err)?,
        Some(n) => {
            if let Some(e) = settings.registries.list.iter().find(|e| e.name == n) {
                RegistryTarget {
                    name: Some(e.name.clone()),
                    url: e.url.clone(),
                    insecure: e.insecure,
                    skip_verify: e.skip_verify,
                }
            } else if n.contains("://") || n.contains(':') || n.contains('.') || n == "localhost" {
                RegistryTarget {
                    name: None,
                    url: n.to_owned(),
                    insecure: false,
                    skip_verify: false,
                }
            } else {
                return Err(PluginError::new(
                    ErrorKind::NotFound,
                    format!("no registry named '{n}' is configured"),
                )
                .with_hint("see `rex registry list`, or pass an address such as localhost:5000"));
            }
        }
    };
    let endpoint = Endpoint::from_target(&target).map_err(core_err)?;
    Ok(Scope {
        name: target.name.clone().unwrap_or_else(|| target.url.clone()),
        url: endpoint.base_url().trim_end_matches('/').to_owned(),
        key: endpoint.registry_host(),
    })
}

pub(crate) fn size(bytes: u64) -> String {
    format_size(bytes, Units::Binary)
}

/// `Catalogs:   5 entries, 45 KB` lines.
pub(crate) fn by_type_fields(by: &ByType) -> Vec<(String, Cell)> {
    [
        ("Catalogs", by.catalogs),
        ("Tags", by.tags),
        ("Manifests", by.manifests),
        ("Configs", by.configs),
    ]
    .into_iter()
    .map(|(label, u)| {
        (
            label.to_owned(),
            Cell::Plain(format!(
                "{} {}, {}",
                u.entries,
                entries(u.entries),
                size(u.size)
            )),
        )
    })
    .collect()
}

pub(crate) fn entries(n: u64) -> &'static str {
    if n == 1 {
        "entry"
    } else {
        "entries"
    }
}
