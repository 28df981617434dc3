//! Real `docker-registry` (CNCF distribution 2.8) processes for tests.
//!
//! ```no_run
//! use rex_tests::{Mode, TestRegistry};
//!
//! let reg = TestRegistry::start(Mode::basic("alice", "secret"));
//! let fixtures = reg.push_standard().expect("push fixtures");
//! assert!(reg.request_count("PUT", "/manifests/") > 0);
//! # let _ = fixtures;
//! ```

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::fixtures::Fixtures;
use crate::push::{PushAuth, Pusher};
use crate::token::TokenServer;

/// Where Debian installs the registry.
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A user name and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl Credentials {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    // Never print passwords, even test ones: logs of failing tests get pasted around.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Settings of the in-process token server.
#[derive(Clone, Debug)]
pub struct TokenOptions {
    /// Users that may log in; each gets `pull` everywhere and the catalog.
    pub users: Vec<Credentials>,
    /// Whether anonymous token requests get `pull` (otherwise they get `401`).
    pub allow_anonymous: bool,
    /// Advertised `expires_in` and JWT lifetime in seconds (changeable later through
    /// [`TokenServer::set_expires_in`]).
    pub expires_in: u64,
}

impl Default for TokenOptions {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            allow_anonymous: false,
            expires_in: 300,
        }
    }
}

/// How a test registry authenticates and serves.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Plain HTTP, no auth.
    Anonymous,
    /// Plain HTTP, `auth: htpasswd` with one bcrypt (cost 4) user.
    Basic { user: String, password: String },
    /// Plain HTTP, `auth: token` against the harness token server.
    Token(TokenOptions),
    /// HTTPS with a harness CA; optionally with htpasswd basic auth.
    Tls { basic: Option<Credentials> },
}

impl Mode {
    pub fn basic(user: &str, password: &str) -> Self {
        Mode::Basic {
            user: user.into(),
            password: password.into(),
        }
    }

    /// Token auth with these users; anonymous pulls refused.
    pub fn token(users: &[(&str, &str)]) -> Self {
        Mode::Token(TokenOptions {
            users: users
                .iter()
                .map(|(u, p)| Credentials::new(*u, *p))
                .collect(),
            ..TokenOptions::default()
        })
    }

    pub fn tls() -> Self {
        Mode::Tls { basic: None }
    }

    pub fn tls_basic(user: &str, password: &str) -> Self {
        Mode::Tls {
            basic: Some(Credentials::new(user, password)),
        }
    }

    fn basic_credentials(&self) -> Option<Credentials> {
        match self {
            Mode::Basic { user, password } => Some(Credentials::new(user, password)),
            Mode::Tls { basic } => basic.clone(),
            _ => None,
        }
    }
}

/// One access-log line of the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessLogEntry {
    pub method: String,
    /// Request target (path and query) as logged.
    pub target: String,
    pub status: u16,
}

/// A running `docker-registry`. Killed and reaped on drop; its temp dir is removed.
pub struct TestRegistry {
    child: Mutex<Option<Child>>,
    port: u16,
    mode: Mode,
    token: Option<TokenServer>,
    admin: Option<Credentials>,
    ca_pem: Option<String>,
    ca_path: Option<PathBuf>,
    log_path: PathBuf,
    access_log_path: PathBuf,
    config_path: PathBuf,
    storage: PathBuf,
    // Last so files stay until the process is gone.
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for TestRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestRegistry")
            .field("url", &self.url())
            .field("mode", &self.mode)
            .field("log", &self.log_path)
            .finish()
    }
}

fn ensure_binary() -> anyhow::Result<()> {
    if !Path::new(REGISTRY_BIN).exists() {
        anyhow::bail!(
            "{REGISTRY_BIN} is missing: the rex tests need a real registry.\n\
             Install it with: sudo apt-get update && sudo apt-get install -y docker-registry\n\
             (or run scripts/test, which installs it)"
        );
    }
    Ok(())
}

