//! What the subcommands do and print, apart from parsing (in `main.rs`).

pub mod train;
