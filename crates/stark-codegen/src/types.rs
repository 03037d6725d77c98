//! What code generation needs to know about a (monomorphic) type: its
//! representation, whether it is `Copy`, what dropping it involves, its
//! object layout, and which impl supplies a trait method for it.

use crate::Compiler;
use rustc_hash::FxHashMap;
use stark_check::defs::{DefId, Prim};
use stark_check::items::{subst, AdtKind, ImplDef, TypeHead, VariantShape};
use stark_check::ty::{Ty, TyKind};
use stark_syntax::Symbol;
use stark_vm::program::{Layout, LayoutKind, Slot, STR_LAYOUT};
use stark_vm::NumTy;

/// A variant's name and payload (field names for named fields, types).
pub type VariantInfo = (Symbol, Vec<(Option<Symbol>, Ty)>);

/// A substitution of generic parameters by name.
pub type Subst = FxHashMap<Symbol, Ty>;

/// The VM's scalar type for a primitive.
pub fn num_ty(p: Prim) -> NumTy {
    match p {
        Prim::Int8 => NumTy::I8,
        Prim::Int16 => NumTy::I16,
        Prim::Int32 => NumTy::I32,
        Prim::Int64 => NumTy::I64,
        Prim::UInt8 => NumTy::U8,
        Prim::UInt16 => NumTy::U16,
        Prim::UInt32 => NumTy::U32,
        Prim::UInt64 => NumTy::U64,
        Prim::Float32 => NumTy::F32,
        Prim::Float64 => NumTy::F64,
        Prim::Bool => NumTy::Bool,
        Prim::Char => NumTy::Char,
        Prim::Unit | Prim::Str => NumTy::Unit,
    }
}

/// Library types represented as a scalar rather than an object.
const SCALAR_LIBRARY_TYPES: &[&str] = &["Duration", "Instant"];

