//! Ctrl+C at a secret prompt, in a real pseudo-terminal (tmux): rex exits 130 and the
//! terminal gets its echo back, although the blocked `read` means the exit path skips
//! the prompt's destructor.

use rex_tests::cli::{rex_command, RexHome};
use rex_tests::registry::{Mode, TestRegistry};
use rex_tests::tmux::{env_exports, shell_quote, Pane};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[test]
fn ctrl_c_at_a_password_prompt_restores_echo_and_exits_130() {
    let reg = TestRegistry::start(Mode::basic("x", "secret"));
    let home = RexHome::new();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rex"));
    // The isolated environment of rex-tests as shell exports; TERM is tmux's.
    let template = rex_command(&bin, &home);
    // A trap keeps the shell alive when C-c reaches the whole foreground group (rex gets
    // the default disposition back, then installs its own handler).
    let mut script = String::from("#!/bin/sh\nstty echo\ntrap : INT\n");
    script += &env_exports(&template);
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
    let pane = Pane::start(&format!("rex-tty-{}", std::process::id()), 100, 20, &path);
    pane.wait_for("the password prompt", |s| s.contains("Password:"));
    let sent = Instant::now();
    pane.keys(&["C-c"]);
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
