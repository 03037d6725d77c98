//! A task: one STARK thread of execution, polled like a future.
//!
//! Call frames are data (`Vec<Frame>`), never Rust recursion, so a task
//! can stop after any instruction and resume later: when it has spent
//! its fuel, or when a native operation is waiting on the host (a timer,
//! I/O). `Task::poll` is the only entry point.

use crate::arith;
use crate::bytecode::{Instr, NumTy};
use crate::format;
use crate::heap::Heap;
use crate::heap::{HostRef, Key, Obj};
use crate::map;
use crate::native::{self, Flow};
use crate::program::Slot;
use crate::program::{Function, Program, NO_LAYOUT};
use crate::transfer::{self, Portable};
use crate::trap::{Fault, TraceFrame, Trap};
use crate::value::{Value, REG_PLACE};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// `*dst := Value::from_bits(bits)` in one 16-byte store.
///
/// # Safety
/// `dst` must be valid for writes.
#[inline(always)]
unsafe fn store_scalar(dst: *mut Value, bits: u64) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cvtsi64_si128, _mm_storeu_si128};
        // `Value` is `repr(C)` { bits, ext }: the low half is `bits`, `ext` is 0.
        _mm_storeu_si128(dst as *mut __m128i, _mm_cvtsi64_si128(bits as i64));
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        *dst = Value::from_bits(bits);
    }
}

