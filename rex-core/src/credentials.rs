//! Credential sources (seed 1.2): docker `config.json`, podman `auth.json`, credential
//! helpers and the OS keyring. Being written; the shape of [`CredentialSources`] is fixed.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where to look for credentials, resolved by the caller from the environment
/// (`DOCKER_CONFIG`, `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `$HOME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CredentialSources {
    /// Docker's `config.json` (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`).
    pub docker_config: Option<PathBuf>,
    /// Podman auth files in priority order.
    pub podman_auth: Vec<PathBuf>,
    /// Use the OS keyring (disabled in tests and where none exists).
    pub use_keyring: bool,
    /// rex's own fallback store (a 0600 file) used when no keyring is available.
    pub fallback_file: Option<PathBuf>,
    /// Directories searched for `docker-credential-<name>` helpers (the caller's `PATH`).
    pub helper_path: Vec<PathBuf>,
}
