//! `policy-site lock`: record the versions being published in `policy-site.lock`.

use crate::build::{self, Options};
use crate::check::lock;
use crate::content;
use crate::error::Diagnostics;

pub fn run(options: &Options) -> Result<(), Diagnostics> {
    let site = content::load(&options.root, build::load_config(options)?)?;
    let added = lock::write_new(&site)?;
    if added.is_empty() {
        println!(
            "{} already records every version.",
            crate::vocabulary::LOCK_FILE
        );
    }
    for version in added {
        println!("locked {version}");
    }
    Ok(())
}
