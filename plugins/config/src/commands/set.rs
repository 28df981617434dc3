//! `rex config set KEY VALUE`: validate VALUE for KEY's type and write it to the config
//! file (atomically, keeping the rest of the file as it was).

use super::get::spec_of;
use super::show::display_value;
use super::{config_file, core_err};
use rex_core::config::Settings;
use rex_plugin_api::{Block, Invocation, Output, PluginError};
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetArgs {
    pub key: String,
    pub value: String,
}

impl SetArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        let key = inv
            .str("key")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| PluginError::usage("missing the configuration KEY"))?;
        let value = inv
            .str("value")
            .ok_or_else(|| PluginError::usage(format!("missing the VALUE for {key}")))?;
        Ok(SetArgs {
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetReport {
    pub key: String,
    /// The value as stored, typed.
    pub value: Value,
    pub config_file: PathBuf,
}

pub fn run(settings: &Settings, args: &SetArgs) -> Result<SetReport, PluginError> {
    spec_of(&args.key)?;
    let path = config_file(settings)?;
    let value = rex_core::config::set_in_file(&path, &args.key, &args.value).map_err(core_err)?;
    Ok(SetReport {
        key: args.key.clone(),
        value,
        config_file: path,
    })
}

impl SetReport {
    pub fn into_output(self) -> Output {
        let message = format!("Set {} = {}", self.key, display_value(&self.value));
        Output::structured(
            json!({
                "key": self.key,
                "value": self.value,
                "config_file": self.config_file.display().to_string(),
            }),
            vec![Block::Success { message }],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::invocation;

    #[test]
    fn parses_key_and_value() {
        let inv = invocation(
            &["config", "set"],
            &[("key", "output.format"), ("value", "json")],
            json!({}),
        );
        assert_eq!(
            SetArgs::parse(&inv).unwrap(),
            SetArgs {
                key: "output.format".into(),
                value: "json".into()
            }
        );
        let inv = invocation(&["config", "set"], &[("key", "output.format")], json!({}));
        let err = SetArgs::parse(&inv).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message.contains("output.format"));
    }

    #[test]
    fn pretty_matches_design() {
        let out = SetReport {
            key: "output.format".into(),
            value: json!("json"),
            config_file: PathBuf::from("/x/config.toml"),
        }
        .into_output();
        let Output::Structured { value, pretty } = out else {
            unreachable!()
        };
        assert_eq!(
            pretty,
            vec![Block::Success {
                message: "Set output.format = json".into()
            }]
        );
        assert_eq!(value["value"], "json");
    }

    fn settings_for(path: &std::path::Path) -> Settings {
        serde_json::from_value(json!({"runtime": {"config_file": path}})).unwrap()
    }

    #[test]
    fn writes_typed_value_and_keeps_other_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "# mine\n[network]\ntimeout = 10\n").unwrap();
        let s = settings_for(&path);
        let r = run(
            &s,
            &SetArgs {
                key: "cache.ttl.catalog".into(),
                value: "600".into(),
            },
        )
        .unwrap();
        assert_eq!(r.value, json!(600));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# mine"), "{text}");
        assert!(text.contains("timeout = 10"), "{text}");
        assert!(text.contains("catalog = 600"), "{text}");
    }

    #[test]
    fn bad_value_names_the_key_and_leaves_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[network]\ntimeout = 10\n").unwrap();
        let s = settings_for(&path);
        for (key, value) in [
            ("network.timeout", "soon"),
            ("output.format", "xml"),
            ("tui.vim_bindings", "maybe"),
        ] {
            let err = run(
                &s,
                &SetArgs {
                    key: key.into(),
                    value: value.into(),
                },
            )
            .unwrap_err();
            assert_eq!(err.exit_code(), 2, "{key}: {err:?}");
            assert!(err.message.contains(key), "{err:?}");
        }
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[network]\ntimeout = 10\n"
        );
        let err = run(
            &s,
            &SetArgs {
                key: "network.timeot".into(),
                value: "5".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn broken_file_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[network\ntimeout = ").unwrap();
        let err = run(
            &settings_for(&path),
            &SetArgs {
                key: "network.timeout".into(),
                value: "5".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 6, "{err:?}");
    }
}
