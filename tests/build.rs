//! `policy-site build` as its users rely on it: the bundled example, fixture
//! sites with known changes, and one test per kind of bad input.

mod common;
#[path = "build/dist.rs"]
mod dist;

#[path = "build/book.rs"]
mod book;

use common::{
    attribute_values, example_copy, section, section_with_id, snapshot, visible_text, Fixture,
};
use policy_site::build::{self, Options};
use std::process::Command;

fn messages(result: Result<build::Compiled, policy_site::error::Diagnostics>) -> Vec<String> {
    match result {
        Ok(_) => panic!("the build should have failed"),
        Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
    }
}

fn one_error_mentioning(fixture: &Fixture, place: &str, words: &str) {
    let errors = messages(fixture.build());
    assert!(
        errors
            .iter()
            .any(|e| e.contains(place) && e.contains(words)),
        "expected an error at {place} saying {words:?}, got:\n{}",
        errors.join("\n")
    );
}

/// Whether an element has this id, quoted or not (minified pages drop quotes).
fn has_id(html: &str, id: &str) -> bool {
    [
        format!("id={id}>"),
        format!("id={id} "),
        format!("id=\"{id}\""),
    ]
    .iter()
    .any(|p| html.contains(p.as_str()))
}

// ---- The bundled example -------------------------------------------------

#[test]
fn the_example_shows_sections_01_to_10_with_anchors_in_both_languages() {
    let site = example_copy();
    site.build().unwrap();
    for (lang, date) in [("en", "January 30, 2025"), ("fr", "30 janvier 2025")] {
        let page = site.read(&format!("{lang}/privacy/index.html"));
        for n in 1..=10 {
            assert!(
                page.contains(&format!("<span class=\"number\">{n:02}</span>"))
                    || page.contains(&format!("<span class=\"number\">{n:02}</span>")),
                "{lang}: section {n:02} missing"
            );
        }
        for id in [
            "data-collection",
            "data-sharing",
            "cookies",
            "data-subject-rights",
            "jurisdiction",
        ] {
            assert!(has_id(&page, id), "{lang}: anchor {id} missing");
        }
        assert!(
            visible_text(&page).contains(date),
            "{lang}: localized date {date} missing"
        );
    }
}

#[test]
fn every_version_of_the_example_has_its_page_in_both_languages_with_alternates() {
    let site = example_copy();
    site.build().unwrap();
    for date in ["2023-06-12", "2024-04-02", "2025-01-30"] {
        for lang in ["en", "fr"] {
            let page = site.read(&format!("{lang}/privacy/{date}/index.html"));
            assert!(page.contains(r#"hreflang=en"#) || page.contains(r#"hreflang="en""#));
            assert!(
                page.contains(&format!("/fr/privacy/{date}/")),
                "{lang} {date}: no French alternate"
            );
            assert!(
                page.contains(&format!("/en/privacy/{date}/")),
                "{lang} {date}: no English alternate"
            );
        }
    }
    let archived = site.read("en/privacy/2023-06-12/index.html");
    assert!(
        visible_text(&archived).contains("archived version"),
        "archived pages say so"
    );
    assert!(
        archived.contains("/en/privacy/"),
        "archived pages link to the current version"
    );
    for file in [
        "index.html",
        "404.html",
        "sitemap.xml",
        "robots.txt",
        "en/privacy/history/index.html",
    ] {
        assert!(site.out(file).is_file(), "{file} missing");
    }
    let index = site.read("index.html");
    assert!(
        index.contains("/en/privacy/") && index.contains("/fr/privacy/"),
        "the root index lists policies in every language"
    );
}

#[test]
fn two_builds_of_the_same_sources_are_byte_identical() {
    let site = example_copy();
    site.build().unwrap();
    let first = snapshot(&site.out(""));
    site.build().unwrap();
    assert_eq!(first, snapshot(&site.out("")));
    assert!(first.len() > 40);
}

#[test]
fn minifying_does_not_change_what_a_reader_sees() {
    let site = example_copy();
    let mut config = std::fs::read_to_string(site.root().join("policy-site.yaml")).unwrap();
    let unminified = build::compile(&site.options()).unwrap();
    config.push_str("\nminify: true\n");
    std::fs::write(site.root().join("policy-site.yaml"), config).unwrap();
    let minified = build::compile(&Options {
        out: Some(site.root().join("minified")),
        ..site.options()
    })
    .unwrap();
    // The banner's files are named after their content: compared in order.
    let html = |c: &build::Compiled| -> Vec<policy_site::output::Output> {
        c.outputs.iter().filter(|o| o.is_html()).cloned().collect()
    };
    let mut compared = 0;
    for (a, b) in html(&minified).iter().zip(&html(&unminified)) {
        let banner = |f: &str| f.starts_with("consent/banner.");
        assert!(a.file == b.file || banner(&a.file) && banner(&b.file));
        assert!(a.bytes.len() < b.bytes.len(), "{} was not minified", a.file);
        let (a, b) = (
            String::from_utf8_lossy(&a.bytes),
            String::from_utf8_lossy(&b.bytes),
        );
        assert_eq!(visible_text(&a), visible_text(&b));
        compared += 1;
    }
    assert!(compared > 30, "compared {compared} pages");
}

#[test]
fn the_binary_builds_with_no_arguments_and_prints_a_summary() {
    let site = example_copy();
    let out = Command::new(env!("CARGO_BIN_EXE_policy-site"))
        .arg("build")
        .current_dir(site.root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 policy, 4 versions, 2 languages"),
        "{stdout}"
    );
    let quiet = Command::new(env!("CARGO_BIN_EXE_policy-site"))
        .args(["build", "--quiet"])
        .current_dir(site.root())
        .output()
        .unwrap();
    assert!(quiet.status.success() && quiet.stdout.is_empty());
}

// ---- Output structure ----------------------------------------------------

#[test]
fn a_minimal_site_has_current_archive_history_and_localized_dates() {
    let site = Fixture::minimal();
    site.build().unwrap();
    let current = site.read("fr/privacy/index.html");
    assert!(visible_text(&current).contains("30 janvier 2025"));
    assert!(
        has_id(&current, "collection"),
        "the French page keeps the English section's stable id"
    );
    let old = site.read("en/privacy/2024-01-10/index.html");
    assert!(visible_text(&old).contains("January 10, 2024"));
    assert!(visible_text(&old).contains("90 days"));
    let history = visible_text(&site.read("en/privacy/history/index.html"));
    assert!(history.contains("January 10, 2024") && history.contains("January 30, 2025"));
}

#[test]
fn a_failed_build_leaves_the_previous_site_as_it_was() {
    let site = Fixture::minimal();
    site.build().unwrap();
    let before = snapshot(&site.out(""));
    let site = site.file(
        "content/privacy/2025-01-30/en/02-retention.md",
        "---\ntitle: [unclosed\n---\nBody\n",
    );
    assert!(site.build().is_err());
    assert_eq!(before, snapshot(&site.out("")));
    let leftovers: Vec<_> = std::fs::read_dir(site.root())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary folders left behind: {leftovers:?}"
    );
}

// ---- Bad input: each names the file, and the line where there is one ----

#[test]
fn malformed_front_matter_is_reported_at_its_line() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/en/02-retention.md",
        "---\ntitle: Retention\nid: [oops\n---\nBody\n",
    );
    one_error_mentioning(
        &site,
        "content/privacy/2025-01-30/en/02-retention.md:3",
        "error",
    );
}

#[test]
fn a_section_without_title_is_reported() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/en/02-retention.md",
        "---\nid: retention\n---\nBody\n",
    );
    one_error_mentioning(
        &site,
        "2025-01-30/en/02-retention.md",
        "missing key `title`",
    );
}

#[test]
fn a_section_without_front_matter_is_reported() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/en/02-retention.md",
        "Just text.\n",
    );
    one_error_mentioning(&site, "2025-01-30/en/02-retention.md:1", "no front matter");
}

