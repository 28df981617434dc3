//! The root command and the global options the host owns (seed 2.2).
//!
//! Plugin commands are added at run time from their `CommandSpec`s (see
//! `plugins::clap_build`); the global options below are `global(true)` so they also work
//! after a subcommand (`rex image -f json`). Plugins cannot redefine them.

use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::path::PathBuf;

pub const ABOUT: &str = "Explore OCI/Docker container registries";

/// Long names of the host's options; plugin arguments may not reuse them.
pub const RESERVED_LONGS: &[&str] = &[
    "registry",
    "format",
    "quiet",
    "color",
    "no-color",
    "verbose",
    "timeout",
    "no-verify-tls",
    "no-cache",
    "fresh",
    "cache-dir",
    "config",
    "no-plugins",
    "help",
    "version",
];

/// Short names of the host's options.
pub const RESERVED_SHORTS: &[char] = &['r', 'f', 'q', 'v', 'h', 'V'];

const NETWORK: &str = "Network options";
const OUTPUT: &str = "Output options";
const CONFIG: &str = "Configuration options";

/// The root command with the global options and no subcommands yet.
pub fn root_command() -> Command {
    Command::new("rex")
        .about(ABOUT)
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(false)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .max_term_width(120)
        .after_help(
            "Environment: REX_REGISTRY, REX_OUTPUT_FORMAT, REX_COLOR, NO_COLOR, REX_TIMEOUT, \
             REX_CONFIG, REX_CACHE_DIR, REX_NO_CACHE, REX_PLUGIN_PATH, REX_NO_PLUGINS, RUST_LOG.\n\
             Exit codes: 0 ok, 1 error, 2 usage, 3 network, 4 auth, 5 not found, 6 config, 7 cache, 130 interrupted.",
        )
        .args(global_args())
}

fn global_args() -> Vec<Arg> {
    vec![
        Arg::new("registry")
            .short('r')
            .long("registry")
            .value_name("URL")
            .help("Registry to use: [http[s]://]host[:port] or a configured name")
            .global(true),
        Arg::new("format")
            .short('f')
            .long("format")
            .value_name("FORMAT")
            .value_parser(["pretty", "json", "yaml"])
            .help("Output format [default: pretty on a terminal, yaml when piped]")
            .help_heading(OUTPUT)
            .global(true),
        Arg::new("quiet")
            .short('q')
            .long("quiet")
            .action(ArgAction::SetTrue)
            .help("Only essential output: no progress, no status messages")
            .help_heading(OUTPUT)
            .global(true),
        Arg::new("color")
            .long("color")
            .value_name("WHEN")
            .value_parser(["auto", "always", "never"])
            .help("When to use colours [default: auto]")
            .help_heading(OUTPUT)
            .global(true),
        Arg::new("no-color")
            .long("no-color")
            .action(ArgAction::SetTrue)
            .help("Same as --color never")
            .help_heading(OUTPUT)
            .global(true),
        Arg::new("verbose")
            .short('v')
            .long("verbose")
            .action(ArgAction::Count)
            .help("More logging on stderr: -v info, -vv debug, -vvv trace")
            .help_heading(OUTPUT)
            .global(true),
        Arg::new("timeout")
            .long("timeout")
            .value_name("SECONDS")
            .value_parser(clap::value_parser!(u64).range(1..))
            .help("Request timeout in seconds [default: 30]")
            .help_heading(NETWORK)
            .global(true),
        Arg::new("no-verify-tls")
            .long("no-verify-tls")
            .action(ArgAction::SetTrue)
            .help("Do not verify TLS certificates (self-signed registries)")
            .help_heading(NETWORK)
            .global(true),
        Arg::new("no-cache")
            .long("no-cache")
            // Design 1.9: `--fresh` selects strong consistency, as `--no-cache` does.
            .visible_alias("fresh")
            .action(ArgAction::SetTrue)
            .help("Bypass the cache and ask the registry (strong consistency)")
            .help_heading(CONFIG)
            .global(true),
        Arg::new("cache-dir")
            .long("cache-dir")
            .value_name("PATH")
            .value_parser(clap::value_parser!(PathBuf))
            .value_hint(clap::ValueHint::DirPath)
            .help("Cache directory [default: $XDG_CACHE_HOME/rex]")
            .help_heading(CONFIG)
            .global(true),
        Arg::new("config")
            .long("config")
            .value_name("PATH")
            .value_parser(clap::value_parser!(PathBuf))
            .value_hint(clap::ValueHint::FilePath)
            .help("Configuration file [default: $XDG_CONFIG_HOME/rex/config.toml]")
            .help_heading(CONFIG)
            .global(true),
        Arg::new("no-plugins")
            .long("no-plugins")
            .action(ArgAction::SetTrue)
            .help("Do not load or describe external plugins (built-ins only)")
            .help_heading(CONFIG)
            .global(true),
    ]
}

