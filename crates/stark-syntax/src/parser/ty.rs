//! Types, paths and generic arguments.

use super::{PResult, Parser};
use crate::ast::*;
use crate::lexer::{Keyword, Punct, TokenKind};
use crate::parser::ParseErrorKind;

impl Parser<'_> {
    pub(super) fn parse_type(&mut self) -> PResult<Type> {
        self.nested(|p| p.parse_type_inner())
    }

    fn parse_type_inner(&mut self) -> PResult<Type> {
        let lo = self.span();
        let kind = match self.peek() {
            TokenKind::Punct(Punct::LParen) => self.parse_tuple_type()?,
            TokenKind::Punct(Punct::LBracket) => {
                let open = self.bump().span;
                let elem = Box::new(self.parse_type()?);
                let kind = if self.eat(Punct::Semi) {
                    match *self.peek() {
                        TokenKind::Int { value, suffix: None } => {
                            self.pos += 1;
                            TypeKind::Array(elem, value)
                        }
                        _ => return Err(self.expected("an array length (an integer literal)")),
                    }
                } else {
                    TypeKind::Slice(elem)
                };
                self.expect_close(Punct::RBracket, open)?;
                kind
            }
            TokenKind::Punct(Punct::Amp) => {
                self.pos += 1;
                let mutable = self.eat_kw(Keyword::Mut);
                TypeKind::Ref { mutable, ty: Box::new(self.parse_type()?) }
            }
            TokenKind::Punct(Punct::AndAnd) => {
                // `&&T` is `& &T`: split the token.
                self.split_first(Punct::Amp);
                let inner = self.parse_type()?;
                TypeKind::Ref { mutable: false, ty: Box::new(inner) }
            }
            TokenKind::Keyword(Keyword::Fn) => self.parse_fn_type()?,
            TokenKind::Punct(Punct::Bang) => {
                let span = self.bump().span;
                self.report(ParseErrorKind::NeverTypePosition, span);
                return Err(super::Reported);
            }
            _ if self.at_path_start() => {
                let path = self.parse_type_path()?;
                if path.segments.last().is_some_and(|s| s.name == self.words.tensor) && self.at(Punct::LBracket) {
                    let dims = self.parse_dims()?;
                    self.extension("tensor shape types", self.span_from(lo));
                    TypeKind::Tensor { path, dims }
                } else {
                    TypeKind::Path(path)
                }
            }
            _ => return Err(self.expected("a type")),
        };
        Ok(Type { kind, span: self.span_from(lo) })
    }

    /// `()`, `(T)`, `(T,)`, `(A, B)`.
    fn parse_tuple_type(&mut self) -> PResult<TypeKind> {
        let open = self.bump().span;
        let mut types = Vec::new();
        let mut trailing_comma = false;
        while !self.at(Punct::RParen) && !self.at_eof() {
            types.push(self.parse_type()?);
            trailing_comma = self.eat(Punct::Comma);
            if !trailing_comma {
                break;
            }
        }
        self.expect_close(Punct::RParen, open)?;
        if types.len() == 1 && !trailing_comma {
            return Ok(TypeKind::Paren(Box::new(types.pop().expect("one type"))));
        }
        Ok(TypeKind::Tuple(types))
    }

    /// `fn(A, B) -> R`.
    fn parse_fn_type(&mut self) -> PResult<TypeKind> {
        self.pos += 1;
        let open = self.expect(Punct::LParen)?;
        let mut params = Vec::new();
        while !self.at(Punct::RParen) && !self.at_eof() {
            params.push(self.parse_type()?);
            if !self.eat(Punct::Comma) {
                break;
            }
        }
        self.expect_close(Punct::RParen, open)?;
        let ret = if self.eat(Punct::Arrow) { Some(Box::new(self.parse_type()?)) } else { None };
        Ok(TypeKind::Fn { params, ret })
    }

    /// `a::b::C<Args>` in type position (generic arguments without `::`).
    pub(super) fn parse_type_path(&mut self) -> PResult<Path> {
        let lo = self.span();
        let mut segments = Vec::new();
        loop {
            match self.path_segment() {
                Some(segment) => segments.push(segment),
                None => return Err(self.expected("a type name")),
            }
            if !(self.at(Punct::ColonColon) && self.peek_nth(1) != &TokenKind::Punct(Punct::Lt)) {
                break;
            }
            self.pos += 1;
        }
        let generics = if self.at(Punct::Lt) { Some(Box::new(self.parse_generic_args()?)) } else { None };
        Ok(Path { segments, generics, span: self.span_from(lo) })
    }

    /// `<T, Item = U>`; the cursor is on `<`.
    pub(super) fn parse_generic_args(&mut self) -> PResult<GenericArgs> {
        let open = self.expect(Punct::Lt)?;
        let mut args = Vec::new();
        loop {
            let binding = matches!(self.peek(), TokenKind::Ident(_)) && self.peek_nth(1).is(Punct::Eq);
            if binding {
                let name = self.expect_ident()?;
                self.pos += 1;
                args.push(GenericArg::Binding(name, self.parse_type()?));
            } else {
                args.push(GenericArg::Type(self.parse_type()?));
            }
            if !self.eat(Punct::Comma) || self.at_gt() {
                break;
            }
        }
        self.expect_gt()?;
        Ok(GenericArgs { args, span: self.span_from(open) })
    }

    /// Whether the current token begins with `>` (`>`, `>>`, `>=`, `>>=`).
    pub(super) fn at_gt(&self) -> bool {
        matches!(self.peek(), TokenKind::Punct(Punct::Gt | Punct::Shr | Punct::Ge | Punct::ShrEq))
    }

    /// A `>` closing generic arguments: `>>`, `>=` and `>>=` are split and
    /// the remainder (`>`, `=`, `>=`) stays for the next read.
    pub(super) fn expect_gt(&mut self) -> PResult<()> {
        let rest = match self.peek() {
            TokenKind::Punct(Punct::Gt) => {
                self.pos += 1;
                return Ok(());
            }
            TokenKind::Punct(Punct::Shr) => Punct::Gt,
            TokenKind::Punct(Punct::Ge) => Punct::Eq,
            TokenKind::Punct(Punct::ShrEq) => Punct::Ge,
            _ => return Err(self.expected("`>`")),
        };
        self.split_first(rest);
        Ok(())
    }

    /// Consumes the first character of the current multi-character token
    /// (`>>`, `>=`, `>>=`, `&&`); the token becomes `rest`, the remainder.
    pub(super) fn split_first(&mut self, rest: Punct) {
        let token = &mut self.tokens[self.pos];
        token.span.lo += 1;
        token.kind = TokenKind::Punct(rest);
        self.split_hi = token.span.lo;
    }

    /// `[d0, d1, ..]` after `Tensor<..>`: integers, names, or `?`.
    fn parse_dims(&mut self) -> PResult<Vec<Dim>> {
        let open = self.expect(Punct::LBracket)?;
        let mut dims = Vec::new();
        while !self.at(Punct::RBracket) && !self.at_eof() {
            let span = self.span();
            let kind = match *self.peek() {
                TokenKind::Int { value, suffix: None } => DimKind::Known(value),
                TokenKind::Ident(name) => DimKind::Named(name),
                TokenKind::Punct(Punct::Question) => DimKind::Unknown,
                _ => return Err(self.expected("a dimension (an integer, a name or `?`)")),
            };
            self.pos += 1;
            dims.push(Dim { kind, span });
            if !self.eat(Punct::Comma) {
                break;
            }
        }
        self.expect_close(Punct::RBracket, open)?;
        Ok(dims)
    }
}
