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

/// The layout of `Option<t>`.
fn option_layout(c: &mut Compiler<'_>, t: Ty) -> u32 {
    match c.lang.option {
        Some(o) => {
            let t = c.types.intern(TyKind::Adt(o, vec![t]));
            c.layout(t)
        }
        None => NO_LAYOUT,
    }
}

/// `Vec<t>`.
fn vec_of(c: &mut Compiler<'_>, t: Ty) -> Ty {
    match c.lang.vec {
        Some(v) => c.types.intern(TyKind::Adt(v, vec![t])),
        None => t,
    }
}

/// The actor's handlers, compiled.
struct Handlers {
    start: Option<u32>,
    restart: Option<u32>,
    receive: Option<u32>,
    batch: Option<u32>,
    stop: Option<u32>,
}

/// Handles messages until the mailbox is stopped and drained: `on_start`
/// (or, in an instance restarted after a failure, `on_restart(failure)`
/// when the actor has it), then `on_receive` for each message or, when it
/// was spawned with a batch policy, `on_batch` for each batch (their
/// values are the replies), then `on_stop`.
fn actor_run(c: &mut Compiler<'_>, actor: DefId) -> Function {
    let unit = c.types.intern(TyKind::Tuple(Vec::new()));
    let actor_ty = c.types.intern(TyKind::Adt(actor, Vec::new()));
    let (msg_ty, reply_ty) = c.actor_protocol(actor).unwrap_or((unit, unit));
    let h = Handlers {
        start: c.handler(actor, "on_start"),
        restart: c.handler(actor, "on_restart"),
        receive: c.handler(actor, "on_receive"),
        batch: c.handler(actor, "on_batch"),
        stop: c.handler(actor, "on_stop"),
    };
    let failure_layout = match c.std_type("TaskError") {
        Some(t) if h.restart.is_some() => option_layout(c, t),
        _ => NO_LAYOUT,
    };
    let mut cx = FnCx::glue(c, unit);
    cx.scopes.push(Scope::default());
    let state = cx.alloc();
    let cell = cx.alloc();
    cx.actor_begin(state, cell, &h, failure_layout);
    let mut exits = Vec::new();
    if let Some(f) = h.batch {
        let b = cx.alloc();
        cx.emit(Instr::Copy { a: b, b: cell });
        cx.native(Native::ActorBatching, Slot::Fn, NO_LAYOUT, NO_LAYOUT, b);
        let single = cx.emit(Instr::JmpIfNot { a: b, off: 0 });
        let (msgs, replies) = (vec_of(cx.c, msg_ty), vec_of(cx.c, reply_ty));
        exits.push(cx.actor_loop(state, cell, f, msgs, replies, true));
        cx.patch(single);
    }
    if let Some(f) = h.receive {
        exits.push(cx.actor_loop(state, cell, f, msg_ty, reply_ty, false));
    }
    for exit in exits {
        cx.patch(exit);
    }
    if let Some(f) = h.stop {
        cx.call_with_state(state, f, None);
    }
    cx.drop_reg(state, actor_ty);
    let r = cx.unit();
    cx.emit(Instr::Ret { a: r });
    cx.finish_glue(2)
}

impl FnCx<'_, '_> {
    /// Calls handler `f` with the state (and `arg`, moved in).
    fn call_with_state(&mut self, state: Reg, f: u32, arg: Option<Reg>) -> Reg {
        let base = self.alloc_n(2);
        self.emit(Instr::Copy { a: base, b: state });
        if let Some(a) = arg {
            self.emit(Instr::Copy { a: base + 1, b: a });
        }
        self.emit(Instr::Call { base, f });
        base
    }

    /// `on_start`, or `on_restart(failure)` in a restarted instance.
    fn actor_begin(&mut self, state: Reg, cell: Reg, h: &Handlers, failure_layout: u32) {
        let mark = self.top;
        let mut done = None;
        if let Some(f) = h.restart {
            let opt = self.alloc();
            self.emit(Instr::Copy { a: opt, b: cell });
            self.native(Native::ActorFailure, Slot::Fn, failure_layout, NO_LAYOUT, opt);
            let tag = self.alloc();
            self.emit(Instr::GetTag { a: tag, obj: opt });
            let fresh = self.emit(Instr::JmpIf { a: tag, off: 0 });
            let failure = self.alloc();
            self.emit(Instr::TakeField { a: failure, obj: opt, i: 0 });
            self.emit(Instr::FreeShell { a: opt });
            self.call_with_state(state, f, Some(failure));
            done = Some(self.jump());
            self.patch(fresh);
            self.emit(Instr::FreeShell { a: opt });
        }
        if let Some(f) = h.start {
            self.call_with_state(state, f, None);
        }
        if let Some(d) = done {
            self.patch(d);
        }
        self.reset_top(mark);
    }

