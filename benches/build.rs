//! Build benchmarks, reported as ratios measured in one run (the machine is
//! shared and noisy): `cargo bench --bench build`.
//!
//! - the share of build time spent diffing, on the bundled example and on a
//!   generated corpus with hundreds of versions;
//! - word-level diffing of a paragraph that was entirely rewritten, against
//!   one with a single word changed (the bound on pathological input).

use policy_site::build::{self, Options};
use policy_site::markdown::{Block, BlockKind, Run, Style};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    diff_share(
        "bundled example",
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    );
    let corpus = tempfile_dir("corpus");
    generate_corpus(&corpus, 300, 10);
    diff_share(
        "generated corpus (300 versions x 2 languages x 10 sections)",
        &corpus,
    );
    pathological_paragraph();
    let _ = std::fs::remove_dir_all(&corpus);
    let example = reload_latency(
        "bundled example",
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    );
    let policies = tempfile_dir("policies");
    generate_policies(&policies, 5, 40, 10);
    let corpus_copy = reload_latency(
        "generated corpus (5 policies x 40 versions x 2 languages x 10 sections)",
        &policies,
    );
    for dir in [policies, example, corpus_copy] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Edit-to-reload latency of `serve`: from writing a section to the
/// `reload` event reaching a client, over ten edits of a copy of `root`
/// (median and worst), plus a first full build for comparison.
/// Returns the copy it served, to remove once the bench is done.
fn reload_latency(name: &str, root: &Path) -> PathBuf {
    use std::io::{Read, Write};
    let site = tempfile_dir(&format!("serve-{}", name.len()));
    copy_sources(root, &site);
    let started = Instant::now();
    let running = policy_site::serve::start(policy_site::serve::Settings {
        root: site.clone(),
        port: 0,
        quiet: true,
    })
    .expect("serve starts");
    let first = started.elapsed();
    let mut events = std::net::TcpStream::connect(("127.0.0.1", running.port)).unwrap();
    events
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    events
        .write_all(b"GET /__policy-site/events HTTP/1.1\r\nHost: bench\r\n\r\n")
        .unwrap();
    let mut wait_for = |event: &str| {
        let mut seen = String::new();
        let mut buf = [0; 8192];
        while !seen.contains(event) {
            let n = events.read(&mut buf).expect("the event stream answers");
            assert!(n > 0, "the event stream closed");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    wait_for("event: hello");
    let section = walk_sections(&site.join("content"));
    let original = std::fs::read_to_string(&section).unwrap();
    let mut latencies: Vec<f64> = (0..10)
        .map(|i| {
            std::fs::write(&section, format!("{original}\nEdit number {i}.\n")).unwrap();
            let written = Instant::now();
            wait_for("event: reload");
            written.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    println!(
        "serve, {name}: first build {:.0} ms; edit to reload median {:.0} ms, worst {:.0} ms (the file is closed after writing, so serve settles for 5 ms, not the 50 ms debounce)",
        first.as_secs_f64() * 1e3,
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
    );
    site
}

/// The first default-language section of the newest version of the first policy.
fn walk_sections(content: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = walk(content)
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "md") && p.to_string_lossy().contains("/en/")
        })
        .collect();
    files.sort();
    files.pop().expect("a section")
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The site's sources (configuration, content, templates, static, lock),
/// without builds or code.
fn copy_sources(from: &Path, to: &Path) {
    for name in [
        "policy-site.yaml",
        "policy-site.lock",
        "content",
        "templates",
        "static",
    ] {
        let source = from.join(name);
        if source.is_file() {
            std::fs::copy(&source, to.join(name)).unwrap();
        } else if source.is_dir() {
            for file in walk(&source) {
                let target = to.join(file.strip_prefix(from).unwrap());
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::copy(&file, target).unwrap();
            }
        }
    }
}

/// `policies` policies shaped like `generate_corpus`'s, side by side.
fn generate_policies(root: &Path, policies: usize, versions: usize, sections: usize) {
    for p in 0..policies {
        let one = tempfile_dir(&format!("policy-{p}"));
        generate_corpus(&one, versions, sections);
        std::fs::create_dir_all(root.join("content")).unwrap();
        std::fs::rename(
            one.join("content/policy"),
            root.join(format!("content/policy-{p}")),
        )
        .unwrap();
        if p == 0 {
            std::fs::rename(one.join("policy-site.yaml"), root.join("policy-site.yaml")).unwrap();
        }
        let _ = std::fs::remove_dir_all(&one);
    }
}

fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("policy-site-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Best of five compiles (no writing), with the diff stage's share.
fn diff_share(name: &str, root: &Path) {
    let options = Options {
        root: root.to_path_buf(),
        ..Default::default()
    };
    let mut best = None;
    for _ in 0..5 {
        let compiled = build::compile(&options).expect("the bench site builds");
        let t = compiled.timings.clone();
        let total = t.total().as_secs_f64();
        if best.as_ref().is_none_or(|(b, _, _, _)| total < *b) {
            best = Some((
                total,
                t.diff.as_secs_f64(),
                compiled.pages,
                compiled.diffs.len(),
            ));
        }
    }
    let (total, diff, pages, diffs) = best.unwrap();
    println!("{name}: {pages} pages, {diffs} diffs; build {:.1} ms, diffing {:.1} ms = {:.1}% of the build", total * 1e3, diff * 1e3, diff / total * 100.0);
}

/// A policy with `versions` versions; each changes a few words of one
/// section, re-wraps another, and every tenth inserts a section.
fn generate_corpus(root: &Path, versions: usize, sections: usize) {
    let write = |path: PathBuf, text: String| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        root.join("policy-site.yaml"),
        "title: {en: Bench, fr: Banc}\nbase_url: https://example.com\nlanguages: [en, fr]\n".into(),
    );
    write(
        root.join("content/policy/policy.yaml"),
        "title: {en: Policy, fr: Politique}\n".into(),
    );
    let paragraph = |seed: usize, n: usize| -> String {
        (0..60)
            .map(|w| format!("word{}", (w * 7 + seed * 13 + n) % 97))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for v in 0..versions {
        let date = format!("{:04}-{:02}-{:02}", 2000 + v / 12, v % 12 + 1, 1 + v % 28);
        let dir = root.join("content/policy").join(&date);
        write(
            dir.join("version.yaml"),
            format!(
                "material: {}\nsummary: {{en: Version {v}., fr: Version {v}.}}\n",
                v % 5 == 0
            ),
        );
        let count = sections + v / 10;
        for lang in ["en", "fr"] {
            for s in 1..=count {
                let body: Vec<String> = (0..4)
                    .map(|p| {
                        let changed = if s == v % count + 1 && p == 1 { v } else { 0 };
                        paragraph(s * 10 + p, changed)
                    })
                    .collect();
                write(
                    dir.join(lang).join(format!("{s:02}-s{s}.md")),
                    format!(
                        "---\ntitle: Section {s}\nid: s{s}\n---\n{}\n",
                        body.join("\n\n")
                    ),
                );
            }
        }
    }
}

fn block(text: &str) -> Block {
    Block {
        kind: BlockKind::Paragraph,
        runs: vec![Run {
            text: text.to_string(),
            style: Style::default(),
        }],
    }
}

/// A 1,500-word paragraph entirely rewritten vs one word changed: the
/// rewrite must not cost quadratically more.
fn pathological_paragraph() {
    let old: Vec<String> = (0..1500).map(|i| format!("alpha{i}")).collect();
    let rewritten: Vec<String> = (0..1500).map(|i| format!("beta{i}")).collect();
    let mut one_word = old.clone();
    one_word[750] = "changed".into();
    let time = |new: &[String]| {
        let (a, b) = (block(&old.join(" ")), block(&new.join(" ")));
        let start = Instant::now();
        for _ in 0..20 {
            std::hint::black_box(policy_site::diff::diff_blocks(
                std::slice::from_ref(&a),
                std::slice::from_ref(&b),
            ));
        }
        start.elapsed().as_secs_f64() / 20.0
    };
    let (one, all) = (time(&one_word), time(&rewritten));
    println!("1,500-word paragraph: one word changed {:.2} ms, entirely rewritten {:.2} ms (ratio {:.1}x)", one * 1e3, all * 1e3, all / one);
}
