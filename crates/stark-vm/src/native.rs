//! Native operations: the library functions the VM implements itself
//! (strings, collections, formatting, math) and the few that go to the
//! host (output, files, timers). A native reads its arguments from
//! `R[base..]` and writes its result to `R[base]`; it never calls back
//! into bytecode, so library code that runs user code (a closure, a
//! user `Eq`) is written in STARK instead.

use crate::bytecode::NumTy;
use crate::deep;
use crate::format;
use crate::heap::{HostRef, Obj};
use crate::map;
use crate::program::{LayoutKind, Program, SelectOp, Site, Slot, NO_LAYOUT};
use crate::task::{ActorOp, Done, Host, HostFuture, Selecting, Task};
use crate::transfer::{self, Portable};
use crate::trap::Fault;
use crate::value::Value;

/// What a native did.
pub enum Flow {
    /// Finished; the result is in `R[base]`.
    Done,
    /// Waiting on the host; the future's output goes to `R[base]`.
    Suspend(HostFuture),
    /// Finished, and the task should let others run (`yield_now`).
    Yield,
}

/// The native operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Native {
    // Output and failure.
    Print,
    Println,
    Eprint,
    Eprintln,
    Panic,
    Assert,
    AssertEq,
    // Formatting and the standard trait implementations.
    ToString,
    FormatNum,
    Pad,
    StrAppend,
    StrAppendStr,
    /// Appends the text of a scalar (`R[base+1]`, shown as the site's
    /// slot) to the string `R[base]`: `ToString` then `StrAppend` in one.
    StrAppendDisplay,
    Hash,
    Eq,
    Compare,
    CmpOrdering,
    // Strings.
    StringNew,
    StringFrom,
    StrLen,
    StrIsEmpty,
    StringPush,
    StringPushStr,
    StringPop,
    StringClear,
    StrChars,
    StrBytes,
    StrContains,
    StrStartsWith,
    StrEndsWith,
    StrFind,
    StrReplace,
    StrSplit,
    StrTrim,
    StrToLower,
    StrToUpper,
    StrSubstring,
    StrRange,
    // Vectors and slices.
    VecNew,
    VecWithCapacity,
    VecPush,
    VecPop,
    VecLen,
    VecCapacity,
    VecInsert,
    VecRemove,
    VecClear,
    VecAppend,
    VecIter,
    VecContains,
    VecSort,
    /// `(list, order)`: the list's elements put in `order`'s order
    /// (`user_sort`); `order` is consumed.
    VecPermute,
    VecReverse,
    VecExtend,
    SliceLen,
    SliceGet,
    SliceIter,
    /// `[T]::to_vec`: a new list (layout `layout`) of deep copies of the
    /// slice's elements (of kind `slot`).
    SliceToVec,
    SliceRange,
    ListNext,
    // Maps and sets.
    MapNew,
    MapInsert,
    MapGet,
    MapRemove,
    /// `MapInsert` whose result is dropped at once: it returns nothing and
    /// destroys the old value itself.
    MapInsertDiscard,
    /// `MapRemove` whose result is dropped at once (as `MapInsertDiscard`).
    MapRemoveDiscard,
    /// `MapGet` returning its `Option<&V>` unboxed: the reference, or
    /// `NONE` for `None` (see `opt.rs`, where the uses allow it).
    MapGetRaw,
    MapContainsKey,
    MapLen,
    MapClear,
    MapKeys,
    MapValues,
    MapIter,
    KeysNext,
    ValuesNext,
    PairsNext,
    SetNew,
    SetInsert,
    SetRemove,
    SetContains,
    SetLen,
    SetClear,
    SetIter,
    SetNext,
    /// Takes the last entry out of a map or set (drop glue's loop): an
    /// `Option` (layout `layout`) of the element, or of the `(key, value)`
    /// tuple of layout `aux`.
    TakeLast,
    CharsNext,
    SplitNext,
    RangeNext,
    // Numbers.
    Math(MathFn),
    Abs,
    Min,
    Max,
    Clamp,
    // Files and time.
    ReadFile,
    WriteFile,
    Sleep,
    YieldNow,
    InstantNow,
    // Tasks and channels (the runtime's; values cross by `transfer`).
    TaskSpawn,
    TaskJoin,
    TaskResult,
    JoinAll,
    Race,
    Timeout,
    TaskIsFinished,
    TaskCancel,
    ChanNew,
    ChanBounded,
    ChanSend,
    ChanTrySend,
    ChanRecv,
    ChanTryRecv,
    ChanClose,
    ChanLen,
    ChanIsClosed,
    /// `select` over this many arms (`Program::selects[aux]`).
    Select(u16),
    // Actors: the cell (mailbox, owed replies), messages, replies;
    // supervisors. Each is an `ActorOp` of the host.
    /// `()`: a cell; `layout` is the actor's state (its name names it).
    ActorNew,
    /// `(cell, body, options, supervisor)`: start an instance; `slot` is
    /// the options', `aux` bit 0 says options are given, bit 1 a supervisor.
    ActorStart,
    /// `(cell)`: the next message, an `Option` of `layout`; or, with
    /// `aux` a `Vec` layout, the next batch.
    ActorRecv,
    /// `(cell)`: whether the actor takes batches.
    ActorBatching,
    /// `(cell, value)`: the reply (of kind `slot`); `aux` 1: a batch's replies.
    ActorReply,
    /// `(cell, message, priority, timeout µs, reserved)`: the reply to wait on.
    ActorAsk,
    /// `(cell, message)`.
    ActorTell,
    /// `(cell)`: a place for a `try_ask`, or false.
    ActorReserve,
    ActorStop,
    ActorStats,
    /// `(cell)`: the failure this instance restarted after, an `Option` of `layout`.
    ActorFailure,
    /// `(strategy tag)`: a supervisor.
    SupervisorNew,
    /// `(parent, child)`.
    SupervisorAdopt,
    ReplyAwait,
    // Broadcast channels and their receivers.
    BcastNew,
    BcastSend,
    BcastSubscribe,
    BcastRecv,
    BcastTryRecv,
    BcastMissed,
    // `SharedMap` and its guards (`aux` 1: an exclusive guard).
    SharedNew,
    SharedGuard,
    GuardGet,
    GuardInsert,
    GuardRemove,
    GuardContains,
    GuardLen,
    /// A tensor operation (`tensor.rs`); the site's slot is the element type.
    Tensor(crate::tensor::TensorOp),
    /// A model operation (`crate::model`).
    Model(crate::model::ModelFn),
    /// A `Json` operation (`json.rs`).
    Json(crate::json::JsonOp),
    /// An HTTP operation (`net.rs`), done by the host.
    Net(crate::net::NetFn),
    /// A `Gc` or `gc` module operation (`gc.rs`).
    Gc(crate::gc::GcOp),
    /// An operation on a map or set keyed by a user `Eq`/`Hash` (`keyed.rs`).
    Keyed(crate::keyed::KeyedOp),
}

impl Native {
    /// How many argument registers (`R[base..base+n]`) the operation may
    /// read; it writes at most `R[base]` (the optimiser relies on both).
    pub fn reads(self) -> u16 {
        use Native::*;
        match self {
            StringNew | VecNew | MapNew | SetNew | YieldNow | ChanNew | SharedNew | InstantNow | ActorNew => 0,
            AssertEq | StrAppend | StrAppendStr | StrAppendDisplay | StringPushStr | Eq | Compare | CmpOrdering
            | StringPush | StrSplit | StrContains | StrStartsWith | StrEndsWith | StrFind | VecPush | VecRemove
            | VecAppend | VecExtend | VecContains | VecPermute | SliceGet | MapGet | MapContainsKey | MapRemove
            | MapRemoveDiscard | MapGetRaw | SetInsert | SetRemove | SetContains | WriteFile | ChanSend
            | ChanTrySend | Timeout | GuardGet | GuardRemove | GuardContains | BcastSend | ActorReply | ActorTell
            | SupervisorAdopt => 2,
            StrReplace | StrSubstring | StrRange | VecInsert | SliceRange | MapInsert | MapInsertDiscard | Min
            | Max | Clamp | GuardInsert => 3,
            Math(MathFn::Pow) => 2,
            Select(arms) => 2 + 2 * arms,
            ActorStart => 4,
            ActorAsk => 5,
            Tensor(op) => op.reads(),
            Model(f) => f.reads(),
            Json(op) => op.reads(),
            Net(op) => op.reads(),
            Gc(op) => op.reads(),
            Keyed(op) => op.reads(),
            _ => 1,
        }
    }
}

