//! Drawing: a pure function of [`App`]. Only visible rows are built; registry-supplied text
//! is sanitized on the way to the screen.

use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::app::{
    App, ImageScreen, ListView, Screen, Section, SortKey, StatusKind, Theme, MIN_HEIGHT, MIN_WIDTH,
};
use crate::filter::{match_indices, Query};
use crate::fmt::{format_relative, format_size, sanitize, short_digest};
use crate::keymap;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Colours of a theme. Body text uses the terminal's own colour (`Reset`) so it stays
/// readable on any background; only accents are coloured.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub text: Style,
    pub dim: Style,
    pub accent: Style,
    pub header: Style,
    pub selected: Style,
    pub matched: Style,
    pub error: Style,
    pub info: Style,
}

impl Palette {
    pub fn of(theme: Theme) -> Palette {
        match theme {
            Theme::Dark => Palette {
                text: Style::default(),
                dim: Style::default().fg(Color::DarkGray),
                accent: Style::default().fg(Color::Cyan),
                header: Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
                selected: Style::default().bg(Color::DarkGray).fg(Color::White),
                matched: Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
                error: Style::default().fg(Color::LightRed),
                info: Style::default().fg(Color::Green),
            },
            Theme::Light => Palette {
                text: Style::default(),
                dim: Style::default().fg(Color::Gray),
                accent: Style::default().fg(Color::Blue),
                header: Style::default()
                    .fg(Color::Blue)
                    .add_modifier(Modifier::BOLD),
                selected: Style::default().bg(Color::LightBlue).fg(Color::Black),
                matched: Style::default()
                    .fg(Color::Magenta)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                error: Style::default().fg(Color::Red),
                info: Style::default().fg(Color::Green),
            },
        }
    }
}

/// Draw the whole UI.
pub fn draw(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let p = Palette::of(app.theme);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "Terminal too small: {}x{} (need {MIN_WIDTH}x{MIN_HEIGHT})",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(msg)
                .style(p.error)
                .wrap(Wrap { trim: true })
                .alignment(Alignment::Center),
            area,
        );
        return;
    }
    let areas = app.layout(area);
    draw_breadcrumb(app, frame, areas.header, &p);
    match app.top() {
        Screen::Registries(list) => draw_registries(app, list, frame, areas.body, &p),
        Screen::Repositories(r) => draw_names(app, &r.list, frame, areas.body, &p),
        Screen::Tags(t) => draw_tags(app, t, frame, areas.body, &p),
        Screen::Image(i) => draw_image(app, i, frame, areas.body, &p),
    }
    if let Some(f) = areas.filter {
        draw_filter(app, frame, f, &p);
    }
    draw_status(app, frame, areas.status, &p);
    if app.help {
        draw_help(app, frame, area, &p);
    }
}

