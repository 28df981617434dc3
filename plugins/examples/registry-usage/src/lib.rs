//! Example external plugin that adds a subcommand to a **built-in group**: `rex registry
//! usage` sits next to the registry plugin's `list`, `login`, … (docs/plugins.md,
//! "Extending a built-in group").
//!
//! It declares `registry` as a non-runnable group with one subcommand. The host merges
//! that into the built-in `registry` group: `rex registry --help` lists `usage`, and
//! `rex registry usage` runs here while every other `rex registry …` still runs in the
//! built-in plugin. A plugin may add subcommands to a group, never replace one: declaring
//! an existing one (`registry list`) is refused with a warning.

use rex_core::config::Settings;
use rex_plugin_api::{
    ArgKind, ArgSpec, Block, Cell, CommandSpec, ErrorKind, Host, Invocation, Output, Plugin,
    PluginError, PluginManifest, API_VERSION,
};
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
                    args: vec![ArgSpec {
                        id: "tags".into(),
                        long: Some("tags".into()),
                        help: "Also count the tags of every repository (one request each)".into(),
                        kind: ArgKind::Flag,
                        ..ArgSpec::default()
                    }],
                    ..CommandSpec::default()
                }],
                ..CommandSpec::default()
            }],
        }
    }

    fn invoke(&self, inv: Invocation, _host: &dyn Host) -> Result<Output, PluginError> {
        match inv.command.as_slice() {
            [group, cmd] if group == "registry" && cmd == "usage" => {
                let settings: Settings = serde_json::from_value(inv.settings.clone())
                    .map_err(|e| PluginError::new(ErrorKind::Config, e.to_string()))?;
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PluginError::general(format!("cannot start the plugin's runtime: {e}")))?;
    let (repositories, tags) = rt.block_on(async {
        let rex = rex_core::registry::Rex::new(settings).map_err(core_error)?;
        let repos = rex.list_repositories().await.map_err(core_error)?;
        let mut tags = None;
        if count_tags {
            let mut n = 0;
            for repo in &repos {
                n += rex.list_tags(repo).await.map_err(core_error)?.len();
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

/// rex-core's error kinds have the same snake_case names as the plugin API's.
fn core_error(e: rex_core::Error) -> PluginError {
    let kind = serde_json::to_value(e.kind())
        .ok()
        .and_then(|v| v.as_str().map(ErrorKind::from_name))
        .unwrap_or(ErrorKind::General);
    let mut err = PluginError::new(kind, e.to_string());
    if let Some(h) = e.hint() {
        err = err.with_hint(h);
    }
    err
}

rex_plugin_api::export_plugin!(RegistryUsage);
