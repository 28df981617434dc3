//! TODO-module credentials (being written)
