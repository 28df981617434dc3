//! Shared helpers for tests that run the real `rex` binary in a sandboxed environment
//! (own HOME and XDG dirs, no inherited REX_* variables) with real plugin libraries.
#![allow(dead_code)]

pub use rex_tests::cli::Run;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn rex_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rex"))
}

/// `<target>/<profile>` of the `rex` under test, e.g. `/work/targets/host/debug`.
pub fn profile_dir() -> PathBuf {
    rex_bin().parent().unwrap().to_owned()
}

pub fn target_dir() -> PathBuf {
    profile_dir().parent().unwrap().to_owned()
}

pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Build the example plugins (once per test binary) with the same cargo, target dir and
/// profile as the `rex` under test, and return their directory.
pub fn plugin_artifacts() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut cmd = Command::new(cargo());
        cmd.current_dir(workspace_root())
            .args([
                "build",
                "-p",
                "rex-plugin-hello-vendor",
                "-p",
                "rex-plugin-bad-api",
                "-p",
                "rex-plugin-acme",
                "-p",
                "rex-plugin-registry-usage",
            ])
            .env("CARGO_TARGET_DIR", target_dir());
        if profile_dir().file_name().is_some_and(|p| p == "release") {
            cmd.arg("--release");
        }
        let out = cmd.output().expect("run cargo");
        assert!(
            out.status.success(),
            "building the example plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir()
    })
}

pub fn hello_vendor_so() -> PathBuf {
    plugin_artifacts().join("librex_plugin_hello_vendor.so")
}

pub fn bad_api_so() -> PathBuf {
    plugin_artifacts().join("librex_plugin_bad_api.so")
}

/// A private HOME with XDG dirs and a plugin directory (`REX_PLUGIN_PATH`).
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub rex: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Self::with_binary(rex_bin())
    }

    pub fn with_binary(rex: PathBuf) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "config", "cache", "data", "state", "plugins"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
            std::fs::set_permissions(dir.path().join(d), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        Sandbox { dir, rex }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn plugin_dir(&self) -> PathBuf {
        self.path("plugins")
    }

    /// `$XDG_DATA_HOME/rex/plugins`, where `rex plugin install` copies to.
    pub fn installed_dir(&self) -> PathBuf {
        self.path("data/rex/plugins")
    }

    /// Copy a library into the plugin directory under `name`, mode 0644.
    pub fn add_plugin(&self, from: &Path, name: &str) -> PathBuf {
        let to = self.plugin_dir().join(name);
        std::fs::copy(from, &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o644)).unwrap();
        to
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.rex);
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("REX_PLUGIN_PATH", self.plugin_dir())
            .env("REX_NO_KEYRING", "1");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd().args(args).output().unwrap())
    }
}

/// The subcommand names listed under "Commands:" in `--help` output.
pub fn help_commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| {
            l.split_whitespace()
                .next()
                .map(|s| s.trim_end_matches(',').to_owned())
        })
        .collect()
}
