//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The STARK toolchain: parse, check, run and serve STARK programs.
///
/// Exit status: 0 on success, 1 when the program has errors, 2 for bad
/// command-line use, 101 when a running program fails.
#[derive(Debug, Parser)]
#[command(name = "stark", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lex and parse a file: prints nothing and exits 0 when it is valid
    /// syntax; otherwise prints the errors and exits 1.
    Parse(ParseArgs),
    /// Check a program: load its modules and packages, resolve names,
    /// check types. Prints the diagnostics; exits 1 on errors, 0 otherwise
    /// (warnings alone exit 0).
    Check(CheckArgs),
    /// Run a program: check it, compile it to bytecode and run `main`.
    /// Exits with `main`'s status (0, or the `Int32` it returns; 1 when it
    /// returns `Err`), 1 when the program has errors, and 101 when it
    /// traps (the message and the STARK stack trace go to stderr).
    Run(RunArgs),
    /// Serve models over HTTP: run `main`, which loads models and names
    /// their servers with `register_model(name, serve(model, policy))` (or
    /// any actor from `Tensor<Float32>` to `Tensor<Float32>`), then serve them on 127.0.0.1 with the Open Inference Protocol
    /// (KServe v2) until interrupted (Ctrl-C or SIGTERM).
    ///
    /// Endpoints: GET /v2/health/live, GET /v2/health/ready, GET /v2,
    /// GET /v2/models/{name}, GET /v2/models/{name}/ready,
    /// POST /v2/models/{name}/infer (JSON tensors, FP32), and GET /metrics
    /// (Prometheus text: every actor's and model server's statistics).
    /// Prints `serving on http://127.0.0.1:PORT` on stderr once listening.
    /// Exits 0 after an interrupt, 1 when the program has errors or the
    /// port cannot be bound, `main`'s status when it fails, 101 when it traps.
    Serve(ServeArgs),
}

/// Options every command that reads a source file takes.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The `.stark` source file.
    pub file: PathBuf,
    /// STARK Core v1 only: reject the AI extension's syntax (`async`,
    /// `await`, `spawn`, `select`, `actor`, `shared let`, closures, tensor
    /// shapes, struct update).
    #[arg(long)]
    pub core: bool,
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// Options of `stark check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The file and language options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Check the file as a block body (statements and items, no `fn main`):
    /// the mode the Core v1 spec's example harness uses.
    #[arg(long)]
    pub snippet: bool,
    /// Skip the ownership and borrow checker (to measure what it costs;
    /// programs that skip it are not known to be memory-safe).
    #[arg(long, conflicts_with = "snippet")]
    pub no_ownership: bool,
}

/// Options of `stark run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The file and language options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print the compiled bytecode (a readable listing) instead of running.
    #[arg(long)]
    pub dump_bytecode: bool,
    /// Worker threads for tasks (default: the number of cores); 1 runs
    /// every task on one thread, the same way each time.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Seed of `select`'s choice among ready arms; with `--threads 1` the
    /// same seed gives the same run.
    #[arg(long)]
    pub seed: Option<u64>,
    /// When the program ends, print to standard error the tasks spawned,
    /// the most alive at once, messages sent, and time running versus waiting.
    #[arg(long)]
    pub profile: bool,
}

/// Options of `stark serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The file and language options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// The port to listen on, on 127.0.0.1 (0: a free port, printed on stderr).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The largest request body accepted, in bytes; larger ones get a 413.
    #[arg(long, default_value_t = 16 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_body: u64,
    /// Worker threads for tasks (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

/// Options of `stark parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The file and language options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print the syntax tree.
    #[arg(long)]
    pub ast: bool,
    /// Only lex the file, and print its tokens.
    #[arg(long, conflicts_with_all = ["ast", "snippet"])]
    pub tokens: bool,
    /// Parse the file as a block body (statements and items, no `fn main`):
    /// the mode the Core v1 spec's example harness uses.
    #[arg(long)]
    pub snippet: bool,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// When standard error is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}
