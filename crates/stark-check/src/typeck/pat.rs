//! Patterns: their types (SYN-PATTERN-001 forms) and the exhaustiveness
//! and usefulness of `match` arms (PAT-EXHAUST-001), by the classic
//! pattern-matrix specialization, reporting a missing witness.

use super::FnCtxt;
use crate::defs::{DefId, DefKind, Prim, Res};
use crate::items::{subst, AdtKind, VariantShape};
use crate::ty::{Ty, TyKind};
use stark_syntax::ast::{self, Lit, PatternKind};
use stark_syntax::{Diagnostic, Span};

/// A pattern reduced to what coverage needs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Pat {
    /// Matches anything (`_`, a binding, or an error).
    Wild,
    /// A constructor and its fields.
    Ctor(Ctor, Vec<Pat>),
}

/// A constructor of a type's values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ctor {
    /// Variant `index` of an enum.
    Variant(usize),
    /// `true` / `false`.
    Bool(bool),
    /// The one constructor of a tuple, struct, array or `()`.
    Single,
    /// A literal of an open domain (integers, chars, strings, floats).
    Lit(String),
}

impl FnCtxt<'_, '_> {
    /// Checks a pattern against the type it matches; binds its locals.
    pub(crate) fn pattern(&mut self, p: &ast::Pattern, expected: Ty) -> Pat {
        match &p.kind {
            PatternKind::Wildcard => Pat::Wild,
            PatternKind::Ident(name) => match self.res_of_span(name.span) {
                Some(Res::Def(def)) => self.value_pattern(def, p.span, expected),
                _ => {
                    let resolved = self.infer.resolve(self.types, expected);
                    let ty = if self.bind_by_ref && !self.is_copy_ty(resolved) {
                        self.types.intern(TyKind::Ref { mutable: false, ty: resolved })
                    } else {
                        expected
                    };
                    self.bind_local_at(name.span, ty);
                    Pat::Wild
                }
            },
            PatternKind::Lit(lit) => self.literal_pattern(lit, p.span, expected),
            PatternKind::Path(path) => match self.path_res(path).map(|r| r.res) {
                Some(Res::Def(def)) => self.value_pattern(def, p.span, expected),
                _ => Pat::Wild,
            },
            PatternKind::TupleStruct(path, items) => self.tuple_struct_pattern(path, items, p.span, expected),
            PatternKind::Struct(path, fields) => self.struct_pattern(path, fields, p.span, expected),
            PatternKind::Tuple(items) => {
                if items.is_empty() {
                    let unit = self.env.common.unit;
                    self.pattern_unify(unit, expected, p.span);
                    return Pat::Ctor(Ctor::Single, Vec::new());
                }
                let vars: Vec<Ty> = items.iter().map(|_| self.infer.var(self.types)).collect();
                let tuple = self.types.intern(TyKind::Tuple(vars.clone()));
                if !self.pattern_unify(tuple, expected, p.span) {
                    return Pat::Wild;
                }
                let subs = items.iter().zip(vars).map(|(item, ty)| self.pattern(item, ty)).collect();
                Pat::Ctor(Ctor::Single, subs)
            }
            PatternKind::Array(items) => {
                let elem = self.infer.var(self.types);
                let array = self.types.intern(TyKind::Array(elem, items.len() as u64));
                if !self.pattern_unify(array, expected, p.span) {
                    return Pat::Wild;
                }
                let subs = items.iter().map(|item| self.pattern(item, elem)).collect();
                Pat::Ctor(Ctor::Single, subs)
            }
        }
    }

    /// Unifies a pattern's type with the scrutinee's; reports E0001.
    fn pattern_unify(&mut self, pattern_ty: Ty, expected: Ty, span: Span) -> bool {
        if self.infer.unify(self.types, pattern_ty, expected).is_ok() {
            return true;
        }
        // One mismatch per `match` says it; the other arms would repeat it.
        if std::mem::replace(&mut self.pattern_mismatch_reported, true) {
            return false;
        }
        let (e, f) = (self.show(expected), self.show(pattern_ty));
        if !e.contains("{error}") {
            let diagnostic = Diagnostic::error(
                "E0001",
                format!("mismatched types: this pattern matches `{f}`, but the value is `{e}`"),
            )
            .primary(span, format!("expected `{e}`"));
            self.diagnostics.push(diagnostic);
        }
        false
    }

