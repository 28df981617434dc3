//! `rex registry login [NAME]`: check credentials against the registry, then store them.

use super::{resolve_target, store_credentials, verify_credentials};
use rex_core::config::Settings;
use rex_core::secret::Secret;
use rex_plugin_api::{Block, Host, Invocation, InvocationContext, LogLevel, Output, PluginError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginArgs {
    /// A configured name or a registry URL/host; `None` = the selected registry.
    pub name: Option<String>,
    pub username: Option<String>,
    /// From `-p` (discouraged: visible in `ps` and shell history).
    pub password: Option<Secret>,
    pub password_stdin: bool,
}

impl LoginArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        let args = LoginArgs {
            name: inv.str("name").map(str::to_owned),
            username: inv.str("username").map(str::to_owned),
            password: inv.str("password").map(Secret::from),
            password_stdin: inv.flag("password-stdin"),
        };
        if args.password.is_some() && args.password_stdin {
            return Err(PluginError::usage(
                "--password and --password-stdin cannot be used together",
            ));
        }
        if args.password_stdin && args.username.is_none() {
            return Err(
                PluginError::usage("--password-stdin needs --username").with_hint(
                    "e.g. `echo \"$PASSWORD\" | rex registry login prod -u me --password-stdin`",
                ),
            );
        }
        Ok(args)
    }
}

/// Where the credentials ended up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredIn {
    /// The OS keyring: on Linux the Secret Service (keyutils in front of it as a cache).
    Keyring,
    /// rex's own file, readable by the user only (0600), when the keyring is unavailable
    /// or disabled (`REX_NO_KEYRING`).
    File,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoginReport {
    /// The configured name, when the registry is configured.
    pub name: Option<String>,
    /// `host[:port]`, the key credentials are stored under.
    pub registry: String,
    pub username: String,
    pub stored_in: StoredIn,
    /// The file, when `stored_in` is `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
    /// The registry answered without credentials: they were stored but not checked.
    pub verified: bool,
}

/// The password with one trailing newline removed (`echo "$P" | … --password-stdin`).
pub fn password_from_stdin(input: String) -> Secret {
    let trimmed = input
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&input);
    let secret = Secret::new(trimmed);
    // `input` holds the password too; Secret zeroes its copy on drop, do the same here.
    drop(Secret::new(input));
    secret
}

pub fn run(
    settings: &Settings,
    args: &LoginArgs,
    context: &InvocationContext,
    host: &dyn Host,
) -> Result<LoginReport, PluginError> {
    let target = resolve_target(settings, args.name.as_deref())?;
    let username = match &args.username {
        Some(u) => u.clone(),
        None if context.stdin_is_tty => host.prompt("Username", false)?,
        None => {
            return Err(
                PluginError::usage("no username given and no terminal to ask on")
                    .with_hint("pass --username USER and --password-stdin"),
            )
        }
    };
    if username.trim().is_empty() {
        return Err(PluginError::usage("the username is empty"));
    }
    let password = if let Some(p) = &args.password {
        host.log(
            LogLevel::Warn,
            "rex::registry::login",
            "a password given with --password is visible to other users and kept in shell history; use --password-stdin",
        );
        p.clone()
    } else if args.password_stdin {
        password_from_stdin(host.read_stdin()?)
    } else if context.stdin_is_tty {
        Secret::new(host.prompt("Password", true)?)
    } else {
        return Err(
            PluginError::usage("no password given and no terminal to ask on")
                .with_hint("pipe it in with --password-stdin"),
        );
    };
    if password.is_empty() {
        return Err(PluginError::usage("the password is empty"));
    }
    let verified = verify_credentials(settings, &target, &username, &password)?;
    let stored = store_credentials(settings, &target, &username, &password)?;
    Ok(LoginReport {
        name: target.name.clone(),
        registry: target.key.clone(),
        username,
        stored_in: stored.0,
        credentials_file: stored.1,
        verified,
    })
}

