//! Starts a real `docker-registry` on a free loopback port, pushes the demo content (the
//! harness's standard fixtures: an OCI image with a full config, a multi-platform index with
//! an attestation and a Windows entry, Docker v2 images and lists, `library/alpine`, deep
//! paths, an artifact with referrers), writes the registry URL to the file named by the first
//! argument (or stdout), and serves until its standard input closes or it is killed.
//!
//! Used by `scripts/demo`: `cargo run -p rex-tests --example demo_registry -- url.txt`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool: printing is its job

use rex_tests::registry::{Mode, TestRegistry};
use std::io::Read;

fn main() -> anyhow::Result<()> {
    let registry = TestRegistry::try_start(Mode::Anonymous)?;
    let fixtures = registry.push_standard()?;
    let url = registry.url();
    match std::env::args().nth(1) {
        // Write to a temp name and rename, so a reader polling the file never sees half a URL.
        Some(path) => {
            let tmp = format!("{path}.tmp");
            std::fs::write(&tmp, format!("{url}\n"))?;
            std::fs::rename(&tmp, &path)?;
        }
        None => println!("{url}"),
    }
    eprintln!(
        "demo registry at {url} with {} repositories; close stdin or press Ctrl+C to stop",
        fixtures.repositories().len()
    );
    // Block until stdin closes; the registry is stopped when `registry` drops.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(registry);
    Ok(())
}