#[test]
fn a_language_folder_not_in_languages_is_reported() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/de/01-erhebung.md",
        &section("Erhebung", "Text."),
    );
    one_error_mentioning(
        &site,
        "content/privacy/2025-01-30/de",
        "`de` is not one of the site's languages",
    );
}

#[test]
fn duplicated_section_numbers_are_reported_naming_both_files() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/en/02-other.md",
        &section("Other", "Text."),
    );
    one_error_mentioning(&site, "2025-01-30/en/02-retention.md", "02-other.md");
}

#[test]
fn a_missing_section_number_is_reported() {
    let site = Fixture::minimal()
        .file(
            "content/privacy/2025-01-30/en/04-extra.md",
            &section("Extra", "Text."),
        )
        .file(
            "content/privacy/2025-01-30/fr/04-extra.md",
            &section("Extra", "Texte."),
        );
    one_error_mentioning(
        &site,
        "content/privacy/2025-01-30/en",
        "section 03 is missing",
    );
}

#[test]
fn a_translation_missing_a_section_is_reported() {
    let site = Fixture::minimal().remove("content/privacy/2025-01-30/fr/01-collecte.md");
    let errors = messages(site.build());
    assert_eq!(
        errors.len(),
        1,
        "one error, not also a numbering gap:\n{}",
        errors.join("\n")
    );
    assert!(
        errors[0].contains("content/privacy/2025-01-30/fr")
            && errors[0].contains("lacks section 01")
            && errors[0].contains("en/01-collection.md"),
        "{}",
        errors[0]
    );
}

#[test]
fn a_version_folder_that_is_not_a_date_is_reported() {
    let site = Fixture::minimal().file("content/privacy/latest/en/01-a.md", &section("A", "Text."));
    one_error_mentioning(&site, "content/privacy/latest", "not named by a date");
}

#[test]
fn an_unknown_key_in_version_yaml_is_reported_at_its_line() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/version.yaml",
        "material: true\nsumary:\n  en: Typo.\n",
    );
    one_error_mentioning(
        &site,
        "content/privacy/2025-01-30/version.yaml:2",
        "unknown key `sumary`",
    );
}

#[test]
fn a_template_syntax_error_is_reported_with_its_line() {
    let site = Fixture::minimal().file(
        "templates/history.html",
        "{% extends \"base.html\" %}\n{% block main %}\n{% if %}\n{% endblock main %}\n",
    );
    one_error_mentioning(&site, "templates/history.html:3", "");
}

#[test]
fn a_template_using_an_undefined_variable_is_reported() {
    let site = Fixture::minimal().file(
        "templates/history.html",
        "{% extends \"base.html\" %}\n{% block main %}{{ no_such_thing }}{% endblock main %}\n",
    );
    one_error_mentioning(&site, "templates/history.html", "no_such_thing");
}

#[test]
fn an_output_folder_that_cannot_be_written_is_reported_and_exits_non_zero() {
    let site = Fixture::minimal().file("blocker", "a file where a folder should be");
    let out = Command::new(env!("CARGO_BIN_EXE_policy-site"))
        .args(["build", "--out", "blocker/public"])
        .current_dir(site.root())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("blocker/public") && stderr.contains("cannot write the output folder"),
        "{stderr}"
    );
}

/// `policy-site build` run as `nobody` (root may write anywhere, so this
/// needs a user permissions apply to; the tests run as root in CI).
fn build_as_nobody(root: &std::path::Path, out: &str) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(env!("CARGO_BIN_EXE_policy-site"))
        .args([
            "build",
            "--quiet",
            "--date",
            "2025-06-01",
            "--out",
            out,
            "--root",
        ])
        .arg(root)
        .output()
        .expect("runuser runs (util-linux)")
}

fn chown_nobody(path: &std::path::Path) {
    let done = Command::new("chown")
        .args(["-R", "nobody"])
        .arg(path)
        .status()
        .unwrap();
    assert!(done.success());
}

