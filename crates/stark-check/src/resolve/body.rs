//! Resolving the paths in signatures and bodies. Lexical scopes (ribs)
//! come first: block scopes innermost to outermost, then parameters
//! (NAME-SCOPE-001); a `let` binds only after its initializer; a binding
//! may shadow an outer one but not another in the same scope (E0204).

use super::{Local, PathContext, PathRes, Resolver};
use crate::defs::{DefId, DefKind, Ns, Res};
use rustc_hash::FxHashMap;
use stark_syntax::ast::*;
use stark_syntax::{Diagnostic, Span, Symbol};

/// One lexical scope: the locals it binds.
#[derive(Default)]
struct Rib {
    names: FxHashMap<Symbol, (u32, Span)>,
}

struct Walker<'r, 'a> {
    r: &'r mut Resolver<'a>,
    module: DefId,
    ribs: Vec<Rib>,
    /// Generic parameter names of the enclosing items, innermost last.
    generics: Vec<Vec<Symbol>>,
    /// Whether `Self` names a type here (trait, impl, actor).
    self_ty: bool,
}

impl Resolver<'_> {
    /// Resolves every signature and body of `module`'s items.
    pub(super) fn resolve_bodies(&mut self, module: DefId, items: &[Item]) {
        let mut walker = Walker { r: self, module, ribs: Vec::new(), generics: Vec::new(), self_ty: false };
        walker.items(items);
    }
}

