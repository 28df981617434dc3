//! `RexSource` against a real `docker-registry` (rex-tests harness), driven through the
//! real `App` by key events.

use std::sync::Arc;

use crossterm::event::KeyCode;
use rex_core::config::{RegistryEntry, Settings};
use rex_tests::registry::{Mode, TestRegistry};
use rex_tui::app::{Screen, Section};
use rex_tui::testing::Harness;
use rex_tui::{RexSource, Source, Theme};

fn settings_for(reg: &TestRegistry, name: &str) -> Settings {
    let mut settings = Settings::default();
    settings.registries.list.push(RegistryEntry {
        name: name.into(),
        url: reg.url(),
        insecure: true,
        skip_verify: false,
    });
    settings.registries.current = Some(name.into());
    settings
}

#[test]
fn browses_a_real_registry_from_registries_to_image_layers() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let fixtures = reg.push_standard().expect("pushing fixtures");
    let source = Arc::new(RexSource::new(settings_for(&reg, "local")));
    let mut h = Harness::with_options(source, Theme::Dark, true, Some("local".into()), 100, 20);
    h.settle();
    let Screen::Repositories(r) = h.app.top() else {
        panic!("expected repositories, status: {:?}", h.app.status)
    };
    assert!(
        r.list.items.iter().any(|n| n == "rex/oci-image"),
        "{:?}",
        r.list.items
    );
    assert_eq!(r.registry.host, reg.host_port());

    h.key(KeyCode::Char('/'));
    h.type_str("oci-image");
    h.key(KeyCode::Enter);
    h.settle();
    let Screen::Tags(t) = h.app.top() else {
        panic!("expected tags, status: {:?}", h.app.status)
    };
    let names: Vec<&str> = t.list.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["1.0", "1.0.1", "2.0", "latest", "stable"]);
    assert_eq!(t.details.received, 5);
    let latest = t.list.items.iter().find(|r| r.name == "latest").unwrap();
    let detail = latest.detail.as_ref().expect("details streamed in");
    assert_eq!(detail.digest, fixtures.oci_image.digest.to_string());
    assert_eq!(detail.created, Some(1_707_553_800)); // 2024-02-10T08:30:00Z
    assert!(h.app.status.is_none(), "{:?}", h.app.status);

    h.key(KeyCode::Char('G'));
    h.key(KeyCode::Char('k'));
    h.key(KeyCode::Enter); // "latest"
    h.settle();
    let Screen::Image(img) = h.app.top() else {
        panic!("expected the image, status: {:?}", h.app.status)
    };
    let view = img.image.as_ref().expect("image loaded");
    assert_eq!(view.digest, fixtures.oci_image.digest.to_string());
    assert!(!view.layers.is_empty());
    assert!(img.manifest_lines.len() > 3);
    assert!(view.config.is_some());
    for _ in 0..3 {
        h.key(KeyCode::Tab);
    }
    assert!(matches!(h.app.top(), Screen::Image(i) if i.section == Section::Layers));
    let screen = h.render();
    assert!(screen.contains("MEDIA TYPE"), "{screen}");
}