    /// Receives a message (or a batch) and calls `f` on it until the
    /// mailbox is stopped and drained; gives the jump out to patch.
    fn actor_loop(&mut self, state: Reg, cell: Reg, f: u32, msg: Ty, reply: Ty, batch: bool) -> usize {
        let option = option_layout(self.c, msg);
        let (list, reply_slot) = (if batch { self.c.layout(msg) } else { NO_LAYOUT }, self.c.slot(reply));
        let head = self.code.len();
        let opt = self.alloc();
        self.emit(Instr::Copy { a: opt, b: cell });
        self.native(Native::ActorRecv, Slot::Fn, option, list, opt);
        let tag = self.alloc();
        self.emit(Instr::GetTag { a: tag, obj: opt });
        let exit = self.emit(Instr::JmpIf { a: tag, off: 0 });
        let m = self.alloc();
        self.emit(Instr::TakeField { a: m, obj: opt, i: 0 });
        self.emit(Instr::FreeShell { a: opt });
        let out = self.call_with_state(state, f, Some(m));
        let r: Reg = self.alloc_n(2);
        self.emit(Instr::Copy { a: r, b: cell });
        self.emit(Instr::Copy { a: r + 1, b: out });
        self.native(Native::ActorReply, reply_slot, NO_LAYOUT, batch as u32, r);
        self.reset_top(opt);
        self.jump_back(head);
        self.patch(exit);
        self.emit(Instr::FreeShell { a: opt });
        self.reset_top(opt);
        self.jump()
    }
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
        let cell = self.actor_cell(actor_ty);
        let run = self.c.actor_run_fn(actor);
        let glue = self.c.call_glue(run, 2);
        let state_slot = self.c.slot(actor_ty);
        let body = self.actor_body(glue, state, state_slot, cell, ref_layout);
        self.actor_start(cell, body, None, None);
        cell
    }

    /// `spawn_actor_with(factory, options)` (also a supervisor's, when
    /// `supervisor` holds one): like `spawn_actor`, but each instance
    /// builds its state from `factory`, and the runtime configures the
    /// mailbox and restarts from `options`.
    pub fn spawn_actor_with(
        &mut self,
        factory: &'a ast::Expr,
        options: &'a ast::Expr,
        ref_layout: u32,
        supervisor: Option<Reg>,
    ) -> Reg {
        let (fty, oty) = (self.ty_of(factory), self.ty_of(options));
        let actor_ty = match self.c.types.kind(fty).clone() {
            TyKind::Fn(_, ret) => ret,
            _ => return self.unit(),
        };
        let TyKind::Adt(actor, _) = *self.c.types.kind(actor_ty) else { return self.unit() };
        let f = self.expr(factory);
        let opts = self.expr(options);
        let cell = self.actor_cell(actor_ty);
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
        let body = self.actor_body(start, f, Slot::Fn, cell, ref_layout);
        self.actor_start(cell, body, Some((opts, oty)), supervisor);
        cell
    }

    /// A new actor cell for an actor of type `actor_ty` (its layout names it).
    fn actor_cell(&mut self, actor_ty: Ty) -> Reg {
        let cell = self.alloc();
        let l = self.c.layout(actor_ty);
        self.native(Native::ActorNew, Slot::Fn, l, NO_LAYOUT, cell);
        cell
    }

    /// The body of an instance: `f` called on `(first, the cell)`.
    fn actor_body(&mut self, f: u32, first: Reg, first_slot: Slot, cell: Reg, ref_layout: u32) -> Reg {
        let base = self.alloc_n(2);
        self.emit(Instr::Copy { a: base, b: first });
        self.emit(Instr::Clone { a: base + 1, b: cell });
        let env = self.c.prog.layouts.len() as u32;
        let kind = LayoutKind::Record { fields: vec![first_slot, Slot::Owned(ref_layout)], tuple: true };
        self.c.prog.layouts.push(stark_vm::Layout { name: "actor start".into(), kind });
        self.emit(Instr::New { base, l: env });
        let body = self.alloc();
        self.emit(Instr::LoadFn { a: body, f });
        self.emit(Instr::SetEnv { a: body, env: base });
        body
    }

    /// Starts the actor's first instance (the options move to the runtime).
    fn actor_start(&mut self, cell: Reg, body: Reg, options: Option<(Reg, Ty)>, supervisor: Option<Reg>) {
        let block = self.alloc_n(4);
        self.emit(Instr::Copy { a: block, b: cell });
        self.emit(Instr::Copy { a: block + 1, b: body });
        let (slot, mut aux) = match options {
            Some((o, ty)) => {
                self.emit(Instr::Copy { a: block + 2, b: o });
                (self.c.slot(ty), 1)
            }
            None => (Slot::Fn, 0),
        };
        if let Some(s) = supervisor {
            self.emit(Instr::Copy { a: block + 3, b: s });
            aux |= 2;
        }
        self.native(Native::ActorStart, slot, NO_LAYOUT, aux, block);
        self.reset_top(cell + 1);
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
