//! The real `rex` binary on a real pseudo-terminal: pretty output by default, colour
//! rules (`--color`, `NO_COLOR`, `REX_COLOR`), table width from `COLUMNS`, progress on a
//! terminal only, interactive login and confirmation prompts — against the harness's real
//! `docker-registry` processes.

use rex_tests::cli::{rex_command, RexHome};
use rex_tests::registry::{SHARED_PASSWORD, SHARED_USER};
use rex_tests::{Mode, TestRegistry};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether `text` holds an SGR (colour/style) sequence, `ESC [ digits ; … m`. Progress
/// lines use other control sequences (`ESC [2K`), which are not colour.
fn has_sgr(text: &str) -> bool {
    text.match_indices("\x1b[").any(|(i, _)| {
        let rest = &text[i + 2..];
        let params = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        rest[params..].starts_with('m')
    })
}

/// `rex` in an isolated home, with a terminal type that allows colour.
fn rex(home: &RexHome) -> Command {
    let mut c = rex_command(env!("CARGO_BIN_EXE_rex"), home);
    c.env("REX_NO_KEYRING", "1").env("TERM", "xterm-256color");
    c
}

/// A child process whose stdin and stdout (and stderr unless `piped_stderr`) are the
/// slave side of a new pseudo-terminal, which is also its controlling terminal.
struct Pty {
    master: File,
    child: Child,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
}

/// What a finished pty run produced.
struct Screen {
    code: i32,
    /// Everything written to the terminal, with the terminal's `\r\n` as `\n`.
    text: String,
    /// Stderr when it was a pipe.
    stderr: String,
}

impl Pty {
    /// No window size is set on the terminal (rex then falls back to `COLUMNS`).
    fn spawn(cmd: Command) -> Pty {
        Self::spawn_with(cmd, false)
    }

    fn spawn_with(mut cmd: Command, piped_stderr: bool) -> Pty {
        let (mut m, mut s) = (0, 0);
        // SAFETY: openpty fills two fds; the null pointers mean default name/termios/size.
        let rc = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both fds were just returned by openpty and are owned here.
        let (master, slave) = unsafe { (File::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()));
        if piped_stderr {
            cmd.stderr(Stdio::piped());
        } else {
            cmd.stderr(Stdio::from(slave.try_clone().unwrap()));
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn rex on a pty");
        // The child holds the only slave fds now: reading the master ends when it exits.
        drop(slave);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let screen = Arc::clone(&screen);
            let mut master = master.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                // EIO once the last slave fd is closed.
                while let Ok(n) = master.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    screen.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            })
        };
        let stderr = child.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut v = Vec::new();
                let _ = e.read_to_end(&mut v);
                v
            })
        });
        Pty {
            master,
            child,
            screen,
            reader: Some(reader),
            stderr,
        }
    }

    fn text_so_far(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).replace("\r\n", "\n")
    }

    /// Wait until the terminal shows `needle` (after `from` bytes of screen text).
    #[track_caller]
    fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.text_so_far().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{}",
                self.text_so_far()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the terminal echoes input (the master shares the slave's termios).
    fn echo_on(&self) -> bool {
        // SAFETY: tcgetattr fills a zeroed termios for a valid fd.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::tcgetattr(self.master.as_raw_fd(), &mut t) };
        assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        t.c_lflag & libc::ECHO != 0
    }

    /// Type a line as a user would.
    fn type_line(&mut self, line: &str) {
        self.master.write_all(line.as_bytes()).unwrap();
        self.master.write_all(b"\r").unwrap();
        self.master.flush().unwrap();
    }

    fn finish(mut self) -> Screen {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("rex did not exit; screen:\n{}", self.text_so_far());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.reader.take().unwrap().join().unwrap();
        let stderr = self
            .stderr
            .take()
            .map(|h| String::from_utf8_lossy(&h.join().unwrap()).into_owned())
            .unwrap_or_default();
        Screen {
            code: status.code().unwrap_or(-1),
            text: self.text_so_far(),
            stderr,
        }
    }
}

impl Screen {
    #[track_caller]
    fn ok(self) -> Screen {
        assert_eq!(
            self.code, 0,
            "exit code\nscreen:\n{}\nstderr:\n{}",
            self.text, self.stderr
        );
        self
    }
}

fn on_tty(cmd: Command) -> Screen {
    Pty::spawn(cmd).finish()
}

