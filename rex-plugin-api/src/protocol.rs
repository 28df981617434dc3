//! Versioned payloads that describe plugins and invocations.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The plugin API version this crate implements. A plugin built against 1.x loads in
/// every 1.y host with y >= x.
pub const API_VERSION: ApiVersion = ApiVersion { major: 1, minor: 0 };

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    /// Can a host implementing `self` run a plugin built against `plugin`?
    pub fn accepts(self, plugin: ApiVersion) -> bool {
        self.major == plugin.major && self.minor >= plugin.minor
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What a plugin is and which commands it adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginManifest {
    pub name: String,
    pub version: String,
    pub api_version: ApiVersion,
    #[serde(default)]
    pub description: String,
    /// Top-level commands (e.g. `registry`, `image`); each may nest subcommands.
    pub commands: Vec<CommandSpec>,
}

/// One command, declared as data so the host can build help, parsing and completions
/// without running the plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandSpec {
    pub name: String,
    /// One line for the command list.
    #[serde(default)]
    pub about: String,
    /// Longer help for `--help`, examples included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_about: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<ArgSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subcommands: Vec<CommandSpec>,
    /// The command itself runs when no subcommand is given (e.g. `rex image` lists
    /// repositories while `rex image inspect` is a subcommand).
    #[serde(default)]
    pub runnable: bool,
    #[serde(default)]
    pub hidden: bool,
}

/// One argument or flag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArgSpec {
    /// The key under which the value arrives in [`Invocation::args`].
    pub id: String,
    #[serde(default)]
    pub help: String,
    /// `--long` name; `None` for positionals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<char>,
    pub kind: ArgKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub possible_values: Vec<String>,
    #[serde(default)]
    pub required: bool,
    /// Parse the value as this type before invoking (host-side validation).
    #[serde(default)]
    pub value_type: ValueType,
    /// Ids of arguments this one cannot be combined with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts_with: Vec<String>,
}

impl ArgSpec {
    /// An argument with its id, help and kind, every other field at its default: a
    /// positional unless `long`/`short` are set (struct update syntax:
    /// `ArgSpec { long: Some("limit".into()), ..ArgSpec::new("limit", "…", ArgKind::Value) }`).
    pub fn new(id: impl Into<String>, help: impl Into<String>, kind: ArgKind) -> ArgSpec {
        ArgSpec {
            id: id.into(),
            help: help.into(),
            kind,
            ..ArgSpec::default()
        }
    }

    /// A `--<id>` switch.
    pub fn flag(id: impl Into<String>, help: impl Into<String>) -> ArgSpec {
        let id = id.into();
        ArgSpec {
            long: Some(id.clone()),
            ..ArgSpec::new(id, help, ArgKind::Flag)
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgKind {
    /// `--flag`, arrives as `ArgValue::Bool`.
    #[default]
    Flag,
    /// `-v -v`, arrives as `ArgValue::Count`.
    Count,
    /// `--opt VALUE` or a positional (when `long` and `short` are `None`), `ArgValue::Str`.
    Value,
    /// Repeated option or trailing positionals, `ArgValue::List`.
    List,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    #[default]
    String,
    Integer,
    Path,
}

pub use ValueType as ArgValueType;

/// A parsed argument value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ArgValue {
    Bool(bool),
    Count(u8),
    Str(String),
    List(Vec<String>),
}

/// A request to run one command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// Payload version, for forward compatibility.
    #[serde(default = "one")]
    pub v: u32,
    /// Command path below `rex`, e.g. `["registry", "login"]`.
    pub command: Vec<String>,
    /// Parsed arguments by [`ArgSpec::id`]. Absent optional arguments are absent.
    #[serde(default)]
    pub args: BTreeMap<String, ArgValue>,
    /// The resolved global settings (rex-core's `Settings`, serialised). Plugins on
    /// rex-core deserialise it; unknown fields must be ignored.
    #[serde(default)]
    pub settings: serde_json::Value,
    /// Facts about the host's terminal and environment that plugins may not read themselves.
    #[serde(default)]
    pub context: InvocationContext,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvocationContext {
    /// stdout is a terminal (pretty output, progress allowed).
    #[serde(default)]
    pub stdout_is_tty: bool,
    /// stdin is a terminal (prompts allowed).
    #[serde(default)]
    pub stdin_is_tty: bool,
    /// Terminal width in columns, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_width: Option<u16>,
    /// Host version (`rex --version`).
    #[serde(default)]
    pub host_version: String,
}

impl Invocation {
    pub fn flag(&self, id: &str) -> bool {
        matches!(self.args.get(id), Some(ArgValue::Bool(true)))
    }
    pub fn count(&self, id: &str) -> u8 {
        match self.args.get(id) {
            Some(ArgValue::Count(n)) => *n,
            Some(ArgValue::Bool(true)) => 1,
            _ => 0,
        }
    }
    pub fn str(&self, id: &str) -> Option<&str> {
        match self.args.get(id) {
            Some(ArgValue::Str(s)) => Some(s),
            _ => None,
        }
    }
    pub fn list(&self, id: &str) -> Vec<String> {
        match self.args.get(id) {
            Some(ArgValue::List(v)) => v.clone(),
            Some(ArgValue::Str(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }
    /// The command path joined with spaces (`"registry login"`).
    pub fn command_line(&self) -> String {
        self.command.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_compatibility() {
        let host = ApiVersion { major: 1, minor: 2 };
        assert!(host.accepts(ApiVersion { major: 1, minor: 0 }));
        assert!(host.accepts(ApiVersion { major: 1, minor: 2 }));
        assert!(!host.accepts(ApiVersion { major: 1, minor: 3 }));
        assert!(!host.accepts(ApiVersion { major: 2, minor: 0 }));
        assert!(!host.accepts(ApiVersion { major: 0, minor: 9 }));
    }

    #[test]
    fn arg_values_round_trip() {
        let mut inv = Invocation {
            v: 1,
            command: vec!["image".into()],
            args: BTreeMap::new(),
            settings: serde_json::Value::Null,
            context: InvocationContext::default(),
        };
        inv.args.insert("quiet".into(), ArgValue::Bool(true));
        inv.args.insert("limit".into(), ArgValue::Str("5".into()));
        let back: Invocation = serde_json::from_str(&serde_json::to_string(&inv).unwrap()).unwrap();
        assert!(back.flag("quiet"));
        assert_eq!(back.str("limit"), Some("5"));
    }
}
