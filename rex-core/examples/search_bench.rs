//! Whole-process search benchmark, the counterpart of `fzf --filter QUERY < FILE`:
//! read the names, match, rank, print. Used by `scripts/bench-search.sh`.
//!
//! ```text
//! search_bench [--all | --limit N] [--exact] QUERY FILE
//! ```
//!
//! * default: what `rex search image QUERY` does — accuracy >= 50 %, best 50, highlight
//!   indices computed;
//! * `--all`: like fzf — every match (no threshold, no limit, no indices), fully ranked;
//! * `--limit N`: threshold on, best N.
//!
//! `FILE` = `-` reads stdin.

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use rex_core::search::{Matcher, Query, SearchOptions, DEFAULT_LIMIT, MIN_ACCURACY};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "search_bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut opts = SearchOptions {
        limit: Some(DEFAULT_LIMIT),
        min_accuracy: MIN_ACCURACY,
        indices: true,
    };
    let mut exact = false;
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--all" => {
                opts = SearchOptions {
                    limit: None,
                    min_accuracy: 0.0,
                    indices: false,
                }
            }
            "--limit" => {
                let n = args.next().ok_or("--limit needs a number")?;
                opts.limit = Some(n.parse()?);
            }
            "--exact" => exact = true,
            _ => positional.push(arg),
        }
    }
    let [query, file] = <[String; 2]>::try_from(positional)
        .map_err(|_| "usage: search_bench [--all | --limit N] [--exact] QUERY FILE")?;

    let mut data = Vec::new();
    if file == "-" {
        io::stdin().lock().read_to_end(&mut data)?;
    } else {
        data = std::fs::read(&file)?;
    }
    // Like fzf, tolerate invalid UTF-8 instead of failing the whole run.
    let text = String::from_utf8_lossy(&data);
    // One allocation for the line table (counting newlines is a fast vectorised pass).
    let mut names: Vec<&str> = Vec::with_capacity(bytecount_newlines(text.as_bytes()) + 1);
    // `split('\n')` searches with memchr; `lines()` is ~2x slower here. Same result: strip
    // a trailing `\r` and drop the empty piece after a final newline.
    names.extend(text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)));
    if text.ends_with('\n') {
        names.pop();
    }

    let query = Query::parse(&query, exact)?;
    let hits = Matcher::new(query).search(&names, &opts);

    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    for hit in &hits {
        out.write_all(names[hit.index].as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn bytecount_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}
