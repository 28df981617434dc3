//! The stable binary interface between the `rex` host and external plugins.
//!
//! The abi_stable-checked surface is deliberately tiny: one root module with two entry
//! points and one table of host callbacks, both *prefix types* so fields can be appended
//! in minor API versions. Everything rich (manifests, invocations, output, errors,
//! progress, prompts) crosses as JSON bytes whose shapes live in [`crate::protocol`] and
//! evolve with serde defaults, not with the ABI.
//!
//! ```text
//! host                                   plugin (cdylib, its own std/tokio/tracing)
//! ────                                   ──────
//! LibHeader.version_strings  ── read before anything else: "MAJOR.MINOR.0"
//! PluginModule.describe()    ──▶ PluginManifest JSON
//! PluginModule.invoke(json, HostCallbacks) ──▶ RResult<Output JSON, PluginError JSON>
//!          ◀── HostCallbacks.log / max_level / is_cancelled / progress / prompt / confirm / read_stdin
//! ```
//!
//! Plugin authors only use [`crate::export_plugin!`]; hosts use [`ExternalPlugin::load`].
//!
//! Versioning: a plugin built against API `1.x` loads in every `1.y` host with `y >= x`
//! ([`ApiVersion::accepts`]). Anything else is refused with a one-line diagnostic before
//! the plugin's code runs (only its library initialisers have run at that point).

use crate::host::{Host, LogLevel, Progress};
use crate::protocol::{ApiVersion, Invocation, PluginManifest, API_VERSION};
use crate::{ErrorKind, Output, Plugin, PluginError};
use abi_stable::library::{LibHeader, LibraryError, RootModule, RootModuleError};
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RSlice, RStr, RString, RVec};
use abi_stable::StableAbi;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

#[doc(hidden)]
pub use abi_stable as __abi_stable;

/// `API_VERSION` as the `major.minor.patch` string stored in every plugin's library
/// header, where the host can read it without running plugin code.
pub const API_VERSION_STRING: &str = "1.0.0";

/// The symbol abi_stable looks up for the library header. Spelled out so that
/// [`crate::export_plugin!`] works in crates that do not depend on abi_stable directly
/// (its proc macro hard-codes `::abi_stable` paths). Checked against abi_stable in tests.
#[doc(hidden)]
pub const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

// ───────────────────────────── the ABI types ─────────────────────────────

/// The root module every external plugin exports (via [`crate::export_plugin!`]).
///
/// A prefix type: new entry points are appended after `invoke` in later minor versions.
/// `invoke` stays the last prefix field, so `describe` and `invoke` are always present
/// (plain accessors); fields appended after it get `Option`-returning accessors
/// (`missing_field(option)`), which yield `None` for a plugin built before they existed
/// instead of panicking in the host. The policy only shapes the host's accessors, not
/// the layout abi_stable checks, so plugins built against 1.0 keep loading.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(option))]
pub struct PluginModule {
    /// The plugin's [`PluginManifest`] as JSON; `Err` holds a [`PluginError`] as JSON.
    pub describe: extern "C" fn() -> RResult<RVec<u8>, RVec<u8>>,
    /// Run one command: [`Invocation`] JSON in, [`Output`] JSON or [`PluginError`] JSON out.
    #[sabi(last_prefix_field)]
    pub invoke: extern "C" fn(
        invocation: RSlice<'_, u8>,
        host: HostCallbacksRef,
    ) -> RResult<RVec<u8>, RVec<u8>>,
}

impl RootModule for PluginModuleRef {
    abi_stable::declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "rex_plugin";
    const NAME: &'static str = "rex plugin";
    // The *plugin API* version, not the crate version: abi_stable only insists on equal
    // majors (for majors >= 1); rex checks the minor itself before this is consulted.
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(API_VERSION_STRING);
}

