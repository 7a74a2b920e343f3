//! Distribution as the release workflow and the GitHub Action do it: the
//! binary these tests use, packaged by scripts/dist.sh into a folder shaped
//! like a release download, installed from there by scripts/install.sh.

use crate::common::example_copy;
use serde_yaml::Value;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_policy-site");
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script(name: &str, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repository().join("scripts").join(name))
        .args(args)
        .env_remove("GITHUB_ACTION_PATH")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap_or_else(|e| panic!("bash scripts/{name}: {e}"))
}

/// The standard output of a command that must succeed (`what` names it).
fn succeeded(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The target install.sh picks on this machine, for which the release is made.
fn host_target() -> String {
    succeeded(
        "scripts/install.sh",
        script("install.sh", &["--print-target"]),
    )
    .trim()
    .to_string()
}

/// A release download holding this binary's archive for the host and its SHA256SUMS.
fn release(dir: &Path, target: &str) -> PathBuf {
    let out = script(
        "dist.sh",
        &[BIN, VERSION, target, dir.to_str().expect("UTF-8 path")],
    );
    PathBuf::from(succeeded("scripts/dist.sh", out).trim())
}

fn sha256_hex(path: &Path) -> String {
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn install(base_url: &str, target: &str, dir: &Path) -> Output {
    script(
        "install.sh",
        &[
            "--base-url",
            base_url,
            "--version",
            VERSION,
            "--target",
            target,
            "--dir",
            dir.to_str().expect("UTF-8 path"),
        ],
    )
}

#[test]
fn a_packaged_release_installs_from_a_file_url_and_builds_the_example() {
    let target = host_target();
    let download = tempfile::tempdir().unwrap();
    let archive = release(download.path(), &target);
    let name = format!("policy-site-{VERSION}-{target}.tar.gz");
    assert_eq!(archive, download.path().join(&name));

    let sums = std::fs::read_to_string(download.path().join("SHA256SUMS")).unwrap();
    assert_eq!(sums, format!("{}  {name}\n", sha256_hex(&archive)));
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    let folder = name.trim_end_matches(".tar.gz");
    for file in [
        "policy-site",
        "README.md",
        "CHANGELOG.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
    ] {
        assert!(
            listing.lines().any(|l| l == format!("{folder}/{file}")),
            "{file} missing from the archive:\n{listing}"
        );
    }

    let bin = tempfile::tempdir().unwrap();
    let base_url = format!("file://{}", download.path().display());
    succeeded(
        "scripts/install.sh",
        install(&base_url, &target, bin.path()),
    );
    let installed = bin.path().join("policy-site");
    let version = Command::new(&installed).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("policy-site {VERSION}")
    );

    let site = example_copy();
    let build = Command::new(&installed)
        .args(["build", "--quiet"])
        .current_dir(site.root())
        .output()
        .unwrap();
    succeeded("the installed policy-site build", build);
    assert!(site.read("en/privacy/index.html").contains("Iconnek"));
}

#[test]
fn a_windows_release_is_a_zip_that_installs_policy_site_exe() {
    let target = "x86_64-pc-windows-msvc";
    let download = tempfile::tempdir().unwrap();
    let archive = release(download.path(), target);
    assert_eq!(
        archive.file_name().unwrap(),
        format!("policy-site-{VERSION}-{target}.zip").as_str()
    );
    let bin = tempfile::tempdir().unwrap();
    succeeded(
        "scripts/install.sh",
        install(download.path().to_str().unwrap(), target, bin.path()),
    );
    let installed = std::fs::read(bin.path().join("policy-site.exe")).unwrap();
    assert!(installed == std::fs::read(BIN).unwrap());
}

#[test]
fn install_refuses_an_archive_that_does_not_match_sha256sums() {
    let target = host_target();
    let download = tempfile::tempdir().unwrap();
    let archive = release(download.path(), &target);
    // A well-formed archive of the same name holding another program.
    let elsewhere = tempfile::tempdir().unwrap();
    let other = repository().join("scripts/install.sh");
    let out = script(
        "dist.sh",
        &[
            other.to_str().unwrap(),
            VERSION,
            &target,
            elsewhere.path().to_str().unwrap(),
        ],
    );
    std::fs::copy(succeeded("scripts/dist.sh", out).trim(), &archive).unwrap();

    let bin = tempfile::tempdir().unwrap();
    let out = install(download.path().to_str().unwrap(), &target, bin.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a tampered archive was installed");
    assert!(
        stderr.contains("checksum mismatch for policy-site-")
            && stderr.contains("refusing to install"),
        "{stderr}"
    );
    assert!(!bin.path().join("policy-site").exists());
}

#[test]
fn the_container_health_check_passes_while_receive_answers_and_fails_after() {
    let folder = tempfile::tempdir().unwrap();
    let mut receive = Command::new(BIN)
        .args(["receive", "--port", "0", "--db", "receipts.sqlite"])
        .current_dir(folder.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(receive.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let port = banner
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no port in {banner:?}"))
        .to_string();
    let up = script("healthcheck.sh", &[&port]);
    receive.kill().unwrap();
    receive.wait().unwrap();
    succeeded("scripts/healthcheck.sh while receive runs", up);
    assert!(!script("healthcheck.sh", &[&port]).status.success());
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(repository().join(path)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `uses:` and `run:` of a job's or an action's steps.
fn steps(steps: &Value) -> (Vec<String>, Vec<String>) {
    let each = |key: &str| {
        steps
            .as_sequence()
            .expect("a list of steps")
            .iter()
            .filter_map(|step| step[key].as_str().map(str::to_string))
            .collect()
    };
    (each("uses"), each("run"))
}

#[test]
fn the_action_takes_a_version_and_installs_through_install_sh_with_a_cache() {
    let action = yaml("action.yml");
    for input in ["version", "from-source"] {
        assert!(
            action["inputs"][input]["description"].is_string(),
            "input {input}"
        );
    }
    assert_eq!(action["runs"]["using"], "composite");
    let (uses, runs) = steps(&action["runs"]["steps"]);
    assert!(uses.iter().any(|u| u.starts_with("actions/cache@")));
    assert!(runs.iter().any(|r| r.contains("scripts/install.sh")));
    assert!(runs.iter().any(|r| r.contains("GITHUB_PATH")));
}

#[test]
fn the_action_is_tried_on_github_from_a_release_folder_then_from_the_cache() {
    let workflow = yaml(".github/workflows/install-action.yml");
    for job in ["from-a-folder", "from-the-cache"] {
        let steps = workflow["jobs"][job]["steps"].as_sequence().unwrap();
        let action = steps
            .iter()
            .find(|step| step["uses"] == "./")
            .unwrap_or_else(|| panic!("{job} does not use the action"));
        for input in ["version", "base-url"] {
            assert!(action["with"][input].is_string(), "{job}: {input}");
            assert!(
                yaml("action.yml")["inputs"][input].is_mapping(),
                "{input} is no input of the action"
            );
        }
    }
}

#[test]
fn the_release_workflow_packages_five_targets_with_dist_sh_and_attests_them() {
    let release = yaml(".github/workflows/release.yml");
    assert_eq!(release["on"]["push"]["tags"][0], "v*");
    let build = &release["jobs"]["build"];
    let targets: Vec<&str> = build["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["target"].as_str())
        .collect();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc"
        ]
    );
    let (_, runs) = steps(&build["steps"]);
    assert!(runs.iter().any(|r| r.contains("scripts/dist.sh")));
    let (uses, runs) = steps(&release["jobs"]["release"]["steps"]);
    assert!(uses
        .iter()
        .any(|u| u.starts_with("actions/attest-build-provenance@")));
    assert!(runs.iter().any(|r| r.contains("gh release create")));
}

#[test]
fn publish_installs_policy_site_through_the_action_and_builds_the_manual() {
    let publish = yaml(".github/workflows/publish.yml");
    for job in ["check", "publish"] {
        let (uses, runs) = steps(&publish["jobs"][job]["steps"]);
        assert_eq!(uses.iter().filter(|u| *u == "./").count(), 1, "{job}");
        assert!(!runs.iter().any(|r| r.contains("cargo install")), "{job}");
        assert!(
            runs.iter()
                .any(|r| r.contains("mdbook build docs") && r.contains("public/manual")),
            "{job}"
        );
    }
}

#[test]
fn cargo_binstall_metadata_names_the_archives_dist_sh_writes() {
    let manifest = std::fs::read_to_string(repository().join("Cargo.toml")).unwrap();
    let urls: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("pkg-url = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    let expand = |template: &str, target: &str| {
        template
            .replace("{ repo }", "https://github.com/o/policy-site")
            .replace("{ name }", "policy-site")
            .replace("{ version }", VERSION)
            .replace("{ target }", target)
    };
    let at = format!("https://github.com/o/policy-site/releases/download/v{VERSION}/");
    assert_eq!(
        urls.iter()
            .map(|u| expand(u, "x86_64-pc-windows-msvc"))
            .collect::<Vec<_>>(),
        [
            format!("{at}policy-site-{VERSION}-x86_64-pc-windows-msvc.tar.gz"),
            format!("{at}policy-site-{VERSION}-x86_64-pc-windows-msvc.zip"),
        ],
        "the default, then the Windows override"
    );
    let download = tempfile::tempdir().unwrap();
    for target in ["x86_64-unknown-linux-musl", "x86_64-pc-windows-msvc"] {
        let archive = release(download.path(), target);
        let url = expand(urls[usize::from(target.contains("windows"))], target);
        assert_eq!(
            url.rsplit('/').next(),
            archive.file_name().and_then(|n| n.to_str())
        );
    }
}
