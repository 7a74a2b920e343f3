//! The edge that writes: minifies pages, then writes the whole site into a
//! temporary folder beside the output and swaps it in only once everything
//! is written, so a failed build never leaves a half-written site. The
//! output folder is owned: every build leaves a marker file in it, and
//! `guard` refuses to replace a folder without it, or one holding sources.

use crate::error::Diagnostic;
use std::path::{Component, Path, PathBuf};

/// One output file: its path inside the output folder, and its bytes.
#[derive(Debug, Clone)]
pub struct Output {
    pub file: String,
    pub bytes: Vec<u8>,
}

impl Output {
    pub fn is_html(&self) -> bool {
        self.file.ends_with(".html")
    }
}

/// Minifies an HTML page without changing what a reader sees: spaces between
/// inline elements are kept, and scripts and styles are external anyway.
pub fn minify(html: &[u8]) -> Vec<u8> {
    let mut cfg = minify_html::Cfg::new();
    cfg.keep_closing_tags = true;
    cfg.keep_html_and_head_opening_tags = true;
    cfg.minify_css = false;
    cfg.minify_js = false;
    cfg.keep_input_type_text_attr = true;
    minify_html::minify(html, &cfg)
}

/// The file every build writes at the top of its output: a folder holding it
/// was written by policy-site, and the next build may replace it.
pub const MARKER: &str = ".policy-site-output";

const MARKER_TEXT: &str = "This folder is written by `policy-site build`, which replaces all of it on every build.\nDelete this file to keep the folder from being replaced.\n";

/// The site's own files and folders, which no output may be, hold or lie in.
const SOURCES: [&str; 5] = [
    crate::vocabulary::CONTENT_DIR,
    crate::vocabulary::TEMPLATES_DIR,
    crate::vocabulary::STATIC_DIR,
    crate::vocabulary::CONFIG_FILE,
    crate::vocabulary::LOCK_FILE,
];

/// Refuses, before anything is written, an output folder that the build must
/// not replace: `/` or one holding the user's home, one that is, holds or
/// lies inside the site's sources, one that holds the site, and an existing
/// folder that is neither empty nor marked as a previous build's output.
pub fn guard(root: &Path, out: &Path) -> Result<(), Diagnostic> {
    check_protected(out)?;
    let (root, target) = (resolve(root), resolve(out));
    for name in SOURCES {
        let source = root.join(name);
        let why = if source == target {
            format!("it is the site's `{name}`")
        } else if target.starts_with(&source) {
            format!("it lies inside the site's `{name}`")
        } else {
            continue;
        };
        return Err(refusal(out, &why));
    }
    if root.starts_with(&target) {
        let why = if root == target {
            "it is the site's own folder".to_string()
        } else {
            format!("it holds the site's own folder ({})", root.display())
        };
        return Err(refusal(out, &why));
    }
    check_ownership(out)
}

/// Never `/`, nor the user's home or a folder holding it.
fn check_protected(out: &Path) -> Result<(), Diagnostic> {
    let target = resolve(out);
    if target.parent().is_none() {
        return Err(refusal(out, "it is the root of the file system"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    match home.map(|h| resolve(Path::new(&h))) {
        Some(home) if home.starts_with(&target) => {
            Err(refusal(out, "it is or holds your home folder"))
        }
        _ => Ok(()),
    }
}

/// An existing folder is replaced only when empty or marked by a build.
fn check_ownership(out: &Path) -> Result<(), Diagnostic> {
    let Ok(mut entries) = std::fs::read_dir(out) else {
        return Ok(()); // absent (or not a folder: reported when writing)
    };
    if entries.next().is_none() || out.join(MARKER).is_file() {
        return Ok(());
    }
    Err(refusal(
        out,
        &format!(
            "it already holds files that policy-site did not write (it has no `{MARKER}` file)"
        ),
    )
    .with_hint("choose a new or empty folder with --out or `output:`; if this folder is the output of a build made before outputs were marked, delete it once; nothing was written"))
}

fn refusal(out: &Path, why: &str) -> Diagnostic {
    Diagnostic::new(out, format!("refusing to use this as the output folder: {why}; building would replace all of it"))
        .with_hint("choose another folder with --out or `output:` (a new or empty one, or a previous build's output); nothing was written")
}

/// `path` made absolute with symbolic links resolved, also where its end
/// does not exist yet, so that two spellings of one folder compare equal.
fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut resolved = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            other => {
                resolved.push(other);
                if let Ok(real) = resolved.canonicalize() {
                    resolved = real;
                }
            }
        }
    }
    resolved
}