/// What the host offers a plugin during `invoke`. Plain `extern "C"` functions (the host
/// keeps its own state), so nothing of the host's runtime, allocator or tracing crosses.
/// Rich values are JSON text; errors are [`PluginError`] JSON.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostCallbacksRef)))]
#[sabi(missing_field(option))]
pub struct HostCallbacks {
    /// `log(level, target, message)`; `level` is a [`LogLevel`] as `u8`.
    pub log: extern "C" fn(level: u8, target: RStr<'_>, message: RStr<'_>),
    /// The most verbose [`LogLevel`] the host shows, as `u8`.
    pub max_level: extern "C" fn() -> u8,
    pub is_cancelled: extern "C" fn() -> bool,
    /// A [`Progress`] as JSON.
    pub progress: extern "C" fn(progress: RStr<'_>),
    /// `{"message": "...", "secret": bool}` → the answer.
    pub prompt: extern "C" fn(request: RStr<'_>) -> RResult<RString, RString>,
    pub confirm: extern "C" fn(message: RStr<'_>) -> RResult<bool, RString>,
    #[sabi(last_prefix_field)]
    pub read_stdin: extern "C" fn() -> RResult<RString, RString>,
}

// ───────────────────────────── shared helpers ─────────────────────────────

fn error_json(err: &PluginError) -> Vec<u8> {
    serde_json::to_vec(err).unwrap_or_else(|_| br#"{"kind":"general","message":"error"}"#.to_vec())
}

fn error_from_json(bytes: &[u8], what: &str) -> PluginError {
    serde_json::from_slice::<PluginError>(bytes).unwrap_or_else(|e| {
        PluginError::general(format!(
            "{what} returned an error that could not be decoded: {e}"
        ))
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

fn level_u8(level: LogLevel) -> u8 {
    level as u8
}

// ───────────────────────────── plugin side ─────────────────────────────

#[doc(hidden)]
pub mod plugin_side {
    //! Used by [`crate::export_plugin!`]; not a public API.

    use super::*;
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::Once;

    /// The callbacks of the host currently invoking us. `HostCallbacksRef` points at a
    /// table the host leaks for the life of the process, so keeping a copy is sound.
    static CURRENT: RwLock<Option<HostCallbacksRef>> = RwLock::new(None);
    /// The host's max level, cached per invocation so disabled events cost one load.
    static MAX_LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Warn as u8);

    thread_local! {
        static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    /// Once per library: route this cdylib's panics and tracing events to the host.
    pub fn init() {
        static INIT: Once = Once::new();
        INIT.call_once(|| {
            // This is the cdylib's own copy of std: the hook only sees panics raised in
            // plugin code. Record where, print nothing (plugins never print); the
            // `catch_unwind` in each entry point turns it into a `Panicked` error.
            std::panic::set_hook(Box::new(|info| {
                let loc = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                PANIC_LOCATION.with(|p| *p.borrow_mut() = loc);
            }));
            // set_global_default only affects this cdylib's copy of tracing, which is
            // exactly the one plugin code (and its statically linked rex-core) uses.
            use tracing_subscriber::layer::SubscriberExt;
            let subscriber = tracing_subscriber::registry().with(BridgeLayer);
            let _ = tracing::subscriber::set_global_default(subscriber);
        });
    }

    fn guarded<T>(
        plugin: fn() -> &'static dyn Plugin,
        what: &str,
        f: impl FnOnce() -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(payload) => {
                let loc = PANIC_LOCATION.with(|p| p.borrow_mut().take());
                // The name, if asking for it does not panic too.
                let name =
                    catch_unwind(|| plugin().manifest().name).unwrap_or_else(|_| "?".to_owned());
                let mut err = PluginError::new(
                    ErrorKind::Panicked,
                    format!(
                        "plugin '{name}' panicked{what}: {}",
                        panic_message(&*payload)
                    ),
                )
                .with_hint("this is a bug in the plugin; report it to its author");
                if let Some(loc) = loc {
                    err = err.with_detail(format!("at {loc}"));
                }
                Err(err)
            }
        }
    }

    pub fn describe(plugin: fn() -> &'static dyn Plugin) -> RResult<RVec<u8>, RVec<u8>> {
        init();
        let r = guarded(plugin, " while describing itself", || {
            let mut manifest = plugin().manifest();
            // The API version is the one this library was compiled against, whatever the
            // author wrote.
            manifest.api_version = API_VERSION;
            serde_json::to_vec(&manifest)
                .map_err(|e| PluginError::general(format!("cannot encode manifest: {e}")))
        });
        match r {
            Ok(v) => RResult::ROk(RVec::from(v)),
            Err(e) => RResult::RErr(RVec::from(error_json(&e))),
        }
    }

    pub fn invoke(
        plugin: fn() -> &'static dyn Plugin,
        invocation: RSlice<'_, u8>,
        host: HostCallbacksRef,
    ) -> RResult<RVec<u8>, RVec<u8>> {
        init();
        let r = guarded(plugin, "", || {
            let adapter = HostAdapter::new(host);
            MAX_LEVEL.store(level_u8(adapter.max_level()), Ordering::Relaxed);
            *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = Some(host);
            tracing::callsite::rebuild_interest_cache();
            let invocation: Invocation = serde_json::from_slice(invocation.as_slice())
                .map_err(|e| PluginError::general(format!("cannot decode invocation: {e}")))?;
            let out = plugin().invoke(invocation, &adapter)?;
            serde_json::to_vec(&out)
                .map_err(|e| PluginError::general(format!("cannot encode output: {e}")))
        });
        match r {
            Ok(v) => RResult::ROk(RVec::from(v)),
            Err(e) => RResult::RErr(RVec::from(error_json(&e))),
        }
    }

    /// Forwards this cdylib's tracing events to the host's `log` callback.
    struct BridgeLayer;

    fn level_of(level: &tracing::Level) -> LogLevel {
        match *level {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for BridgeLayer {
        fn register_callsite(
            &self,
            _: &'static tracing::Metadata<'static>,
        ) -> tracing::subscriber::Interest {
            // The host's level changes per invocation: decide per event.
            tracing::subscriber::Interest::sometimes()
        }

        fn enabled(
            &self,
            metadata: &tracing::Metadata<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) -> bool {
            level_u8(level_of(metadata.level())) <= MAX_LEVEL.load(Ordering::Relaxed)
        }

        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let host = *CURRENT.read().unwrap_or_else(|e| e.into_inner());
            let Some(host) = host else { return };
            let mut visitor = MessageVisitor::default();
            event.record(&mut visitor);
            let meta = event.metadata();
            (host.log())(
                level_u8(level_of(meta.level())),
                RStr::from_str(meta.target()),
                RStr::from_str(&visitor.finish()),
            );
        }
    }

    #[derive(Default)]
    struct MessageVisitor {
        message: String,
        fields: String,
    }

    impl MessageVisitor {
        fn finish(self) -> String {
            if self.fields.is_empty() {
                self.message
            } else if self.message.is_empty() {
                self.fields.trim_start().to_owned()
            } else {
                format!("{}{}", self.message, self.fields)
            }
        }
    }

    impl tracing::field::Visit for MessageVisitor {
        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            if field.name() == "message" {
                self.message = value.to_owned();
            } else {
                self.fields
                    .push_str(&format!(" {}={}", field.name(), value));
            }
        }
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.message = format!("{value:?}");
            } else {
                self.fields
                    .push_str(&format!(" {}={:?}", field.name(), value));
            }
        }
    }
}

/// [`Host`] implemented over the callbacks an external plugin receives. Plugin code sees
/// it as `&dyn Host`, exactly like a built-in does.
pub struct HostAdapter {
    callbacks: HostCallbacksRef,
}

impl HostAdapter {
    pub fn new(callbacks: HostCallbacksRef) -> Self {
        HostAdapter { callbacks }
    }
}

impl Host for HostAdapter {
    fn log(&self, level: LogLevel, target: &str, message: &str) {
        (self.callbacks.log())(
            level_u8(level),
            RStr::from_str(target),
            RStr::from_str(message),
        )
    }
    fn max_level(&self) -> LogLevel {
        LogLevel::from_u8((self.callbacks.max_level())()).unwrap_or(LogLevel::Warn)
    }
    fn is_cancelled(&self) -> bool {
        (self.callbacks.is_cancelled())()
    }
    fn progress(&self, progress: &Progress) {
        if let Ok(json) = serde_json::to_string(progress) {
            (self.callbacks.progress())(RStr::from_str(&json))
        }
    }
    fn prompt(&self, message: &str, secret: bool) -> Result<String, PluginError> {
        let req = serde_json::json!({ "message": message, "secret": secret }).to_string();
        match (self.callbacks.prompt())(RStr::from_str(&req)) {
            RResult::ROk(s) => Ok(s.into_string()),
            RResult::RErr(e) => Err(error_from_json(e.as_bytes(), "the host prompt")),
        }
    }
    fn confirm(&self, message: &str) -> Result<bool, PluginError> {
        match (self.callbacks.confirm())(RStr::from_str(message)) {
            RResult::ROk(b) => Ok(b),
            RResult::RErr(e) => Err(error_from_json(e.as_bytes(), "the host confirmation")),
        }
    }
    fn read_stdin(&self) -> Result<String, PluginError> {
        match (self.callbacks.read_stdin())() {
            RResult::ROk(s) => Ok(s.into_string()),
            RResult::RErr(e) => Err(error_from_json(e.as_bytes(), "reading stdin")),
        }
    }
}

/// Export a [`Plugin`] from a `cdylib` so `rex` can load it:
///
/// ```
/// use rex_plugin_api::{Host, Invocation, Output, Plugin, PluginError, PluginManifest, API_VERSION};
///
/// #[derive(Default)]
/// struct MyPlugin;
///
/// impl Plugin for MyPlugin {
///     fn manifest(&self) -> PluginManifest {
///         PluginManifest {
///             name: "mine".into(),
///             version: "0.1.0".into(),
///             api_version: API_VERSION,
///             description: String::new(),
///             commands: vec![],
///         }
///     }
///     fn invoke(&self, _: Invocation, _: &dyn Host) -> Result<Output, PluginError> {
///         Ok(Output::Empty)
///     }
/// }
///
/// rex_plugin_api::export_plugin!(MyPlugin::default());
/// // or, mirroring register_builtin!: export_plugin!(|| Box::new(MyPlugin::default()));
/// # fn main() {}
/// ```
///
/// The expression runs once, on first use. Every entry point catches panics (reported
/// as `ErrorKind::Panicked`), and the plugin's `tracing` events are forwarded to the
/// host's log (shown with `rex -vv`). Use it once per library, at the crate root.
#[macro_export]
macro_rules! export_plugin {
    (|| $make:expr) => {
        $crate::__export_plugin_impl! { { let p: ::std::boxed::Box<dyn $crate::Plugin> = $make; p } }
    };
    ($make:expr) => {
        $crate::__export_plugin_impl! { $crate::abi::__boxed($make) }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_plugin_impl {
    ($make:expr) => {
        #[doc(hidden)]
        mod __rex_exported_plugin {
            #[allow(unused_imports)]
            use super::*;
            use $crate::abi::__abi_stable as __abi;

            fn instance() -> &'static dyn $crate::Plugin {
                static PLUGIN: ::std::sync::OnceLock<::std::boxed::Box<dyn $crate::Plugin>> =
                    ::std::sync::OnceLock::new();
                &**PLUGIN.get_or_init(|| $make)
            }

            extern "C" fn describe(
            ) -> __abi::std_types::RResult<__abi::std_types::RVec<u8>, __abi::std_types::RVec<u8>>
            {
                $crate::abi::plugin_side::describe(instance)
            }

            extern "C" fn invoke(
                invocation: __abi::std_types::RSlice<'_, u8>,
                host: $crate::abi::HostCallbacksRef,
            ) -> __abi::std_types::RResult<__abi::std_types::RVec<u8>, __abi::std_types::RVec<u8>>
            {
                $crate::abi::plugin_side::invoke(instance, invocation, host)
            }

            fn root_module() -> $crate::abi::PluginModuleRef {
                $crate::abi::__module(describe, invoke)
            }

            extern "C" fn erased_root_module() -> __abi::library::RootModuleResult {
                __abi::library::__call_root_module_loader(root_module)
            }

            // What abi_stable's #[export_root_module] expands to, with paths through
            // rex-plugin-api so plugin crates need no direct abi_stable dependency.
            #[export_name = "_1as_0lib_1header_0root_bmodule_bloader"]
            pub static ROOT_MODULE_HEADER: __abi::library::LibHeader = unsafe {
                __abi::library::LibHeader::from_constructor::<$crate::abi::PluginModuleRef>(
                    erased_root_module,
                    __abi::library::CheckTypeLayout::Yes,
                )
            };
        }
    };
}

#[doc(hidden)]
pub fn __boxed<P: Plugin + 'static>(plugin: P) -> Box<dyn Plugin> {
    Box::new(plugin)
}

#[doc(hidden)]
pub type DescribeFn = extern "C" fn() -> RResult<RVec<u8>, RVec<u8>>;
#[doc(hidden)]
pub type InvokeFn = extern "C" fn(RSlice<'_, u8>, HostCallbacksRef) -> RResult<RVec<u8>, RVec<u8>>;

#[doc(hidden)]
pub fn __module(describe: DescribeFn, invoke: InvokeFn) -> PluginModuleRef {
    PluginModule { describe, invoke }.leak_into_prefix()
}

// ───────────────────────────── host side ─────────────────────────────

/// Why an external plugin could not be loaded. `Display` is one line naming the file,
/// what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub path: PathBuf,
    pub kind: LoadErrorKind,
    /// One line, without the path.
    pub reason: String,
    /// Long detail for `-vv` (e.g. abi_stable's layout report).
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadErrorKind {
    /// Not a shared library for this platform (or unreadable).
    NotALibrary,
    /// A shared library, but no rex plugin root module in it.
    NotAPlugin,
    /// Built against a plugin API this host does not accept.
    IncompatibleApi {
        plugin: ApiVersion,
        host: ApiVersion,
    },
    /// Same API version but the binary layout differs (or another abi_stable major).
    AbiMismatch,
    /// Its initialisation or description failed (error or panic).
    Broken,
}

impl LoadError {
    fn new(path: &Path, kind: LoadErrorKind, reason: impl Into<String>) -> Self {
        LoadError {
            path: path.to_owned(),
            kind,
            reason: reason.into(),
            detail: None,
        }
    }

    /// The name a user knows the file by: `libacme.so` → `acme`.
    pub fn plugin_name(&self) -> String {
        file_plugin_name(&self.path)
    }

    /// As a [`PluginError`] of kind [`ErrorKind::Incompatible`].
    pub fn to_plugin_error(&self) -> PluginError {
        let mut e = PluginError::new(ErrorKind::Incompatible, self.to_string());
        if let Some(d) = &self.detail {
            e = e.with_detail(d.clone());
        }
        e
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "plugin '{}' ({}): {}",
            self.plugin_name(),
            self.path.display(),
            self.reason
        )
    }
}

impl std::error::Error for LoadError {}

/// `libacme_ecr.so` → `acme_ecr`: the name used for a plugin file before it is described.
pub fn file_plugin_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    stem.strip_prefix("lib").unwrap_or(&stem).to_owned()
}

/// The one-line reason a plugin built for `plugin` cannot run in a host at `host`, or
/// `None` if it can.
pub fn incompatibility(plugin: ApiVersion, host: ApiVersion) -> Option<String> {
    if host.accepts(plugin) {
        return None;
    }
    let fix = if plugin.major == host.major {
        format!("upgrade rex, or rebuild the plugin against rex-plugin-api {host}")
    } else if plugin.major > host.major {
        format!("upgrade rex to one that supports plugin API {}.x, or use a plugin release built for API {}.x", plugin.major, host.major)
    } else {
        format!("rebuild the plugin against rex-plugin-api {host} (or install a release built for API {}.x)", host.major)
    };
    Some(format!(
        "built for rex plugin API {plugin}, but this rex provides API {host} (it loads plugins built for {}.0 through {host}); {fix}",
        host.major
    ))
}

/// An external plugin loaded from a shared library. Implements [`Plugin`], so the host
/// dispatches to it exactly like to a built-in.
pub struct ExternalPlugin {
    path: PathBuf,
    module: PluginModuleRef,
    manifest: PluginManifest,
}

impl std::fmt::Debug for ExternalPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalPlugin")
            .field("path", &self.path)
            .field("manifest", &self.manifest.name)
            .finish()
    }
}

#[cfg(target_os = "linux")]
fn check_magic(path: &Path) -> Result<(), LoadError> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic));
    match read {
        Err(e) => Err(LoadError::new(
            path,
            LoadErrorKind::NotALibrary,
            format!("cannot read the file ({e}); check that it exists and is readable"),
        )),
        Ok(()) if &magic != b"\x7fELF" => Err(LoadError::new(
            path,
            LoadErrorKind::NotALibrary,
            "not a shared library (no ELF header; corrupt or truncated file?); reinstall or remove it",
        )),
        Ok(()) => Ok(()),
    }
}

