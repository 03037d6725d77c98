//! The tensor natives (LANGUAGE.md section 7): `Tensor<D>` values are
//! `Obj::Tensor` objects holding a `stark_tensor::Tensor` (an `Arc`-shared
//! buffer), and a `Shape` is a list of `Int64`. A site's slot is the
//! element type `D` as a scalar (`Slot::Scalar`); its layout is the
//! result's when that is a list (`to_vec`, `shape`).
//!
//! Results follow the library's declarations, which give most operations
//! the element type `D`: where the crate computes in another dtype (`sum`
//! of integers in `Int64`, `exp` of integers in `Float32`) the result is
//! converted back to `D` with Rust's `as` rules. A `TensorError` becomes a
//! trap `tensor error T001: cannot broadcast shapes [2, 3] and [4]`.
//! Operands and receivers are borrowed: the compiler destroys owned ones;
//! owned `Shape` and `Vec` arguments are consumed here.

use crate::bytecode::NumTy;
use crate::heap::Obj;
use crate::native::{Cx, Flow};
use crate::program::Slot;
use crate::task::Host;
use crate::trap::Fault;
use crate::value::Value;
use stark_tensor::{BinaryOp, DType, Scalar, Tensor, TensorError};

/// One tensor operation (`Native::Tensor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorOp {
    /// `Tensor::zeros(shape)`.
    Zeros,
    /// `Tensor::ones(shape)`.
    Ones,
    /// `Tensor::full(shape, value)`.
    Full,
    /// `Tensor::rand(shape)`: uniform in `[0, 1)`, seeded by the runtime.
    Rand,
    /// `Tensor::randn(shape)`: standard normal, seeded by the runtime.
    Randn,
    /// `Tensor::arange(n)`: `0, 1, .., n - 1`.
    Arange,
    /// `Tensor::eye(n)`.
    Eye,
    /// `Tensor::from_vec(values, shape)`.
    FromVec,
    /// `Tensor::stack(tensors, axis)`.
    Stack,
    /// `a op b`; `aux`: the operator (0 `+`, 1 `-`, 2 `*`, 3 `/`, 4 `%`),
    /// plus [`LEFT_SCALAR`] or [`RIGHT_SCALAR`] when that side is an element.
    Binary,
    /// `a.matmul(&b)`.
    Matmul,
    /// `sum()`, `mean()`, `max()` of every element: an element.
    Sum,
    /// `mean()`.
    Mean,
    /// `max()`.
    Max,
    /// `argmax()` of every element (row-major position).
    Argmax,
    /// `sum_axis(a)`.
    SumAxis,
    /// `mean_axis(a)`.
    MeanAxis,
    /// `max_axis(a)`.
    MaxAxis,
    /// `argmax_axis(a)`: `Int64` positions.
    ArgmaxAxis,
    /// `softmax(axis)`.
    Softmax,
    /// `relu()`.
    Relu,
    /// `sigmoid()`.
    Sigmoid,
    /// `tanh()`.
    Tanh,
    /// `exp()`.
    Exp,
    /// `log()`.
    Log,
    /// `sqrt()`.
    Sqrt,
    /// `reshape(shape)` (one size may be `-1`).
    Reshape,
    /// `transpose()`: the axes reversed (a view).
    Transpose,
    /// `permute(axes)` (a view).
    Permute,
    /// `slice(axis, start, end)` (a view).
    Slice,
    /// `concat(&other, axis)`.
    Concat,
    /// `get(index)`: an element.
    Get,
    /// `item()`: the element of a one-element tensor.
    Item,
    /// `to_vec()`: the elements in row-major order.
    ToVec,
    /// `shape()`.
    Shape,
    /// `dtype()`: its name.
    DType,
    /// `device()`: `cpu`.
    Device,
    /// `numel()`.
    Numel,
    /// `rank()`.
    Rank,
    /// `fill_(value)`: in place (copy-on-write if the buffer is shared).
    Fill,
    /// `Shape::dims()`: a `Vec<Int64>` copy of a shape.
    ShapeDims,
}

/// `TensorOp::Binary`'s `aux` flag: the left operand is an element.
pub const LEFT_SCALAR: u32 = 8;
/// `TensorOp::Binary`'s `aux` flag: the right operand is an element.
pub const RIGHT_SCALAR: u32 = 16;

