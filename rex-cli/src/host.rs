//! The services rex offers plugins (`rex_plugin_api::Host`): logging into the host's
//! subscriber, cancellation, progress on stderr, prompts on the terminal.

use rex_plugin_api::{Host, LogLevel, PluginError, Progress};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::Mutex;

pub struct CliHost {
    plugin: String,
    max_level: LogLevel,
    quiet: bool,
    stderr_tty: bool,
    stdin_tty: bool,
    /// Whether a progress line is on screen (to clear it).
    progress_shown: Mutex<bool>,
}

impl CliHost {
    pub fn new(plugin: &str, quiet: bool) -> CliHost {
        CliHost {
            plugin: plugin.to_owned(),
            max_level: crate::logging::max_level(),
            quiet,
            stderr_tty: std::io::stderr().is_terminal(),
            stdin_tty: std::io::stdin().is_terminal(),
            progress_shown: Mutex::new(false),
        }
    }

    /// Remove a progress line left on screen.
    pub fn finish(&self) {
        let mut shown = self
            .progress_shown
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *shown {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            *shown = false;
        }
    }

    fn no_terminal(&self, what: &str) -> PluginError {
        PluginError::usage(format!(
            "cannot ask '{what}': standard input is not a terminal"
        ))
    }
}

impl Host for CliHost {
    fn log(&self, level: LogLevel, target: &str, message: &str) {
        // tracing's metadata is static, so plugin records are re-emitted under one target
        // with the plugin and its own target as fields (`RUST_LOG=rex::plugin=debug`).
        let p = self.plugin.as_str();
        match level {
            LogLevel::Error => {
                tracing::error!(target: "rex::plugin", plugin = p, source = target, "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(target: "rex::plugin", plugin = p, source = target, "{message}")
            }
            LogLevel::Info => {
                tracing::info!(target: "rex::plugin", plugin = p, source = target, "{message}")
            }
            LogLevel::Debug => {
                tracing::debug!(target: "rex::plugin", plugin = p, source = target, "{message}")
            }
            LogLevel::Trace => {
                tracing::trace!(target: "rex::plugin", plugin = p, source = target, "{message}")
            }
        }
    }

    fn max_level(&self) -> LogLevel {
        self.max_level
    }

    fn is_cancelled(&self) -> bool {
        crate::signals::cancelled()
    }

    fn progress(&self, progress: &Progress) {
        if self.quiet || !self.stderr_tty {
            return;
        }
        let mut shown = self
            .progress_shown
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        if progress.done {
            let _ = write!(err, "\r\x1b[2K");
            *shown = false;
            return;
        }
        let count = match progress.total {
            Some(t) => format!(" {}/{}", progress.current, t),
            None if progress.current > 0 => format!(" {}", progress.current),
            None => String::new(),
        };
        let msg = crate::render::sanitize(&progress.message);
        let _ = write!(err, "\r\x1b[2K⠿ {msg}{count}");
        let _ = err.flush();
        *shown = true;
    }

    fn prompt(&self, message: &str, secret: bool) -> Result<String, PluginError> {
        if !self.stdin_tty {
            return Err(self.no_terminal(message));
        }
        self.finish();
        // Echo goes off before the prompt shows, so nothing typed right after it is echoed.
        let echo = if secret { EchoOff::new() } else { None };
        let _ = write!(std::io::stderr(), "{}: ", crate::render::sanitize(message));
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line);
        if echo.is_some() {
            drop(echo);
            // The Enter that ended the secret was not echoed either.
            let _ = writeln!(std::io::stderr());
        }
        read.map_err(|e| PluginError::general(format!("cannot read the answer: {e}")))?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }

    fn confirm(&self, message: &str) -> Result<bool, PluginError> {
        if !self.stdin_tty {
            return Err(self
                .no_terminal(message)
                .with_hint("pass --force to skip the confirmation"));
        }
        let answer = self.prompt(&format!("{message} [y/N]"), false)?;
        Ok(matches!(
            answer.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }

    fn read_stdin(&self) -> Result<String, PluginError> {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| PluginError::general(format!("cannot read standard input: {e}")))?;
        Ok(s)
    }
}

/// Terminal echo off for secret prompts; restored on drop.
struct EchoOff(libc::termios);

impl EchoOff {
    fn new() -> Option<EchoOff> {
        // SAFETY: plain termios calls on fd 0 with a zeroed, then filled, struct.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return None;
            }
            let saved = t;
            // Restored by `Drop`, or by the exit paths that skip it (see `signals`).
            crate::signals::save_termios(&saved);
            t.c_lflag &= !libc::ECHO;
            t.c_lflag |= libc::ECHONL;
            libc::tcsetattr(0, libc::TCSANOW, &t);
            Some(EchoOff(saved))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the attributes read in `new`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.0);
        }
        crate::signals::forget_termios();
    }
}
