//! Built-in plugin for `rex cache`.
