//! The edge that writes: minifies pages, then writes the whole site into a
//! temporary folder beside the output and swaps it in only once everything
//! is written, so a failed build never leaves a half-written site.

use crate::error::Diagnostic;
use crate::render::Output;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

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

/// Writes `outputs` to `out` atomically (as far as the file system allows:
/// two renames). The previous site stays in place on any error.
pub fn write_site(out: &Path, outputs: &[Output]) -> Result<(), Diagnostic> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    let staging = parent.join(format!(".{name}.building-{}", std::process::id()));
    let cannot = |what: &str, path: &Path, e: std::io::Error| {
        Diagnostic::new(out, format!("cannot write the output folder: {what} {}: {e}", path.display()))
            .with_hint("choose a folder you can write to with --out, or fix its permissions; the previous site was left as it was")
    };
    std::fs::create_dir_all(parent).map_err(|e| cannot("creating", parent, e))?;
    if out.exists() && !out.is_dir() {
        return Err(
            Diagnostic::new(out, "the output path exists and is not a folder")
                .with_hint("remove that file or choose another folder with --out"),
        );
    }
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| cannot("creating", &staging, e))?;
    let written: Result<(), Diagnostic> = outputs.par_iter().try_for_each(|o| {
        let path = staging.join(&o.file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| cannot("creating", dir, e))?;
        }
        std::fs::write(&path, &o.bytes).map_err(|e| cannot("writing", &path, e))
    });
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    swap_in(&staging, out).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staging);
        cannot("replacing", out, e)
    })
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
