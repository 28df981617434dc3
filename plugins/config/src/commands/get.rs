//! `rex config get KEY`: the effective value of one setting, bare (scripts can use it).

use super::core_err;
use super::show::{display_value, Entry};
use rex_core::config::{KeySpec, Origin, Settings};
use rex_plugin_api::{Block, Invocation, Output, PluginError};
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetArgs {
    pub key: String,
}

impl GetArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        let key = inv
            .str("key")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| PluginError::usage("missing the configuration KEY"))?;
        Ok(GetArgs {
            key: key.to_owned(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GetReport {
    pub key: String,
    pub value: Value,
}

pub fn run(settings: &Settings, args: &GetArgs) -> Result<GetReport, PluginError> {
    let value = value_of(settings, &args.key)?;
    Ok(GetReport {
        key: args.key.clone(),
        value,
    })
}

impl GetReport {
    /// The bare value in every format: `pretty` prints `json`, yaml prints `json`, json
    /// prints `"json"`, so `$(rex config get output.format)` works when piped too.
    pub fn into_output(self) -> Output {
        let line = display_value(&self.value);
        Output::structured(self.value, vec![Block::Lines { lines: vec![line] }])
    }
}

/// The key's spec; an unknown key is a usage error that suggests the closest key and
/// lists the valid ones.
pub(crate) fn spec_of(key: &str) -> Result<&'static KeySpec, PluginError> {
    rex_core::config::key_spec(key).map_err(|e| {
        let keys: Vec<&str> = rex_core::config::KEYS.iter().map(|k| k.key).collect();
        let suggestion = e
            .hint()
            .filter(|h| h.starts_with("did you mean"))
            .map(|h| h.split(" (").next().unwrap_or(h).to_owned() + " ");
        let mut err = core_err(e);
        err.hint = Some(format!(
            "{}Valid keys: {}",
            suggestion.unwrap_or_default(),
            keys.join(", ")
        ));
        err
    })
}

/// The effective value of `key` (flags > env > file > default), typed; an unset value
/// is the key's `unset` text (`auto` for `output.format`) or `null`.
pub(crate) fn value_of(settings: &Settings, key: &str) -> Result<Value, PluginError> {
    let spec = spec_of(key)?;
    let value = settings.get_value(key).map_err(core_err)?;
    Ok(match value {
        Value::Null if !spec.unset.is_empty() => Value::String(spec.unset.to_owned()),
        v => v,
    })
}

/// Every key of the table with its value and the layer that set it. `path` is the config
/// file to read set keys from, or `None` when it was left out (it is broken).
pub(crate) fn all_entries(
    settings: &Settings,
    path: Option<&Path>,
) -> Result<Vec<Entry>, PluginError> {
    let explicit = match path {
        Some(p) => rex_core::config::explicit_keys(settings, p).map_err(core_err)?,
        None => Default::default(),
    };
    rex_core::config::KEYS
        .iter()
        .map(|k| {
            let origin = match settings.runtime.origins.get(k.key) {
                Some(o) => *o,
                None if explicit.contains(k.key) => Origin::File,
                None => Origin::Default,
            };
            Ok(Entry {
                key: k.key.to_owned(),
                value: value_of(settings, k.key)?,
                origin,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::invocation;
    use serde_json::json;

    #[test]
    fn parses_key() {
        let inv = invocation(&["config", "get"], &[("key", "output.format")], json!({}));
        assert_eq!(GetArgs::parse(&inv).unwrap().key, "output.format");
        let inv = invocation(&["config", "get"], &[], json!({}));
        assert_eq!(GetArgs::parse(&inv).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn value_is_bare_in_every_format() {
        let out = GetReport {
            key: "network.timeout".into(),
            value: json!(30),
        }
        .into_output();
        assert_eq!(
            out,
            Output::structured(
                json!(30),
                vec![Block::Lines {
                    lines: vec!["30".into()]
                }]
            )
        );
    }

    #[test]
    fn unknown_key_lists_valid_keys() {
        let err = value_of(&Settings::default(), "output.colour").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let hint = err.hint.unwrap();
        assert!(hint.contains("output.color"), "{hint}");
        assert!(hint.contains("cache.ttl.catalog"), "{hint}");
    }

    #[test]
    fn defaults_resolve() {
        let s = Settings::default();
        assert_eq!(value_of(&s, "network.timeout").unwrap(), json!(30));
        assert_eq!(
            value_of(&s, "cache.behavior.consistency").unwrap(),
            json!("weak")
        );
        assert_eq!(value_of(&s, "tui.vim_bindings").unwrap(), json!(true));
    }
}
