//! The order of events for one run of `rex`.
//!
//! 1. Snapshot the environment; pre-scan argv for what is needed before the command tree
//!    exists (verbosity, `--no-plugins`); install logging.
//! 2. Discover plugins (built-ins; externals from the description cache) and build the
//!    clap tree from their `CommandSpec`s; parse.
//! 3. Resolve settings (flags > env > config file > defaults). A broken config file is
//!    fatal (exit 6) except for the commands that report or repair it.
//! 4. Dispatch to the owning plugin (or a host command); render `Output` to stdout or the
//!    error to stderr; exit with `ErrorKind::exit_code`.

use crate::cli::{self, GlobalFlags};
use crate::commands::{self, HostContext};
use crate::host::CliHost;
use crate::plugins::{dispatch, PluginSet, Source};
use crate::render::{self, RenderOptions, Terminal};
use crate::settings::{self, Environment};
use rex_core::config::ColorChoice;
use rex_plugin_api::{ErrorKind, ExternalPlugin, Output, Plugin, PluginError};
use std::io::Write;
use std::process::ExitCode;

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Warnings are prose: stderr, never stdout, silenced by `--quiet`.
fn warn(lines: &[String], color: bool) {
    let mut err = std::io::stderr().lock();
    for l in lines {
        let label = if color {
            "\x1b[33mwarning:\x1b[0m"
        } else {
            "warning:"
        };
        let _ = writeln!(err, "{label} {}", render::sanitize(l));
    }
}

/// Commands that run even when the config file is broken (it is reported as a warning
/// and left out): host commands (`version`, `plugin …`, `completions`), `rex config`
/// (which shows the error) and `rex config edit` (which fixes it). Everything else exits 6.
fn survives_broken_config(plugins: &PluginSet, top: &str, sub: &clap::ArgMatches) -> bool {
    let verb = sub.subcommand_name();
    match plugins.owner_for(top, verb) {
        Some((entry, _)) if entry.source == Source::Host => true,
        Some(_) => top == "config" && matches!(verb, None | Some("edit")),
        None => false,
    }
}

pub fn run() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let env = Environment::capture();
    let pre = cli::prescan(&argv);
    crate::logging::init(pre.verbose, &env);
    dispatch::install_panic_hook();
    let term = Terminal::detect(&env);

    let external = !(pre.no_plugins || env.is_true("REX_NO_PLUGINS"));
    let plugins = PluginSet::discover(&env, external, commands::specs());
    let early_color = match pre.color.as_deref() {
        Some("always") => ColorChoice::Always,
        Some("never") => ColorChoice::Never,
        _ => ColorChoice::Auto,
    };
    let stderr_color = render::use_color(early_color, term.stderr_tty, &env);
    if !pre.quiet {
        warn(&plugins.warnings, stderr_color);
    }

    let tree = plugins.command_tree().color(match early_color {
        ColorChoice::Always => clap::ColorChoice::Always,
        ColorChoice::Never => clap::ColorChoice::Never,
        ColorChoice::Auto => clap::ColorChoice::Auto,
    });
    let matches = match tree.clone().try_get_matches_from(&argv) {
        Ok(m) => m,
        Err(e) => return exit(crate::error::clap_exit(e)),
    };
    let flags = GlobalFlags::from_matches(&matches);
    let Some((top, sub)) = matches.subcommand() else {
        return exit(ErrorKind::Usage.exit_code());
    };
    let settings = match settings::resolve(&flags, &env) {
        Ok(s) => s,
        // A broken config file must not block the commands that repair or report it.
        Err(e) if e.kind == ErrorKind::Config && survives_broken_config(&plugins, top, sub) => {
            match settings::resolve_without_file(&flags, &env) {
                Ok(s) => {
                    let mut lines = vec![format!(
                        "the config file is ignored for this command: {}",
                        e.message
                    )];
                    lines.extend(e.hint.clone());
                    warn(&lines, stderr_color);
                    s
                }
                Err(_) => return exit(crate::error::report(&e, stderr_color, term.width)),
            }
        }
        Err(e) => return exit(crate::error::report(&e, stderr_color, term.width)),
    };
    let opts = RenderOptions::new(&settings, &term, &env);
    let err_color = render::use_color(settings.output.color, term.stderr_tty, &env);
    if !settings.network.verify_tls && !settings.output.quiet {
        warn(
            &["TLS certificate verification is disabled (--no-verify-tls)".into()],
            err_color,
        );
    }

    // A group merged from several plugins runs in the one that declared the subcommand.
    let Some((entry, spec)) = plugins.owner_for(top, sub.subcommand_name()) else {
        return exit(crate::error::report(
            &PluginError::usage(format!("unknown command '{top}'")),
            err_color,
            term.width,
        ));
    };
    let (path, args) = dispatch::collect(&spec, sub);
    let inv = dispatch::invocation(path, args, &settings, &term);
    tracing::debug!(command = %inv.command_line(), plugin = %entry.name, source = %entry.source_label(), "dispatching");

    let result: Result<Output, PluginError> = match &entry.source {
        Source::Host => commands::run(
            &inv,
            HostContext {
                plugins: &plugins,
                settings: &settings,
                env: &env,
                tree,
            },
        ),
        Source::Builtin => match &entry.instance {
            Some(p) => dispatch::run(
                p.as_ref(),
                inv,
                &CliHost::new(&entry.name, settings.output.quiet),
            ),
            None => Err(PluginError::general(format!(
                "built-in plugin '{}' has no instance",
                entry.name
            ))),
        },
        Source::External(path) => {
            // Only now is the owning plugin loaded.
            let started = std::time::Instant::now();
            match ExternalPlugin::load(path) {
                Ok(p) => {
                    tracing::debug!(path = %path.display(), elapsed_us = started.elapsed().as_micros() as u64, "loaded plugin");
                    if p.manifest().commands.iter().any(|c| c.name == top) {
                        dispatch::run(&p, inv, &CliHost::new(&entry.name, settings.output.quiet))
                    } else {
                        Err(PluginError::general(format!(
                            "plugin '{}' no longer provides '{top}' (its file changed)",
                            entry.name
                        ))
                        .with_hint("run the command again"))
                    }
                }
                Err(e) => Err(e.to_plugin_error()),
            }
        }
    };

    match result {
        Ok(output) => {
            let text = render::render(&output, &opts);
            let mut out = std::io::stdout().lock();
            // A closed pipe (`rex … | head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
            ExitCode::SUCCESS
        }
        Err(e) => exit(crate::error::report(&e, err_color, term.width)),
    }
}
