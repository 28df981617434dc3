//! Built-in plugin for `rex tui`.
