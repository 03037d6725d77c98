//! Item signatures: every function, struct, enum, actor, trait, impl,
//! alias and constant with its types lowered from the syntax tree, so that
//! bodies can be checked against them in any order.

use crate::defs::{DefId, DefKind, DefTable, Prim, Res};
use crate::loader::Package;
use crate::resolve::Resolutions;
use crate::ty::{Common, Dim, Ty, TyKind, Types};
use rustc_hash::FxHashMap;
use stark_syntax::ast::{self, ItemKind, ReceiverKind};
use stark_syntax::{Diagnostic, Span, Symbol};

/// A reference to a trait with its arguments: `Iterator<Item = T>`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraitRef {
    /// The trait.
    pub trait_: DefId,
    /// Its generic arguments.
    pub args: Vec<Ty>,
    /// Associated-type bindings.
    pub bindings: Vec<(Symbol, Ty)>,
}

/// A generic parameter and its bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct GenericParamDef {
    /// The parameter's name.
    pub name: Symbol,
    /// Its trait bounds.
    pub bounds: Vec<TraitRef>,
}

/// A function's or method's signature.
#[derive(Clone, Debug)]
pub struct FnSig {
    /// Generic parameters in scope: the owner's (impl, trait) first, then its own.
    pub generics: Vec<GenericParamDef>,
    /// How many of `generics` belong to the function itself.
    pub own_generics: usize,
    /// `self`, `&self`, `&mut self`.
    pub receiver: Option<ReceiverKind>,
    /// Parameter types (the receiver excluded).
    pub params: Vec<Ty>,
    /// Where each parameter is declared (its name through its type).
    pub param_spans: Vec<Span>,
    /// The declared return type (for `async fn`, the value the future gives).
    pub ret: Ty,
    /// `async fn`.
    pub is_async: bool,
    /// Whether it has a body (trait methods may not).
    pub has_body: bool,
    /// Where the signature is.
    pub span: Span,
}

impl FnSig {
    /// The parameter and return types.
    pub fn signature_types(&self) -> Vec<Ty> {
        self.params.iter().copied().chain(std::iter::once(self.ret)).collect()
    }
}

/// A field of a struct or struct-like variant.
#[derive(Clone, Debug)]
pub struct FieldDef {
    /// Its name.
    pub name: Symbol,
    /// Its type.
    pub ty: Ty,
    /// `pub`.
    pub public: bool,
    /// Where it is declared.
    pub span: Span,
}

/// The shape of an enum variant.
#[derive(Clone, Debug)]
pub enum VariantShape {
    /// `A`.
    Unit,
    /// `A(T, U)`.
    Tuple(Vec<Ty>),
    /// `A { x: T }`.
    Struct(Vec<FieldDef>),
}

/// One variant.
#[derive(Clone, Debug)]
pub struct VariantDef {
    /// The variant's definition.
    pub def: DefId,
    /// Its name.
    pub name: Symbol,
    /// Its payload.
    pub shape: VariantShape,
}

/// A struct, enum or actor.
#[derive(Clone, Debug)]
pub struct AdtDef {
    /// Generic parameter names.
    pub generics: Vec<GenericParamDef>,
    /// What it holds.
    pub kind: AdtKind,
}

/// What an ADT holds.
#[derive(Clone, Debug)]
pub enum AdtKind {
    /// A struct's fields.
    Struct(Vec<FieldDef>),
    /// An enum's variants.
    Enum(Vec<VariantDef>),
    /// An actor's fields (mutability, default) and handlers.
    Actor { fields: Vec<(FieldDef, bool, bool)>, handlers: Vec<(Symbol, DefId)> },
}

/// An `impl` block.
#[derive(Clone, Debug)]
pub struct ImplDef {
    /// The impl's definition.
    pub def: DefId,
    /// Its generic parameters.
    pub generics: Vec<GenericParamDef>,
    /// The trait implemented.
    pub trait_ref: Option<TraitRef>,
    /// The type implemented for.
    pub self_ty: Ty,
    /// Methods by name.
    pub methods: Vec<(Symbol, DefId)>,
    /// Associated types by name.
    pub assoc_types: Vec<(Symbol, Ty)>,
}

/// A trait.
#[derive(Clone, Debug)]
pub struct TraitDef {
    /// Its generic parameters.
    pub generics: Vec<GenericParamDef>,
    /// Methods: name, definition, whether it has a default body.
    pub methods: Vec<(Symbol, DefId, bool)>,
    /// Associated type names.
    pub assoc_types: Vec<Symbol>,
}

