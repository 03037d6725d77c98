//! Control flow (`match`, loops) and nested bodies (closures, spawned blocks, `select`).

use super::place::Place;
use super::state::{LoanId, State};
use super::{Access, LoopFrame, Owner, Prov};
use crate::defs::Res;
use crate::ty::{Ty, TyKind};
use rustc_hash::FxHashSet;
use stark_syntax::ast::ReceiverKind;
use stark_syntax::ast::{self, ExprKind, PatternKind, StmtKind, UnOp};
use stark_syntax::Span;

/// The most times a loop body is re-checked on the way to a fixed point.
const LOOP_ROUNDS: usize = 4;

impl Owner<'_, '_, '_> {
    /// `match`: bindings move out of an owned scrutinee place, or borrow
    /// when it is reached through a reference (PAT-BIND-001).
    pub(super) fn match_expr(&mut self, e: &ast::Expr, scrutinee: &ast::Expr, arms: &[ast::Arm]) -> Prov {
        let ty = self.ty(scrutinee);
        let moves = arms.iter().any(|a| self.pattern_moves(&a.pattern));
        let binds = arms.iter().any(|a| {
            let mut ids = Vec::new();
            self.bindings(&a.pattern, &mut ids);
            !ids.is_empty()
        });
        // The scrutinee is a full expression: its own borrows end with it;
        // only the bindings of an arm keep what they borrow, for that arm.
        let mark = self.temps.len();
        let prov = match self.place(scrutinee) {
            Some(place) if self.is_ref(ty) => self.use_place(place, ty, scrutinee.span),
            // PAT-BIND-001: bindings through a reference borrow the place.
            Some(place) if binds && place.through_deref() => self.borrow_place(place, false, scrutinee.span),
            Some(place) if moves => {
                self.check_drop_parent(scrutinee);
                self.move_out(place, scrutinee.span, false)
            }
            Some(place) => {
                self.access(&place, Access::Read, scrutinee.span);
                self.carried(&place)
            }
            None => self.expr(scrutinee),
        };
        self.temps.truncate(mark);
        let before = self.state.clone();
        let mut out = State::unreachable();
        let mut value = Vec::new();
        for arm in arms {
            self.state = before.clone();
            self.scopes.push(Vec::new());
            self.bind_pattern(&arm.pattern, &prov);
            let p = self.expr(&arm.body);
            self.exit_scope(arm.span, &p, Some(arm.body.span));
            value.extend(p);
            out = State::join(out, std::mem::replace(&mut self.state, State::unreachable()));
        }
        self.state = if arms.is_empty() { State::unreachable() } else { out };
        self.keep_if_carrying(e, value)
    }

    /// Whether a pattern binds a non-`Copy` value by value.
    pub(super) fn pattern_moves(&mut self, p: &ast::Pattern) -> bool {
        let mut ids = Vec::new();
        self.bindings(p, &mut ids);
        ids.into_iter().any(|id| {
            let ty = self.local_ty(id);
            !self.is_copy(ty)
        })
    }

    pub(super) fn bindings(&self, p: &ast::Pattern, out: &mut Vec<u32>) {
        match &p.kind {
            PatternKind::Ident(ident) => out.extend(self.cx.env.local_at.get(&ident.span).copied()),
            PatternKind::TupleStruct(_, items) | PatternKind::Tuple(items) | PatternKind::Array(items) => {
                items.iter().for_each(|i| self.bindings(i, out))
            }
            PatternKind::Struct(_, fields) => fields.iter().for_each(|f| self.bindings(&f.pattern, out)),
            _ => {}
        }
    }

    pub(super) fn bind_pattern(&mut self, p: &ast::Pattern, prov: &[LoanId]) {
        let mut ids = Vec::new();
        self.bindings(p, &mut ids);
        for id in ids {
            self.bind(id, prov.to_vec());
        }
    }

    /// `loop`, `while` (with `cond`) or the body of a `for` (binding `var`
    /// to what each item carries), run to a fixed point.
    pub(super) fn run_loop(
        &mut self,
        cond: Option<&ast::Expr>,
        body: &ast::Block,
        var: Option<(u32, &[LoanId])>,
    ) -> Prov {
        let depth = self.scopes.len();
        let mut head = self.state.clone();
        let mut exit = State::unreachable();
        let mut values = Vec::new();
        for _ in 0..LOOP_ROUNDS {
            self.state = head.clone();
            self.loops.push(LoopFrame { depth, breaks: None, continues: None, values: Vec::new() });
            let mut after_cond = None;
            if let Some(cond) = cond {
                let mark = self.temps.len();
                self.expr(cond);
                self.temps.truncate(mark);
                after_cond = Some(self.state.clone());
            }
            self.scopes.push(Vec::new());
            if let Some((id, prov)) = var {
                self.bind(id, prov.to_vec());
            }
            self.block(body, false);
            self.exit_scope(body.span, &[], None);
            let frame = self.loops.pop().expect("pushed above");
            values = frame.values.clone();
            let back = State::join_opt(frame.continues, std::mem::replace(&mut self.state, State::unreachable()));
            // A `loop` leaves only by `break`; `while` also when its
            // condition fails; `for` also when the items run out.
            exit = match (cond, var) {
                (Some(_), _) => State::join_opt(frame.breaks, after_cond.unwrap_or_else(State::unreachable)),
                (None, Some(_)) => State::join_opt(frame.breaks, head.clone()),
                (None, None) => frame.breaks.unwrap_or_else(State::unreachable),
            };
            let next = State::join(head.clone(), back);
            if next == head {
                break;
            }
            head = next;
        }
        self.state = exit;
        values
    }

    /// `for var in iter { body }`: the iterated value (a borrow, for
    /// `&v` or `v.iter()`) is held for the whole loop.
    pub(super) fn for_loop(&mut self, var: &ast::Ident, iter: &ast::Expr, body: &ast::Block) {
        let mark = self.temps.len();
        let first = self.loans.len() as LoanId;
        let prov = self.expr(iter);
        // Only the borrows the iteration itself makes are the loop's.
        for &l in prov.iter().filter(|&&l| l >= first) {
            self.loans[l as usize].iteration = true;
        }
        self.temps.truncate(mark);
        self.temps.extend(&prov);
        let id = self.cx.env.local_at.get(&var.span).copied();
        match id {
            Some(id) => self.run_loop(None, body, Some((id, &prov))),
            None => self.run_loop(None, body, Some((u32::MAX, &prov))),
        };
        self.temps.truncate(mark);
    }

    /// A closure: captured locals are moved in (`move`) or borrowed; its
    /// body is checked on its own.
    pub(super) fn closure(
        &mut self,
        e: &ast::Expr,
        is_move: bool,
        params: &[ast::ClosureParam],
        body: &ast::Expr,
    ) -> Prov {
        let captures = self.results.captures.get(&e.span).cloned().unwrap_or_default();
        let mut prov = Vec::new();
        for c in captures {
            let place = Place::local(c.local);
            if c.by_move || is_move {
                let ty = self.local_ty(c.local);
                prov.extend(self.use_place(place, ty, e.span));
            } else {
                let mutable = captures_mutably(body, c.local, self);
                prov.extend(self.borrow_place(place, mutable, e.span));
            }
        }
        let params: Vec<(u32, Span)> =
            params.iter().filter_map(|p| self.cx.env.local_at.get(&p.name.span).map(|&id| (id, p.name.span))).collect();
        let ret = match self.cx.types.kind(self.ty(e)) {
            TyKind::Fn(_, ret) => Some(*ret),
            _ => None,
        };
        let captured =
            self.results.captures.get(&e.span).map_or_else(Default::default, |cs| cs.iter().map(|c| c.local).collect());
        self.nested(body.span, ret, captured, |o| {
            for (id, span) in params {
                o.param(id, span);
            }
            let value = o.expr(body);
            o.check_return(&value, body.span);
        });
        prov
    }

    /// `spawn { .. }` moves what it uses (except `shared` zones), and `spawn
    /// call(..)` its arguments; neither may carry a borrow of this task.
    pub(super) fn spawn(&mut self, e: &ast::Expr, inner: &ast::Expr) {
        match &inner.kind {
            ExprKind::Block(block) => {
                let captures = self.results.captures.get(&e.span).cloned().unwrap_or_default();
                for c in captures {
                    if self.zones.contains(&c.local) {
                        continue;
                    }
                    let ty = self.local_ty(c.local);
                    let prov = self.use_place(Place::local(c.local), ty, e.span);
                    let name = self.name(c.local);
                    self.check_escape(&prov, e.span, e.span, &format!("`{name}`, captured by the spawned block,"));
                }
                let ret = match self.cx.types.kind(self.ty(e)) {
                    TyKind::Adt(_, args) if !args.is_empty() => Some(args[0]),
                    _ => None,
                };
                self.nested(block.span, ret, Default::default(), |o| {
                    o.block(block, true);
                });
            }
            ExprKind::Call(callee, args) => {
                self.call(inner, callee, args, Some(e.span));
            }
            ExprKind::MethodCall { receiver, args, .. } => {
                self.method_call(inner, receiver, args, Some(e.span));
            }
            _ => {
                let prov = self.expr(inner);
                self.check_escape(&prov, inner.span, e.span, "a spawned future");
            }
        }
    }

    /// `select`: every operation is started, then one arm runs.
    pub(super) fn select(&mut self, arms: &[ast::SelectArm]) -> Prov {
        let provs: Vec<Prov> = arms.iter().map(|a| self.expr(&a.op)).collect();
        let before = self.state.clone();
        let mut out = State::unreachable();
        for (arm, prov) in arms.iter().zip(provs) {
            self.state = before.clone();
            self.scopes.push(Vec::new());
            self.bind_pattern(&arm.pattern, &prov);
            self.expr(&arm.body);
            self.exit_scope(arm.span, &[], None);
            out = State::join(out, std::mem::replace(&mut self.state, State::unreachable()));
        }
        self.state = if arms.is_empty() { before } else { out };
        Vec::new()
    }

    /// Checks a nested body (closure, spawned block) from a fresh state:
    /// it runs later, and its own returns and loops are its own.
    /// Its `return`s and value give `ret`; it may not move `captured` out.
    pub(super) fn nested(
        &mut self,
        span: Span,
        ret: Option<Ty>,
        captured: FxHashSet<u32>,
        run: impl FnOnce(&mut Self),
    ) {
        let state = std::mem::replace(&mut self.state, State::start());
        let temps = std::mem::take(&mut self.temps);
        let scopes = std::mem::take(&mut self.scopes);
        let loops = std::mem::take(&mut self.loops);
        let ret = std::mem::replace(&mut self.ret, ret);
        let captured = std::mem::replace(&mut self.captured, captured);
        let actor_handler = std::mem::replace(&mut self.actor_handler, false);
        self.scopes.push(Vec::new());
        run(self);
        self.exit_scope(span, &[], None);
        self.state = state;
        self.temps = temps;
        self.scopes = scopes;
        self.loops = loops;
        self.ret = ret;
        self.captured = captured;
        self.actor_handler = actor_handler;
    }
}

