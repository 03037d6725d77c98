//! Type checking of bodies: local inference (TYPE-INFER-001) over each
//! function, method, handler and constant, against the item signatures.
//! Expected types flow inward; coercions happen only at their sites
//! (never-to-any, `&mut` to `&`, array reference to slice reference).

mod expr;
mod ext;
mod infer;
mod method;
mod pat;
mod tensor;

use crate::defs::{DefId, DefTable, Prim, Res};
use crate::items::{FnSig, GenericParamDef, Items};
use crate::lang::Lang;
use crate::loader::Package;
use crate::resolve::Resolutions;
use crate::ty::{Common, Ty, TyKind, Types};
use infer::Infer;
use rustc_hash::FxHashMap;
use stark_syntax::ast::{self, ItemKind};
use stark_syntax::{Diagnostic, Span};

/// What type checking found out, for later stages.
#[derive(Debug, Default)]
pub struct TypeckResults {
    /// The type of every checked expression, by its span.
    pub expr_types: FxHashMap<Span, Ty>,
    /// The type of every local variable.
    pub local_types: FxHashMap<u32, Ty>,
    /// The outer locals each closure and spawned block uses, by its span.
    pub captures: FxHashMap<Span, Vec<Capture>>,
    /// The function or method each call resolved to, with its generic
    /// arguments: by the span of a method call expression, or of the path
    /// naming a function. What monomorphisation and dispatch need.
    pub instances: FxHashMap<Span, Instance>,
}

/// A use of a function or method at concrete generic arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// The function, method, or trait method (for a default body or a
    /// call through a bound).
    pub def: DefId,
    /// Its generic parameters (the owner's, its own, and `Self` where
    /// there is one) and their types, by name.
    pub args: Vec<(stark_syntax::Symbol, Ty)>,
}

/// A local used inside a closure or spawned block but declared outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capture {
    /// The local.
    pub local: u32,
    /// Moved in (`move` closures, `spawn` blocks) rather than borrowed;
    /// the ownership checker decides what a borrow may reach.
    pub by_move: bool,
}

/// A nested body being checked, collecting its captures.
struct CaptureFrame {
    span: Span,
    by_move: bool,
    captures: Vec<Capture>,
}

/// Everything a body is checked against.
pub(crate) struct Env<'a> {
    pub defs: &'a DefTable,
    pub res: &'a Resolutions,
    pub items: &'a Items,
    pub lang: Lang,
    pub common: Common,
    /// Locals by the span of their binding.
    pub local_at: FxHashMap<Span, u32>,
    /// Whether ownership and borrows are checked.
    pub ownership: bool,
}

/// Checks every body of every package.
pub fn check(
    packages: &[Package],
    defs: &DefTable,
    res: &Resolutions,
    items: &Items,
    types: &mut Types,
    common: Common,
    ownership: bool,
) -> (TypeckResults, Vec<Diagnostic>) {
    let local_at = res.locals.iter().enumerate().map(|(i, l)| (l.span, i as u32)).collect();
    let env = Env { defs, res, items, lang: Lang::find(defs), common, local_at, ownership };
    let mut results = TypeckResults::default();
    let mut diagnostics = Vec::new();
    for package in packages {
        let mut walker = ItemWalker { env: &env, types, results: &mut results, diagnostics: &mut diagnostics };
        walker.items(&package.program.items);
    }
    (results, diagnostics)
}

struct ItemWalker<'a, 'b> {
    env: &'a Env<'a>,
    types: &'b mut Types,
    results: &'b mut TypeckResults,
    diagnostics: &'b mut Vec<Diagnostic>,
}