impl TensorOp {
    /// The STARK name of the operation, for messages (`sum_axis`).
    pub fn name(self) -> &'static str {
        use TensorOp::*;
        match self {
            Zeros => "zeros",
            Ones => "ones",
            Full => "full",
            Rand => "rand",
            Randn => "randn",
            Arange => "arange",
            Eye => "eye",
            FromVec => "from_vec",
            Stack => "stack",
            Binary => "arithmetic",
            Matmul => "matmul",
            Sum => "sum",
            Mean => "mean",
            Max => "max",
            Argmax => "argmax",
            SumAxis => "sum_axis",
            MeanAxis => "mean_axis",
            MaxAxis => "max_axis",
            ArgmaxAxis => "argmax_axis",
            Softmax => "softmax",
            Relu => "relu",
            Sigmoid => "sigmoid",
            Tanh => "tanh",
            Exp => "exp",
            Log => "log",
            Sqrt => "sqrt",
            Reshape => "reshape",
            Transpose => "transpose",
            Permute => "permute",
            Slice => "slice",
            Concat => "concat",
            Get => "get",
            Item => "item",
            ToVec => "to_vec",
            Shape => "shape",
            DType => "dtype",
            Device => "device",
            Numel => "numel",
            Rank => "rank",
            Fill => "fill_",
            ShapeDims => "dims",
        }
    }

    /// How many argument registers the operation reads.
    pub fn reads(self) -> u16 {
        use TensorOp::*;
        match self {
            Slice => 4,
            Full | FromVec | Stack | Binary | Matmul | SumAxis | MeanAxis | MaxAxis | ArgmaxAxis | Softmax
            | Reshape | Permute | Get | Fill => 2,
            Concat => 3,
            _ => 1,
        }
    }
}

/// The dtype of element type `ty`, if tensors may hold it.
pub fn dtype_of(ty: NumTy) -> Option<DType> {
    Some(match ty {
        NumTy::F32 => DType::Float32,
        NumTy::F64 => DType::Float64,
        NumTy::I32 => DType::Int32,
        NumTy::I64 => DType::Int64,
        NumTy::U8 => DType::UInt8,
        NumTy::Bool => DType::Bool,
        _ => return None,
    })
}

/// The element in register value `v` of dtype `dtype`.
pub fn scalar_of(v: Value, dtype: DType) -> Scalar {
    match dtype {
        DType::Float32 => Scalar::Float32(v.as_f32()),
        DType::Float64 => Scalar::Float64(v.as_f64()),
        DType::Int32 => Scalar::Int32(v.as_int() as i32),
        DType::Int64 => Scalar::Int64(v.as_int()),
        DType::UInt8 => Scalar::UInt8(v.bits as u8),
        DType::Bool => Scalar::Bool(v.as_bool()),
    }
}

/// The register value of element `s`.
pub fn value_of(s: Scalar) -> Value {
    match s {
        Scalar::Float32(x) => Value::f32(x),
        Scalar::Float64(x) => Value::f64(x),
        Scalar::Int32(x) => Value::int(x as i64),
        Scalar::Int64(x) => Value::int(x),
        Scalar::UInt8(x) => Value::from_bits(x as u64),
        Scalar::Bool(x) => Value::bool(x),
    }
}

/// A `TensorError` as a trap.
pub fn fault(e: TensorError) -> Fault {
    Fault::new(format!("tensor error {}: {}", e.code(), e.message()))
}

/// `t` in dtype `dtype` (converted with Rust's `as` rules if it differs).
fn fit(t: Tensor, dtype: DType) -> Tensor {
    if t.dtype() == dtype {
        t
    } else {
        t.to_dtype(dtype)
    }
}

/// A non-negative `Int64` argument as a size, axis or position.
fn index(v: Value, op: &str, what: &str) -> Result<usize, Fault> {
    usize::try_from(v.as_int())
        .map_err(|_| Fault::new(format!("tensor error T006: {op}: {what} {} is negative", v.as_int())))
}