#[test]
fn an_output_folder_that_cannot_be_replaced_fails_and_leaves_the_previous_site_and_no_leftovers() {
    assert_eq!(
        current_uid(),
        0,
        "this test builds as the user `nobody` and sets up folders it cannot change: run it as root"
    );
    let site = Fixture::minimal();
    let root = site.root();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(site.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    chown_nobody(root);
    let first = build_as_nobody(root, "public");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let index = std::fs::read(root.join("public/index.html")).unwrap();
    // Another user's folder inside the published site: the old site cannot
    // be deleted, so it must not be moved aside either.
    std::fs::create_dir(root.join("public/theirs")).unwrap();
    std::fs::write(root.join("public/theirs/keep.txt"), "root's").unwrap();
    let second = build_as_nobody(root, "public");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{stderr}");
    assert!(
        stderr.contains("public") && stderr.contains("theirs"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(root.join("public/index.html")).unwrap(),
        index
    );
    assert!(root.join("public/theirs/keep.txt").is_file());
    // An output folder in a folder this user may not write: nothing replaced.
    std::fs::create_dir(root.join("sealed")).unwrap();
    std::fs::create_dir(root.join("sealed/public")).unwrap();
    std::fs::write(root.join("sealed/public/index.html"), "previous").unwrap();
    let third = build_as_nobody(root, "sealed/public");
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(!third.status.success(), "{stderr}");
    assert!(stderr.contains("sealed/public"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(root.join("sealed/public/index.html")).unwrap(),
        "previous"
    );
    let leftovers: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .chain(std::fs::read_dir(root.join("sealed")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}

/// The user id the tests run as, read from `id -u`.
fn current_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn several_errors_in_one_build_are_all_reported() {
    let site = Fixture::minimal()
        .file(
            "content/privacy/2025-01-30/en/02-retention.md",
            "---\nid: retention\n---\nBody\n",
        )
        .file(
            "content/privacy/2024-01-10/version.yaml",
            "material: maybe\n",
        )
        .file("content/privacy/draft/en/01-a.md", &section("A", "Text."));
    let errors = messages(site.build());
    assert!(errors.len() >= 3, "{}", errors.join("\n"));
    assert!(errors.iter().any(|e| e.contains("02-retention.md")));
    assert!(errors.iter().any(|e| e.contains("2024-01-10/version.yaml")));
    assert!(errors.iter().any(|e| e.contains("draft")));
}

#[test]
fn a_section_id_used_twice_in_a_version_is_reported_naming_both_files() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/en/02-retention.md",
        &section_with_id("Retention", "collection", "Text."),
    );
    one_error_mentioning(&site, "2025-01-30/en/02-retention.md", "01-collection.md");
}

#[test]
fn an_unknown_right_in_a_form_directive_is_reported_at_its_line() {
    let site = Fixture::minimal().file("policy-site.yaml", &format!("{}endpoints: {{requests: https://example.com/requests}}\n", common::CONFIG)).file(
        "content/privacy/2025-01-30/en/02-retention.md",
        "---\ntitle: Retention\n---\nWe keep data for 60 days.\n\n[Erase](policy-site:form/forget-me)\n",
    );
    one_error_mentioning(&site, "2025-01-30/en/02-retention.md:6", "forget-me");
}

#[test]
fn an_endpoint_that_is_not_https_is_reported() {
    let site = Fixture::minimal().file(
        "policy-site.yaml",
        &format!(
            "{}endpoints: {{requests: http://example.com/requests}}\n",
            common::CONFIG
        ),
    );
    one_error_mentioning(&site, "policy-site.yaml:4", "must use https");
    let flagged = Fixture::minimal();
    let result = build::build(&Options {
        requests_endpoint: Some("ftp://x".into()),
        ..flagged.options()
    });
    assert!(messages(result)
        .iter()
        .any(|e| e.contains("--requests-endpoint")));
}

// ---- Changes between versions --------------------------------------------

fn two_versions(old_en: &str, new_en: &str) -> Fixture {
    Fixture::minimal()
        .file("content/privacy/2024-01-10/en/02-retention.md", old_en)
        .file("content/privacy/2025-01-30/en/02-retention.md", new_en)
}

fn changes_page(site: &Fixture, lang: &str) -> String {
    site.build().unwrap();
    site.read(&format!("{lang}/privacy/changes/2025-01-30/index.html"))
}

#[test]
fn a_changed_retention_period_shows_exactly_the_number_deleted_and_inserted() {
    let site = Fixture::minimal();
    let page = changes_page(&site, "en");
    assert!(
        page.contains(r#"<del><span class="visually-hidden">deleted: </span>90</del>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<ins><span class="visually-hidden">inserted: </span>60</ins>"#),
        "{page}"
    );
    assert!(visible_text(&page).contains("+1 words added, −1 words removed"));
}

#[test]
fn reflowed_lines_list_markers_and_quote_styles_are_not_changes() {
    let old = section(
        "Retention",
        "We keep \"data\" for 90 days,\nthen we delete it.\n\n* one\n* two",
    );
    let new = section(
        "Retention",
        "We keep “data” for\n90 days, then we\ndelete it.\n\n\n- one\n- two",
    );
    let site = two_versions(&old, &new);
    let page = visible_text(&changes_page(&site, "en"));
    assert!(
        page.contains("The text of this version is the same as the previous one."),
        "{page}"
    );
    assert!(page.contains("+0 words added, −0 words removed"));
}

#[test]
fn a_changed_link_target_or_emphasis_is_named_and_counted_apart_from_words() {
    let site = two_versions(
        &section("Retention", "Write to [us](mailto:a@example.com) *now*."),
        &section("Retention", "Write to [us](mailto:b@example.com) now."),
    );
    let page = changes_page(&site, "en");
    let text = visible_text(&page);
    assert!(
        text.contains("[link changed: mailto:a@example.com → mailto:b@example.com]"),
        "{text}"
    );
    assert!(text.contains("[emphasis removed]"), "{text}");
    assert!(
        !page.contains("<del>") && !page.contains("<ins>"),
        "no word is struck and inserted again: {page}"
    );
    assert!(
        text.contains("+0 words added, −0 words removed; links changed: 1, emphasis changed: 1"),
        "{text}"
    );
}

#[test]
fn a_section_moved_elsewhere_shows_as_a_move_and_an_inserted_one_as_an_insertion() {
    let site = Fixture::minimal()
        .file(
            "content/privacy/2025-01-30/en/01-retention.md",
            &section_with_id("Retention", "retention", "We keep data for 90 days."),
        )
        .file(
            "content/privacy/2025-01-30/en/02-collection.md",
            &section_with_id("Data collection", "collection", "We collect your name."),
        )
        .remove("content/privacy/2025-01-30/en/02-retention.md")
        .remove("content/privacy/2025-01-30/en/01-collection.md")
        .file(
            "content/privacy/2025-01-30/en/03-security.md",
            &section("Security", "We encrypt data."),
        )
        .file(
            "content/privacy/2025-01-30/fr/03-securite.md",
            &section("Sécurité", "Nous chiffrons les données."),
        );
    let page = visible_text(&changes_page(&site, "en"));
    assert!(page.contains("Retention moved from section 02"), "{page}");
    assert!(page.contains("03 Security added"), "{page}");
    assert!(
        page.contains("Data collection: unchanged (now section 02, was 01)"),
        "{page}"
    );
}

#[test]
fn french_text_with_accents_and_apostrophes_diffs_by_word() {
    let site = Fixture::minimal()
        .file(
            "content/privacy/2024-01-10/fr/02-conservation.md",
            &section(
                "Conservation",
                "Vous avez droit à l’effacement des données.",
            ),
        )
        .file(
            "content/privacy/2025-01-30/fr/02-conservation.md",
            &section(
                "Conservation",
                "Vous avez droit à l’effacement de vos données.",
            ),
        );
    let page = changes_page(&site, "fr");
    assert!(page.contains(r#"l’effacement <del><span class="visually-hidden">supprimé : </span>des</del><ins><span class="visually-hidden">ajouté : </span>de vos</ins> données"#), "{page}");
}

#[test]
fn every_changes_page_links_back_to_both_versions_and_the_feed_is_valid_atom() {
    let site = example_copy();
    site.build().unwrap();
    let pages = [
        ("2023-06-12", "2024-04-02", "changes/2024-04-02/"),
        ("2024-04-02", "2025-01-30", "changes/2025-01-30/"),
        ("2023-06-12", "2025-01-30", "changes/2023-06-12/2025-01-30/"),
    ];
    for lang in ["en", "fr"] {
        for (from, to, path) in pages {
            let page = site.read(&format!("{lang}/privacy/{path}index.html"));
            assert!(
                page.contains(&format!("/{lang}/privacy/{from}/")),
                "{lang} {path}: no link to {from}"
            );
            assert!(
                page.contains(&format!("/{lang}/privacy/{to}/")),
                "{lang} {path}: no link to {to}"
            );
            assert!(
                page.contains("<del>") && page.contains("<ins>"),
                "{lang} {path}: shows no word-level change"
            );
        }
        let feed = site.read(&format!("{lang}/privacy/feed.xml"));
        let doc = roxmltree::Document::parse(&feed).expect("the feed is well-formed XML");
        let root = doc.root_element();
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2005/Atom")
        );
        let entries: Vec<_> = root
            .children()
            .filter(|n| n.has_tag_name("entry"))
            .collect();
        assert_eq!(entries.len(), 4, "one entry per version");
        for tag in ["id", "title", "updated"] {
            assert!(
                root.children().any(|n| n.has_tag_name(tag)),
                "feed lacks <{tag}>"
            );
            assert!(
                entries
                    .iter()
                    .all(|e| e.children().any(|n| n.has_tag_name(tag))),
                "an entry lacks <{tag}>"
            );
        }
        let link = entries[0]
            .children()
            .find(|n| n.has_tag_name("link"))
            .and_then(|l| l.attribute("href"))
            .unwrap();
        assert!(
            link.ends_with(&format!("/{lang}/privacy/changes/2025-03-03/")),
            "entries link to their diff: {link}"
        );
        let history = visible_text(&site.read(&format!("{lang}/privacy/history/index.html")));
        for date in ["2023", "2024", "2025"] {
            assert!(history.contains(date), "history lacks {date}");
        }
    }
}

#[test]
fn a_rewrapped_copy_of_a_version_diffs_as_unchanged() {
    let site = example_copy();
    let from = site.root().join("content/privacy/2025-01-30");
    let to = site.root().join("content/privacy/2025-06-01");
    common::copy_tree(&from, &to);
    for entry in walkdir::WalkDir::new(&to)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
    {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let (front, body) = text[4..].split_once("\n---\n").unwrap();
        // Re-wrap every paragraph at a different width; keep blank lines.
        let rewrapped: Vec<String> = body
            .split("\n\n")
            .map(|para| {
                if para.trim_start().starts_with(['-', '*', '#', '|', '[']) {
                    return para.to_string();
                }
                let words: Vec<&str> = para.split_whitespace().collect();
                words
                    .chunks(5)
                    .map(|c| c.join(" "))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        std::fs::write(
            entry.path(),
            format!("---\n{front}\n---\n{}", rewrapped.join("\n\n")),
        )
        .unwrap();
    }
    std::fs::write(
        to.join("version.yaml"),
        "material: false\nsummary: {en: Reflowed., fr: Mise en page.}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_policy-site"))
        .args(["diff", "privacy", "2025-01-30", "2025-06-01"])
        .current_dir(site.root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("0 words added, 0 words removed"), "{text}");
    assert!(!text.contains("[-") && !text.contains("{+"), "{text}");
}

#[test]
fn the_diff_command_prints_plain_marks_when_piped_and_refuses_bad_requests() {
    let site = Fixture::minimal();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_policy-site"))
            .arg("diff")
            .args(args)
            .current_dir(site.root())
            .output()
            .unwrap()
    };
    let out = run(&["privacy", "2024-01-10", "2025-01-30", "--lang", "fr"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("[-90-]{+60+}"));
    for (args, says) in [
        (vec!["privacy", "2025-01-30", "2025-01-30"], "with itself"),
        (
            vec!["privacy", "2024-01-10", "2026-01-01"],
            "no version dated 2026-01-01",
        ),
        (
            vec!["privacy", "2024-01-10", "2025-01-30", "--lang", "de"],
            "has no `de` text",
        ),
        (
            vec!["terms", "2024-01-10", "2025-01-30"],
            "no policy `terms`",
        ),
    ] {
        let out = run(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_version_not_yet_in_effect_is_upcoming_until_a_later_build_date() {
    let site = Fixture::minimal().file("content/privacy/2025-01-30/version.yaml", "effective: 2025-03-01\nmaterial: true\nsummary: {en: Shorter retention., fr: Conservation plus courte.}\n");
    site.build().unwrap();
    let current = site.read("en/privacy/index.html");
    assert!(
        visible_text(&current).contains("90 days"),
        "the version in force stays current"
    );
    assert!(visible_text(&current)
        .contains("A new version of this policy takes effect on March 1, 2025."));
    assert!(
        current.contains("/en/privacy/changes/2025-01-30/"),
        "the notice links to the upcoming diff"
    );
    build::build(&Options {
        date: Some("2025-03-01".parse().unwrap()),
        ..site.options()
    })
    .unwrap();
    let current = visible_text(&site.read("en/privacy/index.html"));
    assert!(current.contains("60 days") && !current.contains("takes effect on"));
}

#[test]
fn versions_json_lists_dates_flags_links_and_source_hashes() {
    let site = Fixture::minimal();
    site.build().unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&site.read("api/privacy/versions.json")).unwrap();
    assert_eq!(doc["current"], "2025-01-30");
    let versions = doc["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["material"], true);
    assert_eq!(
        versions[1]["links"]["fr"]["changes"],
        "https://example.com/fr/privacy/changes/2025-01-30/"
    );
    let hash = versions[0]["sources_sha256"].as_str().unwrap();
    assert_eq!(hash.len(), 64);
    let edited = site.file(
        "content/privacy/2024-01-10/en/01-collection.md",
        &section("Data collection", "We collect your email."),
    );
    edited.build().unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&edited.read("api/privacy/versions.json")).unwrap();
    assert_ne!(
        doc["versions"][0]["sources_sha256"], hash,
        "the hash follows the sources"
    );
}

// ---- Bad consent and rights configuration ---------------------------------

const CONSENT: &str = "endpoints: {consent: https://example.com/consent}\nconsent:\n  categories:\n    - id: necessary\n      required: true\n      label: {en: Necessary, fr: Nécessaires}\n      description: {en: Needed., fr: Requis.}\n    - id: analytics\n      label: {en: Analytics, fr: Mesure}\n      description: {en: Counting visits., fr: Compter les visites.}\n";

fn with_consent(extra: &str) -> Fixture {
    Fixture::minimal().file(
        "policy-site.yaml",
        &format!("{}{CONSENT}{extra}", common::CONFIG),
    )
}

#[test]
fn a_gated_script_naming_an_unknown_category_is_reported_in_its_template() {
    let site = with_consent("").file(
        "templates/history.html",
        "{% extends \"base.html\" %}\n{% block main %}\n<script type=\"text/plain\" data-consent=\"analytcs\" src=\"/a.js\"></script>\n{% endblock main %}\n",
    );
    one_error_mentioning(
        &site,
        "templates/history.html:3",
        "`data-consent=\"analytcs\"` names no cookie category",
    );
    let fine = with_consent("").file(
        "templates/history.html",
        "{% extends \"base.html\" %}\n{% block main %}<script type=\"text/plain\" data-consent=\"analytics\" src=\"/a.js\"></script>{% endblock main %}\n",
    );
    fine.build().unwrap();
}

#[test]
fn a_category_without_a_label_in_a_language_is_reported() {
    let site = Fixture::minimal().file(
        "policy-site.yaml",
        &format!(
            "{}{}",
            common::CONFIG,
            CONSENT.replace(
                "label: {en: Analytics, fr: Mesure}",
                "label: {en: Analytics}"
            )
        ),
    );
    one_error_mentioning(
        &site,
        "policy-site.yaml:",
        "category `analytics`: label has no `fr` text",
    );
}

#[test]
fn an_unknown_configuration_key_is_reported_at_its_line() {
    let site = with_consent("  lifetime_dayz: 30\n");
    one_error_mentioning(&site, "policy-site.yaml:", "unknown key `lifetime_dayz`");
}

#[test]
fn the_consent_endpoint_must_be_https_except_on_localhost() {
    let site = Fixture::minimal().file(
        "policy-site.yaml",
        &format!(
            "{}{}",
            common::CONFIG,
            CONSENT.replace(
                "https://example.com/consent",
                "http://tracker.example/consent"
            )
        ),
    );
    one_error_mentioning(&site, "policy-site.yaml:4", "must use https");
}

#[test]
fn a_custom_right_cannot_use_a_reserved_field_name() {
    let site = Fixture::minimal().file(
        "policy-site.yaml",
        &format!("{}rights:\n  custom:\n    - id: complaint\n      label: {{en: Complaint, fr: Plainte}}\n      response_days: 30\n      fields:\n        - {{name: version, type: text, label: {{en: V, fr: V}}}}\n", common::CONFIG),
    );
    one_error_mentioning(
        &site,
        "policy-site.yaml:",
        "the field name `version` is reserved",
    );
}

#[test]
fn a_broken_section_is_reported_once_not_also_as_missing() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/en/01-collection.md",
        "---\ntitle: [Draft] Collection\n---\nText.\n",
    );
    let errors = messages(site.build());
    assert_eq!(errors.len(), 1, "{}", errors.join("\n"));
    assert!(
        errors[0].contains("01-collection.md:2") && errors[0].contains("put the text in quotes"),
        "{}",
        errors[0]
    );
}

#[test]
fn an_empty_label_counts_as_missing() {
    let site = Fixture::minimal().file(
        "policy-site.yaml",
        &format!(
            "{}{}",
            common::CONFIG,
            CONSENT.replace(
                "label: {en: Analytics, fr: Mesure}",
                "label: {en: Analytics, fr: \"\"}"
            )
        ),
    );
    one_error_mentioning(
        &site,
        "policy-site.yaml:",
        "category `analytics`: label has no `fr` text",
    );
}

#[test]
fn the_example_embeds_every_rights_form_in_section_08_with_a_link_to_its_own_page() {
    let site = example_copy();
    site.build().unwrap();
    for lang in ["en", "fr"] {
        let page = site.read(&format!("{lang}/privacy/index.html"));
        let start = page.find("id=\"data-subject-rights\"").expect("section 08");
        let end = page[start..]
            .find("id=\"controller-processor\"")
            .map(|i| start + i)
            .expect("section 09");
        let section = &page[start..end];
        for right in [
            "access",
            "portability",
            "rectification",
            "erasure",
            "restriction",
            "automated-decision",
            "marketing-opt-out",
            "withdraw-consent",
        ] {
            assert!(
                section.contains(&format!("id=\"form-{right}\"")),
                "{lang}: no embedded form for {right}"
            );
            assert!(
                section.contains(&format!("href=\"/{lang}/requests/{right}/\"")),
                "{lang}: no link to the {right} page"
            );
            assert!(site
                .out(&format!("{lang}/requests/{right}/index.html"))
                .is_file());
        }
        assert_eq!(
            section
                .matches("action=\"http://127.0.0.1:8787/requests\"")
                .count(),
            8,
            "{lang}: forms post to the configured endpoint"
        );
    }
}

#[test]
fn forms_without_a_requests_endpoint_are_one_error_at_the_first_form() {
    let site = Fixture::minimal()
        .file(
            "content/privacy/2025-01-30/en/02-retention.md",
            &section(
                "Retention",
                "We keep data for 60 days.\n\n[Erase](policy-site:form/erasure)",
            ),
        )
        .file(
            "content/privacy/2025-01-30/fr/02-conservation.md",
            &section(
                "Conservation",
                "Soixante jours.\n\n[Effacer](policy-site:form/erasure)",
            ),
        );
    let errors = messages(site.build());
    assert_eq!(errors.len(), 1, "{}", errors.join("\n"));
    assert!(
        errors[0].contains("2025-01-30/en/02-retention.md")
            && errors[0].contains("`endpoints.requests` is not set"),
        "{}",
        errors[0]
    );
}

// ---- Redline pages: links, headings, unchanged sections ---------------------

fn redline_pages(site: &Fixture) -> Vec<(String, String)> {
    walkdir::WalkDir::new(site.out(""))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name() == "index.html" && e.path().to_string_lossy().contains("/changes/")
        })
        .map(|e| {
            let page = std::fs::read_to_string(e.path()).unwrap();
            (e.path().display().to_string(), page)
        })
        .collect()
}

#[test]
fn every_anchor_link_on_a_redline_page_lands_on_that_page() {
    let site = example_copy();
    site.build().unwrap();
    let pages = redline_pages(&site);
    assert!(
        pages.len() >= 6,
        "the example has redlines in two languages"
    );
    let linking = two_versions(
        &section("Retention", "We keep data for 90 days.\n\n### Backups\n\nKept for 30 days."),
        &section(
            "Retention",
            "We keep [your data](#collection) for 60 days.\n\n### Backups\n\nSee [backups](#retention-backups).",
        ),
    );
    let page = changes_page(&linking, "en");
    let hrefs = attribute_values(&page, "href");
    assert!(hrefs.iter().any(|h| h == "#collection"), "{page}");
    assert!(
        hrefs
            .iter()
            .any(|h| h.starts_with("/en/privacy/") && h.ends_with("/#retention-backups")),
        "an anchor the redline does not carry leads to the version page: {page}"
    );
    for (path, page) in pages.into_iter().chain([("linking".to_string(), page)]) {
        let ids = attribute_values(&page, "id");
        for href in attribute_values(&page, "href") {
            if let Some(id) = href.strip_prefix('#') {
                assert!(
                    ids.iter().any(|i| i == id),
                    "{path}: #{id} is not on the page"
                );
            }
        }
    }
}

#[test]
fn headings_on_a_redline_page_never_skip_a_level() {
    let site = two_versions(
        &section(
            "Retention",
            "We keep data for 90 days.\n\n### Backups\n\nKept for 30 days.",
        ),
        &section(
            "Retention",
            "We keep data for 60 days.\n\n### Backups\n\nKept for 10 days.",
        ),
    );
    let page = changes_page(&site, "en");
    let levels: Vec<u32> = page
        .match_indices("<h")
        .filter_map(|(i, _)| page[i + 2..].chars().next()?.to_digit(10))
        .collect();
    assert!(levels.contains(&3), "the inner heading is shown: {page}");
    for pair in levels.windows(2) {
        assert!(
            pair[1] <= pair[0] + 1,
            "h{} follows h{}: {levels:?}",
            pair[1],
            pair[0]
        );
    }
}

#[test]
fn unchanged_sections_are_listed_by_title_and_linked_not_copied() {
    let site = Fixture::minimal();
    let page = changes_page(&site, "en");
    let text = visible_text(&page);
    assert!(text.contains("Unchanged sections (1)"), "{text}");
    assert!(text.contains("01 Data collection: unchanged"), "{text}");
    assert!(
        !text.contains("We collect your name"),
        "the unchanged text is not copied: {text}"
    );
    assert!(
        attribute_values(&page, "href")
            .iter()
            .any(|h| h.starts_with("/en/privacy/") && h.ends_with("/#collection")),
        "{page}"
    );
}

// ---- The output folder is owned: what a build will and will not replace ----

/// Every entry under `dir` (folders and links too), with its bytes.
fn tree(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut entries: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy();
            let bytes = if e.file_type().is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                format!("{:?}", e.file_type()).into_bytes()
            };
            (rel.into_owned(), bytes)
        })
        .collect();
    entries.sort();
    entries
}

/// Runs `build` with `args` in `root`; asserts exit 1, a refusal naming
/// `why`, and that nothing under `watched` moved or changed.
fn refused(
    root: &std::path::Path,
    args: &[&str],
    home: &std::path::Path,
    watched: &std::path::Path,
    why: &str,
) {
    let before = tree(watched);
    let out = Command::new(env!("CARGO_BIN_EXE_policy-site"))
        .arg("build")
        .args(args)
        .env("HOME", home)
        .current_dir(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} should be refused: {stderr}"
    );
    assert!(
        stderr.contains("refusing to use this as the output folder") && stderr.contains(why),
        "{args:?}: expected a refusal saying {why:?}, got {stderr}"
    );
    assert_eq!(before, tree(watched), "{args:?} changed files");
}