#[cfg(not(target_os = "linux"))]
fn check_magic(_: &Path) -> Result<(), LoadError> {
    Ok(())
}

impl ExternalPlugin {
    /// Load and describe the plugin at `path` (an absolute path; libraries are never
    /// searched for). The library is never unloaded (abi_stable does not support it).
    ///
    /// Order: file magic (no dlopen for garbage) → dlopen → abi_stable header → API
    /// version from the header (no plugin code has run yet) → layout check → root
    /// module constructor → `describe`.
    pub fn load(path: &Path) -> Result<ExternalPlugin, LoadError> {
        Self::load_for_host(path, API_VERSION)
    }

    /// Like [`ExternalPlugin::load`], as a host implementing `host_api` would.
    pub fn load_for_host(path: &Path, host_api: ApiVersion) -> Result<ExternalPlugin, LoadError> {
        check_magic(path)?;
        let header: &'static LibHeader = abi_stable::library::lib_header_from_path(path)
            .map_err(|e| map_library_error(path, e))?;
        let version = header.version_strings().version.as_str().to_owned();
        let plugin_api = parse_api_version(&version).ok_or_else(|| {
            LoadError::new(
                path,
                LoadErrorKind::NotAPlugin,
                format!("unreadable plugin API version '{version}'; rebuild it against rex-plugin-api {host_api}"),
            )
        })?;
        if let Some(reason) = incompatibility(plugin_api, host_api) {
            return Err(LoadError::new(
                path,
                LoadErrorKind::IncompatibleApi {
                    plugin: plugin_api,
                    host: host_api,
                },
                reason,
            ));
        }
        let module = header
            .init_root_module::<PluginModuleRef>()
            .map_err(|e| map_library_error(path, e))?;
        let manifest = match catch_unwind(AssertUnwindSafe(|| (module.describe())())) {
            Err(_) => {
                return Err(LoadError::new(path, LoadErrorKind::Broken, "panicked while describing itself"));
            }
            Ok(RResult::RErr(e)) => {
                let e = error_from_json(e.as_slice(), "describe");
                return Err(LoadError::new(
                    path,
                    LoadErrorKind::Broken,
                    format!("failed to describe itself: {}", e.message),
                ));
            }
            Ok(RResult::ROk(bytes)) => serde_json::from_slice::<PluginManifest>(bytes.as_slice())
                .map_err(|e| {
                    LoadError::new(
                        path,
                        LoadErrorKind::Broken,
                        format!("returned an unreadable manifest ({e}); rebuild it against rex-plugin-api {host_api}"),
                    )
                })?,
        };
        if let Some(reason) = incompatibility(manifest.api_version, host_api) {
            return Err(LoadError::new(
                path,
                LoadErrorKind::IncompatibleApi {
                    plugin: manifest.api_version,
                    host: host_api,
                },
                reason,
            ));
        }
        Ok(ExternalPlugin {
            path: path.to_owned(),
            module,
            manifest,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn parse_api_version(s: &str) -> Option<ApiVersion> {
    let mut it = s.split('.');
    let major = it.next()?.trim().parse().ok()?;
    let minor = it.next()?.trim().parse().ok()?;
    Some(ApiVersion { major, minor })
}

fn map_library_error(path: &Path, e: LibraryError) -> LoadError {
    let api = API_VERSION;
    match e {
        LibraryError::OpenError { err, .. } => {
            let mut le = LoadError::new(
                path,
                LoadErrorKind::NotALibrary,
                "cannot be loaded as a shared library (corrupt, wrong platform, or missing dependencies); rebuild or remove it",
            );
            le.detail = Some(err.to_string());
            le
        }
        LibraryError::GetSymbolError { .. } => LoadError::new(
            path,
            LoadErrorKind::NotAPlugin,
            "is a shared library but not a rex plugin (no `export_plugin!` root module); remove it from the plugin directory",
        ),
        LibraryError::InvalidAbiHeader(_) => LoadError::new(
            path,
            LoadErrorKind::AbiMismatch,
            format!("was built with an incompatible abi_stable; rebuild it against rex-plugin-api {api}"),
        ),
        LibraryError::AbiInstability(report) => {
            let mut le = LoadError::new(
                path,
                LoadErrorKind::AbiMismatch,
                format!("its binary interface does not match this rex (layout check failed); rebuild it against rex-plugin-api {api}"),
            );
            le.detail = Some(report.to_string());
            le
        }
        LibraryError::IncompatibleVersionNumber { actual_version, .. } => {
            let plugin = ApiVersion {
                major: actual_version.major,
                minor: actual_version.minor,
            };
            LoadError::new(
                path,
                LoadErrorKind::IncompatibleApi { plugin, host: api },
                incompatibility(plugin, api).unwrap_or_else(|| "incompatible plugin API version".into()),
            )
        }
        LibraryError::RootModule { err, .. } => {
            let reason = match err {
                RootModuleError::Unwound => "panicked while initialising; report it to its author".to_owned(),
                RootModuleError::Returned(e) => format!("failed to initialise: {e}"),
            };
            LoadError::new(path, LoadErrorKind::Broken, reason)
        }
        other => {
            let mut le = LoadError::new(
                path,
                LoadErrorKind::AbiMismatch,
                format!("cannot be loaded by this rex; rebuild it against rex-plugin-api {api}"),
            );
            le.detail = Some(other.to_string());
            le
        }
    }
}

/// The host the callbacks forward to while an external plugin runs. The reference is
/// only used under the read lock and cleared (under the write lock) before
/// `ExternalPlugin::invoke` returns, so it never outlives the borrow it came from.
static CURRENT_HOST: RwLock<Option<&'static dyn Host>> = RwLock::new(None);

fn with_host<T>(default: T, f: impl FnOnce(&dyn Host) -> T) -> T {
    let guard = CURRENT_HOST.read().unwrap_or_else(|e| e.into_inner());
    match *guard {
        // A panicking host service must not unwind into the plugin.
        Some(h) => catch_unwind(AssertUnwindSafe(|| f(h))).unwrap_or(default),
        None => default,
    }
}

fn err_string(e: &PluginError) -> RString {
    RString::from(String::from_utf8_lossy(&error_json(e)).into_owned())
}

fn no_host() -> PluginError {
    PluginError::general("the host is not running a command")
}

extern "C" fn cb_log(level: u8, target: RStr<'_>, message: RStr<'_>) {
    let level = LogLevel::from_u8(level).unwrap_or(LogLevel::Trace);
    with_host((), |h| h.log(level, target.as_str(), message.as_str()))
}
extern "C" fn cb_max_level() -> u8 {
    with_host(LogLevel::Error as u8, |h| level_u8(h.max_level()))
}
extern "C" fn cb_is_cancelled() -> bool {
    with_host(false, |h| h.is_cancelled())
}
extern "C" fn cb_progress(progress: RStr<'_>) {
    if let Ok(p) = serde_json::from_str::<Progress>(progress.as_str()) {
        with_host((), |h| h.progress(&p))
    }
}
extern "C" fn cb_prompt(request: RStr<'_>) -> RResult<RString, RString> {
    #[derive(serde::Deserialize)]
    struct Req {
        message: String,
        #[serde(default)]
        secret: bool,
    }
    let req: Req = match serde_json::from_str(request.as_str()) {
        Ok(r) => r,
        Err(e) => {
            return RResult::RErr(err_string(&PluginError::general(format!(
                "bad prompt request: {e}"
            ))))
        }
    };
    match with_host(Err(no_host()), |h| h.prompt(&req.message, req.secret)) {
        Ok(s) => RResult::ROk(RString::from(s)),
        Err(e) => RResult::RErr(err_string(&e)),
    }
}
extern "C" fn cb_confirm(message: RStr<'_>) -> RResult<bool, RString> {
    match with_host(Err(no_host()), |h| h.confirm(message.as_str())) {
        Ok(b) => RResult::ROk(b),
        Err(e) => RResult::RErr(err_string(&e)),
    }
}
extern "C" fn cb_read_stdin() -> RResult<RString, RString> {
    match with_host(Err(no_host()), |h| h.read_stdin()) {
        Ok(s) => RResult::ROk(RString::from(s)),
        Err(e) => RResult::RErr(err_string(&e)),
    }
}

/// The host's callback table (leaked once: plugin threads may outlive an invocation).
pub fn host_callbacks() -> HostCallbacksRef {
    static CALLBACKS: std::sync::OnceLock<HostCallbacksRef> = std::sync::OnceLock::new();
    *CALLBACKS.get_or_init(|| {
        HostCallbacks {
            log: cb_log,
            max_level: cb_max_level,
            is_cancelled: cb_is_cancelled,
            progress: cb_progress,
            prompt: cb_prompt,
            confirm: cb_confirm,
            read_stdin: cb_read_stdin,
        }
        .leak_into_prefix()
    })
}

struct ClearHost;

impl Drop for ClearHost {
    fn drop(&mut self) {
        *CURRENT_HOST.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Plugin for ExternalPlugin {
    fn manifest(&self) -> PluginManifest {
        self.manifest.clone()
    }

    fn invoke(&self, invocation: Invocation, host: &dyn Host) -> Result<Output, PluginError> {
        let json = serde_json::to_vec(&invocation)
            .map_err(|e| PluginError::general(format!("cannot encode invocation: {e}")))?;
        // SAFETY: the 'static reference is stored only until `_clear` runs at the end of
        // this function; callbacks use it under the read lock, and clearing takes the
        // write lock, so no use outlives `host`.
        let host_static: &'static dyn Host =
            unsafe { std::mem::transmute::<&dyn Host, &'static dyn Host>(host) };
        *CURRENT_HOST.write().unwrap_or_else(|e| e.into_inner()) = Some(host_static);
        let _clear = ClearHost;
        let name = &self.manifest.name;
        let result = catch_unwind(AssertUnwindSafe(|| {
            (self.module.invoke())(RSlice::from_slice(&json), host_callbacks())
        }))
        .map_err(|_| PluginError::new(ErrorKind::Panicked, format!("plugin '{name}' panicked")))?;
        match result {
            RResult::ROk(bytes) => {
                serde_json::from_slice::<Output>(bytes.as_slice()).map_err(|e| {
                    PluginError::general(format!(
                        "plugin '{name}' returned output rex cannot read: {e}"
                    ))
                    .with_hint("the plugin may be built for a newer rex; upgrade rex or the plugin")
                })
            }
            RResult::RErr(bytes) => Err(error_from_json(
                bytes.as_slice(),
                &format!("plugin '{name}'"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_module_symbol_matches_abi_stable() {
        assert_eq!(
            ROOT_MODULE_SYMBOL,
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }

    #[test]
    fn api_version_string_matches_constant() {
        assert_eq!(parse_api_version(API_VERSION_STRING), Some(API_VERSION));
    }

    #[test]
    fn incompatibility_names_both_versions_and_a_fix() {
        let host = ApiVersion { major: 1, minor: 2 };
        assert!(incompatibility(ApiVersion { major: 1, minor: 0 }, host).is_none());
        let msg = incompatibility(ApiVersion { major: 2, minor: 0 }, host).unwrap();
        assert!(
            msg.contains("2.0") && msg.contains("1.2") && msg.contains("upgrade rex"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
        let msg = incompatibility(ApiVersion { major: 1, minor: 3 }, host).unwrap();
        assert!(msg.contains("1.3") && msg.contains("1.2"), "{msg}");
    }

    #[test]
    fn corrupt_file_is_refused_with_one_line() {
        let dir = std::env::temp_dir().join(format!("rex-abi-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("libgarbage.so");
        std::fs::write(&path, b"this is not a library").unwrap();
        let err = ExternalPlugin::load(&path).unwrap_err();
        assert_eq!(err.kind, LoadErrorKind::NotALibrary);
        let line = err.to_string();
        assert!(line.contains("'garbage'") && !line.contains('\n'), "{line}");
        std::fs::remove_dir_all(&dir).ok();
    }

    struct Echo;
    impl Plugin for Echo {
        fn manifest(&self) -> PluginManifest {
            PluginManifest {
                name: "echo".into(),
                version: "1.0.0".into(),
                api_version: ApiVersion { major: 0, minor: 0 },
                description: String::new(),
                commands: vec![],
            }
        }
        fn invoke(&self, invocation: Invocation, host: &dyn Host) -> Result<Output, PluginError> {
            if invocation.command == ["boom"] {
                panic!("boom");
            }
            host.log(LogLevel::Info, "echo", "hello");
            Ok(Output::Raw {
                text: invocation.command.join(" "),
            })
        }
    }

    fn echo() -> &'static dyn Plugin {
        &Echo
    }

    #[test]
    fn plugin_side_entry_points_round_trip_and_catch_panics() {
        let RResult::ROk(bytes) = plugin_side::describe(echo) else {
            panic!("describe failed")
        };
        let m: PluginManifest = serde_json::from_slice(bytes.as_slice()).unwrap();
        assert_eq!(
            m.api_version, API_VERSION,
            "export overrides the API version"
        );

        let inv = |cmd: &str| {
            serde_json::to_vec(&Invocation {
                v: 1,
                command: vec![cmd.into()],
                args: Default::default(),
                settings: serde_json::Value::Null,
                context: Default::default(),
            })
            .unwrap()
        };
        let ok = plugin_side::invoke(echo, RSlice::from_slice(&inv("hi")), host_callbacks());
        let RResult::ROk(out) = ok else {
            panic!("invoke failed")
        };
        let out: Output = serde_json::from_slice(out.as_slice()).unwrap();
        assert_eq!(out, Output::Raw { text: "hi".into() });

        let bad = plugin_side::invoke(echo, RSlice::from_slice(&inv("boom")), host_callbacks());
        let RResult::RErr(err) = bad else {
            panic!("panic not caught")
        };
        let err: PluginError = serde_json::from_slice(err.as_slice()).unwrap();
        assert_eq!(err.kind, ErrorKind::Panicked);
        assert!(err.message.contains("boom"), "{}", err.message);
    }
}
