//! Built-in plugin for `rex registry` (design 2.4): add, select, list, log in to, log out
//! of and remove configured registries.
//!
//! Thin over rex-core: endpoints, the HTTP client, authentication, the credential store
//! and config file edits live there. This crate parses arguments, calls the core and
//! shapes the result as [`Output`].
//!
//! The `registry cache …` subcommands belong to the cache plugin; the host merges both
//! plugins' `registry` trees (a leaf is dispatched to the plugin that declared it).

mod commands;

use rex_plugin_api::{
    ArgKind, ArgSpec, CommandSpec, Host, Invocation, Output, Plugin, PluginError, PluginManifest,
    API_VERSION,
};

pub use commands::{init, list, login, logout, r#use, remove};

/// The `registry` plugin.
#[derive(Debug, Default)]
pub struct RegistryPlugin;

fn flag(id: &str, short: Option<char>, help: &str) -> ArgSpec {
    ArgSpec {
        short,
        ..ArgSpec::flag(id, help)
    }
}

fn positional(id: &str, value_name: &str, help: &str, required: bool) -> ArgSpec {
    ArgSpec {
        value_name: Some(value_name.into()),
        required,
        ..ArgSpec::new(id, help, ArgKind::Value)
    }
}

fn command(name: &str, about: &str, long_about: &str, args: Vec<ArgSpec>) -> CommandSpec {
    CommandSpec {
        name: name.into(),
        about: about.into(),
        long_about: Some(long_about.into()),
        args,
        runnable: true,
        ..CommandSpec::default()
    }
}

/// The command tree, as data (also used by tests).
pub fn registry_command() -> CommandSpec {
    CommandSpec {
        name: "registry".into(),
        about: "Manage configured registries and logins".into(),
        long_about: Some(
            "Add, select, list, log in to and remove registries.\n\nExamples:\n  \
             rex registry init local http://localhost:5000 --set-current\n  \
             rex registry list\n  rex registry login prod -u me --password-stdin"
                .into(),
        ),
        subcommands: vec![
            command(
                "init",
                "Add a registry to the configuration",
                "Check that URL answers on /v2/, then add it as NAME.\n\nExamples:\n  \
                 rex registry init local http://localhost:5000 --set-current\n  \
                 rex registry init prod https://registry.example.com\n  \
                 rex registry init dev http://dev.registry.local --insecure",
                vec![
                    positional(
                        "name",
                        "NAME",
                        "Unique name for this registry (e.g. local, prod)",
                        true,
                    ),
                    positional(
                        "url",
                        "URL",
                        "Registry URL: [http://|https://]host[:port]",
                        true,
                    ),
                    flag("set-current", None, "Make it the current registry"),
                    flag(
                        "insecure",
                        None,
                        "Allow plain HTTP (default: require HTTPS)",
                    ),
                    flag("skip-verify", None, "Skip TLS certificate verification"),
                ],
            ),
            command(
                "use",
                "Select the current registry",
                "Make NAME the registry used when no --registry is given.\n\nExamples:\n  \
                 rex registry use prod",
                vec![positional("name", "NAME", "A configured registry", true)],
            ),
            CommandSpec {
                aliases: vec!["ls".into()],
                ..command(
                    "list",
                    "List configured registries and whether they answer",
                    "List configured registries, the current one marked, with their status \
                     (online, offline, auth-required).\n\nExamples:\n  rex registry list\n  \
                     rex registry ls --format json",
                    vec![],
                )
            },
            command(
                "login",
                "Log in to a registry and store the credentials",
                "Check the credentials against the registry, then store them (OS keyring, or \
                 rex's private file when there is none).\n\nExamples:\n  rex registry login\n  \
                 rex registry login prod -u me\n  \
                 echo \"$PASSWORD\" | rex registry login prod -u me --password-stdin",
                vec![
                    positional(
                        "name",
                        "NAME",
                        "Registry name or URL (default: the current registry)",
                        false,
                    ),
                    ArgSpec {
                        long: Some("username".into()),
                        short: Some('u'),
                        value_name: Some("USERNAME".into()),
                        ..ArgSpec::new("username", "Username", ArgKind::Value)
                    },
                    ArgSpec {
                        long: Some("password".into()),
                        short: Some('p'),
                        value_name: Some("PASSWORD".into()),
                        conflicts_with: vec!["password-stdin".into()],
                        ..ArgSpec::new(
                            "password",
                            "Password (visible to other users; prefer --password-stdin)",
                            ArgKind::Value,
                        )
                    },
                    flag(
                        "password-stdin",
                        None,
                        "Read the password from standard input",
                    ),
                ],
            ),
            command(
                "logout",
                "Remove stored credentials for a registry",
                "Delete the credentials rex stored for the registry. The registry stays \
                 configured.\n\nExamples:\n  rex registry logout\n  rex registry logout prod",
                vec![positional(
                    "name",
                    "NAME",
                    "Registry name or URL (default: the current registry)",
                    false,
                )],
            ),
            CommandSpec {
                aliases: vec!["rm".into()],
                ..command(
                    "remove",
                    "Remove a registry from the configuration",
                    "Remove NAME and its stored credentials. Asks first unless --force.\n\n\
                     Examples:\n  rex registry remove old-registry\n  rex registry rm dev --force",
                    vec![
                        positional("name", "NAME", "A configured registry", true),
                        // No `-f`: that is the global `--format`.
                        flag("force", None, "Do not ask for confirmation"),
                    ],
                )
            },
        ],
        ..CommandSpec::default()
    }
}

impl Plugin for RegistryPlugin {
    fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: "registry".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION,
            description: "Manage configured registries and logins".into(),
            commands: vec![registry_command()],
        }
    }

    fn invoke(&self, inv: Invocation, host: &dyn Host) -> Result<Output, PluginError> {
        let settings = commands::settings(&inv)?;
        match inv.command.get(1).map(String::as_str) {
            Some("init") => {
                let args = init::InitArgs::parse(&inv)?;
                init::run(&settings, &args, &inv.context, host).map(init::InitReport::into_output)
            }
            Some("use") => {
                let args = r#use::UseArgs::parse(&inv)?;
                r#use::run(&settings, &args).map(r#use::UseReport::into_output)
            }
            Some("list" | "ls") => list::run(&settings).map(list::ListReport::into_output),
            Some("login") => {
                let args = login::LoginArgs::parse(&inv)?;
                login::run(&settings, &args, &inv.context, host)
                    .map(login::LoginReport::into_output)
            }
            Some("logout") => {
                let args = logout::LogoutArgs::parse(&inv)?;
                logout::run(&settings, &args).map(logout::LogoutReport::into_output)
            }
            Some("remove" | "rm") => {
                let args = remove::RemoveArgs::parse(&inv)?;
                remove::run(&settings, &args, &inv.context, host)
                    .map(remove::RemoveReport::into_output)
            }
            _ => Err(
                PluginError::usage(format!("unknown command 'rex {}'", inv.command_line()))
                    .with_hint("run `rex registry --help`"),
            ),
        }
    }
}

