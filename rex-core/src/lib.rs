//! # rex-core
//!
//! The engine behind `rex`: a client for OCI/Docker registries (distribution spec),
//! authentication, OCI models, reference and digest handling, configuration, caching,
//! fuzzy search and formatting helpers.
//!
//! ## Invariant
//!
//! This crate **never prints, never reads environment variables or `$HOME`, and knows
//! nothing about clap or terminals.** Callers resolve their environment into explicit
//! values (a [`config::Settings`], a [`credentials::CredentialSources`], paths) and get
//! typed results back. The `rex` binary installs the tracing subscriber; this crate only
//! emits events. `clippy::print_stdout`/`print_stderr` are denied workspace-wide.

pub mod auth;
pub mod cache;
pub mod client;
pub mod config;
pub mod credentials;
pub mod digest;
pub mod endpoint;
pub mod error;
pub mod format;
pub mod logging;
pub mod oci;
pub mod reference;
pub mod registry;
pub mod search;
pub mod secret;

pub use error::{Error, ErrorKind, Result};