#[test]
fn multi_platform_images_list_platforms_and_switch() {
    let reg = TestRegistry::start(Mode::Anonymous);
    reg.push_standard().expect("pushing fixtures");
    let source = RexSource::new(settings_for(&reg, "local"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let default = rt
        .block_on(source.image("local", "rex/multiarch:latest", None))
        .expect("inspect");
    let platforms: Vec<&str> = default
        .platforms
        .iter()
        .map(|p| p.platform.as_str())
        .collect();
    assert!(platforms.contains(&"linux/arm64/v8"), "{platforms:?}");
    assert_eq!(default.shown_platform.as_deref(), Some("linux/amd64"));
    let arm = rt
        .block_on(source.image("local", "rex/multiarch:latest", Some("linux/arm64/v8")))
        .expect("inspect arm64");
    assert_eq!(arm.shown_platform.as_deref(), Some("linux/arm64/v8"));
    assert_eq!(arm.config.unwrap().architecture, "arm64");
}

#[test]
fn auth_errors_tell_how_to_log_in() {
    let reg = TestRegistry::start(Mode::basic("alice", "s3cret"));
    let source = Arc::new(RexSource::new(settings_for(&reg, "private")));
    let mut h = Harness::with_options(source, Theme::Dark, true, Some("private".into()), 100, 20);
    h.settle();
    let status = h.app.status.clone().expect("an error status");
    assert!(
        status.text.ends_with("Run 'rex registry login private'."),
        "{}",
        status.text
    );
    assert!(!h.app.quit);
}

#[test]
fn unknown_registry_and_missing_repository_are_errors_not_panics() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let source = RexSource::new(settings_for(&reg, "local"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(source.repositories("nope", false)).unwrap_err();
    assert!(err.message.contains("'nope' is not configured"), "{err:?}");
    let err = rt
        .block_on(source.tags("local", "no/such-repo", false))
        .unwrap_err();
    assert_eq!(err.kind, rex_tui::SourceErrorKind::NotFound, "{err:?}");
}

#[test]
fn options_follow_the_tui_settings() {
    let mut settings = Settings::default();
    settings.tui.theme = rex_core::config::Theme::Light;
    settings.tui.vim_bindings = false;
    settings.runtime.registry = Some("local".into());
    let o = rex_tui::TuiOptions::from_settings(&settings, Some("/state/rex/rex.log".into()));
    assert_eq!(o.theme, Theme::Light);
    assert!(!o.vim_bindings);
    assert_eq!(o.initial_registry.as_deref(), Some("local"));
    assert_eq!(
        o.log_file.as_deref(),
        Some(std::path::Path::new("/state/rex/rex.log"))
    );
}

/// Snapshot text with the per-run parts replaced: the registry's port (its address is in
/// the registries list and headers). Digests, sizes and dates come from the deterministic
/// fixtures, and the harness pins "now", so they stay.
fn redact(screen: &str, reg: &TestRegistry) -> String {
    screen.replace(&reg.host_port(), "127.0.0.1:PORT")
}

fn section(h: &Harness) -> Section {
    match h.app.top() {
        Screen::Image(i) => i.section,
        _ => panic!("expected an image screen, status: {:?}", h.app.status),
    }
}

/// Every screen of the TUI rendered (ratatui `TestBackend`) from the harness's real
/// registry: registries, repositories (all and filtered), tags with streamed details, and
/// each section of an image and of a multi-platform index.
#[test]
fn snapshots_of_each_screen_from_a_real_registry() {
    let reg = TestRegistry::start(Mode::Anonymous);
    reg.push_standard().expect("pushing fixtures");
    let source = Arc::new(RexSource::new(settings_for(&reg, "local")));
    let mut h = Harness::with_options(source, Theme::Dark, true, None, 100, 24);
    // A fixed "now" after the newest fixture date (tag 2.0, 2024-06-01 09:00 UTC), so
    // relative dates read "4 months ago", never "in the future": 2024-10-01 00:00 UTC.
    h.app.now = 1_727_740_800;
    h.settle();
    insta::assert_snapshot!("real_registries", redact(&h.render(), &reg));

    h.key(KeyCode::Enter);
    h.settle();
    assert!(
        matches!(h.app.top(), Screen::Repositories(_)),
        "{:?}",
        h.app.status
    );
    insta::assert_snapshot!("real_repositories", redact(&h.render(), &reg));

    h.key(KeyCode::Char('/'));
    h.type_str("rex/");
    insta::assert_snapshot!("real_repositories_filtered", redact(&h.render(), &reg));
    h.key(KeyCode::Esc);

    h.key(KeyCode::Char('/'));
    h.type_str("oci-image");
    h.key(KeyCode::Enter);
    h.settle();
    assert!(matches!(h.app.top(), Screen::Tags(_)), "{:?}", h.app.status);
    let tags_screen = h.render();
    assert!(tags_screen.contains("4 months ago"), "{tags_screen}");
    assert!(!tags_screen.contains("in the future"), "{tags_screen}");
    insta::assert_snapshot!("real_tags", redact(&tags_screen, &reg));

    h.key(KeyCode::Char('/'));
    h.type_str("latest");
    h.key(KeyCode::Enter);
    h.settle();
    // Tab through every section the image offers, until it wraps around.
    let first = section(&h);
    let mut seen = Vec::new();
    while !seen.contains(&section(&h)) {
        let s = section(&h);
        seen.push(s);
        let name = format!("real_image_{}", s.title().replace(' ', "_").to_lowercase());
        insta::assert_snapshot!(name, redact(&h.render(), &reg));
        h.key(KeyCode::Tab);
    }
    assert_eq!(section(&h), first);
    assert!(seen.len() >= 5, "{seen:?}");

    // A multi-platform index: back to the repositories, open rex/multiarch:latest.
    for _ in 0..5 {
        if matches!(h.app.top(), Screen::Repositories(_)) && h.app.query() == Some("") {
            break;
        }
        h.key(KeyCode::Esc);
    }
    assert!(matches!(h.app.top(), Screen::Repositories(_)));
    h.key(KeyCode::Char('/'));
    h.type_str("multiarch");
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Char('/'));
    h.type_str("latest");
    h.key(KeyCode::Enter);
    h.settle();
    for _ in 0..Section::ALL.len() {
        if section(&h) == Section::Platforms {
            break;
        }
        h.key(KeyCode::Tab);
    }
    assert_eq!(section(&h), Section::Platforms);
    insta::assert_snapshot!("real_index_platforms", redact(&h.render(), &reg));
}

/// A TUI session on `settings`: open `rex/oci-image` from the repository list.
fn open_oci_image(settings: &Settings) -> Harness {
    let source = Arc::new(RexSource::new(settings.clone()));
    let mut h = Harness::with_options(source, Theme::Dark, true, Some("local".into()), 100, 20);
    h.settle();
    h.key(KeyCode::Char('/'));
    h.type_str("oci-image");
    h.key(KeyCode::Enter);
    h.settle();
    assert!(
        matches!(h.app.top(), Screen::Tags(_)),
        "status: {:?}",
        h.app.status
    );
    h
}

fn tag_names(h: &Harness) -> Vec<String> {
    match h.app.top() {
        Screen::Tags(t) => t.list.items.iter().map(|r| r.name.clone()).collect(),
        _ => panic!("not on tags"),
    }
}

fn push_tag(reg: &TestRegistry, tag: &str, seed: u64) {
    let spec = rex_tests::fixtures::ImageSpec::new(seed).created("2024-06-01T00:00:00Z");
    rex_tests::block_on(rex_tests::fixtures::push_image(
        &reg.pusher(),
        "rex/oci-image",
        &spec,
        &[tag],
    ))
    .expect("push");
}

#[test]
fn warm_open_is_served_from_the_cache_and_r_asks_the_registry() {
    let reg = TestRegistry::start(Mode::Anonymous);
    reg.push_standard().expect("pushing fixtures");
    let cache = tempfile::tempdir().unwrap();
    let mut settings = settings_for(&reg, "local");
    settings.runtime.cache_dir = Some(cache.path().to_path_buf());
    drop(open_oci_image(&settings)); // the warm-up session fills the cache

    let (catalog, tags, manifests, manifest_any) = (
        reg.request_count("GET", "/_catalog"),
        reg.request_count("GET", "/tags/list"),
        reg.request_count("GET", "/manifests/"),
        reg.request_count("*", "/manifests/"),
    );
    assert!(catalog >= 1 && tags >= 1 && manifests >= 1);
    let mut h = open_oci_image(&settings);
    assert_eq!(tag_names(&h), ["1.0", "1.0.1", "2.0", "latest", "stable"]);
    assert_eq!(
        reg.request_count("GET", "/_catalog"),
        catalog,
        "catalog from the cache"
    );
    assert_eq!(
        reg.request_count("GET", "/tags/list"),
        tags,
        "tags from the cache"
    );
    assert_eq!(
        reg.request_count("*", "/manifests/"),
        manifest_any,
        "details from the cache"
    );

    // Pushed after the first load: the cached (fresh) listing does not know it; `r` does.
    push_tag(&reg, "3.0", 901);
    let manifests = reg.request_count("GET", "/manifests/");
    h.key(KeyCode::Char('r'));
    h.settle();
    assert_eq!(reg.request_count("GET", "/tags/list"), tags + 1);
    assert_eq!(
        tag_names(&h),
        ["1.0", "1.0.1", "2.0", "3.0", "latest", "stable"]
    );
    // Details resolve every tag by the registry again, not by the cached snapshot.
    assert!(
        reg.request_count("GET", "/manifests/") >= manifests + 6,
        "one GET by tag per tag"
    );
    let Screen::Tags(t) = h.app.top() else {
        panic!()
    };
    let new = t.list.items.iter().find(|r| r.name == "3.0").unwrap();
    assert!(
        new.detail.is_some(),
        "details of the new tag: {:?}",
        new.error
    );

    // `r` on the repository list asks for the catalog again.
    h.key(KeyCode::Esc);
    h.key(KeyCode::Char('r'));
    h.settle();
    assert_eq!(reg.request_count("GET", "/_catalog"), catalog + 1);
    assert!(h.app.status.is_none(), "{:?}", h.app.status);
}

#[test]
fn an_expired_listing_is_shown_then_refreshed_behind() {
    let reg = TestRegistry::start(Mode::Anonymous);
    reg.push_standard().expect("pushing fixtures");
    let cache = tempfile::tempdir().unwrap();
    let mut settings = settings_for(&reg, "local");
    settings.runtime.cache_dir = Some(cache.path().to_path_buf());
    settings.cache.ttl.tags = 1;
    drop(open_oci_image(&settings));
    let tags = reg.request_count("GET", "/tags/list");
    push_tag(&reg, "3.0", 902);
    std::thread::sleep(std::time::Duration::from_millis(1_100));

    // The next session serves the expired list at once (no request), and the refresh
    // behind it (one request, not one per layer of the stack) brings the new tag in.
    let source = Arc::new(RexSource::new(settings.clone()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let served = rt
        .block_on(source.tags("local", "rex/oci-image", false))
        .expect("tags");
    assert!(served.stale);
    assert!(!served.names.contains(&"3.0".to_string()));
    assert_eq!(
        reg.request_count("GET", "/tags/list"),
        tags,
        "served without asking"
    );

    let h = open_oci_image(&settings);
    assert!(
        tag_names(&h).contains(&"3.0".to_string()),
        "{:?}",
        tag_names(&h)
    );
    assert_eq!(reg.request_count("GET", "/tags/list"), tags + 1);
}

/// Issue 6: a repository with 1,000+ tags shows its tag names at once (from the tag
/// list alone) and fills in details as they arrive, against the real registry.
#[test]
fn twelve_hundred_tags_show_names_at_once_and_details_stream_in() {
    let reg = Arc::new(TestRegistry::start(Mode::Anonymous));
    let fixtures = reg.push_large().expect("pushing fixtures");
    let large = fixtures.large.expect("large fixtures");
    let source = Arc::new(RexSource::new(settings_for(&reg, "local")));
    let mut h = Harness::with_options(source, Theme::Dark, true, Some("local".into()), 100, 30);
    h.settle();
    h.key(KeyCode::Char('/'));
    h.type_str("rex/many-tags");
    h.key(KeyCode::Enter);
    // Answer the tag list only: every name is on screen before any detail is fetched.
    let (id, req) = h.take_pending().remove(0);
    for ev in h.answer(id, &req) {
        h.send(ev);
    }
    let Screen::Tags(t) = h.app.top() else {
        panic!("expected tags, status: {:?}", h.app.status)
    };
    assert_eq!(t.list.items.len(), 1200);
    assert!(t.list.items.iter().all(|r| r.detail.is_none()));
    let screen = h.render();
    assert!(
        screen.contains("t0000") && screen.contains("details 0/1200"),
        "{screen}"
    );
    assert!(
        h.pending
            .iter()
            .any(|(_, r)| matches!(r, rex_tui::Request::TagDetails { .. })),
        "the details are requested in the background"
    );
    h.settle();
    let Screen::Tags(t) = h.app.top() else {
        panic!("expected tags")
    };
    assert_eq!(t.details.received, 1200);
    for row in &t.list.items {
        let detail = row
            .detail
            .as_ref()
            .unwrap_or_else(|| panic!("{}", row.name));
        assert_eq!(
            Some(&detail.digest),
            large.tags.get(&row.name),
            "{}",
            row.name
        );
    }
    assert!(h.app.status.is_none(), "{:?}", h.app.status);

    // Streaming, shown without timing: the registry is stopped as the first detail
    // arrives. Had the source fetched everything before delivering, all 1,200 would be
    // there; streamed, one batch is, and the rest fail with a network error.
    let mut settings = settings_for(&reg, "local");
    settings.cache.enabled = false;
    let uncached = RexSource::new(settings);
    let delivered = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = {
        let (delivered, reg) = (delivered.clone(), reg.clone());
        rex_tui::source::DetailSink::new(move |update| {
            let mut got = delivered.lock().unwrap();
            if got.is_empty() {
                reg.stop();
            }
            got.push(update);
        })
    };
    let tags: Vec<String> = large.tags.keys().cloned().collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(uncached.tag_details("local", &large.tags_repo, &tags, true, sink));
    let got = delivered.lock().unwrap();
    let ready = got
        .iter()
        .filter(|u| matches!(u, rex_tui::TagDetailUpdate::Ready(_)))
        .count();
    assert!(
        (1..=16).contains(&ready),
        "{ready} details before the registry stopped"
    );
    assert!(
        result.is_err(),
        "the rest fail once the registry is gone: {result:?}"
    );
}
