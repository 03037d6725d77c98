//! Compiling one function body: registers, scopes and their drops,
//! statements, loops, and the line table.

use crate::types::Subst;
use crate::Compiler;
use rustc_hash::FxHashMap;
use stark_check::defs::DefId;
use stark_check::ty::{Ty, TyKind};
use stark_syntax::ast;
use stark_syntax::Span;
use stark_vm::bytecode::{Instr, Reg};
use stark_vm::gc::GcOp;
use stark_vm::native::Native;
use stark_vm::program::{Function, Slot, NO_LAYOUT};

/// A closure body to compile as its own function.
pub(crate) struct ClosureJob<'a> {
    pub params: &'a [ast::ClosureParam],
    pub body: &'a ast::Expr,
    pub span: Span,
    pub subst: Subst,
    /// The captured locals, in environment order, and whether by move.
    pub captures: Vec<(u32, Ty, bool)>,
    /// The captured `shared let` zones (shared again by nested spawns).
    pub shared: Vec<u32>,
    pub name: String,
    pub library: bool,
}

/// A lexical scope: the owners to destroy when it ends.
#[derive(Default)]
pub(crate) struct Scope {
    /// Registers owning objects, with their types, in declaration order.
    pub owned: Vec<(Reg, Ty)>,
}

/// A loop being compiled.
pub(crate) struct Loop {
    /// Jumps to patch to the loop's end.
    pub breaks: Vec<usize>,
    /// Where `continue` goes (known for `loop`/`while`), or jumps to patch.
    pub continue_at: Option<usize>,
    pub continues: Vec<usize>,
    /// Where a `break value` puts its value.
    pub result: Option<Reg>,
    /// How many scopes were open outside the loop.
    pub depth: usize,
}

/// The state of compiling one function.
pub(crate) struct FnCx<'c, 'a> {
    pub c: &'c mut Compiler<'a>,
    pub subst: Subst,
    pub code: Vec<Instr>,
    pub lines: Vec<u32>,
    pub line: u32,
    pub file: u32,
    /// The next free register.
    pub top: u16,
    pub max: u16,
    pub locals: FxHashMap<u32, Reg>,
    /// Locals that live in a closure's environment: (field index, by-move).
    pub captured: FxHashMap<u32, (u16, bool)>,
    /// `shared let` zones: captured by a spawned block, they are shared
    /// (the handle is cloned), not moved.
    pub shared: rustc_hash::FxHashSet<u32>,
    pub scopes: Vec<Scope>,
    pub loops: Vec<Loop>,
    /// Temporaries of the current full expression, destroyed at its end.
    pub temps: Vec<(Reg, Ty)>,
    pub ret_ty: Ty,
    pub library: bool,
    /// The function's name, for closures' names.
    pub name: String,
    /// Binding a pattern matched against a place behind a reference,
    /// where nothing may move out.
    pub moving_behind_ref: bool,
    /// The span of the statement or expression being compiled, for errors.
    pub cur_span: Span,
}

/// Compiles function `def` at `subst`.
pub(crate) fn compile_fn<'a>(
    c: &mut Compiler<'a>,
    def: DefId,
    decl: &'a ast::FnDecl,
    subst: Subst,
    library: bool,
) -> Function {
    let sig = &c.items.fns[&def];
    let ret = sig.ret;
    let ret_ty = c.norm(ret, &subst);
    let name = c.display_name(def);
    let mut cx = FnCx::new(c, subst, ret_ty, decl.sig_span, library);
    cx.name = name.clone();
    cx.scopes.push(Scope::default());
    // An actor's handler takes the state first; its fields are in scope
    // by name, like a closure's environment, and `self` is the state.
    if let Some(actor) = cx.c.handler_actor(def) {
        let state = cx.alloc();
        if let Some(&me) = cx.c.local_at.get(&cx.c.defs.def(actor).span) {
            cx.locals.insert(me, state);
        }
        if let Some(stark_check::items::AdtKind::Actor { fields, .. }) = cx.c.items.adts.get(&actor).map(|a| &a.kind) {
            for (i, (field, _, _)) in fields.iter().enumerate() {
                if let Some(&local) = cx.c.local_at.get(&field.span) {
                    cx.captured.insert(local, (i as u16, true));
                }
            }
        }
    }
    if let Some(receiver) = &decl.receiver {
        cx.param(receiver.span);
    }
    for p in &decl.params {
        cx.param(p.name.span);
    }
    let arity = cx.top;
    if let Some(body) = &decl.body {
        cx.fn_body(body);
    }
    cx.finish(name, arity, false)
}