/// Whether a closure body `e` needs its capture `id` mutably: it assigns
/// into it, borrows it with `&mut`, calls a `&mut self` method on it, or
/// the capture is itself a `&mut` reference.
pub(super) fn captures_mutably(e: &ast::Expr, id: u32, o: &Owner<'_, '_, '_>) -> bool {
    if matches!(o.cx.types.kind(o.local_ty(id)), TyKind::Ref { mutable: true, .. }) {
        return true;
    }
    let rooted = |t: &ast::Expr| root_local(t, o) == Some(id);
    any_expr(e, &mut |x| match &x.kind {
        ExprKind::Assign { target, .. } => rooted(target),
        ExprKind::Unary(UnOp::RefMut, inner) => rooted(inner),
        ExprKind::MethodCall { receiver, .. } => {
            let def = o.results.instances.get(&x.span).map(|i| i.def);
            let kind = def.and_then(|d| o.cx.env.items.fns.get(&d)).and_then(|s| s.receiver);
            kind == Some(ReceiverKind::RefMut) && rooted(receiver)
        }
        _ => false,
    })
}

/// The local a place expression starts at (`x` of `x.f[i]`).
fn root_local(e: &ast::Expr, o: &Owner<'_, '_, '_>) -> Option<u32> {
    match &e.kind {
        ExprKind::Path(path) => match o.cx.env.res.paths.get(&path.span).map(|p| p.res) {
            Some(Res::Local(id)) => Some(id),
            _ => None,
        },
        ExprKind::Field(base, _)
        | ExprKind::TupleField(base, ..)
        | ExprKind::Index(base, _)
        | ExprKind::Paren(base) => root_local(base, o),
        ExprKind::Unary(UnOp::Deref, base) => root_local(base, o),
        _ => None,
    }
}