fn site_with_sources() -> Fixture {
    Fixture::minimal()
        .file("static/keep.txt", "kept")
        .file("policy-site.lock", "{}\n")
        .file("docs/notes.txt", "someone's notes")
}

#[test]
fn a_build_refuses_to_replace_the_sites_own_files_and_folders() {
    let site = site_with_sources();
    std::fs::create_dir(site.root().join("templates")).unwrap();
    let home = tempfile::tempdir().unwrap();
    for (out, why) in [
        ("content", "it is the site's `content`"),
        (
            "content/privacy/public",
            "it lies inside the site's `content`",
        ),
        ("templates", "it is the site's `templates`"),
        ("static", "it is the site's `static`"),
        ("policy-site.yaml", "it is the site's `policy-site.yaml`"),
        ("policy-site.lock", "it is the site's `policy-site.lock`"),
        (".", "it is the site's own folder"),
        ("docs", "did not write"),
    ] {
        refused(site.root(), &["--out", out], home.path(), site.root(), why);
    }
}

#[test]
fn output_in_the_configuration_is_refused_like_out() {
    let site = site_with_sources().file(
        "policy-site.yaml",
        &format!("{}output: content\n", common::CONFIG),
    );
    let home = tempfile::tempdir().unwrap();
    refused(
        site.root(),
        &[],
        home.path(),
        site.root(),
        "it is the site's `content`",
    );
}

