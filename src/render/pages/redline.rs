//! A redline: the word-level changes between two versions, section by section.

use super::version::version_view;
use super::{common, in_both, page_with_base};
use crate::content::Policy;
use crate::diff::{present, SectionChange, VersionDiff};
use crate::render::context::*;
use crate::render::shared::date_text;
use crate::render::{Env, Page};

pub(super) fn changes(env: &Env, policy: &Policy, lang: &str, d: &VersionDiff) -> Page {
    let slug = &policy.slug;
    let is_predecessor_pair = policy
        .versions
        .windows(2)
        .any(|w| w[0].date == d.from && w[1].date == d.to);
    let address = |l: &str| {
        if is_predecessor_pair {
            env.urls.changes(l, slug, d.to)
        } else {
            env.urls.changes_between(l, slug, d.from, d.to)
        }
    };
    let url = address(lang);
    let (old_page, new_page) = (
        env.urls.version(lang, slug, d.from),
        env.urls.version(lang, slug, d.to),
    );
    let redline = present::Redline::new(d, &env.strings[lang]["diff"], &old_page, &new_page);
    let mut inserts = Vec::new();
    let sections: Vec<SectionChangeView> = d
        .sections
        .iter()
        .map(|s| {
            let mut view = section_change_view(env, policy, lang, d, s);
            let html = redline.section_html(s);
            let html = if env.minify && !html.is_empty() {
                String::from_utf8(crate::output::minify(html.as_bytes())).expect("minified UTF-8")
            } else {
                html
            };
            view.html = crate::render::hold(&mut inserts, html);
            view
        })
        .collect();
    let changed: Vec<SectionChangeView> = sections
        .iter()
        .filter(|s| s.status != "unchanged")
        .cloned()
        .collect();
    let alternates = env
        .site
        .config
        .languages
        .iter()
        .filter(|l| in_both(policy, l, d.from, d.to))
        .map(|l| (l.clone(), address(l)))
        .collect();
    let title = format!(
        "{} — {} → {}",
        policy.title_in(lang),
        date_text(env, lang, d.from),
        date_text(env, lang, d.to)
    );
    let to = policy.version(d.to).expect("diffed versions exist");
    let from = policy.version(d.from).expect("diffed versions exist");
    let own = ChangesPage {
        policy: ChangesLinks {
            slug: slug.clone(),
            title: policy.title_in(lang).to_string(),
            url: env.urls.policy(lang, slug),
            history_url: env.urls.history(lang, slug),
        },
        from: version_view(env, policy, from, lang),
        to: version_view(env, policy, to, lang),
        changed_count: changed.len(),
        changed,
        sections,
        words_added: d.words_added,
        words_removed: d.words_removed,
        marks: present::marks_text(&d.marks, &env.strings[lang]["diff"]),
        unchanged: d.is_unchanged(),
    };
    let base = common(env, lang, &url, alternates, title);
    page_with_base(url, "changes.html", base, own, inserts)
}

/// One section of a redline: its status, numbers and titles (its marked-up
/// text is left for the caller to hold among the page's inserts).
pub(super) fn section_change_view(
    env: &Env,
    policy: &Policy,
    lang: &str,
    d: &VersionDiff,
    s: &SectionChange,
) -> SectionChangeView {
    let status = match (&s.old, &s.new) {
        (None, _) => "added",
        (_, None) => "removed",
        _ if s.is_unchanged() => "unchanged",
        _ => "changed",
    };
    let anchor_url = match status {
        "removed" => format!("{}#{}", env.urls.version(lang, &policy.slug, d.from), s.id),
        _ => format!("{}#{}", env.urls.version(lang, &policy.slug, d.to), s.id),
    };
    SectionChangeView {
        id: s.id.clone(),
        number: s.number(),
        label: if s.number() == 0 {
            String::new()
        } else {
            format!("{:02}", s.number())
        },
        title: s.title().to_string(),
        status,
        moved: s.moved,
        renamed: s.renamed(),
        renumbered: s.renumbered(),
        old_label: s.old.as_ref().map(|(n, _)| format!("{n:02}")),
        old_title: s.old.as_ref().map(|(_, t)| t.clone()),
        words_added: s.words_added,
        words_removed: s.words_removed,
        marks: present::marks_text(&s.marks, &env.strings[lang]["diff"]),
        html: String::new(),
        url: anchor_url,
    }
}
