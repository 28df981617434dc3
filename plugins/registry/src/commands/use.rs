//! `rex registry use NAME`: make a configured registry the current one.

use super::{config_file, core_err, find_entry, probe_one, required, unknown_registry, Status};
use rex_core::config::Settings;
use rex_plugin_api::{Block, Invocation, Output, PluginError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseArgs {
    pub name: String,
}

impl UseArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        Ok(UseArgs {
            name: required(inv, "name", "the registry NAME")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UseReport {
    pub current: String,
    pub url: String,
    /// Checked after switching; an unreachable registry is only a warning.
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

pub fn run(settings: &Settings, args: &UseArgs) -> Result<UseReport, PluginError> {
    let entry = find_entry(settings, &args.name)
        .ok_or_else(|| unknown_registry(settings, &args.name))?
        .clone();
    let path = config_file(settings)?;
    rex_core::config::set_current_registry(&path, Some(&entry.name)).map_err(core_err)?;
    let (status, detail) = probe_one(settings, &entry);
    let warning = match status {
        Status::Online => None,
        Status::AuthRequired => Some(format!(
            "'{}' requires authentication; run `rex registry login {}`",
            entry.name, entry.name
        )),
        Status::Offline => Some(format!(
            "'{}' is not reachable right now{}",
            entry.name,
            detail.map(|d| format!(": {d}")).unwrap_or_default()
        )),
    };
    Ok(UseReport {
        current: entry.name,
        url: entry.url,
        status,
        warning,
    })
}

impl UseReport {
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = vec![Block::Success {
            message: format!("Current registry set to '{}' ({})", self.current, self.url),
        }];
        if let Some(w) = &self.warning {
            blocks.push(Block::Text {
                text: format!("warning: {w}"),
            });
        }
        blocks
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks();
        Output::from_serialize(&self, pretty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::invocation;
    use rex_plugin_api::ArgValue;
    use serde_json::json;

    #[test]
    fn parses_name() {
        let inv = invocation(
            &["registry", "use"],
            &[("name", ArgValue::Str("prod".into()))],
            json!({}),
        );
        assert_eq!(UseArgs::parse(&inv).unwrap().name, "prod");
        let inv = invocation(&["registry", "use"], &[], json!({}));
        assert_eq!(UseArgs::parse(&inv).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn unknown_name_is_not_found_and_lists_names() {
        let settings: Settings = serde_json::from_value(json!({
            "registries": {"list": [{"name": "local", "url": "http://localhost:5000"}]},
            "runtime": {"config_file": "/nonexistent/rex/config.toml"}
        }))
        .unwrap();
        let err = run(
            &settings,
            &UseArgs {
                name: "prod".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 5);
        assert!(err.hint.unwrap().contains("local"));
    }

    #[test]
    fn offline_is_a_warning_not_an_error() {
        let r = UseReport {
            current: "prod".into(),
            url: "https://registry.example.com".into(),
            status: Status::Offline,
            warning: Some("'prod' is not reachable right now".into()),
        };
        let blocks = r.blocks();
        assert_eq!(
            blocks[0],
            Block::Success {
                message: "Current registry set to 'prod' (https://registry.example.com)".into()
            }
        );
        assert!(matches!(&blocks[1], Block::Text { text } if text.starts_with("warning:")));
    }
}