impl ItemWalker<'_, '_> {
    fn items(&mut self, items: &[ast::Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Fn(f) => self.function(f, None),
                ItemKind::Impl(i) => {
                    let self_ty =
                        self.env.defs.at(item.span).and_then(|d| self.env.items.impl_by_def(d)).map(|imp| imp.self_ty);
                    for impl_item in &i.items {
                        if let ast::ImplItem::Fn(_, f) = impl_item {
                            self.function(f, self_ty);
                        }
                    }
                }
                ItemKind::Trait(t) => {
                    let self_ty = self.types.intern(TyKind::Param(stark_syntax::Symbol::intern("Self")));
                    for trait_item in &t.items {
                        if let ast::TraitItem::Fn(f) = trait_item {
                            self.function(f, Some(self_ty));
                        }
                    }
                }
                ItemKind::Actor(a) => {
                    let self_ty = self.env.defs.at(a.name.span).map(|d| self.types.intern(TyKind::Adt(d, Vec::new())));
                    for handler in &a.handlers {
                        self.function(handler, self_ty);
                    }
                    // A default is checked against its field's declared type.
                    let fields = self.env.defs.at(a.name.span).and_then(|d| match &self.env.items.adts.get(&d)?.kind {
                        crate::items::AdtKind::Actor { fields, .. } => Some(fields),
                        _ => None,
                    });
                    for field in &a.fields {
                        let declared = fields.and_then(|fs| fs.iter().find(|(f, _, _)| f.span == field.name.span));
                        if let (Some(default), Some((def, _, _))) = (&field.default, declared) {
                            self.constant(default, def.ty, &[]);
                        }
                    }
                }
                ItemKind::Const(c) => {
                    let ty = self
                        .env
                        .defs
                        .at(c.name.span)
                        .and_then(|d| self.env.items.consts.get(&d).copied())
                        .unwrap_or(self.env.common.err);
                    self.constant(&c.value, ty, &[]);
                }
                ItemKind::Mod(m) => {
                    if let Some(items) = &m.items {
                        self.items(items);
                    }
                }
                _ => {}
            }
        }
    }

    fn function(&mut self, f: &ast::FnDecl, self_ty: Option<Ty>) {
        let Some(body) = &f.body else { return };
        let Some(def) = self.env.defs.at(f.name.span) else {
            return;
        };
        let Some(sig) = self.env.items.fns.get(&def) else {
            return;
        };
        // Mutability errors (E0400) leave the types sound: ownership is
        // still checked after them.
        let errors = |d: &[Diagnostic]| {
            d.iter().filter(|d| d.severity == stark_syntax::Severity::Error && d.code != "E0400").count()
        };
        let errors_before = errors(self.diagnostics);
        let mut cx = FnCtxt::new(self.env, self.types, self.diagnostics, &sig.generics, self_ty, sig.ret);
        cx.bind_params(f, sig, self_ty);
        cx.check_fn_body(body, sig);
        cx.finish(self.results);
        // Ownership is checked only over well-typed bodies: a type error
        // would only cause follow-on reports.
        if self.env.ownership && errors(self.diagnostics) == errors_before {
            let mut scratch = Vec::new();
            let mut oracle = FnCtxt::new(self.env, self.types, &mut scratch, &sig.generics, self_ty, sig.ret);
            let found = crate::own::check_fn(&mut oracle, self.results, f, body, sig);
            self.diagnostics.extend(found);
        }
    }

    fn constant(&mut self, value: &ast::Expr, ty: Ty, generics: &[GenericParamDef]) {
        let mut cx = FnCtxt::new(self.env, self.types, self.diagnostics, generics, None, ty);
        let found = cx.expr(value, Some(ty));
        if !cx.types.is_err(ty) {
            cx.coerce(found, ty, value.span, None);
        }
        cx.finish(self.results);
    }
}

/// A loop being checked: what its `break`s carry.
struct LoopCtx {
    /// `loop` (breaks may carry a value) or `while`/`for` (they may not).
    is_loop: bool,
    /// The unified type of its breaks' values, once one is seen.
    break_ty: Option<Ty>,
}

/// A trait obligation to check once inference is done.
struct Obligation {
    ty: Ty,
    trait_: DefId,
    span: Span,
}

