//! `rex registry remove|rm NAME`: drop a registry from the configuration, with its
//! stored credentials.

use super::{
    config_file, core_err, delete_credentials, find_entry, forget_cached_registry_data, required,
    target_for_entry, unknown_registry,
};
use rex_core::config::Settings;
use rex_plugin_api::{Block, Host, Invocation, InvocationContext, Output, PluginError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveArgs {
    pub name: String,
    pub force: bool,
}

impl RemoveArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        Ok(RemoveArgs {
            name: required(inv, "name", "the registry NAME")?,
            force: inv.flag("force"),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoveReport {
    pub name: String,
    pub url: String,
    /// `false` when the user answered no.
    pub removed: bool,
    pub credentials_removed: bool,
    /// It was the current registry; the default applies again.
    pub was_current: bool,
}

pub fn run(
    settings: &Settings,
    args: &RemoveArgs,
    context: &InvocationContext,
    host: &dyn Host,
) -> Result<RemoveReport, PluginError> {
    let entry = find_entry(settings, &args.name)
        .ok_or_else(|| unknown_registry(settings, &args.name))?
        .clone();
    let was_current = settings.registries.current.as_deref() == Some(entry.name.as_str());
    if !args.force && !context.stdin_is_tty {
        return Err(PluginError::usage(format!(
            "not removing registry '{}' without confirmation: there is no terminal to ask on",
            entry.name
        ))
        .with_hint(format!(
            "pass --force: `rex registry remove {} --force`",
            entry.name
        )));
    }
    if !args.force
        && !host.confirm(&format!(
            "Remove registry '{}' ({})?",
            entry.name, entry.url
        ))?
    {
        return Ok(RemoveReport {
            name: entry.name,
            url: entry.url,
            removed: false,
            credentials_removed: false,
            was_current,
        });
    }
    let target = target_for_entry(settings, &entry)?;
    let path = config_file(settings)?;
    rex_core::config::remove_registry(&path, &entry.name).map_err(core_err)?;
    // Credentials are per host: keep them while another configured name uses the same one.
    let shared = settings.registries.list.iter().any(|r| {
        r.name != entry.name && target_for_entry(settings, r).is_ok_and(|t| t.key == target.key)
    });
    let credentials_removed = if shared {
        false
    } else {
        let removed = delete_credentials(settings, &target)?;
        forget_cached_registry_data(settings, &target)?;
        removed
    };
    Ok(RemoveReport {
        name: entry.name,
        url: entry.url,
        removed: true,
        credentials_removed,
        was_current,
    })
}

impl RemoveReport {
    pub fn blocks(&self) -> Vec<Block> {
        if !self.removed {
            return vec![Block::Text {
                text: format!("Kept registry '{}'", self.name),
            }];
        }
        let mut blocks = vec![Block::Success {
            message: format!("Registry '{}' removed", self.name),
        }];
        if self.credentials_removed {
            blocks.push(Block::Success {
                message: "Credentials removed".into(),
            });
        }
        if self.was_current {
            blocks.push(Block::Text {
                text: "It was the current registry; pick another with `rex registry use NAME` \
                       (until then rex uses localhost:5000)"
                    .into(),
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
    use crate::commands::test_support::{invocation, tty, ScriptedHost};
    use rex_plugin_api::{ArgValue, NullHost};
    use serde_json::json;

    #[test]
    fn parses_name_and_force() {
        let inv = invocation(
            &["registry", "rm"],
            &[
                ("name", ArgValue::Str("dev".into())),
                ("force", ArgValue::Bool(true)),
            ],
            json!({}),
        );
        assert_eq!(
            RemoveArgs::parse(&inv).unwrap(),
            RemoveArgs {
                name: "dev".into(),
                force: true
            }
        );
    }

    #[test]
    fn without_terminal_and_force_is_a_usage_error_and_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        let original = "[registries]\ncurrent = \"dev\"\n\n[[registries.list]]\nname = \"dev\"\nurl = \"http://localhost:5000\"\n";
        std::fs::write(&file, original).unwrap();
        let settings: Settings = serde_json::from_value(json!({
            "registries": {"current": "dev", "list": [{"name": "dev", "url": "http://localhost:5000"}]},
            "runtime": {"config_file": file}
        }))
        .unwrap();
        let args = RemoveArgs {
            name: "dev".into(),
            force: false,
        };
        let err = run(&settings, &args, &InvocationContext::default(), &NullHost).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.hint.unwrap().contains("--force"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    }

    fn two_registries(dir: &std::path::Path) -> Settings {
        let file = dir.join("config.toml");
        std::fs::write(
            &file,
            "[registries]\ncurrent = \"dev\"\n\n[[registries.list]]\nname = \"dev\"\nurl = \"http://127.0.0.1:5000\"\n\n[[registries.list]]\nname = \"prod\"\nurl = \"https://registry.example.com\"\n",
        )
        .unwrap();
        serde_json::from_value(json!({
            "registries": {"current": "dev", "list": [
                {"name": "dev", "url": "http://127.0.0.1:5000"},
                {"name": "prod", "url": "https://registry.example.com"}
            ]},
            "runtime": {
                "config_file": file,
                "cache_dir": dir.join("cache"),
                "credentials": {"fallback_file": dir.join("credentials.json")}
            }
        }))
        .unwrap()
    }

    #[test]
    fn asks_first_and_no_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let settings = two_registries(dir.path());
        let before =
            std::fs::read_to_string(settings.runtime.config_file.as_ref().unwrap()).unwrap();
        let host = ScriptedHost::default();
        let args = RemoveArgs {
            name: "dev".into(),
            force: false,
        };
        let r = run(&settings, &args, &tty(), &host).unwrap();
        assert!(!r.removed);
        assert_eq!(
            host.asked.lock().unwrap()[0].0,
            "Remove registry 'dev' (http://127.0.0.1:5000)?"
        );
        let after =
            std::fs::read_to_string(settings.runtime.config_file.as_ref().unwrap()).unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn yes_removes_current_registry_and_its_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let settings = two_registries(dir.path());
        let store =
            rex_core::credentials::CredentialStore::new(settings.runtime.credentials.clone());
        store
            .store(
                "127.0.0.1:5000",
                &rex_core::credentials::Credentials::new("me", "pw"),
            )
            .unwrap();
        let host = ScriptedHost {
            confirm: true,
            ..ScriptedHost::default()
        };
        let args = RemoveArgs {
            name: "dev".into(),
            force: false,
        };
        let r = run(&settings, &args, &tty(), &host).unwrap();
        assert!(r.removed && r.was_current && r.credentials_removed, "{r:?}");
        let text = std::fs::read_to_string(settings.runtime.config_file.as_ref().unwrap()).unwrap();
        assert!(!text.contains("dev"), "{text}");
        assert!(!text.contains("current"), "{text}");
        assert!(text.contains("prod"), "{text}");
        assert!(store.lookup("127.0.0.1:5000").unwrap().is_none());
    }

    #[test]
    fn pretty_follows_design() {
        let r = RemoveReport {
            name: "old-registry".into(),
            url: "https://old.example.com".into(),
            removed: true,
            credentials_removed: true,
            was_current: false,
        };
        assert_eq!(
            r.blocks(),
            vec![
                Block::Success {
                    message: "Registry 'old-registry' removed".into()
                },
                Block::Success {
                    message: "Credentials removed".into()
                }
            ]
        );
    }
}