/// Compiles a closure body; its environment arrives in `R[0]`.
pub(crate) fn compile_closure<'a>(c: &mut Compiler<'a>, job: ClosureJob<'a>) -> Function {
    let ret_ty = {
        let ty = c.results.expr_types.get(&job.span).copied().unwrap_or(c.types.intern(TyKind::Never));
        let ty = c.norm(ty, &job.subst);
        match c.types.kind(ty) {
            TyKind::Fn(_, ret) => *ret,
            // A spawned block: its value is the task's result.
            TyKind::Adt(d, args) if Some(*d) == c.lang.task && !args.is_empty() => args[0],
            _ => ty,
        }
    };
    let mut cx = FnCx::new(c, job.subst.clone(), ret_ty, job.span, job.library);
    cx.name = job.name.clone();
    cx.scopes.push(Scope::default());
    let _env = cx.alloc();
    for (i, &(local, _, by_move)) in job.captures.iter().enumerate() {
        cx.captured.insert(local, (i as u16, by_move));
    }
    cx.shared.extend(job.shared.iter().copied());
    for p in job.params {
        cx.param(p.name.span);
    }
    let arity = cx.top;
    let value = cx.expr(job.body);
    cx.exit_scopes(0);
    cx.emit(Instr::Ret { a: value });
    cx.finish(job.name, arity, true)
}

impl<'c, 'a> FnCx<'c, 'a> {
    fn new(c: &'c mut Compiler<'a>, subst: Subst, ret_ty: Ty, span: Span, library: bool) -> FnCx<'c, 'a> {
        let (file, line) = c.line_of(span);
        FnCx {
            c,
            subst,
            code: Vec::new(),
            lines: Vec::new(),
            line,
            file,
            top: 0,
            max: 0,
            locals: FxHashMap::default(),
            captured: FxHashMap::default(),
            shared: Default::default(),
            scopes: Vec::new(),
            loops: Vec::new(),
            temps: Vec::new(),
            ret_ty,
            library,
            name: String::new(),
            moving_behind_ref: false,
            cur_span: span,
        }
    }

    /// A builder for generated code (drop glue): library code, no source.
    pub fn glue(c: &'c mut Compiler<'a>, ret_ty: Ty) -> FnCx<'c, 'a> {
        let mut cx = FnCx::new(c, Subst::default(), ret_ty, Span::default(), true);
        cx.line = 0;
        cx
    }

    /// The finished generated function.
    pub fn finish_glue(self, arity: u16) -> Function {
        let name = self.name.clone();
        self.finish(name, arity, false)
    }

    fn finish(self, name: String, arity: u16, has_env: bool) -> Function {
        Function {
            name,
            arity,
            nregs: self.max.max(1),
            has_env,
            library: self.library,
            code: self.code,
            lines: self.lines,
            inlined: Vec::new(),
            file: self.file,
            fill: None,
        }
    }

    /// Binds a parameter (by the span of its name) to the next register.
    fn param(&mut self, span: Span) {
        let r = self.alloc();
        if let Some(&id) = self.c.local_at.get(&span) {
            self.locals.insert(id, r);
            let ty = self.local_ty(id);
            if self.c.is_object(ty) {
                self.scopes.last_mut().expect("scope").owned.push((r, ty));
            }
        }
    }

    /// The monomorphic type of local `id`.
    pub fn local_ty(&mut self, id: u32) -> Ty {
        let ty = self.c.results.local_types.get(&id).copied().unwrap_or(self.c.types.intern(TyKind::Never));
        self.c.norm(ty, &self.subst)
    }

    /// The monomorphic type of expression `e`.
    pub fn ty_of(&mut self, e: &'a ast::Expr) -> Ty {
        let ty = match self.c.results.expr_types.get(&e.span) {
            Some(&t) => t,
            None => match &e.kind {
                ast::ExprKind::Paren(inner) => return self.ty_of(inner),
                _ => self.c.types.intern(TyKind::Prim(stark_check::defs::Prim::Unit)),
            },
        };
        self.c.norm(ty, &self.subst)
    }

    /// Frees the registers from `to` up, except those holding the full
    /// expression's temporaries (they live until it ends).
    pub fn reset_top(&mut self, to: Reg) {
        let live = self.temps.iter().map(|&(r, _)| r + 1).max().unwrap_or(0);
        self.top = to.max(live);
    }

    /// A fresh register.
    pub fn alloc(&mut self) -> Reg {
        let r = self.top;
        self.top += 1;
        self.max = self.max.max(self.top);
        r
    }