/// The state of checking one body.
pub(crate) struct FnCtxt<'a, 'b> {
    pub(crate) env: &'a Env<'a>,
    pub(crate) types: &'b mut Types,
    pub(crate) infer: Infer,
    pub(crate) diagnostics: &'b mut Vec<Diagnostic>,
    pub(crate) generics: &'a [GenericParamDef],
    pub(crate) self_ty: Option<Ty>,
    /// The type `return` must give (for `async fn`, the future's value).
    ret: Ty,
    locals: FxHashMap<u32, Ty>,
    loops: Vec<LoopCtx>,
    /// Whether control cannot reach the current point.
    pub(crate) diverges: bool,
    /// Unsuffixed integer literals, range-checked once their type is known.
    int_literals: Vec<(Ty, u64, Span)>,
    obligations: Vec<Obligation>,
    expr_types: Vec<(Span, Ty)>,
    /// Set once a `match` reported a pattern of the wrong type.
    pub(crate) pattern_mismatch_reported: bool,
    /// Locals declared without an initializer, with the loop depth of
    /// their declaration.
    pub(crate) deferred: FxHashMap<u32, usize>,
    /// Which deferred locals are assigned, along the current path.
    pub(crate) init: InitState,
    /// Deferred locals already reported as used uninitialized.
    reported_uninit: rustc_hash::FxHashSet<u32>,
    /// Variables standing for generic arguments, to report if never inferred.
    pub(crate) generic_vars: Vec<(Ty, Span)>,
    /// The element types of `Tensor::..` calls: `Float32` unless inferred.
    pub(crate) tensor_dtypes: Vec<Ty>,
    /// Two traits that both supplied the method last looked up (E0203).
    ambiguous: Option<(DefId, DefId)>,
    /// Closures and spawned blocks being checked, innermost last.
    capture_frames: Vec<CaptureFrame>,
    /// Finished nested bodies and what they capture.
    captures: Vec<(Span, Vec<Capture>)>,
    /// Calls resolved so far, zonked when the body is done.
    instances: Vec<(Span, Instance)>,
    /// Whether the patterns being checked bind through a reference
    /// (PAT-BIND-001).
    pub(crate) bind_by_ref: bool,
}

/// Definite-assignment state of deferred locals (`let x: T;`).
#[derive(Clone, Debug, Default)]
pub(crate) struct InitState {
    /// Assigned on some path here.
    pub maybe: rustc_hash::FxHashSet<u32>,
    /// Assigned on every path here.
    pub definitely: rustc_hash::FxHashSet<u32>,
}

impl InitState {
    /// The state after two paths meet.
    pub fn join(a: InitState, b: InitState) -> InitState {
        InitState {
            maybe: a.maybe.union(&b.maybe).copied().collect(),
            definitely: a.definitely.intersection(&b.definitely).copied().collect(),
        }
    }
}

impl<'a, 'b> FnCtxt<'a, 'b> {
    fn new(
        env: &'a Env<'a>,
        types: &'b mut Types,
        diagnostics: &'b mut Vec<Diagnostic>,
        generics: &'a [GenericParamDef],
        self_ty: Option<Ty>,
        ret: Ty,
    ) -> FnCtxt<'a, 'b> {
        FnCtxt {
            env,
            types,
            infer: Infer::default(),
            diagnostics,
            generics,
            self_ty,
            ret,
            locals: FxHashMap::default(),
            loops: Vec::new(),
            diverges: false,
            int_literals: Vec::new(),
            obligations: Vec::new(),
            expr_types: Vec::new(),
            pattern_mismatch_reported: false,
            deferred: FxHashMap::default(),
            init: InitState::default(),
            reported_uninit: Default::default(),
            generic_vars: Vec::new(),
            tensor_dtypes: Vec::new(),
            ambiguous: None,
            capture_frames: Vec::new(),
            captures: Vec::new(),
            instances: Vec::new(),
            bind_by_ref: false,
        }
    }

    fn bind_params(&mut self, f: &ast::FnDecl, sig: &FnSig, self_ty: Option<Ty>) {
        if let (Some(receiver), Some(self_ty)) = (f.receiver, self_ty) {
            let ty = match receiver.kind {
                ast::ReceiverKind::Value => self_ty,
                ast::ReceiverKind::Ref => self.types.intern(TyKind::Ref { mutable: false, ty: self_ty }),
                ast::ReceiverKind::RefMut => self.types.intern(TyKind::Ref { mutable: true, ty: self_ty }),
            };
            self.bind_local_at(receiver.span, ty);
        }
        for (param, &ty) in f.params.iter().zip(&sig.params) {
            self.bind_local_at(param.name.span, ty);
        }
        // Actor fields are locals in every handler.
        if let Some(self_ty) = self_ty {
            if let TyKind::Adt(def, _) = *self.types.kind(self_ty) {
                if let Some(crate::items::AdtDef { kind: crate::items::AdtKind::Actor { fields, .. }, .. }) =
                    self.env.items.adts.get(&def)
                {
                    for (field, _, _) in fields {
                        self.bind_local_at(field.span, field.ty);
                    }
                    self.bind_local_at(self.env.defs.def(def).span, self_ty);
                }
            }
        }
    }

