//! One file per verb (`show`, `get`, `set`, `edit`): an args struct parsed from the
//! [`Invocation`], a `run` function over rex-core, and a typed report that becomes
//! [`rex_plugin_api::Output`].

pub mod edit;
pub mod get;
pub mod set;
pub mod show;

use rex_core::config::Settings;
use rex_plugin_api::{ErrorKind, Invocation, PluginError};
use std::path::PathBuf;

/// The settings the host resolved (flags > env > file > defaults).
pub(crate) fn settings(inv: &Invocation) -> Result<Settings, PluginError> {
    serde_json::from_value(inv.settings.clone()).map_err(|e| {
        PluginError::new(
            ErrorKind::Config,
            format!("cannot read the settings rex passed to the config plugin: {e}"),
        )
    })
}

/// The config file in use; the host always resolves one (it may not exist yet).
pub(crate) fn config_file(settings: &Settings) -> Result<PathBuf, PluginError> {
    settings.runtime.config_file.clone().ok_or_else(|| {
        PluginError::new(ErrorKind::Config, "no configuration file location is known")
            .with_hint("pass --config <PATH> or set REX_CONFIG")
    })
}

/// A core error as a plugin error: same kind (hence same exit code), message and hint.
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
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        out = out.with_detail(s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    use rex_plugin_api::{ArgValue, Invocation, InvocationContext};

    /// An invocation of `command` with string arguments and the given settings.
    pub fn invocation(
        command: &[&str],
        args: &[(&str, &str)],
        settings: serde_json::Value,
    ) -> Invocation {
        Invocation {
            v: 1,
            command: command.iter().map(|s| s.to_string()).collect(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), ArgValue::Str(v.to_string())))
                .collect(),
            settings,
            context: InvocationContext::default(),
        }
    }
}
