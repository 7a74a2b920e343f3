//! Keeps the house one-way: reads every `crate::…` and `super::…` path in
//! `src/` and fails when a module reaches up the pipeline, or when files of
//! one folder lean on each other in a circle. A test, not part of the library:
//! the order lives here and in the README's "Architecture" line, which must
//! agree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The pipeline, top to bottom. A module may use modules of later groups
/// only; the modules of one group do not use each other. `main` and `lib`
/// stand above all of them.
const LAYERS: &[&[&str]] = &[
    &["cmd"],
    &["serve"],
    &["import"],
    &["check", "scan"],
    &["revise", "scaffold", "corpus"],
    &["build"],
    &["render"],
    &["diff", "proof"],
    &["output", "receive"],
    &["content"],
    &["i18n"],
    &["config"],
    &["consent", "rights", "assets"],
    &["markdown", "yaml"],
    &["sanitize", "error", "server"],
    &["vocabulary", "date"],
];

/// The README's rendering of [`LAYERS`]: groups joined by " → ", the
/// modules of a group by " · ".
fn layers_line() -> String {
    LAYERS
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(" · ")
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Every module of the crate (`a::b` for `src/a/b.rs` and `src/a/b/mod.rs`)
/// with its source, test modules and `#[cfg(test)]` blocks left out.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for entry in walkdir::WalkDir::new(src)
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(src).expect("walked from src");
        let mut parts: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        if parts.iter().any(|p| p == "tests") || parts == ["main"] || parts == ["lib"] {
            continue;
        }
        if parts == ["architecture"] {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("a readable source");
        found.insert(parts.join("::"), code_only(&text));
    }
    found
}

/// The text without comments and without what follows `#[cfg(test)]` (test
/// modules sit at the end of a file and may use anything).
fn code_only(text: &str) -> String {
    let mut code = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// The paths a module names: `crate::a::b…` and `super::x…`, resolved to
/// module paths (with `use crate::{a, b}` and `super::{x, y}` lists opened).
fn named_paths(module: &str, code: &str) -> BTreeSet<Vec<String>> {
    let mut paths = BTreeSet::new();
    let parent: Vec<String> = {
        let mut p: Vec<String> = module.split("::").map(String::from).collect();
        p.pop();
        p
    };
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            for tail in expand(rest) {
                let mut path = base.clone();
                path.extend(tail);
                paths.insert(path);
            }
        }
    }
    paths
}

/// The identifier paths at the start of `rest` (`a::b::C`, or each entry
/// of a `{a, b::c}` list, one level deep).
fn expand(rest: &str) -> Vec<Vec<String>> {
    fn path(text: &str) -> Vec<String> {
        let mut parts = Vec::new();
        let mut rest = text;
        loop {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end == 0 {
                break;
            }
            parts.push(rest[..end].to_string());
            match rest[end..].strip_prefix("::") {
                Some(next) => rest = next,
                None => break,
            }
        }
        parts
    }
    if let Some(list) = rest.strip_prefix('{') {
        let end = list.find('}').unwrap_or(list.len());
        list[..end]
            .split(',')
            .map(|item| path(item.trim()))
            .filter(|p| !p.is_empty())
            .collect()
    } else {
        vec![path(rest)]
    }
}

/// The longest prefix of `path` that is a module.
fn module_of(path: &[String], known: &BTreeMap<String, String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| known.contains_key(m))
}

fn is_within(inner: &str, outer: &str) -> bool {
    inner == outer || inner.starts_with(&format!("{outer}::"))
}

/// Module → the modules it uses, leaving out its own ancestors (a folder's
/// `mod.rs` is its door: its files may use what it holds) and descendants.
fn edges(known: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, code) in known {
        for path in named_paths(module, code) {
            let Some(target) = module_of(&path, known) else {
                continue;
            };
            if is_within(module, &target) || is_within(&target, module) {
                continue;
            }
            edges.entry(module.clone()).or_default().insert(target);
        }
    }
    edges
}

fn top(module: &str) -> &str {
    module.split("::").next().expect("non-empty")
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|group| group.contains(&top))
}

/// `module → target` pairs that climb the pipeline or stay in one group.
fn climbs(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut found = Vec::new();
    for (module, targets) in edges {
        for target in targets {
            let (from, to) = (top(module), top(target));
            if from == to {
                continue;
            }
            match (layer_of(from), layer_of(to)) {
                (Some(a), Some(b)) if a < b => {}
                (Some(_), Some(_)) => found.push(format!("{module} uses {target}")),
                _ => found.push(format!("{module} → {target}: place both in LAYERS")),
            }
        }
    }
    found
}

/// A circle among the modules of one top-level folder, if any.
fn circle_within_folders(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if top(next) != top(node) {
                continue;
            }
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|m| m == next).expect("on stack");
                    let mut circle = stack[start..].to_vec();
                    circle.push(next.clone());
                    return Some(circle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node) {
            if let Some(c) = visit(node, edges, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn crate_edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    edges(&modules(&src))
}

#[test]
fn no_module_uses_one_above_it_in_the_pipeline() {
    let climbs = climbs(&crate_edges());
    assert!(
        climbs.is_empty(),
        "imports against the pipeline order:\n{}",
        climbs.join("\n")
    );
}

#[test]
fn no_files_of_one_folder_use_each_other_in_a_circle() {
    if let Some(circle) = circle_within_folders(&crate_edges()) {
        panic!("a circle: {}", circle.join(" → "));
    }
}

#[test]
fn every_top_level_module_has_its_place_in_the_pipeline() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let unplaced: Vec<String> = modules(&src)
        .keys()
        .map(|m| top(m).to_string())
        .filter(|t| layer_of(t).is_none())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules missing from LAYERS: {unplaced:?}"
    );
}

#[test]
fn the_readme_documents_the_same_pipeline_order() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let line = layers_line();
    assert!(
        readme.contains(&line),
        "README.md should hold the pipeline order as the test knows it:\n{line}"
    );
}

#[test]
fn the_checker_sees_a_climb_and_a_circle() {
    let mut known = BTreeMap::new();
    known.insert(
        "config".to_string(),
        "use crate::render::Env;\n".to_string(),
    );
    known.insert("render".to_string(), "use crate::config;\n".to_string());
    known.insert(
        "render::pages".to_string(),
        "use super::{files, Env};\n".to_string(),
    );
    known.insert(
        "render::files".to_string(),
        "fn f() { crate::render::pages::x(); }\n// crate::config::gone\n".to_string(),
    );
    let edges = edges(&known);
    assert_eq!(climbs(&edges), vec!["config uses render".to_string()]);
    let circle = circle_within_folders(&edges).expect("pages ↔ files");
    assert_eq!(circle.first(), circle.last());
    assert!(circle.contains(&"render::pages".to_string()));
    assert!(circle.contains(&"render::files".to_string()));
}
