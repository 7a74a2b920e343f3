//! The authoring loop (issue 6): `check` on one fixture site per check,
//! `revise`, `init`, and `serve` run for real as a child process (the
//! receiver's own tests are in `tests/receive.rs`).

use policy_site::build::Options;
use policy_site::check::{self, Format};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_policy-site");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/check")
        .join(name)
}

fn options(root: &Path) -> Options {
    Options {
        root: root.to_path_buf(),
        ..Default::default()
    }
}

/// Each finding as `file:line: message`.
fn findings(root: &Path) -> Vec<String> {
    check::check(&options(root))
        .0
        .iter()
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect()
}

/// A copy of a folder in a temporary one, to edit freely.
fn copy_of(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(from).unwrap();
        let top = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        if matches!(
            top.as_deref(),
            Some("target" | "public" | ".git" | "tests" | "src" | "benches")
        ) {
            continue;
        }
        let to = dir.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    dir
}

// ---------------------------------------------------------------- check

#[test]
fn check_passes_on_the_bundled_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(findings(root), Vec::<String>::new());
}

#[test]
fn check_passes_on_the_clean_fixture() {
    assert_eq!(findings(&fixture("clean")), Vec::<String>::new());
}

#[test]
fn check_finds_references_to_missing_sections_and_the_wrong_direction() {
    assert_eq!(
        findings(&fixture("cross-references")),
        [
            "content/terms/2025-01-01/en/02-data.md:5: \"Section 1 below\" points below, but section 01 (\"Scope\") comes before this one",
            "content/terms/2025-01-01/en/02-data.md:6: \"Section 3\" refers to section 03, which this version does not have (its sections are 01 to 02)",
        ]
    );
}

#[test]
fn check_finds_a_translation_made_from_an_older_source() {
    assert_eq!(
        findings(&fixture("translations")),
        ["content/terms/2025-01-01/fr/02-donnees.md:3: stale translation: the en text of section 02 (02-data.md) has changed since this translation was made"]
    );
}

#[test]
fn check_finds_a_published_version_that_changed() {
    assert_eq!(
        findings(&fixture("lock")),
        ["content/terms/2025-01-01/version.yaml:1: the published version 2025-01-01 of `terms` has been changed since it was published"]
    );
}

#[test]
fn check_finds_a_material_change_with_too_little_notice() {
    assert_eq!(
        findings(&fixture("dates")),
        ["content/terms/2025-06-01/version.yaml:2: version 2025-06-01 is a material change but takes effect 10 days after publication; the notice period is 30 days"]
    );
}

#[test]
fn check_finds_dangling_text() {
    assert_eq!(
        findings(&fixture("dangling-text")),
        [
            "content/terms/2025-01-01/en/02-data.md:7: this paragraph ends on a colon, but nothing follows it",
            "content/terms/2025-01-01/en/02-data.md:9: `TODO` is left in the text",
            "content/terms/2025-01-01/en/02-data.md:9: this email link has no address (`mailto:` is empty)",
            "content/terms/2025-01-01/en/02-data.md:12: this list item repeats, word for word, the one at content/terms/2025-01-01/en/02-data.md:11",
            "content/terms/2025-01-01/en/02-data.md:14: this paragraph stops in mid-sentence, on \"to\"",
        ]
    );
}

#[test]
fn check_finds_rights_without_forms_and_forms_without_rights() {
    assert_eq!(
        findings(&fixture("rights-and-forms")),
        [
            "content/terms/2025-01-01/en/02-data.md:8: the text names the right to erasure (`erasure`), but this section has no form for it",
            "content/terms/2025-01-01/en/02-data.md:12: the form for the right to data portability (`portability`) is not announced: no passage of this section names that right",
        ]
    );
}

#[test]
fn check_finds_links_and_anchors_that_lead_nowhere() {
    assert_eq!(
        findings(&fixture("links")),
        [
            "content/terms/2025-01-01/en/01-scope.md:6: the link `#retention` leads nowhere: there is no anchor `#retention` on the page it points to",
            "content/terms/2025-01-01/en/01-scope.md:6: the link `/en/terms/1999-01-01/` leads nowhere: there is no page `en/terms/1999-01-01/index.html` in the site",
        ]
    );
}

#[test]
fn check_speaks_github_annotations_and_json_and_fails() {
    let run = |format: &str| {
        Command::new(BIN)
            .args(["check", "--format", format, "--root"])
            .arg(fixture("dates"))
            .output()
            .unwrap()
    };
    let github = run("github");
    assert!(!github.status.success());
    assert_eq!(
        String::from_utf8_lossy(&github.stdout).lines().next().unwrap(),
        "::error file=content/terms/2025-06-01/version.yaml,line=2::version 2025-06-01 is a material change but takes effect 10 days after publication; the notice period is 30 days (hint: set `effective:` in version.yaml to a date at least 30 days after 2025-06-01, or set `material: false` if readers' rights and obligations do not change)"
    );
    let json: serde_json::Value = serde_json::from_slice(&run("json").stdout).unwrap();
    assert_eq!(json[0]["file"], "content/terms/2025-06-01/version.yaml");
    assert_eq!(json[0]["line"], 2);
    let human = Command::new(BIN)
        .args(["check", "--root"])
        .arg(fixture("clean"))
        .output()
        .unwrap();
    assert!(human.status.success());
}