/// `std::math` functions of one `Float64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFn {
    Sqrt,
    Pow,
    Log,
    Log10,
    Exp,
    Sin,
    Cos,
    Tan,
    Floor,
    Ceil,
    Round,
    Trunc,
}

/// The next value of channel `ch`: taken at once if one is queued,
/// else the future that waits for it (giving an `Option` of layout
/// `option`; `None` once the channel is closed and drained).
pub fn receive(host: &mut dyn Host, ch: &HostRef, option: u32) -> Result<Portable, HostFuture> {
    host.try_recv(ch).ok_or_else(|| host.recv(ch, option))
}

/// `HashMap::get` (unboxed), `contains_key` and a discarded `insert`
/// (`map.rs`), or a string native (`string_fast`), without the general
/// path's set-up. False, having done nothing, for any other site.
#[inline]
pub fn map_fast(task: &mut Task, prog: &Program, site: &Site, at: usize) -> bool {
    let native = site.native;
    if !matches!(native, Native::MapGetRaw | Native::MapContainsKey | Native::MapInsertDiscard) {
        return string_fast(task, prog, site, at);
    }
    let regs = task.regs();
    let (Some(&m), Some(&k)) = (regs.get(at), regs.get(at + 1)) else { return false };
    if native == Native::MapInsertDiscard {
        let Some(&v) = regs.get(at + 2) else { return false };
        if map::insert_discard(&mut task.heap, prog, m, k, v).is_none() {
            return false;
        }
        task.regs()[at] = Value::NONE;
        return true;
    }
    // A key to look up arrives by reference: a scalar's place is read.
    let Some((_, kslot, _)) = map::table(&task.heap, prog, m) else { return false };
    let key = if matches!(kslot, Slot::Scalar(_)) { task.load(k) } else { k };
    let r = if native == Native::MapContainsKey {
        map::contains(&task.heap, prog, m, key).map(Value::bool)
    } else {
        map::get_raw(&task.heap, prog, m, key)
    };
    let Some(r) = r else { return false };
    task.regs()[at] = r;
    true
}

/// `String::new`, `clear`, and a `push`/`push_str` whose result is used
/// (the optimiser makes the others and an `f"..."`'s appends instructions),
/// without the general path's set-up (what they do is `Cx::run`'s).
/// False, having done nothing, for any other site.
#[inline]
fn string_fast(task: &mut Task, prog: &Program, site: &Site, at: usize) -> bool {
    let regs = task.regs();
    let (dst, x) = match (regs.get(at), regs.get(at + 1)) {
        (Some(&d), Some(&x)) => (d, x),
        _ => return false,
    };
    let heap = &mut task.heap;
    let r = match site.native {
        Native::StringNew => {
            let text = heap.pooled_string();
            heap.new_str(text)
        }
        Native::StringPushStr => {
            heap.append_str(prog, dst.as_handle(), x);
            Value::UNIT
        }
        Native::StringPush => {
            let c = char::from_u32(x.bits as u32).unwrap_or('\u{fffd}');
            heap.string_mut(dst.as_handle()).push(c);
            Value::UNIT
        }
        Native::StringClear => {
            heap.string_mut(dst.as_handle()).clear();
            Value::UNIT
        }
        _ => return false,
    };
    task.regs()[at] = r;
    true
}

/// Runs native `site.native` with its arguments at absolute register `at`.
pub fn call(task: &mut Task, prog: &Program, host: &mut dyn Host, site: &Site, at: usize) -> Result<Flow, Fault> {
    let mut cx = Cx { task, prog, site, at };
    cx.run(host)
}

/// A native call in progress: the task, its program, the call site and
/// the absolute register of its arguments.
pub(crate) struct Cx<'a> {
    pub(crate) task: &'a mut Task,
    pub(crate) prog: &'a Program,
    pub(crate) site: &'a Site,
    pub(crate) at: usize,
}

