//! `policy-site revise <policy>`: start the next version of a policy.

use crate::build::{self, Options};
use crate::content;
use crate::date::{self, Date};
use crate::error::{Diagnostic, Diagnostics};
use crate::revise;

pub fn run(options: &Options, policy: &str, date: Option<Date>) -> Result<(), Diagnostics> {
    let site = content::load(&options.root, build::load_config(options)?)?;
    let known = || {
        site.policies
            .iter()
            .map(|p| p.slug.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let policy = site.policy(policy).ok_or_else(|| {
        Diagnostic::new(
            "policy-site revise",
            format!("there is no policy `{policy}`"),
        )
        .with_hint(format!("policies: {}", known()))
    })?;
    let today = date::authoring_today(date).map_err(|e| Diagnostic::env("SOURCE_DATE_EPOCH", e))?;
    let dir = revise::revise(&site, policy, today)?;
    println!(
        "Started {}: write its summary in version.yaml, decide whether it is material, then edit the sections.",
        dir.strip_prefix(&site.root).unwrap_or(&dir).display()
    );
    Ok(())
}
