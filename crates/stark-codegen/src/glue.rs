//! Drop glue: for a type whose destruction runs user code (a `Drop` impl
//! in it or in anything it owns), a function that destroys a value in
//! Core v1's order (DROP-ORDER-001): the type's own `drop` first, then
//! its fields in reverse declaration order (elements in reverse index
//! order), then the object itself.

use crate::body::{FnCx, Scope};
use crate::Compiler;
use stark_check::ty::{Ty, TyKind};
use stark_vm::bytecode::{Instr, NumTy};
use stark_vm::native::Native;
use stark_vm::program::{Function, Slot, NO_LAYOUT};
use stark_vm::Value;

impl Compiler<'_> {
    /// The drop glue function of `ty` (compiled later).
    pub(crate) fn drop_glue_fn(&mut self, ty: Ty) -> u32 {
        if let Some(&f) = self.glue.get(&ty) {
            return f;
        }
        let name = format!("drop<{}>", self.types.display(ty, self.defs));
        let index = self.new_function(name);
        self.glue.insert(ty, index);
        self.jobs.push(crate::Job::Glue { index, ty });
        index
    }
}

/// Compiles the drop glue of `ty`: `R[0]` holds the (non-empty) value.
pub(crate) fn drop_glue(c: &mut Compiler<'_>, ty: Ty) -> Function {
    let unit = c.types.intern(TyKind::Tuple(Vec::new()));
    let name = format!("drop<{}>", c.types.display(ty, c.defs));
    let mut cx = FnCx::glue(c, unit);
    cx.scopes.push(Scope::default());
    let v = cx.alloc();
    if cx.c.has_drop_impl(ty) {
        if let Some(d) = cx.c.lang.drop {
            if let Some(f) = cx.user_trait_method(d, ty, "drop") {
                let base = cx.alloc();
                cx.emit(Instr::Copy { a: base, b: v });
                cx.emit(Instr::Call { base, f });
                cx.top = base;
            }
        }
    }
    match cx.c.types.kind(ty).clone() {
        TyKind::Adt(def, _)
            if cx.c.items.adts.get(&def).is_some_and(|a| matches!(a.kind, stark_check::items::AdtKind::Enum(_))) =>
        {
            let variants = cx.c.enum_variants(ty);
            let tag = cx.alloc();
            cx.emit(Instr::GetTag { a: tag, obj: v });
            let mut ends = Vec::new();
            for (t, (_, fields)) in variants.iter().enumerate() {
                let k = cx.constant(Value::int(t as i64));
                let c = cx.alloc();
                cx.emit(Instr::EqI { a: c, b: tag, c: k });
                let skip = cx.emit(Instr::JmpIfNot { a: c, off: 0 });
                for (i, (_, fty)) in fields.iter().enumerate().rev() {
                    cx.drop_field(v, i as u16, *fty);
                }
                ends.push(cx.jump());
                cx.patch(skip);
            }
            for e in ends {
                cx.patch(e);
            }
        }
        TyKind::Adt(def, args) if Some(def) == cx.c.lang.vec => cx.drop_elements(v, args[0]),
        TyKind::Array(elem, _) => cx.drop_elements(v, elem),
        TyKind::Tuple(items) => {
            for (i, fty) in items.iter().enumerate().rev() {
                cx.drop_field(v, i as u16, *fty);
            }
        }
        TyKind::Adt(def, args) if Some(def) == cx.c.lang.boxed => cx.drop_field(v, 0, args[0]),
        TyKind::Adt(def, args) if Some(def) == cx.c.lang.hashmap => cx.drop_entries(v, &args),
        TyKind::Adt(def, args) if cx.c.is_std(def) && cx.c.defs.def(def).name.as_str() == "HashSet" => {
            cx.drop_entries(v, &args)
        }
        TyKind::Adt(def, _) if cx.c.is_std(def) => {
            let shown = cx.c.types.display(ty, cx.c.defs);
            cx.c.unsupported(
                cx.c.defs.def(def).span,
                &format!("destroying a `{shown}` holding values with a `Drop` impl"),
            );
        }
        TyKind::Adt(..) => {
            let fields = cx.c.struct_fields(ty);
            for (i, (_, fty)) in fields.iter().enumerate().rev() {
                cx.drop_field(v, i as u16, *fty);
            }
        }
        _ => {}
    }
    cx.emit(Instr::FreeShell { a: v });
    let r = cx.unit();
    cx.emit(Instr::Ret { a: r });
    let mut f = cx.finish_glue(1);
    f.name = name;
    f
}

impl FnCx<'_, '_> {
    /// Destroys field `i` of the object in `v`, if it owns something.
    fn drop_field(&mut self, v: u16, i: u16, ty: Ty) {
        if !self.c.is_object(ty) {
            return;
        }
        let t = self.alloc();
        self.emit(Instr::TakeField { a: t, obj: v, i });
        self.drop_reg(t, ty);
        self.reset_top(t);
    }

    /// Destroys the entries of the map or set in `v` in reverse insertion
    /// order, a map's value before its key (DROP-COLLECTION-001).
    pub(crate) fn drop_entries(&mut self, v: u16, args: &[Ty]) {
        let Some(option) = self.c.lang.option else { return };
        let item = match args {
            [k, val] => self.c.types.intern(TyKind::Tuple(vec![*k, *val])),
            [elem] => *elem,
            _ => return,
        };
        let option_ty = self.c.types.intern(TyKind::Adt(option, vec![item]));
        let layout = self.c.layout(option_ty);
        let aux = if args.len() == 2 { self.c.layout(item) } else { NO_LAYOUT };
        let head = self.code.len();
        let opt = self.alloc();
        self.emit(Instr::Copy { a: opt, b: v });
        self.native(Native::TakeLast, Slot::Fn, layout, aux, opt);
        let tag = self.alloc();
        self.emit(Instr::GetTag { a: tag, obj: opt });
        let done = self.emit(Instr::JmpIf { a: tag, off: 0 });
        let it = self.alloc();
        self.emit(Instr::TakeField { a: it, obj: opt, i: 0 });
        self.emit(Instr::FreeShell { a: opt });
        if let [k, val] = args {
            self.drop_field(it, 1, *val);
            self.drop_field(it, 0, *k);
            self.emit(Instr::FreeShell { a: it });
        } else {
            self.drop_reg(it, item);
        }
        self.reset_top(opt);
        self.jump_back(head);
        self.patch(done);
        self.emit(Instr::FreeShell { a: opt });
    }

    /// Destroys the elements of the list in `v`, last first.
    fn drop_elements(&mut self, v: u16, elem: Ty) {
        if !self.c.is_object(elem) {
            return;
        }
        let i = self.alloc_n(1);
        self.emit(Instr::SliceAll { a: i, b: v });
        self.native(Native::SliceLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT, i);
        let head = self.code.len();
        let zero = self.constant(Value::int(0));
        let c = self.alloc();
        self.emit(Instr::Cmp {
            op: stark_vm::bytecode::CmpTy::new(stark_vm::bytecode::CmpOp::Gt, NumTy::I64),
            a: c,
            b: i,
            c: zero,
        });
        let exit = self.emit(Instr::JmpIfNot { a: c, off: 0 });
        self.emit(Instr::AddIImm { a: i, b: i, imm: -1 });
        let t = self.alloc();
        self.emit(Instr::Index { a: t, list: v, i });
        self.drop_reg(t, elem);
        self.jump_back(head);
        self.patch(exit);
    }
}
