//! TODO-module search (being written)