/// Poll `url` until the registry answers (200 or 401) or the process exits.
fn wait_ready(
    child: &mut Child,
    url: &str,
    ca_pem: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let client = client_with_ca(ca_pem);
    loop {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("docker-registry exited early with {status}");
        }
        let probe = crate::block_on(async {
            client
                .get(url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        if let Ok(200 | 401) = probe {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("docker-registry did not answer {url} within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn client_with_ca(ca_pem: Option<&str>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = ca_pem {
        b = b.add_root_certificate(
            reqwest::Certificate::from_pem(pem.as_bytes()).expect("harness CA parses"),
        );
    }
    b.build().expect("reqwest client builds")
}

/// Where registry dirs go: tmpfs (`/dev/shm`) when usable. The large fixture set writes
/// tens of thousands of small files; on a disk mounted with `discard` deleting them took
/// minutes, on tmpfs it takes well under a second.
fn scratch_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        sweep_stale(&std::env::temp_dir());
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            if let Ok(probe) = tempfile::Builder::new()
                .prefix("rex-probe-")
                .tempdir_in(shm)
            {
                drop(probe);
                sweep_stale(shm);
                return shm.to_path_buf();
            }
        }
        std::env::temp_dir()
    })
    .clone()
}

const OWNER_FILE: &str = "owner.pid";

