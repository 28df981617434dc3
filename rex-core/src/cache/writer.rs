//! Write-behind for stores made from async code: one thread per cache writes the entries
//! in the order they were stored, so a listing's fetch lanes never wait for the disk (a
//! cold 1,000-tag listing stores ~2,000 entries; awaiting each write held a lane for its
//! whole duration and cost ~25 % of the listing's time). The memory tier already holds
//! every queued entry, so reads in this process never miss one. The queue is drained when
//! the cache is dropped, and before anything that deletes or counts files (`flush`).

use super::key::CacheKey;
use super::Entry;
use std::sync::{mpsc, Arc};
use std::thread::{JoinHandle, ThreadId};
use std::time::SystemTime;

enum Job {
    Write(CacheKey, Arc<Entry>, SystemTime),
    /// Answered once every job queued before it is done.
    Barrier(mpsc::SyncSender<()>),
}

pub(crate) struct WriteBehind {
    queue: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
}

impl WriteBehind {
    /// Start the writer thread; `write` stores one entry (errors are its to log).
    pub fn start(
        write: impl Fn(&CacheKey, &Entry, SystemTime) + Send + 'static,
    ) -> std::io::Result<WriteBehind> {
        let (queue, jobs) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("rex-cache-writer".into())
            .spawn(move || {
                for job in jobs {
                    match job {
                        Job::Write(key, entry, mtime) => write(&key, &entry, mtime),
                        Job::Barrier(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            })?;
        Ok(WriteBehind {
            queue: Some(queue),
            thread_id: thread.thread().id(),
            thread: Some(thread),
        })
    }

    /// Queue a write; `false` when the writer is gone (the caller then writes itself).
    pub fn enqueue(&self, key: CacheKey, entry: Arc<Entry>, mtime: SystemTime) -> bool {
        self.queue
            .as_ref()
            .is_some_and(|q| q.send(Job::Write(key, entry, mtime)).is_ok())
    }

    /// Wait until every write queued so far is on disk. A no-op on the writer thread
    /// itself (a write that prunes a full disk).
    pub fn flush(&self) {
        if std::thread::current().id() == self.thread_id {
            return;
        }
        let (done, wait) = mpsc::sync_channel(1);
        if self
            .queue
            .as_ref()
            .is_some_and(|q| q.send(Job::Barrier(done)).is_ok())
        {
            let _ = wait.recv();
        }
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has written everything queued.
        drop(self.queue.take());
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}
