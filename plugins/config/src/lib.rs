//! Built-in plugin for `rex config`.
