//! Running a command: find the spec that matched, collect its arguments by id, build the
//! `Invocation`, and call the plugin on a worker thread while the main thread watches
//! for Ctrl+C.

use crate::host::CliHost;
use crate::render::Terminal;
use clap::ArgMatches;
use rex_core::config::Settings;
use rex_plugin_api::{
    ArgKind, ArgValue, CommandSpec, ErrorKind, Invocation, InvocationContext, Output, Plugin,
    PluginError,
};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// After the first Ctrl+C, how long a plugin gets to stop on its own.
const CANCEL_GRACE: Duration = Duration::from_secs(3);

/// The matched command path (canonical names) and its arguments by `ArgSpec::id`.
pub fn collect(
    top: &CommandSpec,
    matches: &ArgMatches,
) -> (Vec<String>, BTreeMap<String, ArgValue>) {
    let mut path = vec![top.name.clone()];
    let mut spec = top;
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        match spec.subcommands.iter().find(|s| s.name == name) {
            Some(s) => {
                spec = s;
                m = sub;
                path.push(name.to_owned());
            }
            None => break,
        }
    }
    let mut args = BTreeMap::new();
    for a in &spec.args {
        let id = a.id.as_str();
        let value = match a.kind {
            ArgKind::Flag => m
                .try_get_one::<bool>(id)
                .ok()
                .flatten()
                .copied()
                .filter(|b| *b)
                .map(ArgValue::Bool),
            ArgKind::Count => m
                .try_get_one::<u8>(id)
                .ok()
                .flatten()
                .copied()
                .filter(|n| *n > 0)
                .map(ArgValue::Count),
            ArgKind::Value => m
                .try_get_one::<String>(id)
                .ok()
                .flatten()
                .cloned()
                .map(ArgValue::Str),
            ArgKind::List => m
                .try_get_many::<String>(id)
                .ok()
                .flatten()
                .map(|v| ArgValue::List(v.cloned().collect())),
        };
        if let Some(v) = value {
            args.insert(a.id.clone(), v);
        }
    }
    (path, args)
}

pub fn invocation(
    command: Vec<String>,
    args: BTreeMap<String, ArgValue>,
    settings: &Settings,
    term: &Terminal,
) -> Invocation {
    Invocation {
        v: 1,
        command,
        args,
        settings: serde_json::to_value(settings).unwrap_or(serde_json::Value::Null),
        context: InvocationContext {
            stdout_is_tty: term.stdout_tty,
            stdin_is_tty: term.stdin_tty,
            terminal_width: term.width,
            host_version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    }
}

thread_local! {
    /// Set while plugin code runs on this thread, so the panic hook stays quiet.
    static IN_PLUGIN: Cell<bool> = const { Cell::new(false) };
    static PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Panics inside a (built-in) plugin become `Panicked` errors rendered by the host; any
/// other panic keeps the default report.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if IN_PLUGIN.with(Cell::get) {
            let at = info
                .location()
                .map(|l| format!("at {}:{}:{}", l.file(), l.line(), l.column()));
            PANIC_AT.with(|p| *p.borrow_mut() = at);
        } else {
            default(info);
        }
    }));
}

fn call_guarded(
    plugin: &dyn Plugin,
    inv: Invocation,
    host: &CliHost,
) -> Result<Output, PluginError> {
    let name = plugin.manifest().name;
    IN_PLUGIN.with(|f| f.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plugin.invoke(inv, host)));
    IN_PLUGIN.with(|f| f.set(false));
    r.unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let mut e = PluginError::new(
            ErrorKind::Panicked,
            format!("plugin '{name}' panicked: {msg}"),
        )
        .with_hint("this is a bug in the plugin; report it to its author");
        if let Some(at) = PANIC_AT.with(|p| p.borrow_mut().take()) {
            e = e.with_detail(at);
        }
        Err(e)
    })
}

/// Run `plugin` on a worker thread (no runtime is shared with it: plugins that need
/// async own theirs). On Ctrl+C the plugin sees `is_cancelled()`; if it has not
/// returned within the grace period rex exits with 130.
pub fn run(plugin: &dyn Plugin, inv: Invocation, host: &CliHost) -> Result<Output, PluginError> {
    crate::signals::install();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("rex-plugin".into())
            .stack_size(8 << 20)
            .spawn_scoped(scope, move || {
                let r = call_guarded(plugin, inv, host);
                let _ = tx.send(r);
            });
        if let Err(e) = worker {
            return Err(PluginError::general(format!(
                "cannot start a thread for the command: {e}"
            )));
        }
        let mut cancelled_at: Option<Instant> = None;
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(r) => {
                    host.finish();
                    return if crate::signals::cancelled() {
                        Err(interrupted())
                    } else {
                        r
                    };
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(PluginError::general(
                        "the command's thread ended without a result",
                    ));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if crate::signals::cancelled() {
                        let t = *cancelled_at.get_or_insert_with(Instant::now);
                        if t.elapsed() > CANCEL_GRACE {
                            host.finish();
                            // process::exit skips the prompt's EchoOff drop.
                            crate::signals::restore_terminal();
                            let code = crate::error::report(&interrupted(), false, None);
                            std::process::exit(code);
                        }
                    }
                }
            }
        }
    })
}

pub fn interrupted() -> PluginError {
    PluginError::new(ErrorKind::Interrupted, "interrupted")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rex_plugin_api::{Host, PluginManifest, API_VERSION};

    struct Boom;
    impl Plugin for Boom {
        fn manifest(&self) -> PluginManifest {
            PluginManifest {
                name: "boom".into(),
                version: "0".into(),
                api_version: API_VERSION,
                description: String::new(),
                commands: vec![],
            }
        }
        fn invoke(&self, inv: Invocation, _: &dyn Host) -> Result<Output, PluginError> {
            if inv.command == ["ok"] {
                return Ok(Output::Empty);
            }
            panic!("built-in bug")
        }
    }

    fn inv(cmd: &str) -> Invocation {
        invocation(
            vec![cmd.into()],
            BTreeMap::new(),
            &Settings::default(),
            &Terminal {
                stdout_tty: false,
                stderr_tty: false,
                stdin_tty: false,
                width: None,
            },
        )
    }

    #[test]
    fn a_panicking_builtin_becomes_a_panicked_error() {
        install_panic_hook();
        let host = CliHost::new("boom", true);
        let err = run(&Boom, inv("x"), &host).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Panicked);
        assert!(
            err.message.contains("plugin 'boom' panicked: built-in bug"),
            "{}",
            err.message
        );
        assert!(
            err.details.iter().any(|d| d.contains("dispatch.rs")),
            "{:?}",
            err.details
        );
        assert_eq!(run(&Boom, inv("ok"), &host).unwrap(), Output::Empty);
    }
}
