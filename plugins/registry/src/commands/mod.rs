//! One file per verb: an args struct parsed from the [`Invocation`], a `run` function
//! over rex-core, and a typed report that becomes [`rex_plugin_api::Output`].

pub mod init;
pub mod list;
pub mod login;
pub mod logout;
pub mod remove;
pub mod r#use;

use rex_core::config::{RegistryEntry, Settings};
use rex_plugin_api::{ErrorKind, Invocation, PluginError};
pub(crate) use rex_plugin_support::{core_err, runtime};
use std::path::PathBuf;

/// The settings the host resolved (flags > env > file > defaults).
pub(crate) fn settings(inv: &Invocation) -> Result<Settings, PluginError> {
    rex_plugin_support::settings(inv, "registry")
}

/// The config file in use; the host always resolves one (it may not exist yet).
pub(crate) fn config_file(settings: &Settings) -> Result<PathBuf, PluginError> {
    settings.runtime.config_file.clone().ok_or_else(|| {
        PluginError::new(ErrorKind::Config, "no configuration file location is known")
            .with_hint("pass --config <PATH> or set REX_CONFIG")
    })
}

/// A required positional (the host enforces `required`, this keeps direct callers honest).
pub(crate) fn required(inv: &Invocation, id: &str, what: &str) -> Result<String, PluginError> {
    inv.str(id)
        .map(str::to_owned)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| PluginError::usage(format!("missing {what}")))
}

/// A configured registry by name.
pub(crate) fn find_entry<'a>(settings: &'a Settings, name: &str) -> Option<&'a RegistryEntry> {
    settings.registries.list.iter().find(|r| r.name == name)
}

/// "not configured" with the names that are, so the user can pick one.
pub(crate) fn unknown_registry(settings: &Settings, name: &str) -> PluginError {
    let names: Vec<&str> = settings
        .registries
        .list
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let hint = if names.is_empty() {
        "no registries are configured; add one with `rex registry init NAME URL`".to_owned()
    } else {
        format!(
            "configured registries: {} (see `rex registry list`)",
            names.join(", ")
        )
    };
    PluginError::new(
        ErrorKind::NotFound,
        format!("no registry named '{name}' is configured"),
    )
    .with_hint(hint)
}

#[cfg(test)]
pub(crate) mod test_support {
    use rex_plugin_api::{
        ArgValue, Host, Invocation, InvocationContext, LogLevel, PluginError, Progress,
    };
    use std::sync::Mutex;

    /// A host with a terminal whose user gives scripted answers, recording the questions.
    #[derive(Default)]
    pub struct ScriptedHost {
        pub answers: Mutex<Vec<String>>,
        pub confirm: bool,
        pub asked: Mutex<Vec<(String, bool)>>,
        pub logs: Mutex<Vec<String>>,
    }

    impl ScriptedHost {
        pub fn answering(answers: &[&str]) -> Self {
            ScriptedHost {
                answers: Mutex::new(answers.iter().rev().map(|s| s.to_string()).collect()),
                ..ScriptedHost::default()
            }
        }
    }

    impl Host for ScriptedHost {
        fn log(&self, _: LogLevel, _: &str, message: &str) {
            self.logs.lock().unwrap().push(message.to_owned());
        }
        fn max_level(&self) -> LogLevel {
            LogLevel::Trace
        }
        fn is_cancelled(&self) -> bool {
            false
        }
        fn progress(&self, _: &Progress) {}
        fn prompt(&self, message: &str, secret: bool) -> Result<String, PluginError> {
            self.asked
                .lock()
                .unwrap()
                .push((message.to_owned(), secret));
            self.answers
                .lock()
                .unwrap()
                .pop()
                .ok_or_else(|| PluginError::usage("no scripted answer left"))
        }
        fn confirm(&self, message: &str) -> Result<bool, PluginError> {
            self.asked.lock().unwrap().push((message.to_owned(), false));
            Ok(self.confirm)
        }
        fn read_stdin(&self) -> Result<String, PluginError> {
            Ok(String::new())
        }
    }

    pub fn tty() -> InvocationContext {
        InvocationContext {
            stdin_is_tty: true,
            stdout_is_tty: true,
            ..InvocationContext::default()
        }
    }

