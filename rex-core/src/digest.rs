//! TODO-module digest (being written)