    pub(crate) fn bind_local_at(&mut self, span: Span, ty: Ty) {
        if let Some(&id) = self.env.local_at.get(&span) {
            self.locals.insert(id, ty);
        }
    }

    /// A read of a local: a deferred one must be assigned on every path
    /// here (E0401).
    pub(crate) fn read_local(&mut self, id: u32, span: Span) -> Ty {
        self.note_capture(id);
        if self.deferred.contains_key(&id) && !self.init.definitely.contains(&id) && self.reported_uninit.insert(id) {
            let local = &self.env.res.locals[id as usize];
            let (name, decl) = (local.name, local.span);
            let how = if self.init.maybe.contains(&id) { "possibly-uninitialized" } else { "uninitialized" };
            let diagnostic = Diagnostic::error("E0401", format!("use of {how} variable `{name}`"))
                .primary(span, format!("`{name}` is read here"))
                .secondary(decl, "declared here without a value");
            self.diagnostics.push(diagnostic);
        }
        self.local_ty(id)
    }

    /// Records an assignment to a local; an immutable deferred local may be
    /// assigned once (returns whether this assignment is allowed).
    pub(crate) fn assign_local(&mut self, id: u32, span: Span) -> bool {
        let Some(&depth) = self.deferred.get(&id) else { return false };
        let local = &self.env.res.locals[id as usize];
        let (name, decl, mutable) = (local.name, local.span, local.mutable);
        let twice = self.init.maybe.contains(&id) || depth < self.loops.len();
        self.init.maybe.insert(id);
        self.init.definitely.insert(id);
        if mutable {
            return true;
        }
        if twice {
            let diagnostic = Diagnostic::error("E0400", format!("cannot assign twice to immutable variable `{name}`"))
                .primary(span, "may already be assigned here")
                .secondary(decl, format!("declared here; write `mut {name}` to allow it"));
            self.diagnostics.push(diagnostic);
        }
        true
    }

    pub(crate) fn local_ty(&mut self, id: u32) -> Ty {
        match self.locals.get(&id) {
            Some(&ty) => ty,
            None => self.env.common.err,
        }
    }

    fn check_fn_body(&mut self, body: &ast::Block, sig: &FnSig) {
        let ret = sig.ret;
        let found = self.block(body, Some(ret));
        if self.diverges || self.types.is_err(ret) {
            return;
        }
        let tail_span = body.tail.as_ref().map_or(body.span, |t| t.span);
        let unit = self.env.common.unit;
        let found_unit = self.infer.resolve(self.types, found) == unit;
        if found_unit && self.infer.resolve(self.types, ret) != unit {
            let expected = self.show(ret);
            let diagnostic =
                Diagnostic::error("E0301", format!("missing return value: this function must return `{expected}`"))
                    .primary(Span::at(body.span.hi.saturating_sub(1) as usize), "the body ends without a value")
                    .secondary(sig.span, format!("declared to return `{expected}`"));
            self.diagnostics.push(diagnostic);
            return;
        }
        self.coerce(found, ret, tail_span, Some((sig.span, "return type declared here")));
    }

    /// Records what an expression's type is.
    pub(crate) fn record(&mut self, span: Span, ty: Ty) {
        self.expr_types.push((span, ty));
    }

