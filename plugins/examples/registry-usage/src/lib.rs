//! Example external plugin that adds a subcommand to a **built-in group**: `rex registry
//! usage` sits next to the registry plugin's `list`, `login`, … (docs/plugins.md,
//! "Extending a built-in group").
//!
//! It declares `registry` as a non-runnable group with one subcommand. The host merges
//! that into the built-in `registry` group: `rex registry --help` lists `usage`, and
//! `rex registry usage` runs here while every other `rex registry …` still runs in the
//! built-in plugin. A plugin may add subcommands to a group, never replace one: declaring
//! an existing one (`registry list`) is refused with a warning.
//!
//! It uses `rex-plugin-support` for the glue every rex-core plugin needs (core errors as
//! plugin errors, the resolved settings, a runtime), as the built-in plugins do.

use rex_core::config::Settings;
use rex_plugin_api::{
    ArgSpec, Block, Cell, CommandSpec, Host, Invocation, Output, Plugin, PluginError,
    PluginManifest, API_VERSION,
};
use rex_plugin_support::core_err;
use serde_json::json;

#[derive(Default)]
pub struct RegistryUsage;

impl Plugin for RegistryUsage {
    fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: "registry-usage".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION,
            description: "Repository and tag counts of a registry (example plugin)".into(),
            commands: vec![CommandSpec {
                name: "registry".into(),
                about: "Manage registries".into(),
                runnable: false,
                subcommands: vec![CommandSpec {
                    name: "usage".into(),
                    about: "Count the repositories and tags of the selected registry".into(),
                    long_about: Some(
                        "Count the repositories and tags of the selected registry.\n\n\
                         Examples:\n  rex registry usage\n  rex -r localhost:5000 registry usage --tags"
                            .into(),
                    ),
                    runnable: true,
                    args: vec![ArgSpec::flag(
                        "tags",
                        "Also count the tags of every repository (one request each)",
                    )],
                    ..CommandSpec::default()
                }],
                ..CommandSpec::default()
            }],
        }
    }

    fn invoke(&self, inv: Invocation, _host: &dyn Host) -> Result<Output, PluginError> {
        match inv.command.as_slice() {
            [group, cmd] if group == "registry" && cmd == "usage" => {
                let settings = rex_plugin_support::settings(&inv, "registry-usage")?;
                usage(&settings, inv.flag("tags"))
            }
            _ => Err(PluginError::usage(format!(
                "unknown command 'rex {}'",
                inv.command_line()
            ))),
        }
    }
}

fn usage(settings: &Settings, count_tags: bool) -> Result<Output, PluginError> {
    let (repositories, tags) = rex_plugin_support::runtime()?.block_on(async {
        let rex = rex_core::registry::Rex::new(settings).map_err(core_err)?;
        let repos = rex.list_repositories().await.map_err(core_err)?;
        let mut tags = None;
        if count_tags {
            let mut n = 0;
            for repo in &repos {
                n += rex.list_tags(repo).await.map_err(core_err)?.len();
            }
            tags = Some(n);
        }
        Ok::<_, PluginError>((repos.len(), tags))
    })?;
    let mut fields = vec![("repositories".into(), Cell::from(repositories.to_string()))];
    if let Some(t) = tags {
        fields.push(("tags".into(), Cell::from(t.to_string())));
    }
    Ok(Output::structured(
        json!({ "repositories": repositories, "tags": tags }),
        vec![Block::Fields {
            title: Some("Registry usage".into()),
            fields,
        }],
    ))
}

rex_plugin_api::export_plugin!(RegistryUsage);