/// Say which keyring holds the secret and, for keyutils, that it does not survive a
/// reboot (the store `login` used is the default `OsKeyring`).
fn keyring_message() -> String {
    use rex_core::credentials::{KeyringBackend as _, OsKeyring};
    let ring = OsKeyring::default();
    let mut m = format!("Credentials stored in {}", ring.describe());
    if ring.until_reboot() {
        m.push_str(
            "; it keeps them in memory only, so run 'rex registry login' again after a reboot",
        );
    }
    m
}

impl LoginReport {
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = Vec::new();
        if self.verified {
            blocks.push(Block::Success {
                message: format!("Successfully authenticated with {}", self.registry),
            });
        } else {
            blocks.push(Block::Text {
                text: format!(
                    "{} does not require authentication; the credentials were not checked",
                    self.registry
                ),
            });
        }
        blocks.push(Block::Success {
            message: match (&self.stored_in, &self.credentials_file) {
                (StoredIn::Keyring, _) => keyring_message(),
                (StoredIn::File, Some(f)) => {
                    format!(
                        "Credentials stored in {f} (readable only by you; the OS keyring is unavailable or disabled)"
                    )
                }
                (StoredIn::File, None) => {
                    "Credentials stored in rex's private file (the OS keyring is unavailable or disabled)"
                        .into()
                }
            },
        });
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
    use rex_plugin_api::ArgValue;
    use serde_json::json;

    fn parse(args: &[(&str, ArgValue)]) -> Result<LoginArgs, PluginError> {
        LoginArgs::parse(&invocation(&["registry", "login"], args, json!({})))
    }

    #[test]
    fn parses_all_options() {
        let a = parse(&[
            ("name", ArgValue::Str("prod".into())),
            ("username", ArgValue::Str("me".into())),
            ("password", ArgValue::Str("hunter2".into())),
        ])
        .unwrap();
        assert_eq!(a.name.as_deref(), Some("prod"));
        assert_eq!(a.username.as_deref(), Some("me"));
        assert_eq!(a.password.as_ref().map(Secret::expose), Some("hunter2"));
        // Debug output (logs, panics) never shows the password.
        assert!(!format!("{a:?}").contains("hunter2"));
        let none = parse(&[]).unwrap();
        assert_eq!(none.name, None);
        assert!(!none.password_stdin);
    }

