//! Whole-app tests: the real `App`/`update`/`draw` driven by key events and an in-memory
//! source. State assertions first, then `TestBackend` snapshots of every screen.

use std::sync::Arc;

use crossterm::event::{KeyCode, MouseButton, MouseEvent, MouseEventKind};
use rex_tui::app::{Screen, SortKey, StatusKind};
use rex_tui::memory::MemorySource;
use rex_tui::testing::{Harness, NOW};
use rex_tui::{
    ConfigView, Event, HistoryView, ImageView, LayerView, PlatformView, Request, SourceError,
    SourceErrorKind, TagDetail, Theme,
};

const DAY: i64 = 86_400;

fn detail(tag: &str, n: u64, age_days: i64, platforms: &[&str]) -> TagDetail {
    TagDetail {
        tag: tag.into(),
        digest: format!("sha256:{n:02x}{}", "ab12cd34".repeat(8)),
        media_type: "application/vnd.oci.image.index.v1+json".into(),
        size: Some(n * 1_000_000 + 12_345),
        created: Some(NOW - age_days * DAY),
        platforms: platforms.iter().map(|p| p.to_string()).collect(),
    }
}

fn nginx_image() -> ImageView {
    ImageView {
        reference: "library/nginx:1.25.3".into(),
        digest: "sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac".into(),
        media_type: "application/vnd.oci.image.index.v1+json".into(),
        size: Some(70_123_456),
        created: Some(NOW - 3 * DAY),
        platforms: vec![
            PlatformView {
                platform: "linux/amd64".into(),
                digest: "sha256:aaaa1111bbbb2222cccc3333dddd4444".into(),
                size: Some(70_000_000),
            },
            PlatformView {
                platform: "linux/arm64/v8".into(),
                digest: "sha256:eeee5555ffff6666aaaa7777bbbb8888".into(),
                size: Some(66_000_000),
            },
        ],
        shown_platform: Some("linux/amd64".into()),
        config: Some(ConfigView {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            env: vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin".into(),
                "NGINX_VERSION=1.25.3".into(),
            ],
            entrypoint: vec!["/docker-entrypoint.sh".into()],
            cmd: vec!["nginx".into(), "-g".into(), "daemon off;".into()],
            working_dir: None,
            user: Some("101".into()),
            labels: vec![(
                "maintainer".into(),
                "NGINX Docker Maintainers <docker-maint@nginx.com>".into(),
            )],
            exposed_ports: vec!["80/tcp".into()],
        }),
        layers: vec![
            LayerView {
                digest: "sha256:1f7ce2fa46ab3942feabee654933948821303a5a821789dddab2d8c3df59e227"
                    .into(),
                media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                size: 29_124_000,
            },
            LayerView {
                digest: "sha256:9b1d3a3c4e2f1d0c8b7a69584736251403f2e1d0c9b8a7f6e5d4c3b2a1908070"
                    .into(),
                media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                size: 41_000_000,
            },
        ],
        history: vec![
            HistoryView {
                created: Some(NOW - 20 * DAY),
                created_by: "/bin/sh -c #(nop) ADD file:abc in /".into(),
                comment: None,
                empty_layer: false,
            },
            HistoryView {
                created: Some(NOW - 3 * DAY),
                created_by: "CMD [\"nginx\" \"-g\" \"daemon off;\"]".into(),
                comment: Some("buildkit.dockerfile.v0".into()),
                empty_layer: true,
            },
        ],
        raw_manifest: r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aaaa1111","size":1234,"platform":{"architecture":"amd64","os":"linux"}}]}"#.into(),
        raw_config: Some(r#"{"architecture":"amd64","os":"linux","config":{"User":"101","Cmd":["nginx"]}}"#.into()),
    }
}

