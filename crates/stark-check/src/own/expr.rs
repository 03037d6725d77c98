//! Statements and expressions, in evaluation order.

use super::place::{Place, Proj, Root};
use super::state::{LoanId, State};
use super::{kill, Access, LoopFrame, Owner, Prov};
use crate::defs::Res;
use crate::ty::{Ty, TyKind};
use rustc_hash::FxHashSet;
use stark_syntax::ast::ReceiverKind;
use stark_syntax::ast::{self, BinOp, ExprKind, PatternKind, StmtKind, UnOp};
use stark_syntax::{Diagnostic, Span, Symbol};

/// The most times a loop body is re-checked on the way to a fixed point.
const LOOP_ROUNDS: usize = 4;

impl Owner<'_, '_, '_> {
    // ----- Blocks and statements -----

    /// A block; `fn_body` when it is a function's body, whose value is
    /// returned.
    pub(super) fn block(&mut self, b: &ast::Block, fn_body: bool) -> Prov {
        self.scopes.push(Vec::new());
        for s in &b.stmts {
            self.stmt(s);
        }
        let value = match &b.tail {
            Some(tail) => {
                let mark = self.temps.len();
                let value = self.expr(tail);
                self.temps.truncate(mark);
                self.temps.extend(&value);
                if fn_body {
                    self.check_return(&value, tail.span);
                }
                value
            }
            None => Vec::new(),
        };
        let tail = b.tail.as_ref().filter(|_| !fn_body).map(|t| t.span);
        self.exit_scope(b.span, &value, tail);
        value
    }

    fn stmt(&mut self, s: &ast::Stmt) {
        let mark = self.temps.len();
        match &s.kind {
            StmtKind::Empty | StmtKind::Item(_) => {}
            StmtKind::Expr { expr, .. } => {
                self.expr(expr);
            }
            StmtKind::Let(l) => self.let_stmt(l),
            StmtKind::Return(value) => {
                let prov = value.as_ref().map_or(Vec::new(), |v| self.expr(v));
                if let Some(v) = value {
                    self.check_return(&prov, v.span);
                }
                self.state = State::unreachable();
            }
            StmtKind::Break(value) => {
                let prov = value.as_ref().map_or(Vec::new(), |v| self.expr(v));
                if let Some(frame) = self.loops.last_mut() {
                    frame.values.extend(prov.iter().copied());
                }
                self.jump(true, s.span);
                self.check_break_value(&prov, value.as_ref().map_or(s.span, |v| v.span));
            }
            StmtKind::Continue => self.jump(false, s.span),
        }
        self.temps.truncate(mark);
    }

    fn let_stmt(&mut self, l: &ast::LetStmt) {
        let Some(&id) = self.cx.env.local_at.get(&l.name.span) else { return };
        let prov = l.init.as_ref().map_or(Vec::new(), |e| self.expr(e));
        if let Some(init) = &l.init {
            self.check_temp_escape(&prov, init.span, self.scopes.len());
        }
        if l.shared {
            self.zones.insert(id);
        }
        self.bind(id, prov);
    }

    /// `break` or `continue`: the state leaves for the loop's exit or head,
    /// without the locals of the blocks it leaves.
    fn jump(&mut self, is_break: bool, span: Span) {
        let state = std::mem::replace(&mut self.state, State::unreachable());
        let Some(depth) = self.loops.last().map(|f| f.depth) else { return };
        let mut state = state;
        let leaving: Vec<u32> = self.scopes[depth..].iter().flatten().copied().collect();
        // The locals of the blocks left die at the jump.
        let end = Span { lo: span.lo, hi: span.lo + 1 };
        kill(&mut state, &leaving, end, &self.loans);
        let frame = self.loops.last_mut().expect("inside a loop");
        let slot = if is_break { &mut frame.breaks } else { &mut frame.continues };
        *slot = Some(State::join_opt(slot.take(), state));
    }

    /// A `break` value must not borrow a local of the blocks it leaves.
    fn check_break_value(&mut self, prov: &[LoanId], span: Span) {
        let Some(depth) = self.loops.last().map(|f| f.depth) else { return };
        let leaving: Vec<u32> = self.scopes[depth..].iter().flatten().copied().collect();
        for &l in prov {
            let loan = &self.loans[l as usize];
            if let Some(id) = loan.place.local_root().filter(|id| leaving.contains(id) && loan.place.owned_by_root()) {
                let (borrowed, name) = (loan.span, self.name(id));
                let d = Diagnostic::error("E0103", format!("`{name}` does not live long enough"))
                    .primary(span, format!("the loop's value borrows `{name}`"))
                    .secondary(borrowed, format!("`{name}` is borrowed here"))
                    .note(format!("`{name}` is dropped when `break` leaves its block"));
                self.push(d);
                return;
            }
        }
    }

    /// OWN-RETURN-001: a returned reference derives only from reference
    /// parameters.
    fn check_return(&mut self, prov: &[LoanId], span: Span) {
        let Some(ret) = self.ret else { return };
        if !self.carrying(ret) || !self.state.reachable {
            return;
        }
        // A closure or a value holding references "borrows"; a reference "refers".
        let prefix = if self.is_ref(ret) { "a reference to" } else { "a value that borrows" };
        for &l in prov {
            let place = self.loans[l as usize].place.clone();
            let what = match place.root {
                Root::Caller(_) => continue,
                Root::Local(_) if !place.owned_by_root() => continue,
                Root::Local(id) if self.params.contains(&id) => {
                    format!("{prefix} parameter `{}`, which is passed by value", self.name(id))
                }
                Root::Local(id) => format!("{prefix} local variable `{}`", self.name(id)),
                Root::Temp(_) => format!("{prefix} a temporary value"),
            };
            let borrowed = self.loans[l as usize].span;
            let mut d = Diagnostic::error("E0103", format!("cannot return {what}")).primary(span, "returned here");
            if borrowed != span {
                d = d.secondary(borrowed, "borrowed here");
            }
            let d = d
                .note("a returned reference must come from a reference parameter (OWN-RETURN-001)")
                .help("return an owned value instead");
            self.push(d);
            return;
        }
    }

    /// A borrow of a temporary bound to a local that outlives it.
    fn check_temp_escape(&mut self, prov: &[LoanId], span: Span, holder_depth: usize) {
        for &l in prov {
            let loan = &self.loans[l as usize];
            if let Root::Temp(t) = loan.place.root {
                if loan.place.owned_by_root() && holder_depth <= self.temp_depth[t as usize] {
                    let borrowed = loan.span;
                    let mut d = Diagnostic::error("E0103", "temporary value dropped while borrowed")
                        .primary(borrowed, "this temporary is dropped at the end of the statement")
                        .help("bind the value to a local with `let` first, then borrow the local");
                    if span != borrowed {
                        d = d.secondary(span, "but a borrow of it is kept here");
                    }
                    self.push(d);
                    return;
                }
            }
        }
    }

    // ----- Expressions -----

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

    fn keep_if_carrying(&self, e: &ast::Expr, prov: Prov) -> Prov {
        if self.carrying(self.ty(e)) {
            prov
        } else {
            Vec::new()
        }
    }

    /// An operand only looked at (compared, formatted): a place is read,
    /// not moved.
    fn inspect(&mut self, e: &ast::Expr) {
        match self.place(e) {
            Some(place) => self.access(&place, Access::Read, e.span),
            None => {
                self.expr(e);
            }
        }
    }

    /// The value of a place expression (or of a projection of an rvalue).
    fn consume(&mut self, e: &ast::Expr) -> Prov {
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
                return self.keep_if_carrying(e, prov);
            }
            _ => return Vec::new(),
        };
        let prov = self.expr(base);
        let behind_ref = matches!(e.kind, ExprKind::Unary(..)) || self.is_ref(self.ty(base));
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
    fn check_drop_parent(&mut self, e: &ast::Expr) {
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

    fn is_ref(&self, ty: Ty) -> bool {
        matches!(self.cx.types.kind(ty), TyKind::Ref { .. })
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
            ExprKind::Unary(UnOp::Deref, inner) => Some(self.place(inner)?.with(Proj::Deref)),
            _ => None,
        }
    }

    /// The place of `base`, dereferenced through every reference its type has.
    fn auto_deref(&mut self, base: &ast::Expr) -> Option<Place> {
        let mut place = self.place(base)?;
        let mut ty = self.ty(base);
        while let TyKind::Ref { ty: inner, .. } = *self.cx.types.kind(ty) {
            place = place.with(Proj::Deref);
            ty = inner;
        }
        Some(place)
    }

    /// `&e` / `&mut e`: a place is borrowed; an rvalue becomes a temporary.
    fn borrow(&mut self, inner: &ast::Expr, mutable: bool, span: Span) -> Prov {
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
    fn assign(&mut self, compound: bool, target: &ast::Expr, value: &ast::Expr) {
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
    fn depth_of(&self, id: u32) -> usize {
        self.scopes.iter().position(|s| s.contains(&id)).map_or(0, |d| d + 1)
    }

    /// Borrows stored into `place` (assigned into it, pushed into it): the
    /// locals owning that storage carry them from now on, and a borrow of
    /// a temporary or of a local must not outlive what it borrows.
    fn store_into(&mut self, place: &Place, prov: &[LoanId], span: Span) {
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
    fn owners_of(&self, place: &Place, owners: &mut Vec<u32>, caller: &mut bool, depth: u32) {
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
    fn check_stored_in_caller(&mut self, prov: &[LoanId], span: Span) {
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
    fn store_through_mut_args(&mut self, args: &[ast::Expr], per_arg: &[Prov], span: Span) {
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

    // ----- Calls -----

    /// `callee(args)`; `escape` is the `spawn` the call starts, whose
    /// arguments must not borrow from this task.
    pub(super) fn call(&mut self, e: &ast::Expr, callee: &ast::Expr, args: &[ast::Expr], escape: Option<Span>) -> Prov {
        let res = match &callee.kind {
            ExprKind::Path(path) => self.cx.env.res.paths.get(&path.span).map(|p| p.res),
            _ => None,
        };
        let mut escape = escape;
        let mut what = "a spawned task's argument";
        if let Some(Res::Def(def)) = res {
            if self.cx.env.lang.drop_fn == Some(def) && args.len() == 1 {
                self.drop_call(&args[0]);
                return Vec::new();
            }
            // The parallel patterns run their function in other tasks.
            if escape.is_none() && self.runs_in_tasks(def) {
                escape = Some(e.span);
                what = "an argument handed to other tasks";
            }
        } else {
            self.expr(callee);
        }
        let mark = self.temps.len();
        let mut prov = Vec::new();
        let mut per_arg = Vec::with_capacity(args.len());
        for a in args {
            let p = self.expr(a);
            if let Some(spawn) = escape {
                self.check_escape(&p, a.span, spawn, what);
            }
            prov.extend(p.iter().copied());
            per_arg.push(p);
        }
        self.store_through_mut_args(args, &per_arg, e.span);
        self.finish_call(e, mark, prov)
    }

    /// Whether `def` is a library function that hands its arguments to
    /// other tasks (`parallel_map` and the other parallel patterns).
    fn runs_in_tasks(&self, def: crate::defs::DefId) -> bool {
        let defs = self.cx.env.defs;
        let d = defs.def(def);
        let name = d.name.as_str();
        d.package.0 as usize == defs.package_roots.len() - 1
            && (name.starts_with("parallel_") || matches!(name, "join_all" | "race" | "timeout"))
    }

    /// The temporaries of a call end with it, unless its result carries them.
    fn finish_call(&mut self, e: &ast::Expr, mark: usize, prov: Prov) -> Prov {
        self.temps.truncate(mark);
        let prov = self.keep_if_carrying(e, prov);
        self.temps.extend(&prov);
        prov
    }

    /// `drop(x)`: a move that also ends the borrows `x` carries.
    fn drop_call(&mut self, arg: &ast::Expr) {
        let Some(place) = self.place(arg) else {
            self.expr(arg);
            return;
        };
        let ty = self.ty(arg);
        if self.is_copy(ty) {
            self.access(&place, Access::Drop, arg.span);
            if let (Some(id), true) = (place.local_root(), place.proj.is_empty()) {
                self.state.holds.remove(&id);
                if self.state.reachable {
                    self.state.moved.push(super::state::Moved { place, span: arg.span, dropped: true });
                }
            }
            return;
        }
        self.move_out(place, arg.span, true);
    }

    /// `receiver.method(args)`, the receiver adjusted to what the method
    /// takes (auto-borrow, auto-deref).
    pub(super) fn method_call(
        &mut self,
        e: &ast::Expr,
        receiver: &ast::Expr,
        args: &[ast::Expr],
        escape: Option<Span>,
    ) -> Prov {
        let def = self.results.instances.get(&e.span).map(|i| i.def);
        let kind = def.and_then(|d| self.cx.env.items.fns.get(&d)).and_then(|s| s.receiver);
        let mark = self.temps.len();
        let (mut prov, target) = self.receiver(receiver, kind);
        if let Some(spawn) = escape {
            self.check_escape(&prov, receiver.span, spawn, "a spawned task's receiver");
        }
        let sends = self.sends(receiver);
        let mut arg_prov = Vec::new();
        let mut per_arg = Vec::with_capacity(args.len());
        for a in args {
            let p = self.expr(a);
            if let Some(spawn) = escape {
                self.check_escape(&p, a.span, spawn, "a spawned task's argument");
            } else if sends {
                self.check_escape(&p, a.span, e.span, "a value sent to another task");
            }
            arg_prov.extend(p.iter().copied());
            per_arg.push(p);
        }
        self.store_through_mut_args(args, &per_arg, e.span);
        // A `&mut self` method of a value holding borrows may store the
        // arguments' borrows in it (`refs.push(&x)`).
        if let Some(place) = target {
            if self.carrying(self.ty(receiver)) {
                self.store_into(&place, &arg_prov, e.span);
            }
        }
        prov.extend(arg_prov);
        self.finish_call(e, mark, prov)
    }

    /// Evaluates a receiver: what it carries, and the local a `&mut self`
    /// call may store borrows in.
    fn receiver(&mut self, receiver: &ast::Expr, kind: Option<ReceiverKind>) -> (Prov, Option<Place>) {
        let ty = self.ty(receiver);
        let mutable = kind == Some(ReceiverKind::RefMut);
        match kind {
            Some(ReceiverKind::Ref | ReceiverKind::RefMut) if !self.is_ref(ty) => match self.place(receiver) {
                Some(place) => {
                    let target = Some(place.clone()).filter(|_| mutable);
                    (self.borrow_place(place, mutable, receiver.span), target)
                }
                None => (self.borrow(receiver, mutable, receiver.span), None),
            },
            Some(ReceiverKind::Ref | ReceiverKind::RefMut) => match self.place(receiver) {
                // Through a reference: a reborrow of what it points to.
                Some(place) => {
                    let mut place = place;
                    let mut t = ty;
                    while let TyKind::Ref { ty: inner, .. } = *self.cx.types.kind(t) {
                        place = place.with(Proj::Deref);
                        t = inner;
                    }
                    let target = Some(place.clone()).filter(|_| mutable);
                    (self.borrow_place(place, mutable, receiver.span), target)
                }
                None => (self.expr(receiver), None),
            },
            _ if self.is_ref(ty) => {
                // By value through a reference: only a `Copy` value may be read out.
                let mut inner = ty;
                while let TyKind::Ref { ty: t, .. } = *self.cx.types.kind(inner) {
                    inner = t;
                }
                let prov = self.expr(receiver);
                if !self.is_copy(inner) {
                    self.error(
                        "E0101",
                        receiver.span,
                        "cannot move a value out from behind a reference".to_string(),
                        "this method takes `self` by value",
                        Some("call `.clone()` first to get an owned copy"),
                    );
                }
                (prov, None)
            }
            _ => (self.expr(receiver), None),
        }
    }

    /// Whether a method on `receiver` hands its arguments to another task:
    /// channel sends and actor messages.
    fn sends(&self, receiver: &ast::Expr) -> bool {
        let mut ty = self.ty(receiver);
        while let TyKind::Ref { ty: inner, .. } = *self.cx.types.kind(ty) {
            ty = inner;
        }
        let lang = self.cx.env.lang;
        matches!(self.cx.types.kind(ty), TyKind::Adt(def, _)
            if [lang.channel, lang.broadcast_channel, lang.actor_ref].contains(&Some(*def)))
    }

    /// A value crossing to another task must not carry borrows (E0102).
    fn check_escape(&mut self, prov: &[LoanId], span: Span, at: Span, what: &str) {
        let library = self.library;
        let from_caller = |o: &Self, l: LoanId| matches!(o.loans[l as usize].place.root, Root::Caller(_));
        let excused = |o: &Self, l: LoanId| o.shared_zone(l) || (library && from_caller(o, l));
        let Some(&l) = prov.iter().find(|&&l| !excused(self, l)) else {
            return;
        };
        let loan = self.loans[l as usize].clone();
        let borrowed = match loan.place.root {
            Root::Caller(id) => format!("what `{}` refers to", self.name(id)),
            Root::Temp(_) => "a temporary value".to_string(),
            Root::Local(_) => format!("`{}`", self.describe(&loan.place)),
        };
        if !self.state.reachable {
            return;
        }
        let mut d = Diagnostic::error("E0102", format!("{what} holds a reference into the current task"))
            .primary(span, format!("this value borrows {borrowed}"));
        if loan.span != span {
            d = d.secondary(loan.span, "borrowed here");
        }
        if at != span {
            d = d.secondary(at, "it crosses to another task here");
        }
        let d = d
            .help("move or clone the value instead; only channels, actor references, models, tensors and `shared` zones are shared between tasks");
        self.push(d);
    }

    /// Whether a borrow is of something tasks share safely anyway: a
    /// `shared let` zone, or a whole local holding a handle that is shared
    /// between tasks by design (a channel, an actor reference, a model, a
    /// tensor, a shared map).
    fn shared_zone(&self, loan: LoanId) -> bool {
        let place = &self.loans[loan as usize].place;
        let Some(id) = place.local_root() else { return false };
        if self.zones.contains(&id) {
            return true;
        }
        place.proj.is_empty() && self.is_shared_handle(self.local_ty(id))
    }

    fn is_shared_handle(&self, ty: Ty) -> bool {
        let lang = self.cx.env.lang;
        match self.cx.types.kind(ty) {
            TyKind::Adt(def, _) => {
                [lang.channel, lang.broadcast_channel, lang.actor_ref, lang.tensor].contains(&Some(*def))
                    || matches!(self.cx.env.defs.def(*def).name.as_str(), "Model" | "SharedMap")
                        && self.cx.env.defs.def(*def).package.0 as usize == self.cx.env.defs.package_roots.len() - 1
            }
            TyKind::Tensor { .. } => true,
            _ => false,
        }
    }

    // ----- Control flow -----

    /// `match`: bindings move out of an owned scrutinee place, or borrow
    /// when it is reached through a reference (PAT-BIND-001).
    fn match_expr(&mut self, e: &ast::Expr, scrutinee: &ast::Expr, arms: &[ast::Arm]) -> Prov {
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
    fn pattern_moves(&mut self, p: &ast::Pattern) -> bool {
        let mut ids = Vec::new();
        self.bindings(p, &mut ids);
        ids.into_iter().any(|id| {
            let ty = self.local_ty(id);
            !self.is_copy(ty)
        })
    }

    fn bindings(&self, p: &ast::Pattern, out: &mut Vec<u32>) {
        match &p.kind {
            PatternKind::Ident(ident) => out.extend(self.cx.env.local_at.get(&ident.span).copied()),
            PatternKind::TupleStruct(_, items) | PatternKind::Tuple(items) | PatternKind::Array(items) => {
                items.iter().for_each(|i| self.bindings(i, out))
            }
            PatternKind::Struct(_, fields) => fields.iter().for_each(|f| self.bindings(&f.pattern, out)),
            _ => {}
        }
    }

    fn bind_pattern(&mut self, p: &ast::Pattern, prov: &[LoanId]) {
        let mut ids = Vec::new();
        self.bindings(p, &mut ids);
        for id in ids {
            self.bind(id, prov.to_vec());
        }
    }

    /// `loop`, `while` (with `cond`) or the body of a `for` (binding `var`
    /// to what each item carries), run to a fixed point.
    fn run_loop(&mut self, cond: Option<&ast::Expr>, body: &ast::Block, var: Option<(u32, &[LoanId])>) -> Prov {
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
    fn for_loop(&mut self, var: &ast::Ident, iter: &ast::Expr, body: &ast::Block) {
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

    // ----- Nested bodies -----

    /// A closure: captured locals are moved in (`move`) or borrowed; its
    /// body is checked on its own.
    fn closure(&mut self, e: &ast::Expr, is_move: bool, params: &[ast::ClosureParam], body: &ast::Expr) -> Prov {
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
    fn spawn(&mut self, e: &ast::Expr, inner: &ast::Expr) {
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
    fn select(&mut self, arms: &[ast::SelectArm]) -> Prov {
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
    fn nested(&mut self, span: Span, ret: Option<Ty>, captured: FxHashSet<u32>, run: impl FnOnce(&mut Self)) {
        let state = std::mem::replace(&mut self.state, State::start());
        let temps = std::mem::take(&mut self.temps);
        let scopes = std::mem::take(&mut self.scopes);
        let loops = std::mem::take(&mut self.loops);
        let ret = std::mem::replace(&mut self.ret, ret);
        let captured = std::mem::replace(&mut self.captured, captured);
        self.scopes.push(Vec::new());
        run(self);
        self.exit_scope(span, &[], None);
        self.state = state;
        self.temps = temps;
        self.scopes = scopes;
        self.loops = loops;
        self.ret = ret;
        self.captured = captured;
    }
}

/// Whether a closure body `e` needs its capture `id` mutably: it assigns
/// into it, borrows it with `&mut`, calls a `&mut self` method on it, or
/// the capture is itself a `&mut` reference.
fn captures_mutably(e: &ast::Expr, id: u32, o: &Owner<'_, '_, '_>) -> bool {
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

fn is_comparison(op: BinOp) -> bool {
    matches!(op, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
}
