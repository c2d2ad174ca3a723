//! The `boundary-bot` command line: the offline console, one-off
//! classification, evaluation, content checks, and the Discord bot.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use boundary_bot::config::Config;
use boundary_bot::{console, eval, Engine};

#[derive(Parser)]
#[command(
    name = "boundary-bot",
    version,
    about = "Kind, sourced answers to therapy-boundary questions, for Discord support servers."
)]
struct Cli {
    /// Config file (default: ./config.toml if present, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Offline console: type messages, see the bot's replies. No Discord, no token.
    Chat,
    /// Classify one message.
    Classify {
        text: String,
        /// List the matched patterns and the words they matched.
        #[arg(long)]
        explain: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure the classifier on a labelled JSON Lines file.
    Eval {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        /// List the misclassified rows.
        #[arg(long)]
        errors: bool,
    },
    /// Validate the config, responses/ and where the token comes from (it is
    /// never printed); exits non-zero on errors.
    Check,
    /// Connect to Discord. The token comes from DISCORD_TOKEN or the config's
    /// `token_file`, never from the command line.
    Run,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Writes to stdout, returning an error (not panicking) on a closed pipe.
fn emit(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

fn load(config: Option<&std::path::Path>) -> anyhow::Result<(Config, Engine)> {
    let config = Config::load(config)?;
    let engine = Engine::load(&config)?;
    Ok((config, engine))
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config_path = cli.config.as_deref();
    let mut out = String::new();
    // Without a subcommand: the bot when a token is in the environment, else
    // the offline console.
    let token_in_env =
        std::env::var_os(boundary_bot::discord::TOKEN_ENV).is_some_and(|t| !t.is_empty());
    let command = match cli.command {
        None if token_in_env => Some(Command::Run),
        command => command,
    };
    match command {
        Some(Command::Run) => {
            let (config, engine) = load(config_path)?;
            boundary_bot::discord::run_blocking(config, engine)?;
        }
        None | Some(Command::Chat) => {
            let (_, engine) = load(config_path)?;
            let stdin = io::stdin();
            let interactive = stdin.is_terminal();
            console::run(&engine, stdin.lock(), io::stdout().lock(), interactive)?;
        }
        Some(Command::Classify {
            text,
            explain,
            json,
        }) => {
            let (_, engine) = load(config_path)?;
            classify(&engine, &text, explain, json, &mut out)?;
        }
        Some(Command::Eval { file, json, errors }) => {
            let (_, engine) = load(config_path)?;
            let rows = eval::read_rows(&file)?;
            let report = eval::evaluate(&engine, &rows);
            if json {
                let mut value = serde_json::to_value(&report)?;
                if !errors {
                    if let Some(o) = value.as_object_mut() {
                        o.remove("errors");
                    }
                }
                writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            } else {
                out.push_str(&report.render(errors));
            }
        }
        Some(Command::Check) => {
            let (config, engine) = load(config_path).context("check failed")?;
            check(&config, &engine, &mut out)?;
            let token =
                boundary_bot::discord::token_status(&config.discord).context("check failed")?;
            writeln!(out, "{token}")?;
        }
    }
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn classify(
    engine: &Engine,
    text: &str,
    explain: bool,
    json: bool,
    out: &mut String,
) -> anyhow::Result<()> {
    let (classification, evidence) = engine.explain(text);
    if json {
        let mut value = serde_json::to_value(&classification)?;
        value["label"] = classification.label().into();
        if explain {
            value["evidence"] = serde_json::to_value(&evidence)?;
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} (confidence {:.2}, therapy context: {})",
        classification.label(),
        classification.confidence,
        if classification.therapy_context {
            "yes"
        } else {
            "no"
        }
    )?;
    if !classification.candidates.is_empty() {
        let c: Vec<String> = classification
            .candidates
            .iter()
            .map(|c| format!("{} {:.2}", c.topic, c.confidence))
            .collect();
        writeln!(out, "candidates: {}", c.join(", "))?;
    }
    if explain {
        for e in &evidence {
            let weight = if e.weight > 0.0 {
                format!(", weight {:.2}", e.weight)
            } else {
                String::new()
            };
            let cancelled = if e.cancelled { ", cancelled" } else { "" };
            writeln!(
                out,
                "  {:<26} {:?} ~ {:?} ({:?}{weight}{cancelled})",
                e.source, e.pattern, e.matched, e.fit
            )?;
        }
    }
    Ok(())
}

fn check(config: &Config, engine: &Engine, out: &mut String) -> anyhow::Result<()> {
    let library = engine.library();
    writeln!(
        out,
        "ok: config and {} are valid ({} topics, crisis reply with {} resources, notice set)",
        config.responses_dir.display(),
        library.topics.len(),
        library.crisis.resources.len()
    )?;
    let mut strays = 0;
    for topic in &library.topics {
        for example in &topic.matching.examples {
            let got = engine.classify(example).label();
            if got != topic.id {
                strays += 1;
                writeln!(
                    out,
                    "  note: {}: example {:?} classifies as {}",
                    topic.id, example, got
                )?;
            }
        }
    }
    if strays > 0 {
        writeln!(
            out,
            "  {strays} example(s) classify elsewhere; consider adding cues (not an error)"
        )?;
    }
    Ok(())
}