/// A site being written: files go into a hidden folder beside the output
/// as they are produced (from many threads), and `finish` swaps it in. The
/// folder is removed when the build fails (the `Staging` is dropped).
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    finished: bool,
}

fn cannot(out: &Path, what: &str, path: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::new(out, format!("cannot write the output folder: {what} {}: {e}", path.display()))
        .with_hint("choose a folder you can write to with --out, or fix its permissions; the previous site was left as it was")
}

impl Staging {
    /// Creates the staging folder beside `out` (the output stays untouched).
    /// Refuses `/`, the home folder and a folder no build wrote (see
    /// `guard`, which the build calls first with the site's root too).
    pub fn create(out: &Path) -> Result<Staging, Diagnostic> {
        check_protected(out)?;
        check_ownership(out)?;
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "public".into());
        let dir = parent.join(format!(".{name}.building-{}", std::process::id()));
        std::fs::create_dir_all(parent).map_err(|e| cannot(out, "creating", parent, e))?;
        if out.exists() && !out.is_dir() {
            return Err(
                Diagnostic::new(out, "the output path exists and is not a folder")
                    .with_hint("remove that file or choose another folder with --out"),
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| cannot(out, "creating", &dir, e))?;
        let marker = dir.join(MARKER);
        std::fs::write(&marker, MARKER_TEXT).map_err(|e| cannot(out, "writing", &marker, e))?;
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            finished: false,
        })
    }

    /// Writes one file into the staging folder.
    pub fn write(&self, output: &Output) -> Result<(), Diagnostic> {
        let path = self.dir.join(&output.file);
        if let Some(dir) = path.parent() {
            if !dir.is_dir() {
                std::fs::create_dir_all(dir).map_err(|e| cannot(&self.out, "creating", dir, e))?;
            }
        }
        std::fs::write(&path, &output.bytes).map_err(|e| cannot(&self.out, "writing", &path, e))
    }

    /// Swaps the finished site in place of the output folder. The previous
    /// site must be removable first (a read-only folder in it would stay
    /// behind as `.NAME.old-*`): it is made so, or the build fails with the
    /// previous site in place.
    pub fn finish(mut self) -> Result<(), Diagnostic> {
        self.finished = true;
        let removable = make_removable(&self.out)
            .map_err(|(path, e)| cannot(&self.out, "making writable, to replace it,", &path, e));
        removable
            .and_then(|()| {
                swap_in(&self.dir, &self.out).map_err(|e| cannot(&self.out, "replacing", &self.out, e))
            })
            .inspect_err(|_| {
                let _ = std::fs::remove_dir_all(&self.dir);
            })?
            .map_or(Ok(()), |(old, e)| {
                Err(Diagnostic::new(&self.out, format!("the new site is in place, but the previous one could not be removed from {}: {e}", old.display()))
                    .with_hint("delete that folder by hand"))
            })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Renames the staging folder to `out`, the previous `out` aside and then
/// away. `Ok(Some(..))` when the new site is in place but the previous one
/// could not be deleted.
fn swap_in(staging: &Path, out: &Path) -> std::io::Result<Option<(PathBuf, std::io::Error)>> {
    if !out.exists() {
        return std::fs::rename(staging, out).map(|()| None);
    }
    let old: PathBuf = out.with_file_name(format!(
        ".{}.old-{}",
        out.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(out, &old)?;
    if let Err(e) = std::fs::rename(staging, out) {
        let _ = std::fs::rename(&old, out);
        return Err(e);
    }
    Ok(std::fs::remove_dir_all(&old).err().map(|e| (old, e)))
}

/// Gives the owner write permission on every folder under `dir` that lacks
/// it, so that its files can be deleted; fails on the first folder that
/// stays unwritable (one of another user's).
#[cfg(unix)]
fn make_removable(dir: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    if !dir.is_dir() {
        return Ok(());
    }
    let writable = |path: &Path| {
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("no NUL in a path");
        // SAFETY: `c` is a valid NUL-terminated path for the call's duration.
        unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
    };
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if !entry.file_type().is_dir() || writable(path) {
            continue;
        }
        let fail = |e| (path.to_path_buf(), e);
        let mut permissions = entry.metadata().map_err(|e| fail(e.into()))?.permissions();
        permissions.set_mode(permissions.mode() | 0o700);
        std::fs::set_permissions(path, permissions).map_err(fail)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_removable(_dir: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minifying_keeps_the_space_between_inline_elements() {
        let html = b"<p><label for=a>Name</label> <input id=a> <em>x</em> <strong>y</strong></p>";
        let min = String::from_utf8(minify(html)).unwrap();
        assert!(min.contains("</label> <input"), "{min}");
        assert!(min.contains("</em> <strong>"), "{min}");
    }
}
