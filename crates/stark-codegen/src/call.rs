//! Calls: free functions, methods (with auto-borrow and auto-deref),
//! trait dispatch at concrete types, `fn` values and closures.

use crate::body::{ClosureJob, FnCx};
use crate::types::Subst;
use stark_check::defs::{DefId, DefKind, Res};
use stark_check::ty::{Ty, TyKind};
use stark_syntax::ast::{self, ExprKind, ReceiverKind};
use stark_syntax::Span;
use stark_vm::bytecode::{Instr, Reg};
use stark_vm::native::Native;
use stark_vm::program::{LayoutKind, Slot, NO_LAYOUT};

/// What a call resolves to.
#[derive(Clone, Debug)]
pub(crate) enum Callee {
    /// A compiled function, its definition and its generic arguments.
    Fn { index: u32, def: DefId, subst: Subst },
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
            // `Name::new(..)` of an actor.
            if let Some((Res::Def(def), _)) = res {
                if self.c.actor_decls.contains_key(&def) {
                    return self.actor_new(def, args);
                }
            }
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
    pub(crate) fn receiver(&mut self, receiver: &'a ast::Expr, kind: Option<ReceiverKind>) -> Reg {
        let ty = self.ty_of(receiver);
        let by_value = matches!(kind, Some(ReceiverKind::Value) | None);
        let mut ref_depth = 0;
        let mut inner = ty;
        while let TyKind::Ref { ty: t, .. } = self.c.types.kind(inner).clone() {
            ref_depth += 1;
            inner = t;
        }
        if let TyKind::Adt(d, args) = self.c.types.kind(inner).clone() {
            if self.c.lang.is_gc_guard(d) {
                return self.guard_receiver(receiver, ref_depth, args[0], by_value);
            }
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

    /// A receiver reached through a `Ref` or `RefMut`: the `Gc`'s value
    /// (field 0 of the cell), borrowed or, when `Copy`, copied.
    fn guard_receiver(&mut self, receiver: &'a ast::Expr, ref_depth: usize, value_ty: Ty, by_value: bool) -> Reg {
        let mut cell = if ref_depth == 0 {
            let (place, ty) = self.place(receiver);
            self.borrow_value(place, ty)
        } else {
            self.expr(receiver)
        };
        for _ in 1..ref_depth {
            let n = self.alloc();
            self.emit(Instr::Load { a: n, r: cell });
            cell = n;
        }
        let field = crate::place::Place::Field { obj: cell, i: 0 };
        if by_value {
            let n = self.borrow_value(field, value_ty);
            if self.c.is_object(value_ty) {
                let c = self.alloc();
                self.emit(Instr::Clone { a: c, b: n });
                return c;
            }
            return n;
        }
        self.borrow(field, value_ty)
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
            // Calling an `async fn` runs nothing: it makes the `Future`.
            Callee::Fn { index, def, subst } if self.c.items.fns.get(&def).is_some_and(|s| s.is_async) => {
                self.deferred_call(index, def, &subst, recv, args)
            }
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
            let v = if self.shared.contains(&cap.local) {
                let h = self.borrow(place, ty);
                let c = self.alloc();
                self.emit(Instr::Clone { a: c, b: h });
                c
            } else if by_move {
                self.read(place, ty)
            } else {
                self.borrow(place, ty)
            };
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
            shared: caps.iter().map(|c| c.0).filter(|l| self.shared.contains(l)).collect(),
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

    /// A call made later: the arguments are evaluated now into an
    /// environment, and the value is a function value taking nothing
    /// whose call makes the call (a `Future`, or what `spawn` runs).
    pub fn deferred_call(
        &mut self,
        f: u32,
        def: DefId,
        subst: &Subst,
        recv: Option<Reg>,
        args: &'a [ast::Expr],
    ) -> Reg {
        let base = self.args_block(recv, args);
        let slots = self.param_slots(def, subst);
        let l = self.c.prog.layouts.len() as u32;
        let layout = stark_vm::Layout {
            name: "deferred call".into(),
            kind: LayoutKind::Record { fields: slots.clone(), tuple: true },
        };
        self.c.prog.layouts.push(layout);
        self.emit(Instr::New { base, l });
        let glue = self.c.call_glue(f, slots.len() as u16);
        let dst = self.alloc();
        self.emit(Instr::LoadFn { a: dst, f: glue });
        self.emit(Instr::SetEnv { a: dst, env: base });
        self.reset_top(dst + 1);
        dst
    }

    /// How the parameters of `def` (the receiver first) are held.
    fn param_slots(&mut self, def: DefId, subst: &Subst) -> Vec<stark_vm::program::Slot> {
        let Some(sig) = self.c.items.fns.get(&def) else { return Vec::new() };
        let (receiver, params) = (sig.receiver, sig.params.clone());
        let mut tys = Vec::new();
        if let Some(kind) = receiver {
            let self_ty = subst.get(&stark_syntax::Symbol::intern("Self")).copied();
            if let Some(self_ty) = self_ty {
                tys.push(match kind {
                    ReceiverKind::Value => self_ty,
                    ReceiverKind::Ref => self.c.types.intern(TyKind::Ref { mutable: false, ty: self_ty }),
                    ReceiverKind::RefMut => self.c.types.intern(TyKind::Ref { mutable: true, ty: self_ty }),
                });
            }
        }
        for p in params {
            tys.push(self.c.norm(p, subst));
        }
        tys.into_iter().map(|t| self.c.slot(t)).collect()
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
            return Callee::Fn { index: self.instance(def, map.clone()), def, subst: map };
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
                        TyKind::Tensor { .. } => "Tensor".to_string(),
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

    /// A library function written as bytecode: `name`, a closure-like
    /// body taking its environment in `R[0]`.
    pub(crate) fn raw_glue(&mut self, name: String, nregs: u16, code: Vec<Instr>) -> u32 {
        let g = self.new_function(name.clone());
        let lines = vec![0; code.len()];
        self.prog.functions[g as usize] = stark_vm::Function {
            name,
            arity: 1,
            nregs,
            has_env: true,
            library: true,
            code,
            lines,
            ..Default::default()
        };
        g
    }

    fn site(&mut self, native: Native, slot: Slot, layout: u32) -> u32 {
        self.prog.sites.push(stark_vm::Site { native, slot, layout, aux: NO_LAYOUT });
        (self.prog.sites.len() - 1) as u32
    }

    /// The body of a deferred call of a function value with `n` arguments:
    /// its environment is `(f, args..)`.
    pub(crate) fn apply_glue(&mut self, n: u16) -> u32 {
        if let Some(&g) = self.apply_glue.get(&n) {
            return g;
        }
        let mut code: Vec<Instr> = (0..=n).map(|i| Instr::TakeField { a: 1 + i, obj: 0, i }).collect();
        code.push(Instr::FreeShell { a: 0 });
        code.push(Instr::CallValue { base: 2, callee: 1 });
        code.push(Instr::Ret { a: 2 });
        let g = self.raw_glue(format!("apply/{n}"), 3 + n, code);
        self.apply_glue.insert(n, g);
        g
    }

    /// The body of `fut.then(f)` / `fut.map(f)`: run the future here, then
    /// call `f` on its value. Its environment is `(fut, f)`.
    pub(crate) fn then_glue(&mut self) -> u32 {
        if let Some(g) = self.then_glue {
            return g;
        }
        let code = vec![
            Instr::TakeField { a: 1, obj: 0, i: 0 },
            Instr::TakeField { a: 2, obj: 0, i: 1 },
            Instr::FreeShell { a: 0 },
            Instr::CallValue { base: 3, callee: 1 },
            Instr::CallValue { base: 3, callee: 2 },
            Instr::Ret { a: 3 },
        ];
        let g = self.raw_glue("Future::then".into(), 4, code);
        self.then_glue = Some(g);
        g
    }

    /// The body of `fut.catch(f)` for a value of kind `value` (`result`:
    /// the layout of `Result<T, TaskError>`): the future runs as a task so
    /// that its failure can be caught, and `f` turns a failure into a value.
    pub(crate) fn catch_glue(&mut self, value: Slot, result: u32) -> u32 {
        let spawn = self.site(Native::TaskSpawn, value, NO_LAYOUT);
        let outcome = self.site(Native::TaskResult, value, result);
        let code = vec![
            Instr::TakeField { a: 1, obj: 0, i: 0 },
            Instr::TakeField { a: 2, obj: 0, i: 1 },
            Instr::FreeShell { a: 0 },
            Instr::Copy { a: 3, b: 1 },
            Instr::Native { base: 3, site: spawn },
            Instr::Native { base: 3, site: outcome },
            Instr::GetTag { a: 4, obj: 3 },
            Instr::TakeField { a: 5, obj: 3, i: 0 },
            Instr::FreeShell { a: 3 },
            Instr::JmpIf { a: 4, off: 1 },
            Instr::Ret { a: 5 },
            Instr::CallValue { base: 5, callee: 2 },
            Instr::Ret { a: 5 },
        ];
        self.raw_glue("Future::catch".into(), 6, code)
    }

    /// The function that makes a deferred call of `f` with `n` arguments
    /// held in its environment (`R[0]`): it moves them out, frees the
    /// environment and calls `f`.
    pub(crate) fn call_glue(&mut self, f: u32, n: u16) -> u32 {
        if let Some(&g) = self.call_glue.get(&f) {
            return g;
        }
        let name = format!("{}::{{deferred}}", self.prog.functions[f as usize].name);
        let g = self.new_function(name.clone());
        let mut code = Vec::new();
        for i in 0..n {
            code.push(Instr::TakeField { a: 1 + i, obj: 0, i });
        }
        code.push(Instr::FreeShell { a: 0 });
        code.push(Instr::Call { base: 1, f });
        code.push(Instr::Ret { a: 1 });
        let lines = vec![0; code.len()];
        let file = self.prog.functions[f as usize].file;
        self.prog.functions[g as usize] = stark_vm::Function {
            name,
            arity: 1,
            nregs: 1 + n.max(1),
            has_env: true,
            library: true,
            code,
            lines,
            file,
            ..stark_vm::Function::default()
        };
        self.call_glue.insert(f, g);
        g
    }

    fn push_closure(&mut self, index: u32, job: ClosureJob<'a>) {
        self.jobs.push(crate::Job::Closure { index, closure: job });
    }
}

impl<'a> FnCx<'_, 'a> {
    /// `await e`: a `Future` (a deferred call) is called here, in this
    /// task; a `Task` is joined.
    pub fn await_expr(&mut self, inner: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(inner);
        let v = self.expr(inner);
        match self.c.types.kind(ty).clone() {
            TyKind::Adt(d, args) if Some(d) == self.c.lang.task => {
                let slot = self.c.slot(args[0]);
                let base = self.alloc();
                self.emit(Instr::Copy { a: base, b: v });
                self.native(Native::TaskJoin, slot, NO_LAYOUT, NO_LAYOUT, base);
                self.reset_top(base + 1);
                base
            }
            _ => {
                let callee = self.alloc();
                self.emit(Instr::Copy { a: callee, b: v });
                let base = self.alloc();
                self.emit(Instr::CallValue { base, callee });
                self.reset_top(base + 1);
                base
            }
        }
    }

    /// `spawn { .. }`, `spawn call(..)` or `spawn future`: the body becomes
    /// a function value (a closure moving its captures in, or a deferred
    /// call with its arguments evaluated here) that a new task runs.
    pub fn spawn_expr(&mut self, inner: &'a ast::Expr, e: &'a ast::Expr) -> Reg {
        let task_ty = self.ty_of(e);
        let result = match self.c.types.kind(task_ty).clone() {
            TyKind::Adt(_, args) if !args.is_empty() => self.c.slot(args[0]),
            _ => Slot::Scalar(stark_vm::NumTy::Unit),
        };
        let body = match &inner.kind {
            ExprKind::Block(_) => self.closure(&[], inner, e),
            _ => self.spawned_call(inner),
        };
        let base = self.alloc();
        self.emit(Instr::Copy { a: base, b: body });
        self.at(e.span);
        self.native(Native::TaskSpawn, result, NO_LAYOUT, NO_LAYOUT, base);
        self.reset_top(base + 1);
        base
    }

    /// Whether `f` names a local holding a function value (a closure).
    fn is_local_fn_value(&self, f: &ast::Expr) -> bool {
        match &f.kind {
            ExprKind::Path(path) => matches!(self.c.res.paths.get(&path.span).map(|p| p.res), Some(Res::Local(_))),
            _ => false,
        }
    }

    /// `f(args)` of a function value, deferred: the value and the
    /// arguments are evaluated now into an environment.
    fn deferred_value_call(&mut self, f: &'a ast::Expr, args: &'a [ast::Expr]) -> Reg {
        let fty = self.ty_of(f);
        let params = match self.c.types.kind(fty).clone() {
            TyKind::Fn(params, _) => params,
            _ => Vec::new(),
        };
        let fv = self.expr(f);
        let base = self.args_block(Some(fv), args);
        let mut fields = vec![Slot::Fn];
        fields.extend(params.iter().map(|&p| self.c.slot(p)));
        let l = self.c.prog.layouts.len() as u32;
        let kind = LayoutKind::Record { fields, tuple: true };
        self.c.prog.layouts.push(stark_vm::Layout { name: "deferred call".into(), kind });
        self.emit(Instr::New { base, l });
        let glue = self.c.apply_glue(args.len() as u16);
        let dst = self.alloc();
        self.emit(Instr::LoadFn { a: dst, f: glue });
        self.emit(Instr::SetEnv { a: dst, env: base });
        self.reset_top(dst + 1);
        dst
    }

    /// The function value a spawned call runs: a deferred call of a
    /// compiled function, or the `Future` an expression gives.
    fn spawned_call(&mut self, inner: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(inner);
        let is_future = matches!(self.c.types.kind(ty), TyKind::Adt(d, _) if Some(*d) == self.c.lang.future);
        if !is_future {
            if let ExprKind::Call(f, args) = &inner.kind {
                if self.is_local_fn_value(f) {
                    return self.deferred_value_call(f, args);
                }
            }
            let callee = match &inner.kind {
                ExprKind::Call(f, args) => match &f.kind {
                    ExprKind::Path(path) => self.callee_of(path.span).map(|c| (c, None, args)),
                    _ => None,
                },
                ExprKind::MethodCall { receiver, args, .. } => {
                    let kind = self.callee_of(inner.span).and_then(|c| match &c {
                        Callee::Fn { def, .. } => self.c.items.fns.get(def).and_then(|s| s.receiver),
                        Callee::Library { .. } => None,
                    });
                    self.callee_of(inner.span).map(|c| (c, Some((receiver.as_ref(), kind)), args))
                }
                _ => None,
            };
            match callee {
                Some((Callee::Fn { index, def, subst }, recv, args)) => {
                    let recv = recv.map(|(r, kind)| self.receiver(r, kind));
                    return self.deferred_call(index, def, &subst, recv, args);
                }
                _ => {
                    self.c.unsupported(
                        inner.span,
                        "spawning this expression (spawn a call of a function, a block, or a future)",
                    );
                    return self.unit();
                }
            }
        }
        self.expr(inner)
    }
}