/// Remove registry dirs left by test processes that are gone (killed runs; shared
/// registries of processes whose exit cleanup could not run).
fn sweep_stale(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with("rex-registry-")
        {
            continue;
        }
        let path = entry.path();
        let stale = match fs::read_to_string(path.join(OWNER_FILE)) {
            Ok(pid) => !Path::new(&format!("/proc/{}", pid.trim())).exists(),
            // Without an owner file: only clearly abandoned dirs (a start may be in progress).
            Err(_) => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(3600)),
        };
        if stale {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// Shared registries live in statics, which are never dropped: kill them and remove their
/// dirs from an `atexit` handler (the test harness ends with `exit`).
fn register_exit_cleanup(reg: &TestRegistry) {
    static CLEANUP: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());
    static REGISTERED: OnceLock<()> = OnceLock::new();

    extern "C" fn cleanup() {
        let Ok(mut list) = CLEANUP.try_lock() else {
            return;
        };
        for (pid, dir) in list.drain(..) {
            // SAFETY: plain syscalls on a child pid we spawned and never reaped.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
                libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
            }
            let _ = fs::remove_dir_all(dir);
        }
    }

    if let Some(pid) = reg.pid() {
        CLEANUP
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((pid, reg.temp_dir().to_path_buf()));
    }
    REGISTERED.get_or_init(|| {
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe {
            libc::atexit(cleanup);
        }
    });
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl TestRegistry {
    /// Start a registry in `mode`. Panics with a clear message when it cannot (tests want a
    /// loud failure, never a silent skip).
    pub fn start(mode: Mode) -> Self {
        match Self::try_start(mode) {
            Ok(r) => r,
            Err(e) => panic!("rex-tests: cannot start docker-registry: {e:#}"),
        }
    }

    /// [`TestRegistry::start`] for async tests (runs the blocking start off the runtime).
    pub async fn start_async(mode: Mode) -> Self {
        tokio::task::spawn_blocking(move || Self::start(mode))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Fallible start.
    pub fn try_start(mode: Mode) -> anyhow::Result<Self> {
        ensure_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("rex-registry-")
            .tempdir_in(scratch_root())?;
        // Lets a later run remove this dir if our process dies without cleaning up.
        fs::write(dir.path().join(OWNER_FILE), std::process::id().to_string())?;
        let storage = dir.path().join("storage");
        fs::create_dir_all(&storage)?;

        let mut auth_yaml = String::new();
        let mut tls_yaml = String::new();
        let mut token = None;
        let mut admin = None;
        let mut ca_pem = None;
        let mut ca_path = None;

        if let Some(creds) = mode.basic_credentials() {
            let hash = bcrypt::hash(&creds.password, 4)?;
            let htpasswd = dir.path().join("htpasswd");
            fs::write(&htpasswd, format!("{}:{}\n", creds.user, hash))?;
            auth_yaml = format!(
                "auth:\n  htpasswd:\n    realm: rex-test-realm\n    path: {}\n",
                htpasswd.display()
            );
        }
        if let Mode::Token(opts) = &mode {
            let admin_creds =
                Credentials::new("rex-harness-admin", hex::encode(rand::random::<[u8; 16]>()));
            let server = TokenServer::start(
                opts.users.clone(),
                admin_creds.clone(),
                opts.allow_anonymous,
                opts.expires_in,
            )?;
            let bundle = dir.path().join("token-cert.pem");
            fs::write(&bundle, &crate::pki::token_key().cert_pem)?;
            auth_yaml = format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                server.realm(),
                crate::token::SERVICE,
                crate::token::ISSUER,
                bundle.display()
            );
            token = Some(server);
            admin = Some(admin_creds);
        }
        if let Mode::Tls { .. } = &mode {
            let tls = crate::pki::tls_material()?;
            let cert = dir.path().join("server.crt");
            let key = dir.path().join("server.key");
            let ca = dir.path().join("ca.crt");
            fs::write(&cert, &tls.cert_pem)?;
            fs::write(&key, &tls.key_pem)?;
            fs::write(&ca, &tls.ca_pem)?;
            tls_yaml = format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            );
            ca_pem = Some(tls.ca_pem);
            ca_path = Some(ca);
        }

        let config_path = dir.path().join("config.yml");
        let log_path = dir.path().join("registry.log");
        let access_log_path = dir.path().join("access.log");

        // A port picked this way can be taken before the registry binds it; retry then.
        let mut last_err = None;
        for _ in 0..5 {
            let port = free_port()?;
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: info\n  accesslog:\n    disabled: false\n\
                 storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  \
                 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: rex-tests-secret\n{tls_yaml}\
                 catalog:\n  maxentries: 1000\n\
                 {auth_yaml}",
                storage = storage.display(),
            );
            fs::write(&config_path, config)?;
            let mut cmd = Command::new(REGISTRY_BIN);
            cmd.arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                // distribution writes the combined-format access log to stdout and its own
                // structured log to stderr.
                .stdout(fs::File::create(&access_log_path)?)
                .stderr(fs::File::create(&log_path)?);
            let mut child = crate::process::spawn(cmd)?;
            let scheme = if ca_pem.is_some() { "https" } else { "http" };
            let url = format!("{scheme}://127.0.0.1:{port}/v2/");
            match wait_ready(&mut child, &url, ca_pem.as_deref(), Duration::from_secs(20)) {
                Ok(()) => {
                    return Ok(TestRegistry {
                        child: Mutex::new(Some(child)),
                        port,
                        mode,
                        token,
                        admin,
                        ca_pem,
                        ca_path,
                        log_path,
                        access_log_path,
                        config_path,
                        storage,
                        dir,
                    });
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    let in_use = log.contains("address already in use");
                    last_err = Some(anyhow::anyhow!(
                        "{e}; registry log {}:\n{}",
                        log_path.display(),
                        log
                    ));
                    if !in_use {
                        break;
                    }
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("registry did not start")))
    }

    /// Process id of the registry (`None` once stopped).
    pub fn pid(&self) -> Option<u32> {
        let guard = self.child.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(Child::id)
    }

    /// Whether the registry process is still alive.
    pub fn is_running(&self) -> bool {
        let mut guard = self.child.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kill and reap the process now (also done on drop).
    pub fn stop(&self) {
        let mut guard = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut child) = guard.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme(), self.host_port())
    }

    /// `127.0.0.1:PORT` (what users type as a registry name).
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn scheme(&self) -> &'static str {
        match self.mode {
            Mode::Tls { .. } => "https",
            _ => "http",
        }
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The registry's own (stderr) log.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The combined-format access log (stdout), one line per request.
    pub fn access_log_path(&self) -> &Path {
        &self.access_log_path
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    pub fn storage_dir(&self) -> &Path {
        &self.storage
    }

    /// A scratch directory that lives as long as the registry.
    pub fn temp_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA certificate file (TLS mode only).
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca_path.as_deref()
    }

    /// The CA certificate as PEM (TLS mode only).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The token server (token mode only).
    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token.as_ref()
    }

    /// The credentials a user would log in with: the basic user, or the first token user.
    pub fn credentials(&self) -> Option<Credentials> {
        match &self.mode {
            Mode::Token(opts) => opts.users.first().cloned(),
            m => m.basic_credentials(),
        }
    }

    /// A reqwest client that trusts this registry's CA (if any). No auth attached.
    pub fn http_client(&self) -> reqwest::Client {
        client_with_ca(self.ca_pem.as_deref())
    }

    /// A pusher with write access (basic user, or the token server's admin).
    pub fn pusher(&self) -> Pusher {
        let auth = match (&self.mode, &self.admin) {
            (Mode::Token(_), Some(admin)) => PushAuth::Token(admin.clone()),
            (m, _) => m
                .basic_credentials()
                .map(PushAuth::Basic)
                .unwrap_or(PushAuth::None),
        };
        Pusher::new(self.http_client(), self.url(), auth)
    }

    /// Push the standard (small, fast) fixture set.
    pub fn push_standard(&self) -> anyhow::Result<Fixtures> {
        let pusher = self.pusher();
        crate::block_on(Fixtures::push_standard(&pusher))
    }

    /// Push the standard set plus the large one (1,200 tags, 1,100 repositories).
    pub fn push_large(&self) -> anyhow::Result<Fixtures> {
        let pusher = self.pusher();
        crate::block_on(async {
            let mut f = Fixtures::push_standard(&pusher).await?;
            f.push_large(&pusher).await?;
            Ok(f)
        })
    }

    /// Parsed access-log lines so far.
    pub fn access_log(&self) -> Vec<AccessLogEntry> {
        let Ok(file) = fs::File::open(&self.access_log_path) else {
            return Vec::new();
        };
        BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| parse_access_line(&l))
            .collect()
    }

    /// Number of requests with this method (case-insensitive; `"*"` = any) whose target
    /// contains `path_substring`, from the access log. The registry writes a line right
    /// after each response, so this waits until the count is stable for 25 ms.
    pub fn request_count(&self, method: &str, path_substring: &str) -> usize {
        let count = || {
            self.access_log()
                .iter()
                .filter(|e| method == "*" || e.method.eq_ignore_ascii_case(method))
                .filter(|e| e.target.contains(path_substring))
                .count()
        };
        let mut last = count();
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(25));
            let now = count();
            if now == last {
                return now;
            }
            last = now;
        }
        last
    }

    /// Shared, lazily started instance per name, with fixtures already pushed. Lives for the
    /// whole test process (the child dies with it). Names:
    /// `anonymous`, `basic`, `token`, `tls`, `tls-basic` (standard fixtures) and `large`
    /// (anonymous, standard + large fixtures). Credentials: [`SHARED_USER`]/[`SHARED_PASSWORD`];
    /// the shared token registry also allows anonymous pulls.
    pub fn shared(name: &str) -> &'static SharedRegistry {
        static SHARED: OnceLock<Mutex<HashMap<String, &'static OnceLock<SharedRegistry>>>> =
            OnceLock::new();
        let cell: &'static OnceLock<SharedRegistry> = {
            let mut map = SHARED
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            map.entry(name.to_string())
                .or_insert_with(|| Box::leak(Box::new(OnceLock::new())))
        };
        cell.get_or_init(|| {
            let mode = match name {
                "anonymous" | "large" => Mode::Anonymous,
                "basic" => Mode::basic(SHARED_USER, SHARED_PASSWORD),
                "token" => Mode::Token(TokenOptions {
                    users: vec![Credentials::new(SHARED_USER, SHARED_PASSWORD)],
                    allow_anonymous: true,
                    ..TokenOptions::default()
                }),
                "tls" => Mode::tls(),
                "tls-basic" => Mode::tls_basic(SHARED_USER, SHARED_PASSWORD),
                other => panic!(
                    "rex-tests: unknown shared registry {other:?} \
                     (anonymous, basic, token, tls, tls-basic, large)"
                ),
            };
            let registry = TestRegistry::start(mode);
            register_exit_cleanup(&registry);
            let fixtures = if name == "large" {
                registry.push_large()
            } else {
                registry.push_standard()
            }
            .unwrap_or_else(|e| {
                panic!(
                    "rex-tests: pushing fixtures to shared {name:?} failed: {e:#}\nregistry log: {}",
                    registry.log_path().display()
                )
            });
            SharedRegistry { registry, fixtures }
        })
    }
}

