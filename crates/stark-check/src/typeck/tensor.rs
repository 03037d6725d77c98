//! Tensor shapes (LANGUAGE.md section 7). The library declares the tensor
//! operations with their element types; this module gives their results a
//! shape wherever the inputs' shapes are known, and reports shape errors
//! (E0212) naming both shapes. A dimension is a known size, a name (a
//! size fixed per call, the same wherever the name appears in one
//! signature) or `?`; a tensor type without dimensions has any shape.

use super::FnCtxt;
use crate::ty::{display_dims, Dim, Ty, TyKind};
use rustc_hash::FxHashMap;
use stark_syntax::ast::{self, BinOp, ExprKind};
use stark_syntax::{Diagnostic, Span, Symbol};

/// A tensor's shape as far as it is known: `None` is any shape.
type Shape = Option<Vec<Dim>>;

impl FnCtxt<'_, '_> {
    /// The element type and shape of a tensor type (also behind references).
    pub(crate) fn tensor_parts(&mut self, ty: Ty) -> Option<(Ty, Shape)> {
        let ty = self.infer.resolve(self.types, ty);
        match self.types.kind(ty).clone() {
            TyKind::Tensor { dtype, dims } => Some((dtype, dims)),
            TyKind::Ref { ty, .. } => self.tensor_parts(ty),
            _ => None,
        }
    }

    fn tensor_of(&mut self, dtype: Ty, dims: Shape) -> Ty {
        self.types.intern(TyKind::Tensor { dtype, dims })
    }

    /// `ret` (the declared result of a library tensor method) with the
    /// shape that `name` gives a receiver of shape `recv`.
    pub(crate) fn tensor_method(&mut self, name: Symbol, recv: Ty, args: &[ast::Expr], ret: Ty, span: Span) -> Ty {
        let Some((_, shape)) = self.tensor_parts(recv) else { return ret };
        let Some((dtype, _)) = self.tensor_parts(ret) else { return ret };
        let dims = match name.as_str() {
            "relu" | "sigmoid" | "tanh" | "exp" | "log" | "sqrt" | "map" | "clone" => shape,
            "softmax" => {
                self.check_axis(args.first(), shape.as_deref(), span);
                shape
            }
            "matmul" => {
                let other = args.first().and_then(|a| self.expr_type_of(a)).and_then(|t| self.tensor_parts(t));
                self.matmul_shape(shape, other.and_then(|(_, s)| s), span)
            }
            "transpose" => shape.map(|d| d.into_iter().rev().collect()),
            "reshape" => self.reshape(shape, args.first(), span),
            "permute" => self.permute(shape, args.first(), span),
            "sum_axis" | "mean_axis" | "max_axis" | "argmax_axis" => {
                let axis = self.check_axis(args.first(), shape.as_deref(), span);
                match (shape, axis) {
                    (Some(mut d), Some(axis)) => {
                        d.remove(axis);
                        Some(d)
                    }
                    _ => None,
                }
            }
            "slice" => self.slice(shape, args, span),
            "concat" => {
                let other = args.first().and_then(|a| self.expr_type_of(a)).and_then(|t| self.tensor_parts(t));
                self.concat(shape, other.and_then(|(_, s)| s), args.get(1), span)
            }
            _ => return ret,
        };
        self.tensor_of(dtype, dims)
    }

    /// `ret` (the declared result of `Tensor::name(args)`) with its shape.
    pub(crate) fn tensor_constructor(&mut self, name: &str, args: &[ast::Expr], ret: Ty) -> Ty {
        let Some((dtype, _)) = self.tensor_parts(ret) else { return ret };
        let dims = match name {
            "zeros" | "ones" | "rand" | "randn" | "full" => args.first().and_then(|a| self.shape_literal(a)),
            "from_vec" => args.get(1).and_then(|a| self.shape_literal(a)),
            "arange" => Some(vec![self.dim_literal(args.first())]),
            "eye" => {
                let n = self.dim_literal(args.first());
                Some(vec![n.clone(), n])
            }
            _ => return ret,
        };
        self.tensor_of(dtype, dims)
    }

