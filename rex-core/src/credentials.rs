//! Credential sources (seed 1.2): docker `config.json` (inline `auths`, `credHelpers`,
//! `credsStore` through the real `docker-credential-<name>` protocol), podman
//! `auth.json` files, and rex's own store: the OS keyring, or a 0600 file in docker's
//! `auths` format when no keyring is available.
//!
//! Lookup order: docker, podman, keyring, rex file. Login/logout only ever write rex's
//! own store; docker and podman files are read-only to rex.

use crate::endpoint::{DOCKER_HUB, DOCKER_HUB_CONFIG_KEY};
use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where to look for credentials, resolved by the caller from the environment
/// (`DOCKER_CONFIG`, `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `$HOME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CredentialSources {
    /// Docker's `config.json` (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`).
    pub docker_config: Option<PathBuf>,
    /// Podman auth files in priority order.
    pub podman_auth: Vec<PathBuf>,
    /// Use the OS keyring (disabled in tests and where none exists).
    pub use_keyring: bool,
    /// rex's own fallback store (a 0600 file) used when no keyring is available.
    pub fallback_file: Option<PathBuf>,
    /// Directories searched for `docker-credential-<name>` helpers (the caller's `PATH`).
    pub helper_path: Vec<PathBuf>,
}

/// A user name and password, or an identity token (docker's `identitytoken`: an OAuth2
/// refresh token exchanged at the token realm), possibly with a password beside it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    /// Empty when only an identity token is known.
    pub password: Secret,
    pub identity_token: Option<Secret>,
}

/// The user name docker uses for identity (refresh) tokens.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
            identity_token: None,
        }
    }

    /// Credentials that are only an identity (refresh) token.
    pub fn from_identity_token(token: impl Into<Secret>) -> Self {
        Credentials {
            username: IDENTITY_TOKEN_USER.to_owned(),
            password: Secret::new(""),
            identity_token: Some(token.into()),
        }
    }

    /// Add an identity token to a user name and password.
    pub fn with_identity_token(mut self, token: impl Into<Secret>) -> Self {
        self.identity_token = Some(token.into());
        self
    }

    /// There is an identity (refresh) token to exchange at the token realm.
    pub fn is_identity_token(&self) -> bool {
        self.identity_token.is_some()
    }

    /// A real user name and password exist (usable for Basic auth).
    pub fn has_password(&self) -> bool {
        self.username != IDENTITY_TOKEN_USER && !self.password.is_empty()
    }

    /// `Basic base64(user:password)`. Only for the registry's own host and its token realm.
    pub fn basic_header_value(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password.expose());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .field("identity_token", &self.identity_token)
            .finish()
    }
}

/// Where a credential was found or stored (for `rex registry login` messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialOrigin {
    DockerConfig(PathBuf),
    /// A `docker-credential-<name>` helper.
    Helper(String),
    PodmanAuth(PathBuf),
    Keyring,
    RexFile(PathBuf),
}

impl std::fmt::Display for CredentialOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialOrigin::DockerConfig(p) => write!(f, "docker config {}", p.display()),
            CredentialOrigin::Helper(n) => write!(f, "credential helper docker-credential-{n}"),
            CredentialOrigin::PodmanAuth(p) => write!(f, "podman auth file {}", p.display()),
            CredentialOrigin::Keyring => f.write_str("the OS keyring"),
            CredentialOrigin::RexFile(p) => write!(f, "rex credentials file {}", p.display()),
        }
    }
}

/// The keyring service name.
pub const KEYRING_SERVICE: &str = "rex";

/// rex's secure store for `login`. [`OsKeyring`] in production; a seam so tests can
/// use an in-memory or failing store, or keyring's mock builder.
pub trait KeyringBackend: Send + Sync {
    /// What to tell users, e.g. "the Linux kernel keyring (keyutils)".
    fn describe(&self) -> String;
    /// The stored value for `host`, `None` when there is none.
    fn get(&self, host: &str) -> std::result::Result<Option<Secret>, keyring::Error>;
    fn set(&self, host: &str, value: &Secret) -> std::result::Result<(), keyring::Error>;
    /// Whether something was removed.
    fn delete(&self, host: &str) -> std::result::Result<bool, keyring::Error>;
}

/// The `keyring` crate's store: on Linux the Secret Service (GNOME Keyring, KWallet…)
/// with the kernel keyutils store as a cache in front of it; the macOS Keychain; the
/// Windows Credential Manager. Without a reachable Secret Service (no D-Bus session, as on
/// servers and CI) the keyring errors and `login` falls back to the 0600 file. Where the
/// crate only has its mock store (a platform without a native feature), the keyring counts
/// as unavailable too, instead of "storing" into process memory.
#[derive(Default)]
pub struct OsKeyring {
    builder: Option<Box<keyring::CredentialBuilder>>,
}

impl OsKeyring {
    /// Build entries with `builder` instead of the crate's platform default (tests).
    pub fn with_builder(builder: Box<keyring::CredentialBuilder>) -> Self {
        OsKeyring {
            builder: Some(builder),
        }
    }

