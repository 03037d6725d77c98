//! Expressions, by precedence climbing over Core v1's levels:
//! assignment < range < `||` < `&&` < equality < relational < `|` < `^`
//! < `&` < shifts < additive < multiplicative < `**` < `as` < unary <
//! postfix. Comparisons do not chain; `**` and assignment associate right.

use super::{PResult, ParseErrorKind, Parser, Reported};
use crate::ast::*;
use crate::lexer::{FmtPiece, Keyword, Punct, Token, TokenKind};
use crate::source::Span;

/// Binding strength of the binary operators between range and `as`.
fn binary_op(kind: &TokenKind) -> Option<(BinOp, u8)> {
    let TokenKind::Punct(p) = kind else { return None };
    Some(match p {
        Punct::OrOr => (BinOp::Or, 1),
        Punct::AndAnd => (BinOp::And, 2),
        Punct::EqEq => (BinOp::Eq, 3),
        Punct::Ne => (BinOp::Ne, 3),
        Punct::Lt => (BinOp::Lt, 4),
        Punct::Le => (BinOp::Le, 4),
        Punct::Gt => (BinOp::Gt, 4),
        Punct::Ge => (BinOp::Ge, 4),
        Punct::Pipe => (BinOp::BitOr, 5),
        Punct::Caret => (BinOp::BitXor, 6),
        Punct::Amp => (BinOp::BitAnd, 7),
        Punct::Shl => (BinOp::Shl, 8),
        Punct::Shr => (BinOp::Shr, 8),
        Punct::Plus => (BinOp::Add, 9),
        Punct::Minus => (BinOp::Sub, 9),
        Punct::Star => (BinOp::Mul, 10),
        Punct::Slash => (BinOp::Div, 10),
        Punct::Percent => (BinOp::Rem, 10),
        Punct::StarStar => (BinOp::Pow, 11),
        _ => return None,
    })
}

/// Comparison levels are non-associative.
fn is_comparison_level(prec: u8) -> bool {
    prec == 3 || prec == 4
}

fn assign_op(kind: &TokenKind) -> Option<Option<BinOp>> {
    let TokenKind::Punct(p) = kind else { return None };
    Some(match p {
        Punct::Eq => None,
        Punct::PlusEq => Some(BinOp::Add),
        Punct::MinusEq => Some(BinOp::Sub),
        Punct::StarEq => Some(BinOp::Mul),
        Punct::SlashEq => Some(BinOp::Div),
        Punct::PercentEq => Some(BinOp::Rem),
        Punct::StarStarEq => Some(BinOp::Pow),
        Punct::AmpEq => Some(BinOp::BitAnd),
        Punct::PipeEq => Some(BinOp::BitOr),
        Punct::CaretEq => Some(BinOp::BitXor),
        Punct::ShlEq => Some(BinOp::Shl),
        Punct::ShrEq => Some(BinOp::Shr),
        _ => return None,
    })
}

fn boxed(kind: ExprKind, span: Span) -> Box<Expr> {
    Box::new(Expr { kind, span })
}

