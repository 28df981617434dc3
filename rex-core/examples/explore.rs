//! Explore a live registry with the `Rex` facade: list repositories and tags, then
//! inspect the first multi-platform image found.
//!
//! ```text
//! cargo run -p rex-core --example explore -- http://localhost:5000 [user password]
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use rex_core::credentials::Credentials;
use rex_core::endpoint::Endpoint;
use rex_core::reference::Reference;
use rex_core::registry::{ConnectOptions, Rex};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        if let Some(h) = e.hint() {
            eprintln!("hint: {h}");
        }
        std::process::exit(1);
    }
}

async fn run() -> rex_core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        return Err(rex_core::Error::usage(
            "usage: explore <registry-url> [user password]",
        ));
    };
    let credentials = match (args.get(1), args.get(2)) {
        (Some(u), Some(p)) => Some(Credentials::new(u.clone(), p.clone())),
        _ => None,
    };
    let rex = Rex::connect(
        Endpoint::parse(url)?,
        ConnectOptions {
            credentials,
            ..ConnectOptions::default()
        },
    )?;

    let ping = rex.ping().await?;
    println!(
        "{} — API {}, auth {}",
        rex.endpoint(),
        ping.api_version.as_deref().unwrap_or("?"),
        ping.auth_scheme
    );

    let repos = rex.list_repositories().await?;
    println!("{} repositories", repos.len());
    let mut multi: Option<Reference> = None;
    for repo in repos.iter().take(20) {
        let tags = rex.list_tags(repo).await?;
        println!(
            "  {repo}: {} tags {:?}",
            tags.len(),
            &tags[..tags.len().min(5)]
        );
        if multi.is_none() {
            if let Some(tag) = tags.first() {
                let r = Reference::parse(&format!("{repo}:{tag}"))?;
                if rex.get_manifest(&r).await?.manifest.is_index() {
                    multi = Some(r);
                }
            }
        }
    }

    let Some(r) = multi else {
        println!("no multi-platform image among the first repositories");
        return Ok(());
    };
    let info = rex.inspect(&r, None).await?;
    println!("\n{r}  {}  {}", info.kind, info.digest);
    for p in &info.platforms {
        println!(
            "  {:<20} {}  {} bytes{}",
            p.platform,
            p.digest.short(),
            p.size,
            if p.attestation { "  (attestation)" } else { "" }
        );
    }
    println!(
        "shown: {}  created {}  size {} bytes  {} layers",
        info.platform.as_deref().unwrap_or("?"),
        info.created.as_deref().unwrap_or("?"),
        info.total_size,
        info.layers.len()
    );
    for (k, v) in &info.labels {
        println!("  label {k}={v}");
    }
    Ok(())
}
