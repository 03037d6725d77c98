//! The instruction set: a typed register bytecode.
//!
//! Every function has a fixed register file `R[0..n)`; its parameters
//! arrive in `R[0..arity)`. Operations are specialised by type at compile
//! time, so a handler never inspects a value's type. Each opcode's comment
//! gives its register transfer, Lua-style. `K[k]` is a program constant,
//! `pc` the index of the next instruction, and jumps are relative to it.
//! An instruction is 8 bytes (pinned by a test below).
//!
//! Calls follow Lua's convention: the caller evaluates the arguments into
//! consecutive registers `R[base..]` at the top of its live registers; the
//! callee's frame starts there, so the arguments become its `R[0..]`
//! without copying, and its result comes back in `R[base]`.

/// A register index.
pub type Reg = u16;

/// The numeric and comparable scalar types, as operands of generic opcodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum NumTy {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    Bool,
    Char,
    Unit,
}

impl NumTy {
    /// Whether this is a signed or unsigned integer type.
    pub fn is_int(self) -> bool {
        !matches!(self, NumTy::F32 | NumTy::F64 | NumTy::Bool | NumTy::Char | NumTy::Unit)
    }

    /// Whether this is a signed integer type.
    pub fn is_signed(self) -> bool {
        matches!(self, NumTy::I8 | NumTy::I16 | NumTy::I32 | NumTy::I64)
    }

    /// Whether this is a float type.
    pub fn is_float(self) -> bool {
        matches!(self, NumTy::F32 | NumTy::F64)
    }

    /// The inclusive range of an integer type.
    pub fn int_range(self) -> (i128, i128) {
        match self {
            NumTy::I8 => (i8::MIN as i128, i8::MAX as i128),
            NumTy::I16 => (i16::MIN as i128, i16::MAX as i128),
            NumTy::I32 => (i32::MIN as i128, i32::MAX as i128),
            NumTy::I64 => (i64::MIN as i128, i64::MAX as i128),
            NumTy::U8 => (0, u8::MAX as i128),
            NumTy::U16 => (0, u16::MAX as i128),
            NumTy::U32 => (0, u32::MAX as i128),
            NumTy::U64 => (0, u64::MAX as i128),
            _ => (0, 0),
        }
    }

    /// The width in bits of an integer type.
    pub fn bits(self) -> u32 {
        match self {
            NumTy::I8 | NumTy::U8 => 8,
            NumTy::I16 | NumTy::U16 => 16,
            NumTy::I32 | NumTy::U32 | NumTy::F32 | NumTy::Char => 32,
            _ => 64,
        }
    }

    /// The STARK spelling.
    pub fn name(self) -> &'static str {
        match self {
            NumTy::I8 => "Int8",
            NumTy::I16 => "Int16",
            NumTy::I32 => "Int32",
            NumTy::I64 => "Int64",
            NumTy::U8 => "UInt8",
            NumTy::U16 => "UInt16",
            NumTy::U32 => "UInt32",
            NumTy::U64 => "UInt64",
            NumTy::F32 => "Float32",
            NumTy::F64 => "Float64",
            NumTy::Bool => "Bool",
            NumTy::Char => "Char",
            NumTy::Unit => "Unit",
        }
    }
}

/// A binary operation of the generic arithmetic opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// `x op y`.
    #[inline(always)]
    pub fn test<T: Ord>(self, x: T, y: T) -> bool {
        match self {
            CmpOp::Eq => x == y,
            CmpOp::Ne => x != y,
            CmpOp::Lt => x < y,
            CmpOp::Le => x <= y,
            CmpOp::Gt => x > y,
            CmpOp::Ge => x >= y,
        }
    }

    /// The comparison with its operands exchanged (`a op b` is `b op' a`).
    pub fn swapped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    /// The opposite comparison (`!(a op b)` is `a op' b`, for integers).
    pub fn negated(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Ne,
            CmpOp::Ne => CmpOp::Eq,
            CmpOp::Lt => CmpOp::Ge,
            CmpOp::Le => CmpOp::Gt,
            CmpOp::Gt => CmpOp::Le,
            CmpOp::Ge => CmpOp::Lt,
        }
    }
}

/// The operation of a `FieldOp` (compound assignment to a field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FieldOpKind {
    /// Int64 `+` (traps on overflow).
    AddI,
    /// Int64 `-` (traps on overflow).
    SubI,
    /// Int64 `*` (traps on overflow).
    MulI,
    /// Float64 `+`.
    AddF,
    /// Float64 `-`.
    SubF,
    /// Float64 `*`.
    MulF,
    /// Float64 `/`.
    DivF,
}

