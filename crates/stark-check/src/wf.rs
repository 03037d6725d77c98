//! Item well-formedness: the program's entry point (PROC-MAIN-001), trait
//! implementations against their traits (TRAIT-DEF-001), infinitely sized
//! types (TYPE-WF-001), constant expressions (the Core subset), and
//! public signatures naming only public types (MOD-REEXPORT-001).

use crate::defs::{DefId, DefKind, DefTable, Prim, Res};
use crate::items::{subst, AdtKind, Items, VariantShape};
use crate::lang::Lang;
use crate::loader::Package;
use crate::resolve::Resolutions;
use crate::ty::{Ty, TyKind, Types};
use rustc_hash::{FxHashMap, FxHashSet};
use stark_syntax::ast::{self, ExprKind, ItemKind};
use stark_syntax::{Diagnostic, Span, Symbol};

/// Runs every item-level check.
pub fn check(
    packages: &[Package],
    root: usize,
    defs: &DefTable,
    res: &Resolutions,
    items: &Items,
    types: &mut Types,
) -> Vec<Diagnostic> {
    let lang = Lang::find(defs);
    let mut wf = Wf { defs, res, items, types, lang, diagnostics: Vec::new() };
    wf.main(&packages[root]);
    wf.impls();
    wf.sizes();
    wf.public_api();
    for package in packages {
        wf.consts(&package.program.items);
    }
    wf.diagnostics
}

struct Wf<'a> {
    defs: &'a DefTable,
    res: &'a Resolutions,
    items: &'a Items,
    types: &'a mut Types,
    lang: Lang,
    diagnostics: Vec<Diagnostic>,
}