fn fixture() -> MemorySource {
    let nginx_tags = [
        "1.25.3",
        "1.25.10",
        "latest",
        "1.24.0",
        "1.26.0-rc1",
        "alpine",
    ];
    let mut src = MemorySource::new()
        .registry("local", "localhost:5000", false)
        .registry("hub", "registry-1.docker.io", true)
        .registry("ghcr", "ghcr.io", false)
        .repositories(
            "local",
            [
                "library/alpine",
                "library/nginx",
                "library/node",
                "team/api-gateway",
                "team/nginx-proxy",
                "tools/curl",
            ],
        )
        .repositories("hub", ["library/redis"])
        .repositories_error(
            "ghcr",
            SourceError::new(
                SourceErrorKind::Auth,
                "Authentication failed for ghcr.io: 401 Unauthorized",
            ),
        )
        .tags("local", "library/nginx", nginx_tags)
        .tags(
            "local",
            "library/node",
            (0..1000).map(|i| format!("20.{}.{}", i / 100, i % 100)),
        )
        .image("local", "library/nginx:1.25.3", nginx_image());
    let sizes = [
        (0, 70, 3),
        (1, 71, 1),
        (2, 72, 0),
        (3, 60, 40),
        (4, 73, 2),
        (5, 20, 3),
    ];
    for (i, n, age) in sizes {
        let platforms: &[&str] = if i == 5 {
            &["linux/amd64"]
        } else {
            &["linux/amd64", "linux/arm64/v8"]
        };
        src = src.detail(
            "local",
            "library/nginx",
            detail(nginx_tags[i], n, age, platforms),
        );
    }
    for i in 0..1000u64 {
        let tag = format!("20.{}.{}", i / 100, i % 100);
        src = src.detail(
            "local",
            "library/node",
            detail(&tag, i % 90, (i % 30) as i64, &["linux/amd64"]),
        );
    }
    src
}

fn harness() -> Harness {
    let mut h = Harness::new(fixture(), 80, 16);
    h.settle();
    h
}

/// Registries → local → library/nginx, everything loaded.
fn at_nginx_tags() -> Harness {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h
}

fn visible_names(h: &Harness) -> Vec<String> {
    match h.app.top() {
        Screen::Registries(l) => l.visible.iter().map(|&i| l.items[i].name.clone()).collect(),
        Screen::Repositories(r) => r
            .list
            .visible
            .iter()
            .map(|&i| r.list.items[i].clone())
            .collect(),
        Screen::Tags(t) => t
            .list
            .visible
            .iter()
            .map(|&i| t.list.items[i].name.clone())
            .collect(),
        Screen::Image(_) => Vec::new(),
    }
}

// ----- state and keys -----

#[test]
fn registries_list_current_first() {
    let h = harness();
    assert_eq!(visible_names(&h), ["hub", "local", "ghcr"]);
}

#[test]
fn navigation_down_to_the_image_and_back() {
    let mut h = at_nginx_tags();
    assert!(matches!(h.app.top(), Screen::Tags(t) if t.repository == "library/nginx"));
    assert_eq!(selected_tag(&h), "1.24.0", "a new list starts at the top");
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    let Screen::Image(img) = h.app.top() else {
        panic!("expected the image screen")
    };
    assert_eq!(img.tag, "1.25.3");
    assert!(img.image.is_some());
    assert!(img.manifest_lines.len() > 5, "manifest is pretty-printed");
    h.key(KeyCode::Backspace);
    assert!(matches!(h.app.top(), Screen::Tags(_)));
    h.key(KeyCode::Left);
    assert!(matches!(h.app.top(), Screen::Repositories(_)));
    h.key(KeyCode::Char('h'));
    assert!(matches!(h.app.top(), Screen::Registries(_)));
    // Back at the root does nothing.
    h.key(KeyCode::Esc);
    assert_eq!(h.app.stack.len(), 1);
    assert!(!h.app.quit);
}

#[test]
fn vim_keys_follow_the_setting() {
    let mut h = harness();
    h.key(KeyCode::Char('j'));
    h.key(KeyCode::Char('l'));
    assert!(matches!(h.app.top(), Screen::Repositories(r) if r.registry.name == "local"));

    let mut plain = Harness::with_options(Arc::new(fixture()), Theme::Dark, false, None, 80, 16);
    plain.settle();
    plain.key(KeyCode::Char('j'));
    plain.key(KeyCode::Char('l'));
    assert!(matches!(plain.app.top(), Screen::Registries(l) if l.selected == 0));
    plain.key(KeyCode::End);
    assert!(matches!(plain.app.top(), Screen::Registries(l) if l.selected == 2));
}

