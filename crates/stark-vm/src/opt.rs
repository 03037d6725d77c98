//! A bytecode optimiser, run on each function once code generation is
//! done. The code generator is simple (every expression lands in a fresh
//! temporary, then is copied where it goes); this pass cleans up after it
//! without changing what a program does:
//!
//! - copy and constant propagation (over the control-flow graph: what
//!   holds on every path into a block), and immediate
//!   forms of Int64 operations (`AddIImm`, `MulIImm`, `RemIK`, `DivIK`,
//!   `CmpIImm`) and Int64 fast paths for `/` and `%`;
//! - dead-store elimination (from a liveness analysis over the control
//!   flow graph) of instructions that cannot trap and have no effect
//!   besides writing their destination, and removal of unreachable code;
//! - coalescing an instruction that writes a temporary with the `Copy`
//!   that follows it (`t := x op y; d := t` becomes `d := x op y`);
//! - fusing an integer comparison with the conditional jump that tests it
//!   (`JmpIfNotCmpI`, `JmpIfNotCmpU`, `JmpIfNotCmpIImm`);
//! - the registers a function must find empty (`NONE`) on entry
//!   (`Function::fill`): only those some path reads before writing.
//!
//! A register whose address has been taken (`RefReg`) may be read by any
//! later `Load`, call or native through a place, and written by a `Store`
//! or call: the liveness analysis counts those as reads of every such
//! register, and propagation forgets what it knew at them. A call's frame overlaps the caller's registers
//! from its base up, so no value is ever moved to live across a call in
//! a register above its base (propagation stops at calls).
//!
//! Traps keep their exact source lines: an instruction that can trap is
//! never removed or moved, and a removed instruction's line goes with it.

use crate::bytecode::{BinOp, CmpOp, FieldOpKind, Instr, NumTy, Reg};
use crate::native::{MathFn, Native};
use crate::program::{Divisor, Function, Inlined, Program, Site, Slot, LINE_BITS};
use rustc_hash::FxHashMap;

/// Optimises every function of `prog`.
pub fn optimize(prog: &mut Program) {
    let arities: Vec<u16> = prog.functions.iter().map(|f| f.arity).collect();
    let news: Vec<u16> = (0..prog.layouts.len() as u32).map(|l| new_reads(prog, l)).collect();
    // For each `ToString` of a scalar, a `StrAppendDisplay` site to fuse
    // it with the `StrAppend` that follows (an `f"..."` field).
    let mut appends = FxHashMap::default();
    let mut discards = FxHashMap::default();
    let mut raws = FxHashMap::default();
    for i in 0..prog.sites.len() {
        let site = prog.sites[i];
        if site.native == Native::ToString && matches!(site.slot, Slot::Scalar(_)) {
            appends.insert(i as u32, prog.sites.len() as u32);
            prog.sites.push(Site { native: Native::StrAppendDisplay, ..site });
        }
        // For each `HashMap::insert` or `remove`, a site whose result is
        // dropped at once.
        let discard = match site.native {
            Native::MapInsert => Some(Native::MapInsertDiscard),
            Native::MapRemove => Some(Native::MapRemoveDiscard),
            _ => None,
        };
        if let Some(native) = discard {
            discards.insert(i as u32, prog.sites.len() as u32);
            prog.sites.push(Site { native, ..site });
        }
        // For each `HashMap::get`, a site returning the option unboxed.
        if site.native == Native::MapGet {
            raws.insert(i as u32, prog.sites.len() as u32);
            prog.sites.push(Site { native: Native::MapGetRaw, ..site });
        }
    }
    for f in &mut prog.functions {
        let reads = Reads { arities: &arities, news: &news, sites: &prog.sites };
        optimize_fn(f, &reads, (&appends, &discards, &raws), &mut prog.divisors);
    }
    // Then small leaf functions are inlined at their calls, and each
    // function that took one is optimised again.
    let bodies: Vec<Option<Body>> = prog.functions.iter().map(Body::of).collect();
    if bodies.iter().all(Option::is_none) {
        return;
    }
    for (me, f) in prog.functions.iter_mut().enumerate() {
        if inline_calls(f, me as u32, &bodies) {
            let reads = Reads { arities: &arities, news: &news, sites: &prog.sites };
            optimize_fn(f, &reads, (&appends, &discards, &raws), &mut prog.divisors);
        }
    }
}

/// How many registers the instructions that read a run of them (from
/// their base) read: a call its callee's arity, a native its operation's
/// operands, a `New` its layout's fields.
struct Reads<'a> {
    arities: &'a [u16],
    /// Per layout; `u16::MAX` where the count is in a register.
    news: &'a [u16],
    sites: &'a [Site],
}

