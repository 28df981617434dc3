//! The one place that turns flags, the environment and the config file into a
//! `rex_core::config::Settings` (flags > env > config file > defaults, seed 2.9).
//!
//! rex-core never reads the environment: everything it needs (XDG paths, credential
//! sources, proxies) is resolved here and handed over in `Settings.runtime`.

use crate::cli::GlobalFlags;
use rex_core::config::{ColorChoice, ConfigSources, OutputFormat, Overrides, Settings};
use rex_core::credentials::CredentialSources;
use rex_plugin_api::{ErrorKind, PluginError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A snapshot of the process environment, taken once at start-up. Nothing else in rex
/// calls `std::env::var`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    pub fn capture() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
        }
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Environment {
        Environment {
            vars: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The value, if set and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Every variable, for rex-core's config layer (it picks the ones it knows).
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// A switch like `REX_NO_CACHE`: set to anything except empty, `0`, `false`, `no`.
    pub fn is_true(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| {
            !matches!(
                v.to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off"
            )
        })
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }

    /// An XDG base directory: the variable if it is an absolute path, else `$HOME/<fallback>`.
    fn xdg(&self, var: &str, fallback: &str) -> Option<PathBuf> {
        match self.get(var).map(PathBuf::from) {
            Some(p) if p.is_absolute() => Some(p),
            _ => self.home().map(|h| h.join(fallback)),
        }
    }

    pub fn config_home(&self) -> Option<PathBuf> {
        self.xdg("XDG_CONFIG_HOME", ".config")
    }
    pub fn cache_home(&self) -> Option<PathBuf> {
        self.xdg("XDG_CACHE_HOME", ".cache")
    }
    pub fn data_home(&self) -> Option<PathBuf> {
        self.xdg("XDG_DATA_HOME", ".local/share")
    }
    pub fn state_home(&self) -> Option<PathBuf> {
        self.xdg("XDG_STATE_HOME", ".local/state")
    }

    /// `$XDG_DATA_HOME/rex`: installed plugins, credential fallback store.
    pub fn rex_data_dir(&self) -> Option<PathBuf> {
        self.data_home().map(|d| d.join("rex"))
    }

    /// `$XDG_CACHE_HOME/rex` (host files such as the plugin description cache live here
    /// regardless of `--cache-dir`, which is about registry data).
    pub fn rex_cache_home(&self) -> Option<PathBuf> {
        self.cache_home().map(|d| d.join("rex"))
    }

    fn path_list(&self, key: &str) -> Vec<PathBuf> {
        self.get(key)
            .map(|v| {
                std::env::split_paths(v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `$REX_PLUGIN_PATH` entries (colon-separated).
    pub fn plugin_path(&self) -> Vec<PathBuf> {
        self.path_list("REX_PLUGIN_PATH")
    }
}

/// Where credentials may be found (docker, podman, helpers on `PATH`).
fn credential_sources(env: &Environment, data_dir: Option<&Path>) -> CredentialSources {
    let docker_config = env
        .get("DOCKER_CONFIG")
        .map(|d| PathBuf::from(d).join("config.json"))
        .or_else(|| env.home().map(|h| h.join(".docker/config.json")));
    let mut podman_auth = Vec::new();
    if let Some(f) = env.get("REGISTRY_AUTH_FILE") {
        podman_auth.push(PathBuf::from(f));
    }
    if let Some(r) = env.get("XDG_RUNTIME_DIR") {
        podman_auth.push(PathBuf::from(r).join("containers/auth.json"));
    }
    if let Some(c) = env.config_home() {
        podman_auth.push(c.join("containers/auth.json"));
    }
    CredentialSources {
        docker_config,
        podman_auth,
        // No keyring where there is no session to hold one (CI, tests).
        use_keyring: !env.is_true("REX_NO_KEYRING"),
        fallback_file: data_dir.map(|d| d.join("credentials.json")),
        helper_path: env.path_list("PATH"),
    }
}

/// The config file in use and whether it must exist (it was named explicitly).
pub fn config_file(flags: &GlobalFlags, env: &Environment) -> (Option<PathBuf>, bool) {
    if let Some(p) = &flags.config {
        return (Some(p.clone()), true);
    }
    if let Some(p) = env.get("REX_CONFIG") {
        return (Some(PathBuf::from(p)), true);
    }
    (env.config_home().map(|c| c.join("rex/config.toml")), false)
}

/// rex-core's errors have the same kinds (and snake_case names) as plugin errors.
pub fn core_error(e: rex_core::Error) -> PluginError {
    let kind = serde_json::to_value(e.kind())
        .ok()
        .and_then(|v| v.as_str().map(ErrorKind::from_name))
        .unwrap_or(ErrorKind::General);
    let mut err = PluginError::new(kind, e.to_string());
    if let Some(h) = e.hint() {
        err = err.with_hint(h);
    }
    err
}

fn overrides(flags: &GlobalFlags) -> Overrides {
    // clap has already restricted these values to the listed words.
    let format = flags.format.as_deref().and_then(|f| match f {
        "pretty" => Some(OutputFormat::Pretty),
        "json" => Some(OutputFormat::Json),
        "yaml" => Some(OutputFormat::Yaml),
        _ => None,
    });
    let color = if flags.no_color {
        Some(ColorChoice::Never)
    } else {
        flags.color.as_deref().and_then(|c| match c {
            "auto" => Some(ColorChoice::Auto),
            "always" => Some(ColorChoice::Always),
            "never" => Some(ColorChoice::Never),
            _ => None,
        })
    };
    Overrides {
        registry: flags.registry.clone(),
        format,
        color,
        quiet: flags.quiet.then_some(true),
        timeout: flags.timeout,
        no_verify_tls: flags.no_verify_tls,
        no_cache: flags.no_cache,
        cache_dir: flags.cache_dir.clone(),
        verbose: flags.verbose,
    }
}

/// Resolve every setting for this run: defaults < config file < `REX_*` env < flags
/// (rex-core's `Settings::resolve`), then the paths only the host can know: XDG
/// directories and credential sources.
pub fn resolve(flags: &GlobalFlags, env: &Environment) -> Result<Settings, PluginError> {
    resolve_with(flags, env, true)
}

/// As [`resolve`] but leaving the config file out (env and flags still apply), for the
/// commands that must run while the file is broken. `runtime.config_file` still names
/// it, so `rex config edit` opens the file that needs fixing.
pub fn resolve_without_file(
    flags: &GlobalFlags,
    env: &Environment,
) -> Result<Settings, PluginError> {
    resolve_with(flags, env, false)
}

fn resolve_with(
    flags: &GlobalFlags,
    env: &Environment,
    read_file: bool,
) -> Result<Settings, PluginError> {
    let (file, file_required) = config_file(flags, env);
    let sources = ConfigSources {
        file: file.clone().filter(|_| read_file),
        file_required,
        env: env.pairs(),
        overrides: overrides(flags),
    };
    let mut s = Settings::resolve(&sources).map_err(core_error)?.settings;
    s.runtime.config_file = file;
    let data_dir = env.rex_data_dir();
    let rt = &mut s.runtime;
    // Set by --cache-dir or REX_CACHE_DIR: the user asked for this directory.
    rt.cache_required = rt.cache_dir.is_some();
    if rt.cache_dir.is_none() {
        rt.cache_dir = env.rex_cache_home();
    }
    rt.state_dir = env.state_home().map(|d| d.join("rex"));
    rt.credentials = credential_sources(env, data_dir.as_deref());
    rt.data_dir = data_dir;
    // `rex config edit` opens $EDITOR; plugins may not read the environment themselves.
    rt.editor = env
        .get("EDITOR")
        .filter(|e| !e.trim().is_empty())
        .map(str::to_owned);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> GlobalFlags {
        GlobalFlags::default()
    }

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(
            &cfg,
            "[network]\ntimeout = 10\nverify_tls = true\n[output]\nformat = \"yaml\"\n",
        )
        .unwrap();
        let cfg_s = cfg.to_string_lossy().into_owned();
        let env = Environment::from_pairs(&[
            ("REX_CONFIG", &cfg_s),
            ("HOME", "/home/u"),
            ("REX_TIMEOUT", "20"),
        ]);
        let s = resolve(&flags(), &env).unwrap();
        assert_eq!(s.network.timeout, 20, "env beats file");
        assert_eq!(
            s.output.format,
            Some(OutputFormat::Yaml),
            "file beats default"
        );
        let f = GlobalFlags {
            timeout: Some(40),
            format: Some("json".into()),
            ..flags()
        };
        let s = resolve(&f, &env).unwrap();
        assert_eq!(s.network.timeout, 40, "flag beats env");
        assert_eq!(s.output.format, Some(OutputFormat::Json));
    }

    #[test]
    fn xdg_paths_and_credentials_come_from_the_environment() {
        let env = Environment::from_pairs(&[
            ("HOME", "/home/u"),
            ("XDG_DATA_HOME", "/data"),
            ("XDG_CACHE_HOME", "relative/ignored"),
            ("DOCKER_CONFIG", "/dc"),
            ("REGISTRY_AUTH_FILE", "/auth.json"),
            ("PATH", "/bin:/usr/bin"),
            ("HTTPS_PROXY", "http://proxy:3128"),
        ]);
        let s = resolve(&flags(), &env).unwrap();
        assert_eq!(s.runtime.data_dir, Some(PathBuf::from("/data/rex")));
        assert_eq!(
            s.runtime.cache_dir,
            Some(PathBuf::from("/home/u/.cache/rex"))
        );
        assert_eq!(
            s.runtime.config_file,
            Some(PathBuf::from("/home/u/.config/rex/config.toml"))
        );
        assert_eq!(
            s.runtime.credentials.docker_config,
            Some(PathBuf::from("/dc/config.json"))
        );
        assert_eq!(
            s.runtime.credentials.podman_auth[0],
            PathBuf::from("/auth.json")
        );
        assert_eq!(s.runtime.credentials.helper_path.len(), 2);
        assert_eq!(s.network.proxy.https.as_deref(), Some("http://proxy:3128"));
    }

    #[test]
    fn no_color_disables_colour_but_the_flag_wins() {
        let env = Environment::from_pairs(&[("NO_COLOR", "1")]);
        assert_eq!(
            resolve(&flags(), &env).unwrap().output.color,
            ColorChoice::Never
        );
        let f = GlobalFlags {
            color: Some("always".into()),
            ..flags()
        };
        assert_eq!(resolve(&f, &env).unwrap().output.color, ColorChoice::Always);
    }

    #[test]
    fn bad_values_are_config_errors() {
        let env = Environment::from_pairs(&[("REX_TIMEOUT", "soon")]);
        assert_eq!(resolve(&flags(), &env).unwrap_err().kind, ErrorKind::Config);
        let f = GlobalFlags {
            config: Some(PathBuf::from("/nonexistent/rex.toml")),
            ..flags()
        };
        assert_eq!(
            resolve(&f, &Environment::default()).unwrap_err().kind,
            ErrorKind::Config
        );
    }

    #[test]
    fn podman_auth_files_in_podman_order() {
        let env = Environment::from_pairs(&[
            ("HOME", "/home/u"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
            ("REGISTRY_AUTH_FILE", "/explicit/auth.json"),
        ]);
        let c = credential_sources(&env, None);
        assert_eq!(
            c.podman_auth,
            [
                PathBuf::from("/explicit/auth.json"),
                PathBuf::from("/run/user/1000/containers/auth.json"),
                PathBuf::from("/home/u/.config/containers/auth.json"),
            ]
        );
        // Without REGISTRY_AUTH_FILE the runtime dir comes first; XDG_CONFIG_HOME moves
        // the config one.
        let env = Environment::from_pairs(&[
            ("HOME", "/home/u"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
            ("XDG_CONFIG_HOME", "/cfg"),
        ]);
        assert_eq!(
            credential_sources(&env, None).podman_auth,
            [
                PathBuf::from("/run/user/1000/containers/auth.json"),
                PathBuf::from("/cfg/containers/auth.json"),
            ]
        );
        let env = Environment::from_pairs(&[("HOME", "/home/u")]);
        assert_eq!(
            credential_sources(&env, None).podman_auth,
            [PathBuf::from("/home/u/.config/containers/auth.json")]
        );
    }

    /// The resolved sources find credentials in the runtime-dir auth.json before the one
    /// in ~/.config, and in ~/.config when the runtime dir has none.
    #[test]
    fn resolved_sources_read_podman_files_runtime_dir_first() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let run = dir.path().join("run");
        let write = |p: &Path, user: &str| {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let json =
                format!(r#"{{"auths":{{"quay.io":{{"username":"{user}","password":"pw"}}}}}}"#);
            std::fs::write(p, json).unwrap();
        };
        let home_s = home.to_string_lossy().into_owned();
        let run_s = run.to_string_lossy().into_owned();
        let env = Environment::from_pairs(&[
            ("HOME", &home_s),
            ("XDG_RUNTIME_DIR", &run_s),
            ("REX_NO_KEYRING", "1"),
        ]);
        let s = resolve(&flags(), &env).unwrap();
        let store = rex_core::credentials::CredentialStore::new(s.runtime.credentials.clone());
        assert!(store.lookup("quay.io").unwrap().is_none());
        write(&home.join(".config/containers/auth.json"), "from-config");
        assert_eq!(
            store.lookup("quay.io").unwrap().unwrap().username,
            "from-config"
        );
        write(&run.join("containers/auth.json"), "from-runtime");
        assert_eq!(
            store.lookup("quay.io").unwrap().unwrap().username,
            "from-runtime"
        );
    }
}