    /// An invocation of `command` with the given arguments and settings.
    pub fn invocation(
        command: &[&str],
        args: &[(&str, ArgValue)],
        settings: serde_json::Value,
    ) -> Invocation {
        Invocation {
            v: 1,
            command: command.iter().map(|s| s.to_string()).collect(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            settings,
            context: InvocationContext::default(),
        }
    }
}

// ───────────────────────── glue over rex-core (network, credentials) ─────────────────────────

use crate::commands::login::StoredIn;
use rex_core::config::{NetworkSettings, RegistryTarget};
use rex_core::credentials::{CredentialOrigin, CredentialStore, Credentials};
use rex_core::endpoint::Endpoint;
use rex_core::registry::{ConnectOptions, PingInfo, Rex};
use rex_core::secret::Secret;
use serde::Serialize;

/// Status checks (`list`, `use`) wait at most this long per registry, without retries,
/// so one dead registry does not stall the listing.
const PROBE_TIMEOUT_SECS: u64 = 5;

/// Whether a registry answers, as `registry list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// `/v2/` answered, anonymously or with the stored credentials.
    Online,
    /// `/v2/` answered 401 and rex has no (working) credentials.
    AuthRequired,
    /// No answer: connection refused, timeout, DNS, TLS, not a registry.
    Offline,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::AuthRequired => "auth-required",
            Status::Offline => "offline",
        }
    }
}

/// A registry a command acts on: configured (with a name) or given as an address.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: Option<String>,
    pub endpoint: Endpoint,
    /// `host[:port]`: the credential key and what messages show.
    pub key: String,
}

fn target_from(target: RegistryTarget) -> Result<Target, PluginError> {
    let endpoint = Endpoint::from_target(&target).map_err(core_err)?;
    Ok(Target {
        name: target.name,
        key: endpoint.registry_host(),
        endpoint,
    })
}

pub(crate) fn target_for_entry(
    _settings: &Settings,
    entry: &RegistryEntry,
) -> Result<Target, PluginError> {
    target_from(RegistryTarget {
        name: Some(entry.name.clone()),
        url: entry.url.clone(),
        insecure: entry.insecure,
        skip_verify: entry.skip_verify,
    })
}

/// `NAME` may be a configured name or an address (`localhost:5000`, a URL); without
/// one, the registry rex would use (`--registry`, else the current one).
pub(crate) fn resolve_target(
    settings: &Settings,
    name: Option<&str>,
) -> Result<Target, PluginError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return target_from(settings.resolve_registry().map_err(core_err)?);
    };
    if let Some(entry) = find_entry(settings, name) {
        return target_for_entry(settings, entry);
    }
    // Only something that looks like an address is taken as one; a plain word is a
    // mistyped name.
    let looks_like_address =
        name.contains("://") || name.contains(':') || name.contains('.') || name == "localhost";
    if !looks_like_address {
        return Err(unknown_registry(settings, name));
    }
    target_from(RegistryTarget {
        name: None,
        url: name.to_owned(),
        insecure: false,
        skip_verify: !settings.network.verify_tls,
    })
}

fn connect(
    network: &NetworkSettings,
    target: &Target,
    credentials: Option<Credentials>,
) -> Result<Rex, PluginError> {
    Rex::connect(
        target.endpoint.clone(),
        ConnectOptions {
            network: network.clone(),
            credentials,
            ..ConnectOptions::default()
        },
    )
    .map_err(core_err)
}

/// Credentials rex would use for this registry (docker, podman, keyring, rex file).
fn known_credentials(
    settings: &Settings,
    target: &Target,
) -> Result<Option<Credentials>, PluginError> {
    CredentialStore::new(settings.runtime.credentials.clone())
        .lookup(&target.key)
        .map_err(core_err)
}

fn status_of(ping: &Result<PingInfo, rex_core::Error>) -> Status {
    match ping {
        Ok(info) if info.auth_scheme == "anonymous" || info.authenticated => Status::Online,
        Ok(_) => Status::AuthRequired,
        Err(e) if e.kind() == rex_core::ErrorKind::Auth => Status::AuthRequired,
        Err(_) => Status::Offline,
    }
}

/// The network settings for quick status checks.
fn probe_network(settings: &Settings) -> NetworkSettings {
    NetworkSettings {
        timeout: settings.network.timeout.clamp(1, PROBE_TIMEOUT_SECS),
        retry_attempts: 0,
        ..settings.network.clone()
    }
}

async fn ping_entry(
    settings: &Settings,
    network: &NetworkSettings,
    entry: &RegistryEntry,
) -> Result<PingInfo, rex_core::Error> {
    let target =
        target_for_entry(settings, entry).map_err(|e| rex_core::Error::usage(e.message))?;
    let creds =
        known_credentials(settings, &target).map_err(|e| rex_core::Error::config(e.message))?;
    let rex = connect(network, &target, creds).map_err(|e| rex_core::Error::general(e.message))?;
    rex.ping().await
}