    fn persistence(&self) -> keyring::credential::CredentialPersistence {
        match &self.builder {
            Some(b) => b.persistence(),
            None => keyring::default::default_credential_builder().persistence(),
        }
    }

    /// Secrets are lost when the machine reboots (a keyutils-only store).
    pub fn until_reboot(&self) -> bool {
        matches!(
            self.persistence(),
            keyring::credential::CredentialPersistence::UntilReboot
        )
    }

    fn entry(&self, host: &str) -> std::result::Result<keyring::Entry, keyring::Error> {
        use keyring::credential::CredentialPersistence as P;
        if matches!(self.persistence(), P::EntryOnly | P::ProcessOnly) {
            return Err(keyring::Error::NoStorageAccess(
                "no OS keyring in this build (only keyring's in-memory mock)".into(),
            ));
        }
        match &self.builder {
            Some(b) => Ok(keyring::Entry::new_with_credential(b.build(
                None,
                KEYRING_SERVICE,
                host,
            )?)),
            None => keyring::Entry::new(KEYRING_SERVICE, host),
        }
    }
}

impl KeyringBackend for OsKeyring {
    fn describe(&self) -> String {
        use keyring::credential::CredentialPersistence as P;
        let linux = cfg!(target_os = "linux");
        if linux && self.until_reboot() {
            "the Linux kernel keyring (keyutils)".to_owned()
        } else if linux && matches!(self.persistence(), P::UntilDelete) {
            "the Secret Service keyring".to_owned()
        } else {
            "the OS keyring".to_owned()
        }
    }
    fn get(&self, host: &str) -> std::result::Result<Option<Secret>, keyring::Error> {
        match self.entry(host)?.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn set(&self, host: &str, value: &Secret) -> std::result::Result<(), keyring::Error> {
        self.entry(host)?.set_password(value.expose())
    }
    fn delete(&self, host: &str) -> std::result::Result<bool, keyring::Error> {
        match self.entry(host)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Reads credentials from every configured source; writes only rex's own store.
#[derive(Clone)]
pub struct CredentialStore {
    sources: CredentialSources,
    keyring: Arc<dyn KeyringBackend>,
    helper_timeout: Duration,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore")
            .field("sources", &self.sources)
            .field("keyring", &self.keyring.describe())
            .field("helper_timeout", &self.helper_timeout)
            .finish()
    }
}

/// docker/podman file shape; unknown keys are kept when rex rewrites its own file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct AuthFile {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(
        default,
        rename = "credsStore",
        skip_serializing_if = "Option::is_none"
    )]
    creds_store: Option<String>,
    #[serde(
        default,
        rename = "credHelpers",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    cred_helpers: BTreeMap<String, String>,
    #[serde(flatten)]
    other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AuthEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(
        default,
        rename = "identitytoken",
        skip_serializing_if = "Option::is_none"
    )]
    identity_token: Option<String>,
}

