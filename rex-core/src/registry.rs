//! TODO-module registry (being written)
