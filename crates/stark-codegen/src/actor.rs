//! Actors: a value of an actor type is its state (a record of its
//! fields); its handlers are functions taking the state first, in which the
//! fields are in scope by name (like a closure's environment). An actor
//! runs as a task looping over its mailbox (`run` below); its reference is
//! the runtime's actor cell.

use crate::body::{FnCx, Scope};
use crate::Compiler;
use stark_check::defs::DefId;
use stark_check::items::AdtKind;
use stark_check::ty::{Ty, TyKind};
use stark_syntax::ast;
use stark_vm::bytecode::{Instr, Reg};
use stark_vm::native::Native;
use stark_vm::program::{Function, LayoutKind, Slot, NO_LAYOUT};

impl<'a> Compiler<'a> {
    /// The actor a handler belongs to, if `def` is one.
    pub(crate) fn handler_actor(&self, def: DefId) -> Option<DefId> {
        self.items.adts.iter().find_map(|(&actor, adt)| match &adt.kind {
            AdtKind::Actor { handlers, .. } if handlers.iter().any(|&(_, h)| h == def) => Some(actor),
            _ => None,
        })
    }

    /// The handler `name` of `actor`, compiled.
    fn handler(&mut self, actor: DefId, name: &str) -> Option<u32> {
        let Some(AdtKind::Actor { handlers, .. }) = self.items.adts.get(&actor).map(|a| &a.kind) else { return None };
        let def = handlers.iter().find(|(n, _)| n.as_str() == name).map(|&(_, d)| d)?;
        Some(self.instance(def, Default::default()))
    }

    /// The message and reply types of `actor` (from `on_receive`).
    pub(crate) fn actor_protocol(&mut self, actor: DefId) -> Option<(Ty, Ty)> {
        let Some(AdtKind::Actor { handlers, .. }) = self.items.adts.get(&actor).map(|a| &a.kind) else { return None };
        let def = handlers.iter().find(|(n, _)| n.as_str() == "on_receive").map(|&(_, d)| d)?;
        let sig = self.items.fns.get(&def)?;
        Some((*sig.params.first()?, sig.ret))
    }

    /// The function running `actor`: `R[0]` its state, `R[1]` its cell.
    pub(crate) fn actor_run_fn(&mut self, actor: DefId) -> u32 {
        if let Some(&f) = self.actor_runs.get(&actor) {
            return f;
        }
        let index = self.new_function(format!("{}::run", self.defs.def(actor).name));
        self.actor_runs.insert(actor, index);
        let mut f = actor_run(self, actor);
        f.name = format!("{}::run", self.defs.def(actor).name);
        self.prog.functions[index as usize] = f;
        index
    }
}

/// Handles messages until the mailbox is stopped and drained:
/// `on_start`, then `on_receive` for each message (its value is the
/// reply), then `on_stop`.
fn actor_run(c: &mut Compiler<'_>, actor: DefId) -> Function {
    let unit = c.types.intern(TyKind::Tuple(Vec::new()));
    let actor_ty = c.types.intern(TyKind::Adt(actor, Vec::new()));
    let (msg_ty, reply_ty) = c.actor_protocol(actor).unwrap_or((unit, unit));
    let option_layout = match c.lang.option {
        Some(o) => {
            let t = c.types.intern(TyKind::Adt(o, vec![msg_ty]));
            c.layout(t)
        }
        None => NO_LAYOUT,
    };
    let (start, receive, stop) =
        (c.handler(actor, "on_start"), c.handler(actor, "on_receive"), c.handler(actor, "on_stop"));
    let (msg_slot, reply_slot) = (c.slot(msg_ty), c.slot(reply_ty));
    let mut cx = FnCx::glue(c, unit);
    cx.scopes.push(Scope::default());
    let state = cx.alloc();
    let cell = cx.alloc();
    let call_with_state = |cx: &mut FnCx<'_, '_>, f: u32| {
        let base = cx.alloc();
        cx.emit(Instr::Copy { a: base, b: state });
        cx.emit(Instr::Call { base, f });
        cx.reset_top(base);
    };
    if let Some(f) = start {
        call_with_state(&mut cx, f);
    }
    let head = cx.code.len();
    let opt = cx.alloc();
    cx.emit(Instr::Copy { a: opt, b: cell });
    cx.native(Native::ActorRecv, msg_slot, option_layout, NO_LAYOUT, opt);
    let tag = cx.alloc();
    cx.emit(Instr::GetTag { a: tag, obj: opt });
    let exit = cx.emit(Instr::JmpIf { a: tag, off: 0 });
    if let Some(f) = receive {
        let base = cx.alloc_n(2);
        cx.emit(Instr::Copy { a: base, b: state });
        cx.emit(Instr::TakeField { a: base + 1, obj: opt, i: 0 });
        cx.emit(Instr::FreeShell { a: opt });
        cx.emit(Instr::Call { base, f });
        let r: Reg = cx.alloc_n(2);
        cx.emit(Instr::Copy { a: r, b: cell });
        cx.emit(Instr::Copy { a: r + 1, b: base });
        cx.native(Native::ActorReply, reply_slot, NO_LAYOUT, NO_LAYOUT, r);
    }
    cx.reset_top(opt);
    cx.jump_back(head);
    cx.patch(exit);
    cx.emit(Instr::FreeShell { a: opt });
    if let Some(f) = stop {
        call_with_state(&mut cx, f);
    }
    cx.drop_reg(state, actor_ty);
    let r = cx.unit();
    cx.emit(Instr::Ret { a: r });
    cx.finish_glue(2)
}

