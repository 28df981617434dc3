//! `rex`: explore OCI/Docker registries.
//!
//! The host binary: global options, settings resolution, plugin discovery and dispatch,
//! rendering and exit codes. Every command is a plugin (built-in or external); see
//! `app::run` for the order of events.

mod app;
mod cli;
mod commands;
mod error;
mod host;
mod logging;
mod plugins;
mod render;
mod settings;
mod signals;

// Built-in plugins register themselves with `inventory`, but rustc does not link a crate
// nothing references: name each one so its registration is linked in.
#[cfg(feature = "plugin-cache")]
extern crate rex_plugin_cache as _;
#[cfg(feature = "plugin-config")]
extern crate rex_plugin_config as _;
#[cfg(feature = "plugin-image")]
extern crate rex_plugin_image as _;
#[cfg(feature = "plugin-registry")]
extern crate rex_plugin_registry as _;
#[cfg(feature = "plugin-search")]
extern crate rex_plugin_search as _;
#[cfg(feature = "plugin-tui")]
extern crate rex_plugin_tui as _;

fn main() -> std::process::ExitCode {
    app::run()
}
