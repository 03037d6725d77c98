//! The model natives (LANGUAGE.md sections 5 and 8): a `Model` is a
//! runtime object (`Obj::Host`) the host made; the operands become a
//! [`ModelOp`] the host runs (loading and inference run off the task's
//! thread, so the task waits and others run). Receivers and `&` operands
//! are borrowed; owned ones (`serve`'s, `parallel_inference`'s) move to
//! the host.

use crate::heap::{HostRef, Obj};
use crate::native::{Cx, Flow};
use crate::task::{Done, Host};
use crate::transfer::{self, Portable};
use crate::trap::Fault;
use stark_tensor::Tensor;

/// One model operation (`Native::Model`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelFn {
    /// `load_model(path)`.
    Load,
    /// `load_model_with(path, backend)`.
    LoadWith,
    /// `model.predict(&input)`: the first output.
    Predict,
    /// `model.predict_all(&inputs)`: every output.
    PredictAll,
    /// `model.name()`.
    Name,
    /// How many inputs (or, the second operand true, outputs).
    InfoCount,
    /// Input or output `i`'s name.
    InfoName,
    /// Input or output `i`'s element type, as a string.
    InfoDtype,
    /// Input or output `i`'s sizes (`-1`: symbolic).
    InfoDims,
    /// `serve(model, policy)`: an actor batching the model's requests.
    Serve,
    /// `ref.model_stats()`.
    Stats,
    /// `register_model(name, server)`: names a server for `stark serve`.
    Register,
    /// `parallel_inference(model, batches)`.
    Parallel,
    /// `parallel_model_ensemble(models, input)`.
    Ensemble,
    /// `Tokenizer::from_file(path)`.
    TokenizerLoad,
    /// `tokenizer.encode(text)`: `Int64` ids of shape `[1, length]`.
    Encode,
    /// `DataPipe::csv(path)`: a `Dataset`'s pipeline over a CSV file.
    DataCsv,
    /// `pipe.add(kind, a, b)`: adds a stage (0 batch, 1 shuffle, 2 prefetch, 3 functions).
    DataAdd,
    /// `pipe.step()`: -1 the end, -2 an item is ready, `k` stage `k` needs its functions applied.
    DataStep,
    /// `pipe.take_item()`: the ready item.
    DataItem,
    /// `pipe.inputs()`: the inputs of the stage whose functions are applied.
    DataInputs,
    /// `pipe.give(outputs)`: the functions' outputs, in order.
    DataGive,
}

impl ModelFn {
    /// How many argument registers the operation reads.
    pub fn reads(self) -> u16 {
        use ModelFn::*;
        match self {
            DataAdd => 4,
            InfoName | InfoDtype | InfoDims => 3,
            Predict | PredictAll | InfoCount | Serve | Parallel | Ensemble | Encode | Register | DataGive
            | LoadWith => 2,
            _ => 1,
        }
    }
}

/// What the host does for a model native.
pub enum ModelOp {
    /// Loads the model at `path`, with the backend named `backend` or the
    /// one its kind of file calls for.
    Load { path: String, backend: Option<String> },
    /// Runs `inputs` (one request); the first output, or all as a `Vec`
    /// of layout `list`.
    Predict { model: HostRef, inputs: Vec<Tensor>, list: Option<u32> },
    /// The model's name (a `String`).
    Name { model: HostRef },
    /// Metadata of input (or output) `index`: `what` is the `ModelFn`
    /// (`InfoCount`, `InfoName`, `InfoDtype`, `InfoDims` with `Vec` layout `list`).
    Info { model: HostRef, outputs: bool, what: ModelFn, index: i64, list: u32 },
    /// Starts a batching actor for `model` under `policy` (a `BatchPolicy`); gives its cell.
    Serve { model: HostRef, policy: Portable },
    /// `ModelStats` of a serving actor, a record of layout `layout`.
    Stats { cell: HostRef, layout: u32 },
    /// Registers the actor `cell` under `name` for `stark serve`.
    Register { name: String, cell: HostRef },
    /// Runs each batch (across the cores); the outputs as a `Vec` of layout `list`.
    Parallel { model: HostRef, batches: Vec<Tensor>, list: u32 },
    /// Runs `input` through every model at once; a `Vec` of layout `list`.
    Ensemble { models: Vec<HostRef>, input: Tensor, list: u32 },
    /// Loads a `tokenizer.json`.
    TokenizerLoad { path: String },
    /// The token ids of `text`.
    Encode { tokenizer: HostRef, text: String },
    /// Opens a dataset pipeline over the CSV file at `path`.
    DataCsv { path: String },
    /// Adds a stage of `kind` with operands `a` and `b` to `pipe`.
    DataAdd { pipe: HostRef, kind: i64, a: i64, b: i64 },
    /// Advances `pipe` (an `Int64`, see `ModelFn::DataStep`).
    DataStep { pipe: HostRef },
    /// The ready item of `pipe`.
    DataItem { pipe: HostRef },
    /// The inputs `pipe` waits to have transformed, a `Vec` of layout `list`.
    DataInputs { pipe: HostRef, list: u32 },
    /// The transformed `outputs`, back to `pipe`.
    DataGive { pipe: HostRef, outputs: Vec<Tensor> },
}

