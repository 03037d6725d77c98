//! Models in the runtime (LANGUAGE.md sections 5 and 8). Loading and
//! inference run on tokio's blocking threads, so the asking task waits and
//! the others run on. `serve(model, policy)` is an actor whose loop is Rust:
//! it takes batches from its mailbox (the same priority mailbox, deadlines
//! and `max_queue` shedding as any actor) and hands them to an inference
//! thread of its own, which runs each as one call and answers every asker
//! with its own rows; a failing batch fails only its own requests and the
//! server keeps serving.

use crate::actor::{ActorCell, Gathered, Owed};
use crate::host::TaskHost;
use stark_models::{BackendKind, Dim, Model, Tokenizer};
use stark_tensor::{DType, Tensor};
use stark_vm::model::{ModelFn, ModelOp};
use stark_vm::task::{Done, Resume};
use stark_vm::transfer::Portable;
use stark_vm::trap::Fault;
use stark_vm::{Trap, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Receiver;

/// Runs a model operation for `host`.
pub(crate) fn op(host: &TaskHost, op: ModelOp) -> Result<Done, Fault> {
    match op {
        ModelOp::Load { path, backend } => Ok(blocking(move || {
            let model = match backend {
                Some(name) => BackendKind::parse(&name).and_then(|kind| Model::load_with(&path, kind)),
                None => Model::load(&path),
            };
            model.map(|m| Portable::Host(Arc::new(m))).map_err(|e| e.to_string())
        })),
        ModelOp::Predict { model, inputs, list } => {
            let model = model_of(&model)?;
            Ok(blocking(move || {
                let outs = model.infer(&inputs).map_err(|e| e.to_string())?;
                match list {
                    Some(layout) => Ok(Portable::List { layout, items: outs.into_iter().map(float_tensor).collect() }),
                    None => outs.into_iter().next().map(float_tensor).ok_or_else(|| "the model has no output".into()),
                }
            }))
        }
        ModelOp::Name { model } => Ok(Done::Now(Portable::Str(model_of(&model)?.name().to_string()))),
        ModelOp::Info { model, outputs, what, index, list } => info(&model_of(&model)?, outputs, what, index, list),
        ModelOp::Serve { model, policy } => serve(host, model_of(&model)?, &policy),
        ModelOp::Stats { cell, layout } => {
            let cell = cell.downcast_ref::<ActorCell>().ok_or_else(|| Fault::new("internal error: not an actor"))?;
            let numbers = serve_numbers(cell).unwrap_or_else(|| with_batching(ServeStats::default().numbers(), cell));
            Ok(Done::Now(stats_record(&numbers, layout, histogram_layout(host, layout))))
        }
        ModelOp::Register { name, cell } => {
            let cell = cell.downcast::<ActorCell>().map_err(|_| Fault::new("internal error: not an actor"))?;
            if let Ok(mut registry) = host.shared.registry.lock() {
                registry.insert(name, cell);
            }
            Ok(Done::Now(Portable::Scalar(Value::UNIT)))
        }
        ModelOp::Parallel { model, batches, list } => {
            let model = model_of(&model)?;
            Ok(blocking(move || {
                use rayon::prelude::*;
                let outs: Result<Vec<Tensor>, String> =
                    batches.par_iter().map(|b| first_output(&model, std::slice::from_ref(b))).collect();
                Ok(Portable::List { layout: list, items: outs?.into_iter().map(float_tensor).collect() })
            }))
        }
        ModelOp::TokenizerLoad { path } => Ok(blocking(move || {
            Tokenizer::from_file(&path).map(|t| Portable::Host(Arc::new(t))).map_err(|e| e.to_string())
        })),
        ModelOp::Encode { tokenizer, text } => {
            let tokenizer =
                tokenizer.downcast_ref::<Tokenizer>().ok_or_else(|| Fault::new("internal error: not a tokenizer"))?;
            let ids = tokenizer.encode(&text).map_err(|e| Fault::new(e.to_string()))?;
            Ok(Done::Now(Portable::Tensor(Box::new(ids))))
        }
        ModelOp::DataCsv { path } => {
            let pipe = crate::dataset::DataPipe::csv(&path).map_err(Fault::new)?;
            Ok(Done::Now(Portable::Host(Arc::new(pipe))))
        }
        ModelOp::DataAdd { pipe, kind, a, b } => {
            let pipe = pipe_of(&pipe)?;
            match kind {
                0 => pipe.batch(a),
                1 => pipe.shuffle(a, b),
                2 => pipe.prefetch(a),
                _ => pipe.apply(a),
            }
            .map_err(Fault::new)?;
            Ok(Done::Now(Portable::Scalar(Value::UNIT)))
        }
        ModelOp::DataStep { pipe } => {
            use crate::dataset::Step;
            let code = match pipe_of(&pipe)?.step().map_err(Fault::new)? {
                Step::End => -1,
                Step::Item => -2,
                Step::Apply(k) => k as i64,
            };
            Ok(Done::Now(Portable::Scalar(Value::int(code))))
        }
        ModelOp::DataItem { pipe } => {
            let t = pipe_of(&pipe)?.take_item().map_err(Fault::new)?;
            Ok(Done::Now(Portable::Tensor(Box::new(t))))
        }
        ModelOp::DataInputs { pipe, list } => {
            let items = pipe_of(&pipe)?.inputs().into_iter().map(|t| Portable::Tensor(Box::new(t))).collect();
            Ok(Done::Now(Portable::List { layout: list, items }))
        }
        ModelOp::DataGive { pipe, outputs } => {
            pipe_of(&pipe)?.give(outputs).map_err(Fault::new)?;
            Ok(Done::Now(Portable::Scalar(Value::UNIT)))
        }
        ModelOp::Ensemble { models, input, list } => {
            let models = models.iter().map(model_of).collect::<Result<Vec<_>, _>>()?;
            Ok(blocking(move || {
                use rayon::prelude::*;
                let outs: Result<Vec<Tensor>, String> =
                    models.par_iter().map(|m| first_output(m, std::slice::from_ref(&input))).collect();
                Ok(Portable::List { layout: list, items: outs?.into_iter().map(float_tensor).collect() })
            }))
        }
    }
}

fn model_of(r: &stark_vm::heap::HostRef) -> Result<Model, Fault> {
    r.downcast_ref::<Model>().cloned().ok_or_else(|| Fault::new("internal error: not a model"))
}

fn pipe_of(r: &stark_vm::heap::HostRef) -> Result<&crate::dataset::DataPipe, Fault> {
    r.downcast_ref::<crate::dataset::DataPipe>().ok_or_else(|| Fault::new("internal error: not a dataset"))
}

fn first_output(model: &Model, inputs: &[Tensor]) -> Result<Tensor, String> {
    let outs = model.infer(inputs).map_err(|e| e.to_string())?;
    outs.into_iter().next().ok_or_else(|| format!("model `{}` has no output", model.name()))
}

/// An output as the language types it (`Tensor<Float32>`).
fn float_tensor(t: Tensor) -> Portable {
    let t = if t.dtype() == DType::Float32 { t } else { t.to_dtype(DType::Float32) };
    Portable::Tensor(Box::new(t))
}

/// `work` on a blocking thread; the task waits for its value (or traps
/// with its error).
fn blocking(work: impl FnOnce() -> Result<Portable, String> + Send + 'static) -> Done {
    Done::Wait(Box::pin(async move {
        match tokio::task::spawn_blocking(work).await {
            Ok(Ok(p)) => Resume::Moved(p),
            Ok(Err(message)) => Resume::Fault(Fault::new(message)),
            Err(e) => Resume::Fault(Fault::new(format!("internal error: a model call was lost: {e}"))),
        }
    }))
}

/// Input or output metadata.
fn info(model: &Model, outputs: bool, what: ModelFn, index: i64, list: u32) -> Result<Done, Fault> {
    let infos = if outputs { model.outputs() } else { model.inputs() };
    if what == ModelFn::InfoCount {
        return Ok(Done::Now(Portable::Scalar(Value::int(infos.len() as i64))));
    }
    let info = usize::try_from(index).ok().and_then(|i| infos.get(i));
    let Some(info) = info else { return Err(Fault::new(format!("no input or output {index}"))) };
    Ok(Done::Now(match what {
        ModelFn::InfoName => Portable::Str(info.name.clone()),
        ModelFn::InfoDtype => Portable::Str(format!("{:?}", info.dtype)),
        _ => Portable::List {
            layout: list,
            items: info
                .dims
                .iter()
                .map(|d| {
                    Portable::Scalar(Value::int(match d {
                        Dim::Fixed(n) => *n as i64,
                        Dim::Symbolic(_) => -1,
                    }))
                })
                .collect(),
        },
    }))
}

/// Starts the batching actor of `serve(model, policy)`.
fn serve(host: &TaskHost, model: Model, policy: &Portable) -> Result<Done, Fault> {
    let (batching, shed) = crate::options::batch_policy(policy)?;
    let Some(batching) = batching else { return Err(Fault::new("internal error: no batch policy")) };
    let cell = Arc::new(ActorCell::new(format!("serve({})", model.name()), host.shared.board.clone()));
    let max_batch = batching.max_batch;
    cell.configure(if shed == usize::MAX { 1024 } else { shed }, crate::mailbox::USER_FACING, Some(batching), shed);
    let stats = Arc::new(ServeStats::new(max_batch));
    let _ = cell.serving.set(stats.clone());
    let _ = cell.model.set(model.clone());
    if let Ok(mut actors) = host.shared.actors.lock() {
        actors.push(cell.clone());
    }
    host.shared.runtime.spawn(serve_loop(cell.clone(), model, stats));
    Ok(Done::Now(Portable::Host(cell)))
}

/// The server, until stopped and drained: this loop gathers batches, an
/// inference thread of the server's own runs them back to back (so the
/// model never waits for the scheduler between two batches), and a task
/// answers them (so the thread never stops to wake askers). The next
/// batch is gathered while one runs, and only one waits for the thread:
/// requests stay in the mailbox (where priorities, deadlines and
/// shedding apply) until then. The server ends once every batch it took
/// is answered.
async fn serve_loop(cell: Arc<ActorCell>, model: Model, stats: Arc<ServeStats>) {
    let (batches, rx) = tokio::sync::mpsc::channel::<Gathered>(1);
    let (answered, mut to_answer) = tokio::sync::mpsc::unbounded_channel::<Answered>();
    let worker = tokio::task::spawn_blocking(move || infer_batches(&model, &stats, rx, answered));
    let answering = {
        let cell = cell.clone();
        tokio::spawn(async move {
            while let Some((owed, handling, outcomes)) = to_answer.recv().await {
                cell.answer(owed, handling, outcomes);
            }
        })
    };
    // A send fails only if the thread is gone, and it does not go early
    // (it catches a failing batch): then there is no one left to serve.
    while let Ok(slot) = batches.reserve().await {
        let Some(batch) = cell.next_batch().await else { break };
        slot.send(batch);
    }
    drop(batches);
    // The thread's end closes the answers' channel, so this waits for
    // the last answer too.
    let (thread, task) = (worker.await, answering.await);
    if thread.is_err() || task.is_err() {
        // The thread or the task failed outside a batch (a bug): fail what is queued.
        cell.fail(&Trap::bare("internal error: the inference thread failed"));
    }
    cell.ended();
}

/// A batch computed: the replies owed, how long it took, each outcome.
type Answered = (Owed, Duration, Vec<Result<Portable, Trap>>);

/// The inference thread: each batch gathered, as one call, sent to be answered.
fn infer_batches(
    model: &Model,
    stats: &ServeStats,
    mut batches: Receiver<Gathered>,
    answered: tokio::sync::mpsc::UnboundedSender<Answered>,
) {
    while let Some(Gathered { messages, owed }) = batches.blocking_recv() {
        let started = Instant::now();
        let n = messages.len();
        let queued: Vec<Instant> = messages.iter().map(|(_, q)| q.unwrap_or(started)).collect();
        let requests: Vec<Vec<Tensor>> = messages
            .into_iter()
            .map(|(m, _)| match m {
                Portable::Tensor(t) => vec![*t],
                _ => Vec::new(),
            })
            .collect();
        // A panic in the backend is a bug; it fails this batch's requests
        // and the server goes on.
        let answers = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_batch(model, requests)))
            .ok()
            .filter(|a| a.len() == n)
            .unwrap_or_else(|| vec![Err("internal error: the backend failed on this batch (a bug)".into()); n]);
        let ran = answers.iter().filter(|a| a.is_ok()).count();
        if ran > 0 {
            stats.record_batch(ran, &queued, started);
        }
        let outcomes = answers.into_iter().map(|a| a.map_err(Trap::bare)).collect();
        // The send fails only if the answering task failed (a bug): the
        // dropped `Owed` then fails its askers.
        let _ = answered.send((owed, started.elapsed(), outcomes));
    }
}

