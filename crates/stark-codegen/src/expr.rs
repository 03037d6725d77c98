//! Expressions in value context: each leaves its (owned) value in a
//! register and returns it.

use crate::body::{FnCx, Loop};
use stark_check::defs::{DefKind, Prim, Res};
use stark_check::ty::{Ty, TyKind};
use stark_syntax::ast::{self, BinOp, ExprKind, Lit, UnOp};
use stark_vm::bytecode::{ArithOp, BinOp as VmBin, CmpOp, CmpTy, Instr, NumTy, Reg};
use stark_vm::native::Native;
use stark_vm::program::{Slot, NO_LAYOUT};
use stark_vm::Value;

impl<'a> FnCx<'_, 'a> {
    /// Evaluates `e`; its value (owned, if an object) is in the result.
    pub fn expr(&mut self, e: &'a ast::Expr) -> Reg {
        match &e.kind {
            ExprKind::Lit(lit) => self.literal(lit, e),
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Path(path) => self.path_value(path, e),
            ExprKind::Field(..) | ExprKind::TupleField(..) | ExprKind::Index(..) => {
                if let ExprKind::Index(_, idx) = &e.kind {
                    if self.is_range(idx) {
                        return self.range_index(e);
                    }
                }
                let (place, ty) = self.place(e);
                self.read(place, ty)
            }
            ExprKind::Unary(UnOp::Deref, _) => {
                let (place, ty) = self.place(e);
                self.read(place, ty)
            }
            ExprKind::Unary(UnOp::Ref | UnOp::RefMut, inner) => {
                if let ExprKind::Index(_, idx) = &inner.kind {
                    if self.is_range(idx) {
                        return self.range_index(inner);
                    }
                }
                let (place, ty) = self.place(inner);
                self.borrow(place, ty)
            }
            ExprKind::Unary(op, inner) => self.unary(*op, inner, e),
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e),
            ExprKind::Assign { op, target, value } => self.assign(*op, target, value),
            ExprKind::Cast(inner, _) => self.cast(inner, e),
            ExprKind::Block(block) => self.block_expr(block),
            ExprKind::If { cond, then, else_ } => self.if_expr(cond, then, else_.as_deref()),
            ExprKind::While { cond, body } => self.while_expr(cond, body),
            ExprKind::Loop(body) => self.loop_expr(body, e),
            ExprKind::For { var, iter, body } => self.for_expr(*var, iter, body),
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, e),
            ExprKind::Call(callee, args) => self.call(callee, args, e),
            ExprKind::MethodCall { receiver, method, args } => self.method_call(receiver, *method, args, e),
            ExprKind::Tuple(items) if items.is_empty() => self.unit(),
            ExprKind::Tuple(items) => self.aggregate(items, e),
            ExprKind::Array(items) => self.array(items, e),
            ExprKind::ArrayRepeat(value, count) => self.array_repeat(value, count, e),
            ExprKind::Struct { path, fields, base } => self.struct_literal(path, fields, base.as_deref(), e),
            ExprKind::FormatStr(parts) => self.format_string(parts),
            ExprKind::Range { start, end, inclusive } => self.range_value(start, end, *inclusive, e),
            ExprKind::Try(inner) => self.try_expr(inner),
            ExprKind::Closure { params, body, .. } => self.closure(params, body, e),
            ExprKind::Await(inner) => self.await_expr(inner),
            ExprKind::Spawn(inner) => self.spawn_expr(inner, e),
            ExprKind::Select(arms) => self.select_expr(arms, e),
            ExprKind::Error => self.unit(),
        }
    }

    /// A register holding `()`.
    pub fn unit(&mut self) -> Reg {
        let r = self.alloc();
        self.emit(Instr::LoadI { a: r, imm: 0 });
        r
    }

    /// Loads a constant value.
    pub fn constant(&mut self, v: Value) -> Reg {
        let r = self.alloc();
        if v.ext == 0 && (v.bits as i64) >= i32::MIN as i64 && (v.bits as i64) <= i32::MAX as i64 {
            self.emit(Instr::LoadI { a: r, imm: v.bits as i64 as i32 });
        } else {
            let k = self.c.prog.consts.len() as u32;
            self.c.prog.consts.push(v);
            self.emit(Instr::LoadK { a: r, k });
        }
        r
    }

    /// A `&str` constant.
    pub fn str_const(&mut self, s: &str) -> Reg {
        let h = self.c.string_const(s);
        self.constant(Value::slice(h, 0, s.len() as u32))
    }

    fn literal(&mut self, lit: &Lit, e: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(e);
        match lit {
            Lit::Int { value, .. } => match self.c.scalar(ty) {
                Some(NumTy::F64) => self.constant(Value::f64(*value as f64)),
                Some(NumTy::F32) => self.constant(Value::f32(*value as f32)),
                _ => self.constant(Value::from_bits(*value)),
            },
            Lit::Float { value, .. } => match self.c.scalar(ty) {
                Some(NumTy::F32) => self.constant(Value::f32(*value as f32)),
                _ => self.constant(Value::f64(*value)),
            },
            Lit::Str(s) => self.str_const(s),
            Lit::Char(c) => self.constant(Value::from_bits(*c as u64)),
            Lit::Bool(b) => self.constant(Value::bool(*b)),
        }
    }

    fn path_value(&mut self, path: &'a ast::Path, e: &'a ast::Expr) -> Reg {
        let res = self.c.res.paths.get(&path.span).map(|p| (p.res, p.assoc_from));
        match res {
            Some((Res::Local(_), _)) => {
                let (place, ty) = self.place(e);
                self.read(place, ty)
            }
            Some((Res::Def(def), assoc)) if assoc >= path.segments.len() => match self.c.defs.def(def).kind {
                DefKind::Const => self.const_value(def, e),
                DefKind::Variant => self.variant_value(def, &[], e),
                DefKind::Fn | DefKind::Method => self.fn_value(path.span, e),
                _ => {
                    self.c.unsupported(e.span, "this kind of path as a value");
                    self.unit()
                }
            },
            _ => self.fn_value(path.span, e),
        }
    }

    /// A constant: its expression, evaluated where it is used.
    fn const_value(&mut self, def: stark_check::defs::DefId, e: &'a ast::Expr) -> Reg {
        match self.c.items.const_exprs.get(&def) {
            Some(value) => {
                let saved = std::mem::take(&mut self.subst);
                let r = self.expr(value);
                self.subst = saved;
                r
            }
            None => {
                self.c.unsupported(e.span, "this library constant");
                self.unit()
            }
        }
    }

    /// A function item used as a value.
    fn fn_value(&mut self, span: stark_syntax::Span, e: &'a ast::Expr) -> Reg {
        match self.callee_of(span) {
            Some(crate::call::Callee::Fn { index: f, .. }) => {
                let r = self.alloc();
                self.emit(Instr::LoadFn { a: r, f });
                r
            }
            _ => {
                self.c.unsupported(e.span, "a library function as a value");
                self.unit()
            }
        }
    }

    /// Builds variant `def` of an enum from payload expressions.
    pub fn variant_value(&mut self, def: stark_check::defs::DefId, args: &'a [ast::Expr], e: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(e);
        let Some(&(_, tag)) = self.c.items.variants.get(&def) else { return self.unit() };
        let base = self.alloc_n(args.len().max(1));
        for (i, a) in args.iter().enumerate() {
            let v = self.expr(a);
            self.emit(Instr::Copy { a: base + i as u16, b: v });
        }
        let l = self.c.variant_layout(ty, tag as u32);
        self.emit(Instr::New { base, l });
        self.reset_top(base + 1);
        base
    }

    fn unary(&mut self, op: UnOp, inner: &'a ast::Expr, e: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(e);
        // Constant folding of a negated literal (which may be a type's minimum).
        if let (UnOp::Neg, ExprKind::Lit(Lit::Int { value, .. })) = (op, &inner.kind) {
            match self.c.scalar(ty) {
                Some(NumTy::F64) => return self.constant(Value::f64(-(*value as f64))),
                Some(NumTy::F32) => return self.constant(Value::f32(-(*value as f32))),
                _ => return self.constant(Value::int((*value as i64).wrapping_neg())),
            }
        }
        if let (UnOp::Neg, ExprKind::Lit(Lit::Float { value, .. })) = (op, &inner.kind) {
            return match self.c.scalar(ty) {
                Some(NumTy::F32) => self.constant(Value::f32(-(*value as f32))),
                _ => self.constant(Value::f64(-*value)),
            };
        }
        let v = self.expr(inner);
        let n = self.c.scalar(ty).unwrap_or(NumTy::I64);
        let dst = self.alloc();
        match op {
            UnOp::Neg => self.emit(Instr::Neg { ty: n, a: dst, b: v }),
            _ => self.emit(Instr::Not { ty: n, a: dst, b: v }),
        };
        dst
    }

    fn binary(&mut self, op: BinOp, a: &'a ast::Expr, b: &'a ast::Expr, e: &'a ast::Expr) -> Reg {
        if matches!(op, BinOp::And | BinOp::Or) {
            let dst = self.alloc();
            let x = self.expr(a);
            self.mov(dst, x);
            let j = if op == BinOp::And {
                self.emit(Instr::JmpIfNot { a: dst, off: 0 })
            } else {
                self.emit(Instr::JmpIf { a: dst, off: 0 })
            };
            let y = self.expr(b);
            self.mov(dst, y);
            self.patch(j);
            return dst;
        }
        let operand_ty = self.ty_of(a);
        if matches!(op, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) {
            return self.comparison(op, a, b, operand_ty);
        }
        if let Some(r) = self.tensor_binary(op, a, b, e.span) {
            return r;
        }
        let x = self.operand(a, b);
        let y = self.expr(b);
        let dst = self.alloc();
        let n = self.c.scalar(operand_ty).unwrap_or(NumTy::I64);
        self.arith(op, n, dst, x, y);
        dst
    }

    /// Evaluates a left operand, copying it out of a local when the right
    /// operand might change that local first.
    fn operand(&mut self, a: &'a ast::Expr, b: &'a ast::Expr) -> Reg {
        let x = self.expr(a);
        let simple = matches!(b.kind, ExprKind::Lit(_) | ExprKind::Path(_));
        if simple || x >= self.top.saturating_sub(1) {
            x
        } else {
            let t = self.alloc();
            self.emit(Instr::Copy { a: t, b: x });
            t
        }
    }

    /// `dst := x op y` at scalar type `n`.
    pub fn arith(&mut self, op: BinOp, n: NumTy, dst: Reg, x: Reg, y: Reg) {
        let vm = match op {
            BinOp::Add => VmBin::Add,
            BinOp::Sub => VmBin::Sub,
            BinOp::Mul => VmBin::Mul,
            BinOp::Div => VmBin::Div,
            BinOp::Rem => VmBin::Rem,
            BinOp::Pow => VmBin::Pow,
            BinOp::BitAnd => VmBin::BitAnd,
            BinOp::BitOr => VmBin::BitOr,
            BinOp::BitXor => VmBin::BitXor,
            BinOp::Shl => VmBin::Shl,
            _ => VmBin::Shr,
        };
        let (a, b, c) = (dst, x, y);
        let instr = match (vm, n) {
            (VmBin::Add, NumTy::I64) => Instr::AddI { a, b, c },
            (VmBin::Sub, NumTy::I64) => Instr::SubI { a, b, c },
            (VmBin::Mul, NumTy::I64) => Instr::MulI { a, b, c },
            (VmBin::Add, NumTy::F64) => Instr::AddF { a, b, c },
            (VmBin::Sub, NumTy::F64) => Instr::SubF { a, b, c },
            (VmBin::Mul, NumTy::F64) => Instr::MulF { a, b, c },
            (VmBin::Div, NumTy::F64) => Instr::DivF { a, b, c },
            (op, n) => Instr::Arith { op: ArithOp::new(op, n), a, b, c },
        };
        self.emit(instr);
    }

    fn comparison(&mut self, op: BinOp, a: &'a ast::Expr, b: &'a ast::Expr, ty: Ty) -> Reg {
        let cmp = match op {
            BinOp::Eq => CmpOp::Eq,
            BinOp::Ne => CmpOp::Ne,
            BinOp::Lt => CmpOp::Lt,
            BinOp::Le => CmpOp::Le,
            BinOp::Gt => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        if let Some(n) = self.c.scalar(ty) {
            let x = self.operand(a, b);
            let y = self.expr(b);
            let dst = self.alloc();
            let (a, b, c) = (dst, x, y);
            let instr = match (cmp, n) {
                (CmpOp::Lt, NumTy::I64) => Instr::LtI { a, b, c },
                (CmpOp::Le, NumTy::I64) => Instr::LeI { a, b, c },
                (CmpOp::Lt, NumTy::F64) => Instr::LtF { a, b, c },
                (CmpOp::Eq, n) if !n.is_float() => Instr::EqI { a, b, c },
                (CmpOp::Ne, n) if !n.is_float() => Instr::NeI { a, b, c },
                (op, n) => Instr::Cmp { op: CmpTy::new(op, n), a, b, c },
            };
            self.emit(instr);
            return dst;
        }
        // Objects (and references): compared through `Eq`/`Ord`, by
        // reference, so neither operand is consumed.
        let x = self.by_ref(a);
        let y = self.by_ref(b);
        self.compare_values(cmp, x, y, ty)
    }

    /// `x cmp y` for two references to values of type `ty` (or `ty`
    /// itself a reference type).
    pub fn compare_values(&mut self, cmp: CmpOp, x: Reg, y: Reg, ty: Ty) -> Reg {
        let inner = match self.c.types.kind(ty).clone() {
            TyKind::Ref { ty, .. } => ty,
            _ => ty,
        };
        let is_eq = matches!(cmp, CmpOp::Eq | CmpOp::Ne);
        let trait_ = if is_eq { self.c.lang.eq } else { self.c.lang.ord };
        let method = if is_eq { "eq" } else { "cmp" };
        let dst;
        if let Some(f) = trait_.and_then(|t| self.user_trait_method(t, inner, method)) {
            let base = self.alloc_n(2);
            self.mov(base, x);
            self.mov(base + 1, y);
            self.emit(Instr::Call { base, f });
            if is_eq {
                if cmp == CmpOp::Ne {
                    self.emit(Instr::Not { ty: NumTy::Bool, a: base, b: base });
                }
                return base;
            }
            // An `Ordering` object: its tag is 0, 1 or 2 for Less, Equal, Greater.
            let t = self.alloc();
            self.emit(Instr::GetTag { a: t, obj: base });
            self.emit(Instr::Drop { a: base });
            let one = self.constant(Value::int(1));
            dst = self.alloc();
            self.emit(Instr::SubI { a: t, b: t, c: one });
            let zero = self.constant(Value::int(0));
            self.emit(Instr::Cmp { op: CmpTy::new(cmp, NumTy::I64), a: dst, b: t, c: zero });
            return dst;
        }
        // A tuple holding values with their own `Eq`: element by element.
        if let (true, TyKind::Tuple(items)) = (is_eq, self.c.types.kind(inner).clone()) {
            if self.has_user_impl(inner, &["Eq"]) {
                return self.tuple_eq(cmp, x, y, &items);
            }
        }
        // The VM compares structurally: a user law inside (an option of
        // values with their own `Eq`, say) would be bypassed.
        let law = if is_eq { "Eq" } else { "Ord" };
        if self.has_user_impl(inner, &[law]) {
            let shown = self.c.types.display(inner, self.c.defs);
            let span = self.cur_span;
            self.c.unsupported(span, &format!("comparing `{shown}`, whose parts have a user `{law}`"));
        }
        let slot = self.c.slot(inner);
        let slot = match slot {
            Slot::Owned(l) => Slot::Shared(l),
            s => s,
        };
        let base = self.alloc_n(2);
        self.mov(base, x);
        self.mov(base + 1, y);
        let (x, y) = (base, base + 1);
        let scalar_ref = matches!(self.c.types.kind(ty), TyKind::Ref { .. }) && self.c.scalar(inner).is_some();
        if scalar_ref {
            self.emit(Instr::Load { a: x, r: x });
            self.emit(Instr::Load { a: y, r: y });
            let n = self.c.scalar(inner).unwrap_or(NumTy::I64);
            dst = self.alloc();
            self.emit(Instr::Cmp { op: CmpTy::new(cmp, n), a: dst, b: x, c: y });
            return dst;
        }
        if is_eq {
            self.native(Native::Eq, slot, NO_LAYOUT, NO_LAYOUT, base);
            if cmp == CmpOp::Ne {
                self.emit(Instr::Not { ty: NumTy::Bool, a: base, b: base });
            }
            return base;
        }
        self.native(Native::Compare, slot, NO_LAYOUT, NO_LAYOUT, base);
        let zero = self.constant(Value::int(0));
        dst = self.alloc();
        self.emit(Instr::Cmp { op: CmpTy::new(cmp, NumTy::I64), a: dst, b: base, c: zero });
        dst
    }

    /// `x == y` (or `!=`) for references to tuples of types `items`: each
    /// pair of elements through its own `==`, stopping at the first
    /// unequal pair.
    fn tuple_eq(&mut self, cmp: CmpOp, x: Reg, y: Reg, items: &[Ty]) -> Reg {
        let dst = self.alloc();
        let mut exits = Vec::new();
        for (i, &ty) in items.iter().enumerate() {
            let fx = self.borrow(crate::place::Place::Field { obj: x, i: i as u16 }, ty);
            let fy = self.borrow(crate::place::Place::Field { obj: y, i: i as u16 }, ty);
            let ref_ty = self.c.types.intern(TyKind::Ref { mutable: false, ty });
            let same = self.compare_values(CmpOp::Eq, fx, fy, ref_ty);
            self.mov(dst, same);
            exits.push(self.emit(Instr::JmpIfNot { a: dst, off: 0 }));
        }
        if items.is_empty() {
            let t = self.constant(Value::bool(true));
            self.mov(dst, t);
        }
        for j in exits {
            self.patch(j);
        }
        if cmp == CmpOp::Ne {
            self.emit(Instr::Not { ty: NumTy::Bool, a: dst, b: dst });
        }
        dst
    }

    /// A reference to `e`'s value: the place borrowed, or (for a
    /// reference-typed expression) its value.
    pub fn by_ref(&mut self, e: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(e);
        if matches!(self.c.types.kind(ty), TyKind::Ref { .. }) {
            return self.expr(e);
        }
        let (place, ty) = self.place(e);
        self.borrow(place, ty)
    }

    /// Emits a native call at `base`.
    pub fn native(&mut self, native: Native, slot: Slot, layout: u32, aux: u32, base: Reg) {
        let site = self.c.prog.sites.len() as u32;
        self.c.prog.sites.push(stark_vm::Site { native, slot, layout, aux });
        self.emit(Instr::Native { base, site });
    }

    fn assign(&mut self, op: Option<BinOp>, target: &'a ast::Expr, value: &'a ast::Expr) -> Reg {
        let v = self.expr(value);
        let v = {
            let r = self.alloc();
            self.emit(Instr::Copy { a: r, b: v });
            r
        };
        let (place, ty) = self.place(target);
        match op {
            None => self.write(place, ty, v),
            Some(op) => {
                let old = self.borrow_value(place, ty);
                let n = self.c.scalar(ty).unwrap_or(NumTy::I64);
                let dst = self.alloc();
                self.arith(op, n, dst, old, v);
                self.write(place, ty, dst);
            }
        }
        self.unit()
    }

    fn cast(&mut self, inner: &'a ast::Expr, e: &'a ast::Expr) -> Reg {
        let from_ty = self.ty_of(inner);
        let to_ty = self.ty_of(e);
        let v = self.expr(inner);
        let (Some(from), Some(to)) = (self.c.scalar(from_ty), self.c.scalar(to_ty)) else {
            return v;
        };
        if from == to {
            return v;
        }
        let dst = self.alloc();
        self.emit(Instr::Cast { from, to, a: dst, b: v });
        dst
    }

    fn block_expr(&mut self, block: &'a ast::Block) -> Reg {
        match self.block_value(block) {
            Some(r) => r,
            None => self.unit(),
        }
    }

    fn if_expr(&mut self, cond: &'a ast::Expr, then: &'a ast::Block, else_: Option<&'a ast::Expr>) -> Reg {
        let dst = self.alloc();
        let mark = self.temps.len();
        let c = self.expr(cond);
        self.drop_temps(mark);
        let j = self.emit(Instr::JmpIfNot { a: c, off: 0 });
        let v = self.block_expr(then);
        self.mov(dst, v);
        self.reset_top(dst + 1);
        match else_ {
            Some(else_) => {
                let end = self.jump();
                self.patch(j);
                let v = self.expr(else_);
                self.mov(dst, v);
                self.patch(end);
            }
            None => self.patch(j),
        }
        self.reset_top(dst + 1);
        dst
    }

    fn while_expr(&mut self, cond: &'a ast::Expr, body: &'a ast::Block) -> Reg {
        let dst = self.unit();
        let start = self.code.len();
        let mark = self.temps.len();
        let c = self.expr(cond);
        self.drop_temps(mark);
        let exit = self.emit(Instr::JmpIfNot { a: c, off: 0 });
        self.loops.push(Loop {
            breaks: Vec::new(),
            continue_at: Some(start),
            continues: Vec::new(),
            result: None,
            depth: self.scopes.len(),
        });
        self.block_expr(body);
        self.reset_top(dst + 1);
        self.jump_back(start);
        self.patch(exit);
        self.end_loop();
        dst
    }

    fn loop_expr(&mut self, body: &'a ast::Block, _e: &'a ast::Expr) -> Reg {
        let dst = self.unit();
        let start = self.code.len();
        self.loops.push(Loop {
            breaks: Vec::new(),
            continue_at: Some(start),
            continues: Vec::new(),
            result: Some(dst),
            depth: self.scopes.len(),
        });
        self.block_expr(body);
        self.reset_top(dst + 1);
        self.jump_back(start);
        self.end_loop();
        dst
    }

    /// Closes the innermost loop: its breaks land here.
    pub fn end_loop(&mut self) {
        let l = self.loops.pop().expect("loop");
        for b in l.breaks {
            self.patch(b);
        }
    }

    fn aggregate(&mut self, items: &'a [ast::Expr], e: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(e);
        let base = self.alloc_n(items.len());
        for (i, item) in items.iter().enumerate() {
            let v = self.expr(item);
            self.emit(Instr::Copy { a: base + i as u16, b: v });
        }
        let l = self.c.layout(ty);
        self.emit(Instr::New { base, l });
        self.reset_top(base + 1);
        base
    }

    fn array(&mut self, items: &'a [ast::Expr], e: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(e);
        let base = self.alloc_n(items.len() + 1);
        self.emit(Instr::LoadI { a: base, imm: items.len() as i32 });
        for (i, item) in items.iter().enumerate() {
            let v = self.expr(item);
            self.emit(Instr::Copy { a: base + 1 + i as u16, b: v });
        }
        let l = self.c.layout(ty);
        self.emit(Instr::New { base, l });
        self.reset_top(base + 1);
        base
    }

    fn array_repeat(&mut self, value: &'a ast::Expr, _count: &'a ast::Expr, e: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(e);
        let (elem, n) = match self.c.types.kind(ty) {
            TyKind::Array(elem, n) => (*elem, *n as usize),
            _ => return self.unit(),
        };
        let v = self.expr(value);
        let object = self.c.is_object(elem);
        let base = self.alloc_n(n + 1);
        self.emit(Instr::LoadI { a: base, imm: n as i32 });
        for i in 0..n {
            if object {
                self.emit(Instr::Clone { a: base + 1 + i as u16, b: v });
            } else {
                self.emit(Instr::Copy { a: base + 1 + i as u16, b: v });
            }
        }
        if object {
            self.emit(Instr::Drop { a: v });
        }
        let l = self.c.layout(ty);
        self.emit(Instr::New { base, l });
        self.reset_top(base + 1);
        base
    }

    fn struct_literal(
        &mut self,
        path: &'a ast::Path,
        fields: &'a [ast::FieldInit],
        base_expr: Option<&'a ast::Expr>,
        e: &'a ast::Expr,
    ) -> Reg {
        let ty = self.ty_of(e);
        // A struct-like enum variant.
        if let Some(Res::Def(def)) = self.c.res.paths.get(&path.span).map(|p| p.res) {
            if self.c.defs.def(def).kind == DefKind::Variant {
                let Some(&(_, tag)) = self.c.items.variants.get(&def) else { return self.unit() };
                let variants = self.c.enum_variants(ty);
                let names: Vec<Option<stark_syntax::Symbol>> = variants[tag].1.iter().map(|(n, _)| *n).collect();
                let base = self.alloc_n(names.len().max(1));
                for f in fields {
                    let v = self.expr(&f.value);
                    let i = names.iter().position(|n| *n == Some(f.name.name)).unwrap_or(0);
                    self.emit(Instr::Copy { a: base + i as u16, b: v });
                }
                let l = self.c.variant_layout(ty, tag as u32);
                self.emit(Instr::New { base, l });
                self.reset_top(base + 1);
                return base;
            }
        }
        let decl = self.c.struct_fields(ty);
        let base = self.alloc_n(decl.len().max(1));
        // Written order is evaluation order; declaration order is layout.
        for f in fields {
            let v = self.expr(&f.value);
            let i = decl.iter().position(|(n, _)| *n == f.name.name).unwrap_or(0);
            self.emit(Instr::Copy { a: base + i as u16, b: v });
        }
        if let Some(b) = base_expr {
            let src = self.expr(b);
            for (i, (name, fty)) in decl.iter().enumerate() {
                if fields.iter().any(|f| f.name.name == *name) {
                    continue;
                }
                let r = base + i as u16;
                if self.c.is_object(*fty) && !self.c.is_copy(*fty) {
                    self.emit(Instr::TakeField { a: r, obj: src, i: i as u16 });
                } else if self.c.is_object(*fty) {
                    let t = self.alloc();
                    self.emit(Instr::GetField { a: t, obj: src, i: i as u16 });
                    self.emit(Instr::Clone { a: r, b: t });
                } else {
                    self.emit(Instr::GetField { a: r, obj: src, i: i as u16 });
                }
            }
            let bty = self.ty_of(b);
            self.drop_reg(src, bty);
        }
        let l = self.c.layout(ty);
        self.emit(Instr::New { base, l });
        self.reset_top(base + 1);
        base
    }

    fn is_range(&mut self, e: &'a ast::Expr) -> bool {
        let ty = self.ty_of(e);
        matches!(self.c.types.kind(ty), TyKind::Adt(d, _)
            if Some(*d) == self.c.lang.range || Some(*d) == self.c.lang.range_inclusive)
    }

    /// `base[a..b]`: a slice (or `&str`) view.
    fn range_index(&mut self, e: &'a ast::Expr) -> Reg {
        let ExprKind::Index(base, idx) = &e.kind else { return self.unit() };
        let (obj, obj_ty) = self.object_of(base);
        let is_str = matches!(self.c.types.kind(obj_ty), TyKind::Prim(Prim::Str)) || Some(obj_ty) == self.c.string_ty();
        let call = self.alloc_n(3);
        // A whole object is viewed as a slice first.
        let already_slice = matches!(self.c.types.kind(obj_ty), TyKind::Slice(_) | TyKind::Prim(Prim::Str));
        if already_slice {
            self.mov(call, obj);
        } else {
            self.emit(Instr::SliceAll { a: call, b: obj });
        }
        let ExprKind::Range { start, end, inclusive } = &idx.kind else {
            self.c.unsupported(idx.span, "indexing with a range value that is not a literal range");
            return call;
        };
        let s = self.expr(start);
        self.mov(call + 1, s);
        let t = self.expr(end);
        self.mov(call + 2, t);
        if *inclusive {
            self.emit(Instr::AddIImm { a: call + 2, b: call + 2, imm: 1 });
        }
        let native = if is_str { Native::StrRange } else { Native::SliceRange };
        self.native(native, Slot::Scalar(NumTy::Unit), NO_LAYOUT, NO_LAYOUT, call);
        self.reset_top(call + 1);
        call
    }

    fn range_value(&mut self, start: &'a ast::Expr, end: &'a ast::Expr, _inclusive: bool, e: &'a ast::Expr) -> Reg {
        let ty = self.ty_of(e);
        let base = self.alloc_n(2);
        let s = self.expr(start);
        self.mov(base, s);
        let t = self.expr(end);
        self.mov(base + 1, t);
        let l = self.c.layout(ty);
        self.emit(Instr::New { base, l });
        self.reset_top(base + 1);
        base
    }

    /// `f"..."`: a new `String`, each field rendered in order (STD-FORMAT-002).
    fn format_string(&mut self, parts: &'a [ast::FmtPart]) -> Reg {
        let out = self.alloc();
        self.native(Native::StringNew, Slot::Fn, NO_LAYOUT, NO_LAYOUT, out);
        for part in parts {
            let mark = self.top;
            let piece = self.alloc_n(2);
            self.emit(Instr::Copy { a: piece, b: out });
            match part {
                ast::FmtPart::Text(text) => {
                    let k = self.str_const(text);
                    self.emit(Instr::Copy { a: piece + 1, b: k });
                    self.native(Native::StrAppendStr, Slot::Fn, NO_LAYOUT, NO_LAYOUT, piece);
                }
                ast::FmtPart::Field { expr, spec } => {
                    let ty = self.ty_of(expr);
                    let v = self.by_ref(expr);
                    // What `v` holds: a reference to the field's value.
                    let ref_ty = match self.c.types.kind(ty) {
                        TyKind::Ref { .. } => ty,
                        _ => self.c.types.intern(TyKind::Ref { mutable: false, ty }),
                    };
                    let numeric = spec.as_ref().is_some_and(|s| {
                        s.sign.is_some() || s.alternate || s.zero || s.precision.is_some() || s.ty.is_some()
                    });
                    let text = match spec {
                        Some(spec) if numeric => {
                            let mut inner = ref_ty;
                            let mut r = v;
                            while let TyKind::Ref { ty: t, .. } = self.c.types.kind(inner).clone() {
                                let n = self.alloc();
                                self.emit(Instr::Load { a: n, r });
                                r = n;
                                inner = t;
                            }
                            let n = self.c.scalar(inner).unwrap_or(NumTy::I64);
                            let s = self.alloc();
                            self.emit(Instr::Copy { a: s, b: r });
                            let aux = self.spec(spec);
                            self.native(Native::FormatNum, Slot::Scalar(n), NO_LAYOUT, aux, s);
                            s
                        }
                        Some(spec) => {
                            let s = self.display_string(v, ref_ty);
                            let aux = self.spec(spec);
                            let slot = self.c.slot(ty);
                            self.native(Native::Pad, slot, NO_LAYOUT, aux, s);
                            s
                        }
                        None => self.display_string(v, ref_ty),
                    };
                    self.emit(Instr::Copy { a: piece + 1, b: text });
                    self.native(Native::StrAppend, Slot::Fn, NO_LAYOUT, NO_LAYOUT, piece);
                }
            }
            self.reset_top(mark);
        }
        out
    }

    /// Registers a format specification; its index.
    fn spec(&mut self, spec: &stark_syntax::lexer::FormatSpec) -> u32 {
        self.c.prog.specs.push(stark_vm::format::Spec {
            fill: spec.fill,
            align: spec.align,
            sign: spec.sign,
            alternate: spec.alternate,
            zero: spec.zero,
            width: spec.width,
            precision: spec.precision,
            ty: spec.ty,
        });
        (self.c.prog.specs.len() - 1) as u32
    }

    /// `e?`: unwraps `Some`/`Ok`, or returns `None`/`Err` from the function.
    fn try_expr(&mut self, inner: &'a ast::Expr) -> Reg {
        let inner_ty = self.ty_of(inner);
        let v = self.expr(inner);
        let holder = self.alloc();
        self.emit(Instr::Copy { a: holder, b: v });
        let tag = self.alloc();
        self.emit(Instr::GetTag { a: tag, obj: holder });
        let is_option = matches!(self.c.types.kind(inner_ty), TyKind::Adt(d, _) if Some(*d) == self.c.lang.option);
        // Some/Ok are variant 0.
        let ok = self.emit(Instr::JmpIfNot { a: tag, off: 0 });
        // The failure: rebuilt in the function's own return type.
        let ret_ty = self.ret_ty;
        let out = if is_option {
            self.emit(Instr::Drop { a: holder });
            let base = self.alloc();
            let l = self.c.variant_layout(ret_ty, 1);
            self.emit(Instr::New { base, l });
            base
        } else {
            let base = self.alloc();
            self.emit(Instr::TakeField { a: base, obj: holder, i: 0 });
            self.emit(Instr::FreeShell { a: holder });
            let l = self.c.variant_layout(ret_ty, 1);
            self.emit(Instr::New { base, l });
            base
        };
        let keep = self.alloc();
        self.emit(Instr::Copy { a: keep, b: out });
        let temps = self.temps.clone();
        for &(t, ty) in temps.iter().rev() {
            self.drop_reg(t, ty);
        }
        self.exit_scopes(0);
        self.emit(Instr::Ret { a: keep });
        self.patch(ok);
        let dst = self.alloc();
        self.emit(Instr::TakeField { a: dst, obj: holder, i: 0 });
        self.emit(Instr::FreeShell { a: holder });
        dst
    }
}