impl Parser<'_> {
    /// A full expression (assignment level).
    pub(super) fn parse_expr(&mut self) -> PResult<Expr> {
        self.nested(|p| p.parse_assign())
    }

    /// An expression where a `Path {` is not a struct literal.
    fn parse_cond(&mut self) -> PResult<Expr> {
        self.restricted(true, |p| p.parse_expr())
    }

    fn parse_assign(&mut self) -> PResult<Expr> {
        let target = self.parse_range()?;
        let Some(op) = assign_op(self.peek()) else {
            return Ok(target);
        };
        self.pos += 1;
        let value = self.parse_expr()?;
        let span = target.span.to(value.span);
        Ok(Expr { kind: ExprKind::Assign { op, target: Box::new(target), value: Box::new(value) }, span })
    }

    fn parse_range(&mut self) -> PResult<Expr> {
        let start = self.parse_binary(1)?;
        let inclusive = match self.peek() {
            TokenKind::Punct(Punct::DotDot) => false,
            TokenKind::Punct(Punct::DotDotEq) => true,
            _ => return Ok(start),
        };
        self.pos += 1;
        let end = self.parse_binary(1)?;
        let span = start.span.to(end.span);
        Ok(Expr { kind: ExprKind::Range { start: Box::new(start), end: Box::new(end), inclusive }, span })
    }

    /// Binary operators binding at least as tightly as `min_prec`.
    fn parse_binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let lhs = self.parse_cast()?;
        self.chain(lhs, |p, lhs, last_comparison| {
            let Some((op, prec)) = binary_op(p.peek()).filter(|&(_, prec)| prec >= min_prec) else {
                return Ok(Err(lhs));
            };
            let op_span = p.span();
            if let Some((level, first)) = *last_comparison {
                if level == prec {
                    p.report(ParseErrorKind::ChainedComparison { first }, op_span);
                    return Err(Reported);
                }
            }
            p.pos += 1;
            // `**` is right-associative; everything else left.
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = p.nested(|p| p.parse_binary(next_min))?;
            if is_comparison_level(prec) {
                *last_comparison = Some((prec, op_span));
            }
            let span = lhs.span.to(rhs.span);
            Ok(Ok(Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span }))
        })
    }

    /// Builds a left-leaning chain: `step` either wraps the expression so
    /// far in one more node (`Ok(Ok(e))`) or hands it back (`Ok(Err(e))`).
    /// Each link counts one level against `MAX_DEPTH`.
    fn chain(
        &mut self,
        mut expr: Expr,
        mut step: impl FnMut(&mut Self, Expr, &mut Option<(u8, Span)>) -> PResult<Result<Expr, Expr>>,
    ) -> PResult<Expr> {
        let mut links = 0;
        let mut state = None;
        let result = loop {
            match step(self, expr, &mut state) {
                Ok(Ok(next)) => expr = next,
                Ok(Err(done)) => break Ok(done),
                Err(e) => break Err(e),
            }
            if self.enter().is_err() {
                break Err(Reported);
            }
            links += 1;
        };
        self.depth -= links;
        result
    }

    /// `unary (as Type)*`.
    fn parse_cast(&mut self) -> PResult<Expr> {
        let expr = self.parse_unary()?;
        self.chain(expr, |p, expr, _| {
            if !p.eat_kw(Keyword::As) {
                return Ok(Err(expr));
            }
            let ty = p.parse_type()?;
            let span = expr.span.to(ty.span);
            Ok(Ok(Expr { kind: ExprKind::Cast(Box::new(expr), Box::new(ty)), span }))
        })
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        let lo = self.span();
        let op = match self.peek() {
            TokenKind::Punct(Punct::Minus) => UnOp::Neg,
            TokenKind::Punct(Punct::Bang) => UnOp::Not,
            TokenKind::Punct(Punct::Tilde) => UnOp::BitNot,
            TokenKind::Punct(Punct::Star) => UnOp::Deref,
            TokenKind::Punct(Punct::Amp) => UnOp::Ref,
            TokenKind::Punct(Punct::AndAnd) => {
                // `&&x` is `& &x`.
                self.split_first(Punct::Amp);
                let inner = self.nested(|p| p.parse_unary())?;
                let span = self.span_from(lo);
                return Ok(Expr { kind: ExprKind::Unary(UnOp::Ref, Box::new(inner)), span });
            }
            TokenKind::Punct(Punct::StarStar) => {
                // `**r` in prefix position is `* *r`, not the power operator.
                self.split_first(Punct::Star);
                let inner = self.nested(|p| p.parse_unary())?;
                let span = self.span_from(lo);
                return Ok(Expr { kind: ExprKind::Unary(UnOp::Deref, Box::new(inner)), span });
            }
            TokenKind::Keyword(Keyword::Await) => {
                self.pos += 1;
                self.extension("`await`", lo);
                let inner = self.nested(|p| p.parse_unary())?;
                return Ok(Expr { kind: ExprKind::Await(Box::new(inner)), span: self.span_from(lo) });
            }
            _ => return self.parse_postfix(),
        };
        self.pos += 1;
        let op = if op == UnOp::Ref && self.eat_kw(Keyword::Mut) { UnOp::RefMut } else { op };
        let operand = self.nested(|p| p.parse_unary())?;
        Ok(Expr { kind: ExprKind::Unary(op, Box::new(operand)), span: self.span_from(lo) })
    }

    fn parse_postfix(&mut self) -> PResult<Expr> {
        let expr = self.parse_primary()?;
        self.parse_postfix_ops(expr)
    }

    /// Calls, indexing, fields, tuple fields, `?` and `.await` after `expr`.
    fn parse_postfix_ops(&mut self, expr: Expr) -> PResult<Expr> {
        self.chain(expr, |p, expr, _| {
            let lo = expr.span;
            let kind = match p.peek() {
                TokenKind::Punct(Punct::LParen) => {
                    let args = p.parse_args()?;
                    ExprKind::Call(Box::new(expr), args)
                }
                TokenKind::Punct(Punct::LBracket) => {
                    let open = p.bump().span;
                    let index = p.restricted(false, |p| p.parse_expr())?;
                    p.expect_close(Punct::RBracket, open)?;
                    ExprKind::Index(Box::new(expr), Box::new(index))
                }
                TokenKind::Punct(Punct::Question) => {
                    p.pos += 1;
                    ExprKind::Try(Box::new(expr))
                }
                TokenKind::Punct(Punct::Dot) => {
                    p.pos += 1;
                    p.parse_dot(expr)?
                }
                _ => return Ok(Err(expr)),
            };
            Ok(Ok(Expr { kind, span: p.span_from(lo) }))
        })
    }

    /// What follows a `.`: a field, a method call, a tuple index or `await`.
    fn parse_dot(&mut self, expr: Expr) -> PResult<ExprKind> {
        match *self.peek() {
            TokenKind::Ident(name) => {
                let method = Ident { name, span: self.bump().span };
                if self.at(Punct::LParen) {
                    let args = self.parse_args()?;
                    Ok(ExprKind::MethodCall { receiver: Box::new(expr), method, args })
                } else {
                    Ok(ExprKind::Field(Box::new(expr), method))
                }
            }
            TokenKind::Int { value, suffix: None } if value <= u32::MAX as u64 => {
                let span = self.bump().span;
                Ok(ExprKind::TupleField(Box::new(expr), value as u32, span))
            }
            TokenKind::Float { suffix: None, .. } => self.parse_float_tuple_index(expr),
            TokenKind::Int { .. } | TokenKind::Float { .. } => {
                let span = self.bump().span;
                self.report(ParseErrorKind::InvalidTupleIndex, span);
                Err(Reported)
            }
            TokenKind::Keyword(Keyword::Await) => {
                let span = self.bump().span;
                self.extension("`.await`", span);
                Ok(ExprKind::Await(Box::new(expr)))
            }
            _ => Err(self.expected("a field name, method or tuple index")),
        }
    }

    /// `pair.0.1` lexes `0.1` as a float: split it into two tuple indices.
    fn parse_float_tuple_index(&mut self, expr: Expr) -> PResult<ExprKind> {
        let span = self.span();
        self.pos += 1;
        let Some((first, second, first_len)) = split_index_pair(self.file.slice(span)) else {
            self.report(ParseErrorKind::InvalidTupleIndex, span);
            return Err(Reported);
        };
        let dot = span.lo + first_len;
        let lo = expr.span.lo;
        let first_field = ExprKind::TupleField(Box::new(expr), first, Span { lo: span.lo, hi: dot });
        let inner = Expr { kind: first_field, span: Span { lo, hi: dot } };
        Ok(ExprKind::TupleField(Box::new(inner), second, Span { lo: dot + 1, hi: span.hi }))
    }

    /// `( args )`.
    fn parse_args(&mut self) -> PResult<Vec<Expr>> {
        let open = self.expect(Punct::LParen)?;
        self.restricted(false, |p| {
            let mut args = Vec::new();
            while !p.at(Punct::RParen) && !p.at_eof() {
                args.push(p.parse_expr()?);
                if !p.eat(Punct::Comma) {
                    break;
                }
            }
            p.expect_close(Punct::RParen, open)?;
            Ok(args)
        })
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let lo = self.span();
        if let Some(lit) = self.literal() {
            self.pos += 1;
            return Ok(Expr { kind: ExprKind::Lit(lit), span: lo });
        }
        let kind = match self.peek() {
            TokenKind::FormatStr(_) => self.parse_format_string()?,
            TokenKind::Punct(Punct::LParen) => self.parse_paren()?,
            TokenKind::Punct(Punct::LBracket) => self.parse_array()?,
            TokenKind::Punct(Punct::LBrace) => ExprKind::Block(self.parse_block()?),
            TokenKind::Keyword(Keyword::If | Keyword::Match | Keyword::Loop | Keyword::While | Keyword::For) => {
                return self.parse_block_like();
            }
            TokenKind::Punct(Punct::Pipe | Punct::OrOr) => self.parse_closure(false)?,
            TokenKind::Ident(s)
                if *s == self.words.move_
                    && matches!(self.peek_nth(1), TokenKind::Punct(Punct::Pipe | Punct::OrOr)) =>
            {
                self.pos += 1;
                self.parse_closure(true)?
            }
            TokenKind::Ident(s) if *s == self.words.spawn && self.at_spawn_operand() => self.parse_spawn()?,
            TokenKind::Ident(s) if *s == self.words.select && self.peek_nth(1).is(Punct::LBrace) => {
                return self.parse_block_like();
            }
            _ if self.at_path_start() => return self.parse_path_expr(),
            TokenKind::Keyword(kw @ (Keyword::Return | Keyword::Break | Keyword::Continue)) => {
                let word = kw.as_str();
                self.report(ParseErrorKind::StatementAsExpression(word), lo);
                return Err(Reported);
            }
            TokenKind::Keyword(kw) if kw.is_reserved() => {
                let word = kw.as_str();
                self.report(ParseErrorKind::ReservedWord(word), lo);
                return Err(Reported);
            }
            _ => return Err(self.expected("an expression")),
        };
        Ok(Expr { kind, span: self.span_from(lo) })
    }

    /// A block-formed expression: block, `if`, `match`, `loop`, `while`,
    /// `for`, `select`. At statement start nothing may follow it.
    pub(super) fn parse_block_like(&mut self) -> PResult<Expr> {
        let lo = self.span();
        let kind = match self.peek() {
            TokenKind::Punct(Punct::LBrace) => ExprKind::Block(self.parse_block()?),
            TokenKind::Keyword(Keyword::If) => return self.parse_if(),
            TokenKind::Keyword(Keyword::Match) => self.parse_match()?,
            TokenKind::Keyword(Keyword::Loop) => {
                self.pos += 1;
                ExprKind::Loop(self.parse_block()?)
            }
            TokenKind::Keyword(Keyword::While) => {
                self.pos += 1;
                let cond = Box::new(self.parse_cond()?);
                ExprKind::While { cond, body: self.parse_block()? }
            }
            TokenKind::Keyword(Keyword::For) => {
                self.pos += 1;
                let var = self.expect_ident()?;
                self.expect_kw(Keyword::In)?;
                let iter = Box::new(self.parse_cond()?);
                ExprKind::For { var, iter, body: self.parse_block()? }
            }
            _ => self.parse_select()?,
        };
        Ok(Expr { kind, span: self.span_from(lo) })
    }

    /// `if c { } [else if c { }]* [else { }]`.
    fn parse_if(&mut self) -> PResult<Expr> {
        self.nested(|p| {
            let lo = p.expect_kw(Keyword::If)?;
            let cond = Box::new(p.parse_cond()?);
            let then = p.parse_block()?;
            let else_ = if p.eat_kw(Keyword::Else) {
                if p.at_kw(Keyword::If) {
                    Some(Box::new(p.parse_if()?))
                } else {
                    let block = p.parse_block()?;
                    Some(boxed(ExprKind::Block(block.clone()), block.span))
                }
            } else {
                None
            };
            Ok(Expr { kind: ExprKind::If { cond, then, else_ }, span: p.span_from(lo) })
        })
    }

    /// `match e { pattern => expr [,] ... }`.
    fn parse_match(&mut self) -> PResult<ExprKind> {
        self.pos += 1;
        let scrutinee = Box::new(self.parse_cond()?);
        let open = self.expect(Punct::LBrace)?;
        let arms = self.restricted(false, |p| {
            let mut arms = Vec::new();
            while !p.at(Punct::RBrace) && !p.at_eof() {
                let pattern = p.parse_pattern()?;
                p.expect(Punct::FatArrow)?;
                let body = p.parse_expr()?;
                let span = pattern.span.to(body.span);
                arms.push(Arm { pattern, body, span });
                p.eat(Punct::Comma);
            }
            p.expect_close(Punct::RBrace, open)?;
            Ok(arms)
        })?;
        Ok(ExprKind::Match { scrutinee, arms })
    }

    /// `select { pattern = operation => body, ... }` (AI extension).
    fn parse_select(&mut self) -> PResult<ExprKind> {
        let lo = self.bump().span;
        self.extension("`select`", lo);
        let open = self.expect(Punct::LBrace)?;
        let arms = self.restricted(false, |p| {
            let mut arms = Vec::new();
            while !p.at(Punct::RBrace) && !p.at_eof() {
                let pattern = p.parse_pattern()?;
                p.expect(Punct::Eq)?;
                let op = p.parse_expr()?;
                p.expect(Punct::FatArrow)?;
                let body = p.parse_expr()?;
                let span = pattern.span.to(body.span);
                arms.push(SelectArm { pattern, op, body, span });
                p.eat(Punct::Comma);
            }
            p.expect_close(Punct::RBrace, open)?;
            Ok(arms)
        })?;
        Ok(ExprKind::Select(arms))
    }

    /// `()`, `(e)`, `(e,)`, `(a, b)`.
    fn parse_paren(&mut self) -> PResult<ExprKind> {
        let open = self.bump().span;
        self.restricted(false, |p| {
            let mut exprs = Vec::new();
            let mut trailing_comma = false;
            while !p.at(Punct::RParen) && !p.at_eof() {
                exprs.push(p.parse_expr()?);
                trailing_comma = p.eat(Punct::Comma);
                if !trailing_comma {
                    break;
                }
            }
            p.expect_close(Punct::RParen, open)?;
            if exprs.len() == 1 && !trailing_comma {
                return Ok(ExprKind::Paren(Box::new(exprs.pop().expect("one expression"))));
            }
            Ok(ExprKind::Tuple(exprs))
        })
    }

    /// `[a, b]` or `[value; count]`.
    fn parse_array(&mut self) -> PResult<ExprKind> {
        let open = self.bump().span;
        self.restricted(false, |p| {
            if p.eat(Punct::RBracket) {
                return Ok(ExprKind::Array(Vec::new()));
            }
            let first = p.parse_expr()?;
            if p.eat(Punct::Semi) {
                let count = p.parse_expr()?;
                p.expect_close(Punct::RBracket, open)?;
                return Ok(ExprKind::ArrayRepeat(Box::new(first), Box::new(count)));
            }
            let mut items = vec![first];
            while p.eat(Punct::Comma) && !p.at(Punct::RBracket) {
                items.push(p.parse_expr()?);
            }
            p.expect_close(Punct::RBracket, open)?;
            Ok(ExprKind::Array(items))
        })
    }

    /// A path expression, `path::<Args>`, or a struct literal `Path { .. }`.
    fn parse_path_expr(&mut self) -> PResult<Expr> {
        let lo = self.span();
        let mut segments = Vec::new();
        let mut generics = None;
        loop {
            match self.path_segment() {
                Some(segment) => segments.push(segment),
                None => return Err(self.expected("a path segment")),
            }
            if !self.eat(Punct::ColonColon) {
                break;
            }
            if self.at(Punct::Lt) {
                generics = Some(Box::new(self.parse_generic_args()?));
                break;
            }
        }
        let path = Path { segments, generics, span: self.span_from(lo) };
        if self.at(Punct::LBrace) && self.struct_literal_here() {
            return self.parse_struct_literal(path);
        }
        Ok(Expr { span: path.span, kind: ExprKind::Path(path) })
    }

    /// Whether a `{` after a path opens a struct literal. Where struct
    /// literals are restricted, one that is clearly meant (`Path { x: ..`)
    /// is reported, then parsed anyway to keep going.
    fn struct_literal_here(&mut self) -> bool {
        if !self.no_struct {
            return true;
        }
        let looks_like_fields = matches!(self.peek_nth(1), TokenKind::Ident(_)) && self.peek_nth(2).is(Punct::Colon);
        if looks_like_fields {
            let span = self.span();
            self.report(ParseErrorKind::StructLiteralNotAllowed, span);
        }
        looks_like_fields
    }

    /// `Path { field: e, field, ..base }`.
    fn parse_struct_literal(&mut self, path: Path) -> PResult<Expr> {
        let open = self.bump().span;
        let (fields, base) = self.restricted(false, |p| {
            let mut fields = Vec::new();
            let mut base = None;
            while !p.at(Punct::RBrace) && !p.at_eof() {
                if p.at(Punct::DotDot) {
                    let lo = p.bump().span;
                    p.extension("struct update syntax `..base`", lo);
                    base = Some(Box::new(p.parse_expr()?));
                    if !p.at(Punct::RBrace) {
                        let span = p.span();
                        p.report(ParseErrorKind::BaseNotLast, span);
                        return Err(Reported);
                    }
                    break;
                }
                let name = p.expect_ident()?;
                let (value, shorthand) = if p.eat(Punct::Colon) {
                    (p.parse_expr()?, false)
                } else {
                    let path = Path { segments: vec![name], generics: None, span: name.span };
                    (Expr { kind: ExprKind::Path(path), span: name.span }, true)
                };
                fields.push(FieldInit { name, value, shorthand });
                if !p.eat(Punct::Comma) {
                    break;
                }
            }
            p.expect_close(Punct::RBrace, open)?;
            Ok((fields, base))
        })?;
        let span = self.span_from(path.span);
        Ok(Expr { kind: ExprKind::Struct { path, fields, base }, span })
    }

    /// `|a, b: T| body`, `|| body`, `|x| -> T { }` (AI extension).
    fn parse_closure(&mut self, is_move: bool) -> PResult<ExprKind> {
        let lo = self.span();
        self.extension("closures", lo);
        let mut params = Vec::new();
        if !self.eat(Punct::OrOr) {
            self.expect(Punct::Pipe)?;
            while !self.at(Punct::Pipe) && !self.at_eof() {
                let name = match *self.peek() {
                    TokenKind::Ident(name) => Ident { name, span: self.bump().span },
                    _ => return Err(self.expected("a closure parameter")),
                };
                let ty = if self.eat(Punct::Colon) { Some(self.parse_type()?) } else { None };
                params.push(ClosureParam { name, ty });
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
            self.expect(Punct::Pipe)?;
        }
        let (ret, body) = if self.eat(Punct::Arrow) {
            let ret = self.parse_type()?;
            if !self.at(Punct::LBrace) {
                return Err(self.expected("`{` (a closure with a return type needs a block body)"));
            }
            let block = self.parse_block()?;
            (Some(Box::new(ret)), Expr { span: block.span, kind: ExprKind::Block(block) })
        } else {
            (None, self.parse_expr()?)
        };
        Ok(ExprKind::Closure { is_move, params, ret, body: Box::new(body) })
    }

    /// Whether the token after `spawn` starts its operand.
    fn at_spawn_operand(&self) -> bool {
        match self.peek_nth(1) {
            TokenKind::Punct(Punct::LBrace) => true,
            TokenKind::Ident(_) => true,
            TokenKind::Keyword(kw) => {
                kw.is_primitive_type()
                    || matches!(kw, Keyword::SelfValue | Keyword::SelfType | Keyword::Super | Keyword::Crate)
            }
            _ => false,
        }
    }

    /// `spawn call(..)` or `spawn { .. }` (AI extension).
    fn parse_spawn(&mut self) -> PResult<ExprKind> {
        let lo = self.bump().span;
        self.extension("`spawn`", lo);
        let operand = if self.at(Punct::LBrace) {
            let block = self.parse_block()?;
            Expr { span: block.span, kind: ExprKind::Block(block) }
        } else {
            let callee = self.parse_path_expr()?;
            let operand = self.parse_postfix_ops(callee)?;
            if !matches!(operand.kind, ExprKind::Call(..) | ExprKind::MethodCall { .. }) {
                self.report(ParseErrorKind::SpawnNeedsCall, operand.span);
                return Err(Reported);
            }
            operand
        };
        Ok(ExprKind::Spawn(Box::new(operand)))
    }

    /// An interpolated string: each field's tokens are parsed as an
    /// expression by a parser of their own.
    fn parse_format_string(&mut self) -> PResult<ExprKind> {
        // Taken, not cloned: the pieces hold whole token lists.
        let kind = std::mem::replace(&mut self.tokens[self.pos].kind, TokenKind::Error);
        self.pos += 1;
        let TokenKind::FormatStr(pieces) = kind else { unreachable!("checked by the caller") };
        let mut parts = Vec::with_capacity(pieces.len());
        let mut ok = true;
        for piece in pieces.into_vec() {
            match piece {
                FmtPiece::Text(text) => parts.push(FmtPart::Text(text)),
                FmtPiece::Field(field) => match self.parse_field_expr(field.tokens) {
                    Some(expr) => parts.push(FmtPart::Field { expr: Box::new(expr), spec: field.spec }),
                    None => ok = false,
                },
            }
        }
        if ok {
            Ok(ExprKind::FormatStr(parts))
        } else {
            Err(Reported)
        }
    }

    fn parse_field_expr(&mut self, tokens: Vec<Token>) -> Option<Expr> {
        let mut sub = super::Parser::new(tokens, self.file, &[], self.mode);
        sub.depth = self.depth;
        let expr = sub.parse_expr();
        if expr.is_ok() && !sub.at_eof() {
            let _ = sub.expected("`}` or `:` to end the interpolation field");
        }
        let failed = !sub.errors.is_empty();
        self.errors.append(&mut sub.errors);
        if failed {
            None
        } else {
            expr.ok()
        }
    }
}

/// `"0.1"` to `(0, 1, 1)`: both indices and the first one's length. Only
/// plain `digits.digits` qualifies (no exponent, separators or suffix).
fn split_index_pair(text: &str) -> Option<(u32, u32, u32)> {
    let (a, b) = text.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?, a.len() as u32))
}