impl Cx<'_> {
    /// The element type `D` of this site.
    fn dtype(&self) -> Result<DType, Fault> {
        match self.site.slot {
            Slot::Scalar(ty) => dtype_of(ty).ok_or_else(|| Fault::new("internal error: not a tensor element type")),
            _ => Err(Fault::new("internal error: a tensor site without an element type")),
        }
    }

    /// The tensor argument `i` (an owned handle or a reference).
    fn tensor(&mut self, i: usize) -> Result<&Tensor, Fault> {
        let h = self.arg(i).as_handle();
        match self.task.heap.get(h) {
            Obj::Tensor(t) => Ok(t),
            _ => Err(Fault::new("internal error: not a tensor")),
        }
    }

    /// The sizes in the `Shape` argument `i`, which is consumed.
    fn take_dims(&mut self, i: usize, op: &str) -> Result<Vec<usize>, Fault> {
        let dims = self.signed_dims(i);
        let shape = self.arg(i);
        self.free(shape);
        dims.into_iter().map(|d| index(Value::int(d), op, "dimension")).collect()
    }

    /// The integers in the list argument `i` (not consumed).
    fn signed_dims(&mut self, i: usize) -> Vec<i64> {
        let v = self.arg(i);
        self.task.heap.items(v.as_handle()).iter().map(|x| x.as_int()).collect()
    }

    /// A new tensor object.
    fn new_tensor(&mut self, t: Tensor) -> Value {
        Value::handle(self.task.heap.alloc(Obj::Tensor(Box::new(t))))
    }

    /// A new list of these values, of the site's layout.
    fn new_list(&mut self, items: Vec<Value>) -> Value {
        let layout = self.site.layout;
        Value::handle(self.task.heap.alloc(Obj::List { layout, items }))
    }

    /// Runs tensor operation `op`.
    pub(crate) fn tensor_op(&mut self, op: TensorOp, host: &mut dyn Host) -> Result<Flow, Fault> {
        use TensorOp::*;
        let r = match op {
            Zeros | Ones | Full | Rand | Randn | Arange | Eye | FromVec | Stack => self.construct(op, host)?,
            Binary => self.binary()?,
            Sum | Mean | Max | Argmax | Item | Get => self.element(op)?,
            ToVec | Shape | ShapeDims | DType | Device | Numel | Rank => self.inspect(op)?,
            Fill => {
                let dtype = self.dtype()?;
                let value = scalar_of(self.arg(1), dtype);
                let h = self.arg(0).as_handle();
                if let Obj::Tensor(t) = self.task.heap.get_mut(h) {
                    t.fill_(value);
                }
                Value::UNIT
            }
            _ => {
                let t = self.transform(op)?;
                self.new_tensor(t)
            }
        };
        self.ret(r);
        Ok(Flow::Done)
    }

    /// The constructors.
    fn construct(&mut self, op: TensorOp, host: &mut dyn Host) -> Result<Value, Fault> {
        use TensorOp::*;
        let dtype = self.dtype()?;
        let name = op.name();
        let t = match op {
            Zeros | Ones | Rand | Randn => {
                let dims = self.take_dims(0, name)?;
                match op {
                    Zeros => Tensor::zeros(&dims, dtype),
                    Ones => Tensor::ones(&dims, dtype),
                    Rand => Tensor::rand(&dims, dtype, host.random_seed()),
                    _ => Tensor::randn(&dims, dtype, host.random_seed()),
                }
            }
            Full => {
                let value = scalar_of(self.arg(1), dtype);
                let dims = self.take_dims(0, name)?;
                Tensor::full(&dims, value)
            }
            Arange => {
                let n = index(self.arg(0), "arange", "length")?;
                Tensor::arange(0.0, n as f64, 1.0, dtype)
            }
            Eye => Tensor::eye(index(self.arg(0), "eye", "size")?, dtype),
            FromVec => self.build_from_vec(dtype)?,
            _ => self.stack()?,
        };
        let t = t.map_err(fault)?;
        Ok(self.new_tensor(t))
    }

    /// `Tensor::from_vec(values, shape)`: both arguments are consumed.
    fn build_from_vec(&mut self, dtype: DType) -> Result<Result<Tensor, TensorError>, Fault> {
        let dims = self.take_dims(1, "from_vec")?;
        let list = self.arg(0);
        let values: Vec<Scalar> = self.task.heap.items(list.as_handle()).iter().map(|v| scalar_of(*v, dtype)).collect();
        self.free(list);
        Ok(from_scalars(values, dtype, &dims))
    }

    /// `Tensor::stack(tensors, axis)`: the `Vec` is consumed.
    fn stack(&mut self) -> Result<Result<Tensor, TensorError>, Fault> {
        let axis = index(self.arg(1), "stack", "axis")?;
        let list = self.arg(0);
        let result = {
            let heap = &self.task.heap;
            let parts: Vec<&Tensor> = heap
                .items(list.as_handle())
                .iter()
                .filter_map(|v| match heap.get(v.as_handle()) {
                    Obj::Tensor(t) => Some(&**t),
                    _ => None,
                })
                .collect();
            Tensor::stack(&parts, axis)
        };
        self.free(list);
        Ok(result)
    }

    /// `a op b`, either side possibly an element of the other's dtype.
    fn binary(&mut self) -> Result<Value, Fault> {
        let aux = self.site.aux;
        let op = match aux & 7 {
            0 => BinaryOp::Add,
            1 => BinaryOp::Sub,
            2 => BinaryOp::Mul,
            3 => BinaryOp::Div,
            _ => BinaryOp::Rem,
        };
        let dtype = self.dtype()?;
        let operand = |cx: &mut Self, i: usize, scalar: bool| -> Result<Tensor, Fault> {
            if scalar {
                Ok(Tensor::scalar(scalar_of(cx.arg(i), dtype)))
            } else {
                cx.tensor(i).cloned()
            }
        };
        let a = operand(self, 0, aux & LEFT_SCALAR != 0)?;
        let b = operand(self, 1, aux & RIGHT_SCALAR != 0)?;
        let t = a.binary(&b, op).map_err(fault)?;
        Ok(self.new_tensor(fit(t, dtype)))
    }

    /// Operations giving an element.
    fn element(&mut self, op: TensorOp) -> Result<Value, Fault> {
        use TensorOp::*;
        let dtype = self.dtype()?;
        let index_dims = if op == Get { Some(self.take_dims(1, "get")?) } else { None };
        let t = self.tensor(0)?;
        let s = match op {
            Sum => fit(t.sum(None).map_err(fault)?, dtype).item(),
            Mean => fit(t.mean(None).map_err(fault)?, dtype).item(),
            Max => t.max(None).map_err(fault)?.item(),
            Argmax => t.argmax(None).map_err(fault)?.item(),
            Get => t.get(index_dims.as_deref().unwrap_or(&[])),
            _ => t.item(),
        };
        Ok(value_of(s.map_err(fault)?))
    }

    /// Operations reading a tensor's elements or layout.
    fn inspect(&mut self, op: TensorOp) -> Result<Value, Fault> {
        use TensorOp::*;
        if op == ShapeDims {
            let dims = self.signed_dims(0);
            return Ok(self.new_list(dims.into_iter().map(Value::int).collect()));
        }
        let t = self.tensor(0)?;
        Ok(match op {
            ToVec => {
                let items = to_values(t);
                self.new_list(items)
            }
            Shape => {
                let dims = t.shape().dims().iter().map(|&d| Value::int(d as i64)).collect();
                self.new_list(dims)
            }
            DType => {
                let name = t.dtype().name().to_string();
                self.new_str(name)
            }
            Device => {
                let name = t.device().to_string();
                self.new_str(name)
            }
            Numel => Value::int(t.numel() as i64),
            _ => Value::int(t.rank() as i64),
        })
    }

    /// Operations giving a new tensor from the receiver `R[base]`.
    fn transform(&mut self, op: TensorOp) -> Result<Tensor, Fault> {
        use TensorOp::*;
        let dtype = self.dtype()?;
        let name = op.name();
        let int = |cx: &mut Self, i: usize, what: &str| index(cx.arg(i), name, what);
        let t = match op {
            Reshape => {
                let dims = self.signed_dims(1);
                let shape = self.arg(1);
                self.free(shape);
                self.tensor(0)?.reshape_infer(&dims)
            }
            Permute => {
                let axes = self.take_dims(1, "permute")?;
                self.tensor(0)?.permute(&axes)
            }
            Slice => {
                let (axis, start, end) = (int(self, 1, "axis")?, int(self, 2, "start")?, int(self, 3, "end")?);
                self.tensor(0)?.slice(axis, start, end, 1)
            }
            Concat => {
                let axis = int(self, 2, "axis")?;
                let other = self.tensor(1)?.clone();
                Tensor::concat(&[self.tensor(0)?, &other], axis)
            }
            Matmul => {
                let other = self.tensor(1)?.clone();
                self.tensor(0)?.matmul(&other)
            }
            Transpose => Ok(self.tensor(0)?.transpose()),
            Relu => Ok(self.tensor(0)?.relu()),
            Sigmoid => Ok(self.tensor(0)?.sigmoid()),
            Tanh => Ok(self.tensor(0)?.tanh()),
            Exp => Ok(self.tensor(0)?.exp()),
            Log => Ok(self.tensor(0)?.log()),
            Sqrt => Ok(self.tensor(0)?.sqrt()),
            Softmax => {
                let axis = int(self, 1, "axis")?;
                self.tensor(0)?.softmax(axis)
            }
            _ => {
                let axis = Some(int(self, 1, "axis")?);
                let t = self.tensor(0)?;
                match op {
                    SumAxis => t.sum(axis),
                    MeanAxis => t.mean(axis),
                    MaxAxis => t.max(axis),
                    _ => return t.argmax(axis).map_err(fault),
                }
            }
        };
        Ok(fit(t.map_err(fault)?, dtype))
    }
}

