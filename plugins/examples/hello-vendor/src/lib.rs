//! Example external plugin: a vendor-style extension (`rex acme …`) built as a cdylib.
//!
//! It shows everything a third-party plugin needs (see `docs/plugins.md`):
//! * a [`Plugin`] with a manifest that declares commands and arguments as data;
//! * structured [`Output`] (the host renders pretty/json/yaml), typed [`PluginError`]s;
//! * `tracing` logs, forwarded to the host (`rex -vv acme ping`);
//! * its own tokio runtime inside `invoke` (the host's runtime never crosses the ABI);
//! * cancellation through `Host::is_cancelled` (Ctrl+C);
//! * rex-core used with the `Settings` the host resolved (flags > env > config file).
//!
//! The plugin's name (and its top-level command) comes from the library's file name:
//! `librex_plugin_hello_vendor.so` is `acme`; a copy named `libacme2.so` is `acme2`. That
//! lets benchmarks and tests install several copies side by side.

use rex_core::config::Settings;
use rex_plugin_api::{
    ApiVersion, ArgKind, ArgSpec, Block, Cell, CommandSpec, ErrorKind, Host, Invocation, Output,
    Plugin, PluginError, PluginManifest, Progress, Style, API_VERSION,
};
use serde_json::json;
use std::time::{Duration, Instant};

/// The example vendor plugin.
pub struct HelloVendor {
    name: String,
}

impl Default for HelloVendor {
    fn default() -> Self {
        HelloVendor {
            name: own_name().unwrap_or_else(|| "acme".to_owned()),
        }
    }
}

impl HelloVendor {
    pub fn named(name: impl Into<String>) -> Self {
        HelloVendor { name: name.into() }
    }
}

/// The plugin name derived from the file this code was loaded from (see module docs).
fn own_name() -> Option<String> {
    // SAFETY: dladdr only reads the loader's tables; the address is a function in this
    // library, and `dli_fname` is a NUL-terminated string owned by the loader.
    let path = unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(own_name as *const libc::c_void, &mut info) == 0 || info.dli_fname.is_null()
        {
            return None;
        }
        std::ffi::CStr::from_ptr(info.dli_fname)
            .to_string_lossy()
            .into_owned()
    };
    let stem = std::path::Path::new(&path)
        .file_stem()?
        .to_string_lossy()
        .into_owned();
    let stem = stem.strip_prefix("lib").unwrap_or(&stem);
    if stem.starts_with("rex_plugin_hello_vendor") || !path.ends_with(".so") {
        // The canonical build, or linked statically into a test binary.
        return None;
    }
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    (!name.is_empty()).then_some(name)
}

fn arg(id: &str, help: &str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        id: id.into(),
        help: help.into(),
        kind,
        ..ArgSpec::default()
    }
}

