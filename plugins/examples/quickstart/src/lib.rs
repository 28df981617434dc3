// src/lib.rs
use rex_plugin_api::{
    ArgKind, ArgSpec, Block, CommandSpec, Host, Invocation, Output, Plugin, PluginError,
    PluginManifest, API_VERSION,
};

#[derive(Default)]
pub struct Acme;

impl Plugin for Acme {
    fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: "acme".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION, // overwritten by export_plugin! with the real one
            description: "ACME registry extensions".into(),
            commands: vec![CommandSpec {
                name: "acme".into(),
                about: "ACME registry extensions".into(),
                subcommands: vec![CommandSpec {
                    name: "hello".into(),
                    about: "Say hello".into(),
                    runnable: true,
                    args: vec![ArgSpec {
                        id: "who".into(),
                        help: "Who to greet".into(),
                        kind: ArgKind::Value, // no long/short: a positional
                        default: Some("world".into()),
                        ..ArgSpec::default()
                    }],
                    ..CommandSpec::default()
                }],
                ..CommandSpec::default()
            }],
        }
    }

    fn invoke(&self, inv: Invocation, _host: &dyn Host) -> Result<Output, PluginError> {
        match inv.command.as_slice() {
            [_, cmd] if cmd == "hello" => {
                let who = inv.str("who").unwrap_or("world");
                tracing::debug!(who, "greeting");
                Ok(Output::structured(
                    serde_json::json!({ "greeting": format!("hello {who}") }),
                    vec![Block::Success {
                        message: format!("hello {who}"),
                    }],
                ))
            }
            _ => Err(PluginError::usage(format!(
                "unknown command '{}'",
                inv.command_line()
            ))),
        }
    }
}

// Exports the plugin from the shared library. Exactly once per library.
rex_plugin_api::export_plugin!(Acme);
