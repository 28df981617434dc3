//! Scale: catalog pagination through the registry's relative `Link` headers over
//! 1,100+ repositories, 1,200 unsorted tags in one response, and bulk tag details that
//! fetch each config once per distinct digest, with bounded requests in flight.

mod net_common;

use net_common::Conn;
use rex_core::digest::Digest;
use rex_tests::faults::FaultServer;
use rex_tests::TestRegistry;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

#[tokio::test]
async fn catalog_follows_relative_links_page_by_page() {
    let reg = TestRegistry::shared("large");
    let large = reg.fixtures.large.as_ref().expect("large fixtures");
    let before = reg.request_count("GET", "/v2/_catalog");
    let rex = Conn::new(reg.url())
        .network(|n| n.page_size = 100)
        .connect();
    let repos = rex.list_repositories().await.expect("catalog");
    let unique: BTreeSet<&String> = repos.iter().collect();
    assert_eq!(unique.len(), repos.len(), "no repository twice");
    for r in &large.repos {
        assert!(unique.contains(r), "{r} missing");
    }
    let pages = reg.request_count("GET", "/v2/_catalog") - before;
    let expected = repos.len().div_ceil(100);
    assert!(
        pages == expected || pages == expected + 1,
        "{pages} page requests for {} repositories",
        repos.len()
    );
    // The page size is capped at distribution's maximum of 1000.
    let rex = Conn::new(reg.url())
        .network(|n| n.page_size = 5000)
        .connect();
    assert_eq!(rex.client().page_size(), 1000);
    assert_eq!(rex.list_repositories().await.unwrap().len(), repos.len());
    let page = rex
        .client()
        .catalog_page(10, Some("many/repo-0500"))
        .await
        .unwrap();
    assert_eq!(page.repositories.len(), 10);
    assert_eq!(page.repositories[0], "many/repo-0501");
    assert!(page.next.is_some());
}

#[tokio::test]
async fn tag_details_fetch_each_config_once_per_digest() {
    let reg = TestRegistry::shared("large");
    let large = reg.fixtures.large.as_ref().expect("large fixtures");
    let rex = Conn::new(reg.url()).connect();
    let all = rex.list_tags(&large.tags_repo).await.expect("tags");
    assert_eq!(all.len(), large.tags.len(), "every tag in one response");

    // t0000..t0199 and their aliases t1000..t1199: 400 tags, 200 digests.
    let tags: Vec<String> = large
        .tags
        .keys()
        .filter(|t| {
            let n: usize = t[1..].parse().unwrap();
            n < 200 || (1000..1200).contains(&n)
        })
        .cloned()
        .collect();
    assert_eq!(tags.len(), 400);
    // Waits for the access log to settle; then only the lines after it are ours.
    reg.request_count("*", "");
    let log_before = reg.access_log().len();
    let calls = AtomicUsize::new(0);
    let last = Mutex::new((0, 0));
    let details = rex
        .tag_details(&large.tags_repo, &tags, |done, total| {
            calls.fetch_add(1, Ordering::SeqCst);
            *last.lock().unwrap() = (done, total);
        })
        .await
        .expect("details");
    assert_eq!(details.len(), 400);
    for (t, d) in tags.iter().zip(&details) {
        assert_eq!(&d.tag, t);
        assert_eq!(d.digest, Digest::parse(&large.tags[t]).unwrap());
        assert!(d.created.is_some());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 400);
    assert_eq!(*last.lock().unwrap(), (400, 400));
    reg.request_count("*", "");
    let ours = reg.access_log().split_off(log_before);
    // Distinct answered requests: the shared connection pool may find an idle connection
    // closed under it and retry a GET (a transport error, logged as a retry), which is
    // not duplicated work; a tag or digest asked for twice by design would show here as a
    // count above the distinct one by more than the few such retries.
    let answered = |part: &str| {
        let gets: Vec<_> = ours
            .iter()
            .filter(|e| e.method == "GET" && e.target.contains(part))
            .collect();
        let odd: Vec<_> = gets
            .iter()
            .filter(|e| e.status != 200 && e.status < 500)
            .collect();
        assert!(odd.is_empty(), "unexpected answers: {odd:?}");
        let ok: Vec<&str> = gets
            .iter()
            .filter(|e| e.status == 200)
            .map(|e| e.target.as_str())
            .collect();
        let distinct: std::collections::HashSet<&str> = ok.iter().copied().collect();
        assert!(
            ok.len() - distinct.len() <= 3,
            "{} of {} GETs of {part} repeat one",
            ok.len() - distinct.len(),
            ok.len()
        );
        distinct.len()
    };
    assert_eq!(answered("/manifests/"), 400, "one manifest GET per tag");
    assert_eq!(
        answered("/blobs/"),
        200,
        "one config GET per distinct digest"
    );
}

/// Tag details for many tags against a server that holds each request: never more than
/// `max_concurrency` in flight, yet truly concurrent (else the bound proves nothing).
#[tokio::test]
async fn tag_details_keep_requests_in_flight_within_the_limit() {
    let f = FaultServer::start();
    f.set_in_flight_delay(Duration::from_millis(150));
    let tags: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
    for limit in [None, Some(4)] {
        f.reset();
        let rex = Conn::new(f.url())
            .network(|n| {
                if let Some(l) = limit {
                    n.max_concurrency = l;
                }
            })
            .connect();
        let limit = limit.unwrap_or(16);
        let details = rex
            .tag_details("fault-inflight", &tags, |_, _| {})
            .await
            .expect("details");
        assert_eq!(details.len(), tags.len());
        let max = f.max_in_flight();
        assert!(max <= limit, "{max} requests in flight, limit {limit}");
        assert!(max > limit / 2, "only {max} in flight with limit {limit}");
        // 40 manifests plus one config for the single digest.
        assert_eq!(f.hits("fault-inflight"), 41);
    }
}
