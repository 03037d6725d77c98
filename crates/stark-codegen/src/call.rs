//! Calls: free functions, methods (with auto-borrow and auto-deref),
//! trait dispatch at concrete types, `fn` values and closures.

use crate::body::{ClosureJob, FnCx};
use crate::types::Subst;
use stark_check::defs::{DefId, DefKind, Res};
use stark_check::ty::TyKind;
use stark_syntax::ast::{self, ExprKind, ReceiverKind};
use stark_syntax::Span;
use stark_vm::bytecode::{Instr, Reg};
use stark_vm::program::LayoutKind;

/// What a call resolves to.
#[derive(Clone, Debug)]
pub(crate) enum Callee {
    /// A compiled function, and its definition.
    Fn { index: u32, def: DefId },
    /// A library function without a body: a native or an intrinsic,
    /// by its qualified name, with its instance.
    Library { name: String, def: DefId, subst: Subst },
}

impl<'a> FnCx<'_, 'a> {
    /// The callee the checker recorded at `span`, dispatched statically.
    pub fn callee_of(&mut self, span: Span) -> Option<Callee> {
        let instance = self.c.results.instances.get(&span)?.clone();
        let mut map = Subst::default();
        for (name, ty) in instance.args {
            let t = self.c.norm(ty, &self.subst);
            map.insert(name, t);
        }
        Some(self.c.resolve_callee(instance.def, map))
    }

    /// `callee(args)`.
    pub fn call(&mut self, callee: &'a ast::Expr, args: &'a [ast::Expr], e: &'a ast::Expr) -> Reg {
        if let ExprKind::Path(path) = &callee.kind {
            let res = self.c.res.paths.get(&path.span).map(|p| (p.res, p.assoc_from));
            match res {
                Some((Res::Def(def), assoc)) if assoc >= path.segments.len() => match self.c.defs.def(def).kind {
                    DefKind::Variant => return self.variant_value(def, args, e),
                    DefKind::Fn | DefKind::Method => {
                        if let Some(callee) = self.callee_of(path.span) {
                            return self.emit_call(callee, None, args, e);
                        }
                    }
                    _ => {}
                },
                Some((Res::Local(_), _)) => {}
                _ => {
                    if let Some(callee) = self.callee_of(path.span) {
                        return self.emit_call(callee, None, args, e);
                    }
                }
            }
        }
        // A `fn` value: evaluated once, before the arguments.
        let f = self.expr(callee);
        let fr = self.alloc();
        self.emit(Instr::Copy { a: fr, b: f });
        let base = self.args_block(None, args);
        self.emit(Instr::CallValue { base, callee: fr });
        self.reset_top(base + 1);
        base
    }

    /// `receiver.method(args)`.
    pub fn method_call(
        &mut self,
        receiver: &'a ast::Expr,
        method: ast::Ident,
        args: &'a [ast::Expr],
        e: &'a ast::Expr,
    ) -> Reg {
        let Some(callee) = self.callee_of(e.span) else {
            self.c.unsupported(method.span, &format!("the method `{}` here", method.name));
            return self.unit();
        };
        let def = match &callee {
            Callee::Fn { def, .. } | Callee::Library { def, .. } => *def,
        };
        let kind = self.c.items.fns.get(&def).and_then(|s| s.receiver);
        let recv = self.receiver(receiver, kind);
        self.emit_call(callee, Some(recv), args, e)
    }

    /// Evaluates a method receiver adjusted to what the method takes:
    /// `self` by value, or a reference (auto-borrow, auto-deref).
    fn receiver(&mut self, receiver: &'a ast::Expr, kind: Option<ReceiverKind>) -> Reg {
        let ty = self.ty_of(receiver);
        let by_value = matches!(kind, Some(ReceiverKind::Value) | None);
        let mut ref_depth = 0;
        let mut inner = ty;
        while let TyKind::Ref { ty: t, .. } = self.c.types.kind(inner).clone() {
            ref_depth += 1;
            inner = t;
        }
        if by_value {
            if ref_depth == 0 {
                return self.expr(receiver);
            }
            // Auto-deref of a `Copy` value.
            let mut r = self.expr(receiver);
            for _ in 1..ref_depth {
                let n = self.alloc();
                self.emit(Instr::Load { a: n, r });
                r = n;
            }
            if self.c.is_object(inner) {
                let n = self.alloc();
                self.emit(Instr::Clone { a: n, b: r });
                return n;
            }
            let n = self.alloc();
            self.emit(Instr::Load { a: n, r });
            return n;
        }
        if ref_depth == 0 {
            let (place, ty) = self.place(receiver);
            return self.borrow(place, ty);
        }
        let mut r = self.expr(receiver);
        for _ in 1..ref_depth {
            let n = self.alloc();
            self.emit(Instr::Load { a: n, r });
            r = n;
        }
        r
    }

    /// Evaluates arguments into consecutive registers at the top (the
    /// receiver, when given, first). Temporaries made on the way must
    /// outlive the call, so when there are any the block is moved above
    /// them, out of the callee's reach.
    pub fn args_block(&mut self, recv: Option<Reg>, args: &'a [ast::Expr]) -> Reg {
        let temps_before = self.temps.len();
        let n = args.len() + recv.is_some() as usize;
        let block = self.alloc_n(n.max(1));
        let mut slot = block;
        if let Some(r) = recv {
            self.mov(slot, r);
            slot += 1;
        }
        for a in args {
            let v = self.expr(a);
            self.mov(slot, v);
            slot += 1;
        }
        if self.temps[temps_before..].iter().all(|&(r, _)| r < block) {
            return block;
        }
        let moved = self.alloc_n(n.max(1));
        for i in 0..n as u16 {
            self.emit(Instr::Copy { a: moved + i, b: block + i });
        }
        moved
    }

    /// Calls `callee` with an optional evaluated receiver and arguments.
    pub fn emit_call(&mut self, callee: Callee, recv: Option<Reg>, args: &'a [ast::Expr], e: &'a ast::Expr) -> Reg {
        match callee {
            Callee::Fn { index: f, .. } => {
                let base = self.args_block(recv, args);
                self.at(e.span);
                self.emit(Instr::Call { base, f });
                self.reset_top(base + 1);
                base
            }
            Callee::Library { name, subst, .. } => self.library_call(&name, &subst, recv, args, e),
        }
    }

    /// A closure value: its environment holds the captured locals (moved
    /// in, or referenced), and its body is compiled as its own function.
    pub fn closure(&mut self, params: &'a [ast::ClosureParam], body: &'a ast::Expr, e: &'a ast::Expr) -> Reg {
        let captures = self.c.results.captures.get(&e.span).cloned().unwrap_or_default();
        let mut caps = Vec::new();
        let base = self.alloc_n(captures.len().max(1));
        for (i, cap) in captures.iter().enumerate() {
            let ty = self.local_ty(cap.local);
            let by_move = cap.by_move;
            let place = match self.locals.get(&cap.local) {
                Some(&r) => crate::place::Place::Reg(r),
                None => match self.captured.get(&cap.local) {
                    Some(&(i, _)) => crate::place::Place::Field { obj: 0, i },
                    None => continue,
                },
            };
            let v = if by_move { self.read(place, ty) } else { self.borrow(place, ty) };
            self.emit(Instr::Copy { a: base + i as u16, b: v });
            caps.push((cap.local, ty, by_move));
        }
        let fields = caps
            .iter()
            .map(|&(_, ty, by_move)| {
                if by_move {
                    self.c.slot(ty)
                } else {
                    let r = self.c.types.intern(TyKind::Ref { mutable: true, ty });
                    self.c.slot(r)
                }
            })
            .collect();
        let l = self.c.prog.layouts.len() as u32;
        self.c
            .prog
            .layouts
            .push(stark_vm::Layout { name: "closure".into(), kind: LayoutKind::Record { fields, tuple: false } });
        self.emit(Instr::New { base, l });
        let index = self.c.new_function(format!("{}::{{closure}}", self.fn_name()));
        let job = ClosureJob {
            params,
            body,
            span: e.span,
            subst: self.subst.clone(),
            captures: caps,
            name: format!("{}::{{closure}}", self.fn_name()),
            library: self.library,
        };
        // SAFETY of lifetimes: the AST outlives compilation.
        let job: ClosureJob<'_> = job;
        self.c.push_closure(index, job);
        let dst = self.alloc();
        self.emit(Instr::LoadFn { a: dst, f: index });
        self.emit(Instr::SetEnv { a: dst, env: base });
        self.reset_top(dst + 1);
        dst
    }

    fn fn_name(&self) -> String {
        self.name.clone()
    }
}

