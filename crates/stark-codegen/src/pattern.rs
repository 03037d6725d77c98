//! `match` and `for`: testing patterns, binding their variables, and the
//! iteration protocols (PAT-OWN-001, PAT-DROP-001, EXEC-FOR-001).

use crate::body::{FnCx, Loop};
use crate::place::Place;
use stark_check::defs::{DefKind, Res};
use stark_check::ty::{Ty, TyKind};
use stark_syntax::ast::{self, ExprKind, Lit, PatternKind};
use stark_vm::bytecode::{CmpOp, CmpTy, Instr, NumTy, Reg};
use stark_vm::native::Native;
use stark_vm::program::{Slot, NO_LAYOUT, STR_LAYOUT};
use stark_vm::Value;

impl<'a> FnCx<'_, 'a> {
    /// `match scrutinee { arms }`.
    pub fn match_expr(&mut self, scrutinee: &'a ast::Expr, arms: &'a [ast::Arm], _e: &'a ast::Expr) -> Reg {
        let dst = self.alloc();
        let ty = self.ty_of(scrutinee);
        // A place behind a reference is matched where it is (the static
        // rules let nothing move out of it); any other scrutinee moves
        // into a hidden owner, destroyed after the arm.
        let behind_ref = self.behind_ref(scrutinee);
        let v = if behind_ref {
            let (place, pty) = self.place(scrutinee);
            self.borrow_value(place, pty)
        } else {
            self.expr(scrutinee)
        };
        let hidden = self.alloc();
        self.emit(Instr::Copy { a: hidden, b: v });
        let owns = self.c.is_object(ty) && !behind_ref;
        let mut ends = Vec::new();
        for arm in arms {
            let mut fails = Vec::new();
            self.test(&arm.pattern, hidden, ty, &mut fails);
            self.push_scope();
            self.moving_behind_ref = behind_ref;
            self.bind(&arm.pattern, Place::Reg(hidden), ty);
            self.moving_behind_ref = false;
            let mark = self.temps.len();
            let r = self.expr(&arm.body);
            self.mov(dst, r);
            self.drop_temps(mark);
            self.pop_scope();
            if owns {
                self.drop_reg(hidden, ty);
            }
            ends.push(self.jump());
            for f in fails {
                self.patch(f);
            }
        }
        let k = self.c.string_const("internal error: no match arm matched");
        let k = {
            let i = self.c.prog.consts.len() as u32;
            self.c.prog.consts.push(Value::slice(k, 0, 0));
            i
        };
        self.emit(Instr::Trap { k });
        for j in ends {
            self.patch(j);
        }
        self.reset_top(dst + 1);
        dst
    }

    /// Whether `e` is a place reached through a reference.
    fn behind_ref(&mut self, e: &'a ast::Expr) -> bool {
        match &e.kind {
            ExprKind::Paren(inner) => self.behind_ref(inner),
            ExprKind::Unary(ast::UnOp::Deref, _) => true,
            ExprKind::Field(base, _) | ExprKind::TupleField(base, _, _) | ExprKind::Index(base, _) => {
                let t = self.ty_of(base);
                matches!(self.c.types.kind(t), TyKind::Ref { .. }) || self.behind_ref(base)
            }
            _ => false,
        }
    }

    /// Whether the identifier pattern at `span` binds a variable.
    fn binds(&self, span: stark_syntax::Span) -> bool {
        self.c.local_at.contains_key(&span)
    }

    /// Emits the tests of pattern `p` against the value in `v` of type
    /// `ty`; each failing test jumps to a location pushed on `fails`.
    fn test(&mut self, p: &'a ast::Pattern, v: Reg, ty: Ty, fails: &mut Vec<usize>) {
        // Look through references: an object reference is its handle; a
        // scalar reference is loaded.
        let mut ty = ty;
        let mut v = v;
        while let TyKind::Ref { ty: inner, .. } = self.c.types.kind(ty).clone() {
            if !self.c.is_object(inner) {
                let n = self.alloc();
                self.emit(Instr::Load { a: n, r: v });
                v = n;
            }
            ty = inner;
        }
        match &p.kind {
            PatternKind::Wildcard => {}
            PatternKind::Ident(id) if self.binds(id.span) => {}
            PatternKind::Ident(_) | PatternKind::Path(_) => {
                let span = match &p.kind {
                    PatternKind::Path(path) => path.span,
                    _ => p.span,
                };
                match self.c.res.paths.get(&span).map(|r| r.res) {
                    Some(Res::Def(def)) if self.c.defs.def(def).kind == DefKind::Variant => {
                        let tag = self.c.items.variants.get(&def).map_or(0, |&(_, t)| t);
                        self.test_tag(v, tag, fails);
                    }
                    Some(Res::Def(def)) if self.c.defs.def(def).kind == DefKind::Const => {
                        if let Some(value) = self.c.items.const_exprs.get(&def) {
                            let k = self.expr(value);
                            self.test_eq(v, k, ty, fails);
                        }
                    }
                    _ => {}
                }
            }
            PatternKind::Lit(lit) => {
                let k = match lit {
                    Lit::Str(s) => self.str_const(s),
                    Lit::Int { value, .. } => match self.c.scalar(ty) {
                        Some(NumTy::F64) => self.constant(Value::f64(*value as f64)),
                        _ => self.constant(Value::from_bits(*value)),
                    },
                    Lit::Float { value, .. } => self.constant(Value::f64(*value)),
                    Lit::Char(c) => self.constant(Value::from_bits(*c as u64)),
                    Lit::Bool(b) => self.constant(Value::bool(*b)),
                };
                self.test_eq(v, k, ty, fails);
            }
            PatternKind::TupleStruct(path, items) => {
                let tag = self.variant_tag(path);
                let variants = self.c.enum_variants(ty);
                if let Some(tag) = tag {
                    self.test_tag(v, tag, fails);
                    let fields: Vec<Ty> =
                        variants.get(tag).map(|v| v.1.iter().map(|f| f.1).collect()).unwrap_or_default();
                    for (i, item) in items.iter().enumerate() {
                        if let Some(&fty) = fields.get(i) {
                            self.test_field(item, v, i as u16, fty, fails);
                        }
                    }
                }
            }
            PatternKind::Struct(path, fps) => {
                let tag = self.variant_tag(path);
                let fields: Vec<(Option<stark_syntax::Symbol>, Ty)> = match tag {
                    Some(tag) => {
                        self.test_tag(v, tag, fails);
                        self.c.enum_variants(ty).get(tag).map(|v| v.1.clone()).unwrap_or_default()
                    }
                    None => self.c.struct_fields(ty).into_iter().map(|(n, t)| (Some(n), t)).collect(),
                };
                for fp in fps {
                    if let Some(i) = fields.iter().position(|f| f.0 == Some(fp.name.name)) {
                        self.test_field(&fp.pattern, v, i as u16, fields[i].1, fails);
                    }
                }
            }
            PatternKind::Tuple(items) => {
                let tys = match self.c.types.kind(ty) {
                    TyKind::Tuple(t) => t.clone(),
                    _ => Vec::new(),
                };
                for (i, item) in items.iter().enumerate() {
                    if let Some(&fty) = tys.get(i) {
                        self.test_field(item, v, i as u16, fty, fails);
                    }
                }
            }
            PatternKind::Array(items) => {
                let elem = match self.c.types.kind(ty) {
                    TyKind::Array(e, _) | TyKind::Slice(e) => *e,
                    _ => return,
                };
                for (i, item) in items.iter().enumerate() {
                    if Self::irrefutable(item) {
                        continue;
                    }
                    let idx = self.constant(Value::int(i as i64));
                    let sub = self.alloc();
                    self.emit(Instr::Index { a: sub, list: v, i: idx });
                    self.test(item, sub, elem, fails);
                }
            }
        }
    }

    fn irrefutable(p: &'a ast::Pattern) -> bool {
        matches!(p.kind, PatternKind::Wildcard)
    }

    fn test_field(&mut self, p: &'a ast::Pattern, obj: Reg, i: u16, ty: Ty, fails: &mut Vec<usize>) {
        if Self::irrefutable(p) || matches!(&p.kind, PatternKind::Ident(id) if self.binds(id.span)) {
            return;
        }
        let sub = self.alloc();
        self.emit(Instr::GetField { a: sub, obj, i });
        self.test(p, sub, ty, fails);
    }

    fn variant_tag(&self, path: &'a ast::Path) -> Option<usize> {
        match self.c.res.paths.get(&path.span).map(|r| r.res) {
            Some(Res::Def(def)) if self.c.defs.def(def).kind == DefKind::Variant => {
                self.c.items.variants.get(&def).map(|&(_, t)| t)
            }
            _ => None,
        }
    }

    fn test_tag(&mut self, v: Reg, tag: usize, fails: &mut Vec<usize>) {
        let t = self.alloc();
        self.emit(Instr::GetTag { a: t, obj: v });
        let k = self.constant(Value::int(tag as i64));
        self.emit(Instr::EqI { a: t, b: t, c: k });
        fails.push(self.emit(Instr::JmpIfNot { a: t, off: 0 }));
    }

    fn test_eq(&mut self, v: Reg, k: Reg, ty: Ty, fails: &mut Vec<usize>) {
        let t = self.alloc();
        match self.c.scalar(ty) {
            Some(n) => {
                self.emit(Instr::Cmp { op: CmpTy::new(CmpOp::Eq, n), a: t, b: v, c: k });
            }
            None => {
                let base = self.alloc_n(2);
                self.emit(Instr::Copy { a: base, b: v });
                self.emit(Instr::Copy { a: base + 1, b: k });
                self.native(Native::Eq, Slot::Shared(STR_LAYOUT), NO_LAYOUT, NO_LAYOUT, base);
                self.emit(Instr::Copy { a: t, b: base });
            }
        }
        fails.push(self.emit(Instr::JmpIfNot { a: t, off: 0 }));
    }

    /// Binds the variables of pattern `p` (already tested) matched against
    /// `place` of type `ty`, in written order: a `Copy` part is copied, an
    /// owned part moved out of the scrutinee, and a part reached through a
    /// reference borrowed.
    pub fn bind(&mut self, p: &'a ast::Pattern, place: Place, ty: Ty) {
        match &p.kind {
            PatternKind::Ident(id) if self.binds(id.span) => {
                let Some(&local) = self.c.local_at.get(&id.span) else { return };
                let lt = self.local_ty(local);
                let by_ref = matches!(self.c.types.kind(lt), TyKind::Ref { .. })
                    && !matches!(self.c.types.kind(ty), TyKind::Ref { .. });
                // PAT-BIND-001: a non-`Copy` component of a scrutinee read
                // through a reference is borrowed in place, never moved (its
                // reference has the same representation as the value).
                let through_ref = self.moving_behind_ref && self.c.is_object(ty) && !self.c.is_copy(ty);
                let v = if by_ref || through_ref { self.borrow(place, ty) } else { self.read(place, ty) };
                let r = self.alloc();
                self.emit(Instr::Copy { a: r, b: v });
                self.locals.insert(local, r);
                if !through_ref {
                    self.own(r, lt);
                }
            }
            PatternKind::TupleStruct(..) | PatternKind::Struct(..) | PatternKind::Tuple(_) | PatternKind::Array(_) => {
                // The object: through references, its handle.
                let mut inner = ty;
                while let TyKind::Ref { ty: t, .. } = self.c.types.kind(inner).clone() {
                    inner = t;
                }
                let obj = self.borrow_value(place, ty);
                let parts = self.parts(p, inner);
                let through_ref = inner != ty;
                for (sub, i, fty) in parts {
                    let sub_place = match &sub.kind {
                        _ if matches!(self.c.types.kind(inner), TyKind::Array(..) | TyKind::Slice(_)) => {
                            let idx = self.constant(Value::int(i as i64));
                            Place::Index { list: obj, i: idx, slice: false }
                        }
                        _ => Place::Field { obj, i },
                    };
                    let fty =
                        if through_ref { self.c.types.intern(TyKind::Ref { mutable: false, ty: fty }) } else { fty };
                    let sub_place = if through_ref {
                        // Bindings through a reference take references.
                        let r = self.borrow(
                            sub_place,
                            match self.c.types.kind(fty) {
                                TyKind::Ref { ty, .. } => *ty,
                                _ => fty,
                            },
                        );
                        Place::Reg(r)
                    } else {
                        sub_place
                    };
                    self.bind(sub, sub_place, fty);
                }
            }
            _ => {}
        }
    }

    /// The sub-patterns of a compound pattern with field indexes and types.
    fn parts(&mut self, p: &'a ast::Pattern, ty: Ty) -> Vec<(&'a ast::Pattern, u16, Ty)> {
        match &p.kind {
            PatternKind::TupleStruct(path, items) => {
                let tag = self.variant_tag(path).unwrap_or(0);
                let fields = self.c.enum_variants(ty).get(tag).map(|v| v.1.clone()).unwrap_or_default();
                items.iter().zip(fields).enumerate().map(|(i, (s, f))| (s, i as u16, f.1)).collect()
            }
            PatternKind::Struct(path, fps) => {
                let fields: Vec<(Option<stark_syntax::Symbol>, Ty)> = match self.variant_tag(path) {
                    Some(tag) => self.c.enum_variants(ty).get(tag).map(|v| v.1.clone()).unwrap_or_default(),
                    None => self.c.struct_fields(ty).into_iter().map(|(n, t)| (Some(n), t)).collect(),
                };
                fps.iter()
                    .filter_map(|fp| {
                        let i = fields.iter().position(|f| f.0 == Some(fp.name.name))?;
                        Some((&fp.pattern, i as u16, fields[i].1))
                    })
                    .collect()
            }
            PatternKind::Tuple(items) => {
                let tys = match self.c.types.kind(ty) {
                    TyKind::Tuple(t) => t.clone(),
                    _ => Vec::new(),
                };
                items.iter().zip(tys).enumerate().map(|(i, (s, t))| (s, i as u16, t)).collect()
            }
            PatternKind::Array(items) => {
                let elem = match self.c.types.kind(ty) {
                    TyKind::Array(e, _) | TyKind::Slice(e) => *e,
                    _ => ty,
                };
                items.iter().enumerate().map(|(i, s)| (s, i as u16, elem)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// `for var in iter { body }`.
    pub fn for_expr(&mut self, var: ast::Ident, iter: &'a ast::Expr, body: &'a ast::Block) -> Reg {
        let dst = self.unit();
        let iter_ty = self.ty_of(iter);
        let Some(&local) = self.c.local_at.get(&var.span) else { return dst };
        let item_ty = self.local_ty(local);
        self.push_scope();
        match self.iteration(iter, iter_ty) {
            Iteration::Range { inclusive } => self.for_range(iter, inclusive, local, item_ty, body),
            Iteration::Slice => self.for_slice(iter, local, item_ty, body),
            Iteration::Consume => self.for_consume(iter, iter_ty, local, item_ty, body),
            Iteration::Protocol => self.for_protocol(iter, iter_ty, local, item_ty, body),
            Iteration::Channel => self.for_channel(iter, iter_ty, local, item_ty, body),
        }
        self.pop_scope();
        self.reset_top(dst + 1);
        dst
    }

    fn iteration(&mut self, iter: &'a ast::Expr, ty: Ty) -> Iteration {
        if let ExprKind::Range { inclusive, .. } = &iter.kind {
            return Iteration::Range { inclusive: *inclusive };
        }
        match self.c.types.kind(ty).clone() {
            TyKind::Ref { ty: inner, .. } => match self.c.types.kind(inner) {
                TyKind::Array(..) | TyKind::Slice(_) => Iteration::Slice,
                TyKind::Adt(d, _) if Some(*d) == self.c.lang.vec => Iteration::Slice,
                _ => Iteration::Protocol,
            },
            TyKind::Array(..) => Iteration::Consume,
            TyKind::Adt(d, _) if Some(d) == self.c.lang.vec => Iteration::Consume,
            TyKind::Adt(d, _) if self.c.is_std(d) && self.c.defs.def(d).name.as_str() == "Channel" => {
                Iteration::Channel
            }
            // `for x in v.iter()` walks the borrowed elements directly.
            TyKind::Adt(d, _)
                if self.c.is_std(d)
                    && self.c.defs.def(d).name.as_str() == "VecIter"
                    && matches!(&iter.kind, ExprKind::MethodCall { method, args, .. }
                        if method.name.as_str() == "iter" && args.is_empty()) =>
            {
                Iteration::Slice
            }
            _ => Iteration::Protocol,
        }
    }

    /// Opens a loop whose `continue` jumps are patched by `close_loop`.
    fn open_loop(&mut self) {
        self.loops.push(Loop {
            breaks: Vec::new(),
            continue_at: None,
            continues: Vec::new(),
            result: None,
            depth: self.scopes.len(),
        });
    }

    /// The body of one iteration, with the binding owned by its scope.
    fn iteration_body(&mut self, local: u32, item: Reg, item_ty: Ty, body: &'a ast::Block) {
        self.push_scope();
        let r = self.alloc();
        self.emit(Instr::Copy { a: r, b: item });
        self.locals.insert(local, r);
        self.own(r, item_ty);
        self.block_value(body);
        self.pop_scope();
    }

    fn patch_continues(&mut self) {
        let continues = std::mem::take(&mut self.loops.last_mut().expect("loop").continues);
        for c in continues {
            self.patch(c);
        }
    }

    fn for_range(&mut self, iter: &'a ast::Expr, inclusive: bool, local: u32, item_ty: Ty, body: &'a ast::Block) {
        let ExprKind::Range { start, end, .. } = &iter.kind else { return };
        let n = self.c.scalar(item_ty).unwrap_or(NumTy::I64);
        let i = self.alloc();
        let s = self.expr(start);
        self.mov(i, s);
        let stop = self.alloc();
        let t = self.expr(end);
        self.mov(stop, t);
        let mark = self.top;
        let head = self.code.len();
        let exit = if n == NumTy::I64 && !inclusive {
            self.emit(Instr::JmpIfNotLtI { a: i, b: stop, off: 0 })
        } else {
            let c = self.alloc();
            let op = if inclusive { CmpOp::Le } else { CmpOp::Lt };
            self.emit(Instr::Cmp { op: CmpTy::new(op, n), a: c, b: i, c: stop });
            self.emit(Instr::JmpIfNot { a: c, off: 0 })
        };
        self.open_loop();
        let item = self.alloc();
        self.emit(Instr::Copy { a: item, b: i });
        self.iteration_body(local, item, item_ty, body);
        self.patch_continues();
        // An inclusive range ends at its last value without overflowing.
        let last = if inclusive {
            let c = self.alloc();
            self.emit(Instr::EqI { a: c, b: i, c: stop });
            Some(self.emit(Instr::JmpIf { a: c, off: 0 }))
        } else {
            None
        };
        if n == NumTy::I64 {
            self.emit(Instr::AddIImm { a: i, b: i, imm: 1 });
        } else {
            let one = self.constant(Value::int(1));
            self.arith(ast::BinOp::Add, n, i, i, one);
        }
        self.reset_top(mark);
        self.jump_back(head);
        self.patch(exit);
        if let Some(l) = last {
            self.patch(l);
        }
        self.end_loop();
    }

    /// Iterating a borrowed vector, array or slice: each item is a
    /// reference to an element.
    fn for_slice(&mut self, iter: &'a ast::Expr, local: u32, item_ty: Ty, body: &'a ast::Block) {
        let v = match &iter.kind {
            ExprKind::MethodCall { receiver, method, .. } if method.name.as_str() == "iter" => self.by_ref(receiver),
            _ => self.expr(iter),
        };
        let s = self.alloc();
        self.emit(Instr::SliceAll { a: s, b: v });
        let len = self.alloc_n(1);
        self.emit(Instr::Copy { a: len, b: s });
        self.native(Native::SliceLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT, len);
        let elem = match self.c.types.kind(item_ty) {
            TyKind::Ref { ty, .. } => *ty,
            _ => item_ty,
        };
        let object = self.c.is_object(elem);
        self.index_loop(len, local, item_ty, body, |cx, item, i| {
            if object {
                cx.emit(Instr::IndexSlice { a: item, list: s, i });
            } else {
                cx.emit(Instr::RefIndexSlice { a: item, list: s, i });
            }
        });
    }

    /// `for i in 0..len`, binding what `fetch` puts in the item register.
    fn index_loop(
        &mut self,
        len: Reg,
        local: u32,
        item_ty: Ty,
        body: &'a ast::Block,
        fetch: impl FnOnce(&mut Self, Reg, Reg),
    ) {
        let i = self.alloc();
        self.emit(Instr::LoadI { a: i, imm: 0 });
        let mark = self.top;
        let head = self.code.len();
        let exit = self.emit(Instr::JmpIfNotLtI { a: i, b: len, off: 0 });
        self.open_loop();
        let item = self.alloc();
        fetch(self, item, i);
        self.iteration_body(local, item, item_ty, body);
        self.patch_continues();
        self.emit(Instr::AddIImm { a: i, b: i, imm: 1 });
        self.reset_top(mark);
        self.jump_back(head);
        self.patch(exit);
        self.end_loop();
    }

    /// Iterating a vector or array by value: each element moves into the
    /// binding; what is left is destroyed with the collection.
    fn for_consume(&mut self, iter: &'a ast::Expr, iter_ty: Ty, local: u32, item_ty: Ty, body: &'a ast::Block) {
        let v = self.expr(iter);
        let owner = self.alloc();
        self.emit(Instr::Copy { a: owner, b: v });
        self.own(owner, iter_ty);
        let len = self.alloc();
        self.emit(Instr::SliceAll { a: len, b: owner });
        self.native(Native::SliceLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT, len);
        let empty = self.alloc();
        self.emit(Instr::Clear { a: empty });
        let object = self.c.is_object(item_ty);
        self.index_loop(len, local, item_ty, body, |cx, item, i| {
            cx.emit(Instr::Index { a: item, list: owner, i });
            if object {
                let p = cx.alloc();
                cx.emit(Instr::RefIndex { a: p, list: owner, i });
                cx.emit(Instr::Store { r: p, b: empty });
            }
        });
    }

    /// `for v in ch`: receives until the channel is closed and drained,
    /// each value moved into the binding (`RecvOrJmp`: no `Option` is made).
    fn for_channel(&mut self, iter: &'a ast::Expr, iter_ty: Ty, local: u32, item_ty: Ty, body: &'a ast::Block) {
        let v = self.expr(iter);
        let ch = self.alloc();
        self.emit(Instr::Copy { a: ch, b: v });
        self.own(ch, iter_ty);
        let mark = self.top;
        let head = self.code.len();
        let item = self.alloc();
        self.emit(Instr::Copy { a: item, b: ch });
        let exit = self.emit(Instr::RecvOrJmp { base: item, off: 0 });
        self.open_loop();
        self.iteration_body(local, item, item_ty, body);
        self.patch_continues();
        self.reset_top(mark);
        self.jump_back(head);
        self.patch(exit);
        self.end_loop();
    }

    /// The general protocol: `next()` until `None`.
    fn for_protocol(&mut self, iter: &'a ast::Expr, iter_ty: Ty, local: u32, item_ty: Ty, body: &'a ast::Block) {
        let v = self.expr(iter);
        let it = self.alloc();
        self.emit(Instr::Copy { a: it, b: v });
        self.own(it, iter_ty);
        let Some(iterator) = self.c.lang.iterator else { return };
        let next = self.c.items.traits.get(&iterator).and_then(|t| t.methods.first().map(|m| m.1));
        let Some(next) = next else { return };
        let mut map = crate::types::Subst::default();
        map.insert(stark_syntax::Symbol::intern("Self"), iter_ty);
        let callee = self.c.resolve_callee(next, map);
        let option_ty = {
            let opt = self.c.lang.option.expect("Option");
            self.c.types.intern(TyKind::Adt(opt, vec![item_ty]))
        };
        let mark = self.top;
        let head = self.code.len();
        let base = self.alloc();
        self.emit(Instr::Copy { a: base, b: it });
        let fake = iter;
        let opt = match callee {
            crate::call::Callee::Fn { index, .. } => {
                self.emit(Instr::Call { base, f: index });
                base
            }
            crate::call::Callee::Library { .. } => self.iter_next(iter_ty, option_ty, base, fake.span),
        };
        let tag = self.alloc();
        self.emit(Instr::GetTag { a: tag, obj: opt });
        let exit = self.emit(Instr::JmpIf { a: tag, off: 0 });
        self.open_loop();
        let item = self.alloc();
        self.emit(Instr::TakeField { a: item, obj: opt, i: 0 });
        self.emit(Instr::FreeShell { a: opt });
        self.iteration_body(local, item, item_ty, body);
        self.patch_continues();
        self.reset_top(mark);
        self.jump_back(head);
        self.patch(exit);
        self.emit(Instr::FreeShell { a: opt });
        self.end_loop();
    }
}

/// How a `for` loop iterates.
enum Iteration {
    /// A literal integer range.
    Range { inclusive: bool },
    /// References to the elements of a borrowed vector, array or slice.
    Slice,
    /// The elements of a vector or array, moved out.
    Consume,
    /// `Iterator::next` until `None`.
    Protocol,
    /// A channel's values until it is closed and drained.
    Channel,
}