fn draw_breadcrumb(app: &App, frame: &mut Frame, area: Rect, p: &Palette) {
    let mut parts: Vec<String> = vec!["rex".into()];
    for screen in &app.stack[1..] {
        match screen {
            Screen::Repositories(r) => parts.push(r.registry.name.clone()),
            Screen::Tags(t) => parts.push(t.repository.clone()),
            Screen::Image(i) => parts.push(i.tag.clone()),
            Screen::Registries(_) => {}
        }
    }
    let mut spans = Vec::new();
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", p.dim));
        }
        let style = if i == last { p.header } else { p.accent };
        spans.push(Span::styled(sanitize(part).into_owned(), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A name with the filter's matches highlighted. Only called for visible rows.
fn highlighted<'a>(name: &str, query: &Query, base: Style, p: &Palette) -> Line<'a> {
    let clean = sanitize(name);
    let indices = if query.is_empty() {
        None
    } else {
        match_indices(query, name)
    };
    let Some(indices) = indices.filter(|ix| !ix.is_empty()) else {
        return Line::from(Span::styled(clean.into_owned(), base));
    };
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_hit = false;
    let mut next = indices.iter().peekable();
    for (i, c) in clean.chars().enumerate() {
        let hit = next.peek().is_some_and(|&&ix| ix as usize == i);
        if hit {
            next.next();
        }
        if hit != run_hit && !run.is_empty() {
            let style = if run_hit { base.patch(p.matched) } else { base };
            spans.push(Span::styled(std::mem::take(&mut run), style));
        }
        run_hit = hit;
        run.push(c);
    }
    if !run.is_empty() {
        let style = if run_hit { base.patch(p.matched) } else { base };
        spans.push(Span::styled(run, style));
    }
    Line::from(spans)
}

fn empty_message<T>(list: &ListView<T>) -> Option<&'static str> {
    if !list.loaded {
        Some(if list.request.is_some() {
            "Loading…"
        } else {
            "Nothing loaded. Press r to retry."
        })
    } else if list.items.is_empty() {
        Some("Empty.")
    } else if list.visible.is_empty() {
        Some("No matches.")
    } else {
        None
    }
}

fn visible_range<T>(list: &ListView<T>, height: usize) -> std::ops::Range<usize> {
    let end = (list.offset + height).min(list.visible.len());
    list.offset.min(end)..end
}

fn draw_registries(
    app: &App,
    list: &ListView<crate::source::RegistryEntry>,
    frame: &mut Frame,
    area: Rect,
    p: &Palette,
) {
    let height = area.height.saturating_sub(1) as usize;
    let rows = visible_range(list, height).map(|vi| {
        let r = &list.items[list.visible[vi]];
        let selected = vi == list.selected;
        let base = if selected { p.selected } else { p.text };
        let marker = if r.current { "* " } else { "  " };
        Row::new(vec![
            Cell::from(Line::from(
                [
                    vec![Span::styled(marker, base.patch(p.accent))],
                    highlighted(&r.name, &list.query, base, p).spans,
                ]
                .concat(),
            )),
            Cell::from(Span::styled(
                sanitize(&r.host).into_owned(),
                base.patch(p.dim),
            )),
        ])
        .style(base)
    });
    let table = Table::new(rows, [Constraint::Percentage(40), Constraint::Fill(1)])
        .header(Row::new(vec!["  REGISTRY", "HOST"]).style(p.header));
    frame.render_widget(table, area);
    draw_empty(list, frame, area, 1, p);
    let _ = app;
}

fn draw_empty<T>(list: &ListView<T>, frame: &mut Frame, area: Rect, skip: u16, p: &Palette) {
    if let Some(msg) = empty_message(list) {
        let y = area.y + skip.min(area.height);
        if y < area.bottom() {
            let r = Rect {
                y,
                height: 1,
                ..area
            };
            frame.render_widget(Paragraph::new(Span::styled(format!("  {msg}"), p.dim)), r);
        }
    }
}

fn draw_names(app: &App, list: &ListView<String>, frame: &mut Frame, area: Rect, p: &Palette) {
    let height = area.height as usize;
    let lines: Vec<Line> = visible_range(list, height)
        .map(|vi| {
            let name = &list.items[list.visible[vi]];
            let base = if vi == list.selected {
                p.selected
            } else {
                p.text
            };
            let mut line = highlighted(name, &list.query, base, p);
            line.spans.insert(0, Span::styled("  ", base));
            line.style = base;
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
    draw_empty(list, frame, area, 0, p);
    let _ = app;
}

fn draw_tags(app: &App, t: &crate::app::TagsScreen, frame: &mut Frame, area: Rect, p: &Palette) {
    let height = area.height.saturating_sub(1) as usize;
    let list = &t.list;
    let rows = visible_range(list, height).map(|vi| {
        let row = &list.items[list.visible[vi]];
        let base = if vi == list.selected {
            p.selected
        } else {
            p.text
        };
        let mut name = highlighted(&row.name, &list.query, base, p);
        name.spans.insert(0, Span::styled("  ", base));
        let (digest, size, created, platforms) = match (&row.detail, &row.error) {
            (Some(d), _) => (
                short_digest(&d.digest).to_string(),
                d.size.map(format_size).unwrap_or_default(),
                d.created
                    .map(|c| format_relative(c, app.now))
                    .unwrap_or_default(),
                d.platforms.join(", "),
            ),
            (None, Some(err)) => ("error".into(), String::new(), String::new(), err.clone()),
            (None, None) => ("…".into(), String::new(), String::new(), String::new()),
        };
        let dim = base.patch(p.dim);
        Row::new(vec![
            Cell::from(name),
            Cell::from(Span::styled(sanitize(&digest).into_owned(), dim)),
            Cell::from(Line::from(size).alignment(Alignment::Right)),
            Cell::from(created),
            Cell::from(Span::styled(sanitize(&platforms).into_owned(), dim)),
        ])
        .style(base)
    });
    let sort_mark = |key: SortKey, label: &'static str| match (t.sort == key, key) {
        (true, SortKey::Name) => format!("{label}▲"),
        (true, _) => format!("{label}▼"),
        (false, _) => label.to_string(),
    };
    let header = Row::new(vec![
        Cell::from(format!("  {}", sort_mark(SortKey::Name, "TAG"))),
        Cell::from("DIGEST"),
        Cell::from(Line::from(sort_mark(SortKey::Size, "SIZE")).alignment(Alignment::Right)),
        Cell::from(sort_mark(SortKey::Date, "CREATED")),
        Cell::from("PLATFORMS"),
    ])
    .style(p.header);
    // The tag column fits the longest visible tag (within limits); platforms get the rest.
    let tag_width = visible_range(list, height)
        .map(|vi| list.items[list.visible[vi]].name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 40) as u16
        + 3;
    let widths = [
        Constraint::Length(tag_width),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(14),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), area);
    draw_empty(list, frame, area, 1, p);
}

/// One line of an image section, before styling.
enum SectionLine {
    Heading(String),
    Field(&'static str, String),
    Text(String),
    Blank,
}

fn json_list(items: &[String]) -> String {
    if items.is_empty() {
        "—".into()
    } else {
        serde_json::to_string(items).unwrap_or_default()
    }
}

fn section_lines(img: &ImageScreen, section: Section, now: i64) -> Vec<SectionLine> {
    use SectionLine::*;
    let Some(image) = &img.image else {
        return vec![Text(if img.request.is_some() {
            "Loading…".into()
        } else {
            "Nothing loaded.".into()
        })];
    };
    let mut out = Vec::new();
    match section {
        Section::Summary => {
            out.push(Field(
                "Reference",
                format!("{}/{}", img.registry.host, image.reference),
            ));
            out.push(Field("Digest", image.digest.clone()));
            out.push(Field("Media type", image.media_type.clone()));
            out.push(Field(
                "Size",
                image.size.map(format_size).unwrap_or_else(|| "—".into()),
            ));
            out.push(Field(
                "Created",
                image
                    .created
                    .map(|c| format!("{} ({})", format_utc(c), format_relative(c, now)))
                    .unwrap_or_else(|| "—".into()),
            ));
            if let Some(cfg) = &image.config {
                let mut platform = format!("{}/{}", cfg.os, cfg.architecture);
                if let Some(v) = &cfg.variant {
                    platform.push('/');
                    platform.push_str(v);
                }
                out.push(Field("Platform", platform));
            }
            if !image.platforms.is_empty() {
                out.push(Field(
                    "Platforms",
                    format!(
                        "{} (showing {})",
                        image.platforms.len(),
                        image.shown_platform.as_deref().unwrap_or("—")
                    ),
                ));
            }
            let total: u64 = image.layers.iter().map(|l| l.size).sum();
            out.push(Field(
                "Layers",
                format!("{} ({})", image.layers.len(), format_size(total)),
            ));
        }
        Section::Platforms => {
            if image.platforms.is_empty() {
                out.push(Text("Single-platform image.".into()));
            } else {
                out.push(Heading(format!(
                    "{:<24} {:<14} {:>9}",
                    "PLATFORM", "DIGEST", "SIZE"
                )));
                for pl in &image.platforms {
                    let mark = if image.shown_platform.as_deref() == Some(pl.platform.as_str()) {
                        "* "
                    } else {
                        "  "
                    };
                    out.push(Text(format!(
                        "{mark}{:<22} {:<14} {:>9}",
                        pl.platform,
                        short_digest(&pl.digest),
                        pl.size.map(format_size).unwrap_or_default()
                    )));
                }
                out.push(Blank);
                out.push(Text(
                    "↑/↓ choose, Enter shows that platform's config and layers.".into(),
                ));
            }
        }
        Section::Config => match &image.config {
            None => out.push(Text("No config.".into())),
            Some(cfg) => {
                out.push(Field("Entrypoint", json_list(&cfg.entrypoint)));
                out.push(Field("Cmd", json_list(&cfg.cmd)));
                out.push(Field(
                    "Working dir",
                    cfg.working_dir.clone().unwrap_or_else(|| "—".into()),
                ));
                out.push(Field(
                    "User",
                    cfg.user.clone().unwrap_or_else(|| "—".into()),
                ));
                out.push(Field(
                    "Exposed ports",
                    if cfg.exposed_ports.is_empty() {
                        "—".into()
                    } else {
                        cfg.exposed_ports.join(", ")
                    },
                ));
                out.push(Blank);
                out.push(Heading(format!("Env ({})", cfg.env.len())));
                out.extend(cfg.env.iter().map(|e| Text(format!("  {e}"))));
                out.push(Blank);
                out.push(Heading(format!("Labels ({})", cfg.labels.len())));
                out.extend(cfg.labels.iter().map(|(k, v)| Text(format!("  {k}={v}"))));
            }
        },
        Section::Layers => {
            out.push(Heading(format!(
                "{:>3} {:>9}  {:<14} {}",
                "#", "SIZE", "DIGEST", "MEDIA TYPE"
            )));
            for (i, l) in image.layers.iter().enumerate() {
                out.push(Text(format!(
                    "{:>3} {:>9}  {:<14} {}",
                    i + 1,
                    format_size(l.size),
                    short_digest(&l.digest),
                    l.media_type
                )));
            }
            let total: u64 = image.layers.iter().map(|l| l.size).sum();
            out.push(Field("Total", format_size(total)));
        }
        Section::History => {
            if image.history.is_empty() {
                out.push(Text("No history.".into()));
            }
            for h in &image.history {
                let when = h
                    .created
                    .map(|c| format_relative(c, now))
                    .unwrap_or_else(|| "—".into());
                let mark = if h.empty_layer { " " } else { "■" };
                out.push(Text(format!("{mark} {when:<15} {}", h.created_by)));
                if let Some(c) = h.comment.as_deref().filter(|c| !c.is_empty()) {
                    out.push(Text(format!("  {:<15} # {c}", "")));
                }
            }
        }
        Section::Manifest | Section::RawConfig => {}
    }
    out
}

/// Number of lines of an image section (for scroll clamping in `update`).
pub fn section_len(img: &ImageScreen, section: Section, now: i64) -> usize {
    match section {
        Section::Manifest => img.manifest_lines.len(),
        Section::RawConfig => img.config_lines.len().max(1),
        _ => section_lines(img, section, now).len(),
    }
}

fn draw_image(app: &App, img: &ImageScreen, frame: &mut Frame, area: Rect, p: &Palette) {
    // Tabs row, then a rule, then the section.
    let mut tabs = Vec::new();
    for (i, s) in Section::ALL.iter().enumerate() {
        if i > 0 {
            tabs.push(Span::styled(" │ ", p.dim));
        }
        let style = if *s == img.section {
            p.header.add_modifier(Modifier::REVERSED)
        } else {
            p.text
        };
        tabs.push(Span::styled(s.title(), style));
    }
    frame.render_widget(
        Paragraph::new(Line::from(tabs)),
        Rect {
            height: 1.min(area.height),
            ..area
        },
    );
    if area.height < 2 {
        return;
    }
    frame.render_widget(
        Block::default().borders(Borders::TOP).border_style(p.dim),
        Rect {
            y: area.y + 1,
            height: 1,
            ..area
        },
    );
    let content = Rect {
        y: area.y + 2,
        height: area.height.saturating_sub(2),
        ..area
    };
    let height = content.height as usize;
    let scroll = img.scroll[Section::ALL
        .iter()
        .position(|s| *s == img.section)
        .unwrap_or(0)];
    let lines: Vec<Line> = match img.section {
        Section::Manifest | Section::RawConfig => {
            let raw = if img.section == Section::Manifest {
                &img.manifest_lines
            } else {
                &img.config_lines
            };
            if raw.is_empty() {
                vec![Line::styled(
                    if img.image.is_none() {
                        "Loading…"
                    } else {
                        "No config blob."
                    },
                    p.dim,
                )]
            } else {
                raw.iter()
                    .skip(scroll)
                    .take(height)
                    .map(|l| json_line(l, p))
                    .collect()
            }
        }
        section => section_lines(img, section, app.now)
            .into_iter()
            .enumerate()
            .skip(scroll)
            .take(height)
            .map(|(n, l)| match l {
                // Line 0 is the column heading; the cursor row is highlighted.
                SectionLine::Text(t)
                    if section == Section::Platforms
                        && img.image.as_ref().is_some_and(|i| !i.platforms.is_empty())
                        && n == img.platform_cursor + 1 =>
                {
                    Line::styled(sanitize(&t).into_owned(), p.selected)
                }
                SectionLine::Heading(h) => Line::styled(sanitize(&h).into_owned(), p.header),
                SectionLine::Field(k, v) => Line::from(vec![
                    Span::styled(format!("{k:<14}"), p.accent),
                    Span::raw(sanitize(&v).into_owned()),
                ]),
                SectionLine::Text(t) => Line::raw(sanitize(&t).into_owned()),
                SectionLine::Blank => Line::raw(""),
            })
            .collect(),
    };
    frame.render_widget(Paragraph::new(lines), content);
}

/// Light JSON colouring: keys accented, the rest plain.
fn json_line<'a>(line: &str, p: &Palette) -> Line<'a> {
    let clean = sanitize(line).into_owned();
    let trimmed = clean.trim_start();
    let indent = clean.len() - trimmed.len();
    if trimmed.starts_with('"') {
        if let Some(end) = key_end(trimmed) {
            let (key, rest) = trimmed.split_at(end);
            return Line::from(vec![
                Span::raw(clean[..indent].to_string()),
                Span::styled(key.to_string(), p.accent),
                Span::raw(rest.to_string()),
            ]);
        }
    }
    Line::raw(clean)
}

/// End of a leading `"key"` followed by `:`, honouring escapes.
fn key_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => {
                return (bytes.get(i + 1) == Some(&b':')).then_some(i + 1);
            }
            _ => i += 1,
        }
    }
    None
}

