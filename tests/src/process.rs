//! Spawning child processes that die with the test process.
//!
//! Shared registries live in statics, whose destructors never run, so `Drop` alone cannot
//! guarantee cleanup. Children get `PR_SET_PDEATHSIG = SIGKILL`. That signal fires when the
//! *thread* that forked exits, so every spawn happens on one dedicated thread that lives
//! as long as the process.

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

type Job = (Command, mpsc::Sender<io::Result<Child>>);

fn spawner() -> &'static Mutex<mpsc::Sender<Job>> {
    static TX: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("rex-tests-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(spawn_here(&mut cmd));
                }
            })
            .expect("rex-tests: cannot start the spawner thread");
        Mutex::new(tx)
    })
}

#[cfg(target_os = "linux")]
fn spawn_here(cmd: &mut Command) -> io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure only calls async-signal-safe libc functions (prctl, getppid, _exit).
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            // The parent may have died between fork and prctl.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    cmd.spawn()
}

#[cfg(not(target_os = "linux"))]
fn spawn_here(cmd: &mut Command) -> io::Result<Child> {
    cmd.spawn()
}

/// Spawn `cmd` on the long-lived spawner thread.
pub fn spawn(cmd: Command) -> io::Result<Child> {
    let (tx, rx) = mpsc::channel();
    spawner()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, tx))
        .map_err(|_| io::Error::other("rex-tests spawner thread is gone"))?;
    rx.recv()
        .map_err(|_| io::Error::other("rex-tests spawner thread is gone"))?
}
