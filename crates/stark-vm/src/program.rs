//! A compiled program: functions, object layouts, constants and call sites.
//! Immutable once built and shared by every task (behind `Arc`).

use crate::bytecode::{Instr, NumTy};
use crate::native::Native;
use crate::value::Value;

/// A whole program, ready to run.
#[derive(Debug, Default)]
pub struct Program {
    /// Every function, drop glue and closure body.
    pub functions: Vec<Function>,
    /// Object layouts, by index.
    pub layouts: Vec<Layout>,
    /// Scalar constants (`LoadK`).
    pub consts: Vec<Value>,
    /// String constants: handle `CONST_HANDLE | i` names `strings[i]`.
    pub strings: Vec<Box<str>>,
    /// Native call sites (`Native`).
    pub sites: Vec<Site>,
    /// Format specifications of `f"..."` fields.
    pub specs: Vec<crate::format::Spec>,
    /// The arms of each `select` (`Native::Select`'s `aux`).
    pub selects: Vec<Vec<SelectOp>>,
    /// Source file names, for line tables.
    pub files: Vec<String>,
    /// The function `main`.
    pub entry: u32,
    /// What `main` returns, for the exit status.
    pub entry_kind: EntryKind,
    /// Constant divisors (`DivIK`, `RemIK`), with their reciprocals.
    pub divisors: Vec<Divisor>,
}

/// What `main` returns (PROC-EXIT-001).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EntryKind {
    /// `Unit`: status 0.
    #[default]
    Unit,
    /// `Int32`: the status, which must be in `0..=255`.
    Status,
    /// `Result<Unit, String>`.
    ResultUnit,
    /// `Result<Int32, String>`.
    ResultStatus,
}

/// One function's code.
#[derive(Debug, Default)]
pub struct Function {
    /// The name shown in stack traces (`main`, `Point::new`).
    pub name: String,
    /// How many registers the first instructions find filled (parameters,
    /// and a closure's environment first).
    pub arity: u16,
    /// The size of its register file.
    pub nregs: u16,
    /// A closure body: its environment arrives in `R[0]`.
    pub has_env: bool,
    /// Library code, left out of stack traces.
    pub library: bool,
    /// The instructions.
    pub code: Vec<Instr>,
    /// The source line of each instruction (the low `LINE_BITS` bits;
    /// the bits above are 0, or `1 + i` for an instruction of the body
    /// inlined at `inlined[i]`: see `line_at`).
    pub lines: Vec<u32>,
    /// The calls the optimiser replaced by their callee's body.
    pub inlined: Vec<Inlined>,
    /// The source file (index into `Program::files`).
    pub file: u32,
    /// The registers `lo..hi` that must be `NONE` on entry (some path reads
    /// them before writing them); `None`: all of them past the arguments.
    /// Set by the optimiser (`opt.rs`) from a liveness analysis.
    pub fill: Option<(u16, u16)>,
}

/// A call the optimiser replaced by the callee's body (`opt.rs`), kept
/// for stack traces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inlined {
    /// The function whose body it is.
    pub callee: u32,
    /// The line of the call.
    pub line: u32,
}

/// How many low bits of a `Function::lines` entry hold the source line.
pub const LINE_BITS: u32 = 22;

impl Function {
    /// The source line of instruction `pc` and, if it belongs to an
    /// inlined body, that call: the instruction is at the line in the
    /// callee, and the function is at the call's line.
    pub fn line_at(&self, pc: usize) -> (u32, Option<Inlined>) {
        let l = self.lines.get(pc).copied().unwrap_or(0);
        let site = (l >> LINE_BITS).checked_sub(1).and_then(|i| self.inlined.get(i as usize)).copied();
        (l & ((1 << LINE_BITS) - 1), site)
    }
}

/// How objects of one type are laid out, freed, copied, compared and shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The type as the user writes it.
    pub name: String,
    /// Its shape.
    pub kind: LayoutKind,
}

