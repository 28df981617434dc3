//! Glue every built-in plugin needs between rex-core and the plugin API, in one place so
//! the plugins agree: the same error kinds, hints and details for the same core error,
//! the same settings handling, the same cancellable runtime.
//!
//! It sits between the two (core ← support ← plugins): `rex-plugin-api` must not know
//! rex-core (the ABI would change with it), and rex-core must not know plugins. External
//! plugins may use it too; the examples in `plugins/examples` do without, to show the bare
//! API.

use rex_core::config::Settings;
use rex_core::registry::Rex;
use rex_plugin_api::{ErrorKind, Host, Invocation, PluginError};
use std::future::Future;
use std::time::Duration;

/// A core error as a plugin error: the same kind (hence the same exit code), message and
/// hint. Core messages already describe the failure, so of the error's sources only the
/// root cause is added as a detail, and only when the message does not already say it
/// (the layers in between are transport noise).
pub fn core_err(e: rex_core::Error) -> PluginError {
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
    let mut root = std::error::Error::source(&e);
    while let Some(next) = root.and_then(|s| s.source()) {
        root = Some(next);
    }
    if let Some(root) = root.map(|r| r.to_string()) {
        let message = out.message.to_ascii_lowercase();
        let cause = root.to_ascii_lowercase();
        let known = cause
            .split(" (os error")
            .next()
            .is_some_and(|c| message.contains(c.trim()));
        if !known {
            out = out.with_detail(root);
        }
    }
    out
}

/// The settings the host resolved (flags > env > file > defaults) for `plugin`.
pub fn settings(inv: &Invocation, plugin: &str) -> Result<Settings, PluginError> {
    serde_json::from_value(inv.settings.clone()).map_err(|e| {
        PluginError::new(
            ErrorKind::Config,
            format!("cannot read the settings rex passed to the {plugin} plugin: {e}"),
        )
    })
}

/// A plugin owns its async runtime (the host's never crosses the plugin boundary); a
/// current-thread one is cheap to build per command.
pub fn runtime() -> Result<tokio::runtime::Runtime, PluginError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PluginError::general(format!("cannot start an async runtime: {e}")))
}

/// Run `fut` for `rex`, giving up with `Interrupted` as soon as the user presses Ctrl+C.
/// Before the runtime ends, the refreshes that eventual consistency started in the
/// background (they ran alongside the rest of `fut`) are waited for, so the next run
/// reads the refreshed value ([`Rex::settle_background`]).
pub fn block_on<T>(
    host: &dyn Host,
    rex: &Rex,
    fut: impl Future<Output = Result<T, PluginError>>,
) -> Result<T, PluginError> {
    runtime()?.block_on(async {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_kind_hint_and_a_new_root_cause() {
        let e = rex_core::Error::not_found("manifest unknown").with_hint("check the tag");
        let p = core_err(e);
        assert_eq!(p.kind, ErrorKind::NotFound);
        assert_eq!(p.message, "manifest unknown");
        assert_eq!(p.hint.as_deref(), Some("check the tag"));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused by peer");
        let p = core_err(rex_core::Error::network("cannot reach the registry").with_source(io));
        assert_eq!(p.kind, ErrorKind::Network);
        assert!(p.details.iter().any(|d| d == "refused by peer"), "{p:?}");
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let p =
            core_err(rex_core::Error::network("connection refused by 127.0.0.1:1").with_source(io));
        assert!(p.details.is_empty(), "already in the message: {p:?}");
    }
}
