//! Collecting definitions: every item gets a `DefId` and is bound in its
//! module's scope; `use` items become import directives.

use super::imports::{Import, ImportTarget};
use super::Resolver;
use crate::defs::{Binding, Def, DefId, DefKind, Ns, Res, Scope, Vis};
use crate::loader::{Package, PkgId};
use stark_syntax::ast::{self, Ident, Item, ItemKind, UseKind, UseTree, Visibility};
use stark_syntax::{Diagnostic, Span, Symbol};

impl Resolver<'_> {
    /// Collects a package's items; returns its root module.
    pub(super) fn collect_package(&mut self, package_id: PkgId, package: &Package, imports: &mut Vec<Import>) -> DefId {
        let name = Symbol::intern(&package.name);
        let span = package.program.items.first().map_or(Span::default(), |i| i.span);
        let root = self.table.add(Def {
            kind: DefKind::Module,
            name,
            span,
            vis: Vis::Public,
            module: DefId(0),
            package: package_id,
        });
        self.table.defs[root.0 as usize].module = root;
        self.table.scopes.insert(root, Scope::default());
        self.collect_items(root, package_id, &package.program.items, imports);
        root
    }

    fn collect_items(&mut self, module: DefId, package: PkgId, items: &[Item], imports: &mut Vec<Import>) {
        for item in items {
            let vis = match item.vis {
                Visibility::Public(_) => Vis::Public,
                _ => Vis::Private,
            };
            let (kind, name, ns) = match &item.kind {
                ItemKind::Fn(f) => (DefKind::Fn, f.name, Ns::Value),
                ItemKind::Struct(s) => (DefKind::Struct, s.name, Ns::Type),
                ItemKind::Enum(e) => (DefKind::Enum, e.name, Ns::Type),
                ItemKind::Trait(t) => (DefKind::Trait, t.name, Ns::Type),
                ItemKind::Const(c) => (DefKind::Const, c.name, Ns::Value),
                ItemKind::TypeAlias(t) => (DefKind::TypeAlias, t.name, Ns::Type),
                ItemKind::Actor(a) => (DefKind::Actor, a.name, Ns::Type),
                ItemKind::Mod(m) => (DefKind::Module, m.name, Ns::Module),
                ItemKind::Impl(i) => {
                    let def = self.table.add(Def {
                        kind: DefKind::Impl,
                        name: Symbol::intern("impl"),
                        span: item.span,
                        vis,
                        module,
                        package,
                    });
                    for impl_item in &i.items {
                        if let ast::ImplItem::Fn(method_vis, f) = impl_item {
                            let vis =
                                if matches!(method_vis, Visibility::Public(_)) { Vis::Public } else { Vis::Private };
                            self.add_method(def, f, vis, module, package);
                        }
                    }
                    continue;
                }
                ItemKind::Use(tree) => {
                    flatten_use(module, vis, &[], tree, imports);
                    continue;
                }
            };
            let def = self.table.add(Def { kind, name: name.name, span: name.span, vis, module, package });
            self.bind(module, ns, name, Binding { res: Res::Def(def), vis, span: name.span, imported: false });
            match &item.kind {
                ItemKind::Trait(t) => {
                    for trait_item in &t.items {
                        if let ast::TraitItem::Fn(f) = trait_item {
                            self.add_method(def, f, Vis::Public, module, package);
                        }
                    }
                }
                ItemKind::Actor(a) => {
                    for handler in &a.handlers {
                        self.add_method(def, handler, Vis::Public, module, package);
                    }
                }
                ItemKind::Mod(m) => {
                    self.table.scopes.insert(def, Scope::default());
                    self.table.parents.insert(def, module);
                    if let Some(items) = &m.items {
                        self.collect_items(def, package, items, imports);
                    }
                }
                ItemKind::Enum(e) => self.collect_variants(def, module, package, e),
                _ => {}
            }
        }
    }

    fn add_method(&mut self, owner: DefId, f: &ast::FnDecl, vis: Vis, module: DefId, package: PkgId) {
        let def =
            self.table.add(Def { kind: DefKind::Method, name: f.name.name, span: f.name.span, vis, module, package });
        self.table.owners.insert(def, owner);
    }

    fn collect_variants(&mut self, enum_def: DefId, module: DefId, package: PkgId, decl: &ast::EnumDecl) {
        self.table.scopes.insert(enum_def, Scope::default());
        for variant in &decl.variants {
            let name = variant.name;
            let def = self.table.add(Def {
                kind: DefKind::Variant,
                name: name.name,
                span: name.span,
                vis: Vis::Public,
                module,
                package,
            });
            self.bind(
                enum_def,
                Ns::Value,
                name,
                Binding { res: Res::Def(def), vis: Vis::Public, span: name.span, imported: false },
            );
        }
    }

    /// Binds `name` in a scope, reporting a duplicate in that namespace.
    pub(super) fn bind(&mut self, scope: DefId, ns: Ns, name: Ident, binding: Binding) {
        let names = self.table.scopes.entry(scope).or_default().ns_mut(ns);
        match names.get(&name.name) {
            Some(existing) if existing.res == binding.res => {}
            // An explicit name replaces one a glob brought in.
            Some(_) if self.glob_bound.remove(&(scope, ns, name.name)) => {
                names.insert(name.name, binding);
            }
            Some(existing) => {
                let (first, imported) = (existing.span, existing.imported || binding.imported);
                let (code, message) = if imported && existing.imported && binding.imported {
                    ("E0203", format!("`{}` is imported twice, naming different items", name.name))
                } else {
                    ("E0204", format!("`{}` is defined more than once in this module", name.name))
                };
                let diagnostic = Diagnostic::error(code, message)
                    .primary(binding.span, "defined again here")
                    .secondary(first, "first defined here");
                self.diagnostics.push(diagnostic);
            }
            None => {
                names.insert(name.name, binding);
            }
        }
    }
}

/// Turns a use tree into one import per leaf (MOD-USE-001).
fn flatten_use(module: DefId, vis: Vis, prefix: &[Ident], tree: &UseTree, imports: &mut Vec<Import>) {
    let mut path: Vec<Ident> = prefix.to_vec();
    path.extend_from_slice(&tree.path.segments);
    match &tree.kind {
        UseKind::Glob => imports.push(Import { module, path, target: ImportTarget::Glob, vis, span: tree.span }),
        UseKind::Nested(trees) => {
            for tree in trees {
                flatten_use(module, vis, &path, tree, imports);
            }
        }
        UseKind::Simple(rename) => {
            // `a::b::self` imports `a::b` under its own name.
            if path.len() > 1 && path.last().is_some_and(|s| s.name.as_str() == "self") {
                path.pop();
            }
            let Some(&last) = path.last() else { return };
            let alias = rename.unwrap_or(last);
            imports.push(Import { module, path, target: ImportTarget::Single { alias }, vis, span: tree.span });
        }
    }
}
