//! `policy-site operators`: the accounts of the console `receive` serves at
//! `/console/` (same `--db`). A password is never an argument: it is read
//! from standard input when that is not a terminal (one line), else
//! prompted for twice without echo; it is stored as an Argon2id hash.

use super::requests::actor;
use crate::error::{Diagnostic, Diagnostics};
use crate::receive::console::accounts::{self, Role};
use crate::receive::{database, due};
use std::io::{BufRead, IsTerminal};

fn failed(db: &str, message: String) -> Diagnostics {
    Diagnostic::new(super::receive::shown(db), message).into()
}

fn open(db: &str) -> Result<Box<dyn crate::receive::store::Backend>, Diagnostics> {
    database::connect(db).map_err(|e| failed(db, format!("cannot open the store: {e}")))
}

/// The new password: one line of standard input, or typed twice.
fn password(db: &str, name: &str) -> Result<String, Diagnostics> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {name}: "))
            .map_err(|e| failed(db, format!("cannot read the password: {e}")))?;
        let again = rpassword::prompt_password("The same again: ")
            .map_err(|e| failed(db, format!("cannot read the password: {e}")))?;
        if first != again {
            return Err(failed(
                db,
                "the two passwords differ; nothing was changed".into(),
            ));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| failed(db, format!("cannot read the password: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if password.chars().count() < accounts::MIN_PASSWORD {
        return Err(Diagnostic::new(
            super::receive::shown(db),
            format!(
                "the password is shorter than {} characters",
                accounts::MIN_PASSWORD
            ),
        )
        .with_hint("a passphrase of several words is long and easy to type")
        .into());
    }
    Ok(password)
}

pub fn add(db: &str, name: &str, role: &str) -> Result<(), Diagnostics> {
    let Some(role) = Role::parse(role) else {
        return Err(failed(
            db,
            format!(
                "`{role}` is not a role; use one of {}",
                Role::NAMES.join(", ")
            ),
        ));
    };
    if !accounts::valid_name(name) {
        return Err(failed(
            db,
            format!("`{name}` is not an operator name: letters, digits and . _ - @, at most 64"),
        ));
    }
    let password = password(db, name)?;
    let hash = accounts::hash(&password).map_err(|e| failed(db, e))?;
    accounts::add(
        open(db)?.as_mut(),
        name,
        role,
        &hash,
        &actor(),
        &due::now().0,
    )
    .map_err(|e| failed(db, e))?;
    println!("{name} can now log in to /console/ as {}", role.name());
    Ok(())
}

pub fn remove(db: &str, name: &str) -> Result<(), Diagnostics> {
    match accounts::remove(open(db)?.as_mut(), name, &actor(), &due::now().0) {
        Ok(true) => {
            println!("{name} is removed; their sessions have ended");
            Ok(())
        }
        Ok(false) => Err(failed(db, format!("no operator is named `{name}`"))),
        Err(e) => Err(failed(db, e)),
    }
}

pub fn passwd(db: &str, name: &str) -> Result<(), Diagnostics> {
    let mut store = open(db)?;
    if accounts::operator(store.as_mut(), name)
        .map_err(|e| failed(db, e))?
        .is_none()
    {
        return Err(failed(db, format!("no operator is named `{name}`")));
    }
    let hash = accounts::hash(&password(db, name)?).map_err(|e| failed(db, e))?;
    accounts::set_password(store.as_mut(), name, &hash, &actor(), &due::now().0)
        .map_err(|e| failed(db, e))?;
    println!("{name}'s password is changed; their sessions have ended");
    Ok(())
}

pub fn list(db: &str) -> Result<(), Diagnostics> {
    let all = accounts::operators(open(db)?.as_mut()).map_err(|e| failed(db, e))?;
    for o in &all {
        println!("{:<24} {:<8} {}", o.name, o.role.name(), o.created_at);
    }
    println!("{} operator(s)", all.len());
    Ok(())
}
