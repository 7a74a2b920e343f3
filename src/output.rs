//! The edge that writes: minifies pages, then writes the whole site into a
//! temporary folder beside the output and swaps it in only once everything
//! is written, so a failed build never leaves a half-written site.

use crate::error::Diagnostic;
use std::path::{Path, PathBuf};

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
    pub fn create(out: &Path) -> Result<Staging, Diagnostic> {
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

    /// Swaps the finished site in place of the output folder.
    pub fn finish(mut self) -> Result<(), Diagnostic> {
        self.finished = true;
        swap_in(&self.dir, &self.out).map_err(|e| {
            let _ = std::fs::remove_dir_all(&self.dir);
            cannot(&self.out, "replacing", &self.out, e)
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

fn swap_in(staging: &Path, out: &Path) -> std::io::Result<()> {
    if !out.exists() {
        return std::fs::rename(staging, out);
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
    let _ = std::fs::remove_dir_all(&old);
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
