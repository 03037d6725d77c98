//! Blocks and statements, including the rules for block-formed expression
//! statements and the trailing expression.

use super::{PResult, Parser, Reported};
use crate::ast::*;
use crate::lexer::{Keyword, Punct, TokenKind};
use crate::source::Span;

/// What one step inside a block produced.
enum Step {
    Stmt(Stmt),
    Tail(Expr),
}

impl Parser<'_> {
    /// `{ statements [tail] }`.
    pub(super) fn parse_block(&mut self) -> PResult<Block> {
        let open = self.expect(Punct::LBrace)?;
        self.nested(|p| {
            let mut block = p.restricted(false, |p| p.parse_block_body(open));
            p.expect_close(Punct::RBrace, open)?;
            block.span = p.span_from(open);
            Ok(block)
        })
    }

    /// Statements up to a `}` or the end of the input (which the caller
    /// checks). Errors are reported and skipped here.
    pub(super) fn parse_block_body(&mut self, open: Span) -> Block {
        let snippet = std::mem::take(&mut self.snippet);
        let mut stmts = Vec::new();
        let mut tail = None;
        while !self.at(Punct::RBrace) && !self.at_eof() {
            let start = self.pos;
            if snippet && self.at_item_start() {
                let lo = self.span();
                match self.parse_item() {
                    Ok(item) => stmts.push(Stmt { kind: StmtKind::Item(Box::new(item)), span: self.span_from(lo) }),
                    Err(Reported) => self.recover_stmt(start),
                }
                continue;
            }
            match self.parse_stmt() {
                Ok(Step::Stmt(stmt)) => stmts.push(stmt),
                Ok(Step::Tail(expr)) => {
                    tail = Some(Box::new(expr));
                    break;
                }
                Err(Reported) => self.recover_stmt(start),
            }
        }
        Block { stmts, tail, span: open }
    }

    fn parse_stmt(&mut self) -> PResult<Step> {
        let lo = self.span();
        let kind = match self.peek() {
            TokenKind::Punct(Punct::Semi) => {
                self.pos += 1;
                StmtKind::Empty
            }
            TokenKind::Keyword(Keyword::Let) => StmtKind::Let(Box::new(self.parse_let(false)?)),
            TokenKind::Ident(s) if *s == self.words.shared && self.peek_nth(1).is_kw(Keyword::Let) => {
                self.pos += 1;
                self.extension("`shared let`", lo);
                StmtKind::Let(Box::new(self.parse_let(true)?))
            }
            TokenKind::Keyword(Keyword::Return) => {
                self.pos += 1;
                StmtKind::Return(self.parse_jump_value()?)
            }
            TokenKind::Keyword(Keyword::Break) => {
                self.pos += 1;
                StmtKind::Break(self.parse_jump_value()?)
            }
            TokenKind::Keyword(Keyword::Continue) => {
                self.pos += 1;
                self.expect(Punct::Semi)?;
                StmtKind::Continue
            }
            _ if self.at_block_like() => {
                let expr = self.parse_block_like()?;
                let semi = self.eat(Punct::Semi);
                if !semi && self.at(Punct::RBrace) {
                    return Ok(Step::Tail(expr));
                }
                StmtKind::Expr { expr, semi }
            }
            _ => {
                let expr = self.parse_expr()?;
                if !self.eat(Punct::Semi) {
                    if self.at(Punct::RBrace) || (self.at_eof() && self.depth == 0) {
                        return Ok(Step::Tail(expr));
                    }
                    self.missing_semicolon();
                }
                StmtKind::Expr { expr, semi: true }
            }
        };
        Ok(Step::Stmt(Stmt { kind, span: self.span_from(lo) }))
    }

    /// The optional value of `return` or `break`, then `;`.
    fn parse_jump_value(&mut self) -> PResult<Option<Expr>> {
        if self.eat(Punct::Semi) {
            return Ok(None);
        }
        let value = self.parse_expr()?;
        self.expect(Punct::Semi)?;
        Ok(Some(value))
    }

    /// `let [mut] name [: T] [= e];` (the `shared` word already consumed).
    fn parse_let(&mut self, shared: bool) -> PResult<LetStmt> {
        self.expect_kw(Keyword::Let)?;
        let mutable = self.eat_kw(Keyword::Mut);
        let name = self.expect_ident()?;
        let ty = if self.eat(Punct::Colon) { Some(self.parse_type()?) } else { None };
        let init = if self.eat(Punct::Eq) { Some(self.parse_expr()?) } else { None };
        if ty.is_none() && init.is_none() {
            return Err(self.expected("`:` or `=`"));
        }
        self.expect(Punct::Semi)?;
        Ok(LetStmt { shared, mutable, name, ty, init })
    }

    /// Whether a block-formed expression starts here: a block, `if`,
    /// `match`, `loop`, `while`, `for` (or the extension's `select`).
    fn at_block_like(&self) -> bool {
        match self.peek() {
            TokenKind::Punct(Punct::LBrace) => true,
            TokenKind::Keyword(Keyword::If | Keyword::Match | Keyword::Loop | Keyword::While | Keyword::For) => true,
            TokenKind::Ident(s) => *s == self.words.select && self.peek_nth(1).is(Punct::LBrace),
            _ => false,
        }
    }
}
