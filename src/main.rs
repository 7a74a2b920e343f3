//! The `policy-site` binary: parses the command line and hands over to `cmd`.

use clap::{Parser, Subcommand};
use policy_site::build::Options;
use policy_site::check;
use policy_site::cmd;
use policy_site::date::Date;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

// A build allocates and frees millions of small strings (tokens, runs,
// fragments) from several threads; glibc's allocator spent a third of the
// build's CPU on them, mimalloc a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "policy-site",
    version,
    about = "Compile versioned, multilingual privacy and legal policies into a static site"
)]
struct Cli {
    /// The site's folder (where policy-site.yaml is).
    #[arg(long, global = true, default_value = ".")]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

/// What both `build` and `check` compile with.
#[derive(clap::Args, Clone)]
struct BuildArgs {
    /// Today, which decides the version in force (default: SOURCE_DATE_EPOCH, else the newest version's date).
    #[arg(long)]
    date: Option<Date>,
    /// Where rights-request forms post, overriding `endpoints.requests` (also POLICY_SITE_REQUESTS_ENDPOINT).
    #[arg(long)]
    requests_endpoint: Option<String>,
    /// Where consent records are sent, overriding `endpoints.consent` (also POLICY_SITE_CONSENT_ENDPOINT).
    #[arg(long)]
    consent_endpoint: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into the output folder, atomically.
    Build {
        /// Output folder (default: `output` in policy-site.yaml, else `public`); replaced only when new, empty or written by an earlier build.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        args: BuildArgs,
        /// Print nothing on success (for CI).
        #[arg(long, short)]
        quiet: bool,
        /// Also print where the time went: load, diff, render, minify, write.
        #[arg(long)]
        timings: bool,
    },
    /// Print the word-level changes between two versions of a policy.
    Diff {
        /// The policy (its folder name under content/).
        policy: String,
        /// The earlier version's date.
        from: String,
        /// The later version's date.
        to: String,
        /// Language (default: the site's default language).
        #[arg(long)]
        lang: Option<String>,
    },
    /// Serve the site on 127.0.0.1 while you edit: every open tab reloads on a change, and shows build errors over the last good page.
    Serve {
        /// Port to listen on (the next free one if taken).
        #[arg(long, default_value_t = 1111)]
        port: u16,
    },
    /// List everything that would publish something broken or misleading; fails if there is anything.
    Check {
        #[command(flatten)]
        args: BuildArgs,
        /// `human`, `github` (Actions annotations) or `json`.
        #[arg(long, default_value = "human")]
        format: check::Format,
        /// Also list findings in published history (files exactly as policy-site.lock recorded them), which never fail the check.
        #[arg(long)]
        all: bool,
    },
    /// Check in headless Chromium that the site sets only the cookies its inventory declares, and only after consent; fails on any difference.
    Scan {
        /// A deployed site's address (default: the last build, served on 127.0.0.1).
        url: Option<String>,
        /// Scan the last build's output folder (the default; conflicts with URL).
        #[arg(long, conflicts_with = "url")]
        built: bool,
        /// `human`, `github` (Actions annotations) or `json`.
        #[arg(long, default_value = "human")]
        format: check::Format,
        /// Pages visited in each consent state (the start page, sitemap.xml's, then links).
        #[arg(long, default_value_t = 30)]
        max_pages: usize,
        /// Seconds the whole scan may take, shared by the consent states; pages a state has no time left for are left out, and said so.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// The report's folder (default: scan-report under --root).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Also write inventory.yaml into the report's folder: the undeclared cookies and keys as entries to paste.
        #[arg(long)]
        write_inventory: bool,
        /// Chromium's executable (default: CHROME, else chromium on PATH).
        #[arg(long, value_name = "PATH")]
        browser: Option<PathBuf>,
    },
    /// Start the next version of a policy as a copy of its latest one.
    Revise {
        /// The policy (its folder name under content/).
        policy: String,
        /// The new version's date (default: SOURCE_DATE_EPOCH, else today).
        #[arg(long)]
        date: Option<Date>,
    },
    /// Create a new site, ready to build and check, in an empty folder.
    Init {
        /// The folder (created if needed; must be empty; default: --root).
        dir: Option<PathBuf>,
        /// The first version's date (default: SOURCE_DATE_EPOCH, else today).
        #[arg(long)]
        date: Option<Date>,
    },
    /// Bring a policy's history in: from a git repository with one markdown file per policy (`privacy.md`, `privacy.fr.md`; each commit a version), or from a folder of dated files (`privacy-2021-03-04.md`).
    Import {
        /// The git repository or the folder.
        from: PathBuf,
        /// The language of files without one in their name (default: the site's default language, else en).
        #[arg(long)]
        lang: Option<String>,
        /// The policy's file in the git repository, from its top, as it is named now (its earlier names are followed); `{lang}` stands for a language code, e.g. `{lang}/privacy.md`. Default: every top-level `<policy>.md`.
        #[arg(long)]
        file: Option<String>,
        /// The policy's folder name under content/ (default: from the file's name).
        #[arg(long, requires = "file")]
        policy: Option<String>,
        /// With `{lang}` in `--file`: import only this translation (repeatable; default: every one found).
        #[arg(long, requires = "file")]
        translation: Vec<String>,
        /// Offer a translation only from the first version from which its `##` sections always match its source's, leaving out (and naming) its earlier texts, instead of refusing the import.
        #[arg(long)]
        partial_translations: bool,
    },
    /// Record each new version in policy-site.lock and the publication log, when publishing it (and sign the log when POLICY_SITE_SIGNING_KEY_FILE or POLICY_SITE_SIGNING_KEY holds the key).
    Lock,
    /// Sign the publication log with the minisign secret key in POLICY_SITE_SIGNING_KEY_FILE (a path) or POLICY_SITE_SIGNING_KEY (its contents).
    Sign,
    /// Check a published site (a URL or a built folder) against its publication log: the chain, the signature and every recorded page's text. Exit 0 verified, 1 diverged, 2 nothing to verify.
    Verify {
        /// The site's root URL (https://…) or its built folder.
        site: String,
        /// The owner's public key, to check the signature with instead of the one the site publishes: a minisign .pub file or its key line.
        #[arg(long)]
        key: Option<String>,
        /// `human`, `github` (Actions annotations) or `json`.
        #[arg(long, default_value = "human")]
        format: check::Format,
    },
    /// Record that a version's translations match their source text as it is now.
    Translated {
        /// The policy (its folder name under content/).
        policy: String,
        /// The version's date (default: the latest).
        #[arg(long)]
        version: Option<Date>,
        /// Only this language (repeatable; default: every translation).
        #[arg(long)]
        lang: Vec<String>,
        /// Only this section number (repeatable; default: every section that is translated, i.e. not still the source text or a stub). A section named here is recorded even if its text is the source's.
        #[arg(long)]
        section: Vec<u32>,
    },
    /// Receive what the site's forms and cookie banner send, into SQLite or PostgreSQL.
    Receive {
        /// Port to listen on (default 8787).
        #[arg(long)]
        port: Option<u16>,
        /// Address to listen on: this machine only by default; 0.0.0.0 (or ::) in a container, to be reached through its published port.
        #[arg(long)]
        listen: Option<std::net::IpAddr>,
        #[command(flatten)]
        db: DbArg,
        /// An origin whose pages may post here, e.g. https://policies.example.org (repeatable; default: the site's base_url).
        #[arg(long = "allow-origin")]
        allow_origin: Vec<String>,
        /// Whose response period applies to new requests: gdpr (one month, the default), quebec (30 days), california (45 days), or one added with --due.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// Add or replace a response period: NAME=30d (days) or NAME=1m (months) (repeatable).
        #[arg(long)]
        due: Vec<String>,
        /// POST a signed notification of each new request to this URL (repeatable); the signing secret comes from POLICY_SITE_WEBHOOK_SECRET.
        #[arg(long)]
        webhook: Vec<String>,
        /// Put the request's answers in the webhooks' body (default: only what finds the request, no personal data).
        #[arg(long)]
        webhook_include_answers: bool,
        /// Send e-mail through this SMTP server: smtp://host:port (plain, loopback), smtps://host (TLS), smtp://host?tls=required (STARTTLS); user and password from POLICY_SITE_SMTP_USER and POLICY_SITE_SMTP_PASSWORD.
        #[arg(long)]
        smtp: Option<String>,
        /// The address the e-mails come from.
        #[arg(long)]
        mail_from: Option<String>,
        /// Tell this operator of each new request by e-mail (repeatable).
        #[arg(long)]
        notify: Vec<String>,
        /// The receiver's public address (e.g. https://privacy.example.org/): the acknowledgment then carries a link that confirms the requester's e-mail address.
        #[arg(long)]
        public_url: Option<String>,
        /// How long that link works, in hours (default 72).
        #[arg(long)]
        verify_link_hours: Option<u64>,
        /// Delete closed requests this many days after they closed, at start and daily (as `requests purge --apply`).
        #[arg(long)]
        purge_closed_after: Option<u32>,
        /// Delete consent records this many days after they were received, at start and daily.
        #[arg(long)]
        purge_consents_after: Option<u32>,
        /// Remind the operators (mail and webhooks) this many days before a request is due (repeatable; default 7 and 2); they are told again once it is overdue.
        #[arg(long)]
        remind_before: Vec<u32>,
    },
    /// List, show, export and update the rights requests `receive` stored.
    Requests {
        #[command(subcommand)]
        action: RequestsAction,
    },
    /// Manage the accounts of the console `receive` serves at /console/ (passwords from standard input or typed twice, never arguments).
    Operators {
        #[command(subcommand)]
        action: OperatorsAction,
    },
    /// Export the consent records `receive` stored.
    Consents {
        #[command(subcommand)]
        action: ConsentsAction,
    },
    /// Generate a synthetic site for measuring scale (see scripts/compare-hugo.sh).
    #[command(hide = true)]
    Corpus {
        /// Folder to write the site into (should be empty).
        dir: PathBuf,
        #[command(flatten)]
        spec: policy_site::corpus::Spec,
        /// Also write the same text as a plain Hugo site into this folder.
        #[arg(long)]
        hugo: Option<PathBuf>,
    },
}

#[derive(clap::Args, Clone)]
struct DbArg {
    /// Where receipts are stored: a SQLite file, or a postgres://user@host/database URL.
    #[arg(long, default_value = "receipts.sqlite")]
    db: String,
}

#[derive(Subcommand)]
enum RequestsAction {
    /// The requests, oldest first, overdue ones marked.
    List {
        #[command(flatten)]
        db: DbArg,
        /// Only requests with this status: received, identity_verified, completed or refused.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: cmd::requests::Format,
    },
    /// One request, with the person's answers and its status history.
    Show {
        /// Its reference (REQ-…) or request id.
        reference: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Every request with the person's answers, as CSV or JSON Lines (table: the list's columns, without the answers).
    Export {
        #[command(flatten)]
        db: DbArg,
        /// Only requests with this status: received, identity_verified, completed or refused.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: cmd::requests::Format,
    },
    /// Delete what the retention rules say to: closed (completed or refused) requests and consent records older than the days given; prints what it would delete, and deletes only with --apply.
    Purge {
        /// Closed requests last changed more than this many days ago.
        #[arg(long)]
        closed_after: Option<u32>,
        /// Consent records received more than this many days ago.
        #[arg(long)]
        consents_after: Option<u32>,
        /// Delete them (without it, only say what would go).
        #[arg(long)]
        apply: bool,
        #[command(flatten)]
        db: DbArg,
    },
    /// Give a request more time, once, as its jurisdiction allows (GDPR: two more months; California: 45 more days), before it is due; the requester is told why by mail.
    Extend {
        /// Its reference (REQ-…) or request id.
        reference: String,
        /// Why more time is needed (told to the requester).
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Record a request's new status: received, identity_verified, completed or refused.
    SetStatus {
        /// Its reference (REQ-…) or request id.
        reference: String,
        /// The new status: received, identity_verified, completed or refused.
        status: String,
        /// Why, for the history; for a refusal, the reason the requester is told (required).
        #[arg(long, alias = "note", default_value = "")]
        reason: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum OperatorsAction {
    /// Add an operator: viewer (reads, answers hidden), handler (acts on requests, exports), admin (also manages operators).
    Add {
        name: String,
        #[arg(long, value_parser = ["viewer", "handler", "admin"])]
        role: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Remove an operator; their sessions end.
    Remove {
        name: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// The operators and their roles.
    List {
        #[command(flatten)]
        db: DbArg,
    },
    /// Change an operator's password; their sessions end.
    Passwd {
        name: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(clap::Subcommand)]
enum ConsentsAction {
    /// The stored consent records as JSON Lines, oldest first, each with its record_id and receipt time.
    Export {
        #[command(flatten)]
        db: DbArg,
        /// Only this browser's records (its consent_id, from the ps_consent cookie).
        #[arg(long)]
        consent_id: Option<String>,
        /// `jsonl` (the records as received) or `iso27560` (ISO/IEC TS 27560 records in W3C DPV's JSON-LD, one a line, described from the site at --root: its inventory, controller and publication log).
        #[arg(long, default_value = "jsonl")]
        format: cmd::requests::ConsentFormat,
    },
}

impl BuildArgs {
    fn options(&self, root: PathBuf) -> Options {
        Options {
            root,
            date: self.date,
            requests_endpoint: self.requests_endpoint.clone(),
            consent_endpoint: self.consent_endpoint.clone(),
            ..Default::default()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build {
            out,
            args,
            quiet,
            timings,
        } => cmd::build::run(
            &Options {
                out,
                ..args.options(cli.root)
            },
            quiet,
            timings,
        ),
        Command::Diff {
            policy,
            from,
            to,
            lang,
        } => {
            let options = root_only(cli.root);
            let request = cmd::diff::Request {
                policy,
                from,
                to,
                lang,
            };
            cmd::diff::run(&options, &request, std::io::stdout().is_terminal())
                .map(|text| print!("{text}"))
        }
        Command::Serve { port } => cmd::serve::run(&cli.root, port),
        Command::Check { args, format, all } => {
            cmd::check::run(&args.options(cli.root), format, all)
        }
        Command::Scan {
            url,
            built: _,
            format,
            max_pages,
            timeout,
            report,
            write_inventory,
            browser,
        } => {
            let options = policy_site::scan::Options {
                url,
                max_pages,
                timeout: std::time::Duration::from_secs(timeout),
                browser,
                ..policy_site::scan::Options::new(cli.root)
            };
            let output = cmd::scan::Output {
                format,
                report,
                write_inventory,
            };
            cmd::scan::run(&options, &output)
        }
        Command::Revise { policy, date } => cmd::revise::run(&root_only(cli.root), &policy, date),
        Command::Init { dir, date } => cmd::init::run(&dir.unwrap_or(cli.root), date),
        Command::Lock => cmd::lock::run(&root_only(cli.root)),
        Command::Sign => cmd::lock::sign(&root_only(cli.root)),
        Command::Verify { site, key, format } => {
            return cmd::verify::run(&site, key.as_deref(), format)
        }
        Command::Import {
            from,
            lang,
            file,
            policy,
            translation,
            partial_translations,
        } => {
            let selection = file.map(|file| policy_site::import::Selection {
                file,
                policy,
                languages: translation,
            });
            cmd::import::run(
                &cli.root,
                &from,
                lang.as_deref(),
                selection.as_ref(),
                partial_translations,
            )
        }
        Command::Translated {
            policy,
            version,
            lang,
            section,
        } => cmd::translated::run(&root_only(cli.root), &policy, version, &lang, &section),
        Command::Receive {
            listen,
            port,
            db,
            allow_origin,
            jurisdiction,
            due,
            webhook,
            webhook_include_answers,
            smtp,
            mail_from,
            notify,
            public_url,
            verify_link_hours,
            purge_closed_after,
            purge_consents_after,
            remind_before,
        } => cmd::receive::run(
            &cli.root,
            &db.db,
            &due,
            policy_site::config::Receive {
                listen,
                port,
                allow_origin,
                jurisdiction,
                due: Default::default(),
                webhook,
                webhook_include_answers: webhook_include_answers.then_some(true),
                smtp,
                mail_from,
                notify,
                public_url,
                verify_link_hours,
                purge_closed_after,
                purge_consents_after,
                remind_before,
            },
        ),
        Command::Requests { action } => requests(action),
        Command::Operators { action } => match action {
            OperatorsAction::Add { name, role, db } => cmd::operators::add(&db.db, &name, &role),
            OperatorsAction::Remove { name, db } => cmd::operators::remove(&db.db, &name),
            OperatorsAction::List { db } => cmd::operators::list(&db.db),
            OperatorsAction::Passwd { name, db } => cmd::operators::passwd(&db.db, &name),
        },
        Command::Consents {
            action:
                ConsentsAction::Export {
                    db,
                    consent_id,
                    format,
                },
        } => cmd::requests::consents(&cli.root, &db.db, consent_id.as_deref(), format),
        Command::Corpus { dir, spec, hugo } => {
            policy_site::corpus::generate(&spec, &dir, hugo.as_deref()).map_err(|e| {
                policy_site::error::Diagnostic::new(&dir, format!("cannot write the corpus: {e}"))
                    .into()
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Already printed (check prints its findings in the format asked for).
        Err(diagnostics) if diagnostics.is_empty() => ExitCode::FAILURE,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            ExitCode::FAILURE
        }
    }
}

fn requests(action: RequestsAction) -> Result<(), policy_site::error::Diagnostics> {
    use cmd::requests as r;
    match action {
        RequestsAction::List { db, status, format } => {
            r::list(&db.db, status.as_deref(), format, false)
        }
        RequestsAction::Show { reference, db } => r::show(&db.db, &reference),
        RequestsAction::Export { db, status, format } => {
            r::list(&db.db, status.as_deref(), format, true)
        }
        RequestsAction::SetStatus {
            reference,
            status,
            reason,
            db,
        } => r::set_status(&db.db, &reference, &status, &reason),
        RequestsAction::Purge {
            closed_after,
            consents_after,
            apply,
            db,
        } => r::purge(&db.db, closed_after, consents_after, apply),
        RequestsAction::Extend {
            reference,
            reason,
            db,
        } => r::extend(&db.db, &reference, &reason),
    }
}

fn root_only(root: PathBuf) -> Options {
    Options {
        root,
        ..Default::default()
    }
}
