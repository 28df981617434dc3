//! A stand-in for a plugin built against a future rex plugin API major (2.0): its root
//! module has a different layout and its library header says `2.0.0`. rex must refuse it
//! with a one-line diagnostic, before any of its code runs, and keep working.

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::RVec;
use abi_stable::{export_root_module, prefix_type::PrefixTypeTrait, StableAbi};

#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = FutureModuleRef)))]
#[sabi(missing_field(panic))]
pub struct FutureModule {
    pub describe_v2: extern "C" fn(flags: u64) -> RVec<u8>,
    #[sabi(last_prefix_field)]
    pub run_v2: extern "C" fn(request: RVec<u8>) -> RVec<u8>,
}

impl RootModule for FutureModuleRef {
    abi_stable::declare_root_module_statics! {FutureModuleRef}
    const BASE_NAME: &'static str = "rex_plugin";
    const NAME: &'static str = "rex plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("2.0.0");
}

extern "C" fn describe_v2(_: u64) -> RVec<u8> {
    RVec::from(br#"{"name":"future","version":"9.0.0","api_version":{"major":2,"minor":0},"commands":[{"name":"future","about":"never shown"}]}"#.to_vec())
}

extern "C" fn run_v2(request: RVec<u8>) -> RVec<u8> {
    request
}

#[export_root_module]
fn root() -> FutureModuleRef {
    FutureModule {
        describe_v2,
        run_v2,
    }
    .leak_into_prefix()
}
