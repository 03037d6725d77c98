//! Calls, methods, associated functions and trait implementation: the
//! parts of checking that search impls (TYPE-METHOD-001..003).

use super::FnCtxt;
use crate::defs::{DefId, DefKind, Prim, Res};
use crate::items::{subst, AdtKind, FnSig, ImplDef, TypeHead};
use crate::resolve::PathRes;
use crate::ty::{Ty, TyKind};
use rustc_hash::FxHashMap;
use stark_syntax::ast::{self, ExprKind, ReceiverKind};
use stark_syntax::{Diagnostic, Span, Symbol};

type Subst = FxHashMap<Symbol, Ty>;

/// A method found for a receiver.
struct Candidate {
    def: DefId,
    /// Substitution for the impl's or trait's parameters (and `Self`).
    map: Subst,
}

impl FnCtxt<'_, '_> {
    /// Runs `f`; when it returns `None`, every inference binding it made
    /// is undone.
    fn probe<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let saved = self.infer.clone();
        let result = f(self);
        if result.is_none() {
            self.infer = saved;
        }
        result
    }

    /// Whether `imp` applies to `ty`; binds its parameters if so.
    fn match_impl(&mut self, imp: &ImplDef, ty: Ty) -> Option<Subst> {
        self.probe(|cx| {
            let map: Subst = imp.generics.iter().map(|g| (g.name, cx.infer.var(cx.types))).collect();
            let self_ty = subst(cx.types, imp.self_ty, &map);
            cx.infer.unify(cx.types, self_ty, ty).ok().map(|()| map)
        })
    }

    /// Instantiates a signature: fresh variables for parameters not in
    /// `preset`, explicit arguments for its own generics, obligations for
    /// every bound. Returns (parameter types, return type).
    fn instantiate(&mut self, def: DefId, sig: &FnSig, mut map: Subst, explicit: &[Ty], span: Span) -> (Vec<Ty>, Ty) {
        let own_start = sig.generics.len() - sig.own_generics;
        if !explicit.is_empty() && explicit.len() != sig.own_generics {
            let diagnostic = Diagnostic::error(
                "E0010",
                format!(
                    "this function takes {} generic argument{}, but {} were given",
                    sig.own_generics,
                    if sig.own_generics == 1 { "" } else { "s" },
                    explicit.len()
                ),
            )
            .primary(span, "wrong number of generic arguments");
            self.diagnostics.push(diagnostic);
        }
        for (i, g) in sig.generics.iter().enumerate() {
            if map.contains_key(&g.name) {
                continue;
            }
            let ty = match explicit.get(i.wrapping_sub(own_start)) {
                Some(&t) if i >= own_start => t,
                _ => {
                    let var = self.infer.var(self.types);
                    self.generic_vars.push((var, span));
                    var
                }
            };
            map.insert(g.name, ty);
        }
        for g in &sig.generics {
            let ty = map[&g.name];
            for bound in &g.bounds {
                self.oblige(ty, bound.trait_, span);
            }
        }
        let params: Vec<Ty> = sig.params.iter().map(|&p| subst(self.types, p, &map)).collect();
        let mut args: Vec<(Symbol, Ty)> = map.iter().map(|(&name, &ty)| (name, ty)).collect();
        args.sort_by_key(|(name, _)| name.as_str());
        self.instances.push((span, super::Instance { def, args }));
        let params = params.into_iter().map(|p| self.normalize(p)).collect();
        let mut ret = subst(self.types, sig.ret, &map);
        ret = self.normalize(ret);
        if sig.is_async {
            ret = self.future_of(ret);
        }
        (params, ret)
    }

    fn future_of(&mut self, ty: Ty) -> Ty {
        match self.env.lang.future {
            Some(def) => self.types.intern(TyKind::Adt(def, vec![ty])),
            None => self.env.common.err,
        }
    }

    fn explicit_args(&mut self, path: &ast::Path) -> Vec<Ty> {
        let args = self.lowering(|l| l.generic_args(path));
        args.into_iter().map(|t| self.normalize(t)).collect()
    }

    /// A function item used as a value: its instantiated `fn` type.
    pub(crate) fn instantiate_fn(&mut self, def: DefId, path: &ast::Path, span: Span) -> Ty {
        let Some(sig) = self.env.items.fns.get(&def) else {
            return self.env.common.err;
        };
        let explicit = self.explicit_args(path);
        let (params, ret) = self.instantiate(def, sig, Subst::default(), &explicit, span);
        self.types.intern(TyKind::Fn(params, ret))
    }

    /// `callee(args)`.
    pub(crate) fn call(&mut self, callee: &ast::Expr, args: &[ast::Expr], span: Span, expected: Option<Ty>) -> Ty {
        let callee_ty = self.expr(callee, None);
        let resolved = self.infer.resolve(self.types, callee_ty);
        match self.types.kind(resolved).clone() {
            TyKind::Fn(params, ret) => {
                if let Some(expected) = expected {
                    // The expected result guides inference (`let v: Vec<Int32> = Vec::new()`).
                    let probe_ret = ret;
                    self.probe(|cx| cx.infer.unify(cx.types, probe_ret, expected).ok());
                }
                let declared = self.declared_params(callee.span, params.len());
                self.check_args(&params, args, span, callee.span, &declared);
                // Projections on arguments' types (`A::Out`) are known now.
                let ret = self.normalize(ret);
                let ret = self.bind_named_dims(&params, args, ret);
                self.library_tensor_call(callee, args, ret, span)
            }
            TyKind::Err => {
                for arg in args {
                    self.expr(arg, None);
                }
                resolved
            }
            _ => {
                for arg in args {
                    self.expr(arg, None);
                }
                let t = self.show(callee_ty);
                let diagnostic = Diagnostic::error("E0013", format!("`{t}` is not a function"))
                    .primary(callee.span, "cannot be called");
                self.diagnostics.push(diagnostic);
                self.env.common.err
            }
        }
    }

    /// The shaped result of a library tensor constructor (`Tensor::zeros`)
    /// or function (`softmax`); other calls' results are unchanged.
    fn library_tensor_call(&mut self, callee: &ast::Expr, args: &[ast::Expr], ret: Ty, span: Span) -> Ty {
        let ExprKind::Path(path) = &callee.kind else { return ret };
        let Some(resolved) = self.path_res(path) else { return ret };
        let Res::Def(def) = resolved.res else { return ret };
        let std_package = self.env.defs.package_roots.len() - 1;
        if self.env.defs.def(def).package.0 as usize != std_package {
            return ret;
        }
        if resolved.assoc_from + 1 == path.segments.len() && self.env.lang.tensor == Some(def) {
            let name = path.segments[resolved.assoc_from].name;
            return self.tensor_constructor(name.as_str(), args, ret);
        }
        if resolved.assoc_from == path.segments.len() && self.env.defs.def(def).kind == DefKind::Fn {
            let name = self.env.defs.def(def).name;
            return self.tensor_function(name.as_str(), args, ret, span);
        }
        ret
    }

    /// Where the parameters of the function named at `callee` are
    /// declared (the signature stands for a receiver taken as an argument);
    /// empty for closures and `fn` values.
    fn declared_params(&self, callee: Span, count: usize) -> Vec<Span> {
        // The callee path was instantiated just before its arguments.
        let Some((_, instance)) = self.instances.last().filter(|(s, _)| *s == callee) else { return Vec::new() };
        let Some(sig) = self.env.items.fns.get(&instance.def) else { return Vec::new() };
        if self.in_library(instance.def) {
            return Vec::new();
        }
        let mut spans = sig.param_spans.clone();
        if count == spans.len() + 1 {
            spans.insert(0, sig.span);
        }
        spans
    }

    /// Whether `def` is the standard library's (its source is not the
    /// user's to read, so diagnostics do not point into it).
    fn in_library(&self, def: DefId) -> bool {
        self.env.defs.def(def).package.0 as usize + 1 == self.env.defs.package_roots.len()
    }

    /// Checks arguments against parameter types (E0005 on a count
    /// mismatch); a mismatch points at the parameter's declaration too.
    fn check_args(&mut self, params: &[Ty], args: &[ast::Expr], span: Span, callee_span: Span, declared: &[Span]) {
        if params.len() != args.len() {
            let diagnostic = Diagnostic::error(
                "E0005",
                format!(
                    "this call takes {} argument{} but {} {} given",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
            )
            .primary(span, format!("expected {} argument{}", params.len(), if params.len() == 1 { "" } else { "s" }))
            .secondary(callee_span, "called here");
            self.diagnostics.push(diagnostic);
        }
        for (i, arg) in args.iter().enumerate() {
            match params.get(i) {
                Some(&param) => {
                    let found = self.expr(arg, Some(param));
                    let origin = declared.get(i).map(|&d| (d, "parameter declared here"));
                    self.coerce(found, param, arg.span, origin);
                }
                None => {
                    self.expr(arg, None);
                }
            }
        }
    }

    /// `receiver.method(args)`: inherent methods first, then traits, at each
    /// level of auto-dereference; the receiver is auto-borrowed as needed.
    pub(crate) fn method_call(
        &mut self,
        receiver: &ast::Expr,
        method: ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Ty {
        let receiver_ty = self.expr(receiver, None);
        let mut ty = self.infer.resolve(self.types, receiver_ty);
        let mut through: Option<bool> = None; // mutability of the last reference crossed
        for _ in 0..16 {
            if self.types.is_err(ty) {
                for arg in args {
                    self.expr(arg, None);
                }
                return ty;
            }
            if let Some(candidate) = self.find_method(ty, method.name) {
                self.report_ambiguity(method, ty);
                let sig = self.env.items.fns[&candidate.def].clone();
                if sig.receiver == Some(ReceiverKind::RefMut) {
                    match through {
                        Some(false) => {
                            let diagnostic = Diagnostic::error(
                                "E0400",
                                format!(
                                    "cannot call `{}` (which takes `&mut self`) through a `&` reference",
                                    method.name
                                ),
                            )
                            .primary(receiver.span, "behind a shared reference");
                            self.diagnostics.push(diagnostic);
                        }
                        None => self.check_mutable_place(
                            receiver,
                            &format!("call `{}` (which takes `&mut self`) on", method.name),
                        ),
                        Some(true) => {}
                    }
                }
                if sig.receiver.is_none() {
                    let diagnostic = Diagnostic::error(
                        "E0014",
                        format!("`{}` is an associated function, not a method", method.name),
                    )
                    .primary(method.span, "has no `self` parameter")
                    .help(format!("call it as `Type::{}(..)`", method.name));
                    self.diagnostics.push(diagnostic);
                }
                let (params, ret) = self.instantiate(candidate.def, &sig, candidate.map, &[], span);
                let declared = if self.in_library(candidate.def) { Vec::new() } else { sig.param_spans.clone() };
                self.check_args(&params, args, span, method.span, &declared);
                let ret = self.normalize(ret);
                let ret = self.bind_named_dims(&params, args, ret);
                return self.tensor_method(method.name, ty, args, ret, span);
            }
            match self.types.kind(ty).clone() {
                TyKind::Ref { mutable, ty: inner } => {
                    through = Some(mutable);
                    ty = self.infer.resolve(self.types, inner);
                }
                TyKind::Adt(def, a) if self.env.lang.is_deref(def) => {
                    if self.env.lang.is_gc_guard(def) {
                        through = Some(Some(def) == self.env.lang.gc_ref_mut);
                    }
                    ty = self.infer.resolve(self.types, a[0])
                }
                // An array has its slice's methods (`[1.0, 2.0].to_vec()`).
                TyKind::Array(elem, _) => ty = self.types.intern(TyKind::Slice(elem)),
                _ => break,
            }
        }
        for arg in args {
            self.expr(arg, None);
        }
        let t = self.show(receiver_ty);
        if let TyKind::Var(_) = self.types.kind(ty) {
            let diagnostic = Diagnostic::error(
                "E0004",
                format!("cannot infer the type of this value to call `{}` on it", method.name),
            )
            .primary(receiver.span, "type must be known here")
            .help("add a type annotation");
            self.diagnostics.push(diagnostic);
            return self.env.common.err;
        }
        let diagnostic = Diagnostic::error("E0014", format!("no method named `{}` found for `{t}`", method.name))
            .primary(method.span, "method not found");
        self.diagnostics.push(diagnostic);
        self.env.common.err
    }

    /// The unique method `name` applicable to `ty` (no auto-deref here).
    fn find_method(&mut self, ty: Ty, name: Symbol) -> Option<Candidate> {
        self.ambiguous = None;
        // Generic parameters: only their bounds' traits (TYPE-METHOD-003).
        if let TyKind::Param(param) = *self.types.kind(ty) {
            return self.method_from_bounds(param, ty, name);
        }
        let head = TypeHead::of(self.types, ty);
        let impls: Vec<&ImplDef> = self.env.items.impls_for(head).collect();
        // Inherent impls first.
        for imp in impls.iter().filter(|i| i.trait_ref.is_none()) {
            if let Some(&(_, def)) = imp.methods.iter().find(|(n, _)| *n == name) {
                if let Some(map) = self.match_impl(imp, ty) {
                    return Some(Candidate { def, map });
                }
            }
        }
        // Then trait impls: the impl's own method, or the trait's default.
        for imp in impls.iter().filter(|i| i.trait_ref.is_some()) {
            let trait_ref = imp.trait_ref.as_ref().expect("filtered");
            let trait_def = self.env.items.traits.get(&trait_ref.trait_)?;
            let Some(&(_, trait_method, _)) = trait_def.methods.iter().find(|(n, _, _)| *n == name) else {
                continue;
            };
            if let Some(mut map) = self.match_impl(imp, ty) {
                self.check_ambiguity(ty, name, trait_ref.trait_);
                if let Some(&(_, def)) = imp.methods.iter().find(|(n, _)| *n == name) {
                    return Some(Candidate { def, map });
                }
                map.insert(Symbol::intern("Self"), ty);
                for (g, &arg) in trait_def.generics.iter().zip(&trait_ref.args) {
                    let arg = subst(self.types, arg, &map);
                    map.insert(g.name, arg);
                }
                return Some(Candidate { def: trait_method, map });
            }
        }
        None
    }

    /// Notes (for E0203) a second trait that also gives a known type `ty`
    /// a method `name`; the first trait found is `first`.
    fn check_ambiguity(&mut self, ty: Ty, name: Symbol, first: DefId) {
        let zonked = self.infer.zonk(self.types, ty);
        if self.has_infer_vars(zonked) {
            return;
        }
        let impls = self.env.items.impls_for(TypeHead::of(self.types, zonked));
        for imp in impls {
            let Some(trait_ref) = &imp.trait_ref else { continue };
            if trait_ref.trait_ == first {
                continue;
            }
            let Some(trait_def) = self.env.items.traits.get(&trait_ref.trait_) else { continue };
            if !trait_def.methods.iter().any(|(n, _, _)| *n == name) {
                continue;
            }
            let saved = self.infer.clone();
            let applies = self.match_impl(imp, ty).is_some();
            self.infer = saved;
            if applies {
                self.ambiguous = Some((first, trait_ref.trait_));
                return;
            }
        }
    }

    /// Whether `ty` still has inference variables in it.
    fn has_infer_vars(&self, ty: Ty) -> bool {
        match self.types.kind(ty) {
            TyKind::Var(_) | TyKind::IntVar(_) | TyKind::FloatVar(_) => true,
            TyKind::Adt(_, args) | TyKind::Tuple(args) => args.iter().any(|&a| self.has_infer_vars(a)),
            TyKind::Ref { ty, .. } | TyKind::Array(ty, _) | TyKind::Slice(ty) => self.has_infer_vars(*ty),
            TyKind::Fn(params, ret) => params.iter().any(|&a| self.has_infer_vars(a)) || self.has_infer_vars(*ret),
            TyKind::Tensor { dtype, .. } => self.has_infer_vars(*dtype),
            _ => false,
        }
    }

    /// E0203 when the last method lookup found the name in two traits.
    fn report_ambiguity(&mut self, name: ast::Ident, ty: Ty) {
        let Some((first, second)) = self.ambiguous.take() else { return };
        let t = self.show(ty);
        let (a, b) = (self.env.defs.def(first), self.env.defs.def(second));
        let diagnostic = Diagnostic::error(
            "E0203",
            format!("ambiguous method `{}`: both `{}` and `{}` give `{t}` one", name.name, a.name, b.name),
        )
        .primary(name.span, "which trait's method is meant is unclear")
        .secondary(a.span, format!("`{}` declared here", a.name))
        .secondary(b.span, format!("`{}` declared here", b.name))
        .help(format!("call it as `{}::{}(&value)` or `{}::{}(&value)`", a.name, name.name, b.name, name.name));
        self.diagnostics.push(diagnostic);
    }

    fn method_from_bounds(&mut self, param: Symbol, ty: Ty, name: Symbol) -> Option<Candidate> {
        let bounds: Vec<_> =
            self.generics.iter().filter(|g| g.name == param).flat_map(|g| g.bounds.iter().cloned()).collect();
        for bound in bounds {
            let trait_def = self.env.items.traits.get(&bound.trait_)?;
            if let Some(&(_, def, _)) = trait_def.methods.iter().find(|(n, _, _)| *n == name) {
                let mut map: Subst =
                    trait_def.generics.iter().map(|g| g.name).zip(bound.args.iter().copied()).collect();
                map.insert(Symbol::intern("Self"), ty);
                return Some(Candidate { def, map });
            }
        }
        None
    }

    /// `Type::name` in value position: an associated function (or, for a
    /// method, the function taking the receiver first), or an actor's
    /// constructor `Name::new`.
    pub(crate) fn assoc_path(&mut self, path: &ast::Path, resolved: PathRes, expected: Option<Ty>) -> Ty {
        let name = path.segments[resolved.assoc_from];
        if resolved.assoc_from + 1 < path.segments.len() {
            return self.unsupported("paths through associated items", path.span);
        }
        let base = match resolved.res {
            Res::Def(def) => match self.env.defs.def(def).kind {
                DefKind::Struct if self.env.lang.tensor == Some(def) => {
                    let dtype = self.infer.var(self.types);
                    self.generic_vars.push((dtype, path.span));
                    self.tensor_dtypes.push(dtype);
                    self.types.intern(TyKind::Tensor { dtype, dims: None })
                }
                DefKind::Struct | DefKind::Enum => self.fresh_adt(def, None).0,
                DefKind::Actor => return self.actor_constructor(def, name, path.span),
                DefKind::TypeAlias => match self.env.items.aliases.get(&def) {
                    Some((params, target)) if params.is_empty() => *target,
                    _ => return self.unsupported("associated functions of generic aliases", path.span),
                },
                DefKind::Trait => return self.trait_function(def, name, path.span),
                _ => self.env.common.err,
            },
            Res::Prim(p) => self.prim(p),
            Res::SelfTy => self.self_ty.unwrap_or(self.env.common.err),
            Res::TyParam(param) => self.types.intern(TyKind::Param(param)),
            Res::Local(_) | Res::Err => self.env.common.err,
        };
        if self.is_err(base) {
            return base;
        }
        let _ = expected;
        let Some(candidate) = self.find_method(base, name.name) else {
            let t = self.show(base);
            let diagnostic =
                Diagnostic::error("E0014", format!("no function or method named `{}` in `{t}`", name.name))
                    .primary(name.span, "not found");
            self.diagnostics.push(diagnostic);
            return self.env.common.err;
        };
        let sig = self.env.items.fns[&candidate.def].clone();
        let explicit = self.explicit_args(path);
        let mut map = candidate.map;
        map.entry(Symbol::intern("Self")).or_insert(base);
        let (mut params, ret) = self.instantiate(candidate.def, &sig, map, &explicit, path.span);
        if let Some(receiver) = sig.receiver {
            params.insert(0, self.receiver_ty(receiver, base));
        }
        self.types.intern(TyKind::Fn(params, ret))
    }

    fn receiver_ty(&mut self, receiver: ReceiverKind, self_ty: Ty) -> Ty {
        match receiver {
            ReceiverKind::Value => self_ty,
            ReceiverKind::Ref => self.types.intern(TyKind::Ref { mutable: false, ty: self_ty }),
            ReceiverKind::RefMut => self.types.intern(TyKind::Ref { mutable: true, ty: self_ty }),
        }
    }

    /// `Trait::method`: the method with `Self` still to infer from the
    /// receiver argument.
    fn trait_function(&mut self, trait_: DefId, name: ast::Ident, span: Span) -> Ty {
        let Some(trait_def) = self.env.items.traits.get(&trait_) else {
            return self.env.common.err;
        };
        let Some(&(_, def, _)) = trait_def.methods.iter().find(|(n, _, _)| *n == name.name) else {
            let diagnostic = Diagnostic::error(
                "E0014",
                format!("no method `{}` in trait `{}`", name.name, self.env.defs.def(trait_).name),
            )
            .primary(name.span, "not found");
            self.diagnostics.push(diagnostic);
            return self.env.common.err;
        };
        let self_var = self.infer.var(self.types);
        self.oblige(self_var, trait_, span);
        let mut map = Subst::default();
        map.insert(Symbol::intern("Self"), self_var);
        let sig = self.env.items.fns[&def].clone();
        let (mut params, ret) = self.instantiate(def, &sig, map, &[], span);
        if let Some(receiver) = sig.receiver {
            params.insert(0, self.receiver_ty(receiver, self_var));
        }
        self.types.intern(TyKind::Fn(params, ret))
    }

    /// `Actor::new(fields..)`: the fields without defaults, in order.
    fn actor_constructor(&mut self, def: DefId, name: ast::Ident, span: Span) -> Ty {
        let actor_ty = self.types.intern(TyKind::Adt(def, Vec::new()));
        if name.name.as_str() != "new" {
            let diagnostic = Diagnostic::error(
                "E0014",
                format!("no function named `{}` on actor `{}`", name.name, self.env.defs.def(def).name),
            )
            .primary(name.span, "actors are built with `new`");
            self.diagnostics.push(diagnostic);
            return self.env.common.err;
        }
        let Some(AdtKind::Actor { fields, .. }) = self.env.items.adts.get(&def).map(|a| &a.kind) else {
            return self.env.common.err;
        };
        let params = fields.iter().filter(|(_, _, has_default)| !has_default).map(|(f, _, _)| f.ty).collect();
        let _ = span;
        self.types.intern(TyKind::Fn(params, actor_ty))
    }

    // ----- traits -----

    /// Whether `ty` implements `trait_` (after inference).
    pub(crate) fn implements(&mut self, ty: Ty, trait_: DefId) -> bool {
        self.implements_depth(ty, trait_, 0)
    }

    fn implements_depth(&mut self, ty: Ty, trait_: DefId, depth: u32) -> bool {
        if depth > 32 {
            return true;
        }
        let ty = self.infer.resolve(self.types, ty);
        let lang = self.env.lang;
        let kind = self.types.kind(ty).clone();
        match kind {
            TyKind::Err | TyKind::Var(_) | TyKind::Never | TyKind::Proj { .. } => return true,
            TyKind::Param(name) => return self.param_bound(name, trait_),
            TyKind::IntVar(_) => return true,
            TyKind::FloatVar(_) => return ![lang.eq, lang.ord, lang.hash].contains(&Some(trait_)),
            _ => {}
        }
        if Some(trait_) == lang.copy {
            return self.is_copy(ty, depth);
        }
        if Some(trait_) == lang.clone && self.is_copy(ty, depth) {
            return true;
        }
        match kind {
            // References, tuples and arrays are as comparable, hashable,
            // displayable as what they hold.
            TyKind::Ref { ty: inner, .. } if [lang.eq, lang.ord, lang.hash, lang.display].contains(&Some(trait_)) => {
                return self.implements_depth(inner, trait_, depth + 1)
            }
            // Tuples, arrays and slices are displayed, compared and hashed
            // element by element (PRINT-DISPLAY-001's containers).
            TyKind::Tuple(items)
                if [lang.eq, lang.ord, lang.hash, lang.clone, lang.default, lang.display].contains(&Some(trait_)) =>
            {
                return items.iter().all(|&t| self.implements_depth(t, trait_, depth + 1))
            }
            TyKind::Array(elem, _) | TyKind::Slice(elem)
                if [lang.eq, lang.ord, lang.hash, lang.clone, lang.display].contains(&Some(trait_)) =>
            {
                return self.implements_depth(elem, trait_, depth + 1)
            }
            TyKind::Prim(Prim::Unit) => return Some(trait_) == lang.display || Some(trait_) == lang.clone,
            _ => {}
        }
        let head = TypeHead::of(self.types, self.infer.resolve(self.types, ty));
        let impls = self.env.items.impls_for(head);
        for imp in impls.filter(|i| i.trait_ref.as_ref().is_some_and(|t| t.trait_ == trait_)) {
            let saved = self.infer.clone();
            if let Some(map) = self.match_impl(imp, ty) {
                let ok = imp.generics.iter().all(|g| {
                    let arg = map[&g.name];
                    g.bounds.iter().all(|b| self.implements_depth(arg, b.trait_, depth + 1))
                });
                self.infer = saved;
                if ok {
                    return true;
                }
            }
        }
        false
    }

    fn param_bound(&self, name: Symbol, trait_: DefId) -> bool {
        self.generics.iter().filter(|g| g.name == name).flat_map(|g| g.bounds.iter()).any(|b| b.trait_ == trait_)
    }

    /// Whether values of `ty` are copied rather than moved (OWN-COPY-001).
    pub(crate) fn is_copy_ty(&mut self, ty: Ty) -> bool {
        self.is_copy(ty, 0)
    }

    /// Whether `ty` is a user type with its own `Drop` implementation.
    pub(crate) fn has_drop_impl(&self, ty: Ty) -> bool {
        let TyKind::Adt(def, _) = *self.types.kind(ty) else { return false };
        let drop = self.env.lang.drop;
        self.env.items.impls_for(Some(TypeHead::Adt(def))).any(|i| {
            i.trait_ref.as_ref().map(|t| Some(t.trait_)) == Some(drop)
                && matches!(self.types.kind(i.self_ty), TyKind::Adt(d, _) if *d == def)
        })
    }

    /// OWN-COPY-001: primitives (not `str`), shared references, function
    /// values, tuples and arrays of `Copy`; user structs and enums whose
    /// fields all are, with no `Drop`; library types only by an explicit
    /// `impl Copy`.
    fn is_copy(&mut self, ty: Ty, depth: u32) -> bool {
        if depth > 32 {
            return true;
        }
        let ty = self.infer.resolve(self.types, ty);
        match self.types.kind(ty).clone() {
            TyKind::Prim(p) => p.is_copy(),
            TyKind::Ref { mutable, .. } => !mutable,
            TyKind::Fn(..) | TyKind::Never | TyKind::Err | TyKind::Var(_) | TyKind::IntVar(_) | TyKind::FloatVar(_) => {
                true
            }
            TyKind::Tuple(items) => items.iter().all(|&t| self.is_copy(t, depth + 1)),
            TyKind::Array(elem, _) => self.is_copy(elem, depth + 1),
            TyKind::Param(name) => self.env.lang.copy.is_some_and(|c| self.param_bound(name, c)),
            TyKind::Adt(def, args) => self.adt_is_copy(def, &args, ty, depth),
            TyKind::Slice(_) | TyKind::Proj { .. } | TyKind::Tensor { .. } => false,
        }
    }

    fn adt_is_copy(&mut self, def: DefId, args: &[Ty], ty: Ty, depth: u32) -> bool {
        let std_package = self.env.defs.package_roots.len() - 1;
        let copy = self.env.lang.copy;
        // An explicit impl counts only where its bounds hold
        // (`impl<T: Copy> Copy for Option<T>`).
        let explicit = |cx: &mut Self| {
            let impls = cx.env.items.impls_for(TypeHead::of(cx.types, ty));
            impls.filter(|i| i.trait_ref.as_ref().map(|t| Some(t.trait_)) == Some(copy)).any(|imp| {
                let saved = cx.infer.clone();
                let found = cx.match_impl(imp, ty).is_some_and(|map| {
                    imp.generics.iter().all(|g| {
                        let arg = map[&g.name];
                        g.bounds.iter().all(|b| cx.implements_depth(arg, b.trait_, depth + 1))
                    })
                });
                cx.infer = saved;
                found
            })
        };
        if self.env.defs.def(def).package.0 as usize == std_package {
            return explicit(self);
        }
        let drop = self.env.lang.drop;
        let has_drop = self.env.items.impls_for(Some(TypeHead::Adt(def))).any(|i| {
            i.trait_ref.as_ref().map(|t| Some(t.trait_)) == Some(drop)
                && matches!(self.types.kind(i.self_ty), TyKind::Adt(d, _) if *d == def)
        });
        if has_drop {
            return false;
        }
        let Some(adt) = self.env.items.adts.get(&def) else {
            return false;
        };
        let map: Subst = adt.generics.iter().map(|g| g.name).zip(args.iter().copied()).collect();
        let field_tys: Vec<Ty> = match &adt.kind {
            AdtKind::Struct(fields) => fields.iter().map(|f| f.ty).collect(),
            AdtKind::Enum(variants) if variants.is_empty() => return false,
            AdtKind::Enum(variants) => variants
                .iter()
                .flat_map(|v| match &v.shape {
                    crate::items::VariantShape::Unit => Vec::new(),
                    crate::items::VariantShape::Tuple(tys) => tys.clone(),
                    crate::items::VariantShape::Struct(fields) => fields.iter().map(|f| f.ty).collect(),
                })
                .collect(),
            AdtKind::Actor { .. } => return false,
        };
        field_tys.into_iter().all(|f| {
            let f = subst(self.types, f, &map);
            // A field of the type itself (through no indirection) would be
            // infinite anyway; do not recurse on it.
            f == ty || self.is_copy(f, depth + 1)
        })
    }

    /// Replaces associated-type projections that can be resolved: through
    /// a parameter's bound (`S: Source<Item = Int32>`) or the impl of a
    /// known type (TRAIT-ASSOC-001).
    pub(crate) fn normalize(&mut self, ty: Ty) -> Ty {
        let ty = self.infer.resolve(self.types, ty);
        let kind = self.types.kind(ty).clone();
        match kind {
            TyKind::Proj { base, trait_, name } => {
                let base = self.normalize(base);
                if let TyKind::Param(param) = *self.types.kind(base) {
                    let bound = self
                        .generics
                        .iter()
                        .filter(|g| g.name == param)
                        .flat_map(|g| g.bounds.iter())
                        .find(|b| b.trait_ == trait_);
                    if let Some(&(_, t)) = bound.and_then(|b| b.bindings.iter().find(|(n, _)| *n == name)) {
                        return t;
                    }
                    return self.types.intern(TyKind::Proj { base, trait_, name });
                }
                // Unknown yet: matching impls would guess the type.
                if matches!(self.types.kind(base), TyKind::Var(_)) {
                    return self.types.intern(TyKind::Proj { base, trait_, name });
                }
                let impls = self.env.items.impls_for(TypeHead::of(self.types, base));
                for imp in impls.filter(|i| i.trait_ref.as_ref().is_some_and(|t| t.trait_ == trait_)) {
                    let saved = self.infer.clone();
                    if let Some(map) = self.match_impl(imp, base) {
                        if let Some(&(_, assoc)) = imp.assoc_types.iter().find(|(n, _)| *n == name) {
                            let t = subst(self.types, assoc, &map);
                            return self.normalize(t);
                        }
                    }
                    self.infer = saved;
                }
                self.types.intern(TyKind::Proj { base, trait_, name })
            }
            TyKind::Adt(def, args) => {
                let args = args.iter().map(|&a| self.normalize(a)).collect();
                self.types.intern(TyKind::Adt(def, args))
            }
            TyKind::Ref { mutable, ty } => {
                let ty = self.normalize(ty);
                self.types.intern(TyKind::Ref { mutable, ty })
            }
            TyKind::Tuple(items) => {
                let items = items.iter().map(|&a| self.normalize(a)).collect();
                self.types.intern(TyKind::Tuple(items))
            }
            _ => ty,
        }
    }

    /// The `Item` a value of type `ty` yields as an `Iterator`.
    pub(crate) fn iterator_item(&mut self, ty: Ty) -> Option<Ty> {
        let iterator = self.env.lang.iterator?;
        let item = Symbol::intern("Item");
        if let TyKind::Param(name) = *self.types.kind(ty) {
            if self.param_bound(name, iterator) {
                let binding =
                    self.generics.iter().filter(|g| g.name == name).flat_map(|g| g.bounds.iter()).find_map(|b| {
                        (b.trait_ == iterator)
                            .then(|| b.bindings.iter().find(|(n, _)| *n == item).map(|(_, t)| *t))
                            .flatten()
                    });
                return Some(
                    binding
                        .unwrap_or_else(|| self.types.intern(TyKind::Proj { base: ty, trait_: iterator, name: item })),
                );
            }
            return None;
        }
        let impls = self.env.items.impls_for(TypeHead::of(self.types, ty));
        for imp in impls.filter(|i| i.trait_ref.as_ref().is_some_and(|t| t.trait_ == iterator)) {
            if let Some(map) = self.match_impl(imp, ty) {
                let assoc = imp.assoc_types.iter().find(|(n, _)| *n == item).map(|(_, t)| *t)?;
                return Some(subst(self.types, assoc, &map));
            }
        }
        None
    }
}