/// Runs the valid requests of a batch as one call; a request that does
/// not fit the model fails alone, and a failing call fails the requests
/// that were in it.
fn run_batch(model: &Model, requests: Vec<Vec<Tensor>>) -> Vec<Result<Portable, String>> {
    let checks: Vec<Result<(), String>> =
        requests.iter().map(|r| model.check_request(r).map_err(|e| e.to_string())).collect();
    let valid: Vec<Vec<Tensor>> =
        requests.into_iter().zip(&checks).filter(|(_, c)| c.is_ok()).map(|(r, _)| r).collect();
    let mut outs = match model.infer_batch(&valid) {
        Ok(outs) => outs
            .into_iter()
            .map(|o| Ok(o.into_iter().next().map_or(Portable::Scalar(Value::UNIT), float_tensor)))
            .collect(),
        Err(e) => vec![Err(e.to_string()); valid.len()],
    }
    .into_iter();
    checks.into_iter().map(|c| c.and_then(|()| outs.next().unwrap_or_else(|| Err("no output".into())))).collect()
}

/// What `model_stats()` and `/metrics` report of a model server.
pub(crate) struct ServeNumbers {
    pub requests: i64,
    /// Queued-to-answered percentiles (50, 95, 99), in microseconds.
    pub latency_us: [i64; 3],
    /// Requests per second between the first batch and the last.
    pub throughput: f64,
    pub mean_queue_us: i64,
    pub mean_compute_us: i64,
    /// `histogram[n - 1]`: batches of `n` requests.
    pub histogram: Vec<i64>,
    /// The largest batch gathered now (an adaptive policy's current size).
    pub batch_size: i64,
    /// How long a batch now waits for more requests, in microseconds.
    pub batch_delay_us: i64,
}