#[test]
fn a_build_refuses_a_folder_holding_the_site_the_home_folder_and_the_root() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("other.txt"), "another project").unwrap();
    let root = outer.path().join("site");
    common::copy_tree(Fixture::minimal().root(), &root);
    let home = tempfile::tempdir().unwrap();
    refused(
        &root,
        &["--out", ".."],
        home.path(),
        outer.path(),
        "it holds the site's own folder",
    );
    // A home marked as if built, so that only the home rule can refuse it.
    std::fs::write(home.path().join(".policy-site-output"), "").unwrap();
    std::fs::write(home.path().join("letter.txt"), "private").unwrap();
    let home_dir = home.path().to_str().unwrap();
    refused(
        &root,
        &["--out", home_dir],
        home.path(),
        home.path(),
        "your home folder",
    );
    refused(
        &root,
        &["--out", "/"],
        home.path(),
        &root,
        "the root of the file system",
    );
}

#[cfg(unix)]
#[test]
fn a_link_to_a_source_folder_is_refused_like_the_folder() {
    let site = site_with_sources();
    std::os::unix::fs::symlink(site.root().join("content"), site.root().join("site-out")).unwrap();
    let home = tempfile::tempdir().unwrap();
    refused(
        site.root(),
        &["--out", "site-out"],
        home.path(),
        site.root(),
        "it is the site's `content`",
    );
}

#[test]
fn a_build_replaces_an_empty_folder_and_its_own_previous_output() {
    let site = Fixture::minimal();
    std::fs::create_dir(site.out("")).unwrap();
    site.build().unwrap();
    assert!(site.out(".policy-site-output").is_file());
    assert!(site.out("en/privacy/index.html").is_file());
    std::fs::write(site.out("stale.html"), "from an older build").unwrap();
    site.build().unwrap();
    assert!(
        !site.out("stale.html").exists(),
        "the previous output was not replaced"
    );
    assert!(site.out(".policy-site-output").is_file());
}

// ---- Nothing in content/ is ignored: every stray file is an error with its path ----

