//! Nothing secret reaches the logs: run basic and token flows at TRACE level with a
//! capturing subscriber and search the output for passwords, Basic blobs and JWTs.
//! The design 1.12 spans (registry operation, HTTP request) wrap the events they cause.

mod net_common;

use base64::Engine as _;
use net_common::{Capture, Conn};
use rex_tests::TestRegistry;

#[tokio::test]
async fn trace_logs_never_contain_credentials_or_tokens() {
    let capture = Capture::default();
    let _guard = capture.install(tracing::Level::TRACE);

    for name in ["basic", "token"] {
        let reg = TestRegistry::shared(name);
        let rex = Conn::new(reg.url()).creds("alice", "wonderland").connect();
        rex.ping().await.unwrap();
        rex.list_repositories().await.unwrap();
        rex.list_tags("rex/oci-image").await.unwrap();
        let r = rex_core::reference::Reference::parse("rex/multiarch:latest").unwrap();
        rex.inspect(&r, None).await.unwrap();
        // A rejected password is logged about, but not printed.
        let bad = Conn::new(reg.url())
            .creds("alice", "hunter2-wrong")
            .connect();
        let _ = bad.list_tags("rex/oci-image").await;
    }

    let logs = capture.text();
    assert!(logs.contains("duration_ms"), "debug logs were captured");
    assert!(
        logs.contains("registry_op{op=\"tags\""),
        "spans are logged too"
    );
    assert!(
        logs.contains("[redacted]"),
        "authorization headers logged redacted"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode("alice:wonderland");
    for secret in ["wonderland", "hunter2-wrong", basic.as_str(), "eyJ"] {
        assert!(!logs.contains(secret), "'{secret}' leaked into the logs");
    }
}

/// The lines of `logs` for `event` whose span context contains every one of `spans`.
fn lines_with<'a>(logs: &'a str, spans: &[&str], event: &str) -> Vec<&'a str> {
    logs.lines()
        .filter(|l| l.contains(event) && spans.iter().all(|s| l.contains(s)))
        .collect()
}

#[tokio::test]
async fn registry_operations_and_requests_run_in_spans() {
    let capture = Capture::default();
    let _guard = capture.install(tracing::Level::DEBUG);
    let reg = TestRegistry::shared("anonymous");
    let host = reg.host_port();
    let rex = Conn::new(reg.url()).connect();
    rex.list_repositories().await.unwrap();
    rex.list_tags("rex/oci-image").await.unwrap();
    let r = rex_core::reference::Reference::parse("rex/multiarch:v1").unwrap();
    rex.get_manifest(&r).await.unwrap();
    rex.resolve(&r).await.unwrap();
    let logs = capture.text();

    // Every response event sits inside the request span (method, URL) of that request,
    // which sits inside the operation span (op, registry, repository).
    let catalog = lines_with(
        &logs,
        &[
            &format!("registry_op{{op=\"catalog\" registry={host}"),
            &format!("http{{method=GET url=http://{host}/v2/_catalog?n="),
        ],
        "response",
    );
    assert!(
        !catalog.is_empty(),
        "catalog response in its spans:\n{logs}"
    );
    assert!(
        catalog.iter().all(|l| l.contains("status=200")),
        "{catalog:?}"
    );
    let tags = lines_with(
        &logs,
        &[
            &format!("registry_op{{op=\"tags\" registry={host} repository=\"rex/oci-image\"}}"),
            &format!("http{{method=GET url=http://{host}/v2/rex/oci-image/tags/list"),
        ],
        "response",
    );
    assert!(!tags.is_empty(), "tag list response in its spans:\n{logs}");
    let manifest = lines_with(
        &logs,
        &[
            "registry_op{op=\"manifest\"",
            "repository=rex/multiarch reference=v1}",
            &format!("http{{method=GET url=http://{host}/v2/rex/multiarch/manifests/v1}}"),
        ],
        "response",
    );
    assert_eq!(manifest.len(), 1, "one manifest GET in its spans:\n{logs}");
    let head = lines_with(
        &logs,
        &[
            "registry_op{op=\"manifest_head\"",
            "reference=v1}",
            &format!("http{{method=HEAD url=http://{host}/v2/rex/multiarch/manifests/v1}}"),
        ],
        "response",
    );
    assert_eq!(head.len(), 1, "one manifest HEAD in its spans:\n{logs}");
    // The catalog span is entered only while the catalog is listed: later events are not
    // attributed to it.
    assert!(
        lines_with(&logs, &["op=\"catalog\"", "/tags/list"], "response").is_empty(),
        "a tag list request logged inside the catalog span:\n{logs}"
    );
}