/// A tensor of `dtype` from elements of that dtype.
fn from_scalars(values: Vec<Scalar>, dtype: DType, dims: &[usize]) -> Result<Tensor, TensorError> {
    match dtype {
        DType::Float32 => Tensor::from_vec(values.into_iter().map(|s| s.cast::<f32>()).collect(), dims),
        DType::Float64 => Tensor::from_vec(values.into_iter().map(|s| s.cast::<f64>()).collect(), dims),
        DType::Int32 => Tensor::from_vec(values.into_iter().map(|s| s.cast::<i32>()).collect(), dims),
        DType::Int64 => Tensor::from_vec(values.into_iter().map(|s| s.cast::<i64>()).collect(), dims),
        DType::UInt8 => Tensor::from_vec(values.into_iter().map(|s| s.cast::<u8>()).collect(), dims),
        DType::Bool => Tensor::from_vec(values.into_iter().map(|s| s.cast::<bool>()).collect(), dims),
    }
}

/// The elements of `t` in row-major order, as register values.
fn to_values(t: &Tensor) -> Vec<Value> {
    fn all<T: stark_tensor::Element>(t: &Tensor, f: impl Fn(T) -> Value) -> Vec<Value> {
        t.to_vec::<T>().unwrap_or_default().into_iter().map(f).collect()
    }
    match t.dtype() {
        DType::Float32 => all(t, Value::f32),
        DType::Float64 => all(t, Value::f64),
        DType::Int32 => all(t, |x: i32| Value::int(x as i64)),
        DType::Int64 => all(t, Value::int),
        DType::UInt8 => all(t, |x: u8| Value::from_bits(x as u64)),
        DType::Bool => all(t, Value::bool),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_round_trip_through_registers() {
        for s in [
            Scalar::Float32(-1.5),
            Scalar::Float64(2.25),
            Scalar::Int32(-7),
            Scalar::Int64(i64::MIN),
            Scalar::UInt8(200),
            Scalar::Bool(true),
        ] {
            assert_eq!(scalar_of(value_of(s), s.dtype()), s);
        }
    }

    #[test]
    fn results_are_converted_to_the_declared_element_type() {
        let t = Tensor::from_vec(vec![1i32, 2, 3], &[3]).expect("shape fits");
        let sum = fit(t.sum(None).expect("sums"), DType::Int32);
        assert_eq!(sum.item().expect("one element"), Scalar::Int32(6));
        assert_eq!(fit(t.exp(), DType::Int32).dtype(), DType::Int32);
    }

    /// A tensor object of a heap, sharing `t`'s buffer.
    fn stored(heap: &mut crate::heap::Heap, t: &Tensor) -> Value {
        Value::handle(heap.alloc(Obj::Tensor(Box::new(t.clone()))))
    }

    #[test]
    fn dropping_a_tensor_releases_its_buffer() {
        let (mut heap, prog) = (crate::heap::Heap::new(), crate::Program::default());
        let t = Tensor::ones(&[4, 4], DType::Float32).expect("small");
        let v = stored(&mut heap, &t);
        assert!(t.is_shared());
        heap.free(&prog, v);
        assert!(!t.is_shared());
        assert_eq!(heap.live(), 0);
    }

    #[test]
    fn moving_to_another_heap_shares_the_buffer_and_clone_copies_it() {
        let prog = crate::Program::default();
        let (mut from, mut to) = (crate::heap::Heap::new(), crate::heap::Heap::new());
        let t = Tensor::arange(0.0, 6.0, 1.0, DType::Int64).expect("valid range");
        let v = stored(&mut from, &t);
        let portable = crate::transfer::export(&mut from, &prog, v, Slot::Owned(0)).expect("a tensor moves");
        assert_eq!(from.live(), 0);
        let w = crate::transfer::import(&mut to, portable);
        let Obj::Tensor(moved) = to.get(w.as_handle()) else { panic!("a tensor arrives") };
        assert!(moved.shares_buffer_with(&t));
        let c = crate::deep::clone(&mut to, &prog, w, Slot::Owned(0));
        let Obj::Tensor(copy) = to.get(c.as_handle()) else { panic!("a tensor is cloned") };
        assert!(!copy.shares_buffer_with(&t));
        assert_eq!(copy.to_vec::<i64>().expect("Int64"), [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn errors_become_traps_with_code_and_both_shapes() {
        let a = Tensor::zeros(&[2, 3], DType::Float32).expect("small");
        let b = Tensor::zeros(&[4], DType::Float32).expect("small");
        let e = a.add(&b).map_err(fault).expect_err("does not broadcast");
        assert_eq!(e.0, "tensor error T001: cannot broadcast shapes [2, 3] and [4]");
        assert!(index(Value::int(-1), "sum", "axis").is_err());
    }
}
