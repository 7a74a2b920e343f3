//! The authoring loop (issue 6): `check` on one fixture site per check,
//! `revise`, `init`, and `serve` run for real as a child process (the
//! receiver's own tests are in `tests/receive.rs`).

mod common;
#[path = "authoring/proof.rs"]
mod proof;

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
        .open
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
fn check_finds_a_published_version_that_changed_even_with_a_lock_that_predates_file_records() {
    assert_eq!(
        findings(&fixture("lock")),
        ["content/terms/2025-01-01: the published version 2025-01-01 of `terms` has been changed since it was published"]
    );
}

#[test]
fn check_finds_a_material_change_with_too_little_notice() {
    assert_eq!(
        findings(&fixture("dates")),
        ["content/terms/2025-06-01/version.yaml:2: version 2025-06-01 is a material change but takes effect 10 days after publication; the notice period is 30 days, so it can take effect on 2025-07-01 at the earliest"]
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
        "::error file=content/terms/2025-06-01/version.yaml,line=2::version 2025-06-01 is a material change but takes effect 10 days after publication; the notice period is 30 days, so it can take effect on 2025-07-01 at the earliest (hint: set `effective: 2025-07-01` (or later) in version.yaml, or set `material: false` if readers' rights and obligations do not change)"
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
    // A lock written before files were recorded gains them while unchanged.
    let lock_file = site.path().join("policy-site.lock");
    let written = std::fs::read_to_string(&lock_file).unwrap();
    let sha = written
        .split("sha256: ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    std::fs::write(&lock_file, format!("terms:\n  2025-01-01: {sha}\n")).unwrap();
    assert!(String::from_utf8_lossy(&lock().stdout).contains("already records every version"));
    assert_eq!(std::fs::read_to_string(&lock_file).unwrap(), written);
    let file = site.path().join("content/terms/2025-01-01/en/02-data.md");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("one year", "two years");
    std::fs::write(&file, text).unwrap();
    for (lang, title) in [("en", "Contact"), ("fr", "Contact")] {
        std::fs::write(
            site.path()
                .join(format!("content/terms/2025-01-01/{lang}/03-contact.md")),
            format!("---\ntitle: {title}\n---\nWrite to privacy@example.com.\n"),
        )
        .unwrap();
    }
    assert_eq!(
        findings(site.path()),
        [
            "content/terms/2025-01-01/en/02-data.md: this file has been changed since version 2025-01-01 of `terms` was published",
            "content/terms/2025-01-01/en/03-contact.md: this file has been added since version 2025-01-01 of `terms` was published",
            "content/terms/2025-01-01/fr/03-contact.md: this file has been added since version 2025-01-01 of `terms` was published",
            // An added file is not published history: its findings are open.
            "content/terms/2025-01-01/fr/03-contact.md:2: this translation does not record which text of section 03 it was translated from",
        ]
    );
}

/// Writes `text` at `path` under `root`, making folders as needed.
fn put(root: &Path, path: &str, text: &str) {
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

/// Runs the binary with `--root site`; its status and stdout.
fn run_in(site: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--root")
        .arg(site)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Starts the version `date` of `terms` as a copy of the latest, with summaries.
fn revise_terms(site: &Path, date: &str) {
    assert!(run_in(site, &["revise", "terms", "--date", date]).0);
    put(
        site,
        &format!("content/terms/{date}/version.yaml"),
        "summary: {en: Clearer., fr: Plus clair.}\n",
    );
}

const SCOPE_WITH_LINKS: &str = "---\ntitle: Scope\n---\n\nThese terms apply to the service, as Section 2 below explains.\n\nRead [the history](/en/terms/history/) first.\n\nThen read [the rest](/en/terms/hist).\n";

#[test]
fn a_broken_link_is_placed_at_its_own_line_in_the_version_shown_and_locked_copies_never_fail() {
    let site = copy_of(&fixture("clean"));
    let site = site.path();
    put(
        site,
        "content/terms/2025-01-01/en/01-scope.md",
        SCOPE_WITH_LINKS,
    );
    assert!(run_in(site, &["translated", "terms"]).0);
    assert!(run_in(site, &["lock"]).0);
    revise_terms(site, "2025-02-01");
    // The broken link is a prefix of the working one written two lines above, and
    // the locked 2025-01-01 copy holds the same link: neither takes the blame.
    let found = check::check(&options(site));
    let place = |d: &policy_site::error::Diagnostic| format!("{}: {}", d.location(), d.message);
    let message =
        "the link `/en/terms/hist` leads nowhere: there is no page `en/terms/hist` in the site";
    assert_eq!(
        found.open.0.iter().map(place).collect::<Vec<_>>(),
        [format!(
            "content/terms/2025-02-01/en/01-scope.md:9: {message}"
        )]
    );
    assert_eq!(
        found.locked.0.iter().map(place).collect::<Vec<_>>(),
        [format!(
            "content/terms/2025-01-01/en/01-scope.md:9: {message}"
        )]
    );
    // Fixed in the new version, the check passes; the published copy is listed with --all only.
    put(
        site,
        "content/terms/2025-02-01/en/01-scope.md",
        &SCOPE_WITH_LINKS.replace("(/en/terms/hist)", "(/en/terms/)"),
    );
    assert!(run_in(site, &["translated", "terms"]).0);
    let (ok, text) = run_in(site, &["check"]);
    assert!(ok, "{text}");
    // The same with a relative root, as CI runs it.
    let here = Command::new(BIN)
        .args(["check", "--root"])
        .arg(site.file_name().unwrap())
        .current_dir(site.parent().unwrap())
        .output()
        .unwrap();
    assert!(here.status.success(), "{here:?}");
    assert!(text.contains("No problems found.\n1 more in published versions, which do not fail the check (--all lists them)"), "{text}");
    let (ok, text) = run_in(site, &["check", "--all"]);
    assert!(
        ok && text.contains(&format!(
            "content/terms/2025-01-01/en/01-scope.md:9: error: {message}"
        )),
        "{text}"
    );
    let (ok, json) = run_in(site, &["check", "--all", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(ok);
    assert_eq!(json[0]["locked"], true);
    assert_eq!(json[0]["line"], 9);
    let (_, github) = run_in(site, &["check", "--all", "--format", "github"]);
    assert!(
        github.starts_with("::warning file=content/terms/2025-01-01/en/01-scope.md,line=9::"),
        "{github}"
    );
}

/// The clean fixture in English only on 2025-01-01, with French from its
/// next version, 2025-02-01, on.
fn add_french_on_2025_02_01(site: &Path) {
    std::fs::remove_dir_all(site.join("content/terms/2025-01-01/fr")).unwrap();
    put(
        site,
        "content/terms/2025-01-01/version.yaml",
        "material: true\nsummary: {en: First version.}\n",
    );
    revise_terms(site, "2025-02-01");
    std::fs::create_dir_all(site.join("content/terms/2025-02-01/fr")).unwrap();
    for f in ["01-portee.md", "02-donnees.md"] {
        std::fs::copy(
            fixture("clean").join("content/terms/2025-01-01/fr").join(f),
            site.join("content/terms/2025-02-01/fr").join(f),
        )
        .unwrap();
    }
}

#[test]
fn a_language_can_be_added_from_a_version_on_and_must_then_stay() {
    let site = copy_of(&fixture("clean"));
    let site = site.path();
    add_french_on_2025_02_01(site);
    assert_eq!(findings(site), Vec::<String>::new());
    let out = tempfile::tempdir().unwrap();
    policy_site::build::build(&Options {
        out: Some(out.path().to_path_buf()),
        ..options(site)
    })
    .unwrap();
    let page = |p: &str| std::fs::read_to_string(out.path().join(p)).ok();
    assert!(page("fr/terms/2025-01-01/index.html").is_none());
    assert!(page("fr/terms/2025-02-01/index.html").is_some());
    assert!(page("fr/terms/changes/2025-02-01/index.html").is_none());
    let old = page("en/terms/2025-01-01/index.html").unwrap();
    assert!(
        !old.contains("hreflang=fr") && !old.contains("hreflang=\"fr\""),
        "the switcher offers a French page that does not exist"
    );
    assert!(page("en/terms/2025-02-01/index.html")
        .unwrap()
        .contains("/fr/terms/2025-02-01/"));
    let sitemap = page("sitemap.xml").unwrap();
    assert!(
        !sitemap.contains("/fr/terms/2025-01-01/") && sitemap.contains("/fr/terms/2025-02-01/")
    );
    let versions: serde_json::Value =
        serde_json::from_str(&page("api/terms/versions.json").unwrap()).unwrap();
    let links = &versions["versions"][1]["links"];
    assert!(
        links["en"]["changes"].is_string() && links["fr"]["changes"].is_null(),
        "{links}"
    );
    // A language once offered stays; the newest version has every language.
    revise_terms(site, "2025-03-01");
    std::fs::remove_dir_all(site.join("content/terms/2025-03-01/fr")).unwrap();
    // (The French pages' links to a current French page that is gone are findings too.)
    let found = findings(site);
    assert!(
        found.contains(&"content/terms/2025-03-01/version.yaml: version 2025-03-01 of `terms` has no `fr` translation, but version 2025-02-01 had one: a language, once offered, stays in every later version".to_string()),
        "{found:?}"
    );
    std::fs::remove_dir_all(site.join("content/terms/2025-03-01")).unwrap();
    std::fs::remove_dir_all(site.join("content/terms/2025-02-01/fr")).unwrap();
    assert_eq!(
        findings(site),
        ["content/terms/2025-02-01/version.yaml: the newest version of `terms` (2025-02-01) has no `fr` translation, and `fr` is one of the site's languages"]
    );
}

/// French arrives with a version announced ahead of its effective date: its
/// readers get that version at the policy's address, marked as not yet in
/// effect, with a link to the version in force in English; the English
/// current page does not offer French, and nothing links to a page that is
/// not written.
#[test]
fn a_language_that_only_an_upcoming_version_has_shows_it_marked_as_upcoming() {
    let site = copy_of(&fixture("clean"));
    let site = site.path();
    add_french_on_2025_02_01(site);
    put(
        site,
        "content/terms/2025-02-01/version.yaml",
        "effective: 2025-04-01\nsummary: {en: Clearer., fr: Plus clair.}\n",
    );
    let before = Options {
        date: Some("2025-03-01".parse().unwrap()),
        ..options(site)
    };
    // Every link of the built site leads somewhere (check builds it).
    let found: Vec<String> = check::check(&before)
        .open
        .0
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(found, Vec::<String>::new());
    let out = tempfile::tempdir().unwrap();
    policy_site::build::build(&Options {
        out: Some(out.path().to_path_buf()),
        ..before.clone()
    })
    .unwrap();
    let page = |p: &str| std::fs::read_to_string(out.path().join(p)).unwrap();
    let fr = page("fr/terms/index.html");
    assert!(
        fr.contains("notice-upcoming") && fr.contains("data-version=\"2025-02-01\""),
        "{fr}"
    );
    let notice = &fr[fr.find("notice-upcoming").unwrap()..];
    assert!(
        notice[..notice.find("</p>").unwrap()].contains("href=\"/en/terms/\""),
        "{notice}"
    );
    // Its English counterpart is the same version, not the English current page.
    assert!(
        fr.contains(r#"hreflang="en" href="https://example.com/en/terms/2025-02-01/""#),
        "{fr}"
    );
    let en = page("en/terms/index.html");
    assert!(
        !en.contains("hreflang=\"fr\""),
        "the English current page offers French: {en}"
    );
    assert!(page("fr/index.html").contains("href=\"/fr/terms/\""));
    // Once in effect, French is the current page like any other language.
    let after = Options {
        date: Some("2025-04-01".parse().unwrap()),
        out: Some(out.path().to_path_buf()),
        ..options(site)
    };
    policy_site::build::build(&after).unwrap();
    assert!(!page("fr/terms/index.html").contains("notice-upcoming"));
    assert!(page("en/terms/index.html").contains("hreflang=\"fr\""));
}

/// A file that does not load does not hide the findings of the others: one
/// run lists both, and nothing that only a whole model could judge (the
/// French translation now lacks the section that failed; its source text
/// changed) is taken for a mistake.
#[test]
fn a_load_error_and_a_text_finding_in_another_file_arrive_in_one_run() {
    let site = copy_of(&fixture("clean"));
    let site = site.path();
    put(
        site,
        "content/terms/2025-01-01/en/01-scope.md",
        "---\ntitle: [Scope\n---\n\nThese terms apply.\n",
    );
    put(site, "content/terms/2025-01-01/en/02-data.md", "---\ntitle: Data\n---\n\nWe keep the data for one year.\n\nWe share it with the following processors:\n");
    let found = findings(site);
    let places: Vec<&str> = found
        .iter()
        .map(|f| f.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        places,
        [
            "content/terms/2025-01-01/en/01-scope.md:2",
            "content/terms/2025-01-01/en/02-data.md:7"
        ],
        "{found:?}"
    );
    assert!(
        found[1].ends_with("this paragraph ends on a colon, but nothing follows it"),
        "{found:?}"
    );
}

#[test]
fn a_colon_is_answered_by_more_items_a_heading_or_a_list_after_a_comment() {
    // Also by a list that starts where the item's own list ends, and by an
    // address (short lines).
    let site = copy_of(&fixture("clean"));
    let site = site.path();
    put(site, "content/terms/2025-01-01/en/02-data.md", "---\ntitle: Data\n---\n\nWe keep the data described in Section 1 above for one year.\n\n- First we collect it:\n- then we store it.\n\n1. The last step:\n\n* keep it\n\nWhat follows explains it:\n\n### Storage\n\nIt is stored in Paris.\n\nThe processors are:\n\n<!-- list reviewed by counsel -->\n\n- Hosting Ltd\n\nWrite to us at:\n\nExample Ltd\\\n1 Main Street\n75001 Paris\n\nAnd finally the last one:\n");
    assert!(run_in(site, &["translated", "terms", "--section", "2"]).0);
    assert_eq!(
        findings(site),
        ["content/terms/2025-01-01/en/02-data.md:32: this paragraph ends on a colon, but nothing follows it"]
    );
}

#[test]
fn common_wordings_name_their_rights() {
    let site = copy_of(&fixture("clean"));
    let site = site.path();
    put(site, "content/terms/2025-01-01/en/02-data.md", "---\ntitle: Your rights\nid: your-rights\n---\n\nYou may ask us to erase what we hold.\n\n### Moving\n\nYou may receive it in a machine-readable format.\n\n### Pausing\n\nYou may ask us to limit what we do with it.\n");
    assert!(run_in(site, &["translated", "terms"]).0);
    // The policy has no form: one finding for it, at the first right named,
    // listing the rights in the order the text names them.
    assert_eq!(
        findings(site),
        ["content/terms/2025-01-01/en/02-data.md:6: this policy names the rights of `erasure`, `portability`, `restriction` but none of its versions has a form to exercise them"]
    );
    let (_, text) = run_in(site, &["check"]);
    assert!(text.contains("hint: add a paragraph `[Make a request](policy-site:form/erasure)` after the passage that names each right; or, if requests about this policy go through another channel (an address, a portal), add `requests: elsewhere` to content/terms/policy.yaml"), "{text}");
    // A policy whose requests go elsewhere is not asked for forms.
    let policy = site.join("content/terms/policy.yaml");
    let yaml = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, format!("{yaml}requests: elsewhere\n")).unwrap();
    assert_eq!(findings(site), Vec::<String>::new());
}

#[test]
fn every_problem_is_found_in_one_run_and_a_missing_consent_policy_is_placed() {
    let root = copy_of(Path::new(env!("CARGO_MANIFEST_DIR")));
    let site = root.path();
    let config = std::fs::read_to_string(site.join("policy-site.yaml")).unwrap();
    std::fs::write(
        site.join("policy-site.yaml"),
        config.replace("  policy: privacy", "  policy: privcy"),
    )
    .unwrap();
    assert!(run_in(site, &["revise", "privacy", "--date", "2030-01-01"]).0);
    let found = findings(site);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].starts_with("content/privacy/2030-01-01/version.yaml:4: version 2030-01-01 of `privacy` has no `en` summary"), "{found:?}");
    assert_eq!(
        found[2],
        "policy-site.yaml:22: consent.policy names `privcy`, which is not a policy in content/"
    );
    let (_, text) = run_in(site, &["check"]);
    assert!(
        text.contains("hint: name one of the policies there are: privacy"),
        "{text}"
    );
}

#[test]
fn a_build_error_in_a_published_version_still_fails_the_check() {
    let root = copy_of(Path::new(env!("CARGO_MANIFEST_DIR")));
    let site = root.path();
    let config = std::fs::read_to_string(site.join("policy-site.yaml")).unwrap();
    let without = config.replace("  requests: http://127.0.0.1:8787/requests\n", "");
    assert_ne!(config, without);
    std::fs::write(site.join("policy-site.yaml"), without).unwrap();
    let found = findings(site);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("this section embeds request forms, but they have nowhere to post"),
        "{found:?}"
    );
}

#[test]
fn translated_leaves_out_a_section_that_is_still_the_source_text_unless_named() {
    let site = copy_of(&fixture("translations"));
    let site = site.path();
    let fr = site.join("content/terms/2025-01-01/fr/02-donnees.md");
    std::fs::write(&fr, "---\ntitle: Données\n---\n\nWe keep the data described in Section 1 above for two years.\n").unwrap();
    let en = std::fs::read_to_string(site.join("content/terms/2025-01-01/en/02-data.md")).unwrap();
    std::fs::write(
        &fr,
        format!(
            "---\ntitle: Données\n---\n{}",
            en.splitn(3, "---\n").nth(2).unwrap()
        ),
    )
    .unwrap();
    let (ok, text) = run_in(site, &["translated", "terms", "--lang", "fr"]);
    assert!(ok);
    assert!(text.contains("not recorded: content/terms/2025-01-01/fr/02-donnees.md is still the source text, word for word"), "{text}");
    assert!(!std::fs::read_to_string(&fr)
        .unwrap()
        .contains("translated_from"));
    let (ok, text) = run_in(
        site,
        &["translated", "terms", "--lang", "fr", "--section", "2"],
    );
    assert!(
        ok && text.contains("recorded the source of content/terms/2025-01-01/fr/02-donnees.md"),
        "{text}"
    );
    assert!(std::fs::read_to_string(&fr)
        .unwrap()
        .contains("translated_from"));
}

// ---------------------------------------------------------------- revise, init

#[test]
fn revise_copies_the_latest_version_which_checks_clean_once_summarised() {
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
    assert_eq!(
        findings(site.path()),
        [
            "content/terms/2025-02-01/version.yaml:4: version 2025-02-01 of `terms` has no `en` summary",
            "content/terms/2025-02-01/version.yaml:5: version 2025-02-01 of `terms` has no `fr` summary",
        ]
    );
    let summarised = yaml
        .replace("en: \"\"", "en: Clearer wording.")
        .replace("fr: \"\"", "fr: Formulation plus claire.");
    std::fs::write(new.join("version.yaml"), summarised).unwrap();
    assert_eq!(findings(site.path()), Vec::<String>::new());
}

#[test]
fn init_scaffolds_a_site_that_builds_whose_stubs_are_findings_and_refuses_a_full_folder() {
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
    let found = findings(&site);
    assert_eq!(found.len(), 10, "{found:?}");
    assert_eq!(found[0], "content/privacy/2026-01-15/en/01-information-we-collect.md:4: this section is still the placeholder `policy-site init` wrote");
    let first = site.join("content/privacy/2026-01-15/en/01-information-we-collect.md");
    std::fs::write(&first, "---\ntitle: Information we collect\n---\n\nYour name and email address, when you write to us.\n").unwrap();
    assert_eq!(findings(&site).len(), 9);
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

/// One HTTP exchange; returns the whole answer as text. The request asks
/// the server to close the connection after answering, so reading to the
/// end does not wait for its keep-alive timeout.
fn exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = match request.contains("\r\nConnection:") {
        true => request.to_string(),
        false => request.replacen("\r\n", "\r\nConnection: close\r\n", 1),
    };
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
fn serve_and_build_say_a_policy_has_no_version_left_and_serve_recovers() {
    let site = copy_of(&fixture("clean"));
    let (_server, line) = start_here(&["serve", "--port", "0"], site.path(), "Serving on");
    let port = port_in(&line);
    let mut events = Events::open(port);
    let version = site.path().join("content/terms/2025-01-01");
    let aside = site.path().join("2025-01-01");
    std::fs::rename(&version, &aside).unwrap();
    let error = events.next("error");
    assert!(
        error.contains("this policy has no version folder"),
        "{error}"
    );
    assert!(
        get(port, "/en/terms/").starts_with("HTTP/1.1 200"),
        "the last good site stays"
    );

    let build = Command::new(BIN)
        .args(["build", "--out"])
        .arg(site.path().join("out"))
        .current_dir(site.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert_eq!(build.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("content/terms: error: this policy has no version folder"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    std::fs::rename(&aside, &version).unwrap();
    events.next("reload");
    assert!(get(port, "/en/terms/").starts_with("HTTP/1.1 200"));
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

// ---------------------------------------------------------------- import

/// Runs git in `repo` with fixed names and the given commit date.
fn git(repo: &Path, args: &[&str], date: &str) {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Legal")
        .env("GIT_AUTHOR_EMAIL", "legal@example.com")
        .env("GIT_COMMITTER_NAME", "Legal")
        .env("GIT_COMMITTER_EMAIL", "legal@example.com")
        .env("GIT_AUTHOR_DATE", format!("{date}T12:00:00Z"))
        .env("GIT_COMMITTER_DATE", format!("{date}T12:00:00Z"))
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// The policy as it stands at revision `n` (0-based), in English or French:
/// every revision changes words; some change a link target, emphasis or
/// punctuation; revision 30 renames a heading (its id must survive), 40 adds
/// a section. Sections link to each other by id.
fn policy_text(n: usize, fr: bool) -> String {
    let (title, data, use_, keep, contact) = if fr {
        (
            "Confidentialité",
            "Données collectées",
            "Utilisation",
            "Conservation",
            if n >= 30 { "Nous écrire" } else { "Contact" },
        )
    } else {
        (
            "Privacy",
            "Data we collect",
            "How we use data",
            "Retention",
            if n >= 30 { "Write to us" } else { "Contact" },
        )
    };
    let months = 6 + n % 7;
    let mut text = format!(
        "# {title}\n\nRevision {n} of this text applies to everyone who uses the service.\n\n"
    );
    text.push_str(&format!("## {data}\n\nWe collect your name and email address (revision {n}). Questions go to [our team](#contact).\n\n"));
    let emphasis = if n.is_multiple_of(3) {
        "*only*"
    } else {
        "only"
    };
    text.push_str(&format!("## {use_}\n\nWe use the data {emphasis} to run the service, see [retention](#retention){}\n\n", if n.is_multiple_of(2) { "." } else { "!" }));
    text.push_str(&format!(
        "## {keep}\n\nWe keep data for {months} months and then delete it for good.\n\n"
    ));
    if n >= 40 {
        let extra = if fr { "Sécurité" } else { "Security" };
        text.push_str(&format!(
            "## {extra}\n\nData is encrypted at rest (revision {n}).\n\n"
        ));
    }
    let target = if n.is_multiple_of(4) {
        "https://example.com/contact"
    } else {
        "https://example.com/write"
    };
    text.push_str(&format!("## {contact}\n\nUse [the contact page]({target}) or see [what we collect](#data-we-collect) (revision {n}).\n"));
    text
}

#[test]
fn an_imported_git_history_of_fifty_versions_in_two_languages_locks_and_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("history");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"], "2020-01-01");
    let day =
        |n: usize| policy_site::date::Date::from_unix((18_262 + 7 * n as i64) * 86_400).to_string();
    for n in 0..52 {
        std::fs::write(repo.join("privacy.md"), policy_text(n, false)).unwrap();
        if n >= 20 {
            std::fs::write(repo.join("privacy.fr.md"), policy_text(n, true)).unwrap();
        }
        git(&repo, &["add", "-A"], &day(n));
        git(&repo, &["commit", "-qm", &format!("Revision {n}")], &day(n));
    }
    let site = dir.path().join("site");
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .arg("--root")
            .arg(&site)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let imported = run(&["import", repo.to_str().unwrap()]);
    assert!(
        imported.contains("imported privacy: 52 versions, 2020-01-01 to 2020-12-23"),
        "{imported}"
    );
    let version = |n: usize| site.join(format!("content/privacy/{}", day(n)));
    // French from revision 20 on only; the renamed heading keeps its id.
    assert!(!version(19).join("fr").exists() && version(20).join("fr").is_dir());
    let contact = std::fs::read_to_string(version(51).join("en/05-write-to-us.md")).unwrap();
    assert!(
        contact.starts_with("---\ntitle: \"Write to us\"\nid: contact\n"),
        "{contact}"
    );
    run(&["lock"]);
    let found = check::check(&options(&site));
    let open: Vec<String> = found
        .open
        .0
        .iter()
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect();
    assert_eq!(open, Vec::<String>::new());
    // Nothing hides in the published history either (`check --all`).
    let locked: Vec<String> = found.locked.0.iter().map(|d| d.to_string()).collect();
    assert_eq!(locked, Vec::<String>::new());
    let out = built(&site, &dir.path().join("public"));
    // Links between sections work on every version page, in both languages.
    for lang in ["en", "fr"] {
        let pages = walkdir::WalkDir::new(out.join(lang).join("privacy"))
            .max_depth(1)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("20"));
        let mut count = 0;
        for page in pages {
            assert_eq!(broken_anchors(page.path()), Vec::<String>::new());
            count += 1;
        }
        assert_eq!(count, if lang == "en" { 52 } else { 32 });
        // And on every redline page: sections keep their ids there.
        let redlines = out.join(lang).join("privacy/changes");
        assert_eq!(broken_anchors(&redlines), Vec::<String>::new());
    }
    assert!(out
        .join(format!("fr/privacy/changes/{}/index.html", day(21)))
        .is_file());
    assert!(!out
        .join(format!("fr/privacy/changes/{}/index.html", day(20)))
        .exists());
}

/// A policy file as real archives hold them: a date line before an
/// underlined title, the same list item in two sections on purpose, rights
/// named with no form (requests go by e-mail); the second version cuts a
/// paragraph in two.
fn archived_text(split: bool) -> String {
    let why = if split {
        "We use these details to run your account.\n\nWe also use them to answer your questions."
    } else {
        "We use these details to run your account, and to answer your questions."
    };
    format!(
        "Last updated: 2 March 2021\n\nPrivacy notice\n==============\n\nThis notice explains what we do with personal data.\n\n\
         ## What we collect\n\n- Your name and the e-mail address you gave us when you signed up.\n- The pages you read.\n\n\
         ## Why we collect it\n\n{why}\n\n- Your name and the e-mail address you gave us when you signed up.\n\n\
         ## Your rights\n\nYou may ask for access to your data, or for its erasure, by writing to privacy@example.com.\n"
    )
}

#[test]
fn a_history_from_a_bare_mirror_with_text_before_its_title_builds_locks_and_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("history");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"], "2021-03-02");
    for (split, date) in [(false, "2021-03-02"), (true, "2022-06-15")] {
        std::fs::write(repo.join("privacy.md"), archived_text(split)).unwrap();
        git(&repo, &["add", "-A"], date);
        git(&repo, &["commit", "-qm", "Notice updated"], date);
    }
    let mirror = dir.path().join("mirror.git");
    let cloned = Command::new("git")
        .args(["clone", "-q", "--mirror"])
        .arg(&repo)
        .arg(&mirror)
        .status()
        .unwrap();
    assert!(cloned.success());
    let import = |from: &Path, site: &Path| {
        let (imported, text) = run_in(site, &["import", from.to_str().unwrap()]);
        assert!(imported, "{text}");
    };
    let (site, from_clone) = (dir.path().join("site"), dir.path().join("from-clone"));
    import(&mirror, &site);
    import(&repo, &from_clone);
    let files = |root: &Path| -> Vec<(String, String)> {
        walkdir::WalkDir::new(root.join("content"))
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                (rel, std::fs::read_to_string(e.path()).unwrap())
            })
            .collect()
    };
    // The mirror and the clone hold one history: they import alike.
    assert_eq!(files(&site), files(&from_clone));
    let policy = std::fs::read_to_string(site.join("content/privacy/policy.yaml")).unwrap();
    assert_eq!(policy, "title:\n  en: \"Privacy notice\"\n");
    // The date line stays, as the start of the text before the first section.
    let preamble = files(&site)
        .into_iter()
        .find(|(path, _)| path.starts_with("content/privacy/2021-03-02/en/00-"))
        .unwrap()
        .1;
    assert!(
        preamble.contains("Last updated: 2 March 2021\n\nThis notice explains"),
        "{preamble}"
    );
    let out = built(&site, &dir.path().join("public"));
    let redline =
        std::fs::read_to_string(out.join("en/privacy/changes/2022-06-15/index.html")).unwrap();
    assert!(redline.contains("[split into 2 parts]"), "{redline}");
    let (locked, text) = run_in(&site, &["lock"]);
    assert!(locked, "{text}");
    assert_eq!(findings(&site), Vec::<String>::new());
    // One revise, with nothing changed but its summary: what check reports
    // is one finding for the policy's rights, with its exact fix; nothing
    // about the list item the two sections share.
    let (revised, text) = run_in(&site, &["revise", "privacy", "--date", "2030-01-01"]);
    assert!(revised, "{text}");
    let version = site.join("content/privacy/2030-01-01/version.yaml");
    let yaml = std::fs::read_to_string(&version).unwrap();
    std::fs::write(
        &version,
        yaml.replace("en: \"\"", "en: \"Wording reviewed.\""),
    )
    .unwrap();
    let found = check::check(&options(&site)).open;
    let reported: Vec<String> = found
        .0
        .iter()
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect();
    assert_eq!(
        reported,
        ["content/privacy/2030-01-01/en/03-your-rights.md:6: this policy names the rights of `access`, `erasure` but none of its versions has a form to exercise them"]
    );
    assert!(found.0[0].hint.as_deref().is_some_and(|h| h.contains("add `requests: elsewhere` to content/privacy/policy.yaml")), "{:?}", found.0[0].hint);
    std::fs::write(
        site.join("content/privacy/policy.yaml"),
        format!("{policy}requests: elsewhere\n"),
    )
    .unwrap();
    assert_eq!(findings(&site), Vec::<String>::new());
}

/// A history as a published site keeps it: the file in a folder per
/// language, with front matter, moved once; its first versions cut at `###`
/// (no `##` yet); a heading renamed while the text links to the source
/// site's anchor for it; a commit that changed only the front matter; a
/// translation whose sections did not match at first; a link to another
/// part of the same host.
#[test]
fn a_published_sites_history_imports_by_file_following_its_moves_and_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("history");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"], "2019-01-01");
    let en = |level: &str, payment: &str, extra: &str, front: &str| {
        let anchor = policy_site::markdown::slugify(payment);
        format!("---\ntitle: Terms\n{front}---\nThese terms govern the shop. Read [{payment}](#{anchor}) and [the help pages](/articles/help/).\n\n{level} A. Scope\n\nThey apply to every order placed in the shop{extra}.\n\n#### Exceptions\n\nGift cards are excluded from these terms entirely.\n\n{level} {payment}\n\nYou pay when you order, by card or by bank transfer, in euros only.\n")
    };
    let fr = |extra: &str| {
        format!("---\ntitle: Conditions\n---\nCes conditions régissent la boutique. Lisez [le paiement](#b-paiement).\n\n## A. Portée\n\nElles s'appliquent à toute commande passée dans la boutique{extra}.\n\n## B. Paiement\n\nVous payez à la commande, par carte ou par virement, en euros seulement.\n")
    };
    let commit = |files: &[(&str, String)], message: &str, date: &str| {
        for (file, text) in files {
            put(&repo, file, text);
        }
        git(&repo, &["add", "-A"], date);
        git(&repo, &["commit", "-qm", message], date);
    };
    commit(
        &[
            ("legal/en/terms.md", en("###", "B. Payment", "", "")),
            (
                "legal/fr/terms.md",
                "---\ntitle: Conditions\n---\n## Tout\n\nUne seule section.\n".into(),
            ),
        ],
        "First terms",
        "2019-01-01",
    );
    commit(
        &[
            ("legal/en/terms.md", en("##", "B. Billing", "", "")),
            ("legal/fr/terms.md", fr("")),
        ],
        "Headings at level two; Payment is now Billing",
        "2020-01-01",
    );
    commit(
        &[(
            "legal/en/terms.md",
            en("##", "B. Billing", "", "redirect_from: /tos\n"),
        )],
        "Front matter only",
        "2020-06-01",
    );
    git(&repo, &["mv", "legal", "policies"], "2021-01-01");
    commit(
        &[
            (
                "policies/en/terms.md",
                en("##", "B. Billing", " online", "redirect_from: /tos\n"),
            ),
            ("policies/fr/terms.md", fr(" en ligne")),
        ],
        "Move the policies; online orders",
        "2021-01-01",
    );
    let site = dir.path().join("site");
    let (ok, text) = run_in(
        &site,
        &[
            "import",
            repo.to_str().unwrap(),
            "--file",
            "policies/{lang}/terms.md",
            "--policy",
            "terms",
            "--partial-translations",
        ],
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("imported terms: 3 versions, 2019-01-01 to 2021-01-01"),
        "{text}"
    );
    assert!(text.contains("terms: the `fr` text of 1 versions up to 2019-01-01 was left out, its `##` sections not matching the `en` text's; `fr` is offered from 2020-01-01 on"), "{text}");
    let read = |f: &str| std::fs::read_to_string(site.join("content/terms").join(f)).unwrap();
    // Cut at `###` while the file had no `##`; the sub-heading lifted to `###`.
    assert_eq!(read("2019-01-01/en/01-a-scope.md"), "---\ntitle: \"A. Scope\"\nid: a-scope\n---\n\nThey apply to every order placed in the shop.\n\n### Exceptions\n\nGift cards are excluded from these terms entirely.\n");
    // The renamed heading keeps its id, and the link to its new anchor follows it.
    assert!(read("2020-01-01/en/02-b-billing.md").contains("id: b-payment\n"));
    assert!(read("2020-01-01/en/00-introduction.md").contains("[B. Billing](#b-payment)"));
    assert!(read("2020-01-01/fr/00-introduction.md").contains("[le paiement](#b-payment)"));
    assert_eq!(
        read("policy.yaml"),
        "title:\n  en: \"Terms\"\n  fr: \"Conditions\"\n"
    );
    assert!(
        !site.join("content/terms/2020-06-01").exists()
            && !site.join("content/terms/2019-01-01/fr").exists()
    );
    assert!(run_in(&site, &["lock"]).0);
    let found = check::check(&options(&site));
    let all: Vec<String> = found
        .open
        .0
        .iter()
        .chain(&found.locked.0)
        .map(|d| d.to_string())
        .collect();
    assert_eq!(all, Vec::<String>::new());
    let out = built(&site, &dir.path().join("public"));
    for lang in ["en", "fr"] {
        assert_eq!(
            broken_anchors(&out.join(lang).join("terms")),
            Vec::<String>::new()
        );
    }
}

/// A policy since retired (its file deleted) is imported from its history.
#[test]
fn a_removed_policy_file_is_imported_from_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("history");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"], "2020-01-01");
    for (date, words) in [
        ("2020-01-01", "your name"),
        ("2021-01-01", "your name and address"),
    ] {
        put(
            &repo,
            "old/privacy.md",
            &format!("# Privacy\n\n## Data\n\nWe keep {words}.\n"),
        );
        git(&repo, &["add", "-A"], date);
        git(&repo, &["commit", "-qm", "Privacy"], date);
    }
    git(&repo, &["rm", "-q", "old/privacy.md"], "2022-01-01");
    git(
        &repo,
        &["commit", "-qm", "Retire the old notice"],
        "2022-01-01",
    );
    let site = dir.path().join("site");
    let (ok, text) = run_in(
        &site,
        &["import", repo.to_str().unwrap(), "--file", "old/privacy.md"],
    );
    assert!(
        ok && text.contains("imported privacy: 2 versions, 2020-01-01 to 2021-01-01"),
        "{text}"
    );
    let (ok, text) = run_in(
        &site,
        &["import", repo.to_str().unwrap(), "--file", "old/terms.md"],
    );
    assert!(
        !ok && text.contains("`old/terms.md` is not in the repository, nor in its history"),
        "{text}"
    );
}

/// Builds `site` into `out`; returns `out`.
fn built(site: &Path, out: &Path) -> std::path::PathBuf {
    policy_site::build::build(&Options {
        out: Some(out.to_path_buf()),
        ..options(site)
    })
    .unwrap();
    out.to_path_buf()
}

/// `#fragment` links on the pages under `dir` whose page has no such id.
fn broken_anchors(dir: &Path) -> Vec<String> {
    let mut broken = Vec::new();
    for page in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "index.html")
    {
        let html = std::fs::read_to_string(page.path()).unwrap();
        let ids = common::attribute_values(&html, "id");
        let fragments: Vec<String> = common::attribute_values(&html, "href")
            .into_iter()
            .filter_map(|h| h.strip_prefix('#').map(str::to_string))
            .collect();
        assert!(
            !fragments.is_empty(),
            "{} has no section link",
            page.path().display()
        );
        for fragment in fragments.iter().filter(|f| !ids.contains(f)) {
            broken.push(format!("{}: #{fragment}", page.path().display()));
        }
    }
    broken
}

/// The worked example of the README's "Bringing a history in", step for step.
#[test]
fn the_readme_import_example_gives_the_files_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("history");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"], "2021-03-04");
    let steps = [
        ("2021-03-04", "First version", "privacy.md", "# Privacy\n\n## Data we collect\n\nWe collect your name when you order.\n\n## Contact\n\nWrite to privacy@example.com.\n"),
        ("2022-05-01", "Say that we collect email addresses", "privacy.md", "# Privacy\n\n## Information we collect\n\nWe collect your name and email address when you order.\n\n## Contact\n\nWrite to privacy@example.com.\n"),
        ("2023-01-10", "Add French", "privacy.fr.md", "# Confidentialité\n\n## Informations collectées\n\nNous recueillons votre nom et votre adresse électronique lors d'une commande.\n\n## Contact\n\nÉcrivez à privacy@example.com.\n"),
    ];
    for (date, message, file, text) in steps {
        std::fs::write(repo.join(file), text).unwrap();
        git(&repo, &["add", file], date);
        git(&repo, &["commit", "-qm", message], date);
    }
    let site = dir.path().join("site");
    let out = Command::new(BIN)
        .arg("import")
        .arg(&repo)
        .arg("--root")
        .arg(&site)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut files: Vec<String> = walkdir::WalkDir::new(&site)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(&site).unwrap().display().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "content/privacy/2021-03-04/en/01-data-we-collect.md",
            "content/privacy/2021-03-04/en/02-contact.md",
            "content/privacy/2021-03-04/version.yaml",
            "content/privacy/2022-05-01/en/01-information-we-collect.md",
            "content/privacy/2022-05-01/en/02-contact.md",
            "content/privacy/2022-05-01/version.yaml",
            "content/privacy/2023-01-10/en/01-information-we-collect.md",
            "content/privacy/2023-01-10/en/02-contact.md",
            "content/privacy/2023-01-10/fr/01-informations-collectees.md",
            "content/privacy/2023-01-10/fr/02-contact.md",
            "content/privacy/2023-01-10/version.yaml",
            "content/privacy/policy.yaml",
            "policy-site.yaml",
        ]
    );
    let read = |f: &str| std::fs::read_to_string(site.join("content/privacy").join(f)).unwrap();
    assert_eq!(read("2022-05-01/en/01-information-we-collect.md"), "---\ntitle: \"Information we collect\"\nid: data-we-collect\n---\n\nWe collect your name and email address when you order.\n");
    assert!(read("2023-01-10/fr/01-informations-collectees.md")
        .starts_with("---\ntitle: \"Informations collectées\"\ntranslated_from: "));
    assert_eq!(read("2022-05-01/version.yaml"), "# Imported by `policy-site import`; the summary comes from the history.\nsummary:\n  en: \"Say that we collect email addresses\"\n");
    assert_eq!(findings(&site), Vec::<String>::new());
}