    /// Finishes inference: defaults literals, checks literal ranges and
    /// trait obligations, and stores the solved types.
    fn finish(mut self, results: &mut TypeckResults) {
        // An unconstrained literal too big for `Int32` is an `Int64`.
        let i64_ty = self.env.common.i64;
        for &(ty, value, _) in &self.int_literals {
            if value > i32::MAX as u64
                && matches!(self.types.kind(self.infer.resolve(self.types, ty)), TyKind::IntVar(_))
            {
                let _ = self.infer.unify(self.types, ty, i64_ty);
            }
        }
        // A tensor's element type defaults to `Float32` (as PyTorch's
        // does), also over a float literal's `Float64` (`Tensor::full([2], 0.5)`).
        let f32_ty = self.types.intern(TyKind::Prim(Prim::Float32));
        for ty in std::mem::take(&mut self.tensor_dtypes) {
            let t = self.infer.resolve(self.types, ty);
            if matches!(self.types.kind(t), TyKind::Var(_) | TyKind::FloatVar(_)) {
                let _ = self.infer.unify(self.types, t, f32_ty);
            }
        }
        self.infer.default_literals(self.types);
        let clean = !self.diagnostics.iter().any(|d| d.severity == stark_syntax::Severity::Error);
        for (var, span) in std::mem::take(&mut self.generic_vars) {
            let ty = self.infer.resolve(self.types, var);
            if clean && matches!(self.types.kind(ty), TyKind::Var(_)) {
                let diagnostic = Diagnostic::error("E0004", "cannot infer a type argument of this call")
                    .primary(span, "its generic parameter is never determined")
                    .help("give it explicitly (`f::<Int32>()`) or annotate the result");
                self.diagnostics.push(diagnostic);
                break;
            }
        }
        for (ty, value, span) in std::mem::take(&mut self.int_literals) {
            let ty = self.infer.resolve(self.types, ty);
            if let TyKind::Prim(p) = *self.types.kind(ty) {
                self.check_int_range(value, p, span, false);
            }
        }
        for obligation in std::mem::take(&mut self.obligations) {
            let ty = self.infer.zonk(self.types, obligation.ty);
            if !self.implements(ty, obligation.trait_) {
                self.not_implemented(ty, obligation.trait_, obligation.span);
            }
        }
        for (span, ty) in std::mem::take(&mut self.expr_types) {
            let ty = self.infer.zonk(self.types, ty);
            results.expr_types.insert(span, ty);
        }
        results.captures.extend(std::mem::take(&mut self.captures));
        for (span, mut instance) in std::mem::take(&mut self.instances) {
            for (_, ty) in &mut instance.args {
                *ty = self.infer.zonk(self.types, *ty);
            }
            results.instances.insert(span, instance);
        }
        for (id, ty) in std::mem::take(&mut self.locals) {
            let ty = self.infer.zonk(self.types, ty);
            results.local_types.insert(id, ty);
        }
    }

    /// Checks that an integer literal fits its type (E0008).
    pub(crate) fn check_int_range(&mut self, value: u64, prim: Prim, span: Span, negated: bool) {
        let Some((min, max)) = prim.int_range() else { return };
        let v = if negated { -(value as i128) } else { value as i128 };
        if v < min || v > max {
            let diagnostic = Diagnostic::error(
                "E0008",
                format!("integer literal out of range for `{}`", crate::ty::prim_name(prim)),
            )
            .primary(
                span,
                format!(
                    "`{}` does not fit; the range is {min}..={max}",
                    if negated { format!("-{value}") } else { value.to_string() }
                ),
            );
            self.diagnostics.push(diagnostic);
        }
    }

    pub(crate) fn note_int_literal(&mut self, ty: Ty, value: u64, span: Span) {
        self.int_literals.push((ty, value, span));
    }

    pub(crate) fn oblige(&mut self, ty: Ty, trait_: DefId, span: Span) {
        self.obligations.push(Obligation { ty, trait_, span });
    }

    /// A type for display.
    pub(crate) fn show(&mut self, ty: Ty) -> String {
        let ty = self.infer.zonk(self.types, ty);
        self.types.display(ty, self.env.defs)
    }

