//! End to end: the real `rex tui` binary in a real pseudo-terminal (tmux) against a real
//! `docker-registry` (rex-tests' shared anonymous registry with the standard fixtures).
//! Each test has its own tmux server (`-L <unique socket>`), killed at the end.
//!
//! The `rex` binary is built once per test process with the same cargo, target dir and
//! profile as this test (`cargo build -p rex-cli`), so the test never runs a stale binary.

use rex_tests::cli::{rex_command, RexHome};
use rex_tests::registry::TestRegistry;
use rex_tests::tmux::{env_exports, shell_quote, Pane};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `<target>/<profile>` of this test executable.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let mut dir = exe.parent().expect("deps dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

fn rex_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let profile = profile_dir();
        let target = profile.parent().expect("target dir").to_path_buf();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(&root)
            .args(["build", "-p", "rex-cli", "--bin", "rex"])
            .env("CARGO_TARGET_DIR", &target);
        if profile.file_name().is_some_and(|p| p == "release") {
            cmd.arg("--release");
        }
        let out = cmd.output().expect("run cargo build");
        assert!(
            out.status.success(),
            "building rex failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile.join("rex")
    })
}

/// One tmux pane running `rex tui` from a shell script, so that after rex exits the shell
/// prints a marker and stays (the pane then shows the restored screen).
struct Tmux {
    pane: Pane,
    home: RexHome,
}

impl std::ops::Deref for Tmux {
    type Target = Pane;
    fn deref(&self) -> &Pane {
        &self.pane
    }
}

impl Tmux {
    fn start(reg: &TestRegistry, name: &str) -> Tmux {
        Self::start_with_env(reg, name, &[])
    }

    /// As [`Tmux::start`], with extra variables exported for rex.
    fn start_with_env(reg: &TestRegistry, name: &str, extra: &[(&str, &str)]) -> Tmux {
        let home = RexHome::new();
        // The isolated environment rex-tests uses for the CLI, as shell exports.
        let mut script = String::from("#!/bin/sh\n");
        script += &env_exports(&rex_command(rex_bin(), &home));
        for (k, v) in extra {
            script += &format!("export {k}={}\n", shell_quote(v));
        }
        script += &format!(
            "{} --registry {} tui\necho \"REX-EXIT=$?\"\n\
             s=$(stty -a); case \"$s\" in *-icanon*|*' -echo '*) echo TTY=raw;; \
             *) echo TTY=cooked;; esac\nexec sleep 600\n",
            shell_quote(&rex_bin().to_string_lossy()),
            shell_quote(&reg.host_port()),
        );
        let path = home.root().join("run-tui.sh");
        std::fs::write(&path, script).unwrap();
        let socket = format!("rex-tui-e2e-{}-{name}", std::process::id());
        Tmux {
            pane: Pane::start(&socket, 120, 35, &path),
            home,
        }
    }

    fn alternate_on(&self) -> bool {
        self.format("#{alternate_on}") == "1"
    }

    /// The pid of the `rex` process the pane's shell runs.
    fn rex_pid(&self) -> u32 {
        let shell = self.format("#{pane_pid}");
        let shell = shell.as_str();
        let children =
            std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
        let pids: Vec<u32> = children
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(pids.len(), 1, "the shell runs only rex: {pids:?}");
        pids[0]
    }

    fn cursor_visible(&self) -> bool {
        self.format("#{cursor_flag}") == "1"
    }

    /// After rex exits: the shell's marker is on a normal (not alternate) screen with no
    /// TUI left on it.
    fn assert_restored(&self) {
        self.assert_restored_after("REX-EXIT=0");
    }

    /// [`Tmux::assert_restored`] for an exit that prints `marker` (`REX-EXIT=<code>`).
    fn assert_restored_after(&self, marker: &str) -> String {
        let s = self.wait_for("rex to exit", |s| s.contains("REX-EXIT="));
        assert!(s.contains(marker), "expected {marker}:\n{s}");
        assert!(!self.alternate_on(), "still on the alternate screen:\n{s}");
        assert!(self.cursor_visible(), "the cursor is still hidden:\n{s}");
        assert!(
            !s.contains("? help") && !s.contains("rex/oci-image"),
            "TUI left on screen:\n{s}"
        );
        // Raw mode is off again: canonical input and echo, as the shell left them.
        let s = self.wait_for("the tty mode", |s| s.contains("TTY="));
        assert!(s.contains("TTY=cooked"), "terminal left in raw mode:\n{s}");
        s
    }
}

