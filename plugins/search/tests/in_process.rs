//! The commands called in-process with a recording host: progress reports and the typed
//! reports, against a real `docker-registry`.

use rex_core::config::{OutputFormat, Settings};
use rex_plugin_api::{Host, InvocationContext, LogLevel, PluginError, Progress};
use rex_plugin_search::{image, tags};
use rex_tests::fixtures::{push_image, ImageSpec};
use rex_tests::{Mode, TestRegistry};
use std::sync::Mutex;

#[derive(Default)]
struct Recording {
    progress: Mutex<Vec<Progress>>,
}

impl Host for Recording {
    fn log(&self, _: LogLevel, _: &str, _: &str) {}
    fn max_level(&self) -> LogLevel {
        LogLevel::Warn
    }
    fn is_cancelled(&self) -> bool {
        false
    }
    fn progress(&self, p: &Progress) {
        self.progress.lock().unwrap().push(p.clone());
    }
    fn prompt(&self, _: &str, _: bool) -> Result<String, PluginError> {
        Err(PluginError::usage("no terminal"))
    }
    fn confirm(&self, _: &str) -> Result<bool, PluginError> {
        Ok(false)
    }
    fn read_stdin(&self) -> Result<String, PluginError> {
        Ok(String::new())
    }
}

fn settings(registry: &TestRegistry) -> Settings {
    let mut s = Settings::default();
    s.runtime.registry = Some(registry.url());
    s.runtime.no_cache = true;
    s.network.max_concurrency = 2;
    s.output.format = Some(OutputFormat::Json);
    s
}

#[test]
fn progress_is_reported_and_details_fetched_for_results_only() {
    let registry = TestRegistry::start(Mode::Anonymous);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pusher = registry.pusher();
    rt.block_on(async {
        for (i, repo) in ["web/app", "web/api", "db/app-db", "other"]
            .iter()
            .enumerate()
        {
            let spec =
                ImageSpec::new(500 + i as u64).created(&format!("2024-05-0{}T00:00:00Z", i + 1));
            push_image(&pusher, repo, &spec, &["1.0", "1.1", "latest"])
                .await
                .unwrap();
        }
    });
    let s = settings(&registry);
    let ctx = InvocationContext::default();

    let host = Recording::default();
    let args = tags::TagsArgs {
        query: "1.1".into(),
        image: None,
        exact: true,
        limit: 50,
    };
    let report = tags::run(&s, &args, &ctx, &host).unwrap();
    assert_eq!(report.total_results, 4);
    assert!(report
        .results
        .iter()
        .all(|r| r.tag == "1.1" && r.digest.is_some()));
    let p = host.progress.lock().unwrap();
    let listing: Vec<&Progress> = p.iter().filter(|x| x.message == "Listing tags").collect();
    assert_eq!(listing.last().unwrap().total, Some(4));
    assert!(listing.last().unwrap().done);
    let details: Vec<&Progress> = p
        .iter()
        .filter(|x| x.message == "Fetching tag details")
        .collect();
    // Only the 4 tags shown, not all 12.
    assert_eq!(details.last().unwrap().total, Some(4));
    assert_eq!(details.last().unwrap().current, 4);
    assert!(details.iter().all(|x| x.current <= 4));
    drop(p);

    // Image search: only the results shown get their tags' details (limit 1 of 3 matches).
    let before = registry.request_count("GET", "/manifests/");
    let host = Recording::default();
    let args = image::ImageArgs {
        query: "app".into(),
        tag: None,
        exact: false,
        limit: 1,
    };
    let report = image::run(&s, &args, &ctx, &host).unwrap();
    assert_eq!(report.results.len(), 1);
    assert_eq!(report.results[0].tags, Some(3));
    assert!(report.results[0].last_updated.is_some());
    // One manifest per tag of the single result (3 tags share one image).
    assert_eq!(registry.request_count("GET", "/manifests/") - before, 3);
}