impl CredentialStore {
    pub fn new(sources: CredentialSources) -> Self {
        CredentialStore {
            sources,
            keyring: Arc::new(OsKeyring::default()),
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// Use another keyring backend (when `use_keyring` is on).
    pub fn with_keyring(mut self, keyring: Arc<dyn KeyringBackend>) -> Self {
        self.keyring = keyring;
        self
    }

    /// Kill a credential helper that has not answered after `timeout`.
    pub fn with_helper_timeout(mut self, timeout: Duration) -> Self {
        self.helper_timeout = timeout;
        self
    }

    /// The keyring's name for messages.
    pub fn keyring_description(&self) -> String {
        self.keyring.describe()
    }

    pub fn sources(&self) -> &CredentialSources {
        &self.sources
    }

    /// Credentials for `registry_host` (`host[:port]`, `docker.io` for Docker Hub), from
    /// the first source that has them. A malformed file is an error (not silently
    /// skipped) so users learn why they are anonymous.
    pub fn lookup(&self, registry_host: &str) -> Result<Option<Credentials>> {
        Ok(self.lookup_with_origin(registry_host)?.map(|(c, _)| c))
    }

    pub fn lookup_with_origin(
        &self,
        registry_host: &str,
    ) -> Result<Option<(Credentials, CredentialOrigin)>> {
        let host = normalize_key(registry_host);
        if let Some(path) = &self.sources.docker_config {
            if let Some(found) = self.lookup_docker(path, &host)? {
                return Ok(Some(found));
            }
        }
        for path in &self.sources.podman_auth {
            if let Some(file) = read_auth_file(path)? {
                if let Some(entry) = find_entry(&file.auths, &host) {
                    if let Some(c) = decode_entry(entry, path)? {
                        return Ok(Some((c, CredentialOrigin::PodmanAuth(path.clone()))));
                    }
                }
            }
        }
        if self.sources.use_keyring {
            match self.keyring_get(&host) {
                Ok(Some(c)) => return Ok(Some((c, CredentialOrigin::Keyring))),
                Ok(None) => {}
                Err(e) => tracing::debug!(error = %e, "keyring unavailable, trying the rex file"),
            }
        }
        if let Some(path) = &self.sources.fallback_file {
            if let Some(file) = read_auth_file(path)? {
                if let Some(entry) = file.auths.get(&host) {
                    if let Some(c) = decode_entry(entry, path)? {
                        return Ok(Some((c, CredentialOrigin::RexFile(path.clone()))));
                    }
                }
            }
        }
        Ok(None)
    }

    fn lookup_docker(
        &self,
        path: &Path,
        host: &str,
    ) -> Result<Option<(Credentials, CredentialOrigin)>> {
        let Some(file) = read_auth_file(path)? else {
            return Ok(None);
        };
        // Per-registry helper first, as docker does.
        for (key, helper) in &file.cred_helpers {
            if normalize_key(key) == host {
                return self.run_helper(helper, key);
            }
        }
        if let Some(entry) = find_entry(&file.auths, host) {
            if let Some(c) = decode_entry(entry, path)? {
                return Ok(Some((c, CredentialOrigin::DockerConfig(path.to_owned()))));
            }
        }
        if let Some(store) = file.creds_store.as_deref().filter(|s| !s.is_empty()) {
            let server = if host == DOCKER_HUB {
                DOCKER_HUB_CONFIG_KEY.to_owned()
            } else {
                // Use the key the entry was saved under when docker left a placeholder.
                file.auths
                    .keys()
                    .find(|k| normalize_key(k) == host)
                    .cloned()
                    .unwrap_or_else(|| host.to_owned())
            };
            return self.run_helper(store, &server);
        }
        Ok(None)
    }

    /// `docker-credential-<name> get` with the server URL on stdin.
    fn run_helper(
        &self,
        name: &str,
        server: &str,
    ) -> Result<Option<(Credentials, CredentialOrigin)>> {
        if name.is_empty() || name.contains('/') || name.contains('\\') {
            return Err(Error::config(format!(
                "invalid credential helper name '{name}' in the docker config"
            )));
        }
        let exe = format!("docker-credential-{name}");
        let Some(program) = self
            .sources
            .helper_path
            .iter()
            .map(|d| d.join(&exe))
            .find(|p| p.is_file())
        else {
            tracing::warn!(helper = %exe, "credential helper not found on PATH; continuing without it");
            return Ok(None);
        };
        let child = Command::new(&program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::auth(format!("cannot run credential helper {exe}: {e}")).with_source(e)
            })?;
        let out = wait_with_timeout(child, server, self.helper_timeout).map_err(|e| match e {
            HelperWait::TimedOut => Error::auth(format!(
                "credential helper {exe} did not answer within {} s for {server}; it was stopped",
                self.helper_timeout.as_secs_f32()
            ))
            .with_hint(
                "the helper may be waiting for an unlock prompt; unlock it or fix the helper",
            ),
            HelperWait::Io(e) => {
                Error::auth(format!("credential helper {exe} failed: {e}")).with_source(e)
            }
        })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let msg = format!(
                "{}{}",
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            if msg.to_ascii_lowercase().contains("credentials not found") {
                return Ok(None);
            }
            return Err(Error::auth(format!(
                "credential helper {exe} failed for {server}: {}",
                first_line(&msg)
            ))
            .with_hint("run 'docker login' again or fix the helper"));
        }
        #[derive(Deserialize)]
        struct HelperReply {
            #[serde(rename = "Username", default)]
            username: String,
            #[serde(rename = "Secret", default)]
            secret: String,
        }
        let reply: HelperReply = serde_json::from_str(stdout.trim()).map_err(|e| {
            Error::auth(format!(
                "credential helper {exe} returned invalid JSON: {e}"
            ))
        })?;
        if reply.secret.is_empty() {
            return Ok(None);
        }
        // Docker's convention: user `<token>` means the secret is an identity token.
        let creds = if reply.username == IDENTITY_TOKEN_USER {
            Credentials::from_identity_token(reply.secret)
        } else {
            Credentials::new(reply.username, reply.secret)
        };
        Ok(Some((creds, CredentialOrigin::Helper(name.to_owned()))))
    }

    /// Save credentials for `registry_host` in rex's store: the keyring when enabled and
    /// working, else the fallback file. Returns where they went.
    pub fn store(&self, registry_host: &str, creds: &Credentials) -> Result<CredentialOrigin> {
        let host = normalize_key(registry_host);
        let mut keyring_error = None;
        if self.sources.use_keyring {
            match self.keyring_set(&host, creds) {
                Ok(()) => return Ok(CredentialOrigin::Keyring),
                Err(e) => keyring_error = Some(e),
            }
        }
        let Some(path) = &self.sources.fallback_file else {
            let why = keyring_error
                .map(|e| format!("the keyring is unavailable ({e}) and"))
                .unwrap_or_else(|| "the keyring is disabled and".to_owned());
            return Err(Error::config(format!(
                "cannot store credentials for {host}: {why} no credentials file is configured"
            )));
        };
        if let Some(e) = keyring_error {
            tracing::warn!(error = %e, file = %path.display(), "keyring unavailable; storing credentials in the rex file");
        }
        let mut file = read_auth_file(path)?.unwrap_or_default();
        let raw = format!("{}:{}", creds.username, creds.password.expose());
        file.auths.insert(
            host,
            AuthEntry {
                auth: Some(base64::engine::general_purpose::STANDARD.encode(raw)),
                ..AuthEntry::default()
            },
        );
        write_private_json(path, &file)?;
        Ok(CredentialOrigin::RexFile(path.clone()))
    }

    fn keyring_get(&self, host: &str) -> std::result::Result<Option<Credentials>, keyring::Error> {
        let Some(v) = self.keyring.get(host)? else {
            return Ok(None);
        };
        // Not rex's JSON (someone else's entry under the same name): ignore it.
        Ok(serde_json::from_str::<KeyringValue>(v.expose())
            .ok()
            .map(|kv| Credentials::new(kv.username, kv.secret)))
    }

    fn keyring_set(
        &self,
        host: &str,
        creds: &Credentials,
    ) -> std::result::Result<(), keyring::Error> {
        let v = serde_json::to_string(&KeyringValue {
            username: creds.username.clone(),
            secret: creds.password.expose().to_owned(),
        })
        .map_err(|e| keyring::Error::Invalid("value".into(), e.to_string()))?;
        self.keyring.set(host, &Secret::new(v))
    }

    /// Remove credentials for `registry_host` from rex's store (keyring and file).
    /// Docker and podman files are never touched. Returns whether anything was removed.
    pub fn delete(&self, registry_host: &str) -> Result<bool> {
        let host = normalize_key(registry_host);
        let mut removed = false;
        if self.sources.use_keyring {
            match self.keyring.delete(&host) {
                Ok(r) => removed |= r,
                Err(e) => tracing::debug!(error = %e, "keyring unavailable for logout"),
            }
        }
        if let Some(path) = &self.sources.fallback_file {
            if let Some(mut file) = read_auth_file(path)? {
                if file.auths.remove(&host).is_some() {
                    write_private_json(path, &file)?;
                    removed = true;
                }
            }
        }
        Ok(removed)
    }
}

/// How long a `docker-credential-<name> get` may take before it is killed: a helper
/// waiting on a locked keychain must not hang rex.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(10);

enum HelperWait {
    TimedOut,
    Io(std::io::Error),
}

/// Write `input` to the child's stdin, collect its output, and kill it if it is still
/// running after `timeout`. Pipes are read on threads so a chatty helper cannot block.
fn wait_with_timeout(
    mut child: Child,
    input: &str,
    timeout: Duration,
) -> std::result::Result<std::process::Output, HelperWait> {
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is not an error here.
        let _ = stdin.write_all(input.as_bytes());
        // Dropping stdin closes it, so `read server` sees EOF.
    }
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(mut pipe) = pipe {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = pipe.read_to_end(&mut buf);
                let _ = tx.send(buf);
            });
        }
        rx
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                // The reader threads end when the pipes close (a grandchild the helper
                // started may keep them open a while; they are not waited for).
                return Err(HelperWait::TimedOut);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                let _ = child.kill();
                return Err(HelperWait::Io(e));
            }
        }
    };
    // The helper has exited; its pipes close unless it left a child holding them.
    let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(100);
    let stdout = stdout.recv_timeout(left).unwrap_or_default();
    let stderr = stderr
        .recv_timeout(Duration::from_millis(100))
        .unwrap_or_default();
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Reduce a config key or server URL to `host[:port]` (`docker.io` for Docker Hub).
/// Podman keys may carry a repository path (`quay.io/org`); only the host part is used.
pub fn normalize_key(key: &str) -> String {
    let k = key.trim();
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(k);
    let host = k.split('/').next().unwrap_or("").to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_owned()
        }
        _ => host,
    }
}