/// The shape of an object.
#[derive(Clone, Debug, PartialEq)]
pub enum LayoutKind {
    /// A struct, tuple, `Box`, range or closure environment: fixed fields.
    Record { fields: Vec<Slot>, tuple: bool },
    /// An enum: one of its variants, each with fixed fields.
    Enum { variants: Vec<(String, Vec<Slot>)> },
    /// A constructor of variant `tag` of enum layout `of` (for `New`).
    Variant { of: u32, tag: u32 },
    /// `Vec<T>` or `[T; N]`.
    List { elem: Slot, array: bool },
    /// `String`.
    Str,
    /// `HashMap<K, V>`.
    Map { key: Slot, value: Slot },
    /// `HashSet<T>`.
    Set { elem: Slot },
    /// A library iterator over another object (it owns nothing).
    Iter,
    /// A runtime object (channel, task handle) shared between tasks.
    Host,
    /// A `Tensor` (`Obj::Tensor`): it owns no other object.
    Tensor,
    /// A `Gc<T>` cell (`gc.rs`): a record whose field 0 holds the value,
    /// of kind `value`, and field 1 the cell's bookkeeping.
    Gc { value: Slot },
}

/// What one field or element holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// A scalar of this type.
    Scalar(NumTy),
    /// An object this one owns, of layout `l`.
    Owned(u32),
    /// A reference to an object of layout `l` (a whole object or a slice
    /// of a string or list).
    Shared(u32),
    /// A reference to a scalar place.
    ScalarRef(NumTy),
    /// A `fn` value.
    Fn,
}

/// A native call site: which operation, and the types it works on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Site {
    /// The operation.
    pub native: Native,
    /// The kind of value it inspects (an argument's or element's).
    pub slot: Slot,
    /// The layout of the object it creates (`NO_LAYOUT`: none).
    pub layout: u32,
    /// A second layout, or a format specification's index (`NO_LAYOUT`: none).
    pub aux: u32,
}

/// No layout.
pub const NO_LAYOUT: u32 = u32::MAX;

/// What one arm of a `select` waits on. Its operands are in the native's
/// argument block: two registers per arm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SelectOp {
    /// `ch.recv()` (channel first): gives an `Option` of enum layout `option`.
    Recv { option: u32 },
    /// `ch.send(v)` (channel, then the value, of kind `slot`).
    Send { slot: Slot },
    /// `sleep(d)` (the microseconds second).
    Sleep,
    /// A task's end (its handle first): gives its result, of kind `slot`;
    /// `started` when the select started the task (a future arm), which is
    /// then cancelled if another arm wins.
    Join { slot: Slot, started: bool },
}

impl Program {
    /// Checks the invariants the interpreter relies on to index registers
    /// and code without bounds checks (`Task::new` does, on the program it
    /// then holds and nobody can change):
    /// every function has code, one line per instruction, and at least as
    /// many registers as arguments; every register an instruction names
    /// is below its function's register count; every jump lands inside
    /// the function; the last instruction does not fall off the end; and
    /// every function, constant and call site named exists.
    pub fn check(&self) -> Result<(), String> {
        for (fi, f) in self.functions.iter().enumerate() {
            let bad = |what: &str| Err(format!("internal error: invalid bytecode in F{fi} {}: {what}", f.name));
            let n = f.code.len();
            if n == 0 || f.lines.len() != n || f.arity > f.nregs {
                return bad("shape");
            }
            if let Some((lo, hi)) = f.fill {
                if lo > hi || hi > f.nregs {
                    return bad("fill");
                }
            }
            if f.code[n - 1].falls_through() {
                return bad("falls off the end");
            }
            for (pc, i) in f.code.iter().enumerate() {
                let (regs, k) = i.regs();
                if regs[..k].iter().any(|&r| r >= f.nregs) {
                    return bad("register out of range");
                }
                if let Some(off) = i.jump_offset() {
                    let t = pc as i64 + 1 + off;
                    if t < 0 || t >= n as i64 {
                        return bad("jump out of range");
                    }
                }
                let ok = match *i {
                    Instr::Call { f, .. } | Instr::LoadFn { f, .. } => (f as usize) < self.functions.len(),
                    Instr::Native { site, .. } => (site as usize) < self.sites.len(),
                    Instr::LoadK { k, .. } | Instr::Trap { k } => (k as usize) < self.consts.len(),
                    Instr::StrPushK { k, .. } => self
                        .consts
                        .get(k as usize)
                        .is_some_and(|v| v.is_slice() && v.as_handle() & crate::value::CONST_HANDLE != 0),
                    Instr::DivIK { k, .. } | Instr::RemIK { k, .. } => {
                        self.divisors.get(k as usize).is_some_and(|d| Divisor::new(d.d as i64) == Some(*d))
                    }
                    _ => true,
                };
                if !ok {
                    return bad("unknown function, site or constant");
                }
            }
        }
        Ok(())
    }