#[test]
fn filter_narrows_highlights_and_esc_clears() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Char('/'));
    assert!(h.app.filter_input);
    h.type_str("ngx");
    assert_eq!(visible_names(&h), ["library/nginx", "team/nginx-proxy"]);
    // Backspace widens again (a full re-filter, not the narrowed set). `n` inside
    // `alpine` is below rex search's 50 % accuracy threshold, so it stays out.
    h.key(KeyCode::Backspace);
    h.key(KeyCode::Backspace);
    assert_eq!(
        visible_names(&h),
        ["library/nginx", "library/node", "team/nginx-proxy"]
    );
    h.key(KeyCode::Esc);
    assert!(!h.app.filter_input);
    assert_eq!(h.app.query(), Some(""));
    assert_eq!(visible_names(&h).len(), 6);
    // Enter in the filter opens the selection.
    h.key(KeyCode::Char('/'));
    h.type_str("curl");
    h.key(KeyCode::Enter);
    assert!(matches!(h.app.top(), Screen::Tags(t) if t.repository == "tools/curl"));
}

#[test]
fn typing_selects_the_best_match_and_keeps_the_order() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Char('/'));
    h.type_str("proxy");
    assert_eq!(visible_names(&h), ["team/nginx-proxy"]);
    for _ in 0..5 {
        h.key(KeyCode::Backspace);
    }
    h.type_str("ap");
    // Order stays alphabetical; the cursor sits on the segment-prefix match. The
    // scattered `a…p` in `nginx-proxy` is below the search threshold.
    assert_eq!(visible_names(&h), ["library/alpine", "team/api-gateway"]);
    assert!(matches!(h.app.top(), Screen::Repositories(r) if r.list.selected == 1));
    // Clearing the filter keeps the item that was selected.
    h.key(KeyCode::Esc);
    assert!(matches!(h.app.top(), Screen::Repositories(r)
        if r.list.selected_item().map(String::as_str) == Some("team/api-gateway")));
}

#[test]
fn filter_match_indices_are_highlighted() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Char('/'));
    h.type_str("ngx");
    h.render();
    let buf = h.terminal().backend().buffer().clone();
    // Row 1 is "  library/nginx": n at col 10, g at 11, x at 14.
    let matched = |x: u16| {
        buf[(x, 1)]
            .modifier
            .contains(ratatui::style::Modifier::BOLD)
    };
    assert_eq!(buf[(10, 1)].symbol(), "n");
    assert!(matched(10) && matched(11) && matched(14));
    assert!(!matched(12) && !matched(2));
}

#[test]
fn esc_outside_the_input_clears_the_filter_before_going_back() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Char('/'));
    h.type_str("team");
    // Arrow keys still move while typing.
    h.key(KeyCode::Down);
    assert!(matches!(h.app.top(), Screen::Repositories(r) if r.list.selected == 1));
    h.app.filter_input = false;
    h.key(KeyCode::Esc);
    assert!(matches!(h.app.top(), Screen::Repositories(_)));
    assert_eq!(h.app.query(), Some(""));
    h.key(KeyCode::Esc);
    assert!(matches!(h.app.top(), Screen::Registries(_)));
}

#[test]
fn tags_sort_by_name_date_and_size() {
    let mut h = at_nginx_tags();
    assert_eq!(
        visible_names(&h),
        [
            "1.24.0",
            "1.25.3",
            "1.25.10",
            "1.26.0-rc1",
            "alpine",
            "latest"
        ]
    );
    h.key(KeyCode::Char('s'));
    assert!(matches!(h.app.top(), Screen::Tags(t) if t.sort == SortKey::Date));
    // Newest first; equal ages by name.
    assert_eq!(
        visible_names(&h),
        [
            "latest",
            "1.25.10",
            "1.26.0-rc1",
            "1.25.3",
            "alpine",
            "1.24.0"
        ]
    );
    h.key(KeyCode::Char('s'));
    assert_eq!(
        visible_names(&h),
        [
            "1.26.0-rc1",
            "latest",
            "1.25.10",
            "1.25.3",
            "1.24.0",
            "alpine"
        ]
    );
    h.key(KeyCode::Char('s'));
    assert!(matches!(h.app.top(), Screen::Tags(t) if t.sort == SortKey::Name));
}

#[test]
fn sort_keeps_the_selected_tag() {
    let mut h = at_nginx_tags();
    h.key(KeyCode::Char('G'));
    assert_eq!(selected_tag(&h), "latest");
    h.key(KeyCode::Char('s'));
    assert_eq!(selected_tag(&h), "latest");
    assert!(matches!(h.app.top(), Screen::Tags(t) if t.list.selected == 0));
}

