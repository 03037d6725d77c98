//! Items: functions, data types, traits, impls, constants, aliases, `use`,
//! modules and (AI extension) actors.

use super::{PResult, Parser, Reported};
use crate::ast::*;
use crate::lexer::{Keyword, Punct, TokenKind};
use crate::parser::ParseErrorKind;

/// Where a function is declared, which decides what it may have.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FnPlace {
    /// Module level (or a snippet): no receiver, body required.
    Free,
    /// Inside a trait: receiver allowed, body optional.
    Trait,
    /// Inside an impl: receiver allowed, body required.
    Impl,
    /// Inside an actor: no receiver (fields are in scope), body required.
    Actor,
}

impl Parser<'_> {
    /// Items until the end of the file, or until `}` when `in_block`.
    pub(super) fn parse_items(&mut self, in_block: bool) -> Vec<Item> {
        let mut items = Vec::new();
        while !(self.at_eof() || in_block && self.at(Punct::RBrace)) {
            let start = self.pos;
            match self.parse_item() {
                Ok(item) => items.push(item),
                Err(Reported) => self.recover_item(start, in_block),
            }
        }
        items
    }

    pub(super) fn parse_item(&mut self) -> PResult<Item> {
        let lo = self.span();
        let doc = self.doc_before(lo);
        let vis = if self.eat_kw(Keyword::Pub) {
            Visibility::Public(lo)
        } else if self.eat_kw(Keyword::Priv) {
            Visibility::Private(lo)
        } else {
            Visibility::Inherited
        };
        let kind = match self.peek() {
            TokenKind::Keyword(Keyword::Fn | Keyword::Async) => ItemKind::Fn(self.parse_fn(FnPlace::Free)?),
            TokenKind::Keyword(Keyword::Struct) => ItemKind::Struct(self.parse_struct()?),
            TokenKind::Keyword(Keyword::Enum) => ItemKind::Enum(self.parse_enum()?),
            TokenKind::Keyword(Keyword::Trait) => ItemKind::Trait(self.parse_trait()?),
            TokenKind::Keyword(Keyword::Impl) => ItemKind::Impl(self.parse_impl()?),
            TokenKind::Keyword(Keyword::Const) => ItemKind::Const(self.parse_const()?),
            TokenKind::Keyword(Keyword::Type) => ItemKind::TypeAlias(self.parse_type_alias()?),
            TokenKind::Keyword(Keyword::Use) => ItemKind::Use(self.parse_use()?),
            TokenKind::Keyword(Keyword::Mod) => ItemKind::Mod(self.parse_mod()?),
            TokenKind::Ident(s) if *s == self.words.actor && matches!(self.peek_nth(1), TokenKind::Ident(_)) => {
                ItemKind::Actor(self.parse_actor()?)
            }
            _ => {
                return Err(
                    self.expected("an item (`fn`, `struct`, `enum`, `trait`, `impl`, `const`, `type`, `use`, `mod`)")
                )
            }
        };
        Ok(Item { vis, kind, doc, span: self.span_from(lo) })
    }

    /// `[async] fn name<G>(params) [-> T] (block | ;)`.
    pub(super) fn parse_fn(&mut self, place: FnPlace) -> PResult<FnDecl> {
        let lo = self.span();
        let is_async = self.eat_kw(Keyword::Async);
        if is_async {
            self.async_allowed(lo);
        }
        self.expect_kw(Keyword::Fn)?;
        let name = self.expect_ident()?;
        let generics = self.parse_generic_params()?;
        let open = self.expect(Punct::LParen)?;
        let receiver = self.parse_receiver(place)?;
        let mut params = Vec::new();
        if receiver.is_none() || self.eat(Punct::Comma) {
            while !self.at(Punct::RParen) && !self.at_eof() {
                params.push(self.parse_param()?);
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
        }
        self.expect_close(Punct::RParen, open)?;
        let ret = if self.eat(Punct::Arrow) {
            if self.at(Punct::Bang) {
                Some(RetType::Never(self.bump().span))
            } else {
                Some(RetType::Type(self.parse_type()?))
            }
        } else {
            None
        };
        let sig_span = self.span_from(lo);
        let bodyless_ok = place == FnPlace::Trait || (self.library && place != FnPlace::Actor);
        let body = if bodyless_ok && self.eat(Punct::Semi) {
            None
        } else if self.at(Punct::LBrace) {
            Some(self.parse_block()?)
        } else {
            return Err(self.expected(if place == FnPlace::Trait { "`{` or `;`" } else { "`{`" }));
        };
        Ok(FnDecl { is_async, name, generics, receiver, params, ret, body, sig_span })
    }

    /// `async` is reserved in Core; the extension gives it its meaning.
    pub(super) fn async_allowed(&mut self, span: crate::source::Span) {
        self.extension("`async fn`", span);
    }

    /// `self`, `&self` or `&mut self` as the first parameter.
    fn parse_receiver(&mut self, place: FnPlace) -> PResult<Option<Receiver>> {
        let lo = self.span();
        let kind = match (self.peek(), self.peek_nth(1), self.peek_nth(2)) {
            (TokenKind::Keyword(Keyword::SelfValue), ..) => ReceiverKind::Value,
            (TokenKind::Punct(Punct::Amp), TokenKind::Keyword(Keyword::SelfValue), _) => ReceiverKind::Ref,
            (
                TokenKind::Punct(Punct::Amp),
                TokenKind::Keyword(Keyword::Mut),
                TokenKind::Keyword(Keyword::SelfValue),
            ) => ReceiverKind::RefMut,
            _ => return Ok(None),
        };
        self.pos += match kind {
            ReceiverKind::Value => 1,
            ReceiverKind::Ref => 2,
            ReceiverKind::RefMut => 3,
        };
        let span = self.span_from(lo);
        if matches!(place, FnPlace::Free | FnPlace::Actor) {
            self.report(ParseErrorKind::ReceiverNotAllowed, span);
        }
        Ok(Some(Receiver { kind, span }))
    }

    /// `[mut] name: Type`.
    fn parse_param(&mut self) -> PResult<Param> {
        let mutable = self.eat_kw(Keyword::Mut);
        let name = self.expect_ident()?;
        self.expect(Punct::Colon)?;
        let ty = self.parse_type()?;
        Ok(Param { mutable, name, ty })
    }

    /// `<T, U: Bound + Other<X>>`, or nothing.
    pub(super) fn parse_generic_params(&mut self) -> PResult<Vec<GenericParam>> {
        let mut params = Vec::new();
        if !self.eat(Punct::Lt) {
            return Ok(params);
        }
        loop {
            let name = self.expect_ident()?;
            let mut bounds = Vec::new();
            if self.eat(Punct::Colon) {
                bounds.push(self.parse_bound()?);
                while self.eat(Punct::Plus) {
                    bounds.push(self.parse_bound()?);
                }
            }
            params.push(GenericParam { name, bounds });
            if !self.eat(Punct::Comma) || self.at_gt() {
                break;
            }
        }
        self.expect_gt()?;
        Ok(params)
    }

    /// A trait bound: a path with optional generic arguments.
    pub(super) fn parse_bound(&mut self) -> PResult<Path> {
        let path = self.parse_type_path()?;
        Ok(path)
    }

    fn parse_struct(&mut self) -> PResult<StructDecl> {
        self.expect_kw(Keyword::Struct)?;
        let name = self.expect_ident()?;
        let generics = self.parse_generic_params()?;
        let fields = self.parse_field_decls(true)?;
        Ok(StructDecl { name, generics, fields })
    }

    /// `{ [pub] name: Type, ... }`; `allow_empty` per the grammar.
    fn parse_field_decls(&mut self, allow_empty: bool) -> PResult<Vec<FieldDecl>> {
        let open = self.expect(Punct::LBrace)?;
        let mut fields = Vec::new();
        while !self.at(Punct::RBrace) && !self.at_eof() {
            let public = self.eat_kw(Keyword::Pub);
            let name = self.expect_ident()?;
            self.expect(Punct::Colon)?;
            let ty = self.parse_type()?;
            fields.push(FieldDecl { public, name, ty });
            if !self.eat(Punct::Comma) {
                break;
            }
        }
        if fields.is_empty() && !allow_empty {
            return Err(self.expected("a field"));
        }
        self.expect_close(Punct::RBrace, open)?;
        Ok(fields)
    }

    fn parse_enum(&mut self) -> PResult<EnumDecl> {
        self.expect_kw(Keyword::Enum)?;
        let name = self.expect_ident()?;
        let generics = self.parse_generic_params()?;
        let open = self.expect(Punct::LBrace)?;
        let mut variants = Vec::new();
        while !self.at(Punct::RBrace) && !self.at_eof() {
            variants.push(self.parse_variant()?);
            if !self.eat(Punct::Comma) {
                break;
            }
        }
        self.expect_close(Punct::RBrace, open)?;
        Ok(EnumDecl { name, generics, variants })
    }

    fn parse_variant(&mut self) -> PResult<Variant> {
        let name = self.expect_ident()?;
        let kind = if self.at(Punct::LParen) {
            let open = self.bump().span;
            let mut types = vec![self.parse_type()?];
            while self.eat(Punct::Comma) && !self.at(Punct::RParen) {
                types.push(self.parse_type()?);
            }
            self.expect_close(Punct::RParen, open)?;
            VariantKind::Tuple(types)
        } else if self.at(Punct::LBrace) {
            VariantKind::Struct(self.parse_field_decls(false)?)
        } else {
            VariantKind::Unit
        };
        Ok(Variant { name, kind, span: self.span_from(name.span) })
    }

    fn parse_trait(&mut self) -> PResult<TraitDecl> {
        self.expect_kw(Keyword::Trait)?;
        let name = self.expect_ident()?;
        let generics = self.parse_generic_params()?;
        let open = self.expect(Punct::LBrace)?;
        let mut items = Vec::new();
        while !self.at(Punct::RBrace) && !self.at_eof() {
            if self.eat_kw(Keyword::Type) {
                items.push(TraitItem::Type(self.expect_ident()?));
                self.expect(Punct::Semi)?;
            } else {
                items.push(TraitItem::Fn(Box::new(self.parse_fn(FnPlace::Trait)?)));
            }
        }
        self.expect_close(Punct::RBrace, open)?;
        Ok(TraitDecl { name, generics, items })
    }

    /// `impl<G> Type { }` or `impl<G> Trait<A> for Type { }`.
    fn parse_impl(&mut self) -> PResult<ImplDecl> {
        self.expect_kw(Keyword::Impl)?;
        let generics = self.parse_generic_params()?;
        let first = self.parse_type()?;
        let (trait_, self_ty) = if self.eat_kw(Keyword::For) {
            let TypeKind::Path(path) = first.kind else {
                self.report(
                    ParseErrorKind::Expected { expected: "a trait name".into(), found: "a type".into() },
                    first.span,
                );
                return Err(Reported);
            };
            (Some(path), self.parse_type()?)
        } else {
            (None, first)
        };
        let open = self.expect(Punct::LBrace)?;
        let mut items = Vec::new();
        while !self.at(Punct::RBrace) && !self.at_eof() {
            if self.eat_kw(Keyword::Type) {
                let name = self.expect_ident()?;
                self.expect(Punct::Eq)?;
                let ty = self.parse_type()?;
                self.expect(Punct::Semi)?;
                items.push(ImplItem::Type(name, ty));
            } else {
                let lo = self.span();
                let vis = if self.eat_kw(Keyword::Pub) {
                    Visibility::Public(lo)
                } else if self.eat_kw(Keyword::Priv) {
                    Visibility::Private(lo)
                } else {
                    Visibility::Inherited
                };
                items.push(ImplItem::Fn(vis, self.parse_fn(FnPlace::Impl)?));
            }
        }
        self.expect_close(Punct::RBrace, open)?;
        Ok(ImplDecl { generics, trait_, self_ty, items })
    }

    fn parse_const(&mut self) -> PResult<ConstDecl> {
        self.expect_kw(Keyword::Const)?;
        let name = self.expect_ident()?;
        self.expect(Punct::Colon)?;
        let ty = self.parse_type()?;
        self.expect(Punct::Eq)?;
        let value = self.parse_expr()?;
        self.expect(Punct::Semi)?;
        Ok(ConstDecl { name, ty, value })
    }

    fn parse_type_alias(&mut self) -> PResult<TypeAlias> {
        self.expect_kw(Keyword::Type)?;
        let name = self.expect_ident()?;
        let generics = self.parse_generic_params()?;
        self.expect(Punct::Eq)?;
        let ty = self.parse_type()?;
        self.expect(Punct::Semi)?;
        Ok(TypeAlias { name, generics, ty })
    }

    fn parse_use(&mut self) -> PResult<UseTree> {
        self.expect_kw(Keyword::Use)?;
        let tree = self.parse_use_tree()?;
        self.expect(Punct::Semi)?;
        Ok(tree)
    }

    /// `a::b [as c]`, `a::*`, `a::{..}`.
    fn parse_use_tree(&mut self) -> PResult<UseTree> {
        let lo = self.span();
        let mut segments = Vec::new();
        let kind = loop {
            match self.path_segment() {
                Some(segment) => segments.push(segment),
                None => return Err(self.expected("a path segment")),
            }
            if !self.eat(Punct::ColonColon) {
                let rename = if self.eat_kw(Keyword::As) { Some(self.expect_ident()?) } else { None };
                break UseKind::Simple(rename);
            }
            if self.eat(Punct::Star) {
                break UseKind::Glob;
            }
            if self.at(Punct::LBrace) {
                let open = self.bump().span;
                let mut trees = Vec::new();
                while !self.at(Punct::RBrace) && !self.at_eof() {
                    trees.push(self.nested(|p| p.parse_use_tree())?);
                    if !self.eat(Punct::Comma) {
                        break;
                    }
                }
                self.expect_close(Punct::RBrace, open)?;
                break UseKind::Nested(trees);
            }
        };
        let path_hi = segments.last().map_or(lo, |s| s.span);
        let path = Path { segments, generics: None, span: lo.to(path_hi) };
        Ok(UseTree { path, kind, span: self.span_from(lo) })
    }

    fn parse_mod(&mut self) -> PResult<ModDecl> {
        self.expect_kw(Keyword::Mod)?;
        let name = self.expect_ident()?;
        if self.eat(Punct::Semi) {
            return Ok(ModDecl { name, items: None });
        }
        let open = self.expect(Punct::LBrace)?;
        let items = self.nested(|p| Ok(p.parse_items(true)))?;
        self.expect_close(Punct::RBrace, open)?;
        Ok(ModDecl { name, items: Some(items) })
    }

    /// `actor Name { [mut] field: T [= default], ... fn handler(..) { } }`.
    fn parse_actor(&mut self) -> PResult<ActorDecl> {
        let lo = self.bump().span;
        self.extension("`actor` declarations", lo);
        let name = self.expect_ident()?;
        let open = self.expect(Punct::LBrace)?;
        let mut fields = Vec::new();
        let mut handlers = Vec::new();
        while !self.at(Punct::RBrace) && !self.at_eof() {
            if self.at_kw(Keyword::Fn) || self.at_kw(Keyword::Async) {
                handlers.push(self.parse_fn(FnPlace::Actor)?);
                continue;
            }
            let mutable = self.eat_kw(Keyword::Mut);
            let name = self.expect_ident()?;
            self.expect(Punct::Colon)?;
            let ty = self.parse_type()?;
            let default = if self.eat(Punct::Eq) { Some(self.parse_expr()?) } else { None };
            fields.push(ActorField { mutable, name, ty, default });
            if !self.eat(Punct::Comma) && !self.at(Punct::RBrace) {
                return Err(self.expected("`,` or `}`"));
            }
        }
        self.expect_close(Punct::RBrace, open)?;
        Ok(ActorDecl { name, fields, handlers })
    }
}