impl Plugin for HelloVendor {
    fn manifest(&self) -> PluginManifest {
        let n = &self.name;
        PluginManifest {
            name: n.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            // export_plugin! overwrites this with the API the library was built against.
            api_version: API_VERSION,
            description: "Example vendor plugin (ACME Registry extensions)".into(),
            commands: vec![CommandSpec {
                name: n.clone(),
                about: "ACME registry extensions (example plugin)".into(),
                long_about: Some(format!(
                    "Example vendor plugin for rex.\n\nExamples:\n  rex {n} ping\n  rex -r localhost:5000 {n} repos\n  rex -vv {n} ping"
                )),
                subcommands: vec![
                    CommandSpec {
                        name: "ping".into(),
                        about: "Check that the selected registry answers (GET /v2/)".into(),
                        runnable: true,
                        ..CommandSpec::default()
                    },
                    CommandSpec {
                        name: "repos".into(),
                        about: "List repositories of the selected registry".into(),
                        runnable: true,
                        args: vec![ArgSpec {
                            long: Some("limit".into()),
                            value_name: Some("N".into()),
                            value_type: rex_plugin_api::ValueType::Integer,
                            ..arg("limit", "Show at most N repositories", ArgKind::Value)
                        }],
                        ..CommandSpec::default()
                    },
                    CommandSpec {
                        name: "echo".into(),
                        about: "Echo the parsed arguments (shows how args arrive)".into(),
                        runnable: true,
                        args: vec![
                            ArgSpec {
                                required: true,
                                ..arg("words", "Words to echo", ArgKind::List)
                            },
                            ArgSpec {
                                long: Some("upper".into()),
                                short: Some('u'),
                                ..arg("upper", "Upper-case the words", ArgKind::Flag)
                            },
                            ArgSpec {
                                long: Some("times".into()),
                                value_name: Some("N".into()),
                                default: Some("1".into()),
                                value_type: rex_plugin_api::ValueType::Integer,
                                ..arg("times", "Repeat N times", ArgKind::Value)
                            },
                        ],
                        ..CommandSpec::default()
                    },
                    CommandSpec {
                        name: "wait".into(),
                        about: "Wait until cancelled (Ctrl+C) or for --seconds".into(),
                        hidden: true,
                        runnable: true,
                        args: vec![ArgSpec {
                            long: Some("seconds".into()),
                            default: Some("30".into()),
                            value_type: rex_plugin_api::ValueType::Integer,
                            ..arg("seconds", "How long to wait", ArgKind::Value)
                        }],
                        ..CommandSpec::default()
                    },
                    CommandSpec {
                        name: "stdin".into(),
                        about: "Count the bytes on standard input (Host::read_stdin)".into(),
                        hidden: true,
                        runnable: true,
                        ..CommandSpec::default()
                    },
                    CommandSpec {
                        name: "confirm".into(),
                        about: "Ask for confirmation (Host::confirm)".into(),
                        hidden: true,
                        runnable: true,
                        args: vec![ArgSpec {
                            long: Some("force".into()),
                            short: Some('f'),
                            ..arg("force", "Do not ask", ArgKind::Flag)
                        }],
                        ..CommandSpec::default()
                    },
                    CommandSpec {
                        name: "panic".into(),
                        about: "Panic (to test that rex survives a broken plugin)".into(),
                        hidden: true,
                        runnable: true,
                        ..CommandSpec::default()
                    },
                ],
                ..CommandSpec::default()
            }],
        }
    }

    fn invoke(&self, inv: Invocation, host: &dyn Host) -> Result<Output, PluginError> {
        tracing::debug!(command = %inv.command_line(), "acme plugin invoked");
        let settings: Settings = serde_json::from_value(inv.settings.clone()).map_err(|e| {
            PluginError::new(
                ErrorKind::Config,
                format!("cannot read the settings rex passed: {e}"),
            )
        })?;
        match inv.command.get(1).map(String::as_str) {
            Some("ping") => self.ping(&settings, host),
            Some("repos") => self.repos(&inv, &settings, host),
            Some("echo") => echo(&inv),
            Some("wait") => wait(&inv, host),
            Some("stdin") => {
                let input = host.read_stdin()?;
                Ok(Output::structured(
                    json!({ "bytes": input.len() }),
                    vec![Block::Text {
                        text: format!("{} bytes", input.len()),
                    }],
                ))
            }
            Some("confirm") => {
                let yes = inv.flag("force") || host.confirm("Really do it?")?;
                Ok(Output::structured(json!({ "confirmed": yes }), vec![]))
            }
            Some("panic") => panic!("the acme plugin panicked on purpose"),
            _ => Err(
                PluginError::usage(format!("unknown command '{}'", inv.command_line()))
                    .with_hint(format!("run `rex {} --help`", self.name)),
            ),
        }
    }
}

/// The registry the user selected, as rex resolved it.
fn selected_registry(settings: &Settings) -> String {
    settings
        .runtime
        .registry
        .clone()
        .or_else(|| {
            let current = settings.registries.current.as_ref()?;
            settings
                .registries
                .list
                .iter()
                .find(|r| &r.name == current)
                .map(|r| r.url.clone())
        })
        .unwrap_or_else(|| "localhost:5000".to_owned())
}

/// A plugin that needs async owns its runtime; a current-thread one is cheap to build.
fn runtime() -> Result<tokio::runtime::Runtime, PluginError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PluginError::general(format!("cannot start the plugin's runtime: {e}")))
}

