//! Plugins: built-ins (linked in by cargo features, registered with `inventory`) and
//! external shared libraries (found in plugin directories, described once and cached).
//!
//! Start-up never dlopens a plugin whose description is cached: `--help`, completions
//! and every other command work from the cache; only the plugin that owns the invoked
//! command is loaded.

pub mod cache;
pub mod clap_build;
pub mod discover;
pub mod dispatch;

use crate::settings::Environment;
use rex_plugin_api::{ApiVersion, CommandSpec, Plugin, API_VERSION};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Commands implemented by the host itself (`plugin`, `version`, `completions`).
    Host,
    Builtin,
    External(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Found but cannot run in this rex (API version, corrupt file, not a plugin).
    Incompatible(String),
    /// Not loaded for safety (permissions, ownership) or because another plugin has the name.
    Refused(String),
}

pub struct PluginEntry {
    pub name: String,
    pub version: String,
    pub api_version: Option<ApiVersion>,
    pub description: String,
    pub source: Source,
    pub status: Status,
    pub commands: Vec<CommandSpec>,
    pub sha256: Option<String>,
    /// Top-level commands (or aliases) of this plugin hidden by an earlier plugin.
    pub shadowed: Vec<String>,
    /// The instance, for built-ins (externals are loaded on demand).
    pub instance: Option<Box<dyn Plugin>>,
}

impl PluginEntry {
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::External(p) => Some(p),
            _ => None,
        }
    }

    pub fn source_label(&self) -> String {
        match &self.source {
            Source::Host => "host".into(),
            Source::Builtin => "built-in".into(),
            Source::External(p) => p.display().to_string(),
        }
    }

    pub fn status_label(&self) -> String {
        match &self.status {
            Status::Ok if self.shadowed.is_empty() => "ok".into(),
            Status::Ok => format!("ok (shadowed: {})", self.shadowed.join(", ")),
            Status::Incompatible(r) => format!("incompatible: {r}"),
            Status::Refused(r) => format!("refused: {r}"),
        }
    }
}

/// Every plugin of this run, and which one owns each top-level command.
pub struct PluginSet {
    pub entries: Vec<PluginEntry>,
    /// Top-level command name → (entry index, command index in that entry).
    pub owners: BTreeMap<String, (usize, usize)>,
    /// Aliases each owner keeps (after collisions).
    pub aliases: BTreeMap<String, Vec<String>>,
    /// One-line warnings for stderr (refused, incompatible, shadowed).
    pub warnings: Vec<String>,
    pub external_enabled: bool,
}