/// Exact key match first, then a normalised one (scheme/path variants).
fn find_entry<'a>(auths: &'a BTreeMap<String, AuthEntry>, host: &str) -> Option<&'a AuthEntry> {
    if let Some(e) = auths.get(host) {
        return Some(e);
    }
    // Prefer the bare-host key over "host/path" keys that podman allows.
    let mut candidates: Vec<(&String, &AuthEntry)> = auths
        .iter()
        .filter(|(k, _)| normalize_key(k) == host)
        .collect();
    candidates.sort_by_key(|(k, _)| k.len());
    candidates.first().map(|(_, e)| *e)
}

fn decode_entry(entry: &AuthEntry, path: &Path) -> Result<Option<Credentials>> {
    let (mut user, mut pass) = (None, None);
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| {
                Error::config(format!(
                    "invalid base64 in an 'auth' entry of {}",
                    path.display()
                ))
            })?;
        let raw = String::from_utf8(raw).map_err(|_| {
            Error::config(format!(
                "an 'auth' entry of {} is not UTF-8",
                path.display()
            ))
        })?;
        let Some((u, p)) = raw.split_once(':') else {
            return Err(Error::config(format!(
                "an 'auth' entry of {} is not 'user:password'",
                path.display()
            )));
        };
        user = Some(u.to_owned());
        pass = Some(p.to_owned());
    }
    if let Some(u) = entry.username.as_deref().filter(|u| !u.is_empty()) {
        user = Some(u.to_owned());
    }
    if let Some(p) = entry.password.as_deref().filter(|p| !p.is_empty()) {
        pass = Some(p.to_owned());
    }
    if let Some(token) = entry.identity_token.as_deref().filter(|t| !t.is_empty()) {
        // Docker keeps the user name (and sometimes a password) beside the token; they
        // are the fallback for token servers without OAuth2 POST.
        let creds = match (user, pass) {
            (Some(u), Some(p)) if !p.is_empty() => Credentials::new(u, p),
            (Some(u), _) if !u.is_empty() => Credentials::new(u, ""),
            _ => Credentials::from_identity_token(""),
        };
        return Ok(Some(creds.with_identity_token(token)));
    }
    match (user, pass) {
        (Some(u), Some(p)) if !p.is_empty() => Ok(Some(Credentials::new(u, p))),
        _ => Ok(None),
    }
}