/// The global options as parsed.
#[derive(Debug, Clone, Default)]
pub struct GlobalFlags {
    pub registry: Option<String>,
    pub format: Option<String>,
    pub quiet: bool,
    pub color: Option<String>,
    pub no_color: bool,
    pub verbose: u8,
    pub timeout: Option<u64>,
    pub no_verify_tls: bool,
    pub no_cache: bool,
    pub cache_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
}

impl GlobalFlags {
    /// Read the globals from the innermost matches (clap propagates global values down).
    pub fn from_matches(root: &ArgMatches) -> GlobalFlags {
        let mut m = root;
        while let Some((_, sub)) = m.subcommand() {
            m = sub;
        }
        let s = |id: &str| m.try_get_one::<String>(id).ok().flatten().cloned();
        let b = |id: &str| {
            m.try_get_one::<bool>(id)
                .ok()
                .flatten()
                .copied()
                .unwrap_or(false)
        };
        GlobalFlags {
            registry: s("registry"),
            format: s("format"),
            quiet: b("quiet"),
            color: s("color"),
            no_color: b("no-color"),
            verbose: m
                .try_get_one::<u8>("verbose")
                .ok()
                .flatten()
                .copied()
                .unwrap_or(0),
            timeout: m.try_get_one::<u64>("timeout").ok().flatten().copied(),
            no_verify_tls: b("no-verify-tls"),
            no_cache: b("no-cache"),
            cache_dir: m
                .try_get_one::<PathBuf>("cache-dir")
                .ok()
                .flatten()
                .cloned(),
            config: m.try_get_one::<PathBuf>("config").ok().flatten().cloned(),
        }
    }
}

/// What must be known before the command tree exists (logging, plugin discovery, clap's
/// colours). A light scan of argv: the real parse later is authoritative.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreScan {
    pub verbose: u8,
    pub quiet: bool,
    pub no_plugins: bool,
    pub color: Option<String>,
}

pub fn prescan(argv: &[OsString]) -> PreScan {
    let mut p = PreScan::default();
    let mut args = argv.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(a) = args.next() {
        match a.as_ref() {
            "--" => break,
            "--verbose" => p.verbose = p.verbose.saturating_add(1),
            "--quiet" => p.quiet = true,
            "--no-plugins" => p.no_plugins = true,
            "--no-color" => p.color = Some("never".into()),
            "--color" => p.color = args.next().map(|v| v.into_owned()),
            // Options that take a value: skip it so it is not read as a flag.
            "--registry" | "--format" | "--timeout" | "--cache-dir" | "--config" => {
                args.next();
            }
            s if s.starts_with("--color=") => p.color = Some(s["--color=".len()..].to_owned()),
            s if s.starts_with('-') && !s.starts_with("--") && s.len() > 1 => {
                for c in s[1..].chars() {
                    match c {
                        'v' => p.verbose = p.verbose.saturating_add(1),
                        'q' => p.quiet = true,
                        // -r/-f take a value (attached or next): the rest is not flags.
                        'r' | 'f' => {
                            if s.len() == 2 {
                                args.next();
                            }
                            break;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(args: &[&str]) -> PreScan {
        let argv: Vec<OsString> = std::iter::once("rex")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        prescan(&argv)
    }

    #[test]
    fn prescan_counts_verbosity_and_skips_values() {
        assert_eq!(scan(&["-vv", "acme", "ping"]).verbose, 2);
        assert_eq!(scan(&["-v", "--verbose", "x"]).verbose, 2);
        assert_eq!(scan(&["-r", "-vv"]).verbose, 0, "value of -r");
        assert_eq!(scan(&["-rv"]).verbose, 0, "attached value of -r");
        assert_eq!(scan(&["-qv"]).verbose, 1);
        assert!(scan(&["x", "--no-plugins"]).no_plugins);
        assert_eq!(scan(&["--color=never"]).color.as_deref(), Some("never"));
        assert_eq!(scan(&["--", "-vv"]).verbose, 0);
    }

    #[test]
    fn root_command_is_valid() {
        root_command().debug_assert();
    }
}
