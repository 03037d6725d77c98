//! `select`: every arm's operation is evaluated (a channel and a value to
//! send, a timer, a task to join: a future is started as a task) into one
//! `Native::Select` block; the runtime completes one, whose index and
//! value come back in the block's first two registers, and its arm runs.

use crate::body::FnCx;
use crate::place::Place;
use stark_check::ty::{Ty, TyKind};
use stark_syntax::ast::{self, ExprKind, PatternKind, ReceiverKind};
use stark_vm::bytecode::{Instr, Reg};
use stark_vm::native::Native;
use stark_vm::program::{SelectOp, Slot, NO_LAYOUT};
use stark_vm::Value;

impl<'a> FnCx<'_, 'a> {
    /// `select { p = op => body, .. }`.
    pub fn select_expr(&mut self, arms: &'a [ast::SelectArm], e: &'a ast::Expr) -> Reg {
        let dst = self.alloc();
        let base = self.alloc_n(2 + 2 * arms.len());
        let mut ops = Vec::with_capacity(arms.len());
        let mut bound = Vec::with_capacity(arms.len());
        for (i, arm) in arms.iter().enumerate() {
            let (a, b) = (base + 2 + 2 * i as Reg, base + 3 + 2 * i as Reg);
            let (op, ty) = self.select_op(&arm.op, a, b);
            ops.push(op);
            bound.push(ty);
        }
        let table = self.c.prog.selects.len() as u32;
        self.c.prog.selects.push(ops);
        self.at(e.span);
        self.native(Native::Select(arms.len() as u16), Slot::Fn, NO_LAYOUT, table, base);
        let mut ends = Vec::new();
        for (i, (arm, ty)) in arms.iter().zip(bound).enumerate() {
            let k = self.constant(Value::int(i as i64));
            let hit = self.alloc();
            self.emit(Instr::EqI { a: hit, b: base, c: k });
            let skip = self.emit(Instr::JmpIfNot { a: hit, off: 0 });
            self.push_scope();
            if matches!(arm.pattern.kind, PatternKind::Wildcard) {
                self.drop_reg(base + 1, ty);
            } else {
                self.bind(&arm.pattern, Place::Reg(base + 1), ty);
            }
            let mark = self.temps.len();
            let r = self.expr(&arm.body);
            self.mov(dst, r);
            self.drop_temps(mark);
            self.pop_scope();
            ends.push(self.jump());
            self.patch(skip);
        }
        for end in ends {
            self.patch(end);
        }
        self.reset_top(dst + 1);
        dst
    }

    /// Evaluates the operands of one arm into `a` and `b`: what it waits
    /// on, and the type of the value it gives.
    fn select_op(&mut self, op: &'a ast::Expr, a: Reg, b: Reg) -> (SelectOp, Ty) {
        let ty = self.ty_of(op);
        if let ExprKind::MethodCall { receiver, method, args } = &op.kind {
            let recv_ty = self.ty_of(receiver);
            let recv_ty = self.deref_ty(recv_ty);
            let is = |cx: &Self, item: Option<stark_check::defs::DefId>| matches!(cx.c.types.kind(recv_ty), TyKind::Adt(d, _) if Some(*d) == item);
            match method.name.as_str() {
                "recv" if is(self, self.c.lang.channel) && args.is_empty() => {
                    let ch = self.receiver_ref(receiver);
                    self.emit(Instr::Copy { a, b: ch });
                    let option = self.c.layout(ty);
                    return (SelectOp::Recv { option }, ty);
                }
                "send" if is(self, self.c.lang.channel) && args.len() == 1 => {
                    let ch = self.receiver_ref(receiver);
                    self.emit(Instr::Copy { a, b: ch });
                    let value_ty = self.ty_of(&args[0]);
                    let v = self.expr(&args[0]);
                    self.emit(Instr::Copy { a: b, b: v });
                    return (SelectOp::Send { slot: self.c.slot(value_ty) }, ty);
                }
                "join" if is(self, self.c.lang.task) && args.is_empty() => {
                    let t = self.expr(receiver);
                    self.emit(Instr::Copy { a, b: t });
                    return (SelectOp::Join { slot: self.c.slot(ty), started: false }, ty);
                }
                // Anything else named `recv`/`send` would block right here.
                "recv" | "send" | "ask" => {
                    self.c.unsupported(op.span, "`select` on this operation (channel receive and send, timers, tasks and futures are supported)");
                    return (SelectOp::Sleep, ty);
                }
                _ => {}
            }
        }
        if let ExprKind::Call(callee, args) = &op.kind {
            if let ExprKind::Path(path) = &callee.kind {
                // The library's `sleep`, not a user function of that name.
                let res = self.c.res.paths.get(&path.span).map(|p| p.res);
                let is_sleep = matches!(res, Some(stark_check::defs::Res::Def(d))
                    if self.c.is_std(d) && self.c.defs.def(d).name.as_str() == "sleep");
                if is_sleep && args.len() == 1 {
                    let d = self.expr(&args[0]);
                    self.emit(Instr::Copy { a: b, b: d });
                    return (SelectOp::Sleep, ty);
                }
            }
        }
        // A future starts as a task; a task is joined.
        let value_ty = match self.c.types.kind(ty).clone() {
            TyKind::Adt(_, args) if !args.is_empty() => args[0],
            _ => ty,
        };
        let slot = self.c.slot(value_ty);
        let v = self.expr(op);
        self.emit(Instr::Copy { a, b: v });
        let started = matches!(self.c.types.kind(ty), TyKind::Adt(d, _) if Some(*d) == self.c.lang.future);
        if started {
            self.native(Native::TaskSpawn, slot, NO_LAYOUT, NO_LAYOUT, a);
        }
        (SelectOp::Join { slot, started }, value_ty)
    }

    /// The handle of a `&self` receiver (a channel).
    fn receiver_ref(&mut self, receiver: &'a ast::Expr) -> Reg {
        self.receiver(receiver, Some(ReceiverKind::Ref))
    }

    fn deref_ty(&self, mut ty: Ty) -> Ty {
        while let TyKind::Ref { ty: inner, .. } = self.c.types.kind(ty) {
            ty = *inner;
        }
        ty
    }
}
