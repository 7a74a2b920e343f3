//! The `policy-site` binary: parses the command line and hands over to `cmd`.

use clap::{Parser, Subcommand};
use policy_site::build::Options;
use policy_site::cmd;
use policy_site::date::Date;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

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

#[derive(clap::Args, Clone)]
struct BuildArgs {
    /// Output folder (default: `output` in policy-site.yaml, else `public`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Today's date for upcoming versions (default: SOURCE_DATE_EPOCH, else the newest version's date).
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
        #[command(flatten)]
        args: BuildArgs,
        /// Print nothing on success (for CI).
        #[arg(long, short)]
        quiet: bool,
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
}

impl BuildArgs {
    fn options(&self, root: PathBuf) -> Options {
        Options {
            root,
            out: self.out.clone(),
            date: self.date,
            requests_endpoint: self.requests_endpoint.clone(),
            consent_endpoint: self.consent_endpoint.clone(),
            base_url: None,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { args, quiet } => cmd::build::run(&args.options(cli.root), quiet),
        Command::Diff {
            policy,
            from,
            to,
            lang,
        } => {
            let options = Options {
                root: cli.root,
                ..Default::default()
            };
            let request = cmd::diff::Request {
                policy,
                from,
                to,
                lang,
            };
            cmd::diff::run(&options, &request, std::io::stdout().is_terminal())
                .map(|text| print!("{text}"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            ExitCode::FAILURE
        }
    }
}