impl Compiler<'_> {
    /// `ty` with `map` applied and associated types resolved.
    pub fn norm(&mut self, ty: Ty, map: &Subst) -> Ty {
        let ty = subst(self.types, ty, map);
        self.resolve_projections(ty)
    }

    fn resolve_projections(&mut self, ty: Ty) -> Ty {
        match self.types.kind(ty).clone() {
            TyKind::Proj { base, trait_, name } => {
                let base = self.resolve_projections(base);
                if let Some((imp, map)) = self.find_impl(trait_, base) {
                    let imp = &self.items.impls[imp];
                    if let Some(&(_, t)) = imp.assoc_types.iter().find(|(n, _)| *n == name) {
                        let t = subst(self.types, t, &map);
                        return self.resolve_projections(t);
                    }
                }
                ty
            }
            TyKind::Adt(def, args) => {
                let args = args.iter().map(|&a| self.resolve_projections(a)).collect();
                self.types.intern(TyKind::Adt(def, args))
            }
            TyKind::Ref { mutable, ty: inner } => {
                let inner = self.resolve_projections(inner);
                self.types.intern(TyKind::Ref { mutable, ty: inner })
            }
            TyKind::Tuple(items) => {
                let items = items.iter().map(|&a| self.resolve_projections(a)).collect();
                self.types.intern(TyKind::Tuple(items))
            }
            TyKind::Array(e, n) => {
                let e = self.resolve_projections(e);
                self.types.intern(TyKind::Array(e, n))
            }
            TyKind::Slice(e) => {
                let e = self.resolve_projections(e);
                self.types.intern(TyKind::Slice(e))
            }
            TyKind::Fn(params, ret) => {
                let params = params.iter().map(|&a| self.resolve_projections(a)).collect();
                let ret = self.resolve_projections(ret);
                self.types.intern(TyKind::Fn(params, ret))
            }
            _ => ty,
        }
    }

    /// Whether `ty` has an impl of `trait_` written by the user (not the
    /// standard library's).
    pub fn has_user_impl_of(&mut self, trait_: DefId, ty: Ty) -> bool {
        self.find_impl(trait_, ty).is_some_and(|(imp, _)| !self.is_std(self.items.impls[imp].def))
    }

    /// The impl of `trait_` for the concrete type `ty`, with its parameters.
    pub fn find_impl(&mut self, trait_: DefId, ty: Ty) -> Option<(usize, Subst)> {
        let head = TypeHead::of(self.types, ty);
        let candidates: Vec<usize> = (0..self.items.impls.len())
            .filter(|&i| {
                let imp: &ImplDef = &self.items.impls[i];
                imp.trait_ref.as_ref().is_some_and(|t| t.trait_ == trait_)
                    && (TypeHead::of(self.types, imp.self_ty) == head
                        || TypeHead::of(self.types, imp.self_ty).is_none())
            })
            .collect();
        for i in candidates {
            let mut map = Subst::default();
            if self.match_ty(self.items.impls[i].self_ty, ty, &mut map) && self.bounds_hold(i, &map) {
                return Some((i, map));
            }
        }
        None
    }

    /// Whether impl `i`'s bounds hold at `map` (`impl<T: Copy> Copy for
    /// Option<T>` applies only where `T` is `Copy`).
    fn bounds_hold(&mut self, i: usize, map: &Subst) -> bool {
        let generics = self.items.impls[i].generics.clone();
        generics.iter().all(|g| {
            let Some(&arg) = map.get(&g.name) else { return true };
            g.bounds.iter().all(|b| {
                if Some(b.trait_) == self.lang.copy {
                    self.is_copy(arg)
                } else {
                    self.scalar(arg).is_some() || self.find_impl(b.trait_, arg).is_some()
                }
            })
        })
    }

    /// Whether `pattern` (with generic parameters) matches `ty`, binding them.
    pub fn match_ty(&self, pattern: Ty, ty: Ty, map: &mut Subst) -> bool {
        match (self.types.kind(pattern), self.types.kind(ty)) {
            (TyKind::Param(name), _) => match map.get(name) {
                Some(&bound) => bound == ty,
                None => {
                    map.insert(*name, ty);
                    true
                }
            },
            (TyKind::Adt(a, xs), TyKind::Adt(b, ys)) => {
                a == b && xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| self.match_ty(*x, *y, map))
            }
            (TyKind::Ref { mutable: m1, ty: x }, TyKind::Ref { mutable: m2, ty: y }) => {
                m1 == m2 && self.match_ty(*x, *y, map)
            }
            (TyKind::Tuple(xs), TyKind::Tuple(ys)) => {
                xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| self.match_ty(*x, *y, map))
            }
            (TyKind::Array(x, n), TyKind::Array(y, m)) => n == m && self.match_ty(*x, *y, map),
            (TyKind::Slice(x), TyKind::Slice(y)) => self.match_ty(*x, *y, map),
            _ => pattern == ty,
        }
    }

    /// Whether `ty` is a library type represented as a scalar.
    fn scalar_library(&self, ty: Ty) -> bool {
        matches!(self.types.kind(ty), TyKind::Adt(def, _)
            if self.is_std(*def) && SCALAR_LIBRARY_TYPES.contains(&self.defs.def(*def).name.as_str()))
    }

    /// The scalar type of `ty`, when it is held in a register as a scalar.
    pub fn scalar(&self, ty: Ty) -> Option<NumTy> {
        match self.types.kind(ty) {
            TyKind::Prim(Prim::Str) => None,
            TyKind::Prim(p) => Some(num_ty(*p)),
            TyKind::Never => Some(NumTy::Unit),
            TyKind::Tuple(items) if items.is_empty() => Some(NumTy::Unit),
            _ if self.scalar_library(ty) => Some(NumTy::I64),
            _ => None,
        }
    }

    /// Whether values of `ty` are heap objects with an owner.
    pub fn is_object(&self, ty: Ty) -> bool {
        match self.types.kind(ty) {
            TyKind::Prim(p) => *p == Prim::Str,
            TyKind::Tuple(items) if items.is_empty() => false,
            TyKind::Never | TyKind::Ref { .. } | TyKind::Fn(..) | TyKind::Err => false,
            TyKind::Adt(def, _) if Some(*def) == self.lang.future => false,
            _ => !self.scalar_library(ty),
        }
    }

    /// Whether `ty` is `Copy` (OWN-COPY-001): reading it copies.
    pub fn is_copy(&mut self, ty: Ty) -> bool {
        match self.types.kind(ty).clone() {
            TyKind::Prim(p) => p != Prim::Str,
            TyKind::Ref { mutable, .. } => !mutable,
            TyKind::Fn(..) | TyKind::Never => true,
            TyKind::Tuple(items) => items.iter().all(|&t| self.is_copy(t)),
            TyKind::Array(e, _) => self.is_copy(e),
            TyKind::Adt(def, args) => {
                if let Some(&c) = self.copy_cache.get(&ty) {
                    return c;
                }
                self.copy_cache.insert(ty, true); // a recursive type is not Copy through itself
                let c = self.adt_is_copy(def, &args, ty);
                self.copy_cache.insert(ty, c);
                c
            }
            _ => false,
        }
    }

    fn adt_is_copy(&mut self, def: DefId, args: &[Ty], ty: Ty) -> bool {
        if self.is_std(def) {
            return self.lang.copy.is_some_and(|c| self.find_impl(c, ty).is_some());
        }
        if self.has_drop_impl(ty) {
            return false;
        }
        let Some(adt) = self.items.adts.get(&def) else { return false };
        let map: Subst = adt.generics.iter().map(|g| g.name).zip(args.iter().copied()).collect();
        let fields: Vec<Ty> = match &adt.kind {
            AdtKind::Struct(fields) => fields.iter().map(|f| f.ty).collect(),
            AdtKind::Enum(variants) if variants.is_empty() => return false,
            AdtKind::Enum(variants) => variants.iter().flat_map(|v| variant_tys(&v.shape)).collect(),
            AdtKind::Actor { .. } => return false,
        };
        fields.into_iter().all(|f| {
            let f = self.norm(f, &map);
            f == ty || self.is_copy(f)
        })
    }

    /// Whether `ty` itself has a `Drop` impl.
    pub fn has_drop_impl(&mut self, ty: Ty) -> bool {
        match self.lang.drop {
            Some(d) => matches!(self.types.kind(ty), TyKind::Adt(..)) && self.find_impl(d, ty).is_some(),
            None => false,
        }
    }

    /// Whether destroying a value of `ty` runs user code (a `Drop` impl in
    /// it or anything it owns): then the compiler emits drop glue.
    pub fn user_drop(&mut self, ty: Ty) -> bool {
        if !self.is_object(ty) {
            return false;
        }
        if let Some(&d) = self.drop_cache.get(&ty) {
            return d;
        }
        self.drop_cache.insert(ty, false);
        let d = self.has_drop_impl(ty) || self.owned_tys(ty).into_iter().any(|t| self.user_drop(t));
        self.drop_cache.insert(ty, d);
        d
    }

    /// The types of everything a value of `ty` owns directly.
    pub fn owned_tys(&mut self, ty: Ty) -> Vec<Ty> {
        match self.types.kind(ty).clone() {
            TyKind::Tuple(items) => items,
            TyKind::Array(e, _) | TyKind::Slice(e) => vec![e],
            TyKind::Adt(def, args) => {
                if let Some(adt) = self.items.adts.get(&def) {
                    let map: Subst = adt.generics.iter().map(|g| g.name).zip(args.iter().copied()).collect();
                    let raw: Vec<Ty> = match &adt.kind {
                        AdtKind::Struct(fields) if !self.is_std(def) || !fields.is_empty() => {
                            fields.iter().map(|f| f.ty).collect()
                        }
                        AdtKind::Enum(variants) => variants.iter().flat_map(|v| variant_tys(&v.shape)).collect(),
                        AdtKind::Actor { fields, .. } => fields.iter().map(|f| f.0.ty).collect(),
                        // What a `Gc` holds is destroyed by the cell, not by its owners.
                        _ if Some(def) == self.lang.gc || self.lang.is_gc_guard(def) => Vec::new(),
                        _ => args.clone(),
                    };
                    raw.into_iter().map(|t| self.norm(t, &map)).collect()
                } else {
                    args
                }
            }
            _ => Vec::new(),
        }
    }

    /// Whether `def` belongs to the standard library.
    pub fn is_std(&self, def: DefId) -> bool {
        self.defs.def(def).package.0 as usize == self.std_package
    }

    /// The standard library's type `name` (not generic).
    pub(crate) fn std_type(&mut self, name: &str) -> Option<Ty> {
        let def = (0..self.defs.defs.len() as u32)
            .map(DefId)
            .find(|&d| self.defs.def(d).name.as_str() == name && self.is_std(d))?;
        Some(self.types.intern(TyKind::Adt(def, Vec::new())))
    }

    /// The standard library's function `name` (a root-module item).
    pub(crate) fn std_fn(&self, name: &str) -> Option<DefId> {
        (0..self.defs.defs.len() as u32)
            .map(DefId)
            .find(|&d| self.defs.def(d).name.as_str() == name && self.is_std(d) && self.items.fns.contains_key(&d))
    }

    /// How a field or element of type `ty` is described to the VM.
    pub fn slot(&mut self, ty: Ty) -> Slot {
        match self.types.kind(ty).clone() {
            TyKind::Ref { ty: inner, .. } => match self.scalar(inner) {
                Some(n) => Slot::ScalarRef(n),
                None => {
                    let l = self.layout(inner);
                    Slot::Shared(l)
                }
            },
            // A `Future` is a deferred call: a function value.
            TyKind::Fn(..) => Slot::Fn,
            TyKind::Adt(def, _) if Some(def) == self.lang.future => Slot::Fn,
            // A `Ref` or `RefMut` borrows its cell; it owns nothing.
            TyKind::Adt(def, _) if self.lang.is_gc_guard(def) => Slot::Shared(self.layout(ty)),
            _ => match self.scalar(ty) {
                Some(n) => Slot::Scalar(n),
                None => Slot::Owned(self.layout(ty)),
            },
        }
    }

    /// The layout of objects of type `ty`.
    pub fn layout(&mut self, ty: Ty) -> u32 {
        if let Some(&l) = self.layouts.get(&ty) {
            return l;
        }
        if matches!(self.types.kind(ty), TyKind::Prim(Prim::Str)) || Some(ty) == self.string_ty() {
            return STR_LAYOUT;
        }
        let name = self.types.display(ty, self.defs);
        let l = self.prog.layouts.len() as u32;
        self.prog.layouts.push(Layout { name: name.clone(), kind: LayoutKind::Iter });
        self.layouts.insert(ty, l);
        let kind = self.layout_kind(ty);
        self.prog.layouts[l as usize].kind = kind;
        l
    }

    fn layout_kind(&mut self, ty: Ty) -> LayoutKind {
        let lang = self.lang;
        match self.types.kind(ty).clone() {
            TyKind::Tuple(items) => {
                LayoutKind::Record { fields: items.iter().map(|&t| self.slot(t)).collect(), tuple: true }
            }
            TyKind::Array(e, _) => LayoutKind::List { elem: self.slot(e), array: true },
            TyKind::Slice(e) => LayoutKind::List { elem: self.slot(e), array: false },
            TyKind::Adt(def, args) => {
                if Some(def) == lang.vec {
                    return LayoutKind::List { elem: self.slot(args[0]), array: false };
                }
                if Some(def) == lang.hashmap {
                    return LayoutKind::Map { key: self.slot(args[0]), value: self.slot(args[1]) };
                }
                if self.is_std(def) && self.defs.def(def).name.as_str() == "HashSet" {
                    return LayoutKind::Set { elem: self.slot(args[0]) };
                }
                if Some(def) == lang.boxed {
                    return LayoutKind::Record { fields: vec![self.slot(args[0])], tuple: false };
                }
                let Some(adt) = self.items.adts.get(&def) else { return LayoutKind::Iter };
                let map: Subst = adt.generics.iter().map(|g| g.name).zip(args.iter().copied()).collect();
                match adt.kind.clone() {
                    AdtKind::Struct(fields) if self.is_std(def) && fields.is_empty() => {
                        let name = self.defs.def(def).name;
                        match name.as_str() {
                            "Channel" | "Task" | "BroadcastChannel" | "BroadcastReceiver" | "ActorRef"
                            | "SharedMap" | "SharedMapGuard" | "Supervisor" | "Model" | "Tokenizer" | "DataPipe"
                            | "Json" | "Server" | "Responder" => LayoutKind::Host,
                            // A failure or a timeout is its message.
                            "TaskError" | "Timeout" => LayoutKind::Str,
                            // A tensor's shape: its sizes.
                            "Shape" => LayoutKind::List { elem: Slot::Scalar(NumTy::I64), array: false },
                            // A value that could not be sent, held for `into_inner`.
                            "SendError" if !args.is_empty() => {
                                LayoutKind::Record { fields: vec![self.slot(args[0])], tuple: false }
                            }
                            // A `Gc` cell (`stark_vm::gc`); a `Ref` or `RefMut` is the cell's handle.
                            "Gc" | "Ref" | "RefMut" if !args.is_empty() => LayoutKind::Gc { value: self.slot(args[0]) },
                            _ => LayoutKind::Iter,
                        }
                    }
                    AdtKind::Struct(fields) => {
                        let fields = fields
                            .iter()
                            .map(|f| {
                                let t = self.norm(f.ty, &map);
                                self.slot(t)
                            })
                            .collect();
                        LayoutKind::Record { fields, tuple: false }
                    }
                    AdtKind::Enum(variants) => {
                        let variants = variants
                            .iter()
                            .map(|v| {
                                let slots = variant_tys(&v.shape)
                                    .into_iter()
                                    .map(|t| {
                                        let t = self.norm(t, &map);
                                        self.slot(t)
                                    })
                                    .collect();
                                (v.name.to_string(), slots)
                            })
                            .collect();
                        LayoutKind::Enum { variants }
                    }
                    AdtKind::Actor { fields, .. } => {
                        let fields = fields
                            .iter()
                            .map(|f| {
                                let t = self.norm(f.0.ty, &map);
                                self.slot(t)
                            })
                            .collect();
                        LayoutKind::Record { fields, tuple: false }
                    }
                }
            }
            TyKind::Tensor { .. } => LayoutKind::Tensor,
            _ => LayoutKind::Iter,
        }
    }

    /// The constructor layout of variant `tag` of enum type `ty`.
    pub fn variant_layout(&mut self, ty: Ty, tag: u32) -> u32 {
        if let Some(&l) = self.variant_layouts.get(&(ty, tag)) {
            return l;
        }
        let of = self.layout(ty);
        let l = self.prog.layouts.len() as u32;
        let name = format!("{}#{tag}", self.prog.layouts[of as usize].name);
        self.prog.layouts.push(Layout { name, kind: LayoutKind::Variant { of, tag } });
        self.variant_layouts.insert((ty, tag), l);
        l
    }

    /// `String`'s type.
    pub fn string_ty(&mut self) -> Option<Ty> {
        self.lang.string.map(|d| self.types.intern(TyKind::Adt(d, Vec::new())))
    }

    /// The fields of a struct type, with their types, in declaration order.
    pub fn struct_fields(&mut self, ty: Ty) -> Vec<(Symbol, Ty)> {
        let TyKind::Adt(def, args) = self.types.kind(ty).clone() else { return Vec::new() };
        let Some(adt) = self.items.adts.get(&def) else { return Vec::new() };
        let map: Subst = adt.generics.iter().map(|g| g.name).zip(args.iter().copied()).collect();
        let fields: Vec<(Symbol, Ty)> = match &adt.kind {
            AdtKind::Struct(fields) => fields.iter().map(|f| (f.name, f.ty)).collect(),
            AdtKind::Actor { fields, .. } => fields.iter().map(|f| (f.0.name, f.0.ty)).collect(),
            AdtKind::Enum(_) => Vec::new(),
        };
        fields.into_iter().map(|(n, t)| (n, self.norm(t, &map))).collect()
    }

    /// The variants of an enum type: names and payload (field names, types).
    pub fn enum_variants(&mut self, ty: Ty) -> Vec<VariantInfo> {
        let TyKind::Adt(def, args) = self.types.kind(ty).clone() else { return Vec::new() };
        let Some(adt) = self.items.adts.get(&def) else { return Vec::new() };
        let map: Subst = adt.generics.iter().map(|g| g.name).zip(args.iter().copied()).collect();
        let AdtKind::Enum(variants) = adt.kind.clone() else { return Vec::new() };
        variants
            .iter()
            .map(|v| {
                let fields = match &v.shape {
                    VariantShape::Unit => Vec::new(),
                    VariantShape::Tuple(tys) => tys.iter().map(|&t| (None, t)).collect(),
                    VariantShape::Struct(fields) => fields.iter().map(|f| (Some(f.name), f.ty)).collect(),
                };
                (v.name, fields.into_iter().map(|(n, t)| (n, self.norm(t, &map))).collect())
            })
            .collect()
    }
}

/// The payload types of a variant.
pub fn variant_tys(shape: &VariantShape) -> Vec<Ty> {
    match shape {
        VariantShape::Unit => Vec::new(),
        VariantShape::Tuple(tys) => tys.clone(),
        VariantShape::Struct(fields) => fields.iter().map(|f| f.ty).collect(),
    }
}