/// A new registry must answer (`init`): unreachable is an error (exit 3), 401 is fine.
pub(crate) fn probe_new(settings: &Settings, entry: &RegistryEntry) -> Result<Status, PluginError> {
    // The full timeout (a far registry may be slow) but no retries: a refused or
    // unresolvable address will not get better within a second.
    let network = NetworkSettings {
        retry_attempts: 0,
        ..settings.network.clone()
    };
    let ping = runtime()?.block_on(ping_entry(settings, &network, entry));
    match status_of(&ping) {
        Status::Offline => Err(ping.err().map(core_err).unwrap_or_else(|| {
            PluginError::new(ErrorKind::Network, format!("{} did not answer", entry.url))
        })),
        status => Ok(status),
    }
}

/// Status of one configured registry, with why it is offline.
pub(crate) fn probe_one(settings: &Settings, entry: &RegistryEntry) -> (Status, Option<String>) {
    let network = probe_network(settings);
    match runtime() {
        Ok(rt) => {
            let ping = rt.block_on(ping_entry(settings, &network, entry));
            let detail = ping.as_ref().err().map(|e| e.to_string());
            (status_of(&ping), detail)
        }
        Err(e) => (Status::Offline, Some(e.message)),
    }
}

/// Status of every configured registry, checked concurrently.
pub(crate) fn probe_all(
    settings: &Settings,
    entries: &[RegistryEntry],
) -> Result<Vec<Status>, PluginError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let network = probe_network(settings);
    let rt = runtime()?;
    let pings = rt.block_on(futures::future::join_all(
        entries.iter().map(|e| ping_entry(settings, &network, e)),
    ));
    Ok(pings.iter().map(status_of).collect())
}

/// Authenticate against `/v2/` with these credentials (a token registry hands out a
/// token). `Ok(false)`: the registry needs no authentication, nothing was checked.
pub(crate) fn verify_credentials(
    settings: &Settings,
    target: &Target,
    username: &str,
    password: &Secret,
) -> Result<bool, PluginError> {
    let rex = connect(
        &settings.network,
        target,
        Some(Credentials::new(username, password.clone())),
    )?;
    let info = runtime()?.block_on(rex.ping()).map_err(|e| {
        let auth = e.kind() == rex_core::ErrorKind::Auth;
        let err = core_err(e);
        if auth {
            PluginError::new(
                ErrorKind::Auth,
                format!("login to {} failed: {}", target.key, err.message),
            )
            .with_hint("check the username and password; nothing was stored")
        } else {
            err
        }
    })?;
    Ok(info.authenticated)
}

/// Save the credentials in rex's store; returns where they went.
pub(crate) fn store_credentials(
    settings: &Settings,
    target: &Target,
    username: &str,
    password: &Secret,
) -> Result<(StoredIn, Option<String>), PluginError> {
    let origin = CredentialStore::new(settings.runtime.credentials.clone())
        .store(&target.key, &Credentials::new(username, password.clone()))
        .map_err(core_err)?;
    Ok(match origin {
        CredentialOrigin::Keyring => (StoredIn::Keyring, None),
        CredentialOrigin::RexFile(p) => (StoredIn::File, Some(p.display().to_string())),
        other => (StoredIn::File, Some(other.to_string())),
    })
}

/// Delete rex's stored credentials for the registry; whether there were any.
pub(crate) fn delete_credentials(
    settings: &Settings,
    target: &Target,
) -> Result<bool, PluginError> {
    CredentialStore::new(settings.runtime.credentials.clone())
        .delete(&target.key)
        .map_err(core_err)
}

/// Drop what rex cached from this registry (after logout/removal: what a user saw with
/// their credentials should not outlive them). Cache trouble is not worth failing the
/// command over (design 2.8, exit 7 only for critical cache failures): it is logged.
pub(crate) fn forget_cached_registry_data(
    settings: &Settings,
    target: &Target,
) -> Result<(), PluginError> {
    // Opened for maintenance: with `cache.enabled = false` the files from earlier runs
    // are still on disk and must go too. No directory yet: nothing was ever cached.
    let builder = rex_core::cache::CacheBuilder::from_settings(settings);
    let dir = settings
        .runtime
        .cache_dir
        .as_ref()
        .or(settings.cache.location.as_ref());
    if !dir.is_some_and(|d| d.exists()) {
        return Ok(());
    }
    let cleared = builder
        .enabled(true)
        .cleanup_on_open(false)
        .open()
        .and_then(|cache| cache.clear(Some(&target.key), None));
    match cleared {
        Ok(report) => {
            tracing::debug!(registry = %target.key, entries = report.entries, "cleared cached registry data")
        }
        Err(e) => {
            tracing::warn!(registry = %target.key, error = %e, "cannot clear cached data of the registry")
        }
    }
    Ok(())
}
