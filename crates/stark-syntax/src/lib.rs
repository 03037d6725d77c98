//! `stark-syntax`: source files and spans, the lexer, the parser, the AST,
//! and the diagnostic type every later phase reports with.
//!
//! ```
//! use stark_syntax::{parse, Mode, SourceFile};
//! let file = SourceFile::new("hello.stark", "fn main() { println(\"hi\"); }");
//! let parsed = parse(&file, Mode::Extension);
//! assert!(parsed.diagnostics.is_empty());
//! assert_eq!(parsed.program.items.len(), 1);
//! ```

pub mod ast;
pub mod diagnostic;
pub mod lexer;
pub mod parser;
pub mod source;
pub mod symbol;

pub use diagnostic::{render, Diagnostic, Label, Severity};
pub use parser::Mode;
pub use source::{FileId, SourceError, SourceFile, SourceMap, Span};
pub use symbol::Symbol;

/// A parsed file: the tree (as complete as recovery allowed) and every
/// lexical and syntax error, in source order.
#[derive(Debug)]
pub struct Parsed {
    /// The program.
    pub program: ast::Program,
    /// Errors; the program is valid only when this is empty.
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes and parses a whole file as a program (`Item*`).
pub fn parse(file: &SourceFile, mode: Mode) -> Parsed {
    let lexed = lexer::lex_at(file.text(), file.base());
    let (program, parse_errors) = parser::parse_program(lexed.tokens, file, &lexed.docs, mode);
    let diagnostics = merge(&lexed.errors, &parse_errors);
    Parsed { program, diagnostics }
}

/// Lexes and parses the toolchain's own library declarations, where
/// functions may be declared without a body (they are host-provided).
pub fn parse_library(file: &SourceFile) -> Parsed {
    let lexed = lexer::lex_at(file.text(), file.base());
    let (program, parse_errors) = parser::parse_library(lexed.tokens, file, &lexed.docs);
    let diagnostics = merge(&lexed.errors, &parse_errors);
    Parsed { program, diagnostics }
}

/// Lexes and parses a file as a block body without braces: the spec
/// harness's "snippet" mode, where items and statements may mix.
pub fn parse_snippet(file: &SourceFile, mode: Mode) -> (Vec<ast::Stmt>, Vec<Diagnostic>) {
    let lexed = lexer::lex_at(file.text(), file.base());
    let (stmts, parse_errors) = parser::parse_snippet(lexed.tokens, file, &lexed.docs, mode);
    (stmts, merge(&lexed.errors, &parse_errors))
}

/// All diagnostics of both phases, ordered by position.
fn merge(lex_errors: &[lexer::LexError], parse_errors: &[parser::ParseError]) -> Vec<Diagnostic> {
    let mut all: Vec<(u32, Diagnostic)> = lex_errors
        .iter()
        .map(|e| (e.span.lo, e.to_diagnostic()))
        .chain(parse_errors.iter().map(|e| (e.span.lo, e.to_diagnostic())))
        .collect();
    all.sort_by_key(|(lo, _)| *lo);
    all.into_iter().map(|(_, d)| d).collect()
}
