//! Inference variables and unification. A variable is bound at most once;
//! `resolve` follows bindings, `zonk` substitutes them everywhere.

use crate::defs::Prim;
use crate::ty::{Dim, Ty, TyKind, Types};

/// The bindings of one body's inference variables. Cloning it is how a
/// tentative unification (a method or impl probe) is rolled back.
#[derive(Clone, Debug, Default)]
pub struct Infer {
    vars: Vec<Option<Ty>>,
    ints: Vec<Option<Ty>>,
    floats: Vec<Option<Ty>>,
}

/// Two types that could not be made equal.
#[derive(Debug, Clone, Copy)]
pub struct Mismatch;

impl Infer {
    /// A fresh general variable.
    pub fn var(&mut self, types: &mut Types) -> Ty {
        self.vars.push(None);
        types.intern(TyKind::Var(self.vars.len() as u32 - 1))
    }

    /// A fresh variable for an integer literal.
    pub fn int_var(&mut self, types: &mut Types) -> Ty {
        self.ints.push(None);
        types.intern(TyKind::IntVar(self.ints.len() as u32 - 1))
    }

    /// A fresh variable for a float literal.
    pub fn float_var(&mut self, types: &mut Types) -> Ty {
        self.floats.push(None);
        types.intern(TyKind::FloatVar(self.floats.len() as u32 - 1))
    }

    /// Follows variable bindings at the top of `ty`.
    pub fn resolve(&self, types: &Types, mut ty: Ty) -> Ty {
        loop {
            let next = match types.kind(ty) {
                TyKind::Var(v) => self.vars[*v as usize],
                TyKind::IntVar(v) => self.ints[*v as usize],
                TyKind::FloatVar(v) => self.floats[*v as usize],
                _ => None,
            };
            match next {
                Some(next) => ty = next,
                None => return ty,
            }
        }
    }

    /// `ty` with every bound variable replaced, recursively.
    pub fn zonk(&self, types: &mut Types, ty: Ty) -> Ty {
        let ty = self.resolve(types, ty);
        let kind = types.kind(ty).clone();
        let kind = match kind {
            TyKind::Adt(def, args) => TyKind::Adt(def, args.iter().map(|&a| self.zonk(types, a)).collect()),
            TyKind::Ref { mutable, ty } => TyKind::Ref { mutable, ty: self.zonk(types, ty) },
            TyKind::Array(elem, n) => TyKind::Array(self.zonk(types, elem), n),
            TyKind::Slice(elem) => TyKind::Slice(self.zonk(types, elem)),
            TyKind::Tuple(items) => TyKind::Tuple(items.iter().map(|&a| self.zonk(types, a)).collect()),
            TyKind::Fn(params, ret) => {
                let params = params.iter().map(|&a| self.zonk(types, a)).collect();
                TyKind::Fn(params, self.zonk(types, ret))
            }
            TyKind::Proj { base, trait_, name } => TyKind::Proj { base: self.zonk(types, base), trait_, name },
            TyKind::Tensor { dtype, dims } => TyKind::Tensor { dtype: self.zonk(types, dtype), dims },
            _ => return ty,
        };
        types.intern(kind)
    }

