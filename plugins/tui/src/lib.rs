//! Built-in plugin for `rex tui` (design 2.6): the interactive terminal UI.
//!
//! Thin: it checks that it runs in a terminal, resolves the log file and hands the resolved
//! settings to [`rex_tui::run`], which owns the terminal until the user quits. The TUI logs
//! to `$XDG_STATE_HOME/rex/rex.log` only, on every thread it owns, so the host's stderr
//! subscriber cannot paint over the screen.

use rex_core::config::Settings;
use rex_plugin_api::{
    CommandSpec, ErrorKind, Host, Invocation, Output, Plugin, PluginError, PluginManifest,
    API_VERSION,
};
use std::path::PathBuf;
use std::sync::Arc;

/// The `tui` plugin.
#[derive(Debug, Default)]
pub struct TuiPlugin;

/// Name of the log file inside the state directory.
pub const LOG_FILE_NAME: &str = "rex.log";

/// The log file for resolved settings: `<state_dir>/rex.log`. The host resolves
/// `state_dir` to `$XDG_STATE_HOME/rex` already; `None` (no state directory known) turns
/// logging off rather than writing somewhere unexpected.
pub fn log_file(settings: &Settings) -> Option<PathBuf> {
    settings
        .runtime
        .state_dir
        .as_ref()
        .map(|dir| dir.join(LOG_FILE_NAME))
}

/// Refuse early, with a usage error, when the TUI cannot own a terminal (piped, CI, cron).
fn require_terminal(inv: &Invocation) -> Result<(), PluginError> {
    let ctx = &inv.context;
    if ctx.stdin_is_tty && ctx.stdout_is_tty {
        return Ok(());
    }
    let which = match (ctx.stdin_is_tty, ctx.stdout_is_tty) {
        (false, false) => "stdin and stdout are not terminals",
        (false, true) => "stdin is not a terminal",
        _ => "stdout is not a terminal",
    };
    Err(
        PluginError::usage(format!("rex tui needs an interactive terminal ({which})")).with_hint(
            "run it in a terminal without pipes or redirection; for scripts use \
                 `rex image`, `rex search` or `rex registry list --format json`",
        ),
    )
}

fn tui_err(e: rex_tui::TuiError) -> PluginError {
    let kind = match e {
        rex_tui::TuiError::NotATerminal => ErrorKind::Usage,
        rex_tui::TuiError::LogFile { .. } => ErrorKind::Config,
        rex_tui::TuiError::Runtime(_) | rex_tui::TuiError::Terminal(_) => ErrorKind::General,
    };
    let err = PluginError::new(kind, e.to_string());
    match e {
        rex_tui::TuiError::LogFile { .. } => {
            err.with_hint("check that $XDG_STATE_HOME/rex is writable (or set XDG_STATE_HOME)")
        }
        _ => err,
    }
}

impl Plugin for TuiPlugin {
    fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: "tui".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION,
            description: "Interactive terminal UI".into(),
            commands: vec![CommandSpec {
                name: "tui".into(),
                about: "Browse registries, repositories and tags interactively".into(),
                long_about: Some(
                    "Open the interactive terminal UI: registries, then repositories, then \
                     tags and their details. `/` filters (same matching as `rex search`), \
                     Enter opens, Esc goes back, `?` shows every key, q or Ctrl+C quits.\n\n\
                     Logs go to $XDG_STATE_HOME/rex/rex.log, never to the screen.\n\n\
                     Examples:\n  rex tui\n  rex tui --registry ghcr.io\n  \
                     rex --registry localhost:5000 tui"
                        .into(),
                ),
                runnable: true,
                ..CommandSpec::default()
            }],
        }
    }

    fn invoke(&self, inv: Invocation, host: &dyn Host) -> Result<Output, PluginError> {
        let _ = host;
        if inv.command.len() > 1 {
            return Err(PluginError::usage(format!(
                "unknown command 'rex {}'",
                inv.command_line()
            ))
            .with_hint("run `rex tui --help`"));
        }
        let settings: Settings = serde_json::from_value(inv.settings.clone()).map_err(|e| {
            PluginError::new(
                ErrorKind::Config,
                format!("cannot read the settings rex passed to the tui plugin: {e}"),
            )
        })?;
        require_terminal(&inv)?;
        let options = rex_tui::TuiOptions::from_settings(&settings, log_file(&settings));
        tracing::debug!(registry = ?options.initial_registry, "starting the TUI");
        let source = Arc::new(rex_tui::RexSource::new(settings));
        rex_tui::run(source, options).map_err(tui_err)?;
        Ok(Output::Empty)
    }
}

rex_plugin_api::register_builtin!(|| Box::new(TuiPlugin));

#[cfg(feature = "cdylib")]
rex_plugin_api::export_plugin!(TuiPlugin);

#[cfg(test)]
mod tests {
    use super::*;
    use rex_plugin_api::{InvocationContext, NullHost};
    use serde_json::json;

    fn invocation(stdin_is_tty: bool, stdout_is_tty: bool) -> Invocation {
        Invocation {
            v: 1,
            command: vec!["tui".into()],
            args: Default::default(),
            settings: json!({}),
            context: InvocationContext {
                stdin_is_tty,
                stdout_is_tty,
                ..InvocationContext::default()
            },
        }
    }

    #[test]
    fn manifest_declares_a_runnable_tui_command() {
        let m = TuiPlugin.manifest();
        assert_eq!(m.name, "tui");
        assert_eq!(m.commands.len(), 1);
        assert_eq!(m.commands[0].name, "tui");
        assert!(m.commands[0].runnable);
        assert!(m.commands[0].subcommands.is_empty());
    }

    #[test]
    fn refuses_without_a_terminal_with_a_usage_error() {
        for (stdin, stdout, says) in [
            (false, false, "stdin and stdout"),
            (false, true, "stdin is not"),
            (true, false, "stdout is not"),
        ] {
            let err = TuiPlugin
                .invoke(invocation(stdin, stdout), &NullHost)
                .unwrap_err();
            assert_eq!(err.kind, ErrorKind::Usage);
            assert_eq!(err.kind.exit_code(), 2);
            assert!(err.message.contains(says), "{}", err.message);
            assert!(err.hint.is_some());
        }
    }

    #[test]
    fn host_context_is_checked_even_when_the_process_has_a_terminal() {
        // The context says "piped": refuse before touching the real terminal.
        let err = TuiPlugin
            .invoke(invocation(true, false), &NullHost)
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Usage);
    }

    #[test]
    fn bad_settings_are_a_config_error() {
        let mut inv = invocation(true, true);
        inv.settings = json!({"network": {"timeout": "soon"}});
        let err = TuiPlugin.invoke(inv, &NullHost).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Config);
    }

    #[test]
    fn unknown_subcommand_is_a_usage_error() {
        let mut inv = invocation(true, true);
        inv.command.push("nope".into());
        let err = TuiPlugin.invoke(inv, &NullHost).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Usage);
    }

    #[test]
    fn log_file_is_in_the_state_dir() {
        let mut s = Settings::default();
        assert_eq!(log_file(&s), None);
        s.runtime.state_dir = Some(PathBuf::from("/x/state/rex"));
        assert_eq!(log_file(&s), Some(PathBuf::from("/x/state/rex/rex.log")));
    }

    #[test]
    fn options_take_the_initial_registry_from_settings() {
        let mut s = Settings::default();
        s.runtime.registry = Some("localhost:5000".into());
        let o = rex_tui::TuiOptions::from_settings(&s, log_file(&s));
        assert_eq!(o.initial_registry.as_deref(), Some("localhost:5000"));
    }
}