    #[test]
    fn password_stdin_needs_username_and_excludes_password() {
        let e = parse(&[("password-stdin", ArgValue::Bool(true))]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = parse(&[
            ("username", ArgValue::Str("me".into())),
            ("password", ArgValue::Str("x".into())),
            ("password-stdin", ArgValue::Bool(true)),
        ])
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn stdin_password_loses_one_newline_only() {
        assert_eq!(password_from_stdin("s3cret\n".into()).expose(), "s3cret");
        assert_eq!(password_from_stdin("s3cret\r\n".into()).expose(), "s3cret");
        assert_eq!(password_from_stdin(" a b \n\n".into()).expose(), " a b \n");
        assert_eq!(password_from_stdin("nonl".into()).expose(), "nonl");
    }

    fn settings_for(dir: &std::path::Path, url: &str) -> Settings {
        serde_json::from_value(json!({
            "registries": {"current": "r", "list": [{"name": "r", "url": url}]},
            "runtime": {
                "config_file": dir.join("config.toml"),
                "credentials": {"fallback_file": dir.join("credentials.json")}
            }
        }))
        .unwrap()
    }

    /// On a terminal, the missing username and password are asked for (the password
    /// hidden), checked against a real registry, and stored in the 0600 file.
    fn prompts_verifies_and_stores(mode: rex_tests::Mode) {
        let reg = rex_tests::TestRegistry::start(mode);
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_for(dir.path(), &reg.url());
        let args = LoginArgs {
            name: None,
            username: None,
            password: None,
            password_stdin: false,
        };

        let host = ScriptedHost::answering(&["alice", "not-it"]);
        let err = run(&settings, &args, &tty(), &host).unwrap_err();
        assert_eq!(err.exit_code(), 4, "{err:?}");
        assert!(!format!("{err:?}").contains("not-it"));
        assert!(!dir.path().join("credentials.json").exists());

        let host = ScriptedHost::answering(&["alice", "wonderland"]);
        let r = run(&settings, &args, &tty(), &host).unwrap();
        assert_eq!(
            *host.asked.lock().unwrap(),
            [
                ("Username".to_owned(), false),
                ("Password".to_owned(), true)
            ]
        );
        assert!(r.verified);
        assert_eq!(r.registry, reg.host_port());
        assert_eq!(r.stored_in, StoredIn::File);
        let file = dir.path().join("credentials.json");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let stored =
            rex_core::credentials::CredentialStore::new(settings.runtime.credentials.clone())
                .lookup(&reg.host_port())
                .unwrap()
                .unwrap();
        assert_eq!(stored.username, "alice");
        assert_eq!(stored.password.expose(), "wonderland");
        let Output::Structured { value, .. } = r.into_output() else {
            unreachable!()
        };
        assert!(!value.to_string().contains("wonderland"));
    }

    #[test]
    fn prompts_verifies_and_stores_basic() {
        prompts_verifies_and_stores(rex_tests::Mode::basic("alice", "wonderland"));
    }

    #[test]
    fn prompts_verifies_and_stores_token() {
        prompts_verifies_and_stores(rex_tests::Mode::token(&[("alice", "wonderland")]));
    }

    #[test]
    fn password_flag_warns_through_the_host() {
        let reg = rex_tests::TestRegistry::start(rex_tests::Mode::Anonymous);
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_for(dir.path(), &reg.url());
        let host = ScriptedHost::default();
        let args = LoginArgs {
            name: Some("r".into()),
            username: Some("bob".into()),
            password: Some(Secret::new("pw-on-cmdline")),
            password_stdin: false,
        };
        let r = run(&settings, &args, &InvocationContext::default(), &host).unwrap();
        // An anonymous registry cannot check credentials; they are stored anyway.
        assert!(!r.verified);
        let logs = host.logs.lock().unwrap();
        assert!(
            logs.iter().any(|l| l.contains("--password-stdin")),
            "{logs:?}"
        );
        assert!(logs.iter().all(|l| !l.contains("pw-on-cmdline")));
    }

    #[test]
    fn report_never_contains_password_and_names_the_store() {
        let r = LoginReport {
            name: Some("prod".into()),
            registry: "localhost:5000".into(),
            username: "me".into(),
            stored_in: StoredIn::File,
            credentials_file: Some("/home/me/.local/share/rex/credentials.json".into()),
            verified: true,
        };
        let blocks = r.blocks();
        assert_eq!(
            blocks[0],
            Block::Success {
                message: "Successfully authenticated with localhost:5000".into()
            }
        );
        assert!(
            matches!(&blocks[1], Block::Success { message } if message.contains("credentials.json"))
        );
        let Output::Structured { value, .. } = r.into_output() else {
            unreachable!()
        };
        assert_eq!(value["stored_in"], "file");
        assert_eq!(value["username"], "me");
    }

    #[test]
    fn keyring_message_names_the_real_backend() {
        let r = LoginReport {
            name: None,
            registry: "localhost:5000".into(),
            username: "me".into(),
            stored_in: StoredIn::Keyring,
            credentials_file: None,
            verified: true,
        };
        let Block::Success { message } = &r.blocks()[1] else {
            panic!("{:?}", r.blocks())
        };
        if cfg!(target_os = "linux") {
            assert!(message.contains("Secret Service keyring"), "{message}");
            assert!(!message.contains("after a reboot"), "{message}");
        }
    }
}