/// Whether `f` holds for `e` or any expression inside it.
fn any_expr(e: &ast::Expr, f: &mut dyn FnMut(&ast::Expr) -> bool) -> bool {
    if f(e) {
        return true;
    }
    let block = |b: &ast::Block, f: &mut dyn FnMut(&ast::Expr) -> bool| {
        b.stmts.iter().any(|s| match &s.kind {
            StmtKind::Expr { expr, .. } => any_expr(expr, f),
            StmtKind::Let(l) => l.init.as_ref().is_some_and(|i| any_expr(i, f)),
            StmtKind::Return(Some(v)) | StmtKind::Break(Some(v)) => any_expr(v, f),
            _ => false,
        }) || b.tail.as_ref().is_some_and(|t| any_expr(t, f))
    };
    match &e.kind {
        ExprKind::Unary(_, a)
        | ExprKind::Paren(a)
        | ExprKind::Cast(a, _)
        | ExprKind::Field(a, _)
        | ExprKind::TupleField(a, ..)
        | ExprKind::Try(a)
        | ExprKind::Await(a)
        | ExprKind::Spawn(a) => any_expr(a, f),
        ExprKind::Binary(_, a, b)
        | ExprKind::Range { start: a, end: b, .. }
        | ExprKind::Index(a, b)
        | ExprKind::ArrayRepeat(a, b)
        | ExprKind::Assign { target: a, value: b, .. } => any_expr(a, f) || any_expr(b, f),
        ExprKind::Call(c, args) => any_expr(c, f) || args.iter().any(|a| any_expr(a, f)),
        ExprKind::MethodCall { receiver, args, .. } => any_expr(receiver, f) || args.iter().any(|a| any_expr(a, f)),
        ExprKind::Tuple(items) | ExprKind::Array(items) => items.iter().any(|a| any_expr(a, f)),
        ExprKind::Struct { fields, base, .. } => {
            fields.iter().any(|x| any_expr(&x.value, f)) || base.as_ref().is_some_and(|b| any_expr(b, f))
        }
        ExprKind::If { cond, then, else_ } => {
            any_expr(cond, f) || block(then, f) || else_.as_ref().is_some_and(|x| any_expr(x, f))
        }
        ExprKind::Match { scrutinee, arms } => any_expr(scrutinee, f) || arms.iter().any(|a| any_expr(&a.body, f)),
        ExprKind::Loop(b) | ExprKind::Block(b) => block(b, f),
        ExprKind::While { cond, body } => any_expr(cond, f) || block(body, f),
        ExprKind::For { iter, body, .. } => any_expr(iter, f) || block(body, f),
        ExprKind::Closure { body, .. } => any_expr(body, f),
        ExprKind::Select(arms) => arms.iter().any(|a| any_expr(&a.op, f) || any_expr(&a.body, f)),
        ExprKind::FormatStr(parts) => parts.iter().any(|p| match p {
            ast::FmtPart::Field { expr, .. } => any_expr(expr, f),
            ast::FmtPart::Text(_) => false,
        }),
        ExprKind::Lit(_) | ExprKind::Path(_) | ExprKind::Error => false,
    }
}
