//! Calls and method calls: receivers, arguments, and values crossing to other tasks.

use super::place::{Place, Proj, Root};
use super::state::LoanId;
use super::{Access, Owner, Prov};
use crate::defs::Res;
use crate::ty::{Ty, TyKind};
use stark_syntax::ast::ReceiverKind;
use stark_syntax::ast::{self, ExprKind};
use stark_syntax::{Diagnostic, Span};

impl Owner<'_, '_, '_> {
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
            if self.is_std_fn(def, "with_arena") && args.len() == 1 {
                self.check_arena(e, &args[0]);
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

    /// Whether `def` is the standard library's function `name`.
    fn is_std_fn(&self, def: crate::defs::DefId, name: &str) -> bool {
        let defs = self.cx.env.defs;
        let d = defs.def(def);
        d.package.0 as usize == defs.package_roots.len() - 1 && d.name.as_str() == name
    }

    /// `with_arena(f)`: nothing made in the arena may outlive it, so its
    /// result must be a plain scalar, and `f` may neither change what it
    /// captures nor capture a `Gc` (whose cell it could change).
    fn check_arena(&mut self, e: &ast::Expr, f: &ast::Expr) {
        let ty = self.ty(e);
        if !self.heap_free(ty) {
            let shown = self.cx.types.display(ty, self.cx.env.defs);
            let d = Diagnostic::error(
                "E0104",
                format!("a value made in the arena escapes it: `with_arena` returns `{shown}`"),
            )
            .primary(e.span, "the arena's allocations are freed when it returns")
            .help("return a number, `Bool` or `Char` computed from them, or build the value outside the arena");
            self.diagnostics.push(d);
        }
        let ExprKind::Closure { body, .. } = &f.kind else { return };
        let captures = self.results.captures.get(&f.span).cloned().unwrap_or_default();
        for c in captures {
            let local_ty = self.local_ty(c.local);
            let (gc, mutable) = (self.holds_gc(local_ty, 0), super::flow::captures_mutably(body, c.local, self));
            if gc || mutable {
                let name = self.cx.env.res.locals.get(c.local as usize).map_or("?", |l| l.name.as_str());
                let (why, help) = if gc {
                    (
                        "it holds a `Gc`, whose cells the arena could change",
                        format!("read what the arena needs from `{name}` before `with_arena`, and pass that in"),
                    )
                } else {
                    (
                        "the arena changes it",
                        format!(
                            "compute a result inside the arena and update `{name}` with it after `with_arena` returns"
                        ),
                    )
                };
                let d = Diagnostic::error("E0104", format!("a value made in the arena could escape through `{name}`"))
                    .primary(f.span, format!("`{name}` is captured here, and {why}"))
                    .help(help);
                self.diagnostics.push(d);
            }
        }
    }

    /// Whether values of `ty` live outside the heap (numbers, `Bool`, `Char`, `()`, `Duration`).
    fn heap_free(&self, ty: Ty) -> bool {
        match self.cx.types.kind(ty) {
            TyKind::Prim(p) => *p != crate::defs::Prim::Str,
            TyKind::Tuple(items) => items.is_empty(),
            TyKind::Never => true,
            TyKind::Adt(def, _) => {
                let d = self.cx.env.defs.def(*def);
                d.package.0 as usize == self.cx.env.defs.package_roots.len() - 1
                    && matches!(d.name.as_str(), "Duration" | "Instant")
            }
            _ => false,
        }
    }

    /// Whether `ty` is or contains a `Gc` (through references, fields, elements).
    fn holds_gc(&self, ty: Ty, depth: u32) -> bool {
        if depth > 16 {
            return false;
        }
        match self.cx.types.kind(ty) {
            TyKind::Ref { ty, .. } => self.holds_gc(*ty, depth + 1),
            TyKind::Tuple(items) => items.iter().any(|&t| self.holds_gc(t, depth + 1)),
            TyKind::Array(t, _) | TyKind::Slice(t) => self.holds_gc(*t, depth + 1),
            TyKind::Adt(def, args) => {
                Some(*def) == self.cx.env.lang.gc
                    || args.iter().any(|&t| self.holds_gc(t, depth + 1))
                    || self.cx.env.items.adts.get(def).is_some_and(|adt| match &adt.kind {
                        crate::items::AdtKind::Struct(fields) => fields.iter().any(|f| self.holds_gc(f.ty, depth + 1)),
                        crate::items::AdtKind::Enum(variants) => variants.iter().any(|v| match &v.shape {
                            crate::items::VariantShape::Unit => false,
                            crate::items::VariantShape::Tuple(tys) => tys.iter().any(|&t| self.holds_gc(t, depth + 1)),
                            crate::items::VariantShape::Struct(fields) => {
                                fields.iter().any(|f| self.holds_gc(f.ty, depth + 1))
                            }
                        }),
                        crate::items::AdtKind::Actor { .. } => false,
                    })
            }
            _ => false,
        }
    }

    /// Whether `def` is a library function that hands its arguments to
    /// other tasks (`parallel_map` and the other parallel patterns).
    pub(super) fn runs_in_tasks(&self, def: crate::defs::DefId) -> bool {
        let defs = self.cx.env.defs;
        let d = defs.def(def);
        let name = d.name.as_str();
        d.package.0 as usize == defs.package_roots.len() - 1
            && (name.starts_with("parallel_") || matches!(name, "join_all" | "race" | "timeout"))
    }

    /// The temporaries of a call end with it, unless its result carries them.
    pub(super) fn finish_call(&mut self, e: &ast::Expr, mark: usize, prov: Prov) -> Prov {
        self.temps.truncate(mark);
        let prov = self.keep_if_carrying(e, prov);
        self.temps.extend(&prov);
        prov
    }

    /// `drop(x)`: a move that also ends the borrows `x` carries.
    pub(super) fn drop_call(&mut self, arg: &ast::Expr) {
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
    pub(super) fn receiver(&mut self, receiver: &ast::Expr, kind: Option<ReceiverKind>) -> (Prov, Option<Place>) {
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
    pub(super) fn sends(&self, receiver: &ast::Expr) -> bool {
        let mut ty = self.ty(receiver);
        while let TyKind::Ref { ty: inner, .. } = *self.cx.types.kind(ty) {
            ty = inner;
        }
        let lang = self.cx.env.lang;
        matches!(self.cx.types.kind(ty), TyKind::Adt(def, _)
            if [lang.channel, lang.broadcast_channel, lang.actor_ref].contains(&Some(*def)))
    }

    /// A value crossing to another task must not carry borrows (E0102).
    pub(super) fn check_escape(&mut self, prov: &[LoanId], span: Span, at: Span, what: &str) {
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
    pub(super) fn shared_zone(&self, loan: LoanId) -> bool {
        let place = &self.loans[loan as usize].place;
        let Some(id) = place.local_root() else { return false };
        if self.zones.contains(&id) {
            return true;
        }
        place.proj.is_empty() && self.is_shared_handle(self.local_ty(id))
    }

    pub(super) fn is_shared_handle(&self, ty: Ty) -> bool {
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
}