impl<'a> FnCx<'_, 'a> {
    /// `Name::new(args)`: the state, the fields without defaults taken
    /// from the arguments in order, the others from their defaults.
    pub fn actor_new(&mut self, actor: DefId, args: &'a [ast::Expr]) -> Reg {
        let Some(decl) = self.c.actor_decls.get(&actor).copied() else { return self.unit() };
        let base = self.alloc_n(decl.fields.len().max(1));
        let mut args = args.iter();
        for (i, field) in decl.fields.iter().enumerate() {
            let value = match &field.default {
                Some(default) => default,
                None => match args.next() {
                    Some(a) => a,
                    None => continue,
                },
            };
            let v = self.expr(value);
            self.emit(Instr::Copy { a: base + i as Reg, b: v });
        }
        let ty = self.c.types.intern(TyKind::Adt(actor, Vec::new()));
        let l = self.c.layout(ty);
        self.emit(Instr::New { base, l });
        self.reset_top(base + 1);
        base
    }

    /// `spawn_actor(a)`: a cell, and a task running the actor's loop on
    /// the state moved into it; the value is the reference (the cell).
    pub fn spawn_actor(&mut self, arg: &'a ast::Expr, ref_layout: u32) -> Reg {
        let actor_ty = self.ty_of(arg);
        let TyKind::Adt(actor, _) = *self.c.types.kind(actor_ty) else { return self.unit() };
        let state = self.expr(arg);
        let cell = self.alloc();
        self.native(Native::ActorNew, Slot::Fn, NO_LAYOUT, NO_LAYOUT, cell);
        let run = self.c.actor_run_fn(actor);
        let base = self.alloc_n(2);
        self.emit(Instr::Copy { a: base, b: state });
        self.emit(Instr::Clone { a: base + 1, b: cell });
        let state_slot = self.c.slot(actor_ty);
        let env = self.c.prog.layouts.len() as u32;
        let kind = LayoutKind::Record { fields: vec![state_slot, Slot::Owned(ref_layout)], tuple: true };
        self.c.prog.layouts.push(stark_vm::Layout { name: "actor start".into(), kind });
        self.emit(Instr::New { base, l: env });
        let glue = self.c.call_glue(run, 2);
        let body = self.alloc();
        self.emit(Instr::LoadFn { a: body, f: glue });
        self.emit(Instr::SetEnv { a: body, env: base });
        self.native(Native::TaskSpawn, Slot::Scalar(stark_vm::NumTy::Unit), NO_LAYOUT, NO_LAYOUT, body);
        self.emit(Instr::Drop { a: body });
        self.reset_top(cell + 1);
        cell
    }

    /// `spawn_actor_with(factory, options)`: like `spawn_actor`, but the
    /// task builds the state from `factory` and the runtime starts it again
    /// after a failure under `options.restart`, `max_restarts` and
    /// `restart_window`.
    pub fn spawn_actor_with(&mut self, factory: &'a ast::Expr, options: &'a ast::Expr, ref_layout: u32) -> Reg {
        let (fty, oty) = (self.ty_of(factory), self.ty_of(options));
        let actor = match self.c.types.kind(fty).clone() {
            TyKind::Fn(_, ret) => match *self.c.types.kind(ret) {
                TyKind::Adt(a, _) => a,
                _ => return self.unit(),
            },
            _ => return self.unit(),
        };
        let f = self.expr(factory);
        let opts = self.expr(options);
        let cell = self.alloc();
        self.native(Native::ActorNew, Slot::Fn, NO_LAYOUT, NO_LAYOUT, cell);
        let run = self.c.actor_run_fn(actor);
        let start = self.c.raw_glue(
            format!("{}::start", self.c.defs.def(actor).name),
            5,
            vec![
                Instr::TakeField { a: 1, obj: 0, i: 0 },
                Instr::TakeField { a: 2, obj: 0, i: 1 },
                Instr::FreeShell { a: 0 },
                Instr::CallValue { base: 3, callee: 1 },
                Instr::Copy { a: 4, b: 2 },
                Instr::Call { base: 3, f: run },
                Instr::Ret { a: 3 },
            ],
        );
        let base = self.alloc_n(2);
        self.emit(Instr::Copy { a: base, b: f });
        self.emit(Instr::Clone { a: base + 1, b: cell });
        let env = self.c.prog.layouts.len() as u32;
        let kind = LayoutKind::Record { fields: vec![Slot::Fn, Slot::Owned(ref_layout)], tuple: true };
        self.c.prog.layouts.push(stark_vm::Layout { name: "actor factory".into(), kind });
        self.emit(Instr::New { base, l: env });
        let body = self.alloc();
        self.emit(Instr::LoadFn { a: body, f: start });
        self.emit(Instr::SetEnv { a: body, env: base });
        let block = self.alloc_n(5);
        self.emit(Instr::Copy { a: block, b: cell });
        self.emit(Instr::Copy { a: block + 1, b: body });
        // `ActorOptions`: mailbox_capacity, restart, max_restarts, restart_window, ..
        let restart_ty = self.c.struct_fields(oty).get(1).map(|f| f.1);
        self.emit(Instr::GetField { a: block + 2, obj: opts, i: 1 });
        if restart_ty.is_some_and(|t| self.c.is_object(t)) {
            self.emit(Instr::GetTag { a: block + 2, obj: block + 2 });
        }
        self.emit(Instr::GetField { a: block + 3, obj: opts, i: 2 });
        self.emit(Instr::GetField { a: block + 4, obj: opts, i: 3 });
        self.native(Native::ActorSupervise, Slot::Fn, NO_LAYOUT, NO_LAYOUT, block);
        self.drop_reg(opts, oty);
        self.reset_top(cell + 1);
        cell
    }

    /// `actor.ask(m)`: the message is sent now; the value is a future
    /// waiting for the reply (a deferred call of the reply's wait).
    pub fn actor_ask(&mut self, base: Reg, reply: Slot) -> Reg {
        let site = self.c.prog.sites.len() as u32;
        self.c.prog.sites.push(stark_vm::Site {
            native: Native::ReplyAwait,
            slot: reply,
            layout: NO_LAYOUT,
            aux: NO_LAYOUT,
        });
        let code = vec![
            Instr::TakeField { a: 1, obj: 0, i: 0 },
            Instr::FreeShell { a: 0 },
            Instr::Native { base: 1, site },
            Instr::Ret { a: 1 },
        ];
        let glue = self.c.raw_glue("ActorRef::ask::{reply}".into(), 2, code);
        let reply_layout = self.c.prog.layouts.len() as u32;
        self.c.prog.layouts.push(stark_vm::Layout { name: "reply".into(), kind: LayoutKind::Host });
        let env = self.c.prog.layouts.len() as u32;
        let kind = LayoutKind::Record { fields: vec![Slot::Owned(reply_layout)], tuple: true };
        self.c.prog.layouts.push(stark_vm::Layout { name: "reply".into(), kind });
        self.emit(Instr::New { base, l: env });
        let dst = self.alloc();
        self.emit(Instr::LoadFn { a: dst, f: glue });
        self.emit(Instr::SetEnv { a: dst, env: base });
        self.reset_top(dst + 1);
        dst
    }
}
