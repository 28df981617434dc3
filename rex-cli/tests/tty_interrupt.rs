//! Ctrl+C at a secret prompt, in a real pseudo-terminal (tmux): rex exits 130 and the
//! terminal gets its echo back, although the blocked `read` means the exit path skips
//! the prompt's destructor.

use rex_tests::cli::{rex_command, RexHome};
use rex_tests::registry::{Mode, TestRegistry};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One private tmux server running a script in one pane; killed on drop.
struct Pane {
    socket: String,
    _home: RexHome,
}

impl Pane {
    fn tmux(&self, args: &[&str]) -> String {
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

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
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
        let path = Command::new("tmux")
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
        if let Some(p) = path {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[test]
fn ctrl_c_at_a_password_prompt_restores_echo_and_exits_130() {
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is required for this test (scripts/test installs it)");
    }
    let reg = TestRegistry::start(Mode::basic("x", "secret"));
    let home = RexHome::new();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rex"));
    // The isolated environment of rex-tests as shell exports; TERM is tmux's.
    let template = rex_command(&bin, &home);
    // A trap keeps the shell alive when C-c reaches the whole foreground group (rex gets
    // the default disposition back, then installs its own handler).
    let mut script = String::from("#!/bin/sh\nstty echo\ntrap : INT\n");
    for (k, v) in template.get_envs() {
        let k = k.to_string_lossy();
        if k == "TERM" {
            continue;
        }
        match v {
            Some(v) => script += &format!("export {k}={}\n", shell_quote(&v.to_string_lossy())),
            None => script += &format!("unset {k}\n"),
        }
    }
    script += "export REX_NO_KEYRING=1\n";
    script += &format!(
        "{} registry login {} -u x\necho \"REX-EXIT=$?\"\n\
         s=$(stty -a); case \"$s\" in *' -echo '*) echo ECHO=off;; *' echo '*) echo ECHO=on;; \
         *) echo ECHO=unknown;; esac\nexec sleep 600\n",
        shell_quote(&bin.to_string_lossy()),
        shell_quote(&reg.url()),
    );
    let path = home.root().join("login.sh");
    std::fs::write(&path, script).unwrap();
    let pane = Pane {
        socket: format!("rex-tty-{}", std::process::id()),
        _home: home,
    };
    pane.tmux(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "100",
        "-y",
        "20",
        "-s",
        "t",
        "sh",
        &path.to_string_lossy(),
    ]);
    pane.wait_for("the password prompt", |s| s.contains("Password:"));
    let sent = Instant::now();
    pane.tmux(&["send-keys", "-t", "t", "C-c"]);
    let s = pane.wait_for("rex to exit", |s| s.contains("REX-EXIT="));
    assert!(s.contains("REX-EXIT=130"), "exit code:\n{s}");
    assert!(
        sent.elapsed() < Duration::from_secs(15),
        "rex took {:?} to stop",
        sent.elapsed()
    );
    let s = pane.wait_for("the echo check", |s| s.contains("ECHO="));
    assert!(s.contains("ECHO=on"), "terminal echo left off:\n{s}");
}
