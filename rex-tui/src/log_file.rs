//! A size-rotated log file (design 1.12: rotate at 10 MB, keep 5 files: `rex.log`,
//! `rex.log.1` … `rex.log.4`; delete logs older than 7 days). Plugs into
//! tracing-subscriber's fmt layer as a `MakeWriter`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tracing_subscriber::fmt::MakeWriter;

/// Rotate once the file would grow past this many bytes.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Files kept, counting the live one.
pub const DEFAULT_KEEP: usize = 5;
/// Logs last written longer ago than this are deleted when the log is opened.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Rotated files beyond `keep` that are still looked for (left by a larger `keep`).
const STRAY_SCAN: usize = 32;

#[derive(Debug)]
pub struct RotatingWriter {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: Option<File>,
    size: u64,
}

impl RotatingWriter {
    /// Open (append) `path` with the design's limits, creating parent directories.
    pub fn open(path: impl Into<PathBuf>) -> io::Result<Self> {
        Self::with_retention(path, DEFAULT_MAX_BYTES, DEFAULT_KEEP, DEFAULT_MAX_AGE)
    }

    /// `keep` counts the live file; `keep == 1` truncates instead of keeping old files.
    /// No age limit.
    pub fn with_limits(path: impl Into<PathBuf>, max_bytes: u64, keep: usize) -> io::Result<Self> {
        Self::with_retention(path, max_bytes, keep, Duration::MAX)
    }

    /// As [`RotatingWriter::with_limits`], and first delete the rotated files last written
    /// more than `max_age` ago (and any beyond `keep`); a live file that old starts empty.
    pub fn with_retention(
        path: impl Into<PathBuf>,
        max_bytes: u64,
        keep: usize,
        max_age: Duration,
    ) -> io::Result<Self> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let mut writer = RotatingWriter {
            path,
            max_bytes: max_bytes.max(1),
            keep: keep.max(1),
            state: Mutex::new(State {
                file: None,
                size: 0,
            }),
        };
        let expired = writer.prune(max_age);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&writer.path)?;
        if expired {
            file.set_len(0)?;
        }
        let size = file.metadata()?.len();
        let state = writer.state.get_mut().unwrap_or_else(|e| e.into_inner());
        state.file = Some(file);
        state.size = size;
        Ok(writer)
    }

    /// Delete old rotated files; returns whether the live file itself is past `max_age`.
    /// Failures are ignored: retention must never stop the TUI from logging.
    fn prune(&self, max_age: Duration) -> bool {
        let now = SystemTime::now();
        let too_old = |p: &Path| {
            fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > max_age)
        };
        for n in 1..self.keep.max(STRAY_SCAN) {
            let p = self.rotated(n);
            if n >= self.keep || too_old(&p) {
                let _ = fs::remove_file(p);
            }
        }
        too_old(&self.path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    }

    fn rotate(&self, state: &mut State) -> io::Result<()> {
        state.file = None;
        if self.keep > 1 {
            let _ = fs::remove_file(self.rotated(self.keep - 1));
            for n in (1..self.keep - 1).rev() {
                let from = self.rotated(n);
                if from.exists() {
                    fs::rename(&from, self.rotated(n + 1))?;
                }
            }
            fs::rename(&self.path, self.rotated(1))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)?;
        state.file = Some(file);
        state.size = 0;
        Ok(())
    }

    fn write_locked(&self, state: &mut State, buf: &[u8]) -> io::Result<usize> {
        if state.size > 0 && state.size + buf.len() as u64 > self.max_bytes {
            self.rotate(state)?;
        }
        let file = match &mut state.file {
            Some(f) => f,
            None => {
                // A failed rotation left no file: reopen so logging recovers.
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?;
                state.size = f.metadata()?.len();
                state.file.insert(f)
            }
        };
        file.write_all(buf)?;
        state.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state usable; carry on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The writer handed to tracing for one event.
#[derive(Debug)]
pub struct RotatingWriterHandle<'a> {
    writer: &'a RotatingWriter,
}

impl Write for RotatingWriterHandle<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut state = self.writer.lock();
        self.writer.write_locked(&mut state, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.writer.lock().file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Write for &RotatingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        RotatingWriterHandle { writer: self }.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        RotatingWriterHandle { writer: self }.flush()
    }
}

impl<'a> MakeWriter<'a> for RotatingWriter {
    type Writer = RotatingWriterHandle<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        RotatingWriterHandle { writer: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_and_keeps_limited_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/rex/rex.log");
        let w = RotatingWriter::with_limits(&path, 100, 3).unwrap();
        let mut h = w.make_writer();
        for i in 0..10 {
            // 60 bytes each: every write after the first rotates.
            h.write_all(format!("{i:>59}\n").as_bytes()).unwrap();
        }
        h.flush().unwrap();
        let read = |p: PathBuf| fs::read_to_string(p).unwrap();
        assert_eq!(read(path.clone()).trim(), "9");
        assert_eq!(read(w.rotated(1)).trim(), "8");
        assert_eq!(read(w.rotated(2)).trim(), "7");
        assert!(!w.rotated(3).exists(), "only 3 files are kept");
    }

    #[test]
    fn appends_to_an_existing_log_and_counts_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rex.log");
        fs::write(&path, "x".repeat(90)).unwrap();
        let w = RotatingWriter::with_limits(&path, 100, 5).unwrap();
        (&w).write_all(b"0123456789").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 100);
        (&w).write_all(b"next").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "next");
        assert_eq!(fs::metadata(w.rotated(1)).unwrap().len(), 100);
    }

    #[test]
    fn logs_older_than_the_retention_are_deleted_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rex.log");
        let eight_days_ago = SystemTime::now() - Duration::from_secs(8 * 24 * 3600);
        let write = |p: &Path, text: &str, mtime: Option<SystemTime>| {
            fs::write(p, text).unwrap();
            if let Some(t) = mtime {
                File::options()
                    .write(true)
                    .open(p)
                    .unwrap()
                    .set_modified(t)
                    .unwrap();
            }
        };
        let w = RotatingWriter::with_limits(&path, 100, 5).unwrap();
        let (r1, r2, r3, r7) = (w.rotated(1), w.rotated(2), w.rotated(3), w.rotated(7));
        drop(w);
        write(&path, "old live\n", Some(eight_days_ago));
        write(&r1, "recent\n", None);
        write(&r2, "old\n", Some(eight_days_ago));
        write(&r3, "also recent\n", None);
        write(&r7, "beyond keep\n", None);

        let w = RotatingWriter::open(&path).unwrap();
        assert!(r1.exists() && r3.exists(), "recent rotated logs are kept");
        assert!(!r2.exists(), "a log older than 7 days is deleted");
        assert!(!r7.exists(), "only `keep` files are kept");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "",
            "an old live log starts empty"
        );
        (&w).write_all(b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");

        // A recent live log is appended to, not emptied.
        drop(w);
        let w = RotatingWriter::open(&path).unwrap();
        (&w).write_all(b"more\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\nmore\n");
    }

    #[test]
    fn works_as_a_tracing_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rex.log");
        let w = RotatingWriter::open(&path).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(w)
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(registry = "local", "connecting");
        });
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("connecting"), "{text}");
        assert!(text.contains("registry=\"local\""), "{text}");
    }
}
