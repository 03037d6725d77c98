//! Library functions without a STARK body: each becomes a native call
//! (or a few instructions), chosen by its qualified name and instance.

use crate::body::FnCx;
use crate::types::Subst;
use stark_check::defs::DefId;
use stark_check::ty::{Ty, TyKind};
use stark_syntax::ast;
use stark_syntax::Symbol;
use stark_vm::bytecode::{Instr, NumTy, Reg};
use stark_vm::gc::GcOp;
use stark_vm::keyed::KeyedOp;
use stark_vm::native::{MathFn, Native};
use stark_vm::program::{Slot, NO_LAYOUT};
use stark_vm::Value;

impl<'a> FnCx<'_, 'a> {
    /// A call of library function `name`.
    pub fn library_call(
        &mut self,
        name: &str,
        subst: &Subst,
        recv: Option<Reg>,
        args: &'a [ast::Expr],
        e: &'a ast::Expr,
    ) -> Reg {
        let ret = self.ty_of(e);
        let t = |n: &str| subst.get(&Symbol::intern(n)).copied();
        self.at(e.span);
        if let Some(r) = self.model_call(name, recv, args, e) {
            return r;
        }
        if let Some(r) = self.tensor_call(name, subst, recv, args, e) {
            return r;
        }
        match name {
            "print" | "println" | "eprint" | "eprintln" | "io::print" | "io::println" | "io::eprint"
            | "io::eprintln" => {
                let ty = self.ty_of(&args[0]);
                let v = self.expr(&args[0]);
                let s = self.display_string(v, ty);
                let native = match name.trim_start_matches("io::") {
                    "print" => Native::Print,
                    "println" => Native::Println,
                    "eprint" => Native::Eprint,
                    _ => Native::Eprintln,
                };
                self.native(native, Slot::Scalar(NumTy::Unit), NO_LAYOUT, NO_LAYOUT, s);
                self.drop_reg(v, ty);
                return self.unit();
            }
            "spawn_actor" => {
                let ref_layout = self.c.layout(ret);
                return self.spawn_actor(&args[0], ref_layout);
            }
            "spawn_actor_with" | "Supervisor::spawn_actor_with" => {
                let ref_layout = self.c.layout(ret);
                return self.spawn_actor_with(&args[0], &args[1], ref_layout, recv);
            }
            "Supervisor::new" => {
                let ty = self.ty_of(&args[0]);
                let r = self.expr(&args[0]);
                let base = self.alloc();
                if self.c.is_object(ty) {
                    self.emit(Instr::GetTag { a: base, obj: r });
                } else {
                    self.emit(Instr::Copy { a: base, b: r });
                }
                self.native(Native::SupervisorNew, Slot::Fn, NO_LAYOUT, NO_LAYOUT, base);
                return base;
            }
            "drop" => {
                let ty = self.ty_of(&args[0]);
                let v = self.expr(&args[0]);
                self.drop_reg(v, ty);
                return self.unit();
            }
            "size_of" | "align_of" => {
                let n = match t("T").and_then(|ty| self.c.scalar(ty)) {
                    Some(NumTy::Unit) => 0,
                    Some(NumTy::Bool) => 1,
                    Some(n) => n.bits() as u64 / 8,
                    None => 8,
                };
                return self.constant(Value::from_bits(n.max(if name == "align_of" { 1 } else { 0 })));
            }
            "assert_eq" => {
                let ty = self.ty_of(&args[0]);
                let (x, y) = (self.expr(&args[0]), self.expr(&args[1]));
                let pair = self.alloc_n(2);
                self.emit(Instr::Copy { a: pair, b: x });
                self.emit(Instr::Copy { a: pair + 1, b: y });
                let ok = match self.c.scalar(ty) {
                    Some(n) => {
                        let dst = self.alloc();
                        let op = stark_vm::bytecode::CmpTy::new(stark_vm::bytecode::CmpOp::Eq, n);
                        self.emit(Instr::Cmp { op, a: dst, b: pair, c: pair + 1 });
                        dst
                    }
                    // Objects are compared by reference: a handle is one.
                    None => {
                        let ref_ty = self.c.types.intern(TyKind::Ref { mutable: false, ty });
                        self.compare_values(stark_vm::bytecode::CmpOp::Eq, pair, pair + 1, ref_ty)
                    }
                };
                let pass = self.emit(Instr::JmpIf { a: ok, off: 0 });
                let slot = match self.c.slot(ty) {
                    Slot::Owned(l) => Slot::Shared(l),
                    s => s,
                };
                let msg = self.alloc_n(2);
                self.emit(Instr::Copy { a: msg, b: pair });
                self.emit(Instr::Copy { a: msg + 1, b: pair + 1 });
                let has_user_display = self.c.lang.display.is_some_and(|d| self.c.has_user_impl_of(d, ty));
                if has_user_display || self.c.user_drop(ty) {
                    self.native(Native::Assert, Slot::Scalar(NumTy::Bool), NO_LAYOUT, NO_LAYOUT, ok);
                } else {
                    self.native(Native::AssertEq, slot, NO_LAYOUT, NO_LAYOUT, msg);
                }
                self.patch(pass);
                self.drop_reg(pair + 1, ty);
                self.drop_reg(pair, ty);
                return self.unit();
            }
            "with_arena" => {
                // The arena's depth, the closure's call, then the arena's end.
                let f = self.expr(&args[0]);
                let fr = self.alloc();
                self.emit(Instr::Copy { a: fr, b: f });
                let depth = self.alloc();
                self.native(Native::Gc(GcOp::ArenaEnter), Slot::Fn, NO_LAYOUT, NO_LAYOUT, depth);
                let base = self.alloc();
                self.emit(Instr::CallValue { base, callee: fr });
                let exit = self.alloc();
                self.emit(Instr::Copy { a: exit, b: depth });
                self.native(Native::Gc(GcOp::ArenaExit), Slot::Fn, NO_LAYOUT, NO_LAYOUT, exit);
                self.reset_top(base + 1);
                return base;
            }
            "Box::new" => {
                let base = self.alloc();
                let v = self.expr(&args[0]);
                self.emit(Instr::Copy { a: base, b: v });
                let l = self.c.layout(ret);
                self.emit(Instr::New { base, l });
                return base;
            }
            "Box::into_inner" => {
                let b = recv.unwrap_or_else(|| self.expr(&args[0]));
                let dst = self.alloc();
                self.emit(Instr::TakeField { a: dst, obj: b, i: 0 });
                self.emit(Instr::FreeShell { a: b });
                return dst;
            }
            "<Clone>::clone" => {
                let r = recv.unwrap_or_else(|| self.expr(&args[0]));
                let self_ty = t("Self").unwrap_or(ret);
                let dst = self.alloc();
                if self.c.is_object(self_ty) {
                    self.emit(Instr::Clone { a: dst, b: r });
                } else {
                    self.emit(Instr::Load { a: dst, r });
                }
                return dst;
            }
            "<Display>::fmt" => {
                let r = recv.unwrap_or_else(|| self.expr(&args[0]));
                let self_ty = t("Self").unwrap_or(ret);
                let ref_ty = self.c.types.intern(TyKind::Ref { mutable: false, ty: self_ty });
                return self.display_string(r, ref_ty);
            }
            "<Default>::default" => {
                let self_ty = t("Self").unwrap_or(ret);
                return self.default_value(self_ty, e);
            }
            _ => {}
        }
        if let Some(f) = self.user_law_call(name, subst) {
            // The helper takes the list as a slice.
            let recv = match recv {
                Some(r) if name == "Vec::contains" => {
                    let s = self.alloc();
                    self.emit(Instr::SliceAll { a: s, b: r });
                    Some(s)
                }
                other => other,
            };
            let base = self.args_block(recv, args);
            self.emit(Instr::Call { base, f });
            self.reset_top(base + 1);
            return base;
        }
        // The VM's collections compare keys and elements by their built-in
        // identity; a user `Eq`, `Hash` or `Ord` would be bypassed.
        let user_law = match name {
            // Types with their own `Eq`/`Hash` went to `user_law_call`;
            // these have a user law only inside (a tuple of them, say).
            "Vec::sort" => t("T").filter(|&k| self.has_user_impl(k, &["Ord"])),
            n if user_law_helper(n).is_some() => t(if n.starts_with("HashMap::") { "K" } else { "T" })
                .filter(|&k| self.has_user_impl(k, &["Eq", "Hash"])),
            _ => None,
        };
        if let Some(k) = user_law {
            let shown = self.c.types.display(k, self.c.defs);
            self.c.unsupported(e.span, &format!("`{name}` on `{shown}`, which has a user `Eq`, `Hash` or `Ord`"));
        }
        // The rest take their arguments in a block, receiver first.
        let wants_slice = matches!(
            name,
            "String::len"
                | "String::is_empty"
                | "String::chars"
                | "String::bytes"
                | "String::as_str"
                | "String::contains"
                | "String::starts_with"
                | "String::ends_with"
                | "String::find"
                | "String::replace"
                | "String::split"
                | "String::trim"
                | "String::to_lowercase"
                | "String::to_uppercase"
                | "String::substring"
                | "Vec::get"
                | "Vec::get_mut"
                | "Vec::as_slice"
        );
        let recv = match recv {
            Some(r) if wants_slice => {
                let s = self.alloc();
                self.emit(Instr::SliceAll { a: s, b: r });
                Some(s)
            }
            other => other,
        };
        let base = self.args_block(recv, args);
        let self_ty = t("Self");
        let elem_slot = |cx: &mut Self, n: &str| match t(n) {
            Some(ty) => cx.c.slot(ty),
            None => Slot::Scalar(NumTy::Unit),
        };
        let ret_layout = if self.c.is_object(ret) { self.c.layout(ret) } else { NO_LAYOUT };
        if let Some((native, arg_type)) = json_or_net_native(name) {
            let slot = match arg_type.and_then(|n| self.std_type(n)) {
                Some(ty) => self.c.slot(ty),
                None => Slot::Fn,
            };
            self.native(native, slot, ret_layout, NO_LAYOUT, base);
            self.reset_top(base + 1);
            return base;
        }
        let (native, slot, layout, aux) = match name {
            "panic" => (Native::Panic, Slot::Scalar(NumTy::Unit), NO_LAYOUT, NO_LAYOUT),
            "assert" => (Native::Assert, Slot::Scalar(NumTy::Bool), NO_LAYOUT, NO_LAYOUT),
            "String::new" | "String::with_capacity" | "<Default>::default" => {
                (Native::StringNew, Slot::Fn, NO_LAYOUT, NO_LAYOUT)
            }
            "String::from" | "str::to_string" => (Native::StringFrom, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::len" | "str::len" => (Native::StrLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::is_empty" | "str::is_empty" => (Native::StrIsEmpty, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::push" => (Native::StringPush, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::push_str" => (Native::StringPushStr, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::pop" => (Native::StringPop, Slot::Fn, ret_layout, NO_LAYOUT),
            "String::clear" => (Native::StringClear, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::chars" | "str::chars" => (Native::StrChars, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::bytes" | "str::bytes" | "String::as_str" | "Vec::as_slice" => {
                return base;
            }
            "String::contains" | "str::contains" => (Native::StrContains, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::starts_with" | "str::starts_with" => (Native::StrStartsWith, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::ends_with" | "str::ends_with" => (Native::StrEndsWith, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::find" | "str::find" => (Native::StrFind, Slot::Fn, ret_layout, NO_LAYOUT),
            "String::replace" | "str::replace" => (Native::StrReplace, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::split" | "str::split" => (Native::StrSplit, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::trim" | "str::trim" => (Native::StrTrim, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::to_lowercase" => (Native::StrToLower, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::to_uppercase" => (Native::StrToUpper, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "String::substring" => (Native::StrSubstring, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::new" => (Native::VecNew, Slot::Fn, ret_layout, NO_LAYOUT),
            "Vec::with_capacity" => (Native::VecWithCapacity, Slot::Fn, ret_layout, NO_LAYOUT),
            "Vec::push" => (Native::VecPush, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::pop" => (Native::VecPop, Slot::Fn, ret_layout, NO_LAYOUT),
            "Vec::len" => (Native::VecLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::capacity" => (Native::VecCapacity, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::is_empty" => {
                self.native(Native::VecLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT, base);
                let zero = self.constant(Value::int(0));
                self.emit(Instr::EqI { a: base, b: base, c: zero });
                self.reset_top(base + 1);
                return base;
            }
            "Vec::get" | "Vec::get_mut" | "[]::get" => (Native::SliceGet, elem_slot(self, "T"), ret_layout, NO_LAYOUT),
            "Vec::insert" => (Native::VecInsert, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::remove" => (Native::VecRemove, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::clear" if t("T").is_some_and(|elem| self.c.user_drop(elem)) => {
                let elem = t("T").expect("checked");
                self.clear_with_glue(base, elem);
                return base;
            }
            "Vec::clear" => (Native::VecClear, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::append" => (Native::VecAppend, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::extend" => (Native::VecExtend, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::iter" => (Native::VecIter, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::contains" | "[]::contains" => (Native::VecContains, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "Vec::sort" => (Native::VecSort, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "vec_permute" => (Native::VecPermute, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Vec::reverse" => (Native::VecReverse, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "[]::len" => (Native::SliceLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "[]::is_empty" => {
                self.native(Native::SliceLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT, base);
                let zero = self.constant(Value::int(0));
                self.emit(Instr::EqI { a: base, b: base, c: zero });
                self.reset_top(base + 1);
                return base;
            }
            "[]::iter" => (Native::SliceIter, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "[]::to_vec" => (Native::SliceToVec, elem_slot(self, "T"), ret_layout, NO_LAYOUT),
            "HashMap::new" | "HashMap::with_capacity" => (Native::MapNew, Slot::Fn, ret_layout, NO_LAYOUT),
            "HashMap::insert" => (Native::MapInsert, Slot::Fn, ret_layout, NO_LAYOUT),
            // A lookup's site records the key's slot: the optimiser reads
            // a key that is not a scalar (so not passed by place) where it is.
            "HashMap::get" | "HashMap::get_mut" => (Native::MapGet, elem_slot(self, "K"), ret_layout, NO_LAYOUT),
            "HashMap::remove" => (Native::MapRemove, Slot::Fn, ret_layout, NO_LAYOUT),
            "HashMap::contains_key" => (Native::MapContainsKey, elem_slot(self, "K"), NO_LAYOUT, NO_LAYOUT),
            "HashMap::len" => (Native::MapLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashMap::is_empty" | "HashSet::is_empty" => {
                self.native(Native::MapLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT, base);
                let zero = self.constant(Value::int(0));
                self.emit(Instr::EqI { a: base, b: base, c: zero });
                self.reset_top(base + 1);
                return base;
            }
            // Entries with a user `Drop` are destroyed one by one, last first.
            "HashMap::clear" | "HashSet::clear" if self_ty.is_some_and(|ty| self.c.user_drop(ty)) => {
                let args = match self_ty.map(|ty| self.c.types.kind(ty).clone()) {
                    Some(TyKind::Adt(_, args)) => args,
                    _ => Vec::new(),
                };
                self.drop_entries(base, &args);
                return base;
            }
            "HashMap::clear" => (Native::MapClear, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashMap::keys" => (Native::MapKeys, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashMap::values" => (Native::MapValues, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashMap::iter" => (Native::MapIter, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashSet::new" => (Native::SetNew, Slot::Fn, ret_layout, NO_LAYOUT),
            "HashSet::insert" => (Native::SetInsert, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashSet::remove" => (Native::SetRemove, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashSet::contains" => (Native::SetContains, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashSet::len" => (Native::SetLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashSet::clear" => (Native::SetClear, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "HashSet::iter" => (Native::SetIter, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "map_candidate" | "set_candidate" => (Native::Keyed(KeyedOp::Candidate), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "map_key_at" | "set_item_at" => (Native::Keyed(KeyedOp::KeyAt), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "map_push" => (Native::Keyed(KeyedOp::MapPush), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "map_get_at" | "map_get_mut_at" => (Native::Keyed(KeyedOp::MapGet), Slot::Fn, ret_layout, NO_LAYOUT),
            "map_replace_at" => (Native::Keyed(KeyedOp::MapReplace), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "map_take_at" => (Native::Keyed(KeyedOp::MapTake), Slot::Fn, ret_layout, NO_LAYOUT),
            "set_push" => (Native::Keyed(KeyedOp::SetPush), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "set_take_at" => (Native::Keyed(KeyedOp::SetTake), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "<Iterator>::next" => {
                let self_ty = self_ty.unwrap_or(ret);
                return self.iter_next(self_ty, ret, base, e.span);
            }
            "<Hash>::hash" => {
                let self_ty = self_ty.unwrap_or(ret);
                if self.c.scalar(self_ty).is_some() {
                    self.emit(Instr::Load { a: base, r: base });
                }
                let slot = match self.c.slot(self_ty) {
                    Slot::Owned(l) => Slot::Shared(l),
                    s => s,
                };
                (Native::Hash, slot, NO_LAYOUT, NO_LAYOUT)
            }
            "<Eq>::eq" | "<Ord>::cmp" => {
                let self_ty = self_ty.unwrap_or(ret);
                if let Some(n) = self.c.scalar(self_ty) {
                    self.emit(Instr::Load { a: base, r: base });
                    self.emit(Instr::Load { a: base + 1, r: base + 1 });
                    if name == "<Eq>::eq" {
                        self.emit(Instr::Cmp {
                            op: stark_vm::bytecode::CmpTy::new(stark_vm::bytecode::CmpOp::Eq, n),
                            a: base,
                            b: base,
                            c: base + 1,
                        });
                        self.reset_top(base + 1);
                        return base;
                    }
                }
                let slot = match self.c.slot(self_ty) {
                    Slot::Owned(l) => Slot::Shared(l),
                    s => s,
                };
                if name == "<Eq>::eq" {
                    (Native::Eq, slot, NO_LAYOUT, NO_LAYOUT)
                } else {
                    (Native::CmpOrdering, slot, ret_layout, NO_LAYOUT)
                }
            }
            "math::sqrt" => (Native::Math(MathFn::Sqrt), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::pow" => (Native::Math(MathFn::Pow), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::log" => (Native::Math(MathFn::Log), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::log10" => (Native::Math(MathFn::Log10), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::exp" => (Native::Math(MathFn::Exp), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::sin" => (Native::Math(MathFn::Sin), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::cos" => (Native::Math(MathFn::Cos), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::tan" => (Native::Math(MathFn::Tan), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::floor" => (Native::Math(MathFn::Floor), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::ceil" => (Native::Math(MathFn::Ceil), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::round" => (Native::Math(MathFn::Round), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::trunc" => (Native::Math(MathFn::Trunc), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "math::abs" => (Native::Abs, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "math::min" => (Native::Min, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "math::max" => (Native::Max, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "math::clamp" => (Native::Clamp, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "io::read_file" | "io::write_file" => {
                let io_error = self.io_error_ty();
                let aux = io_error.map_or(NO_LAYOUT, |t| self.c.layout(t));
                let native = if name == "io::read_file" { Native::ReadFile } else { Native::WriteFile };
                (native, Slot::Fn, ret_layout, aux)
            }
            "channel" | "Channel::new" => (Native::ChanNew, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Channel::bounded" => (Native::ChanBounded, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Channel::send" => (Native::ChanSend, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "Channel::recv" => (Native::ChanRecv, elem_slot(self, "T"), ret_layout, NO_LAYOUT),
            "Channel::try_send" => {
                let error = self.std_type_of("SendError", t("T"));
                let aux = error.map_or(NO_LAYOUT, |e| self.c.layout(e));
                (Native::ChanTrySend, elem_slot(self, "T"), ret_layout, aux)
            }
            "SendError::into_inner" => {
                let dst = self.alloc();
                self.emit(Instr::TakeField { a: dst, obj: base, i: 0 });
                self.emit(Instr::FreeShell { a: base });
                self.emit(Instr::Copy { a: base, b: dst });
                self.reset_top(base + 1);
                return base;
            }
            "Channel::try_recv" => (Native::ChanTryRecv, elem_slot(self, "T"), ret_layout, NO_LAYOUT),
            "Channel::close" => (Native::ChanClose, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Channel::len" => (Native::ChanLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Channel::is_closed" => (Native::ChanIsClosed, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Task::join" => (Native::TaskJoin, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "Task::is_finished" => (Native::TaskIsFinished, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Task::result" => (Native::TaskResult, elem_slot(self, "T"), ret_layout, NO_LAYOUT),
            "join_all" => (Native::JoinAll, elem_slot(self, "T"), ret_layout, NO_LAYOUT),
            "race" => (Native::Race, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "timeout" => (Native::Timeout, elem_slot(self, "T"), ret_layout, NO_LAYOUT),
            "Future::then" | "Future::map" | "Future::catch" => {
                let glue = if name == "Future::catch" {
                    let value = elem_slot(self, "T");
                    let result = self.task_result_layout(t("T"));
                    self.c.catch_glue(value, result)
                } else {
                    self.c.then_glue()
                };
                let l = self.c.prog.layouts.len() as u32;
                let fields = vec![Slot::Fn, Slot::Fn];
                let kind = stark_vm::program::LayoutKind::Record { fields, tuple: true };
                self.c.prog.layouts.push(stark_vm::Layout { name: "future".into(), kind });
                self.emit(Instr::New { base, l });
                let dst = self.alloc();
                self.emit(Instr::LoadFn { a: dst, f: glue });
                self.emit(Instr::SetEnv { a: dst, env: base });
                self.reset_top(dst + 1);
                return dst;
            }
            "TaskError::message" => {
                self.emit(Instr::Clone { a: base, b: base });
                self.reset_top(base + 1);
                return base;
            }
            "Task::cancel" => (Native::TaskCancel, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "broadcast_channel" => (Native::BcastNew, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "BroadcastChannel::send" => (Native::BcastSend, elem_slot(self, "T"), NO_LAYOUT, NO_LAYOUT),
            "BroadcastChannel::subscribe" => (Native::BcastSubscribe, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "BroadcastChannel::close" => (Native::ChanClose, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "BroadcastReceiver::recv" => (Native::BcastRecv, elem_slot(self, "T"), ret_layout, NO_LAYOUT),
            "BroadcastReceiver::try_recv" => (Native::BcastTryRecv, elem_slot(self, "T"), ret_layout, NO_LAYOUT),
            "BroadcastReceiver::missed" => (Native::BcastMissed, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "ActorRef::tell" => (Native::ActorTell, elem_slot(self, "In"), NO_LAYOUT, NO_LAYOUT),
            "ActorRef::stop" => (Native::ActorStop, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "ActorRef::get_stats" => (Native::ActorStats, Slot::Fn, ret_layout, NO_LAYOUT),
            "ActorRef::reserve" => (Native::ActorReserve, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "ActorRef::send_ask" => {
                let msg = elem_slot(self, "In");
                self.native(Native::ActorAsk, msg, NO_LAYOUT, NO_LAYOUT, base);
                let reply = elem_slot(self, "Out");
                return self.actor_ask(base, reply);
            }
            "Gc::new" => {
                if let Some(inner) = t("T").filter(|&ty| self.c.user_drop(ty)) {
                    let shown = self.c.types.display(inner, self.c.defs);
                    self.c
                        .unsupported(e.span, &format!("`Gc<{shown}>`: a `Gc` of a type with a `Drop` implementation"));
                }
                (Native::Gc(GcOp::New), Slot::Fn, ret_layout, NO_LAYOUT)
            }
            "Gc::borrow" => (Native::Gc(GcOp::Borrow), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Gc::borrow_mut" => (Native::Gc(GcOp::BorrowMut), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Gc::ptr_eq" => (Native::Gc(GcOp::PtrEq), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "gc::configure" => (Native::Gc(GcOp::Configure), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "gc::collect" => (Native::Gc(GcOp::Collect), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "gc::collect_young" => (Native::Gc(GcOp::CollectYoung), Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "gc::stats" => (Native::Gc(GcOp::Stats), Slot::Fn, ret_layout, NO_LAYOUT),
            "Supervisor::supervise" => (Native::SupervisorAdopt, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "SharedMap::new" => (Native::SharedNew, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "SharedMap::read" => (Native::SharedGuard, Slot::Fn, NO_LAYOUT, 0),
            "SharedMap::write" | "SharedMap::lock" => (Native::SharedGuard, Slot::Fn, NO_LAYOUT, 1),
            "SharedMapGuard::get" => (Native::GuardGet, elem_slot(self, "K"), ret_layout, NO_LAYOUT),
            "SharedMapGuard::insert" => (Native::GuardInsert, elem_slot(self, "K"), ret_layout, NO_LAYOUT),
            "SharedMapGuard::remove" => (Native::GuardRemove, elem_slot(self, "K"), ret_layout, NO_LAYOUT),
            "SharedMapGuard::contains_key" => (Native::GuardContains, elem_slot(self, "K"), NO_LAYOUT, NO_LAYOUT),
            "SharedMapGuard::len" => (Native::GuardLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "sleep" => (Native::Sleep, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "yield_now" => (Native::YieldNow, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            "Instant::now" => (Native::InstantNow, Slot::Fn, NO_LAYOUT, NO_LAYOUT),
            // `Instant` and `Duration` are microseconds (Int64); the
            // receivers are references to them.
            "Instant::elapsed" => {
                let then = self.alloc();
                self.emit(Instr::Load { a: then, r: base });
                self.native(Native::InstantNow, Slot::Fn, NO_LAYOUT, NO_LAYOUT, base);
                self.emit(Instr::SubI { a: base, b: base, c: then });
                self.reset_top(base + 1);
                return base;
            }
            "Duration::as_micros" => {
                self.emit(Instr::Load { a: base, r: base });
                return base;
            }
            "Duration::as_millis" => {
                self.emit(Instr::Load { a: base, r: base });
                let k = self.constant(Value::int(1000));
                let op = stark_vm::bytecode::ArithOp::new(stark_vm::bytecode::BinOp::Div, NumTy::I64);
                self.emit(Instr::Arith { op, a: base, b: base, c: k });
                self.reset_top(base + 1);
                return base;
            }
            "Duration::as_secs_f64" => {
                self.emit(Instr::Load { a: base, r: base });
                self.emit(Instr::Cast { from: NumTy::I64, to: NumTy::F64, a: base, b: base });
                let k = self.constant(Value::f64(1e6));
                self.emit(Instr::DivF { a: base, b: base, c: k });
                self.reset_top(base + 1);
                return base;
            }
            "Duration::milliseconds" | "Duration::seconds" | "Duration::microseconds" => {
                let scale = match name {
                    "Duration::milliseconds" => 1_000,
                    "Duration::seconds" => 1_000_000,
                    _ => 1,
                };
                let k = self.constant(Value::int(scale));
                self.emit(Instr::MulI { a: base, b: base, c: k });
                self.reset_top(base + 1);
                return base;
            }
            _ => {
                self.c.unsupported(e.span, &format!("the library function `{name}`"));
                return base;
            }
        };
        self.native(native, slot, layout, aux, base);
        self.reset_top(base + 1);
        base
    }

    /// The layout of `Result<T, TaskError>`.
    fn task_result_layout(&mut self, t: Option<Ty>) -> u32 {
        let (Some(t), Some(result)) = (t, self.c.lang.result) else { return NO_LAYOUT };
        let Some(error) = self.std_type("TaskError") else { return NO_LAYOUT };
        let ty = self.c.types.intern(TyKind::Adt(result, vec![t, error]));
        self.c.layout(ty)
    }

    /// `next()` of a library iterator of type `self_ty` whose handle is
    /// in `base`; the `Option` (of type `option_ty`) lands in `base`.
    pub fn iter_next(&mut self, self_ty: Ty, option_ty: Ty, base: Reg, span: stark_syntax::Span) -> Reg {
        let iter_name = match self.c.types.kind(self_ty) {
            TyKind::Adt(d, _) => self.c.defs.def(*d).name.to_string(),
            _ => String::new(),
        };
        let item_ty = match self.c.types.kind(option_ty) {
            TyKind::Adt(_, a) if !a.is_empty() => a[0],
            _ => option_ty,
        };
        let item_slot = match self.c.types.kind(item_ty).clone() {
            TyKind::Ref { ty, .. } => match self.c.scalar(ty) {
                Some(n) => Slot::ScalarRef(n),
                None => Slot::Owned(0),
            },
            _ => self.c.slot(item_ty),
        };
        let layout = self.c.layout(option_ty);
        let (native, aux, slot) = match iter_name.as_str() {
            "VecIter" => (Native::ListNext, NO_LAYOUT, item_slot),
            "KeysIter" => (Native::KeysNext, NO_LAYOUT, item_slot),
            "ValuesIter" => (Native::ValuesNext, NO_LAYOUT, item_slot),
            "MapIter" => (Native::PairsNext, self.c.layout(item_ty), item_slot),
            "SetIter" => (Native::SetNext, NO_LAYOUT, item_slot),
            "CharsIter" => (Native::CharsNext, NO_LAYOUT, item_slot),
            "SplitIter" => (Native::SplitNext, NO_LAYOUT, item_slot),
            // `for v in ch`: receive until closed and drained.
            "Channel" => (Native::ChanRecv, NO_LAYOUT, item_slot),
            "Range" | "RangeInclusive" => {
                let n = self.c.scalar(item_ty).unwrap_or(NumTy::I64);
                (Native::RangeNext, (iter_name == "RangeInclusive") as u32, Slot::Scalar(n))
            }
            _ => {
                self.c.unsupported(span, &format!("iterating `{iter_name}`"));
                return base;
            }
        };
        self.native(native, slot, layout, aux, base);
        self.reset_top(base + 1);
        base
    }

    /// `v.clear()` for elements with a `Drop` impl: popped and destroyed
    /// one by one, last first (DROP-COLLECTION-001).
    fn clear_with_glue(&mut self, v: Reg, elem: Ty) {
        let Some(option) = self.c.lang.option else { return };
        let option_ty = self.c.types.intern(TyKind::Adt(option, vec![elem]));
        let layout = self.c.layout(option_ty);
        let head = self.code.len();
        let opt = self.alloc();
        self.emit(Instr::Copy { a: opt, b: v });
        self.native(Native::VecPop, Slot::Fn, layout, NO_LAYOUT, opt);
        let tag = self.alloc();
        self.emit(Instr::GetTag { a: tag, obj: opt });
        let done = self.emit(Instr::JmpIf { a: tag, off: 0 });
        let item = self.alloc();
        self.emit(Instr::TakeField { a: item, obj: opt, i: 0 });
        self.emit(Instr::FreeShell { a: opt });
        self.drop_reg(item, elem);
        self.jump_back(head);
        self.patch(done);
        self.emit(Instr::FreeShell { a: opt });
        self.emit(Instr::LoadI { a: v, imm: 0 });
    }

    /// `std::io::IOError`'s type.
    /// The standard library's type `name` (without generic parameters).
    fn std_type(&mut self, name: &str) -> Option<Ty> {
        self.c.std_type(name)
    }

    /// The standard library's generic type `name<arg>`.
    fn std_type_of(&mut self, name: &str, arg: Option<Ty>) -> Option<Ty> {
        let def = (0..self.c.defs.defs.len() as u32)
            .map(DefId)
            .find(|&d| self.c.defs.def(d).name.as_str() == name && self.c.is_std(d))?;
        Some(self.c.types.intern(TyKind::Adt(def, vec![arg?])))
    }

    fn io_error_ty(&mut self) -> Option<Ty> {
        let def = self.c.defs.defs.iter().position(|d| d.name.as_str() == "IOError")?;
        Some(self.c.types.intern(TyKind::Adt(DefId(def as u32), Vec::new())))
    }

    /// A `String` with the `Display` text of the value in `v` of type
    /// `ty` (a value or a reference); `v` is not consumed.
    pub fn display_string(&mut self, v: Reg, ty: Ty) -> Reg {
        let mut ty = ty;
        let mut v = v;
        loop {
            match self.c.types.kind(ty).clone() {
                TyKind::Ref { ty: inner, .. } if self.c.is_object(inner) => ty = inner,
                TyKind::Ref { ty: inner, .. } => {
                    let n = self.alloc();
                    self.emit(Instr::Load { a: n, r: v });
                    v = n;
                    ty = inner;
                }
                // A box (or a `Gc`'s `Ref`) shows what it holds.
                TyKind::Adt(d, args) if self.c.lang.is_deref(d) => {
                    let n = self.alloc();
                    self.emit(Instr::GetField { a: n, obj: v, i: 0 });
                    v = n;
                    ty = args[0];
                }
                _ => break,
            }
        }
        if let Some(display) = self.c.lang.display {
            if let Some(f) = self.user_trait_method(display, ty, "fmt") {
                let base = self.alloc();
                self.emit(Instr::Copy { a: base, b: v });
                self.emit(Instr::Call { base, f });
                return base;
            }
        }
        if self.has_user_display_inside(ty) {
            if let Some(r) = self.display_via_library(v, ty) {
                return r;
            }
            let shown = self.c.types.display(ty, self.c.defs);
            let span = self.cur_span;
            self.c.unsupported(span, &format!("displaying a `{shown}`, whose elements have a user `Display`"));
        }
        let slot = match self.c.slot(ty) {
            Slot::Owned(l) => Slot::Shared(l),
            s => s,
        };
        let base = self.alloc();
        self.emit(Instr::Copy { a: base, b: v });
        self.native(Native::ToString, slot, NO_LAYOUT, NO_LAYOUT, base);
        base
    }

    /// A list or `Option` whose elements have a user `Display`, shown by the
    /// library's STARK helpers (`display_list`, `display_option`), which
    /// call the user's `fmt` for each element.
    fn display_via_library(&mut self, v: Reg, ty: Ty) -> Option<Reg> {
        let (helper, elem, list) = match self.c.types.kind(ty).clone() {
            TyKind::Adt(d, args) if Some(d) == self.c.lang.vec => ("display_list", args[0], true),
            TyKind::Array(e, _) | TyKind::Slice(e) => ("display_list", e, true),
            TyKind::Adt(d, args) if Some(d) == self.c.lang.option => ("display_option", args[0], false),
            _ => return None,
        };
        let def = self.c.std_fn(helper)?;
        let mut map = Subst::default();
        map.insert(Symbol::intern("T"), elem);
        let f = self.c.instance(def, map);
        let base = self.alloc();
        if list {
            self.emit(Instr::SliceAll { a: base, b: v });
        } else {
            self.emit(Instr::Copy { a: base, b: v });
        }
        self.emit(Instr::Call { base, f });
        Some(base)
    }

    /// Whether `ty` (or a type inside it) has a user impl of one of `traits`.
    pub(crate) fn has_user_impl(&mut self, ty: Ty, traits: &[&str]) -> bool {
        let defs: Vec<DefId> = [self.c.lang.eq, self.c.lang.hash, self.c.lang.ord]
            .into_iter()
            .flatten()
            .filter(|d| traits.contains(&self.c.defs.def(*d).name.as_str()))
            .collect();
        let mut pending = vec![ty];
        while let Some(t) = pending.pop() {
            for &d in &defs {
                if self.c.has_user_impl_of(d, t) {
                    return true;
                }
            }
            match self.c.types.kind(t).clone() {
                TyKind::Tuple(items) => pending.extend(items),
                TyKind::Array(e, _) | TyKind::Slice(e) => pending.push(e),
                TyKind::Ref { ty, .. } => pending.push(ty),
                TyKind::Adt(_, args) => pending.extend(args),
                _ => {}
            }
        }
        false
    }

    /// For an operation that compares values of a type with its own `Eq`,
    /// `Hash` or `Ord` (a map or set finding a key, `contains`, `sort`):
    /// the standard library's STARK function doing it through those impls
    /// (`user_map_*`, `user_set_*`, `user_contains`, `user_sort`).
    fn user_law_call(&mut self, name: &str, subst: &Subst) -> Option<u32> {
        let (helper, params) = user_law_helper(name)?;
        let key = *subst.get(&Symbol::intern(params[0]))?;
        let own_law = [self.c.lang.eq, self.c.lang.hash, self.c.lang.ord]
            .into_iter()
            .flatten()
            .any(|t| self.c.has_user_impl_of(t, key));
        if !own_law {
            return None;
        }
        let def = self.c.std_fn(helper)?;
        let helper_subst: Subst =
            params.iter().filter_map(|p| Some((Symbol::intern(p), *subst.get(&Symbol::intern(p))?))).collect();
        Some(self.c.instance(def, helper_subst))
    }

    /// Whether a container type holds values shown by a user `Display`
    /// (the VM's built-in rendering cannot call it).
    fn has_user_display_inside(&mut self, ty: Ty) -> bool {
        let Some(display) = self.c.lang.display else { return false };
        let parts: Vec<Ty> = match self.c.types.kind(ty).clone() {
            TyKind::Tuple(items) => items,
            TyKind::Array(e, _) | TyKind::Slice(e) => vec![e],
            TyKind::Adt(_, args) => args,
            TyKind::Ref { ty, .. } => vec![ty],
            _ => return false,
        };
        parts.into_iter().any(|p| {
            let user = self.c.has_user_impl_of(display, p);
            user || self.has_user_display_inside(p)
        })
    }

    /// The compiled user method `name` of `trait_` for `ty`, if the
    /// impl has a body (user code, or a library body in STARK).
    pub fn user_trait_method(&mut self, trait_: DefId, ty: Ty, name: &str) -> Option<u32> {
        let (imp, map) = self.c.find_impl(trait_, ty)?;
        let name = Symbol::intern(name);
        let def = self.c.items.impls[imp].methods.iter().find(|(n, _)| *n == name).map(|(_, d)| *d);
        let def = match def {
            Some(d) => d,
            None => {
                // The trait's default body.
                let t = &self.c.items.traits[&trait_];
                let (_, d, has_default) = *t.methods.iter().find(|(n, _, _)| *n == name)?;
                if !has_default {
                    return None;
                }
                let mut m = map;
                m.insert(Symbol::intern("Self"), ty);
                return Some(self.c.instance(d, m));
            }
        };
        if self.c.bodies.get(&def).is_none_or(|b| b.decl.body.is_none()) {
            return None;
        }
        Some(self.c.instance(def, map))
    }

    /// `Default::default()` of a library type.
    fn default_value(&mut self, ty: Ty, e: &ast::Expr) -> Reg {
        if let Some(n) = self.c.scalar(ty) {
            let v = if n == NumTy::F64 {
                Value::f64(0.0)
            } else if n == NumTy::F32 {
                Value::f32(0.0)
            } else {
                Value::int(0)
            };
            return self.constant(v);
        }
        let base = self.alloc();
        if Some(ty) == self.c.string_ty() {
            self.native(Native::StringNew, Slot::Fn, NO_LAYOUT, NO_LAYOUT, base);
            return base;
        }
        if matches!(self.c.types.kind(ty), TyKind::Adt(d, _) if Some(*d) == self.c.lang.vec) {
            let l = self.c.layout(ty);
            self.native(Native::VecNew, Slot::Fn, l, NO_LAYOUT, base);
            return base;
        }
        self.c.unsupported(e.span, "`Default::default()` for this library type");
        base
    }
}

/// The operations that compare keys or elements, with the standard
/// library's function doing each for a type with its own `Eq`/`Hash` and
/// that function's type parameters (the compared type's first).
fn user_law_helper(name: &str) -> Option<(&'static str, &'static [&'static str])> {
    const MAP: &[&str] = &["K", "V"];
    Some(match name {
        "HashMap::insert" => ("user_map_insert", MAP),
        "HashMap::get" => ("user_map_get", MAP),
        "HashMap::get_mut" => ("user_map_get_mut", MAP),
        "HashMap::remove" => ("user_map_remove", MAP),
        "HashMap::contains_key" => ("user_map_contains_key", MAP),
        "HashSet::insert" => ("user_set_insert", &["T"]),
        "HashSet::remove" => ("user_set_remove", &["T"]),
        "HashSet::contains" => ("user_set_contains", &["T"]),
        "Vec::contains" | "[]::contains" => ("user_contains", &["T"]),
        "Vec::sort" => ("user_sort", &["T"]),
        _ => return None,
    })
}

/// The native of a `Json` or `http` library function, and the standard
/// type whose value it moves out (the request sent, the response given).
fn json_or_net_native(name: &str) -> Option<(Native, Option<&'static str>)> {
    use stark_vm::json::JsonOp;
    use stark_vm::net::NetFn;
    let json = match name {
        "Json::parse" => JsonOp::Parse,
        "Json::null_value" => JsonOp::Null,
        "Json::from_bool" => JsonOp::FromBool,
        "Json::from_int" => JsonOp::FromInt,
        "Json::from_float" => JsonOp::FromFloat,
        "Json::from_string" => JsonOp::FromStr,
        "Json::array" => JsonOp::Array,
        "Json::object" => JsonOp::Object,
        "Json::from_list" => JsonOp::FromList,
        "Json::push" => JsonOp::Push,
        "Json::insert" => JsonOp::Insert,
        "Json::get" => JsonOp::Get,
        "Json::at" => JsonOp::At,
        "Json::len" => JsonOp::Len,
        "Json::kind" => JsonOp::Kind,
        "Json::keys" => JsonOp::Keys,
        "Json::is_null" => JsonOp::IsNull,
        "Json::as_int" => JsonOp::AsInt,
        "Json::as_float" => JsonOp::AsFloat,
        "Json::as_str" => JsonOp::AsStr,
        "Json::as_bool" => JsonOp::AsBool,
        "Json::as_array" => JsonOp::AsArray,
        "Json::as_object" => JsonOp::AsObject,
        "Json::pretty" => JsonOp::Pretty,
        _ => {
            let (net, moved) = match name {
                "Request::send" => (NetFn::Send, Some("Request")),
                "Responder::respond" => (NetFn::Respond, Some("Response")),
                "http::bind" => (NetFn::Bind, None),
                "Server::accept" => (NetFn::Accept, None),
                "Server::stop" => (NetFn::Stop, None),
                "Server::port" => (NetFn::Port, None),
                "Server::addr" => (NetFn::Addr, None),
                _ => return None,
            };
            return Some((Native::Net(net), moved));
        }
    };
    Some((Native::Json(json), None))
}
