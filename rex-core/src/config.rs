//! Configuration: one [`Settings`] value resolved from defaults < config file < `REX_*`
//! environment < flags (seed 1.8, 2.3, 2.9).
//!
//! The caller (the `rex` binary) collects the environment and flags and passes them in as
//! data; this module never reads the process environment itself.
//!
//! NOTE: the data shape below is shared by every crate (plugins receive it serialised).
//! Add fields with `#[serde(default)]`; never remove or rename one.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
    /// rex's own data directory (`$XDG_DATA_HOME/rex`): credentials fallback, plugins.
    pub data_dir: Option<PathBuf>,
    /// The state directory (`$XDG_STATE_HOME/rex`): logs.
    pub state_dir: Option<PathBuf>,
    /// Where credentials are read from (docker/podman files, helpers), as resolved by the host.
    pub credentials: crate::credentials::CredentialSources,
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
