//! Definitions: every item of every package gets a `DefId`, and every
//! module (and enum, for its variants) a scope with three namespaces
//! (NAME-RESOLVE-001): modules, types, values.

use crate::loader::PkgId;
use indexmap::IndexMap;
use stark_syntax::{Span, Symbol};

/// Identifies an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefId(pub u32);

/// What kind of item a definition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefKind {
    /// A module (a package's root module too).
    Module,
    /// `struct`.
    Struct,
    /// `enum`.
    Enum,
    /// A variant of an enum.
    Variant,
    /// `trait`.
    Trait,
    /// `type Name = T;`.
    TypeAlias,
    /// A free function.
    Fn,
    /// `const`.
    Const,
    /// `actor` (AI extension).
    Actor,
    /// An `impl` block (named `impl`; not bound in any scope).
    Impl,
    /// A function inside an `impl`, a `trait` or an `actor`.
    Method,
}

impl DefKind {
    /// How the kind is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            DefKind::Module => "module",
            DefKind::Struct => "struct",
            DefKind::Enum => "enum",
            DefKind::Variant => "variant",
            DefKind::Trait => "trait",
            DefKind::TypeAlias => "type alias",
            DefKind::Fn => "function",
            DefKind::Const => "constant",
            DefKind::Actor => "actor",
            DefKind::Impl => "impl",
            DefKind::Method => "method",
        }
    }

    /// Whether paths can go through it to reach names inside (`m::x`,
    /// `Color::Red`).
    pub fn has_scope(self) -> bool {
        matches!(self, DefKind::Module | DefKind::Enum)
    }
}

/// Visibility of an item or binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vis {
    /// Visible everywhere its module path is.
    Public,
    /// Visible in its module and the module's descendants.
    Private,
}

/// One definition.
#[derive(Clone, Debug)]
pub struct Def {
    /// What it is.
    pub kind: DefKind,
    /// Its name.
    pub name: Symbol,
    /// Where its name is written.
    pub span: Span,
    /// Its visibility.
    pub vis: Vis,
    /// The module it is declared in (a root module is its own).
    pub module: DefId,
    /// The package it belongs to.
    pub package: PkgId,
}

/// The primitive types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Prim {
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float32,
    Float64,
    Bool,
    Char,
    Unit,
    Str,
}

impl Prim {
    /// The primitive named `name`, if any (`String` is a library type).
    pub fn from_name(name: &str) -> Option<Prim> {
        Some(match name {
            "Int8" => Prim::Int8,
            "Int16" => Prim::Int16,
            "Int32" => Prim::Int32,
            "Int64" => Prim::Int64,
            "UInt8" => Prim::UInt8,
            "UInt16" => Prim::UInt16,
            "UInt32" => Prim::UInt32,
            "UInt64" => Prim::UInt64,
            "Float32" => Prim::Float32,
            "Float64" => Prim::Float64,
            "Bool" => Prim::Bool,
            "Char" => Prim::Char,
            "Unit" => Prim::Unit,
            "str" => Prim::Str,
            _ => return None,
        })
    }
}

/// What a name resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Res {
    /// An item.
    Def(DefId),
    /// A primitive type.
    Prim(Prim),
    /// A local variable (index into the function's locals).
    Local(u32),
    /// A generic parameter of the enclosing items.
    TyParam(Symbol),
    /// `Self` in a trait, impl or actor.
    SelfTy,
    /// The name could not be resolved (already reported).
    Err,
}

/// A name bound in a scope.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    /// What it names.
    pub res: Res,
    /// Who may see it.
    pub vis: Vis,
    /// Where it was bound (the item's name, or the `use`).
    pub span: Span,
    /// Whether it comes from a `use`.
    pub imported: bool,
}

/// The three namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ns {
    /// Modules (and enums, as paths to their variants).
    Module,
    /// Types, traits, aliases.
    Type,
    /// Functions, constants, variants, locals.
    Value,
}

/// The names a module (or enum) binds.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Module namespace.
    pub modules: IndexMap<Symbol, Binding>,
    /// Type namespace.
    pub types: IndexMap<Symbol, Binding>,
    /// Value namespace.
    pub values: IndexMap<Symbol, Binding>,
}

impl Scope {
    /// The namespace `ns`.
    pub fn ns(&self, ns: Ns) -> &IndexMap<Symbol, Binding> {
        match ns {
            Ns::Module => &self.modules,
            Ns::Type => &self.types,
            Ns::Value => &self.values,
        }
    }

    /// The namespace `ns`, for binding names.
    pub fn ns_mut(&mut self, ns: Ns) -> &mut IndexMap<Symbol, Binding> {
        match ns {
            Ns::Module => &mut self.modules,
            Ns::Type => &mut self.types,
            Ns::Value => &mut self.values,
        }
    }
}

/// Every definition and every module scope of a program.
#[derive(Debug, Default)]
pub struct DefTable {
    /// Definitions, by `DefId`.
    pub defs: Vec<Def>,
    /// Scopes of modules and enums, by `DefId`.
    pub scopes: rustc_hash::FxHashMap<DefId, Scope>,
    /// Each package's root module, by `PkgId`.
    pub package_roots: Vec<DefId>,
    /// The parent of each module (none for package roots).
    pub parents: rustc_hash::FxHashMap<DefId, DefId>,
    /// Definitions by the span of their name (an impl: of the whole block).
    pub by_span: rustc_hash::FxHashMap<Span, DefId>,
    /// The impl, trait or actor each method belongs to.
    pub owners: rustc_hash::FxHashMap<DefId, DefId>,
}

impl DefTable {
    /// The definition `id`.
    pub fn def(&self, id: DefId) -> &Def {
        &self.defs[id.0 as usize]
    }

    /// Adds a definition.
    pub fn add(&mut self, def: Def) -> DefId {
        let id = DefId(self.defs.len() as u32);
        self.by_span.insert(def.span, id);
        self.defs.push(def);
        id
    }

    /// The definition whose name is written at `span`.
    pub fn at(&self, span: Span) -> Option<DefId> {
        self.by_span.get(&span).copied()
    }

    /// The scope of a module or enum.
    pub fn scope(&self, id: DefId) -> Option<&Scope> {
        self.scopes.get(&id)
    }

    /// Whether module `inner` is `outer` or inside it.
    pub fn is_within(&self, mut inner: DefId, outer: DefId) -> bool {
        loop {
            if inner == outer {
                return true;
            }
            match self.parents.get(&inner) {
                Some(&parent) => inner = parent,
                None => return false,
            }
        }
    }

    /// A path to the definition for messages (`crate::a::b`).
    pub fn path_of(&self, id: DefId) -> String {
        let mut names = vec![self.def(id).name.as_str()];
        let mut module = self.def(id).module;
        while let Some(&parent) = self.parents.get(&module) {
            names.push(self.def(module).name.as_str());
            module = parent;
        }
        names.reverse();
        names.join("::")
    }
}
