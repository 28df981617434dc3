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

fn arg(id: &str, help: &str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        id: id.into(),
        help: help.into(),
        kind,
        ..ArgSpec::default()
    }
}

fn key_arg() -> ArgSpec {
    ArgSpec {
        required: true,
        value_name: Some("KEY".into()),
        ..arg(
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
                                ..arg("value", "Value to set (type depends on KEY)", ArgKind::Value)
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
