//! Built-in plugin for `rex image`.
