//! TODO-module cache (being written)