impl Wf<'_> {
    /// `main`, when the root package has one: not generic, not async, no
    /// parameters, returning `Unit`, `Int32`, or `Result` of those and
    /// `String`.
    fn main(&mut self, package: &Package) {
        let Some(f) = package.program.items.iter().find_map(|i| match &i.kind {
            ItemKind::Fn(f) if f.name.name.as_str() == "main" => Some(f),
            _ => None,
        }) else {
            return;
        };
        let Some(sig) = self.defs.at(f.name.span).and_then(|d| self.items.fns.get(&d)) else { return };
        let problem = if !f.generics.is_empty() {
            Some("`main` cannot be generic")
        } else if f.is_async {
            Some("`main` cannot be `async`")
        } else if !f.params.is_empty() {
            Some("`main` takes no parameters")
        } else if !self.valid_main_return(sig.ret) {
            Some("`main` must return `Unit`, `Int32`, `Result<Unit, String>` or `Result<Int32, String>`")
        } else {
            None
        };
        if let Some(problem) = problem {
            let diagnostic =
                Diagnostic::error("E0214", format!("invalid entry point: {problem}")).primary(f.sig_span, problem);
            self.diagnostics.push(diagnostic);
        }
    }

    fn valid_main_return(&self, ret: Ty) -> bool {
        let unit_or_i32 = |t: Ty| matches!(self.types.kind(t), TyKind::Prim(Prim::Unit | Prim::Int32));
        match self.types.kind(ret) {
            TyKind::Err => true,
            TyKind::Prim(Prim::Unit | Prim::Int32) => true,
            TyKind::Adt(def, args) if self.lang.result == Some(*def) => {
                unit_or_i32(args[0])
                    && matches!(self.types.kind(args[1]), TyKind::Adt(d, _) if self.lang.string == Some(*d))
            }
            _ => false,
        }
    }

    /// Every trait impl defines each required method and associated type,
    /// with the trait's signature, and nothing else.
    fn impls(&mut self) {
        let std_package = self.defs.package_roots.len() - 1;
        for imp in &self.items.impls {
            let Some(trait_ref) = &imp.trait_ref else { continue };
            if self.defs.def(imp.def).package.0 as usize == std_package {
                continue;
            }
            let Some(trait_def) = self.items.traits.get(&trait_ref.trait_) else { continue };
            let trait_name = self.defs.def(trait_ref.trait_).name;
            let impl_span = self.defs.def(imp.def).span;
            let mut map: FxHashMap<Symbol, Ty> =
                trait_def.generics.iter().map(|g| g.name).zip(trait_ref.args.iter().copied()).collect();
            map.insert(Symbol::intern("Self"), imp.self_ty);
            for &(name, trait_method, has_default) in &trait_def.methods {
                match imp.methods.iter().find(|(n, _)| *n == name) {
                    Some(&(_, impl_method)) => self.compare_sig(trait_method, impl_method, &map, trait_name),
                    None if !has_default => {
                        let diagnostic = Diagnostic::error(
                            "E0500",
                            format!("not all items of `{trait_name}` are implemented: missing `{name}`"),
                        )
                        .primary(impl_span, format!("missing method `{name}`"))
                        .secondary(self.defs.def(trait_method).span, "required here");
                        self.diagnostics.push(diagnostic);
                    }
                    None => {}
                }
            }
            for &assoc in &trait_def.assoc_types {
                if !imp.assoc_types.iter().any(|(n, _)| *n == assoc) {
                    let diagnostic = Diagnostic::error(
                        "E0500",
                        format!("not all items of `{trait_name}` are implemented: missing `type {assoc}`"),
                    )
                    .primary(impl_span, format!("missing associated type `{assoc}`"));
                    self.diagnostics.push(diagnostic);
                }
            }
            for &(name, impl_method) in &imp.methods {
                if !trait_def.methods.iter().any(|(n, _, _)| *n == name) {
                    let diagnostic =
                        Diagnostic::error("E0023", format!("method `{name}` is not a member of trait `{trait_name}`"))
                            .primary(self.defs.def(impl_method).span, "not in the trait");
                    self.diagnostics.push(diagnostic);
                }
            }
        }
    }

    /// An impl's method must have the trait method's receiver, parameter
    /// types and return type (with `Self` and the trait's parameters
    /// substituted, and the methods' own parameters matched by position).
    fn compare_sig(
        &mut self,
        trait_method: DefId,
        impl_method: DefId,
        map: &FxHashMap<Symbol, Ty>,
        trait_name: Symbol,
    ) {
        let (Some(expected), Some(found)) = (self.items.fns.get(&trait_method), self.items.fns.get(&impl_method))
        else {
            return;
        };
        let mut map = map.clone();
        let own_expected = &expected.generics[expected.generics.len() - expected.own_generics..];
        let own_found = &found.generics[found.generics.len() - found.own_generics..];
        for (e, f) in own_expected.iter().zip(own_found) {
            let param = self.types.intern(TyKind::Param(f.name));
            map.insert(e.name, param);
        }
        let name = self.defs.def(impl_method).name;
        let span = found.span;
        let problem = if expected.receiver != found.receiver {
            Some("its `self` parameter differs from the trait's".to_owned())
        } else if expected.params.len() != found.params.len() {
            Some(format!("it takes {} parameters; the trait's takes {}", found.params.len(), expected.params.len()))
        } else if own_expected.len() != own_found.len() {
            Some("its generic parameters differ from the trait's".to_owned())
        } else {
            let mut problem = None;
            for (i, (&e, &f)) in expected.params.iter().zip(&found.params).enumerate() {
                let e = subst(self.types, e, &map);
                if e != f && !self.types.is_err(e) && !self.types.is_err(f) && !self.is_projection(e) {
                    problem = Some(format!(
                        "parameter {} is `{}`; the trait's is `{}`",
                        i + 1,
                        self.types.display(f, self.defs),
                        self.types.display(e, self.defs)
                    ));
                    break;
                }
            }
            let ret = subst(self.types, expected.ret, &map);
            if problem.is_none()
                && ret != found.ret
                && !self.types.is_err(ret)
                && !self.types.is_err(found.ret)
                && !self.is_projection(ret)
            {
                problem = Some(format!(
                    "it returns `{}`; the trait's returns `{}`",
                    self.types.display(found.ret, self.defs),
                    self.types.display(ret, self.defs)
                ));
            }
            problem
        };
        if let Some(problem) = problem {
            let diagnostic =
                Diagnostic::error("E0022", format!("method `{name}` does not match trait `{trait_name}`: {problem}"))
                    .primary(span, "signature differs")
                    .secondary(expected.span, "the trait's signature");
            self.diagnostics.push(diagnostic);
        }
    }

    /// Projections (`Self::Item`) are compared after normalization, which
    /// the body checker does; here they are let through.
    fn is_projection(&self, ty: Ty) -> bool {
        match self.types.kind(ty) {
            TyKind::Proj { .. } => true,
            TyKind::Adt(_, args) | TyKind::Tuple(args) => args.iter().any(|&a| self.is_projection(a)),
            TyKind::Ref { ty, .. } | TyKind::Array(ty, _) | TyKind::Slice(ty) => self.is_projection(*ty),
            TyKind::Fn(params, ret) => params.iter().any(|&a| self.is_projection(a)) || self.is_projection(*ret),
            _ => false,
        }
    }

    /// A struct or enum containing itself by value has no finite size
    /// (E0217); `Box`, `Vec`, maps and references break the cycle.
    fn sizes(&mut self) {
        let std_package = self.defs.package_roots.len() - 1;
        let mut adts: Vec<DefId> =
            self.items.adts.keys().copied().filter(|d| self.defs.def(*d).package.0 as usize != std_package).collect();
        adts.sort();
        let mut reported = FxHashSet::default();
        for def in adts {
            let mut stack = Vec::new();
            if self.contains_by_value(def, def, &mut stack, 0) && reported.insert(def) {
                let d = self.defs.def(def);
                let diagnostic =
                    Diagnostic::error("E0217", format!("`{}` has infinite size: it contains itself by value", d.name))
                        .primary(d.span, "recursive without indirection")
                        .help("put the recursive field behind `Box<..>` or `Vec<..>`");
                self.diagnostics.push(diagnostic);
            }
        }
    }

    fn contains_by_value(&self, target: DefId, def: DefId, stack: &mut Vec<DefId>, depth: u32) -> bool {
        if depth > 64 || stack.contains(&def) {
            return false;
        }
        stack.push(def);
        let Some(adt) = self.items.adts.get(&def) else {
            stack.pop();
            return false;
        };
        let fields: Vec<Ty> = match &adt.kind {
            AdtKind::Struct(fields) => fields.iter().map(|f| f.ty).collect(),
            AdtKind::Enum(variants) => variants
                .iter()
                .flat_map(|v| match &v.shape {
                    VariantShape::Unit => Vec::new(),
                    VariantShape::Tuple(t) => t.clone(),
                    VariantShape::Struct(f) => f.iter().map(|f| f.ty).collect(),
                })
                .collect(),
            AdtKind::Actor { .. } => Vec::new(),
        };
        let found = fields.into_iter().any(|f| self.type_contains(target, f, stack, depth + 1));
        stack.pop();
        found
    }

    fn type_contains(&self, target: DefId, ty: Ty, stack: &mut Vec<DefId>, depth: u32) -> bool {
        match self.types.kind(ty).clone() {
            TyKind::Adt(def, args) => {
                // Library types hold their parameters behind a handle or a
                // heap allocation, all but `Option` and `Result`.
                let std_package = self.defs.package_roots.len() - 1;
                let indirect = self.defs.def(def).package.0 as usize == std_package
                    && ![self.lang.option, self.lang.result].contains(&Some(def));
                if indirect {
                    return false;
                }
                if def == target {
                    return true;
                }
                args.iter().any(|&a| self.type_contains(target, a, stack, depth + 1))
                    || self.contains_by_value(target, def, stack, depth + 1)
            }
            TyKind::Tuple(items) => items.iter().any(|&t| self.type_contains(target, t, stack, depth + 1)),
            TyKind::Array(elem, n) => n > 0 && self.type_contains(target, elem, stack, depth + 1),
            _ => false,
        }
    }

    /// E0209: a signature reachable from outside its package may only name
    /// types that are reachable too (MOD-REEXPORT-001).
    fn public_api(&mut self) {
        let std_package = self.defs.package_roots.len() - 1;
        for index in 0..self.defs.defs.len() {
            let id = DefId(index as u32);
            let def = self.defs.def(id);
            if def.package.0 as usize == std_package || !self.reachable(id) {
                continue;
            }
            let tys: Vec<Ty> = match def.kind {
                DefKind::Fn => self.items.fns.get(&id).map(|s| s.signature_types()).unwrap_or_default(),
                DefKind::Method => match self.inherent_owner(id) {
                    Some(self_ty) if self.ty_private(self_ty).is_none() => {
                        self.items.fns.get(&id).map(|s| s.signature_types()).unwrap_or_default()
                    }
                    _ => Vec::new(),
                },
                DefKind::Const => self.items.consts.get(&id).copied().into_iter().collect(),
                DefKind::TypeAlias => self.items.aliases.get(&id).map(|a| a.1).into_iter().collect(),
                DefKind::Struct => match self.items.adts.get(&id).map(|a| &a.kind) {
                    Some(AdtKind::Struct(fields)) => fields.iter().filter(|f| f.public).map(|f| f.ty).collect(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            if let Some(private) = tys.into_iter().find_map(|t| self.ty_private(t)) {
                let (item, hidden) = (self.defs.def(id), self.defs.def(private));
                let diagnostic = Diagnostic::error(
                    "E0209",
                    format!(
                        "public {} `{}` exposes the private type `{}`",
                        item.kind.describe(),
                        item.name,
                        hidden.name
                    ),
                )
                .primary(item.span, "part of the public API")
                .secondary(hidden.span, format!("`{}` cannot be named outside its module", hidden.name))
                .help(format!("make `{}` `pub`, or this item private", hidden.name));
                self.diagnostics.push(diagnostic);
            }
        }
    }

    /// Whether `id` is `pub` along its whole module path.
    fn reachable(&self, mut id: DefId) -> bool {
        loop {
            let def = self.defs.def(id);
            if def.kind == DefKind::Module && def.module == id {
                return true;
            }
            if def.vis != crate::defs::Vis::Public {
                return false;
            }
            id = match def.kind {
                DefKind::Method => match self.defs.owners.get(&id) {
                    Some(&owner) => self.defs.def(owner).module,
                    None => def.module,
                },
                _ => def.module,
            };
        }
    }

    /// The self type of the inherent impl that method `id` belongs to.
    fn inherent_owner(&self, id: DefId) -> Option<Ty> {
        let owner = *self.defs.owners.get(&id)?;
        let imp = self.items.impl_by_def(owner)?;
        imp.trait_ref.is_none().then_some(imp.self_ty)
    }

    /// A user type named in `ty` that is not reachable from outside.
    fn ty_private(&self, ty: Ty) -> Option<DefId> {
        match self.types.kind(ty) {
            TyKind::Adt(def, args) => {
                let def = *def;
                let std_package = self.defs.package_roots.len() - 1;
                if self.defs.def(def).package.0 as usize != std_package && !self.reachable(def) {
                    return Some(def);
                }
                args.iter().find_map(|&a| self.ty_private(a))
            }
            TyKind::Ref { ty, .. } | TyKind::Array(ty, _) | TyKind::Slice(ty) => self.ty_private(*ty),
            TyKind::Tuple(items) => items.iter().find_map(|&a| self.ty_private(a)),
            TyKind::Fn(params, ret) => params.iter().chain(std::iter::once(ret)).find_map(|&a| self.ty_private(a)),
            TyKind::Tensor { dtype, .. } => self.ty_private(*dtype),
            _ => None,
        }
    }

    /// A constant's value must be a Core constant expression: literals,
    /// other constants, operators, casts, tuples and arrays (E0215).
    fn consts(&mut self, items: &[ast::Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Const(c) => {
                    if let Some(span) = non_constant(&c.value, (self.res, self.defs)) {
                        let diagnostic = Diagnostic::error(
                            "E0215",
                            format!("the value of `{}` is not a constant expression", c.name.name),
                        )
                        .primary(span, "not allowed in a constant")
                        .note("constants allow literals, other constants, operators, casts, tuples and arrays");
                        self.diagnostics.push(diagnostic);
                    }
                }
                ItemKind::Mod(m) => {
                    if let Some(items) = &m.items {
                        self.consts(items);
                    }
                }
                _ => {}
            }
        }
    }
}

/// What constant checking needs to know about paths.
type Ctx<'a> = (&'a Resolutions, &'a DefTable);

/// The first part of `e` outside the constant subset (CONST-SUBSET-001),
/// if any: literals, constants, grouping, tuples, arrays, repeats, struct
/// and enum construction, primitive operators, ranges, `if`, casts, and
/// blocks of constant expressions.
fn non_constant(e: &ast::Expr, res: Ctx) -> Option<Span> {
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::Path(_) => None,
        ExprKind::Paren(inner) | ExprKind::Unary(_, inner) | ExprKind::Cast(inner, _) => non_constant(inner, res),
        ExprKind::Binary(_, a, b) | ExprKind::ArrayRepeat(a, b) => {
            non_constant(a, res).or_else(|| non_constant(b, res))
        }
        ExprKind::Range { start, end, .. } => non_constant(start, res).or_else(|| non_constant(end, res)),
        ExprKind::Tuple(items) | ExprKind::Array(items) => items.iter().find_map(|i| non_constant(i, res)),
        ExprKind::Struct { fields, base, .. } => fields
            .iter()
            .find_map(|f| non_constant(&f.value, res))
            .or_else(|| base.as_deref().and_then(|b| non_constant(b, res))),
        // A tuple variant's constructor applied to constants.
        ExprKind::Call(callee, args) if is_variant(callee, res.0, res.1) => {
            args.iter().find_map(|a| non_constant(a, res))
        }
        ExprKind::If { cond, then, else_ } => non_constant(cond, res)
            .or_else(|| constant_block(then, res))
            .or_else(|| else_.as_deref().and_then(|e| non_constant(e, res))),
        ExprKind::Block(block) => constant_block(block, res),
        _ => Some(e.span),
    }
}

/// A block whose statements are all constant expressions (no `let`).
fn constant_block(block: &ast::Block, res: Ctx) -> Option<Span> {
    for stmt in &block.stmts {
        match &stmt.kind {
            ast::StmtKind::Expr { expr, .. } => {
                if let Some(span) = non_constant(expr, res) {
                    return Some(span);
                }
            }
            ast::StmtKind::Empty => {}
            _ => return Some(stmt.span),
        }
    }
    block.tail.as_deref().and_then(|t| non_constant(t, res))
}

/// Whether a callee path names an enum variant (a constructor).
fn is_variant(callee: &ast::Expr, res: &Resolutions, defs: &DefTable) -> bool {
    match &callee.kind {
        ExprKind::Path(p) => {
            matches!(res.paths.get(&p.span).map(|r| r.res), Some(Res::Def(d)) if defs.def(d).kind == DefKind::Variant)
        }
        _ => false,
    }
}
