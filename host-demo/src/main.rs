//! # host-demo
//!
//! A command-line host for `host-sdk` provider plugins. It knows nothing about any particular
//! provider: it loads whichever plugin it is given (`--plugin`, default: the Amazon Bedrock
//! plugin built next to it), hands it the user's JSON5 configuration document, and then:
//!
//! - `plugin info` shows what the plugin is (provider id, API, auth, versions, capabilities);
//! - `models list [--json]` runs model discovery and lists configured and discovered models;
//! - `chat [PROMPT]` streams an answer, or runs an interactive multi-turn chat;
//! - `bench` measures the plugin boundary against the AWS SDK called directly;
//! - `config get|set|unset KEY [VALUE]` edits the configuration file, keeping its comments;
//! - `auth status [--json]` shows the credential source, region and endpoint, and whether an
//!   authenticated call succeeds.
//!
//! `--emulator` runs the Bedrock emulator in-process, so all of it works without an AWS
//! account. Errors are one clear message and a non-zero exit code; logs go to stderr
//! (`-v`, `RUST_LOG`), the plugin's own included (contract 1.4, see `session::forward_plugin_logs`).

mod attachments;
mod cli;
mod commands;
mod config_file;
mod conversations;
mod disk_cache;
mod embedded;
mod error;
mod images;
mod json5_edit;
mod markdown;
mod printer;
mod render;
mod request;
mod session;
mod tool_runner;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{
    AuthCommand, Cli, Command, ConfigCommand, LogsCommand, ModelsCommand, PluginCommand,
    TokensCommand,
};
use embedded::Pace;
use error::{CliError, CliResult};
use render::Style;
use session::Session;

fn main() -> ExitCode {
    // A bug should still end in one readable line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = host_sdk::host::panic_message(info.payload());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error in host-demo{at}: {message} (please report this bug)");
    }));
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.broken_pipe => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::from(u8::try_from(e.exit_code).unwrap_or(1))
        }
    }
}

fn run(cli: &Cli) -> CliResult {
    let global = &cli.global;
    match &cli.command {
        Command::Plugin {
            command: PluginCommand::Info { json },
        } => commands::info::run(global, *json),
        Command::Models {
            command:
                ModelsCommand::List {
                    json,
                    refresh,
                    embedding,
                    facts,
                },
        } => {
            let session = Session::open(global, global.emulator.then_some(Pace::Paced))?;
            match (embedding, facts) {
                (true, _) => commands::models::list_embedding(&session, *json),
                (_, true) => commands::models::list_facts(&session, *json),
                _ => commands::models::list(&session, *json, *refresh),
            }
        }
        Command::Chat(args) => commands::chat::run(
            &Session::open(global, global.emulator.then_some(Pace::Paced))?,
            args,
        ),
        Command::Logs { command } => match command {
            LogsCommand::List { json } => commands::logs::list(*json),
            LogsCommand::Show { name, json } => commands::logs::show(name, *json),
            LogsCommand::Search { text, json } => commands::logs::search(text, *json),
        },
        Command::Embed(args) => commands::embed::run(
            &Session::open(global, global.emulator.then_some(Pace::Paced))?,
            args,
        ),
        Command::Tokens {
            command:
                TokensCommand::Count {
                    prompt,
                    request,
                    json,
                },
        } => commands::tokens::count(
            &Session::open(global, global.emulator.then_some(Pace::Paced))?,
            prompt.as_deref(),
            request,
            *json,
        ),
        #[cfg(feature = "emulator")]
        Command::Bench(args) => commands::bench::run(global, args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "host-demo", &mut script);
            if *shell == clap_complete::Shell::Bash {
                script = fix_hyphenated_bash_labels(&script);
            }
            std::io::Write::write_all(&mut std::io::stdout(), &script)?;
            Ok(())
        }
        Command::Man { command, out_dir } => man_pages(command, out_dir.as_deref()),
        #[cfg(feature = "emulator")]
        Command::Soak(args) => commands::soak::run(global, args),
        Command::Config { command } => match command {
            ConfigCommand::Get { key, json } => commands::config::get(global, key, *json),
            ConfigCommand::Set { key, value, json } => {
                commands::config::set(global, key, value, *json)
            }
            ConfigCommand::Unset { key, json } => commands::config::unset(global, key, *json),
        },
        Command::Auth {
            command: AuthCommand::Status { json },
        } => commands::auth::status(
            &Session::open(global, global.emulator.then_some(Pace::Paced))?,
            *json,
        ),
    }
}

fn report(error: &CliError) {
    let style = Style::stderr();
    eprintln!(
        "{}error:{} {}",
        style.bold_on(),
        style.reset(),
        error.message
    );
    if let Some(hint) = &error.hint {
        eprintln!("{hint}");
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal (and not with NO_COLOR): a log file stays plain.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(verbose >= 2)
        .init();
}

/// clap_complete's bash script spells the state of a subcommand of a hyphenated program two
/// ways (`host__demo__subcmd__chat` where it is set, `host__subcmd__demo__subcmd__chat` where
/// it is matched), so nothing completes after the subcommand (clap-rs/clap#6421). The labels
/// are spelled as the state is set.
fn fix_hyphenated_bash_labels(script: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(script)
        .replace("host__subcmd__demo", "host__demo")
        .into_bytes()
}

/// `man`: the page of the program or of one command, or every page into a directory.
fn man_pages(command: &[String], out_dir: Option<&std::path::Path>) -> error::CliResult {
    let mut root = <Cli as clap::CommandFactory>::command();
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| error::CliError::new(format!("cannot create {}: {e}", dir.display())))?;
        clap_mangen::generate_to(root, dir).map_err(|e| {
            error::CliError::new(format!(
                "cannot write the pages into {}: {e}",
                dir.display()
            ))
        })?;
        eprintln!("wrote the manual pages into {}", dir.display());
        return Ok(());
    }
    // Built, so that each subcommand knows its full name (`host-demo-chat`).
    root.build();
    let mut page = root;
    for name in command {
        page = page.find_subcommand(name).cloned().ok_or_else(|| {
            error::CliError::new(format!("`{name}` is not a host-demo command"))
                .with_hint("`host-demo --help` lists them")
        })?;
    }
    clap_mangen::Man::new(page).render(&mut std::io::stdout())?;
    Ok(())
}
