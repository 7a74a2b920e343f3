//! Dates: a version takes effect on or after its publication date and not
//! before the version it replaces; a material change (other than a policy's
//! first version, which changes nothing for anyone) takes effect only after
//! the site's notice period, counted from its publication date. The notice
//! period guards new revisions: versions already recorded as published in
//! `policy-site.lock` are history, which no edit may change anyway.

use crate::content::{Site, Version};
use crate::date::Date;
use crate::error::{Diagnostic, Diagnostics};

pub fn check(site: &Site) -> Diagnostics {
    let mut found = Diagnostics::default();
    let notice = site.config.notice_period_days;
    for policy in &site.policies {
        for (i, version) in policy.versions.iter().enumerate() {
            let place = || effective_place(version);
            if version.effective < version.date {
                found.push(
                    place()
                        .message(format!(
                            "version {} takes effect on {}, before it is published",
                            version.date, version.effective
                        ))
                        .with_hint("a version cannot bind readers before they can read it: set `effective` on or after the folder's date"),
                );
            }
            if let Some(previous) = i.checked_sub(1).map(|p| &policy.versions[p]) {
                if version.effective < previous.effective {
                    found.push(place().message(format!(
                        "version {} takes effect on {}, before the version it replaces ({}, effective {})",
                        version.date, version.effective, previous.date, previous.effective
                    )).with_hint("versions must take effect in the order they are published"));
                }
                let published = super::lock::is_published(&site.root, &policy.slug, version.date);
                if let (true, Some(days), false) = (version.material, notice, published) {
                    let given = version.date.days_until(version.effective);
                    if given < i64::from(days) && version.effective >= version.date {
                        let earliest = Date::from_unix(
                            (version.date.days_since_epoch() + i64::from(days)) * 86_400,
                        );
                        found.push(place().message(format!(
                            "version {} is a material change but takes effect {given} day{} after publication; the notice period is {days} days, so it can take effect on {earliest} at the earliest",
                            version.date,
                            if given == 1 { "" } else { "s" }
                        )).with_hint(format!(
                            "set `effective: {earliest}` (or later) in version.yaml, or set `material: false` if readers' rights and obligations do not change"
                        )));
                    }
                }
            }
        }
    }
    found
}

struct Place(std::path::PathBuf, Option<usize>);

impl Place {
    fn message(self, message: String) -> Diagnostic {
        let d = Diagnostic::new(self.0, message);
        match self.1 {
            Some(line) => d.at_line(line),
            None => d,
        }
    }
}

/// version.yaml, at its `effective:` line when it has one.
fn effective_place(version: &Version) -> Place {
    let file = version.dir.join("version.yaml");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let line = crate::config::line_of(&text, "effective:")
        .or_else(|| crate::config::line_of(&text, "material:"))
        .or(Some(1));
    Place(file, line)
}
