//! Built-in plugin for `rex config` (design 2.3): show, get, set and edit the settings in
//! the config file.
//!
//! Thin over `rex_core::config`: the key table, type validation, atomic file edits and
//! resolution all live there. This crate parses arguments, calls the core and shapes the
//! result as [`Output`] (a JSON value for json/yaml plus pretty blocks).

mod commands;

use rex_plugin_api::{
    ArgKind, ArgSpec, CommandSpec, Host, Invocation, Output, Plugin, PluginError, PluginManifest,
    API_VERSION,
};

pub use commands::{edit, get, set, show};

/// The `config` plugin.
#[derive(Debug, Default)]
pub struct ConfigPlugin;

fn key_arg() -> ArgSpec {
    ArgSpec {
        required: true,
        value_name: Some("KEY".into()),
        ..ArgSpec::new(
            "key",
            "Configuration key in dotted notation (e.g. output.format)",
            ArgKind::Value,
        )
    }
}

impl Plugin for ConfigPlugin {
    fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: "config".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION,
            description: "Show and change rex configuration".into(),
            commands: vec![CommandSpec {
                name: "config".into(),
                about: "Show and change rex configuration".into(),
                long_about: Some(
                    "Without a subcommand, show every setting and mark the ones left at their \
                     default.\n\nExamples:\n  rex config\n  rex config --format json\n  \
                     rex config get output.format\n  rex config set network.timeout 60\n  \
                     EDITOR=nano rex config edit"
                        .into(),
                ),
                runnable: true,
                subcommands: vec![
                    CommandSpec {
                        name: "get".into(),
                        about: "Print the value of one setting".into(),
                        long_about: Some(
                            "Print the effective value of KEY (its default when not set).\n\n\
                             Examples:\n  rex config get output.format\n  \
                             rex config get cache.ttl.catalog"
                                .into(),
                        ),
                        runnable: true,
                        args: vec![key_arg()],
                        ..CommandSpec::default()
                    },
                    CommandSpec {
                        name: "set".into(),
                        about: "Set one setting in the config file".into(),
                        long_about: Some(
                            "Validate VALUE for KEY's type and write it to the config file \
                             (created if missing).\n\nExamples:\n  rex config set output.format json\n  \
                             rex config set network.timeout 60\n  rex config set tui.vim_bindings false"
                                .into(),
                        ),
                        runnable: true,
                        args: vec![
                            key_arg(),
                            ArgSpec {
                                required: true,
                                value_name: Some("VALUE".into()),
                                ..ArgSpec::new("value", "Value to set (type depends on KEY)", ArgKind::Value)
                            },
                        ],
                        ..CommandSpec::default()
                    },
                    CommandSpec {
                        name: "edit".into(),
                        about: "Open the config file in $EDITOR".into(),
                        long_about: Some(
                            "Open the config file in $EDITOR (falling back to vim, nano, vi), \
                             creating it if missing, and check it afterwards.\n\nExamples:\n  \
                             rex config edit\n  EDITOR=code rex config edit"
                                .into(),
                        ),
                        runnable: true,
                        ..CommandSpec::default()
                    },
                ],
                ..CommandSpec::default()
            }],
        }
    }

    fn invoke(&self, inv: Invocation, host: &dyn Host) -> Result<Output, PluginError> {
        let _ = host;
        let settings = commands::settings(&inv)?;
        match inv.command.get(1).map(String::as_str) {
            None => show::run(&settings).map(show::ShowReport::into_output),
            Some("get") => {
                let args = get::GetArgs::parse(&inv)?;
                get::run(&settings, &args).map(get::GetReport::into_output)
            }
            Some("set") => {
                let args = set::SetArgs::parse(&inv)?;
                set::run(&settings, &args).map(set::SetReport::into_output)
            }
            Some("edit") => edit::run(&settings).map(edit::EditReport::into_output),
            Some(_) => Err(PluginError::usage(format!(
                "unknown command 'rex {}'",
                inv.command_line()
            ))
            .with_hint("run `rex config --help`")),
        }
    }
}

rex_plugin_api::register_builtin!(|| Box::new(ConfigPlugin));

#[cfg(feature = "cdylib")]
rex_plugin_api::export_plugin!(ConfigPlugin);

#[cfg(test)]
mod tests {
    use super::*;
    use rex_plugin_api::{ArgValue, InvocationContext, NullHost};
    use serde_json::json;

    #[test]
    fn manifest_declares_config_and_its_verbs() {
        let m = ConfigPlugin.manifest();
        let config = &m.commands[0];
        assert_eq!(config.name, "config");
        assert!(config.runnable, "`rex config` alone shows everything");
        let verbs: Vec<_> = config.subcommands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(verbs, ["get", "set", "edit"]);
        let set = &config.subcommands[1];
        assert!(set.args.iter().all(|a| a.required && a.long.is_none()));
    }

    #[test]
    fn show_marks_origins_from_settings_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "[tui]\ntheme = \"light\"\n").unwrap();
        // As the host resolves it: the timeout from the environment, the theme from the
        // file (recorded in `origins` or not, the file is read too).
        let settings = json!({
            "network": {"timeout": 99},
            "tui": {"theme": "light"},
            "runtime": {"config_file": file, "origins": {"network.timeout": "env"}}
        });
        let inv = Invocation {
            v: 1,
            command: vec!["config".into()],
            args: Default::default(),
            settings,
            context: InvocationContext::default(),
        };
        let Output::Structured { value, pretty } = ConfigPlugin.invoke(inv, &NullHost).unwrap()
        else {
            panic!("structured output expected")
        };
        assert_eq!(value["values"]["network"]["timeout"], 99);
        assert_eq!(value["origins"]["network.timeout"], "env");
        assert_eq!(value["origins"]["tui.theme"], "file");
        assert_eq!(value["values"]["output"]["format"], "auto");
        let text = serde_json::to_string(&pretty).unwrap();
        assert!(text.contains("timeout = 99 (env)"), "{text}");
        assert!(text.contains("theme = light\""), "{text}");
        assert!(text.contains("retry_attempts = 3 (default)"), "{text}");
    }

    #[test]
    fn get_through_invoke_returns_the_bare_value() {
        let mut args = std::collections::BTreeMap::new();
        args.insert("key".to_owned(), ArgValue::Str("cache.ttl.manifest".into()));
        let inv = Invocation {
            v: 1,
            command: vec!["config".into(), "get".into()],
            args,
            settings: json!({}),
            context: InvocationContext::default(),
        };
        let Output::Structured { value, .. } = ConfigPlugin.invoke(inv, &NullHost).unwrap() else {
            panic!("structured output expected")
        };
        assert_eq!(value, json!(86400));
    }
}
