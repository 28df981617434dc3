//! A tiny ANSI helper: style hints from plugins become SGR codes when colour is on.

use rex_plugin_api::Style;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    pub fn new(enabled: bool) -> Palette {
        Palette { enabled }
    }

    pub fn paint(&self, text: &str, style: Style) -> String {
        let code = match style {
            Style::Normal => return text.to_owned(),
            Style::Dim => "2",
            Style::Bold => "1",
            Style::Good => "32",
            Style::Warn => "33",
            Style::Bad => "31",
            Style::Accent => "36",
        };
        if self.enabled && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}