rex_plugin_api::register_builtin!(|| Box::new(RegistryPlugin));

#[cfg(feature = "cdylib")]
rex_plugin_api::export_plugin!(RegistryPlugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_declares_design_commands_and_aliases() {
        let m = RegistryPlugin.manifest();
        assert_eq!(m.commands.len(), 1);
        let reg = &m.commands[0];
        assert_eq!(reg.name, "registry");
        assert!(!reg.runnable);
        let names: Vec<_> = reg.subcommands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["init", "use", "list", "login", "logout", "remove"]);
        let find = |n: &str| reg.subcommands.iter().find(|c| c.name == n).unwrap();
        assert_eq!(find("list").aliases, ["ls"]);
        assert_eq!(find("remove").aliases, ["rm"]);
        // `cache` is the cache plugin's; declaring it here would collide in the host.
        assert!(reg.subcommands.iter().all(|c| c.name != "cache"));
        let login = find("login");
        let user = login.args.iter().find(|a| a.id == "username").unwrap();
        assert_eq!(user.short, Some('u'));
        // `-f` is the global --format; a second `-f` would break the host's parser.
        let shorts: Vec<char> = reg
            .subcommands
            .iter()
            .flat_map(|c| c.args.iter().filter_map(|a| a.short))
            .collect();
        assert!(!shorts.contains(&'f'), "{shorts:?}");
    }
}
