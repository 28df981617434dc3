//! Start a real `docker-registry`, push the fixtures and print its URL, then stay up until
//! standard input closes (used by `scripts/bench-image.sh` and for trying `rex image` by
//! hand).
//!
//! ```text
//! cargo run -p rex-plugin-image --example bench_fixture -- [--large]
//! ```
//!
//! Prints `URL<TAB>REPOSITORY-WITH-MANY-TAGS<TAB>TAG-COUNT` on one line (the repository is
//! empty without `--large`).

use std::io::{Read, Write};

fn main() -> anyhow::Result<()> {
    let large = std::env::args().any(|a| a == "--large");
    let registry = rex_tests::TestRegistry::try_start(rex_tests::Mode::Anonymous)?;
    let fixtures = if large {
        registry.push_large()?
    } else {
        registry.push_standard()?
    };
    let (repo, count) = fixtures
        .large
        .as_ref()
        .map(|l| (l.tags_repo.clone(), l.tags.len()))
        .unwrap_or_default();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}\t{repo}\t{count}", registry.url())?;
    out.flush()?;
    drop(out);
    // Up until the caller closes our stdin (or dies).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    registry.stop();
    Ok(())
}
