//! TODO-module client (being written)
