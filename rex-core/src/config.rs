//! Configuration: one [`Settings`] value resolved from defaults < config file < `REX_*`
//! environment < flags (seed 1.8, 2.3, 2.9).
//!
//! The caller (the `rex` binary) collects the environment and flags and passes them in as
//! data; this module never reads the process environment itself.
//!
//! NOTE: the data shape below is shared by every crate (plugins receive it serialised).
//! Add fields with `#[serde(default)]`; never remove or rename one.

use crate::error::{Error, Result};
use figment::providers::Serialized;
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Every setting rex uses, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Settings {
    pub output: OutputSettings,
    pub network: NetworkSettings,
    pub cache: CacheSettings,
    pub tui: TuiSettings,
    pub registries: RegistriesSettings,
    /// Values that exist only for this run (flags, environment); never written to a file.
    #[serde(default)]
    pub runtime: RuntimeSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Pretty,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputSettings {
    /// `None` = pretty on a terminal, yaml when piped (decided by the host).
    pub format: Option<OutputFormat>,
    pub color: ColorChoice,
    pub quiet: bool,
}

impl Default for OutputSettings {
    fn default() -> Self {
        OutputSettings {
            format: None,
            color: ColorChoice::Auto,
            quiet: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSettings {
    /// Request timeout in seconds.
    pub timeout: u64,
    /// Retries after the first attempt for transient failures.
    pub retry_attempts: u32,
    pub verify_tls: bool,
    /// Extra CA certificates (PEM files) trusted in addition to the system roots.
    pub ca_certs: Vec<PathBuf>,
    /// `None` = `rex/<version>`.
    pub user_agent: Option<String>,
    /// Requests in flight per registry for bulk work.
    pub max_concurrency: usize,
    /// Page size for catalog and tag listing (`n`); distribution allows at most 1000.
    pub page_size: u32,
    /// Largest manifest or config body accepted, in bytes.
    pub max_manifest_bytes: u64,
    /// Cap on a server's `Retry-After`, in seconds.
    pub max_retry_after: u64,
    pub proxy: ProxySettings,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        NetworkSettings {
            timeout: 30,
            retry_attempts: 3,
            verify_tls: true,
            ca_certs: Vec::new(),
            user_agent: None,
            max_concurrency: 16,
            page_size: 1000,
            max_manifest_bytes: 4 * 1024 * 1024,
            max_retry_after: 30,
            proxy: ProxySettings::default(),
        }
    }
}

/// Proxies, from `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` as passed in by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ProxySettings {
    pub http: Option<String>,
    pub https: Option<String>,
    pub no_proxy: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Consistency {
    /// Serve cached entries until their TTL expires.
    #[default]
    Weak,
    /// Revalidate with the registry before serving.
    Strong,
    /// Serve what is cached (even stale) and refresh behind.
    Eventual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheSettings {
    pub enabled: bool,
    /// `None` = the caller's default (`$XDG_CACHE_HOME/rex`).
    pub location: Option<PathBuf>,
    pub ttl: CacheTtl,
    pub limits: CacheLimits,
    pub behavior: CacheBehavior,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            enabled: true,
            location: None,
            ttl: CacheTtl::default(),
            limits: CacheLimits::default(),
            behavior: CacheBehavior::default(),
        }
    }
}

/// TTLs in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheTtl {
    pub catalog: u64,
    pub tags: u64,
    pub manifest: u64,
    pub config: u64,
}

impl Default for CacheTtl {
    fn default() -> Self {
        CacheTtl {
            catalog: 300,
            tags: 300,
            manifest: 86400,
            config: 86400,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheLimits {
    pub memory_entries: u64,
    pub memory_size_mb: u64,
    pub disk_entries: u64,
    pub disk_size_mb: u64,
    pub max_age_days: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits {
            memory_entries: 1000,
            memory_size_mb: 100,
            disk_entries: 10000,
            disk_size_mb: 1024,
            max_age_days: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheBehavior {
    pub consistency: Consistency,
    pub serve_stale: bool,
}

impl Default for CacheBehavior {
    fn default() -> Self {
        CacheBehavior {
            consistency: Consistency::Weak,
            serve_stale: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Dark,
    Light,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TuiSettings {
    pub theme: Theme,
    pub vim_bindings: bool,
}

impl Default for TuiSettings {
    fn default() -> Self {
        TuiSettings {
            theme: Theme::Dark,
            vim_bindings: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RegistriesSettings {
    /// Name of the current registry, if any.
    pub current: Option<String>,
    pub list: Vec<RegistryEntry>,
}

/// A configured registry (`rex registry init`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryEntry {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub skip_verify: bool,
}

/// Per-run values from flags and the environment, with the paths the caller resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RuntimeSettings {
    /// `--registry`/`REX_REGISTRY`: a URL, `host[:port]` or a configured name.
    pub registry: Option<String>,
    /// `--no-cache`/`REX_NO_CACHE`: strong consistency for this run.
    pub no_cache: bool,
    /// `-v` count.
    pub verbose: u8,
    /// The config file in use (may not exist yet).
    pub config_file: Option<PathBuf>,
    /// The cache directory in use.
    pub cache_dir: Option<PathBuf>,
    /// The cache directory was given explicitly (`--cache-dir`/`REX_CACHE_DIR`): an
    /// unusable one is an error (exit 7) instead of running without a cache.
    pub cache_required: bool,
    /// rex's own data directory (`$XDG_DATA_HOME/rex`): credentials fallback, plugins.
    pub data_dir: Option<PathBuf>,
    /// The state directory (`$XDG_STATE_HOME/rex`): logs.
    pub state_dir: Option<PathBuf>,
    /// Where credentials are read from (docker/podman files, helpers), as resolved by the host.
    pub credentials: crate::credentials::CredentialSources,
    /// Which layer set each dotted key (keys left at their default are absent), filled by
    /// [`Settings::resolve`] so commands can mark defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub origins: BTreeMap<String, Origin>,
    /// The user's editor command (`$EDITOR`, may carry arguments), filled by the host for
    /// `rex config edit`; `None` = try vim, nano, vi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<String>,
}

/// The registry a command talks to, as picked by [`Settings::resolve_registry`]. The
/// `url` is as given (a URL, `host[:port]`); `endpoint.rs` parses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryTarget {
    /// The configured name, when the registry came from the list.
    pub name: Option<String>,
    pub url: String,
    pub insecure: bool,
    pub skip_verify: bool,
}

// ---------------------------------------------------------------------------------------
// Parsing of enum values (flags, environment, `config set`).

fn parse_choice<T: Copy>(
    what: &str,
    input: &str,
    choices: &[(&str, T)],
) -> std::result::Result<T, String> {
    let v = input.trim().to_ascii_lowercase();
    choices
        .iter()
        .find(|(name, _)| *name == v)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown {what} '{input}', expected one of: {}",
                names.join(", ")
            )
        })
}

macro_rules! choice_enum {
    ($ty:ty, $what:literal, [$(($name:literal, $variant:expr)),+ $(,)?]) => {
        impl $ty {
            /// The accepted spellings.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            pub fn as_str(self) -> &'static str {
                let all: &[(&str, $ty)] = &[$(($name, $variant)),+];
                all.iter().find(|(_, v)| *v == self).map(|(n, _)| *n).unwrap_or("")
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                parse_choice($what, s, &[$(($name, $variant)),+]).map_err(Error::usage)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

choice_enum!(
    OutputFormat,
    "output format",
    [
        ("pretty", OutputFormat::Pretty),
        ("json", OutputFormat::Json),
        ("yaml", OutputFormat::Yaml),
    ]
);
choice_enum!(
    ColorChoice,
    "color mode",
    [
        ("auto", ColorChoice::Auto),
        ("always", ColorChoice::Always),
        ("never", ColorChoice::Never),
    ]
);
choice_enum!(
    Consistency,
    "consistency level",
    [
        ("weak", Consistency::Weak),
        ("strong", Consistency::Strong),
        ("eventual", Consistency::Eventual),
    ]
);
choice_enum!(
    Theme,
    "theme",
    [("dark", Theme::Dark), ("light", Theme::Light)]
);

// ---------------------------------------------------------------------------------------
// Sources, origins and the environment table.

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Default,
    File,
    Env,
    Flag,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Default => "default",
            Origin::File => "file",
            Origin::Env => "env",
            Origin::Flag => "flag",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Values given on the command line (highest precedence). `None`/`false` = not given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overrides {
    /// `--registry`: a configured name, a URL or `host[:port]`.
    pub registry: Option<String>,
    /// `--format`.
    pub format: Option<OutputFormat>,
    /// `--color` (`--no-color` = `Some(Never)`).
    pub color: Option<ColorChoice>,
    /// `--quiet`.
    pub quiet: Option<bool>,
    /// `--timeout` in seconds.
    pub timeout: Option<u64>,
    /// `--no-verify-tls`.
    pub no_verify_tls: bool,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--cache-dir`.
    pub cache_dir: Option<PathBuf>,
    /// `-v` count.
    pub verbose: u8,
}

/// Everything [`Settings::resolve`] reads, collected by the caller (this crate never
/// touches the process environment or the file system on its own initiative).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigSources {
    /// The config file (it may not exist).
    pub file: Option<PathBuf>,
    /// The user named the file (`--config`, `REX_CONFIG`): it must exist.
    pub file_required: bool,
    /// The process environment (`std::env::vars()`); only the variables of [`ENV_VARS`]
    /// are interpreted.
    pub env: Vec<(String, String)>,
    pub overrides: Overrides,
}

/// An environment variable rex reads, for help and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    /// The setting it feeds (`None` for variables the host handles itself).
    pub key: Option<&'static str>,
    pub doc: &'static str,
}

/// Every environment variable rex interprets. Empty values count as unset.
pub const ENV_VARS: &[EnvVar] = &[
    EnvVar { name: "REX_CONFIG", key: None, doc: "Config file to use instead of $XDG_CONFIG_HOME/rex/config.toml (must exist)" },
    EnvVar { name: "REX_REGISTRY", key: Some("runtime.registry"), doc: "Registry to use: a configured name, a URL or host[:port] (below --registry, above the current registry)" },
    EnvVar { name: "REX_OUTPUT_FORMAT", key: Some("output.format"), doc: "Output format: pretty, json or yaml" },
    EnvVar { name: "REX_COLOR", key: Some("output.color"), doc: "Colour: auto, always or never" },
    EnvVar { name: "NO_COLOR", key: Some("output.color"), doc: "Any non-empty value disables colour unless REX_COLOR or --color is given" },
    EnvVar { name: "REX_TIMEOUT", key: Some("network.timeout"), doc: "Request timeout in seconds" },
    EnvVar { name: "REX_NO_VERIFY_TLS", key: Some("network.verify_tls"), doc: "When set (not 0/false/no/off), skip TLS certificate verification" },
    EnvVar { name: "REX_NO_CACHE", key: Some("runtime.no_cache"), doc: "When set (not 0/false/no/off), bypass the cache" },
    EnvVar { name: "REX_CACHE_DIR", key: Some("runtime.cache_dir"), doc: "Cache directory (default $XDG_CACHE_HOME/rex)" },
    EnvVar { name: "REX_LOG_FORMAT", key: None, doc: "Log format: pretty or json" },
    EnvVar { name: "HTTPS_PROXY", key: Some("network.proxy.https"), doc: "Proxy for https requests (https_proxy wins)" },
    EnvVar { name: "HTTP_PROXY", key: Some("network.proxy.http"), doc: "Proxy for http requests (http_proxy wins)" },
    EnvVar { name: "NO_PROXY", key: Some("network.proxy.no_proxy"), doc: "Hosts that bypass the proxy (no_proxy wins)" },
];

/// The result of [`Settings::resolve`].
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedConfig {
    pub settings: Settings,
    /// Which layer set each dotted key; keys at their default are absent (see
    /// [`ResolvedConfig::origin`]). Also copied to `settings.runtime.origins`.
    pub origins: BTreeMap<String, Origin>,
    /// Problems that did not stop loading (unknown keys), already logged.
    pub warnings: Vec<String>,
}

impl ResolvedConfig {
    /// Where `key`'s value came from (`Default` when nothing set it).
    pub fn origin(&self, key: &str) -> Origin {
        origin_of(&self.origins, key)
    }
}

fn origin_of(origins: &BTreeMap<String, Origin>, key: &str) -> Origin {
    // A key is set when it or a parent was set (e.g. `registries.list` for its entries).
    let mut k = key;
    loop {
        if let Some(o) = origins.get(k) {
            return *o;
        }
        match k.rfind('.') {
            Some(i) => k = &k[..i],
            None => return Origin::Default,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The key table.

/// The type of a settable key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    Bool,
    Integer,
    String,
    Path,
    /// One of [`KeySpec::allowed`].
    Enum,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Bool => "boolean",
            KeyKind::Integer => "integer",
            KeyKind::String => "string",
            KeyKind::Path => "path",
            KeyKind::Enum => "choice",
        }
    }
}

/// A key `rex config get/set` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeySpec {
    pub key: &'static str,
    pub kind: KeyKind,
    /// Accepted values for `Enum` keys.
    pub allowed: &'static [&'static str],
    /// Inclusive range for `Integer` keys.
    pub range: Option<(u64, u64)>,
    /// What `config get` prints when the value is unset (`None`).
    pub unset: &'static str,
    pub description: &'static str,
}

const fn key(key: &'static str, kind: KeyKind, description: &'static str) -> KeySpec {
    KeySpec {
        key,
        kind,
        allowed: &[],
        range: None,
        unset: "",
        description,
    }
}
const fn int(key: &'static str, min: u64, max: u64, description: &'static str) -> KeySpec {
    KeySpec {
        key,
        kind: KeyKind::Integer,
        allowed: &[],
        range: Some((min, max)),
        unset: "",
        description,
    }
}
const fn choice(
    key: &'static str,
    allowed: &'static [&'static str],
    description: &'static str,
) -> KeySpec {
    KeySpec {
        key,
        kind: KeyKind::Enum,
        allowed,
        range: None,
        unset: "",
        description,
    }
}

const MAX_TTL: u64 = 365 * 86_400;

/// Every key of the config file that `rex config get/set` handles.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "output.format",
        kind: KeyKind::Enum,
        allowed: &["pretty", "json", "yaml", "auto"],
        range: None,
        unset: "auto",
        description: "Default output format; auto = pretty on a terminal, yaml when piped",
    },
    choice("output.color", ColorChoice::NAMES, "Colour output"),
    key(
        "output.quiet",
        KeyKind::Bool,
        "Suppress progress and status messages",
    ),
    int("network.timeout", 1, 86_400, "Request timeout in seconds"),
    int(
        "network.retry_attempts",
        0,
        10,
        "Retries after a transient failure",
    ),
    key(
        "network.verify_tls",
        KeyKind::Bool,
        "Verify TLS certificates",
    ),
    key(
        "network.user_agent",
        KeyKind::String,
        "User-Agent header (default rex/<version>)",
    ),
    int(
        "network.max_concurrency",
        1,
        256,
        "Requests in flight per registry for bulk work",
    ),
    int(
        "network.page_size",
        1,
        1000,
        "Page size for catalog and tag listing",
    ),
    int(
        "network.max_manifest_bytes",
        1024,
        1 << 30,
        "Largest manifest or config accepted, in bytes",
    ),
    int(
        "network.max_retry_after",
        0,
        3600,
        "Cap on a server's Retry-After, in seconds",
    ),
    key("cache.enabled", KeyKind::Bool, "Enable the cache"),
    key(
        "cache.location",
        KeyKind::Path,
        "Cache directory (default $XDG_CACHE_HOME/rex)",
    ),
    int(
        "cache.ttl.catalog",
        0,
        MAX_TTL,
        "Catalog cache TTL in seconds",
    ),
    int(
        "cache.ttl.tags",
        0,
        MAX_TTL,
        "Tag list cache TTL in seconds",
    ),
    int(
        "cache.ttl.manifest",
        0,
        MAX_TTL,
        "Manifest cache TTL in seconds (by tag)",
    ),
    int(
        "cache.ttl.config",
        0,
        MAX_TTL,
        "Image config cache TTL in seconds",
    ),
    int(
        "cache.limits.memory_entries",
        0,
        u32::MAX as u64,
        "Max in-memory cache entries",
    ),
    int(
        "cache.limits.memory_size_mb",
        0,
        1 << 20,
        "Max in-memory cache size in MB",
    ),
    int(
        "cache.limits.disk_entries",
        0,
        u32::MAX as u64,
        "Max disk cache entries",
    ),
    int(
        "cache.limits.disk_size_mb",
        0,
        1 << 24,
        "Max disk cache size in MB",
    ),
    int(
        "cache.limits.max_age_days",
        0,
        3650,
        "Disk entries older than this are pruned, in days",
    ),
    choice(
        "cache.behavior.consistency",
        Consistency::NAMES,
        "Cache consistency level",
    ),
    key(
        "cache.behavior.serve_stale",
        KeyKind::Bool,
        "Serve stale data while refreshing",
    ),
    choice("tui.theme", Theme::NAMES, "TUI colour theme"),
    key(
        "tui.vim_bindings",
        KeyKind::Bool,
        "Vim key bindings in the TUI",
    ),
    key(
        "registries.current",
        KeyKind::String,
        "Name of the current registry",
    ),
];

/// The spec of `key`, or a Usage error naming the closest keys.
pub fn key_spec(key: &str) -> Result<&'static KeySpec> {
    KEYS.iter().find(|k| k.key == key).ok_or_else(|| {
        let mut err = Error::usage(format!("unknown configuration key '{key}'"));
        if let Some(best) = closest(key, KEYS.iter().map(|k| k.key)) {
            err = err.with_hint(format!(
                "did you mean '{best}'? ('rex config' lists every key)"
            ));
        } else {
            err = err.with_hint("'rex config' lists every key");
        }
        err
    })
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn closest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (levenshtein(key, c), c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 4) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Check `value` against `spec` and convert it to the type stored in the file.
pub fn parse_value(spec: &KeySpec, value: &str) -> Result<serde_json::Value> {
    let bad = |why: String| Error::usage(format!("invalid value for {}: {why}", spec.key));
    let v = value.trim();
    Ok(match spec.kind {
        KeyKind::Bool => match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => serde_json::Value::Bool(true),
            "false" | "no" | "off" | "0" => serde_json::Value::Bool(false),
            _ => return Err(bad(format!("expected true or false, found \"{value}\""))),
        },
        KeyKind::Integer => {
            let n: u64 = v.parse().map_err(|_| {
                bad(format!(
                    "expected a non-negative integer, found \"{value}\""
                ))
            })?;
            if let Some((lo, hi)) = spec.range {
                if n < lo || n > hi {
                    return Err(bad(format!("must be between {lo} and {hi}, found {n}")));
                }
            }
            serde_json::Value::from(n)
        }
        KeyKind::Enum => {
            let lower = v.to_ascii_lowercase();
            match spec.allowed.iter().find(|a| **a == lower) {
                Some(a) => serde_json::Value::String((*a).to_owned()),
                None => {
                    return Err(bad(format!(
                        "expected one of {}, found \"{value}\"",
                        spec.allowed.join(", ")
                    )))
                }
            }
        }
        KeyKind::String | KeyKind::Path => {
            if v.is_empty() {
                return Err(bad(
                    "the value is empty (use 'unset' to remove a key)".into()
                ));
            }
            if v.chars().any(char::is_control) {
                return Err(bad("control characters are not allowed".into()));
            }
            serde_json::Value::String(v.to_owned())
        }
    })
}

// ---------------------------------------------------------------------------------------
// Resolution: defaults < file < environment < flags.

/// A value set by the environment or a flag, with where it came from for messages.
struct Layered {
    key: &'static str,
    value: serde_json::Value,
    source: String,
}

fn env_is_set(v: &str) -> bool {
    !matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no" | "off"
    )
}

/// Per-run values from the environment (`runtime.*` key, value).
type RuntimeEnv = Vec<(&'static str, String)>;

fn env_layer(env: &[(String, String)]) -> Result<(Vec<Layered>, RuntimeEnv)> {
    let get = |name: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let bad = |var: &str, key: &str, why: String| {
        Error::config(format!(
            "invalid value for {key} in environment variable {var}: {why}"
        ))
    };
    let mut out = Vec::new();
    let mut push = |key: &'static str, value: serde_json::Value, var: &str| {
        out.push(Layered {
            key,
            value,
            source: format!("environment variable {var}"),
        })
    };
    if let Some(v) = get("REX_OUTPUT_FORMAT") {
        let value = if v.eq_ignore_ascii_case("auto") {
            serde_json::Value::Null
        } else {
            let f: OutputFormat = v.parse().map_err(|e: Error| {
                bad("REX_OUTPUT_FORMAT", "output.format", e.message().to_owned())
            })?;
            serde_json::Value::from(f.as_str())
        };
        push("output.format", value, "REX_OUTPUT_FORMAT");
    }
    if let Some(v) = get("REX_COLOR") {
        let c: ColorChoice = v
            .parse()
            .map_err(|e: Error| bad("REX_COLOR", "output.color", e.message().to_owned()))?;
        push("output.color", c.as_str().into(), "REX_COLOR");
    } else if get("NO_COLOR").is_some() {
        push("output.color", "never".into(), "NO_COLOR");
    }
    if let Some(v) = get("REX_TIMEOUT") {
        let spec = key_spec("network.timeout")?;
        let n = parse_value(spec, v).map_err(|_| {
            bad(
                "REX_TIMEOUT",
                "network.timeout",
                format!("expected a whole number of seconds between 1 and 86400, found \"{v}\""),
            )
        })?;
        push("network.timeout", n, "REX_TIMEOUT");
    }
    if get("REX_NO_VERIFY_TLS").is_some_and(env_is_set) {
        push("network.verify_tls", false.into(), "REX_NO_VERIFY_TLS");
    }
    for (key, lower, upper) in [
        ("network.proxy.http", "http_proxy", "HTTP_PROXY"),
        ("network.proxy.https", "https_proxy", "HTTPS_PROXY"),
        ("network.proxy.no_proxy", "no_proxy", "NO_PROXY"),
    ] {
        if let Some(v) = get(lower) {
            push(key, v.into(), lower);
        } else if let Some(v) = get(upper) {
            push(key, v.into(), upper);
        }
    }
    // Per-run values (not part of the file's data): applied after extraction.
    let mut runtime = Vec::new();
    if let Some(v) = get("REX_REGISTRY") {
        runtime.push(("runtime.registry", v.trim().to_owned()));
    }
    if get("REX_NO_CACHE").is_some_and(env_is_set) {
        runtime.push(("runtime.no_cache", "true".to_owned()));
    }
    if let Some(v) = get("REX_CACHE_DIR") {
        runtime.push(("runtime.cache_dir", v.to_owned()));
    }
    Ok((out, runtime))
}

fn flag_layer(o: &Overrides) -> Vec<Layered> {
    let mut out = Vec::new();
    let mut push = |key: &'static str, value: serde_json::Value, flag: &str| {
        out.push(Layered {
            key,
            value,
            source: format!("flag {flag}"),
        })
    };
    if let Some(f) = o.format {
        push("output.format", f.as_str().into(), "--format");
    }
    if let Some(c) = o.color {
        push("output.color", c.as_str().into(), "--color");
    }
    if let Some(q) = o.quiet {
        push("output.quiet", q.into(), "--quiet");
    }
    if let Some(t) = o.timeout {
        push("network.timeout", t.into(), "--timeout");
    }
    if o.no_verify_tls {
        push("network.verify_tls", false.into(), "--no-verify-tls");
    }
    out
}

/// The known key tree of the file (what `Settings` serialises to, without `runtime`).
fn known_tree() -> serde_json::Value {
    let mut v = serde_json::to_value(Settings::default()).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("runtime");
    }
    v
}

/// Dotted leaf keys of a TOML table (arrays and scalars are leaves).
fn toml_leaves(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => toml_leaves(t, &key, out),
            _ => out.push(key),
        }
    }
}

/// Keys of the file that rex does not know, with a suggestion when one is close.
fn unknown_keys(
    table: &toml::Table,
    known: &serde_json::Value,
    prefix: &str,
    out: &mut Vec<String>,
) {
    let Some(known) = known.as_object() else {
        return;
    };
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match known.get(k) {
            None => {
                let hint = closest(k, known.keys().map(String::as_str))
                    .map(|c| {
                        let full = if prefix.is_empty() {
                            c.to_owned()
                        } else {
                            format!("{prefix}.{c}")
                        };
                        format!(" (did you mean {full}?)")
                    })
                    .unwrap_or_default();
                out.push(format!("{key}{hint}"));
            }
            Some(sub @ serde_json::Value::Object(_)) => {
                if let toml::Value::Table(t) = v {
                    unknown_keys(t, sub, &key, out);
                }
            }
            Some(_) => {}
        }
    }
}

/// Read and parse the config file. `Ok(None)` when it does not exist and is optional.
fn read_file(path: &Path, required: bool) -> Result<Option<toml::Table>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(
                Error::config(format!("config file {} does not exist", path.display()))
                    .with_hint("check the path given with --config or REX_CONFIG"),
            )
        }
        Err(e) => {
            return Err(
                Error::config(format!("cannot read config file {}: {e}", path.display()))
                    .with_source(e),
            )
        }
    };
    toml::from_str::<toml::Table>(&text).map(Some).map_err(|e| {
        Error::config(format!(
            "invalid config file {}: {}",
            path.display(),
            e.to_string().trim_end()
        ))
        .with_hint("fix the file, or run 'rex config edit'")
    })
}

/// A type name from serde ("u64", "a boolean") in words.
fn expected_words(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => {
            "an integer".into()
        }
        "bool" | "a boolean" => "a boolean (true or false)".into(),
        "a string" | "string" | "path string" => "a string".into(),
        _ if e.starts_with("struct ") || e.starts_with("a map") => "a table".into(),
        _ if e.starts_with("a sequence") => "a list".into(),
        _ => e.to_owned(),
    }
}

fn actual_words(a: &figment::error::Actual) -> String {
    use figment::error::Actual;
    match a {
        Actual::Str(s) => format!("{s:?}"),
        Actual::Bool(b) => b.to_string(),
        Actual::Unsigned(n) => n.to_string(),
        Actual::Signed(n) => n.to_string(),
        Actual::Float(f) => f.to_string(),
        Actual::Char(c) => format!("{c:?}"),
        Actual::Map => "a table".into(),
        Actual::Seq => "a list".into(),
        other => other.to_string(),
    }
}

fn figment_error(e: figment::Error, sources: &BTreeMap<String, String>) -> Error {
    use figment::error::Kind;
    // `registries.list.0` reads better as `registries.list[0]`.
    let mut key = String::new();
    for part in &e.path {
        if part.bytes().all(|b| b.is_ascii_digit()) && !key.is_empty() {
            key.push_str(&format!("[{part}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
    }
    let why = match &e.kind {
        Kind::InvalidType(actual, expected) => {
            format!(
                "expected {}, found {}",
                expected_words(expected),
                actual_words(actual)
            )
        }
        Kind::InvalidValue(actual, expected) => {
            let exp = expected_words(expected);
            let exp = if exp == "an integer"
                && matches!(actual, figment::error::Actual::Signed(n) if *n < 0)
            {
                "a non-negative integer".to_owned()
            } else {
                exp
            };
            format!("expected {exp}, found {}", actual_words(actual))
        }
        Kind::UnknownVariant(v, allowed) => {
            format!("expected one of {}, found \"{v}\"", allowed.join(", "))
        }
        Kind::MissingField(f) => format!("the field '{f}' is missing"),
        Kind::DuplicateField(f) => format!("the field '{f}' appears twice"),
        other => other.to_string(),
    };
    // The last layer that set the key (or a parent) supplied the bad value.
    let plain: String = key.split('[').next().unwrap_or("").to_owned();
    let mut k = plain.as_str();
    let source = loop {
        if let Some(s) = sources.get(k) {
            break Some(s.as_str());
        }
        match k.rfind('.') {
            Some(i) => k = &k[..i],
            None => break None,
        }
    };
    let key_text = if key.is_empty() {
        "the configuration".to_owned()
    } else {
        key.clone()
    };
    let msg = match source {
        Some(s) => format!("invalid value for {key_text} in {s}: {why}"),
        None => format!("invalid value for {key_text}: {why}"),
    };
    Error::config(msg).with_hint("fix the value, or run 'rex config set <key> <value>'")
}

impl Settings {
    /// Resolve settings from defaults < config file < `REX_*` environment < flags.
    ///
    /// Unknown keys in the file are logged (and returned as warnings), not fatal. A bad
    /// value is a Config error naming the key and where it came from. A missing file is
    /// fine unless `file_required`.
    pub fn resolve(sources: &ConfigSources) -> Result<ResolvedConfig> {
        let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
        // key → human description of the layer that set it, for error messages.
        let mut source_names: BTreeMap<String, String> = BTreeMap::new();
        let mut warnings = Vec::new();
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));

        if let Some(path) = &sources.file {
            if let Some(mut table) = read_file(path, sources.file_required)? {
                if table.remove("runtime").is_some() {
                    warnings.push(format!(
                        "ignoring [runtime] in {}: those values come from flags and the environment",
                        path.display()
                    ));
                }
                let mut unknown = Vec::new();
                unknown_keys(&table, &known_tree(), "", &mut unknown);
                for u in unknown {
                    warnings.push(format!("unknown key {u} in {} (ignored)", path.display()));
                }
                let mut leaves = Vec::new();
                toml_leaves(&table, "", &mut leaves);
                for leaf in leaves {
                    source_names.insert(leaf.clone(), path.display().to_string());
                    origins.insert(leaf, Origin::File);
                }
                figment = figment.merge(Serialized::defaults(table));
            }
        }

        let (env_values, env_runtime) = env_layer(&sources.env)?;
        for (layer, origin) in [
            (env_values, Origin::Env),
            (flag_layer(&sources.overrides), Origin::Flag),
        ] {
            for l in layer {
                figment = figment.merge(Serialized::default(l.key, &l.value));
                // A later layer replaces what an earlier one set below this key.
                let prefix = format!("{}.", l.key);
                origins.retain(|k, _| !k.starts_with(&prefix));
                origins.insert(l.key.to_owned(), origin);
                source_names.insert(l.key.to_owned(), l.source);
            }
        }

        let mut settings: Settings = figment
            .extract()
            .map_err(|e| figment_error(e, &source_names))?;
        check_ranges(&settings, &source_names)?;
        check_registries(&settings, &mut warnings);

        // Per-run values: flag > environment (> file for the cache directory).
        let o = &sources.overrides;
        let env_rt = |k: &str| {
            env_runtime
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
        };
        let rt = &mut settings.runtime;
        rt.config_file = sources.file.clone();
        rt.verbose = o.verbose;
        if let Some(r) = o
            .registry
            .as_ref()
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
        {
            rt.registry = Some(r.to_owned());
            origins.insert("runtime.registry".into(), Origin::Flag);
        } else if let Some(r) = env_rt("runtime.registry").filter(|r| !r.is_empty()) {
            rt.registry = Some(r);
            origins.insert("runtime.registry".into(), Origin::Env);
        }
        if o.no_cache {
            rt.no_cache = true;
            origins.insert("runtime.no_cache".into(), Origin::Flag);
        } else if env_rt("runtime.no_cache").is_some() {
            rt.no_cache = true;
            origins.insert("runtime.no_cache".into(), Origin::Env);
        }
        if let Some(d) = &o.cache_dir {
            rt.cache_dir = Some(d.clone());
            origins.insert("runtime.cache_dir".into(), Origin::Flag);
        } else if let Some(d) = env_rt("runtime.cache_dir") {
            rt.cache_dir = Some(PathBuf::from(d));
            origins.insert("runtime.cache_dir".into(), Origin::Env);
        } else if let Some(d) = &settings.cache.location {
            rt.cache_dir = Some(d.clone());
            origins.insert(
                "runtime.cache_dir".into(),
                origin_of(&origins, "cache.location"),
            );
        }
        settings.runtime.origins = origins.clone();

        for w in &warnings {
            tracing::warn!("{w}");
        }
        Ok(ResolvedConfig {
            settings,
            origins,
            warnings,
        })
    }

    /// The value of a dotted key as text (`config get`): strings bare, unset values as
    /// the key's `unset` text (e.g. `auto` for `output.format`).
    pub fn get(&self, key: &str) -> Result<String> {
        let spec = key_spec(key)?;
        Ok(match self.get_value(key)? {
            serde_json::Value::Null => spec.unset.to_owned(),
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
    }

    /// The value of a dotted key, typed (`null` when unset). Works for any key of the
    /// settings tree, not only those in [`KEYS`].
    pub fn get_value(&self, key: &str) -> Result<serde_json::Value> {
        let tree = serde_json::to_value(self)
            .map_err(|e| Error::general(format!("cannot serialise settings: {e}")))?;
        let mut node = &tree;
        for part in key.split('.') {
            node = node.get(part).ok_or_else(|| match key_spec(key) {
                Err(e) => e,
                Ok(_) => Error::general(format!("setting '{key}' is missing")),
            })?;
        }
        Ok(node.clone())
    }

    /// Pick the registry for this run: `runtime.registry` (flag or `REX_REGISTRY`: a
    /// configured name, else a URL/host, matched against configured URLs so their
    /// `insecure`/`skip_verify` apply), else `registries.current`, else `localhost:5000`.
    pub fn resolve_registry(&self) -> Result<RegistryTarget> {
        let from_entry = |e: &RegistryEntry| RegistryTarget {
            name: Some(e.name.clone()),
            url: e.url.clone(),
            insecure: e.insecure,
            skip_verify: e.skip_verify,
        };
        if let Some(r) = self
            .runtime
            .registry
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            if let Some(e) = self.registries.list.iter().find(|e| e.name == r) {
                return Ok(from_entry(e));
            }
            let wanted = address_key(r);
            if let Some(e) = self
                .registries
                .list
                .iter()
                .find(|e| address_key(&e.url) == wanted)
            {
                let mut t = from_entry(e);
                // An explicit scheme the user typed wins over the configured one.
                if r.contains("://") {
                    t.url = r.to_owned();
                }
                return Ok(t);
            }
            return Ok(RegistryTarget {
                name: None,
                url: r.to_owned(),
                insecure: false,
                skip_verify: false,
            });
        }
        if let Some(name) = self.registries.current.as_deref().filter(|n| !n.is_empty()) {
            return self
                .registries
                .list
                .iter()
                .find(|e| e.name == name)
                .map(from_entry)
                .ok_or_else(|| {
                    Error::config(format!(
                        "the current registry '{name}' is not among the configured registries"
                    ))
                    .with_hint("run 'rex registry use <name>' or 'rex registry init <name> <url>'")
                });
        }
        Ok(RegistryTarget {
            name: None,
            url: DEFAULT_REGISTRY.to_owned(),
            insecure: false,
            skip_verify: false,
        })
    }
}

/// The registry used when nothing selects one.
pub const DEFAULT_REGISTRY: &str = "localhost:5000";

/// `host[:port]` of an address, lower-cased, without scheme, path or trailing slash, for
/// matching `-r localhost:5000` against `http://localhost:5000/`.
fn address_key(s: &str) -> String {
    let s = s.trim();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let s = s.split('/').next().unwrap_or("");
    s.to_ascii_lowercase()
}

fn check_ranges(s: &Settings, sources: &BTreeMap<String, String>) -> Result<()> {
    for spec in KEYS.iter().filter(|k| k.kind == KeyKind::Integer) {
        let (Some((lo, hi)), Ok(v)) = (spec.range, s.get_value(spec.key)) else {
            continue;
        };
        let Some(n) = v.as_u64() else { continue };
        if n < lo || n > hi {
            let src = sources
                .get(spec.key)
                .map(|s| format!(" in {s}"))
                .unwrap_or_default();
            return Err(Error::config(format!(
                "invalid value for {}{src}: must be between {lo} and {hi}, found {n}",
                spec.key
            )));
        }
    }
    Ok(())
}

fn check_registries(s: &Settings, warnings: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    for e in &s.registries.list {
        if !seen.insert(e.name.as_str()) {
            warnings.push(format!(
                "registry '{}' is configured more than once; the first entry is used",
                e.name
            ));
        }
    }
}

/// Parse a config file the way [`Settings::resolve`] would (for `rex config edit`).
pub fn validate_file(path: &Path) -> Result<Settings> {
    Settings::resolve(&ConfigSources {
        file: Some(path.to_owned()),
        file_required: true,
        ..ConfigSources::default()
    })
    .map(|r| r.settings)
}

/// Keys set by anything but the defaults: the recorded origins, plus the keys present in
/// the file at `path` (for settings resolved without origins).
pub fn explicit_keys(settings: &Settings, path: &Path) -> Result<BTreeSet<String>> {
    let mut keys: BTreeSet<String> = settings
        .runtime
        .origins
        .iter()
        .filter(|(_, o)| **o != Origin::Default)
        .map(|(k, _)| k.clone())
        .collect();
    if let Some(table) = read_file(path, false)? {
        let mut leaves = Vec::new();
        toml_leaves(&table, "", &mut leaves);
        keys.extend(leaves);
    }
    Ok(keys)
}

// ---------------------------------------------------------------------------------------
// Editing the file (comments and unknown keys are kept; writes are atomic).

fn load_document(path: &Path) -> Result<toml_edit::DocumentMut> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.parse::<toml_edit::DocumentMut>().map_err(|e| {
            Error::config(format!(
                "cannot edit {}: it is not valid TOML: {}",
                path.display(),
                e.to_string().trim_end()
            ))
            .with_hint("fix the file with 'rex config edit' first")
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(toml_edit::DocumentMut::new()),
        Err(e) => Err(
            Error::config(format!("cannot read config file {}: {e}", path.display()))
                .with_source(e),
        ),
    }
}

/// Write `contents` to `path` atomically: a temporary file in the same directory, synced,
/// then renamed over the target. Creates the parent directory. A symlinked config file is
/// followed so the link survives. The old file's permissions are kept.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let target = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(_) => path.to_owned(),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let io = |what: &str, e: std::io::Error| {
        Error::config(format!("cannot {what} {}: {e}", target.display())).with_source(e)
    };
    std::fs::create_dir_all(&dir).map_err(|e| io("create the directory for", e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".rex-config-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| io("create a temporary file next to", e))?;
    tmp.write_all(contents).map_err(|e| io("write", e))?;
    tmp.as_file().sync_all().map_err(|e| io("write", e))?;
    if let Ok(meta) = std::fs::metadata(&target) {
        // Best effort: keep the mode the user chose.
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(&target).map_err(|e| io("replace", e.error))?;
    Ok(())
}

fn save_document(path: &Path, doc: &toml_edit::DocumentMut) -> Result<()> {
    let text = doc.to_string();
    // Never write something rex itself would refuse to read.
    if let Err(e) = toml::from_str::<toml::Table>(&text) {
        return Err(Error::general(format!(
            "refusing to write an invalid config file: {e}"
        )));
    }
    write_atomic(path, text.as_bytes())
}

fn toml_value(v: &serde_json::Value) -> toml_edit::Value {
    match v {
        serde_json::Value::Bool(b) => (*b).into(),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.to_string().into(),
        },
        serde_json::Value::String(s) => s.as_str().into(),
        other => other.to_string().into(),
    }
}

/// The table at `path` (created as needed, implicit so no empty headers appear).
fn table_at<'a>(
    doc: &'a mut toml_edit::DocumentMut,
    parts: &[&str],
    file: &Path,
) -> Result<&'a mut dyn toml_edit::TableLike> {
    let mut cur: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    let mut walked = String::new();
    for part in parts {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(part);
        if cur.get(part).is_none() {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            cur.insert(part, toml_edit::Item::Table(t));
        }
        let item = cur.get_mut(part).expect("inserted above");
        cur = item.as_table_like_mut().ok_or_else(|| {
            Error::config(format!(
                "cannot edit {}: '{walked}' is a value, not a table",
                file.display()
            ))
        })?;
    }
    Ok(cur)
}

fn set_item(table: &mut dyn toml_edit::TableLike, key: &str, value: toml_edit::Value) {
    match table.get_mut(key).and_then(|i| i.as_value_mut()) {
        Some(existing) => {
            // Keep a trailing comment on the line.
            let decor = existing.decor().clone();
            *existing = value;
            *existing.decor_mut() = decor;
        }
        None => {
            table.insert(key, toml_edit::Item::Value(value));
        }
    }
}

/// Set `key` to `value` in the config file at `path` after checking it against the key's
/// type. Returns the value as stored (typed). Comments, order and other keys are kept;
/// sections, the file and its directory are created as needed; the write is atomic.
/// `output.format = auto` removes the key (auto is the default behaviour).
pub fn set_in_file(path: &Path, key: &str, value: &str) -> Result<serde_json::Value> {
    let spec = key_spec(key)?;
    let typed = parse_value(spec, value)?;
    let mut doc = load_document(path)?;
    if key == "registries.current" {
        let name = typed.as_str().unwrap_or_default();
        if !registry_names(&doc).iter().any(|n| n == name) {
            return Err(unknown_registry(name, &doc));
        }
    }
    if key == "output.format" && typed == "auto" {
        unset_in_doc(&mut doc, key);
    } else {
        let parts: Vec<&str> = key.split('.').collect();
        let (leaf, parents) = parts.split_last().expect("keys have a component");
        let table = table_at(&mut doc, parents, path)?;
        set_item(table, leaf, toml_value(&typed));
    }
    save_document(path, &doc)?;
    Ok(typed)
}

fn unset_in_doc(doc: &mut toml_edit::DocumentMut, key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    let (leaf, parents) = parts.split_last().expect("keys have a component");
    let mut cur: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    for part in parents {
        match cur.get_mut(part).and_then(|i| i.as_table_like_mut()) {
            Some(t) => cur = t,
            None => return false,
        }
    }
    cur.remove(leaf).is_some()
}

/// Remove `key` from the config file (it returns to its default). `Ok(false)` when it
/// was not set. A missing file is left missing.
pub fn unset_in_file(path: &Path, key: &str) -> Result<bool> {
    key_spec(key)?;
    if !path.exists() {
        return Ok(false);
    }
    let mut doc = load_document(path)?;
    if !unset_in_doc(&mut doc, key) {
        return Ok(false);
    }
    save_document(path, &doc)?;
    Ok(true)
}

// ---------------------------------------------------------------------------------------
// The registry list in the file.

/// Longest registry name.
pub const REGISTRY_NAME_MAX: usize = 64;

/// Check a registry entry before it is stored: the name is 1–64 of `A-Z a-z 0-9 . _ -`
/// starting with a letter or digit; the URL parses as a registry address (with the
/// entry's `insecure` / `skip_verify`). Returns the entry trimmed.
pub fn validate_registry_entry(entry: &RegistryEntry) -> Result<RegistryEntry> {
    let name = entry.name.trim();
    let bad = |why: String| Error::usage(format!("invalid registry name '{name}': {why}"));
    if name.is_empty() {
        return Err(Error::usage("the registry name is empty"));
    }
    if name.len() > REGISTRY_NAME_MAX {
        return Err(bad(format!("at most {REGISTRY_NAME_MAX} characters")));
    }
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return Err(bad("it must start with a letter or digit".into()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-".contains(*c)))
    {
        return Err(bad(format!(
            "'{}' is not allowed (use letters, digits, '.', '_' and '-')",
            c.escape_default()
        )));
    }
    let url = entry.url.trim();
    if url.is_empty() {
        return Err(Error::usage(format!(
            "the URL of registry '{name}' is empty"
        )));
    }
    crate::endpoint::Endpoint::parse_with(
        url,
        crate::endpoint::EndpointOptions {
            insecure: entry.insecure,
            skip_verify: entry.skip_verify,
        },
    )?;
    Ok(RegistryEntry {
        name: name.to_owned(),
        url: url.to_owned(),
        insecure: entry.insecure,
        skip_verify: entry.skip_verify,
    })
}

fn registry_names(doc: &toml_edit::DocumentMut) -> Vec<String> {
    let Some(list) = doc.get("registries").and_then(|r| r.get("list")) else {
        return Vec::new();
    };
    let name_of =
        |t: &dyn toml_edit::TableLike| t.get("name").and_then(|n| n.as_str()).map(str::to_owned);
    match list {
        toml_edit::Item::ArrayOfTables(aot) => aot.iter().filter_map(|t| name_of(t)).collect(),
        toml_edit::Item::Value(toml_edit::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_inline_table().and_then(|t| name_of(t)))
            .collect(),
        _ => Vec::new(),
    }
}

fn unknown_registry(name: &str, doc: &toml_edit::DocumentMut) -> Error {
    let names = registry_names(doc);
    let err = Error::not_found(format!("no registry named '{name}' is configured"));
    if names.is_empty() {
        err.with_hint("add one with 'rex registry init <name> <url>'")
    } else {
        err.with_hint(format!("configured: {}", names.join(", ")))
    }
}

/// Add a registry to the file (Usage error if the name exists); `make_current` also
/// selects it. Credentials never go here.
pub fn add_registry(path: &Path, entry: &RegistryEntry, make_current: bool) -> Result<()> {
    let entry = validate_registry_entry(entry)?;
    let mut doc = load_document(path)?;
    if registry_names(&doc).contains(&entry.name) {
        return Err(
            Error::usage(format!("a registry named '{}' already exists", entry.name)).with_hint(
                format!(
                    "choose another name, or remove it first with 'rex registry remove {}'",
                    entry.name
                ),
            ),
        );
    }
    let registries = table_at(&mut doc, &["registries"], path)?;
    let mut t = toml_edit::Table::new();
    t.insert("name", toml_edit::value(entry.name.as_str()));
    t.insert("url", toml_edit::value(entry.url.as_str()));
    t.insert("insecure", toml_edit::value(entry.insecure));
    t.insert("skip_verify", toml_edit::value(entry.skip_verify));
    match registries.get_mut("list") {
        None => {
            let mut aot = toml_edit::ArrayOfTables::new();
            aot.push(t);
            registries.insert("list", toml_edit::Item::ArrayOfTables(aot));
        }
        Some(toml_edit::Item::ArrayOfTables(aot)) => aot.push(t),
        Some(toml_edit::Item::Value(toml_edit::Value::Array(a))) => {
            a.push(toml_edit::Value::InlineTable(t.into_inline_table()));
        }
        Some(_) => {
            return Err(Error::config(format!(
                "cannot edit {}: registries.list is not a list of tables",
                path.display()
            )))
        }
    }
    if make_current {
        set_item(registries, "current", entry.name.as_str().into());
    }
    save_document(path, &doc)
}

/// Remove the registry `name` from the file (NotFound if absent). If it was current,
/// `registries.current` is removed too.
pub fn remove_registry(path: &Path, name: &str) -> Result<()> {
    let mut doc = load_document(path)?;
    if !registry_names(&doc).iter().any(|n| n == name) {
        return Err(unknown_registry(name, &doc));
    }
    let registries = table_at(&mut doc, &["registries"], path)?;
    let matches =
        |t: &dyn toml_edit::TableLike| t.get("name").and_then(|n| n.as_str()) == Some(name);
    match registries.get_mut("list") {
        Some(toml_edit::Item::ArrayOfTables(aot)) => aot.retain(|t| !matches(t)),
        Some(toml_edit::Item::Value(toml_edit::Value::Array(a))) => {
            a.retain(|v| !v.as_inline_table().is_some_and(|t| matches(t)))
        }
        _ => {}
    }
    if registries.get("current").and_then(|c| c.as_str()) == Some(name) {
        registries.remove("current");
    }
    save_document(path, &doc)
}

/// Select `name` as the current registry (NotFound unless configured), or clear the
/// selection with `None`.
pub fn set_current_registry(path: &Path, name: Option<&str>) -> Result<()> {
    let mut doc = load_document(path)?;
    match name {
        Some(name) => {
            if !registry_names(&doc).iter().any(|n| n == name) {
                return Err(unknown_registry(name, &doc));
            }
            let registries = table_at(&mut doc, &["registries"], path)?;
            set_item(registries, "current", name.into());
        }
        None => {
            if !unset_in_doc(&mut doc, "registries.current") {
                return Ok(());
            }
        }
    }
    save_document(path, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn with_file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn resolve(
        file: Option<&Path>,
        env_pairs: &[(&str, &str)],
        overrides: Overrides,
    ) -> Result<ResolvedConfig> {
        Settings::resolve(&ConfigSources {
            file: file.map(Path::to_owned),
            file_required: false,
            env: env(env_pairs),
            overrides,
        })
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let r = resolve(None, &[], Overrides::default()).unwrap();
        let mut expected = Settings::default();
        expected.runtime.origins = BTreeMap::new();
        assert_eq!(r.settings, expected);
        assert!(r.origins.is_empty());
        assert_eq!(r.origin("network.timeout"), Origin::Default);
        // A missing optional file is fine.
        let r = resolve(
            Some(Path::new("/nonexistent/rex/config.toml")),
            &[],
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(r.settings.network.timeout, 30);
        assert_eq!(
            r.settings.runtime.config_file,
            Some(PathBuf::from("/nonexistent/rex/config.toml"))
        );
    }

    #[test]
    fn precedence_default_file_env_flag() {
        let (_d, path) = with_file(
            "[output]\nformat = \"yaml\"\ncolor = \"always\"\n[network]\ntimeout = 10\nretry_attempts = 5\n\
             [cache.ttl]\ncatalog = 60\n",
        );
        let r = resolve(Some(&path), &[], Overrides::default()).unwrap();
        assert_eq!(r.settings.network.timeout, 10);
        assert_eq!(r.settings.output.format, Some(OutputFormat::Yaml));
        assert_eq!(r.settings.cache.ttl.catalog, 60);
        assert_eq!(
            r.settings.cache.ttl.tags, 300,
            "untouched keys keep defaults"
        );
        assert_eq!(r.origin("network.timeout"), Origin::File);
        assert_eq!(r.origin("cache.ttl.tags"), Origin::Default);

        let e = [
            ("REX_TIMEOUT", "20"),
            ("REX_OUTPUT_FORMAT", "json"),
            ("REX_NO_VERIFY_TLS", "1"),
        ];
        let r = resolve(Some(&path), &e, Overrides::default()).unwrap();
        assert_eq!(r.settings.network.timeout, 20, "env beats file");
        assert_eq!(r.settings.output.format, Some(OutputFormat::Json));
        assert!(!r.settings.network.verify_tls);
        assert_eq!(
            r.settings.network.retry_attempts, 5,
            "file value still applies"
        );
        assert_eq!(r.origin("network.timeout"), Origin::Env);
        assert_eq!(r.origin("network.verify_tls"), Origin::Env);

        let flags = Overrides {
            timeout: Some(40),
            format: Some(OutputFormat::Pretty),
            quiet: Some(true),
            verbose: 2,
            ..Overrides::default()
        };
        let r = resolve(Some(&path), &e, flags).unwrap();
        assert_eq!(r.settings.network.timeout, 40, "flag beats env");
        assert_eq!(r.settings.output.format, Some(OutputFormat::Pretty));
        assert!(r.settings.output.quiet);
        assert_eq!(r.settings.runtime.verbose, 2);
        assert_eq!(r.origin("network.timeout"), Origin::Flag);
        assert_eq!(r.origin("output.color"), Origin::File);
        assert_eq!(
            r.settings.runtime.origins, r.origins,
            "origins travel with the settings"
        );
    }

    #[test]
    fn env_output_format_auto_clears_the_file_value() {
        let (_d, path) = with_file("[output]\nformat = \"json\"\n");
        let r = resolve(
            Some(&path),
            &[("REX_OUTPUT_FORMAT", "auto")],
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(r.settings.output.format, None);
        assert_eq!(r.origin("output.format"), Origin::Env);
    }

    #[test]
    fn no_color_rules() {
        let r = resolve(None, &[("NO_COLOR", "1")], Overrides::default()).unwrap();
        assert_eq!(r.settings.output.color, ColorChoice::Never);
        assert_eq!(r.origin("output.color"), Origin::Env);
        let r = resolve(None, &[("NO_COLOR", "")], Overrides::default()).unwrap();
        assert_eq!(
            r.settings.output.color,
            ColorChoice::Auto,
            "empty NO_COLOR is unset"
        );
        let r = resolve(
            None,
            &[("NO_COLOR", "1"), ("REX_COLOR", "always")],
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(r.settings.output.color, ColorChoice::Always);
        let flags = Overrides {
            color: Some(ColorChoice::Always),
            ..Overrides::default()
        };
        let r = resolve(None, &[("NO_COLOR", "1")], flags).unwrap();
        assert_eq!(r.settings.output.color, ColorChoice::Always);
        assert_eq!(r.origin("output.color"), Origin::Flag);
    }

    #[test]
    fn runtime_values_from_env_and_flags() {
        let (_d, path) = with_file("[cache]\nlocation = \"/from/file\"\n");
        let e = [
            ("REX_REGISTRY", "ghcr.io"),
            ("REX_NO_CACHE", "yes"),
            ("HTTPS_PROXY", "http://upper:3128"),
            ("https_proxy", "http://lower:3128"),
            ("NO_PROXY", "localhost"),
            ("HOME", "/home/ignored"),
        ];
        let r = resolve(Some(&path), &e, Overrides::default()).unwrap();
        assert_eq!(r.settings.runtime.registry.as_deref(), Some("ghcr.io"));
        assert!(r.settings.runtime.no_cache);
        assert_eq!(
            r.settings.runtime.cache_dir,
            Some(PathBuf::from("/from/file"))
        );
        assert_eq!(r.origin("runtime.cache_dir"), Origin::File);
        assert_eq!(
            r.settings.network.proxy.https.as_deref(),
            Some("http://lower:3128")
        );
        assert_eq!(
            r.settings.network.proxy.no_proxy.as_deref(),
            Some("localhost")
        );

        let r = resolve(
            Some(&path),
            &[("REX_CACHE_DIR", "/from/env"), ("REX_NO_CACHE", "0")],
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            r.settings.runtime.cache_dir,
            Some(PathBuf::from("/from/env"))
        );
        assert!(
            !r.settings.runtime.no_cache,
            "REX_NO_CACHE=0 does not disable the cache"
        );

        let flags = Overrides {
            registry: Some("local".into()),
            cache_dir: Some("/from/flag".into()),
            no_cache: true,
            no_verify_tls: true,
            ..Overrides::default()
        };
        let r = resolve(
            Some(&path),
            &[("REX_REGISTRY", "ghcr.io"), ("REX_CACHE_DIR", "/e")],
            flags,
        )
        .unwrap();
        assert_eq!(r.settings.runtime.registry.as_deref(), Some("local"));
        assert_eq!(r.origin("runtime.registry"), Origin::Flag);
        assert_eq!(
            r.settings.runtime.cache_dir,
            Some(PathBuf::from("/from/flag"))
        );
        assert!(r.settings.runtime.no_cache);
        assert!(!r.settings.network.verify_tls);
    }

    #[test]
    fn bad_values_name_the_key_and_the_source() {
        let cases: &[(&str, &str)] = &[
            ("[network]\ntimeout = \"abc\"\n", "invalid value for network.timeout in {file}: expected an integer, found \"abc\""),
            ("[network]\ntimeout = -5\n", "invalid value for network.timeout in {file}: expected a non-negative integer, found -5"),
            ("[output]\nformat = \"xml\"\n", "invalid value for output.format in {file}: expected one of pretty, json, yaml, found \"xml\""),
            ("[network]\nverify_tls = \"maybe\"\n", "invalid value for network.verify_tls in {file}: expected a boolean (true or false), found \"maybe\""),
            ("[network]\npage_size = 5000\n", "invalid value for network.page_size in {file}: must be between 1 and 1000, found 5000"),
            ("[network]\ntimeout = 0\n", "invalid value for network.timeout in {file}: must be between 1 and 86400, found 0"),
            ("network = 5\n", "invalid value for network in {file}: expected a table, found 5"),
            ("[[registries.list]]\nname = \"x\"\n", "invalid value for registries.list[0] in {file}: the field 'url' is missing"),
        ];
        for (text, want) in cases {
            let (_d, path) = with_file(text);
            let err = resolve(Some(&path), &[], Overrides::default()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{text}");
            let want = want.replace("{file}", &path.display().to_string());
            assert_eq!(err.message(), want, "{text}");
        }
        let err = resolve(None, &[("REX_TIMEOUT", "soon")], Overrides::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(
            err.message()
                .contains("network.timeout in environment variable REX_TIMEOUT"),
            "{}",
            err.message()
        );
        assert!(err.message().contains("\"soon\""));
        let err = resolve(None, &[("REX_COLOR", "rainbow")], Overrides::default()).unwrap_err();
        assert!(
            err.message().contains("REX_COLOR") && err.message().contains("rainbow"),
            "{}",
            err.message()
        );
        let err = resolve(None, &[("REX_OUTPUT_FORMAT", "xml")], Overrides::default()).unwrap_err();
        assert!(
            err.message()
                .contains("expected one of: pretty, json, yaml"),
            "{}",
            err.message()
        );
        let flags = Overrides {
            timeout: Some(0),
            ..Overrides::default()
        };
        let err = resolve(None, &[], flags).unwrap_err();
        assert_eq!(err.message(), "invalid value for network.timeout in flag --timeout: must be between 1 and 86400, found 0");
    }

    #[test]
    fn broken_and_required_files() {
        let (_d, path) = with_file("[network\ntimeout = 1\n");
        let err = resolve(Some(&path), &[], Overrides::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(
            err.message()
                .starts_with(&format!("invalid config file {}", path.display())),
            "{}",
            err.message()
        );
        assert!(err.message().contains("line 1"), "{}", err.message());

        let err = Settings::resolve(&ConfigSources {
            file: Some("/nonexistent/rex.toml".into()),
            file_required: true,
            ..ConfigSources::default()
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(
            err.message(),
            "config file /nonexistent/rex.toml does not exist"
        );
        assert!(validate_file(Path::new("/nonexistent/rex.toml")).is_err());
    }

    #[test]
    fn unknown_keys_warn_but_load() {
        let (_d, path) = with_file(
            "[network]\ntimout = 5\ntimeout = 7\n[colour]\nx = 1\n[runtime]\nregistry = \"evil\"\n",
        );
        let r = resolve(Some(&path), &[], Overrides::default()).unwrap();
        assert_eq!(r.settings.network.timeout, 7);
        assert_eq!(
            r.settings.runtime.registry, None,
            "[runtime] in the file is ignored"
        );
        let all = r.warnings.join("\n");
        assert!(
            all.contains("unknown key network.timout (did you mean network.timeout?)"),
            "{all}"
        );
        assert!(all.contains("unknown key colour"), "{all}");
        assert!(all.contains("ignoring [runtime]"), "{all}");
    }

    #[test]
    fn every_key_resolves_and_has_a_consistent_spec() {
        let s = Settings::default();
        for spec in KEYS {
            let v = s
                .get_value(spec.key)
                .unwrap_or_else(|e| panic!("{}: {e}", spec.key));
            match spec.kind {
                KeyKind::Bool => assert!(v.is_boolean(), "{}", spec.key),
                KeyKind::Integer => {
                    let n = v.as_u64().unwrap_or_else(|| panic!("{}", spec.key));
                    let (lo, hi) = spec.range.unwrap();
                    assert!(lo <= n && n <= hi, "default of {} is in range", spec.key);
                }
                KeyKind::Enum => {
                    let text = s.get(spec.key).unwrap();
                    assert!(
                        spec.allowed.contains(&text.as_str()),
                        "{}: {text}",
                        spec.key
                    );
                }
                KeyKind::String | KeyKind::Path => {
                    assert!(v.is_null() || v.is_string(), "{}", spec.key)
                }
            }
            assert!(!spec.description.is_empty());
        }
        assert_eq!(s.get("output.format").unwrap(), "auto");
        assert_eq!(s.get("network.timeout").unwrap(), "30");
        assert_eq!(s.get("cache.behavior.consistency").unwrap(), "weak");
        assert_eq!(s.get("registries.current").unwrap(), "");
        let err = s.get("network.timout").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.hint().unwrap().contains("network.timeout"));
        // The environment table points at real settings.
        for v in ENV_VARS {
            if let Some(k) = v.key {
                s.get_value(k).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            }
        }
    }

    #[test]
    fn set_preserves_comments_and_other_keys() {
        let original = "# rex settings\n[output]\nformat = \"json\" # for scripts\n\n\
                        # network tuning\n[network]\ntimeout = 30 # seconds\nfuture_key = \"kept\"\n";
        let (dir, path) = with_file(original);
        let v = set_in_file(&path, "network.timeout", "60").unwrap();
        assert_eq!(v, serde_json::json!(60));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, original.replace("timeout = 30 #", "timeout = 60 #"));

        set_in_file(&path, "cache.ttl.catalog", "600").unwrap();
        set_in_file(&path, "tui.vim_bindings", "off").unwrap();
        set_in_file(&path, "output.color", "ALWAYS").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# rex settings\n"), "{text}");
        assert!(text.contains("# network tuning"));
        assert!(text.contains("future_key = \"kept\""));
        assert!(text.contains("[cache.ttl]\ncatalog = 600"), "{text}");
        assert!(
            !text.contains("[cache]\n"),
            "no empty parent header: {text}"
        );
        assert!(text.contains("vim_bindings = false"));
        assert!(text.contains("color = \"always\""));
        let r = resolve(Some(&path), &[], Overrides::default()).unwrap();
        assert_eq!(r.settings.cache.ttl.catalog, 600);
        assert!(!r.settings.tui.vim_bindings);
        assert_eq!(r.settings.output.color, ColorChoice::Always);

        // auto removes the key; unset removes others.
        set_in_file(&path, "output.format", "auto").unwrap();
        assert!(unset_in_file(&path, "cache.ttl.catalog").unwrap());
        assert!(!unset_in_file(&path, "cache.ttl.catalog").unwrap());
        let r = resolve(Some(&path), &[], Overrides::default()).unwrap();
        assert_eq!(r.settings.output.format, None);
        assert_eq!(r.settings.cache.ttl.catalog, 300);

        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn set_validates_and_leaves_the_file_alone_on_error() {
        let (_d, path) = with_file("[network]\ntimeout = 30\n");
        for (key, value, needle) in [
            (
                "network.timeout",
                "abc",
                "expected a non-negative integer, found \"abc\"",
            ),
            ("network.timeout", "0", "must be between 1 and 86400"),
            ("network.page_size", "1001", "must be between 1 and 1000"),
            (
                "output.format",
                "xml",
                "expected one of pretty, json, yaml, auto",
            ),
            ("network.verify_tls", "maybe", "expected true or false"),
            ("cache.location", "  ", "empty"),
            ("nope.key", "1", "unknown configuration key 'nope.key'"),
            ("registries.current", "ghost", "no registry named 'ghost'"),
        ] {
            let err = set_in_file(&path, key, value).unwrap_err();
            assert!(
                err.message().contains(needle),
                "{key}={value}: {}",
                err.message()
            );
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                "[network]\ntimeout = 30\n"
            );
        }
        let err = set_in_file(&path, "network.timeuot", "5").unwrap_err();
        assert!(err.hint().unwrap().contains("network.timeout"));
    }

    #[test]
    fn set_creates_the_file_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/config.toml");
        set_in_file(&path, "output.format", "yaml").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[output]\nformat = \"yaml\"\n"
        );
    }

    #[test]
    fn set_refuses_to_edit_a_broken_file() {
        let (_d, path) = with_file("[network\n");
        let err = set_in_file(&path, "network.timeout", "5").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("not valid TOML"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[network\n");
        let (_d, path) = with_file("network = 5\n");
        let err = set_in_file(&path, "network.timeout", "5").unwrap_err();
        assert!(
            err.message().contains("'network' is a value, not a table"),
            "{}",
            err.message()
        );
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_follows_symlinks_and_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/rex.toml");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(&real, "[tui]\ntheme = \"dark\"\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        set_in_file(&link, "tui.theme", "light").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(&real).unwrap(),
            "[tui]\ntheme = \"light\"\n"
        );
        assert_eq!(
            std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    fn entry(name: &str, url: &str, insecure: bool) -> RegistryEntry {
        RegistryEntry {
            name: name.into(),
            url: url.into(),
            insecure,
            skip_verify: false,
        }
    }

    #[test]
    fn registry_list_editing() {
        let (_d, path) = with_file("# my registries\n[output]\nformat = \"json\"\n");
        add_registry(&path, &entry("local", "http://localhost:5000", true), false).unwrap();
        add_registry(
            &path,
            &entry(" prod ", "https://registry.example.com", false),
            true,
        )
        .unwrap();
        let err = add_registry(&path, &entry("local", "localhost:6000", false), false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(err.message(), "a registry named 'local' already exists");

        let r = resolve(Some(&path), &[], Overrides::default()).unwrap();
        assert_eq!(r.settings.registries.list.len(), 2);
        assert_eq!(
            r.settings.registries.list[1].name, "prod",
            "names are trimmed"
        );
        assert_eq!(r.settings.registries.current.as_deref(), Some("prod"));
        assert!(r.settings.registries.list[0].insecure);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my registries\n"), "{text}");
        assert!(!text.contains("password"));

        set_current_registry(&path, Some("local")).unwrap();
        let err = set_current_registry(&path, Some("ghost")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.hint().unwrap().contains("local, prod"));
        set_in_file(&path, "registries.current", "prod").unwrap();
        set_current_registry(&path, Some("local")).unwrap();

        remove_registry(&path, "local").unwrap();
        let r = resolve(Some(&path), &[], Overrides::default()).unwrap();
        assert_eq!(r.settings.registries.list.len(), 1);
        assert_eq!(
            r.settings.registries.current, None,
            "removing the current one clears it"
        );
        assert_eq!(
            remove_registry(&path, "local").unwrap_err().kind(),
            ErrorKind::NotFound
        );

        set_current_registry(&path, Some("prod")).unwrap();
        set_current_registry(&path, None).unwrap();
        let r = resolve(Some(&path), &[], Overrides::default()).unwrap();
        assert_eq!(r.settings.registries.current, None);
        assert_eq!(
            r.settings.output.format,
            Some(OutputFormat::Json),
            "other keys untouched"
        );
    }

    #[test]
    fn registry_list_as_inline_array() {
        let (_d, path) =
            with_file("[registries]\nlist = [{ name = \"a\", url = \"https://a.example.com\" }]\n");
        add_registry(&path, &entry("b", "https://b.example.com", false), false).unwrap();
        remove_registry(&path, "a").unwrap();
        let r = resolve(Some(&path), &[], Overrides::default()).unwrap();
        assert_eq!(
            r.settings.registries.list,
            vec![entry("b", "https://b.example.com", false)]
        );
    }

    #[test]
    fn registry_entries_are_validated() {
        for (e, needle) in [
            (entry("", "https://x.example.com", false), "name is empty"),
            (
                entry("-x", "https://x.example.com", false),
                "start with a letter or digit",
            ),
            (
                entry("a b", "https://x.example.com", false),
                "' ' is not allowed",
            ),
            (
                entry(&"a".repeat(65), "https://x.example.com", false),
                "at most 64",
            ),
            (entry("x", " ", false), "URL of registry 'x' is empty"),
            (
                entry("x", "ftp://x.example.com", false),
                "unsupported scheme",
            ),
            (
                entry("x", "http://x.example.com", false),
                "refusing plain http",
            ),
        ] {
            let err = validate_registry_entry(&e).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage);
            assert!(err.message().contains(needle), "{e:?}: {}", err.message());
        }
        validate_registry_entry(&entry("x", "http://x.example.com", true)).unwrap();
    }

    #[test]
    fn picking_the_registry() {
        let mut s = Settings::default();
        let t = s.resolve_registry().unwrap();
        assert_eq!(
            t,
            RegistryTarget {
                name: None,
                url: "localhost:5000".into(),
                insecure: false,
                skip_verify: false
            }
        );

        s.registries.list = vec![
            entry("local", "http://localhost:5000", true),
            RegistryEntry {
                skip_verify: true,
                ..entry("lab", "https://lab.example.com:8443", false)
            },
        ];
        s.registries.current = Some("lab".into());
        let t = s.resolve_registry().unwrap();
        assert_eq!(t.name.as_deref(), Some("lab"));
        assert!(t.skip_verify);

        s.runtime.registry = Some("local".into());
        let t = s.resolve_registry().unwrap();
        assert_eq!(
            (t.name.as_deref(), t.url.as_str(), t.insecure),
            (Some("local"), "http://localhost:5000", true)
        );

        // An address matching a configured URL inherits its settings.
        s.runtime.registry = Some("LOCALHOST:5000".into());
        let t = s.resolve_registry().unwrap();
        assert_eq!(
            (t.name.as_deref(), t.url.as_str(), t.insecure),
            (Some("local"), "http://localhost:5000", true)
        );
        s.runtime.registry = Some("https://lab.example.com:8443/".into());
        assert_eq!(s.resolve_registry().unwrap().name.as_deref(), Some("lab"));

        s.runtime.registry = Some("ghcr.io".into());
        let t = s.resolve_registry().unwrap();
        assert_eq!(
            t,
            RegistryTarget {
                name: None,
                url: "ghcr.io".into(),
                insecure: false,
                skip_verify: false
            }
        );

        s.runtime.registry = Some("  ".into());
        s.registries.current = Some("gone".into());
        let err = s.resolve_registry().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("'gone'"));
    }

    #[test]
    fn explicit_keys_cover_file_env_and_flags() {
        let (_d, path) = with_file("[network]\ntimeout = 9\n");
        let flags = Overrides {
            quiet: Some(true),
            ..Overrides::default()
        };
        let r = resolve(Some(&path), &[("REX_COLOR", "never")], flags).unwrap();
        let keys = explicit_keys(&r.settings, &path).unwrap();
        for k in ["network.timeout", "output.color", "output.quiet"] {
            assert!(keys.contains(k), "{k}: {keys:?}");
        }
        assert!(!keys.contains("network.retry_attempts"));
        // Settings that arrived without origins still see the file's keys.
        let keys = explicit_keys(&Settings::default(), &path).unwrap();
        assert!(keys.contains("network.timeout"));
        assert_eq!(validate_file(&path).unwrap().network.timeout, 9);
    }

    #[test]
    fn choice_enums_parse_and_print() {
        assert_eq!("JSON".parse::<OutputFormat>().unwrap(), OutputFormat::Json);
        assert_eq!(ColorChoice::Never.to_string(), "never");
        assert_eq!(
            "eventual".parse::<Consistency>().unwrap(),
            Consistency::Eventual
        );
        let err = "blue".parse::<Theme>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(
            err.message(),
            "unknown theme 'blue', expected one of: dark, light"
        );
    }

    #[test]
    fn settings_round_trip_through_json_with_origins() {
        let (_d, path) = with_file("[network]\ntimeout = 9\n");
        let r = resolve(Some(&path), &[], Overrides::default()).unwrap();
        let json = serde_json::to_value(&r.settings).unwrap();
        assert_eq!(json["runtime"]["origins"]["network.timeout"], "file");
        let back: Settings = serde_json::from_value(json).unwrap();
        assert_eq!(back, r.settings);
    }
}
