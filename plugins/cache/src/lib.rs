//! Built-in plugin for `rex registry cache stats|clear|prune` (design 1.9 and 2.4).
//!
//! The plugin declares a top-level `registry` command holding only the `cache` group; the
//! host merges it with the registry plugin's `registry` tree and dispatches `registry
//! cache …` here. The work is rex-core's (`rex_core::cache`); this crate parses
//! arguments, picks the registry and shapes the reports as [`Output`].

mod commands;

use rex_plugin_api::{
    ArgKind, ArgSpec, CommandSpec, Host, Invocation, Output, Plugin, PluginError, PluginManifest,
    API_VERSION,
};

pub use commands::{clear, prune, stats};

/// The `cache` plugin.
#[derive(Debug, Default)]
pub struct CachePlugin;

fn name_arg() -> ArgSpec {
    ArgSpec {
        value_name: Some("NAME".into()),
        ..ArgSpec::new(
            "name",
            "Registry name or address (default: the current registry)",
            ArgKind::Value,
        )
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

/// The command tree, as data: `registry` → `cache` → `stats|clear|prune`.
pub fn registry_cache_command() -> CommandSpec {
    let cache = CommandSpec {
        name: "cache".into(),
        about: "Inspect and manage the registry response cache".into(),
        long_about: Some(
            "Show statistics of, clear, or prune the cache of registry responses.\n\n\
             Examples:\n  rex registry cache stats\n  rex registry cache clear --force\n  \
             rex registry cache prune --dry-run"
                .into(),
        ),
        subcommands: vec![
            command(
                "stats",
                "Show cache size, hit rate and entry counts",
                "Show the cache statistics of a registry: entries and size by type, memory \
                 vs disk, hit rate, last cleanup and the cache location.\n\nExamples:\n  \
                 rex registry cache stats\n  rex registry cache stats prod\n  \
                 rex registry cache stats --format json",
                vec![name_arg()],
            ),
            command(
                "clear",
                "Clear the cache of a registry",
                "Remove the cached responses of a registry (or all registries). Asks first \
                 unless --force.\n\nExamples:\n  rex registry cache clear\n  \
                 rex registry cache clear prod\n  rex registry cache clear --all\n  \
                 rex registry cache clear --type manifest --force",
                vec![
                    name_arg(),
                    ArgSpec {
                        conflicts_with: vec!["name".into()],
                        ..ArgSpec::flag("all", "Clear the cache of every registry")
                    },
                    ArgSpec {
                        long: Some("type".into()),
                        value_name: Some("TYPE".into()),
                        possible_values: ["catalog", "tags", "manifest", "config"]
                            .map(String::from)
                            .to_vec(),
                        ..ArgSpec::new("type", "Clear only this kind of entry", ArgKind::Value)
                    },
                    // No `-f`: that is the global `--format`.
                    ArgSpec::flag("force", "Do not ask for confirmation"),
                ],
            ),
            command(
                "prune",
                "Remove expired and unused cache entries",
                "Remove expired entries, entries unused for cache.limits.max_age_days, and \
                 entries over the cache limits (mutable ones first).\n\nExamples:\n  \
                 rex registry cache prune\n  rex registry cache prune --all\n  \
                 rex registry cache prune --dry-run",
                vec![
                    name_arg(),
                    ArgSpec {
                        conflicts_with: vec!["name".into()],
                        ..ArgSpec::flag("all", "Prune the cache of every registry")
                    },
                    ArgSpec::flag("dry-run", "Show what would be removed, remove nothing"),
                ],
            ),
        ],
        ..CommandSpec::default()
    };
    CommandSpec {
        name: "registry".into(),
        about: "Manage configured registries and logins".into(),
        subcommands: vec![cache],
        ..CommandSpec::default()
    }
}

impl Plugin for CachePlugin {
    fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: "cache".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION,
            description: "Inspect and manage the registry response cache".into(),
            commands: vec![registry_cache_command()],
        }
    }

    fn invoke(&self, inv: Invocation, host: &dyn Host) -> Result<Output, PluginError> {
        let path: Vec<&str> = inv.command.iter().map(String::as_str).collect();
        let settings = commands::settings(&inv)?;
        match path.as_slice() {
            ["registry", "cache", "stats"] => {
                let args = stats::StatsArgs::parse(&inv);
                stats::run(&settings, &args).map(stats::StatsReport::into_output)
            }
            ["registry", "cache", "clear"] => {
                let args = clear::ClearArgs::parse(&inv)?;
                clear::run(&settings, &args, &inv.context, host)
                    .map(clear::ClearOutcome::into_output)
            }
            ["registry", "cache", "prune"] => {
                let args = prune::PruneArgs::parse(&inv);
                prune::run(&settings, &args).map(prune::PruneOutcome::into_output)
            }
            _ => Err(
                PluginError::usage(format!("unknown command 'rex {}'", inv.command_line()))
                    .with_hint("run `rex registry cache --help`"),
            ),
        }
    }
}

rex_plugin_api::register_builtin!(|| Box::new(CachePlugin));

#[cfg(feature = "cdylib")]
rex_plugin_api::export_plugin!(CachePlugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_declares_only_the_cache_group_under_registry() {
        let m = CachePlugin.manifest();
        assert_eq!(m.commands.len(), 1);
        let reg = &m.commands[0];
        assert_eq!(reg.name, "registry");
        assert!(!reg.runnable);
        let names: Vec<_> = reg.subcommands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["cache"]);
        let cache = &reg.subcommands[0];
        let verbs: Vec<_> = cache.subcommands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(verbs, ["stats", "clear", "prune"]);
        // `-f` is the global --format.
        assert!(cache
            .subcommands
            .iter()
            .flat_map(|c| &c.args)
            .all(|a| a.short != Some('f')));
    }
}
