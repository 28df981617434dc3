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
    /// Top-level command name → subcommands other plugins add to it (addendum A1: two
    /// plugins may both declare a group such as `registry`): (subcommand name, entry
    /// index, command index of that entry's top-level command).
    pub merged: BTreeMap<String, Vec<(String, usize, usize)>>,
    /// One-line warnings for stderr (refused, incompatible, shadowed).
    pub warnings: Vec<String>,
    pub external_enabled: bool,
}

/// A command that only groups subcommands (mergeable across plugins).
fn is_group(spec: &CommandSpec) -> bool {
    !spec.runnable && !spec.subcommands.is_empty()
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
            merged: BTreeMap::new(),
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
                if let Some(&(oe, oc)) = self.owners.get(&cmd.name) {
                    let base = &self.entries[oe].commands[oc];
                    if is_group(base) && is_group(cmd) {
                        // Same group from two plugins: merge the subcommands; a leaf both
                        // declare stays with the first (built-ins come first).
                        let merged = self.merged.entry(cmd.name.clone()).or_default();
                        let mut used: Vec<&str> = base
                            .subcommands
                            .iter()
                            .flat_map(|c| std::iter::once(&c.name).chain(&c.aliases))
                            .map(String::as_str)
                            .collect();
                        let extra: Vec<String> = merged.iter().map(|m| m.0.clone()).collect();
                        used.extend(extra.iter().map(String::as_str));
                        let mut added = Vec::new();
                        for sub in &cmd.subcommands {
                            if used.contains(&sub.name.as_str()) {
                                self.warnings.push(format!(
                                    "plugin '{}' command '{} {}' is already provided by '{}' and will not be available",
                                    e.name, cmd.name, sub.name, self.entries[oe].name
                                ));
                                shadowed.push(format!("{} {}", cmd.name, sub.name));
                            } else {
                                added.push((sub.name.clone(), idx, ci));
                            }
                        }
                        merged.extend(added);
                        continue;
                    }
                }
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

    /// The spec of top-level command `name` with the subcommands other plugins merged in.
    pub fn merged_spec(&self, name: &str) -> Option<CommandSpec> {
        let (e, c) = *self.owners.get(name)?;
        let mut spec = self.entries[e].commands[c].clone();
        for (sub, se, sc) in self.merged.get(name).into_iter().flatten() {
            let from = &self.entries[*se].commands[*sc];
            if spec.long_about.is_none() {
                spec.long_about.clone_from(&from.long_about);
            }
            if let Some(s) = from.subcommands.iter().find(|s| &s.name == sub) {
                spec.subcommands.push(s.clone());
            }
        }
        Some(spec)
    }

    /// Who runs `rex <top> <sub> …`: the plugin that declared subcommand `sub` (a merged
    /// group), else the owner of `top`; with the merged spec of `top`.
    pub fn owner_for(&self, top: &str, sub: Option<&str>) -> Option<(&PluginEntry, CommandSpec)> {
        let spec = self.merged_spec(top)?;
        let (owner, _) = *self.owners.get(top)?;
        let e = sub
            .and_then(|sub| {
                self.merged
                    .get(top)?
                    .iter()
                    .find(|(name, _, _)| name == sub)
                    .map(|m| m.1)
            })
            .unwrap_or(owner);
        Some((&self.entries[e], spec))
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
        for name in self.owners.keys() {
            let Some(spec) = self.merged_spec(name) else {
                continue;
            };
            let aliases = self.aliases.get(name).cloned().unwrap_or_default();
            root = root.subcommand(clap_build::build_command(&spec, &aliases));
        }
        root
    }
}

#[cfg(test)]
mod merge_tests {
    use super::*;

    fn leaf(name: &str) -> CommandSpec {
        CommandSpec {
            name: name.into(),
            runnable: true,
            ..CommandSpec::default()
        }
    }

    fn group(name: &str, subs: Vec<CommandSpec>) -> CommandSpec {
        CommandSpec {
            name: name.into(),
            subcommands: subs,
            ..CommandSpec::default()
        }
    }

    fn entry(name: &str, commands: Vec<CommandSpec>) -> PluginEntry {
        PluginEntry {
            name: name.into(),
            version: "0".into(),
            api_version: Some(API_VERSION),
            description: String::new(),
            source: Source::Builtin,
            status: Status::Ok,
            commands,
            sha256: None,
            shadowed: Vec::new(),
            instance: None,
        }
    }

    fn set(entries: Vec<PluginEntry>) -> PluginSet {
        let mut s = PluginSet {
            entries,
            owners: BTreeMap::new(),
            aliases: BTreeMap::new(),
            merged: BTreeMap::new(),
            warnings: Vec::new(),
            external_enabled: false,
        };
        s.assign_owners();
        s
    }

    #[test]
    fn same_group_from_two_plugins_is_merged_and_leaves_dispatch_to_their_plugin() {
        let s = set(vec![
            entry(
                "cache",
                vec![group("registry", vec![group("cache", vec![leaf("stats")])])],
            ),
            entry(
                "registry",
                vec![group("registry", vec![leaf("init"), leaf("logout")])],
            ),
        ]);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let spec = s.merged_spec("registry").unwrap();
        let names: Vec<_> = spec.subcommands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["cache", "init", "logout"]);
        assert_eq!(
            s.owner_for("registry", Some("cache")).unwrap().0.name,
            "cache"
        );
        assert_eq!(
            s.owner_for("registry", Some("init")).unwrap().0.name,
            "registry"
        );
        assert_eq!(s.owner_for("registry", None).unwrap().0.name, "cache");
        // The clap tree holds the merged group.
        let tree = s.command_tree();
        let reg = tree.find_subcommand("registry").unwrap();
        assert!(reg.find_subcommand("cache").is_some());
        assert!(reg.find_subcommand("logout").is_some());
        let m = tree
            .try_get_matches_from(["rex", "registry", "cache", "stats"])
            .unwrap();
        assert_eq!(m.subcommand().unwrap().1.subcommand_name(), Some("cache"));
    }

    #[test]
    fn a_leaf_declared_twice_stays_with_the_first_plugin_and_warns() {
        let s = set(vec![
            entry("a", vec![group("registry", vec![leaf("list")])]),
            entry(
                "b",
                vec![group("registry", vec![leaf("list"), leaf("extra")])],
            ),
        ]);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(s.warnings[0].contains("registry list"), "{}", s.warnings[0]);
        assert_eq!(s.owner_for("registry", Some("list")).unwrap().0.name, "a");
        assert_eq!(s.owner_for("registry", Some("extra")).unwrap().0.name, "b");
        assert_eq!(s.entries[1].shadowed, ["registry list"]);
    }

    #[test]
    fn a_runnable_command_is_not_merged_but_shadowed() {
        let s = set(vec![
            entry("a", vec![leaf("image")]),
            entry("b", vec![group("image", vec![leaf("x")])]),
        ]);
        assert!(s.merged.is_empty());
        assert_eq!(s.warnings.len(), 1);
        assert_eq!(s.entries[1].shadowed, ["image"]);
    }
}
