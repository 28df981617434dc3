//! Built-in plugin for `rex registry`.
