//! The lexer: source text to tokens, following Core v1's lexical grammar
//! (`01-Lexical-Grammar.md`). It never stops at an error: a bad token is
//! reported, replaced by `TokenKind::Error`, and lexing goes on.

mod error;
mod format;
mod number;
mod token;

pub use error::{LexError, LexErrorKind};
pub use token::{FloatSuffix, FmtField, FmtPiece, FormatSpec, IntSuffix, Keyword, Punct, Token, TokenKind};

use crate::source::Span;
use crate::symbol::Symbol;

/// Identifiers may be at most this many bytes long (LEX-IDENT-002).
pub const MAX_IDENT_LEN: usize = 255;

/// A `/** ... */` documentation comment.
#[derive(Clone, Debug, PartialEq)]
pub struct DocComment {
    /// The whole comment.
    pub span: Span,
    /// Its text, without the delimiters and leading `*` decoration.
    pub text: String,
}

/// The result of lexing a file.
#[derive(Debug, Default)]
pub struct Lexed {
    /// The tokens, always ending with one `Eof`.
    pub tokens: Vec<Token>,
    /// Documentation comments in source order.
    pub docs: Vec<DocComment>,
    /// Every lexical error, in source order.
    pub errors: Vec<LexError>,
}

/// Splits `src` into tokens; spans are offsets into `src`.
pub fn lex(src: &str) -> Lexed {
    lex_at(src, 0)
}

/// Splits `src` into tokens whose spans start at offset `base`: the
/// position of the file in a `SourceMap`.
pub fn lex_at(src: &str, base: u32) -> Lexed {
    let mut lexer = Lexer::new(src, base as usize);
    let mut tokens = Vec::with_capacity(src.len() / 4 + 1);
    loop {
        let token = lexer.next_token();
        let eof = token.kind == TokenKind::Eof;
        tokens.push(token);
        if eof {
            break;
        }
    }
    Lexed { tokens, docs: lexer.docs, errors: lexer.errors }
}

/// Where the lexer is reading: the whole file, or the expression of an
/// interpolation field, where `\"` delimits nested strings and a bare `"`
/// ends the enclosing literal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    File,
    Field,
}

