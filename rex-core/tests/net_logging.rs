//! Nothing secret reaches the logs: run basic and token flows at TRACE level with a
//! capturing subscriber and search the output for passwords, Basic blobs and JWTs.

mod net_common;

use base64::Engine as _;
use net_common::Conn;
use rex_tests::TestRegistry;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

#[tokio::test]
async fn trace_logs_never_contain_credentials_or_tokens() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    for name in ["basic", "token"] {
        let reg = TestRegistry::shared(name);
        let rex = Conn::new(reg.url()).creds("alice", "wonderland").connect();
        rex.ping().await.unwrap();
        rex.list_repositories().await.unwrap();
        rex.list_tags("rex/oci-image").await.unwrap();
        // A rejected password is logged about, but not printed.
        let bad = Conn::new(reg.url())
            .creds("alice", "hunter2-wrong")
            .connect();
        let _ = bad.list_tags("rex/oci-image").await;
    }

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("duration_ms"), "debug logs were captured");
    assert!(
        logs.contains("[redacted]"),
        "authorization headers logged redacted"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode("alice:wonderland");
    for secret in ["wonderland", "hunter2-wrong", basic.as_str(), "eyJ"] {
        assert!(!logs.contains(secret), "'{secret}' leaked into the logs");
    }
}
