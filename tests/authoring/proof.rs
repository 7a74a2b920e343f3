//! Proof anyone can check (issue 21): the publication log `lock` writes,
//! signed and checked with the real `minisign` binary; `verify` on the
//! built example, from a folder and over HTTP, and on tampered copies;
//! `check` on a tampered history; the Open Terms Archive declaration.

use super::BIN;
use crate::common::{copy_tree, example_root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MINISIGN: &str = "minisign";

/// The bundled example with its lock, log and signature, in a temporary folder.
fn signed_example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = example_root();
    for entry in [
        "policy-site.yaml",
        "policy-site.lock",
        "publication-log.json",
        "publication-log.json.minisig",
        "content",
        "templates",
        "static",
    ] {
        copy_tree(&root.join(entry), &dir.path().join(entry));
    }
    dir
}

fn run(args: &[&str], root: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap()
}

fn built(root: &Path) -> PathBuf {
    let out = run(&["build", "--quiet"], root);
    assert!(out.status.success(), "{out:?}");
    root.join("public")
}

fn verify(site: &str, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(["verify", site])
        .args(extra)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// `minisign -V` in `dir`, as a reader would run it.
fn minisign_verifies(dir: &Path) -> bool {
    let out = Command::new(MINISIGN)
        .args([
            "-V",
            "-p",
            "publication-key.pub",
            "-m",
            "publication-log.json",
        ])
        .current_dir(dir)
        .output()
        .expect("minisign is installed by tests/setup.sh");
    out.status.success()
}

/// A new key made by the real minisign, without a password (`-W`), or with one.
fn minisign_key(dir: &Path, password: Option<&str>) -> (PathBuf, String) {
    let (public, secret) = (dir.join("test.pub"), dir.join("test.sec"));
    let mut command = Command::new(MINISIGN);
    command
        .args(["-G", "-f", "-p"])
        .arg(&public)
        .arg("-s")
        .arg(&secret);
    if password.is_none() {
        command.arg("-W");
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("minisign is installed by tests/setup.sh");
    if let Some(password) = password {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{password}\n{password}").unwrap();
    }
    assert!(child.wait().unwrap().success());
    let line = std::fs::read_to_string(&public)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    (secret, line)
}

fn set_public_key(root: &Path, line: &str) {
    let file = root.join("policy-site.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text.find("  public_key: ").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    std::fs::write(
        &file,
        format!("{}  public_key: {line}{}", &text[..start], &text[end..]),
    )
    .unwrap();
}

/// A copy of a built site to tamper with.
fn tampered(public: &Path, change: impl FnOnce(&Path)) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_tree(public, copy.path());
    change(copy.path());
    copy
}

fn edit(file: &Path, change: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, change(text)).unwrap();
}

fn edit_log(dir: &Path, change: impl FnOnce(&mut Vec<serde_json::Value>)) {
    let file = dir.join("publication-log.json");
    let mut log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    change(log["entries"].as_array_mut().unwrap());
    std::fs::write(&file, serde_json::to_string_pretty(&log).unwrap() + "\n").unwrap();
}

/// One word of the policy text of a page changed (inside `data-policy-text`).
fn change_a_word(page: &Path) {
    edit(page, |html| {
        let start = html.find("data-policy-text").unwrap();
        let at = start + html[start..].find("<p>").unwrap() + 3;
        format!("{}{}{}", &html[..at], "Not ", &html[at..])
    });
}

