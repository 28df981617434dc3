//! Rendering of `Output` — the one place where command results become text.
//!
//! `json`/`yaml` print the plugin's structured value and nothing else; `pretty` lays out
//! the plugin's blocks (tables fitted to the terminal, sections, `✓` lines) with colour
//! when allowed. `Raw` output is printed byte for byte in every format.

mod color;
mod pretty;

pub use color::Palette;

use rex_core::config::{ColorChoice, OutputFormat, Settings};
use rex_plugin_api::Output;
use std::io::IsTerminal;

use crate::settings::Environment;

/// How to render, decided once from settings and the terminal.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub format: OutputFormat,
    pub palette: Palette,
    /// Columns available for tables; `None` = do not truncate.
    pub width: Option<usize>,
}

/// Facts about the terminal, read once.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub stdout_tty: bool,
    pub stderr_tty: bool,
    pub stdin_tty: bool,
    pub width: Option<u16>,
}

impl Terminal {
    pub fn detect(env: &Environment) -> Terminal {
        let stdout_tty = std::io::stdout().is_terminal();
        Terminal {
            stdout_tty,
            stderr_tty: std::io::stderr().is_terminal(),
            stdin_tty: std::io::stdin().is_terminal(),
            width: terminal_width(stdout_tty, env),
        }
    }
}

fn terminal_width(stdout_tty: bool, env: &Environment) -> Option<u16> {
    if stdout_tty {
        // SAFETY: TIOCGWINSZ fills a winsize struct for fd 1.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_col > 0 {
            return Some(ws.ws_col);
        }
    }
    env.get("COLUMNS")
        .and_then(|c| c.parse().ok())
        .filter(|c| *c > 0)
}

/// Colour for a stream: `--color`/`NO_COLOR`/`REX_COLOR` (already folded into settings),
/// `auto` = the stream is a terminal and `TERM` is not `dumb`.
pub fn use_color(choice: ColorChoice, is_tty: bool, env: &Environment) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_tty && env.get("TERM") != Some("dumb") && env.get("NO_COLOR").is_none()
        }
    }
}

impl RenderOptions {
    pub fn new(settings: &Settings, term: &Terminal, env: &Environment) -> RenderOptions {
        // Pretty on a terminal, yaml when piped (seed 2.2).
        let format = settings.output.format.unwrap_or(if term.stdout_tty {
            OutputFormat::Pretty
        } else {
            OutputFormat::Yaml
        });
        RenderOptions {
            format,
            palette: Palette::new(use_color(settings.output.color, term.stdout_tty, env)),
            width: term
                .width
                .map(usize::from)
                .or(if term.stdout_tty { Some(80) } else { None }),
        }
    }
}

/// The text to write to stdout for `output`.
pub fn render(output: &Output, opts: &RenderOptions) -> String {
    match output {
        Output::Empty => String::new(),
        Output::Raw { text } => {
            let mut t = text.clone();
            if !t.is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            t
        }
        Output::Structured { value, pretty } => match opts.format {
            OutputFormat::Json => {
                let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
                s.push('\n');
                s
            }
            OutputFormat::Yaml => yaml(value),
            OutputFormat::Pretty => {
                if pretty.is_empty() {
                    pretty::render_value(value, opts)
                } else {
                    pretty::render_blocks(pretty, opts)
                }
            }
        },
    }
}

pub fn yaml(value: &serde_json::Value) -> String {
    serde_yaml::to_string(value).unwrap_or_else(|e| format!("# cannot render as yaml: {e}\n"))
}

/// Make text from registries or plugins safe for a terminal: control characters (escape
/// sequences included) become `�`, newlines and tabs stay.
pub fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        s.chars()
            .map(|c| {
                if c.is_control() && c != '\n' && c != '\t' {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rex_plugin_api::{Block, Cell};
    use serde_json::json;

    fn opts(format: OutputFormat, width: Option<usize>) -> RenderOptions {
        RenderOptions {
            format,
            palette: Palette::new(false),
            width,
        }
    }

    fn sample() -> Output {
        Output::structured(
            json!({"repos": ["alpha", "beta"]}),
            vec![
                Block::Table {
                    columns: vec!["NAME".into(), "TAGS".into(), "DESCRIPTION".into()],
                    rows: vec![
                        vec![
                            "alpha/with-a-rather-long-name".into(),
                            "12".into(),
                            "the first one".into(),
                        ],
                        vec!["beta".into(), "3".into(), Cell::from("second")],
                    ],
                },
                Block::Success {
                    message: "done".into(),
                },
            ],
        )
    }

    #[test]
    fn json_and_yaml_are_the_value_only() {
        let out = sample();
        let j = render(&out, &opts(OutputFormat::Json, Some(80)));
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v, json!({"repos": ["alpha", "beta"]}));
        let y = render(&out, &opts(OutputFormat::Yaml, Some(80)));
        assert_eq!(y, "repos:\n- alpha\n- beta\n");
    }

    #[test]
    fn pretty_tables_fit_the_width_with_ellipsis() {
        let p = render(&sample(), &opts(OutputFormat::Pretty, Some(30)));
        for line in p.lines() {
            assert!(
                unicode_width::UnicodeWidthStr::width(line) <= 30 || line.starts_with("beta"),
                "{line:?}\n{p}"
            );
        }
        assert!(p.contains('…'), "{p}");
        assert!(p.contains("✓ done"), "{p}");
        let wide = render(&sample(), &opts(OutputFormat::Pretty, None));
        assert!(wide.contains("alpha/with-a-rather-long-name"), "{wide}");
    }

    #[test]
    fn raw_is_printed_as_is_and_control_chars_are_neutralised() {
        let raw = Output::Raw {
            text: "{\"a\":1}".into(),
        };
        assert_eq!(render(&raw, &opts(OutputFormat::Yaml, None)), "{\"a\":1}\n");
        assert_eq!(sanitize("a\x1b[31mb"), "a\u{FFFD}[31mb");
    }
}