fn selected_tag(h: &Harness) -> String {
    match h.app.top() {
        Screen::Tags(t) => t.list.selected_item().unwrap().name.clone(),
        _ => panic!("not on tags"),
    }
}

#[test]
fn stale_results_are_dropped() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    let first = h.take_pending();
    assert_eq!(
        first[0].1,
        Request::Repositories {
            registry: "local".into(),
            fresh: false,
        }
    );
    // Leave before the answer arrives and open another registry.
    h.key(KeyCode::Esc);
    assert_eq!(h.cancelled, vec![first[0].0]);
    h.key(KeyCode::Up);
    h.key(KeyCode::Enter);
    let second = h.take_pending();
    // The late answer for "local" must not land on the "hub" screen.
    for ev in h.answer(first[0].0, &first[0].1) {
        h.send(ev);
    }
    assert!(matches!(h.app.top(), Screen::Repositories(r) if !r.list.loaded));
    for ev in h.answer(second[0].0, &second[0].1) {
        h.send(ev);
    }
    assert_eq!(visible_names(&h), ["library/redis"]);
}

#[test]
fn refresh_keeps_data_and_drops_the_older_answer() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Char('r'));
    let first = h.take_pending();
    h.key(KeyCode::Char('r'));
    assert_eq!(h.cancelled, vec![first[0].0]);
    // Current data stays visible while refreshing.
    assert_eq!(visible_names(&h).len(), 6);
    assert!(h.app.is_busy());
    for ev in h.answer(first[0].0, &first[0].1) {
        h.send(ev);
    }
    assert!(h.app.is_busy(), "the outdated answer is ignored");
    h.settle();
    assert!(!h.app.is_busy());
}

#[test]
fn auth_errors_say_how_to_log_in_and_keep_running() {
    let mut h = harness();
    h.key(KeyCode::End);
    h.key(KeyCode::Enter);
    h.settle();
    let status = h.app.status.clone().expect("an error status");
    assert_eq!(status.kind, StatusKind::Error);
    assert_eq!(
        status.text,
        "Authentication failed for ghcr.io: 401 Unauthorized. Run 'rex registry login ghcr'."
    );
    assert!(!h.app.quit);
    // Going back clears it.
    h.key(KeyCode::Esc);
    assert!(h.app.status.is_none());
}

#[test]
fn refresh_error_keeps_the_old_data() {
    let mut h = at_nginx_tags();
    h.key(KeyCode::Char('r'));
    let (id, _) = h.take_pending().remove(0);
    h.send(Event::Loaded {
        id,
        result: Err(SourceError::new(
            SourceErrorKind::Network,
            "Connection refused",
        )),
    });
    assert_eq!(visible_names(&h).len(), 6);
    assert_eq!(h.app.status.as_ref().unwrap().text, "Connection refused.");
    assert!(!h.app.is_busy());
}

#[test]
fn thousand_tags_show_names_at_once_and_stream_details() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Char('/'));
    h.type_str("node");
    h.key(KeyCode::Enter);
    // Answer the tag list only: names are there before any detail.
    let (id, req) = h.take_pending().remove(0);
    for ev in h.answer(id, &req) {
        h.send(ev);
    }
    let Screen::Tags(t) = h.app.top() else {
        panic!("expected tags")
    };
    assert_eq!(t.list.items.len(), 1000);
    assert!(t.list.items.iter().all(|r| r.detail.is_none()));
    assert_eq!(t.details.total, 1000);
    assert!(t.details.request.is_some());
    h.detail_limit = Some(340);
    h.settle();
    let Screen::Tags(t) = h.app.top() else {
        panic!("expected tags")
    };
    assert_eq!(t.details.received, 340);
    assert_eq!(
        t.list.items.iter().filter(|r| r.detail.is_some()).count(),
        340
    );
    assert!(h.render().contains("details 340/1000"));
}