fn read_auth_file(path: &Path) -> Result<Option<AuthFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(
                Error::config(format!("cannot read {}: {e}", path.display())).with_source(e),
            )
        }
    };
    if text.trim().is_empty() {
        return Ok(Some(AuthFile::default()));
    }
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::config(format!("{} is not a valid auth file: {e}", path.display()))
            .with_hint("fix the JSON or remove the file")
    })
}

/// Write JSON atomically with mode 0600 (temp file in the same directory, then rename).
fn write_private_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::config(format!("cannot create {}: {e}", dir.display())).with_source(e)
    })?;
    let fail = |e: std::io::Error| {
        Error::config(format!("cannot write {}: {e}", path.display())).with_source(e)
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
    }
    let json = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::general(format!("cannot encode credentials: {e}")))?;
    tmp.write_all(&json).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct KeyringValue {
    username: String,
    secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn sources(dir: &Path) -> CredentialSources {
        CredentialSources {
            docker_config: Some(dir.join("docker/config.json")),
            podman_auth: vec![dir.join("podman1.json"), dir.join("podman2.json")],
            use_keyring: false,
            fallback_file: Some(dir.join("rex/credentials.json")),
            helper_path: vec![dir.join("bin")],
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn docker_auths_with_scheme_and_hub_keys() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path());
        write(
            s.docker_config.as_ref().unwrap(),
            &format!(
                r#"{{"auths":{{
                    "https://index.docker.io/v1/":{{"auth":"{}"}},
                    "https://reg.example.com:5000":{{"auth":"{}"}},
                    "tok.example.com":{{"identitytoken":"refresh-me"}},
                    "empty.example.com":{{}}
                }}}}"#,
                b64("hubuser:hubpass"),
                b64("bob:pa:ss")
            ),
        );
        let store = CredentialStore::new(s.clone());
        let c = store.lookup("docker.io").unwrap().unwrap();
        assert_eq!(c.username, "hubuser");
        assert_eq!(c.password.expose(), "hubpass");
        let (c, origin) = store
            .lookup_with_origin("reg.example.com:5000")
            .unwrap()
            .unwrap();
        assert_eq!(c.username, "bob");
        assert_eq!(c.password.expose(), "pa:ss");
        assert_eq!(
            origin,
            CredentialOrigin::DockerConfig(s.docker_config.clone().unwrap())
        );
        let c = store.lookup("tok.example.com").unwrap().unwrap();
        assert!(c.is_identity_token());
        assert_eq!(c.identity_token.as_ref().unwrap().expose(), "refresh-me");
        assert!(!c.has_password(), "no basic fallback without a password");
        assert!(store.lookup("empty.example.com").unwrap().is_none());
        assert!(store.lookup("other.example.com").unwrap().is_none());
        assert!(!format!("{c:?}").contains("refresh-me"));
    }

    #[test]
    fn podman_files_in_order_after_docker() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path());
        write(
            &s.podman_auth[0],
            &format!(
                r#"{{"auths":{{"quay.io/org":{{"auth":"{}"}}}}}}"#,
                b64("p1:one")
            ),
        );
        write(
            &s.podman_auth[1],
            &format!(
                r#"{{"auths":{{"quay.io":{{"auth":"{}"}},"ghcr.io":{{"auth":"{}"}}}}}}"#,
                b64("p2:two"),
                b64("g:h")
            ),
        );
        let store = CredentialStore::new(s.clone());
        let (c, o) = store.lookup_with_origin("quay.io").unwrap().unwrap();
        assert_eq!(c.username, "p1");
        assert_eq!(o, CredentialOrigin::PodmanAuth(s.podman_auth[0].clone()));
        assert_eq!(store.lookup("ghcr.io").unwrap().unwrap().username, "g");
        // docker wins over podman
        write(
            s.docker_config.as_ref().unwrap(),
            &format!(r#"{{"auths":{{"ghcr.io":{{"auth":"{}"}}}}}}"#, b64("d:x")),
        );
        assert_eq!(store.lookup("ghcr.io").unwrap().unwrap().username, "d");
    }

    #[test]
    fn malformed_files_are_config_errors() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path());
        write(s.docker_config.as_ref().unwrap(), "{not json");
        let e = CredentialStore::new(s.clone()).lookup("x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        write(
            s.docker_config.as_ref().unwrap(),
            r#"{"auths":{"x":{"auth":"!!!"}}}"#,
        );
        let e = CredentialStore::new(s.clone()).lookup("x").unwrap_err();
        assert!(e.message().contains("base64"));
        write(
            s.docker_config.as_ref().unwrap(),
            &format!(r#"{{"auths":{{"x":{{"auth":"{}"}}}}}}"#, b64("nocolon")),
        );
        let e = CredentialStore::new(s).lookup("x").unwrap_err();
        assert!(e.message().contains("user:password"));
    }

    #[cfg(unix)]
    fn write_helper(dir: &Path, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("bin").join(format!("docker-credential-{name}"));
        write(&p, body);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn credential_helpers_speak_the_docker_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path());
        // The helper echoes back which server it was asked about, proving stdin is used.
        write_helper(
            dir.path(),
            "test",
            r#"#!/bin/sh
[ "$1" = get ] || exit 3
read server
case "$server" in
  helped.example.com) printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$server" ;;
  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"hub","Secret":"hubsecret"}' "$server" ;;
  broken.example.com) echo "something exploded" >&2; exit 1 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"#,
        );
        write(
            s.docker_config.as_ref().unwrap(),
            r#"{"credsStore":"test","credHelpers":{"per.example.com":"missing"},
                "auths":{"helped.example.com":{}}}"#,
        );
        let store = CredentialStore::new(s);
        let (c, o) = store
            .lookup_with_origin("helped.example.com")
            .unwrap()
            .unwrap();
        assert_eq!(c.username, "helper-user");
        assert_eq!(c.password.expose(), "helper-secret");
        assert_eq!(o, CredentialOrigin::Helper("test".into()));
        assert_eq!(store.lookup("docker.io").unwrap().unwrap().username, "hub");
        assert!(store.lookup("nobody.example.com").unwrap().is_none());
        let e = store.lookup("broken.example.com").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(e.message().contains("something exploded"));
        // A helper that is not installed is skipped, not fatal.
        assert!(store.lookup("per.example.com").unwrap().is_none());
    }

    #[test]
    fn store_lookup_delete_roundtrip_in_the_rex_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path());
        let store = CredentialStore::new(s.clone());
        let path = s.fallback_file.clone().unwrap();
        let where_ = store
            .store("localhost:5000", &Credentials::new("alice", "s3cret"))
            .unwrap();
        assert_eq!(where_, CredentialOrigin::RexFile(path.clone()));
        store
            .store("other:1", &Credentials::new("bob", "x"))
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("s3cret"),
            "password must be encoded, not plain"
        );
        let (c, o) = store.lookup_with_origin("localhost:5000").unwrap().unwrap();
        assert_eq!(c.password.expose(), "s3cret");
        assert_eq!(o, CredentialOrigin::RexFile(path.clone()));
        assert!(store.delete("localhost:5000").unwrap());
        assert!(!store.delete("localhost:5000").unwrap());
        assert!(store.lookup("localhost:5000").unwrap().is_none());
        assert_eq!(store.lookup("other:1").unwrap().unwrap().username, "bob");
    }

    #[test]
    fn delete_never_touches_docker_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path());
        let text = format!(r#"{{"auths":{{"reg:1":{{"auth":"{}"}}}}}}"#, b64("a:b"));
        write(s.docker_config.as_ref().unwrap(), &text);
        let store = CredentialStore::new(s.clone());
        assert!(!store.delete("reg:1").unwrap());
        assert_eq!(
            std::fs::read_to_string(s.docker_config.unwrap()).unwrap(),
            text
        );
    }

    #[test]
    fn identity_tokens_keep_the_user_and_password_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path());
        write(
            s.docker_config.as_ref().unwrap(),
            &format!(
                r#"{{"auths":{{
                    "a.example":{{"auth":"{}","identitytoken":"rt-a"}},
                    "b.example":{{"username":"bob","password":"pw","identitytoken":"rt-b"}}
                }}}}"#,
                b64("alice:")
            ),
        );
        let store = CredentialStore::new(s);
        let a = store.lookup("a.example").unwrap().unwrap();
        assert_eq!(a.username, "alice");
        assert!(a.is_identity_token() && !a.has_password());
        let b = store.lookup("b.example").unwrap().unwrap();
        assert_eq!(b.identity_token.as_ref().unwrap().expose(), "rt-b");
        assert!(b.has_password());
        assert_eq!(b.password.expose(), "pw");
        let dbg = format!("{a:?} {b:?} {store:?}");
        assert!(!dbg.contains("rt-a") && !dbg.contains("rt-b") && !dbg.contains("pw\""));
    }

    #[cfg(unix)]
    #[test]
    fn a_hung_credential_helper_is_killed_after_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path());
        let pid_file = dir.path().join("helper.pid");
        // `exec` so the pid written is the process that must be killed.
        write_helper(
            dir.path(),
            "hang",
            &format!(
                "#!/bin/sh\necho $$ > '{}'\nexec sleep 30\n",
                pid_file.display()
            ),
        );
        write(
            s.docker_config.as_ref().unwrap(),
            r#"{"credHelpers":{"slow.example.com":"hang"}}"#,
        );
        let store = CredentialStore::new(s).with_helper_timeout(Duration::from_millis(300));
        let started = Instant::now();
        let e = store.lookup("slow.example.com").unwrap_err();
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(5), "rex waited {took:?}");
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(e.message().contains("did not answer"), "{}", e.message());
        assert!(e.hint().is_some());
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        assert!(
            !Path::new(&format!("/proc/{}", pid.trim())).exists(),
            "the helper (pid {pid}) is still running"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_helper_answering_token_user_gives_an_identity_token() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path());
        write_helper(
            dir.path(),
            "tok",
            "#!/bin/sh\nread server\nprintf '{\"Username\":\"<token>\",\"Secret\":\"rt-from-helper\"}'\n",
        );
        write(
            s.docker_config.as_ref().unwrap(),
            r#"{"credHelpers":{"t.example.com":"tok"}}"#,
        );
        let c = CredentialStore::new(s)
            .lookup("t.example.com")
            .unwrap()
            .unwrap();
        assert_eq!(c.identity_token.unwrap().expose(), "rt-from-helper");
        assert!(c.password.is_empty());
    }

    /// An in-memory keyring, shared by clones (like a real one).
    #[derive(Default)]
    struct MemoryKeyring(std::sync::Mutex<BTreeMap<String, String>>);

    impl KeyringBackend for MemoryKeyring {
        fn describe(&self) -> String {
            "the test keyring".into()
        }
        fn get(&self, host: &str) -> std::result::Result<Option<Secret>, keyring::Error> {
            Ok(self.0.lock().unwrap().get(host).map(Secret::new))
        }
        fn set(&self, host: &str, value: &Secret) -> std::result::Result<(), keyring::Error> {
            self.0
                .lock()
                .unwrap()
                .insert(host.into(), value.expose().into());
            Ok(())
        }
        fn delete(&self, host: &str) -> std::result::Result<bool, keyring::Error> {
            Ok(self.0.lock().unwrap().remove(host).is_some())
        }
    }

    /// A keyring that is locked: every call fails as a locked Secret Service would.
    struct LockedKeyring;

    impl KeyringBackend for LockedKeyring {
        fn describe(&self) -> String {
            "a locked keyring".into()
        }
        fn get(&self, _: &str) -> std::result::Result<Option<Secret>, keyring::Error> {
            Err(keyring::Error::NoStorageAccess("locked".into()))
        }
        fn set(&self, _: &str, _: &Secret) -> std::result::Result<(), keyring::Error> {
            Err(keyring::Error::NoStorageAccess("locked".into()))
        }
        fn delete(&self, _: &str) -> std::result::Result<bool, keyring::Error> {
            Err(keyring::Error::PlatformFailure("locked".into()))
        }
    }

    #[test]
    fn login_goes_to_the_keyring_when_it_works() {
        let dir = tempfile::tempdir().unwrap();
        let s = CredentialSources {
            use_keyring: true,
            ..sources(dir.path())
        };
        let ring = Arc::new(MemoryKeyring::default());
        let store = CredentialStore::new(s.clone()).with_keyring(ring.clone());
        assert_eq!(store.keyring_description(), "the test keyring");
        let origin = store
            .store(
                "https://Reg.Example:5000/",
                &Credentials::new("alice", "s3cret"),
            )
            .unwrap();
        assert_eq!(origin, CredentialOrigin::Keyring);
        assert!(
            !s.fallback_file.as_ref().unwrap().exists(),
            "nothing written to a file when the keyring took it"
        );
        // Stored under the normalised host, as rex's JSON value.
        let raw = ring.get("reg.example:5000").unwrap().unwrap();
        assert!(raw.expose().contains("alice"));
        let (c, o) = store
            .lookup_with_origin("reg.example:5000")
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.expose()),
            ("alice", "s3cret")
        );
        assert_eq!(o, CredentialOrigin::Keyring);
        // A value that is not rex's JSON is ignored, not an error.
        ring.set("odd:1", &Secret::new("plain")).unwrap();
        assert!(store.lookup("odd:1").unwrap().is_none());
        assert!(store.delete("reg.example:5000").unwrap());
        assert!(store.lookup("reg.example:5000").unwrap().is_none());
    }

    #[test]
    fn a_failing_keyring_falls_back_to_the_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = CredentialSources {
            use_keyring: true,
            ..sources(dir.path())
        };
        let path = s.fallback_file.clone().unwrap();
        let store = CredentialStore::new(s.clone()).with_keyring(Arc::new(LockedKeyring));
        let origin = store
            .store("reg:1", &Credentials::new("alice", "s3cret"))
            .unwrap();
        assert_eq!(origin, CredentialOrigin::RexFile(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!std::fs::read_to_string(&path).unwrap().contains("s3cret"));
        // Lookups and logout get past the keyring error to the file.
        let (c, o) = store.lookup_with_origin("reg:1").unwrap().unwrap();
        assert_eq!(c.password.expose(), "s3cret");
        assert_eq!(o, CredentialOrigin::RexFile(path));
        assert!(store.delete("reg:1").unwrap());
        assert!(store.lookup("reg:1").unwrap().is_none());
        // No file configured: the keyring's own error is in the message.
        let bare = CredentialStore::new(CredentialSources {
            use_keyring: true,
            ..CredentialSources::default()
        })
        .with_keyring(Arc::new(LockedKeyring));
        let e = bare
            .store("reg:1", &Credentials::new("a", "b"))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("locked"), "{}", e.message());
    }

    /// keyring's mock store keeps secrets only inside one entry object (what the crate
    /// falls back to on platforms without a native feature): rex must not claim a login
    /// was stored there, and uses the file instead.
    #[test]
    fn keyrings_mock_store_counts_as_no_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let s = CredentialSources {
            use_keyring: true,
            ..sources(dir.path())
        };
        let ring = OsKeyring::with_builder(keyring::mock::default_credential_builder());
        assert!(!ring.until_reboot());
        assert_eq!(ring.describe(), "the OS keyring");
        assert!(matches!(
            ring.set("reg:1", &Secret::new("x")),
            Err(keyring::Error::NoStorageAccess(_))
        ));
        let store = CredentialStore::new(s.clone()).with_keyring(Arc::new(ring));
        let origin = store.store("reg:1", &Credentials::new("a", "b")).unwrap();
        assert_eq!(origin, CredentialOrigin::RexFile(s.fallback_file.unwrap()));
        assert_eq!(store.lookup("reg:1").unwrap().unwrap().username, "a");
    }

    /// The real keyring of this build on a machine with no D-Bus session (servers, CI):
    /// the Secret Service is unreachable, so the login goes to the 0600 file and is found
    /// there, not half-stored in keyutils. On a desktop session it would write the user's
    /// real keyring, so it only checks that there is one.
    #[cfg(target_os = "linux")]
    #[test]
    fn without_a_session_bus_logins_fall_back_to_the_private_file() {
        let ring = OsKeyring::default();
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
            assert_eq!(ring.describe(), "the Secret Service keyring");
            return;
        }
        let host = format!("fallback-probe-{}.invalid:1", std::process::id());
        assert!(ring.set(&host, &Secret::new("x")).is_err());
        let dir = tempfile::tempdir().unwrap();
        let s = CredentialSources {
            use_keyring: true,
            ..sources(dir.path())
        };
        let store = CredentialStore::new(s.clone()).with_keyring(Arc::new(ring));
        let origin = store.store(&host, &Credentials::new("a", "b")).unwrap();
        assert_eq!(origin, CredentialOrigin::RexFile(s.fallback_file.unwrap()));
        let found = store.lookup(&host).unwrap().unwrap();
        assert_eq!(
            (found.username.as_str(), found.password.expose()),
            ("a", "b")
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_linux_build_uses_the_secret_service_and_says_so() {
        let ring = OsKeyring::default();
        assert!(
            !ring.until_reboot(),
            "linux-native-sync-persistent: Secret Service behind keyutils, kept until deleted"
        );
        assert_eq!(ring.describe(), "the Secret Service keyring");
        assert_eq!(
            CredentialStore::new(CredentialSources::default()).keyring_description(),
            ring.describe()
        );
    }

    #[test]
    fn store_without_any_backend_is_a_clear_error() {
        let store = CredentialStore::new(CredentialSources::default());
        let e = store.store("x", &Credentials::new("a", "b")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("no credentials file"));
    }

    #[test]
    fn key_normalisation() {
        assert_eq!(normalize_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize_key("registry-1.docker.io"), "docker.io");
        assert_eq!(
            normalize_key("http://Reg.Example:5000/v2/"),
            "reg.example:5000"
        );
        assert_eq!(normalize_key("quay.io/org/repo"), "quay.io");
    }

    #[test]
    fn basic_header() {
        let c = Credentials::new("bob", "pw");
        assert_eq!(c.basic_header_value(), format!("Basic {}", b64("bob:pw")));
    }
}