    /// Makes `found` fit `expected` at a coercion site, reporting E0001.
    pub(crate) fn coerce(&mut self, found: Ty, expected: Ty, span: Span, origin: Option<(Span, &str)>) -> Ty {
        let f = self.infer.resolve(self.types, found);
        let e = self.infer.resolve(self.types, expected);
        if matches!(self.types.kind(f), TyKind::Never) {
            return expected;
        }
        // `&mut T` to `&T`, and `&[T; N]` to `&[T]` behind either reference
        // kind (never `&` to `&mut`).
        if let (TyKind::Ref { mutable: fm, ty: ft }, TyKind::Ref { mutable: em, ty: et }) =
            (self.types.kind(f).clone(), self.types.kind(e).clone())
        {
            if (fm || !em) && self.array_to_slice(ft, et) {
                return expected;
            }
            if fm && !em && self.infer.unify(self.types, ft, et).is_ok() {
                return expected;
            }
        }
        // An integer array is a tensor `Shape` (`Tensor::zeros([2, 3])`).
        if let (TyKind::Array(elem, _), TyKind::Adt(def, _)) = (self.types.kind(f).clone(), self.types.kind(e).clone())
        {
            let i64_ty = self.env.common.i64;
            if self.env.lang.shape == Some(def) && self.infer.unify(self.types, elem, i64_ty).is_ok() {
                return expected;
            }
        }
        if self.infer.unify(self.types, found, expected).is_err() {
            self.mismatch(expected, found, span, origin);
            return self.env.common.err;
        }
        expected
    }

    /// Whether `found` is an array whose element type fits slice `expected`.
    fn array_to_slice(&mut self, found: Ty, expected: Ty) -> bool {
        let (f, e) = (self.infer.resolve(self.types, found), self.infer.resolve(self.types, expected));
        match (self.types.kind(f).clone(), self.types.kind(e).clone()) {
            (TyKind::Array(elem, _), TyKind::Slice(selem)) => self.infer.unify(self.types, elem, selem).is_ok(),
            _ => false,
        }
    }

    /// Reports that `found` is not `expected` (E0001).
    pub(crate) fn mismatch(&mut self, expected: Ty, found: Ty, span: Span, origin: Option<(Span, &str)>) {
        let (e, f) = (self.show(expected), self.show(found));
        if e.contains("{error}") || f.contains("{error}") {
            return;
        }
        let tensors = self.tensor_parts(expected).is_some() && self.tensor_parts(found).is_some();
        let (code, what) = if tensors { ("E0212", "mismatched tensor types") } else { ("E0001", "mismatched types") };
        let mut diagnostic = Diagnostic::error(code, format!("{what}: expected `{e}`, found `{f}`"))
            .primary(span, format!("expected `{e}`, found `{f}`"));
        if let Some((origin, label)) = origin {
            diagnostic = diagnostic.secondary(origin, label);
        }
        self.diagnostics.push(diagnostic);
    }

    /// Reports that a type does not implement a trait (E0500).
    pub(crate) fn not_implemented(&mut self, ty: Ty, trait_: DefId, span: Span) {
        let (t, name) = (self.show(ty), self.env.defs.def(trait_).name);
        if t.contains("{error}") {
            return;
        }
        let diagnostic = Diagnostic::error("E0500", format!("the trait `{name}` is not implemented for `{t}`"))
            .primary(span, format!("`{t}` does not implement `{name}`"))
            .secondary(self.env.defs.def(trait_).span, "trait declared here");
        self.diagnostics.push(diagnostic);
    }

    /// Reports a construct this checker does not handle yet.
    pub(crate) fn unsupported(&mut self, what: &str, span: Span) -> Ty {
        let diagnostic = Diagnostic::error("E0900", format!("not supported yet: type checking of {what}"))
            .primary(span, "not checked yet");
        self.diagnostics.push(diagnostic);
        self.env.common.err
    }

    /// Whether a type is `Res::Err`-tainted (already reported).
    pub(crate) fn is_err(&mut self, ty: Ty) -> bool {
        let ty = self.infer.resolve(self.types, ty);
        self.types.is_err(ty)
    }

    /// The resolution of a path.
    pub(crate) fn path_res(&self, path: &ast::Path) -> Option<crate::resolve::PathRes> {
        self.env.res.paths.get(&path.span).copied()
    }

    pub(crate) fn res_of_span(&self, span: Span) -> Option<Res> {
        self.env.res.paths.get(&span).map(|p| p.res)
    }
}