/// Every item signature of the program.
#[derive(Debug, Default)]
pub struct Items {
    /// Functions and methods.
    pub fns: FxHashMap<DefId, FnSig>,
    /// Structs, enums and actors.
    pub adts: FxHashMap<DefId, AdtDef>,
    /// Traits.
    pub traits: FxHashMap<DefId, TraitDef>,
    /// Impl blocks, in source order.
    pub impls: Vec<ImplDef>,
    /// Type aliases: generics and target.
    pub aliases: FxHashMap<DefId, (Vec<Symbol>, Ty)>,
    /// Constants' types.
    pub consts: FxHashMap<DefId, Ty>,
    /// Constants' value expressions, for compile-time evaluation.
    pub const_exprs: FxHashMap<DefId, ast::Expr>,
    /// The variant definition each variant's `DefId` belongs to: (enum, index).
    pub variants: FxHashMap<DefId, (DefId, usize)>,
    /// Impls by the outermost constructor of their self type, so that a
    /// lookup does not scan every impl of the program.
    impls_by_head: FxHashMap<TypeHead, Vec<usize>>,
    /// Impls for a bare type parameter (`impl<T> Tr for T`): they apply to any type.
    blanket_impls: Vec<usize>,
    /// Each impl by its definition (an actor's `Actor` impl by the actor).
    impls_by_def: FxHashMap<DefId, usize>,
}

/// The outermost constructor of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeHead {
    Adt(DefId),
    Prim(Prim),
    Ref,
    Array,
    Slice,
    Tuple,
    Fn,
    Tensor,
    Never,
}

impl TypeHead {
    /// The head of `ty`; `None` while it is a variable or parameter.
    pub fn of(types: &Types, ty: Ty) -> Option<TypeHead> {
        Some(match types.kind(ty) {
            TyKind::Adt(def, _) => TypeHead::Adt(*def),
            TyKind::Prim(p) => TypeHead::Prim(*p),
            TyKind::Ref { .. } => TypeHead::Ref,
            TyKind::Array(..) => TypeHead::Array,
            TyKind::Slice(_) => TypeHead::Slice,
            TyKind::Tuple(_) => TypeHead::Tuple,
            TyKind::Fn(..) => TypeHead::Fn,
            TyKind::Tensor { .. } => TypeHead::Tensor,
            TyKind::Never => TypeHead::Never,
            TyKind::Param(_) | TyKind::Var(_) | TyKind::IntVar(_) | TyKind::FloatVar(_) | TyKind::Proj { .. } => {
                return None
            }
            TyKind::Err => return None,
        })
    }
}

impl Items {
    /// The impls that may apply to a type with this head (all of them
    /// when the head is unknown), in source order within each group.
    pub fn impls_for(&self, head: Option<TypeHead>) -> Box<dyn Iterator<Item = &ImplDef> + '_> {
        match head {
            None => Box::new(self.impls.iter()),
            Some(head) => {
                let own = self.impls_by_head.get(&head).map_or(&[][..], |v| v.as_slice());
                Box::new(own.iter().chain(&self.blanket_impls).map(|&i| &self.impls[i]))
            }
        }
    }

    /// The impl block (or an actor's `Actor` impl) defined as `def`.
    pub fn impl_by_def(&self, def: DefId) -> Option<&ImplDef> {
        self.impls_by_def.get(&def).map(|&i| &self.impls[i])
    }

    fn index_impls(&mut self, types: &Types) {
        for (i, imp) in self.impls.iter().enumerate() {
            self.impls_by_def.insert(imp.def, i);
            match TypeHead::of(types, imp.self_ty) {
                Some(head) => self.impls_by_head.entry(head).or_default().push(i),
                None => self.blanket_impls.push(i),
            }
        }
    }
}

