//! Real pseudo-terminal tests: a private tmux server (`-L <socket>`) with one pane that
//! runs a shell script. Tests type into the pane, read the screen and query tmux formats
//! (`#{alternate_on}`, `#{cursor_flag}`, …). The server and its socket file are removed
//! on drop.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long [`Pane::wait_for`] polls: a first run may build and start slowly.
const WAIT: Duration = Duration::from_secs(20);

/// The tmux session (and target) name inside each private server.
const SESSION: &str = "t";

/// Single-quote `s` for `sh`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `export`/`unset` lines that give a shell script the environment changes of `cmd` (for
/// example the isolated environment of [`crate::cli::rex_command`]). `TERM` is left out:
/// in a pane it is tmux's, a real terminal.
pub fn env_exports(cmd: &Command) -> String {
    let mut script = String::new();
    for (k, v) in cmd.get_envs() {
        let k = k.to_string_lossy();
        if k == "TERM" {
            continue;
        }
        match v {
            Some(v) => script += &format!("export {k}={}\n", shell_quote(&v.to_string_lossy())),
            None => script += &format!("unset {k}\n"),
        }
    }
    script
}

/// One private tmux server with one pane.
pub struct Pane {
    socket: String,
}

impl Pane {
    /// Start a server named `socket` (unique per test: include the pid) whose one pane,
    /// `width` x `height`, runs `sh script`. Panics with a hint when tmux is missing.
    pub fn start(socket: &str, width: u16, height: u16, script: &Path) -> Pane {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok(),
            "tmux is required for this test (scripts/test installs it)"
        );
        let pane = Pane {
            socket: socket.to_string(),
        };
        pane.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-s",
            SESSION,
            "sh",
            &script.to_string_lossy(),
        ]);
        pane
    }

    /// The server's socket name (`tmux -L <name>`).
    pub fn socket(&self) -> &str {
        &self.socket
    }

    /// Run a tmux command against this server; panics if it fails.
    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen as text.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", SESSION])
    }

    /// A tmux format evaluated for the pane (`#{pane_pid}`), trimmed.
    pub fn format(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", SESSION, format])
            .trim()
            .to_string()
    }

    /// Send keys as tmux key names (`Enter`, `Escape`, `C-c`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Type `text` literally.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", SESSION, "-l", text]);
    }

    /// Poll the screen until `ok` holds; panics with the screen after 20 s.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        // The socket file outlives the server: remove it too.
        let socket_path = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "display-message",
                "-p",
                "#{socket_path}",
            ])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|p| !p.is_empty());
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        if let Some(p) = socket_path {
            let _ = std::fs::remove_file(p);
        }
    }
}
