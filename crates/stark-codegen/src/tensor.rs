//! Tensors (LANGUAGE.md section 7): the bodiless `Tensor` and `Shape`
//! library functions and the element-wise operators become
//! `Native::Tensor` calls (`stark_vm::tensor`). A site's slot is the
//! element type `D`; a `Shape` is a list of `Int64`. The library functions
//! that call back into STARK (`map`, `parallel_tensor_map`, the free
//! `softmax(t)` and friends) have STARK bodies in `std.stark`.

use crate::body::FnCx;
use crate::types::Subst;
use stark_check::ty::{Ty, TyKind};
use stark_syntax::ast::{self, BinOp};
use stark_syntax::{Span, Symbol};
use stark_vm::bytecode::{NumTy, Reg};
use stark_vm::native::Native;
use stark_vm::program::{Slot, NO_LAYOUT};
use stark_vm::tensor::{dtype_of, TensorOp, LEFT_SCALAR, RIGHT_SCALAR};
use stark_vm::Instr;

/// The operation behind library function `name` (`Tensor::zeros`).
fn tensor_op(name: &str) -> Option<TensorOp> {
    use TensorOp::*;
    let method = name.strip_prefix("Tensor::")?;
    Some(match method {
        "zeros" => Zeros,
        "ones" => Ones,
        "full" => Full,
        "rand" => Rand,
        "randn" => Randn,
        "arange" => Arange,
        "eye" => Eye,
        "from_vec" => FromVec,
        "stack" => Stack,
        "matmul" => Matmul,
        "sum" => Sum,
        "mean" => Mean,
        "max" => Max,
        "argmax" => Argmax,
        "sum_axis" => SumAxis,
        "mean_axis" => MeanAxis,
        "max_axis" => MaxAxis,
        "argmax_axis" => ArgmaxAxis,
        "softmax" => Softmax,
        "relu" => Relu,
        "sigmoid" => Sigmoid,
        "tanh" => Tanh,
        "exp" => Exp,
        "log" => Log,
        "sqrt" => Sqrt,
        "reshape" => Reshape,
        "transpose" => Transpose,
        "permute" => Permute,
        "slice" => Slice,
        "concat" => Concat,
        "get" => Get,
        "item" => Item,
        "to_vec" => ToVec,
        "shape" => Shape,
        "dtype" => DType,
        "device" => Device,
        "numel" => Numel,
        "rank" => Rank,
        "fill_" => Fill,
        _ => return None,
    })
}

impl<'a> FnCx<'_, 'a> {
    /// A call of a bodiless `Tensor` or `Shape` library function; `None`
    /// when `name` is not one.
    pub fn tensor_call(
        &mut self,
        name: &str,
        subst: &Subst,
        recv: Option<Reg>,
        args: &'a [ast::Expr],
        e: &'a ast::Expr,
    ) -> Option<Reg> {
        let (op, elem) = match name {
            "Shape::dims" => (TensorOp::ShapeDims, NumTy::I64),
            "Shape::len" => {
                let base = self.args_block(recv, args);
                self.native(Native::VecLen, Slot::Fn, NO_LAYOUT, NO_LAYOUT, base);
                self.reset_top(base + 1);
                return Some(base);
            }
            _ => {
                let op = tensor_op(name)?;
                let d = subst.get(&Symbol::intern("D")).copied();
                (op, self.element_type(d, e.span))
            }
        };
        let ret = self.ty_of(e);
        let layout = if self.c.is_object(ret) { self.c.layout(ret) } else { NO_LAYOUT };
        let base = self.args_block(recv, args);
        self.native(Native::Tensor(op), Slot::Scalar(elem), layout, 0, base);
        self.reset_top(base + 1);
        Some(base)
    }

    /// The VM's scalar type for tensor element type `d` (a compile-time
    /// error for a type tensors cannot hold).
    fn element_type(&mut self, d: Option<Ty>, span: Span) -> NumTy {
        let n = d.and_then(|d| self.c.scalar(d));
        match n {
            Some(n) if dtype_of(n).is_some() => n,
            _ => {
                let shown = d.map_or("?".to_string(), |d| self.c.types.display(d, self.c.defs));
                let what = format!("tensors of `{shown}` (element types: Float32, Float64, Int32, Int64, UInt8, Bool)");
                self.c.unsupported(span, &what);
                NumTy::F32
            }
        }
    }

    /// The element type of a tensor type (through references).
    pub fn tensor_elem(&self, ty: Ty) -> Option<Ty> {
        match self.c.types.kind(ty) {
            TyKind::Tensor { dtype, .. } => Some(*dtype),
            TyKind::Ref { ty, .. } => self.tensor_elem(*ty),
            _ => None,
        }
    }

    /// `a op b` where a side is a tensor (the other a tensor or an
    /// element); `None` when neither is. Owned operands are destroyed.
    pub fn tensor_binary(&mut self, op: BinOp, a: &'a ast::Expr, b: &'a ast::Expr, span: Span) -> Option<Reg> {
        let (ta, tb) = (self.ty_of(a), self.ty_of(b));
        let (ea, eb) = (self.tensor_elem(ta), self.tensor_elem(tb));
        let elem = ea.or(eb)?;
        let x = self.expr(a);
        let y = self.expr(b);
        let dst = self.tensor_arith(op, elem, (x, ea.is_none()), (y, eb.is_none()), span);
        self.drop_reg(y, tb);
        self.drop_reg(x, ta);
        Some(dst)
    }

    /// `x op y` into a new tensor (the operands are not consumed); the
    /// flags say which side is an element rather than a tensor.
    pub fn tensor_arith(&mut self, op: BinOp, elem: Ty, x: (Reg, bool), y: (Reg, bool), span: Span) -> Reg {
        let n = self.element_type(Some(elem), span);
        let code = match op {
            BinOp::Add => 0,
            BinOp::Sub => 1,
            BinOp::Mul => 2,
            BinOp::Div => 3,
            _ => 4,
        };
        let aux = code | if x.1 { LEFT_SCALAR } else { 0 } | if y.1 { RIGHT_SCALAR } else { 0 };
        let base = self.alloc_n(2);
        self.emit(Instr::Copy { a: base, b: x.0 });
        self.emit(Instr::Copy { a: base + 1, b: y.0 });
        self.at(span);
        self.native(Native::Tensor(TensorOp::Binary), Slot::Scalar(n), NO_LAYOUT, aux, base);
        let dst = self.alloc();
        self.emit(Instr::Move { a: dst, b: base });
        dst
    }
}