/// Lowers syntax types to `Ty`, in the context of one item.
pub struct Lowering<'a> {
    pub defs: &'a DefTable,
    pub res: &'a Resolutions,
    pub types: &'a mut Types,
    pub common: Common,
    pub items: &'a Items,
    /// What `Self` means here.
    pub self_ty: Option<Ty>,
    /// Generic parameters in scope (for `T::Item`).
    pub generics: &'a [GenericParamDef],
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl Lowering<'_> {
    /// The type written as `ty`.
    pub fn ty(&mut self, ty: &ast::Type) -> Ty {
        match &ty.kind {
            ast::TypeKind::Path(path) => self.path_ty(path),
            ast::TypeKind::Array(elem, n) => {
                let elem = self.ty(elem);
                self.types.intern(TyKind::Array(elem, *n))
            }
            ast::TypeKind::Slice(elem) => {
                let elem = self.ty(elem);
                self.types.intern(TyKind::Slice(elem))
            }
            ast::TypeKind::Paren(inner) => self.ty(inner),
            ast::TypeKind::Tuple(items) if items.is_empty() => self.common.unit,
            ast::TypeKind::Tuple(items) => {
                let items = items.iter().map(|t| self.ty(t)).collect();
                self.types.intern(TyKind::Tuple(items))
            }
            ast::TypeKind::Ref { mutable, ty } => {
                let ty = self.ty(ty);
                self.types.intern(TyKind::Ref { mutable: *mutable, ty })
            }
            ast::TypeKind::Fn { params, ret } => {
                let params = params.iter().map(|t| self.ty(t)).collect();
                let ret = ret.as_ref().map_or(self.common.unit, |r| self.ty(r));
                self.types.intern(TyKind::Fn(params, ret))
            }
            ast::TypeKind::Tensor { path, dims } => {
                let dtype = self.tensor_dtype(path);
                let dims = dims
                    .iter()
                    .map(|d| match &d.kind {
                        ast::DimKind::Known(n) => Dim::Known(*n),
                        ast::DimKind::Named(name) => Dim::Named(*name),
                        ast::DimKind::Unknown => Dim::Unknown,
                    })
                    .collect();
                self.types.intern(TyKind::Tensor { dtype, dims: Some(dims) })
            }
        }
    }

    fn tensor_dtype(&mut self, path: &ast::Path) -> Ty {
        let args = self.generic_args(path);
        match args.as_slice() {
            [dtype] => self.element_type(*dtype, path.span),
            _ => {
                let diagnostic = Diagnostic::error("E0213", "`Tensor` takes one element type: `Tensor<Float32>`")
                    .primary(path.span, "expected one type argument");
                self.diagnostics.push(diagnostic);
                self.common.err
            }
        }
    }

    /// `dtype` if tensors can hold it (LANGUAGE.md section 7), else E0213.
    fn element_type(&mut self, dtype: Ty, span: Span) -> Ty {
        let ok = match self.types.kind(dtype) {
            TyKind::Prim(p) => {
                matches!(p, Prim::Float32 | Prim::Float64 | Prim::Int32 | Prim::Int64 | Prim::UInt8 | Prim::Bool)
            }
            TyKind::Param(_) | TyKind::Err => true,
            _ => false,
        };
        if ok {
            return dtype;
        }
        let t = self.types.display(dtype, self.defs);
        let diagnostic = Diagnostic::error("E0213", format!("`{t}` is not a tensor element type"))
            .primary(span, "invalid element type")
            .help("tensors hold `Float32`, `Float64`, `Int32`, `Int64`, `UInt8` or `Bool`");
        self.diagnostics.push(diagnostic);
        self.common.err
    }

    /// The type arguments written on a path (`Vec::<Int32>`); bindings are
    /// not types and are left out.
    pub fn generic_args(&mut self, path: &ast::Path) -> Vec<Ty> {
        let Some(args) = &path.generics else { return Vec::new() };
        args.args
            .iter()
            .filter_map(|arg| match arg {
                ast::GenericArg::Type(ty) => Some(self.ty(ty)),
                ast::GenericArg::Binding(..) => None,
            })
            .collect()
    }

    /// A named type.
    pub fn path_ty(&mut self, path: &ast::Path) -> Ty {
        let Some(resolved) = self.res.paths.get(&path.span).copied() else {
            return self.common.err;
        };
        let args = self.generic_args(path);
        let base = match resolved.res {
            Res::Prim(p) => self.types.intern(TyKind::Prim(p)),
            Res::TyParam(name) => self.types.intern(TyKind::Param(name)),
            Res::SelfTy => match self.self_ty {
                Some(ty) => ty,
                None => self.types.intern(TyKind::Param(Symbol::intern("Self"))),
            },
            Res::Def(def) => self.def_ty(def, args, path),
            Res::Local(_) | Res::Err => return self.common.err,
        };
        if resolved.assoc_from < path.segments.len() {
            let name = path.segments[resolved.assoc_from].name;
            return self.projection(base, name, path.span);
        }
        base
    }

    fn def_ty(&mut self, def: DefId, args: Vec<Ty>, path: &ast::Path) -> Ty {
        match self.defs.def(def).kind {
            DefKind::Struct | DefKind::Enum | DefKind::Actor => {
                if self.defs.def(def).name.as_str() == "Tensor"
                    && self.defs.def(def).package.0 as usize + 1 == self.defs.package_roots.len()
                {
                    let dtype = args.first().copied().unwrap_or(self.common.err);
                    let dtype = self.element_type(dtype, path.span);
                    return self.types.intern(TyKind::Tensor { dtype, dims: None });
                }
                let expected = self.items.adts.get(&def).map_or(args.len(), |a| a.generics.len());
                let args = self.check_arg_count(def, args, expected, path.span);
                self.types.intern(TyKind::Adt(def, args))
            }
            DefKind::TypeAlias => match self.items.aliases.get(&def) {
                Some((params, target)) => {
                    let args = self.check_arg_count(def, args, params.len(), path.span);
                    let map: FxHashMap<Symbol, Ty> = params.iter().copied().zip(args).collect();
                    subst(self.types, *target, &map)
                }
                None => self.common.err,
            },
            kind => {
                let diagnostic = Diagnostic::error(
                    "E0202",
                    format!("expected a type, found {} `{}`", kind.describe(), self.defs.def(def).name),
                )
                .primary(path.span, "not a type")
                .secondary(self.defs.def(def).span, "declared here");
                self.diagnostics.push(diagnostic);
                self.common.err
            }
        }
    }

    fn check_arg_count(&mut self, def: DefId, args: Vec<Ty>, expected: usize, span: Span) -> Vec<Ty> {
        if args.len() == expected {
            return args;
        }
        if !args.is_empty() || expected == 0 {
            let d = self.defs.def(def);
            let diagnostic = Diagnostic::error(
                "E0010",
                format!(
                    "`{}` takes {expected} generic argument{}, but {} were given",
                    d.name,
                    plural(expected),
                    args.len()
                ),
            )
            .primary(span, "wrong number of generic arguments")
            .secondary(d.span, "declared here");
            self.diagnostics.push(diagnostic);
            return vec![self.common.err; expected];
        }
        // Arguments left out in a signature: an error too (no inference there).
        let d = self.defs.def(def);
        let diagnostic =
            Diagnostic::error("E0010", format!("`{}` needs {expected} generic argument{}", d.name, plural(expected)))
                .primary(span, format!("write `{}<..>`", d.name));
        self.diagnostics.push(diagnostic);
        vec![self.common.err; expected]
    }

    /// `Base::Name` for an associated type: resolved through the bounds of a
    /// type parameter, or left as a projection to normalize later.
    fn projection(&mut self, base: Ty, name: Symbol, span: Span) -> Ty {
        let trait_ = match self.types.kind(base) {
            TyKind::Param(param) => {
                let param = *param;
                self.generics
                    .iter()
                    .filter(|g| g.name == param)
                    .flat_map(|g| g.bounds.iter())
                    .map(|b| b.trait_)
                    .find(|t| self.items.traits.get(t).is_some_and(|d| d.assoc_types.contains(&name)))
            }
            _ => None,
        };
        match trait_ {
            Some(trait_) => self.types.intern(TyKind::Proj { base, trait_, name }),
            None => {
                let diagnostic = Diagnostic::error(
                    "E0202",
                    format!("cannot find associated type `{name}` of `{}`", self.types.display(base, self.defs)),
                )
                .primary(span, "not found");
                self.diagnostics.push(diagnostic);
                self.common.err
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Replaces generic parameters by name.
pub fn subst(types: &mut Types, ty: Ty, map: &FxHashMap<Symbol, Ty>) -> Ty {
    if map.is_empty() {
        return ty;
    }
    let kind = types.kind(ty).clone();
    let kind = match kind {
        TyKind::Param(name) => return map.get(&name).copied().unwrap_or(ty),
        TyKind::Adt(def, args) => TyKind::Adt(def, args.iter().map(|&a| subst(types, a, map)).collect()),
        TyKind::Ref { mutable, ty } => TyKind::Ref { mutable, ty: subst(types, ty, map) },
        TyKind::Array(elem, n) => TyKind::Array(subst(types, elem, map), n),
        TyKind::Slice(elem) => TyKind::Slice(subst(types, elem, map)),
        TyKind::Tuple(items) => TyKind::Tuple(items.iter().map(|&a| subst(types, a, map)).collect()),
        TyKind::Fn(params, ret) => {
            let params = params.iter().map(|&a| subst(types, a, map)).collect();
            TyKind::Fn(params, subst(types, ret, map))
        }
        TyKind::Proj { base, trait_, name } => TyKind::Proj { base: subst(types, base, map), trait_, name },
        TyKind::Tensor { dtype, dims } => TyKind::Tensor { dtype: subst(types, dtype, map), dims },
        TyKind::Prim(_) | TyKind::Never | TyKind::Var(_) | TyKind::IntVar(_) | TyKind::FloatVar(_) | TyKind::Err => {
            return ty
        }
    };
    types.intern(kind)
}

/// Collects every signature. Aliases are lowered first (in dependency
/// order, cycles reported), then ADTs, traits, impls, functions, consts.
pub fn collect(
    packages: &[Package],
    defs: &DefTable,
    res: &Resolutions,
    types: &mut Types,
    common: Common,
) -> (Items, Vec<Diagnostic>) {
    let actor_trait = crate::lang::Lang::find(defs).actor;
    let mut collector =
        Collector { defs, res, types, common, items: Items::default(), diagnostics: Vec::new(), actor_trait };
    let mut aliases = FxHashMap::default();
    for package in packages {
        gather_aliases(&package.program.items, defs, &mut aliases);
    }
    let mut order: Vec<DefId> = aliases.keys().copied().collect();
    order.sort();
    for def in order {
        collector.alias(def, &aliases, &mut Vec::new());
    }
    for pass in [Pass::Adts, Pass::Traits, Pass::Impls, Pass::Fns] {
        for package in packages {
            collector.items_in(&package.program.items, pass);
        }
    }
    collector.items.index_impls(collector.types);
    (collector.items, collector.diagnostics)
}

/// Every type alias declaration, by definition.
fn gather_aliases<'a>(items: &'a [ast::Item], defs: &DefTable, out: &mut FxHashMap<DefId, &'a ast::TypeAlias>) {
    for item in items {
        match &item.kind {
            ItemKind::TypeAlias(a) => {
                if let Some(def) = defs.at(a.name.span) {
                    out.insert(def, a);
                }
            }
            ItemKind::Mod(m) => {
                if let Some(items) = &m.items {
                    gather_aliases(items, defs, out);
                }
            }
            _ => {}
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Adts,
    Traits,
    Impls,
    Fns,
}

struct Collector<'a> {
    defs: &'a DefTable,
    res: &'a Resolutions,
    types: &'a mut Types,
    common: Common,
    items: Items,
    diagnostics: Vec<Diagnostic>,
    /// The library's `Actor` trait, implemented by every actor.
    actor_trait: Option<DefId>,
}

impl Collector<'_> {
    fn lower<T>(&mut self, self_ty: Option<Ty>, generics: &[GenericParamDef], f: impl FnOnce(&mut Lowering) -> T) -> T {
        let items = std::mem::take(&mut self.items);
        let mut lowering = Lowering {
            defs: self.defs,
            res: self.res,
            types: self.types,
            common: self.common,
            items: &items,
            self_ty,
            generics,
            diagnostics: &mut self.diagnostics,
        };
        let result = f(&mut lowering);
        self.items = items;
        result
    }

    fn items_in(&mut self, items: &[ast::Item], pass: Pass) {
        for item in items {
            match (&item.kind, pass) {
                (ItemKind::Mod(m), _) => {
                    if let Some(items) = &m.items {
                        self.items_in(items, pass);
                    }
                }
                (ItemKind::Struct(s), Pass::Adts) => self.structure(s),
                (ItemKind::Enum(e), Pass::Adts) => self.enumeration(e),
                (ItemKind::Actor(a), Pass::Adts) => self.actor(a),
                (ItemKind::Trait(t), Pass::Traits) => self.trait_(t),
                (ItemKind::Impl(i), Pass::Impls) => self.impl_(i, item.span),
                (ItemKind::Fn(f), Pass::Fns) => {
                    if let Some(def) = self.defs.at(f.name.span) {
                        let sig = self.fn_sig(f, None, &[]);
                        self.items.fns.insert(def, sig);
                    }
                }
                (ItemKind::Const(c), Pass::Fns) => {
                    if let Some(def) = self.defs.at(c.name.span) {
                        let ty = self.lower(None, &[], |l| l.ty(&c.ty));
                        self.items.consts.insert(def, ty);
                        self.items.const_exprs.insert(def, c.value.clone());
                    }
                }
                _ => {}
            }
        }
    }

    fn generics(&mut self, params: &[ast::GenericParam], outer: &[GenericParamDef]) -> Vec<GenericParamDef> {
        let mut all: Vec<GenericParamDef> = outer.to_vec();
        all.extend(params.iter().map(|p| GenericParamDef { name: p.name.name, bounds: Vec::new() }));
        for (i, param) in params.iter().enumerate() {
            let bounds = param.bounds.iter().filter_map(|b| self.trait_ref(b, &all)).collect();
            all[outer.len() + i].bounds = bounds;
        }
        all
    }

    /// A trait bound or implemented trait.
    fn trait_ref(&mut self, path: &ast::Path, generics: &[GenericParamDef]) -> Option<TraitRef> {
        let resolved = self.res.paths.get(&path.span)?;
        let Res::Def(trait_) = resolved.res else { return None };
        if self.defs.def(trait_).kind != DefKind::Trait {
            let diagnostic = Diagnostic::error(
                "E0202",
                format!(
                    "expected a trait, found {} `{}`",
                    self.defs.def(trait_).kind.describe(),
                    self.defs.def(trait_).name
                ),
            )
            .primary(path.span, "not a trait");
            self.diagnostics.push(diagnostic);
            return None;
        }
        let (args, bindings) = self.lower(None, generics, |l| {
            let mut args = Vec::new();
            let mut bindings = Vec::new();
            for arg in path.generics.iter().flat_map(|g| g.args.iter()) {
                match arg {
                    ast::GenericArg::Type(ty) => args.push(l.ty(ty)),
                    ast::GenericArg::Binding(name, ty) => bindings.push((name.name, l.ty(ty))),
                }
            }
            (args, bindings)
        });
        Some(TraitRef { trait_, args, bindings })
    }

    /// Lowers alias `def` after the aliases its target names; every alias
    /// on a cycle gets E0216 and the error type.
    fn alias(&mut self, def: DefId, all: &FxHashMap<DefId, &ast::TypeAlias>, visiting: &mut Vec<DefId>) {
        if self.items.aliases.contains_key(&def) {
            return;
        }
        let a = all[&def];
        let params: Vec<Symbol> = a.generics.iter().map(|g| g.name.name).collect();
        if let Some(pos) = visiting.iter().position(|&d| d == def) {
            for &member in &visiting[pos..] {
                let alias = all[&member];
                let diagnostic = Diagnostic::error("E0216", format!("type alias `{}` is recursive", alias.name.name))
                    .primary(alias.name.span, "this alias expands to itself")
                    .help("a type alias is only another name; use a struct or enum for a recursive type");
                self.diagnostics.push(diagnostic);
                let params = alias.generics.iter().map(|g| g.name.name).collect();
                self.items.aliases.insert(member, (params, self.common.err));
            }
            return;
        }
        visiting.push(def);
        let mut deps = Vec::new();
        visit_paths(&a.ty, &mut |path| {
            if let Some(Res::Def(d)) = self.res.paths.get(&path.span).map(|r| r.res) {
                if all.contains_key(&d) {
                    deps.push(d);
                }
            }
        });
        for dep in deps {
            self.alias(dep, all, visiting);
        }
        visiting.pop();
        if self.items.aliases.contains_key(&def) {
            return; // on a cycle, already reported
        }
        let generics: Vec<GenericParamDef> =
            params.iter().map(|&name| GenericParamDef { name, bounds: Vec::new() }).collect();
        let target = self.lower(None, &generics, |l| l.ty(&a.ty));
        self.items.aliases.insert(def, (params, target));
    }

    fn fields(
        &mut self,
        fields: &[ast::FieldDecl],
        self_ty: Option<Ty>,
        generics: &[GenericParamDef],
    ) -> Vec<FieldDef> {
        fields
            .iter()
            .map(|f| FieldDef {
                name: f.name.name,
                ty: self.lower(self_ty, generics, |l| l.ty(&f.ty)),
                public: f.public,
                span: f.name.span,
            })
            .collect()
    }

    fn adt_self(&mut self, def: DefId, generics: &[GenericParamDef]) -> Ty {
        let args = generics.iter().map(|g| self.types.intern(TyKind::Param(g.name))).collect();
        self.types.intern(TyKind::Adt(def, args))
    }

    fn structure(&mut self, s: &ast::StructDecl) {
        let Some(def) = self.defs.at(s.name.span) else { return };
        let generics = self.generics(&s.generics, &[]);
        let self_ty = self.adt_self(def, &generics);
        let fields = self.fields(&s.fields, Some(self_ty), &generics);
        self.items.adts.insert(def, AdtDef { generics, kind: AdtKind::Struct(fields) });
    }

    fn enumeration(&mut self, e: &ast::EnumDecl) {
        let Some(def) = self.defs.at(e.name.span) else { return };
        let generics = self.generics(&e.generics, &[]);
        let self_ty = self.adt_self(def, &generics);
        let mut variants = Vec::new();
        for (index, v) in e.variants.iter().enumerate() {
            let Some(vdef) = self.defs.at(v.name.span) else {
                continue;
            };
            let shape = match &v.kind {
                ast::VariantKind::Unit => VariantShape::Unit,
                ast::VariantKind::Tuple(types) => VariantShape::Tuple(
                    types.iter().map(|t| self.lower(Some(self_ty), &generics, |l| l.ty(t))).collect(),
                ),
                ast::VariantKind::Struct(fields) => VariantShape::Struct(self.fields(fields, Some(self_ty), &generics)),
            };
            self.items.variants.insert(vdef, (def, index));
            variants.push(VariantDef { def: vdef, name: v.name.name, shape });
        }
        self.items.adts.insert(def, AdtDef { generics, kind: AdtKind::Enum(variants) });
    }

    fn actor(&mut self, a: &ast::ActorDecl) {
        let Some(def) = self.defs.at(a.name.span) else { return };
        let self_ty = self.adt_self(def, &[]);
        let mut fields = Vec::new();
        for f in &a.fields {
            let ty = self.lower(Some(self_ty), &[], |l| l.ty(&f.ty));
            fields.push((
                FieldDef { name: f.name.name, ty, public: false, span: f.name.span },
                f.mutable,
                f.default.is_some(),
            ));
        }
        let mut handlers = Vec::new();
        for h in &a.handlers {
            if let Some(hdef) = self.defs.at(h.name.span) {
                let sig = self.fn_sig(h, Some(self_ty), &[]);
                self.items.fns.insert(hdef, sig);
                handlers.push((h.name.name, hdef));
            }
        }
        let (message, reply) = self.actor_protocol(a, &handlers);
        if let Some(trait_) = self.actor_trait {
            self.items.impls.push(ImplDef {
                def,
                generics: Vec::new(),
                trait_ref: Some(TraitRef { trait_, args: Vec::new(), bindings: Vec::new() }),
                self_ty,
                methods: Vec::new(),
                assoc_types: vec![(Symbol::intern("In"), message), (Symbol::intern("Out"), reply)],
            });
        }
        self.items.adts.insert(def, AdtDef { generics: Vec::new(), kind: AdtKind::Actor { fields, handlers } });
    }

    /// An actor's message and reply types, from `on_receive(msg: In) -> Out`;
    /// E0211 for a missing `on_receive` or a handler of the wrong shape.
    fn actor_protocol(&mut self, a: &ast::ActorDecl, handlers: &[(Symbol, DefId)]) -> (Ty, Ty) {
        let err = self.common.err;
        let sig_of = |name: &str| {
            handlers.iter().find(|(n, _)| n.as_str() == name).map(|&(_, d)| d).and_then(|d| self.items.fns.get(&d))
        };
        let Some(receive) = sig_of("on_receive").cloned() else {
            let diagnostic = Diagnostic::error("E0211", format!("actor `{}` has no `on_receive` handler", a.name.name))
                .primary(a.name.span, "every actor needs `fn on_receive(message: In) -> Out`")
                .help("add a handler such as `fn on_receive(msg: Int) -> Int { msg }`");
            self.diagnostics.push(diagnostic);
            return (err, err);
        };
        let mut problems = Vec::new();
        if receive.params.len() != 1 || receive.receiver.is_some() {
            problems.push((receive.span, "`on_receive` takes exactly one parameter, the message, and no `self`"));
        }
        let expected_params = [("on_start", 0), ("on_stop", 0), ("on_restart", 1), ("on_batch", 1)];
        for (name, count) in expected_params {
            if let Some(sig) = sig_of(name) {
                if sig.params.len() != count || sig.receiver.is_some() {
                    problems.push((sig.span, "lifecycle handlers take no `self`; `on_start`/`on_stop` no parameters, `on_restart(failure: TaskError)`, `on_batch(msgs: Vec<In>) -> Vec<Out>`"));
                }
            }
        }
        let known = ["on_receive", "on_batch", "on_start", "on_stop", "on_restart"];
        for h in &a.handlers {
            if !known.contains(&h.name.name.as_str()) {
                problems.push((h.name.span, "not supported yet: functions other than the handlers `on_receive`, `on_batch`, `on_start`, `on_stop` and `on_restart` inside an actor; declare helpers outside it"));
            }
        }
        for (span, message) in problems {
            let diagnostic = Diagnostic::error("E0211", format!("invalid handler in actor `{}`", a.name.name))
                .primary(span, message);
            self.diagnostics.push(diagnostic);
        }
        let message = receive.params.first().copied().unwrap_or(err);
        (message, receive.ret)
    }

    fn trait_(&mut self, t: &ast::TraitDecl) {
        let Some(def) = self.defs.at(t.name.span) else { return };
        let generics = self.generics(&t.generics, &[]);
        let assoc_types = t
            .items
            .iter()
            .filter_map(|i| match i {
                ast::TraitItem::Type(name) => Some(name.name),
                ast::TraitItem::Fn(_) => None,
            })
            .collect();
        // Register first so that `Self::Item` in the methods resolves.
        self.items.traits.insert(def, TraitDef { generics: generics.clone(), methods: Vec::new(), assoc_types });
        let self_param = self.types.intern(TyKind::Param(Symbol::intern("Self")));
        let mut scope = generics.clone();
        scope.push(GenericParamDef {
            name: Symbol::intern("Self"),
            bounds: vec![TraitRef {
                trait_: def,
                args: generics.iter().map(|g| self.types.intern(TyKind::Param(g.name))).collect(),
                bindings: Vec::new(),
            }],
        });
        let mut methods = Vec::new();
        for item in &t.items {
            if let ast::TraitItem::Fn(f) = item {
                if let Some(mdef) = self.defs.at(f.name.span) {
                    let sig = self.fn_sig(f, Some(self_param), &scope);
                    methods.push((f.name.name, mdef, sig.has_body));
                    self.items.fns.insert(mdef, sig);
                }
            }
        }
        if let Some(trait_def) = self.items.traits.get_mut(&def) {
            trait_def.methods = methods;
        }
    }

    fn impl_(&mut self, i: &ast::ImplDecl, span: Span) {
        let Some(def) = self.defs.at(span) else { return };
        let generics = self.generics(&i.generics, &[]);
        let self_ty = self.lower(None, &generics, |l| l.ty(&i.self_ty));
        let trait_ref = i.trait_.as_ref().and_then(|t| self.trait_ref(t, &generics));
        let mut methods = Vec::new();
        let mut assoc_types = Vec::new();
        for item in &i.items {
            match item {
                ast::ImplItem::Fn(_, f) => {
                    if let Some(mdef) = self.defs.at(f.name.span) {
                        let sig = self.fn_sig(f, Some(self_ty), &generics);
                        self.items.fns.insert(mdef, sig);
                        methods.push((f.name.name, mdef));
                    }
                }
                ast::ImplItem::Type(name, ty) => {
                    let ty = self.lower(Some(self_ty), &generics, |l| l.ty(ty));
                    assoc_types.push((name.name, ty));
                }
            }
        }
        self.items.impls.push(ImplDef { def, generics, trait_ref, self_ty, methods, assoc_types });
    }

    fn fn_sig(&mut self, f: &ast::FnDecl, self_ty: Option<Ty>, outer: &[GenericParamDef]) -> FnSig {
        let generics = self.generics(&f.generics, outer);
        let (params, ret) = self.lower(self_ty, &generics, |l| {
            let params: Vec<Ty> = f.params.iter().map(|p| l.ty(&p.ty)).collect();
            let ret = match &f.ret {
                None => l.common.unit,
                Some(ast::RetType::Never(_)) => l.common.never,
                Some(ast::RetType::Type(ty)) => l.ty(ty),
            };
            (params, ret)
        });
        FnSig {
            own_generics: f.generics.len(),
            generics,
            receiver: f.receiver.map(|r| r.kind),
            params,
            ret,
            is_async: f.is_async,
            has_body: f.body.is_some(),
            param_spans: f.params.iter().map(|p| p.name.span.to(p.ty.span)).collect(),
            span: f.sig_span,
        }
    }
}

fn visit_paths(ty: &ast::Type, f: &mut impl FnMut(&ast::Path)) {
    match &ty.kind {
        ast::TypeKind::Path(path) | ast::TypeKind::Tensor { path, .. } => {
            f(path);
            for arg in path.generics.iter().flat_map(|g| g.args.iter()) {
                match arg {
                    ast::GenericArg::Type(t) | ast::GenericArg::Binding(_, t) => visit_paths(t, f),
                }
            }
        }
        ast::TypeKind::Array(t, _)
        | ast::TypeKind::Slice(t)
        | ast::TypeKind::Paren(t)
        | ast::TypeKind::Ref { ty: t, .. } => visit_paths(t, f),
        ast::TypeKind::Tuple(items) => items.iter().for_each(|t| visit_paths(t, f)),
        ast::TypeKind::Fn { params, ret } => {
            params.iter().for_each(|t| visit_paths(t, f));
            if let Some(r) = ret {
                visit_paths(r, f);
            }
        }
    }
}

impl Prim {
    /// Whether values of this primitive are `Copy` (all but `str`).
    pub fn is_copy(self) -> bool {
        self != Prim::Str
    }
}
