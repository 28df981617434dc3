//! Typed errors returned by plugins, and the one mapping to exit codes.

use serde::{Deserialize, Serialize};

/// The class of an error. [`ErrorKind::exit_code`] is the single place where rex maps
/// errors to the exit codes of the design (seed 2.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    General,
    Usage,
    Network,
    Auth,
    NotFound,
    Config,
    Cache,
    Interrupted,
    /// The plugin panicked; the host caught it.
    Panicked,
    /// The plugin cannot be loaded by this host (API version, corrupt file).
    Incompatible,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::General | ErrorKind::Panicked | ErrorKind::Incompatible => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Network => 3,
            ErrorKind::Auth => 4,
            ErrorKind::NotFound => 5,
            ErrorKind::Config => 6,
            ErrorKind::Cache => 7,
            ErrorKind::Interrupted => 130,
        }
    }

    /// Parse the snake_case name used on the wire; unknown names are `General`.
    pub fn from_name(name: &str) -> ErrorKind {
        serde_json::from_value(serde_json::Value::String(name.to_owned()))
            .unwrap_or(ErrorKind::General)
    }
}

/// An error a plugin returns. Rendered by the host (miette), never printed by the plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginError {
    pub kind: ErrorKind,
    pub message: String,
    /// What the user should try next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Further lines of detail (causes, registry error codes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl PluginError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: message.into(),
            hint: None,
            details: Vec::new(),
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    pub fn general(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::General, message)
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.details.push(detail.into());
        self
    }
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PluginError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_design() {
        let table = [
            (ErrorKind::General, 1),
            (ErrorKind::Usage, 2),
            (ErrorKind::Network, 3),
            (ErrorKind::Auth, 4),
            (ErrorKind::NotFound, 5),
            (ErrorKind::Config, 6),
            (ErrorKind::Cache, 7),
            (ErrorKind::Interrupted, 130),
            (ErrorKind::Panicked, 1),
        ];
        for (kind, code) in table {
            assert_eq!(kind.exit_code(), code, "{kind:?}");
        }
    }

    #[test]
    fn kind_names_round_trip() {
        assert_eq!(ErrorKind::from_name("not_found"), ErrorKind::NotFound);
        assert_eq!(ErrorKind::from_name("something-new"), ErrorKind::General);
    }
}
