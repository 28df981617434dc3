//! The `pretty` layout of `Block`s.

use super::{sanitize, RenderOptions};
use rex_plugin_api::{Block, Cell, Style};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

const GAP: usize = 2;
/// Columns are never squeezed below this (or their header), so tables stay readable.
const MIN_COL: usize = 6;

pub fn render_blocks(blocks: &[Block], opts: &RenderOptions) -> String {
    let mut out = String::new();
    write_blocks(&mut out, blocks, opts, 0);
    out
}

fn write_blocks(out: &mut String, blocks: &[Block], opts: &RenderOptions, indent: usize) {
    for (i, block) in blocks.iter().enumerate() {
        // Consecutive status lines (`✓ …`) read as one group; other blocks are spaced.
        let status_run = i > 0
            && matches!(blocks[i - 1], Block::Success { .. })
            && matches!(block, Block::Success { .. });
        if i > 0 && !status_run {
            out.push('\n');
        }
        write_block(out, block, opts, indent);
    }
}

fn pad(indent: usize) -> String {
    " ".repeat(indent)
}

fn cell(c: &Cell, opts: &RenderOptions) -> String {
    opts.palette.paint(&sanitize(c.text()), c.style())
}

fn write_block(out: &mut String, block: &Block, opts: &RenderOptions, indent: usize) {
    let p = pad(indent);
    let pal = opts.palette;
    match block {
        Block::Table { columns, rows } => write_table(out, columns, rows, opts, indent),
        Block::Fields { title, fields } => {
            let mut inner = indent;
            if let Some(t) = title {
                out.push_str(&format!(
                    "{p}{}\n",
                    pal.paint(&format!("{}:", sanitize(t)), Style::Bold)
                ));
                inner += 2;
            }
            let key_w = fields.iter().map(|(k, _)| k.width() + 1).max().unwrap_or(0);
            for (k, v) in fields {
                let key = format!("{}:", sanitize(k));
                let fill = key_w.saturating_sub(key.width());
                out.push_str(&format!(
                    "{}{key}{} {}\n",
                    pad(inner),
                    " ".repeat(fill),
                    cell(v, opts)
                ));
            }
        }
        Block::List { title, items } => {
            let mut inner = indent;
            if let Some(t) = title {
                out.push_str(&format!(
                    "{p}{}\n",
                    pal.paint(&format!("{}:", sanitize(t)), Style::Bold)
                ));
                inner += 2;
            }
            for item in items {
                out.push_str(&format!("{}{}\n", pad(inner), cell(item, opts)));
            }
        }
        Block::Section { title, blocks } => {
            out.push_str(&format!(
                "{p}{}\n",
                pal.paint(&sanitize(title), Style::Bold)
            ));
            write_blocks(out, blocks, opts, indent + 2);
        }
        Block::Lines { lines } => {
            for l in lines {
                out.push_str(&format!("{p}{}\n", sanitize(l)));
            }
        }
        Block::Success { message } => {
            out.push_str(&format!(
                "{p}{} {}\n",
                pal.paint("✓", Style::Good),
                sanitize(message)
            ));
        }
        Block::Text { text } => {
            for l in sanitize(text).lines() {
                out.push_str(&format!("{p}{l}\n"));
            }
        }
    }
}

/// Cut `s` to `width` display columns, ending in `…` when cut.
fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(ch);
        used += w;
    }
    out.push('…');
    out
}

/// Column widths that fit `avail`: shrink the widest column (never the last, whose cells
/// are not truncated) one step at a time down to its minimum.
fn fit_widths(natural: &[usize], mins: &[usize], avail: Option<usize>) -> Vec<usize> {
    let mut w = natural.to_vec();
    let Some(avail) = avail else { return w };
    let n = w.len();
    let gaps = GAP * n.saturating_sub(1);
    loop {
        let total: usize = w.iter().sum::<usize>() + gaps;
        if total <= avail || n < 2 {
            return w;
        }
        let candidate = (0..n - 1).filter(|&i| w[i] > mins[i]).max_by_key(|&i| w[i]);
        match candidate {
            Some(i) => w[i] -= 1,
            None => return w,
        }
    }
}

fn write_table(
    out: &mut String,
    columns: &[String],
    rows: &[Vec<Cell>],
    opts: &RenderOptions,
    indent: usize,
) {
    let n = columns
        .len()
        .max(rows.iter().map(Vec::len).max().unwrap_or(0));
    if n == 0 {
        return;
    }
    let text = |r: &Vec<Cell>, i: usize| {
        r.get(i)
            .map(|c| sanitize(c.text()).into_owned())
            .unwrap_or_default()
    };
    let mut natural = vec![0; n];
    let mut mins = vec![0; n];
    for i in 0..n {
        let head = columns.get(i).map(|h| h.width()).unwrap_or(0);
        natural[i] = rows
            .iter()
            .map(|r| text(r, i).width())
            .max()
            .unwrap_or(0)
            .max(head);
        mins[i] = natural[i].min(head.max(MIN_COL));
    }
    let avail = opts.width.map(|w| w.saturating_sub(indent));
    let widths = fit_widths(&natural, &mins, avail);
    let p = pad(indent);
    let line = |cells: Vec<(String, Style)>| {
        let mut s = p.clone();
        for (i, (t, style)) in cells.iter().enumerate() {
            let last = i + 1 == n;
            let t = if last {
                t.clone()
            } else {
                truncate(t, widths[i])
            };
            let fill = if last {
                0
            } else {
                widths[i].saturating_sub(t.width()) + GAP
            };
            s.push_str(&opts.palette.paint(&t, *style));
            s.push_str(&" ".repeat(fill));
        }
        let trimmed = s.trim_end().to_owned();
        trimmed + "\n"
    };
    out.push_str(&line(
        (0..n)
            .map(|i| (columns.get(i).cloned().unwrap_or_default(), Style::Bold))
            .collect(),
    ));
    for r in rows {
        out.push_str(&line(
            (0..n)
                .map(|i| (text(r, i), r.get(i).map(Cell::style).unwrap_or_default()))
                .collect(),
        ));
    }
}

/// Pretty output for a plugin that gave no layout: objects as fields, arrays of objects
/// as tables, everything else as yaml.
pub fn render_value(value: &serde_json::Value, opts: &RenderOptions) -> String {
    use serde_json::Value;
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match value {
        Value::Null => String::new(),
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            let mut columns: Vec<String> = Vec::new();
            for it in items {
                for k in it.as_object().into_iter().flat_map(|o| o.keys()) {
                    if !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
            }
            let rows = items
                .iter()
                .map(|it| columns.iter().map(|c| Cell::from(scalar(&it[c]))).collect())
                .collect();
            let headers = columns.iter().map(|c| c.to_uppercase()).collect();
            render_blocks(
                &[Block::Table {
                    columns: headers,
                    rows,
                }],
                opts,
            )
        }
        Value::Object(map) if map.values().all(|v| !v.is_object() && !v.is_array()) => {
            render_blocks(
                &[Block::Fields {
                    title: None,
                    fields: map
                        .iter()
                        .map(|(k, v)| (k.clone(), Cell::from(scalar(v))))
                        .collect(),
                }],
                opts,
            )
        }
        Value::String(s) => format!("{}\n", sanitize(s)),
        other => sanitize(&super::yaml(other)).into_owned(),
    }
}
