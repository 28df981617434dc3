//! The yardstick for `rex image REPO`: a minimal client doing the same requests — the
//! tag list, then per tag the manifest and per distinct digest the config (for an index
//! the first entry's manifest and config) — with 16 requests in flight over one pooled
//! reqwest client. No auth, no retries, no caching, no output beyond a count.
//!
//! ```text
//! cargo run --release -p rex-plugin-image --example baseline_client -- http://127.0.0.1:PORT REPO
//! ```

use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, OnceCell};

const IN_FLIGHT: usize = 16;
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

type Cells = Mutex<HashMap<String, Arc<OnceCell<Option<String>>>>>;

async fn get_json(
    client: &reqwest::Client,
    url: &str,
) -> anyhow::Result<(String, serde_json::Value)> {
    let resp = client
        .get(url)
        .header("Accept", ACCEPT)
        .send()
        .await?
        .error_for_status()?;
    let digest = resp
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = resp.bytes().await?;
    Ok((digest, serde_json::from_slice(&body)?))
}

/// `created` of the image a manifest describes.
async fn created(
    client: &reqwest::Client,
    base: &str,
    repo: &str,
    manifest: &serde_json::Value,
) -> anyhow::Result<Option<String>> {
    let image = if let Some(first) = manifest["manifests"].get(0) {
        let d = first["digest"].as_str().unwrap_or_default();
        get_json(client, &format!("{base}/v2/{repo}/manifests/{d}"))
            .await?
            .1
    } else {
        manifest.clone()
    };
    let Some(cfg) = image["config"]["digest"].as_str() else {
        return Ok(None);
    };
    let (_, config) = get_json(client, &format!("{base}/v2/{repo}/blobs/{cfg}")).await?;
    Ok(config["created"].as_str().map(str::to_owned))
}

// Single-threaded like rex's plugin runtime: on a small machine a multi-threaded client
// would compete with the registry for CPU and skew the comparison.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(base), Some(repo)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: baseline_client URL REPOSITORY");
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .build()?;
    let (_, list) = get_json(&client, &format!("{base}/v2/{repo}/tags/list")).await?;
    let mut tags: Vec<String> = list["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    // The order rex fetches in (its default name sort): the registry's own order is
    // arbitrary, and fetching aliases of a digest back to back makes them wait on each
    // other's config instead of using the slot for new work.
    tags.sort();
    let cells: Cells = Mutex::new(HashMap::new());
    let (client, base, repo, cells) = (&client, base.as_str(), repo.as_str(), &cells);
    let results: Vec<anyhow::Result<Option<String>>> = futures::stream::iter(tags.iter())
        .map(|tag| async move {
            let (digest, manifest) =
                get_json(client, &format!("{base}/v2/{repo}/manifests/{tag}")).await?;
            let cell = cells.lock().await.entry(digest).or_default().clone();
            let c = cell
                .get_or_try_init(|| created(client, base, repo, &manifest))
                .await?;
            Ok(c.clone())
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut ok = 0;
    for r in results {
        r?;
        ok += 1;
    }
    // A tool, not library code: stdout is its interface.
    #[allow(clippy::print_stdout)]
    {
        println!("{ok} tags");
    }
    Ok(())
}