impl<'a> crate::Compiler<'a> {
    /// Static dispatch: a trait method at a concrete `Self` becomes the
    /// impl's method (or the trait's default body).
    pub(crate) fn resolve_callee(&mut self, def: DefId, mut map: Subst) -> Callee {
        let mut def = def;
        if let Some(&(trait_, name)) = self.trait_methods.get(&def) {
            if let Some(&self_ty) = map.get(&stark_syntax::Symbol::intern("Self")) {
                if let Some((imp, imp_map)) = self.find_impl(trait_, self_ty) {
                    if let Some(&(_, m)) = self.items.impls[imp].methods.iter().find(|(n, _)| *n == name) {
                        def = m;
                        map.extend(imp_map);
                    }
                }
            }
        }
        // Inside an impl, `Self` is the impl's type.
        let self_sym = stark_syntax::Symbol::intern("Self");
        if !map.contains_key(&self_sym) {
            if let Some(imp) = self.defs.owners.get(&def).and_then(|&o| self.items.impl_by_def(o)) {
                let self_ty = self.norm(imp.self_ty, &map);
                map.insert(self_sym, self_ty);
            }
        }
        if self.bodies.get(&def).is_some_and(|b| b.decl.body.is_some()) {
            return Callee::Fn { index: self.instance(def, map), def };
        }
        Callee::Library { name: self.qualified_name(def), def, subst: map }
    }

    /// `Type::name` or `name` (or `math::sqrt`) for a library item.
    fn qualified_name(&self, def: DefId) -> String {
        let d = self.defs.def(def);
        if let Some(&owner) = self.defs.owners.get(&def) {
            let owner_def = self.defs.def(owner);
            if owner_def.kind == DefKind::Impl {
                if let Some(imp) = self.items.impl_by_def(owner) {
                    let self_name = match self.types.kind(imp.self_ty) {
                        TyKind::Adt(a, _) => self.defs.def(*a).name.to_string(),
                        TyKind::Prim(p) => stark_check::ty::prim_name(*p).to_string(),
                        TyKind::Slice(_) => "[]".to_string(),
                        _ => "?".to_string(),
                    };
                    let trait_name =
                        imp.trait_ref.as_ref().map(|t| self.defs.def(t.trait_).name.to_string()).unwrap_or_default();
                    if trait_name.is_empty() {
                        return format!("{self_name}::{}", d.name);
                    }
                    return format!("<{trait_name}>::{}", d.name);
                }
            }
            return format!("{}::{}", owner_def.name, d.name);
        }
        if self.defs.parents.contains_key(&d.module) {
            return format!("{}::{}", self.defs.def(d.module).name, d.name);
        }
        d.name.to_string()
    }

    fn push_closure(&mut self, index: u32, job: ClosureJob<'a>) {
        self.jobs.push(crate::Job::Closure { index, closure: job });
    }
}
