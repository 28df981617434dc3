//! # rex-plugin-api
//!
//! The one interface through which every rex command runs, built-in or external.
//!
//! * A plugin implements [`Plugin`]: [`Plugin::manifest`] declares its commands as data
//!   ([`CommandSpec`]); [`Plugin::invoke`] runs one of them and returns structured
//!   [`Output`] or a typed [`PluginError`]. Plugins never print: the host renders output
//!   as pretty, json or yaml, the same way for every plugin.
//! * Built-in plugins register with [`register_builtin!`] (through `inventory`) and are
//!   linked by cargo features of the host. External plugins are shared libraries that
//!   export the same trait through the small `abi_stable` root module in [`abi`], with
//!   [`export_plugin!`].
//! * Everything rich crosses the boundary as versioned serde payloads (JSON); the
//!   abi_stable-checked surface stays tiny so the ABI does not change when rex-core does.
//!
//! This crate must never depend on `rex-core`.

pub mod abi;
pub mod error;
pub mod host;
pub mod output;
pub mod protocol;

pub use abi::{ExternalPlugin, HostAdapter, LoadError, LoadErrorKind};
pub use error::{ErrorKind, PluginError};
pub use host::{Host, LogLevel, NullHost, Progress};
pub use output::{Block, Cell, Output, Style};
pub use protocol::{
    ApiVersion, ArgKind, ArgSpec, ArgValue, CommandSpec, Invocation, InvocationContext,
    PluginManifest, ValueType, API_VERSION,
};

/// The trait every plugin implements, built-in or external.
///
/// `invoke` is synchronous: a plugin that needs async creates and owns its own runtime
/// (see `docs/plugins.md`); the host's runtime never crosses the boundary.
pub trait Plugin: Send + Sync {
    /// The plugin's name, version, API version and commands. Must be cheap and pure.
    fn manifest(&self) -> PluginManifest;

    /// Run the command `invocation.command` (a path such as `["registry", "list"]`).
    fn invoke(&self, invocation: Invocation, host: &dyn Host) -> Result<Output, PluginError>;
}

/// A statically linked plugin, collected with `inventory`.
pub struct BuiltinPlugin {
    pub make: fn() -> Box<dyn Plugin>,
}

inventory::collect!(BuiltinPlugin);

/// Every built-in plugin linked into this binary, in unspecified order.
pub fn builtin_plugins() -> Vec<Box<dyn Plugin>> {
    inventory::iter::<BuiltinPlugin>
        .into_iter()
        .map(|b| (b.make)())
        .collect()
}

/// Register a built-in plugin: `rex_plugin_api::register_builtin!(|| Box::new(MyPlugin));`
#[macro_export]
macro_rules! register_builtin {
    ($make:expr) => {
        $crate::__inventory::submit! {
            $crate::BuiltinPlugin { make: $make }
        }
    };
}

#[doc(hidden)]
pub use inventory as __inventory;