impl Cx<'_> {
    /// A model native: the operands become a `ModelOp` for the host.
    pub(crate) fn model_op(&mut self, f: ModelFn, host: &mut dyn Host) -> Result<Flow, Fault> {
        let layout = self.site.layout;
        let op = match f {
            ModelFn::Load => ModelOp::Load { path: self.str_arg(0), backend: None },
            ModelFn::LoadWith => ModelOp::Load { path: self.str_arg(0), backend: Some(self.str_arg(1)) },
            ModelFn::TokenizerLoad => ModelOp::TokenizerLoad { path: self.str_arg(0) },
            ModelFn::Encode => ModelOp::Encode { tokenizer: self.host_arg(0)?, text: self.str_arg(1) },
            ModelFn::Predict | ModelFn::PredictAll => {
                let model = self.host_arg(0)?;
                let inputs = if f == ModelFn::Predict { vec![self.tensor_at(1)?] } else { self.tensors_in(1, false)? };
                ModelOp::Predict { model, inputs, list: (f == ModelFn::PredictAll).then_some(layout) }
            }
            ModelFn::Name => ModelOp::Name { model: self.host_arg(0)? },
            ModelFn::InfoCount | ModelFn::InfoName | ModelFn::InfoDtype | ModelFn::InfoDims => {
                let index = if f == ModelFn::InfoCount { 0 } else { self.arg(2).as_int() };
                let outputs = self.arg(1).bits != 0;
                ModelOp::Info { model: self.host_arg(0)?, outputs, what: f, index, list: layout }
            }
            ModelFn::Serve => {
                let (model, policy) = (self.take_host(0)?, self.arg(1));
                let policy = transfer::export(&mut self.task.heap, self.prog, policy, self.site.slot)?;
                ModelOp::Serve { model, policy }
            }
            ModelFn::Stats => ModelOp::Stats { cell: self.host_arg(0)?, layout },
            ModelFn::DataCsv => ModelOp::DataCsv { path: self.str_arg(0) },
            ModelFn::DataAdd => {
                let (kind, a, b) = (self.arg(1).as_int(), self.arg(2).as_int(), self.arg(3).as_int());
                ModelOp::DataAdd { pipe: self.host_arg(0)?, kind, a, b }
            }
            ModelFn::DataStep => ModelOp::DataStep { pipe: self.host_arg(0)? },
            ModelFn::DataItem => ModelOp::DataItem { pipe: self.host_arg(0)? },
            ModelFn::DataInputs => ModelOp::DataInputs { pipe: self.host_arg(0)?, list: layout },
            ModelFn::DataGive => ModelOp::DataGive { pipe: self.host_arg(0)?, outputs: self.tensors_in(1, true)? },
            ModelFn::Register => ModelOp::Register { name: self.str_arg(0), cell: self.take_host(1)? },
            ModelFn::Parallel => {
                let model = self.take_host(0)?;
                ModelOp::Parallel { model, batches: self.tensors_in(1, true)?, list: layout }
            }
            ModelFn::Ensemble => {
                let list = self.arg(0);
                let models = self.task.heap.items(list.as_handle()).to_vec();
                let models = models
                    .iter()
                    .map(|v| match self.task.heap.get(v.as_handle()) {
                        Obj::Host(r) => Ok(r.clone()),
                        _ => Err(Fault::new("internal error: not a model")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.free(list);
                let input = self.tensor_at(1)?;
                let t = self.arg(1);
                self.free(t);
                ModelOp::Ensemble { models, input, list: layout }
            }
        };
        match host.model(op)? {
            Done::Now(p) => {
                let v = transfer::import(&mut self.task.heap, p);
                self.ret(v);
                Ok(Flow::Done)
            }
            Done::Wait(f) => Ok(Flow::Suspend(f)),
        }
    }

    /// The tensor in argument `i` (shared, not copied).
    fn tensor_at(&mut self, i: usize) -> Result<Tensor, Fault> {
        let h = self.arg(i).as_handle();
        match self.task.heap.get(h) {
            Obj::Tensor(t) => Ok((**t).clone()),
            _ => Err(Fault::new("internal error: not a tensor")),
        }
    }

    /// The tensors of the `Vec` in argument `i` (shared); the `Vec` is
    /// consumed when `owned`.
    fn tensors_in(&mut self, i: usize, owned: bool) -> Result<Vec<Tensor>, Fault> {
        let list = self.arg(i);
        let heap = &self.task.heap;
        let tensors = heap
            .items(list.as_handle())
            .iter()
            .map(|v| match heap.get(v.as_handle()) {
                Obj::Tensor(t) => Ok((**t).clone()),
                _ => Err(Fault::new("internal error: not a tensor")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if owned {
            self.free(list);
        }
        Ok(tensors)
    }

    /// The runtime object in argument `i`, which moves out (its handle is freed).
    fn take_host(&mut self, i: usize) -> Result<HostRef, Fault> {
        let r = self.host_arg(i)?;
        let v = self.arg(i);
        self.free(v);
        Ok(r)
    }
}
