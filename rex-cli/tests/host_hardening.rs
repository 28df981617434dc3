//! Host safety and cache rules through the real `rex` binary: the description cache
//! compares content hashes, symlinked plugins are checked where they really live, and
//! `--fresh` bypasses the registry cache like `--no-cache`.

mod common;

use common::*;
use rex_tests::cli::{rex_command, RexHome};
use rex_tests::{Mode, TestRegistry};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

#[test]
fn same_size_and_mtime_but_new_content_is_described_again() {
    let sb = Sandbox::new();
    let so = sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let first = sb.run(&["-vv", "--help"]).ok();
    assert!(
        first.stderr.contains("described plugin"),
        "{}",
        first.stderr
    );
    assert!(help_commands(&first.stdout).contains(&"acme".to_owned()));

    // Rewrite the bytes in place (same inode, same size), then put the mtime back.
    let before = std::fs::metadata(&so).unwrap();
    let mtime = before.modified().unwrap();
    std::fs::write(&so, vec![0u8; before.len() as usize]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&so)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let after = std::fs::metadata(&so).unwrap();
    assert_eq!(
        (after.len(), after.mtime(), after.mtime_nsec(), after.ino()),
        (
            before.len(),
            before.mtime(),
            before.mtime_nsec(),
            before.ino()
        ),
        "the test must keep size, mtime and inode"
    );
    let second = sb.run(&["-vv", "--help"]).ok();
    assert!(
        second.stderr.contains("described plugin"),
        "changed content must be described again: {}",
        second.stderr
    );
    assert!(
        !help_commands(&second.stdout).contains(&"acme".to_owned()),
        "the stale description was used: {}",
        second.stdout
    );

    // Metadata-only changes (chmod moves the ctime) are settled by the hash: no reload.
    std::fs::set_permissions(&so, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&so, std::fs::Permissions::from_mode(0o644)).unwrap();
    let third = sb.run(&["-vv", "--help"]).ok();
    assert!(
        !third.stderr.contains("described plugin"),
        "same content needs no new description: {}",
        third.stderr
    );
}

#[test]
fn symlink_to_a_library_in_a_world_writable_directory_is_refused() {
    let sb = Sandbox::new();
    let elsewhere = sb.path("shared-libs");
    std::fs::create_dir(&elsewhere).unwrap();
    let real = elsewhere.join("librex_plugin_hello_vendor.so");
    std::fs::copy(hello_vendor_so(), &real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::os::unix::fs::symlink(&real, sb.plugin_dir().join("librex_plugin_hello_vendor.so"))
        .unwrap();

    let r = sb.run(&["--help"]).ok();
    assert!(
        !help_commands(&r.stdout).contains(&"acme".to_owned()),
        "a library others can replace was loaded:\n{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("links to") && r.stderr.contains("shared-libs"),
        "{}",
        r.stderr
    );
    sb.run(&["acme", "echo", "x"]).code(2);

    // The same link into a safe directory is fine.
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = sb.run(&["acme", "echo", "x"]).ok();
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn fresh_flag_revalidates_like_no_cache() {
    let reg = TestRegistry::start(Mode::Anonymous);
    reg.push_standard().expect("push fixtures");
    let home = RexHome::new();
    let image = |extra: &[&str]| {
        let out = rex_command(env!("CARGO_BIN_EXE_rex"), &home)
            .arg("-r")
            .arg(reg.url())
            .args(extra)
            .args(["-f", "json", "image", "rex/oci-image"])
            .env("REX_NO_KEYRING", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let tags = || reg.request_count("GET", "/tags/list");
    image(&[]);
    let warm = tags();
    image(&[]);
    assert_eq!(tags(), warm, "served from the cache");
    image(&["--fresh"]);
    assert_eq!(tags(), warm + 1, "--fresh asks the registry");
    image(&["--no-cache"]);
    assert_eq!(tags(), warm + 2);

    let help = Sandbox::new().run(&["--help"]).ok().stdout;
    assert!(help.contains("--fresh"), "{help}");
}
