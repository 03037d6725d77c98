//! Name resolution: definitions are collected into module scopes, `use`
//! imports are resolved to a fixed point (MOD-USE-001), then every path in
//! every signature and body is resolved (NAME-RESOLVE-001), lexical scopes
//! first, then the module, its imports, and the prelude.

mod body;
mod collect;
mod imports;

use crate::defs::{Binding, DefId, DefKind, DefTable, Ns, Prim, Res, Vis};
use crate::loader::{Package, PkgId};
use rustc_hash::FxHashMap;
use stark_syntax::ast::Ident;
use stark_syntax::{Diagnostic, Span, Symbol};

/// What resolution found, for the type checker.
#[derive(Debug, Default)]
pub struct Resolutions {
    /// The resolution of every path (expression, type, pattern), keyed by
    /// the path's span. Segments after `assoc_from` name associated items
    /// that the type checker resolves.
    pub paths: FxHashMap<Span, PathRes>,
    /// Every local variable: its name, where it is bound, whether `mut`.
    pub locals: Vec<Local>,
}

/// A resolved path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathRes {
    /// What the resolved prefix names.
    pub res: Res,
    /// How many leading segments `res` covers; the rest are associated
    /// items of that type or trait.
    pub assoc_from: usize,
}

/// A local variable.
#[derive(Clone, Debug)]
pub struct Local {
    /// Its name.
    pub name: Symbol,
    /// Where it is bound.
    pub span: Span,
    /// `let mut` / `mut` parameter.
    pub mutable: bool,
    /// How many times a path names it.
    pub uses: u32,
    /// Whether never using it deserves a warning (bindings made by `let`,
    /// patterns, `for` and closures; not parameters or actor fields).
    pub warn_unused: bool,
}

/// Where a path is used, which decides the namespace and the error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathContext {
    /// In a `use`.
    Import,
    /// In type position.
    Type,
    /// In value position.
    Value,
    /// The callee of a call.
    Callee,
    /// In a pattern, or a struct literal's name (a type or a variant).
    Constructor,
}

impl PathContext {
    fn ns(self) -> Ns {
        match self {
            PathContext::Type | PathContext::Constructor => Ns::Type,
            PathContext::Value | PathContext::Callee => Ns::Value,
            PathContext::Import => Ns::Module,
        }
    }

    fn code(self) -> &'static str {
        match self {
            PathContext::Import => "E0205",
            PathContext::Type | PathContext::Constructor => "E0202",
            PathContext::Value => "E0200",
            PathContext::Callee => "E0201",
        }
    }

    fn what(self) -> &'static str {
        match self {
            PathContext::Import => "item",
            PathContext::Type => "type",
            PathContext::Constructor => "struct, variant or type",
            PathContext::Value => "value",
            PathContext::Callee => "function",
        }
    }
}

/// The resolver's state across all phases.
pub(crate) struct Resolver<'a> {
    pub(crate) table: DefTable,
    packages: &'a [Package],
    /// The standard library's root module (its public names are the prelude).
    std_root: DefId,
    pub(crate) resolutions: Resolutions,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Names bound by two glob imports to different items: reported on use.
    ambiguous: FxHashMap<(DefId, Symbol), (Span, Span)>,
    /// Names bound by a glob (an explicit item or import replaces them).
    glob_bound: rustc_hash::FxHashSet<(DefId, Ns, Symbol)>,
    std_name: Symbol,
}

/// Resolves the names of `packages` (the last one is the standard library).
pub fn resolve(packages: &[Package]) -> (DefTable, Resolutions, Vec<Diagnostic>) {
    let mut resolver = Resolver {
        table: DefTable::default(),
        packages,
        std_root: DefId(0),
        resolutions: Resolutions::default(),
        diagnostics: Vec::new(),
        ambiguous: FxHashMap::default(),
        glob_bound: Default::default(),
        std_name: Symbol::intern("std"),
    };
    let mut imports = Vec::new();
    for (index, package) in packages.iter().enumerate() {
        let root = resolver.collect_package(PkgId(index as u32), package, &mut imports);
        resolver.table.package_roots.push(root);
    }
    resolver.std_root = *resolver.table.package_roots.last().expect("the standard library is loaded");
    resolver.resolve_imports(imports);
    for (index, package) in packages.iter().enumerate() {
        let root = resolver.table.package_roots[index];
        resolver.resolve_bodies(root, &package.program.items);
    }
    for local in &resolver.resolutions.locals {
        if local.warn_unused && local.uses == 0 && !local.name.as_str().starts_with('_') {
            let diagnostic = stark_syntax::Diagnostic::warning("W0001", format!("unused variable `{}`", local.name))
                .primary(local.span, "never used")
                .help(format!("if this is intentional, name it `_{}`", local.name));
            resolver.diagnostics.push(diagnostic);
        }
    }
    (resolver.table, resolver.resolutions, resolver.diagnostics)
}