    /// `n` fresh consecutive registers; the first.
    pub fn alloc_n(&mut self, n: usize) -> Reg {
        let r = self.top;
        self.top += n as u16;
        self.max = self.max.max(self.top);
        r
    }

    /// Appends an instruction; returns its index.
    pub fn emit(&mut self, i: Instr) -> usize {
        self.code.push(i);
        self.lines.push(self.line);
        self.code.len() - 1
    }

    /// Sets the line of the following instructions to `span`'s.
    pub fn at(&mut self, span: Span) {
        self.cur_span = span;
        let (_, line) = self.c.line_of(span);
        self.line = line;
    }

    /// A jump to be patched; returns its index.
    pub fn jump(&mut self) -> usize {
        self.emit(Instr::Jmp { off: 0 })
    }

    /// Points the jump at `at` to the next instruction.
    pub fn patch(&mut self, at: usize) {
        self.patch_to(at, self.code.len());
    }

    /// Points the jump at `at` to instruction `target`.
    pub fn patch_to(&mut self, at: usize, target: usize) {
        let off = target as i64 - at as i64 - 1;
        match &mut self.code[at] {
            Instr::Jmp { off: o } | Instr::JmpIf { off: o, .. } | Instr::JmpIfNot { off: o, .. } => *o = off as i32,
            Instr::JmpIfNone { off: o, .. } | Instr::RecvOrJmp { off: o, .. } => *o = off as i32,
            Instr::JmpIfNotLtI { off: o, .. } => *o = off as i16,
            _ => unreachable!("patching a non-jump"),
        }
    }

    /// A jump back to `target`.
    pub fn jump_back(&mut self, target: usize) {
        let at = self.emit(Instr::Jmp { off: 0 });
        self.patch_to(at, target);
    }

    /// Moves or copies a value into `dst` if it is not there already.
    pub fn mov(&mut self, dst: Reg, src: Reg) {
        if dst != src {
            self.emit(Instr::Copy { a: dst, b: src });
        }
    }

    /// Destroys the owner in `r` of type `ty` (running drop glue when a
    /// user `Drop` is involved); `r` becomes empty.
    pub fn drop_reg(&mut self, r: Reg, ty: Ty) {
        if !self.c.is_object(ty) {
            return;
        }
        if matches!(self.c.types.kind(ty), TyKind::Adt(d, _) if self.c.lang.is_gc_guard(*d)) {
            // A `Ref` or `RefMut` ends its borrow of the cell.
            let base = self.alloc();
            self.emit(Instr::Move { a: base, b: r });
            self.native(Native::Gc(GcOp::Release), Slot::Fn, NO_LAYOUT, NO_LAYOUT, base);
            self.reset_top(base);
            return;
        }
        if self.c.user_drop(ty) {
            let glue = self.c.drop_glue_fn(ty);
            let skip = self.emit(Instr::JmpIfNone { a: r, off: 0 });
            let base = self.alloc();
            self.emit(Instr::Move { a: base, b: r });
            self.emit(Instr::Call { base, f: glue });
            self.reset_top(base);
            self.patch(skip);
        } else {
            self.emit(Instr::Drop { a: r });
        }
    }

    /// Destroys every scope's owners down to `depth` open scopes (for a
    /// jump out of them), innermost first, without closing them.
    pub fn exit_scopes(&mut self, depth: usize) {
        let owned: Vec<(Reg, Ty)> =
            self.scopes[depth..].iter().rev().flat_map(|s| s.owned.iter().rev().copied()).collect();
        for (r, ty) in owned {
            self.drop_reg(r, ty);
        }
    }

    /// Opens a scope.
    pub fn push_scope(&mut self) {
        self.scopes.push(Scope::default());
    }

    /// Closes the innermost scope, destroying its owners.
    pub fn pop_scope(&mut self) {
        let scope = self.scopes.pop().expect("scope");
        for &(r, ty) in scope.owned.iter().rev() {
            self.drop_reg(r, ty);
        }
    }

    /// Registers `r` as owning a value of `ty` in the innermost scope.
    pub fn own(&mut self, r: Reg, ty: Ty) {
        if self.c.is_object(ty) {
            self.scopes.last_mut().expect("scope").owned.push((r, ty));
        }
    }

    /// Destroys the current full expression's temporaries.
    pub fn drop_temps(&mut self, mark: usize) {
        let temps: Vec<(Reg, Ty)> = self.temps.drain(mark..).collect();
        for &(r, ty) in temps.iter().rev() {
            self.drop_reg(r, ty);
        }
    }