#[test]
fn the_bundled_example_publishes_a_signed_chained_log_that_minisign_and_verify_accept() {
    let site = signed_example();
    let public = built(site.path());
    for file in [
        "publication-log.json",
        "publication-log.json.minisig",
        "publication-key.pub",
        "open-terms-archive.json",
        "schemas/consent-iso27560.json",
    ] {
        assert!(public.join(file).is_file(), "{file} is not published");
    }
    assert_eq!(
        std::fs::read(public.join("publication-log.json")).unwrap(),
        std::fs::read(example_root().join("publication-log.json")).unwrap(),
        "the log is published byte for byte"
    );
    assert!(
        minisign_verifies(&public),
        "the real minisign rejects the published signature"
    );
    let (code, text) = verify(public.to_str().unwrap(), &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("verified 4 entries of the publication log and 8 version pages"),
        "{text}"
    );
    // With the owner's key pinned, and with the history page's link.
    let key = std::fs::read_to_string(public.join("publication-key.pub")).unwrap();
    let (code, text) = verify(
        public.to_str().unwrap(),
        &["--key", key.lines().nth(1).unwrap()],
    );
    assert_eq!(code, Some(0), "{text}");
    let history = std::fs::read_to_string(public.join("en/privacy/history/index.html")).unwrap();
    assert!(
        history.contains("href=\"/en/publication-log/\">Verify this history</a>"),
        "{history}"
    );
    let page = std::fs::read_to_string(public.join("fr/publication-log/index.html")).unwrap();
    assert!(
        page.contains("minisign -V -p publication-key.pub -m publication-log.json"),
        "{page}"
    );
    assert!(page.contains("Journal des publications"));
}

#[test]
fn verify_reads_a_site_over_http_and_fails_with_exit_2_where_there_is_no_log() {
    let site = signed_example();
    let public = built(site.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("/usr/bin/python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
            "--directory",
        ])
        .arg(&public)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the test server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (code, text) = verify(&url, &[]);
    let (missing, missing_text) = verify(&format!("http://127.0.0.1:{port}/en/"), &[]);
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verified 4 entries"), "{text}");
    assert_eq!(missing, Some(2), "{missing_text}");
    assert!(
        missing_text.contains("publishes no publication log"),
        "{missing_text}"
    );
}

