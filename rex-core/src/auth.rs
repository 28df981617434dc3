//! TODO-module auth (being written)
