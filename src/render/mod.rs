//! Model to pages: `plan` lists every page of the site with the context its
//! template receives (only what that page shows, never the whole site), and
//! `render_all` renders them in parallel through Tera.

pub mod files;
mod pages;
pub mod templates;
pub mod urls;

pub use pages::plan;
pub use urls::Urls;

use crate::assets::Assets;
use crate::content::Site;
use crate::date::Date;
use crate::diff::DiffIndex;
use crate::error::{Diagnostic, Diagnostics};
use crate::i18n::Strings;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tera::Tera;

/// Everything the render stage reads besides templates.
pub struct Env<'a> {
    pub site: &'a Site,
    pub today: Date,
    pub strings: &'a BTreeMap<String, Strings>,
    pub urls: Urls,
    pub endpoints: Endpoints,
    pub assets: &'a Assets,
    pub diffs: &'a DiffIndex,
    /// The site's rights catalogue (default, trimmed and extended), built once.
    pub catalogue: crate::rights::Catalogue,
    /// Values every page of a language shares, computed once.
    pub shared: pages::Shared,
}

/// Endpoints after command-line and environment overrides.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub requests: Option<String>,
    pub consent: Option<String>,
}

/// One output file to produce from a template.
pub struct Page {
    pub url: String,
    pub template: &'static str,
    pub context: Value,
}

/// One output file.
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

/// Renders every page in parallel; every failing page is reported.
pub fn render_all(tera: &Tera, env: &Env, pages: Vec<Page>) -> Result<Vec<Output>, Diagnostics> {
    let results: Vec<Result<Output, Diagnostic>> = pages
        .into_par_iter()
        .map(|page| {
            let context =
                tera::Context::from_value(page.context).expect("page contexts are objects");
            tera.render(page.template, &context)
                .map(|html| Output {
                    file: env.urls.file_of(&page.url),
                    bytes: html.into_bytes(),
                })
                .map_err(|e| render_error(&env.site.root, page.template, &page.url, &e))
        })
        .collect();
    let mut outputs = Vec::with_capacity(results.len());
    let mut found = Diagnostics::default();
    for r in results {
        match r {
            Ok(o) => outputs.push(o),
            Err(d) => found.push(d),
        }
    }
    // One broken template fails every page that uses it: report it once.
    found.0.sort_by(|a, b| a.message.cmp(&b.message));
    found
        .0
        .sort_by(|a, b| (&a.file, &a.message).cmp(&(&b.file, &b.message)));
    found.0.dedup_by(|a, b| {
        a.file == b.file
            && a.message.split(" (while rendering").next()
                == b.message.split(" (while rendering").next()
    });
    found.into_result(outputs)
}

fn render_error(
    root: &std::path::Path,
    template: &str,
    url: &str,
    error: &tera::Error,
) -> Diagnostic {
    let message = templates::error_chain(error);
    // The innermost template named in the message is the one at fault.
    // Tera names the template at fault after "error happened in" (a parent
    // or an include), else after the last "while rendering".
    let named_after = |marker: &str| {
        message
            .rsplit(marker)
            .next()
            .filter(|_| message.contains(marker))
            .and_then(|s| s.split('\'').next())
            .filter(|s| s.contains('.'))
    };
    let culprit = named_after("error happened in '")
        .or_else(|| named_after("while rendering '"))
        .unwrap_or(template);
    let mut file = PathBuf::from(templates::TEMPLATES_DIR).join(culprit);
    if root.join(&file).exists() {
        file = root
            .join(&file)
            .strip_prefix(root)
            .map(|p| p.to_path_buf())
            .unwrap_or(file);
    }
    let undefined = message.contains("not found in context");
    let hint = if undefined {
        "the template uses a variable this page does not provide: check its spelling, or guard it with `{% if var is defined %}`"
    } else {
        "see the Tera documentation for the template syntax"
    };
    // The innermost cause says what is wrong; the outer ones repeat which
    // page, which the URL below says better.
    let cause = message.rsplit(".: ").next().unwrap_or(&message);
    let cause = cause.split(" while rendering '").next().unwrap_or(cause);
    let cause = cause.split_whitespace().collect::<Vec<_>>().join(" ");
    Diagnostic::new(file, format!("{cause} (while rendering {url})")).with_hint(hint)
}