#[test]
fn a_section_saved_beside_version_yaml_belongs_in_the_language_folder() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/03-transfers.md",
        &section("Transfers", "We transfer data."),
    );
    one_error_mentioning(&site, "2025-01-30/03-transfers.md", "belongs in `en/`");
}

#[test]
fn unknown_files_and_folders_in_content_are_reported_with_their_path() {
    for (path, place, words) in [
        (
            "content/notes.txt",
            "content/notes.txt",
            "is not a policy folder",
        ),
        (
            "content/privacy/draft.docx",
            "privacy/draft.docx",
            "is not part of the policy",
        ),
        (
            "content/privacy/01-intro.md",
            "privacy/01-intro.md",
            "is not part of the policy",
        ),
        (
            "content/privacy/2025-01-30/notes.txt",
            "2025-01-30/notes.txt",
            "is not part of the version",
        ),
        (
            "content/privacy/2025-01-30/en/old/01-intro.md",
            "en/old",
            "is a folder inside a language folder",
        ),
        (
            "content/privacy/2025-01-30/en/03-logo.png",
            "en/03-logo.png",
            "is not a markdown section",
        ),
    ] {
        one_error_mentioning(&Fixture::minimal().file(path, "x"), place, words);
    }
}

#[cfg(unix)]
#[test]
fn symbolic_links_in_content_are_always_reported_loops_included() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("10.md"), section("Outside", "Text.")).unwrap();
    let site = Fixture::minimal();
    let en = site.root().join("content/privacy/2025-01-30/en");
    symlink(outside.path().join("10.md"), en.join("03-linked.md")).unwrap();
    one_error_mentioning(&site, "en/03-linked.md", "symbolic link");
    std::fs::remove_file(en.join("03-linked.md")).unwrap();
    symlink(&en, en.join("loop")).unwrap();
    symlink("b.md", en.join("a.md")).unwrap();
    symlink("a.md", en.join("b.md")).unwrap();
    for link in ["en/loop", "en/a.md", "en/b.md"] {
        one_error_mentioning(&site, link, "symbolic link");
    }
    let policy_link = site.root().join("content/privacy-copy");
    symlink(site.root().join("content/privacy"), policy_link).unwrap();
    one_error_mentioning(&site, "content/privacy-copy", "symbolic link");
}

#[test]
fn invalid_utf8_in_a_section_is_placed_by_line_and_column() {
    let site = Fixture::minimal();
    let file = site
        .root()
        .join("content/privacy/2025-01-30/en/02-retention.md");
    std::fs::write(
        &file,
        b"---\ntitle: Retention\n---\nWe keep data.\nCaf\xe9 records.\n",
    )
    .unwrap();
    one_error_mentioning(&site, "en/02-retention.md:5", "line 5, column 4");
}

#[test]
fn a_section_with_only_front_matter_has_no_text() {
    let site = Fixture::minimal().file(
        "content/privacy/2025-01-30/en/02-retention.md",
        "---\ntitle: Retention\n---\n\n",
    );
    one_error_mentioning(&site, "en/02-retention.md:3", "has no text");
}

// ---- Raw HTML: published through the allow-list, every removal reported ----

