//! The `boundary-bot` command line: the offline console, one-off
//! classification, evaluation, content checks, and the Discord bot.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use boundary_bot::classify::Stage;
use boundary_bot::config::Config;
use boundary_bot::{console, eval, Engine};

mod cli;

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
        /// Which stages decide (default: what the bot runs).
        #[arg(long, value_enum, default_value = "default")]
        stage: Stage,
    },
    /// Learn the weights files in responses/weights/ from labelled JSON
    /// Lines (training/, tests/fixtures/ and the shared pool), and print the
    /// comparison of stages on the dev split.
    Train {
        /// Folder with crisis-pool.jsonl and boundary-pool.jsonl.
        #[arg(long, value_name = "DIR", default_value = "../shared/train")]
        shared: PathBuf,
        /// The embedding model (default: [classifier] model_dir). Without
        /// it, only the lexicon weights are trained.
        #[arg(long, value_name = "DIR")]
        model_dir: Option<PathBuf>,
        /// Write nothing; exit non-zero unless the committed files are
        /// byte for byte what training produces.
        #[arg(long)]
        check: bool,
        /// Skip the comparison table.
        #[arg(long)]
        no_compare: bool,
        /// Keep training rows' embeddings in this file between runs (keyed
        /// by a hash of the text; a development speed-up).
        #[arg(long, value_name = "FILE")]
        embedding_cache: Option<PathBuf>,
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
        Some(Command::Eval {
            file,
            json,
            errors,
            stage,
        }) => {
            let (_, engine) = load(config_path)?;
            evaluate(&engine, &file, stage, json, errors, &mut out)?;
        }
        Some(Command::Train {
            shared,
            model_dir,
            check,
            no_compare,
            embedding_cache,
        }) => {
            let config = Config::load(config_path)?;
            let options = cli::train::TrainOptions {
                shared,
                model_dir,
                check,
                compare: !no_compare,
                embedding_cache,
            };
            let same = cli::train::train(&config, &options, &mut out)?;
            if check && !same {
                emit(&out)?;
                eprintln!("error: the committed weights differ from what training produces; run `boundary-bot train`");
                return Ok(ExitCode::FAILURE);
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

/// `eval`: the report as text or JSON (without the misclassified rows
/// unless `errors`).
fn evaluate(
    engine: &Engine,
    file: &std::path::Path,
    stage: boundary_bot::classify::Stage,
    json: bool,
    errors: bool,
    out: &mut String,
) -> anyhow::Result<()> {
    let rows = eval::read_rows(file)?;
    let report = eval::evaluate_stage(engine, &rows, stage);
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
    Ok(())
}

fn classify(
    engine: &Engine,
    text: &str,
    explain: bool,
    json: bool,
    out: &mut String,
) -> anyhow::Result<()> {
    let explanation = engine.explain(text);
    let classification = &explanation.classification;
    if json {
        let mut value = serde_json::to_value(classification)?;
        value["label"] = classification.label().into();
        if explain {
            value["explain"] = serde_json::to_value(&explanation)?;
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} (confidence {:.2}, crisis score {:.2} [{}], therapy context: {})",
        classification.label(),
        classification.confidence,
        classification.crisis_score,
        serde_json::to_value(classification.crisis_tier)?
            .as_str()
            .unwrap_or_default(),
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
        explain_text(&explanation, out)?;
    }
    Ok(())
}

fn explain_text(x: &boundary_bot::classify::Explanation, out: &mut String) -> anyhow::Result<()> {
    writeln!(out, "first stage (fuzzy lexicon):")?;
    for e in &x.evidence {
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
    writeln!(out, "decided by the {} weights:", x.decided_by)?;
    for head in [&x.crisis, &x.topic] {
        writeln!(
            out,
            "  {} head: {} p={:.3} (logit {:.2})",
            if head.class == "crisis" {
                "crisis"
            } else {
                "topic"
            },
            head.class,
            head.probability,
            head.logit
        )?;
        if let Some(e) = head.embedding {
            writeln!(
                out,
                "    {:+.3}  semantic stage (embedding, all dimensions)",
                e
            )?;
        }
        for c in &head.top {
            writeln!(
                out,
                "    {:+.3}  {} = {:.3}",
                c.contribution, c.feature, c.value
            )?;
        }
    }
    Ok(())
}

fn check(config: &Config, engine: &Engine, out: &mut String) -> anyhow::Result<()> {
    let library = engine.library();
    writeln!(
        out,
        "ok: config and {} are valid ({} topics, crisis lines for {} regions: {}; notice set)",
        config.responses_dir.display(),
        library.topics.len(),
        library.crisis.regions.len(),
        library
            .crisis
            .regions
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        out,
        "classifier stages: {}",
        engine.classifier().active_stages()
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
