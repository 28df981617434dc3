//! TODO-module reference (being written)
