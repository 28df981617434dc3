//! Test support for rex.
//!
//! * [`registry`]: real `docker-registry` processes (anonymous, basic, token, TLS) with an
//!   in-process token server, request counting from the access log, and shared instances.
//! * [`fixtures`]: builders that push real OCI/Docker content through the registry API and
//!   describe what was pushed ([`fixtures::Fixtures`]) so tests assert against known truth.
//! * [`faults`]: a small misbehaving HTTP/1.1 server for what a real registry cannot do on
//!   demand (429, 503, resets, bad digests, cross-host redirects, slow and huge responses).
//! * [`proxy`]: a `CONNECT` forward proxy that records its tunnels (HTTPS via a proxy).
//! * [`cli`]: isolation helpers for running the `rex` binary.
//! * [`corpus`]: the 100,000 names the search and filter benchmarks run over.
//! * [`tmux`]: a private tmux server and pane, for tests in a real pseudo-terminal.
//!
//! Background servers run on one process-wide tokio runtime owned by this crate, so they
//! outlive any `#[tokio::test]` runtime and can be shared between tests.

pub mod cli;
pub mod corpus;
pub mod faults;
pub mod fixtures;
mod http;
pub mod oci;
mod pki;
mod process;
pub mod proxy;
pub mod push;
pub mod registry;
pub mod tmux;
pub mod token;

pub use fixtures::Fixtures;
pub use registry::{Credentials, Mode, SharedRegistry, TestRegistry, TokenOptions};

use std::future::Future;
use std::sync::OnceLock;

/// The process-wide runtime that runs the token server, the fault server and blocking
/// wrappers. A dedicated runtime keeps servers alive across tests whose own runtimes end.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("rex-tests-rt")
            .enable_all()
            .build()
            .expect("rex-tests: cannot build the harness tokio runtime")
    })
}

/// Run a future to completion from synchronous code, also when called from inside another
/// tokio runtime (then the future runs on a helper thread, since nesting `block_on` panics).
pub fn block_on<F>(fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime().block_on(fut);
    }
    std::thread::scope(|s| {
        s.spawn(|| runtime().block_on(fut))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}
