//! Models (LANGUAGE.md sections 5 and 8): the bodiless `Model` library
//! functions, `load_model`, `serve`, `model_stats` and the parallel model
//! patterns become `Native::Model` calls (`stark_vm::model`). `inputs()`
//! and `outputs()` have STARK bodies in `std.stark` over the `info_*` natives.

use crate::body::FnCx;
use stark_syntax::ast;
use stark_vm::bytecode::Reg;
use stark_vm::model::ModelFn;
use stark_vm::native::Native;
use stark_vm::program::{Slot, NO_LAYOUT};

/// The operation behind library function `name`.
fn model_fn(name: &str) -> Option<ModelFn> {
    use ModelFn::*;
    Some(match name {
        "load_model" => Load,
        "load_model_with" => LoadWith,
        "Model::predict" => Predict,
        "Model::predict_all" => PredictAll,
        "Model::name" => Name,
        "Model::info_count" => InfoCount,
        "Model::info_name" => InfoName,
        "Model::info_dtype" => InfoDtype,
        "Model::info_dims" => InfoDims,
        "serve" => Serve,
        "ActorRef::model_stats" => Stats,
        "register_model" => Register,
        "parallel_inference" => Parallel,
        "parallel_model_ensemble" => Ensemble,
        "Tokenizer::from_file" => TokenizerLoad,
        "Tokenizer::encode" => Encode,
        "DataPipe::csv" => DataCsv,
        "DataPipe::add" => DataAdd,
        "DataPipe::step" => DataStep,
        "DataPipe::take_item" => DataItem,
        "DataPipe::inputs" => DataInputs,
        "DataPipe::give" => DataGive,
        _ => return None,
    })
}

impl<'a> FnCx<'_, 'a> {
    /// A call of a bodiless model library function; `None` when `name` is not one.
    pub fn model_call(
        &mut self,
        name: &str,
        recv: Option<Reg>,
        args: &'a [ast::Expr],
        e: &'a ast::Expr,
    ) -> Option<Reg> {
        let f = model_fn(name)?;
        let ret = self.ty_of(e);
        let layout = if self.c.is_object(ret) { self.c.layout(ret) } else { NO_LAYOUT };
        // `serve` moves its `BatchPolicy` to the runtime.
        let slot = match (f, args.get(1)) {
            (ModelFn::Serve, Some(policy)) => {
                let ty = self.ty_of(policy);
                self.c.slot(ty)
            }
            _ => Slot::Fn,
        };
        let base = self.args_block(recv, args);
        self.native(Native::Model(f), slot, layout, NO_LAYOUT, base);
        self.reset_top(base + 1);
        Some(base)
    }
}
