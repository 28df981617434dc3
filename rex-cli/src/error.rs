//! Errors on stderr (miette) and exit codes. The code always comes from
//! `ErrorKind::exit_code`, the one mapping in rex.

use rex_plugin_api::{ErrorKind, PluginError};
use std::fmt;

/// A `PluginError` as a miette diagnostic: message, details as the cause chain, hint as help.
#[derive(Debug)]
struct Report {
    message: String,
    code: String,
    hint: Option<String>,
    cause: Option<Box<Cause>>,
}

#[derive(Debug)]
struct Cause {
    text: String,
    next: Option<Box<Cause>>,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next.as_deref().map(|c| c as _)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|c| c as _)
    }
}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

fn kind_name(kind: ErrorKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "general".into())
}

/// The text of `err` for stderr.
pub fn format(err: &PluginError, color: bool, width: Option<u16>) -> String {
    let mut cause = None;
    for d in err.details.iter().rev() {
        cause = Some(Box::new(Cause {
            text: crate::render::sanitize(d).into_owned(),
            next: cause,
        }));
    }
    let report = Report {
        message: crate::render::sanitize(&err.message).into_owned(),
        code: format!("rex::{}", kind_name(err.kind)),
        hint: err
            .hint
            .as_deref()
            .map(|h| crate::render::sanitize(h).into_owned()),
        cause,
    };
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(width.map(usize::from).unwrap_or(100).max(40));
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!("error: {}\n", err.message);
    }
    out
}

/// Print `err` to stderr and return its exit code.
pub fn report(err: &PluginError, color: bool, width: Option<u16>) -> i32 {
    use std::io::Write;
    let _ = write!(std::io::stderr(), "{}", format(err, color, width));
    err.kind.exit_code()
}

/// clap's own errors: help and version go to stdout with 0, usage errors to stderr with 2.
pub fn clap_exit(e: clap::Error) -> i32 {
    let _ = e.print();
    if e.use_stderr() {
        ErrorKind::Usage.exit_code()
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_shows_message_details_and_hint() {
        let e = PluginError::new(ErrorKind::NotFound, "repository 'x' not found")
            .with_detail("registry said: NAME_UNKNOWN")
            .with_hint("check the name with `rex image`");
        let text = format(&e, false, Some(100));
        assert!(text.contains("repository 'x' not found"), "{text}");
        assert!(text.contains("NAME_UNKNOWN"), "{text}");
        assert!(text.contains("rex image"), "{text}");
        assert!(text.contains("rex::not_found"), "{text}");
        assert!(!text.contains("\x1b["), "no colour when off: {text}");
    }
}
