//! The offline console (`boundary-bot chat`): type a message, see exactly
//! the reply the bot would send on Discord, through the same pipeline.
//! Works interactively and with piped stdin.

use std::io::{self, BufRead, Write};

use crate::reply::{self, Reply, Surface};
use crate::Engine;

const BANNER: &str = "boundary-bot offline console. Type a message as a member would.\n\
Commands: /topics, /topic <id>, /resources, /help, /quit.\n";

/// Reads lines from `input` until end of input or `/quit`, writing each
/// reply to `output`. Prompts only when `interactive`.
pub fn run(
    engine: &Engine,
    input: impl BufRead,
    mut output: impl Write,
    interactive: bool,
) -> io::Result<()> {
    if interactive {
        writeln!(output, "{BANNER}")?;
        write!(output, "> ")?;
        output.flush()?;
    }
    for line in input.lines() {
        let line = line?;
        let line = line.trim();
        if line == "/quit" || line == "/exit" {
            break;
        }
        if !line.is_empty() {
            let reply = respond(engine, line);
            writeln!(output, "{reply}\n")?;
        }
        if interactive {
            write!(output, "> ")?;
            output.flush()?;
        }
    }
    Ok(())
}

/// The reply to one console line: a command or a member message.
pub fn respond(engine: &Engine, line: &str) -> Reply {
    let library = engine.library();
    let surface = Surface::Console;
    let mut parts = line.splitn(2, char::is_whitespace);
    match parts.next() {
        Some("/topics") => reply::topic_list(library, surface),
        Some("/help") => reply::help(library, surface),
        Some("/resources") => reply::resources(library, engine.region_hints(Default::default())),
        Some("/topic") => {
            let wanted = parts.next().unwrap_or("").trim();
            match library.find_topic(wanted) {
                Some(topic) => reply::guidance(library, topic),
                None => reply::topic_list(library, surface),
            }
        }
        _ => engine.answer(line, surface).1,
    }
}
