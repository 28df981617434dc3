//! Many writer processes on one cache directory, and writers killed with SIGKILL, never
//! leave an entry that fails to parse or mixes two writes.
//!
//! The writers are this test binary re-executed with `REX_CACHE_CHILD_DIR` set: it then
//! runs only `child_writer` (which does nothing in a normal test run).

use rex_core::cache::{Cache, CacheKey, CacheKind, Lookup, ManualClock, NewEntry, Payload};
use rex_core::config::CacheSettings;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REG: &str = "stress:5000";
const KEYS: usize = 6;

fn keys() -> Vec<CacheKey> {
    (0..KEYS)
        .flat_map(|i| {
            [
                CacheKey::tags(REG, format!("repo{i}")),
                CacheKey::manifest(
                    REG,
                    format!("repo{i}"),
                    format!("sha256:{}", hex::encode([i as u8; 32])),
                ),
            ]
        })
        .chain([CacheKey::catalog(REG)])
        .collect()
}

/// What writer `w` stores in iteration `i`: every part names the same (w, i), so a mix of
/// two writes is detectable.
fn payload(kind: CacheKind, w: usize, i: usize) -> NewEntry {
    let mark = format!("w{w}-i{i}");
    let new = match kind {
        CacheKind::Catalog | CacheKind::Tags => {
            NewEntry::names((0..300).map(|j| format!("{mark}-t{j}")).collect())
        }
        _ => NewEntry::bytes(mark.repeat(64 * 1024 / mark.len()).into_bytes()),
    };
    new.with_etag(Some(mark))
}

/// Panics unless the entry is exactly one writer's iteration.
fn check_consistent(key: &CacheKey, payload: &Payload, etag: Option<&str>) {
    let mark = etag.unwrap_or_else(|| panic!("{key}: no etag"));
    let (w, i) = mark[1..].split_once("-i").unwrap();
    let expected = payload_of(key.kind(), w.parse().unwrap(), i.parse().unwrap());
    assert!(
        expected == *payload,
        "{key}: payload does not match etag {mark}"
    );
}

fn payload_of(kind: CacheKind, w: usize, i: usize) -> Payload {
    payload(kind, w, i).payload
}

fn settings() -> CacheSettings {
    let mut s = CacheSettings::default();
    s.limits.memory_entries = 0; // every read goes to disk
    s
}

/// The child side. `REX_CACHE_CHILD_ITERS=0` loops until killed.
#[test]
fn child_writer() {
    let Ok(dir) = std::env::var("REX_CACHE_CHILD_DIR") else {
        return;
    };
    let w: usize = std::env::var("REX_CACHE_CHILD_ID")
        .unwrap()
        .parse()
        .unwrap();
    let iters: usize = std::env::var("REX_CACHE_CHILD_ITERS")
        .unwrap()
        .parse()
        .unwrap();
    let cache = Cache::builder(PathBuf::from(dir))
        .settings(&settings())
        .cleanup_on_open(false)
        .open()
        .unwrap();
    let keys = keys();
    let mut i = 0;
    while iters == 0 || i < iters {
        for (n, key) in keys.iter().enumerate() {
            cache.put(key, payload(key.kind(), w, i));
            // Read another key back while others write it.
            let probe = &keys[(n + w) % keys.len()];
            if let Lookup::Fresh(e) = cache.get(probe) {
                check_consistent(probe, &e.payload, e.etag.as_deref());
            }
        }
        i += 1;
    }
}

fn spawn_writer(dir: &Path, id: usize, iters: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--test-threads=1", "--quiet"])
        .env("REX_CACHE_CHILD_DIR", dir)
        .env("REX_CACHE_CHILD_ID", id.to_string())
        .env("REX_CACHE_CHILD_ITERS", iters.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every `.json` under the kind directories parses as a version-1 entry, and every key
/// reads back as exactly one writer's value. Returns how many keys were present.
fn verify(dir: &Path) -> usize {
    let mut files = 0;
    for kind in CacheKind::ALL {
        let mut stack = vec![dir.join(kind.dir_name())];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "json")
                    && !e.file_name().to_string_lossy().starts_with('.')
                {
                    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap())
                        .unwrap_or_else(|err| panic!("{} does not parse: {err}", p.display()));
                    assert_eq!(v["version"], 1, "{}", p.display());
                    files += 1;
                }
            }
        }
    }
    let cache = Cache::builder(dir)
        .settings(&settings())
        .cleanup_on_open(false)
        .open()
        .unwrap();
    let mut present = 0;
    for key in keys() {
        let existed = dir.join(key.relative_path()).exists();
        match cache.get(&key) {
            Lookup::Fresh(e) => {
                check_consistent(&key, &e.payload, e.etag.as_deref());
                present += 1;
            }
            other => assert!(!existed, "{key}: file exists but read as {other:?}"),
        }
    }
    assert_eq!(files, present, "every entry file belongs to a known key");
    present
}

#[test]
fn twenty_writer_processes_leave_no_corrupt_entry() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..20).map(|id| spawn_writer(dir.path(), id, 5)).collect();
    for (id, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "writer {id} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(verify(dir.path()), keys().len());
    // Clean exits leave no temp files behind.
    let later = Arc::new(ManualClock::new(
        chrono::Utc::now() + chrono::Duration::hours(2),
    ));
    let r = Cache::builder(dir.path())
        .clock(later)
        .cleanup_on_open(false)
        .open()
        .unwrap()
        .prune(None, true)
        .unwrap();
    assert_eq!(r.temp_files, 0);
    assert_eq!(r.corrupt, 0);
}

#[test]
fn writers_killed_mid_write_leave_parseable_entries() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..4u64 {
        let mut children: Vec<Child> = (0..4).map(|id| spawn_writer(dir.path(), id, 0)).collect();
        // Let them get going, then kill at a different point each round.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !dir
            .path()
            .join(CacheKey::catalog(REG).relative_path())
            .exists()
        {
            assert!(Instant::now() < deadline, "writers never wrote");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(150 + 70 * round));
        for c in &mut children {
            // A writer that exited on its own found an inconsistent entry.
            assert!(
                c.try_wait().unwrap().is_none(),
                "a writer died before the kill"
            );
            c.kill().unwrap(); // SIGKILL
            c.wait().unwrap();
        }
        assert!(verify(dir.path()) > 0);
    }
    // Leftover temp files of the killed writers are removed once they are an hour old.
    let later = Arc::new(ManualClock::new(
        chrono::Utc::now() + chrono::Duration::hours(2),
    ));
    let cache = Cache::builder(dir.path())
        .clock(later)
        .cleanup_on_open(false)
        .open()
        .unwrap();
    cache.prune(None, false).unwrap();
    let again = cache.prune(None, true).unwrap();
    assert_eq!(again.temp_files, 0);
}
