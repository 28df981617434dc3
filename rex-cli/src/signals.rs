//! Ctrl+C: the first SIGINT sets a flag plugins see through `Host::is_cancelled`; the
//! second exits at once with 130.
//!
//! A secret prompt turns terminal echo off. Exits that skip destructors (the second
//! Ctrl+C, the grace-period exit while a prompt blocks in `read`) would leave the user's
//! shell without echo, so the saved attributes live here and every such exit restores them.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static HITS: AtomicUsize = AtomicUsize::new(0);

/// The terminal attributes of fd 0 to put back, valid while `SAVED_SET` is true.
struct SavedTermios(UnsafeCell<std::mem::MaybeUninit<libc::termios>>);
// SAFETY: written only by `save_termios` before `SAVED_SET` is published (Release), read
// only after it is observed (Acquire); prompts are not nested, so there is one writer.
unsafe impl Sync for SavedTermios {}

static SAVED: SavedTermios = SavedTermios(UnsafeCell::new(std::mem::MaybeUninit::uninit()));
static SAVED_SET: AtomicBool = AtomicBool::new(false);

/// Remember the attributes to restore on any exit (called before echo is turned off).
pub fn save_termios(t: &libc::termios) {
    SAVED_SET.store(false, Ordering::SeqCst);
    // SAFETY: see `SavedTermios`; no reader looks while SAVED_SET is false.
    unsafe { (*SAVED.0.get()).write(*t) };
    SAVED_SET.store(true, Ordering::SeqCst);
}

/// The attributes were restored the ordinary way (the prompt finished).
pub fn forget_termios() {
    SAVED_SET.store(false, Ordering::SeqCst);
}

/// Put the saved terminal attributes back, if a prompt changed them. Async-signal-safe
/// (an atomic and tcsetattr).
pub fn restore_terminal() {
    if SAVED_SET.swap(false, Ordering::SeqCst) {
        // SAFETY: SAVED was fully written before SAVED_SET became true.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, (*SAVED.0.get()).as_ptr());
        }
    }
}

extern "C" fn on_sigint(_: libc::c_int) {
    // Only async-signal-safe work here: atomics, tcsetattr and _exit.
    if HITS.fetch_add(1, Ordering::SeqCst) >= 1 {
        restore_terminal();
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
}

/// Install the handler (called just before a command runs).
pub fn install() {
    // SAFETY: the handler only touches atomics, tcsetattr and _exit.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

pub fn cancelled() -> bool {
    HITS.load(Ordering::SeqCst) > 0
}
