//! A hand-written recursive-descent parser following Core v1's syntax
//! grammar (`02-Syntax-Grammar.md`) plus the AI extension's syntax.
//!
//! Errors are collected, not fatal: after an error the parser skips to the
//! end of the statement or item and goes on, so one run reports several
//! independent problems. Nesting is bounded (`MAX_DEPTH`), so no input can
//! overflow the stack.

mod error;
mod expr;
mod item;
mod pattern;
mod stmt;
mod ty;

pub use error::{ParseError, ParseErrorKind};

use crate::ast::{Ident, Program, Stmt};
use crate::lexer::{DocComment, Keyword, Punct, Token, TokenKind};
use crate::source::{SourceFile, Span};
use crate::symbol::Symbol;

/// Which language the parser accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// STARK Core v1 plus the AI extension (the default).
    #[default]
    Extension,
    /// STARK Core v1 only: extension syntax is rejected (`--core`).
    Core,
}

/// How deep the syntax tree may be: every nested expression, type,
/// pattern or block counts one level, and so does every link of an
/// operator or postfix chain (`a + b + c` is a tree of depth 3). Later
/// passes recurse over the tree, so this bounds them too.
pub const MAX_DEPTH: u32 = 512;

/// Stack left below which `nested` grows the stack, and by how much.
const RED_ZONE: usize = 128 * 1024;
const STACK_CHUNK: usize = 2 * 1024 * 1024;

/// After this many errors the parser stops: later ones are mostly noise.
const MAX_ERRORS: usize = 100;

/// An error was reported; the caller should recover.
#[derive(Debug)]
pub(crate) struct Reported;

type PResult<T> = Result<T, Reported>;

/// Names that are keywords only in context (AI extension).
struct Contextual {
    actor: Symbol,
    spawn: Symbol,
    select: Symbol,
    shared: Symbol,
    move_: Symbol,
    tensor: Symbol,
    underscore: Symbol,
}

pub(crate) struct Parser<'a> {
    tokens: Vec<Token>,
    /// The file the tokens' spans point into.
    file: &'a SourceFile,
    pos: usize,
    docs: &'a [DocComment],
    mode: Mode,
    errors: Vec<ParseError>,
    depth: u32,
    /// Set while parsing an `if`/`while` condition, `match` scrutinee or
    /// `for` iterable: a `Path {` there starts a block, not a struct literal.
    no_struct: bool,
    /// Set when the parser gave up on the rest of the input (too deep, too
    /// many errors): nothing more is reported.
    gave_up: bool,
    /// The end of a token part consumed by `split_first`.
    split_hi: u32,
    /// Set when parsing snippets: blocks at the top level may hold items.
    snippet: bool,
    /// Set when parsing the toolchain's own library declarations: functions
    /// may end with `;` instead of a body (they are provided by the host).
    library: bool,
    words: Contextual,
}

/// Parses a whole file as a program (`Program ::= Item*`).
pub fn parse_program(
    tokens: Vec<Token>,
    file: &SourceFile,
    docs: &[DocComment],
    mode: Mode,
) -> (Program, Vec<ParseError>) {
    let mut parser = Parser::new(tokens, file, docs, mode);
    let items = parser.parse_items(false);
    (Program { items }, parser.errors)
}

/// Parses the toolchain's library declarations: a program in which
/// functions may be declared without a body (`fn println<T: Display>(value: T);`),
/// their behaviour being provided by the host.
pub fn parse_library(tokens: Vec<Token>, file: &SourceFile, docs: &[DocComment]) -> (Program, Vec<ParseError>) {
    let mut parser = Parser::new(tokens, file, docs, Mode::Extension);
    parser.library = true;
    let items = parser.parse_items(false);
    (Program { items }, parser.errors)
}

/// Parses a block body without braces (`(Item | Statement)* Expression?`):
/// the spec harness's snippet mode.
pub fn parse_snippet(
    tokens: Vec<Token>,
    file: &SourceFile,
    docs: &[DocComment],
    mode: Mode,
) -> (Vec<Stmt>, Vec<ParseError>) {
    let mut parser = Parser::new(tokens, file, docs, mode);
    parser.snippet = true;
    let block = parser.parse_block_body(Span::at(0));
    let mut stmts = block.stmts;
    if let Some(tail) = block.tail {
        let span = tail.span;
        stmts.push(Stmt { kind: crate::ast::StmtKind::Expr { expr: *tail, semi: false }, span });
    }
    (stmts, parser.errors)
}

