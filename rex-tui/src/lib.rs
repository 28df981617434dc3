//! The rex terminal UI.
//!
//! Architecture (after gitui/stu): [`App`] holds all state, [`update`] applies one
//! [`Event`] and returns [`Command`]s (no I/O), [`ui::draw`] is a pure function of the
//! state, and [`run`] is the shell that owns the terminal, runs requests against a
//! [`Source`] on background tokio tasks and feeds their results back as events tagged with
//! a request id (results of outdated requests are dropped).

pub mod app;
pub mod filter;
pub mod fmt;
pub mod keymap;
pub mod log_file;
pub mod memory;
pub mod rex_source;
mod runtime;
pub mod source;
pub mod testing;
pub mod ui;

use std::path::PathBuf;
use std::sync::Arc;

pub use app::{update, App, Command, Event, Request, RequestId, Theme};
pub use rex_source::RexSource;
pub use runtime::SetClipboard;
pub use source::{
    ConfigView, DetailSink, HistoryView, ImageView, LayerView, Listing, PlatformView,
    RegistryEntry, Source, SourceError, SourceErrorKind, SourceFuture, TagDetail, TagDetailUpdate,
};

/// How to run the TUI; filled by the host from `tui.*` settings and resolved paths.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    pub theme: Theme,
    pub vim_bindings: bool,
    /// Open this registry (by name) right away instead of the registry list.
    pub initial_registry: Option<String>,
    /// Log file (the host passes `$XDG_STATE_HOME/rex/rex.log`); `None` disables logging.
    /// Rotated at 10 MB, 5 files kept, files last written over 7 days ago deleted.
    pub log_file: Option<PathBuf>,
    /// Most verbose level written to the log file.
    pub log_level: tracing::Level,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            theme: Theme::Dark,
            vim_bindings: true,
            initial_registry: None,
            log_file: None,
            log_level: tracing::Level::INFO,
        }
    }
}

impl From<rex_core::config::Theme> for Theme {
    fn from(t: rex_core::config::Theme) -> Self {
        match t {
            rex_core::config::Theme::Dark => Theme::Dark,
            rex_core::config::Theme::Light => Theme::Light,
        }
    }
}

impl TuiOptions {
    /// Options from resolved settings: `tui.theme`, `tui.vim_bindings`, and the registry
    /// picked with `--registry` (if it names a configured registry, else the address).
    /// `log_file` is the caller's resolved path (`$XDG_STATE_HOME/rex/rex.log`).
    pub fn from_settings(settings: &rex_core::config::Settings, log_file: Option<PathBuf>) -> Self {
        TuiOptions {
            theme: settings.tui.theme.into(),
            vim_bindings: settings.tui.vim_bindings,
            initial_registry: settings.runtime.registry.clone().filter(|r| !r.is_empty()),
            log_file,
            log_level: tracing::Level::INFO,
        }
    }
}

/// Why the TUI could not run (errors while running are shown in its status line instead).
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("the TUI needs an interactive terminal (stdin and stdout must be a TTY)")]
    NotATerminal,
    #[error("cannot open the log file {}: {source}", path.display())]
    LogFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("terminal error: {0}")]
    Terminal(#[from] std::io::Error),
}

/// Run the TUI until the user quits. Blocking: owns the terminal (raw mode, alternate
/// screen, restored on exit, on panic and on Ctrl+C) and its own tokio runtime, so it must
/// not be called from inside an async runtime.
pub fn run(source: Arc<dyn Source>, options: TuiOptions) -> Result<(), TuiError> {
    runtime::run(source, options)
}