/// Each hostile element on its own line (the body starts at line 4), with
/// what `check` must say about it; "pwn" marks all that must not be published.
const HOSTILE: &[(usize, &str, &str)] = &[
    (4, "Intro <script>pwn()</script> text.", "`<script>`"),
    (6, r#"<img src="logo.png" onerror="pwn()">"#, "`onerror`"),
    (8, "[click here](javascript:pwn())", "`javascript:`"),
    (10, "![picture](data:image/png;base64,cHdu)", "`data:`"),
    (
        12,
        r#"<iframe src="https://pwn.example"></iframe>"#,
        "`<iframe>`",
    ),
    (14, r#"<object data="pwn.swf"></object>"#, "`<object>`"),
    (16, r#"<embed src="pwn.swf">"#, "`<embed>`"),
    (18, "<style>body { color: pwn }</style>", "`<style>`"),
    (
        20,
        r#"<meta http-equiv="refresh" content="0;url=https://pwn.example">"#,
        "`<meta>`",
    ),
    (22, r#"<base href="https://pwn.example/">"#, "`<base>`"),
    (
        24,
        r#"<form action="https://pwn.example/steal">Send</form>"#,
        "`<form>`",
    ),
    (26, "<!-- pwn comment -->", "comment"),
    (
        28,
        r#"Also <a href="javascript:pwn()">a raw link</a>."#,
        "`javascript:`",
    ),
    (30, r#"<p onmouseover="pwn()">Hover</p>"#, "`onmouseover`"),
];

fn hostile_site() -> Fixture {
    let body: String = HOSTILE
        .iter()
        .map(|(_, html, _)| format!("{html}\n\n"))
        .collect();
    let body =
        format!("{body}Kept: <abbr title=\"General Data Protection Regulation\">GDPR</abbr>.");
    Fixture::minimal()
        .file(
            "content/privacy/2025-01-30/en/03-hostile.md",
            &section("Hostile", &body),
        )
        .file(
            "content/privacy/2025-01-30/fr/03-hostile.md",
            &section("Hostile", "Texte."),
        )
}

#[test]
fn raw_html_reaches_neither_the_version_page_nor_the_redline() {
    let site = hostile_site();
    build::build(&Options {
        minify: Some(false),
        ..site.options()
    })
    .unwrap();
    // Redlines compare the text of markdown, not of raw HTML blocks: the
    // text kept from inline HTML and links is in both.
    let everywhere = ["click here", "a raw link", "GDPR"];
    for (page, kept) in [
        ("en/privacy/2025-01-30/index.html", &["Hover", "Send"][..]),
        ("en/privacy/changes/2025-01-30/index.html", &[][..]),
    ] {
        let html = site.read(page);
        for gone in ["pwn", "cHdu", "javascript:", "data:image", "<!--"] {
            assert!(!html.contains(gone), "{page} publishes {gone:?}");
        }
        let text = visible_text(&html);
        for kept in everywhere.iter().chain(kept) {
            assert!(text.contains(kept), "{page} lost the text {kept:?}");
        }
    }
    let page = site.read("en/privacy/2025-01-30/index.html");
    assert!(page.contains(r#"<abbr title="General Data Protection Regulation">GDPR</abbr>"#));
}

#[test]
fn check_reports_every_removed_element_with_its_file_and_line() {
    let site = hostile_site();
    let found: Vec<String> = policy_site::check::check(&site.options())
        .open
        .0
        .iter()
        .map(|d| d.to_string())
        .collect();
    // Comments are authors' notes: never published, and not a finding.
    assert!(
        !found.iter().any(|f| f.contains("HTML comment")),
        "a comment is reported:\n{}",
        found.join("\n")
    );
    for (line, _, what) in HOSTILE.iter().filter(|(_, _, what)| *what != "comment") {
        let place = format!("content/privacy/2025-01-30/en/03-hostile.md:{line}:");
        assert!(
            found
                .iter()
                .any(|f| f.starts_with(&place) && f.contains(what) && f.contains("removed")),
            "no finding for {what} at {place}:\n{}",
            found.join("\n")
        );
    }
}

// ---- URLs are parsed: lookalike local hosts and user names are refused ----

#[test]
fn endpoints_that_only_look_local_or_carry_a_user_are_refused() {
    for (url, why) in [
        ("http://127.0.0.1.evil.example/requests", "must use https"),
        (
            "http://localhost:80@evil.example/requests",
            "user name or password",
        ),
        (
            "https://user:secret@example.com/requests",
            "user name or password",
        ),
        ("http://example.com/requests", "must use https"),
    ] {
        let site = Fixture::minimal().file(
            "policy-site.yaml",
            &format!("{}endpoints: {{requests: '{url}'}}\n", common::CONFIG),
        );
        one_error_mentioning(&site, "policy-site.yaml:4", why);
        let flagged = build::build(&Options {
            requests_endpoint: Some(url.into()),
            ..Fixture::minimal().options()
        });
        assert!(
            messages(flagged)
                .iter()
                .any(|e| e.contains("--requests-endpoint") && e.contains(why)),
            "{url} passed as a flag"
        );
    }
    let local = Fixture::minimal().file(
        "policy-site.yaml",
        &format!(
            "{}endpoints: {{requests: 'http://127.0.0.2:8787/requests'}}\n",
            common::CONFIG
        ),
    );
    local.build().unwrap();
}

#[test]
fn base_url_must_be_https_without_a_user() {
    for (url, why) in [
        ("http://example.com", "must use https"),
        ("https://admin@example.com", "user name or password"),
        ("example.com/legal", "not an absolute https URL"),
    ] {
        let config = common::CONFIG.replace("https://example.com", url);
        one_error_mentioning(
            &Fixture::minimal().file("policy-site.yaml", &config),
            "policy-site.yaml:2",
            why,
        );
    }
}

#[test]
fn invalid_utf8_in_the_configuration_is_placed_by_line_and_column() {
    let mut config = common::CONFIG.as_bytes().to_vec();
    config.extend_from_slice(b"# r\xe9sum\xe9\n");
    let site = Fixture::minimal();
    std::fs::write(site.root().join("policy-site.yaml"), config).unwrap();
    one_error_mentioning(&site, "policy-site.yaml:4", "line 4, column 4");
}

#[test]
fn pages_link_one_banner_file_per_language_checked_by_its_integrity() {
    let site = example_copy();
    site.build().unwrap();
    banner_files_match_their_links(&site);
    assert!(
        site.read("_headers")
            .contains("/consent/*\n  X-Robots-Tag: noindex\n"),
        "search engines are told the banner's files are not pages"
    );
    // Minified pages link a minified banner, hashed as written.
    let config = site.root().join("policy-site.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\nminify: true\n");
    std::fs::write(&config, text).unwrap();
    site.build().unwrap();
    banner_files_match_their_links(&site);
}

/// Each language's pages link one banner file, whose bytes match the
/// integrity hash of the link, and which holds that language's banner.
fn banner_files_match_their_links(site: &Fixture) {
    use base64::Engine;
    use sha2::Digest;
    let mut files = Vec::new();
    for lang in ["en", "fr"] {
        let page = site.read(&format!("{lang}/privacy/index.html"));
        assert!(
            !attribute_values(&page, "id").contains(&"ps-consent".to_string()),
            "the banner is linked, not copied into each page"
        );
        let tag = page
            .split("<link")
            .map(|t| &t[..t.find('>').unwrap_or(t.len())])
            .find(|t| t.contains("data-ps-banner"))
            .expect("the banner's preload link")
            .to_string();
        assert_eq!(attribute_values(&tag, "rel"), ["preload"]);
        let href = attribute_values(&tag, "href").remove(0);
        let bytes = std::fs::read(site.out(href.trim_start_matches('/'))).unwrap();
        let digest = sha2::Sha384::digest(&bytes);
        assert_eq!(
            attribute_values(&tag, "data-ps-banner"),
            [format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )]
        );
        let fragment = String::from_utf8(bytes).unwrap();
        let ids = attribute_values(&fragment, "id");
        assert!(
            ids.contains(&"ps-consent".to_string())
                && ids.contains(&"ps-consent-settings".to_string()),
            "{fragment}"
        );
        let lang_attribute = [
            format!("data-lang=\"{lang}\""),
            format!("data-lang={lang} "),
        ];
        assert!(
            lang_attribute.iter().any(|a| fragment.contains(a.as_str())),
            "{fragment}"
        );
        for other in ["history/index.html", "changes/2025-01-30/index.html"] {
            let other = site.read(&format!("{lang}/privacy/{other}"));
            assert!(other.contains(&tag), "every page links the same file");
        }
        files.push(href);
    }
    assert_ne!(files[0], files[1], "one file per language");
}

#[test]
fn a_site_with_a_banner_publishes_its_global_privacy_control_support() {
    let site = example_copy();
    site.build().unwrap();
    let gpc: serde_json::Value =
        serde_json::from_str(&site.read(".well-known/gpc.json")).expect("gpc.json is JSON");
    let date = gpc["lastUpdate"].as_str().unwrap_or_default();
    assert_eq!(gpc["gpc"], serde_json::json!(true));
    assert!(
        date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
        "lastUpdate is not a YYYY-MM-DD date: {gpc}"
    );
    let page = site.read("en/privacy/index.html");
    assert!(
        page.contains(r#"<link rel="icon" href="data:,">"#)
            || page.contains(r#"<link rel="icon" href="data:,">"#),
        "pages declare no site icon, so browsers ask for /favicon.ico"
    );
}

/// `build` streams pages to disk as they are rendered; what it writes must be
/// exactly what `compile` holds in memory (for `serve` and `check`).
#[test]
fn a_streamed_build_writes_exactly_what_compile_produces() {
    let dir = tempfile::tempdir().unwrap();
    let spec = policy_site::corpus::Spec {
        policies: 3,
        versions: 6,
        sections: 4,
        words: 12,
        ..Default::default()
    };
    policy_site::corpus::generate(&spec, dir.path(), None).unwrap();
    // The build loads the consent policy first (the banner is made from
    // it): one that is not first in folder order.
    let config = dir.path().join("policy-site.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("policy: policy-0", "policy: policy-2"),
    )
    .unwrap();
    let options = Options {
        root: dir.path().to_path_buf(),
        ..Default::default()
    };
    let compiled = build::compile(&options).unwrap();
    let built = build::build(&options).unwrap();
    assert!(built.outputs.is_empty(), "build keeps no outputs in memory");
    let public = dir.path().join("public");
    let mut written: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(&public)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        // The ownership marker is the write stage's own, not a page.
        .filter(|e| e.file_name() != policy_site::output::MARKER)
        .map(|e| {
            let file = e.path().strip_prefix(&public).unwrap();
            (file.display().to_string(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    written.sort();
    let expected: Vec<(String, Vec<u8>)> = compiled
        .outputs
        .into_iter()
        .map(|o| (o.file, o.bytes))
        .collect();
    assert!(expected.len() > 3 * 6 * 2 * 2, "{} files", expected.len());
    assert_eq!(
        written.iter().map(|(f, _)| f).collect::<Vec<_>>(),
        expected.iter().map(|(f, _)| f).collect::<Vec<_>>()
    );
    assert!(written == expected, "a written file differs from compile's");
}
#[test]
fn a_redline_page_with_several_kinds_of_change_reads_as_expected() {
    let site = Fixture::minimal()
        .file(
            "content/privacy/2024-01-10/en/02-retention.md",
            &section(
                "Retention",
                "We keep data for 90 days, then we delete it.\n\nBackups are kept for thirty days and then overwritten by newer copies.\n\nAsk [us](mailto:a@example.com) *first*.",
            ),
        )
        .file(
            "content/privacy/2025-01-30/en/02-retention.md",
            &section(
                "Retention",
                "We keep data for 60 days; then we delete it.\n\nAsk [us](mailto:b@example.com) first.",
            ),
        )
        .file(
            "content/privacy/2025-01-30/en/01-collection.md",
            &section(
                "Data collection",
                "We collect your name.\n\nBackups are kept for 30 days and then overwritten by newer copies.",
            ),
        );
    let page = changes_page(&site, "en");
    let article = &page[page.find("<article").unwrap()..page.find("</article>").unwrap() + 10];
    let readable = article
        .replace("<section", "\n<section")
        .replace("<h2", "\n<h2")
        .replace("<p", "\n<p")
        .replace("<li", "\n<li")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(readable);
}

#[test]
fn a_version_changing_only_punctuation_says_so_in_the_history() {
    let site = two_versions(
        &section("Retention", "We keep data for 90 days, then we delete it."),
        &section("Retention", "We keep data for 90 days; then we delete it."),
    );
    site.build().unwrap();
    let history = visible_text(&site.read("en/privacy/history/index.html"));
    assert!(
        history.contains("+0 words added, −0 words removed; punctuation changed: 1"),
        "{history}"
    );
}

/// Trial report: `build --out .` printed ": error: refusing…", an empty place.
#[test]
fn a_refused_output_folder_that_is_the_root_is_named_dot_not_left_empty() {
    let site = site_with_sources();
    let home = tempfile::tempdir().unwrap();
    let root = site.root().canonicalize().unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(env!("CARGO_BIN_EXE_policy-site"))
            .arg("build")
            .args(args)
            .env("HOME", home.path())
            .current_dir(&root)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = run(&["--out".as_ref(), ".".as_ref()]);
    assert!(
        stderr.starts_with(".: error: refusing to use this as the output folder"),
        "{stderr}"
    );
    let stderr = run(&[
        "--root".as_ref(),
        root.as_os_str(),
        "--out".as_ref(),
        root.as_os_str(),
    ]);
    assert!(
        stderr.starts_with(".: error: refusing to use this as the output folder"),
        "{stderr}"
    );
}

/// `serve` rebuilds incrementally: it reads again only the versions a change
/// lies in and renders only the pages whose inputs changed. After every edit
/// of a series (text in the newest and in an old version, a version added,
/// a section removed, a summary, the configuration, a template, a broken
/// file fixed later, an unknown change), its site must be byte for byte the
/// site a build from scratch makes.
#[test]
fn incremental_rebuilds_after_a_series_of_edits_equal_builds_from_scratch() {
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let spec = policy_site::corpus::Spec {
        policies: 2,
        versions: 12,
        sections: 5,
        words: 15,
        ..Default::default()
    };
    policy_site::corpus::generate(&spec, &root, None).unwrap();
    // A short window of redlines against the current version, so that most
    // versions are kept in outline between rebuilds and must be read again
    // when an edit next to them makes their redline again.
    let config = root.join("policy-site.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}redlines_to_current: 2\n")).unwrap();
    let options = Options {
        root: root.clone(),
        date: Some("2000-06-01".parse().unwrap()),
        ..Default::default()
    };
    let mut incremental = build::Incremental::new(options.clone());
    let scratch = || -> BTreeMap<String, Vec<u8>> {
        let compiled = build::compile(&options).unwrap();
        compiled
            .outputs
            .into_iter()
            .map(|o| (o.file, o.bytes))
            .collect()
    };
    let first = incremental.rebuild(None).unwrap();
    assert_eq!(first.reused, 0);
    let total = first.rendered;
    let versions = |policy: &str| -> Vec<std::path::PathBuf> {
        let mut dirs: Vec<_> = std::fs::read_dir(root.join("content").join(policy))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        dirs
    };
    let first_section = |version: &std::path::Path, lang: &str| {
        let mut files: Vec<_> = std::fs::read_dir(version.join(lang))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.into_iter().nth(1).unwrap()
    };
    let append = |file: &std::path::Path, text: &str| {
        let mut body = std::fs::read_to_string(file).unwrap();
        body.push_str(text);
        std::fs::write(file, body).unwrap();
        file.to_path_buf()
    };
    let check = |incremental: &mut build::Incremental,
                 changed: Option<Vec<std::path::PathBuf>>,
                 what: &str| {
        let rebuilt = incremental.rebuild(changed).unwrap();
        let files: BTreeMap<String, Vec<u8>> = rebuilt
            .files
            .iter()
            .map(|(k, v)| (k.clone(), v.to_vec()))
            .collect();
        let expected = scratch();
        let differing: Vec<&String> = expected
            .keys()
            .chain(files.keys())
            .filter(|k| expected.get(*k) != files.get(*k))
            .collect();
        assert!(
            differing.is_empty(),
            "after {what}, these differ from a build from scratch: {differing:?}"
        );
        rebuilt
    };

    // Text in the newest version: its pages, its redlines, history and feed.
    let newest = versions("policy-0").last().unwrap().clone();
    let edited = append(
        &first_section(&newest, "en"),
        "\nA sentence added to the newest version.\n",
    );
    let rebuilt = check(
        &mut incremental,
        Some(vec![edited]),
        "an edit to the newest version",
    );
    assert!(
        rebuilt.reused > 0 && rebuilt.rendered < total / 3,
        "{} rendered of {total}",
        rebuilt.rendered
    );

    // Text in an old version: nothing newer than its successor is redone.
    let old = versions("policy-1")[2].clone();
    let edited = append(&first_section(&old, "fr"), "\nUne phrase ajoutée.\n");
    let rebuilt = check(
        &mut incremental,
        Some(vec![edited]),
        "an edit to an old version",
    );
    assert!(
        rebuilt.rendered <= 12,
        "{} pages rendered for an old version's edit",
        rebuilt.rendered
    );

    // A version added (a copy of the newest, reworded).
    let added = root.join("content/policy-0/2000-04-03");
    let copy = Command::new("cp")
        .arg("-r")
        .arg(&newest)
        .arg(&added)
        .status()
        .unwrap();
    assert!(copy.success());
    append(
        &first_section(&added, "en"),
        "\nNew in the added version.\n",
    );
    check(
        &mut incremental,
        Some(vec![added.clone()]),
        "a version added",
    );

    // A section removed from a version in both languages.
    let old = versions("policy-0")[5].clone();
    let last_section = |lang: &str| {
        let mut files: Vec<_> = std::fs::read_dir(old.join(lang))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.pop().unwrap()
    };
    let removed: Vec<_> = ["en", "fr"].iter().map(|l| last_section(l)).collect();
    for file in &removed {
        std::fs::remove_file(file).unwrap();
    }
    check(&mut incremental, Some(removed), "a section removed");

    // A summary, the configuration, a template.
    let yaml = versions("policy-1")[4].join("version.yaml");
    std::fs::write(
        &yaml,
        "material: true\nsummary: {en: Reworded., fr: Reformulé.}\n",
    )
    .unwrap();
    check(&mut incremental, Some(vec![yaml]), "a summary changed");
    let config = root.join("policy-site.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("title: {en: Corpus", "title: {en: Corpus site", 1),
    )
    .unwrap();
    check(
        &mut incremental,
        Some(vec![config]),
        "the configuration changed",
    );
    let icon = root.join("templates/partials/icon.html");
    std::fs::create_dir_all(icon.parent().unwrap()).unwrap();
    std::fs::write(&icon, "<link rel=\"icon\" href=\"data:,x\">\n").unwrap();
    check(&mut incremental, Some(vec![icon]), "a template added");

    // A broken file: the rebuild fails; fixed along with another edit, the
    // broken version is read again although only the other edit is reported.
    let broken = first_section(&versions("policy-1")[7], "en");
    let good = std::fs::read_to_string(&broken).unwrap();
    std::fs::write(&broken, "no front matter\n").unwrap();
    assert!(incremental.rebuild(Some(vec![broken.clone()])).is_err());
    std::fs::write(&broken, good.replace("\n\n", "\n\nFixed. ")).unwrap();
    let other = append(&first_section(&versions("policy-0")[1], "en"), "\nOther.\n");
    check(&mut incremental, Some(vec![other]), "a broken file fixed");

    // A change the watcher could not name: everything is read again.
    check(&mut incremental, None, "an unknown change");
}

/// Requests are made under the policy in force: an archived version shows a
/// link to each form's own page instead of a copy of the form, while the
/// current and upcoming versions embed it.
#[test]
fn archived_versions_link_to_forms_that_current_and_upcoming_versions_embed() {
    let site = example_copy();
    site.build().unwrap();
    for lang in ["en", "fr"] {
        let archived = site.read(&format!("{lang}/privacy/2023-06-12/index.html"));
        assert!(
            !archived.contains("<form"),
            "{lang}: an archived version embeds a form"
        );
        assert!(
            archived.contains(&format!("href=\"/{lang}/requests/access/\"")),
            "{lang}: the archived version does not link to the access form"
        );
        for page in [
            "privacy/index.html",
            "privacy/2025-01-30/index.html",
            "privacy/2025-03-03/index.html",
        ] {
            let html = site.read(&format!("{lang}/{page}"));
            assert!(html.contains("<form"), "{lang}/{page} embeds no form");
        }
    }
}