impl HelloVendor {
    fn ping(&self, settings: &Settings, host: &dyn Host) -> Result<Output, PluginError> {
        let registry = selected_registry(settings);
        tracing::info!(registry = %registry, "pinging registry");
        let started = Instant::now();
        let rt = runtime()?;
        let status = rt.block_on(ping_registry(settings));
        host.progress(&Progress {
            message: format!("pinged {registry}"),
            current: 1,
            total: Some(1),
            done: true,
        });
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let (ok, detail) = status?;
        tracing::debug!(elapsed_ms, ok, "ping finished");
        let value = json!({
            "plugin": self.name,
            "registry": registry,
            "reachable": ok,
            "detail": detail,
            "elapsed_ms": elapsed_ms,
            "timeout_secs": settings.network.timeout,
            "verify_tls": settings.network.verify_tls,
        });
        let mut pretty = vec![Block::Fields {
            title: Some(format!("{} ping", self.name)),
            fields: vec![
                ("registry".into(), Cell::from(registry.clone())),
                (
                    "reachable".into(),
                    Cell::styled(
                        if ok { "yes" } else { "no" },
                        if ok { Style::Good } else { Style::Bad },
                    ),
                ),
                ("detail".into(), Cell::from(detail.clone())),
                (
                    "elapsed".into(),
                    Cell::styled(format!("{elapsed_ms} ms"), Style::Dim),
                ),
            ],
        }];
        if ok {
            pretty.push(Block::Success {
                message: format!("{registry} answers"),
            });
        }
        Ok(Output::structured(value, pretty))
    }

    fn repos(
        &self,
        inv: &Invocation,
        settings: &Settings,
        _host: &dyn Host,
    ) -> Result<Output, PluginError> {
        let limit: Option<usize> = inv.str("limit").and_then(|s| s.parse().ok());
        let registry = selected_registry(settings);
        let rt = runtime()?;
        let mut repos = rt.block_on(list_repositories(settings))?;
        if let Some(limit) = limit {
            repos.truncate(limit);
        }
        tracing::info!(count = repos.len(), "listed repositories");
        let rows = repos.iter().map(|r| vec![Cell::from(r.as_str())]).collect();
        Ok(Output::structured(
            json!({ "registry": registry, "repositories": repos }),
            vec![Block::Table {
                columns: vec!["REPOSITORY".into()],
                rows,
            }],
        ))
    }
}

/// rex-core's errors carry the same kinds as plugin errors (same snake_case names).
fn core_error(e: rex_core::Error) -> PluginError {
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

/// GET /v2/ through rex-core's facade, with the settings rex resolved (registry,
/// timeouts, TLS, proxies, credentials).
async fn ping_registry(settings: &Settings) -> Result<(bool, String), PluginError> {
    let rex = rex_core::registry::Rex::new(settings).map_err(core_error)?;
    let info = rex.ping().await.map_err(core_error)?;
    tracing::debug!(scheme = %info.auth_scheme, authenticated = info.authenticated, "registry answered");
    Ok((
        true,
        format!(
            "{} ({} auth{})",
            info.api_version.as_deref().unwrap_or("registry"),
            info.auth_scheme,
            if info.authenticated {
                ", authenticated"
            } else {
                ""
            }
        ),
    ))
}

async fn list_repositories(settings: &Settings) -> Result<Vec<String>, PluginError> {
    let rex = rex_core::registry::Rex::new(settings).map_err(core_error)?;
    rex.list_repositories().await.map_err(core_error)
}

fn echo(inv: &Invocation) -> Result<Output, PluginError> {
    let times: usize = inv
        .str("times")
        .unwrap_or("1")
        .parse()
        .map_err(|_| PluginError::usage("--times must be a number"))?;
    let mut words = inv.list("words");
    if inv.flag("upper") {
        words.iter_mut().for_each(|w| *w = w.to_uppercase());
    }
    let line = words.join(" ");
    let lines: Vec<String> = std::iter::repeat_n(line, times).collect();
    Ok(Output::structured(
        json!({ "words": words, "times": times, "lines": lines }),
        vec![Block::Lines { lines }],
    ))
}

fn wait(inv: &Invocation, host: &dyn Host) -> Result<Output, PluginError> {
    let secs: u64 = inv
        .str("seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let deadline = Instant::now() + Duration::from_secs(secs);
    tracing::info!(secs, "waiting");
    while Instant::now() < deadline {
        if host.is_cancelled() {
            tracing::info!("cancelled");
            return Err(PluginError::new(ErrorKind::Interrupted, "cancelled"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Output::structured(
        json!({ "waited_secs": secs }),
        vec![Block::Success {
            message: format!("waited {secs}s"),
        }],
    ))
}

/// The API version this example was compiled against (shown by tests).
pub const BUILT_AGAINST: ApiVersion = API_VERSION;

rex_plugin_api::export_plugin!(HelloVendor::default());
