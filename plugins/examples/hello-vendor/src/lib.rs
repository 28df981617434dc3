//! Example external plugin.
