//! Types: interned, so a `Ty` is a small copyable id and equal types have
//! equal ids. Inference variables are types too, solved by `typeck`.

use crate::defs::{DefId, DefTable, Prim};
use rustc_hash::FxHashMap;
use stark_syntax::Symbol;

/// An interned type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ty(u32);

/// A tensor dimension as the type system sees it (AI extension).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A known size.
    Known(u64),
    /// A named size, the same wherever the name appears in one signature.
    Named(Symbol),
    /// Known only at run time.
    Unknown,
}

/// The structure of a type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TyKind {
    /// A primitive (`Unit` included: `()` is `Unit`).
    Prim(Prim),
    /// `!`.
    Never,
    /// A struct, enum or actor with its generic arguments.
    Adt(DefId, Vec<Ty>),
    /// `&T` / `&mut T`.
    Ref { mutable: bool, ty: Ty },
    /// `[T; N]`.
    Array(Ty, u64),
    /// `[T]`.
    Slice(Ty),
    /// `(A, B, ..)` with at least one element.
    Tuple(Vec<Ty>),
    /// `fn(A, ..) -> R`.
    Fn(Vec<Ty>, Ty),
    /// A generic parameter of the item being checked (by name).
    Param(Symbol),
    /// An inference variable.
    Var(u32),
    /// An integer literal's type, not yet fixed.
    IntVar(u32),
    /// A float literal's type, not yet fixed.
    FloatVar(u32),
    /// `<base as Trait>::Name`, not yet normalized.
    Proj { base: Ty, trait_: DefId, name: Symbol },
    /// `Tensor<D>[dims]`; `None` dims: any shape.
    Tensor { dtype: Ty, dims: Option<Vec<Dim>> },
    /// The type of an expression that already has an error.
    Err,
}

/// The type interner.
#[derive(Debug)]
pub struct Types {
    kinds: Vec<TyKind>,
    map: FxHashMap<TyKind, Ty>,
}

/// Types every checker needs, interned once.
#[derive(Clone, Copy, Debug)]
pub struct Common {
    pub unit: Ty,
    pub bool: Ty,
    pub char: Ty,
    pub i32: Ty,
    pub i64: Ty,
    pub u64: Ty,
    pub f64: Ty,
    pub str: Ty,
    pub never: Ty,
    pub err: Ty,
}

impl Types {
    /// An interner holding the common types.
    pub fn new() -> (Types, Common) {
        let mut types = Types { kinds: Vec::new(), map: FxHashMap::default() };
        let common = Common {
            unit: types.intern(TyKind::Prim(Prim::Unit)),
            bool: types.intern(TyKind::Prim(Prim::Bool)),
            char: types.intern(TyKind::Prim(Prim::Char)),
            i32: types.intern(TyKind::Prim(Prim::Int32)),
            i64: types.intern(TyKind::Prim(Prim::Int64)),
            u64: types.intern(TyKind::Prim(Prim::UInt64)),
            f64: types.intern(TyKind::Prim(Prim::Float64)),
            str: types.intern(TyKind::Prim(Prim::Str)),
            never: types.intern(TyKind::Never),
            err: types.intern(TyKind::Err),
        };
        (types, common)
    }

    /// The type with this structure.
    pub fn intern(&mut self, kind: TyKind) -> Ty {
        if let Some(&ty) = self.map.get(&kind) {
            return ty;
        }
        let ty = Ty(self.kinds.len() as u32);
        self.kinds.push(kind.clone());
        self.map.insert(kind, ty);
        ty
    }

    /// The structure of `ty`.
    pub fn kind(&self, ty: Ty) -> &TyKind {
        &self.kinds[ty.0 as usize]
    }

    /// Whether `ty` (shallowly) is an error.
    pub fn is_err(&self, ty: Ty) -> bool {
        matches!(self.kind(ty), TyKind::Err)
    }

    /// Writes `ty` the way a user writes it.
    pub fn display(&self, ty: Ty, defs: &DefTable) -> String {
        let mut out = String::new();
        self.write(ty, defs, &mut out);
        out
    }

