//! Expressions, statements and blocks.

use super::{FnCtxt, LoopCtx};
use crate::defs::{DefKind, Prim, Res};
use crate::items::{AdtKind, VariantShape};
use crate::ty::{Ty, TyKind};
use stark_syntax::ast::{self, BinOp, ExprKind, Lit, StmtKind, UnOp};
use stark_syntax::lexer::{FloatSuffix, IntSuffix};
use stark_syntax::{Diagnostic, Span, Symbol};

fn int_suffix_prim(s: IntSuffix) -> Prim {
    match s {
        IntSuffix::I8 => Prim::Int8,
        IntSuffix::I16 => Prim::Int16,
        IntSuffix::I32 => Prim::Int32,
        IntSuffix::I64 => Prim::Int64,
        IntSuffix::U8 => Prim::UInt8,
        IntSuffix::U16 => Prim::UInt16,
        IntSuffix::U32 => Prim::UInt32,
        IntSuffix::U64 => Prim::UInt64,
    }
}

impl<'a> FnCtxt<'a, '_> {
    pub(crate) fn prim(&mut self, p: Prim) -> Ty {
        self.types.intern(TyKind::Prim(p))
    }

    fn string_ty(&mut self) -> Ty {
        match self.env.lang.string {
            Some(def) => self.types.intern(TyKind::Adt(def, Vec::new())),
            None => self.env.common.err,
        }
    }

    /// Runs `f` with a lowering of syntax to types in this body's generic
    /// context.
    pub(crate) fn lowering<T>(&mut self, f: impl FnOnce(&mut crate::items::Lowering) -> T) -> T {
        let mut lowering = crate::items::Lowering {
            defs: self.env.defs,
            res: self.env.res,
            types: self.types,
            common: self.env.common,
            items: self.env.items,
            self_ty: self.self_ty,
            generics: self.generics,
            diagnostics: self.diagnostics,
        };
        f(&mut lowering)
    }

    /// A type from syntax, in this body's generic context.
    pub(crate) fn lower_ty(&mut self, ty: &ast::Type) -> Ty {
        let ty = self.lowering(|l| l.ty(ty));
        self.normalize(ty)
    }

    // ----- blocks and statements -----

    pub(crate) fn block(&mut self, block: &ast::Block, expected: Option<Ty>) -> Ty {
        let mut warned = false;
        for stmt in &block.stmts {
            if self.diverges && !warned && !matches!(stmt.kind, StmtKind::Empty | StmtKind::Item(_)) {
                self.unreachable(stmt.span);
                warned = true;
            }
            self.stmt(stmt);
        }
        if let (Some(tail), true, false) = (&block.tail, self.diverges, warned) {
            self.unreachable(tail.span);
        }
        let ty = match &block.tail {
            Some(tail) => self.expr(tail, expected),
            None if self.diverges => self.env.common.never,
            None => self.env.common.unit,
        };
        self.record(block.span, ty);
        ty
    }

    fn stmt(&mut self, stmt: &ast::Stmt) {
        match &stmt.kind {
            StmtKind::Empty | StmtKind::Item(_) => {}
            StmtKind::Expr { expr, .. } => {
                let ty = self.expr(expr, None);
                self.warn_unused_future(ty, expr);
            }
            StmtKind::Let(l) => self.let_stmt(l),
            StmtKind::Return(value) => {
                let ret = self.ret;
                match value {
                    Some(value) => {
                        let found = self.expr(value, Some(ret));
                        self.coerce(found, ret, value.span, None);
                    }
                    None => {
                        let unit = self.env.common.unit;
                        self.coerce(unit, ret, stmt.span, None);
                    }
                }
                self.diverges = true;
            }
            StmtKind::Break(value) => self.break_stmt(value.as_ref(), stmt.span),
            StmtKind::Continue => {
                if self.loops.is_empty() {
                    self.outside_loop("continue", stmt.span);
                }
                self.diverges = true;
            }
        }
    }

    /// W0005: code after a `return`, `break`, `continue` or `!` value.
    fn unreachable(&mut self, span: Span) {
        let diagnostic = Diagnostic::warning("W0005", "unreachable code").primary(span, "control never reaches this");
        self.diagnostics.push(diagnostic);
    }

    fn outside_loop(&mut self, word: &str, span: Span) {
        let diagnostic = Diagnostic::error("E0302", format!("`{word}` outside of a loop"))
            .primary(span, format!("`{word}` needs an enclosing loop"));
        self.diagnostics.push(diagnostic);
    }

    fn break_stmt(&mut self, value: Option<&ast::Expr>, span: Span) {
        let Some(index) = self.loops.len().checked_sub(1) else {
            if let Some(value) = value {
                self.expr(value, None);
            }
            self.outside_loop("break", span);
            self.diverges = true;
            return;
        };
        let ty = match value {
            Some(value) => {
                let expected = self.loops[index].break_ty;
                let ty = self.expr(value, expected);
                if !self.loops[index].is_loop {
                    let diagnostic = Diagnostic::error("E0019", "`break` with a value inside `while` or `for`")
                        .primary(value.span, "only `loop` can produce a value")
                        .help("use `loop` with a `break value;`, or drop the value");
                    self.diagnostics.push(diagnostic);
                }
                ty
            }
            None => self.env.common.unit,
        };
        match self.loops[index].break_ty {
            Some(previous) => {
                let site = value.map_or(span, |v| v.span);
                self.coerce(ty, previous, site, None);
            }
            None => self.loops[index].break_ty = Some(ty),
        }
        self.diverges = true;
    }

    fn let_stmt(&mut self, l: &ast::LetStmt) {
        let declared = l.ty.as_ref().map(|t| self.lower_ty(t));
        let ty = match (&l.init, declared) {
            (Some(init), Some(declared)) => {
                let found = self.expr(init, Some(declared));
                let origin = l.ty.as_ref().map(|t| (t.span, "expected because of this annotation"));
                self.coerce(found, declared, init.span, origin);
                declared
            }
            (Some(init), None) => {
                let found = self.expr(init, None);
                // A `!` initializer gives the variable no useful type.
                if matches!(self.types.kind(self.infer.resolve(self.types, found)), TyKind::Never) {
                    self.infer.var(self.types)
                } else {
                    found
                }
            }
            (None, Some(declared)) => declared,
            (None, None) => self.infer.var(self.types),
        };
        self.bind_local_at(l.name.span, ty);
        if l.init.is_none() {
            if let Some(&id) = self.env.local_at.get(&l.name.span) {
                self.deferred.insert(id, self.loops.len());
            }
        }
    }

    /// Warns when a `Future` or `Task` is dropped without being awaited,
    /// joined or spawned (LANGUAGE.md section 2).
    fn warn_unused_future(&mut self, ty: Ty, expr: &ast::Expr) {
        let ty = self.infer.resolve(self.types, ty);
        if let TyKind::Adt(def, _) = *self.types.kind(ty) {
            let lang = self.env.lang;
            if lang.future == Some(def) || lang.task == Some(def) {
                let what = self.env.defs.def(def).name;
                let diagnostic =
                    Diagnostic::warning("W0010", format!("unused `{what}`: it is dropped without being awaited"))
                        .primary(expr.span, format!("this `{what}` is never awaited, joined or spawned"))
                        .help("write `.await` (or `await e`), or `spawn` it to run concurrently");
                // A statement re-checked (a closure body's first try) warns once.
                if !self.diagnostics.iter().any(|d| d.code == "W0010" && d.primary_span() == Some(expr.span)) {
                    self.diagnostics.push(diagnostic);
                }
            }
        }
    }

    // ----- expressions -----

    /// Checks an expression; `expected` guides inference (the caller
    /// coerces where the language has a coercion site).
    pub(crate) fn expr(&mut self, e: &ast::Expr, expected: Option<Ty>) -> Ty {
        let ty = self.expr_inner(e, expected);
        if matches!(self.types.kind(self.infer.resolve(self.types, ty)), TyKind::Never) {
            self.diverges = true;
        }
        self.record(e.span, ty);
        ty
    }

    fn expr_inner(&mut self, e: &ast::Expr, expected: Option<Ty>) -> Ty {
        match &e.kind {
            ExprKind::Lit(lit) => self.literal(lit, e.span, expected),
            ExprKind::FormatStr(parts) => self.format_string(parts),
            ExprKind::Path(path) => self.path_expr(path, expected),
            ExprKind::Paren(inner) => self.expr(inner, expected),
            ExprKind::Unary(op, operand) => self.unary(*op, operand, e.span, expected),
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e.span, expected),
            ExprKind::Assign { op, target, value } => self.assign(*op, target, value, e.span),
            ExprKind::Range { start, end, inclusive } => self.range(start, end, *inclusive, expected),
            ExprKind::Cast(value, ty) => self.cast(value, ty, e.span),
            ExprKind::Call(callee, args) => self.call(callee, args, e.span, expected),
            ExprKind::MethodCall { receiver, method, args } => self.method_call(receiver, *method, args, e.span),
            ExprKind::Field(base, name) => self.field(base, *name),
            ExprKind::TupleField(base, index, span) => self.tuple_field(base, *index, *span),
            ExprKind::Index(base, index) => self.index(base, index, e.span),
            ExprKind::Try(inner) => self.try_expr(inner, e.span),
            ExprKind::Tuple(items) => self.tuple(items, expected),
            ExprKind::Array(items) => self.array(items, e.span, expected),
            ExprKind::ArrayRepeat(value, count) => self.array_repeat(value, count, expected),
            ExprKind::Struct { path, fields, base } => self.struct_literal(path, fields, base.as_deref(), e.span),
            ExprKind::If { cond, then, else_ } => self.if_expr(cond, then, else_.as_deref(), expected),
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, e.span, expected),
            ExprKind::Loop(body) => self.loop_expr(body),
            ExprKind::While { cond, body } => {
                let bool_ty = self.env.common.bool;
                let c = self.expr(cond, Some(bool_ty));
                self.coerce(c, bool_ty, cond.span, None);
                self.loop_body(body, false);
                self.diverges = false;
                self.env.common.unit
            }
            ExprKind::For { var, iter, body } => self.for_expr(*var, iter, body),
            ExprKind::Block(block) => self.block(block, expected),
            ExprKind::Closure { is_move, params, ret, body } => {
                self.closure(e.span, *is_move, params, ret.as_deref(), body, expected)
            }
            ExprKind::Await(inner) => self.await_expr(inner),
            ExprKind::Spawn(inner) => self.spawn_expr(e.span, inner),
            ExprKind::Select(arms) => self.select_expr(arms, expected),
            ExprKind::Error => self.env.common.err,
        }
    }

    fn literal(&mut self, lit: &Lit, span: Span, expected: Option<Ty>) -> Ty {
        match lit {
            Lit::Int { value, suffix: Some(suffix) } => {
                let prim = int_suffix_prim(*suffix);
                self.check_int_range(*value, prim, span, false);
                self.prim(prim)
            }
            Lit::Int { value, suffix: None } => {
                if *value > i64::MAX as u64 && expected.is_none() {
                    let diagnostic = Diagnostic::error("E0008", "integer literal does not fit `Int64`")
                        .primary(span, "too large for an unsuffixed literal")
                        .help("add a suffix (`u64`) or an annotation");
                    self.diagnostics.push(diagnostic);
                    return self.env.common.err;
                }
                let ty = self.infer.int_var(self.types);
                if let Some(expected) = expected {
                    let _ = self.infer.unify(self.types, ty, expected);
                }
                self.note_int_literal(ty, *value, span);
                ty
            }
            Lit::Float { suffix: Some(FloatSuffix::F32), .. } => self.prim(Prim::Float32),
            Lit::Float { suffix: Some(FloatSuffix::F64), .. } => self.prim(Prim::Float64),
            Lit::Float { suffix: None, .. } => {
                let ty = self.infer.float_var(self.types);
                if let Some(expected) = expected {
                    let _ = self.infer.unify(self.types, ty, expected);
                }
                ty
            }
            Lit::Str(_) => {
                let str_ty = self.env.common.str;
                self.types.intern(TyKind::Ref { mutable: false, ty: str_ty })
            }
            Lit::Char(_) => self.env.common.char,
            Lit::Bool(_) => self.env.common.bool,
        }
    }

    fn format_string(&mut self, parts: &[ast::FmtPart]) -> Ty {
        for part in parts {
            if let ast::FmtPart::Field { expr, spec } = part {
                let ty = self.expr(expr, None);
                self.check_format_field(ty, spec.as_ref(), expr.span);
            }
        }
        self.string_ty()
    }

    /// A field's type must be `Display`, and its spec must suit the type
    /// (STD-FORMAT-003): `b o x X` and `#` need an integer, `.precision`
    /// a float or string, a sign a number.
    fn check_format_field(&mut self, ty: Ty, spec: Option<&stark_syntax::lexer::FormatSpec>, span: Span) {
        if let Some(display) = self.env.lang.display {
            self.oblige(ty, display, span);
        }
        let Some(spec) = spec else { return };
        let resolved = self.infer.resolve(self.types, ty);
        let kind = self.types.kind(resolved).clone();
        let deref = match kind {
            TyKind::Ref { ty, .. } => self.types.kind(self.infer.resolve(self.types, ty)).clone(),
            other => other,
        };
        let is_int = matches!(deref, TyKind::IntVar(_)) || matches!(deref, TyKind::Prim(p) if p.is_integer());
        let is_float = matches!(deref, TyKind::FloatVar(_)) || matches!(deref, TyKind::Prim(p) if p.is_float());
        let is_string = matches!(deref, TyKind::Prim(Prim::Str))
            || matches!(deref, TyKind::Adt(d, _) if self.env.lang.string == Some(d));
        let _ = span;
        let problem = if matches!(spec.ty, Some('b' | 'o' | 'x' | 'X')) && !is_int {
            Some("a radix format (`b`, `o`, `x`, `X`) needs an integer")
        } else if spec.ty == Some('f') && !is_float {
            Some("`f` needs a float")
        } else if spec.alternate && !is_int {
            Some("`#` needs an integer")
        } else if spec.precision.is_some() && !is_float {
            Some(if is_string {
                "Core v1 defines no precision (truncation) for strings"
            } else {
                "a precision needs a float"
            })
        } else if (spec.sign.is_some() || spec.zero) && !(is_int || is_float) {
            Some("a sign or `0` flag needs a number")
        } else {
            None
        };
        if let Some(problem) = problem {
            let t = self.show(ty);
            if t.contains("{error}") {
                return;
            }
            let diagnostic = Diagnostic::error("E0020", format!("format specification does not suit `{t}`"))
                .primary(spec.span, problem)
                .secondary(span, format!("this is `{t}`"));
            self.diagnostics.push(diagnostic);
        }
    }

    fn tuple(&mut self, items: &[ast::Expr], expected: Option<Ty>) -> Ty {
        if items.is_empty() {
            return self.env.common.unit;
        }
        let expected_items = expected.and_then(|e| match self.types.kind(self.infer.resolve(self.types, e)) {
            TyKind::Tuple(items) => Some(items.clone()),
            _ => None,
        });
        let tys = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.expr(item, expected_items.as_ref().and_then(|x| x.get(i).copied())))
            .collect();
        self.types.intern(TyKind::Tuple(tys))
    }

    fn array(&mut self, items: &[ast::Expr], span: Span, expected: Option<Ty>) -> Ty {
        let expected_elem = expected.and_then(|e| match self.types.kind(self.infer.resolve(self.types, e)) {
            TyKind::Array(elem, _) => Some(*elem),
            _ => None,
        });
        let elem = expected_elem.unwrap_or_else(|| self.infer.var(self.types));
        for item in items {
            let ty = self.expr(item, Some(elem));
            self.coerce(ty, elem, item.span, None);
        }
        let _ = span;
        self.types.intern(TyKind::Array(elem, items.len() as u64))
    }

    fn array_repeat(&mut self, value: &ast::Expr, count: &ast::Expr, expected: Option<Ty>) -> Ty {
        let expected_elem = expected.and_then(|e| match self.types.kind(self.infer.resolve(self.types, e)) {
            TyKind::Array(elem, _) => Some(*elem),
            _ => None,
        });
        let elem = self.expr(value, expected_elem);
        let u64_ty = self.env.common.u64;
        let count_ty = self.expr(count, Some(u64_ty));
        self.coerce(count_ty, u64_ty, count.span, None);
        let n = match self.const_int(count, 0) {
            Some(n) if n >= 0 => n as u64,
            _ => {
                let diagnostic = Diagnostic::error("E0009", "array repeat count must be a compile-time constant")
                    .primary(count.span, "not a constant non-negative integer")
                    .help("use an integer literal or a `const`, as in `[0; 16]` or `[0; SIZE]`");
                self.diagnostics.push(diagnostic);
                return self.env.common.err;
            }
        };
        self.types.intern(TyKind::Array(elem, n))
    }

    /// The value of a constant integer expression: literals, constants,
    /// unary minus, arithmetic, parentheses and casts.
    pub(crate) fn const_int(&self, e: &ast::Expr, depth: u32) -> Option<i128> {
        if depth > 64 {
            return None;
        }
        match &e.kind {
            ExprKind::Lit(Lit::Int { value, .. }) => Some(*value as i128),
            ExprKind::Paren(inner) | ExprKind::Cast(inner, _) => self.const_int(inner, depth + 1),
            ExprKind::Unary(UnOp::Neg, inner) => self.const_int(inner, depth + 1).map(|v| -v),
            ExprKind::Path(path) => match self.path_res(path)?.res {
                Res::Def(def) if self.env.defs.def(def).kind == DefKind::Const => {
                    self.const_int(self.env.items.const_exprs.get(&def)?, depth + 1)
                }
                _ => None,
            },
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.const_int(a, depth + 1)?, self.const_int(b, depth + 1)?);
                match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    BinOp::Div => a.checked_div(b),
                    BinOp::Rem => a.checked_rem(b),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn range(&mut self, start: &ast::Expr, end: &ast::Expr, inclusive: bool, expected: Option<Ty>) -> Ty {
        let expected_elem = expected.and_then(|e| match self.types.kind(self.infer.resolve(self.types, e)) {
            TyKind::Adt(_, args) if args.len() == 1 => Some(args[0]),
            _ => None,
        });
        let a = self.expr(start, expected_elem);
        let b = self.expr(end, Some(a));
        self.coerce(b, a, end.span, None);
        let def = if inclusive { self.env.lang.range_inclusive } else { self.env.lang.range };
        match def {
            Some(def) => self.types.intern(TyKind::Adt(def, vec![a])),
            None => self.env.common.err,
        }
    }

    fn if_expr(&mut self, cond: &ast::Expr, then: &ast::Block, else_: Option<&ast::Expr>, expected: Option<Ty>) -> Ty {
        let bool_ty = self.env.common.bool;
        let c = self.expr(cond, Some(bool_ty));
        self.coerce(c, bool_ty, cond.span, None);
        let outer = std::mem::replace(&mut self.diverges, false);
        let Some(else_) = else_ else {
            let before = self.init.clone();
            let ty = self.block(then, Some(self.env.common.unit));
            let after = std::mem::take(&mut self.init);
            self.init = if self.diverges { before } else { super::InitState::join(after, before) };
            let unit = self.env.common.unit;
            let tail = then.tail.as_ref().map_or(then.span, |t| t.span);
            self.coerce(ty, unit, tail, None);
            self.diverges = outer;
            return unit;
        };
        let before = self.init.clone();
        let then_ty = self.block(then, expected);
        let then_diverges = std::mem::replace(&mut self.diverges, false);
        let after_then = std::mem::replace(&mut self.init, before);
        let else_ty = self.expr(else_, expected.or(Some(then_ty)));
        let else_diverges = self.diverges;
        let after_else = std::mem::take(&mut self.init);
        self.init = match (then_diverges, else_diverges) {
            (true, false) => after_else,
            (false, true) => after_then,
            _ => super::InitState::join(after_then, after_else),
        };
        self.diverges = outer || (then_diverges && else_diverges);
        self.join(then_ty, else_ty, else_.span)
    }

    /// The type of two branches together: the non-`!` one, unified.
    pub(crate) fn join(&mut self, first: Ty, second: Ty, second_span: Span) -> Ty {
        let never = |cx: &mut Self, t: Ty| matches!(cx.types.kind(cx.infer.resolve(cx.types, t)), TyKind::Never);
        if never(self, first) {
            return second;
        }
        if never(self, second) {
            return first;
        }
        self.coerce(second, first, second_span, None)
    }

    fn loop_expr(&mut self, body: &ast::Block) -> Ty {
        let break_ty = self.loop_body(body, true);
        self.diverges = break_ty.is_none();
        break_ty.unwrap_or(self.env.common.never)
    }

    /// Checks a loop body; returns the unified type of its breaks.
    fn loop_body(&mut self, body: &ast::Block, is_loop: bool) -> Option<Ty> {
        let before = self.init.clone();
        self.loops.push(LoopCtx { is_loop, break_ty: None });
        let outer = std::mem::replace(&mut self.diverges, false);
        let ty = self.block(body, Some(self.env.common.unit));
        let unit = self.env.common.unit;
        let tail = body.tail.as_ref().map_or(body.span, |t| t.span);
        self.coerce(ty, unit, tail, None);
        self.diverges = outer;
        // The body may run zero times (or be left early): what it assigns
        // is only possibly assigned after it.
        let after = std::mem::take(&mut self.init);
        self.init = super::InitState::join(after, before);
        self.loops.pop().and_then(|l| l.break_ty)
    }

    fn for_expr(&mut self, var: ast::Ident, iter: &ast::Expr, body: &ast::Block) -> Ty {
        let iter_ty = self.expr(iter, None);
        let item = self.iteration_item(iter_ty, iter.span);
        self.bind_local_at(var.span, item);
        self.loop_body(body, false);
        self.diverges = false;
        self.env.common.unit
    }

    /// What `for` binds when iterating a value of type `ty`.
    fn iteration_item(&mut self, ty: Ty, span: Span) -> Ty {
        let ty = self.infer.resolve(self.types, ty);
        if self.is_err(ty) {
            return ty;
        }
        let kind = self.types.kind(ty).clone();
        // Borrowed collections iterate their elements by reference.
        if let TyKind::Ref { mutable, ty: inner } = kind {
            let inner = self.infer.resolve(self.types, inner);
            let elem = match self.types.kind(inner).clone() {
                TyKind::Array(elem, _) | TyKind::Slice(elem) => Some(elem),
                TyKind::Adt(def, args) if self.env.lang.vec == Some(def) => Some(args[0]),
                _ => None,
            };
            if let Some(elem) = elem {
                return self.types.intern(TyKind::Ref { mutable, ty: elem });
            }
        }
        match kind {
            TyKind::Array(elem, _) => return elem,
            // Integer ranges yield their element type, whichever integer it
            // turns out to be (no impl is picked while it is unknown).
            TyKind::Adt(def, args)
                if self.env.lang.range == Some(def) || self.env.lang.range_inclusive == Some(def) =>
            {
                if !self.is_integer(args[0]) {
                    let t = self.show(args[0]);
                    let diagnostic = Diagnostic::error("E0500", format!("a range of `{t}` is not an iterator"))
                        .primary(span, "only integer ranges can be iterated");
                    self.diagnostics.push(diagnostic);
                }
                return args[0];
            }
            // By value, a `Vec` gives its elements and a channel its messages.
            TyKind::Adt(def, args) if self.env.lang.vec == Some(def) || self.env.lang.channel == Some(def) => {
                return args[0]
            }
            _ => {}
        }
        if let Some(item) = self.iterator_item(ty) {
            return item;
        }
        let t = self.show(ty);
        let mut diagnostic = Diagnostic::error("E0500", format!("`{t}` is not an iterator"))
            .primary(span, "cannot be iterated with `for`");
        if matches!(kind, TyKind::Adt(def, _) if self.env.lang.vec == Some(def)) {
            diagnostic = diagnostic.help("iterate a borrow: `for x in &v` or `for x in v.iter()`");
        }
        self.diagnostics.push(diagnostic);
        self.env.common.err
    }

    // ----- paths -----

    fn path_expr(&mut self, path: &ast::Path, expected: Option<Ty>) -> Ty {
        let Some(resolved) = self.path_res(path) else {
            return self.env.common.err;
        };
        if resolved.assoc_from < path.segments.len() {
            return self.assoc_path(path, resolved, expected);
        }
        match resolved.res {
            Res::Local(id) => self.read_local(id, path.span),
            Res::Def(def) => self.def_value(def, path, expected),
            Res::Err => self.env.common.err,
            Res::Prim(_) | Res::TyParam(_) | Res::SelfTy => {
                let diagnostic = Diagnostic::error("E0013", "expected a value, found a type")
                    .primary(path.span, "a type, not a value");
                self.diagnostics.push(diagnostic);
                self.env.common.err
            }
        }
    }

    /// The value an item names: a function, constant or unit variant.
    fn def_value(&mut self, def: crate::defs::DefId, path: &ast::Path, expected: Option<Ty>) -> Ty {
        match self.env.defs.def(def).kind {
            DefKind::Fn => self.instantiate_fn(def, path, path.span),
            DefKind::Const => self.env.items.consts.get(&def).copied().unwrap_or(self.env.common.err),
            DefKind::Variant => self.variant_value(def, path.span, expected),
            kind => {
                let diagnostic = Diagnostic::error(
                    "E0013",
                    format!("expected a value, found {} `{}`", kind.describe(), self.env.defs.def(def).name),
                )
                .primary(path.span, "not a value");
                self.diagnostics.push(diagnostic);
                self.env.common.err
            }
        }
    }

    /// A variant as a value: a unit variant is the enum; a tuple variant is
    /// a function building it.
    fn variant_value(&mut self, def: crate::defs::DefId, span: Span, expected: Option<Ty>) -> Ty {
        let Some(&(enum_def, index)) = self.env.items.variants.get(&def) else {
            return self.env.common.err;
        };
        let (enum_ty, map) = self.fresh_adt(enum_def, expected);
        let Some(adt) = self.env.items.adts.get(&enum_def) else {
            return self.env.common.err;
        };
        let AdtKind::Enum(variants) = &adt.kind else {
            return self.env.common.err;
        };
        match &variants[index].shape {
            VariantShape::Unit => enum_ty,
            VariantShape::Tuple(payload) => {
                let params = payload.iter().map(|&t| crate::items::subst(self.types, t, &map)).collect();
                self.types.intern(TyKind::Fn(params, enum_ty))
            }
            VariantShape::Struct(_) => {
                let name = variants[index].name;
                let diagnostic = Diagnostic::error("E0013", format!("`{name}` has named fields"))
                    .primary(span, "not a value")
                    .help(format!("write `{name} {{ .. }}`"));
                self.diagnostics.push(diagnostic);
                self.env.common.err
            }
        }
    }

    /// An ADT's type with fresh variables for its generic parameters (or
    /// the expected type's arguments), and the parameter map.
    pub(crate) fn fresh_adt(
        &mut self,
        def: crate::defs::DefId,
        expected: Option<Ty>,
    ) -> (Ty, rustc_hash::FxHashMap<stark_syntax::Symbol, Ty>) {
        let params: Vec<stark_syntax::Symbol> =
            self.env.items.adts.get(&def).map(|a| a.generics.iter().map(|g| g.name).collect()).unwrap_or_default();
        let args: Vec<Ty> = params.iter().map(|_| self.infer.var(self.types)).collect();
        let ty = self.types.intern(TyKind::Adt(def, args.clone()));
        if let Some(expected) = expected {
            let _ = self.infer.unify(self.types, ty, expected);
        }
        (ty, params.into_iter().zip(args).collect())
    }

    // ----- operators -----

    fn unary(&mut self, op: UnOp, operand: &ast::Expr, span: Span, expected: Option<Ty>) -> Ty {
        match op {
            UnOp::Ref | UnOp::RefMut => {
                let inner_expected = expected.and_then(|e| match self.types.kind(self.infer.resolve(self.types, e)) {
                    TyKind::Ref { ty, .. } => Some(*ty),
                    _ => None,
                });
                let ty = self.expr(operand, inner_expected);
                let mutable = op == UnOp::RefMut;
                if mutable {
                    self.check_mutable_place(operand, "borrow as mutable");
                }
                self.types.intern(TyKind::Ref { mutable, ty })
            }
            UnOp::Deref => {
                let ty = self.expr(operand, None);
                let ty = self.infer.resolve(self.types, ty);
                match self.types.kind(ty).clone() {
                    TyKind::Ref { ty, .. } => ty,
                    TyKind::Adt(def, args) if self.env.lang.is_deref(def) => args[0],
                    TyKind::Err => ty,
                    _ => {
                        let t = self.show(ty);
                        let diagnostic = Diagnostic::error("E0016", format!("type `{t}` cannot be dereferenced"))
                            .primary(span, "not a reference");
                        self.diagnostics.push(diagnostic);
                        self.env.common.err
                    }
                }
            }
            UnOp::Neg => {
                // `-128i8`: the literal is checked with its sign.
                if let ExprKind::Lit(Lit::Int { value, suffix: Some(suffix) }) = &operand.kind {
                    let prim = int_suffix_prim(*suffix);
                    if prim.int_range().is_none_or(|(min, _)| min >= 0) {
                        let ty = self.prim(prim);
                        return self.operator_error("-", ty, span);
                    }
                    self.check_int_range(*value, prim, span, true);
                    let ty = self.prim(prim);
                    self.record(operand.span, ty);
                    return ty;
                }
                let ty = self.expr(operand, expected);
                let r = self.infer.resolve(self.types, ty);
                match self.types.kind(r) {
                    TyKind::IntVar(_) | TyKind::FloatVar(_) | TyKind::Err => ty,
                    TyKind::Prim(p) if p.is_float() || p.int_range().is_some_and(|(min, _)| min < 0) => ty,
                    TyKind::Param(_) => ty,
                    _ => self.operator_error("-", ty, span),
                }
            }
            UnOp::Not => {
                let bool_ty = self.env.common.bool;
                let ty = self.expr(operand, Some(bool_ty));
                self.coerce(ty, bool_ty, operand.span, None)
            }
            UnOp::BitNot => {
                let ty = self.expr(operand, expected);
                let r = self.infer.resolve(self.types, ty);
                match self.types.kind(r) {
                    TyKind::IntVar(_) | TyKind::Err => ty,
                    TyKind::Prim(p) if p.is_integer() => ty,
                    _ => self.operator_error("~", ty, span),
                }
            }
        }
    }

    fn operator_error(&mut self, op: &str, ty: Ty, span: Span) -> Ty {
        let t = self.show(ty);
        if !t.contains("{error}") {
            let diagnostic = Diagnostic::error("E0017", format!("operator `{op}` cannot be applied to `{t}`"))
                .primary(span, format!("`{op}` on `{t}`"));
            self.diagnostics.push(diagnostic);
        }
        self.env.common.err
    }

    fn binary(&mut self, op: BinOp, a: &ast::Expr, b: &ast::Expr, span: Span, expected: Option<Ty>) -> Ty {
        use BinOp::*;
        match op {
            And | Or => {
                let bool_ty = self.env.common.bool;
                for side in [a, b] {
                    let ty = self.expr(side, Some(bool_ty));
                    self.coerce(ty, bool_ty, side.span, None);
                }
                bool_ty
            }
            Eq | Ne | Lt | Le | Gt | Ge => {
                let left = self.expr(a, None);
                let right = self.expr(b, Some(left));
                self.coerce(right, left, b.span, None);
                self.check_comparison(op, left, span);
                self.env.common.bool
            }
            Shl | Shr => {
                let left = self.expr(a, expected);
                let right = self.expr(b, None);
                for (ty, side) in [(left, a), (right, b)] {
                    if !self.is_integer(ty) {
                        return self.operator_error(op.as_str(), ty, side.span);
                    }
                }
                left
            }
            Pow => {
                let left = self.expr(a, expected);
                let u32_ty = self.prim(Prim::UInt32);
                let right = self.expr(b, Some(u32_ty));
                self.coerce(right, u32_ty, b.span, None);
                if !self.is_integer(left) {
                    let mut d =
                        Diagnostic::error("E0017", format!("operator `**` cannot be applied to `{}`", self.show(left)))
                            .primary(span, "`**` needs integers");
                    d = d.help("for floats use `math::pow(base, exponent)`");
                    if !self.is_err(left) {
                        self.diagnostics.push(d);
                    }
                    return self.env.common.err;
                }
                left
            }
            Add | Sub | Mul | Div | Rem | BitAnd | BitOr | BitXor => {
                // An unknown expected type (a generic argument) says nothing
                // of the left operand: `2.0 * t` may be a tensor.
                let hint = expected.filter(|&t| {
                    let t = self.infer.resolve(self.types, t);
                    !matches!(self.types.kind(t), TyKind::Var(_))
                });
                let left = self.expr(a, hint);
                let right = self.expr(b, Some(left));
                if self.tensor_parts(left).is_some() || self.tensor_parts(right).is_some() {
                    return self.tensor_binary(op, left, right, (a, b), span);
                }
                if self.infer.unify(self.types, left, right).is_err() {
                    let (l, r) = (self.show(left), self.show(right));
                    let diagnostic =
                        Diagnostic::error("E0001", format!("mismatched types: `{l}` {} `{r}`", op.as_str()))
                            .primary(b.span, format!("expected `{l}`, found `{r}`"))
                            .secondary(a.span, format!("this is `{l}`"))
                            .note("arithmetic needs both operands of the same type; convert with `as`");
                    self.diagnostics.push(diagnostic);
                    return self.env.common.err;
                }
                let bitwise = matches!(op, BitAnd | BitOr | BitXor);
                let r = self.infer.resolve(self.types, left);
                let ok = match self.types.kind(r) {
                    TyKind::IntVar(_) | TyKind::Err => true,
                    TyKind::FloatVar(_) => !bitwise,
                    TyKind::Prim(p) if p.is_integer() => true,
                    TyKind::Prim(p) if p.is_float() => !bitwise,
                    TyKind::Prim(Prim::Bool) => bitwise,
                    TyKind::Param(_) => self.param_has_num(r),
                    _ => false,
                };
                if !ok {
                    return self.operator_error(op.as_str(), left, span);
                }
                left
            }
        }
    }

    fn is_integer(&mut self, ty: Ty) -> bool {
        let r = self.infer.resolve(self.types, ty);
        matches!(self.types.kind(r), TyKind::IntVar(_) | TyKind::Err)
            || matches!(self.types.kind(r), TyKind::Prim(p) if p.is_integer())
    }

    fn param_has_num(&self, ty: Ty) -> bool {
        let TyKind::Param(name) = self.types.kind(ty) else {
            return false;
        };
        self.generics
            .iter()
            .filter(|g| g.name == *name)
            .flat_map(|g| g.bounds.iter())
            .any(|b| Some(b.trait_) == self.env.lang.num)
    }

    /// `==` needs a primitive other than `Unit`, or `Eq`; ordering needs a
    /// primitive other than `Bool`/`Unit`, or `Ord` (PRIM-TRAIT-001).
    fn check_comparison(&mut self, op: BinOp, ty: Ty, span: Span) {
        let ordered = !matches!(op, BinOp::Eq | BinOp::Ne);
        let r = self.infer.resolve(self.types, ty);
        let kind = self.types.kind(r).clone();
        let deref = match kind {
            TyKind::Ref { ty, .. } => self.types.kind(self.infer.resolve(self.types, ty)).clone(),
            other => other,
        };
        let ok = match deref {
            TyKind::IntVar(_) | TyKind::FloatVar(_) | TyKind::Err | TyKind::Var(_) => true,
            TyKind::Prim(Prim::Unit) => false,
            TyKind::Prim(Prim::Bool) => !ordered,
            TyKind::Prim(_) => true,
            _ => {
                let trait_ = if ordered { self.env.lang.ord } else { self.env.lang.eq };
                if let Some(trait_) = trait_ {
                    self.oblige(ty, trait_, span);
                }
                return;
            }
        };
        if !ok {
            self.operator_error(op.as_str(), ty, span);
        }
    }

    fn assign(&mut self, op: Option<BinOp>, target: &ast::Expr, value: &ast::Expr, span: Span) -> Ty {
        let local = match &target.kind {
            ExprKind::Path(path) => match self.path_res(path).map(|r| r.res) {
                Some(Res::Local(id)) if op.is_none() => Some(id),
                _ => None,
            },
            _ => None,
        };
        let target_ty = match local {
            Some(id) => {
                self.note_capture(id);
                let ty = self.local_ty(id);
                self.record(target.span, ty);
                ty
            }
            None => self.expr(target, None),
        };
        let first_init = match local {
            Some(id) => {
                let found = self.expr(value, Some(target_ty));
                self.coerce(found, target_ty, value.span, None);
                self.assign_local(id, target.span)
            }
            None => false,
        };
        if local.is_some() {
            if !first_init {
                self.check_mutable_place(target, "assign to");
            }
            return self.env.common.unit;
        }
        self.check_mutable_place(target, "assign to");
        match op {
            None => {
                let found = self.expr(value, Some(target_ty));
                self.coerce(found, target_ty, value.span, None);
            }
            Some(op) => {
                let value_ty = self.expr(value, Some(target_ty));
                let numeric_same = !matches!(op, BinOp::Shl | BinOp::Shr | BinOp::Pow);
                if numeric_same {
                    self.coerce(value_ty, target_ty, value.span, None);
                }
                let r = self.infer.resolve(self.types, target_ty);
                let ok = match self.types.kind(r) {
                    TyKind::IntVar(_) | TyKind::Err => true,
                    TyKind::FloatVar(_) => !matches!(
                        op,
                        BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr | BinOp::Pow
                    ),
                    TyKind::Prim(p) if p.is_integer() => true,
                    TyKind::Prim(p) if p.is_float() => !matches!(
                        op,
                        BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr | BinOp::Pow
                    ),
                    TyKind::Prim(Prim::Bool) => matches!(op, BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor),
                    TyKind::Param(_) => self.param_has_num(r),
                    _ => false,
                };
                if !ok {
                    self.operator_error(&format!("{}=", op.as_str()), target_ty, span);
                }
            }
        }
        self.env.common.unit
    }

    /// A place that is assigned or mutably borrowed must be mutable: a
    /// `mut` local, a field or element of one, or reached through `&mut`.
    pub(crate) fn check_mutable_place(&mut self, place: &ast::Expr, action: &str) {
        match &place.kind {
            ExprKind::Paren(inner) => self.check_mutable_place(inner, action),
            ExprKind::Path(path) => {
                let Some(Res::Local(id)) = self.path_res(path).map(|p| p.res) else {
                    if matches!(self.path_res(path).map(|p| p.res), Some(Res::Def(_))) {
                        let diagnostic = Diagnostic::error("E0400", format!("cannot {action} an item"))
                            .primary(place.span, "not a variable");
                        self.diagnostics.push(diagnostic);
                    }
                    return;
                };
                let local = &self.env.res.locals[id as usize];
                if !local.mutable {
                    let (name, decl) = (local.name, local.span);
                    if self.actor_field(name).is_some() {
                        return self.immutable_actor_field(name, place.span, decl, action);
                    }
                    let diagnostic = Diagnostic::error("E0400", format!("cannot {action} immutable variable `{name}`"))
                        .primary(place.span, format!("cannot {action} this"))
                        .secondary(decl, format!("declared here; write `mut {name}` to allow it"));
                    self.diagnostics.push(diagnostic);
                }
            }
            // `self.field` in a handler: the field's own `mut` decides.
            ExprKind::Field(base, name) if self.is_actor_self(base) => {
                if let Some((false, decl)) = self.actor_field(name.name) {
                    self.immutable_actor_field(name.name, place.span, decl, action);
                }
            }
            ExprKind::Field(base, _) | ExprKind::TupleField(base, _, _) | ExprKind::Index(base, _) => {
                let base_ty = self.expr_type_of(base);
                match base_ty.map(|t| self.types.kind(self.infer.resolve(self.types, t)).clone()) {
                    Some(TyKind::Ref { mutable: true, .. }) => {}
                    Some(TyKind::Adt(def, _)) if Some(def) == self.env.lang.gc_ref_mut => {}
                    Some(TyKind::Adt(def, _)) if Some(def) == self.env.lang.gc_ref => {
                        self.through_gc_ref(place, action)
                    }
                    Some(TyKind::Ref { mutable: false, .. }) => {
                        let diagnostic = Diagnostic::error(
                            "E0400",
                            format!("cannot {} through a `&` reference", action.trim_end_matches(" to")),
                        )
                        .primary(place.span, "behind a shared reference")
                        .help("take a `&mut` reference instead");
                        self.diagnostics.push(diagnostic);
                    }
                    _ => self.check_mutable_place(base, action),
                }
            }
            ExprKind::Unary(UnOp::Deref, inner) => {
                let ty = self.expr_type_of(inner);
                if matches!(ty.map(|t| self.types.kind(self.infer.resolve(self.types, t)).clone()),
                    Some(TyKind::Adt(def, _)) if Some(def) == self.env.lang.gc_ref)
                {
                    return self.through_gc_ref(place, action);
                }
                if let Some(TyKind::Ref { mutable: false, .. }) =
                    ty.map(|t| self.types.kind(self.infer.resolve(self.types, t)).clone())
                {
                    let diagnostic = Diagnostic::error(
                        "E0400",
                        format!("cannot {} through a `&` reference", action.trim_end_matches(" to")),
                    )
                    .primary(place.span, "behind a shared reference")
                    .help("take a `&mut` reference instead");
                    self.diagnostics.push(diagnostic);
                }
            }
            _ => {}
        }
    }

    /// Mutation through a `Ref` (a shared borrow of a `Gc`).
    fn through_gc_ref(&mut self, place: &ast::Expr, action: &str) {
        let diagnostic = Diagnostic::error(
            "E0400",
            format!("cannot {} through a `Ref` (a shared borrow of a `Gc`)", action.trim_end_matches(" to")),
        )
        .primary(place.span, "behind a shared borrow")
        .help("borrow it with `borrow_mut()` instead");
        self.diagnostics.push(diagnostic);
    }

    /// Whether `e` is `self` inside an actor's handler.
    fn is_actor_self(&self, e: &ast::Expr) -> bool {
        let ExprKind::Path(path) = &e.kind else { return false };
        path.segments.len() == 1 && path.segments[0].name.as_str() == "self" && self.actor_fields().is_some()
    }

    /// The fields of the actor whose handler is being checked.
    fn actor_fields(&self) -> Option<&'a [(crate::items::FieldDef, bool, bool)]> {
        let self_ty = self.self_ty?;
        let TyKind::Adt(def, _) = *self.types.kind(self_ty) else { return None };
        match &self.env.items.adts.get(&def)?.kind {
            crate::items::AdtKind::Actor { fields, .. } => Some(fields),
            _ => None,
        }
    }

    /// Whether the current actor has a field `name` (and if it is `mut`).
    fn actor_field(&self, name: Symbol) -> Option<(bool, Span)> {
        self.actor_fields()?.iter().find(|(f, _, _)| f.name == name).map(|(f, mutable, _)| (*mutable, f.span))
    }

    fn immutable_actor_field(&mut self, name: Symbol, span: Span, decl: Span, action: &str) {
        let diagnostic =
            Diagnostic::error("E0400", format!("cannot {action} actor field `{name}`: it is not declared `mut`"))
                .primary(span, format!("cannot {action} this"))
                .secondary(decl, format!("declared here; write `mut {name}` to allow it"));
        self.diagnostics.push(diagnostic);
    }

    /// Whether a scrutinee place is reached through a reference (`*r`,
    /// or a field or element of a place behind one).
    fn behind_ref(&mut self, e: &ast::Expr) -> bool {
        match &e.kind {
            ExprKind::Paren(inner) => self.behind_ref(inner),
            ExprKind::Unary(ast::UnOp::Deref, _) => true,
            ExprKind::Field(base, _) | ExprKind::TupleField(base, _, _) | ExprKind::Index(base, _) => {
                let is_ref = self.expr_type_of(base).is_some_and(|t| {
                    let t = self.infer.resolve(self.types, t);
                    matches!(self.types.kind(t), TyKind::Ref { .. })
                });
                is_ref || self.behind_ref(base)
            }
            _ => false,
        }
    }

    /// The type already recorded for an expression.
    pub(crate) fn expr_type_of(&self, e: &ast::Expr) -> Option<Ty> {
        self.expr_types.iter().rev().find(|(span, _)| *span == e.span).map(|&(_, ty)| ty)
    }

    fn cast(&mut self, value: &ast::Expr, ty: &ast::Type, span: Span) -> Ty {
        let target = self.lower_ty(ty);
        let found = self.expr(value, None);
        let (f, t) = (self.infer.resolve(self.types, found), self.infer.resolve(self.types, target));
        let numeric = |cx: &Self, x: Ty| match cx.types.kind(x) {
            TyKind::Prim(p) => p.is_numeric(),
            TyKind::IntVar(_) | TyKind::FloatVar(_) | TyKind::Err => true,
            _ => false,
        };
        if !(numeric(self, f) && numeric(self, t)) {
            let (fs, ts) = (self.show(found), self.show(target));
            let diagnostic = Diagnostic::error("E0015", format!("invalid cast from `{fs}` to `{ts}`"))
                .primary(span, "`as` converts only between numeric types")
                .note("TYPE-CAST-001: `as` is legal only between numeric primitive types");
            self.diagnostics.push(diagnostic);
            return self.env.common.err;
        }
        target
    }

    // ----- aggregates -----

    fn field(&mut self, base: &ast::Expr, name: ast::Ident) -> Ty {
        let base_ty = self.expr(base, None);
        let mut ty = self.infer.resolve(self.types, base_ty);
        for _ in 0..16 {
            match self.types.kind(ty).clone() {
                TyKind::Ref { ty: inner, .. } => ty = self.infer.resolve(self.types, inner),
                TyKind::Adt(def, args) if self.env.lang.is_deref(def) => ty = self.infer.resolve(self.types, args[0]),
                _ => break,
            }
        }
        match self.types.kind(ty).clone() {
            TyKind::Adt(def, args) => {
                if let Some(adt) = self.env.items.adts.get(&def) {
                    let fields = match &adt.kind {
                        AdtKind::Struct(fields) => Some(fields.clone()),
                        AdtKind::Actor { fields, .. } => Some(fields.iter().map(|(f, _, _)| f.clone()).collect()),
                        AdtKind::Enum(_) => None,
                    };
                    if let Some(field) = fields.iter().flatten().find(|f| f.name == name.name) {
                        let map = adt.generics.iter().map(|g| g.name).zip(args.iter().copied()).collect();
                        return crate::items::subst(self.types, field.ty, &map);
                    }
                }
                self.no_field(ty, name)
            }
            TyKind::Err => ty,
            _ => self.no_field(ty, name),
        }
    }

    fn no_field(&mut self, ty: Ty, name: ast::Ident) -> Ty {
        let t = self.show(ty);
        let diagnostic = Diagnostic::error("E0011", format!("no field `{}` on type `{t}`", name.name))
            .primary(name.span, "unknown field");
        self.diagnostics.push(diagnostic);
        self.env.common.err
    }

    fn tuple_field(&mut self, base: &ast::Expr, index: u32, span: Span) -> Ty {
        let base_ty = self.expr(base, None);
        let mut ty = self.infer.resolve(self.types, base_ty);
        while let TyKind::Ref { ty: inner, .. } = *self.types.kind(ty) {
            ty = self.infer.resolve(self.types, inner);
        }
        match self.types.kind(ty).clone() {
            TyKind::Tuple(items) => match items.get(index as usize) {
                Some(&item) => item,
                None => {
                    let t = self.show(ty);
                    let diagnostic = Diagnostic::error("E0011", format!("no field `{index}` on tuple `{t}`")).primary(
                        span,
                        format!("the tuple has {} element{}", items.len(), if items.len() == 1 { "" } else { "s" }),
                    );
                    self.diagnostics.push(diagnostic);
                    self.env.common.err
                }
            },
            TyKind::Err => ty,
            _ => {
                let t = self.show(ty);
                let diagnostic = Diagnostic::error("E0011", format!("no field `{index}` on type `{t}`"))
                    .primary(span, "not a tuple");
                self.diagnostics.push(diagnostic);
                self.env.common.err
            }
        }
    }

    fn index(&mut self, base: &ast::Expr, index: &ast::Expr, span: Span) -> Ty {
        let base_ty = self.expr(base, None);
        let index_ty = self.expr(index, None);
        let idx = self.infer.resolve(self.types, index_ty);
        let is_range = matches!(self.types.kind(idx), TyKind::Adt(d, _) if self.env.lang.range == Some(*d) || self.env.lang.range_inclusive == Some(*d));
        if !is_range && !self.is_integer(idx) {
            let t = self.show(index_ty);
            let diagnostic =
                Diagnostic::error("E0001", format!("mismatched types: expected an integer index, found `{t}`"))
                    .primary(index.span, "not an integer or range");
            self.diagnostics.push(diagnostic);
        }
        let mut ty = self.infer.resolve(self.types, base_ty);
        while let TyKind::Ref { ty: inner, .. } = *self.types.kind(ty) {
            ty = self.infer.resolve(self.types, inner);
        }
        let elem = match self.types.kind(ty).clone() {
            TyKind::Array(elem, n) => {
                if let Some(value) = self.const_int(index, 0) {
                    if value >= n as i128 {
                        let diagnostic = Diagnostic::error(
                            "E0007",
                            format!("index {value} is out of bounds for an array of length {n}"),
                        )
                        .primary(index.span, "out of bounds");
                        self.diagnostics.push(diagnostic);
                    }
                }
                elem
            }
            TyKind::Slice(elem) => elem,
            TyKind::Adt(def, args) if self.env.lang.vec == Some(def) => args[0],
            // A tensor's `Shape` is indexed by axis.
            TyKind::Adt(def, _) if self.env.lang.shape == Some(def) && !is_range => return self.env.common.i64,
            TyKind::Prim(Prim::Str) if is_range => return self.env.common.str,
            TyKind::Adt(def, _) if self.env.lang.string == Some(def) && is_range => return self.env.common.str,
            TyKind::Err => return ty,
            _ => {
                let t = self.show(ty);
                let diagnostic = Diagnostic::error("E0017", format!("cannot index into a value of type `{t}`"))
                    .primary(span, "not indexable");
                self.diagnostics.push(diagnostic);
                return self.env.common.err;
            }
        };
        if is_range {
            self.types.intern(TyKind::Slice(elem))
        } else {
            elem
        }
    }

    fn struct_literal(
        &mut self,
        path: &ast::Path,
        fields: &[ast::FieldInit],
        base: Option<&ast::Expr>,
        span: Span,
    ) -> Ty {
        let Some(resolved) = self.path_res(path) else {
            return self.env.common.err;
        };
        let (ty, field_defs) = match resolved.res {
            Res::Def(def) if self.env.defs.def(def).kind == DefKind::Struct => {
                let (ty, map) = self.fresh_adt(def, None);
                let Some(AdtKind::Struct(defs)) = self.env.items.adts.get(&def).map(|a| &a.kind) else {
                    return self.env.common.err;
                };
                (
                    ty,
                    defs.iter()
                        .map(|f| (f.name, crate::items::subst(self.types, f.ty, &map), f.span))
                        .collect::<Vec<_>>(),
                )
            }
            Res::Def(def) if self.env.defs.def(def).kind == DefKind::Variant => {
                let Some(&(enum_def, index)) = self.env.items.variants.get(&def) else {
                    return self.env.common.err;
                };
                let (ty, map) = self.fresh_adt(enum_def, None);
                let Some(AdtKind::Enum(variants)) = self.env.items.adts.get(&enum_def).map(|a| &a.kind) else {
                    return self.env.common.err;
                };
                let VariantShape::Struct(defs) = &variants[index].shape else {
                    let diagnostic =
                        Diagnostic::error("E0011", format!("variant `{}` has no named fields", variants[index].name))
                            .primary(path.span, "not a struct-like variant");
                    self.diagnostics.push(diagnostic);
                    return self.env.common.err;
                };
                (ty, defs.iter().map(|f| (f.name, crate::items::subst(self.types, f.ty, &map), f.span)).collect())
            }
            Res::SelfTy => match self.self_ty.map(|t| self.types.kind(t).clone()) {
                Some(TyKind::Adt(def, args)) => {
                    let ty = self.types.intern(TyKind::Adt(def, args.clone()));
                    let Some(adt) = self.env.items.adts.get(&def) else {
                        return self.env.common.err;
                    };
                    let AdtKind::Struct(defs) = &adt.kind else {
                        return self.env.common.err;
                    };
                    let map = adt.generics.iter().map(|g| g.name).zip(args).collect();
                    (ty, defs.iter().map(|f| (f.name, crate::items::subst(self.types, f.ty, &map), f.span)).collect())
                }
                _ => return self.env.common.err,
            },
            Res::Err => return self.env.common.err,
            _ => {
                let diagnostic = Diagnostic::error("E0011", "expected a struct or struct-like variant")
                    .primary(path.span, "not a struct");
                self.diagnostics.push(diagnostic);
                return self.env.common.err;
            }
        };
        let mut seen = Vec::new();
        for field in fields {
            match field_defs.iter().find(|(name, _, _)| *name == field.name.name) {
                Some(&(_, fty, _)) => {
                    if seen.contains(&field.name.name) {
                        let diagnostic =
                            Diagnostic::error("E0011", format!("field `{}` is given twice", field.name.name))
                                .primary(field.name.span, "given again here");
                        self.diagnostics.push(diagnostic);
                    }
                    seen.push(field.name.name);
                    let found = self.expr(&field.value, Some(fty));
                    self.coerce(found, fty, field.value.span, None);
                }
                None => {
                    self.expr(&field.value, None);
                    let t = self.show(ty);
                    let diagnostic =
                        Diagnostic::error("E0011", format!("`{t}` has no field named `{}`", field.name.name))
                            .primary(field.name.span, "unknown field");
                    self.diagnostics.push(diagnostic);
                }
            }
        }
        if let Some(base) = base {
            let found = self.expr(base, Some(ty));
            self.coerce(found, ty, base.span, None);
        } else {
            let missing: Vec<String> =
                field_defs.iter().filter(|(n, _, _)| !seen.contains(n)).map(|(n, _, _)| format!("`{n}`")).collect();
            if !missing.is_empty() {
                let diagnostic = Diagnostic::error(
                    "E0012",
                    format!(
                        "missing field{} {} in struct literal",
                        if missing.len() == 1 { "" } else { "s" },
                        missing.join(", ")
                    ),
                )
                .primary(span, "every field needs a value");
                self.diagnostics.push(diagnostic);
            }
        }
        ty
    }

    fn try_expr(&mut self, inner: &ast::Expr, span: Span) -> Ty {
        let ty = self.expr(inner, None);
        let r = self.infer.resolve(self.types, ty);
        let ret = self.infer.resolve(self.types, self.ret);
        let (lang_option, lang_result) = (self.env.lang.option, self.env.lang.result);
        let (TyKind::Adt(def, args), ret_kind) = (self.types.kind(r).clone(), self.types.kind(ret).clone()) else {
            if !self.is_err(r) {
                let t = self.show(ty);
                let diagnostic = Diagnostic::error("E0006", format!("`?` cannot be applied to `{t}`"))
                    .primary(span, "needs an `Option` or a `Result`");
                self.diagnostics.push(diagnostic);
            }
            return self.env.common.err;
        };
        let ok = match ret_kind {
            TyKind::Adt(rdef, rargs) if Some(def) == lang_option && Some(rdef) == lang_option => {
                let _ = rargs;
                true
            }
            TyKind::Adt(rdef, rargs) if Some(def) == lang_result && Some(rdef) == lang_result => {
                // Error types must match exactly: `?` converts nothing.
                self.infer.unify(self.types, args[1], rargs[1]).is_ok()
            }
            TyKind::Err => true,
            _ => false,
        };
        if !ok && (Some(def) == lang_option || Some(def) == lang_result) {
            let (t, rt) = (self.show(ty), self.show(self.ret));
            let diagnostic = Diagnostic::error("E0006", format!("`?` on `{t}` in a function returning `{rt}`"))
                .primary(span, "cannot propagate this here")
                .note("`?` needs the function to return `Option` (for an `Option`) or a `Result` with the same error type; it converts nothing");
            self.diagnostics.push(diagnostic);
            return self.env.common.err;
        }
        if Some(def) == lang_option || Some(def) == lang_result {
            return args[0];
        }
        let t = self.show(ty);
        let diagnostic = Diagnostic::error("E0006", format!("`?` cannot be applied to `{t}`"))
            .primary(span, "needs an `Option` or a `Result`");
        self.diagnostics.push(diagnostic);
        self.env.common.err
    }

    fn match_expr(&mut self, scrutinee: &ast::Expr, arms: &[ast::Arm], span: Span, expected: Option<Ty>) -> Ty {
        let scrutinee_ty = self.expr(scrutinee, None);
        let outer = std::mem::replace(&mut self.diverges, false);
        let scrutinee_diverges = self.diverges;
        let mut result: Option<Ty> = None;
        let mut all_diverge = true;
        let mut pats = Vec::with_capacity(arms.len());
        let errors_before = self.diagnostics.len();
        self.pattern_mismatch_reported = false;
        let before = self.init.clone();
        let mut joined: Option<super::InitState> = None;
        // PAT-BIND-001: matched through a reference, a non-`Copy`
        // component is bound as `&C`.
        let by_ref = self.behind_ref(scrutinee);
        for arm in arms {
            self.init = before.clone();
            self.diverges = false;
            self.bind_by_ref = by_ref;
            let pat = self.pattern(&arm.pattern, scrutinee_ty);
            self.bind_by_ref = false;
            pats.push((pat, arm.pattern.span));
            let ty = self.expr(&arm.body, expected.or(result));
            all_diverge &= self.diverges;
            if !self.diverges {
                let state = std::mem::take(&mut self.init);
                joined = Some(match joined {
                    None => state,
                    Some(previous) => super::InitState::join(previous, state),
                });
            }
            result = Some(match result {
                None => ty,
                Some(previous) => self.join(previous, ty, arm.body.span),
            });
        }
        self.init = joined.unwrap_or(before);
        // Coverage of patterns that did not type-check would only mislead.
        let pattern_errors =
            self.diagnostics[errors_before..].iter().any(|d| d.severity == stark_syntax::Severity::Error);
        if !pattern_errors {
            self.check_exhaustive(scrutinee_ty, &pats, span);
        }
        self.diverges = outer || scrutinee_diverges || (all_diverge && !arms.is_empty()) || arms.is_empty();
        result.unwrap_or(self.env.common.never)
    }
}
