//! Build benchmarks, reported as ratios measured in one run (the machine is
//! shared and noisy): `cargo bench --bench build`.
//!
//! - full builds of a generated corpus of 2,000 version-pages (`corpus`
//!   module): median CPU time and peak memory over fresh processes, each
//!   stage's share, and the floor (reading the sources and writing the
//!   output with nothing in between);
//! - `serve`'s edit-to-reload latency on the bundled example and the corpus;
//! - the diff stage's share on the bundled example, and word-level diffing
//!   of a rewritten paragraph against a one-word change.
//!
//! `POLICY_SITE_BENCH=quick` uses a corpus of 200 version-pages instead;
//! `POLICY_SITE_BENCH_VERSIONS=500` one of 10,000 (10 policies × 500
//! versions × 2 languages).

// The allocator `policy-site` itself runs with (see `main.rs`): `serve`
// runs inside this process, and glibc's allocator would make it slower here
// than it is for its users.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use policy_site::build::{self, Options};
use policy_site::markdown::{Block, BlockKind, Run, Style};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    // A quick run (`POLICY_SITE_BENCH=quick`) skips the 2,000-page corpus.
    let quick = std::env::var("POLICY_SITE_BENCH").is_ok_and(|v| v == "quick");
    diff_share(
        "bundled example",
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    );
    pathological_paragraph();
    let example = reload_latency(
        "bundled example",
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        10,
    );
    let _ = std::fs::remove_dir_all(example);
    let versions = std::env::var("POLICY_SITE_BENCH_VERSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 10 } else { 100 });
    let corpus = tempfile_dir("corpus");
    let spec = policy_site::corpus::Spec {
        versions,
        ..Default::default()
    };
    policy_site::corpus::generate(&spec, &corpus, None).expect("the corpus is written");
    let name = format!(
        "corpus of {} version-pages ({} policies x {versions} versions x 2 languages)",
        spec.policies * versions * 2,
        spec.policies
    );
    full_build(&name, &corpus, if quick { 3 } else { 5 });
    let served = reload_latency(&name, &corpus, 5);
    for dir in [corpus, served] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Full builds of `root` (each in a fresh process, as a user runs them):
/// median CPU time and peak memory, each stage's share of the build, and the
/// floor: reading every source and writing every output byte with nothing in
/// between.
fn full_build(name: &str, root: &Path, runs: usize) {
    let out = root.join("public");
    let measured: Vec<(f64, f64, f64)> = (0..runs)
        .map(|_| {
            let _ = std::fs::remove_dir_all(&out);
            let report = std::process::Command::new("/usr/bin/time")
                .args([
                    "-f",
                    "%U %S %M %e",
                    env!("CARGO_BIN_EXE_policy-site"),
                    "build",
                    "--quiet",
                    "--root",
                ])
                .arg(root)
                .output()
                .expect("/usr/bin/time runs (apt-get install time)");
            assert!(
                report.status.success(),
                "{}",
                String::from_utf8_lossy(&report.stderr)
            );
            let text = String::from_utf8_lossy(&report.stderr);
            let f: Vec<f64> = text
                .lines()
                .last()
                .unwrap()
                .split(' ')
                .map(|x| x.parse().unwrap())
                .collect();
            (f[0] + f[1], f[2] / 1024.0, f[3])
        })
        .collect();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let cpu = median(&mut measured.iter().map(|m| m.0).collect());
    let peak = median(&mut measured.iter().map(|m| m.1).collect());
    let wall = median(&mut measured.iter().map(|m| m.2).collect());
    let options = Options {
        root: root.to_path_buf(),
        ..Default::default()
    };
    let built = build::build(&options).expect("the bench site builds");
    let t = &built.timings;
    let sum = t.total().as_secs_f64();
    let shares: Vec<String> = t
        .stages()
        .iter()
        .map(|(n, d)| format!("{n} {:.0}%", d.as_secs_f64() / sum * 100.0))
        .collect();
    let floor = floor(root, &out);
    println!(
        "full build, {name}: {} pages; median of {runs}: CPU {cpu:.2} s ({:.2} ms per version-page), peak memory {peak:.0} MB, wall {wall:.2} s",
        built.pages,
        cpu * 1e3 / (versions_in(root) as f64),
    );
    println!(
        "  stage shares (time summed over threads; load is reading and markdown): {}",
        shares.join(", ")
    );
    println!("  floor (read every source, write every output byte): {floor:.2} s CPU; the build is {:.1}x the floor", cpu / floor);
}

/// CPU time (user + system) this process has used, from /proc (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn versions_in(root: &Path) -> usize {
    walk(&root.join("content"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.parent().unwrap().to_path_buf())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// Reads every source file, then writes every file of `built` again into a
/// fresh folder: the least any build of this site must do.
fn floor(root: &Path, built: &Path) -> f64 {
    let outputs: Vec<(PathBuf, Vec<u8>)> = walk(built)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(built).unwrap().to_path_buf(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    let target = tempfile_dir("floor");
    let started = cpu_seconds();
    let mut read = 0;
    for file in walk(&root.join("content")) {
        read += std::hint::black_box(std::fs::read(&file).unwrap()).len();
    }
    for (file, bytes) in &outputs {
        let path = target.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    let elapsed = cpu_seconds() - started;
    assert!(read > 0);
    let _ = std::fs::remove_dir_all(target);
    elapsed
}

/// Edit-to-reload latency of `serve`: from writing a section to the
/// `reload` event reaching a client, over `edits` edits of a copy of `root`
/// (median and worst), plus a first full build for comparison.
/// Returns the copy it served, to remove once the bench is done.
fn reload_latency(name: &str, root: &Path, edits: usize) -> PathBuf {
    use std::io::{Read, Write};
    let site = tempfile_dir(&format!("serve-{}", name.len()));
    copy_sources(root, &site);
    // Peak memory from here on is serve's (Linux: 5 resets the peak).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
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
    let mut latencies: Vec<f64> = (0..edits)
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
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |field: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    println!(
        "serve, {name}: memory {:.0} MB at its peak, {:.0} MB after the edits",
        kb("VmHWM:") / 1024.0,
        kb("VmRSS:") / 1024.0
    );
    drop(running);
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

fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("policy-site-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Median of five compiles (no writing), with the diff stage's share.
fn diff_share(name: &str, root: &Path) {
    let options = Options {
        root: root.to_path_buf(),
        ..Default::default()
    };
    let mut runs: Vec<(f64, f64, usize, usize)> = (0..5)
        .map(|_| {
            let compiled = build::compile(&options).expect("the bench site builds");
            let t = &compiled.timings;
            (
                t.wall.as_secs_f64(),
                t.diff.as_secs_f64(),
                compiled.pages,
                compiled.diffs,
            )
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (total, diff, pages, diffs) = runs[runs.len() / 2];
    println!("{name}: {pages} pages, {diffs} diffs; build {:.1} ms, diffing {:.1} ms = {:.1}% of the build (medians of 5)", total * 1e3, diff * 1e3, diff / total * 100.0);
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