/// A binary operation at a type, packed in one byte (4 bits each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArithOp(u8);

impl ArithOp {
    /// `op` at type `ty`.
    pub fn new(op: BinOp, ty: NumTy) -> ArithOp {
        ArithOp(((op as u8) << 4) | ty as u8)
    }

    /// The operation.
    pub fn op(self) -> BinOp {
        BIN_OPS[(self.0 >> 4) as usize]
    }

    /// The type.
    pub fn ty(self) -> NumTy {
        NUM_TYS[(self.0 & 15) as usize]
    }
}

/// A comparison at a type, packed in one byte (4 bits each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmpTy(u8);

impl CmpTy {
    /// `op` at type `ty`.
    pub fn new(op: CmpOp, ty: NumTy) -> CmpTy {
        CmpTy(((op as u8) << 4) | ty as u8)
    }

    /// The comparison.
    pub fn op(self) -> CmpOp {
        CMP_OPS[(self.0 >> 4) as usize]
    }

    /// The type.
    pub fn ty(self) -> NumTy {
        NUM_TYS[(self.0 & 15) as usize]
    }
}

const BIN_OPS: [BinOp; 11] = [
    BinOp::Add,
    BinOp::Sub,
    BinOp::Mul,
    BinOp::Div,
    BinOp::Rem,
    BinOp::Pow,
    BinOp::BitAnd,
    BinOp::BitOr,
    BinOp::BitXor,
    BinOp::Shl,
    BinOp::Shr,
];
const CMP_OPS: [CmpOp; 6] = [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge];
const NUM_TYS: [NumTy; 13] = [
    NumTy::I8,
    NumTy::I16,
    NumTy::I32,
    NumTy::I64,
    NumTy::U8,
    NumTy::U16,
    NumTy::U32,
    NumTy::U64,
    NumTy::F32,
    NumTy::F64,
    NumTy::Bool,
    NumTy::Char,
    NumTy::Unit,
];

