//! Expressions in evaluation order, the places they name, and borrows stored into places.

use super::place::{Place, Proj, Root};
use super::state::{LoanId, State};
use super::{Access, Owner, Prov};
use crate::defs::Res;
use crate::ty::{Ty, TyKind};
use stark_syntax::ast::{self, BinOp, ExprKind, UnOp};
use stark_syntax::{Diagnostic, Span, Symbol};

fn is_comparison(op: BinOp) -> bool {
    matches!(op, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
}

impl Owner<'_, '_, '_> {
    /// Evaluates `e` for its value, giving the borrows the value carries.
    pub(super) fn expr(&mut self, e: &ast::Expr) -> Prov {
        match &e.kind {
            ExprKind::Lit(_) | ExprKind::Error => Vec::new(),
            ExprKind::FormatStr(parts) => {
                for part in parts {
                    if let ast::FmtPart::Field { expr, .. } = part {
                        self.inspect(expr);
                    }
                }
                Vec::new()
            }
            ExprKind::Path(_) | ExprKind::Field(..) | ExprKind::TupleField(..) | ExprKind::Index(..) => self.consume(e),
            ExprKind::Unary(UnOp::Deref, _) => self.consume(e),
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Unary(UnOp::Ref, inner) => self.borrow(inner, false, e.span),
            ExprKind::Unary(UnOp::RefMut, inner) => self.borrow(inner, true, e.span),
            ExprKind::Unary(_, inner) | ExprKind::Cast(inner, _) => {
                self.expr(inner);
                Vec::new()
            }
            ExprKind::Binary(op, a, b) if is_comparison(*op) => {
                self.inspect(a);
                self.inspect(b);
                Vec::new()
            }
            ExprKind::Binary(_, a, b) | ExprKind::Range { start: a, end: b, .. } => {
                let mut prov = self.expr(a);
                prov.extend(self.expr(b));
                self.keep_if_carrying(e, prov)
            }
            ExprKind::ArrayRepeat(value, count) => {
                let prov = self.expr(value);
                self.expr(count);
                self.keep_if_carrying(e, prov)
            }
            ExprKind::Assign { op, target, value } => {
                self.assign(op.is_some(), target, value);
                Vec::new()
            }
            ExprKind::Call(callee, args) => self.call(e, callee, args, None),
            ExprKind::MethodCall { receiver, args, .. } => self.method_call(e, receiver, args, None),
            ExprKind::Try(inner) | ExprKind::Await(inner) => {
                let prov = self.expr(inner);
                self.keep_if_carrying(e, prov)
            }
            ExprKind::Tuple(items) | ExprKind::Array(items) => {
                let prov = items.iter().flat_map(|i| self.expr(i)).collect();
                self.keep_if_carrying(e, prov)
            }
            ExprKind::Struct { fields, base, .. } => {
                let mut prov: Prov = fields.iter().flat_map(|f| self.expr(&f.value)).collect();
                // `..base` (the extension's struct update) consumes the whole
                // base: the fields written anew are dropped from it.
                if let Some(base) = base {
                    prov.extend(self.expr(base));
                }
                self.keep_if_carrying(e, prov)
            }
            ExprKind::If { cond, then, else_ } => {
                // The condition is a full expression: its borrows end with it.
                let mark = self.temps.len();
                self.expr(cond);
                self.temps.truncate(mark);
                let before = self.state.clone();
                let mut prov = self.block(then, false);
                let after_then = std::mem::replace(&mut self.state, before);
                if let Some(else_) = else_ {
                    prov.extend(self.expr(else_));
                }
                let after_else = std::mem::replace(&mut self.state, State::unreachable());
                self.state = State::join(after_then, after_else);
                self.keep_if_carrying(e, prov)
            }
            ExprKind::Match { scrutinee, arms } => self.match_expr(e, scrutinee, arms),
            ExprKind::Loop(body) => {
                let values = self.run_loop(None, body, None);
                self.keep_if_carrying(e, values)
            }
            ExprKind::While { cond, body } => {
                self.run_loop(Some(cond), body, None);
                Vec::new()
            }
            ExprKind::For { var, iter, body } => {
                self.for_loop(var, iter, body);
                Vec::new()
            }
            ExprKind::Block(b) => self.block(b, false),
            ExprKind::Closure { is_move, params, body, .. } => self.closure(e, *is_move, params, body),
            ExprKind::Spawn(inner) => {
                self.spawn(e, inner);
                Vec::new()
            }
            ExprKind::Select(arms) => self.select(arms),
        }
    }

    pub(super) fn keep_if_carrying(&self, e: &ast::Expr, prov: Prov) -> Prov {
        if self.carrying(self.ty(e)) {
            prov
        } else {
            Vec::new()
        }
    }

    /// An operand only looked at (compared, formatted): a place is read,
    /// not moved.
    pub(super) fn inspect(&mut self, e: &ast::Expr) {
        match self.place(e) {
            Some(place) => self.access(&place, Access::Read, e.span),
            None => {
                self.expr(e);
            }
        }
    }

    /// The value of a place expression (or of a projection of an rvalue).
    pub(super) fn consume(&mut self, e: &ast::Expr) -> Prov {
        let ty = self.ty(e);
        if let Some(place) = self.place(e) {
            if !self.is_copy(ty) {
                self.check_drop_parent(e);
            }
            return self.use_place(place, ty, e.span);
        }
        let base = match &e.kind {
            ExprKind::Field(base, _) | ExprKind::TupleField(base, ..) | ExprKind::Unary(UnOp::Deref, base) => base,
            ExprKind::Index(base, index) => {
                let prov = self.expr(base);
                self.expr(index);
                if self.is_gc_guard(self.ty(base)) && !self.is_copy(ty) {
                    self.error(
                        "E0101",
                        e.span,
                        "cannot move a value out of a `Gc`".to_string(),
                        "value moved here",
                        Some("borrow it with `&`, or use `.clone()` to copy it"),
                    );
                }
                return self.keep_if_carrying(e, prov);
            }
            _ => return Vec::new(),
        };
        let prov = self.expr(base);
        let behind_ref =
            matches!(e.kind, ExprKind::Unary(..)) || self.is_ref(self.ty(base)) || self.is_gc_guard(self.ty(base));
        if behind_ref && !self.is_copy(ty) && !matches!(self.cx.types.kind(ty), TyKind::Ref { .. }) {
            self.error(
                "E0101",
                e.span,
                "cannot move a value out from behind a reference".to_string(),
                "value moved here",
                Some("borrow it with `&`, or use `.clone()` to copy it"),
            );
        }
        self.keep_if_carrying(e, prov)
    }

    /// A field moved out of a value whose type implements `Drop`.
    pub(super) fn check_drop_parent(&mut self, e: &ast::Expr) {
        let (ExprKind::Field(base, _) | ExprKind::TupleField(base, ..)) = &e.kind else { return };
        let base_ty = self.ty(base);
        if self.cx.has_drop_impl(base_ty) {
            let name = self.cx.types.display(base_ty, self.cx.env.defs);
            self.error(
                "E0101",
                e.span,
                format!("cannot move a field out of `{name}`, which implements `Drop`"),
                "field moved here",
                Some("its destructor needs the whole value: clone the field, or borrow it"),
            );
        }
    }

    pub(super) fn is_ref(&self, ty: Ty) -> bool {
        matches!(self.cx.types.kind(ty), TyKind::Ref { .. })
    }

    /// Whether `ty` is a `Ref` or `RefMut` (a borrow of a `Gc` cell).
    pub(super) fn is_gc_guard(&self, ty: Ty) -> bool {
        matches!(self.cx.types.kind(ty), TyKind::Adt(def, _) if self.cx.env.lang.is_gc_guard(*def))
    }

    /// The place `e` names, if it is a place expression; evaluates the
    /// index operands on the way. Field access through references derefs.
    pub(super) fn place(&mut self, e: &ast::Expr) -> Option<Place> {
        match &e.kind {
            ExprKind::Paren(inner) => self.place(inner),
            ExprKind::Path(path) => match self.cx.env.res.paths.get(&path.span).map(|p| p.res) {
                Some(Res::Local(id)) => Some(Place::local(id)),
                _ => None,
            },
            ExprKind::Field(base, name) => {
                let place = self.auto_deref(base)?;
                Some(place.with(Proj::Field(name.name)))
            }
            ExprKind::TupleField(base, index, _) => {
                let place = self.auto_deref(base)?;
                Some(place.with(Proj::Field(Symbol::intern(&index.to_string()))))
            }
            ExprKind::Index(base, index) => {
                let place = self.auto_deref(base)?;
                self.expr(index);
                let constant = match &index.kind {
                    ExprKind::Lit(ast::Lit::Int { value, .. }) => Some(*value),
                    _ => None,
                };
                Some(place.with(Proj::Index(constant)))
            }
            ExprKind::Unary(UnOp::Deref, inner) if self.is_gc_guard(self.ty(inner)) => Some(self.auto_deref(inner)?),
            ExprKind::Unary(UnOp::Deref, inner) => Some(self.place(inner)?.with(Proj::Deref)),
            _ => None,
        }
    }

    /// The place of `base`, dereferenced through every reference its type has.
    pub(super) fn auto_deref(&mut self, base: &ast::Expr) -> Option<Place> {
        let mut ty = self.ty(base);
        let mut place = match self.place(base) {
            Some(place) => place,
            // `g.borrow().field`: a place in the `Gc`, through a temporary guard.
            None if self.is_gc_guard(ty) => {
                self.expr(base);
                self.new_temp(base.span)
            }
            None => return None,
        };
        loop {
            let proj = match *self.cx.types.kind(ty) {
                TyKind::Ref { ty: inner, .. } => {
                    ty = inner;
                    Proj::Deref
                }
                // A `Gc`'s value is not the guard's to move, and a borrow
                // of it ends with the guard.
                TyKind::Adt(def, ref args) if self.cx.env.lang.is_gc_guard(def) => {
                    ty = args[0];
                    Proj::Guard
                }
                _ => return Some(place),
            };
            place = place.with(proj);
        }
    }

    /// `&e` / `&mut e`: a place is borrowed; an rvalue becomes a temporary.
    pub(super) fn borrow(&mut self, inner: &ast::Expr, mutable: bool, span: Span) -> Prov {
        match self.place(inner) {
            Some(place) => self.borrow_place(place, mutable, span),
            None => {
                let mut prov = self.expr(inner);
                let temp = self.new_temp(span);
                prov.push(self.new_loan(temp, mutable, span));
                prov
            }
        }
    }

    /// `target = value` / `target op= value`.
    pub(super) fn assign(&mut self, compound: bool, target: &ast::Expr, value: &ast::Expr) {
        let prov = self.expr(value);
        let Some(place) = self.place(target) else {
            self.expr(target);
            return;
        };
        if compound {
            self.access(&place, Access::Read, target.span);
        }
        self.access(&place, Access::Write, target.span);
        let Some(id) = place.local_root() else { return };
        if place.proj.is_empty() {
            self.state.forget(id);
            self.check_temp_escape(&prov, value.span, self.depth_of(id));
            if !prov.is_empty() && self.carrying(self.local_ty(id)) {
                self.state.holds.entry(id).or_default().extend(prov);
            }
            return;
        }
        if !place.through_deref() {
            self.state.moved.retain(|m| !place.contains(&m.place));
        }
        self.store_into(&place, &prov, value.span);
    }

    /// The scope depth a local was declared at (parameters: 1).
    pub(super) fn depth_of(&self, id: u32) -> usize {
        self.scopes.iter().position(|s| s.contains(&id)).map_or(0, |d| d + 1)
    }

    /// Borrows stored into `place` (assigned into it, pushed into it): the
    /// locals owning that storage carry them from now on, and a borrow of
    /// a temporary or of a local must not outlive what it borrows.
    pub(super) fn store_into(&mut self, place: &Place, prov: &[LoanId], span: Span) {
        if prov.is_empty() {
            return;
        }
        let mut owners = Vec::new();
        let mut caller = false;
        self.owners_of(place, &mut owners, &mut caller, 0);
        for id in owners {
            self.check_temp_escape(prov, span, self.depth_of(id));
            self.state.holds.entry(id).or_default().extend(prov.iter().copied());
        }
        if caller {
            self.check_stored_in_caller(prov, span);
        }
    }

    /// The locals whose storage `place` is in (following references to
    /// what they borrow), and whether it is the caller's.
    pub(super) fn owners_of(&self, place: &Place, owners: &mut Vec<u32>, caller: &mut bool, depth: u32) {
        match place.root {
            Root::Caller(_) => *caller = true,
            Root::Temp(_) => {}
            Root::Local(id) if !place.through_deref() => owners.push(id),
            Root::Local(id) if depth < 8 => {
                let held: Vec<LoanId> = self.state.holds.get(&id).map_or(Vec::new(), |s| s.iter().copied().collect());
                for l in held {
                    let p = self.loans[l as usize].place.clone();
                    self.owners_of(&p, owners, caller, depth + 1);
                }
            }
            Root::Local(_) => {}
        }
    }

    /// Storing into what a reference parameter points to: the borrows must
    /// outlive the call, so only the caller's own may be stored.
    pub(super) fn check_stored_in_caller(&mut self, prov: &[LoanId], span: Span) {
        for &l in prov {
            let loan = &self.loans[l as usize];
            let what = match loan.place.root {
                Root::Local(id) if loan.place.owned_by_root() => format!("`{}`", self.name(id)),
                Root::Temp(_) => "a temporary value".to_string(),
                _ => continue,
            };
            let d = Diagnostic::error("E0103", format!("a borrow of {what} is stored where the caller keeps it"))
                .primary(span, "stored here, in data behind a reference parameter")
                .secondary(loan.span, "borrowed here")
                .note(format!("{what} is dropped when this function returns"));
            self.push(d);
            return;
        }
    }

    /// OWN-CARRY-001 through arguments: a call may store the borrows of its
    /// arguments in what a `&mut` argument points to (`add(&mut refs, &s)`).
    pub(super) fn store_through_mut_args(&mut self, args: &[ast::Expr], per_arg: &[Prov], span: Span) {
        for (i, a) in args.iter().enumerate() {
            let TyKind::Ref { mutable: true, ty: inner } = *self.cx.types.kind(self.ty(a)) else { continue };
            if !self.carrying(inner) {
                continue;
            }
            let others: Prov =
                per_arg.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, p)| p.clone()).collect();
            let targets: Vec<Place> = per_arg[i]
                .iter()
                .map(|&l| &self.loans[l as usize])
                .filter(|l| l.mutable)
                .map(|l| l.place.clone())
                .collect();
            for place in targets {
                self.store_into(&place, &others, span);
            }
        }
    }
}