#[test]
fn a_build_error_is_a_check_finding() {
    let site = copy_of(&fixture("clean"));
    std::fs::write(
        site.path().join("content/terms/2025-01-01/en/02-data.md"),
        "---\ntitle: Data\n---\n\n[x](policy-site:form/nope)\n",
    )
    .unwrap();
    let found = findings(site.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("content/terms/2025-01-01/en/02-data.md:5: unknown right `nope`"),
        "{found:?}"
    );
}

#[test]
fn format_names_are_parsed() {
    assert_eq!("github".parse::<Format>(), Ok(Format::Github));
    assert!("xml".parse::<Format>().is_err());
}

#[test]
fn translated_records_the_source_and_clears_the_stale_finding() {
    let site = copy_of(&fixture("translations"));
    let status = Command::new(BIN)
        .args(["translated", "terms", "--lang", "fr", "--root"])
        .arg(site.path())
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    assert_eq!(findings(site.path()), Vec::<String>::new());
}

#[test]
fn lock_records_new_versions_only_and_then_catches_a_change() {
    let site = copy_of(&fixture("clean"));
    let lock = || {
        Command::new(BIN)
            .args(["lock", "--root"])
            .arg(site.path())
            .output()
            .unwrap()
    };
    assert!(String::from_utf8_lossy(&lock().stdout).contains("locked terms 2025-01-01"));
    assert!(String::from_utf8_lossy(&lock().stdout).contains("already records every version"));
    assert_eq!(findings(site.path()), Vec::<String>::new());
    let file = site.path().join("content/terms/2025-01-01/en/02-data.md");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("one year", "two years");
    std::fs::write(&file, text).unwrap();
    let found = findings(site.path());
    assert!(
        found
            .iter()
            .any(|f| f.contains("has been changed since it was published")),
        "{found:?}"
    );
}

// ---------------------------------------------------------------- revise, init

#[test]
fn revise_copies_the_latest_version_and_the_site_still_checks_clean() {
    let site = copy_of(&fixture("clean"));
    let revise = |date: &str| {
        Command::new(BIN)
            .args(["revise", "terms", "--date", date, "--root"])
            .arg(site.path())
            .output()
            .unwrap()
    };
    let refused = revise("2025-01-01");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("must be dated after the latest one (2025-01-01)"));
    assert!(revise("2025-02-01").status.success());
    let new = site.path().join("content/terms/2025-02-01");
    assert!(new.join("en/01-scope.md").is_file() && new.join("fr/02-donnees.md").is_file());
    let yaml = std::fs::read_to_string(new.join("version.yaml")).unwrap();
    assert!(
        yaml.contains("summary:") && yaml.contains("material: false"),
        "{yaml}"
    );
    assert_eq!(findings(site.path()), Vec::<String>::new());
}

#[test]
fn init_scaffolds_a_site_that_builds_and_checks_clean_and_refuses_a_full_folder() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("legal");
    let init = || {
        Command::new(BIN)
            .args(["init", "--date", "2026-01-15"])
            .arg(&site)
            .output()
            .unwrap()
    };
    assert!(init().status.success());
    for n in 1..=10 {
        let found = std::fs::read_dir(site.join("content/privacy/2026-01-15/en"))
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{n:02}-"))
            });
        assert!(found, "section {n:02} missing");
    }
    assert!(site.join("README.md").is_file());
    assert_eq!(findings(&site), Vec::<String>::new());
    let out = dir.path().join("out");
    assert!(policy_site::build::build(&Options {
        out: Some(out.clone()),
        ..options(&site)
    })
    .is_ok());
    assert!(out.join("en/privacy/index.html").is_file());
    let again = init();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("this folder is not empty"));
}

// ---------------------------------------------------------------- serve

const REQUEST: &str = r#"{"schema":"rights-request.v1","request_id":"4f1c2d3e-0000-4000-8000-000000000001","right":"access","policy":"privacy","version":"2025-01-30","lang":"en","submitted_at":"2025-02-01T10:00:00Z","fields":{"name":"Ana Lima","email":"ana@example.org"},"website":""}"#;

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and waits (bounded) for the stdout line starting with
/// `ready`; returns the process and that line.
fn start(args: &[&str], root: &Path, ready: &str) -> (Running, String) {
    let mut command = Command::new(BIN);
    command.args(args).arg("--root").arg(root);
    start_command(command, root, ready)
}

/// As a lawyer runs it: in the site's folder, without `--root`.
fn start_here(args: &[&str], root: &Path, ready: &str) -> (Running, String) {
    let mut command = Command::new(BIN);
    command.args(args);
    start_command(command, root, ready)
}