    /// A library function that keeps its argument's shape (`softmax(t)`).
    pub(crate) fn tensor_function(&mut self, name: &str, args: &[ast::Expr], ret: Ty, span: Span) -> Ty {
        let Some((dtype, _)) = self.tensor_parts(ret) else { return ret };
        let arg_shape = |cx: &mut Self, i: usize| {
            args.get(i).and_then(|a| cx.expr_type_of(a)).and_then(|t| cx.tensor_parts(t)).and_then(|(_, s)| s)
        };
        let dims = match name {
            "softmax" | "relu" | "sigmoid" | "tanh" => arg_shape(self, 0),
            "matmul" => {
                let (a, b) = (arg_shape(self, 0), arg_shape(self, 1));
                self.matmul_shape(a, b, span)
            }
            _ => return ret,
        };
        self.tensor_of(dtype, dims)
    }

    /// `a op b` where either side is a tensor: element-wise with
    /// broadcasting, or with a scalar of the element type.
    pub(crate) fn tensor_binary(
        &mut self,
        op: BinOp,
        left: Ty,
        right: Ty,
        (a, b): (&ast::Expr, &ast::Expr),
        span: Span,
    ) -> Ty {
        let (l, r) = (self.tensor_parts(left), self.tensor_parts(right));
        if !matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem) {
            let t = self.show(left);
            let diagnostic =
                Diagnostic::error("E0017", format!("operator `{}` cannot be applied to `{t}`", op.as_str()))
                    .primary(span, "tensors support `+`, `-`, `*`, `/` and `%` element-wise");
            self.diagnostics.push(diagnostic);
            return self.env.common.err;
        }
        let (dtype, other_dtype) = match (&l, &r) {
            (Some((d, _)), Some((e, _))) => (*d, *e),
            (Some((d, _)), None) => (*d, right),
            (None, Some((d, _))) => (left, *d),
            (None, None) => return self.env.common.err,
        };
        if self.infer.unify(self.types, dtype, other_dtype).is_err() {
            let (lt, rt) = (self.show(left), self.show(right));
            let diagnostic = Diagnostic::error("E0212", format!("element types differ: `{lt}` {} `{rt}`", op.as_str()))
                .primary(b.span, format!("this is `{rt}`"))
                .secondary(a.span, format!("this is `{lt}`"))
                .help("convert one side so that both hold the same element type");
            self.diagnostics.push(diagnostic);
            return self.env.common.err;
        }
        let dims = match (l, r) {
            (Some((_, a)), Some((_, b))) => self.broadcast(a, b, op, span),
            (Some((_, a)), None) | (None, Some((_, a))) => a,
            (None, None) => None,
        };
        let dtype = self.infer.resolve(self.types, dtype);
        self.tensor_of(dtype, dims)
    }

    /// The broadcast of two shapes (trailing dimensions aligned, a size of
    /// 1 stretching), or E0212.
    fn broadcast(&mut self, a: Shape, b: Shape, op: BinOp, span: Span) -> Shape {
        let (a, b) = (a?, b?);
        let rank = a.len().max(b.len());
        let mut out = Vec::with_capacity(rank);
        for i in 0..rank {
            let x = (i + a.len()).checked_sub(rank).map(|j| &a[j]);
            let y = (i + b.len()).checked_sub(rank).map(|j| &b[j]);
            let dim = match (x, y) {
                (Some(x), None) => x.clone(),
                (None, Some(y)) => y.clone(),
                (Some(x), Some(y)) => match (x, y) {
                    (Dim::Known(1), other) | (other, Dim::Known(1)) => other.clone(),
                    (Dim::Known(m), Dim::Known(n)) if m != n => {
                        let (sa, sb) = (display_dims(&a), display_dims(&b));
                        let diagnostic = Diagnostic::error(
                            "E0212",
                            format!("shapes {sa} and {sb} cannot be broadcast for `{}`", op.as_str()),
                        )
                        .primary(span, format!("dimensions {m} and {n} differ and neither is 1"))
                        .note("broadcasting aligns trailing dimensions; each pair must be equal or 1");
                        self.diagnostics.push(diagnostic);
                        return None;
                    }
                    (Dim::Known(n), _) | (_, Dim::Known(n)) => Dim::Known(*n),
                    (Dim::Named(m), Dim::Named(n)) if m == n => Dim::Named(*m),
                    _ => Dim::Unknown,
                },
                (None, None) => Dim::Unknown,
            };
            out.push(dim);
        }
        Some(out)
    }

    /// `[.., m, k] x [.., k, n]`; a rank-1 side is a row or column vector.
    fn matmul_shape(&mut self, a: Shape, b: Shape, span: Span) -> Shape {
        let (a, b) = (a?, b?);
        if a.is_empty() || b.is_empty() {
            self.shape_error(
                span,
                format!("matmul needs tensors of rank 1 or more, found {} and {}", display_dims(&a), display_dims(&b)),
            );
            return None;
        }
        let k_a = a[a.len() - 1].clone();
        let k_b = if b.len() == 1 { b[0].clone() } else { b[b.len() - 2].clone() };
        if let (Dim::Known(x), Dim::Known(y)) = (&k_a, &k_b) {
            if x != y {
                let (sa, sb) = (display_dims(&a), display_dims(&b));
                self.shape_error(span, format!("matmul of {sa} with {sb}: inner dimensions {x} and {y} differ"));
                return None;
            }
        }
        let mut out: Vec<Dim> = a[..a.len() - 1].to_vec();
        if b.len() >= 2 {
            out.push(b[b.len() - 1].clone());
        }
        Some(out)
    }

    fn reshape(&mut self, shape: Shape, arg: Option<&ast::Expr>, span: Span) -> Shape {
        let values = arg.and_then(|a| self.shape_values(a))?;
        let shown = |values: &[Option<i128>]| {
            let parts: Vec<String> = values.iter().map(|v| v.map_or("?".into(), |n| n.to_string())).collect();
            format!("[{}]", parts.join(", "))
        };
        let inferred = values.iter().filter(|v| **v == Some(-1)).count();
        if inferred > 1 || values.iter().any(|v| matches!(v, Some(n) if *n < -1)) {
            let target = shown(&values);
            self.shape_error(
                span,
                format!("invalid reshape target {target}: sizes are at least 0, and at most one is -1"),
            );
            return None;
        }
        let mut target: Vec<Dim> = values
            .iter()
            .map(|v| match v {
                Some(n) if *n >= 0 => Dim::Known(*n as u64),
                _ => Dim::Unknown,
            })
            .collect();
        let count = |dims: &[Dim]| -> Option<u64> {
            dims.iter().try_fold(1u64, |acc, d| match d {
                Dim::Known(n) => acc.checked_mul(*n),
                _ => None,
            })
        };
        let from = shape.as_deref().and_then(count);
        let plural = |n: u64| if n == 1 { "element" } else { "elements" };
        let source = display_dims(shape.as_deref().unwrap_or(&[]));
        match (from, inferred) {
            (Some(from), 0) => {
                if let Some(to) = count(&target).filter(|&to| to != from) {
                    let sb = display_dims(&target);
                    self.shape_error(
                        span,
                        format!("cannot reshape {source} ({from} {}) to {sb} ({to} {})", plural(from), plural(to)),
                    );
                    return None;
                }
            }
            // The one -1 takes what the others leave, which must divide.
            (Some(from), 1) => {
                let rest: Vec<Dim> = target.iter().filter(|d| !matches!(d, Dim::Unknown)).cloned().collect();
                if rest.len() + 1 == target.len() {
                    if let Some(known) = count(&rest) {
                        if known == 0 || from % known != 0 {
                            let target = shown(&values);
                            self.shape_error(
                                span,
                                format!("cannot reshape {source} ({from} {}) to {target}", plural(from)),
                            );
                            return None;
                        }
                        if let Some(slot) = target.iter_mut().find(|d| matches!(d, Dim::Unknown)) {
                            *slot = Dim::Known(from / known);
                        }
                    }
                }
            }
            _ => {}
        }
        Some(target)
    }

    fn permute(&mut self, shape: Shape, arg: Option<&ast::Expr>, span: Span) -> Shape {
        let dims = shape?;
        let axes = arg.and_then(|a| self.shape_literal(a))?;
        let mut seen = vec![false; dims.len()];
        let mut out = Vec::with_capacity(dims.len());
        for axis in &axes {
            match axis {
                Dim::Known(i) if (*i as usize) < dims.len() && !seen[*i as usize] => {
                    seen[*i as usize] = true;
                    out.push(dims[*i as usize].clone());
                }
                _ => {
                    let (sa, sb) = (display_dims(&dims), display_dims(&axes));
                    self.shape_error(span, format!("{sb} is not a permutation of the axes of {sa}"));
                    return None;
                }
            }
        }
        if out.len() != dims.len() {
            let (sa, sb) = (display_dims(&dims), display_dims(&axes));
            self.shape_error(span, format!("{sb} is not a permutation of the axes of {sa}"));
            return None;
        }
        Some(out)
    }

    fn slice(&mut self, shape: Shape, args: &[ast::Expr], span: Span) -> Shape {
        let mut dims = shape?;
        let axis = self.check_axis(args.first(), Some(&dims), span)?;
        let bound = |cx: &Self, i: usize| args.get(i).and_then(|a| cx.const_int(a, 0));
        match (bound(self, 1), bound(self, 2), &dims[axis]) {
            (Some(start), Some(end), size) if 0 <= start && start <= end => {
                if let Dim::Known(n) = size {
                    if end as u64 > *n {
                        let s = display_dims(&dims);
                        self.shape_error(span, format!("slice {start}..{end} of axis {axis} is outside {s}"));
                        return None;
                    }
                }
                dims[axis] = Dim::Known((end - start) as u64);
            }
            _ => dims[axis] = Dim::Unknown,
        }
        Some(dims)
    }

    fn concat(&mut self, a: Shape, b: Shape, axis: Option<&ast::Expr>, span: Span) -> Shape {
        let (a, b) = (a?, b?);
        let axis = self.check_axis(axis, Some(&a), span)?;
        let (sa, sb) = (display_dims(&a), display_dims(&b));
        if a.len() != b.len() {
            self.shape_error(span, format!("cannot concatenate {sa} and {sb}: ranks differ"));
            return None;
        }
        let mut out = Vec::with_capacity(a.len());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let dim = match (x, y) {
                (Dim::Known(m), Dim::Known(n)) if i == axis => Dim::Known(m + n),
                _ if i == axis => Dim::Unknown,
                (Dim::Known(m), Dim::Known(n)) if m != n => {
                    self.shape_error(
                        span,
                        format!(
                            "cannot concatenate {sa} and {sb} along axis {axis}: dimension {i} differs ({m} and {n})"
                        ),
                    );
                    return None;
                }
                (Dim::Known(n), _) | (_, Dim::Known(n)) => Dim::Known(*n),
                _ => x.clone(),
            };
            out.push(dim);
        }
        Some(out)
    }

    /// A literal axis argument, checked against the rank (E0212).
    fn check_axis(&mut self, arg: Option<&ast::Expr>, dims: Option<&[Dim]>, span: Span) -> Option<usize> {
        let axis = self.const_int(arg?, 0)?;
        let dims = dims?;
        if axis < 0 || axis as usize >= dims.len() {
            let s = display_dims(dims);
            self.shape_error(
                span,
                format!("axis {axis} is out of range for a tensor of shape {s} (rank {})", dims.len()),
            );
            return None;
        }
        Some(axis as usize)
    }

    /// The dimensions an integer array literal spells (a value only known
    /// at run time is `?`; a negative size is E0212); `None` for any other
    /// expression.
    fn shape_literal(&mut self, e: &ast::Expr) -> Option<Vec<Dim>> {
        let values = self.shape_values(e)?;
        if let Some(n) = values.iter().flatten().find(|n| **n < 0) {
            self.shape_error(e.span, format!("a tensor dimension cannot be negative ({n})"));
            return None;
        }
        Some(values.into_iter().map(|v| v.map_or(Dim::Unknown, |n| Dim::Known(n as u64))).collect())
    }

    /// The constant values of an array literal's elements.
    fn shape_values(&self, e: &ast::Expr) -> Option<Vec<Option<i128>>> {
        match &e.kind {
            ExprKind::Array(items) => Some(items.iter().map(|i| self.const_int(i, 0)).collect()),
            ExprKind::Paren(inner) => self.shape_values(inner),
            _ => None,
        }
    }

    fn dim_literal(&self, e: Option<&ast::Expr>) -> Dim {
        match e.and_then(|e| self.const_int(e, 0)) {
            Some(n) if n >= 0 => Dim::Known(n as u64),
            _ => Dim::Unknown,
        }
    }

    fn shape_error(&mut self, span: Span, message: String) {
        let diagnostic = Diagnostic::error("E0212", message).primary(span, "tensor shapes do not fit");
        self.diagnostics.push(diagnostic);
    }

    /// Binds the named dimensions of a callee's parameters to the
    /// arguments' sizes (E0212 when one name gets two sizes) and gives the
    /// result those sizes; names left unbound become `?`.
    pub(crate) fn bind_named_dims(&mut self, params: &[Ty], args: &[ast::Expr], ret: Ty) -> Ty {
        let mut bound: FxHashMap<Symbol, (Dim, Span)> = FxHashMap::default();
        for (&param, arg) in params.iter().zip(args) {
            let Some((_, Some(pdims))) = self.tensor_parts(param) else { continue };
            let Some(arg_ty) = self.expr_type_of(arg) else { continue };
            let Some((_, Some(adims))) = self.tensor_parts(arg_ty) else { continue };
            if pdims.len() != adims.len() {
                continue; // already a mismatch
            }
            for (p, a) in pdims.iter().zip(&adims) {
                let Dim::Named(name) = p else { continue };
                match bound.get(name) {
                    Some((Dim::Known(first), first_span)) if matches!(a, Dim::Known(n) if n != first) => {
                        let Dim::Known(n) = a else { unreachable!("matched above") };
                        let diagnostic = Diagnostic::error(
                            "E0212",
                            format!("dimension `{name}` is {first} in one argument and {n} in another"),
                        )
                        .primary(arg.span, format!("here `{name}` is {n}"))
                        .secondary(*first_span, format!("here `{name}` is {first}"))
                        .note("a named dimension has one size per call");
                        self.diagnostics.push(diagnostic);
                    }
                    Some(_) => {}
                    None => {
                        bound.insert(*name, (a.clone(), arg.span));
                    }
                }
            }
        }
        self.substitute_dims(ret, &bound)
    }

    fn substitute_dims(&mut self, ty: Ty, bound: &FxHashMap<Symbol, (Dim, Span)>) -> Ty {
        let ty = self.infer.resolve(self.types, ty);
        match self.types.kind(ty).clone() {
            TyKind::Tensor { dtype, dims: Some(dims) } if dims.iter().any(|d| matches!(d, Dim::Named(_))) => {
                let dims = dims
                    .into_iter()
                    .map(|d| match d {
                        Dim::Named(name) => bound.get(&name).map_or(Dim::Unknown, |(d, _)| d.clone()),
                        other => other,
                    })
                    .collect();
                self.tensor_of(dtype, Some(dims))
            }
            TyKind::Adt(def, args) => {
                let args = args.iter().map(|&a| self.substitute_dims(a, bound)).collect();
                self.types.intern(TyKind::Adt(def, args))
            }
            TyKind::Tuple(items) => {
                let items = items.iter().map(|&a| self.substitute_dims(a, bound)).collect();
                self.types.intern(TyKind::Tuple(items))
            }
            _ => ty,
        }
    }
}