impl<'a> Parser<'a> {
    pub(crate) fn new(tokens: Vec<Token>, file: &'a SourceFile, docs: &'a [DocComment], mode: Mode) -> Parser<'a> {
        let words = Contextual {
            actor: Symbol::intern("actor"),
            spawn: Symbol::intern("spawn"),
            select: Symbol::intern("select"),
            shared: Symbol::intern("shared"),
            move_: Symbol::intern("move"),
            tensor: Symbol::intern("Tensor"),
            underscore: Symbol::intern("_"),
        };
        debug_assert!(matches!(tokens.last(), Some(Token { kind: TokenKind::Eof, .. })));
        Parser {
            tokens,
            file,
            pos: 0,
            docs,
            mode,
            errors: Vec::new(),
            depth: 0,
            no_struct: false,
            gave_up: false,
            split_hi: 0,
            snippet: false,
            library: false,
            words,
        }
    }

    // ----- the cursor -----

    fn peek(&self) -> &TokenKind {
        &self.tokens[self.pos].kind
    }

    fn peek_nth(&self, n: usize) -> &TokenKind {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].kind
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span
    }

    /// The end of the previous token (for spans that end there).
    fn prev_hi(&self) -> u32 {
        let prev = if self.pos == 0 { 0 } else { self.tokens[self.pos - 1].span.hi };
        prev.max(self.split_hi)
    }

    /// The span from `lo` to the end of the previous token.
    fn span_from(&self, lo: Span) -> Span {
        Span { lo: lo.lo, hi: self.prev_hi().max(lo.lo) }
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek(), TokenKind::Eof)
    }

    fn at(&self, punct: Punct) -> bool {
        self.peek().is(punct)
    }

    fn at_kw(&self, kw: Keyword) -> bool {
        self.peek().is_kw(kw)
    }

    /// Consumes the current token and returns it (the final `Eof` stays).
    fn bump(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, punct: Punct) -> bool {
        let yes = self.at(punct);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn eat_kw(&mut self, kw: Keyword) -> bool {
        let yes = self.at_kw(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect(&mut self, punct: Punct) -> PResult<Span> {
        if self.at(punct) {
            let span = self.span();
            self.pos += 1;
            Ok(span)
        } else if punct == Punct::Semi {
            self.missing_semicolon();
            Err(Reported)
        } else {
            Err(self.expected(&format!("`{}`", punct.as_str())))
        }
    }

    /// Reports a missing `;` after the previous token.
    fn missing_semicolon(&mut self) {
        if self.peek() != &TokenKind::Error {
            let found = self.peek().to_string();
            let after = Span::at(self.prev_hi() as usize);
            self.report(ParseErrorKind::MissingSemicolon { found, after }, self.span());
        }
    }

    fn expect_kw(&mut self, kw: Keyword) -> PResult<Span> {
        if self.at_kw(kw) {
            let span = self.span();
            self.pos += 1;
            Ok(span)
        } else {
            Err(self.expected(&format!("`{}`", kw.as_str())))
        }
    }

    /// A closing delimiter; at the end of the file, says where it opened.
    fn expect_close(&mut self, close: Punct, open: Span) -> PResult<Span> {
        if self.at_eof() && !self.at(close) {
            if self.pos > 0 && self.tokens[self.pos - 1].kind == TokenKind::Error {
                // A literal or comment ran to the end of the file: that
                // error already explains the missing delimiter.
                return Err(Reported);
            }
            let delimiter = open_char(close);
            self.report(ParseErrorKind::Unclosed { open, delimiter }, self.span());
            return Err(Reported);
        }
        // Lists stop at the first element not followed by `,`: say so.
        let after_element =
            self.pos > 0 && self.tokens[self.pos - 1].span != open && !self.tokens[self.pos - 1].kind.is(Punct::Comma);
        if after_element && !self.at(close) {
            return Err(self.expected(&format!("`,` or `{}`", close.as_str())));
        }
        self.expect(close)
    }

    /// An identifier; reserved words and keywords get their own message.
    fn expect_ident(&mut self) -> PResult<Ident> {
        match *self.peek() {
            TokenKind::Ident(name) => {
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            TokenKind::Keyword(kw) if kw.is_reserved() => {
                let span = self.span();
                self.report(ParseErrorKind::ReservedWord(kw.as_str()), span);
                self.pos += 1;
                Err(Reported)
            }
            // The library declares the types behind primitive names (`String`).
            TokenKind::Keyword(kw) if self.library && kw.is_primitive_type() => {
                let name = Symbol::intern(kw.as_str());
                Ok(Ident { name, span: self.bump().span })
            }
            _ => Err(self.expected("an identifier")),
        }
    }

    /// The current token as a path segment, if it can be one (an
    /// identifier, `self`, `Self`, `super`, `crate` or a primitive type).
    fn path_segment(&mut self) -> Option<Ident> {
        let name = match self.peek() {
            TokenKind::Ident(name) => *name,
            TokenKind::Keyword(kw @ (Keyword::SelfValue | Keyword::SelfType | Keyword::Super | Keyword::Crate)) => {
                Symbol::intern(kw.as_str())
            }
            TokenKind::Keyword(kw) if kw.is_primitive_type() => Symbol::intern(kw.as_str()),
            _ => return None,
        };
        let span = self.bump().span;
        Some(Ident { name, span })
    }

    fn at_path_start(&self) -> bool {
        match self.peek() {
            TokenKind::Ident(_) => true,
            TokenKind::Keyword(kw) => {
                kw.is_primitive_type()
                    || matches!(kw, Keyword::SelfValue | Keyword::SelfType | Keyword::Super | Keyword::Crate)
            }
            _ => false,
        }
    }

    // ----- errors and recovery -----

    fn report(&mut self, kind: ParseErrorKind, span: Span) {
        if self.gave_up {
            return;
        }
        self.errors.push(ParseError { kind, span });
        if self.errors.len() >= MAX_ERRORS {
            self.give_up();
        }
    }

    /// Skips the rest of the input, reporting nothing more.
    fn give_up(&mut self) {
        self.gave_up = true;
        self.pos = self.tokens.len() - 1;
    }

    /// Reports "expected X, found Y" at the current token, unless the
    /// current token is one the lexer already rejected.
    fn expected(&mut self, expected: &str) -> Reported {
        if self.peek() != &TokenKind::Error {
            let found = self.peek().to_string();
            self.report(ParseErrorKind::Expected { expected: expected.to_owned(), found }, self.span());
        }
        Reported
    }

    /// Reports use of extension syntax under `--core`.
    fn extension(&mut self, what: &'static str, span: Span) {
        if self.mode == Mode::Core {
            self.report(ParseErrorKind::ExtensionOnly(what), span);
        }
    }

    /// Enters one level of nesting; fails (once, fatally) past `MAX_DEPTH`.
    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            let span = self.span();
            self.report(ParseErrorKind::NestingTooDeep, span);
            // Nothing sensible can follow: give up on the rest of the file.
            self.give_up();
            return Err(Reported);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Runs `f` one nesting level deeper, growing the stack when it runs
    /// low, so deep (but allowed) nesting never overflows whatever thread
    /// the parser runs on.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.enter()?;
        let result = stacker::maybe_grow(RED_ZONE, STACK_CHUNK, || f(self));
        self.leave();
        result
    }

    /// Runs `f` with the struct-literal restriction set to `restricted`.
    fn restricted<T>(&mut self, restricted: bool, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = std::mem::replace(&mut self.no_struct, restricted);
        let result = f(self);
        self.no_struct = saved;
        result
    }

    /// How many delimiters opened since token `start` are still open.
    fn open_since(&self, start: usize) -> u32 {
        let mut depth = 0u32;
        for token in &self.tokens[start..self.pos] {
            match token.kind {
                TokenKind::Punct(Punct::LParen | Punct::LBracket | Punct::LBrace) => depth += 1,
                TokenKind::Punct(Punct::RParen | Punct::RBracket | Punct::RBrace) => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        depth
    }

    /// After an error in the statement that began at token `start`: skips
    /// out of the delimiters it opened, then past its `;`, or up to the `}`
    /// that closes the enclosing block.
    fn recover_stmt(&mut self, start: usize) {
        let mut depth = self.open_since(start);
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::Punct(Punct::Semi) if depth == 0 => {
                    self.pos += 1;
                    return;
                }
                TokenKind::Punct(Punct::RBrace) if depth == 0 => return,
                TokenKind::Punct(Punct::LParen | Punct::LBracket | Punct::LBrace) => depth += 1,
                TokenKind::Punct(Punct::RParen | Punct::RBracket | Punct::RBrace) => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// After an error in the item that began at token `start`: skips out
    /// of the delimiters it opened, then to the next token that can start
    /// an item (or the `}` closing the enclosing module).
    fn recover_item(&mut self, start: usize, in_block: bool) {
        let mut depth = self.open_since(start);
        let from = self.pos;
        loop {
            if depth == 0 && self.pos > from.max(start) && self.at_item_start() {
                return;
            }
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::Punct(Punct::RBrace) if depth == 0 && in_block => return,
                TokenKind::Punct(Punct::LParen | Punct::LBracket | Punct::LBrace) => depth += 1,
                TokenKind::Punct(Punct::RParen | Punct::RBracket | Punct::RBrace) => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn at_item_start(&self) -> bool {
        use Keyword::*;
        match self.peek() {
            TokenKind::Keyword(Fn | Struct | Enum | Trait | Impl | Const | Type | Use | Mod | Pub | Priv) => true,
            TokenKind::Keyword(Async) => self.peek_nth(1).is_kw(Fn),
            TokenKind::Ident(s) => *s == self.words.actor && matches!(self.peek_nth(1), TokenKind::Ident(_)),
            _ => false,
        }
    }

    /// The doc comment directly before the token at `lo`.
    fn doc_before(&self, lo: Span) -> Option<String> {
        let i = self.docs.partition_point(|d| d.span.hi <= lo.lo);
        let doc = self.docs.get(i.checked_sub(1)?)?;
        (doc.span.lo >= self.prev_hi()).then(|| doc.text.clone())
    }
}

fn open_char(close: Punct) -> char {
    match close {
        Punct::RParen => '(',
        Punct::RBracket => '[',
        _ => '{',
    }
}

#[cfg(test)]
mod tests;