fn start_command(mut command: Command, root: &Path, ready: &str) -> (Running, String) {
    let mut child = command
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading after the ready line, so the child never writes into a closed pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("the server did not start in time");
        if line.starts_with(ready) {
            return (running, line);
        }
    }
}

fn port_in(line: &str) -> u16 {
    let after = line.split("127.0.0.1:").nth(1).unwrap();
    after
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// One HTTP exchange; returns the whole answer as text.
fn exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The event stream of a running `serve`, read with bounded waits.
struct Events {
    stream: TcpStream,
    seen: String,
}

impl Events {
    fn open(port: u16) -> Events {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        stream
            .write_all(b"GET /__policy-site/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
            .unwrap();
        let mut events = Events {
            stream,
            seen: String::new(),
        };
        events.next("hello");
        events
    }

    /// The data of the next event named `name`, skipping others.
    fn next(&mut self, name: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let marker = format!("event: {name}\ndata: ");
        loop {
            if let Some(at) = self.seen.find(&marker) {
                let rest = &self.seen[at + marker.len()..];
                if let Some(end) = rest.find("\n\n") {
                    let data = rest[..end].to_string();
                    self.seen = rest[end + 2..].to_string();
                    return data;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no `{name}` event in time; got {:?}",
                self.seen
            );
            let mut buf = [0; 4096];
            match self.stream.read(&mut buf) {
                Ok(0) => panic!("the event stream closed"),
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("{e}"),
            }
        }
    }
}

fn get(port: u16, path: &str) -> String {
    exchange(port, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"))
}

#[test]
fn serve_reloads_on_an_edit_shows_a_breaking_edit_and_clears_it_when_fixed() {
    let site = copy_of(&fixture("clean"));
    let (_server, line) = start_here(&["serve", "--port", "0"], site.path(), "Serving on");
    let port = port_in(&line);
    let page = get(port, "/en/terms/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains(r#"<script src="/__policy-site/live.js" defer></script></body>"#));
    assert!(get(port, "/__policy-site/live.js").contains("EventSource"));
    let mut events = Events::open(port);

    let file = site.path().join("content/terms/2025-01-01/en/01-scope.md");
    std::fs::write(
        &file,
        "---\ntitle: Scope\n---\n\nFreshly edited terms, as Section 2 below explains.\n",
    )
    .unwrap();
    events.next("reload");
    assert!(get(port, "/en/terms/").contains("Freshly edited terms"));

    std::fs::write(
        &file,
        "---\ntitle: Scope\n---\n\nBroken.\n\n[x](policy-site:form/nope)\n",
    )
    .unwrap();
    let error = events.next("error");
    assert!(
        error.contains(r#""place":"content/terms/2025-01-01/en/01-scope.md:7""#),
        "{error}"
    );
    assert!(error.contains("unknown right `nope`"), "{error}");
    assert!(
        get(port, "/en/terms/").contains("Freshly edited terms"),
        "the last good site is still served"
    );
    // A tab opened now is told at once.
    assert!(Events::open(port).next("error").contains("01-scope.md:7"));

    std::fs::write(&file, "---\ntitle: Scope\n---\n\nFixed terms.\n").unwrap();
    events.next("reload");
    assert!(get(port, "/en/terms/").contains("Fixed terms."));
    // Editor litter beside a source is not a change.
    std::fs::write(file.with_file_name(".01-scope.md.swp"), "x").unwrap();
    std::fs::write(file.with_file_name("01-scope.md~"), "x").unwrap();
}

#[test]
fn serve_receives_form_posts_itself() {
    let site = copy_of(&fixture("rights-and-forms"));
    let (_server, line) = start(&["serve", "--port", "0"], site.path(), "Serving on");
    let port = port_in(&line);
    let page = get(port, "/en/terms/").replace("&#x2F;", "/");
    assert!(
        page.contains(&format!("http://127.0.0.1:{port}/__policy-site/requests")),
        "forms post to the server"
    );
    let posted = exchange(
        port,
        &format!(
            "POST /__policy-site/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{REQUEST}",
            REQUEST.len()
        ),
    );
    assert!(posted.starts_with("HTTP/1.1 201"), "{posted}");
    // Only its own origin: another page open in the browser can neither
    // read the drafts nor post.
    let foreign = exchange(
        port,
        "GET /en/terms/ HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n",
    );
    assert!(foreign.starts_with("HTTP/1.1 200"), "{foreign}");
    assert!(!foreign
        .to_lowercase()
        .contains("access-control-allow-origin"));
    let own = exchange(
        port,
        &format!("GET /en/terms/ HTTP/1.1\r\nHost: x\r\nOrigin: http://127.0.0.1:{port}\r\n\r\n"),
    );
    assert!(own.to_lowercase().contains(&format!(
        "access-control-allow-origin: http://127.0.0.1:{port}"
    )));
    let forged = exchange(
        port,
        &format!(
            "POST /__policy-site/requests HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{REQUEST}",
            REQUEST.len()
        ),
    );
    assert!(forged.starts_with("HTTP/1.1 403"), "{forged}");
}
