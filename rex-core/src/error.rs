//! The one error type of rex-core.
//!
//! Every error carries an [`ErrorKind`]; the host maps kinds to the exit codes of the
//! design (seed 2.8) in exactly one place (`rex_plugin_api::ErrorKind::exit_code`).
//! Messages are complete sentences about what failed; `hint` says what to try.

use std::fmt;

/// What class of failure this is. Mirrors the exit codes of the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Exit 1: anything not covered below (malformed registry responses, internal errors).
    General,
    /// Exit 2: invalid user input (a bad reference, a bad flag value).
    Usage,
    /// Exit 3: connection refused, timeout, DNS, TLS, reset.
    Network,
    /// Exit 4: 401/403, bad credentials, token failures.
    Auth,
    /// Exit 5: registry, repository, tag, manifest or blob not found.
    NotFound,
    /// Exit 6: invalid config file or value.
    Config,
    /// Exit 7: the cache was required and is unusable.
    Cache,
    /// Exit 130: the operation was cancelled (Ctrl+C).
    Interrupted,
}

/// One registry error from a `{"errors":[{"code","message","detail"}]}` body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegistryErrorDetail {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// The error type of rex-core.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    status: Option<u16>,
    registry_errors: Vec<RegistryErrorDetail>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            status: None,
            registry_errors: Vec::new(),
            source: None,
        }
    }

    pub fn general(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::General, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    pub fn network(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Network, message)
    }
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    pub fn cache(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Cache, message)
    }
    pub fn interrupted() -> Self {
        Self::new(ErrorKind::Interrupted, "interrupted")
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
    pub fn with_registry_errors(mut self, errors: Vec<RegistryErrorDetail>) -> Self {
        self.registry_errors = errors;
        self
    }
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
    pub fn status(&self) -> Option<u16> {
        self.status
    }
    pub fn registry_errors(&self) -> &[RegistryErrorDetail] {
        &self.registry_errors
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for e in &self.registry_errors {
            if e.message.is_empty() {
                write!(f, " [{}]", e.code)?;
            } else {
                write!(f, " [{}: {}]", e.code, e.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