fn piped(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().expect("run rex");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn pretty_is_the_default_on_a_terminal_and_yaml_when_piped() {
    let reg = TestRegistry::shared("anonymous");
    let home = RexHome::new();
    let mut cmd = rex(&home);
    cmd.args(["--color", "never", "-r", &reg.url(), "image"]);
    let tty = on_tty(cmd).ok();
    // A pretty table: an upper-case header row, then the repositories.
    let first = tty.text.lines().find(|l| !l.trim().is_empty()).unwrap();
    assert!(
        first.contains("REPOSITORY") || first.contains("NAME"),
        "not a pretty table:\n{}",
        tty.text
    );
    assert!(tty.text.contains("rex/oci-image"), "{}", tty.text);

    let mut cmd = rex(&home);
    cmd.args(["-r", &reg.url(), "image"]);
    let (code, stdout, stderr) = piped(cmd);
    assert_eq!(code, 0, "{stderr}");
    // Piped: yaml of the same data, no table.
    let yaml: serde_json::Value = serde_yaml::from_str(&stdout)
        .unwrap_or_else(|e| panic!("piped output is not yaml ({e}):\n{stdout}"));
    assert!(yaml.is_object() || yaml.is_array(), "{stdout}");
    assert!(stdout.contains("rex/oci-image"), "{stdout}");
    assert!(!stdout.contains("REPOSITORY"), "{stdout}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&stdout).is_err(),
        "piped default must be yaml, not json"
    );
}

#[test]
fn colour_follows_color_flag_no_color_and_rex_color() {
    let reg = TestRegistry::shared("anonymous");
    let home = RexHome::new();
    let url = reg.url();
    let args = ["-r", url.as_str(), "image"];

    // auto on a terminal: colour.
    let mut cmd = rex(&home);
    cmd.args(args);
    let auto = on_tty(cmd).ok();
    assert!(
        has_sgr(&auto.text),
        "auto on a tty must colour:\n{}",
        auto.text
    );

    // --color always: colour even into a pipe.
    let mut cmd = rex(&home);
    cmd.args(["--color", "always", "-f", "pretty"]).args(args);
    let (code, stdout, stderr) = piped(cmd);
    assert_eq!(code, 0, "{stderr}");
    assert!(has_sgr(&stdout), "--color always piped:\n{stdout}");

    // Each way of turning it off, on a terminal.
    let mut no_color = rex(&home);
    no_color.env("NO_COLOR", "1").args(args);
    let mut never = rex(&home);
    never.args(["--color", "never"]).args(args);
    let mut rex_color = rex(&home);
    rex_color.env("REX_COLOR", "never").args(args);
    let mut no_color_flag = rex(&home);
    no_color_flag.arg("--no-color").args(args);
    for (what, cmd) in [
        ("NO_COLOR=1", no_color),
        ("--color never", never),
        ("REX_COLOR=never", rex_color),
        ("--no-color", no_color_flag),
    ] {
        let s = on_tty(cmd).ok();
        assert!(
            s.text.contains("rex/oci-image"),
            "{what}: no output:\n{}",
            s.text
        );
        assert!(!has_sgr(&s.text), "{what} still colours:\n{:?}", s.text);
    }
}

/// The longest line of the table part of a pretty listing.
fn widest_line(text: &str) -> usize {
    use unicode_width::UnicodeWidthStr;
    text.lines().map(|l| l.width()).max().unwrap_or(0)
}

#[test]
fn table_width_follows_columns_on_a_terminal() {
    let reg = TestRegistry::shared("anonymous");
    let home = RexHome::new();
    let run = |columns: &str| {
        let mut cmd = rex(&home);
        cmd.env("COLUMNS", columns)
            .args(["--color", "never", "-r", &reg.url(), "image"]);
        // Progress goes to the pipe: the screen holds only the table.
        Pty::spawn_with(cmd, true).finish().ok().text
    };
    let wide = run("200");
    assert!(
        wide.contains("a/b/c/d/e/image") && !wide.contains('…'),
        "a wide terminal needs no truncation:\n{wide}"
    );
    let natural = widest_line(&wide);
    assert!(natural > 30, "fixture table is wider than 30:\n{wide}");
    let narrow = run("30");
    assert!(
        narrow.contains('…'),
        "narrow table must truncate:\n{narrow}"
    );
    assert!(
        widest_line(&narrow) < natural,
        "narrow ({}) must be narrower than natural ({natural}):\n{narrow}",
        widest_line(&narrow)
    );
    assert!(
        !narrow.contains("a/b/c/d/e/image"),
        "long name not cut:\n{narrow}"
    );
}

#[test]
fn progress_shows_on_a_terminal_only_and_not_when_quiet() {
    let reg = TestRegistry::shared("large");
    let repo = reg.fixtures.large.as_ref().unwrap().tags_repo.clone();
    let home = RexHome::new();
    let args = ["--color", "never", "-r", &reg.url(), "image", &repo];

    let mut cmd = rex(&home);
    cmd.args(args);
    let tty = on_tty(cmd).ok();
    assert!(
        tty.text.contains("Fetching details of") && tty.text.contains("/1200"),
        "no progress line on the terminal:\n{}",
        &tty.text[..tty.text.len().min(2000)]
    );
    // The progress line is cleared before the table.
    assert!(tty.text.contains("\r\x1b[2K"), "progress not cleared");

    // Stdout on the terminal, stderr a pipe: no progress anywhere.
    let mut cmd = rex(&home);
    cmd.args(args);
    let s = Pty::spawn_with(cmd, true).finish().ok();
    assert!(
        !s.stderr.contains("Fetching"),
        "progress into a pipe:\n{}",
        s.stderr
    );
    assert!(!s.text.contains("Fetching"), "{}", s.text);
    assert!(s.text.contains("t0000"), "the listing itself: {}", s.text);

    // --quiet on a terminal: no progress.
    let mut cmd = rex(&home);
    cmd.arg("-q").args(args);
    let q = on_tty(cmd).ok();
    assert!(
        !q.text.contains("Fetching"),
        "progress with -q:\n{}",
        q.text
    );
    assert!(q.text.contains("t0000"), "{}", q.text);
}

#[test]
fn interactive_login_prompts_and_never_shows_the_password() {
    let reg = TestRegistry::shared("basic");
    let home = RexHome::new();
    let mut cmd = rex(&home);
    cmd.args(["--color", "never", "registry", "login", &reg.url()]);
    let mut pty = Pty::spawn(cmd);
    pty.wait_for("Username");
    pty.type_line(SHARED_USER);
    pty.wait_for("Password");
    // Type only once echo is off, as a user's keystrokes would arrive.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pty.echo_on() {
        assert!(Instant::now() < deadline, "echo never turned off");
        std::thread::sleep(Duration::from_millis(10));
    }
    pty.type_line(SHARED_PASSWORD);
    let s = pty.finish().ok();
    assert!(s.text.contains("Successfully authenticated"), "{}", s.text);
    assert!(
        s.text.contains(SHARED_USER),
        "the username is echoed:\n{}",
        s.text
    );
    assert!(
        !s.text.contains(SHARED_PASSWORD),
        "password on screen:\n{}",
        s.text
    );
    // The stored credentials work: rex now lists the registry's repositories.
    let mut cmd = rex(&home);
    cmd.args(["-f", "json", "-r", &reg.url(), "image"]);
    let (code, stdout, stderr) = piped(cmd);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("rex/oci-image"), "{stdout}");
}