    /// Makes `a` and `b` the same type, binding variables as needed.
    pub fn unify(&mut self, types: &mut Types, a: Ty, b: Ty) -> Result<(), Mismatch> {
        let (a, b) = (self.resolve(types, a), self.resolve(types, b));
        if a == b {
            return Ok(());
        }
        let (ka, kb) = (types.kind(a).clone(), types.kind(b).clone());
        match (ka, kb) {
            // A variable meeting an error becomes the error, so that it is
            // not reported again as uninferred.
            (TyKind::Var(v), _) => self.bind_var(types, v, b),
            (_, TyKind::Var(v)) => self.bind_var(types, v, a),
            (TyKind::Err, _) | (_, TyKind::Err) => Ok(()),
            (TyKind::IntVar(v), TyKind::IntVar(_)) => {
                self.ints[v as usize] = Some(b);
                Ok(())
            }
            (TyKind::FloatVar(v), TyKind::FloatVar(_)) => {
                self.floats[v as usize] = Some(b);
                Ok(())
            }
            (TyKind::IntVar(v), TyKind::Prim(p)) | (TyKind::Prim(p), TyKind::IntVar(v)) if p.is_integer() => {
                self.ints[v as usize] = Some(types.intern(TyKind::Prim(p)));
                Ok(())
            }
            (TyKind::FloatVar(v), TyKind::Prim(p)) | (TyKind::Prim(p), TyKind::FloatVar(v)) if p.is_float() => {
                self.floats[v as usize] = Some(types.intern(TyKind::Prim(p)));
                Ok(())
            }
            (TyKind::Adt(d1, a1), TyKind::Adt(d2, a2)) if d1 == d2 && a1.len() == a2.len() => {
                self.unify_all(types, &a1, &a2)
            }
            (TyKind::Ref { mutable: m1, ty: t1 }, TyKind::Ref { mutable: m2, ty: t2 }) if m1 == m2 => {
                self.unify(types, t1, t2)
            }
            (TyKind::Array(e1, n1), TyKind::Array(e2, n2)) if n1 == n2 => self.unify(types, e1, e2),
            (TyKind::Slice(e1), TyKind::Slice(e2)) => self.unify(types, e1, e2),
            (TyKind::Tuple(i1), TyKind::Tuple(i2)) if i1.len() == i2.len() => self.unify_all(types, &i1, &i2),
            (TyKind::Fn(p1, r1), TyKind::Fn(p2, r2)) if p1.len() == p2.len() => {
                self.unify_all(types, &p1, &p2)?;
                self.unify(types, r1, r2)
            }
            (TyKind::Proj { base: b1, trait_: t1, name: n1 }, TyKind::Proj { base: b2, trait_: t2, name: n2 })
                if t1 == t2 && n1 == n2 =>
            {
                self.unify(types, b1, b2)
            }
            (TyKind::Tensor { dtype: d1, dims: s1 }, TyKind::Tensor { dtype: d2, dims: s2 }) => {
                self.unify(types, d1, d2)?;
                match (s1, s2) {
                    (Some(s1), Some(s2)) if !dims_compatible(&s1, &s2) => Err(Mismatch),
                    _ => Ok(()),
                }
            }
            _ => Err(Mismatch),
        }
    }

    fn unify_all(&mut self, types: &mut Types, a: &[Ty], b: &[Ty]) -> Result<(), Mismatch> {
        for (&x, &y) in a.iter().zip(b) {
            self.unify(types, x, y)?;
        }
        Ok(())
    }

    fn bind_var(&mut self, types: &mut Types, v: u32, ty: Ty) -> Result<(), Mismatch> {
        if self.occurs(types, v, ty) {
            return Err(Mismatch);
        }
        self.vars[v as usize] = Some(ty);
        Ok(())
    }

    fn occurs(&self, types: &Types, v: u32, ty: Ty) -> bool {
        let ty = self.resolve(types, ty);
        match types.kind(ty) {
            TyKind::Var(w) => *w == v,
            TyKind::Adt(_, args) | TyKind::Tuple(args) => args.iter().any(|&a| self.occurs(types, v, a)),
            TyKind::Ref { ty, .. } | TyKind::Array(ty, _) | TyKind::Slice(ty) => self.occurs(types, v, *ty),
            TyKind::Fn(params, ret) => params.iter().any(|&a| self.occurs(types, v, a)) || self.occurs(types, v, *ret),
            TyKind::Proj { base, .. } => self.occurs(types, v, *base),
            TyKind::Tensor { dtype, .. } => self.occurs(types, v, *dtype),
            _ => false,
        }
    }

    /// Fixes every unconstrained literal variable to its default type
    /// (`Int32` for integers, `Float64` for floats: TYPE-INFER-001 step 5).
    pub fn default_literals(&mut self, types: &mut Types) {
        let int32 = types.intern(TyKind::Prim(Prim::Int32));
        let float64 = types.intern(TyKind::Prim(Prim::Float64));
        for slot in &mut self.ints {
            if slot.is_none() {
                *slot = Some(int32);
            }
        }
        for slot in &mut self.floats {
            if slot.is_none() {
                *slot = Some(float64);
            }
        }
    }
}

/// Whether two shapes can describe the same tensor: same rank, and every
/// pair of known sizes equal (`?` and names match anything here).
pub fn dims_compatible(a: &[Dim], b: &[Dim]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (Dim::Known(x), Dim::Known(y)) => x == y,
            _ => true,
        })
}