    fn write(&self, ty: Ty, defs: &DefTable, out: &mut String) {
        let list = |this: &Types, items: &[Ty], out: &mut String| {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                this.write(*item, defs, out);
            }
        };
        match self.kind(ty) {
            TyKind::Prim(Prim::Unit) => out.push_str("()"),
            TyKind::Prim(p) => out.push_str(prim_name(*p)),
            TyKind::Never => out.push('!'),
            TyKind::Adt(def, args) => {
                out.push_str(defs.def(*def).name.as_str());
                if !args.is_empty() {
                    out.push('<');
                    list(self, args, out);
                    out.push('>');
                }
            }
            TyKind::Ref { mutable, ty } => {
                out.push_str(if *mutable { "&mut " } else { "&" });
                self.write(*ty, defs, out);
            }
            TyKind::Array(elem, n) => {
                out.push('[');
                self.write(*elem, defs, out);
                out.push_str(&format!("; {n}]"));
            }
            TyKind::Slice(elem) => {
                out.push('[');
                self.write(*elem, defs, out);
                out.push(']');
            }
            TyKind::Tuple(items) => {
                out.push('(');
                list(self, items, out);
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            TyKind::Fn(params, ret) => {
                out.push_str("fn(");
                list(self, params, out);
                out.push(')');
                if !matches!(self.kind(*ret), TyKind::Prim(Prim::Unit)) {
                    out.push_str(" -> ");
                    self.write(*ret, defs, out);
                }
            }
            TyKind::Param(name) => out.push_str(name.as_str()),
            TyKind::Var(_) => out.push('_'),
            TyKind::IntVar(_) => out.push_str("{integer}"),
            TyKind::FloatVar(_) => out.push_str("{float}"),
            TyKind::Proj { base, name, .. } => {
                self.write(*base, defs, out);
                out.push_str("::");
                out.push_str(name.as_str());
            }
            TyKind::Tensor { dtype, dims } => {
                out.push_str("Tensor<");
                self.write(*dtype, defs, out);
                out.push('>');
                if let Some(dims) = dims {
                    out.push_str(&display_dims(dims));
                }
            }
            TyKind::Err => out.push_str("{error}"),
        }
    }
}

/// `[2, ?, batch]`.
pub fn display_dims(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| match d {
            Dim::Known(n) => n.to_string(),
            Dim::Named(name) => name.to_string(),
            Dim::Unknown => "?".into(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// A primitive's spelling.
pub fn prim_name(p: Prim) -> &'static str {
    match p {
        Prim::Int8 => "Int8",
        Prim::Int16 => "Int16",
        Prim::Int32 => "Int32",
        Prim::Int64 => "Int64",
        Prim::UInt8 => "UInt8",
        Prim::UInt16 => "UInt16",
        Prim::UInt32 => "UInt32",
        Prim::UInt64 => "UInt64",
        Prim::Float32 => "Float32",
        Prim::Float64 => "Float64",
        Prim::Bool => "Bool",
        Prim::Char => "Char",
        Prim::Unit => "Unit",
        Prim::Str => "str",
    }
}

impl Prim {
    /// Whether this is an integer type.
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            Prim::Int8
                | Prim::Int16
                | Prim::Int32
                | Prim::Int64
                | Prim::UInt8
                | Prim::UInt16
                | Prim::UInt32
                | Prim::UInt64
        )
    }

    /// Whether this is a float type.
    pub fn is_float(self) -> bool {
        matches!(self, Prim::Float32 | Prim::Float64)
    }

    /// Whether this is a numeric type.
    pub fn is_numeric(self) -> bool {
        self.is_integer() || self.is_float()
    }

    /// The range of an integer type, as i128.
    pub fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            Prim::Int8 => (i8::MIN as i128, i8::MAX as i128),
            Prim::Int16 => (i16::MIN as i128, i16::MAX as i128),
            Prim::Int32 => (i32::MIN as i128, i32::MAX as i128),
            Prim::Int64 => (i64::MIN as i128, i64::MAX as i128),
            Prim::UInt8 => (0, u8::MAX as i128),
            Prim::UInt16 => (0, u16::MAX as i128),
            Prim::UInt32 => (0, u32::MAX as i128),
            Prim::UInt64 => (0, u64::MAX as i128),
            _ => return None,
        })
    }
}