/// How many registers `New` of layout `l` reads (as `Task::new_object`
/// builds it); `u16::MAX` for an array literal, whose length is in its
/// first register.
fn new_reads(prog: &Program, l: u32) -> u16 {
    use crate::program::LayoutKind;
    let n = match &prog.layout(l).kind {
        LayoutKind::Record { fields, .. } => fields.len(),
        LayoutKind::Variant { of, tag } => match &prog.layout(*of).kind {
            LayoutKind::Enum { variants } => variants.get(*tag as usize).map_or(0, |v| v.1.len()),
            _ => 0,
        },
        LayoutKind::List { .. } => return u16::MAX,
        _ => 0,
    };
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// The most instructions a function may have to be inlined.
const INLINE_MAX: usize = 24;
/// The most instructions a function may grow to by inlining.
const INLINED_CODE_MAX: usize = 4096;

/// An optimised function that may be inlined at its calls: a leaf (no
/// calls, so no recursion), short, no loops (fuel is spent at backward
/// jumps and calls: its caller's own stay), not a closure, and nothing to
/// clear on entry.
struct Body {
    code: Vec<Instr>,
    lines: Vec<u32>,
    nregs: Reg,
}

impl Body {
    fn of(f: &Function) -> Option<Body> {
        let ok = f.code.len() <= INLINE_MAX
            && !f.code.is_empty()
            && f.code.len() == f.lines.len()
            && !f.has_env
            && matches!(f.fill, Some((lo, hi)) if lo >= hi)
            && f.inlined.is_empty()
            && f.lines.iter().all(|&l| l >> LINE_BITS == 0)
            && !f.code.last().is_some_and(falls_through)
            && f.code.iter().all(|i| {
                !matches!(i, Instr::Call { .. } | Instr::CallValue { .. }) && jump_off(i).is_none_or(|o| o >= 0)
            });
        ok.then(|| Body { code: f.code.clone(), lines: f.lines.clone(), nregs: f.nregs })
    }
}

/// Replaces `f`'s calls of functions with a `Body` (other than itself) by
/// that body, its registers moved up to the call's base and each `Ret`
/// turned into a copy of the result to the base and a jump past the body.
/// Each inlined instruction's line records the call (`Function::inlined`).
/// False if nothing was inlined (`f` is then unchanged).
#[allow(clippy::needless_range_loop)]
fn inline_calls(f: &mut Function, me: u32, bodies: &[Option<Body>]) -> bool {
    let n = f.code.len();
    if n != f.lines.len() || f.lines.iter().any(|&l| l >> LINE_BITS != 0) {
        return false;
    }
    let mut code: Vec<Instr> = Vec::with_capacity(n);
    let mut lines: Vec<u32> = Vec::with_capacity(n);
    let mut inlined = f.inlined.clone();
    let mut nregs = f.nregs;
    // at[pc]: where `f`'s instruction pc went; jumps to fix up after.
    let mut at = vec![0usize; n + 1];
    let mut jumps = Vec::new();
    for pc in 0..n {
        at[pc] = code.len();
        let instr = f.code[pc];
        if let Instr::Call { base, f: g } = instr {
            let body = bodies.get(g as usize).and_then(Option::as_ref).filter(|_| g != me);
            if let Some(b) = body {
                let top = base as usize + b.nregs as usize;
                if top <= Reg::MAX as usize && code.len() + b.code.len() * 2 <= INLINED_CODE_MAX && inlined.len() < 1000
                {
                    nregs = nregs.max(top as Reg);
                    inlined.push(Inlined { callee: g, line: f.lines[pc] });
                    let tag = (inlined.len() as u32) << LINE_BITS;
                    let last = b.code.len() - 1;
                    let size = |q: usize, i: &Instr| match *i {
                        Instr::Ret { a } => usize::from(a != 0) + usize::from(q != last),
                        _ => 1,
                    };
                    let mut pos = Vec::with_capacity(b.code.len() + 1);
                    let mut k = code.len();
                    for (q, i) in b.code.iter().enumerate() {
                        pos.push(k);
                        k += size(q, i);
                    }
                    pos.push(k);
                    let end = k;
                    for (q, i) in b.code.iter().enumerate() {
                        let line = b.lines[q] | tag;
                        let mut i = *i;
                        if let Instr::Ret { a } = i {
                            if a != 0 {
                                code.push(Instr::Copy { a: base, b: base + a });
                                lines.push(line);
                            }
                            if q != last {
                                code.push(Instr::Jmp { off: (end - code.len() - 1) as i32 });
                                lines.push(line);
                            }
                            continue;
                        }
                        i.for_each_reg(|r| *r += base);
                        if let Some(off) = jump_off(&i) {
                            let t = (q as i64 + 1 + off) as usize;
                            if !set_off(&mut i, pos[t] as i64 - (code.len() as i64 + 1)) {
                                return false;
                            }
                        }
                        code.push(i);
                        lines.push(line);
                    }
                    continue;
                }
            }
        }
        if jump_off(&instr).is_some() {
            jumps.push((code.len(), pc));
        }
        code.push(instr);
        lines.push(f.lines[pc]);
    }
    if inlined.len() == f.inlined.len() {
        return false;
    }
    at[n] = code.len();
    for (np, pc) in jumps {
        let t = (pc as i64 + 1 + jump_off(&f.code[pc]).unwrap_or(0)).clamp(0, n as i64) as usize;
        if !set_off(&mut code[np], at[t] as i64 - (np as i64 + 1)) {
            return false;
        }
    }
    f.code = code;
    f.lines = lines;
    f.inlined = inlined;
    f.nregs = nregs;
    true
}

/// What an instruction reads and writes.
#[derive(Default)]
struct Eff {
    uses: [Reg; 3],
    nuses: usize,
    /// Further registers read: `lo..hi`.
    range: Option<(Reg, Reg)>,
    defs: [Reg; 2],
    ndefs: usize,
}

impl Eff {
    fn u(mut self, r: Reg) -> Eff {
        self.uses[self.nuses] = r;
        self.nuses += 1;
        self
    }
    fn d(mut self, r: Reg) -> Eff {
        self.defs[self.ndefs] = r;
        self.ndefs += 1;
        self
    }
    fn from(mut self, lo: Reg, hi: Reg) -> Eff {
        self.range = Some((lo, hi.max(lo)));
        self
    }
}

/// The registers `i` reads and (definitely) writes, in a function with
/// `nregs` registers. Reads are a superset, writes a subset, of what it
/// may do: a call reads its arguments and writes its result; a native its
/// operands, a `New` its layout's fields (an array literal, and a
/// `CallValue`, every register from its base).
fn effects(i: &Instr, nregs: Reg, reads: &Reads) -> Eff {
    use Instr::*;
    let e = Eff::default();
    match *i {
        Copy { a, b } => e.u(b).d(a),
        Move { a, b } => e.u(b).d(a).d(b),
        Clear { a } | LoadK { a, .. } | LoadI { a, .. } | LoadFn { a, .. } => e.d(a),
        SetEnv { a, env } => e.u(a).u(env).d(a),
        AddI { a, b, c }
        | SubI { a, b, c }
        | MulI { a, b, c }
        | LtI { a, b, c }
        | LeI { a, b, c }
        | EqI { a, b, c }
        | NeI { a, b, c }
        | AddF { a, b, c }
        | SubF { a, b, c }
        | MulF { a, b, c }
        | DivF { a, b, c }
        | LtF { a, b, c }
        | DivI { a, b, c }
        | RemI { a, b, c }
        | CmpI { a, b, c, .. }
        | CmpU { a, b, c, .. }
        | Arith { a, b, c, .. }
        | Cmp { a, b, c, .. } => e.u(b).u(c).d(a),
        AddIImm { a, b, .. }
        | AddUImm { a, b, .. }
        | MulIImm { a, b, .. }
        | RemIK { a, b, .. }
        | DivIK { a, b, .. }
        | SqrtF { a, b }
        | SliceLenR { a, b }
        | VecLenR { a, b }
        | CmpIImm { a, b, .. }
        | Neg { a, b, .. }
        | Not { a, b, .. }
        | Cast { a, b, .. } => e.u(b).d(a),
        Jmp { .. } | Trap { .. } => e,
        JmpIf { a, .. }
        | JmpIfNot { a, .. }
        | JmpIfNone { a, .. }
        | JmpIfSome { a, .. }
        | JmpIfNotCmpIImm { a, .. } => e.u(a),
        JmpIfNotTag { obj, .. } => e.u(obj),
        JmpIfNotLtI { a, b, .. } | JmpIfNotCmpI { a, b, .. } | JmpIfNotCmpU { a, b, .. } => e.u(a).u(b),
        ForLoopI { a, b, .. } | ForLoopU { a, b, .. } => e.u(a).u(b).d(a),
        Call { base, f } => {
            let arity = reads.arities.get(f as usize).copied().unwrap_or(nregs);
            e.from(base, base.saturating_add(arity).min(nregs)).d(base)
        }
        CallValue { base, callee } => e.u(callee).from(base, nregs).d(base),
        Native { base, site } => {
            let n = reads.sites.get(site as usize).map_or(nregs, |s| s.native.reads());
            e.from(base, base.saturating_add(n).min(nregs))
        }
        RecvOrJmp { base, .. } => e.u(base),
        Ret { a } => e.u(a),
        New { base, l } => {
            let n = reads.news.get(l as usize).copied().unwrap_or(u16::MAX);
            e.from(base, base.saturating_add(n).min(nregs)).d(base)
        }
        GetField { a, obj, .. } | TakeField { a, obj, .. } | RefField { a, obj, .. } | GetTag { a, obj } => {
            e.u(obj).d(a)
        }
        SetField { obj, b, .. } | FieldOp { obj, b, .. } => e.u(obj).u(b),
        FieldAddIImm { obj, .. } => e.u(obj),
        RefReg { a, b } => e.u(b).d(a),
        Load { a, r } => e.u(r).d(a),
        Store { r, b } => e.u(r).u(b),
        Index { a, list, i }
        | IndexField { a, list, i, .. }
        | IndexSlice { a, list, i }
        | RefIndex { a, list, i }
        | RefIndexSlice { a, list, i } => e.u(list).u(i).d(a),
        SliceAll { a, b } | Clone { a, b } => e.u(b).d(a),
        Drop { a } | FreeShell { a } => e.u(a).d(a),
        Swap { a, b } | StrPushStr { s: a, v: b } | StrPushDisplay { s: a, v: b, .. } | StrPushChar { s: a, v: b } => {
            e.u(a).u(b)
        }
        StrPushK { s, .. } => e.u(s),
        MapGetV { a, m, k } | MapHasV { a, m, k } => e.u(m).u(k).d(a),
        MapPutV { m, k, v } => e.u(m).u(k).u(v),
    }
}

/// The jump offset of `i`, if it is a jump.
fn jump_off(i: &Instr) -> Option<i64> {
    i.jump_offset()
}

/// Sets the jump offset of `i`; false if it does not fit.
fn set_off(i: &mut Instr, new: i64) -> bool {
    use Instr::*;
    if i.jump_offset().is_none() {
        return true;
    }
    match i {
        Jmp { off }
        | JmpIf { off, .. }
        | JmpIfNot { off, .. }
        | JmpIfNone { off, .. }
        | JmpIfSome { off, .. }
        | RecvOrJmp { off, .. } => fit(off, new),
        JmpIfNotLtI { off, .. }
        | JmpIfNotCmpI { off, .. }
        | JmpIfNotCmpU { off, .. }
        | JmpIfNotCmpIImm { off, .. }
        | JmpIfNotTag { off, .. }
        | ForLoopI { off, .. }
        | ForLoopU { off, .. } => fit(off, new),
        // A jump this function does not know: leave the code as it was.
        _ => false,
    }
}

/// Stores `new` in the offset field `off`; false if it does not fit.
fn fit<T: TryFrom<i64>>(off: &mut T, new: i64) -> bool {
    T::try_from(new).map(|v| *off = v).is_ok()
}

/// Whether control may fall through `i` to the next instruction.
fn falls_through(i: &Instr) -> bool {
    i.falls_through()
}

/// Whether `i` does nothing but write its destination(s) (it cannot
/// trap, touch the heap or the host): removable when they are dead.
fn is_pure(i: &Instr) -> bool {
    use Instr::*;
    matches!(
        i,
        Copy { .. }
            | Clear { .. }
            | LoadK { .. }
            | LoadI { .. }
            | LoadFn { .. }
            | LtI { .. }
            | LeI { .. }
            | EqI { .. }
            | NeI { .. }
            | AddF { .. }
            | SubF { .. }
            | MulF { .. }
            | DivF { .. }
            | LtF { .. }
            | CmpI { .. }
            | CmpU { .. }
            | CmpIImm { .. }
            | RemIK { .. }
            | DivIK { .. }
            | SqrtF { .. }
            | SliceLenR { .. }
            | VecLenR { .. }
            | SliceAll { .. }
            | Cmp { .. }
            | Not { .. }
            | GetField { .. }
            | GetTag { .. }
            | RefField { .. }
            | RefReg { .. }
            | Load { .. }
    )
}

/// The destination register of an instruction whose only write is `R[a]`
/// computed from its operands (so it may write somewhere else instead).
fn simple_dst(i: &mut Instr) -> Option<&mut Reg> {
    use Instr::*;
    match i {
        Copy { a, .. }
        | LoadK { a, .. }
        | LoadI { a, .. }
        | LoadFn { a, .. }
        | AddI { a, .. }
        | SubI { a, .. }
        | MulI { a, .. }
        | AddIImm { a, .. }
        | AddUImm { a, .. }
        | LtI { a, .. }
        | LeI { a, .. }
        | EqI { a, .. }
        | NeI { a, .. }
        | AddF { a, .. }
        | SubF { a, .. }
        | MulF { a, .. }
        | DivF { a, .. }
        | LtF { a, .. }
        | MulIImm { a, .. }
        | DivI { a, .. }
        | RemI { a, .. }
        | RemIK { a, .. }
        | DivIK { a, .. }
        | SqrtF { a, .. }
        | SliceLenR { a, .. }
        | VecLenR { a, .. }
        | IndexField { a, .. }
        | CmpI { a, .. }
        | CmpU { a, .. }
        | CmpIImm { a, .. }
        | Arith { a, .. }
        | Cmp { a, .. }
        | Neg { a, .. }
        | Not { a, .. }
        | Cast { a, .. }
        | GetField { a, .. }
        | TakeField { a, .. }
        | GetTag { a, .. }
        | RefField { a, .. }
        | RefReg { a, .. }
        | Load { a, .. }
        | Index { a, .. }
        | IndexSlice { a, .. }
        | RefIndex { a, .. }
        | RefIndexSlice { a, .. }
        | SliceAll { a, .. }
        | Clone { a, .. } => Some(a),
        _ => None,
    }
}

/// The operand registers of `i` that are only read (never written or
/// used as a call base), so they may name another register with the same
/// value.
fn read_operands(i: &mut Instr) -> Vec<&mut Reg> {
    use Instr::*;
    match i {
        Copy { b, .. }
        | Neg { b, .. }
        | Not { b, .. }
        | Cast { b, .. }
        | AddIImm { b, .. }
        | AddUImm { b, .. }
        | MulIImm { b, .. }
        | RemIK { b, .. }
        | DivIK { b, .. }
        | SqrtF { b, .. }
        | SliceLenR { b, .. }
        | VecLenR { b, .. }
        | CmpIImm { b, .. }
        | SliceAll { b, .. }
        | Clone { b, .. } => vec![b],
        AddI { b, c, .. }
        | SubI { b, c, .. }
        | MulI { b, c, .. }
        | LtI { b, c, .. }
        | LeI { b, c, .. }
        | EqI { b, c, .. }
        | NeI { b, c, .. }
        | AddF { b, c, .. }
        | SubF { b, c, .. }
        | MulF { b, c, .. }
        | DivF { b, c, .. }
        | LtF { b, c, .. }
        | DivI { b, c, .. }
        | RemI { b, c, .. }
        | CmpI { b, c, .. }
        | CmpU { b, c, .. }
        | Arith { b, c, .. }
        | Cmp { b, c, .. } => vec![b, c],
        JmpIf { a, .. } | JmpIfNot { a, .. } | JmpIfNotCmpIImm { a, .. } | Ret { a } => vec![a],
        JmpIfNotTag { obj, .. } => vec![obj],
        JmpIfNotLtI { a, b, .. } | JmpIfNotCmpI { a, b, .. } | JmpIfNotCmpU { a, b, .. } => vec![a, b],
        GetField { obj, .. } | GetTag { obj, .. } | RefField { obj, .. } => vec![obj],
        SetField { obj, b, .. } | FieldOp { obj, b, .. } => vec![obj, b],
        FieldAddIImm { obj, .. } | StrPushK { s: obj, .. } => vec![obj],
        StrPushStr { s, v } | StrPushDisplay { s, v, .. } | StrPushChar { s, v } => vec![s, v],
        MapGetV { m, k, .. } | MapHasV { m, k, .. } => vec![m, k],
        MapPutV { m, k, v } => vec![m, k, v],
        Load { r, .. } => vec![r],
        Store { r, b } => vec![r, b],
        Index { list, i, .. }
        | IndexSlice { list, i, .. }
        | RefIndex { list, i, .. }
        | RefIndexSlice { list, i, .. } => {
            vec![list, i]
        }
        _ => Vec::new(),
    }
}

/// A fixed-size set of registers.
#[derive(Clone, PartialEq)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn has(&self, r: Reg) -> bool {
        self.0.get(r as usize / 64).is_some_and(|w| w & (1 << (r % 64)) != 0)
    }
    fn set(&mut self, r: Reg) {
        if let Some(w) = self.0.get_mut(r as usize / 64) {
            *w |= 1 << (r % 64);
        }
    }
    fn clear(&mut self, r: Reg) {
        if let Some(w) = self.0.get_mut(r as usize / 64) {
            *w &= !(1 << (r % 64));
        }
    }
    fn union(&mut self, o: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a |= *b;
        }
    }
}

