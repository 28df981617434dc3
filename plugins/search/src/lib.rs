//! Built-in plugin for `rex search`.