/// Why a path did not resolve.
#[derive(Debug)]
pub(crate) enum PathError {
    /// Segment `index` names nothing visible.
    NotFound { index: usize },
    /// Segment `index` is private to a module the use site is not in.
    Private { index: usize, def: DefId },
    /// `super` at a package root.
    SuperAtRoot { index: usize },
    /// Two glob imports bind the name to different items.
    Ambiguous { index: usize, first: Span, second: Span },
}

impl PathError {
    /// The same error, at segment `index` of the path.
    fn at(self, index: usize) -> PathError {
        match self {
            PathError::NotFound { .. } => PathError::NotFound { index },
            PathError::Private { def, .. } => PathError::Private { index, def },
            PathError::SuperAtRoot { .. } => PathError::SuperAtRoot { index },
            PathError::Ambiguous { first, second, .. } => PathError::Ambiguous { index, first, second },
        }
    }
}

impl Resolver<'_> {
    /// The package a module belongs to.
    fn package_of(&self, module: DefId) -> PkgId {
        self.table.def(module).package
    }

    /// Looks `name` up in the scope of `scope_def` (a module or enum), as
    /// seen from module `from`.
    pub(crate) fn lookup_in(
        &self,
        scope_def: DefId,
        name: Symbol,
        ns: Ns,
        from: DefId,
    ) -> Result<Option<Res>, PathError> {
        let Some(scope) = self.table.scope(scope_def) else {
            return Ok(None);
        };
        // An enum's scope holds its variants, all in the value namespace.
        let ns = if self.table.def(scope_def).kind == DefKind::Enum { Ns::Value } else { ns };
        let Some(binding) = scope.ns(ns).get(&name) else {
            return Ok(None);
        };
        if let Some(&(first, second)) = self.ambiguous.get(&(scope_def, name)) {
            if binding.res == Res::Err {
                return Err(PathError::Ambiguous { index: 0, first, second });
            }
        }
        if !self.visible(binding, scope_def, from) {
            let def = match binding.res {
                Res::Def(def) => def,
                _ => scope_def,
            };
            return Err(PathError::Private { index: 0, def });
        }
        Ok(Some(binding.res))
    }

    /// Whether a binding of `scope_def` may be used from module `from`.
    fn visible(&self, binding: &Binding, scope_def: DefId, from: DefId) -> bool {
        if binding.vis == Vis::Public {
            return true;
        }
        let module = if self.table.def(scope_def).kind == DefKind::Module {
            scope_def
        } else {
            self.table.def(scope_def).module
        };
        self.table.is_within(from, module)
    }

    /// The prelude: public names of the standard library's root module.
    fn prelude(&self, name: Symbol, ns: Ns) -> Option<Res> {
        let scope = self.table.scope(self.std_root)?;
        scope.ns(ns).get(&name).filter(|b| b.vis == Vis::Public).map(|b| b.res)
    }

    /// A name at module level: the module's items and imports, then the
    /// prelude (NAME-RESOLVE-001 steps 4-6).
    pub(crate) fn lookup_module_level(&self, module: DefId, name: Symbol, ns: Ns) -> Result<Option<Res>, PathError> {
        if let Some(res) = self.lookup_in(module, name, ns, module)? {
            return Ok(Some(res));
        }
        if ns == Ns::Type {
            if let Some(prim) = Prim::from_name(name.as_str()) {
                return Ok(Some(Res::Prim(prim)));
            }
        }
        Ok(self.prelude(name, ns))
    }

    /// Where a multi-segment path starts: `crate`, `self`, `super`, a module
    /// or type in scope, a dependency alias, `std`, or the prelude.
    fn first_segment(&self, module: DefId, first: Ident) -> Result<Option<Res>, PathError> {
        let root = self.table.package_roots[self.package_of(module).0 as usize];
        match first.name.as_str() {
            "crate" => return Ok(Some(Res::Def(root))),
            "self" => return Ok(Some(Res::Def(module))),
            "super" => {
                return match self.table.parents.get(&module) {
                    Some(&parent) => Ok(Some(Res::Def(parent))),
                    None => Err(PathError::SuperAtRoot { index: 0 }),
                }
            }
            "Self" => return Ok(Some(Res::SelfTy)),
            _ => {}
        }
        for ns in [Ns::Module, Ns::Type] {
            if let Some(res) = self.lookup_in(module, first.name, ns, module)? {
                return Ok(Some(res));
            }
        }
        if let Some(prim) = Prim::from_name(first.name.as_str()) {
            return Ok(Some(Res::Prim(prim)));
        }
        let package = &self.packages[self.package_of(module).0 as usize];
        if let Some(&(_, dep)) = package.deps.iter().find(|(alias, _)| *alias == first.name) {
            return Ok(Some(Res::Def(self.table.package_roots[dep.0 as usize])));
        }
        if first.name == self.std_name {
            return Ok(Some(Res::Def(self.std_root)));
        }
        Ok(self.prelude(first.name, Ns::Module).or_else(|| self.prelude(first.name, Ns::Type)))
    }

    /// Resolves a path at module level, as used in `context` from `module`.
    /// A single segment is looked up in `context`'s namespace; a longer path
    /// walks modules and enums; once it reaches another type the remaining
    /// segments are associated items (left to the type checker).
    pub(crate) fn resolve_path(
        &self,
        module: DefId,
        segments: &[Ident],
        context: PathContext,
    ) -> Result<PathRes, PathError> {
        let ns = context.ns();
        let Some((first, rest)) = segments.split_first() else {
            return Err(PathError::NotFound { index: 0 });
        };
        if rest.is_empty() && context != PathContext::Import {
            return match self.lookup_module_level(module, first.name, ns)? {
                Some(res) => Ok(PathRes { res, assoc_from: 1 }),
                None if ns == Ns::Type => {
                    // A unit-like constructor path in type position (a
                    // variant imported by name) is also acceptable.
                    let res = self
                        .lookup_module_level(module, first.name, Ns::Value)?
                        .ok_or(PathError::NotFound { index: 0 })?;
                    Ok(PathRes { res, assoc_from: 1 })
                }
                None => Err(PathError::NotFound { index: 0 }),
            };
        }
        let mut res = self.first_segment(module, *first)?.ok_or(PathError::NotFound { index: 0 })?;
        let mut index = 1;
        // Leading `super::super::..`.
        while let (Res::Def(current), Some(seg)) = (res, segments.get(index)) {
            if seg.name.as_str() != "super" || index > 1 && segments[index - 1].name.as_str() != "super" {
                break;
            }
            res = match self.table.parents.get(&current) {
                Some(&parent) => Res::Def(parent),
                None => return Err(PathError::SuperAtRoot { index }),
            };
            index += 1;
        }
        while index < segments.len() {
            let Res::Def(current) = res else { break };
            if !self.table.def(current).kind.has_scope() {
                break;
            }
            let seg = segments[index];
            let last = index + 1 == segments.len();
            let namespaces: &[Ns] = if last && context != PathContext::Import {
                &[ns, Ns::Value]
            } else if last {
                // An import takes the name from every namespace; any will do here.
                &[Ns::Module, Ns::Type, Ns::Value]
            } else {
                &[Ns::Module, Ns::Type]
            };
            let mut found = None;
            for &ns in namespaces {
                if found.is_none() {
                    found = self.lookup_in(current, seg.name, ns, module).map_err(|e| e.at(index))?;
                }
            }
            match found {
                Some(next) => res = next,
                // `Enum::new`: not a variant, so an associated function.
                None if last && self.table.def(current).kind == DefKind::Enum && context != PathContext::Import => {
                    break
                }
                None => return Err(PathError::NotFound { index }),
            }
            index += 1;
        }
        Ok(PathRes { res, assoc_from: index })
    }

    /// Reports a path error at its segment.
    pub(crate) fn report_path_error(&mut self, err: PathError, segments: &[Ident], context: PathContext) {
        let segment = |index: usize| segments.get(index).or(segments.last()).copied();
        let diagnostic = match err {
            PathError::NotFound { index } => {
                let Some(seg) = segment(index) else { return };
                let place = if index == 0 {
                    "this scope".to_owned()
                } else {
                    format!("`{}`", segments[..index].iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join("::"))
                };
                let message = match context {
                    PathContext::Import => format!("unresolved import: no `{}` in {place}", seg.name),
                    _ => format!("cannot find {} `{}` in {place}", context.what(), seg.name),
                };
                Diagnostic::error(context.code(), message).primary(seg.span, "not found")
            }
            PathError::Private { index, def } => {
                let Some(seg) = segment(index) else { return };
                let def = self.table.def(def);
                Diagnostic::error("E0207", format!("{} `{}` is private", def.kind.describe(), seg.name))
                    .primary(seg.span, "private item")
                    .secondary(def.span, "declared here without `pub`")
            }
            PathError::SuperAtRoot { index } => {
                let Some(seg) = segment(index) else { return };
                Diagnostic::error("E0206", "`super` used in a package's root module")
                    .primary(seg.span, "there is no parent module")
            }
            PathError::Ambiguous { index, first, second } => {
                let Some(seg) = segment(index) else { return };
                Diagnostic::error("E0203", format!("`{}` is ambiguous", seg.name))
                    .primary(seg.span, "ambiguous name")
                    .secondary(first, "imported here")
                    .secondary(second, "and here")
            }
        };
        self.diagnostics.push(diagnostic);
    }
}
