//! A size-rotated log file (design 1.12: rotate at 10 MB, keep 5 files: `rex.log`,
//! `rex.log.1` … `rex.log.4`). Plugs into tracing-subscriber's fmt layer as a `MakeWriter`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tracing_subscriber::fmt::MakeWriter;

/// Rotate once the file would grow past this many bytes.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Files kept, counting the live one.
pub const DEFAULT_KEEP: usize = 5;

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
        Self::with_limits(path, DEFAULT_MAX_BYTES, DEFAULT_KEEP)
    }

    /// `keep` counts the live file; `keep == 1` truncates instead of keeping old files.
    pub fn with_limits(path: impl Into<PathBuf>, max_bytes: u64, keep: usize) -> io::Result<Self> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(RotatingWriter {
            path,
            max_bytes: max_bytes.max(1),
            keep: keep.max(1),
            state: Mutex::new(State {
                file: Some(file),
                size,
            }),
        })
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