#[test]
fn details_of_a_replaced_stream_are_dropped() {
    let mut h = at_nginx_tags();
    h.key(KeyCode::Char('r'));
    let (id, req) = h.take_pending().remove(0);
    for ev in h.answer(id, &req) {
        h.send(ev);
    }
    let (old_details, old_req) = h.take_pending().remove(0);
    // A second refresh replaces the detail stream before the first delivers anything.
    h.key(KeyCode::Char('r'));
    h.settle();
    let stale = h.answer(old_details, &old_req);
    let before: Vec<_> = match h.app.top() {
        Screen::Tags(t) => t.list.items.clone(),
        _ => panic!(),
    };
    let progress = match h.app.top() {
        Screen::Tags(t) => t.details.clone(),
        _ => panic!(),
    };
    for ev in stale {
        h.send(ev);
    }
    let Screen::Tags(t) = h.app.top() else {
        panic!()
    };
    assert_eq!(t.list.items, before);
    assert_eq!(t.details, progress, "progress counts ignore the old stream");
    assert_eq!(t.details.received, 6);
}

#[test]
fn leaving_a_tags_screen_cancels_its_detail_stream() {
    let mut h = at_nginx_tags();
    h.key(KeyCode::Char('r'));
    let (id, req) = h.take_pending().remove(0);
    for ev in h.answer(id, &req) {
        h.send(ev);
    }
    let details = h.pending[0].0;
    h.key(KeyCode::Esc);
    assert!(h.cancelled.contains(&details));
    assert!(h.pending.is_empty());
}

#[test]
fn copy_sends_the_reference_and_the_digest() {
    let mut h = at_nginx_tags();
    h.key(KeyCode::Down);
    h.key(KeyCode::Char('y'));
    assert_eq!(h.copied, ["localhost:5000/library/nginx:1.25.3"]);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Char('y'));
    assert_eq!(
        h.copied[1],
        "localhost:5000/library/nginx@sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac"
    );
    assert_eq!(h.app.status.as_ref().unwrap().kind, StatusKind::Info);
}

#[test]
fn help_overlay_opens_and_any_key_closes_it() {
    let mut h = harness();
    h.key(KeyCode::Char('?'));
    assert!(h.app.help);
    let rows = rex_tui::keymap::help_rows(true);
    // Tall enough for every row of the overlay (two border rows).
    h.resize(120, rows.len() as u16 + 4);
    let screen = h.render();
    for (keys, desc) in &rows {
        // Keys and description on one line of the overlay, as drawn from the keymap.
        assert!(
            screen
                .lines()
                .any(|l| l.contains(keys.as_str()) && l.contains(desc)),
            "help row {keys:?} {desc:?} missing:\n{screen}"
        );
    }
    assert!(screen.contains("Keys (any key closes)"), "{screen}");
    // A key while the help is open only closes it.
    h.key(KeyCode::Down);
    assert!(!h.app.help);
    assert!(matches!(h.app.top(), Screen::Registries(l) if l.selected == 0));
}

#[test]
fn tab_cycles_sections_and_scrolling_is_clamped() {
    let mut h = at_nginx_tags();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    for _ in 0..5 {
        h.key(KeyCode::Tab);
    }
    let Screen::Image(img) = h.app.top() else {
        panic!()
    };
    assert_eq!(img.section, rex_tui::app::Section::Manifest);
    h.key(KeyCode::End);
    let Screen::Image(img) = h.app.top() else {
        panic!()
    };
    let max = img
        .manifest_lines
        .len()
        .saturating_sub(h.app.viewport_height());
    assert_eq!(img.scroll[5], max);
    h.key(KeyCode::BackTab);
    h.key(KeyCode::BackTab);
    h.key(KeyCode::BackTab);
    h.key(KeyCode::BackTab);
    h.key(KeyCode::BackTab);
    h.key(KeyCode::BackTab);
    let Screen::Image(img) = h.app.top() else {
        panic!()
    };
    assert_eq!(img.section, rex_tui::app::Section::RawConfig);
}

