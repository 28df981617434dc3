//! `rex plugin list|install|remove|info`.

mod info;
mod install;
mod list;
mod remove;

use super::{positional, HostContext};
use rex_plugin_api::{CommandSpec, Invocation, Output, PluginError};

pub fn spec() -> CommandSpec {
    CommandSpec {
        name: "plugin".into(),
        about: "Manage external plugins (list, install, remove, info)".into(),
        long_about: Some(
            "Manage rex plugins. External plugins are shared libraries found in $REX_PLUGIN_PATH, \
             $XDG_DATA_HOME/rex/plugins, /usr/local/lib/rex/plugins and /usr/lib/rex/plugins.\n\n\
             Examples:\n  rex plugin list\n  rex plugin install ./target/release/libacme.so\n  \
             rex plugin info acme\n  rex plugin remove acme"
                .into(),
        ),
        subcommands: vec![
            CommandSpec {
                name: "list".into(),
                about: "List built-in and external plugins with their status".into(),
                aliases: vec!["ls".into()],
                runnable: true,
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "install".into(),
                about: "Check a plugin library and copy it into the user plugin directory".into(),
                runnable: true,
                args: vec![rex_plugin_api::ArgSpec {
                    value_name: Some("PATH".into()),
                    value_type: rex_plugin_api::ValueType::Path,
                    ..positional("path", "The plugin's shared library (*.so)")
                }],
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "remove".into(),
                about: "Remove an installed external plugin".into(),
                aliases: vec!["rm".into()],
                runnable: true,
                args: vec![positional(
                    "name",
                    "The plugin's name (see `rex plugin list`)",
                )],
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "info".into(),
                about: "Show a plugin's details and the commands it provides".into(),
                runnable: true,
                args: vec![positional(
                    "name",
                    "The plugin's name (see `rex plugin list`)",
                )],
                ..CommandSpec::default()
            },
        ],
        ..CommandSpec::default()
    }
}

pub fn run(inv: &Invocation, ctx: &HostContext<'_>) -> Result<Output, PluginError> {
    match inv.command.get(1).map(String::as_str) {
        Some("list") => Ok(list::run(ctx)),
        Some("install") => install::run(inv.str("path").unwrap_or_default(), ctx),
        Some("remove") => remove::run(inv.str("name").unwrap_or_default(), ctx),
        Some("info") => info::run(inv.str("name").unwrap_or_default(), ctx),
        _ => Err(PluginError::usage("missing subcommand").with_hint("run `rex plugin --help`")),
    }
}

/// `rex plugin info`/`remove` on an unknown name.
fn not_found(name: &str) -> PluginError {
    PluginError::new(
        rex_plugin_api::ErrorKind::NotFound,
        format!("no plugin named '{name}'"),
    )
    .with_hint("see `rex plugin list` for the installed plugins")
}
