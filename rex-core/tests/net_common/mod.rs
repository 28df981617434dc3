//! Shared helpers for the net_* integration tests: connect a `Rex` to a harness registry
//! with short timeouts and backoff so fault tests stay fast.
#![allow(dead_code)]

use rex_core::client::ClientOptions;
use rex_core::config::NetworkSettings;
use rex_core::credentials::Credentials;
use rex_core::endpoint::{Endpoint, EndpointOptions};
use rex_core::registry::{ConnectOptions, Rex};
use rex_tests::TestRegistry;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Network settings for tests: small timeouts, quick retries.
pub fn network() -> NetworkSettings {
    NetworkSettings {
        timeout: 5,
        retry_attempts: 3,
        max_retry_after: 2,
        ..NetworkSettings::default()
    }
}

pub fn client_options(network: &NetworkSettings) -> ClientOptions {
    ClientOptions {
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        ..ClientOptions::from_settings(network)
    }
}

pub struct Conn {
    pub url: String,
    pub creds: Option<(String, String)>,
    pub ca: Option<PathBuf>,
    pub network: NetworkSettings,
    pub client: Option<ClientOptions>,
}

impl Conn {
    pub fn new(url: impl Into<String>) -> Self {
        Conn {
            url: url.into(),
            creds: None,
            ca: None,
            network: network(),
            client: None,
        }
    }

    pub fn creds(mut self, user: &str, password: &str) -> Self {
        self.creds = Some((user.into(), password.into()));
        self
    }

    pub fn ca(mut self, ca: Option<PathBuf>) -> Self {
        self.ca = ca;
        self
    }

    pub fn network(mut self, f: impl FnOnce(&mut NetworkSettings)) -> Self {
        f(&mut self.network);
        self
    }

    pub fn client(mut self, f: impl FnOnce(&mut ClientOptions)) -> Self {
        let mut net = self.network.clone();
        if let Some(ca) = &self.ca {
            net.ca_certs = vec![ca.clone()];
        }
        let mut o = client_options(&net);
        f(&mut o);
        self.client = Some(o);
        self
    }

    pub fn connect(self) -> Rex {
        let mut net = self.network.clone();
        if let Some(ca) = &self.ca {
            net.ca_certs = vec![ca.clone()];
        }
        let client = self.client.unwrap_or_else(|| client_options(&net));
        let endpoint = Endpoint::parse_with(&self.url, EndpointOptions::default())
            .expect("test registry url parses");
        Rex::connect(
            endpoint,
            ConnectOptions {
                network: net,
                client: Some(client),
                credentials: self.creds.map(|(u, p)| Credentials::new(u, p)),
                ..ConnectOptions::default()
            },
        )
        .expect("connect")
    }
}

/// Connect to a harness registry with its own credentials (if any) and CA (if TLS).
pub fn connect(reg: &TestRegistry) -> Rex {
    let mut c = Conn::new(reg.url()).ca(reg.ca_cert_path().map(|p| p.to_path_buf()));
    if let Some(cr) = reg.credentials() {
        c = c.creds(&cr.user, &cr.password);
    }
    c.connect()
}

/// Connect anonymously (CA still trusted).
pub fn connect_anonymous(reg: &TestRegistry) -> Rex {
    Conn::new(reg.url())
        .ca(reg.ca_cert_path().map(|p| p.to_path_buf()))
        .connect()
}

/// A capturing log writer: what rex logs at a level, to search for secrets and spans.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
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

impl Capture {
    /// A subscriber writing into this capture; installed per test thread (tokio tests run
    /// on the current thread), so tests do not see each other's logs.
    pub fn install(&self, level: tracing::Level) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(self.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}
