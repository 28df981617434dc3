//! Test support for rex.
