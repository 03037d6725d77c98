//! `use` imports, resolved to a fixed point so that declaration and file
//! order never matter (MOD-USE-001). Explicit imports bind a name in every
//! namespace where the imported item has it; globs bind every public name
//! of a module or enum, and lose to explicit names.

use super::{PathContext, PathError, Resolver};
use crate::defs::{Binding, DefId, DefKind, Ns, Res, Vis};
use stark_syntax::ast::Ident;
use stark_syntax::Span;

/// One leaf of a `use` tree.
#[derive(Clone, Debug)]
pub(crate) struct Import {
    /// The module the `use` is in.
    pub module: DefId,
    /// The full path (for a glob, the module or enum whose names it takes).
    pub path: Vec<Ident>,
    /// What it binds.
    pub target: ImportTarget,
    /// `pub use` re-exports.
    pub vis: Vis,
    /// The use tree.
    pub span: Span,
}

/// What an import binds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ImportTarget {
    /// One name, possibly renamed.
    Single { alias: Ident },
    /// Every public name.
    Glob,
}

impl Resolver<'_> {
    pub(super) fn resolve_imports(&mut self, mut pending: Vec<Import>) {
        let mut globs: Vec<(Import, DefId)> = Vec::new();
        loop {
            let mut progress = false;
            let mut blocked = Vec::new();
            for import in pending {
                match self.try_import(&import) {
                    Some(glob_source) => {
                        progress = true;
                        if let Some(source) = glob_source {
                            globs.push((import, source));
                        }
                    }
                    None => blocked.push(import),
                }
            }
            // Globs take names that later imports added to their source.
            for (import, source) in &globs {
                progress |= self.apply_glob(import, *source);
            }
            pending = blocked;
            if !progress || pending.is_empty() {
                break;
            }
        }
        for import in pending {
            self.report_unresolved_import(&import);
        }
    }

    /// Tries one import. `None`: not resolvable (yet). `Some(Some(d))`: a
    /// glob over `d`, applied. `Some(None)`: a single import, bound.
    fn try_import(&mut self, import: &Import) -> Option<Option<DefId>> {
        match import.target {
            ImportTarget::Glob => {
                let source = self.scope_at(import.module, &import.path)?;
                self.apply_glob(import, source);
                Some(Some(source))
            }
            ImportTarget::Single { alias } => {
                let found = self.import_leaf(import)?;
                for (ns, res) in found {
                    let binding = Binding { res, vis: import.vis, span: alias.span, imported: true };
                    self.bind(import.module, ns, alias, binding);
                }
                Some(None)
            }
        }
    }

    /// The module or enum a path names, if it resolves to one now.
    fn scope_at(&self, module: DefId, path: &[Ident]) -> Option<DefId> {
        match self.resolve_path(module, path, PathContext::Import) {
            Ok(p) if p.assoc_from == path.len() => match p.res {
                Res::Def(def) if self.table.def(def).kind.has_scope() => Some(def),
                _ => None,
            },
            _ => None,
        }
    }

    /// Every namespace in which the import's last segment names something.
    fn import_leaf(&self, import: &Import) -> Option<Vec<(Ns, Res)>> {
        let (last, prefix) = import.path.split_last()?;
        if prefix.is_empty() {
            // `use name;`: a module, type or dependency in scope.
            let res = self.resolve_path(import.module, &import.path, PathContext::Import).ok()?.res;
            let ns = match res {
                Res::Def(def) if self.table.def(def).kind == DefKind::Module => Ns::Module,
                _ => Ns::Type,
            };
            return Some(vec![(ns, res)]);
        }
        let source = self.scope_at(import.module, prefix)?;
        let mut found = Vec::new();
        let namespaces: &[Ns] = if self.table.def(source).kind == DefKind::Enum {
            &[Ns::Value]
        } else {
            &[Ns::Module, Ns::Type, Ns::Value]
        };
        for &ns in namespaces {
            if let Ok(Some(res)) = self.lookup_in(source, last.name, ns, import.module) {
                // An enum's variants all live in its value namespace.
                if !found.iter().any(|(_, r)| *r == res) {
                    found.push((ns, res));
                }
            }
        }
        (!found.is_empty()).then_some(found)
    }

    /// Binds the public names of `source` in the importing module; returns
    /// whether anything new was bound.
    fn apply_glob(&mut self, import: &Import, source: DefId) -> bool {
        let Some(scope) = self.table.scope(source) else {
            return false;
        };
        let mut new = Vec::new();
        for ns in [Ns::Module, Ns::Type, Ns::Value] {
            for (&name, binding) in scope.ns(ns) {
                if binding.vis == Vis::Public && binding.res != Res::Err {
                    new.push((ns, name, binding.res));
                }
            }
        }
        let mut changed = false;
        for (ns, name, res) in new {
            let names = self.table.scopes.entry(import.module).or_default().ns_mut(ns);
            match names.get(&name) {
                None => {
                    names.insert(name, Binding { res, vis: import.vis, span: import.span, imported: true });
                    self.glob_bound.insert((import.module, ns, name));
                    changed = true;
                }
                Some(existing) if existing.res == res || existing.res == Res::Err => {}
                Some(existing) if self.glob_bound.contains(&(import.module, ns, name)) => {
                    // Two globs disagree: the name is ambiguous where used.
                    let first = existing.span;
                    names.insert(name, Binding { res: Res::Err, vis: import.vis, span: import.span, imported: true });
                    self.ambiguous.insert((import.module, name), (first, import.span));
                    changed = true;
                }
                // An explicit item or import wins over a glob.
                Some(_) => {}
            }
        }
        changed
    }

    fn report_unresolved_import(&mut self, import: &Import) {
        let path = match import.target {
            ImportTarget::Glob => import.path.clone(),
            ImportTarget::Single { .. } => import.path.clone(),
        };
        let err = match self.resolve_path(import.module, &path, PathContext::Import) {
            Err(err) => err,
            // The path resolves but names nothing importable here.
            Ok(_) => PathError::NotFound { index: path.len().saturating_sub(1) },
        };
        self.report_path_error(err, &path, PathContext::Import);
    }
}