/// What propagation knows about a register.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fact {
    /// It holds the same value as this register.
    Copy(Reg),
    /// It holds this integer.
    Const(i64),
    /// It holds a place reference to this register.
    Ref(Reg),
    /// It holds constant `K[k]` (`LoadK`).
    K(u32),
}

/// Facts by register.
type Facts = FxHashMap<Reg, Fact>;

/// A call site to the site that replaces it in some pattern.
type SiteMap = FxHashMap<u32, u32>;

struct Fn<'a> {
    code: Vec<Option<Instr>>,
    lines: Vec<u32>,
    nregs: Reg,
    arity: Reg,
    reads: &'a Reads<'a>,
    appends: &'a FxHashMap<u32, u32>,
    discards: &'a FxHashMap<u32, u32>,
    raws: &'a FxHashMap<u32, u32>,
    divisors: &'a mut Vec<Divisor>,
}

/// Whether every value of integer type `from` is held in the same bits
/// at type `to` (signed values are sign-extended, unsigned zero-extended),
/// so `as` is a copy.
fn same_bits(from: NumTy, to: NumTy) -> bool {
    if !from.is_int() || !to.is_int() {
        return false;
    }
    let ((lo, hi), (tlo, thi)) = (from.int_range(), to.int_range());
    tlo <= lo && hi <= thi && (from.is_signed() == to.is_signed() || !from.is_signed())
}

/// Whether `i` may read or write the heap or reach the host.
fn touches_heap(i: &Instr) -> bool {
    use Instr::*;
    matches!(
        i,
        Store { .. }
            | SetField { .. }
            | FieldOp { .. }
            | FieldAddIImm { .. }
            | TakeField { .. }
            | Call { .. }
            | CallValue { .. }
            | Native { .. }
            | RecvOrJmp { .. }
            | New { .. }
            | Drop { .. }
            | Clone { .. }
            | Swap { .. }
            | FreeShell { .. }
            | Trap { .. }
            | Ret { .. }
            | StrPushStr { .. }
            | StrPushK { .. }
            | StrPushDisplay { .. }
            | StrPushChar { .. }
            | MapGetV { .. }
            | MapHasV { .. }
            | MapPutV { .. }
    )
}

/// The index of constant divisor `d` in `divisors` (added if new), if it
/// qualifies (`Divisor::new`) and fits a `u16` index.
fn divisor(divisors: &mut Vec<Divisor>, d: i64) -> Option<u16> {
    let dv = Divisor::new(d)?;
    if let Some(i) = divisors.iter().position(|x| *x == dv) {
        return u16::try_from(i).ok();
    }
    let i = u16::try_from(divisors.len()).ok()?;
    divisors.push(dv);
    Some(i)
}

fn optimize_fn(
    f: &mut Function,
    reads: &Reads,
    (appends, discards, raws): (&SiteMap, &SiteMap, &SiteMap),
    divisors: &mut Vec<Divisor>,
) {
    if f.code.len() != f.lines.len() || f.code.is_empty() {
        return;
    }
    let mut cx = Fn {
        code: f.code.iter().map(|i| Some(*i)).collect(),
        lines: f.lines.clone(),
        nregs: f.nregs,
        arity: f.arity,
        reads,
        appends,
        discards,
        raws,
        divisors,
    };
    for _ in 0..10 {
        let mut changed = cx.unbox_options();
        changed |= cx.propagate();
        let live = cx.liveness();
        changed |= cx.simplify(&live);
        changed |= cx.thread_jumps();
        changed |= cx.reuse_index();
        changed |= cx.unreachable();
        if !cx.compact() {
            return;
        }
        if !changed {
            break;
        }
    }
    cx.clones_to_moves();
    let saved = (cx.code.clone(), cx.lines.clone());
    cx.invert_loops();
    cx.fuse_loop_steps();
    if !cx.compact() {
        (cx.code, cx.lines) = saved;
    }
    debug_assert!(cx.code.iter().all(Option::is_some));
    let live = cx.liveness();
    let mut lo = Reg::MAX;
    let mut hi = 0;
    for r in cx.arity..cx.nregs {
        if live[0].has(r) {
            lo = lo.min(r);
            hi = r + 1;
        }
    }
    f.fill = Some(if lo < hi { (lo, hi) } else { (cx.arity, cx.arity) });
    f.code = cx.code.into_iter().flatten().collect();
    f.lines = cx.lines;
}