    /// A unit variant or a constant used as a pattern.
    fn value_pattern(&mut self, def: DefId, span: Span, expected: Ty) -> Pat {
        match self.env.defs.def(def).kind {
            DefKind::Variant => {
                let Some(&(enum_def, index)) = self.env.items.variants.get(&def) else {
                    return Pat::Wild;
                };
                let (ty, _) = self.fresh_adt(enum_def, None);
                if !self.pattern_unify(ty, expected, span) {
                    return Pat::Wild;
                }
                Pat::Ctor(Ctor::Variant(index), Vec::new())
            }
            DefKind::Const => {
                let ty = self.env.items.consts.get(&def).copied().unwrap_or(self.env.common.err);
                let scalar = matches!(self.types.kind(ty), TyKind::Prim(p) if *p != Prim::Unit && *p != Prim::Str)
                    || self.types.is_err(ty);
                if !scalar {
                    let t = self.show(ty);
                    let diagnostic = Diagnostic::error("E0305", format!("constant of type `{t}` used as a pattern"))
                        .primary(span, "only primitive scalar constants can be patterns");
                    self.diagnostics.push(diagnostic);
                    return Pat::Wild;
                }
                self.pattern_unify(ty, expected, span);
                Pat::Ctor(Ctor::Lit(format!("const {}", def.0)), Vec::new())
            }
            _ => Pat::Wild,
        }
    }

    fn literal_pattern(&mut self, lit: &Lit, span: Span, expected: Ty) -> Pat {
        let ty = self.expr_for_pattern(lit, span, expected);
        self.pattern_unify(ty, expected, span);
        match lit {
            Lit::Bool(b) => Pat::Ctor(Ctor::Bool(*b), Vec::new()),
            Lit::Int { value, .. } => Pat::Ctor(Ctor::Lit(format!("{value}")), Vec::new()),
            Lit::Float { value, .. } => Pat::Ctor(Ctor::Lit(format!("{value:?}")), Vec::new()),
            Lit::Str(s) => Pat::Ctor(Ctor::Lit(format!("{s:?}")), Vec::new()),
            Lit::Char(c) => Pat::Ctor(Ctor::Lit(format!("{c:?}")), Vec::new()),
        }
    }

    fn expr_for_pattern(&mut self, lit: &Lit, span: Span, expected: Ty) -> Ty {
        let e = ast::Expr { kind: ast::ExprKind::Lit(lit.clone()), span };
        self.expr(&e, Some(expected))
    }

    fn tuple_struct_pattern(&mut self, path: &ast::Path, items: &[ast::Pattern], span: Span, expected: Ty) -> Pat {
        let Some(Res::Def(def)) = self.path_res(path).map(|r| r.res) else {
            return self.wild_subpatterns(items);
        };
        let Some(&(enum_def, index)) = self.env.items.variants.get(&def) else {
            let diagnostic =
                Diagnostic::error("E0001", format!("`{}` is not a tuple variant", self.env.defs.def(def).name))
                    .primary(path.span, "not a tuple variant");
            self.diagnostics.push(diagnostic);
            return self.wild_subpatterns(items);
        };
        let (ty, map) = self.fresh_adt(enum_def, None);
        if !self.pattern_unify(ty, expected, span) {
            return self.wild_subpatterns(items);
        }
        let Some(AdtKind::Enum(variants)) = self.env.items.adts.get(&enum_def).map(|a| &a.kind) else {
            return Pat::Wild;
        };
        let variant = &variants[index];
        let VariantShape::Tuple(payload) = &variant.shape else {
            let diagnostic = Diagnostic::error("E0021", format!("variant `{}` has no tuple payload", variant.name))
                .primary(path.span, "not a tuple variant");
            self.diagnostics.push(diagnostic);
            return self.wild_subpatterns(items);
        };
        if payload.len() != items.len() {
            let diagnostic = Diagnostic::error(
                "E0021",
                format!(
                    "variant `{}` has {} field{}, but the pattern has {}",
                    variant.name,
                    payload.len(),
                    if payload.len() == 1 { "" } else { "s" },
                    items.len()
                ),
            )
            .primary(span, "wrong number of fields");
            self.diagnostics.push(diagnostic);
            return self.wild_subpatterns(items);
        }
        let payload: Vec<Ty> = payload.iter().map(|&t| subst(self.types, t, &map)).collect();
        let subs = items.iter().zip(payload).map(|(item, ty)| self.pattern(item, ty)).collect();
        Pat::Ctor(Ctor::Variant(index), subs)
    }

