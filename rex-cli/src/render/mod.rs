//! Rendering of `Output` — the one place where command results become text.
//!
//! `json`/`yaml` print the plugin's structured value and nothing else; `pretty` lays out
//! the plugin's blocks (tables fitted to the terminal, sections, `✓` lines) with colour
//! when allowed. `Raw`/`Bytes` output is printed byte for byte in every format when
//! stdout is not a terminal; on a terminal it is made safe (control characters
//! neutralised, a final newline so the prompt starts on its own line).

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
    /// Stdout is a terminal: raw bytes are made safe to display instead of exact.
    pub stdout_tty: bool,
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
            stdout_tty: term.stdout_tty,
        }
    }
}

/// What to write to stdout: bytes, since raw registry output need not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered(Vec<u8>);

impl Rendered {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    #[cfg(test)]
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
    /// As text (lossy), for tests.
    #[cfg(test)]
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl From<String> for Rendered {
    fn from(s: String) -> Self {
        Rendered(s.into_bytes())
    }
}

/// What to write to stdout for `output`.
pub fn render(output: &Output, opts: &RenderOptions) -> Rendered {
    match output {
        Output::Empty => Rendered(Vec::new()),
        Output::Raw { text } => raw(text.as_bytes(), opts),
        Output::Bytes { bytes } => raw(bytes, opts),
        Output::Structured { value, pretty } => match opts.format {
            OutputFormat::Json => {
                let s = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
                let mut s = escape_json_controls(s);
                s.push('\n');
                s.into()
            }
            OutputFormat::Yaml => yaml(value).into(),
            OutputFormat::Pretty => if pretty.is_empty() {
                pretty::render_value(value, opts)
            } else {
                pretty::render_blocks(pretty, opts)
            }
            .into(),
        },
    }
}

/// Piped: the bytes exactly (`--raw-manifest | sha256sum` gives the digest). On a
/// terminal: readable and harmless, since nobody hashes what a terminal shows.
fn raw(bytes: &[u8], opts: &RenderOptions) -> Rendered {
    if !opts.stdout_tty {
        return Rendered(bytes.to_vec());
    }
    let text = String::from_utf8_lossy(bytes);
    let mut t = sanitize(&text).into_owned();
    if !t.is_empty() && !t.ends_with('\n') {
        t.push('\n');
    }
    t.into()
}

/// serde_json escapes only C0 controls; DEL and C1 (U+0080–U+009F, some terminals read
/// U+009B as CSI) pass through. They can only occur inside JSON strings, so `\uXXXX`
/// keeps the document and its meaning the same.
fn escape_json_controls(s: String) -> String {
    if !s.chars().any(|c| c.is_control()) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if c.is_control() && c != '\n' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
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
            stdout_tty: false,
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
        let v: serde_json::Value = serde_json::from_slice(j.as_bytes()).unwrap();
        assert_eq!(v, json!({"repos": ["alpha", "beta"]}));
        let y = render(&out, &opts(OutputFormat::Yaml, Some(80)));
        assert_eq!(y.text(), "repos:\n- alpha\n- beta\n");
    }

    #[test]
    fn pretty_tables_fit_the_width_with_ellipsis() {
        let p = render(&sample(), &opts(OutputFormat::Pretty, Some(30)))
            .text()
            .into_owned();
        for line in p.lines() {
            assert!(
                unicode_width::UnicodeWidthStr::width(line) <= 30 || line.starts_with("beta"),
                "{line:?}\n{p}"
            );
        }
        assert!(p.contains('…'), "{p}");
        assert!(p.contains("✓ done"), "{p}");
        let wide = render(&sample(), &opts(OutputFormat::Pretty, None))
            .text()
            .into_owned();
        assert!(wide.contains("alpha/with-a-rather-long-name"), "{wide}");
    }

    #[test]
    fn raw_is_exact_when_piped_and_safe_on_a_terminal() {
        let bytes = b"{\"a\":\"\xff\x1b[2J\"}".to_vec();
        for out in [
            Output::bytes(bytes.clone()),
            Output::Raw {
                text: "{\"a\":1}".into(),
            },
        ] {
            let want = match &out {
                Output::Bytes { bytes } => bytes.clone(),
                Output::Raw { text } => text.clone().into_bytes(),
                _ => unreachable!(),
            };
            for format in [OutputFormat::Yaml, OutputFormat::Json, OutputFormat::Pretty] {
                assert_eq!(render(&out, &opts(format, None)).into_bytes(), want);
            }
        }
        let mut tty = opts(OutputFormat::Pretty, Some(80));
        tty.stdout_tty = true;
        let shown = render(&Output::bytes(bytes), &tty).text().into_owned();
        assert_eq!(shown, "{\"a\":\"\u{FFFD}\u{FFFD}[2J\"}\n");
        assert_eq!(render(&Output::bytes(Vec::new()), &tty).into_bytes(), b"");
        assert_eq!(sanitize("a\x1b[31mb"), "a\u{FFFD}[31mb");
    }

    #[test]
    fn json_escapes_del_and_c1_and_yaml_keeps_them_out_too() {
        let evil = "a\u{1b}[31m\u{7f}\u{9b}2J\u{85}z";
        let out = Output::structured(json!({ evil: evil }), vec![]);
        let j = render(&out, &opts(OutputFormat::Json, None))
            .text()
            .into_owned();
        assert!(!j.chars().any(|c| c.is_control() && c != '\n'), "{j:?}");
        assert!(j.contains("\\u007f") && j.contains("\\u009b"), "{j}");
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v, json!({ evil: evil }), "same value after escaping");
        let y = render(&out, &opts(OutputFormat::Yaml, None))
            .text()
            .into_owned();
        assert!(!y.chars().any(|c| c.is_control() && c != '\n'), "{y:?}");
        let back: serde_json::Value = serde_yaml::from_str(&y).unwrap();
        assert_eq!(back, json!({ evil: evil }));
    }
}
