//! TODO-module endpoint (being written)
