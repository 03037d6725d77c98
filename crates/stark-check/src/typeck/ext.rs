//! The AI extension's expressions (LANGUAGE.md sections 2, 3 and 6):
//! closures with their captures, `await`, `spawn` and `select`.

use super::{Capture, CaptureFrame, FnCtxt, InitState};
use crate::ty::{Ty, TyKind};
use stark_syntax::ast::{self, ExprKind};
use stark_syntax::{Diagnostic, Span};

/// What the enclosing body was doing when a nested body (closure or
/// spawned block) started, restored when it ends.
struct Saved {
    ret: Ty,
    loops: Vec<super::LoopCtx>,
    diverges: bool,
    init: InitState,
}

impl FnCtxt<'_, '_> {
    /// `|params| body`: parameter types come from annotations or from the
    /// expected `fn` type; the closure's type is `fn(A..) -> R`.
    pub(crate) fn closure(
        &mut self,
        span: Span,
        is_move: bool,
        params: &[ast::ClosureParam],
        ret: Option<&ast::Type>,
        body: &ast::Expr,
        expected: Option<Ty>,
    ) -> Ty {
        let expected_fn =
            expected.map(|e| self.infer.resolve(self.types, e)).and_then(|e| match self.types.kind(e).clone() {
                TyKind::Fn(ps, r) if ps.len() == params.len() => Some((ps, r)),
                _ => None,
            });
        let mut param_tys = Vec::with_capacity(params.len());
        for (i, param) in params.iter().enumerate() {
            let hint = expected_fn.as_ref().map(|(ps, _)| ps[i]);
            let ty = match (&param.ty, hint) {
                (Some(written), hint) => {
                    let ty = self.lower_ty(written);
                    if let Some(hint) = hint {
                        self.coerce(hint, ty, param.name.span, None);
                    }
                    ty
                }
                (None, Some(hint)) => hint,
                (None, None) => self.infer.var(self.types),
            };
            self.bind_local_at(param.name.span, ty);
            param_tys.push(ty);
        }
        let ret_ty = match (ret, &expected_fn) {
            (Some(written), _) => self.lower_ty(written),
            (None, Some((_, r))) => *r,
            (None, None) => self.infer.var(self.types),
        };
        let saved = self.enter_body(span, ret_ty, is_move);
        let found = self.expr(body, Some(ret_ty));
        if !self.diverges {
            let origin = ret.map(|r| (r.span, "return type declared here"));
            self.coerce(found, ret_ty, body.span, origin);
        }
        self.leave_body(span, saved);
        self.types.intern(TyKind::Fn(param_tys, ret_ty))
    }

    /// `spawn call(..)` or `spawn { .. }`: a `Task` of the call's value (a
    /// spawned `Future<T>` gives `Task<T>`) or of the block's value.
    pub(crate) fn spawn_expr(&mut self, span: Span, inner: &ast::Expr) -> Ty {
        let value = match &inner.kind {
            ExprKind::Block(block) => {
                let ret = self.infer.var(self.types);
                let saved = self.enter_body(span, ret, true);
                let found = self.block(block, Some(ret));
                if !self.diverges {
                    self.coerce(found, ret, block.span, None);
                }
                self.leave_body(span, saved);
                ret
            }
            _ => {
                let ty = self.expr(inner, None);
                self.awaited(ty).unwrap_or(ty)
            }
        };
        match self.env.lang.task {
            Some(task) => self.types.intern(TyKind::Adt(task, vec![value])),
            None => self.env.common.err,
        }
    }

    /// `await e` / `e.await`: the value of a `Future<T>` or `Task<T>`.
    pub(crate) fn await_expr(&mut self, inner: &ast::Expr) -> Ty {
        let ty = self.expr(inner, None);
        if let Some(value) = self.awaited(ty) {
            return value;
        }
        let resolved = self.infer.resolve(self.types, ty);
        match self.types.kind(resolved) {
            TyKind::Err => {}
            TyKind::Var(_) => {
                let diagnostic = Diagnostic::error("E0004", "cannot infer the type of the awaited value")
                    .primary(inner.span, "type must be known here")
                    .help("add a type annotation");
                self.diagnostics.push(diagnostic);
            }
            _ => {
                let t = self.show(ty);
                let diagnostic =
                    Diagnostic::error("E0212", format!("`await` needs a `Future` or a `Task`, found `{t}`"))
                        .primary(inner.span, format!("this is `{t}`"))
                        .help("only the result of an `async fn`, `spawn`, or an actor's `ask` can be awaited");
                self.diagnostics.push(diagnostic);
            }
        }
        self.env.common.err
    }

