//! TODO-module logging (being written)
