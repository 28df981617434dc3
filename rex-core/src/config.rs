//! TODO-module config (being written)