    /// Checks sub-patterns of a broken pattern so their bindings exist.
    fn wild_subpatterns(&mut self, items: &[ast::Pattern]) -> Pat {
        for item in items {
            let err = self.env.common.err;
            self.pattern(item, err);
        }
        Pat::Wild
    }

    fn struct_pattern(&mut self, path: &ast::Path, fields: &[ast::FieldPattern], span: Span, expected: Ty) -> Pat {
        let res = self.path_res(path).map(|r| r.res);
        let (ty, defs, ctor, map) = match res {
            Some(Res::Def(def)) if self.env.defs.def(def).kind == DefKind::Struct => {
                let (ty, map) = self.fresh_adt(def, None);
                let Some(AdtKind::Struct(defs)) = self.env.items.adts.get(&def).map(|a| &a.kind) else {
                    return Pat::Wild;
                };
                (ty, defs.clone(), Ctor::Single, map)
            }
            Some(Res::Def(def)) if self.env.defs.def(def).kind == DefKind::Variant => {
                let Some(&(enum_def, index)) = self.env.items.variants.get(&def) else {
                    return Pat::Wild;
                };
                let (ty, map) = self.fresh_adt(enum_def, None);
                let Some(AdtKind::Enum(variants)) = self.env.items.adts.get(&enum_def).map(|a| &a.kind) else {
                    return Pat::Wild;
                };
                let VariantShape::Struct(defs) = &variants[index].shape else {
                    let diagnostic =
                        Diagnostic::error("E0021", format!("variant `{}` has no named fields", variants[index].name))
                            .primary(path.span, "not a struct-like variant");
                    self.diagnostics.push(diagnostic);
                    return Pat::Wild;
                };
                (ty, defs.clone(), Ctor::Variant(index), map)
            }
            _ => {
                for f in fields {
                    let err = self.env.common.err;
                    self.pattern(&f.pattern, err);
                }
                return Pat::Wild;
            }
        };
        if !self.pattern_unify(ty, expected, span) {
            return Pat::Wild;
        }
        let mut subs = vec![Pat::Wild; defs.len()];
        for f in fields {
            match defs.iter().position(|d| d.name == f.name.name) {
                Some(i) => {
                    let fty = subst(self.types, defs[i].ty, &map);
                    subs[i] = self.pattern(&f.pattern, fty);
                }
                None => {
                    let t = self.show(ty);
                    let diagnostic = Diagnostic::error("E0011", format!("`{t}` has no field named `{}`", f.name.name))
                        .primary(f.name.span, "unknown field");
                    self.diagnostics.push(diagnostic);
                    let err = self.env.common.err;
                    self.pattern(&f.pattern, err);
                }
            }
        }
        Pat::Ctor(ctor, subs)
    }

    // ----- coverage -----