impl Cx<'_> {
    pub(crate) fn arg(&self, i: usize) -> Value {
        self.task.reg(self.at + i).unwrap_or(Value::NONE)
    }

    pub(crate) fn ret(&mut self, v: Value) {
        let at = self.at;
        let regs = self.task.regs();
        if at < regs.len() {
            // SAFETY: `at` is in bounds.
            unsafe { crate::value::store_value(regs.as_mut_ptr().add(at), v) }
        }
    }

    pub(crate) fn str_arg(&mut self, i: usize) -> String {
        let v = self.arg(i);
        self.task.heap.str_slice(self.prog, v).to_string()
    }

    pub(crate) fn new_str(&mut self, s: String) -> Value {
        self.task.heap.new_str(s)
    }

    fn some(&mut self, v: Value) -> Value {
        let layout = self.site.layout;
        Value::handle(self.task.heap.new_record(layout, 0, &[v]))
    }

    fn none(&mut self) -> Value {
        let layout = self.site.layout;
        Value::handle(self.task.heap.alloc(Obj::Record { layout, tag: 1, fields: Box::new([]) }))
    }

    /// Returns `Option<T>` of `v` (a `T` in `slot`), or, for a `*Discard`
    /// site, destroys `v` and returns nothing.
    pub(crate) fn ret_option(&mut self, v: Option<Value>, slot: Slot) {
        if matches!(self.site.native, Native::MapInsertDiscard | Native::MapRemoveDiscard) {
            if let (Some(v), Slot::Owned(_)) = (v, slot) {
                self.free(v);
            }
            self.ret(Value::NONE);
        } else {
            let r = self.option(v);
            self.ret(r);
        }
    }

    pub(crate) fn option(&mut self, v: Option<Value>) -> Value {
        match v {
            Some(v) => self.some(v),
            None => self.none(),
        }
    }

    /// A reference to item `i` of object `h` whose items are `slot`s.
    pub(crate) fn item_ref(&self, h: u32, i: usize, item: Value, slot: Slot) -> Value {
        match slot {
            Slot::Owned(_) => item,
            _ => Value { bits: h as u64, ext: i as u64 },
        }
    }

    /// A lookup argument (`&K`): a scalar's place is read, an object
    /// reference is its handle already.
    fn deref(&self, v: Value, slot: Slot) -> Value {
        match slot {
            Slot::Scalar(_) => self.task.load(v),
            _ => v,
        }
    }

    pub(crate) fn free(&mut self, v: Value) {
        self.task.heap.free(self.prog, v);
    }

    /// A `Gc` or `gc` module operation.
    fn gc_op(&mut self, op: crate::gc::GcOp) -> Result<(), Fault> {
        use crate::gc::GcOp;
        let prog = self.prog;
        let heap = &mut self.task.heap;
        let r = match op {
            GcOp::New => {
                let v = self.arg(0);
                let heap = &mut self.task.heap;
                if heap.gc_due() {
                    heap.gc_step(prog)?;
                }
                Value::handle(heap.gc_new(self.site.layout, v))
            }
            GcOp::Borrow | GcOp::BorrowMut => {
                let g = self.arg(0);
                self.task.heap.gc_borrow(g.as_handle(), op == GcOp::BorrowMut)?;
                g
            }
            GcOp::Release => {
                let g = self.arg(0);
                if !g.is_none() {
                    self.task.heap.gc_unborrow(g.as_handle());
                }
                Value::UNIT
            }
            GcOp::PtrEq => {
                let (a, b) = (self.arg(0), self.arg(1));
                Value::bool(a.bits == b.bits)
            }
            GcOp::Configure => {
                let v = self.arg(0);
                let config = crate::gc::read_config(&self.task.heap, v)?;
                self.task.heap.gc.configure(config);
                self.free(v);
                Value::UNIT
            }
            GcOp::Collect | GcOp::CollectYoung => {
                heap.gc_collect(prog, op == GcOp::Collect)?;
                Value::UNIT
            }
            GcOp::Stats => {
                let fields = heap.gc_stats(prog);
                Value::handle(heap.new_record(self.site.layout, 0, &fields))
            }
            GcOp::ArenaEnter => Value::from_bits(heap.arena_enter() as u64),
            GcOp::ArenaExit => {
                let depth = self.arg(0).bits as usize;
                self.task.heap.arena_exit(prog, depth);
                Value::UNIT
            }
        };
        self.ret(r);
        Ok(())
    }

    pub(crate) fn elem_slot(&self, v: Value) -> Slot {
        match self.task.heap.get(v.as_handle()) {
            Obj::List { layout, .. } | Obj::Set { layout, .. } => deep::elem_slot(self.prog, *layout),
            _ => self.site.slot,
        }
    }

    pub(crate) fn map_slots(&self, v: Value) -> (Slot, Slot) {
        match self.task.heap.get(v.as_handle()) {
            Obj::Map { layout, .. } => match self.prog.layout(*layout).kind {
                LayoutKind::Map { key, value } => (key, value),
                _ => (self.site.slot, self.site.slot),
            },
            _ => (self.site.slot, self.site.slot),
        }
    }

    fn run(&mut self, host: &mut dyn Host) -> Result<Flow, Fault> {
        use Native::*;
        let prog = self.prog;
        match self.site.native {
            Gc(op) => self.gc_op(op).map_err(|f| {
                // An out-of-memory trap names the task whose heap it is.
                let name = self.task.name().to_string();
                Fault::new(f.0.replace("this task's heap", &format!("the heap of task `{name}`")))
            })?,
            Print | Println | Eprint | Eprintln => {
                let v = self.arg(0);
                let mut text = self.task.heap.string(prog, v.as_handle()).to_string();
                if matches!(self.site.native, Println | Eprintln) {
                    text.push('\n');
                }
                host.write(matches!(self.site.native, Eprint | Eprintln), text.as_bytes());
                self.free(v);
                self.ret(Value::UNIT);
            }
            Panic => {
                let message = self.str_arg(0);
                return Err(Fault::new(format!("panic: {message}")));
            }
            Assert => {
                if !self.arg(0).as_bool() {
                    return Err(Fault::new("assertion failed"));
                }
            }
            AssertEq => {
                let (a, b) = (self.arg(0), self.arg(1));
                let heap = &self.task.heap;
                if !deep::eq(heap, prog, a, b, self.site.slot) {
                    let (x, y) =
                        (deep::display(heap, prog, a, self.site.slot), deep::display(heap, prog, b, self.site.slot));
                    return Err(Fault::new(format!("assertion failed: left == right (left: {x}, right: {y})")));
                }
                self.ret(Value::UNIT);
            }
            ToString => {
                let v = self.arg(0);
                let mut text = self.task.heap.pooled_string();
                deep::display_into(&self.task.heap, prog, v, self.site.slot, &mut text);
                let s = self.new_str(text);
                self.ret(s);
            }
            FormatNum => {
                let v = self.arg(0);
                let Slot::Scalar(ty) = self.site.slot else { return Err(Fault::new("internal error: format")) };
                let text = format::number(v, ty, &prog.specs[self.site.aux as usize]);
                let s = self.new_str(text);
                self.ret(s);
            }
            Pad => {
                let v = self.arg(0);
                let spec = &prog.specs[self.site.aux as usize];
                let default =
                    if matches!(self.site.slot, Slot::Scalar(t) if t.is_int() || t.is_float()) { '>' } else { '<' };
                let s = self.task.heap.string_mut(v.as_handle());
                *s = format::pad(s, spec, default);
            }
            StrAppend => {
                let (dst, piece) = (self.arg(0), self.arg(1));
                self.task.heap.append_text(prog, dst.as_handle(), piece);
                self.free(piece);
            }
            StrAppendDisplay => {
                let (dst, v) = (self.arg(0), self.arg(1));
                if let Slot::Scalar(ty) = self.site.slot {
                    format::scalar_into(v, ty, self.task.heap.string_mut(dst.as_handle()));
                    return Ok(Flow::Done);
                }
                let mut text = std::mem::take(self.task.heap.string_mut(dst.as_handle()));
                deep::display_into(&self.task.heap, prog, v, self.site.slot, &mut text);
                *self.task.heap.string_mut(dst.as_handle()) = text;
            }
            StrAppendStr | StringPushStr => {
                let (dst, piece) = (self.arg(0), self.arg(1));
                self.task.heap.append_str(prog, dst.as_handle(), piece);
                if self.site.native == StringPushStr {
                    self.ret(Value::UNIT);
                }
            }
            Hash => {
                let v = self.arg(0);
                let h = deep::hash(&self.task.heap, prog, v, self.site.slot);
                self.ret(Value::from_bits(h));
            }
            Eq => {
                let (a, b) = (self.arg(0), self.arg(1));
                let r = deep::eq(&self.task.heap, prog, a, b, self.site.slot);
                self.ret(Value::bool(r));
            }
            Compare => {
                let (a, b) = (self.arg(0), self.arg(1));
                let r = deep::cmp(&self.task.heap, prog, a, b, self.site.slot) as i64;
                self.ret(Value::int(r));
            }
            CmpOrdering => {
                let (a, b) = (self.arg(0), self.arg(1));
                let tag = deep::cmp(&self.task.heap, prog, a, b, self.site.slot) as i64 + 1;
                let layout = self.site.layout;
                let v = self.task.heap.alloc(Obj::Record { layout, tag: tag as u32, fields: Box::new([]) });
                self.ret(Value::handle(v));
            }
            StringNew => {
                let text = self.task.heap.pooled_string();
                let s = self.new_str(text);
                self.ret(s);
            }
            StringFrom => {
                let text = self.str_arg(0);
                let s = self.new_str(text);
                self.ret(s);
            }
            StrLen => {
                let v = self.arg(0);
                self.ret(Value::from_bits(v.slice_len() as u64));
            }
            StrIsEmpty => {
                let v = self.arg(0);
                self.ret(Value::bool(v.slice_len() == 0));
            }
            StringPush => {
                let (dst, c) = (self.arg(0), self.arg(1));
                let c = char::from_u32(c.bits as u32).unwrap_or('\u{fffd}');
                self.task.heap.string_mut(dst.as_handle()).push(c);
                self.ret(Value::UNIT);
            }
            StringPop => {
                let dst = self.arg(0);
                let c = self.task.heap.string_mut(dst.as_handle()).pop();
                let v = self.option(c.map(|c| Value::from_bits(c as u64)));
                self.ret(v);
            }
            StringClear => {
                let dst = self.arg(0);
                self.task.heap.string_mut(dst.as_handle()).clear();
                self.ret(Value::UNIT);
            }
            StrChars | StrSplit => {
                let source = self.arg(0);
                let obj = if self.site.native == StrChars {
                    Obj::Iter { source, pos: 0, end: source.slice_len() }
                } else {
                    let delim = self.str_arg(1);
                    let d = self.new_str(delim);
                    Obj::Iter { source, pos: 0, end: d.as_handle() as usize }
                };
                let h = self.task.heap.alloc(obj);
                self.ret(Value::handle(h));
            }
            StrBytes => {
                let v = self.arg(0);
                self.ret(v);
            }
            StrContains | StrStartsWith | StrEndsWith => {
                let (s, p) = (self.str_arg(0), self.str_arg(1));
                let r = match self.site.native {
                    StrContains => s.contains(&p),
                    StrStartsWith => s.starts_with(&p),
                    _ => s.ends_with(&p),
                };
                self.ret(Value::bool(r));
            }
            StrFind => {
                let (s, p) = (self.str_arg(0), self.str_arg(1));
                let found = s.find(&p).map(|i| Value::from_bits(i as u64));
                let v = self.option(found);
                self.ret(v);
            }
            StrReplace => {
                let (s, from, to) = (self.str_arg(0), self.str_arg(1), self.str_arg(2));
                let v = self.new_str(s.replace(&from, &to));
                self.ret(v);
            }
            StrTrim => {
                let v = self.arg(0);
                let s = self.task.heap.str_slice(prog, v);
                let start = s.len() - s.trim_start().len();
                let len = s.trim().len();
                self.ret(Value::slice(v.as_handle(), (v.slice_start() + start) as u32, len as u32));
            }
            StrToLower | StrToUpper => {
                let s = self.str_arg(0);
                let t = if self.site.native == StrToLower { s.to_lowercase() } else { s.to_uppercase() };
                let v = self.new_str(t);
                self.ret(v);
            }
            StrSubstring | StrRange => {
                let (v, start, end) = (self.arg(0), self.arg(1).bits as usize, self.arg(2).bits as usize);
                let s = self.task.heap.str_slice(prog, v);
                if start > end || end > s.len() {
                    return Err(Fault::new(format!(
                        "range out of bounds: {start}..{end} for a string of length {}",
                        s.len()
                    )));
                }
                if !s.is_char_boundary(start) || !s.is_char_boundary(end) {
                    return Err(Fault::new(format!("range {start}..{end} is not on a character boundary")));
                }
                self.ret(Value::slice(v.as_handle(), (v.slice_start() + start) as u32, (end - start) as u32));
            }
            VecNew => {
                let layout = self.site.layout;
                let h = self.task.heap.alloc(Obj::List { layout, items: Vec::new() });
                self.ret(Value::handle(h));
            }
            VecWithCapacity => {
                let n = (self.arg(0).bits as usize).min(1 << 24);
                let layout = self.site.layout;
                let h = self.task.heap.alloc(Obj::List { layout, items: Vec::with_capacity(n) });
                self.ret(Value::handle(h));
            }
            VecPush => {
                let (v, x) = (self.arg(0), self.arg(1));
                self.task.heap.items_mut(v.as_handle()).push(x);
                self.ret(Value::UNIT);
            }
            VecPop => {
                let v = self.arg(0);
                let x = self.task.heap.items_mut(v.as_handle()).pop();
                let r = self.option(x);
                self.ret(r);
            }
            VecLen | VecCapacity => {
                let v = self.arg(0);
                let items = self.task.heap.items(v.as_handle());
                let n = if self.site.native == VecLen { items.len() } else { items.capacity() };
                self.ret(Value::from_bits(n as u64));
            }
            VecInsert => {
                let (v, i, x) = (self.arg(0), self.arg(1).bits, self.arg(2));
                let items = self.task.heap.items_mut(v.as_handle());
                if i as usize > items.len() {
                    return Err(Fault::new(format!("insertion index (is {i}) should be <= len (is {})", items.len())));
                }
                items.insert(i as usize, x);
                self.ret(Value::UNIT);
            }
            VecRemove => {
                let (v, i) = (self.arg(0), self.arg(1).bits);
                let items = self.task.heap.items_mut(v.as_handle());
                if i as usize >= items.len() {
                    return Err(Fault::bounds(items.len(), i));
                }
                let x = items.remove(i as usize);
                self.ret(x);
            }
            VecClear => {
                let v = self.arg(0);
                let slot = self.elem_slot(v);
                let items = std::mem::take(self.task.heap.items_mut(v.as_handle()));
                if matches!(slot, Slot::Owned(_)) {
                    for x in items.into_iter().rev() {
                        self.free(x);
                    }
                }
                self.ret(Value::UNIT);
            }
            VecAppend => {
                let (v, w) = (self.arg(0), self.arg(1));
                let moved = std::mem::take(self.task.heap.items_mut(w.as_handle()));
                self.task.heap.items_mut(v.as_handle()).extend(moved);
                self.ret(Value::UNIT);
            }
            VecExtend => {
                let (v, w) = (self.arg(0), self.arg(1));
                let moved = std::mem::take(self.task.heap.items_mut(w.as_handle()));
                self.task.heap.items_mut(v.as_handle()).extend(moved);
                self.free(w);
                self.ret(Value::UNIT);
            }
            VecIter => {
                let v = self.arg(0);
                let len = self.task.heap.items(v.as_handle()).len();
                let h = self.task.heap.alloc(Obj::Iter {
                    source: Value::slice(v.as_handle(), 0, len as u32),
                    pos: 0,
                    end: len,
                });
                self.ret(Value::handle(h));
            }
            SliceIter => {
                let v = self.arg(0);
                let h = self.task.heap.alloc(Obj::Iter { source: v, pos: 0, end: v.slice_len() });
                self.ret(Value::handle(h));
            }
            VecContains => {
                let slot = self.site.slot;
                // `&T`: a scalar's place is read.
                let (v, x) = (self.arg(0), self.deref(self.arg(1), slot));
                let heap = &self.task.heap;
                let items = if v.is_slice() { heap.list_slice(v) } else { heap.items(v.as_handle()) };
                let found = items.iter().any(|y| deep::eq(heap, prog, *y, x, slot));
                self.ret(Value::bool(found));
            }
            VecPermute => {
                let (v, order) = (self.arg(0), self.arg(1));
                let positions: Vec<usize> =
                    self.task.heap.items(order.as_handle()).iter().map(|p| p.bits as usize).collect();
                self.free(order);
                let items = std::mem::take(self.task.heap.items_mut(v.as_handle()));
                let mut seen = vec![false; items.len()];
                let valid = positions.len() == items.len()
                    && positions.iter().all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
                if !valid {
                    *self.task.heap.items_mut(v.as_handle()) = items;
                    return Err(Fault::new("internal error: a sort order that is not a permutation"));
                }
                *self.task.heap.items_mut(v.as_handle()) = positions.iter().map(|&p| items[p]).collect();
                self.ret(Value::UNIT);
            }
            VecSort => {
                let v = self.arg(0);
                let slot = self.site.slot;
                let mut items = std::mem::take(self.task.heap.items_mut(v.as_handle()));
                let heap = &self.task.heap;
                items.sort_by(|a, b| deep::cmp(heap, prog, *a, *b, slot));
                *self.task.heap.items_mut(v.as_handle()) = items;
                self.ret(Value::UNIT);
            }
            VecReverse => {
                let v = self.arg(0);
                self.task.heap.items_mut(v.as_handle()).reverse();
                self.ret(Value::UNIT);
            }
            SliceLen => {
                let v = self.arg(0);
                self.ret(Value::from_bits(v.slice_len() as u64));
            }
            SliceToVec => {
                let v = self.arg(0);
                let (slot, layout) = (self.site.slot, self.site.layout);
                let items = self.task.heap.list_slice(v).to_vec();
                let items = items.into_iter().map(|x| deep::clone(&mut self.task.heap, prog, x, slot)).collect();
                let h = self.task.heap.alloc(Obj::List { layout, items });
                self.ret(Value::handle(h));
            }
            SliceGet => {
                let (v, i) = (self.arg(0), self.arg(1).bits as usize);
                let slot = self.site.slot;
                let got = if i < v.slice_len() {
                    let idx = v.slice_start() + i;
                    self.task.heap.item(prog, v.as_handle(), idx).map(|x| self.item_ref(v.as_handle(), idx, x, slot))
                } else {
                    None
                };
                let r = self.option(got);
                self.ret(r);
            }
            SliceRange => {
                let (v, start, end) = (self.arg(0), self.arg(1).bits as usize, self.arg(2).bits as usize);
                let len = v.slice_len();
                if start > end || end > len {
                    return Err(Fault::new(format!("range out of bounds: {start}..{end} for length {len}")));
                }
                self.ret(Value::slice(v.as_handle(), (v.slice_start() + start) as u32, (end - start) as u32));
            }
            ListNext => {
                let it = self.arg(0).as_handle();
                let slot = self.site.slot;
                let Obj::Iter { source, pos, end } = self.task.heap.get(it) else {
                    return Err(Fault::new("internal error: not an iterator"));
                };
                let (source, pos, end) = (*source, *pos, *end);
                let next = if pos < end {
                    let idx = source.slice_start() + pos;
                    let item = self.task.heap.item(prog, source.as_handle(), idx);
                    item.map(|x| self.item_ref(source.as_handle(), idx, x, slot))
                } else {
                    None
                };
                if let Obj::Iter { pos, .. } = self.task.heap.get_mut(it) {
                    *pos += 1;
                }
                let r = self.option(next);
                self.ret(r);
            }
            MapNew => {
                let layout = self.site.layout;
                let h = self.task.heap.alloc(Obj::Map { layout, map: Box::default() });
                self.ret(Value::handle(h));
            }
            MapInsert | MapInsertDiscard => {
                let (m, k, v) = (self.arg(0), self.arg(1), self.arg(2));
                let Some((old, vslot)) = map::insert(&mut self.task.heap, prog, m, k, v) else {
                    return Err(map::not_a_map());
                };
                self.ret_option(old, vslot);
            }
            // `map_fast` runs these, on any map.
            MapGetRaw | MapContainsKey => return Err(map::not_a_map()),
            MapGet => {
                let (m, k) = (self.arg(0), self.arg(1));
                let (kslot, _) = self.map_slots(m);
                let Some(v) = map::get_raw(&self.task.heap, prog, m, self.deref(k, kslot)) else {
                    return Err(map::not_a_map());
                };
                let r = (!v.is_none()).then_some(v);
                let r = self.option(r);
                self.ret(r);
            }
            MapRemove | MapRemoveDiscard => {
                let (m, k) = (self.arg(0), self.arg(1));
                let (kslot, vslot) = self.map_slots(m);
                let heap = &self.task.heap;
                let probe = deep::probe(heap, prog, self.deref(k, kslot), kslot);
                let Obj::Map { map, .. } = heap.get(m.as_handle()) else { unreachable!() };
                let found = crate::keymap::find(map, heap, prog, &probe, kslot);
                let Obj::Map { map, .. } = self.task.heap.get_mut(m.as_handle()) else { unreachable!() };
                let removed = found.map(|i| map.remove_at(i));
                let value = removed.map(|(stored_key, v)| {
                    if matches!(kslot, Slot::Owned(_)) {
                        self.free(stored_key);
                    }
                    v
                });
                self.ret_option(value, vslot);
            }
            MapLen | SetLen => {
                let m = self.arg(0);
                let n = match self.task.heap.get(m.as_handle()) {
                    Obj::Map { map, .. } => map.len(),
                    Obj::Set { set, .. } => set.len(),
                    _ => 0,
                };
                self.ret(Value::from_bits(n as u64));
            }
            MapClear => {
                let m = self.arg(0);
                let (kslot, vslot) = self.map_slots(m);
                let Obj::Map { map, .. } = self.task.heap.get_mut(m.as_handle()) else { unreachable!() };
                let entries: Vec<(Value, Value)> = std::mem::take(&mut **map).into_values().collect();
                for (k, v) in entries.into_iter().rev() {
                    if matches!(vslot, Slot::Owned(_)) {
                        self.free(v);
                    }
                    if matches!(kslot, Slot::Owned(_)) {
                        self.free(k);
                    }
                }
                self.ret(Value::UNIT);
            }
            MapKeys | MapValues | MapIter | SetIter => {
                let m = self.arg(0);
                let h = self.task.heap.alloc(Obj::Iter { source: m, pos: 0, end: usize::MAX });
                self.ret(Value::handle(h));
            }
            KeysNext | ValuesNext | PairsNext => {
                let it = self.arg(0).as_handle();
                let Obj::Iter { source, pos, .. } = *self.task.heap.get(it) else { unreachable!() };
                let (kslot, vslot) = self.map_slots(source);
                let Obj::Map { map, .. } = self.task.heap.get(source.as_handle()) else { unreachable!() };
                let next = map.next_from(pos).map(|(i, (k, v))| (i, *k, *v));
                let entry = next.map(|(_, k, v)| (k, v));
                let pos = next.map_or(pos, |(i, _, _)| i);
                if let Obj::Iter { pos: p, .. } = self.task.heap.get_mut(it) {
                    *p = pos + 1;
                }
                let m = source.as_handle();
                let item = entry.map(|(k, v)| {
                    // A key is never a place (keys are immutable): a scalar key is
                    // referenced through the entry's stored key value.
                    let kref = match kslot {
                        Slot::Owned(_) => k,
                        _ => self.key_place(m, pos, k),
                    };
                    let vref = self.item_ref(m, pos, v, vslot);
                    match self.site.native {
                        KeysNext => kref,
                        ValuesNext => vref,
                        _ => {
                            let layout = self.site.aux;
                            Value::handle(self.task.heap.new_record(layout, 0, &[kref, vref]))
                        }
                    }
                });
                let r = self.option(item);
                self.ret(r);
            }
            SetNew => {
                let layout = self.site.layout;
                let h = self.task.heap.alloc(Obj::Set { layout, set: Box::default() });
                self.ret(Value::handle(h));
            }
            SetInsert => {
                let (s, x) = (self.arg(0), self.arg(1));
                let slot = self.elem_slot(s);
                let heap = &self.task.heap;
                let probe = deep::probe(heap, prog, x, slot);
                let hash = probe.hash();
                let Obj::Set { set, .. } = heap.get(s.as_handle()) else { unreachable!() };
                let inserted = set.find(hash, |stored| probe.matches(heap, prog, stored, slot)).is_none();
                if inserted {
                    let Obj::Set { set, .. } = self.task.heap.get_mut(s.as_handle()) else { unreachable!() };
                    set.push(hash, x);
                }
                if !inserted && matches!(slot, Slot::Owned(_)) {
                    self.free(x);
                }
                self.ret(Value::bool(inserted));
            }
            SetRemove | SetContains => {
                let (s, x) = (self.arg(0), self.arg(1));
                let slot = self.elem_slot(s);
                let heap = &self.task.heap;
                let probe = deep::probe(heap, prog, self.deref(x, slot), slot);
                let Obj::Set { set, .. } = heap.get(s.as_handle()) else { unreachable!() };
                let found = crate::keymap::find(set, heap, prog, &probe, slot);
                let r = if self.site.native == SetContains {
                    found.is_some()
                } else {
                    match found {
                        Some(i) => {
                            let Obj::Set { set, .. } = self.task.heap.get_mut(s.as_handle()) else { unreachable!() };
                            let stored = set.remove_at(i);
                            if matches!(slot, Slot::Owned(_)) {
                                self.free(stored);
                            }
                            true
                        }
                        None => false,
                    }
                };
                self.ret(Value::bool(r));
            }
            SetClear => {
                let s = self.arg(0);
                let slot = self.elem_slot(s);
                let Obj::Set { set, .. } = self.task.heap.get_mut(s.as_handle()) else { unreachable!() };
                let items: Vec<Value> = std::mem::take(&mut **set).into_values().collect();
                if matches!(slot, Slot::Owned(_)) {
                    for x in items.into_iter().rev() {
                        self.free(x);
                    }
                }
                self.ret(Value::UNIT);
            }
            TakeLast => {
                let h = self.arg(0).as_handle();
                let taken = match self.task.heap.get_mut(h) {
                    Obj::Map { map, .. } => map.pop_last().map(|(k, v)| {
                        let pair = self.task.heap.new_record(self.site.aux, 0, &[k, v]);
                        Value::handle(pair)
                    }),
                    Obj::Set { set, .. } => set.pop_last(),
                    _ => return Err(Fault::new("internal error: taking from something not a map or set")),
                };
                let r = self.option(taken);
                self.ret(r);
            }
            SetNext => {
                let it = self.arg(0).as_handle();
                let Obj::Iter { source, pos, .. } = *self.task.heap.get(it) else { unreachable!() };
                let slot = self.elem_slot(source);
                let Obj::Set { set, .. } = self.task.heap.get(source.as_handle()) else { unreachable!() };
                let next = set.next_from(pos).map(|(i, x)| (i, *x));
                let x = next.map(|(_, x)| x);
                let pos = next.map_or(pos, |(i, _)| i);
                if let Obj::Iter { pos: p, .. } = self.task.heap.get_mut(it) {
                    *p = pos + 1;
                }
                let r = x.map(|x| match slot {
                    Slot::Owned(_) => x,
                    _ => self.key_place(source.as_handle(), pos, x),
                });
                let r = self.option(r);
                self.ret(r);
            }
            CharsNext => {
                let it = self.arg(0).as_handle();
                let Obj::Iter { source, pos, end } = *self.task.heap.get(it) else { unreachable!() };
                let s = self.task.heap.str_slice(prog, source);
                let c = if pos < end { s[pos..].chars().next() } else { None };
                if let (Some(c), Obj::Iter { pos, .. }) = (c, self.task.heap.get_mut(it)) {
                    *pos += c.len_utf8();
                }
                let r = self.option(c.map(|c| Value::from_bits(c as u64)));
                self.ret(r);
            }
            SplitNext => {
                let it = self.arg(0).as_handle();
                let Obj::Iter { source, pos, end } = *self.task.heap.get(it) else { unreachable!() };
                let s = self.task.heap.str_slice(prog, source);
                let next = if pos > s.len() {
                    None
                } else {
                    let delim = self.task.heap.string(prog, end as u32);
                    let rest = &s[pos..];
                    let len = if delim.is_empty() { rest.len() } else { rest.find(delim).unwrap_or(rest.len()) };
                    let step = len + delim.len().max(if len == rest.len() { 1 } else { 0 });
                    Some((Value::slice(source.as_handle(), (source.slice_start() + pos) as u32, len as u32), step))
                };
                let r = match next {
                    Some((piece, step)) => {
                        if let Obj::Iter { pos, .. } = self.task.heap.get_mut(it) {
                            *pos += step;
                        }
                        Some(piece)
                    }
                    None => {
                        // The delimiter string is freed with the exhausted iterator.
                        None
                    }
                };
                let r = self.option(r);
                self.ret(r);
            }
            RangeNext => {
                let r = self.arg(0).as_handle();
                let Slot::Scalar(ty) = self.site.slot else { unreachable!() };
                let inclusive = self.site.aux == 1;
                let fields = self.task.heap.fields_mut(r);
                let (start, end) = (fields[0], fields[1]);
                let more = if inclusive {
                    crate::arith::compare(crate::bytecode::CmpOp::Le, ty, start, end)
                } else {
                    crate::arith::compare(crate::bytecode::CmpOp::Lt, ty, start, end)
                };
                let item = if more {
                    match crate::arith::binary(crate::bytecode::BinOp::Add, ty, start, Value::int(1)) {
                        Ok(next) => fields[0] = next,
                        // The last value of an inclusive range: mark it spent.
                        Err(_) => {
                            fields[1] = crate::arith::binary(crate::bytecode::BinOp::Sub, ty, start, Value::int(1))?
                        }
                    }
                    Some(start)
                } else {
                    None
                };
                let v = self.option(item);
                self.ret(v);
            }
            Math(f) => {
                let x = self.arg(0).as_f64();
                let y = match f {
                    MathFn::Sqrt => x.sqrt(),
                    MathFn::Pow => x.powf(self.arg(1).as_f64()),
                    MathFn::Log => x.ln(),
                    MathFn::Log10 => x.log10(),
                    MathFn::Exp => x.exp(),
                    MathFn::Sin => x.sin(),
                    MathFn::Cos => x.cos(),
                    MathFn::Tan => x.tan(),
                    MathFn::Floor => x.floor(),
                    MathFn::Ceil => x.ceil(),
                    MathFn::Round => x.round(),
                    MathFn::Trunc => x.trunc(),
                };
                self.ret(Value::f64(y));
            }
            Abs => {
                let x = self.arg(0);
                let Slot::Scalar(ty) = self.site.slot else { unreachable!() };
                let r = if ty.is_float() {
                    if ty == NumTy::F32 {
                        Value::f32(x.as_f32().abs())
                    } else {
                        Value::f64(x.as_f64().abs())
                    }
                } else if ty.is_signed() && x.as_int() < 0 {
                    crate::arith::negate(ty, x)?
                } else {
                    x
                };
                self.ret(r);
            }
            Min | Max | Clamp => {
                let slot = self.site.slot;
                let (a, b, hi) = (self.arg(0), self.arg(1), self.arg(2));
                let heap = &self.task.heap;
                let cmp = |a: Value, b: Value| deep::cmp(heap, prog, a, b, slot);
                let r = match self.site.native {
                    Min => {
                        if cmp(b, a).is_lt() {
                            b
                        } else {
                            a
                        }
                    }
                    Max => {
                        if cmp(b, a).is_ge() {
                            b
                        } else {
                            a
                        }
                    }
                    _ => {
                        if cmp(a, b).is_lt() {
                            b
                        } else if cmp(a, hi).is_gt() {
                            hi
                        } else {
                            a
                        }
                    }
                };
                self.ret(r);
            }
            ReadFile => {
                let path = self.str_arg(0);
                let r = match host.read_file(&path) {
                    Ok(text) => {
                        let s = self.new_str(text);
                        self.result(0, s)
                    }
                    Err(e) => {
                        let err = self.io_error(&e);
                        self.result(1, err)
                    }
                };
                self.ret(r);
            }
            WriteFile => {
                let (path, text) = (self.str_arg(0), self.str_arg(1));
                let r = match host.write_file(&path, &text) {
                    Ok(()) => self.result(0, Value::UNIT),
                    Err(e) => {
                        let err = self.io_error(&e);
                        self.result(1, err)
                    }
                };
                self.ret(r);
            }
            Sleep => {
                // A negative duration waits no time.
                let micros = self.arg(0).as_int().max(0) as u64;
                return Ok(Flow::Suspend(host.sleep(micros)));
            }
            YieldNow => {
                self.ret(Value::UNIT);
                return Ok(Flow::Yield);
            }
            InstantNow => {
                let now = host.now_micros();
                self.ret(Value::int(now));
            }
            TaskSpawn | TaskJoin | TaskResult | TaskIsFinished | TaskCancel => return self.task_op(host),
            JoinAll | Race | Timeout => return self.futures_op(host),
            ChanNew | ChanBounded | ChanSend | ChanTrySend | ChanRecv | ChanTryRecv | ChanClose | ChanLen
            | ChanIsClosed => return self.channel_op(host),
            Select(_) => return self.select(host),
            SharedNew | SharedGuard | GuardGet | GuardInsert | GuardRemove | GuardContains | GuardLen => {
                return self.shared_op(host)
            }
            BcastNew | BcastSend | BcastSubscribe | BcastRecv | BcastTryRecv | BcastMissed => {
                return self.broadcast_op(host)
            }
            ActorNew | ActorStart | ActorRecv | ActorBatching | ActorReply | ActorAsk | ActorTell | ActorReserve
            | ActorStop | ActorStats | ActorFailure | SupervisorNew | SupervisorAdopt => return self.actor_op(host),
            ReplyAwait => {
                let reply = self.host_arg(0)?;
                let v = self.arg(0);
                self.free(v);
                return Ok(Flow::Suspend(host.reply_await(reply)));
            }
            Tensor(op) => return self.tensor_op(op, host),
            Model(f) => return self.model_op(f, host),
            Json(op) => return self.json_op(op),
            Net(op) => return self.net_op(op, host),
            Keyed(op) => self.keyed_op(op)?,
        }
        Ok(Flow::Done)
    }

    /// The runtime object an argument names (an owned handle or a reference).
    pub(crate) fn host_arg(&mut self, i: usize) -> Result<HostRef, Fault> {
        self.host_ref(i).cloned()
    }

    /// The runtime object an argument names, borrowed (no reference
    /// count touched: on a hot shared object that is a contended atomic).
    pub(crate) fn host_ref(&self, i: usize) -> Result<&HostRef, Fault> {
        match self.task.heap.get(self.arg(i).as_handle()) {
            Obj::Host(r) => Ok(r),
            _ => Err(Fault::new("internal error: not a runtime object")),
        }
    }

    fn new_host(&mut self, r: HostRef) -> Value {
        Value::handle(self.task.heap.alloc(Obj::Host(r)))
    }

    /// `spawn`, `join`/`await`, `is_finished`, `cancel`.
    fn task_op(&mut self, host: &mut dyn Host) -> Result<Flow, Fault> {
        match self.site.native {
            Native::TaskSpawn => {
                let body = self.arg(0);
                let body = transfer::export_body(&mut self.task.heap, self.prog, body)?;
                let handle = host.spawn(body, self.site.slot);
                let v = self.new_host(handle);
                self.ret(v);
            }
            Native::TaskJoin => {
                let task = self.host_arg(0)?;
                let v = self.arg(0);
                self.free(v);
                return Ok(Flow::Suspend(host.join(task)));
            }
            Native::TaskResult => {
                let task = self.host_arg(0)?;
                let v = self.arg(0);
                self.free(v);
                return Ok(Flow::Suspend(host.join_result(task, self.site.layout)));
            }
            Native::TaskIsFinished => {
                let task = self.host_arg(0)?;
                let done = host.task_finished(&task);
                self.ret(Value::from_bits(done as u64));
            }
            _ => {
                let task = self.host_arg(0)?;
                host.cancel(&task);
                self.ret(Value::UNIT);
            }
        }
        Ok(Flow::Done)
    }

    /// Starts a future (a function value, moved out) as a task.
    fn start(&mut self, host: &mut dyn Host, future: Value) -> Result<HostRef, Fault> {
        let body = transfer::export_body(&mut self.task.heap, self.prog, future)?;
        Ok(host.spawn(body, self.site.slot))
    }

    /// `join_all`, `race`, `timeout`: the futures run as tasks.
    fn futures_op(&mut self, host: &mut dyn Host) -> Result<Flow, Fault> {
        if self.site.native == Native::Timeout {
            let future = self.arg(0);
            let micros = self.arg(1).as_int().max(0) as u64;
            let task = self.start(host, future)?;
            return Ok(Flow::Suspend(host.timeout(task, micros, self.site.layout)));
        }
        let list = self.arg(0);
        let futures = std::mem::take(self.task.heap.items_mut(list.as_handle()));
        self.task.heap.free_shell(list.as_handle());
        let mut tasks = Vec::with_capacity(futures.len());
        for f in futures {
            tasks.push(self.start(host, f)?);
        }
        if self.site.native == Native::JoinAll {
            return Ok(Flow::Suspend(host.join_all(tasks, self.site.layout)));
        }
        if tasks.is_empty() {
            return Err(Fault::new("race of no futures"));
        }
        Ok(Flow::Suspend(host.race(tasks)))
    }

    /// `select`: the operations of every arm are offered to the host,
    /// which completes one; its index lands in `R[base]`, its value in
    /// `R[base + 1]`.
    fn select(&mut self, host: &mut dyn Host) -> Result<Flow, Fault> {
        let arms = self.prog.selects.get(self.site.aux as usize).cloned().unwrap_or_default();
        let mut ops = Vec::with_capacity(arms.len());
        for (i, arm) in arms.iter().enumerate() {
            let (a, b) = (2 + 2 * i, 3 + 2 * i);
            ops.push(match *arm {
                SelectOp::Recv { option } => Selecting::Recv { channel: self.host_arg(a)?, option },
                SelectOp::Send { slot } => {
                    let value = self.arg(b);
                    let value = transfer::export(&mut self.task.heap, self.prog, value, slot)?;
                    Selecting::Send { channel: self.host_arg(a)?, value }
                }
                SelectOp::Sleep => Selecting::Sleep { micros: self.arg(b).as_int().max(0) as u64 },
                SelectOp::Join { started, .. } => {
                    let task = self.host_arg(a)?;
                    let v = self.arg(a);
                    self.free(v);
                    Selecting::Join { task, started }
                }
            });
        }
        Ok(Flow::Suspend(host.select(ops)))
    }

    /// `SharedMap`: values are copied in and out through guards. `slot`
    /// is the key's kind; `layout` the `Option<V>` a lookup gives, whose
    /// `Some` holds the value's kind.
    fn shared_op(&mut self, host: &mut dyn Host) -> Result<Flow, Fault> {
        match self.site.native {
            Native::SharedNew => {
                let map = host.shared_map();
                let v = self.new_host(map);
                self.ret(v);
            }
            Native::SharedGuard => {
                let map = self.host_arg(0)?;
                return Ok(Flow::Suspend(host.shared_guard(&map, self.site.aux == 1)));
            }
            Native::GuardLen => {
                let guard = self.host_arg(0)?;
                let n = host.shared_len(&guard);
                self.ret(Value::int(n as i64));
            }
            Native::GuardInsert => {
                let guard = self.host_arg(0)?;
                let (k, v) = (self.arg(1), self.arg(2));
                let key = deep::key(&self.task.heap, self.prog, k, self.site.slot);
                if matches!(self.site.slot, Slot::Owned(_)) {
                    self.free(k);
                }
                let slot = self.value_slot();
                let value = transfer::export(&mut self.task.heap, self.prog, v, slot)?;
                let old = host.shared_insert(&guard, key, value)?;
                self.ret_moved_option(old);
            }
            native => {
                let guard = self.host_arg(0)?;
                let k = self.arg(1);
                let k = self.deref(k, self.site.slot);
                let key = deep::key(&self.task.heap, self.prog, k, self.site.slot);
                match native {
                    Native::GuardGet => {
                        let found = host.shared_get(&guard, &key);
                        self.ret_moved_option(found);
                    }
                    Native::GuardRemove => {
                        let old = host.shared_remove(&guard, &key)?;
                        self.ret_moved_option(old);
                    }
                    _ => {
                        let found = host.shared_get(&guard, &key).is_some();
                        self.ret(Value::from_bits(found as u64));
                    }
                }
            }
        }
        Ok(Flow::Done)
    }

    /// Actors and supervisors: the operands become an `ActorOp` for the
    /// host; what it gives comes back moved in, or the task waits for it.
    fn actor_op(&mut self, host: &mut dyn Host) -> Result<Flow, Fault> {
        let site = self.site;
        let op = match site.native {
            Native::ActorNew => {
                let name = self.prog.layouts.get(site.layout as usize).map_or("actor", |l| &l.name).to_string();
                ActorOp::New { name }
            }
            Native::ActorStart => {
                let (cell, body, options) = (self.host_arg(0)?, self.arg(1), self.arg(2));
                let body = transfer::export_body(&mut self.task.heap, self.prog, body)?;
                let options = match site.aux & 1 {
                    0 => None,
                    _ => Some(transfer::export(&mut self.task.heap, self.prog, options, site.slot)?),
                };
                let supervisor = if site.aux & 2 != 0 { Some(self.host_arg(3)?) } else { None };
                ActorOp::Start { cell, body, options, supervisor }
            }
            Native::ActorRecv => {
                let list = (site.aux != NO_LAYOUT).then_some(site.aux);
                ActorOp::Recv { cell: self.host_ref(0)?, option: site.layout, list }
            }
            Native::ActorBatching => ActorOp::Batching { cell: self.host_ref(0)? },
            Native::ActorReply => {
                let v = self.arg(1);
                let value = transfer::export(&mut self.task.heap, self.prog, v, site.slot)?;
                let values = match (site.aux, value) {
                    (1, Portable::List { items, .. }) => items,
                    (_, value) => vec![value],
                };
                ActorOp::Reply { cell: self.host_ref(0)?, values }
            }
            Native::ActorAsk => {
                let v = self.arg(1);
                let message = transfer::export(&mut self.task.heap, self.prog, v, site.slot)?;
                let (priority, timeout_micros) = (self.arg(2).as_int(), self.arg(3).as_int());
                let reserved = self.arg(4).bits != 0;
                ActorOp::Ask { cell: self.host_ref(0)?, message, priority, timeout_micros, reserved }
            }
            Native::ActorTell => {
                let v = self.arg(1);
                let message = transfer::export(&mut self.task.heap, self.prog, v, site.slot)?;
                ActorOp::Tell { cell: self.host_ref(0)?, message }
            }
            Native::ActorReserve => ActorOp::Reserve { cell: self.host_ref(0)? },
            Native::ActorStop => ActorOp::Stop { cell: self.host_ref(0)? },
            Native::ActorStats => ActorOp::Stats { cell: self.host_ref(0)?, layout: site.layout },
            Native::ActorFailure => ActorOp::Failure { cell: self.host_ref(0)?, option: site.layout },
            Native::SupervisorNew => ActorOp::SupervisorNew { strategy: self.arg(0).as_int() },
            _ => {
                // The child supervisor moves in: its handle here goes.
                let (parent, child, v) = (self.host_arg(0)?, self.host_arg(1)?, self.arg(1));
                self.free(v);
                ActorOp::SupervisorAdopt { parent, child }
            }
        };
        match host.actor(op)? {
            Done::Now(p) => {
                let v = transfer::import(&mut self.task.heap, p);
                self.ret(v);
                Ok(Flow::Done)
            }
            Done::Wait(f) => Ok(Flow::Suspend(f)),
        }
    }

    /// Broadcast channels: every subscriber gets a copy of every value.
    fn broadcast_op(&mut self, host: &mut dyn Host) -> Result<Flow, Fault> {
        match self.site.native {
            Native::BcastNew => {
                let capacity = self.arg(0).as_int();
                if capacity <= 0 {
                    return Err(Fault::new(format!("a broadcast channel needs a positive capacity, not {capacity}")));
                }
                let ch = host.broadcast(capacity as usize);
                let v = self.new_host(ch);
                self.ret(v);
            }
            Native::BcastSend => {
                let ch = self.host_arg(0)?;
                let value = self.arg(1);
                let value = transfer::export(&mut self.task.heap, self.prog, value, self.site.slot)?;
                host.broadcast_send(&ch, value)?;
                self.ret(Value::UNIT);
            }
            Native::BcastSubscribe => {
                let ch = self.host_arg(0)?;
                let rx = host.subscribe(&ch);
                let v = self.new_host(rx);
                self.ret(v);
            }
            Native::BcastRecv => {
                let rx = self.host_arg(0)?;
                return Ok(Flow::Suspend(host.broadcast_recv(&rx, self.site.layout)));
            }
            Native::BcastTryRecv => {
                let rx = self.host_arg(0)?;
                let got = host.broadcast_try_recv(&rx);
                self.ret_moved_option(got);
            }
            _ => {
                let rx = self.host_arg(0)?;
                let missed = host.broadcast_missed(&rx);
                self.ret(Value::int(missed));
            }
        }
        Ok(Flow::Done)
    }

    /// The kind of the value in the `Some` of the site's `Option` layout.
    fn value_slot(&self) -> Slot {
        match &self.prog.layout(self.site.layout).kind {
            LayoutKind::Enum { variants } => variants.first().and_then(|v| v.1.first().copied()).unwrap_or(Slot::Fn),
            _ => Slot::Fn,
        }
    }

    /// Returns `Some(value)` (moved in) or `None`, of the site's layout.
    fn ret_moved_option(&mut self, v: Option<Portable>) {
        let v = transfer::import_option(&mut self.task.heap, self.site.layout, v);
        self.ret(v);
    }

    /// Channels: make, send, receive, close, inspect.
    fn channel_op(&mut self, host: &mut dyn Host) -> Result<Flow, Fault> {
        match self.site.native {
            Native::ChanNew => {
                let ch = host.channel(None);
                let v = self.new_host(ch);
                self.ret(v);
            }
            Native::ChanBounded => {
                let capacity = self.arg(0).as_int();
                if capacity <= 0 {
                    return Err(Fault::new(format!("a bounded channel needs a positive capacity, not {capacity}")));
                }
                let ch = host.channel(Some(capacity as usize));
                let v = self.new_host(ch);
                self.ret(v);
            }
            Native::ChanSend => {
                let value = self.arg(1);
                let value = transfer::export(&mut self.task.heap, self.prog, value, self.site.slot)?;
                let wait = host.send(self.host_ref(0)?, value)?;
                self.ret(Value::UNIT);
                if let Some(wait) = wait {
                    return Ok(Flow::Suspend(wait));
                }
            }
            Native::ChanTrySend => {
                // `Ok(())`, or `Err(SendError(value))` (layout `aux`) with the value back.
                let value = self.arg(1);
                let value = transfer::export(&mut self.task.heap, self.prog, value, self.site.slot)?;
                let result = match host.try_send(self.host_ref(0)?, value) {
                    Ok(()) => Portable::Record {
                        layout: self.site.layout,
                        tag: 0,
                        fields: vec![Portable::Scalar(Value::UNIT)],
                    },
                    Err(back) => {
                        let error = Portable::Record { layout: self.site.aux, tag: 0, fields: vec![back] };
                        Portable::Record { layout: self.site.layout, tag: 1, fields: vec![error] }
                    }
                };
                let v = transfer::import(&mut self.task.heap, result);
                self.ret(v);
            }
            Native::ChanRecv => match receive(host, self.host_ref(0)?, self.site.layout) {
                Ok(got) => self.ret_moved_option(Some(got)),
                Err(future) => return Ok(Flow::Suspend(future)),
            },
            Native::ChanTryRecv => {
                let got = host.try_recv(self.host_ref(0)?);
                self.ret_moved_option(got);
            }
            Native::ChanClose => {
                let ch = self.host_arg(0)?;
                host.close(&ch);
                self.ret(Value::UNIT);
            }
            Native::ChanLen => {
                let ch = self.host_arg(0)?;
                let (len, _) = host.channel_state(&ch);
                self.ret(Value::int(len as i64));
            }
            _ => {
                let ch = self.host_arg(0)?;
                let (_, closed) = host.channel_state(&ch);
                self.ret(Value::from_bits(closed as u64));
            }
        }
        Ok(Flow::Done)
    }

    /// A place for a scalar key (or set element) of entry `pos`.
    pub(crate) fn key_place(&mut self, container: u32, pos: usize, _k: Value) -> Value {
        Value { bits: container as u64, ext: pos as u64 | KEY_PLACE }
    }

    /// `Ok(v)` (tag 0) or `Err(v)` (tag 1) of the site's result layout.
    pub(crate) fn result(&mut self, tag: u32, v: Value) -> Value {
        let layout = self.site.layout;
        Value::handle(self.task.heap.new_record(layout, tag, &[v]))
    }

    /// An `IOError` value (layout `aux`) for a host error.
    fn io_error(&mut self, e: &std::io::Error) -> Value {
        use std::io::ErrorKind::*;
        let layout = self.site.aux;
        let (tag, fields): (u32, Box<[Value]>) = match e.kind() {
            NotFound => (0, Box::new([])),
            PermissionDenied => (1, Box::new([])),
            AlreadyExists => (2, Box::new([])),
            InvalidInput => (3, Box::new([])),
            _ => {
                let s = self.new_str(e.to_string());
                (4, Box::new([s]))
            }
        };
        Value::handle(self.task.heap.alloc(Obj::Record { layout, tag, fields }))
    }
}

/// Set in a place's index for an entry's key rather than its value.
pub const KEY_PLACE: u64 = 1 << 62;
