//! What each subcommand does.

use crate::cli::{Cli, Color, Command, CommonArgs, ParseArgs, RunArgs, ServeArgs};
use stark_syntax::{render, Diagnostic, Mode, Severity, SourceFile, SourceMap};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Exit status when the program has errors.
const EXIT_ERRORS: u8 = 1;

/// Exit status when the program traps (PROC-EXIT-001).
const EXIT_TRAP: u8 = 101;

/// Runs one command and returns the process's exit status.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Parse(args) => parse(&args),
        Command::Check(args) => check(&args.common, args.snippet, !args.no_ownership),
        Command::Run(args) => run_program(&args),
        Command::Serve(args) => serve(&args),
    }
}

fn parse(args: &ParseArgs) -> ExitCode {
    let Some(file) = load(&args.common) else {
        return ExitCode::from(EXIT_ERRORS);
    };
    let mode = mode(&args.common);
    // The tree is formatted only when it will be printed.
    let (dump, diagnostics): (Box<dyn Fn() -> String>, _) = if args.tokens {
        let lexed = stark_syntax::lexer::lex(file.text());
        let diagnostics = lexed.errors.iter().map(|e| e.to_diagnostic()).collect();
        let dump = move || lexed.tokens.iter().map(|t| format!("{:?} {:?}\n", t.span, t.kind)).collect();
        (Box::new(dump), diagnostics)
    } else if args.snippet {
        let (stmts, diagnostics) = stark_syntax::parse_snippet(&file, mode);
        (Box::new(move || format!("{stmts:#?}\n")), diagnostics)
    } else {
        let parsed = stark_syntax::parse(&file, mode);
        let program = parsed.program;
        (Box::new(move || format!("{program:#?}\n")), parsed.diagnostics)
    };
    if !diagnostics.is_empty() {
        report(&file, &diagnostics, args.common.color);
        return ExitCode::from(EXIT_ERRORS);
    }
    if args.ast || args.tokens {
        // A closed stdout (`stark parse --ast f | head`) is not an error.
        let _ = std::io::stdout().lock().write_all(dump().as_bytes());
    }
    // The process ends now: freeing the tree node by node would only cost time.
    std::mem::forget(dump);
    ExitCode::SUCCESS
}

/// Loads the program, resolves its names, and reports every problem.
fn check(args: &CommonArgs, snippet: bool, ownership: bool) -> ExitCode {
    let fs = stark_check::fs::RealFileSystem;
    let checked = if snippet {
        stark_check::check_snippet(&args.file, &fs, mode(args))
    } else {
        stark_check::check_with(&args.file, &fs, mode(args), ownership)
    };
    if !checked.diagnostics.is_empty() {
        report_all(&checked.map, &checked.diagnostics, args.color, "check", &args.file.display().to_string());
    }
    if checked.has_errors() {
        return ExitCode::from(EXIT_ERRORS);
    }
    if !checked.types_checked {
        eprintln!("error: not supported yet: type checking (names resolve without errors; types are not checked yet)");
        return ExitCode::from(EXIT_ERRORS);
    }
    ExitCode::SUCCESS
}

/// `run`: check, compile, run `main` as a task; the exit status is
/// `main`'s (PROC-EXIT-001), 1 for a program with errors, 101 for a trap.
fn run_program(args: &RunArgs) -> ExitCode {
    let Some(program) = compile(&args.common) else {
        return ExitCode::from(EXIT_ERRORS);
    };
    if args.dump_bytecode {
        let _ = std::io::stdout().lock().write_all(stark_vm::disasm::program(&program).as_bytes());
        return ExitCode::SUCCESS;
    }
    let mut config = stark_runtime::Config { seed: args.seed, profile: args.profile, ..Default::default() };
    if let Some(threads) = args.threads {
        config.threads = threads as usize;
    }
    execute(program, config)
}

/// `serve`: run `main`, then serve its registered models until interrupted.
fn serve(args: &ServeArgs) -> ExitCode {
    let Some(program) = compile(&args.common) else {
        return ExitCode::from(EXIT_ERRORS);
    };
    let max_body = usize::try_from(args.max_body).unwrap_or(usize::MAX);
    let serving = stark_runtime::Serving { port: args.port, max_body };
    let mut config = stark_runtime::Config { serve: Some(serving), ..Default::default() };
    if let Some(threads) = args.threads {
        config.threads = threads as usize;
    }
    execute(program, config)
}

/// Checks and compiles the program, reporting its errors (`None` then).
fn compile(common: &CommonArgs) -> Option<stark_vm::program::Program> {
    let fs = stark_check::fs::RealFileSystem;
    let mut checked = stark_check::check(&common.file, &fs, mode(common));
    let name = common.file.display().to_string();
    // Warnings are `stark check`'s business: a program that runs keeps its
    // stderr for itself (the conformance corpora pin it byte for byte).
    if checked.has_errors() {
        report_all(&checked.map, &checked.diagnostics, common.color, "check", &name);
        return None;
    }
    let program = match stark_codegen::compile(&mut checked) {
        Ok(p) => p,
        Err(errors) => {
            report_all(&checked.map, &errors, common.color, "compile", &name);
            return None;
        }
    };
    // The checked program is no longer needed; freeing it node by node
    // would only delay the start.
    std::mem::forget(checked);
    Some(program)
}

/// Runs `main` under `config`; the process's exit status.
fn execute(program: stark_vm::program::Program, config: stark_runtime::Config) -> ExitCode {
    match stark_runtime::run_main(std::sync::Arc::new(program), config) {
        stark_runtime::Outcome::Exit(code) => ExitCode::from(code),
        stark_runtime::Outcome::Trapped(trap) => {
            let _ = std::io::stderr().lock().write_all(trap.to_string().as_bytes());
            ExitCode::from(EXIT_TRAP)
        }
    }
}

fn mode(args: &CommonArgs) -> Mode {
    if args.core {
        Mode::Core
    } else {
        Mode::Extension
    }
}

/// Reads the source file, reporting unreadable files and invalid bytes.
fn load(args: &CommonArgs) -> Option<SourceFile> {
    let name = args.file.display().to_string();
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("error: cannot read `{name}`: {}", io_reason(&err));
            return None;
        }
    };
    match SourceFile::from_bytes(name, bytes) {
        Ok(file) => Some(file),
        Err(err) => {
            report(&err.file, &[err.diagnostic], args.color);
            None
        }
    }
}

/// The reason an I/O error happened, without Rust's `(os error N)` suffix.
fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => err.to_string(),
    }
}

fn report(file: &SourceFile, diagnostics: &[Diagnostic], color: Color) {
    report_all(&SourceMap::from(file.clone()), diagnostics, color, "parse", file.name());
}

/// Prints diagnostics, then a count of the errors among them.
fn report_all(map: &SourceMap, diagnostics: &[Diagnostic], color: Color, verb: &str, name: &str) {
    let color = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal(),
    };
    let mut text = render(map, diagnostics, color);
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    if errors > 0 {
        let plural = if errors == 1 { "" } else { "s" };
        text.push_str(&format!("error: could not {verb} `{name}` due to {errors} previous error{plural}\n"));
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