    /// The layout `l`.
    pub fn layout(&self, l: u32) -> &Layout {
        &self.layouts[l as usize]
    }

    /// Whether any call site uses the network (the runtime starts its I/O
    /// driver only then).
    pub fn uses_network(&self) -> bool {
        self.sites.iter().any(|s| matches!(s.native, crate::native::Native::Net(_)))
    }
}

/// A constant divisor `d` in `2..2^32` and `m = ceil(2^64 / d)`: for a
/// dividend below `2^32` in magnitude, quotient and remainder come from
/// multiplications (Lemire, Kaser and Kurz, "Faster remainder by direct
/// computation", 2019); larger ones divide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divisor {
    /// The divisor.
    pub d: u64,
    /// `u64::MAX / d + 1`.
    pub m: u64,
}

impl Divisor {
    /// The divisor `d`, if it is in `2..2^32`.
    pub fn new(d: i64) -> Option<Divisor> {
        (2..=u32::MAX as i64).contains(&d).then(|| Divisor { d: d as u64, m: u64::MAX / d as u64 + 1 })
    }

    /// `x / d`, truncated (Int64).
    #[inline(always)]
    pub fn quotient(self, x: i64) -> i64 {
        let ax = x.unsigned_abs();
        let q = if ax <= u32::MAX as u64 { ((self.m as u128 * ax as u128) >> 64) as u64 } else { ax / self.d };
        if x < 0 {
            (q as i64).wrapping_neg()
        } else {
            q as i64
        }
    }

    /// `x % d` (Int64: the sign of `x`).
    #[inline(always)]
    pub fn remainder(self, x: i64) -> i64 {
        let ax = x.unsigned_abs();
        let r = if ax <= u32::MAX as u64 {
            let low = self.m.wrapping_mul(ax);
            ((low as u128 * self.d as u128) >> 64) as u64
        } else {
            ax % self.d
        };
        if x < 0 {
            (r as i64).wrapping_neg()
        } else {
            r as i64
        }
    }
}

/// Layout 0 of every program: `String`.
pub const STR_LAYOUT: u32 = 0;

#[cfg(test)]
mod tests {
    use super::Divisor;

    #[test]
    fn constant_division_matches_the_hardware() {
        let divisors = [2i64, 3, 5, 7, 10, 11, 13, 1000, 4999, 50_021, 100_000, 1_000_003, 65_536, 2_147_483_647];
        let divisors = divisors.iter().copied().chain([u32::MAX as i64, (1 << 31) + 1, 641, 6_700_417]);
        let mut xs: Vec<i64> = vec![0, 1, -1, i64::MIN, i64::MAX, u32::MAX as i64, -(u32::MAX as i64), 1 << 32];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            xs.push(seed as i64);
            xs.push((seed as i64) >> 32);
            xs.push((seed as i64) >> 40);
        }
        for d in divisors {
            let dv = Divisor::new(d).expect("a divisor");
            for &x in &xs {
                assert_eq!(dv.quotient(x), x / d, "{x} / {d}");
                assert_eq!(dv.remainder(x), x % d, "{x} % {d}");
            }
        }
        assert_eq!(Divisor::new(1), None);
        assert_eq!(Divisor::new(0), None);
        assert_eq!(Divisor::new(-3), None);
    }
}