    /// `T` when `ty` is `Future<T>` or `Task<T>`.
    pub(crate) fn awaited(&mut self, ty: Ty) -> Option<Ty> {
        let ty = self.infer.resolve(self.types, ty);
        match self.types.kind(ty) {
            TyKind::Adt(def, args) if self.env.lang.future == Some(*def) || self.env.lang.task == Some(*def) => {
                Some(args[0])
            }
            _ => None,
        }
    }

    /// `select { pat = op => body, .. }`: each operation is a channel
    /// receive or send, a `sleep`, a future or a task; the first ready arm
    /// runs, so the arms' bodies share one type.
    pub(crate) fn select_expr(&mut self, arms: &[ast::SelectArm], expected: Option<Ty>) -> Ty {
        let outer = std::mem::replace(&mut self.diverges, false);
        let before = self.init.clone();
        let mut result: Option<Ty> = None;
        let mut all_diverge = true;
        for arm in arms {
            self.init = before.clone();
            self.diverges = false;
            let op_ty = self.expr(&arm.op, None);
            let bound = match self.awaited(op_ty) {
                Some(value) => value,
                None => {
                    self.check_select_op(&arm.op, op_ty);
                    op_ty
                }
            };
            let pat = self.pattern(&arm.pattern, bound);
            let bound_ty = self.infer.zonk(self.types, bound);
            if let Some(missing) = self.witness(&[vec![pat]], &[bound_ty], 0) {
                let shown = missing.first().cloned().unwrap_or_else(|| "_".into());
                let diagnostic = Diagnostic::error(
                    "E0211",
                    format!("refutable pattern in a `select` arm: `{shown}` is not covered"),
                )
                .primary(arm.pattern.span, "a `select` arm must bind every possible result")
                .help("bind the whole result (`v = ...`) and `match` on it in the arm");
                self.diagnostics.push(diagnostic);
            }
            let ty = self.expr(&arm.body, expected.or(result));
            all_diverge &= self.diverges;
            result = Some(match result {
                None => ty,
                Some(previous) => self.join(previous, ty, arm.body.span),
            });
        }
        // Which arm runs is decided at run time: only what every arm's
        // operation evaluation assigned is known to be assigned after.
        self.init = before;
        self.diverges = outer || (all_diverge && !arms.is_empty());
        result.unwrap_or(self.env.common.unit)
    }

    /// E0211 unless `op` is something `select` can wait on.
    fn check_select_op(&mut self, op: &ast::Expr, ty: Ty) {
        if self.is_err(ty) {
            return;
        }
        let waitable = match &op.kind {
            ExprKind::MethodCall { method, .. } => {
                matches!(method.name.as_str(), "recv" | "send" | "ask" | "join")
            }
            ExprKind::Call(callee, _) => match &callee.kind {
                ExprKind::Path(path) => path.segments.last().is_some_and(|s| s.name.as_str() == "sleep"),
                _ => false,
            },
            _ => false,
        };
        if !waitable {
            let t = self.show(ty);
            let diagnostic = Diagnostic::error("E0211", "`select` cannot wait on this operation")
                .primary(op.span, format!("this is a `{t}` value, not an operation that can wait"))
                .help("a `select` arm waits on `ch.recv()`, `ch.send(v)`, `sleep(d)`, a `Future` or a `Task`");
            self.diagnostics.push(diagnostic);
        }
    }

    /// Starts checking a nested body that runs later (closure or spawned
    /// block): its own `return` type, no enclosing loops, captures tracked.
    fn enter_body(&mut self, span: Span, ret: Ty, by_move: bool) -> Saved {
        self.capture_frames.push(CaptureFrame { span, by_move, captures: Vec::new() });
        Saved {
            ret: std::mem::replace(&mut self.ret, ret),
            loops: std::mem::take(&mut self.loops),
            diverges: std::mem::replace(&mut self.diverges, false),
            init: self.init.clone(),
        }
    }

    /// Ends a nested body; assignments inside it do not count outside.
    fn leave_body(&mut self, span: Span, saved: Saved) {
        self.ret = saved.ret;
        self.loops = saved.loops;
        self.diverges = saved.diverges;
        self.init = saved.init;
        if let Some(frame) = self.capture_frames.pop() {
            self.captures.push((span, frame.captures));
        }
    }

    /// Records that local `id` is used inside every enclosing nested body
    /// it is declared outside of.
    pub(crate) fn note_capture(&mut self, id: u32) {
        let decl = self.env.res.locals[id as usize].span;
        for frame in &mut self.capture_frames {
            let inside = frame.span.lo <= decl.lo && decl.hi <= frame.span.hi;
            if !inside && !frame.captures.iter().any(|c| c.local == id) {
                frame.captures.push(Capture { local: id, by_move: frame.by_move });
            }
        }
    }
}