#[test]
fn filter_open_repo_and_tag_then_quit_with_q() {
    let shared = TestRegistry::shared("anonymous");
    let t = Tmux::start(shared, "q");
    let s = t.wait_for("the repository list", |s| {
        s.contains("rex/oci-image") && s.contains("library/alpine")
    });
    assert!(t.alternate_on(), "the TUI uses the alternate screen:\n{s}");

    t.type_text("/");
    t.type_text("oci-image");
    let s = t.wait_for("the filter to apply", |s| !s.contains("library/alpine"));
    assert!(s.contains("rex/oci-image"), "{s}");

    t.keys(&["Enter"]);
    let s = t.wait_for("the tags of rex/oci-image", |s| {
        s.contains("1.0.1") && s.contains("stable") && s.contains("latest")
    });
    assert!(
        s.contains("rex/oci-image"),
        "the header names the repo:\n{s}"
    );

    t.type_text("/");
    t.type_text("stable");
    t.keys(&["Enter"]);
    let digest = shared.fixtures.oci_image.digest.to_string();
    let hex = &digest["sha256:".len().."sha256:".len() + 12];
    let s = t.wait_for("the image of rex/oci-image:stable", |s| {
        s.contains(hex) && !s.contains("loading")
    });
    assert!(s.contains("stable"), "{s}");

    t.type_text("q");
    t.assert_restored();
    let log = t.home.state_home().join("rex").join("rex.log");
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !log.is_empty(),
        "the TUI logs to $XDG_STATE_HOME/rex/rex.log"
    );
}

/// `y` copies through OSC 52: with tmux accepting the sequence from applications
/// (`set-clipboard on`), what rex wrote lands in tmux's paste buffer. On the image screen
/// it is the pinned reference, `registry/repo@digest`.
#[test]
fn y_copies_the_image_reference_through_osc_52() {
    let shared = TestRegistry::shared("anonymous");
    let t = Tmux::start(shared, "osc52");
    t.tmux(&["set-option", "-s", "set-clipboard", "on"]);
    t.wait_for("the repository list", |s| s.contains("rex/oci-image"));
    t.type_text("/");
    t.type_text("oci-image");
    t.keys(&["Enter"]);
    t.wait_for("the tags of rex/oci-image", |s| s.contains("stable"));
    t.type_text("/");
    t.type_text("stable");
    t.keys(&["Enter"]);
    let digest = shared.fixtures.oci_image.digest.to_string();
    let short = &digest["sha256:".len().."sha256:".len() + 12];
    t.wait_for("the image", |s| s.contains(short) && !s.contains("loading"));
    let want = format!("{}/rex/oci-image@{digest}", shared.host_port());
    let buffer = || {
        let out = std::process::Command::new("tmux")
            .args(["-L", t.socket(), "show-buffer"])
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Up to three presses, 3 s apart: one run in many saw "Copied" but no buffer (a tmux
    // start-up race, it seems); a copy that never works still fails.
    let mut s = String::new();
    for _ in 0..3 {
        t.type_text("y");
        s = t.wait_for("the copy confirmation", |s| s.contains("Copied"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while !buffer().contains(&want) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if buffer().contains(&want) {
            break;
        }
    }
    let buffer = buffer();
    assert_eq!(
        buffer.trim(),
        want,
        "tmux's buffer after y; buffers: {}; options: {}; screen:\n{s}",
        t.tmux(&["list-buffers"]),
        t.tmux(&["show-options", "-s"])
    );
    t.type_text("q");
    t.assert_restored();
}

#[test]
fn ctrl_c_exits_cleanly_from_a_nested_screen() {
    let shared = TestRegistry::shared("anonymous");
    let t = Tmux::start(shared, "ctrlc");
    t.wait_for("the repository list", |s| s.contains("library/alpine"));
    t.type_text("/");
    t.type_text("alpine");
    t.keys(&["Enter"]);
    t.wait_for("the tags of library/alpine", |s| {
        s.contains("3.19") && s.contains("3.20")
    });
    t.keys(&["C-c"]);
    t.assert_restored();
}

#[test]
fn refuses_without_a_terminal() {
    let home = RexHome::new();
    let out = rex_command(rex_bin(), &home)
        .arg("tui")
        .output()
        .expect("run rex");
    assert_eq!(out.status.code(), Some(2), "usage error exit code");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("interactive terminal"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn external_sigint_restores_the_terminal() {
    let shared = TestRegistry::shared("anonymous");
    let t = Tmux::start(shared, "sigint");
    t.wait_for("the repository list", |s| s.contains("library/alpine"));
    t.type_text("/");
    t.type_text("alpine");
    t.wait_for("the filter to apply", |s| !s.contains("rex/oci-image"));
    assert!(t.alternate_on());
    // From outside the terminal, as `kill -INT` from another shell.
    let pid = t.rex_pid();
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    t.assert_restored_after("REX-EXIT=130");
}

/// Needs the debug-build-only `REX_TUI_TEST_PANIC` hook (rex-tui's event loop panics on
/// the first key when it is set; compiled out of release builds), so it is skipped there.
#[test]
fn a_panic_on_the_ui_thread_restores_the_terminal() {
    if profile_dir().file_name().is_some_and(|p| p == "release") {
        return;
    }
    let shared = TestRegistry::shared("anonymous");
    let t = Tmux::start_with_env(shared, "panic", &[("REX_TUI_TEST_PANIC", "1")]);
    t.wait_for("the repository list", |s| s.contains("library/alpine"));
    assert!(t.alternate_on());
    t.type_text("j");
    let s = t.assert_restored_after("REX-EXIT=");
    assert!(!s.contains("REX-EXIT=0"), "a panic is a failure exit:\n{s}");
    // The panic message is readable on the restored screen (the hook restores first).
    assert!(s.contains("REX_TUI_TEST_PANIC"), "{s}");
}
