//! The tracing subscriber: installed here, in the binary, and nowhere else (rex-core and
//! plugins only emit events). Logs go to stderr; stdout is data.

use crate::settings::Environment;
use rex_plugin_api::LogLevel;
use std::io::IsTerminal;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::EnvFilter;

struct UtcTime;

impl FormatTime for UtcTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC"))
    }
}

/// `-v` info, `-vv` debug, `-vvv` trace, default warn; `RUST_LOG` overrides;
/// `REX_LOG_FORMAT=json|pretty` (default: pretty on a terminal, json otherwise).
pub fn init(verbose: u8, env: &Environment) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = env
        .get("RUST_LOG")
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let stderr_tty = std::io::stderr().is_terminal();
    let json = match env.get("REX_LOG_FORMAT") {
        Some("json") => true,
        Some("pretty") => false,
        _ => !stderr_tty,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_timer(UtcTime)
        .with_ansi(stderr_tty && env.get("NO_COLOR").is_none());
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// The most verbose level the installed subscriber lets through (what plugins are told).
pub fn max_level() -> LogLevel {
    use tracing::level_filters::LevelFilter;
    match LevelFilter::current() {
        LevelFilter::TRACE => LogLevel::Trace,
        LevelFilter::DEBUG => LogLevel::Debug,
        LevelFilter::INFO => LogLevel::Info,
        LevelFilter::WARN => LogLevel::Warn,
        _ => LogLevel::Error,
    }
}