#[test]
fn remove_asks_and_only_yes_removes() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let home = RexHome::new();
    let mut cmd = rex(&home);
    cmd.args(["registry", "init", "doomed", &reg.url()]);
    let (code, _, stderr) = piped(cmd);
    assert_eq!(code, 0, "{stderr}");
    let names = || {
        let mut cmd = rex(&home);
        cmd.args(["-q", "-f", "pretty", "registry", "list"]);
        piped(cmd).1
    };
    assert_eq!(names(), "doomed\n");

    for (answer, kept) in [("n", true), ("", true), ("y", false)] {
        let mut cmd = rex(&home);
        cmd.args(["--color", "never", "registry", "remove", "doomed"]);
        let mut pty = Pty::spawn(cmd);
        pty.wait_for("[y/N]");
        pty.type_line(answer);
        let s = pty.finish();
        assert_eq!(
            names().contains("doomed"),
            kept,
            "answer {answer:?}: exit {}\n{}",
            s.code,
            s.text
        );
        if !kept {
            assert_eq!(s.code, 0, "{}", s.text);
        }
    }
}

#[test]
fn consecutive_status_lines_are_not_separated_by_blank_lines() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let home = RexHome::new();
    let mut cmd = rex(&home);
    cmd.args([
        "--color",
        "never",
        "registry",
        "init",
        "local",
        &reg.url(),
        "--set-current",
    ]);
    let s = on_tty(cmd).ok();
    let lines: Vec<&str> = s.text.lines().collect();
    let checks: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with('✓'))
        .map(|(i, _)| i)
        .collect();
    assert!(checks.len() >= 3, "expected three ✓ lines:\n{}", s.text);
    assert!(
        checks.windows(2).all(|w| w[1] == w[0] + 1),
        "✓ lines must be adjacent:\n{}",
        s.text
    );
}