#[test]
fn verify_names_what_diverged_in_each_tampered_copy() {
    let site = signed_example();
    let public = built(site.path());
    let cases: Vec<(&str, tempfile::TempDir, &str)> = vec![
        (
            "one word of an old version page",
            tampered(&public, |d| change_a_word(&d.join("en/privacy/2023-06-12/index.html"))),
            "en/privacy/2023-06-12/index.html: error: privacy 2023-06-12 (en): the policy text differs from what the log recorded as published",
        ),
        (
            "a log entry",
            tampered(&public, |d| {
                edit_log(d, |e| e[1]["material"] = (!e[1]["material"].as_bool().unwrap()).into())
            }),
            "entry 2 (privacy 2024-04-02) was changed after it was recorded",
        ),
        (
            "two entries reordered",
            tampered(&public, |d| edit_log(d, |e| e.swap(1, 2))),
            "entry 2 (privacy 2025-01-30) does not follow the entry before it",
        ),
        (
            "the last entry dropped",
            tampered(&public, |d| edit_log(d, |e| { e.pop(); })),
            "api/privacy/versions.json: error: privacy 2025-03-03 is published, but the publication log does not record it",
        ),
        (
            "the signature swapped for another key's",
            tampered(&public, |d| {
                let keys = tempfile::tempdir().unwrap();
                let (secret, _) = minisign_key(keys.path(), None);
                let out = Command::new(MINISIGN)
                    .args(["-S", "-s"])
                    .arg(&secret)
                    .args(["-m", "publication-log.json"])
                    .current_dir(d)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{out:?}");
            }),
            "publication-log.json.minisig: error: the signature does not match publication-log.json",
        ),
        (
            "the signature removed",
            tampered(&public, |d| std::fs::remove_file(d.join("publication-log.json.minisig")).unwrap()),
            "the signature is missing",
        ),
    ];
    for (what, copy, expected) in cases {
        let (code, text) = verify(copy.path().to_str().unwrap(), &[]);
        assert_eq!(code, Some(1), "{what}: {text}");
        assert!(
            text.contains(expected),
            "{what}: expected `{expected}` in\n{text}"
        );
        if what != "the signature removed" && what != "one word of an old version page" {
            assert!(
                !minisign_verifies(copy.path()),
                "{what}: minisign still accepts the log"
            );
        }
    }
    // A site that swaps in its own key is caught by a pinned key.
    let swapped = tampered(&public, |d| {
        let keys = tempfile::tempdir().unwrap();
        let (secret, _) = minisign_key(keys.path(), None);
        std::fs::copy(keys.path().join("test.pub"), d.join("publication-key.pub")).unwrap();
        Command::new(MINISIGN)
            .args(["-S", "-s"])
            .arg(&secret)
            .args(["-m", "publication-log.json"])
            .current_dir(d)
            .output()
            .unwrap();
    });
    let (code, _) = verify(swapped.path().to_str().unwrap(), &[]);
    assert_eq!(code, Some(0), "the site's own key checks its own signature");
    let owner = public.join("publication-key.pub");
    let (code, text) = verify(
        swapped.path().to_str().unwrap(),
        &["--key", owner.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("the site publishes another key than the one given with --key"),
        "{text}"
    );
}

#[test]
fn check_names_a_changed_log_entry_and_a_changed_source_the_lock_no_longer_guards() {
    let site = signed_example();
    edit(&site.path().join("publication-log.json"), |t| {
        t.replacen(
            "\"effective\": \"2023-06-12\"",
            "\"effective\": \"2023-07-01\"",
            1,
        )
    });
    let out = run(&["check"], site.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("publication-log.json:5: error: entry 1 (privacy 2023-06-12) was changed after it was recorded"), "{stderr}");
    assert!(
        stderr.contains(
            "publication-log.json.minisig: error: the signature does not match the publication log"
        ),
        "{stderr}"
    );

    // A source rewritten and locked again as if new: the lock agrees, the
    // log still names the file.
    let site = signed_example();
    let file = site
        .path()
        .join("content/privacy/2023-06-12/en/01-data-collection.md");
    edit(&file, |t| {
        let body = t.rfind("---").unwrap();
        format!("{}{}", &t[..body], t[body..].replacen("the ", "thE ", 1))
    });
    edit(&site.path().join("policy-site.lock"), |t| {
        let start = t.find("  2023-06-12:").unwrap();
        let end = t.find("  2024-04-02:").unwrap();
        format!("{}{}", &t[..start], &t[end..])
    });
    let out = run(&["lock"], site.path());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("locked privacy 2023-06-12"),
        "{out:?}"
    );
    let out = run(&["check"], site.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("content/privacy/2023-06-12/en/01-data-collection.md: error: changed since privacy 2023-06-12 was published: the publication log records another SHA-256 for this file"), "{stderr}");
    assert!(stderr.contains("content/privacy/2023-06-12/en: error: the page `en/privacy/2023-06-12/` no longer shows the words that were published"), "{stderr}");
    // And verify names the page of the site built from it.
    let public = built(site.path());
    let (code, text) = verify(public.to_str().unwrap(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("en/privacy/2023-06-12/index.html: error: privacy 2023-06-12 (en): the policy text differs"), "{text}");
}

#[test]
fn lock_records_a_new_version_and_signs_with_the_key_in_the_environment() {
    let site = signed_example();
    let root = site.path();
    let keys = tempfile::tempdir().unwrap();
    let (secret, line) = minisign_key(keys.path(), None);
    set_public_key(root, &line);
    let out = run(&["revise", "privacy", "--date", "2026-01-15"], root);
    assert!(out.status.success(), "{out:?}");
    // Without the key: recorded, and said to need a signature.
    let out = run(&["lock"], root);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("recorded privacy 2026-01-15 in publication-log.json"));
    assert!(
        stderr.contains("is no longer signed: run `policy-site sign`"),
        "{stderr}"
    );
    let out = run(&["check"], root);
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("the signature does not match the publication log"));
    // The key from a file, then as the variable's contents: both sign.
    for (var, value) in [
        (
            "POLICY_SITE_SIGNING_KEY_FILE",
            secret.to_str().unwrap().to_string(),
        ),
        (
            "POLICY_SITE_SIGNING_KEY",
            std::fs::read_to_string(&secret).unwrap(),
        ),
    ] {
        let out = Command::new(BIN)
            .args(["sign", "--root"])
            .arg(root)
            .env(var, &value)
            .output()
            .unwrap();
        assert!(out.status.success(), "{var}: {out:?}");
        let out = run(&["check"], root);
        assert!(
            out.status.success(),
            "{var}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let public = built(root);
    assert!(minisign_verifies(&public));
    let (code, text) = verify(public.to_str().unwrap(), &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verified 5 entries"), "{text}");
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("publication-log.json")).unwrap())
            .unwrap();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[4]["previous"], entries[3]["hash"]);
    assert_eq!(entries[4]["date"], "2026-01-15");
    // The four entries before were not rewritten.
    let before: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(example_root().join("publication-log.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(&entries[..4], &before["entries"].as_array().unwrap()[..]);
}

#[test]
fn a_key_with_a_password_signs_with_the_password_variable_and_not_without_it() {
    let site = signed_example();
    let root = site.path();
    let keys = tempfile::tempdir().unwrap();
    let (secret, line) = minisign_key(keys.path(), Some("correct horse battery"));
    set_public_key(root, &line);
    let sign = |password: Option<&str>| {
        let mut command = Command::new(BIN);
        command
            .args(["sign", "--root"])
            .arg(root)
            .env("POLICY_SITE_SIGNING_KEY_FILE", &secret)
            .stdin(Stdio::null());
        if let Some(p) = password {
            command.env("POLICY_SITE_SIGNING_KEY_PASSWORD", p);
        }
        command.output().unwrap()
    };
    let out = sign(None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("a key made with a password needs POLICY_SITE_SIGNING_KEY_PASSWORD"),
        "{out:?}"
    );
    assert!(!sign(Some("wrong")).status.success());
    assert!(sign(Some("correct horse battery")).status.success());
    assert!(run(&["check"], root).status.success());
}

#[test]
fn an_unsigned_log_is_still_chained_and_check_says_it_is_not_signed() {
    let site = signed_example();
    let root = site.path();
    edit(&root.join("policy-site.yaml"), |t| {
        let start = t.find("signing:").unwrap();
        let end = start + t[start..].find("\n  public_key").unwrap();
        let end = end + 1 + t[end + 1..].find('\n').unwrap();
        format!("{}{}", &t[..start], &t[end + 1..])
    });
    std::fs::remove_file(root.join("publication-log.json.minisig")).unwrap();
    let out = run(&["check"], root);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("note: the publication log is chained but not signed"),
        "{stderr}"
    );
    let public = built(root);
    assert!(!public.join("publication-key.pub").exists());
    let (code, text) = verify(public.to_str().unwrap(), &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("not signed"), "{text}");
}

#[test]
fn the_open_terms_archive_declaration_selects_the_policy_text_and_check_refuses_an_unknown_type() {
    let site = signed_example();
    let public = built(site.path());
    let declaration: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(public.join("open-terms-archive.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        declaration,
        serde_json::json!({
            "name": "Iconnek",
            "terms": { "Privacy Policy": { "fetch": "https://iconnek.io/en/privacy/", "select": "[data-policy-text]", "remove": "[data-chrome]" } }
        })
    );
    assert!(policy_site::proof::ota::problems(&declaration).is_empty());
    // The page it fetches marks exactly one policy text.
    let page = std::fs::read_to_string(public.join("en/privacy/index.html")).unwrap();
    assert_eq!(page.matches("data-policy-text").count(), 1);
    assert!(page.contains("data-chrome"));

    edit(&site.path().join("content/privacy/policy.yaml"), |t| {
        t.replace("terms_type: Privacy Policy", "terms_type: privacy policies")
    });
    let out = run(&["check"], site.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("content/privacy/policy.yaml:5: error: `privacy policies` is not one of Open Terms Archive's terms types"), "{stderr}");
    assert!(
        stderr.contains("did you mean `Privacy Policy`?"),
        "{stderr}"
    );
}
