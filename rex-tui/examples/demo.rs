//! Run the TUI against an in-memory source: `cargo run -p rex-tui --example demo`.
//! Handy for trying keys and themes without a registry. `REX_DEMO_LIGHT=1` picks the light
//! theme (an example may read env vars; the library never does).

use std::sync::Arc;

use rex_tui::memory::MemorySource;
use rex_tui::{
    ConfigView, ImageView, LayerView, PlatformView, SourceError, SourceErrorKind, TagDetail, Theme,
    TuiOptions,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let mut src = MemorySource::new()
        .registry("local", "localhost:5000", true)
        .registry("ghcr", "ghcr.io", false)
        .repositories(
            "local",
            (0..5000).map(|i| format!("team{}/service-{i}", i % 50)),
        )
        .repositories_error(
            "ghcr",
            SourceError::new(SourceErrorKind::Auth, "Authentication failed for ghcr.io"),
        );
    for r in 0..3 {
        let repo = format!("team{r}/service-{r}");
        let tags: Vec<String> = (0..1000)
            .map(|i| format!("1.{}.{}", i / 50, i % 50))
            .collect();
        for (i, tag) in tags.iter().enumerate() {
            src = src.detail(
                "local",
                &repo,
                TagDetail {
                    tag: tag.clone(),
                    digest: format!("sha256:{i:064x}"),
                    media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                    size: Some(1_000_000 + i as u64 * 7_919),
                    created: Some(now - i as i64 * 3_600),
                    platforms: vec!["linux/amd64".into()],
                },
            );
            src = src.image(
                "local",
                &format!("{repo}:{tag}"),
                ImageView {
                    reference: format!("{repo}:{tag}"),
                    digest: format!("sha256:{i:064x}"),
                    media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                    size: Some(1_000_000),
                    created: Some(now - i as i64 * 3_600),
                    platforms: vec![PlatformView {
                        platform: "linux/amd64".into(),
                        digest: format!("sha256:{i:064x}"),
                        size: Some(1_000_000),
                    }],
                    shown_platform: Some("linux/amd64".into()),
                    config: Some(ConfigView {
                        os: "linux".into(),
                        architecture: "amd64".into(),
                        cmd: vec!["/app".into()],
                        env: vec!["PATH=/usr/bin".into()],
                        ..ConfigView::default()
                    }),
                    layers: vec![LayerView {
                        digest: format!("sha256:{i:064x}"),
                        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                        size: 999_000,
                    }],
                    history: Vec::new(),
                    raw_manifest: format!(r#"{{"schemaVersion":2,"tag":"{tag}"}}"#),
                    raw_config: Some(r#"{"os":"linux","architecture":"amd64"}"#.into()),
                },
            );
        }
        src = src.tags("local", &repo, tags);
    }
    let theme = if std::env::var_os("REX_DEMO_LIGHT").is_some() {
        Theme::Light
    } else {
        Theme::Dark
    };
    let options = TuiOptions {
        theme,
        log_file: Some(std::env::temp_dir().join("rex-tui-demo.log")),
        ..TuiOptions::default()
    };
    rex_tui::run(Arc::new(src), options)?;
    Ok(())
}