/// User of the shared basic/token/tls-basic registries.
pub const SHARED_USER: &str = "alice";
/// Password of [`SHARED_USER`].
pub const SHARED_PASSWORD: &str = "wonderland";

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A shared registry and the fixtures pushed to it. Derefs to the registry.
pub struct SharedRegistry {
    pub registry: TestRegistry,
    pub fixtures: Fixtures,
}

impl std::ops::Deref for SharedRegistry {
    type Target = TestRegistry;
    fn deref(&self) -> &TestRegistry {
        &self.registry
    }
}

/// `127.0.0.1 - - [date] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"`
fn parse_access_line(line: &str) -> Option<AccessLogEntry> {
    let start = line.find('"')?;
    let rest = &line[start + 1..];
    let end = rest.find('"')?;
    let request = &rest[..end];
    let mut parts = request.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let status = rest[end + 1..].split_whitespace().next()?.parse().ok()?;
    Some(AccessLogEntry {
        method,
        target,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_combined_log_lines() {
        let e = parse_access_line(
            r#"127.0.0.1 - - [28/Nov/2026:12:41:07 +0000] "GET /v2/_catalog?n=5 HTTP/1.1" 200 20 "" "curl/7.88.1""#,
        )
        .expect("parses");
        assert_eq!(e.method, "GET");
        assert_eq!(e.target, "/v2/_catalog?n=5");
        assert_eq!(e.status, 200);
        assert!(parse_access_line("time=\"x\" level=info").is_none());
    }
}