    /// Reports a non-exhaustive match (E0303) with a missing value, and
    /// arms no value can reach (W0006).
    pub(crate) fn check_exhaustive(&mut self, scrutinee: Ty, pats: &[(Pat, Span)], span: Span) {
        let ty = self.infer.zonk(self.types, scrutinee);
        if self.types.is_err(ty) {
            return;
        }
        let mut rows: Vec<Vec<Pat>> = Vec::new();
        for (pat, arm_span) in pats {
            if !self.useful(&rows, std::slice::from_ref(pat), &[ty], 0) {
                let diagnostic = Diagnostic::warning("W0006", "unreachable match arm")
                    .primary(*arm_span, "earlier arms already match every value this one could");
                self.diagnostics.push(diagnostic);
            }
            rows.push(vec![pat.clone()]);
        }
        if let Some(witness) = self.witness(&rows, &[ty], 0) {
            let shown = witness.first().cloned().unwrap_or_else(|| "_".into());
            let t = self.show(ty);
            let diagnostic = Diagnostic::error("E0303", format!("non-exhaustive match: `{shown}` is not covered"))
                .primary(span, format!("this `match` on `{t}` does not cover `{shown}`"))
                .help("add an arm for it, or a `_` arm");
            self.diagnostics.push(diagnostic);
        }
    }

    /// The constructors of a type, with their field types; `None` for an
    /// open domain (only a wildcard covers it).
    fn constructors(&mut self, ty: Ty) -> Option<Vec<(Ctor, Vec<Ty>, String)>> {
        let ty = self.infer.resolve(self.types, ty);
        match self.types.kind(ty).clone() {
            TyKind::Prim(Prim::Bool) => Some(vec![
                (Ctor::Bool(true), Vec::new(), "true".into()),
                (Ctor::Bool(false), Vec::new(), "false".into()),
            ]),
            TyKind::Prim(Prim::Unit) => Some(vec![(Ctor::Single, Vec::new(), "()".into())]),
            TyKind::Tuple(items) => Some(vec![(Ctor::Single, items, String::new())]),
            TyKind::Array(elem, n) => Some(vec![(Ctor::Single, vec![elem; n as usize], String::new())]),
            TyKind::Adt(def, args) => {
                let adt = self.env.items.adts.get(&def)?.clone();
                let map = adt.generics.iter().map(|g| g.name).zip(args).collect();
                match &adt.kind {
                    AdtKind::Struct(fields) => {
                        let tys = fields.iter().map(|f| subst(self.types, f.ty, &map)).collect();
                        Some(vec![(Ctor::Single, tys, self.env.defs.def(def).name.to_string())])
                    }
                    AdtKind::Enum(variants) => Some(
                        variants
                            .iter()
                            .enumerate()
                            .map(|(i, v)| {
                                let tys = match &v.shape {
                                    VariantShape::Unit => Vec::new(),
                                    VariantShape::Tuple(t) => t.iter().map(|&t| subst(self.types, t, &map)).collect(),
                                    VariantShape::Struct(f) => {
                                        f.iter().map(|f| subst(self.types, f.ty, &map)).collect()
                                    }
                                };
                                let enum_name = self.env.defs.def(def).name;
                                (Ctor::Variant(i), tys, format!("{enum_name}::{}", v.name))
                            })
                            .collect(),
                    ),
                    AdtKind::Actor { .. } => None,
                }
            }
            _ => None,
        }
    }

    /// Rows whose first column matches `ctor`, with its fields expanded.
    fn specialize(rows: &[Vec<Pat>], ctor: &Ctor, arity: usize) -> Vec<Vec<Pat>> {
        rows.iter()
            .filter_map(|row| {
                let (head, rest) = row.split_first()?;
                let fields = match head {
                    Pat::Wild => vec![Pat::Wild; arity],
                    Pat::Ctor(c, subs) if c == ctor => subs.clone(),
                    Pat::Ctor(..) => return None,
                };
                Some(fields.into_iter().chain(rest.iter().cloned()).collect())
            })
            .collect()
    }