impl Walker<'_, '_> {
    fn items(&mut self, items: &[Item]) {
        for item in items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Fn(f) => self.function(f),
            ItemKind::Struct(s) => self.with_generics(&s.generics, |w| {
                for field in &s.fields {
                    w.ty(&field.ty);
                }
            }),
            ItemKind::Enum(e) => self.with_generics(&e.generics, |w| {
                for variant in &e.variants {
                    match &variant.kind {
                        VariantKind::Unit => {}
                        VariantKind::Tuple(types) => types.iter().for_each(|t| w.ty(t)),
                        VariantKind::Struct(fields) => fields.iter().for_each(|f| w.ty(&f.ty)),
                    }
                }
            }),
            ItemKind::Trait(t) => self.with_self(|w| {
                w.with_generics(&t.generics, |w| {
                    for item in &t.items {
                        if let TraitItem::Fn(f) = item {
                            w.function(f);
                        }
                    }
                })
            }),
            ItemKind::Impl(i) => self.with_self(|w| {
                w.with_generics(&i.generics, |w| {
                    if let Some(trait_) = &i.trait_ {
                        w.type_path(trait_);
                    }
                    w.ty(&i.self_ty);
                    for item in &i.items {
                        match item {
                            ImplItem::Fn(_, f) => w.function(f),
                            ImplItem::Type(_, ty) => w.ty(ty),
                        }
                    }
                })
            }),
            ItemKind::Const(c) => {
                self.ty(&c.ty);
                self.expr(&c.value);
            }
            ItemKind::TypeAlias(t) => self.with_generics(&t.generics, |w| w.ty(&t.ty)),
            ItemKind::Use(_) => {}
            ItemKind::Mod(m) => {
                let Ok(Some(Res::Def(module))) = self.r.lookup_in(self.module, m.name.name, Ns::Module, self.module)
                else {
                    return;
                };
                if let Some(items) = &m.items {
                    let outer = std::mem::replace(&mut self.module, module);
                    self.items(items);
                    self.module = outer;
                }
            }
            ItemKind::Actor(a) => self.actor(a),
        }
    }

    fn with_self(&mut self, f: impl FnOnce(&mut Self)) {
        let outer = std::mem::replace(&mut self.self_ty, true);
        f(self);
        self.self_ty = outer;
    }

    /// Runs `f` with generic parameters in scope (their bounds resolved).
    fn with_generics(&mut self, params: &[GenericParam], f: impl FnOnce(&mut Self)) {
        let mut names: Vec<Symbol> = Vec::new();
        for param in params {
            if names.contains(&param.name.name) {
                self.duplicate(param.name, "generic parameter");
            }
            names.push(param.name.name);
        }
        self.generics.push(names);
        for param in params {
            for bound in &param.bounds {
                self.type_path(bound);
            }
        }
        f(self);
        self.generics.pop();
    }

    fn function(&mut self, f: &FnDecl) {
        self.with_generics(&f.generics, |w| {
            w.ribs.push(Rib::default());
            if let Some(receiver) = f.receiver {
                let name = Ident { name: Symbol::intern("self"), span: receiver.span };
                w.bind_param(name, false);
            }
            for param in &f.params {
                w.ty(&param.ty);
                w.bind_param(param.name, param.mutable);
            }
            if let Some(RetType::Type(ty)) = &f.ret {
                w.ty(ty);
            }
            if let Some(body) = &f.body {
                w.block(body);
            }
            w.ribs.pop();
        });
    }

    /// An actor: its fields are in scope by name in every handler.
    fn actor(&mut self, a: &ActorDecl) {
        self.with_self(|w| {
            for field in &a.fields {
                w.ty(&field.ty);
                if let Some(default) = &field.default {
                    w.expr(default);
                }
            }
            w.ribs.push(Rib::default());
            for field in &a.fields {
                w.bind_param(field.name, field.mutable);
            }
            let self_name = Ident { name: Symbol::intern("self"), span: a.name.span };
            w.bind_param(self_name, false);
            for handler in &a.handlers {
                w.function(handler);
            }
            w.ribs.pop();
        });
    }

    // ----- locals -----

    /// Binds a local in the innermost scope; a second binding of the same
    /// name in the same scope is an error (NAME-SHADOW-001).
    fn bind_local(&mut self, name: Ident, mutable: bool) {
        self.bind(name, mutable, true);
    }

    /// Binds a parameter, actor field or `self`: never warned about.
    fn bind_param(&mut self, name: Ident, mutable: bool) {
        self.bind(name, mutable, false);
    }

    fn bind(&mut self, name: Ident, mutable: bool, warn_unused: bool) {
        let id = self.r.resolutions.locals.len() as u32;
        self.r.resolutions.locals.push(Local { name: name.name, span: name.span, mutable, uses: 0, warn_unused });
        self.r.resolutions.paths.insert(name.span, PathRes { res: Res::Local(id), assoc_from: 1 });
        // `let _ = e;` discards: `_` may be "declared" any number of times.
        if name.name.as_str() == "_" {
            return;
        }
        let rib = self.ribs.last_mut().expect("a scope");
        if let Some(&(_, first)) = rib.names.get(&name.name) {
            let diagnostic = Diagnostic::error("E0204", format!("`{}` is already declared in this scope", name.name))
                .primary(name.span, "declared again here")
                .secondary(first, "first declared here")
                .help("use a new name, or shadow it in an inner block");
            self.r.diagnostics.push(diagnostic);
        }
        rib.names.insert(name.name, (id, name.span));
    }

    fn lookup_local(&self, name: Symbol) -> Option<u32> {
        self.ribs.iter().rev().find_map(|rib| rib.names.get(&name).map(|&(id, _)| id))
    }

    fn duplicate(&mut self, name: Ident, what: &str) {
        let diagnostic = Diagnostic::error("E0204", format!("{what} `{}` is declared more than once", name.name))
            .primary(name.span, "declared again here");
        self.r.diagnostics.push(diagnostic);
    }

    // ----- paths -----

    fn record(&mut self, path: &Path, res: PathRes) {
        self.r.resolutions.paths.insert(path.span, res);
    }

    /// A path in type position (also trait bounds and `impl` traits).
    fn type_path(&mut self, path: &Path) {
        self.generic_args(path);
        if let [segment] = path.segments.as_slice() {
            let name = segment.name;
            if self.generics.iter().any(|names| names.contains(&name)) {
                return self.record(path, PathRes { res: Res::TyParam(name), assoc_from: 1 });
            }
        }
        if self.self_or_param_path(path) {
            return;
        }
        self.module_path(path, PathContext::Type);
    }

    fn generic_args(&mut self, path: &Path) {
        if let Some(args) = &path.generics {
            for arg in &args.args {
                match arg {
                    GenericArg::Type(ty) | GenericArg::Binding(_, ty) => self.ty(ty),
                }
            }
        }
    }

    /// A path in value position: a local, or an item.
    fn value_path(&mut self, path: &Path, context: PathContext) {
        self.generic_args(path);
        if let [segment] = path.segments.as_slice() {
            if let Some(id) = self.lookup_local(segment.name) {
                self.r.resolutions.locals[id as usize].uses += 1;
                return self.record(path, PathRes { res: Res::Local(id), assoc_from: 1 });
            }
        }
        if self.self_or_param_path(path) {
            return;
        }
        self.module_path(path, context);
    }

    /// `Self`, `Self::Item`, `T::Item`: resolved here, not at module level.
    /// Returns whether the path was one of these.
    fn self_or_param_path(&mut self, path: &Path) -> bool {
        let first = path.segments[0];
        if first.name.as_str() == "Self" {
            if self.self_ty {
                self.record(path, PathRes { res: Res::SelfTy, assoc_from: 1 });
            } else {
                let diagnostic = Diagnostic::error("E0202", "`Self` is only available in traits, impls and actors")
                    .primary(first.span, "no `Self` type here");
                self.r.diagnostics.push(diagnostic);
            }
            return true;
        }
        if path.segments.len() > 1 && self.generics.iter().any(|names| names.contains(&first.name)) {
            // An associated item of a type parameter.
            self.record(path, PathRes { res: Res::TyParam(first.name), assoc_from: 1 });
            return true;
        }
        false
    }

    fn module_path(&mut self, path: &Path, context: PathContext) {
        match self.r.resolve_path(self.module, &path.segments, context) {
            Ok(res) => self.record(path, res),
            Err(err) => {
                self.record(path, PathRes { res: Res::Err, assoc_from: path.segments.len() });
                self.r.report_path_error(err, &path.segments, context);
            }
        }
    }

    // ----- types -----

    fn ty(&mut self, ty: &Type) {
        match &ty.kind {
            TypeKind::Path(path) => self.type_path(path),
            TypeKind::Array(inner, _) | TypeKind::Slice(inner) | TypeKind::Paren(inner) => self.ty(inner),
            TypeKind::Ref { ty, .. } => self.ty(ty),
            TypeKind::Tuple(types) => types.iter().for_each(|t| self.ty(t)),
            TypeKind::Fn { params, ret } => {
                params.iter().for_each(|t| self.ty(t));
                if let Some(ret) = ret {
                    self.ty(ret);
                }
            }
            TypeKind::Tensor { path, .. } => self.type_path(path),
        }
    }

    // ----- expressions -----

    fn block(&mut self, block: &Block) {
        self.ribs.push(Rib::default());
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        if let Some(tail) = &block.tail {
            self.expr(tail);
        }
        self.ribs.pop();
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Empty | StmtKind::Continue => {}
            StmtKind::Expr { expr, .. } => self.expr(expr),
            StmtKind::Let(l) => {
                if let Some(init) = &l.init {
                    self.expr(init);
                }
                if let Some(ty) = &l.ty {
                    self.ty(ty);
                }
                self.bind_local(l.name, l.mutable);
            }
            StmtKind::Return(value) | StmtKind::Break(value) => {
                if let Some(value) = value {
                    self.expr(value);
                }
            }
            StmtKind::Item(item) => self.item(item),
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Lit(_) | ExprKind::Error => {}
            ExprKind::FormatStr(parts) => {
                for part in parts {
                    if let FmtPart::Field { expr, .. } = part {
                        self.expr(expr);
                    }
                }
            }
            ExprKind::Path(path) => self.value_path(path, PathContext::Value),
            ExprKind::Unary(_, e) | ExprKind::Paren(e) | ExprKind::Try(e) | ExprKind::Await(e) | ExprKind::Spawn(e) => {
                self.expr(e)
            }
            ExprKind::Field(e, _) | ExprKind::TupleField(e, _, _) => self.expr(e),
            ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) | ExprKind::ArrayRepeat(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Assign { target, value, .. } => {
                self.expr(target);
                self.expr(value);
            }
            ExprKind::Range { start, end, .. } => {
                self.expr(start);
                self.expr(end);
            }
            ExprKind::Cast(e, ty) => {
                self.expr(e);
                self.ty(ty);
            }
            ExprKind::Call(callee, args) => {
                match &callee.kind {
                    ExprKind::Path(path) => self.value_path(path, PathContext::Callee),
                    _ => self.expr(callee),
                }
                args.iter().for_each(|a| self.expr(a));
            }
            ExprKind::MethodCall { receiver, args, .. } => {
                self.expr(receiver);
                args.iter().for_each(|a| self.expr(a));
            }
            ExprKind::Tuple(items) | ExprKind::Array(items) => items.iter().for_each(|e| self.expr(e)),
            ExprKind::Struct { path, fields, base } => {
                self.constructor_path(path);
                fields.iter().for_each(|f| self.expr(&f.value));
                if let Some(base) = base {
                    self.expr(base);
                }
            }
            ExprKind::If { cond, then, else_ } => {
                self.expr(cond);
                self.block(then);
                if let Some(e) = else_ {
                    self.expr(e);
                }
            }
            ExprKind::Match { scrutinee, arms } => {
                self.expr(scrutinee);
                for arm in arms {
                    self.ribs.push(Rib::default());
                    self.pattern(&arm.pattern);
                    self.expr(&arm.body);
                    self.ribs.pop();
                }
            }
            ExprKind::Loop(body) => self.block(body),
            ExprKind::While { cond, body } => {
                self.expr(cond);
                self.block(body);
            }
            ExprKind::For { var, iter, body } => {
                self.expr(iter);
                self.ribs.push(Rib::default());
                self.bind_local(*var, false);
                self.block(body);
                self.ribs.pop();
            }
            ExprKind::Block(block) => self.block(block),
            ExprKind::Closure { params, ret, body, .. } => {
                self.ribs.push(Rib::default());
                for param in params {
                    if let Some(ty) = &param.ty {
                        self.ty(ty);
                    }
                    self.bind_local(param.name, false);
                }
                if let Some(ret) = ret {
                    self.ty(ret);
                }
                self.expr(body);
                self.ribs.pop();
            }
            ExprKind::Select(arms) => {
                for arm in arms {
                    self.expr(&arm.op);
                    self.ribs.push(Rib::default());
                    self.pattern(&arm.pattern);
                    self.expr(&arm.body);
                    self.ribs.pop();
                }
            }
        }
    }

    /// The name of a struct literal or a constructor pattern.
    fn constructor_path(&mut self, path: &Path) {
        self.generic_args(path);
        if self.self_or_param_path(path) {
            return;
        }
        self.module_path(path, PathContext::Constructor);
    }

    // ----- patterns -----

    fn pattern(&mut self, pattern: &Pattern) {
        let mut seen = FxHashMap::default();
        self.pattern_in(pattern, &mut seen);
    }

    fn pattern_in(&mut self, pattern: &Pattern, seen: &mut FxHashMap<Symbol, Span>) {
        match &pattern.kind {
            PatternKind::Lit(_) | PatternKind::Wildcard => {}
            PatternKind::Ident(name) => self.ident_pattern(*name, seen),
            PatternKind::Path(path) => self.constructor_path(path),
            PatternKind::TupleStruct(path, items) => {
                self.constructor_path(path);
                items.iter().for_each(|p| self.pattern_in(p, seen));
            }
            PatternKind::Struct(path, fields) => {
                self.constructor_path(path);
                fields.iter().for_each(|f| self.pattern_in(&f.pattern, seen));
            }
            PatternKind::Tuple(items) | PatternKind::Array(items) => {
                items.iter().for_each(|p| self.pattern_in(p, seen))
            }
        }
    }

    /// A single name in a pattern: a unit variant or constant in scope is
    /// a value test; anything else binds a new local.
    fn ident_pattern(&mut self, name: Ident, seen: &mut FxHashMap<Symbol, Span>) {
        if let Ok(Some(Res::Def(def))) = self.r.lookup_module_level(self.module, name.name, Ns::Value) {
            if matches!(self.r.table.def(def).kind, DefKind::Variant | DefKind::Const) {
                let path = PathRes { res: Res::Def(def), assoc_from: 1 };
                self.r.resolutions.paths.insert(name.span, path);
                return;
            }
        }
        if let Some(&first) = seen.get(&name.name) {
            let diagnostic =
                Diagnostic::error("E0204", format!("`{}` is bound more than once in the same pattern", name.name))
                    .primary(name.span, "bound again here")
                    .secondary(first, "first bound here");
            self.r.diagnostics.push(diagnostic);
            return;
        }
        seen.insert(name.name, name.span);
        self.bind_local(name, false);
    }
}