/// One instruction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Instr {
    // ----- moves and constants -----
    /// `R[a] := R[b]` (a copy of a scalar, reference or handle).
    Copy { a: Reg, b: Reg },
    /// `R[a] := R[b]; R[b] := NONE` (ownership moves out of `b`).
    Move { a: Reg, b: Reg },
    /// `R[a] := NONE` (forget an owner without dropping it).
    Clear { a: Reg },
    /// `R[a] := K[k]`.
    LoadK { a: Reg, k: u32 },
    /// `R[a] := imm` (an integer, sign-extended).
    LoadI { a: Reg, imm: i32 },
    /// `R[a] := function f` as a `fn` value without environment.
    LoadFn { a: Reg, f: u32 },
    /// `R[a].env := R[env]` (makes the function value in `R[a]` a closure).
    SetEnv { a: Reg, env: Reg },

    // ----- Int64 and Float64 fast paths -----
    /// `R[a] := R[b] + R[c]` (Int64, traps on overflow).
    AddI { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] - R[c]` (Int64, traps on overflow).
    SubI { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] * R[c]` (Int64, traps on overflow).
    MulI { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] + imm` (Int64, traps on overflow).
    AddIImm { a: Reg, b: Reg, imm: i16 },
    /// `R[a] := R[b] < R[c]` (Int64).
    LtI { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] <= R[c]` (Int64).
    LeI { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] == R[c]` (any integer, `Bool` or `Char`: equal bits).
    EqI { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] != R[c]` (any integer, `Bool` or `Char`).
    NeI { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] + R[c]` (Float64).
    AddF { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] - R[c]` (Float64).
    SubF { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] * R[c]` (Float64).
    MulF { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] / R[c]` (Float64).
    DivF { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] < R[c]` (Float64).
    LtF { a: Reg, b: Reg, c: Reg },

    // ----- superinstructions (made by the optimiser, `opt.rs`) -----
    /// `R[a] := R[b] * imm` (Int64, traps on overflow).
    MulIImm { a: Reg, b: Reg, imm: i16 },
    /// `R[a] := R[b] / R[c]` (Int64, truncating; traps on division by zero
    /// and overflow).
    DivI { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] / D[k]` (Int64; the divisor `D[k]` is a constant in
    /// `2..2^32`, so it cannot trap; by multiplication where it can).
    DivIK { a: Reg, b: Reg, k: u16 },
    /// `R[a] := the length of the slice R[b]` (`str::len`, `<[T]>::len`),
    /// or of the whole string or list whose handle `R[b]` is.
    SliceLenR { a: Reg, b: Reg },
    /// `R[a] := the length of the `Vec` R[b]`.
    VecLenR { a: Reg, b: Reg },
    /// `R[a] := sqrt(R[b])` (Float64).
    SqrtF { a: Reg, b: Reg },
    /// `R[a] := R[list][R[i]].fields[f]` (`Index` then `GetField`).
    IndexField { f: u8, a: Reg, list: Reg, i: Reg },
    /// `R[a] := R[b] + imm` (UInt64, traps on overflow).
    AddUImm { a: Reg, b: Reg, imm: u16 },
    /// `R[obj].fields[f] := R[obj].fields[f] op R[b]` (`x.f op= y`).
    FieldOp { op: FieldOpKind, f: u8, obj: Reg, b: Reg },
    /// `R[obj].fields[f] := R[obj].fields[f] + imm` (Int64, traps on overflow).
    FieldAddIImm { f: u16, obj: Reg, imm: i16 },
    /// `R[a] := R[b] % R[c]` (Int64; traps on division by zero and overflow).
    RemI { a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] % D[k]` (Int64; as `DivIK`).
    RemIK { a: Reg, b: Reg, k: u16 },
    /// `R[a] := R[b] op R[c]` on signed integers (any width: sign-extended).
    CmpI { op: CmpOp, a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] op R[c]` on unsigned integers, `Bool` or `Char`.
    CmpU { op: CmpOp, a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] op imm` on signed integers.
    CmpIImm { op: CmpOp, a: Reg, b: Reg, imm: i16 },
    /// `if !(R[a] op R[b]) { pc += off }` (signed integers).
    JmpIfNotCmpI { op: CmpOp, a: Reg, b: Reg, off: i16 },
    /// `if !(R[a] op R[b]) { pc += off }` (unsigned integers, `Bool`, `Char`).
    JmpIfNotCmpU { op: CmpOp, a: Reg, b: Reg, off: i16 },
    /// `R[a] := R[a] + 1` (Int64, traps on overflow), then `if R[a] < R[b]
    /// { pc += off }`: a counting loop's back edge.
    ForLoopI { a: Reg, b: Reg, off: i16 },
    /// As `ForLoopI` on UInt64.
    ForLoopU { a: Reg, b: Reg, off: i16 },
    /// `if variant(R[obj]) != tag { pc += off }` (`GetTag` and a test).
    JmpIfNotTag { obj: Reg, tag: u16, off: i16 },
    /// `if !(R[a] op imm) { pc += off }` (signed integers).
    JmpIfNotCmpIImm { op: CmpOp, a: Reg, imm: i16, off: i16 },
    /// The `String` `R[s]` += the `str` `R[v]` (a slice, or a whole
    /// `String` handle): `push_str` and an `f"..."` piece.
    StrPushStr { s: Reg, v: Reg },
    /// The `String` `R[s]` += the string constant `K[k]`.
    StrPushK { s: Reg, k: u32 },
    /// The `String` `R[s]` += the scalar `R[v]` of type `ty`, displayed
    /// (an `f"..."` field).
    StrPushDisplay { ty: NumTy, s: Reg, v: Reg },
    /// The `String` `R[s]` += the `Char` `R[v]` (`push`).
    StrPushChar { s: Reg, v: Reg },
    /// `R[a] :=` the value for key `R[k]` in the `HashMap` `R[m]`: an
    /// owned value itself, a place reference to any other, or `NONE`
    /// (`MapGetRaw` with the key by value, not by reference).
    MapGetV { a: Reg, m: Reg, k: Reg },
    /// `R[a] :=` whether the `HashMap` `R[m]` has key `R[k]` (by value).
    MapHasV { a: Reg, m: Reg, k: Reg },
    /// Inserts key `R[k]` and value `R[v]` (both moved in) into the
    /// `HashMap` `R[m]`, destroying the value it replaces.
    MapPutV { m: Reg, k: Reg, v: Reg },

    // ----- generic scalar operations -----
    /// `R[a] := R[b] op R[c]` at type `ty`; integers are checked (overflow,
    /// division by zero, shift range trap).
    Arith { op: ArithOp, a: Reg, b: Reg, c: Reg },
    /// `R[a] := R[b] op R[c]` compared at type `ty`.
    Cmp { op: CmpTy, a: Reg, b: Reg, c: Reg },
    /// `R[a] := -R[b]` at type `ty` (checked for integers).
    Neg { ty: NumTy, a: Reg, b: Reg },
    /// `R[a] := !R[b]` (`Bool`: logical; integers: bitwise at type `ty`).
    Not { ty: NumTy, a: Reg, b: Reg },
    /// `R[a] := R[b] as to`, from type `from` (checked where it can fail).
    Cast { from: NumTy, to: NumTy, a: Reg, b: Reg },

    // ----- control -----
    /// `pc += off`.
    Jmp { off: i32 },
    /// `if R[a] { pc += off }`.
    JmpIf { a: Reg, off: i32 },
    /// `if !R[a] { pc += off }`.
    JmpIfNot { a: Reg, off: i32 },
    /// `if R[a] is NONE { pc += off }` (an empty owner: nothing to drop).
    JmpIfNone { a: Reg, off: i32 },
    /// `if R[a] is not NONE { pc += off }`.
    JmpIfSome { a: Reg, off: i32 },
    /// `if !(R[a] < R[b]) { pc += off }` (Int64): a loop's test.
    JmpIfNotLtI { a: Reg, b: Reg, off: i16 },

    // ----- calls -----
    /// Calls function `f` with its arguments in `R[base..]`; its result
    /// lands in `R[base]`.
    Call { base: Reg, f: u32 },
    /// Calls the `fn` value in `R[callee]` (a function or a closure) with
    /// its arguments in `R[base..]`; the result lands in `R[base]`.
    CallValue { base: Reg, callee: Reg },
    /// Calls the native (library) operation of call site `site` with its
    /// arguments in `R[base..]`; the result lands in `R[base]`. A native
    /// may suspend the task (a host operation that is not ready).
    Native { base: Reg, site: u32 },
    /// `for v in ch`: receives the next value of the channel in `R[base]`
    /// into `R[base]` (moved in), waiting while the channel is empty; once
    /// it is closed and drained, `R[base] := NONE; pc += off`.
    RecvOrJmp { base: Reg, off: i32 },
    /// Returns `R[a]` to the caller.
    Ret { a: Reg },
    /// Traps with the message `K[k]` (a string constant).
    Trap { k: u32 },

    // ----- objects -----
    /// `R[base] := a new object of layout l` (a record, or one variant of
    /// an enum), its fields moved from `R[base..base+n]`.
    New { base: Reg, l: u32 },
    /// `R[a] := R[obj].fields[i]` (a copy of the bits).
    GetField { a: Reg, obj: Reg, i: u16 },
    /// `R[a] := R[obj].fields[i]; R[obj].fields[i] := NONE` (a move out).
    TakeField { a: Reg, obj: Reg, i: u16 },
    /// `R[obj].fields[i] := R[b]` (the old value is not dropped).
    SetField { obj: Reg, i: u16, b: Reg },
    /// `R[a] := the variant index of the enum object R[obj]`.
    GetTag { a: Reg, obj: Reg },

    // ----- places and references -----
    /// `R[a] := &R[b]` (a place reference to a register of this frame).
    RefReg { a: Reg, b: Reg },
    /// `R[a] := &R[obj].fields[i]` (a place reference into an object).
    RefField { a: Reg, obj: Reg, i: u16 },
    /// `R[a] := *R[r]` (reads a scalar through a place reference).
    Load { a: Reg, r: Reg },
    /// `*R[r] := R[b]` (writes a scalar through a place reference).
    Store { r: Reg, b: Reg },

    // ----- lists, arrays and slices -----
    /// `R[a] := R[list][R[i]]` (bounds-checked; `R[list]` is a `Vec` or
    /// array handle).
    Index { a: Reg, list: Reg, i: Reg },
    /// As `Index`, on a slice value (`&[T]`, honouring its start and length).
    IndexSlice { a: Reg, list: Reg, i: Reg },
    /// `R[a] := &R[list][R[i]]` (a bounds-checked place reference).
    RefIndex { a: Reg, list: Reg, i: Reg },
    /// As `RefIndex`, on a slice value.
    RefIndexSlice { a: Reg, list: Reg, i: Reg },
    /// `R[a] := R[b] as a slice`: a whole `Vec`, array or `String` becomes a
    /// slice of all of it; a slice stays as it is.
    SliceAll { a: Reg, b: Reg },

    // ----- ownership -----
    /// Destroys the owner in `R[a]` (no user `Drop` inside; see drop glue)
    /// unless it is `NONE`, then `R[a] := NONE`.
    Drop { a: Reg },
    /// `R[a] := a deep copy of the object R[b]` (a `Copy` aggregate, or
    /// `clone()` of a type without user `Clone`).
    Clone { a: Reg, b: Reg },
    /// Moves the contents of object `R[b]` into object `R[a]`, and the old
    /// contents of `R[a]` into `R[b]` (assignment through a reference;
    /// the caller then drops `R[b]`).
    Swap { a: Reg, b: Reg },
    /// Frees the object `R[a]` itself, not what its fields own (after drop
    /// glue has destroyed them); `R[a] := NONE`.
    FreeShell { a: Reg },
}