/// A model server's numbers, with the batch size and delay it gathers
/// batches with now; `None` for an actor that is not a model server.
pub(crate) fn serve_numbers(cell: &ActorCell) -> Option<ServeNumbers> {
    Some(with_batching(cell.serving.get()?.numbers(), cell))
}

/// `n` with the batch size and delay `cell` gathers batches with now.
fn with_batching(mut n: ServeNumbers, cell: &ActorCell) -> ServeNumbers {
    let (size, delay) = cell.effective_batching().unwrap_or_default();
    n.batch_size = size as i64;
    n.batch_delay_us = delay.as_micros() as i64;
    n
}

/// `ModelStats` as a record of layout `layout` (fields in declaration
/// order), its histogram a `Vec` of layout `list`.
fn stats_record(n: &ServeNumbers, layout: u32, list: u32) -> Portable {
    let int = |v: i64| Portable::Scalar(Value::int(v));
    let histogram = n.histogram.iter().map(|&c| int(c)).collect();
    let fields = vec![
        int(n.requests),
        int(n.latency_us[0]),
        int(n.latency_us[1]),
        int(n.latency_us[2]),
        Portable::Scalar(Value::f64(n.throughput)),
        int(n.mean_queue_us),
        int(n.mean_compute_us),
        Portable::List { layout: list, items: histogram },
        int(n.batch_size),
        int(n.batch_delay_us),
    ];
    Portable::Record { layout, tag: 0, fields }
}