#[test]
fn a_folder_of_dated_files_imports_one_version_per_date() {
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("old");
    put(
        &from,
        "terms-2021-03-04.md",
        "# Terms\n\n## Scope\n\nThese terms apply to the shop.\n",
    );
    put(
        &from,
        "terms-2022-01-01.md",
        "# Terms\n\n## Scope\n\nThese terms apply to the shop and the app.\n",
    );
    put(&from, "terms-2022-01-01.fr.md", "# Conditions\n\n## Portée\n\nCes conditions s'appliquent à la boutique et à l'application.\n");
    put(&from, "notes.md", "Not a policy.\n");
    let site = dir.path().join("site");
    let (ok, text) = run_in(&site, &["import", from.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(
        text.contains("imported terms: 2 versions, 2021-03-04 to 2022-01-01"),
        "{text}"
    );
    let read = |f: &str| std::fs::read_to_string(site.join("content/terms").join(f)).unwrap();
    assert_eq!(
        read("2021-03-04/en/01-scope.md"),
        "---\ntitle: \"Scope\"\nid: scope\n---\n\nThese terms apply to the shop.\n"
    );
    assert!(read("2022-01-01/fr/01-portee.md").contains("translated_from: "));
    // A language the binary has no strings for is named at once.
    let other = dir.path().join("other");
    put(
        &other,
        "terms-2022-01-01.md",
        "# Terms\n\n## Scope\n\nThe shop.\n",
    );
    put(
        &other,
        "terms-2022-01-01.de.md",
        "# Bedingungen\n\n## Umfang\n\nDer Laden.\n",
    );
    let (ok, text) = run_in(
        &dir.path().join("site-de"),
        &["import", other.to_str().unwrap()],
    );
    assert!(
        ok && text.contains("policy-site ships no `de` interface strings"),
        "{text}"
    );
    assert!(run_in(&site, &["lock"]).0);
    assert_eq!(findings(&site), Vec::<String>::new());
}

#[test]
fn an_import_whose_translation_does_not_match_its_source_says_where_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("old");
    put(
        &from,
        "terms-2022-01-01.md",
        "# Terms\n\n## Scope\n\nThese terms apply to the shop.\n",
    );
    put(
        &from,
        "terms-2022-01-01.fr.md",
        "# Conditions\n\n## Portée\n\nLa boutique.\n\n## Durée\n\nUn an.\n",
    );
    let site = dir.path().join("site");
    let (ok, text) = run_in(&site, &["import", from.to_str().unwrap()]);
    assert!(!ok);
    assert!(text.contains("terms-2022-01-01.fr.md: error: on 2022-01-01, the `fr` text has 2 sections and the `en` text 1"), "{text}");
    assert!(
        !site.exists(),
        "nothing is written when the history has a problem"
    );
}

// ---------------------------------------------------------------- trial report

/// A finding is published history only in a file exactly as the lock recorded it.
#[test]
fn a_finding_in_a_file_added_to_or_changed_in_a_locked_version_is_open() {
    let site = copy_of(&fixture("clean"));
    let site = site.path();
    assert!(run_in(site, &["lock"]).0);
    let version = "content/terms/2025-01-01";
    put(
        site,
        &format!("{version}/en/03-contact.md"),
        "---\ntitle: Contact\n---\nTODO: write this, as Section 9 below explains.\n",
    );
    put(
        site,
        &format!("{version}/fr/03-contact.md"),
        "---\ntitle: Contact\n---\nÉcrivez-nous.\n",
    );
    let data = site.join(format!("{version}/en/02-data.md"));
    let text = std::fs::read_to_string(&data).unwrap();
    std::fs::write(&data, format!("{text}\nTBD\n")).unwrap();
    let found = check::check(&options(site));
    let open = |file: &str| -> Vec<String> {
        found
            .open
            .0
            .iter()
            .filter(|d| d.file() == Some(Path::new(version).join(file).as_path()))
            .map(|d| d.message.clone())
            .collect()
    };
    let added = open("en/03-contact.md");
    assert!(
        added.iter().any(|m| m.contains("has been added")),
        "{added:?}"
    );
    assert!(added.iter().any(|m| m.contains("TODO")), "{added:?}");
    assert!(
        added.iter().any(|m| m.contains("refers to section 09")),
        "{added:?}"
    );
    let changed = open("en/02-data.md");
    assert!(
        changed.iter().any(|m| m.contains("has been changed")),
        "{changed:?}"
    );
    assert!(changed.iter().any(|m| m.contains("TBD")), "{changed:?}");
    assert!(
        found.locked.0.iter().all(|d| d
            .file()
            .is_none_or(|f| !f.ends_with("03-contact.md") && !f.ends_with("02-data.md"))),
        "{:?}",
        found.locked
    );
}

#[test]
fn check_takes_no_out_and_the_date_help_names_the_newest_version() {
    let help = |command: &str| {
        let out = Command::new(BIN)
            .args([command, "--help"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(!help("check").contains("--out"));
    for command in ["build", "check"] {
        assert!(
            help(command).contains("else the newest version's date"),
            "{}",
            help(command)
        );
    }
    let out = Command::new(BIN)
        .args(["check", "--out", "x", "--root"])
        .arg(fixture("clean"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_without_a_folder_scaffolds_in_root() {
    let dir = tempfile::tempdir().unwrap();
    let here = tempfile::tempdir().unwrap();
    let target = dir.path().join("x");
    let out = Command::new(BIN)
        .args(["init", "--date", "2025-01-01", "--root"])
        .arg(&target)
        .current_dir(here.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(target.join("policy-site.yaml").is_file());
    assert_eq!(std::fs::read_dir(here.path()).unwrap().count(), 0);
}

#[test]
fn a_section_file_without_a_slug_is_told_what_its_name_should_look_like() {
    let site = copy_of(&fixture("clean"));
    put(
        site.path(),
        "content/terms/2025-01-01/en/06x.md",
        "---\ntitle: Communications\n---\nWe write to you.\n",
    );
    let found = findings(site.path());
    assert!(
        found.iter().any(
            |f| f.contains("`06x.md` is not named like a section: `NN-slug.md`")
                && f.contains("`06-communications.md`")
        ),
        "{found:?}"
    );
}

#[test]
fn a_title_that_is_not_text_says_so_in_plain_words_first() {
    let site = copy_of(&fixture("clean"));
    put(
        site.path(),
        "content/terms/2025-01-01/en/02-data.md",
        "---\ntitle: [broken]\n---\nWe keep data one year.\n",
    );
    let found = findings(site.path());
    assert!(
        found.iter().any(|f| f.contains(
            "02-data.md:2: `title` must be text; a value that starts with `[` is read as a list"
        )),
        "{found:?}"
    );
}

#[test]
fn diff_refuses_dates_given_in_the_wrong_order() {
    let site = copy_of(&fixture("clean"));
    let site = site.path();
    revise_terms(site, "2025-02-01");
    let out = Command::new(BIN)
        .args(["diff", "terms", "2025-02-01", "2025-01-01", "--root"])
        .arg(site)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the dates are in the wrong order: 2025-02-01 is later than 2025-01-01"),
        "{stderr}"
    );
}
