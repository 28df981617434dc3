//! Commands the host implements itself. They are declared as `CommandSpec`s like any
//! plugin's, return `Output`, and go through the same renderer.

pub mod completions;
pub mod plugin;
pub mod version;

use crate::plugins::PluginSet;
use crate::settings::Environment;
use rex_core::config::Settings;
use rex_plugin_api::{ArgKind, ArgSpec, CommandSpec, Invocation, Output, PluginError};

/// What host commands may use.
pub struct HostContext<'a> {
    pub plugins: &'a PluginSet,
    pub settings: &'a Settings,
    pub env: &'a Environment,
    /// The full command tree (for completions).
    pub tree: clap::Command,
}

pub(crate) fn positional(id: &str, help: &str) -> ArgSpec {
    ArgSpec {
        id: id.into(),
        help: help.into(),
        kind: ArgKind::Value,
        required: true,
        ..ArgSpec::default()
    }
}

pub fn specs() -> Vec<CommandSpec> {
    vec![plugin::spec(), version::spec(), completions::spec()]
}

pub fn run(inv: &Invocation, ctx: HostContext<'_>) -> Result<Output, PluginError> {
    match inv.command.first().map(String::as_str) {
        Some("plugin") => plugin::run(inv, &ctx),
        Some("version") => Ok(version::run(&ctx)),
        Some("completions") => completions::run(inv, ctx),
        _ => Err(PluginError::usage(format!(
            "unknown command '{}'",
            inv.command_line()
        ))),
    }
}