/// A model server's counts (shared by its loop and `model_stats`).
#[derive(Default)]
pub(crate) struct ServeStats {
    inner: Mutex<Served>,
}

#[derive(Default)]
struct Served {
    requests: i64,
    /// The recent requests' times from queued to answered.
    latencies: crate::latency::Latencies,
    queue_us: u64,
    compute_us: u64,
    /// `histogram[n - 1]`: batches of `n` requests.
    histogram: Vec<i64>,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl ServeStats {
    fn new(max_batch: usize) -> ServeStats {
        let served = Served { histogram: vec![0; max_batch.max(1)], ..Served::default() };
        ServeStats { inner: Mutex::new(served) }
    }

    /// A batch of `n` requests, queued at `queued`, ran from `started` until now.
    fn record_batch(&self, n: usize, queued: &[Instant], started: Instant) {
        let now = Instant::now();
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.requests += n as i64;
        s.compute_us += now.duration_since(started).as_micros() as u64 * n as u64;
        for q in queued {
            s.queue_us += started.saturating_duration_since(*q).as_micros() as u64;
            s.latencies.record(now.saturating_duration_since(*q).as_micros() as u64, 1);
        }
        if s.histogram.len() < n {
            s.histogram.resize(n, 0);
        }
        s.histogram[n.max(1) - 1] += 1;
        s.first.get_or_insert(started);
        s.last = Some(now);
    }

    /// The counts now.
    pub(crate) fn numbers(&self) -> ServeNumbers {
        let s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let pct = s.latencies.percentiles(&[0.5, 0.95, 0.99]);
        let span = match (s.first, s.last) {
            (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        let mean = |total: u64| if s.requests == 0 { 0 } else { (total / s.requests as u64) as i64 };
        ServeNumbers {
            requests: s.requests,
            latency_us: [pct[0] as i64, pct[1] as i64, pct[2] as i64],
            throughput: if span > 0.0 { s.requests as f64 / span } else { 0.0 },
            mean_queue_us: mean(s.queue_us),
            mean_compute_us: mean(s.compute_us),
            histogram: s.histogram.clone(),
            batch_size: 0,
            batch_delay_us: 0,
        }
    }
}

/// The layout of `ModelStats.batch_histogram` (a `Vec<Int64>`), from the
/// record's layout `stats`.
fn histogram_layout(host: &TaskHost, stats: u32) -> u32 {
    match &host.shared.program.layout(stats).kind {
        stark_vm::program::LayoutKind::Record { fields, .. } => match fields.get(7) {
            Some(stark_vm::program::Slot::Owned(l)) => *l,
            _ => stark_vm::program::NO_LAYOUT,
        },
        _ => stark_vm::program::NO_LAYOUT,
    }
}
