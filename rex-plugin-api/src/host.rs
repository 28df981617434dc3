//! Services the host offers plugins. Plugins reach the terminal and the user only
//! through these.

use crate::PluginError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl LogLevel {
    pub fn from_u8(v: u8) -> Option<LogLevel> {
        Some(match v {
            1 => LogLevel::Error,
            2 => LogLevel::Warn,
            3 => LogLevel::Info,
            4 => LogLevel::Debug,
            5 => LogLevel::Trace,
            _ => return None,
        })
    }
}

/// A progress report: the host shows a spinner or bar on stderr when stderr is a
/// terminal and `--quiet` is off, and ignores it otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// What is being done ("Fetching tag details").
    pub message: String,
    pub current: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The task is finished; the host clears the indicator.
    #[serde(default)]
    pub done: bool,
}

/// What the host does for a plugin. Implemented by the host for built-ins directly and
/// bridged through the ABI for external plugins. All methods are synchronous and cheap.
pub trait Host: Send + Sync {
    /// Emit a log record into the host's subscriber (filtered by the host's level).
    fn log(&self, level: LogLevel, target: &str, message: &str);
    /// The most verbose level the host will show; plugins skip building records above it.
    fn max_level(&self) -> LogLevel;
    /// The user pressed Ctrl+C. Long-running work should stop and return
    /// `ErrorKind::Interrupted`.
    fn is_cancelled(&self) -> bool;
    /// Report progress of a long task.
    fn progress(&self, progress: &Progress);
    /// Ask the user a question on the terminal. `secret` hides the input. Errors with
    /// `Usage` when there is no terminal to ask on.
    fn prompt(&self, message: &str, secret: bool) -> Result<String, PluginError>;
    /// Ask a yes/no question (`[y/N]`); `Ok(false)` is the default answer.
    fn confirm(&self, message: &str) -> Result<bool, PluginError>;
    /// Read all of standard input (e.g. `--password-stdin`).
    fn read_stdin(&self) -> Result<String, PluginError>;
}

/// A host that does nothing: no logs, never cancelled, no terminal. For tests and tools.
pub struct NullHost;

impl Host for NullHost {
    fn log(&self, _: LogLevel, _: &str, _: &str) {}
    fn max_level(&self) -> LogLevel {
        LogLevel::Error
    }
    fn is_cancelled(&self) -> bool {
        false
    }
    fn progress(&self, _: &Progress) {}
    fn prompt(&self, message: &str, _: bool) -> Result<String, PluginError> {
        Err(PluginError::usage(format!(
            "cannot ask '{message}': no terminal"
        )))
    }
    fn confirm(&self, message: &str) -> Result<bool, PluginError> {
        Err(
            PluginError::usage(format!("cannot ask '{message}': no terminal"))
                .with_hint("pass --force to skip the confirmation"),
        )
    }
    fn read_stdin(&self) -> Result<String, PluginError> {
        Ok(String::new())
    }
}
