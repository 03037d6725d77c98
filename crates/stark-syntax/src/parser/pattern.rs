//! Patterns (SYN-PATTERN-001): literals, `_`, names, paths, tuple and
//! struct variants, tuples and arrays. Nothing more: no guards, `|`, `..`
//! or ranges.

use super::{PResult, Parser};
use crate::ast::*;
use crate::lexer::{Keyword, Punct, TokenKind};

impl Parser<'_> {
    pub(super) fn parse_pattern(&mut self) -> PResult<Pattern> {
        self.nested(|p| p.parse_pattern_inner())
    }

    fn parse_pattern_inner(&mut self) -> PResult<Pattern> {
        let lo = self.span();
        if let Some(lit) = self.literal() {
            self.pos += 1;
            return Ok(Pattern { kind: PatternKind::Lit(lit), span: lo });
        }
        let kind = match self.peek() {
            TokenKind::Ident(s) if *s == self.words.underscore => {
                self.pos += 1;
                PatternKind::Wildcard
            }
            TokenKind::Punct(Punct::LParen) => {
                let open = self.bump().span;
                let (mut patterns, trailing_comma) = self.parse_pattern_list(Punct::RParen, open)?;
                if patterns.len() == 1 && !trailing_comma {
                    // `(p)` groups; only `(p,)` is a one-element tuple.
                    let mut inner = patterns.pop().expect("one pattern");
                    inner.span = self.span_from(lo);
                    return Ok(inner);
                }
                PatternKind::Tuple(patterns)
            }
            TokenKind::Punct(Punct::LBracket) => {
                let open = self.bump().span;
                PatternKind::Array(self.parse_pattern_list(Punct::RBracket, open)?.0)
            }
            TokenKind::Punct(Punct::Minus)
                if matches!(self.peek_nth(1), TokenKind::Int { .. } | TokenKind::Float { .. }) =>
            {
                return Err(self.expected("a pattern (Core v1 has no negative literal patterns)"));
            }
            _ if self.at_path_start() => self.parse_path_pattern()?,
            TokenKind::Keyword(kw) if kw.is_reserved() => {
                return Err(self.expect_ident().err().unwrap_or(super::Reported));
            }
            _ => return Err(self.expected("a pattern")),
        };
        Ok(Pattern { kind, span: self.span_from(lo) })
    }

    /// A name, a path, `Path(..)` or `Path { .. }`.
    fn parse_path_pattern(&mut self) -> PResult<PatternKind> {
        let path = self.parse_plain_path()?;
        if self.at(Punct::LParen) {
            let open = self.bump().span;
            let (patterns, _) = self.parse_pattern_list(Punct::RParen, open)?;
            return Ok(PatternKind::TupleStruct(path, patterns));
        }
        if self.at(Punct::LBrace) {
            return Ok(PatternKind::Struct(path, self.parse_field_patterns()?));
        }
        if path.segments.len() == 1 {
            return Ok(PatternKind::Ident(path.segments[0]));
        }
        Ok(PatternKind::Path(path))
    }

    /// `{ name: pattern, name, .. }`.
    fn parse_field_patterns(&mut self) -> PResult<Vec<FieldPattern>> {
        let open = self.expect(Punct::LBrace)?;
        let mut fields = Vec::new();
        while !self.at(Punct::RBrace) && !self.at_eof() {
            let name = self.expect_ident()?;
            let pattern = if self.eat(Punct::Colon) {
                self.parse_pattern()?
            } else {
                Pattern { kind: PatternKind::Ident(name), span: name.span }
            };
            fields.push(FieldPattern { name, pattern });
            if !self.eat(Punct::Comma) {
                break;
            }
        }
        self.expect_close(Punct::RBrace, open)?;
        Ok(fields)
    }

    /// Patterns separated by commas up to `close`; also tells whether the
    /// list ended with a comma.
    fn parse_pattern_list(&mut self, close: Punct, open: crate::source::Span) -> PResult<(Vec<Pattern>, bool)> {
        let mut patterns = Vec::new();
        let mut trailing_comma = false;
        while !self.at(close) && !self.at_eof() {
            patterns.push(self.parse_pattern()?);
            trailing_comma = self.eat(Punct::Comma);
            if !trailing_comma {
                break;
            }
        }
        self.expect_close(close, open)?;
        Ok((patterns, trailing_comma))
    }

    /// A path without generic arguments (`a::b::C`).
    pub(super) fn parse_plain_path(&mut self) -> PResult<Path> {
        let lo = self.span();
        let mut segments = Vec::new();
        loop {
            match self.path_segment() {
                Some(segment) => segments.push(segment),
                None => return Err(self.expected("a path segment")),
            }
            if !self.eat(Punct::ColonColon) {
                break;
            }
        }
        Ok(Path { segments, generics: None, span: self.span_from(lo) })
    }

    /// The current token as a literal, if it is one (not consumed).
    pub(super) fn literal(&self) -> Option<Lit> {
        Some(match self.peek() {
            TokenKind::Int { value, suffix } => Lit::Int { value: *value, suffix: *suffix },
            TokenKind::Float { value, suffix } => Lit::Float { value: *value, suffix: *suffix },
            TokenKind::Str(s) => Lit::Str(s.clone()),
            TokenKind::Char(c) => Lit::Char(*c),
            TokenKind::Keyword(Keyword::True) => Lit::Bool(true),
            TokenKind::Keyword(Keyword::False) => Lit::Bool(false),
            _ => return None,
        })
    }
}