    /// Rows whose first column is a wildcard, without it.
    fn default_rows(rows: &[Vec<Pat>]) -> Vec<Vec<Pat>> {
        rows.iter().filter(|r| matches!(r.first(), Some(Pat::Wild))).map(|r| r[1..].to_vec()).collect()
    }

    /// Whether the row `v` matches some value no row of `rows` matches.
    fn useful(&mut self, rows: &[Vec<Pat>], v: &[Pat], tys: &[Ty], depth: u32) -> bool {
        let Some((head, rest)) = v.split_first() else {
            return rows.is_empty();
        };
        if depth > 64 {
            return true;
        }
        match head {
            Pat::Ctor(ctor, subs) => {
                let arity = subs.len();
                let field_tys = self.ctor_fields(tys[0], ctor, arity);
                let specialized = Self::specialize(rows, ctor, arity);
                let next: Vec<Pat> = subs.iter().cloned().chain(rest.iter().cloned()).collect();
                let next_tys: Vec<Ty> = field_tys.into_iter().chain(tys[1..].iter().copied()).collect();
                self.useful(&specialized, &next, &next_tys, depth + 1)
            }
            Pat::Wild => match self.constructors(tys[0]) {
                Some(all)
                    if all
                        .iter()
                        .all(|(c, _, _)| rows.iter().any(|r| matches!(r.first(), Some(Pat::Ctor(h, _)) if h == c))) =>
                {
                    all.into_iter().any(|(c, field_tys, _)| {
                        let arity = field_tys.len();
                        let specialized = Self::specialize(rows, &c, arity);
                        let next: Vec<Pat> = vec![Pat::Wild; arity].into_iter().chain(rest.iter().cloned()).collect();
                        let next_tys: Vec<Ty> = field_tys.into_iter().chain(tys[1..].iter().copied()).collect();
                        self.useful(&specialized, &next, &next_tys, depth + 1)
                    })
                }
                _ => self.useful(&Self::default_rows(rows), rest, &tys[1..], depth + 1),
            },
        }
    }

    fn ctor_fields(&mut self, ty: Ty, ctor: &Ctor, arity: usize) -> Vec<Ty> {
        let found =
            self.constructors(ty).and_then(|all| all.into_iter().find(|(c, _, _)| c == ctor)).map(|(_, t, _)| t);
        match found {
            Some(tys) if tys.len() == arity => tys,
            _ => vec![self.env.common.err; arity],
        }
    }

    /// A row of values (as text) that no row of `rows` matches.
    pub(crate) fn witness(&mut self, rows: &[Vec<Pat>], tys: &[Ty], depth: u32) -> Option<Vec<String>> {
        if tys.is_empty() {
            return rows.is_empty().then(Vec::new);
        }
        if depth > 64 {
            return None;
        }
        match self.constructors(tys[0]) {
            Some(all) => {
                for (ctor, field_tys, name) in all {
                    let arity = field_tys.len();
                    let specialized = Self::specialize(rows, &ctor, arity);
                    let next_tys: Vec<Ty> = field_tys.into_iter().chain(tys[1..].iter().copied()).collect();
                    if let Some(w) = self.witness(&specialized, &next_tys, depth + 1) {
                        let (fields, rest) = w.split_at(arity);
                        let shown = show_ctor(&name, fields, &ctor);
                        return Some(std::iter::once(shown).chain(rest.iter().cloned()).collect());
                    }
                }
                None
            }
            None => {
                let w = self.witness(&Self::default_rows(rows), &tys[1..], depth + 1)?;
                Some(std::iter::once("_".to_owned()).chain(w).collect())
            }
        }
    }
}

fn show_ctor(name: &str, fields: &[String], ctor: &Ctor) -> String {
    match ctor {
        Ctor::Single if name.is_empty() || name == "()" => {
            if name == "()" {
                "()".into()
            } else if fields.len() == 1 {
                format!("({},)", fields[0])
            } else {
                format!("({})", fields.join(", "))
            }
        }
        _ if fields.is_empty() => name.to_owned(),
        _ => format!("{name}({})", fields.join(", ")),
    }
}
