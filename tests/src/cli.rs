//! Running the `rex` binary in isolation: a temp HOME and XDG dirs, no `REX_*` or colour
//! variables inherited from the developer's shell, no Docker/Podman credential files.
//!
//! ```no_run
//! let home = rex_tests::cli::RexHome::new();
//! let out = home
//!     .command(rex_tests::cli::rex_bin())
//!     .args(["--version"])
//!     .output()
//!     .expect("run rex");
//! assert!(out.status.success());
//! ```

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An isolated home directory tree; removed on drop.
pub struct RexHome {
    dir: tempfile::TempDir,
}

impl Default for RexHome {
    fn default() -> Self {
        Self::new()
    }
}

impl RexHome {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("rex-home-")
            .tempdir()
            .expect("rex-tests: create temp home");
        let me = Self { dir };
        for d in [
            me.home(),
            me.config_home(),
            me.cache_home(),
            me.data_home(),
            me.state_home(),
            me.runtime_dir(),
            me.home().join(".docker"),
        ] {
            std::fs::create_dir_all(&d).expect("rex-tests: create isolated dirs");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(me.runtime_dir(), std::fs::Permissions::from_mode(0o700));
        }
        me
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }
    pub fn config_home(&self) -> PathBuf {
        self.root().join("config")
    }
    pub fn cache_home(&self) -> PathBuf {
        self.root().join("cache")
    }
    pub fn data_home(&self) -> PathBuf {
        self.root().join("data")
    }
    pub fn state_home(&self) -> PathBuf {
        self.root().join("state")
    }
    pub fn runtime_dir(&self) -> PathBuf {
        self.root().join("runtime")
    }
    /// `$XDG_CONFIG_HOME/rex`.
    pub fn rex_config_dir(&self) -> PathBuf {
        self.config_home().join("rex")
    }
    /// `$XDG_CACHE_HOME/rex`.
    pub fn rex_cache_dir(&self) -> PathBuf {
        self.cache_home().join("rex")
    }

    /// A `Command` for `bin` with this isolation applied.
    pub fn command(&self, bin: impl AsRef<OsStr>) -> Command {
        rex_command(bin, self)
    }
}

/// Variables that must not leak into isolated runs (besides every `REX_*`).
const CLEARED: &[&str] = &[
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "FORCE_COLOR",
    "REGISTRY_AUTH_FILE",
    "DOCKER_CONFIG",
    "DOCKER_AUTH_CONFIG",
    "RUST_LOG",
    "COLUMNS",
    "LINES",
];

/// `bin` with HOME/XDG_* pointing into `home`, `DOCKER_CONFIG` at an empty dir, every
/// `REX_*` and colour variable removed, `TERM=dumb`, and stdin closed.
pub fn rex_command(bin: impl AsRef<OsStr>, home: &RexHome) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("REX_") {
            cmd.env_remove(&key);
        }
    }
    for key in CLEARED {
        cmd.env_remove(key);
    }
    cmd.env("HOME", home.home())
        .env("XDG_CONFIG_HOME", home.config_home())
        .env("XDG_CACHE_HOME", home.cache_home())
        .env("XDG_DATA_HOME", home.data_home())
        .env("XDG_STATE_HOME", home.state_home())
        .env("XDG_RUNTIME_DIR", home.runtime_dir())
        .env("DOCKER_CONFIG", home.home().join(".docker"))
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::null());
    cmd
}

/// Path of the built `rex` binary: `$CARGO_BIN_EXE_rex` when set (rex-cli's own tests),
/// otherwise `rex` next to the running test executable's `deps/` directory. Panics with a
/// build hint when it is not there.
pub fn rex_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CARGO_BIN_EXE_rex") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current test executable");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let candidate = dir.join(format!("rex{}", std::env::consts::EXE_SUFFIX));
    if candidate.is_file() {
        return candidate;
    }
    panic!(
        "rex binary not found at {}; build it first with `cargo build -p rex-cli`",
        candidate.display()
    );
}

/// One finished `rex` run: exit code and both streams, with asserting accessors that
/// show the streams when they fail.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// stdout exactly as written (raw manifests are compared byte for byte).
    pub bytes: Vec<u8>,
}

impl From<std::process::Output> for Run {
    fn from(o: std::process::Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            bytes: o.stdout,
        }
    }
}

impl Run {
    /// Run `cmd` to the end (stdin closed) and collect it.
    pub fn of(cmd: &mut Command) -> Run {
        Run::from(cmd.output().expect("run rex"))
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        self.code(0)
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    #[track_caller]
    pub fn yaml(&self) -> serde_json::Value {
        serde_yaml::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not YAML ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// The non-empty stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().filter(|l| !l.is_empty()).collect()
    }

    /// Neither stream mentions `secret`.
    #[track_caller]
    pub fn no_secret(self, secret: &str) -> Run {
        assert!(
            !self.stdout.contains(secret),
            "secret on stdout:\n{}",
            self.stdout
        );
        assert!(
            !self.stderr.contains(secret),
            "secret on stderr:\n{}",
            self.stderr
        );
        self
    }
}