    /// The body of a function: its value is returned.
    fn fn_body(&mut self, body: &'a ast::Block) {
        let value = self.block_value(body);
        let value = match value {
            Some(v) => v,
            None => {
                let r = self.alloc();
                self.emit(Instr::LoadI { a: r, imm: 0 });
                r
            }
        };
        self.exit_scopes(0);
        self.emit(Instr::Ret { a: value });
    }

    /// A block's statements and tail, in a new scope; the tail's value
    /// (owned, moved out before the scope's drops) is in the result.
    pub fn block_value(&mut self, block: &'a ast::Block) -> Option<Reg> {
        let result = self.alloc();
        self.push_scope();
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        let has_tail = block.tail.is_some();
        if let Some(tail) = &block.tail {
            self.at(tail.span);
            let mark = self.temps.len();
            let v = self.expr(tail);
            self.mov(result, v);
            self.drop_temps(mark);
        }
        self.pop_scope();
        self.reset_top(result + 1);
        has_tail.then_some(result)
    }

    /// One statement.
    pub fn stmt(&mut self, stmt: &'a ast::Stmt) {
        self.at(stmt.span);
        let mark_reg = self.top;
        let mark = self.temps.len();
        match &stmt.kind {
            ast::StmtKind::Empty | ast::StmtKind::Item(_) => {}
            ast::StmtKind::Expr { expr, .. } => {
                let ty = self.ty_of(expr);
                let v = self.expr(expr);
                if self.value_is_fresh(expr) {
                    self.drop_reg(v, ty);
                }
                self.drop_temps(mark);
                self.reset_top(mark_reg);
            }
            ast::StmtKind::Let(l) => {
                self.let_stmt(l);
                self.drop_temps(mark);
            }
            ast::StmtKind::Return(value) => self.return_stmt(value.as_ref()),
            ast::StmtKind::Break(value) => self.break_stmt(value.as_ref(), stmt.span),
            ast::StmtKind::Continue => self.continue_stmt(),
        }
    }

    /// Whether evaluating `e` produced a new owned value (not a place's
    /// register) that nobody else owns.
    pub fn value_is_fresh(&self, e: &'a ast::Expr) -> bool {
        match &e.kind {
            ast::ExprKind::Path(_) => false,
            ast::ExprKind::Paren(inner) => self.value_is_fresh(inner),
            ast::ExprKind::Assign { .. } => false,
            _ => true,
        }
    }

    fn let_stmt(&mut self, l: &'a ast::LetStmt) {
        let Some(&id) = self.c.local_at.get(&l.name.span) else { return };
        let ty = self.local_ty(id);
        if l.shared {
            self.shared.insert(id);
        }
        match &l.init {
            Some(init) => {
                let v = self.expr(init);
                // The local gets its own register, above the initializer's temporaries.
                let r = self.alloc();
                self.emit(Instr::Copy { a: r, b: v });
                self.locals.insert(id, r);
                self.own(r, ty);
            }
            None => {
                let r = self.alloc();
                self.emit(Instr::Clear { a: r });
                self.locals.insert(id, r);
                self.own(r, ty);
            }
        }
    }

    fn return_stmt(&mut self, value: Option<&'a ast::Expr>) {
        let r = match value {
            Some(e) => self.expr(e),
            None => {
                let r = self.alloc();
                self.emit(Instr::LoadI { a: r, imm: 0 });
                r
            }
        };
        let keep = self.alloc();
        self.emit(Instr::Copy { a: keep, b: r });
        let temps: Vec<(Reg, Ty)> = self.temps.clone();
        for &(t, ty) in temps.iter().rev() {
            self.drop_reg(t, ty);
        }
        self.exit_scopes(0);
        self.emit(Instr::Ret { a: keep });
    }

    fn break_stmt(&mut self, value: Option<&'a ast::Expr>, span: Span) {
        let Some(depth) = self.loops.last().map(|l| l.depth) else {
            self.c.unsupported(span, "`break` outside a loop");
            return;
        };
        if let Some(e) = value {
            let v = self.expr(e);
            if let Some(result) = self.loops.last().and_then(|l| l.result) {
                self.emit(Instr::Copy { a: result, b: v });
            }
        }
        self.exit_scopes(depth);
        let j = self.jump();
        self.loops.last_mut().expect("loop").breaks.push(j);
    }

    fn continue_stmt(&mut self) {
        let Some(depth) = self.loops.last().map(|l| l.depth) else { return };
        self.exit_scopes(depth);
        match self.loops.last().and_then(|l| l.continue_at) {
            Some(target) => self.jump_back(target),
            None => {
                let j = self.jump();
                self.loops.last_mut().expect("loop").continues.push(j);
            }
        }
    }
}