fn draw_filter(app: &App, frame: &mut Frame, area: Rect, p: &Palette) {
    let q = app.query().unwrap_or("");
    let mut spans = vec![
        Span::styled("/", p.accent),
        Span::raw(sanitize(q).into_owned()),
    ];
    if app.filter_input {
        spans.push(Span::styled("█", p.accent));
    } else {
        spans.push(Span::styled("  (Esc clears)", p.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(app: &App, frame: &mut Frame, area: Rect, p: &Palette) {
    let spin = SPINNER[app.spinner % SPINNER.len()];
    let mut left: Vec<Span> = Vec::new();
    match &app.status {
        Some(s) if s.kind == StatusKind::Error => {
            left.push(Span::styled(format!("✗ {}", sanitize(&s.text)), p.error));
        }
        _ => {
            let busy = match app.top() {
                Screen::Tags(t) if t.details.request.is_some() => Some(format!(
                    "{spin} details {}/{}",
                    t.details.received, t.details.total
                )),
                Screen::Tags(t) if t.list.request.is_some() => Some(format!("{spin} loading tags")),
                Screen::Registries(l) if l.request.is_some() => {
                    Some(format!("{spin} loading registries"))
                }
                Screen::Repositories(r) if r.list.request.is_some() => {
                    Some(format!("{spin} loading repositories"))
                }
                Screen::Image(i) if i.request.is_some() => Some(format!("{spin} loading image")),
                _ => None,
            };
            if let Some(b) = busy {
                left.push(Span::styled(b, p.accent));
                left.push(Span::raw("  "));
            }
            match &app.status {
                Some(s) => left.push(Span::styled(sanitize(&s.text).into_owned(), p.info)),
                None => left.push(Span::styled("? help  / filter  r refresh  q quit", p.dim)),
            }
        }
    }
    let is_error = matches!(&app.status, Some(s) if s.kind == StatusKind::Error);
    let right = match app.top() {
        // An error gets the whole line.
        _ if is_error => String::new(),
        Screen::Registries(l) => count(l),
        Screen::Repositories(r) => count(&r.list),
        Screen::Tags(t) => format!("sort: {}  {}", t.sort.label(), count(&t.list)),
        Screen::Image(i) => i.section.title().to_string(),
    };
    let right_width = if right.is_empty() {
        0
    } else {
        right.chars().count() as u16 + 1
    };
    let left_area = Rect {
        width: area.width.saturating_sub(right_width),
        ..area
    };
    frame.render_widget(
        Paragraph::new(Line::from(left)).wrap(Wrap { trim: false }),
        left_area,
    );
    if !right.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(right, p.dim)).alignment(Alignment::Right),
            area,
        );
    }
}

fn count<T>(list: &ListView<T>) -> String {
    if list.visible.is_empty() {
        format!("0/{}", list.items.len())
    } else {
        format!("{}/{}", list.selected + 1, list.visible.len())
    }
}

fn draw_help(app: &App, frame: &mut Frame, area: Rect, p: &Palette) {
    let rows = keymap::help_rows(app.vim_bindings);
    let key_width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = rows
        .iter()
        .map(|(keys, desc)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<key_width$}  "), p.accent),
                Span::raw(*desc),
            ])
        })
        .collect();
    let width = (lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 3).min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(p.accent)
                .title(" Keys (any key closes) "),
        ),
        popup,
    );
}

/// Unix seconds → `2024-01-15 14:30 UTC` (civil-from-days, no time zone database).
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_705_329_045), "2024-01-15 14:30 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn json_keys_are_found() {
        assert_eq!(key_end(r#""a\"b": 1"#), Some(6));
        assert_eq!(key_end(r#""value""#), None);
    }
}
