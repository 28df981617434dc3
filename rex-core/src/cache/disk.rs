//! The disk tier: one JSON file per entry, written atomically (temp file in the same
//! directory, fsync, rename) under a shared per-directory lock; read without locks. The
//! lock only keeps a cleanup from removing a directory under a writer: the rename already
//! makes concurrent writers safe, so writers share it and never wait for each other.

use super::entry::{self, Entry};
use super::key::{CacheKey, CacheKind};
use fs4::fs_std::FileExt as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Name of the writers' lock file in every entry directory (and the cache root).
pub(crate) const LOCK_FILE: &str = ".lock";
/// How long a writer waits for a directory lock before giving up on that write.
pub(crate) const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

pub(crate) enum DiskRead {
    Hit(Entry),
    Missing,
    /// The file was unusable and has been removed.
    Corrupt,
}

#[derive(Debug, Clone)]
pub(crate) struct Disk {
    pub root: PathBuf,
    pub fsync: bool,
}

/// An exclusive lock on a directory's `.lock` file, released on drop.
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Wait up to `timeout` for `dir`'s lock (flock is per open file, so this also
    /// serialises threads of one process).
    pub fn acquire(dir: &Path, timeout: Duration) -> io::Result<DirLock> {
        Self::acquire_file(&dir.join(LOCK_FILE), timeout)
    }

    /// Take `dir`'s lock only if nobody holds it.
    pub fn try_acquire(dir: &Path) -> io::Result<Option<DirLock>> {
        let file = open_lock_file(&dir.join(LOCK_FILE))?;
        Ok(file
            .try_lock_exclusive()?
            .then_some(DirLock { _file: file }))
    }

    /// Wait up to `timeout` for `dir`'s lock, shared with other writers (entry writers:
    /// only [`remove_dir_if_empty`] takes it exclusively).
    pub fn acquire_shared(dir: &Path, timeout: Duration) -> io::Result<DirLock> {
        // fs4's, not std's inherent `File::try_lock_shared` (another signature).
        Self::wait_for(&dir.join(LOCK_FILE), timeout, |f| {
            fs4::fs_std::FileExt::try_lock_shared(f)
        })
    }

    /// Wait up to `timeout` for the lock file at `path`.
    pub fn acquire_file(path: &Path, timeout: Duration) -> io::Result<DirLock> {
        Self::wait_for(path, timeout, |f| f.try_lock_exclusive())
    }

    fn wait_for(
        path: &Path,
        timeout: Duration,
        try_lock: impl Fn(&File) -> io::Result<bool>,
    ) -> io::Result<DirLock> {
        let file = open_lock_file(path)?;
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(1);
        loop {
            if try_lock(&file)? {
                return Ok(DirLock { _file: file });
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("timed out waiting for the lock {}", path.display()),
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Take the lock file at `path` only if nobody holds it.
    pub fn try_acquire_file(path: &Path) -> io::Result<Option<DirLock>> {
        let file = open_lock_file(path)?;
        Ok(file
            .try_lock_exclusive()?
            .then_some(DirLock { _file: file }))
    }
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// Write `bytes` to `path` atomically: readers see the old file or the new one, never a
/// part. The caller holds the directory lock.
pub(crate) fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mtime: Option<SystemTime>,
    fsync: bool,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        if let Some(t) = mtime {
            // mtime doubles as "last access" for eviction; set from the cache's clock.
            let _ = f.set_modified(t);
        }
        if fsync {
            f.sync_all()?;
        }
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Remove `path` only if it is still the file `opened` refers to, so a reader that found a
/// bad file never deletes a good one a writer renamed in meanwhile.
fn remove_if_same(path: &Path, opened: &File) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let (Ok(a), Ok(b)) = (opened.metadata(), fs::metadata(path)) {
            if a.dev() != b.dev() || a.ino() != b.ino() {
                return;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = opened;
    let _ = fs::remove_file(path);
}

impl Disk {
    pub fn path(&self, key: &CacheKey) -> PathBuf {
        self.root.join(key.relative_path())
    }

    /// Read `key`'s entry. On a hit the file's mtime is set to `touch` (last access).
    pub fn read(&self, key: &CacheKey, touch: Option<SystemTime>) -> DiskRead {
        let path = self.path(key);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return DiskRead::Missing,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read cache entry");
                return DiskRead::Missing;
            }
        };
        let mut raw = Vec::new();
        if let Err(e) = file.read_to_end(&mut raw) {
            tracing::warn!(path = %path.display(), error = %e, "cannot read cache entry");
            return DiskRead::Missing;
        }
        match entry::decode(key, &raw) {
            Ok(entry) => {
                if let Some(t) = touch {
                    if let Err(e) = file.set_modified(t) {
                        tracing::debug!(path = %path.display(), error = %e, "cannot update cache entry access time");
                    }
                }
                DiskRead::Hit(entry)
            }
            Err(reason) => {
                tracing::warn!(path = %path.display(), %reason, "removing corrupt cache entry");
                remove_if_same(&path, &file);
                DiskRead::Corrupt
            }
        }
    }

    /// Write `key`'s entry (creating directories, sharing the directory lock).
    pub fn write(&self, key: &CacheKey, entry: &Entry, mtime: SystemTime) -> io::Result<u64> {
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir)?;
        let bytes = entry::encode(key, entry).map_err(io::Error::other)?;
        let _lock = DirLock::acquire_shared(dir, LOCK_TIMEOUT)?;
        write_atomic(&path, &bytes, Some(mtime), self.fsync)?;
        Ok(bytes.len() as u64)
    }

    pub fn remove(&self, key: &CacheKey) -> io::Result<()> {
        match fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// One entry file found by [`walk`].
#[derive(Debug, Clone)]
pub(crate) struct FileInfo {
    pub path: PathBuf,
    pub kind: CacheKind,
    pub registry_hash: String,
    pub len: u64,
    /// Last access (see [`Disk::read`]) or write.
    pub mtime: SystemTime,
}

/// What [`walk`] found below the cache root.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    pub entries: Vec<FileInfo>,
    /// Leftover temp files of killed writers, with their mtime.
    pub temps: Vec<(PathBuf, SystemTime)>,
    /// Directories visited (deepest first), candidates for removal when empty.
    pub dirs: Vec<PathBuf>,
}

/// List every entry file, optionally only of one registry hash and some kinds.
/// A missing root or kind directory is simply empty.
pub(crate) fn walk(
    root: &Path,
    registry_hash: Option<&str>,
    kinds: &[CacheKind],
) -> io::Result<Walk> {
    let mut out = Walk::default();
    if !root.exists() {
        return Ok(out);
    }
    fs::read_dir(root)?; // an unreadable root is an error; below it we only warn
    for &kind in kinds {
        let kind_dir = root.join(kind.dir_name());
        let Ok(rd) = fs::read_dir(&kind_dir) else {
            continue;
        };
        for reg in rd.flatten() {
            let name = reg.file_name().to_string_lossy().into_owned();
            if registry_hash.is_some_and(|h| h != name) || !reg.path().is_dir() {
                continue;
            }
            walk_dir(&reg.path(), kind, &name, 0, &mut out);
        }
    }
    Ok(out)
}

fn walk_dir(dir: &Path, kind: CacheKind, registry_hash: &str, depth: u32, out: &mut Walk) {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            tracing::warn!(path = %dir.display(), error = %e, "cannot list cache directory");
            return;
        }
    };
    for item in rd.flatten() {
        let path = item.path();
        let Ok(meta) = item.metadata() else { continue };
        let name = item.file_name().to_string_lossy().into_owned();
        if meta.is_dir() {
            if depth < 2 {
                walk_dir(&path, kind, registry_hash, depth + 1, out);
            }
            continue;
        }
        let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if name.starts_with('.') {
            if name.ends_with(".tmp") {
                out.temps.push((path, mtime));
            }
            continue;
        }
        if name.ends_with(".json") {
            out.entries.push(FileInfo {
                path,
                kind,
                registry_hash: registry_hash.to_owned(),
                len: meta.len(),
                mtime,
            });
        }
    }
    out.dirs.push(dir.to_path_buf());
}

/// Remove `dir` if it holds nothing but its lock file and nobody holds that lock.
pub(crate) fn remove_dir_if_empty(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let only_lock = rd
        .flatten()
        .all(|e| e.file_name().to_string_lossy() == LOCK_FILE);
    if !only_lock {
        return;
    }
    if let Ok(Some(_lock)) = DirLock::try_acquire(dir) {
        let _ = fs::remove_file(dir.join(LOCK_FILE));
        let _ = fs::remove_dir(dir);
    }
}
