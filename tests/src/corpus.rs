//! The 100,000-name corpus the search and TUI filter benchmarks run over, first that works:
//!
//! 1. `REX_SEARCH_CORPUS=<plain file>`, one name a line (a bad path is an error, not a
//!    silent fallback);
//! 2. the shared benchmark corpus, [`SHARED_CORPUS`], unpacked with `xz -dc`, when present;
//! 3. a deterministic synthetic corpus of Debian-like `section/package` names
//!    ([`synthetic`]), so a machine without either still runs the benchmarks.

/// The shared benchmark corpus (real package names), where the machines keep it.
pub const SHARED_CORPUS: &str = "/work/shared/bench/search/corpus100k.txt.xz";

/// Which corpus was loaded (`"corpus"` or `"synthetic"`) and its names.
pub fn names() -> (&'static str, Vec<String>) {
    let lines = |t: &str| t.lines().map(str::to_owned).collect::<Vec<_>>();
    if let Ok(path) = std::env::var("REX_SEARCH_CORPUS") {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("REX_SEARCH_CORPUS={path}: {e}"));
        return ("corpus", lines(&text));
    }
    if std::path::Path::new(SHARED_CORPUS).exists() {
        let out = std::process::Command::new("xz")
            .args(["-dc", SHARED_CORPUS])
            .output()
            .ok()
            .filter(|o| o.status.success());
        // No xz or a broken file: fall back to the synthetic corpus.
        if let Some(out) = out {
            if let Ok(text) = String::from_utf8(out.stdout) {
                return ("corpus", lines(&text));
            }
        }
    }
    ("synthetic", synthetic(100_000))
}

/// `n` Debian-like `section/package` names from fixed word lists and a xorshift
/// generator: the same names on every machine.
pub fn synthetic(n: usize) -> Vec<String> {
    const SECTIONS: &[&str] = &[
        "libs", "libdevel", "doc", "python", "golang", "web", "httpd", "database", "devel",
        "fonts", "tex", "admin", "net", "utils", "x11", "games", "rust", "java", "perl",
    ];
    const WORDS: &[&str] = &[
        "lib",
        "python3",
        "golang",
        "github",
        "x",
        "net",
        "nginx",
        "postgresql",
        "ssl",
        "dev",
        "doc",
        "common",
        "data",
        "utils",
        "tools",
        "server",
        "client",
        "perl",
        "ruby",
        "node",
        "js",
        "qt5",
        "base",
        "gtk",
        "fonts",
        "noto",
        "texlive",
        "lang",
        "linux",
        "image",
        "rust",
        "serde",
        "requests",
        "aeson",
        "ghc",
        "xfce4",
        "terminal",
        "gcc",
        "12",
        "cpp",
        "mod",
        "plugin",
        "core",
        "extra",
        "java",
        "api",
        "http",
        "json",
        "xml",
        "test",
    ];
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|_| {
            let mut name = String::from(SECTIONS[next() % SECTIONS.len()]);
            name.push('/');
            for w in 0..1 + next() % 4 {
                if w > 0 {
                    name.push('-');
                }
                name.push_str(WORDS[next() % WORDS.len()]);
            }
            name
        })
        .collect()
}

/// A xorshift64 generator from `seed` (non-zero): cheap, deterministic pseudo-random
/// numbers for generated test data.
pub fn xorshift(seed: u64) -> impl FnMut() -> usize {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn synthetic_names_are_deterministic_and_shaped_like_packages() {
        let a = super::synthetic(1000);
        assert_eq!(a, super::synthetic(1000));
        assert!(a.iter().all(|n| n
            .split_once('/')
            .is_some_and(|(s, p)| !s.is_empty() && !p.is_empty())));
        let distinct: std::collections::BTreeSet<_> = a.iter().collect();
        assert!(distinct.len() > 900, "{}", distinct.len());
    }
}
