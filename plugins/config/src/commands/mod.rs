//! One file per verb (`show`, `get`, `set`, `edit`): an args struct parsed from the
//! [`Invocation`], a `run` function over rex-core, and a typed report that becomes
//! [`rex_plugin_api::Output`].

pub mod edit;
pub mod get;
pub mod set;
pub mod show;

use rex_core::config::Settings;
use rex_plugin_api::{ErrorKind, Invocation, PluginError};
pub(crate) use rex_plugin_support::core_err;
use std::path::PathBuf;

/// The settings the host resolved (flags > env > file > defaults).
pub(crate) fn settings(inv: &Invocation) -> Result<Settings, PluginError> {
    rex_plugin_support::settings(inv, "config")
}

/// The config file in use; the host always resolves one (it may not exist yet).
pub(crate) fn config_file(settings: &Settings) -> Result<PathBuf, PluginError> {
    settings.runtime.config_file.clone().ok_or_else(|| {
        PluginError::new(ErrorKind::Config, "no configuration file location is known")
            .with_hint("pass --config <PATH> or set REX_CONFIG")
    })
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
