//! Places (EXEC-PLACE-001): locals, fields, elements and dereferences,
//! and the three things done to them: read (copy or move), borrow, write.

use crate::body::FnCx;
use stark_check::defs::Res;
use stark_check::ty::{Ty, TyKind};
use stark_syntax::ast::{self, ExprKind, UnOp};
use stark_vm::bytecode::{Instr, Reg};

/// A resolved place.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Place {
    /// A register: a local, or a temporary holding an rvalue.
    Reg(Reg),
    /// Field `i` of the object whose handle is in `obj`.
    Field { obj: Reg, i: u16 },
    /// Element `i` of the list (or slice, when `slice`) in `list`.
    Index { list: Reg, i: Reg, slice: bool },
    /// What the reference in `r` designates.
    Deref(Reg),
}

impl<'a> FnCx<'_, 'a> {
    /// Resolves `e` as a place; an rvalue is materialised in a temporary
    /// destroyed at the end of the full expression.
    pub fn place(&mut self, e: &'a ast::Expr) -> (Place, Ty) {
        let ty = self.ty_of(e);
        match &e.kind {
            ExprKind::Paren(inner) => self.place(inner),
            ExprKind::Path(path) if path.segments.len() == 1 => {
                if let Some(Res::Local(id)) = self.c.res.paths.get(&path.span).map(|p| p.res) {
                    if let Some(&r) = self.locals.get(&id) {
                        return (Place::Reg(r), ty);
                    }
                    if let Some(&(i, by_move)) = self.captured.get(&id) {
                        return (self.captured_place(i, by_move, ty), ty);
                    }
                }
                (self.temp_place(e, ty), ty)
            }
            ExprKind::Field(base, name) => {
                let (obj, obj_ty) = self.object_of(base);
                let i = self.field_index(obj_ty, name.name);
                (Place::Field { obj, i }, ty)
            }
            ExprKind::TupleField(base, index, _) => {
                let (obj, _) = self.object_of(base);
                (Place::Field { obj, i: *index as u16 }, ty)
            }
            ExprKind::Index(base, index) => {
                let (list, list_ty) = self.object_of(base);
                let slice = matches!(self.c.types.kind(list_ty), TyKind::Slice(_));
                let i = self.expr(index);
                let i = self.index_operand(i, index);
                (Place::Index { list, i, slice }, ty)
            }
            ExprKind::Unary(UnOp::Deref, inner) => {
                let inner_ty = self.ty_of(inner);
                if matches!(self.c.types.kind(inner_ty), TyKind::Adt(d, _) if self.c.lang.is_deref(*d)) {
                    // `*b` of a box (or of a `Gc`'s `Ref`) is the value it holds: field 0.
                    let (p, t) = self.place(inner);
                    let obj = self.borrow_value(p, t);
                    return (Place::Field { obj, i: 0 }, ty);
                }
                let r = self.expr(inner);
                (Place::Deref(r), ty)
            }
            _ => (self.temp_place(e, ty), ty),
        }
    }

    /// A captured local inside a closure: a field of the environment
    /// (by move), or what the captured reference designates.
    fn captured_place(&mut self, i: u16, by_move: bool, ty: Ty) -> Place {
        if by_move {
            return Place::Field { obj: 0, i };
        }
        let r = self.alloc();
        self.emit(Instr::GetField { a: r, obj: 0, i });
        if self.c.is_object(ty) {
            // A captured object is referenced by its handle.
            Place::Reg(r)
        } else {
            Place::Deref(r)
        }
    }

    /// Evaluates an rvalue into a temporary of the full expression.
    fn temp_place(&mut self, e: &'a ast::Expr, ty: Ty) -> Place {
        let v = self.expr(e);
        let r = self.alloc();
        self.emit(Instr::Copy { a: r, b: v });
        // Scalars too: a reference to the temporary must outlive the call
        // it is passed to (dropping a scalar does nothing).
        self.temps.push((r, ty));
        Place::Reg(r)
    }

    /// The register holding the handle of the object `base` designates
    /// (through references), and the object's type.
    pub fn object_of(&mut self, base: &'a ast::Expr) -> (Reg, Ty) {
        let (place, mut ty) = self.place(base);
        let mut r = self.borrow_value(place, ty);
        // Follow references: a reference to an object is its handle; a
        // reference to a reference is a place holding one.
        loop {
            match self.c.types.kind(ty).clone() {
                TyKind::Ref { ty: inner, .. } => {
                    if matches!(self.c.types.kind(inner), TyKind::Ref { .. }) {
                        let next = self.alloc();
                        self.emit(Instr::Load { a: next, r });
                        r = next;
                    }
                    ty = inner;
                }
                TyKind::Adt(def, args) if self.c.lang.is_deref(def) => {
                    let next = self.alloc();
                    self.emit(Instr::GetField { a: next, obj: r, i: 0 });
                    r = next;
                    ty = args[0];
                }
                _ => return (r, ty),
            }
        }
    }

    /// The register holding a place's value without moving it: the
    /// handle of an object, a scalar's value, a reference itself.
    pub fn borrow_value(&mut self, place: Place, ty: Ty) -> Reg {
        match place {
            Place::Reg(r) => r,
            Place::Field { obj, i } => {
                let r = self.alloc();
                self.emit(Instr::GetField { a: r, obj, i });
                r
            }
            Place::Index { list, i, slice } => {
                let r = self.alloc();
                if slice {
                    self.emit(Instr::IndexSlice { a: r, list, i });
                } else {
                    self.emit(Instr::Index { a: r, list, i });
                }
                r
            }
            Place::Deref(p) => {
                if self.c.is_object(ty) {
                    p
                } else {
                    let r = self.alloc();
                    self.emit(Instr::Load { a: r, r: p });
                    r
                }
            }
        }
    }

    /// Reads a place in value context (MOVE-READ-001): a copy for `Copy`
    /// types (a deep copy for `Copy` aggregates), a move otherwise.
    pub fn read(&mut self, place: Place, ty: Ty) -> Reg {
        let object = self.c.is_object(ty);
        let copy = self.c.is_copy(ty);
        if let Place::Reg(r) = place {
            if let Some(pos) = self.temps.iter().position(|t| t.0 == r) {
                // Reading a temporary takes it over.
                self.temps.remove(pos);
                return r;
            }
            if !object {
                return r;
            }
            let dst = self.alloc();
            if copy {
                self.emit(Instr::Clone { a: dst, b: r });
            } else {
                self.emit(Instr::Move { a: dst, b: r });
            }
            return dst;
        }
        if object && !copy {
            match place {
                Place::Field { obj, i } => {
                    let dst = self.alloc();
                    self.emit(Instr::TakeField { a: dst, obj, i });
                    return dst;
                }
                // Only an array pattern moves out of an element.
                Place::Index { list, i, slice } => {
                    let dst = self.borrow_value(place, ty);
                    let p = self.alloc();
                    if slice {
                        self.emit(Instr::RefIndexSlice { a: p, list, i });
                    } else {
                        self.emit(Instr::RefIndex { a: p, list, i });
                    }
                    let empty = self.alloc();
                    self.emit(Instr::Clear { a: empty });
                    self.emit(Instr::Store { r: p, b: empty });
                    return dst;
                }
                _ => {}
            }
        }
        let v = self.borrow_value(place, ty);
        if object && copy {
            let dst = self.alloc();
            self.emit(Instr::Clone { a: dst, b: v });
            return dst;
        }
        v
    }

    /// `&place` / `&mut place`: a reference value.
    pub fn borrow(&mut self, place: Place, ty: Ty) -> Reg {
        let object = self.c.is_object(ty);
        let array = matches!(self.c.types.kind(ty), TyKind::Array(..));
        let dst = self.alloc();
        match place {
            Place::Reg(r) if object => self.mov(dst, r),
            Place::Reg(r) => {
                self.emit(Instr::RefReg { a: dst, b: r });
            }
            Place::Field { obj, i } if object => {
                self.emit(Instr::GetField { a: dst, obj, i });
            }
            Place::Field { obj, i } => {
                self.emit(Instr::RefField { a: dst, obj, i });
            }
            Place::Index { list, i, slice } => match (object, slice) {
                (true, false) => {
                    self.emit(Instr::Index { a: dst, list, i });
                }
                (true, true) => {
                    self.emit(Instr::IndexSlice { a: dst, list, i });
                }
                (false, false) => {
                    self.emit(Instr::RefIndex { a: dst, list, i });
                }
                (false, true) => {
                    self.emit(Instr::RefIndexSlice { a: dst, list, i });
                }
            },
            Place::Deref(r) => self.mov(dst, r),
        }
        if array {
            self.emit(Instr::SliceAll { a: dst, b: dst });
        }
        dst
    }

    /// `place = value` (EXEC-ASSIGN-001): the new value is installed, then
    /// the old one destroyed.
    pub fn write(&mut self, place: Place, ty: Ty, value: Reg) {
        let object = self.c.is_object(ty);
        match place {
            Place::Reg(r) if object => {
                let old = self.alloc();
                self.emit(Instr::Move { a: old, b: r });
                self.emit(Instr::Move { a: r, b: value });
                self.drop_reg(old, ty);
            }
            Place::Reg(r) => self.mov(r, value),
            Place::Field { obj, i } => {
                let old = self.alloc();
                if object {
                    self.emit(Instr::GetField { a: old, obj, i });
                }
                self.emit(Instr::SetField { obj, i, b: value });
                if object {
                    self.drop_reg(old, ty);
                }
            }
            Place::Index { list, i, slice } => {
                let old = self.alloc();
                if object {
                    self.emit(Instr::Index { a: old, list, i });
                }
                let p = self.alloc();
                if slice {
                    self.emit(Instr::RefIndexSlice { a: p, list, i });
                } else {
                    self.emit(Instr::RefIndex { a: p, list, i });
                }
                self.emit(Instr::Store { r: p, b: value });
                if object {
                    self.drop_reg(old, ty);
                }
            }
            Place::Deref(r) if object => {
                self.emit(Instr::Swap { a: r, b: value });
                self.drop_reg(value, ty);
            }
            Place::Deref(r) => {
                self.emit(Instr::Store { r, b: value });
            }
        }
    }

    /// The index of field `name` in a struct type.
    pub fn field_index(&mut self, ty: Ty, name: stark_syntax::Symbol) -> u16 {
        let fields = self.c.struct_fields(ty);
        fields.iter().position(|(n, _)| *n == name).unwrap_or(0) as u16
    }

    /// An index operand as the VM reads it (an unsigned position); a
    /// negative signed index is out of bounds.
    pub fn index_operand(&mut self, i: Reg, _index: &'a ast::Expr) -> Reg {
        i
    }
}
