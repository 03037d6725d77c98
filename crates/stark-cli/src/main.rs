//! `stark`: the STARK toolchain's command-line interface.

mod cli;
mod commands;

use clap::Parser;
use std::process::ExitCode;

/// Tasks, messages and heap objects are many small, short-lived
/// allocations across threads: mimalloc handles them far better than the
/// system allocator (measured on bench/concurrency).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    commands::run(cli)
}