#[test]
fn choosing_a_platform_reloads_the_image_for_it() {
    let mut h = at_nginx_tags();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Tab);
    h.key(KeyCode::Down);
    h.key(KeyCode::Down); // clamped at the last platform
    h.key(KeyCode::Enter);
    assert_eq!(
        h.pending.last().map(|(_, r)| r.clone()),
        Some(Request::Image {
            registry: "local".into(),
            reference: "library/nginx:1.25.3".into(),
            platform: Some("linux/arm64/v8".into()),
        })
    );
    let Screen::Image(img) = h.app.top() else {
        panic!()
    };
    assert!(
        img.image.is_some(),
        "current data stays while the platform loads"
    );
    assert!(h.render().contains("loading image"));
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    let click = |row| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 5,
            row,
            modifiers: crossterm::event::KeyModifiers::NONE,
        })
    };
    // Repositories have no header row: screen row 1 is item 0, row 3 is item 2.
    h.send(click(3));
    assert!(matches!(h.app.top(), Screen::Repositories(r) if r.list.selected == 2));
    h.send(Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 5,
        row: 3,
        modifiers: crossterm::event::KeyModifiers::NONE,
    }));
    assert!(matches!(h.app.top(), Screen::Repositories(r) if r.list.selected == 5));
    // Clicking the selected row opens it.
    h.send(click(6));
    assert!(matches!(h.app.top(), Screen::Tags(t) if t.repository == "tools/curl"));
}

#[test]
fn clicking_an_image_tab_selects_it() {
    let mut h = at_image();
    let screen = h.render();
    let tabs = screen.lines().nth(1).unwrap();
    let col = tabs.find("Layers").unwrap();
    let col = tabs[..col].chars().count() as u16 + 2;
    h.send(Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: col,
        row: 1,
        modifiers: crossterm::event::KeyModifiers::NONE,
    }));
    assert!(matches!(h.app.top(), Screen::Image(i) if i.section == rex_tui::app::Section::Layers));
}

#[test]
fn initial_registry_opens_directly() {
    let mut h = Harness::with_options(
        Arc::new(fixture()),
        Theme::Dark,
        true,
        Some("local".into()),
        80,
        16,
    );
    h.settle();
    assert!(matches!(h.app.top(), Screen::Repositories(r) if r.registry.name == "local"));
    assert_eq!(h.app.stack.len(), 2, "back leads to the registry list");

    let mut h = Harness::with_options(
        Arc::new(fixture()),
        Theme::Dark,
        true,
        Some("nope".into()),
        80,
        16,
    );
    h.settle();
    assert!(matches!(h.app.top(), Screen::Registries(_)));
    assert!(h
        .app
        .status
        .as_ref()
        .unwrap()
        .text
        .contains("'nope' is not configured"));
}

#[test]
fn the_spinner_turns_only_while_busy() {
    let mut h = harness();
    h.send(Event::Tick { now: NOW + 5 });
    assert_eq!(h.app.spinner, 0);
    assert_eq!(h.app.now, NOW + 5);
    h.key(KeyCode::Char('r'));
    h.send(Event::Tick { now: NOW + 6 });
    h.send(Event::Tick { now: NOW + 7 });
    assert_eq!(h.app.spinner, 2);
    assert!(h.render().contains("⠹ loading registries"));
}

#[test]
fn quit_and_ctrl_c() {
    let mut h = harness();
    h.key(KeyCode::Char('q'));
    assert!(h.app.quit);
    let mut h = harness();
    h.key(KeyCode::Char('/'));
    h.ctrl('c');
    assert!(h.app.quit, "Ctrl-C quits even while typing a filter");
    let mut h = harness();
    h.send(Event::Interrupt);
    assert!(h.app.quit);
}

#[test]
fn resizing_never_panics_and_keeps_the_selection_visible() {
    let mut h = at_nginx_tags();
    h.key(KeyCode::End);
    for (w, h2) in [
        (0, 0),
        (1, 1),
        (39, 7),
        (40, 8),
        (200, 3),
        (3, 200),
        (80, 9),
    ] {
        h.resize(w, h2);
        h.render();
    }
    let Screen::Tags(t) = h.app.top() else {
        panic!()
    };
    let height = h.app.viewport_height();
    assert!(t.list.selected >= t.list.offset && t.list.selected < t.list.offset + height.max(1));
}

#[test]
fn control_characters_from_the_registry_are_not_drawn() {
    let src = MemorySource::new()
        .registry("evil", "evil.example", true)
        .repositories("evil", ["bad\x1b]52;c;AAAA\x07name"]);
    let mut h = Harness::new(src, 60, 10);
    h.settle();
    h.key(KeyCode::Enter);
    h.settle();
    let screen = h.render();
    assert!(!screen.contains('\x1b') && !screen.contains('\x07'));
    assert!(screen.contains("bad\u{FFFD}]52;c;AAAA\u{FFFD}name"));
}

// ----- snapshots -----

