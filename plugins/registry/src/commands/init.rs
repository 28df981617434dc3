//! `rex registry init NAME URL`: check that a registry answers, then add it.

use super::login::{self, LoginArgs, LoginReport};
use super::{config_file, core_err, find_entry, probe_new, required, target_for_entry, Status};
use rex_core::config::{RegistryEntry, Settings};
use rex_plugin_api::{Block, ErrorKind, Host, Invocation, InvocationContext, Output, PluginError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitArgs {
    pub name: String,
    pub url: String,
    pub set_current: bool,
    pub insecure: bool,
    pub skip_verify: bool,
}

impl InitArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        Ok(InitArgs {
            name: required(inv, "name", "the registry NAME")?,
            url: required(inv, "url", "the registry URL")?,
            set_current: inv.flag("set-current"),
            insecure: inv.flag("insecure"),
            skip_verify: inv.flag("skip-verify"),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InitReport {
    pub name: String,
    /// The normalised URL as stored.
    pub url: String,
    pub insecure: bool,
    pub skip_verify: bool,
    /// `online` or `auth-required` (an unreachable registry is an error, nothing is added).
    pub status: Status,
    /// It was made the current registry.
    pub current: bool,
    /// The registry needed authentication and the user logged in right away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<LoginReport>,
}

pub fn run(
    settings: &Settings,
    args: &InitArgs,
    context: &InvocationContext,
    host: &dyn Host,
) -> Result<InitReport, PluginError> {
    if find_entry(settings, &args.name).is_some() {
        return Err(PluginError::usage(format!(
            "a registry named '{}' is already configured",
            args.name
        ))
        .with_hint(format!(
            "pick another name, or remove it first with `rex registry remove {}`",
            args.name
        )));
    }
    let entry = RegistryEntry {
        name: args.name.clone(),
        url: args.url.clone(),
        insecure: args.insecure,
        skip_verify: args.skip_verify,
    };
    // Validates the name and the URL (scheme, host, insecure rules) before any network use.
    let mut entry = rex_core::config::validate_registry_entry(&entry).map_err(core_err)?;
    // Store the address with its scheme (`localhost:5000` → `http://localhost:5000`), so the
    // file says what rex talks to.
    entry.url = target_for_entry(settings, &entry)?.endpoint.base_url();
    let status = probe_new(settings, &entry).map_err(|e| {
        if e.kind == ErrorKind::Network {
            e.with_detail("nothing was added to the configuration")
        } else {
            e
        }
    })?;
    let path = config_file(settings)?;
    rex_core::config::add_registry(&path, &entry, args.set_current).map_err(core_err)?;
    // Design 2.4: init offers to log in when the registry wants credentials (only on a
    // terminal; scripts get the hint to run `registry login`).
    let login = if status == Status::AuthRequired
        && context.stdin_is_tty
        && host.confirm(&format!(
            "'{}' requires authentication. Log in now?",
            entry.name
        ))? {
        let mut with_entry = settings.clone();
        with_entry.registries.list.push(entry.clone());
        let args = LoginArgs {
            name: Some(entry.name.clone()),
            username: None,
            password: None,
            password_stdin: false,
        };
        let report = login::run(&with_entry, &args, context, host).map_err(|e| {
            e.with_detail(format!(
                "registry '{}' was added; log in later with `rex registry login {}`",
                entry.name, entry.name
            ))
        })?;
        Some(report)
    } else {
        None
    };
    Ok(InitReport {
        name: entry.name,
        url: entry.url,
        insecure: entry.insecure,
        skip_verify: entry.skip_verify,
        status,
        current: args.set_current,
        login,
    })
}

impl InitReport {
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = vec![Block::Success {
            message: format!("Connected to {}", self.url),
        }];
        if self.status == Status::AuthRequired && self.login.is_none() {
            blocks.push(Block::Text {
                text: format!(
                    "The registry requires authentication: run `rex registry login {}`",
                    self.name
                ),
            });
        }
        blocks.push(Block::Success {
            message: format!("Registry '{}' added successfully", self.name),
        });
        if self.current {
            blocks.push(Block::Success {
                message: format!("Set '{}' as current registry", self.name),
            });
        }
        if let Some(login) = &self.login {
            blocks.extend(login.blocks());
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
    fn parses_positionals_and_flags() {
        let inv = invocation(
            &["registry", "init"],
            &[
                ("name", ArgValue::Str("local".into())),
                ("url", ArgValue::Str("http://localhost:5000".into())),
                ("set-current", ArgValue::Bool(true)),
                ("insecure", ArgValue::Bool(true)),
            ],
            json!({}),
        );
        let a = InitArgs::parse(&inv).unwrap();
        assert_eq!(
            a,
            InitArgs {
                name: "local".into(),
                url: "http://localhost:5000".into(),
                set_current: true,
                insecure: true,
                skip_verify: false,
            }
        );
        let missing = invocation(
            &["registry", "init"],
            &[("name", ArgValue::Str("x".into()))],
            json!({}),
        );
        assert_eq!(InitArgs::parse(&missing).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn duplicate_name_is_a_usage_error() {
        let settings: Settings = serde_json::from_value(json!({
            "registries": {"list": [{"name": "local", "url": "http://localhost:5000"}]},
            "runtime": {"config_file": "/nonexistent/rex/config.toml"}
        }))
        .unwrap();
        let args = InitArgs {
            name: "local".into(),
            url: "http://localhost:5001".into(),
            set_current: false,
            insecure: false,
            skip_verify: false,
        };
        let err = run(&settings, &args, &InvocationContext::default(), &NullHost).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message.contains("already configured"));
    }

    #[test]
    fn on_a_terminal_offers_login_for_auth_registries() {
        let reg = rex_tests::TestRegistry::start(rex_tests::Mode::basic("alice", "wonderland"));
        let dir = tempfile::tempdir().unwrap();
        let settings: Settings = serde_json::from_value(json!({
            "runtime": {
                "config_file": dir.path().join("config.toml"),
                "credentials": {"fallback_file": dir.path().join("credentials.json")}
            }
        }))
        .unwrap();
        let host = ScriptedHost {
            confirm: true,
            ..ScriptedHost::answering(&["alice", "wonderland"])
        };
        let args = InitArgs {
            name: "b".into(),
            url: reg.url(),
            set_current: true,
            insecure: false,
            skip_verify: false,
        };
        let r = run(&settings, &args, &tty(), &host).unwrap();
        assert_eq!(r.status, Status::AuthRequired);
        let login = r.login.as_ref().expect("logged in");
        assert!(login.verified);
        let asked: Vec<String> = host
            .asked
            .lock()
            .unwrap()
            .iter()
            .map(|a| a.0.clone())
            .collect();
        assert_eq!(
            asked,
            [
                "'b' requires authentication. Log in now?",
                "Username",
                "Password"
            ]
        );
        let blocks = r.blocks();
        assert!(blocks.iter().any(
            |b| matches!(b, Block::Success { message } if message.starts_with("Successfully authenticated"))
        ));
        let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
        assert!(text.contains("current = \"b\""), "{text}");
    }

    #[test]
    fn pretty_follows_design_and_suggests_login() {
        let mut r = InitReport {
            name: "local".into(),
            url: "http://localhost:5000".into(),
            insecure: false,
            skip_verify: false,
            status: Status::Online,
            current: true,
            login: None,
        };
        let msgs: Vec<String> = r
            .blocks()
            .into_iter()
            .map(|b| match b {
                Block::Success { message } => message,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            msgs,
            [
                "Connected to http://localhost:5000",
                "Registry 'local' added successfully",
                "Set 'local' as current registry"
            ]
        );
        r.status = Status::AuthRequired;
        r.current = false;
        let blocks = r.blocks();
        assert_eq!(blocks.len(), 3);
        assert!(
            matches!(&blocks[1], Block::Text { text } if text.contains("rex registry login local"))
        );
    }
}
