//! TODO-module format (being written)