/// Where external plugins are searched, in priority order.
pub fn plugin_dirs(env: &Environment) -> Vec<PathBuf> {
    let mut dirs = env.plugin_path();
    if let Some(d) = user_plugin_dir(env) {
        dirs.push(d);
    }
    dirs.push(PathBuf::from("/usr/local/lib/rex/plugins"));
    dirs.push(PathBuf::from("/usr/lib/rex/plugins"));
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// `$XDG_DATA_HOME/rex/plugins`: where `rex plugin install` puts plugins.
pub fn user_plugin_dir(env: &Environment) -> Option<PathBuf> {
    env.rex_data_dir().map(|d| d.join("plugins"))
}

impl PluginSet {
    /// Built-ins, then (unless disabled) external plugins; assign command ownership
    /// (host commands, then built-ins, then externals in search order: first wins).
    pub fn discover(
        env: &Environment,
        external: bool,
        host_commands: Vec<CommandSpec>,
    ) -> PluginSet {
        let mut entries = vec![PluginEntry {
            name: "rex".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: Some(API_VERSION),
            description: "commands of the rex host".into(),
            source: Source::Host,
            status: Status::Ok,
            commands: host_commands,
            sha256: None,
            shadowed: Vec::new(),
            instance: None,
        }];
        let mut builtins: Vec<Box<dyn Plugin>> = rex_plugin_api::builtin_plugins();
        builtins.sort_by_cached_key(|p| p.manifest().name);
        for p in builtins {
            let m = p.manifest();
            entries.push(PluginEntry {
                name: m.name,
                version: m.version,
                api_version: Some(m.api_version),
                description: m.description,
                source: Source::Builtin,
                status: Status::Ok,
                commands: m.commands,
                sha256: None,
                shadowed: Vec::new(),
                instance: Some(p),
            });
        }
        let mut warnings = Vec::new();
        if external {
            let found = discover::scan(&plugin_dirs(env), env, &mut warnings);
            entries.extend(found);
        }
        let mut set = PluginSet {
            entries,
            owners: BTreeMap::new(),
            aliases: BTreeMap::new(),
            warnings,
            external_enabled: external,
        };
        set.assign_owners();
        set
    }

    fn assign_owners(&mut self) {
        let mut names: BTreeMap<String, String> = BTreeMap::new(); // plugin name → label
        let mut taken: BTreeMap<String, String> = BTreeMap::new(); // command/alias → plugin name
        for idx in 0..self.entries.len() {
            let e = &self.entries[idx];
            if e.status != Status::Ok {
                continue;
            }
            if let Some(first) = names.get(&e.name) {
                let msg = format!(
                    "another plugin named '{}' is already loaded ({first})",
                    e.name
                );
                self.warnings.push(format!(
                    "ignoring plugin '{}' at {}: {msg}",
                    e.name,
                    e.source_label()
                ));
                self.entries[idx].status = Status::Refused(msg);
                continue;
            }
            names.insert(e.name.clone(), e.source_label());
            let mut shadowed = Vec::new();
            for (ci, cmd) in e.commands.iter().enumerate() {
                if let Some(owner) = taken.get(&cmd.name) {
                    let what = if e.source == Source::Builtin {
                        "built-in"
                    } else {
                        "plugin"
                    };
                    self.warnings.push(format!(
                        "{what} '{}' command '{}' is shadowed by '{owner}' and will not be available",
                        e.name, cmd.name
                    ));
                    shadowed.push(cmd.name.clone());
                    continue;
                }
                taken.insert(cmd.name.clone(), e.name.clone());
                self.owners.insert(cmd.name.clone(), (idx, ci));
                let mut kept = Vec::new();
                for a in &cmd.aliases {
                    if taken.contains_key(a) {
                        shadowed.push(a.clone());
                    } else {
                        taken.insert(a.clone(), e.name.clone());
                        kept.push(a.clone());
                    }
                }
                self.aliases.insert(cmd.name.clone(), kept);
            }
            self.entries[idx].shadowed = shadowed;
        }
    }

    /// The plugin owning top-level command `name`, with that command's spec.
    pub fn owner(&self, name: &str) -> Option<(&PluginEntry, &CommandSpec)> {
        let (e, c) = *self.owners.get(name)?;
        let entry = &self.entries[e];
        Some((entry, &entry.commands[c]))
    }

    /// A plugin by name (or, for externals, by file name `libx.so`/`x`).
    pub fn find(&self, name: &str) -> Option<&PluginEntry> {
        self.entries
            .iter()
            .filter(|e| e.source != Source::Host)
            .find(|e| e.name == name)
            .or_else(|| {
                self.entries.iter().find(|e| {
                    e.path().is_some_and(|p| {
                        rex_plugin_api::abi::file_plugin_name(p) == name
                            || p.file_name().is_some_and(|f| f.to_string_lossy() == name)
                    })
                })
            })
    }

    /// The full command tree: global options plus every owned command, sorted by name.
    pub fn command_tree(&self) -> clap::Command {
        let mut root = crate::cli::root_command();
        for (name, &(e, c)) in &self.owners {
            let entry = &self.entries[e];
            let spec = &entry.commands[c];
            let aliases = self.aliases.get(name).cloned().unwrap_or_default();
            root = root.subcommand(clap_build::build_command(spec, &aliases));
        }
        root
    }
}
