//! `rex registry logout [NAME]`: forget the stored credentials of a registry.

use super::{delete_credentials, forget_cached_registry_data, resolve_target};
use rex_core::config::Settings;
use rex_plugin_api::{Block, Invocation, Output, PluginError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutArgs {
    /// A configured name or a registry URL/host; `None` = the selected registry.
    pub name: Option<String>,
}

impl LogoutArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        Ok(LogoutArgs {
            name: inv.str("name").map(str::to_owned),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogoutReport {
    pub name: Option<String>,
    /// `host[:port]`.
    pub registry: String,
    /// Credentials were stored and are now deleted.
    pub credentials_removed: bool,
}

pub fn run(settings: &Settings, args: &LogoutArgs) -> Result<LogoutReport, PluginError> {
    let target = resolve_target(settings, args.name.as_deref())?;
    let removed = delete_credentials(settings, &target)?;
    forget_cached_registry_data(settings, &target)?;
    Ok(LogoutReport {
        name: target.name,
        registry: target.key,
        credentials_removed: removed,
    })
}

impl LogoutReport {
    pub fn blocks(&self) -> Vec<Block> {
        if self.credentials_removed {
            vec![
                Block::Success {
                    message: format!("Logged out from {}", self.registry),
                },
                Block::Success {
                    message: "Credentials removed".into(),
                },
            ]
        } else {
            vec![Block::Text {
                text: format!(
                    "Not logged in to {}: rex has no stored credentials for it",
                    self.registry
                ),
            }]
        }
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks();
        Output::from_serialize(&self, pretty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_follows_design() {
        let r = LogoutReport {
            name: None,
            registry: "localhost:5000".into(),
            credentials_removed: true,
        };
        assert_eq!(
            r.blocks(),
            vec![
                Block::Success {
                    message: "Logged out from localhost:5000".into()
                },
                Block::Success {
                    message: "Credentials removed".into()
                }
            ]
        );
        let none = LogoutReport {
            credentials_removed: false,
            ..r
        };
        assert!(
            matches!(&none.blocks()[0], Block::Text { text } if text.starts_with("Not logged in"))
        );
    }
}
