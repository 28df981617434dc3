//! The rex terminal UI.