impl Instr {
    /// Every register field of the instruction (what the interpreter
    /// indexes directly), for `Program::check`.
    pub fn regs(&self) -> ([Reg; 3], usize) {
        let (mut regs, mut n) = ([0; 3], 0);
        // One operand table: `for_each_reg` on a copy (an `Instr` is `Copy`).
        let mut copy = *self;
        copy.for_each_reg(|r| {
            regs[n] = *r;
            n += 1;
        });
        (regs, n)
    }

    /// Applies `f` to every register field (at most three), e.g. to
    /// move an inlined body's registers into its caller's frame.
    pub fn for_each_reg(&mut self, mut f: impl FnMut(&mut Reg)) {
        use Instr::*;
        match self {
            Jmp { .. } | Trap { .. } => {}
            Clear { a }
            | LoadK { a, .. }
            | LoadI { a, .. }
            | LoadFn { a, .. }
            | JmpIf { a, .. }
            | JmpIfNot { a, .. }
            | JmpIfNone { a, .. }
            | JmpIfSome { a, .. }
            | JmpIfNotCmpIImm { a, .. }
            | JmpIfNotTag { obj: a, .. }
            | Ret { a }
            | Drop { a }
            | FreeShell { a }
            | FieldAddIImm { obj: a, .. }
            | StrPushK { s: a, .. }
            | Call { base: a, .. }
            | Native { base: a, .. }
            | RecvOrJmp { base: a, .. }
            | New { base: a, .. } => f(a),
            Copy { a, b }
            | Move { a, b }
            | SetEnv { a, env: b }
            | AddIImm { a, b, .. }
            | AddUImm { a, b, .. }
            | MulIImm { a, b, .. }
            | RemIK { a, b, .. }
            | DivIK { a, b, .. }
            | SqrtF { a, b }
            | SliceLenR { a, b }
            | VecLenR { a, b }
            | CmpIImm { a, b, .. }
            | JmpIfNotLtI { a, b, .. }
            | JmpIfNotCmpI { a, b, .. }
            | JmpIfNotCmpU { a, b, .. }
            | ForLoopI { a, b, .. }
            | ForLoopU { a, b, .. }
            | Neg { a, b, .. }
            | Not { a, b, .. }
            | Cast { a, b, .. }
            | CallValue { base: a, callee: b }
            | GetField { a, obj: b, .. }
            | TakeField { a, obj: b, .. }
            | SetField { obj: a, b, .. }
            | GetTag { a, obj: b }
            | RefReg { a, b }
            | RefField { a, obj: b, .. }
            | Load { a, r: b }
            | Store { r: a, b }
            | SliceAll { a, b }
            | Clone { a, b }
            | Swap { a, b }
            | FieldOp { obj: a, b, .. }
            | StrPushStr { s: a, v: b }
            | StrPushDisplay { s: a, v: b, .. }
            | StrPushChar { s: a, v: b } => {
                f(a);
                f(b);
            }
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
            | Cmp { a, b, c, .. }
            | Index { a, list: b, i: c }
            | IndexField { a, list: b, i: c, .. }
            | IndexSlice { a, list: b, i: c }
            | RefIndex { a, list: b, i: c }
            | RefIndexSlice { a, list: b, i: c }
            | MapGetV { a, m: b, k: c }
            | MapHasV { a, m: b, k: c }
            | MapPutV { m: a, k: b, v: c } => {
                f(a);
                f(b);
                f(c);
            }
        }
    }

    /// The jump offset, if this is a jump.
    pub fn jump_offset(&self) -> Option<i64> {
        use Instr::*;
        match *self {
            Jmp { off }
            | JmpIf { off, .. }
            | JmpIfNot { off, .. }
            | JmpIfNone { off, .. }
            | JmpIfSome { off, .. }
            | RecvOrJmp { off, .. } => Some(off as i64),
            JmpIfNotLtI { off, .. }
            | JmpIfNotCmpI { off, .. }
            | JmpIfNotCmpU { off, .. }
            | JmpIfNotCmpIImm { off, .. }
            | JmpIfNotTag { off, .. }
            | ForLoopI { off, .. }
            | ForLoopU { off, .. } => Some(off as i64),
            _ => None,
        }
    }

    /// Whether control may go on to the next instruction.
    pub fn falls_through(&self) -> bool {
        !matches!(self, Instr::Jmp { .. } | Instr::Ret { .. } | Instr::Trap { .. })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn instruction_is_eight_bytes() {
        assert_eq!(std::mem::size_of::<super::Instr>(), 8);
    }
}