/// What the host gives a task: output streams, files and time. The VM
/// itself touches no file, clock or thread.
pub trait Host: Send {
    /// Writes bytes to standard output (`err` false) or standard error.
    fn write(&mut self, err: bool, bytes: &[u8]);
    /// Reads a whole file as UTF-8.
    fn read_file(&mut self, path: &str) -> std::io::Result<String>;
    /// Writes a whole file.
    fn write_file(&mut self, path: &str, text: &str) -> std::io::Result<()>;
    /// A future that completes after `micros` microseconds.
    fn sleep(&mut self, micros: u64) -> HostFuture;
    /// Microseconds on a monotonic clock (for `Instant`).
    fn now_micros(&mut self) -> i64;
    /// A fresh seed for a random tensor, from the run's generator (`--seed`).
    fn random_seed(&mut self) -> u64;
    /// Starts a task running `body` (a function value moved out of this
    /// task) whose result, of kind `result`, its joiner receives.
    fn spawn(&mut self, body: Portable, result: Slot) -> HostRef;
    /// Waits for the task `task` and gives its result (or its failure).
    fn join(&mut self, task: HostRef) -> HostFuture;
    /// Waits for the task `task`: `Ok(value)` or `Err(TaskError)` (a
    /// string object: the failure's message) in a `Result` of enum layout
    /// `result`; the failure is not re-raised.
    fn join_result(&mut self, task: HostRef, result: u32) -> HostFuture;
    /// Waits for every task of `tasks`: a list (layout `list`) of their
    /// results in order; the first failure is re-raised.
    fn join_all(&mut self, tasks: Vec<HostRef>, list: u32) -> HostFuture;
    /// Waits for the first of `tasks` to end and gives its result; the
    /// others are cancelled.
    fn race(&mut self, tasks: Vec<HostRef>) -> HostFuture;
    /// Waits for `task` at most `micros` microseconds: `Ok(value)`, or
    /// `Err(Timeout)` (a string object) in a `Result` of layout `result`,
    /// cancelling the task.
    fn timeout(&mut self, task: HostRef, micros: u64, result: u32) -> HostFuture;
    /// Whether the task `task` has ended.
    fn task_finished(&mut self, task: &HostRef) -> bool;
    /// Asks the task `task` to stop at its next suspension point.
    fn cancel(&mut self, task: &HostRef);
    /// A new channel, bounded to `capacity` values when given.
    fn channel(&mut self, capacity: Option<usize>) -> HostRef;
    /// Sends `value` on `channel`: done, or a future that finishes the
    /// send once there is room; a closed channel is a fault.
    fn send(&mut self, channel: &HostRef, value: Portable) -> Result<Option<HostFuture>, Fault>;
    /// Sends `value` on `channel` if that needs no wait; gives it back
    /// when the channel is full or closed.
    fn try_send(&mut self, channel: &HostRef, value: Portable) -> Result<(), Portable>;
    /// Waits for the next value of `channel`, given as an `Option` of the
    /// enum layout `option` (`None` once it is closed and drained).
    fn recv(&mut self, channel: &HostRef, option: u32) -> HostFuture;
    /// The next value of `channel` if one is there now.
    fn try_recv(&mut self, channel: &HostRef) -> Option<Portable>;
    /// Closes `channel`: receivers drain it, then see `None`.
    fn close(&mut self, channel: &HostRef);
    /// How many values wait in `channel`, and whether it is closed.
    fn channel_state(&mut self, channel: &HostRef) -> (usize, bool);
    /// Waits until one of `ops` completes (a fair choice among those
    /// ready), giving `Resume::Arm` with its index.
    fn select(&mut self, ops: Vec<Selecting>) -> HostFuture;
    /// A new broadcast channel keeping the last `capacity` values.
    fn broadcast(&mut self, capacity: usize) -> HostRef;
    /// Delivers a copy of `value` to every subscriber of `channel`; a closed
    /// channel is a fault.
    fn broadcast_send(&mut self, channel: &HostRef, value: Portable) -> Result<(), Fault>;
    /// A new receiver of `channel`, seeing the values sent from now on.
    fn subscribe(&mut self, channel: &HostRef) -> HostRef;
    /// Waits for a receiver's next value, as an `Option` of enum layout
    /// `option` (`None` once closed and drained).
    fn broadcast_recv(&mut self, receiver: &HostRef, option: u32) -> HostFuture;
    /// A receiver's next value if there is one now.
    fn broadcast_try_recv(&mut self, receiver: &HostRef) -> Option<Portable>;
    /// How many values a receiver lost (it fell behind) since last asked.
    fn broadcast_missed(&mut self, receiver: &HostRef) -> i64;
    /// An operation on actors and supervisors.
    fn actor(&mut self, op: ActorOp<'_>) -> Result<Done, Fault>;
    /// An operation on models.
    fn model(&mut self, op: crate::model::ModelOp) -> Result<Done, Fault>;
    /// Waits for a reply: the value, or the actor's failure.
    fn reply_await(&mut self, reply: HostRef) -> HostFuture;
    /// A new, empty `SharedMap`.
    fn shared_map(&mut self) -> HostRef;
    /// A guard of `map`: `exclusive` ones (`write`, `lock`) wait for the
    /// others to go; the guard comes back as a moved-in runtime object.
    fn shared_guard(&mut self, map: &HostRef, exclusive: bool) -> HostFuture;
    /// Through a guard: a copy of the value at `key`.
    fn shared_get(&mut self, guard: &HostRef, key: &Key) -> Option<Portable>;
    /// Through a guard: stores `value` at `key`, giving the old value (a
    /// fault through a `read()` guard).
    fn shared_insert(&mut self, guard: &HostRef, key: Key, value: Portable) -> Result<Option<Portable>, Fault>;
    /// Through a guard: takes the value at `key` out (a fault through a
    /// `read()` guard).
    fn shared_remove(&mut self, guard: &HostRef, key: &Key) -> Result<Option<Portable>, Fault>;
    /// Through a guard: how many entries there are.
    fn shared_len(&mut self, guard: &HostRef) -> usize;
    /// An HTTP operation: a client's request, or a server's (`net.rs`).
    fn net(&mut self, op: crate::net::NetOp) -> Result<crate::net::NetDone, Fault>;
}

/// One operation a `select` offers.
#[derive(Debug)]
pub enum Selecting {
    /// Receive from a channel; an `Option` of enum layout `option`.
    Recv { channel: HostRef, option: u32 },
    /// Send a value (dropped if another arm wins).
    Send { channel: HostRef, value: Portable },
    /// A timer.
    Sleep { micros: u64 },
    /// A task's end; `started` tasks are cancelled if another arm wins.
    Join { task: HostRef, started: bool },
}

/// A host operation in progress; its output is what the task resumes with.
pub type HostFuture = Pin<Box<dyn Future<Output = Resume> + Send>>;

/// What a suspended task resumes with.
#[derive(Debug)]
pub enum Resume {
    /// A value of this task's heap (or a scalar).
    Value(Value),
    /// A value moved in from another task.
    Moved(Portable),
    /// `Some` of a value moved in from another task, or `None`: an
    /// `Option` of enum layout `.0`, built on this task's heap (a received
    /// message is not wrapped in a record on its way).
    Option(u32, Option<Portable>),
    /// The failure of a joined task, re-raised in this one.
    Failed(Trap),
    /// The operation failed (a send on a closed channel): the task traps.
    Fault(Fault),
    /// Arm `index` of a `select` completed with this outcome: the index
    /// goes to the result register, the value to the one after it.
    Arm(u32, Box<Resume>),
}

/// An operation on actors and supervisors: the runtime's side of the
/// actor natives (cells and supervisors are runtime objects). A `cell`
/// is borrowed from the task's heap: cloning its `Arc` on every message
/// would make its count a cache line every worker fights over.
pub enum ActorOp<'a> {
    /// A new cell (mailbox, statistics) for an actor of type `name`.
    New { name: String },
    /// Starts an instance running `body` (which builds the state and runs
    /// the actor's loop), configured and supervised by `options` (an
    /// `ActorOptions` record) and added to `supervisor` when given.
    Start { cell: HostRef, body: Portable, options: Option<Portable>, supervisor: Option<HostRef> },
    /// The actor's next message (an `Option` of enum layout `option`), or
    /// its next batch (a `Vec` of layout `list`), `None` once stopped and
    /// drained; the calling task is the actor.
    Recv { cell: &'a HostRef, option: u32, list: Option<u32> },
    /// Whether the actor takes batches (a `Bool`).
    Batching { cell: &'a HostRef },
    /// The answers to the message or batch being handled, in order.
    Reply { cell: &'a HostRef, values: Vec<Portable> },
    /// Sends an ask (`priority` 0 `Critical` to 3 `Low`; a negative
    /// timeout is none); gives the reply, waiting while the mailbox is
    /// full unless a place was `reserved`.
    Ask { cell: &'a HostRef, message: Portable, priority: i64, timeout_micros: i64, reserved: bool },
    /// Sends a message with no reply, waiting while the mailbox is full.
    Tell { cell: &'a HostRef, message: Portable },
    /// Reserves a place for a `try_ask` (a `Bool`: false when full).
    Reserve { cell: &'a HostRef },
    /// Stops the actor once it has handled what is queued.
    Stop { cell: &'a HostRef },
    /// `ActorStats`, a record of layout `layout`.
    Stats { cell: &'a HostRef, layout: u32 },
    /// The failure this instance was restarted after (`Option<TaskError>`
    /// of enum layout `option`), once.
    Failure { cell: &'a HostRef, option: u32 },
    /// A new supervisor (`strategy`: the `Strategy` tag).
    SupervisorNew { strategy: i64 },
    /// Puts supervisor `child` under `parent`.
    SupervisorAdopt { parent: HostRef, child: HostRef },
}

/// A shared program that passed [`Program::check`]: held in an `Arc` that
/// no one can take back as `&mut`, it cannot change after the check.
#[derive(Clone)]
pub struct Checked(Arc<Program>);

impl Checked {
    /// Checks `prog`, or says why it is invalid.
    pub fn new(prog: Arc<Program>) -> Result<Checked, String> {
        prog.check()?;
        Ok(Checked(prog))
    }
}

/// What an operation gives: a value now, or a wait for it.
pub enum Done {
    /// The value, moved in.
    Now(Portable),
    /// Suspend the task until the future is ready.
    Wait(HostFuture),
}

/// How deep calls may nest before the task fails.
pub const MAX_FRAMES: usize = 100_000;

/// One call's state.
#[derive(Clone, Copy, Debug)]
struct Frame {
    func: u32,
    /// The next instruction (saved while a callee runs).
    pc: u32,
    /// Where its registers start in the task's register stack.
    base: u32,
}

/// The state a suspended task waits in.
struct Suspended {
    future: HostFuture,
    /// The absolute register that receives the result.
    dst: usize,
    /// For a `RecvOrJmp`: where the frame goes on when the channel is
    /// closed (the value itself lands in `dst`, not in an `Option`).
    closed: Option<u32>,
}

/// Why `run` stopped.
enum Exit {
    Done(Value),
    Trapped(Trap),
    OutOfFuel,
    Suspended,
}

/// A task of a program.
pub struct Task {
    /// The program, checked (`Program::check`) when the task was made: the
    /// task shares it, so it cannot change while the task exists. Never
    /// replaced: `poll` reads the program through it for a whole poll.
    prog: Arc<Program>,
    /// What the check found.
    valid: Result<(), String>,
    regs: Vec<Value>,
    frames: Vec<Frame>,
    /// The task's objects.
    pub heap: Heap,
    suspended: Option<Suspended>,
    /// The function the task started in (its name names the task).
    entry: u32,
}

impl Task {
    /// A task of `prog` that will call function `f` with `args`.
    pub fn new(prog: Arc<Program>, f: u32, args: &[Value]) -> Task {
        let mut valid = prog.check();
        let fits = match prog.functions.get(f as usize) {
            Some(func) => args.len() <= func.arity as usize,
            None => false,
        };
        if valid.is_ok() && !fits {
            valid = Err(format!("internal error: no function F{f} taking {} arguments", args.len()));
        }
        let mut task = Task {
            prog,
            valid,
            regs: Vec::with_capacity(1024),
            frames: Vec::with_capacity(64),
            heap: Heap::new(),
            suspended: None,
            entry: f,
        };
        task.regs.extend_from_slice(args);
        if task.valid.is_ok() {
            let prog = task.prog.clone();
            task.enter(&prog, f, 0);
        }
        task
    }

    /// A task of `prog` that will call the function value `body` (a
    /// closure or a deferred call, moved in from another task) with no
    /// arguments.
    pub fn spawned(prog: Arc<Program>, body: Portable) -> Task {
        let valid = prog.check();
        Task::spawned_as(prog, valid, body)
    }

    /// [`Task::spawned`] for a program already checked: a runtime that
    /// spawns a million tasks checks its program once, not each time.
    pub fn spawned_checked(prog: &Checked, body: Portable) -> Task {
        Task::spawned_as(prog.0.clone(), Ok(()), body)
    }

    fn spawned_as(prog: Arc<Program>, valid: Result<(), String>, body: Portable) -> Task {
        let mut task = Task {
            prog,
            valid,
            regs: Vec::new(),
            frames: Vec::with_capacity(2),
            heap: Heap::new(),
            suspended: None,
            entry: 0,
        };
        let f = transfer::import(&mut task.heap, body);
        let func = f.bits as u32;
        task.entry = func;
        match task.prog.functions.get(func as usize) {
            Some(fun) if fun.has_env => task.regs.push(Value::handle(f.ext as u32)),
            Some(_) => {}
            None => task.valid = Err(format!("internal error: no function F{func} to spawn")),
        }
        if task.valid.is_ok() {
            let prog = task.prog.clone();
            task.enter(&prog, func, 0);
        }
        task
    }

    /// The trap of a fault at the instruction the task is suspended at.
    fn fault_here(&self, prog: &Program, f: Fault) -> Trap {
        let pc = self.frames.last().map_or(0, |f| f.pc.saturating_sub(1) as usize);
        self.trap(prog, f, pc)
    }

    /// The trap of a task whose joined task failed with `cause`.
    fn rethrow(&self, prog: &Program, cause: Trap) -> Trap {
        let mut trap = self.fault_here(prog, Fault::new("a joined task failed"));
        trap.cause = Some(Box::new(cause));
        trap
    }

    /// The task's program.
    pub fn program(&self) -> &Program {
        &self.prog
    }

    /// The task's name: the function it started in (`main`, `main::{closure}`).
    pub fn name(&self) -> &str {
        self.prog.functions.get(self.entry as usize).map_or("?", |f| f.name.as_str())
    }

    /// Its heap and collector figures: `(heap bytes, live bytes, young
    /// collections, full collections, longest pause in µs)`.
    pub fn heap_figures(&self) -> (u64, u64, u64, u64, u64) {
        let c = &self.heap.gc.counters;
        (self.heap.heap_bytes(), self.heap.live_bytes(&self.prog), c.young_collections, c.collections, c.max_pause_us)
    }

    /// Runs until the task finishes, traps, waits on the host (having
    /// registered `cx`'s waker), or has used `fuel` (then it wakes itself
    /// and returns `Pending`, so a busy task cannot starve others).
    pub fn poll(&mut self, host: &mut dyn Host, cx: &mut Context<'_>, fuel: u32) -> Poll<Result<Value, Trap>> {
        if let Err(e) = &self.valid {
            return Poll::Ready(Err(Trap::bare(e.clone())));
        }
        // Borrowed, not cloned: every task of a program shares one `Arc`,
        // and counting it up and down on every poll made its count a cache
        // line the workers passed back and forth on each message.
        // SAFETY: the program lives in the `Arc`'s allocation, not in
        // `self`, and `self.prog` is never replaced or dropped while the
        // task exists, so it outlives this poll whatever `run` does to `self`.
        let prog: &Program = unsafe { &*Arc::as_ptr(&self.prog) };
        loop {
            if let Some(s) = &mut self.suspended {
                match s.future.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(r) => {
                        let (dst, closed) = (s.dst, s.closed);
                        self.suspended = None;
                        let (dst, r) = match r {
                            Resume::Arm(i, r) => {
                                self.regs[dst] = Value::int(i as i64);
                                (dst + 1, *r)
                            }
                            r => (dst, r),
                        };
                        self.regs[dst] = match r {
                            Resume::Value(v) => v,
                            Resume::Moved(p) => transfer::import(&mut self.heap, p),
                            Resume::Option(layout, p) => match (closed, p) {
                                (None, p) => transfer::import_option(&mut self.heap, layout, p),
                                (Some(_), Some(p)) => transfer::import(&mut self.heap, p),
                                // `RecvOrJmp` on a closed channel: on at its target.
                                (Some(exit), None) => {
                                    if let Some(frame) = self.frames.last_mut() {
                                        frame.pc = exit;
                                    }
                                    Value::NONE
                                }
                            },
                            Resume::Failed(cause) => return Poll::Ready(Err(self.rethrow(prog, cause))),
                            Resume::Fault(f) => return Poll::Ready(Err(self.fault_here(prog, f))),
                            Resume::Arm(..) => {
                                let f = Fault::new("internal error: a nested select outcome");
                                return Poll::Ready(Err(self.fault_here(prog, f)));
                            }
                        };
                    }
                }
            }
            match self.run(prog, host, fuel) {
                Exit::Done(v) => return Poll::Ready(Ok(v)),
                Exit::Trapped(t) => return Poll::Ready(Err(t)),
                Exit::OutOfFuel => {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Exit::Suspended => continue,
            }
        }
    }

    /// Pushes a frame for `f` whose arguments are at `base`, making sure
    /// its registers exist (`regs.len() >= base + nregs`).
    #[inline(always)]
    fn enter(&mut self, prog: &Program, f: u32, base: usize) {
        let func = &prog.functions[f as usize];
        let top = base + func.nregs as usize;
        if self.regs.len() < top {
            self.regs.resize(top, Value::NONE);
        }
        // Registers past the arguments that some path reads before writing
        // start empty, so drops of owners never initialised skip them.
        let (lo, hi) = func.fill.unwrap_or((func.arity, func.nregs));
        if lo < hi {
            self.regs[base + lo as usize..base + hi as usize].fill(Value::NONE);
        }
        self.frames.push(Frame { func: f, pc: 0, base: base as u32 });
    }

    /// The stack trace for a fault at instruction `pc` of the innermost frame.
    #[cold]
    fn trap(&self, prog: &Program, fault: Fault, pc: usize) -> Trap {
        let mut frames = Vec::new();
        let mut show = |func: &Function, line: u32| {
            if !func.library {
                frames.push(TraceFrame {
                    function: func.name.clone(),
                    file: prog.files.get(func.file as usize).cloned().unwrap_or_default(),
                    line,
                });
            }
        };
        for (depth, frame) in self.frames.iter().rev().enumerate() {
            let func = &prog.functions[frame.func as usize];
            let at = if depth == 0 { pc } else { frame.pc as usize - 1 };
            let (mut line, site) = func.line_at(at);
            // An inlined call shows as the frame it would have been.
            if let Some(site) = site {
                if let Some(callee) = prog.functions.get(site.callee as usize) {
                    show(callee, line);
                }
                line = site.line;
            }
            show(func, line);
        }
        Trap { message: fault.0, frames, cause: None }
    }

    /// Reads a scalar through a place reference.
    #[inline]
    pub(crate) fn load(&self, place: Value) -> Value {
        if place.bits & REG_PLACE != 0 {
            self.regs[(place.bits & !REG_PLACE) as usize]
        } else {
            self.heap.place_get(place)
        }
    }

    /// Writes a scalar through a place reference.
    #[inline]
    fn store(&mut self, place: Value, v: Value) {
        if place.bits & REG_PLACE != 0 {
            self.regs[(place.bits & !REG_PLACE) as usize] = v;
        } else {
            self.heap.place_set(place, v);
        }
    }

    /// The interpreter loop.
    fn run(&mut self, prog: &Program, host: &mut dyn Host, mut fuel: u32) -> Exit {
        // While running, the current frame lives in locals (`cur`, `pc`,
        // `base`) and `frames` holds only its callers; every exit but the
        // last return pushes it back (`save!`), so between runs the last
        // frame is the current one, its `pc` saved.
        let frame = self.frames.pop().expect("a task has a frame");
        let mut cur = frame.func;
        let mut func: &Function = &prog.functions[frame.func as usize];
        let mut code: &[Instr] = &func.code;
        let mut pc = frame.pc as usize;
        let mut base = frame.base as usize;
        // The resumed frame may come from another poll: re-establish the
        // invariants below for it.
        if pc >= code.len() {
            return Exit::Trapped(Trap::bare("internal error: bad resume point"));
        }
        if self.regs.len() < base + func.nregs as usize {
            self.regs.resize(base + func.nregs as usize, Value::NONE);
        }
        // Frames from `checked` up are known to satisfy the invariants below.
        let mut checked = self.frames.len();
        // `rp` points at the current frame's `R[0]`.
        let mut rp: *mut Value = self.regs.as_mut_ptr().wrapping_add(base);
        // Invariants that make the unchecked accesses below sound, given
        // `prog.check()` (done by `Task::new`; `poll` runs only a valid
        // task, always on its own program): while a frame of function `func`
        // runs, `pc < code.len()` (code is never empty, jumps land inside
        // it, its last instruction does not fall through, and a resumed
        // or returned-to `pc` is checked), and `self.regs.len() >= base +
        // func.nregs` (`enter` and the resume and return paths ensure it;
        // `regs` never shrinks), while every register operand is below
        // `func.nregs`. `rp` is re-derived (`sync!`) after anything that
        // may grow, move or reborrow `self.regs`.
        macro_rules! r {
            ($i:expr) => {
                // SAFETY: see the invariants above.
                (*unsafe { &mut *rp.add($i as usize) })
            };
        }
        // A scalar result (`ext` is 0: arithmetic, comparisons, casts) is
        // written as one 16-byte store: reading the
        // register back whole (a `Copy`, a field store) then forwards from
        // that store instead of stalling on two 8-byte ones.
        macro_rules! put {
            ($i:expr, $v:expr) => {{
                let v: Value = $v;
                // SAFETY: as for `r!`.
                unsafe { store_scalar(rp.add($i as usize), v.bits) }
            }};
        }
        // A taken conditional jump; a backward one spends fuel like `Jmp`.
        macro_rules! branch {
            ($off:expr) => {{
                let off = $off as i64;
                if off < 0 {
                    if fuel == 0 {
                        save!(pc as i64 + off);
                        return Exit::OutOfFuel;
                    }
                    fuel -= 1;
                }
                pc = (pc as i64 + off) as usize;
            }};
        }
        macro_rules! put16 {
            ($i:expr, $v:expr) => {{
                let v: Value = $v;
                // SAFETY: as for `r!`.
                unsafe { crate::value::store_value(rp.add($i as usize), v) }
            }};
        }
        macro_rules! sync {
            () => {
                rp = self.regs.as_mut_ptr().wrapping_add(base)
            };
        }
        macro_rules! save {
            ($pc:expr) => {
                self.frames.push(Frame { func: cur, pc: $pc as u32, base: base as u32 })
            };
        }
        macro_rules! fault {
            ($f:expr) => {{
                let f = $f;
                save!(pc);
                return Exit::Trapped(self.trap(prog, f, pc - 1));
            }};
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(f) => fault!(f),
                }
            };
        }
        loop {
            // SAFETY: `pc < code.len()` (see above).
            let instr = unsafe { *code.get_unchecked(pc) };
            pc += 1;
            match instr {
                Instr::Copy { a, b } => r!(a) = r!(b),
                Instr::Move { a, b } => {
                    r!(a) = r!(b);
                    r!(b) = Value::NONE;
                }
                Instr::Clear { a } => r!(a) = Value::NONE,
                Instr::LoadK { a, k } => r!(a) = prog.consts[k as usize],
                Instr::LoadI { a, imm } => put!(a, Value::int(imm as i64)),
                Instr::LoadFn { a, f } => put16!(a, Value { bits: f as u64, ext: crate::value::NONE }),
                Instr::SetEnv { a, env } => r!(a).ext = r!(env).bits,
                Instr::AddI { a, b, c } => match r!(b).as_int().checked_add(r!(c).as_int()) {
                    Some(v) => put!(a, Value::int(v)),
                    None => fault!(Fault::overflow()),
                },
                Instr::SubI { a, b, c } => match r!(b).as_int().checked_sub(r!(c).as_int()) {
                    Some(v) => put!(a, Value::int(v)),
                    None => fault!(Fault::overflow()),
                },
                Instr::MulI { a, b, c } => match r!(b).as_int().checked_mul(r!(c).as_int()) {
                    Some(v) => put!(a, Value::int(v)),
                    None => fault!(Fault::overflow()),
                },
                Instr::AddIImm { a, b, imm } => match r!(b).as_int().checked_add(imm as i64) {
                    Some(v) => put!(a, Value::int(v)),
                    None => fault!(Fault::overflow()),
                },
                Instr::LtI { a, b, c } => put!(a, Value::bool(r!(b).as_int() < r!(c).as_int())),
                Instr::LeI { a, b, c } => put!(a, Value::bool(r!(b).as_int() <= r!(c).as_int())),
                Instr::EqI { a, b, c } => put!(a, Value::bool(r!(b).bits == r!(c).bits)),
                Instr::NeI { a, b, c } => put!(a, Value::bool(r!(b).bits != r!(c).bits)),
                Instr::AddF { a, b, c } => put!(a, Value::f64(r!(b).as_f64() + r!(c).as_f64())),
                Instr::SubF { a, b, c } => put!(a, Value::f64(r!(b).as_f64() - r!(c).as_f64())),
                Instr::MulF { a, b, c } => put!(a, Value::f64(r!(b).as_f64() * r!(c).as_f64())),
                Instr::DivF { a, b, c } => put!(a, Value::f64(r!(b).as_f64() / r!(c).as_f64())),
                Instr::LtF { a, b, c } => put!(a, Value::bool(r!(b).as_f64() < r!(c).as_f64())),
                Instr::AddUImm { a, b, imm } => match r!(b).bits.checked_add(imm as u64) {
                    Some(v) => put!(a, Value::from_bits(v)),
                    None => fault!(Fault::overflow()),
                },
                Instr::MulIImm { a, b, imm } => match r!(b).as_int().checked_mul(imm as i64) {
                    Some(v) => put!(a, Value::int(v)),
                    None => fault!(Fault::overflow()),
                },
                Instr::DivI { a, b, c } => {
                    let (x, y) = (r!(b).as_int(), r!(c).as_int());
                    if y == 0 {
                        fault!(Fault::div_zero());
                    }
                    match x.checked_div(y) {
                        Some(v) => put!(a, Value::int(v)),
                        None => fault!(Fault::overflow()),
                    }
                }
                Instr::RemI { a, b, c } => {
                    let (x, y) = (r!(b).as_int(), r!(c).as_int());
                    if y == 0 {
                        fault!(Fault::div_zero());
                    }
                    match x.checked_rem(y) {
                        Some(v) => put!(a, Value::int(v)),
                        None => fault!(Fault::overflow()),
                    }
                }
                Instr::DivIK { a, b, k } => {
                    // SAFETY: `prog.check()` proved `k` names a divisor.
                    let dv = unsafe { *prog.divisors.get_unchecked(k as usize) };
                    put!(a, Value::int(dv.quotient(r!(b).as_int())))
                }
                Instr::SliceLenR { a, b } if r!(b).is_slice() => put!(a, Value::from_bits(r!(b).slice_len() as u64)),
                Instr::SliceLenR { a, b } => match self.heap_len(prog, r!(b).as_handle()) {
                    Some(n) => put!(a, Value::from_bits(n as u64)),
                    None => fault!(Fault::new("internal error: the length of a value that is not a list")),
                },
                Instr::VecLenR { a, b } => {
                    let n = self.heap.items(r!(b).as_handle()).len();
                    put!(a, Value::from_bits(n as u64))
                }
                Instr::SqrtF { a, b } => put!(a, Value::f64(r!(b).as_f64().sqrt())),
                Instr::StrPushStr { s, v } => {
                    let (dst, piece) = (r!(s).as_handle(), r!(v));
                    self.heap.append_text(prog, dst, piece);
                }
                Instr::StrPushK { s, k } => self.heap.append_str(prog, r!(s).as_handle(), prog.consts[k as usize]),
                Instr::StrPushDisplay { ty, s, v } => {
                    format::scalar_into(r!(v), ty, self.heap.string_mut(r!(s).as_handle()))
                }
                Instr::MapGetV { a, m, k } => {
                    let (mv, kv) = (r!(m), r!(k));
                    if !map::get_raw_into(&self.heap, prog, mv, kv, &mut r!(a)) {
                        fault!(map::not_a_map());
                    }
                }
                Instr::MapHasV { a, m, k } => match map::contains(&self.heap, prog, r!(m), r!(k)) {
                    Some(found) => put!(a, Value::bool(found)),
                    None => fault!(map::not_a_map()),
                },
                Instr::MapPutV { m, k, v } => {
                    if map::insert_discard(&mut self.heap, prog, r!(m), r!(k), r!(v)).is_none() {
                        fault!(map::not_a_map());
                    }
                }
                Instr::StrPushChar { s, v } => {
                    let c = char::from_u32(r!(v).bits as u32).unwrap_or('\u{fffd}');
                    self.heap.string_mut(r!(s).as_handle()).push(c);
                }
                Instr::IndexField { f, a, list, i } => {
                    let items = self.heap.items(r!(list).as_handle());
                    let idx = r!(i).bits;
                    match items.get(idx as usize) {
                        Some(v) => r!(a) = self.heap.fields(v.as_handle())[f as usize],
                        None => fault!(Fault::bounds(items.len(), idx)),
                    }
                }
                Instr::RemIK { a, b, k } => {
                    // SAFETY: `prog.check()` proved `k` names a divisor.
                    let dv = unsafe { *prog.divisors.get_unchecked(k as usize) };
                    put!(a, Value::int(dv.remainder(r!(b).as_int())))
                }
                Instr::CmpI { op, a, b, c } => put!(a, Value::bool(op.test(r!(b).as_int(), r!(c).as_int()))),
                Instr::CmpU { op, a, b, c } => put!(a, Value::bool(op.test(r!(b).bits, r!(c).bits))),
                Instr::CmpIImm { op, a, b, imm } => put!(a, Value::bool(op.test(r!(b).as_int(), imm as i64))),
                Instr::JmpIfNotCmpI { op, a, b, off } => {
                    if !op.test(r!(a).as_int(), r!(b).as_int()) {
                        branch!(off);
                    }
                }
                Instr::JmpIfNotCmpU { op, a, b, off } => {
                    if !op.test(r!(a).bits, r!(b).bits) {
                        branch!(off);
                    }
                }
                Instr::ForLoopI { a, b, off } => match r!(a).as_int().checked_add(1) {
                    Some(v) => {
                        put!(a, Value::int(v));
                        if v < r!(b).as_int() {
                            branch!(off);
                        }
                    }
                    None => fault!(Fault::overflow()),
                },
                Instr::ForLoopU { a, b, off } => match r!(a).bits.checked_add(1) {
                    Some(v) => {
                        put!(a, Value::from_bits(v));
                        if v < r!(b).bits {
                            branch!(off);
                        }
                    }
                    None => fault!(Fault::overflow()),
                },
                Instr::JmpIfNotTag { obj, tag, off } => {
                    if crate::deep::tag(&self.heap, r!(obj)) != tag as u32 {
                        branch!(off);
                    }
                }
                Instr::JmpIfNotCmpIImm { op, a, imm, off } => {
                    if !op.test(r!(a).as_int(), imm as i64) {
                        branch!(off);
                    }
                }
                Instr::Arith { op, a, b, c } => put!(a, tri!(arith::binary(op.op(), op.ty(), r!(b), r!(c)))),
                Instr::Cmp { op, a, b, c } => put!(a, Value::bool(arith::compare(op.op(), op.ty(), r!(b), r!(c)))),
                Instr::Neg { ty: NumTy::I64, a, b } => match r!(b).as_int().checked_neg() {
                    Some(v) => put!(a, Value::int(v)),
                    None => fault!(Fault::overflow()),
                },
                Instr::Neg { ty: NumTy::F64, a, b } => put!(a, Value::f64(-r!(b).as_f64())),
                Instr::Neg { ty, a, b } => put!(a, tri!(arith::negate(ty, r!(b)))),
                Instr::Not { ty, a, b } => put!(a, arith::not(ty, r!(b))),
                Instr::Cast { from: NumTy::I64, to: NumTy::F64, a, b } => put!(a, Value::f64(r!(b).as_int() as f64)),
                Instr::Cast { from: NumTy::U8 | NumTy::U16 | NumTy::U32, to: NumTy::I64, a, b } => r!(a) = r!(b),
                Instr::Cast { from, to, a, b } => put!(a, tri!(arith::cast(from, to, r!(b)))),
                Instr::Jmp { off } => {
                    if off < 0 {
                        if fuel == 0 {
                            save!(pc as i64 + off as i64);
                            return Exit::OutOfFuel;
                        }
                        fuel -= 1;
                    }
                    pc = (pc as i64 + off as i64) as usize;
                }
                Instr::JmpIf { a, off } => {
                    if r!(a).as_bool() {
                        pc = (pc as i64 + off as i64) as usize;
                    }
                }
                Instr::JmpIfNot { a, off } => {
                    if !r!(a).as_bool() {
                        pc = (pc as i64 + off as i64) as usize;
                    }
                }
                Instr::JmpIfNone { a, off } => {
                    if r!(a).is_none() {
                        pc = (pc as i64 + off as i64) as usize;
                    }
                }
                Instr::JmpIfSome { a, off } => {
                    if !r!(a).is_none() {
                        branch!(off);
                    }
                }
                Instr::JmpIfNotLtI { a, b, off } => {
                    if r!(a).as_int() >= r!(b).as_int() {
                        branch!(off);
                    }
                }
                Instr::Call { base: at, f } => {
                    if fuel == 0 || self.frames.len() + 1 >= MAX_FRAMES {
                        if self.frames.len() + 1 >= MAX_FRAMES {
                            fault!(Fault::new(format!("stack overflow: more than {MAX_FRAMES} nested calls")));
                        }
                        save!(pc - 1);
                        return Exit::OutOfFuel;
                    }
                    fuel -= 1;
                    save!(pc);
                    cur = f;
                    base += at as usize;
                    // SAFETY: `prog.check()` proved `f` names a function.
                    let callee = unsafe { prog.functions.get_unchecked(f as usize) };
                    let top = base + callee.nregs as usize;
                    if self.regs.len() < top {
                        self.regs.resize(top, Value::NONE);
                    }
                    if let Some((lo, hi)) = callee.fill {
                        if lo < hi {
                            self.regs[base + lo as usize..base + hi as usize].fill(Value::NONE);
                        }
                    } else {
                        self.regs[base + callee.arity as usize..top].fill(Value::NONE);
                    }
                    func = callee;
                    code = &func.code;
                    pc = 0;
                    sync!();
                }
                Instr::CallValue { base: at, callee } => {
                    if self.frames.len() + 1 >= MAX_FRAMES {
                        fault!(Fault::new(format!("stack overflow: more than {MAX_FRAMES} nested calls")));
                    }
                    let target = r!(callee);
                    let f = target.bits as u32;
                    let callee_fn = &prog.functions[f as usize];
                    let at = base + at as usize;
                    if callee_fn.has_env {
                        // The environment goes first: shift the arguments up.
                        let n = callee_fn.arity as usize - 1;
                        if self.regs.len() < at + n + 1 {
                            self.regs.resize(at + n + 1, Value::NONE);
                        }
                        self.regs.copy_within(at..at + n, at + 1);
                        self.regs[at] = Value::handle(target.ext as u32);
                    }
                    save!(pc);
                    self.enter(prog, f, at);
                    // `enter` pushed the callee's frame: it is current now.
                    self.frames.pop();
                    cur = f;
                    func = callee_fn;
                    code = &func.code;
                    pc = 0;
                    base = at;
                    sync!();
                }
                Instr::Native { base: at, site } => {
                    let site_def = &prog.sites[site as usize];
                    if native::map_fast(self, prog, site_def, base + at as usize) {
                        sync!();
                        continue;
                    }
                    let flow = native::call(self, prog, host, site_def, base + at as usize);
                    sync!();
                    match flow {
                        Ok(Flow::Done) => {}
                        Ok(Flow::Suspend(future)) => {
                            save!(pc);
                            self.suspended = Some(Suspended { future, dst: base + at as usize, closed: None });
                            return Exit::Suspended;
                        }
                        Ok(Flow::Yield) => {
                            save!(pc);
                            return Exit::OutOfFuel;
                        }
                        Err(f) => fault!(f),
                    }
                }
                Instr::RecvOrJmp { base: at, off } => {
                    let got = match self.heap.get(r!(at).as_handle()) {
                        Obj::Host(ch) => native::receive(host, ch, NO_LAYOUT),
                        _ => fault!(Fault::new("internal error: receiving from something not a channel")),
                    };
                    match got {
                        Ok(p) => r!(at) = transfer::import(&mut self.heap, p),
                        Err(future) => {
                            save!(pc);
                            let closed = Some((pc as i64 + off as i64) as u32);
                            self.suspended = Some(Suspended { future, dst: base + at as usize, closed });
                            return Exit::Suspended;
                        }
                    }
                }
                Instr::Ret { a } => {
                    let v = r!(a);
                    r!(0) = v;
                    match self.frames.pop() {
                        None => return Exit::Done(v),
                        Some(caller) => {
                            cur = caller.func;
                            // SAFETY: a frame's function is one `Task::new`,
                            // `Call` (checked by `prog.check()`) or
                            // `CallValue` (indexed) entered.
                            func = unsafe { prog.functions.get_unchecked(caller.func as usize) };
                            code = &func.code;
                            pc = caller.pc as usize;
                            base = caller.base as usize;
                            // Frames pushed during this run are sound by
                            // construction; older ones are checked once.
                            let depth = self.frames.len();
                            if depth < checked {
                                if pc >= code.len() || self.regs.len() < base + func.nregs as usize {
                                    return Exit::Trapped(Trap::bare("internal error: bad return point"));
                                }
                                checked = depth;
                            }
                            sync!();
                        }
                    }
                }
                Instr::Trap { k } => {
                    let message = self.heap.string(prog, prog.consts[k as usize].as_handle()).to_string();
                    fault!(Fault::new(message))
                }
                Instr::New { base: at, l } => {
                    let at = base + at as usize;
                    let v = self.new_object(prog, l, at);
                    sync!();
                    put16!(at - base, v);
                }
                Instr::GetField { a, obj, i } => r!(a) = self.heap.fields(r!(obj).as_handle())[i as usize],
                Instr::TakeField { a, obj, i } => {
                    let fields = self.heap.fields_mut(r!(obj).as_handle());
                    let v = std::mem::replace(&mut fields[i as usize], Value::NONE);
                    r!(a) = v;
                }
                Instr::SetField { obj, i, b } => {
                    let v = r!(b);
                    self.heap.fields_mut(r!(obj).as_handle())[i as usize] = v;
                }
                Instr::FieldOp { op, f, obj, b } => {
                    use crate::bytecode::FieldOpKind as K;
                    let x = r!(b);
                    let field = &mut self.heap.fields_mut(r!(obj).as_handle())[f as usize];
                    let (p, q) = (field.bits, x.bits);
                    let (fp, fq) = (f64::from_bits(p), f64::from_bits(q));
                    let bits = match op {
                        K::AddI => match (p as i64).checked_add(q as i64) {
                            Some(v) => v as u64,
                            None => fault!(Fault::overflow()),
                        },
                        K::SubI => match (p as i64).checked_sub(q as i64) {
                            Some(v) => v as u64,
                            None => fault!(Fault::overflow()),
                        },
                        K::MulI => match (p as i64).checked_mul(q as i64) {
                            Some(v) => v as u64,
                            None => fault!(Fault::overflow()),
                        },
                        K::AddF => (fp + fq).to_bits(),
                        K::SubF => (fp - fq).to_bits(),
                        K::MulF => (fp * fq).to_bits(),
                        K::DivF => (fp / fq).to_bits(),
                    };
                    // SAFETY: `field` is a valid, exclusive place.
                    unsafe { store_scalar(field, bits) }
                }
                Instr::FieldAddIImm { f, obj, imm } => {
                    let field = &mut self.heap.fields_mut(r!(obj).as_handle())[f as usize];
                    match field.as_int().checked_add(imm as i64) {
                        // SAFETY: `field` is a valid, exclusive place.
                        Some(v) => unsafe { store_scalar(field, v as u64) },
                        None => fault!(Fault::overflow()),
                    }
                }
                Instr::GetTag { a, obj } => put!(a, Value::int(crate::deep::tag(&self.heap, r!(obj)) as i64)),
                Instr::RefReg { a, b } => put16!(a, Value { bits: REG_PLACE | (base + b as usize) as u64, ext: 0 }),
                Instr::RefField { a, obj, i } => put16!(a, Value { bits: r!(obj).bits, ext: i as u64 }),
                Instr::Load { a, r } => {
                    let v = self.load(r!(r));
                    sync!();
                    put16!(a, v);
                }
                Instr::Store { r, b } => {
                    let (place, v) = (r!(r), r!(b));
                    self.store(place, v);
                    sync!();
                }
                Instr::Index { a, list, i } => {
                    let items = self.heap.items(r!(list).as_handle());
                    let idx = r!(i).bits;
                    match items.get(idx as usize) {
                        Some(v) => r!(a) = *v,
                        None => fault!(Fault::bounds(items.len(), idx)),
                    }
                }
                Instr::IndexSlice { a, list, i } => {
                    let s = r!(list);
                    let idx = r!(i).bits;
                    if idx >= s.slice_len() as u64 {
                        fault!(Fault::bounds(s.slice_len(), idx));
                    }
                    match self.heap.item(prog, s.as_handle(), s.slice_start() + idx as usize) {
                        Some(v) => r!(a) = v,
                        None => fault!(Fault::bounds(s.slice_len(), idx)),
                    }
                }
                Instr::RefIndex { a, list, i } => {
                    let h = r!(list).as_handle();
                    let len = self.heap.items(h).len();
                    let idx = r!(i).bits;
                    if idx >= len as u64 {
                        fault!(Fault::bounds(len, idx));
                    }
                    put16!(a, Value { bits: h as u64, ext: idx });
                }
                Instr::RefIndexSlice { a, list, i } => {
                    let s = r!(list);
                    let idx = r!(i).bits;
                    if idx >= s.slice_len() as u64 {
                        fault!(Fault::bounds(s.slice_len(), idx));
                    }
                    put16!(a, Value { bits: s.bits, ext: s.slice_start() as u64 + idx });
                }
                Instr::SliceAll { a, b } if r!(b).is_slice() => r!(a) = r!(b),
                Instr::SliceAll { a, b } => {
                    let h = r!(b).as_handle();
                    let len = match self.heap_len(prog, h) {
                        Some(n) => n,
                        None => fault!(Fault::new("internal error: slicing a value that is not a list")),
                    };
                    put16!(a, Value::slice(h, 0, len as u32));
                }
                Instr::Drop { a } => {
                    let v = r!(a);
                    self.heap.free(prog, v);
                    r!(a) = Value::NONE;
                }
                Instr::Clone { a, b } => {
                    let v = r!(b);
                    let slot = self.object_slot(v);
                    r!(a) = crate::deep::clone(&mut self.heap, prog, v, slot);
                }
                Instr::Swap { a, b } => {
                    let (x, y) = (r!(a).as_handle(), r!(b).as_handle());
                    self.heap.swap(x, y);
                }
                Instr::FreeShell { a } => {
                    let v = r!(a);
                    if !v.is_none() {
                        self.heap.free_shell(v.as_handle());
                    }
                    r!(a) = Value::NONE;
                }
            }
        }
    }

    /// The slot describing object value `v` (by its own layout).
    fn object_slot(&self, v: Value) -> Slot {
        if v.is_none() {
            return Slot::Scalar(NumTy::Unit);
        }
        match self.heap.get(v.as_handle()) {
            Obj::Record { layout, .. }
            | Obj::List { layout, .. }
            | Obj::Map { layout, .. }
            | Obj::Set { layout, .. } => Slot::Owned(*layout),
            _ => Slot::Owned(crate::program::STR_LAYOUT),
        }
    }

    /// The length of a string (in bytes) or list object.
    fn heap_len(&self, prog: &Program, h: u32) -> Option<usize> {
        use crate::heap::Obj;
        if h & crate::value::CONST_HANDLE != 0 {
            return Some(self.heap.string(prog, h).len());
        }
        match self.heap.get(h) {
            Obj::Str(s) => Some(s.len()),
            Obj::List { items, .. } => Some(items.len()),
            _ => None,
        }
    }

    /// Builds an object of layout `l` from the registers at `at`.
    fn new_object(&mut self, prog: &Program, l: u32, at: usize) -> Value {
        use crate::heap::Obj;
        use crate::program::LayoutKind;
        let (layout, tag, n) = match &prog.layout(l).kind {
            LayoutKind::Record { fields, .. } => (l, 0, fields.len()),
            LayoutKind::Variant { of, tag } => match &prog.layout(*of).kind {
                LayoutKind::Enum { variants } => (*of, *tag, variants[*tag as usize].1.len()),
                _ => (*of, *tag, 0),
            },
            LayoutKind::List { .. } => {
                // An array literal: its length is in `R[at]`, items after it.
                let n = self.regs[at].bits as usize;
                let items = self.regs[at + 1..at + 1 + n].to_vec();
                return Value::handle(self.heap.alloc(Obj::List { layout: l, items }));
            }
            _ => (l, 0, 0),
        };
        Value::handle(self.heap.new_record(layout, tag, &self.regs[at..at + n]))
    }

    /// The register stack (for natives).
    pub(crate) fn regs(&mut self) -> &mut Vec<Value> {
        &mut self.regs
    }

    /// Register `at`, if there is one.
    pub(crate) fn reg(&self, at: usize) -> Option<Value> {
        self.regs.get(at).copied()
    }
}