#[test]
fn snapshot_registries() {
    let mut h = harness();
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_repositories_filtered() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Char('/'));
    h.type_str("ngx");
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_tags_partially_filled() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.detail_limit = Some(3);
    h.settle();
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_tags_sorted_by_date() {
    let mut h = at_nginx_tags();
    h.key(KeyCode::Char('s'));
    insta::assert_snapshot!(h.render());
}

fn at_image() -> Harness {
    let mut h = at_nginx_tags();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h
}

#[test]
fn snapshot_image_summary() {
    let mut h = at_image();
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_image_platforms() {
    let mut h = at_image();
    h.key(KeyCode::Tab);
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_image_config() {
    let mut h = at_image();
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_image_layers() {
    let mut h = at_image();
    for _ in 0..3 {
        h.key(KeyCode::Tab);
    }
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_image_history() {
    let mut h = at_image();
    for _ in 0..4 {
        h.key(KeyCode::Tab);
    }
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_image_raw_manifest_scrolled() {
    let mut h = at_image();
    for _ in 0..5 {
        h.key(KeyCode::Tab);
    }
    h.key(KeyCode::Down);
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_image_raw_config() {
    let mut h = at_image();
    h.key(KeyCode::BackTab);
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_help_overlay() {
    let mut h = Harness::new(fixture(), 80, 30);
    h.settle();
    h.key(KeyCode::Char('?'));
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_error_status() {
    let mut h = harness();
    h.key(KeyCode::End);
    h.key(KeyCode::Enter);
    h.settle();
    insta::assert_snapshot!(h.render());
}

#[test]
fn snapshot_terminal_too_small() {
    let mut h = harness();
    h.resize(30, 5);
    insta::assert_snapshot!(h.render());
}

#[test]
fn themes_style_the_selection_differently() {
    let bg = |theme| {
        let mut h = Harness::with_options(Arc::new(fixture()), theme, true, None, 80, 12);
        h.settle();
        h.render();
        // Row 1 is the column header, row 2 the selected registry.
        h.terminal().backend().buffer()[(4, 2)].bg
    };
    assert_eq!(bg(Theme::Dark), ratatui::style::Color::DarkGray);
    assert_eq!(bg(Theme::Light), ratatui::style::Color::LightBlue);
}

#[test]
fn refresh_bypasses_the_cache_for_the_listing_and_its_details() {
    let mut h = at_nginx_tags();
    assert!(h.take_pending().is_empty());
    h.key(KeyCode::Char('r'));
    let pending = h.take_pending();
    let [(id, req)] = &pending[..] else {
        panic!("{pending:?}")
    };
    assert_eq!(
        *req,
        Request::Tags {
            registry: "local".into(),
            repository: "library/nginx".into(),
            fresh: true,
        }
    );
    for ev in h.answer(*id, req) {
        h.send(ev);
    }
    let pending = h.take_pending();
    assert!(
        matches!(&pending[..], [(_, Request::TagDetails { fresh: true, tags, .. })] if !tags.is_empty()),
        "{pending:?}"
    );
    // Opening (not refreshing) goes through the cache.
    h.key(KeyCode::Esc);
    h.key(KeyCode::Enter);
    assert!(
        matches!(
            &h.take_pending()[..],
            [(_, Request::Tags { fresh: false, .. })]
        ),
        "opening a repository is not a refresh"
    );
}

#[test]
fn stale_listing_is_shown_at_once_and_refreshed_behind() {
    use rex_tui::app::Loaded;
    use rex_tui::Listing;
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    let pending = h.take_pending();
    let [(id, Request::Tags { fresh: false, .. })] = &pending[..] else {
        panic!("{pending:?}")
    };
    // What an expired cache entry served under eventual consistency looks like.
    h.send(Event::Loaded {
        id: *id,
        result: Ok(Loaded::Tags(Listing {
            names: vec!["old".into()],
            stale: true,
        })),
    });
    assert_eq!(visible_names(&h), ["old"]);
    let pending = h.take_pending();
    let behind = pending
        .iter()
        .find(|(_, r)| matches!(r, Request::Tags { fresh: true, .. }))
        .unwrap_or_else(|| panic!("no refresh behind the stale listing: {pending:?}"))
        .0;
    assert!(
        pending
            .iter()
            .any(|(_, r)| matches!(r, Request::TagDetails { fresh: false, .. })),
        "the stale rows get their cached details meanwhile: {pending:?}"
    );
    // The registry's answer lands and the view updates.
    h.send(Event::Loaded {
        id: behind,
        result: Ok(Loaded::Tags(Listing::current(vec![
            "new".into(),
            "old".into(),
        ]))),
    });
    assert_eq!(visible_names(&h), ["new", "old"]);
    let pending = h.take_pending();
    assert!(
        !pending
            .iter()
            .any(|(_, r)| matches!(r, Request::Tags { .. })),
        "a fresh answer does not trigger another refresh: {pending:?}"
    );
    assert!(pending
        .iter()
        .any(|(_, r)| matches!(r, Request::TagDetails { fresh: true, .. })));
}

#[test]
fn queued_keystrokes_are_filtered_once_for_the_latest_query() {
    let mut h = harness();
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    h.settle();
    // What the event loop does with a burst of queued keys.
    h.app.defer_filter = true;
    h.key(KeyCode::Char('/'));
    h.type_str("ngxx");
    h.key(KeyCode::Backspace);
    // Typed, not filtered yet: the text is kept, the list untouched.
    assert_eq!(h.app.query(), Some("ngx"));
    assert_eq!(visible_names(&h).len(), 6);
    h.app.defer_filter = false;
    h.app.flush_filter();
    assert_eq!(visible_names(&h), ["library/nginx", "team/nginx-proxy"]);
    let Screen::Repositories(r) = h.app.top() else {
        panic!()
    };
    assert_eq!(r.list.query.text(), "ngx");

    // A key that is not an edit sees the filtered list: Enter opens the best match of the
    // latest text even while deferring.
    h.key(KeyCode::Esc);
    h.app.defer_filter = true;
    h.key(KeyCode::Char('/'));
    h.type_str("curl");
    h.key(KeyCode::Enter);
    assert!(matches!(h.app.top(), Screen::Tags(t) if t.repository == "tools/curl"));
}

/// Typing narrows (only names that can still pass are tested again); the visible list and
/// the cursor must be exactly what a fresh full pass gives, at every keystroke, also for
/// coalesced keystrokes (several characters at once), Backspace and mode changes.
#[test]
fn narrowed_typing_equals_a_full_pass_at_every_keystroke() {
    use rex_tui::app::ListView;
    let words = [
        "lib", "ssl", "libssl", "python3", "requests", "linux", "image", "nginx", "Ingress",
        "fonts", "noto", "gcc12", "über", "x", "dev",
    ];
    let seps = ["/", "-", "_", ".", ""];
    // 30,000 names: over the threshold for splitting a pass over the cores.
    let names: Vec<String> = (0..30_000usize)
        .map(|i| {
            let mut s = String::new();
            let mut k = i.wrapping_mul(2_654_435_761) % 1_000_003;
            for w in 0..1 + k % 4 {
                if w > 0 {
                    s.push_str(seps[(k / 7) % seps.len()]);
                }
                s.push_str(words[k % words.len()]);
                k = k / words.len() + i * 31 + w;
            }
            s
        })
        .collect();
    let mut typed = ListView::new(None);
    typed.set_items(names.clone());
    let steps = [
        "l",
        "li",
        "lib",
        "libs",
        "libssl",
        "li",
        "lin",
        "linux-im",
        "linux-image",
        "n",
        "ngx",
        "ngxI",
        "ngxIn",
        "x",
        "x*",
        "p",
        "pyre",
        "pyreq",
        "üb",
        "über",
        "",
        "ssl",
    ];
    let mut narrowed_steps = 0;
    for text in steps {
        let previous = typed.query.clone();
        typed.set_query(text);
        let mut fresh = ListView::new(None);
        fresh.set_items(names.clone());
        fresh.set_query(text);
        assert_eq!(
            typed.visible, fresh.visible,
            "visible after typing {text:?}"
        );
        if !text.is_empty() {
            // (An empty filter keeps the cursor on the item it was on: history, not the pass.)
            assert_eq!(
                typed.selected, fresh.selected,
                "cursor after typing {text:?}"
            );
        }
        narrowed_steps += usize::from(typed.query.narrowing_floor(&previous).is_some());
    }
    assert!(narrowed_steps >= 10, "{narrowed_steps} steps narrowed");
}