impl Fn<'_> {
    fn get(&self, pc: usize) -> Option<&Instr> {
        self.code.get(pc).and_then(|i| i.as_ref())
    }

    /// Which instructions start a basic block (jump targets, and those
    /// after a jump).
    fn leaders(&self) -> Vec<bool> {
        let n = self.code.len();
        let mut lead = vec![false; n + 1];
        lead[0] = true;
        for (pc, i) in self.code.iter().enumerate() {
            let Some(i) = i else { continue };
            if let Some(off) = jump_off(i) {
                let t = (pc as i64 + 1 + off).clamp(0, n as i64) as usize;
                lead[t] = true;
                lead[pc + 1] = true;
            }
            if !falls_through(i) {
                lead[pc + 1] = true;
            }
        }
        lead
    }

    /// Copy and constant propagation inside basic blocks, and the
    /// immediate and fast forms that constants allow.
    #[allow(clippy::needless_range_loop)]
    fn propagate(&mut self) -> bool {
        let esc = self.escaped();
        let lead = self.leaders();
        let entry = self.block_facts(&lead, &esc);
        let mut facts: Facts = FxHashMap::default();
        let mut changed = false;
        for pc in 0..self.code.len() {
            if lead[pc] {
                facts = entry.get(&pc).cloned().flatten().unwrap_or_default();
            }
            let Some(mut instr) = self.code[pc] else { continue };
            let before = instr;
            // Rename operands that are copies.
            for r in read_operands(&mut instr) {
                if let Some(Fact::Copy(s)) = facts.get(r) {
                    *r = *s;
                }
            }
            let k = |r: Reg| match facts.get(&r) {
                Some(Fact::Const(v)) => Some(*v),
                _ => None,
            };
            let k16 = |r: Reg| k(r).and_then(|v| i16::try_from(v).ok());
            let konst = |r: Reg| match facts.get(&r) {
                Some(Fact::K(k)) => Some(*k),
                _ => None,
            };
            let place = |r: Reg| match facts.get(&r) {
                Some(Fact::Ref(x)) => Some(*x),
                _ => None,
            };
            loop {
                let next = match instr {
                    // Through a reference to a register of this frame.
                    Instr::Load { a, r } if place(r).is_some() => Instr::Copy { a, b: place(r).unwrap_or(a) },
                    Instr::Store { r, b } if place(r).is_some() => Instr::Copy { a: place(r).unwrap_or(b), b },
                    Instr::AddI { a, b, c } if k16(c).is_some() => Instr::AddIImm { a, b, imm: k16(c).unwrap_or(0) },
                    Instr::AddI { a, b, c } if k16(b).is_some() => Instr::AddIImm { a, b: c, imm: k16(b).unwrap_or(0) },
                    Instr::SubI { a, b, c } if k16(c).and_then(|v| v.checked_neg()).is_some() => {
                        Instr::AddIImm { a, b, imm: -k16(c).unwrap_or(0) }
                    }
                    Instr::MulI { a, b, c } if k16(c).is_some() => Instr::MulIImm { a, b, imm: k16(c).unwrap_or(0) },
                    Instr::MulI { a, b, c } if k16(b).is_some() => Instr::MulIImm { a, b: c, imm: k16(b).unwrap_or(0) },
                    Instr::Arith { op, a, b, c }
                        if op.ty() == NumTy::U64
                            && op.op() == BinOp::Add
                            && k(c).and_then(|v| u16::try_from(v).ok()).is_some() =>
                    {
                        Instr::AddUImm { a, b, imm: k(c).and_then(|v| u16::try_from(v).ok()).unwrap_or(0) }
                    }
                    Instr::Arith { op, a, b, c } if op.ty() == NumTy::I64 => match op.op() {
                        BinOp::Add => Instr::AddI { a, b, c },
                        BinOp::Sub => Instr::SubI { a, b, c },
                        BinOp::Mul => Instr::MulI { a, b, c },
                        BinOp::Rem => Instr::RemI { a, b, c },
                        BinOp::Div => Instr::DivI { a, b, c },
                        _ => instr,
                    },
                    Instr::Cmp { op, a, b, c } if op.ty().is_int() || matches!(op.ty(), NumTy::Bool | NumTy::Char) => {
                        if op.ty().is_signed() {
                            Instr::CmpI { op: op.op(), a, b, c }
                        } else {
                            Instr::CmpU { op: op.op(), a, b, c }
                        }
                    }
                    Instr::EqI { a, b, c } if k16(c).is_some() => {
                        Instr::CmpIImm { op: CmpOp::Eq, a, b, imm: k16(c).unwrap_or(0) }
                    }
                    Instr::NeI { a, b, c } if k16(c).is_some() => {
                        Instr::CmpIImm { op: CmpOp::Ne, a, b, imm: k16(c).unwrap_or(0) }
                    }
                    Instr::DivI { a, b, c } if k(c).and_then(|v| divisor(self.divisors, v)).is_some() => {
                        Instr::DivIK { a, b, k: k(c).and_then(|v| divisor(self.divisors, v)).unwrap_or(0) }
                    }
                    Instr::RemI { a, b, c } if k(c).and_then(|v| divisor(self.divisors, v)).is_some() => {
                        Instr::RemIK { a, b, k: k(c).and_then(|v| divisor(self.divisors, v)).unwrap_or(0) }
                    }
                    Instr::Native { base, site }
                        if self
                            .reads
                            .sites
                            .get(site as usize)
                            .is_some_and(|s| s.native == Native::Math(MathFn::Sqrt)) =>
                    {
                        Instr::SqrtF { a: base, b: base }
                    }
                    Instr::Native { base, site }
                        if self
                            .reads
                            .sites
                            .get(site as usize)
                            .is_some_and(|s| matches!(s.native, Native::StrLen | Native::SliceLen)) =>
                    {
                        Instr::SliceLenR { a: base, b: base }
                    }
                    Instr::Native { base, site }
                        if self.reads.sites.get(site as usize).is_some_and(|s| s.native == Native::VecLen) =>
                    {
                        Instr::VecLenR { a: base, b: base }
                    }
                    // Natives that become instructions reading their operands
                    // where they are.
                    Instr::Native { base, site } if base < Reg::MAX => match self.reads.sites.get(site as usize) {
                        Some(s) if s.native == Native::StrAppendStr => Instr::StrPushStr { s: base, v: base + 1 },
                        Some(&Site { native: Native::StrAppendDisplay, slot: Slot::Scalar(ty), .. }) => {
                            Instr::StrPushDisplay { ty, s: base, v: base + 1 }
                        }
                        // A lookup reads its key where it is: a scalar key
                        // from the register its place names, any other (not
                        // passed by place; the site records the key's slot)
                        // from the argument.
                        Some(s) if matches!(s.native, Native::MapGetRaw | Native::MapContainsKey) => {
                            let key = match s.slot {
                                Slot::Owned(_) | Slot::Shared(_) => Some(base + 1),
                                _ => place(base + 1),
                            };
                            match (key, s.native) {
                                (Some(k), Native::MapGetRaw) => Instr::MapGetV { a: base, m: base, k },
                                (Some(k), _) => Instr::MapHasV { a: base, m: base, k },
                                (None, _) => instr,
                            }
                        }
                        _ => instr,
                    },
                    Instr::StrPushStr { s, v } if konst(v).is_some() => Instr::StrPushK { s, k: konst(v).unwrap_or(0) },
                    Instr::Cast { from, to, a, b } if same_bits(from, to) => Instr::Copy { a, b },
                    Instr::LtI { a, b, c } => Instr::CmpI { op: CmpOp::Lt, a, b, c },
                    Instr::LeI { a, b, c } => Instr::CmpI { op: CmpOp::Le, a, b, c },
                    Instr::CmpI { op, a, b, c } if k16(c).is_some() => {
                        Instr::CmpIImm { op, a, b, imm: k16(c).unwrap_or(0) }
                    }
                    Instr::CmpI { op, a, b, c } if k16(b).is_some() => {
                        Instr::CmpIImm { op: op.swapped(), a, b: c, imm: k16(b).unwrap_or(0) }
                    }
                    other => other,
                };
                if next == instr {
                    break;
                }
                instr = next;
            }
            if instr != before {
                changed = true;
                self.code[pc] = Some(instr);
            }
            // Update the facts.
            self.update_facts(&mut facts, &instr, pc, &esc);
        }
        changed
    }

    /// What holds on entry to each basic block (by its first instruction):
    /// the facts true on every path there (`None`: no path found).
    fn block_facts(&self, lead: &[bool], esc: &[Bits]) -> FxHashMap<usize, Option<Facts>> {
        let n = self.code.len();
        let starts: Vec<usize> = (0..n).filter(|&p| lead[p]).collect();
        let mut entry: FxHashMap<usize, Option<Facts>> = starts.iter().map(|&p| (p, None)).collect();
        entry.insert(0, Some(Facts::default()));
        loop {
            let mut changed = false;
            for (bi, &start) in starts.iter().enumerate() {
                let Some(Some(mut facts)) = entry.get(&start).cloned() else { continue };
                let end = starts.get(bi + 1).copied().unwrap_or(n);
                let mut succs = Vec::new();
                let mut falls = true;
                for pc in start..end {
                    let Some(i) = self.code[pc] else { continue };
                    self.update_facts(&mut facts, &i, pc, esc);
                    if let Some(off) = jump_off(&i) {
                        succs.push((pc as i64 + 1 + off).clamp(0, n as i64) as usize);
                    }
                    falls = falls_through(&i);
                }
                if falls {
                    succs.push(end);
                }
                for t in succs {
                    let Some(slot) = entry.get_mut(&t) else { continue };
                    let merged = match slot {
                        None => facts.clone(),
                        Some(old) => {
                            old.iter().filter(|(r, f)| facts.get(r) == Some(f)).map(|(r, f)| (*r, *f)).collect()
                        }
                    };
                    if slot.as_ref() != Some(&merged) {
                        *slot = Some(merged);
                        changed = true;
                    }
                }
            }
            if !changed {
                return entry;
            }
        }
    }

    /// The facts after instruction `instr` at `pc`, from those before.
    fn update_facts(&self, facts: &mut Facts, instr: &Instr, pc: usize, esc: &[Bits]) {
        let instr = *instr;
        let eff = effects(&instr, self.nregs, self.reads);
        // A call's frame overwrites the registers from its base up;
        // calls and `Store` (through a place) may write any register
        // whose address was taken.
        let clobbered = match instr {
            Instr::Call { base, .. }
            | Instr::CallValue { base, .. }
            | Instr::Native { base, .. }
            | Instr::RecvOrJmp { base, .. }
            | Instr::New { base, .. } => Some(base),
            Instr::Store { .. } => Some(Reg::MAX),
            _ => None,
        };
        if let Some(base) = clobbered {
            let gone = |r: Reg| r >= base || esc[pc].has(r) || esc[pc + 1].has(r);
            facts.retain(|t, f| !gone(*t) && !matches!(f, Fact::Copy(s) if gone(*s)));
            return;
        }
        for &d in &eff.defs[..eff.ndefs] {
            facts.remove(&d);
            facts.retain(|_, f| *f != Fact::Copy(d));
        }
        match instr {
            Instr::Copy { a, b } if a != b => {
                // Always the copy (a constant in `b` is found through it):
                // more facts before never mean fewer after, so the
                // analysis over loops does not lose facts it could keep.
                let src = match facts.get(&b) {
                    Some(Fact::Copy(s)) => *s,
                    _ => b,
                };
                if src != a {
                    facts.insert(a, Fact::Copy(src));
                }
            }
            Instr::LoadI { a, imm } => {
                facts.insert(a, Fact::Const(imm as i64));
            }
            Instr::LoadK { a, k } => {
                facts.insert(a, Fact::K(k));
            }
            Instr::RefReg { a, b } if a != b => {
                facts.insert(a, Fact::Ref(b));
            }
            _ => {}
        }
    }

    /// The registers whose address may have been taken (`RefReg`) on
    /// some path to each instruction: they may be read or written through
    /// a place by a `Load`, `Store`, call or native.
    fn escaped(&self) -> Vec<Bits> {
        let n = self.code.len();
        let empty = Bits::new(self.nregs as usize);
        let mut esc_in = vec![empty.clone(); n + 1];
        loop {
            let mut changed = false;
            for pc in 0..n {
                let mut out = esc_in[pc].clone();
                let Some(i) = &self.code[pc] else {
                    if !out.0.iter().zip(&esc_in[pc + 1].0).all(|(a, b)| a & !b == 0) {
                        esc_in[pc + 1].union(&out);
                        changed = true;
                    }
                    continue;
                };
                if let Instr::RefReg { b, .. } = i {
                    out.set(*b);
                }
                let mut targets = [None, None];
                if falls_through(i) {
                    targets[0] = Some(pc + 1);
                }
                if let Some(off) = jump_off(i) {
                    targets[1] = Some((pc as i64 + 1 + off).clamp(0, n as i64) as usize);
                }
                for t in targets.into_iter().flatten() {
                    if !out.0.iter().zip(&esc_in[t].0).all(|(a, b)| a & !b == 0) {
                        esc_in[t].union(&out);
                        changed = true;
                    }
                }
            }
            if !changed {
                return esc_in;
            }
        }
    }

    /// The registers live on entry to each instruction.
    fn liveness(&self) -> Vec<Bits> {
        self.liveness_with(true)
    }

    /// The registers live on entry to each instruction; with `drops`
    /// false, a `Drop` does not count as a read (what is live then is
    /// live for its value).
    fn liveness_with(&self, drops: bool) -> Vec<Bits> {
        let n = self.code.len();
        let empty = Bits::new(self.nregs as usize);
        let esc = self.escaped();
        let mut live_in = vec![empty.clone(); n + 1];
        let effs: Vec<Option<Eff>> =
            self.code.iter().map(|i| i.as_ref().map(|i| effects(i, self.nregs, self.reads))).collect();
        loop {
            let mut changed = false;
            for pc in (0..n).rev() {
                let Some(i) = &self.code[pc] else {
                    if live_in[pc] != live_in[pc + 1] {
                        live_in[pc] = live_in[pc + 1].clone();
                        changed = true;
                    }
                    continue;
                };
                let mut out = if falls_through(i) { live_in[pc + 1].clone() } else { empty.clone() };
                if let Some(off) = jump_off(i) {
                    let t = (pc as i64 + 1 + off).clamp(0, n as i64) as usize;
                    out.union(&live_in[t]);
                }
                let e = effs[pc].as_ref().expect("an instruction");
                for &d in &e.defs[..e.ndefs] {
                    out.clear(d);
                }
                if drops || !matches!(i, Instr::Drop { .. }) {
                    for &u in &e.uses[..e.nuses] {
                        out.set(u);
                    }
                }
                if let Some((lo, hi)) = e.range {
                    for r in lo..hi {
                        out.set(r);
                    }
                }
                if matches!(
                    i,
                    Instr::Load { .. }
                        | Instr::Store { .. }
                        | Instr::Call { .. }
                        | Instr::CallValue { .. }
                        | Instr::Native { .. }
                        | Instr::RecvOrJmp { .. }
                ) {
                    out.union(&esc[pc]);
                }
                if out != live_in[pc] {
                    live_in[pc] = out;
                    changed = true;
                }
            }
            if !changed {
                return live_in;
            }
        }
    }

    /// Whether `r` is live after instruction `pc` (on entry to its successors).
    fn live_after(&self, live: &[Bits], pc: usize, r: Reg) -> bool {
        let Some(i) = self.get(pc) else { return live[pc + 1].has(r) };
        let n = self.code.len();
        if falls_through(i) && live[pc + 1].has(r) {
            return true;
        }
        if let Some(off) = jump_off(i) {
            let t = (pc as i64 + 1 + off).clamp(0, n as i64) as usize;
            if live[t].has(r) {
                return true;
            }
        }
        false
    }

    /// Turns a deep `Clone` of an owner whose value is never read again
    /// (every path after it only drops it) into a `Move`: the clone's
    /// copy and the owner's destruction both go (`unwrap` on a `Copy`
    /// option, matched by value, clones its `self` otherwise). A register
    /// that no path drops may hold a reference and is left alone.
    fn clones_to_moves(&mut self) -> bool {
        let live = self.liveness();
        let valued = self.liveness_with(false);
        let mut changed = false;
        for pc in 0..self.code.len() {
            let Some(Instr::Clone { a, b }) = self.code[pc] else { continue };
            if a != b && self.live_after(&live, pc, b) && !self.live_after(&valued, pc, b) {
                self.code[pc] = Some(Instr::Move { a, b });
                changed = true;
            }
        }
        changed
    }

    /// Dead stores, coalesced copies and fused compare-and-branch.
    fn simplify(&mut self, live: &[Bits]) -> bool {
        let lead = self.leaders();
        let mut changed = false;
        for pc in 0..self.code.len() {
            let Some(instr) = self.code[pc] else { continue };
            // A dead pure instruction.
            if is_pure(&instr) {
                let e = effects(&instr, self.nregs, self.reads);
                if e.defs[..e.ndefs].iter().all(|&d| !self.live_after(live, pc, d)) {
                    self.code[pc] = None;
                    changed = true;
                    continue;
                }
            }
            if lead[pc] {
                continue;
            }
            // `Drop s` where `s` was moved from (or cleared) earlier in the
            // block and nothing since may have written it: a no-op. (A
            // register whose address is taken may be written through it.)
            if let Instr::Drop { a: r } = instr {
                let escaped = self.code.iter().flatten().any(|j| matches!(j, Instr::RefReg { b, .. } if *b == r));
                let mut p = pc;
                while !escaped && p > 0 && !lead[p] {
                    p -= 1;
                    let Some(j) = self.code[p] else { continue };
                    if matches!(j, Instr::Move { b, .. } if b == r) || matches!(j, Instr::Clear { a } if a == r) {
                        self.code[pc] = None;
                        changed = true;
                        break;
                    }
                    let e = effects(&j, self.nregs, self.reads);
                    let writes = e.defs[..e.ndefs].contains(&r)
                        || match j {
                            Instr::Native { base, .. } | Instr::RecvOrJmp { base, .. } => base == r,
                            Instr::Call { base, .. } | Instr::CallValue { base, .. } | Instr::New { base, .. } => {
                                base <= r
                            }
                            Instr::Store { .. } | Instr::Swap { .. } => true,
                            _ => false,
                        };
                    if writes {
                        break;
                    }
                }
                if self.code[pc].is_none() {
                    continue;
                }
            }
            // `move t := s; d := t` with `t` dead after: `move d := s`.
            if let Instr::Copy { a: d, b: t } = instr {
                if let Some(p) = (0..pc).rev().find(|&p| self.code[p].is_some()) {
                    if let Some(Instr::Move { a, b: src }) = self.code[p] {
                        if a == t && d != src && d != t && !self.live_after(live, pc, t) {
                            self.code[p] = Some(Instr::Move { a: d, b: src });
                            self.code[pc] = None;
                            changed = true;
                            continue;
                        }
                    }
                }
            }
            // `t := to_string(x); d := t; append(s, d)`: `d := x; append_display(s, d)`.
            if let Instr::Native { base, site } = instr {
                if self.reads.sites.get(site as usize).is_some_and(|s| s.native == Native::StrAppend) && base < Reg::MAX
                {
                    let d = base + 1;
                    let p1 = (0..pc).rev().find(|&p| self.code[p].is_some());
                    let p0 = p1.and_then(|p1| (0..p1).rev().find(|&p| self.code[p].is_some()));
                    if let (Some(p0), Some(p1)) = (p0, p1) {
                        if let (Some(Instr::Native { base: t, site: ts }), Some(Instr::Copy { a, b })) =
                            (self.code[p0], self.code[p1])
                        {
                            if a == d
                                && b == t
                                && !(p0 + 1..=pc).any(|p| lead[p])
                                && self.appends.contains_key(&ts)
                                && !self.live_after(live, p1, t)
                                && !self.live_after(live, pc, d)
                            {
                                self.code[p0] = Some(Instr::Copy { a: d, b: t });
                                self.code[p1] = None;
                                self.code[pc] = Some(Instr::Native { base, site: self.appends[&ts] });
                                changed = true;
                                continue;
                            }
                        }
                    }
                }
            }
            // `String::push_str`, `push` and a discarded `HashMap::insert`
            // whose result is dead: an instruction (`propagate` then reads
            // its operands from where they were copied from).
            if let Instr::Native { base, site } = instr {
                let native = self.reads.sites.get(site as usize).map(|s| s.native);
                if base < Reg::MAX && !self.live_after(live, pc, base) {
                    let (s, v) = (base, base + 1);
                    let fused = match native {
                        Some(Native::StringPushStr) => Some(Instr::StrPushStr { s, v }),
                        Some(Native::StringPush) => Some(Instr::StrPushChar { s, v }),
                        Some(Native::MapInsertDiscard) if base < Reg::MAX - 1 => {
                            Some(Instr::MapPutV { m: base, k: base + 1, v: base + 2 })
                        }
                        _ => None,
                    };
                    if let Some(fused) = fused {
                        self.code[pc] = Some(fused);
                        changed = true;
                        continue;
                    }
                }
            }
            // `t := &s[..]; push(d, t)` or `x := len(t)`, with `t` dead
            // after: `push(d, s)`, `x := len(s)` (both take a whole string).
            let whole = |t: Reg| {
                let p = (0..pc).rev().find(|&p| self.code[p].is_some())?;
                match self.code[p] {
                    Some(Instr::SliceAll { a, b }) if a == t && b != t && !lead[pc] => Some(b),
                    _ => None,
                }
            };
            let fused = match instr {
                Instr::StrPushStr { s, v: t } if !self.live_after(live, pc, t) => {
                    whole(t).map(|v| Instr::StrPushStr { s, v })
                }
                Instr::SliceLenR { a, b: t } if a == t || !self.live_after(live, pc, t) => {
                    whole(t).map(|b| Instr::SliceLenR { a, b })
                }
                _ => None,
            };
            if let Some(fused) = fused {
                self.code[pc] = Some(fused);
                changed = true;
                continue;
            }
            // `t := &list[i]; ...; x := *t` with `t` dead after: `x := list[i]`
            // in `t`'s place (where the bounds are checked), if nothing in
            // between touches the heap, `x` or `t`.
            if let Instr::Load { a: x, r: t } = instr {
                if !self.live_after(live, pc, t) {
                    let mut p0 = pc;
                    let mut found = None;
                    while p0 > 0 && !lead[p0] {
                        p0 -= 1;
                        let Some(j) = self.code[p0] else { continue };
                        let e = effects(&j, self.nregs, self.reads);
                        if e.defs[..e.ndefs].contains(&t) {
                            found = match j {
                                Instr::RefIndex { a, list, i } if a == t => Some(Instr::Index { a: x, list, i }),
                                Instr::RefIndexSlice { a, list, i } if a == t => {
                                    Some(Instr::IndexSlice { a: x, list, i })
                                }
                                _ => None,
                            };
                            break;
                        }
                        let touches = |r: Reg| {
                            e.uses[..e.nuses].contains(&r)
                                || e.defs[..e.ndefs].contains(&r)
                                || e.range.is_some_and(|(lo, hi)| (lo..hi).contains(&r))
                        };
                        if touches_heap(&j) || touches(x) || touches(t) {
                            break;
                        }
                    }
                    if let Some(load) = found {
                        self.code[p0] = Some(load);
                        self.code[pc] = None;
                        changed = true;
                        continue;
                    }
                }
            }
            let Some(prev_pc) = (0..pc).rev().find(|&p| self.code[p].is_some()) else { continue };
            if (prev_pc + 1..=pc).any(|p| lead[p]) {
                continue;
            }
            let Some(mut prev) = self.code[prev_pc] else { continue };
            // `r := map.insert(k, v); drop(r)`: a site that returns nothing
            // (and leaves `r` empty, as the `Drop` did).
            if let (Instr::Drop { a }, Instr::Native { base, site }) = (instr, prev) {
                if a == base {
                    if let Some(&discard) = self.discards.get(&site) {
                        self.code[prev_pc] = Some(Instr::Native { base, site: discard });
                        self.code[pc] = None;
                        changed = true;
                        continue;
                    }
                }
            }
            // `t1 := o.f; t2 := t1 op x; o.f := t2` (with `t1`, `t2` dead
            // after, one line): `o.f op= x`.
            if let Instr::SetField { obj, i: f, b: t2 } = instr {
                if let Some(p1) = (0..prev_pc).rev().find(|&p| self.code[p].is_some()) {
                    let one_block = !(p1 + 1..=pc).any(|p| lead[p]);
                    let one_line = self.lines[p1] == self.lines[pc] && self.lines[prev_pc] == self.lines[pc];
                    if let (true, true, Some(Instr::GetField { a: t1, obj: o1, i: f1 })) =
                        (one_block, one_line, self.code[p1])
                    {
                        let fused = match prev {
                            _ if o1 != obj || f1 != f || t1 == obj || t2 == obj => None,
                            Instr::AddIImm { a, b, imm } if a == t2 && b == t1 => {
                                Some(Instr::FieldAddIImm { f, obj, imm })
                            }
                            _ if f > u8::MAX as u16 => None,
                            Instr::AddI { a, b, c }
                            | Instr::SubI { a, b, c }
                            | Instr::MulI { a, b, c }
                            | Instr::AddF { a, b, c }
                            | Instr::SubF { a, b, c }
                            | Instr::MulF { a, b, c }
                            | Instr::DivF { a, b, c }
                                if a == t2 && b == t1 && c != t1 =>
                            {
                                let op = match prev {
                                    Instr::AddI { .. } => FieldOpKind::AddI,
                                    Instr::SubI { .. } => FieldOpKind::SubI,
                                    Instr::MulI { .. } => FieldOpKind::MulI,
                                    Instr::AddF { .. } => FieldOpKind::AddF,
                                    Instr::SubF { .. } => FieldOpKind::SubF,
                                    Instr::MulF { .. } => FieldOpKind::MulF,
                                    _ => FieldOpKind::DivF,
                                };
                                Some(Instr::FieldOp { op, f: f as u8, obj, b: c })
                            }
                            _ => None,
                        };
                        if let Some(fused) = fused {
                            if !self.live_after(live, pc, t1) && !self.live_after(live, pc, t2) {
                                self.code[p1] = None;
                                self.code[prev_pc] = None;
                                self.code[pc] = Some(fused);
                                changed = true;
                                continue;
                            }
                        }
                    }
                }
            }
            // `t := list[i]; d := t.f` with `t` dead after: one instruction.
            if let (Instr::GetField { a: d, obj, i: f }, Instr::Index { a: t, list, i }) = (instr, prev) {
                if obj == t
                    && f <= u8::MAX as u16
                    && self.lines[prev_pc] == self.lines[pc]
                    && !self.live_after(live, pc, t)
                {
                    self.code[pc] = Some(Instr::IndexField { f: f as u8, a: d, list, i });
                    self.code[prev_pc] = None;
                    changed = true;
                    continue;
                }
            }
            // `t := ...; d := t` with `t` dead after: `d := ...`.
            if let Instr::Copy { a: d, b: t } = instr {
                if !self.live_after(live, pc, t) {
                    if let Some(dst) = simple_dst(&mut prev) {
                        if *dst == t {
                            *dst = d;
                            self.code[prev_pc] = Some(prev);
                            self.code[pc] = None;
                            changed = true;
                            continue;
                        }
                    }
                }
            }
            // `t := tag(o); if !(t == k) goto L` with `t` dead after (pure
            // instructions that touch neither `t` nor `o` may sit between).
            if let Instr::JmpIfNotCmpIImm { op: CmpOp::Eq, a: t, imm, off } = instr {
                let mut p = prev_pc;
                let found = loop {
                    let Some(j) = self.code[p] else { break None };
                    if let Instr::GetTag { a, obj } = j {
                        break (a == t && obj != t).then_some((p, obj));
                    }
                    let e = effects(&j, self.nregs, self.reads);
                    let touches = |r: Reg| e.uses[..e.nuses].contains(&r) || e.defs[..e.ndefs].contains(&r);
                    if !is_pure(&j) || touches(t) || lead[p] || p == 0 {
                        break None;
                    }
                    match (0..p).rev().find(|&q| self.code[q].is_some()) {
                        Some(q) if !(q + 1..=p).any(|x| lead[x]) => p = q,
                        _ => break None,
                    }
                };
                if let Some((p, obj)) = found {
                    let obj_kept = (p + 1..pc).all(|q| {
                        self.code[q].is_none_or(|j| {
                            let e = effects(&j, self.nregs, self.reads);
                            !e.defs[..e.ndefs].contains(&obj)
                        })
                    });
                    if imm >= 0 && obj_kept && !self.live_after(live, pc, t) {
                        self.code[pc] = Some(Instr::JmpIfNotTag { obj, tag: imm as u16, off });
                        self.code[p] = None;
                        changed = true;
                        continue;
                    }
                }
            }
            // `t := x op y; if !t goto L` with `t` dead after: one instruction.
            let (t, off, negate) = match instr {
                Instr::JmpIfNot { a, off } => (a, off, false),
                Instr::JmpIf { a, off } => (a, off, true),
                _ => continue,
            };
            if self.live_after(live, pc, t) {
                continue;
            }
            let Ok(off) = i16::try_from(off) else { continue };
            let op = |op: CmpOp| if negate { op.negated() } else { op };
            let fused = match prev {
                Instr::CmpI { op: o, a, b, c } if a == t => Instr::JmpIfNotCmpI { op: op(o), a: b, b: c, off },
                Instr::CmpU { op: o, a, b, c } if a == t => Instr::JmpIfNotCmpU { op: op(o), a: b, b: c, off },
                Instr::CmpIImm { op: o, a, b, imm } if a == t => Instr::JmpIfNotCmpIImm { op: op(o), a: b, imm, off },
                Instr::EqI { a, b, c } if a == t => Instr::JmpIfNotCmpU { op: op(CmpOp::Eq), a: b, b: c, off },
                Instr::NeI { a, b, c } if a == t => Instr::JmpIfNotCmpU { op: op(CmpOp::Ne), a: b, b: c, off },
                _ => continue,
            };
            self.code[pc] = Some(fused);
            self.code[prev_pc] = None;
            changed = true;
        }
        changed
    }

    /// `H: if !(x op y) goto X; ...; goto H; X:` becomes `H: if !(x op y)
    /// goto X; ...; if (x op y) goto H+1; X:`: one branch per iteration
    /// instead of two (a backward conditional branch spends fuel).
    fn invert_loops(&mut self) {
        let n = self.code.len();
        let next_kept = |code: &[Option<Instr>], mut p: usize| {
            while p < n && code[p].is_none() {
                p += 1;
            }
            p
        };
        for pc in 0..n {
            let Some(Instr::Jmp { off }) = self.code[pc] else { continue };
            if off >= 0 {
                continue;
            }
            let h = next_kept(&self.code, (pc as i64 + 1 + off as i64).max(0) as usize);
            if h >= pc {
                continue;
            }
            let Some(test) = self.code[h] else { continue };
            let Some(toff) = test.jump_offset() else { continue };
            let exit = (h as i64 + 1 + toff).clamp(0, n as i64) as usize;
            if next_kept(&self.code, exit) != next_kept(&self.code, pc + 1) {
                continue;
            }
            let Ok(back) = i16::try_from(h as i64 + 1 - (pc as i64 + 1)) else { continue };
            let inverted = match test {
                Instr::JmpIfNotCmpI { op, a, b, .. } => Instr::JmpIfNotCmpI { op: op.negated(), a, b, off: back },
                Instr::JmpIfNotCmpU { op, a, b, .. } => Instr::JmpIfNotCmpU { op: op.negated(), a, b, off: back },
                Instr::JmpIfNotCmpIImm { op, a, imm, .. } => {
                    Instr::JmpIfNotCmpIImm { op: op.negated(), a, imm, off: back }
                }
                Instr::JmpIfNotLtI { a, b, .. } => Instr::JmpIfNotCmpI { op: CmpOp::Ge, a, b, off: back },
                _ => continue,
            };
            self.code[pc] = Some(inverted);
        }
    }

    /// `HashMap::get` whose `Option<&V>` is only copied, tested
    /// (`JmpIfNotTag`), unwrapped (`GetField` 0) and dropped returns it
    /// unboxed (`MapGetRaw`: the reference or `NONE`), with those uses
    /// rewritten (`JmpIfNone`/`JmpIfSome`, `Copy`, `Clear`). A register is
    /// rewritten only where every path gives it this site's option; any
    /// other read of a register that may hold it leaves the site alone.
    fn unbox_options(&mut self) -> bool {
        let mut changed = false;
        for pc0 in 0..self.code.len() {
            let Some(Instr::Native { base: r, site }) = self.code[pc0] else { continue };
            let Some(&raw) = self.raws.get(&site) else { continue };
            if let Some(rewrites) = self.option_uses(pc0, r) {
                self.code[pc0] = Some(Instr::Native { base: r, site: raw });
                for (pc, i) in rewrites {
                    self.code[pc] = Some(i);
                }
                changed = true;
            }
        }
        changed
    }

    /// The rewrites of the uses of the option site `pc0` leaves in `r`, if
    /// all its uses allow unboxing.
    fn option_uses(&self, pc0: usize, r: Reg) -> Option<Vec<(usize, Instr)>> {
        let n = self.code.len();
        let nregs = self.nregs as usize;
        // may[pc] / must[pc]: registers that may / surely hold the option
        // on entry to pc (must starts full: unvisited).
        let mut may = vec![Bits::new(nregs); n + 1];
        let mut must: Vec<Option<Bits>> = vec![None; n + 1];
        must[0] = Some(Bits::new(nregs));
        let step = |pc: usize, i: &Instr, d: &mut Bits| {
            let e = effects(i, self.nregs, self.reads);
            match *i {
                Instr::Copy { a, b } => {
                    if d.has(b) {
                        d.set(a);
                    } else {
                        d.clear(a);
                    }
                    return;
                }
                Instr::Call { base, .. }
                | Instr::CallValue { base, .. }
                | Instr::Native { base, .. }
                | Instr::RecvOrJmp { base, .. }
                | Instr::New { base, .. } => {
                    for x in base..self.nregs {
                        d.clear(x);
                    }
                }
                _ => {}
            }
            for &x in &e.defs[..e.ndefs] {
                d.clear(x);
            }
            if pc == pc0 {
                d.set(r);
            }
        };
        loop {
            let mut changed = false;
            for pc in 0..n {
                let Some(i) = self.code[pc] else { continue };
                let Some(mut m) = must[pc].clone() else { continue };
                let mut y = may[pc].clone();
                step(pc, &i, &mut m);
                step(pc, &i, &mut y);
                let mut succ = [None, None];
                if falls_through(&i) {
                    succ[0] = Some(pc + 1);
                }
                if let Some(off) = jump_off(&i) {
                    succ[1] = Some((pc as i64 + 1 + off).clamp(0, n as i64) as usize);
                }
                for t in succ.into_iter().flatten() {
                    let new_must = match &must[t] {
                        None => m.clone(),
                        Some(old) => Bits(old.0.iter().zip(&m.0).map(|(a, b)| a & b).collect()),
                    };
                    if must[t].as_ref() != Some(&new_must) {
                        must[t] = Some(new_must);
                        changed = true;
                    }
                    let mut new_may = may[t].clone();
                    new_may.union(&y);
                    if new_may != may[t] {
                        may[t] = new_may;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut rewrites = Vec::new();
        for pc in 0..n {
            let Some(i) = self.code[pc] else { continue };
            let Some(m) = &must[pc] else { continue };
            let y = &may[pc];
            let e = effects(&i, self.nregs, self.reads);
            let mut reads: Vec<Reg> = e.uses[..e.nuses].to_vec();
            if let Some((lo, hi)) = e.range {
                reads.extend(lo..hi);
            }
            let held: Vec<Reg> = reads.into_iter().filter(|&x| y.has(x)).collect();
            if held.is_empty() {
                continue;
            }
            if held.iter().any(|&x| !m.has(x)) {
                return None;
            }
            let new = match i {
                Instr::Copy { .. } => continue,
                Instr::JmpIfNotTag { obj, tag: 0, off } => Instr::JmpIfNone { a: obj, off: off as i32 },
                Instr::JmpIfNotTag { obj, tag: 1, off } => Instr::JmpIfSome { a: obj, off: off as i32 },
                Instr::GetField { a, obj, i: 0 } => Instr::Copy { a, b: obj },
                Instr::Drop { a } => Instr::Clear { a },
                _ => return None,
            };
            rewrites.push((pc, new));
        }
        Some(rewrites)
    }

    /// `i := i + 1; if i < n goto body` (an inverted counting loop's back
    /// edge, nothing jumping to its test alone, one line) becomes one
    /// `ForLoopI`/`ForLoopU` where the increment was.
    fn fuse_loop_steps(&mut self) {
        let lead = self.leaders();
        let n = self.code.len();
        for pc in 0..n {
            let Some(test) = self.code[pc] else { continue };
            let (a, b, off, unsigned) = match test {
                Instr::JmpIfNotCmpI { op: CmpOp::Ge, a, b, off } if off < 0 => (a, b, off, false),
                Instr::JmpIfNotCmpU { op: CmpOp::Ge, a, b, off } if off < 0 => (a, b, off, true),
                _ => continue,
            };
            if lead[pc] || a == b {
                continue;
            }
            let Some(p) = (0..pc).rev().find(|&p| self.code[p].is_some()) else { continue };
            if (p + 1..pc).any(|q| lead[q]) || self.lines[p] != self.lines[pc] {
                continue;
            }
            let step = match self.code[p] {
                Some(Instr::AddIImm { a: x, b: y, imm: 1 }) if !unsigned => x == a && y == a,
                Some(Instr::AddUImm { a: x, b: y, imm: 1 }) if unsigned => x == a && y == a,
                _ => false,
            };
            if !step {
                continue;
            }
            let target = pc as i64 + 1 + off as i64;
            let Ok(off) = i16::try_from(target - (p as i64 + 1)) else { continue };
            self.code[p] = Some(if unsigned { Instr::ForLoopU { a, b, off } } else { Instr::ForLoopI { a, b, off } });
            self.code[pc] = None;
        }
    }

    /// Jump threading, forward only (a backward jump spends fuel): a jump
    /// to a forward `Jmp` goes to its target, and a `JmpIfNone r` landing
    /// on a `JmpIfSome r` (or the reverse) goes past it, since that one
    /// cannot be taken there. A `Jmp` to the next instruction goes.
    fn thread_jumps(&mut self) -> bool {
        let n = self.code.len();
        let next_kept = |code: &[Option<Instr>], mut p: usize| {
            while p < n && code[p].is_none() {
                p += 1;
            }
            p
        };
        let mut changed = false;
        for pc in 0..n {
            let Some(mut i) = self.code[pc] else { continue };
            let Some(off) = jump_off(&i) else { continue };
            if off < 0 {
                continue;
            }
            let first = next_kept(&self.code, pc + 1 + off as usize);
            let mut t = first;
            for _ in 0..8 {
                let Some(Some(ti)) = self.code.get(t) else { break };
                let nt = match (i, *ti) {
                    (_, Instr::Jmp { off: o }) if o >= 0 => next_kept(&self.code, t + 1 + o as usize),
                    (Instr::JmpIfNone { a, .. }, Instr::JmpIfSome { a: b, .. })
                    | (Instr::JmpIfSome { a, .. }, Instr::JmpIfNone { a: b, .. })
                        if a == b =>
                    {
                        next_kept(&self.code, t + 1)
                    }
                    _ => break,
                };
                if nt <= t {
                    break;
                }
                t = nt;
            }
            if matches!(i, Instr::Jmp { .. }) && t == next_kept(&self.code, pc + 1) {
                self.code[pc] = None;
                changed = true;
                continue;
            }
            if t != first && set_off(&mut i, t as i64 - (pc as i64 + 1)) {
                self.code[pc] = Some(i);
                changed = true;
            }
        }
        changed
    }

    /// A repeated `Index` of the same list and index inside a basic block
    /// reads the register the first one wrote (a copy, or nothing if it
    /// is the same register), when nothing between may have changed the
    /// list, the index or that register: only field updates of records
    /// may touch the heap there. The first one would have trapped if the
    /// index were out of bounds, so no trap is lost.
    #[allow(clippy::needless_range_loop)]
    fn reuse_index(&mut self) -> bool {
        let lead = self.leaders();
        let mut changed = false;
        // (list, index, register holding list[index])
        let mut seen: Vec<(Reg, Reg, Reg)> = Vec::new();
        for pc in 0..self.code.len() {
            if lead[pc] {
                seen.clear();
            }
            let Some(i) = self.code[pc] else { continue };
            if let Instr::Index { a, list, i: ix } = i {
                if let Some(&(_, _, d)) = seen.iter().find(|&&(l, x, _)| l == list && x == ix) {
                    self.code[pc] = if d == a { None } else { Some(Instr::Copy { a, b: d }) };
                    changed = true;
                    seen.retain(|&(l, x, r)| l != a && x != a && r != a);
                    if d != a && a != list && a != ix {
                        seen.push((list, ix, a));
                    }
                    continue;
                }
            }
            let field_update = matches!(i, Instr::SetField { .. } | Instr::FieldOp { .. } | Instr::FieldAddIImm { .. });
            if touches_heap(&i) && !field_update {
                seen.clear();
                continue;
            }
            let e = effects(&i, self.nregs, self.reads);
            if e.range.is_some() {
                seen.clear();
                continue;
            }
            for &d in &e.defs[..e.ndefs] {
                seen.retain(|&(l, x, r)| l != d && x != d && r != d);
            }
            if let Instr::Index { a, list, i: ix } = i {
                if a != list && a != ix {
                    seen.push((list, ix, a));
                }
            }
        }
        changed
    }

    /// Removes instructions no path reaches.
    fn unreachable(&mut self) -> bool {
        let n = self.code.len();
        let mut seen = vec![false; n + 1];
        let mut work = vec![0usize];
        while let Some(pc) = work.pop() {
            if pc >= n || seen[pc] {
                continue;
            }
            seen[pc] = true;
            match &self.code[pc] {
                None => work.push(pc + 1),
                Some(i) => {
                    if falls_through(i) {
                        work.push(pc + 1);
                    }
                    if let Some(off) = jump_off(i) {
                        work.push((pc as i64 + 1 + off).clamp(0, n as i64) as usize);
                    }
                }
            }
        }
        let mut changed = false;
        for (pc, i) in self.code.iter_mut().enumerate() {
            if !seen[pc] && i.is_some() {
                *i = None;
                changed = true;
            }
        }
        changed
    }

    /// Drops removed instructions and retargets jumps. False (leaving the
    /// code as it was) if a jump would not fit.
    #[allow(clippy::needless_range_loop)]
    fn compact(&mut self) -> bool {
        let n = self.code.len();
        // new_at[pc]: the new index of the first kept instruction at or after pc.
        let mut new_at = vec![0usize; n + 1];
        let mut kept = 0;
        for pc in 0..n {
            new_at[pc] = kept;
            if self.code[pc].is_some() {
                kept += 1;
            }
        }
        new_at[n] = kept;
        let mut code = Vec::with_capacity(kept);
        let mut lines = Vec::with_capacity(kept);
        for pc in 0..n {
            let Some(mut i) = self.code[pc] else { continue };
            if let Some(off) = jump_off(&i) {
                let t = (pc as i64 + 1 + off).clamp(0, n as i64) as usize;
                let new_off = new_at[t] as i64 - (code.len() as i64 + 1);
                if !set_off(&mut i, new_off) {
                    return false;
                }
            }
            code.push(Some(i));
            lines.push(self.lines[pc]);
        }
        self.code = code;
        self.lines = lines;
        true
    }
}