struct Lexer<'a> {
    src: &'a str,
    /// Added to every span: where the file starts in its source map.
    base: usize,
    bytes: &'a [u8],
    pos: usize,
    docs: Vec<DocComment>,
    errors: Vec<LexError>,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str, base: usize) -> Lexer<'a> {
        Lexer { src, base, bytes: src.as_bytes(), pos: 0, docs: Vec::new(), errors: Vec::new() }
    }

    fn peek(&self) -> u8 {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> u8 {
        self.bytes.get(self.pos + n).copied().unwrap_or(0)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The character at the cursor (the file is valid UTF-8).
    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn error(&mut self, kind: LexErrorKind, lo: usize, hi: usize) {
        self.errors.push(LexError::new(kind, self.span(lo, hi)));
    }

    fn token(&self, kind: TokenKind, lo: usize) -> Token {
        Token { kind, span: self.span(lo, self.pos) }
    }

    /// The file-wide span of local byte offsets `lo..hi`.
    fn span(&self, lo: usize, hi: usize) -> Span {
        Span::new(self.base + lo, self.base + hi)
    }

    fn next_token(&mut self) -> Token {
        self.next_token_in(Context::File)
    }

    fn next_token_in(&mut self, context: Context) -> Token {
        self.skip_trivia();
        let lo = self.pos;
        if self.at_end() {
            return self.token(TokenKind::Eof, lo);
        }
        let b = self.peek();
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.ident_or_keyword(context),
            b'0'..=b'9' => self.number(),
            b'"' if context == Context::Field => self.token(TokenKind::Eof, lo),
            b'"' => self.string(),
            b'\\' if context == Context::Field && self.peek_at(1) == b'"' => self.nested_string(),
            b'\'' => self.char_literal(),
            _ => match self.punct() {
                Some(punct) => self.token(TokenKind::Punct(punct), lo),
                None => {
                    let c = self.peek_char().unwrap_or('\0');
                    self.pos += c.len_utf8();
                    let kind = if lo == 0 && c == '\u{feff}' {
                        LexErrorKind::ByteOrderMark
                    } else {
                        LexErrorKind::UnexpectedChar(c)
                    };
                    self.error(kind, lo, self.pos);
                    self.token(TokenKind::Error, lo)
                }
            },
        }
    }

    /// Skips whitespace and comments, recording doc comments.
    fn skip_trivia(&mut self) {
        loop {
            match self.peek() {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'/' if self.peek_at(1) == b'/' => {
                    while !self.at_end() && self.peek() != b'\n' {
                        self.pos += 1;
                    }
                }
                b'/' if self.peek_at(1) == b'*' => self.block_comment(),
                _ => return,
            }
        }
    }

    /// A nested `/* ... */` comment; `/** ... */` is a doc comment.
    fn block_comment(&mut self) {
        let lo = self.pos;
        let is_doc = self.peek_at(2) == b'*' && !matches!(self.peek_at(3), b'*' | b'/');
        self.pos += 2;
        let mut depth = 1;
        while depth > 0 {
            if self.at_end() {
                self.error(LexErrorKind::UnterminatedComment, lo, lo + 2);
                return;
            }
            match (self.peek(), self.peek_at(1)) {
                (b'/', b'*') => {
                    depth += 1;
                    self.pos += 2;
                }
                (b'*', b'/') => {
                    depth -= 1;
                    self.pos += 2;
                }
                _ => self.pos += 1,
            }
        }
        if is_doc {
            let body = &self.src[lo + 3..self.pos - 2];
            let text = body
                .lines()
                .map(|line| line.trim().trim_start_matches('*').trim())
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            self.docs.push(DocComment { span: self.span(lo, self.pos), text });
        }
    }

    fn ident_or_keyword(&mut self, context: Context) -> Token {
        let lo = self.pos;
        while matches!(self.peek(), b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_') {
            self.pos += 1;
        }
        let text = &self.src[lo..self.pos];
        if self.peek() == b'"' && context == Context::File {
            match text {
                "r" => return self.raw_string(lo),
                "f" => return self.format_string(lo),
                _ => {}
            }
        }
        if context == Context::Field && text == "f" && self.peek() == b'\\' && self.peek_at(1) == b'"' {
            self.nested_string();
            self.error(LexErrorKind::FormatNestedFormat, lo, self.pos);
            return self.token(TokenKind::Error, lo);
        }
        if text.len() > MAX_IDENT_LEN {
            self.error(LexErrorKind::IdentifierTooLong(text.len()), lo, self.pos);
            return self.token(TokenKind::Error, lo);
        }
        let kind = match Keyword::from_spelling(text) {
            Some(kw) => TokenKind::Keyword(kw),
            None => TokenKind::Ident(Symbol::intern(text)),
        };
        self.token(kind, lo)
    }

    /// Operators and delimiters, longest match first.
    fn punct(&mut self) -> Option<Punct> {
        use Punct::*;
        let (b0, b1, b2) = (self.peek(), self.peek_at(1), self.peek_at(2));
        let (punct, len) = match (b0, b1, b2) {
            (b'*', b'*', b'=') => (StarStarEq, 3),
            (b'<', b'<', b'=') => (ShlEq, 3),
            (b'>', b'>', b'=') => (ShrEq, 3),
            (b'.', b'.', b'=') => (DotDotEq, 3),
            (b'*', b'*', _) => (StarStar, 2),
            (b'=', b'=', _) => (EqEq, 2),
            (b'!', b'=', _) => (Ne, 2),
            (b'<', b'=', _) => (Le, 2),
            (b'>', b'=', _) => (Ge, 2),
            (b'&', b'&', _) => (AndAnd, 2),
            (b'|', b'|', _) => (OrOr, 2),
            (b'<', b'<', _) => (Shl, 2),
            (b'>', b'>', _) => (Shr, 2),
            (b'+', b'=', _) => (PlusEq, 2),
            (b'-', b'=', _) => (MinusEq, 2),
            (b'*', b'=', _) => (StarEq, 2),
            (b'/', b'=', _) => (SlashEq, 2),
            (b'%', b'=', _) => (PercentEq, 2),
            (b'&', b'=', _) => (AmpEq, 2),
            (b'|', b'=', _) => (PipeEq, 2),
            (b'^', b'=', _) => (CaretEq, 2),
            (b'.', b'.', _) => (DotDot, 2),
            (b':', b':', _) => (ColonColon, 2),
            (b'-', b'>', _) => (Arrow, 2),
            (b'=', b'>', _) => (FatArrow, 2),
            (b'+', ..) => (Plus, 1),
            (b'-', ..) => (Minus, 1),
            (b'*', ..) => (Star, 1),
            (b'/', ..) => (Slash, 1),
            (b'%', ..) => (Percent, 1),
            (b'<', ..) => (Lt, 1),
            (b'>', ..) => (Gt, 1),
            (b'!', ..) => (Bang, 1),
            (b'&', ..) => (Amp, 1),
            (b'|', ..) => (Pipe, 1),
            (b'^', ..) => (Caret, 1),
            (b'~', ..) => (Tilde, 1),
            (b'=', ..) => (Eq, 1),
            (b'.', ..) => (Dot, 1),
            (b'?', ..) => (Question, 1),
            (b':', ..) => (Colon, 1),
            (b'(', ..) => (LParen, 1),
            (b')', ..) => (RParen, 1),
            (b'[', ..) => (LBracket, 1),
            (b']', ..) => (RBracket, 1),
            (b'{', ..) => (LBrace, 1),
            (b'}', ..) => (RBrace, 1),
            (b',', ..) => (Comma, 1),
            (b';', ..) => (Semi, 1),
            _ => return None,
        };
        self.pos += len;
        Some(punct)
    }

    /// A cooked string literal `"..."`.
    fn string(&mut self) -> Token {
        let lo = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        let mut ok = true;
        loop {
            match self.peek() {
                _ if self.at_end() => {
                    self.error(LexErrorKind::UnterminatedString, lo, lo + 1);
                    return self.token(TokenKind::Error, lo);
                }
                b'"' => break,
                b'\\' => ok &= self.escape(&mut bytes, false),
                b => {
                    bytes.push(b);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        match self.finish_string(bytes, ok, lo) {
            Some(text) => self.token(TokenKind::Str(text.into_boxed_str()), lo),
            None => self.token(TokenKind::Error, lo),
        }
    }

    /// Checks that decoded bytes form UTF-8 (they may not, after `\xNN`).
    fn finish_string(&mut self, bytes: Vec<u8>, escapes_ok: bool, lo: usize) -> Option<String> {
        if !escapes_ok {
            return None;
        }
        match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                self.error(LexErrorKind::InvalidUtf8Escapes, lo, self.pos);
                None
            }
        }
    }

    /// A raw string `r"..."`: no escapes; ends at the first `"`.
    fn raw_string(&mut self, lo: usize) -> Token {
        self.pos += 1;
        let start = self.pos;
        match self.src[start..].find('"') {
            Some(len) => {
                self.pos = start + len + 1;
                let text = &self.src[start..start + len];
                self.token(TokenKind::Str(text.into()), lo)
            }
            None => {
                self.pos = self.bytes.len();
                self.error(LexErrorKind::UnterminatedString, lo, start);
                self.token(TokenKind::Error, lo)
            }
        }
    }

    /// A string nested in an interpolation field, delimited by `\"`
    /// (LEX-FORMAT-004). It may not contain escapes of its own.
    fn nested_string(&mut self) -> Token {
        let lo = self.pos;
        self.pos += 2;
        let start = self.pos;
        loop {
            match self.peek() {
                _ if self.at_end() => break,
                b'"' => break,
                b'\\' if self.peek_at(1) == b'"' => {
                    let text = &self.src[start..self.pos];
                    self.pos += 2;
                    return self.token(TokenKind::Str(text.into()), lo);
                }
                b'\\' => {
                    // The escaped character may be multi-byte, or missing at the end.
                    let escaped = self.src[self.pos + 1..].chars().next().map_or(0, char::len_utf8);
                    self.error(LexErrorKind::FormatNestedEscape, self.pos, self.pos + 1 + escaped);
                    self.pos += 1 + escaped;
                    return self.skip_nested_string(lo);
                }
                _ => self.pos += 1,
            }
        }
        self.error(LexErrorKind::UnterminatedString, lo, lo + 2);
        self.token(TokenKind::Error, lo)
    }

    /// Recovery after a bad nested string: skip to its closing `\"`.
    fn skip_nested_string(&mut self, lo: usize) -> Token {
        while !self.at_end() && self.peek() != b'"' {
            if self.peek() == b'\\' && self.peek_at(1) == b'"' {
                self.pos += 2;
                break;
            }
            self.pos += 1;
        }
        self.token(TokenKind::Error, lo)
    }

    /// One escape sequence at the cursor (a `\`), appended to `out` as bytes.
    /// Returns false (after reporting) when it is invalid.
    fn escape(&mut self, out: &mut Vec<u8>, in_char: bool) -> bool {
        let lo = self.pos;
        self.pos += 1;
        let Some(c) = self.peek_char() else {
            return true; // the caller reports the unterminated literal
        };
        self.pos += c.len_utf8();
        let byte = match c {
            'n' => b'\n',
            't' => b'\t',
            'r' => b'\r',
            '0' => 0,
            '\\' => b'\\',
            '\'' => b'\'',
            '"' => b'"',
            'x' => return self.hex_escape(out, in_char, lo),
            'u' => return self.unicode_escape(out, lo),
            other => {
                self.error(LexErrorKind::UnknownEscape(other), lo, self.pos);
                return false;
            }
        };
        out.push(byte);
        true
    }

    fn hex_escape(&mut self, out: &mut Vec<u8>, in_char: bool, lo: usize) -> bool {
        let digits = (self.peek(), self.peek_at(1));
        let value = match (hex_value(digits.0), hex_value(digits.1)) {
            (Some(hi), Some(lo)) => hi * 16 + lo,
            _ => {
                self.error(LexErrorKind::InvalidHexEscape, lo, self.pos);
                return false;
            }
        };
        self.pos += 2;
        if in_char && value > 0x7f {
            self.error(LexErrorKind::InvalidHexEscape, lo, self.pos);
            return false;
        }
        out.push(value as u8);
        true
    }

    fn unicode_escape(&mut self, out: &mut Vec<u8>, lo: usize) -> bool {
        if self.peek() != b'{' {
            self.error(LexErrorKind::InvalidUnicodeEscape, lo, self.pos);
            return false;
        }
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_ascii_hexdigit() {
            self.pos += 1;
        }
        let digits = &self.src[start..self.pos];
        let closed = self.peek() == b'}';
        if closed {
            self.pos += 1;
        }
        let scalar = u32::from_str_radix(digits, 16).ok().and_then(char::from_u32);
        match scalar {
            Some(c) if closed && (1..=6).contains(&digits.len()) => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                true
            }
            _ => {
                self.error(LexErrorKind::InvalidUnicodeEscape, lo, self.pos);
                false
            }
        }
    }

    /// A character literal `'c'`.
    fn char_literal(&mut self) -> Token {
        let lo = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        let ok = match self.peek() {
            b'\'' => {
                self.pos += 1;
                self.error(LexErrorKind::EmptyChar, lo, self.pos);
                return self.token(TokenKind::Error, lo);
            }
            b'\\' => self.escape(&mut bytes, true),
            b'\n' | b'\r' => {
                self.error(LexErrorKind::UnterminatedChar, lo, lo + 1);
                return self.token(TokenKind::Error, lo);
            }
            _ => match self.peek_char() {
                Some(c) => {
                    self.pos += c.len_utf8();
                    bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    true
                }
                None => {
                    self.error(LexErrorKind::UnterminatedChar, lo, lo + 1);
                    return self.token(TokenKind::Error, lo);
                }
            },
        };
        if self.peek() != b'\'' {
            return self.bad_char_end(lo);
        }
        self.pos += 1;
        let c = String::from_utf8(bytes).ok().and_then(|s| s.chars().next());
        match c {
            Some(c) if ok => self.token(TokenKind::Char(c), lo),
            _ => self.token(TokenKind::Error, lo),
        }
    }

    /// After a character literal's first character there was no `'`: either
    /// it holds several characters (`'ab'`) or it never closes.
    fn bad_char_end(&mut self, lo: usize) -> Token {
        let rest = &self.src[self.pos..];
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        match line.find('\'') {
            Some(n) if n <= 16 => {
                self.pos += n + 1;
                self.error(LexErrorKind::CharTooLong, lo, self.pos);
            }
            _ => self.error(LexErrorKind::UnterminatedChar, lo, lo + 1),
        }
        self.token(TokenKind::Error, lo)
    }
}

fn hex_value(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

#[cfg(test)]
mod tests;
