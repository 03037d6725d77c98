//! `stark serve`: the Open Inference Protocol (KServe v2) over HTTP for
//! the servers `register_model` named, and `/metrics` in Prometheus's
//! text format. Each infer request is checked, then asked of the
//! server's actor through a place reserved in its mailbox (a full one is
//! a 503 at once, never an unbounded queue), so requests from many
//! connections batch together in a `serve` actor.

use crate::actor::{ActorCell, Asking};
use crate::host::Shared;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as Body;
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value as Json};
use stark_models::{Dim, Model};
use stark_tensor::{DType, Tensor};
use stark_vm::task::Resume;
use stark_vm::transfer::Portable;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How `stark serve` serves.
#[derive(Clone, Copy, Debug)]
pub struct Serving {
    /// The port on 127.0.0.1 (0: a free one).
    pub port: u16,
    /// The largest request body accepted, in bytes (larger: 413).
    pub max_body: usize,
}

/// How long an infer request may wait for its answer (queued or running).
const ANSWER: Duration = Duration::from_secs(60);

/// How long requests in flight may take to finish once stopping.
const DRAIN: Duration = Duration::from_secs(5);

/// What every request's handler shares.
struct Endpoints {
    shared: Arc<Shared>,
    max_body: usize,
    /// Responses sent, by status code.
    answered: Mutex<BTreeMap<u16, u64>>,
}

/// A request that fails: its status and what was wrong.
struct Failure(StatusCode, String);

fn bad(message: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, message.into())
}

/// Serves on 127.0.0.1 until SIGINT or SIGTERM, then stops accepting and
/// lets the requests in flight finish (for a few seconds at most).
pub(crate) async fn serve(shared: Arc<Shared>, serving: Serving) -> Result<(), String> {
    let listener = TcpListener::bind(("127.0.0.1", serving.port))
        .await
        .map_err(|e| format!("cannot listen at 127.0.0.1:{}: {e}", serving.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("serving on http://{addr}");
    if shared.registry.lock().is_ok_and(|r| r.is_empty()) {
        eprintln!("warning: `main` registered no models (see `register_model`)");
    }
    let endpoints = Arc::new(Endpoints { shared, max_body: serving.max_body, answered: Mutex::default() });
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let interrupted = interrupted();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            _ = &mut interrupted => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    while connections.try_join_next().is_some() {}
                    connections.spawn(connection(stream, endpoints.clone(), stopping.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    drop(listener);
    eprintln!("stopping: finishing the requests in flight");
    stop.send_replace(true);
    let _ = tokio::time::timeout(DRAIN, async { while connections.join_next().await.is_some() {} }).await;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// Serves one connection until it closes, or until the server stops
/// (after its current request).
async fn connection(stream: tokio::net::TcpStream, endpoints: Arc<Endpoints>, mut stopping: watch::Receiver<bool>) {
    let service = hyper::service::service_fn(move |request| {
        let endpoints = endpoints.clone();
        async move { Ok::<_, Infallible>(endpoints.clone().handle(request).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(crate::net::DEFAULT_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopping.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

impl Endpoints {
    /// Answers one request, counting its status.
    async fn handle(self: Arc<Self>, request: hyper::Request<Body>) -> hyper::Response<Full<Bytes>> {
        let response = match self.route(request).await {
            Ok(response) => response,
            Err(Failure(status, message)) => {
                respond(status, "application/json", json!({ "error": message }).to_string())
            }
        };
        if let Ok(mut answered) = self.answered.lock() {
            *answered.entry(response.status().as_u16()).or_default() += 1;
        }
        response
    }

    /// Dispatches on the method and path.
    async fn route(&self, request: hyper::Request<Body>) -> Result<hyper::Response<Full<Bytes>>, Failure> {
        let path = request.uri().path().to_string();
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let get = request.method() == Method::GET;
        let post = request.method() == Method::POST;
        match parts.as_slice() {
            ["v2", "health", "live"] if get => Ok(ok_json(json!({ "live": true }))),
            ["v2", "health", "ready"] if get => self.ready(),
            ["v2"] if get => Ok(ok_json(json!({
                "name": "stark",
                "version": env!("CARGO_PKG_VERSION"),
                "extensions": [],
            }))),
            ["v2", "models", name] if get => {
                let cell = self.server(name)?;
                Ok(ok_json(metadata(name, &cell)))
            }
            ["v2", "models", name, "ready"] if get => {
                let ready = self.server(name)?.running();
                let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                Ok(respond(status, "application/json", json!({ "name": name, "ready": ready }).to_string()))
            }
            ["v2", "models", name, "infer"] if post => {
                let cell = self.server(name)?;
                let body = self.body(request).await?;
                Ok(ok_json(infer(name, &cell, &body).await?))
            }
            ["metrics"] if get => Ok(respond(StatusCode::OK, "text/plain; version=0.0.4", self.metrics())),
            ["v2", "health", "live" | "ready"]
            | ["v2"]
            | ["v2", "models", _]
            | ["v2", "models", _, "ready"]
            | ["v2", "models", _, "infer"]
            | ["metrics"] => Err(Failure(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("method {} is not allowed on {path}", request.method()),
            )),
            _ => Err(Failure(StatusCode::NOT_FOUND, format!("no such endpoint: {} {path}", request.method()))),
        }
    }

    /// Ready once `main` has returned (serving starts then) and every
    /// registered server takes messages.
    fn ready(&self) -> Result<hyper::Response<Full<Bytes>>, Failure> {
        let registry = self.registry();
        let down: Vec<&String> = registry.iter().filter(|(_, c)| !c.running()).map(|(n, _)| n).collect();
        if down.is_empty() {
            return Ok(ok_json(json!({ "ready": true })));
        }
        Err(Failure(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: stopped: {down:?}")))
    }

    fn registry(&self) -> BTreeMap<String, Arc<ActorCell>> {
        self.shared.registry.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The server registered as `name` (404 when there is none).
    fn server(&self, name: &str) -> Result<Arc<ActorCell>, Failure> {
        self.registry().get(name).cloned().ok_or_else(|| {
            let known: Vec<String> = self.registry().into_keys().collect();
            Failure(StatusCode::NOT_FOUND, format!("unknown model \"{name}\" (registered: {known:?})"))
        })
    }

    /// The whole body, at most `max_body` bytes (413 beyond).
    async fn body(&self, request: hyper::Request<Body>) -> Result<Bytes, Failure> {
        let too_large =
            || Failure(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than {} bytes", self.max_body));
        let declared = request.headers().get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
        if declared.and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n > self.max_body as u64) {
            return Err(too_large());
        }
        match Limited::new(request.into_body(), self.max_body).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
            Err(e) => Err(bad(format!("cannot read the body: {e}"))),
        }
    }

    /// `/metrics`: every actor's counts, every registered model server's
    /// batching counts, and the responses sent.
    fn metrics(&self) -> String {
        let mut out = String::new();
        let actors: Vec<Arc<ActorCell>> = self.shared.actors.lock().map(|a| a.clone()).unwrap_or_default();
        let rows: Vec<(String, crate::actor::ActorNumbers)> = actors
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("actor=\"{}\",id=\"{i}\"", escape(&a.name)), a.numbers()))
            .collect();
        actor_metrics(&mut out, &rows);
        let served: Vec<(String, crate::models::ServeNumbers)> = self
            .registry()
            .iter()
            .filter_map(|(name, c)| crate::models::serve_numbers(c).map(|n| (format!("model=\"{}\"", escape(name)), n)))
            .collect();
        model_metrics(&mut out, &served);
        let answered = self.answered.lock().map(|a| a.clone()).unwrap_or_default();
        family(&mut out, "stark_http_responses_total", "counter", "Responses sent, by status code.");
        for (code, n) in answered {
            let _ = writeln!(out, "stark_http_responses_total{{code=\"{code}\"}} {n}");
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Writes the `# HELP` and `# TYPE` lines of a metric.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// One metric over rows of labels and values.
fn series<T>(out: &mut String, rows: &[(String, T)], name: &str, kind: &str, help: &str, value: impl Fn(&T) -> f64) {
    family(out, name, kind, help);
    for (labels, n) in rows {
        let _ = writeln!(out, "{name}{{{labels}}} {}", value(n));
    }
}

fn actor_metrics(out: &mut String, rows: &[(String, crate::actor::ActorNumbers)]) {
    series(out, rows, "stark_actor_handled_total", "counter", "Messages handled.", |n| n.handled as f64);
    series(out, rows, "stark_actor_failed_total", "counter", "Messages whose handling failed.", |n| n.failed as f64);
    series(out, rows, "stark_actor_restarts_total", "counter", "Restarts.", |n| n.restarts as f64);
    series(out, rows, "stark_actor_mailbox_length", "gauge", "Messages queued now.", |n| n.mailbox_len as f64);
    series(out, rows, "stark_actor_mailbox_peak", "gauge", "Most messages queued at once.", |n| n.mailbox_peak as f64);
    series(out, rows, "stark_actor_batches_total", "counter", "Batches handled.", |n| n.batches as f64);
    series(out, rows, "stark_actor_mean_batch_size", "gauge", "Mean messages per batch.", |n| n.mean_batch);
    family(out, "stark_actor_latency_microseconds", "summary", "Handling time of a message.");
    for (labels, n) in rows {
        for (q, v) in ["0.5", "0.95", "0.99"].iter().zip(n.latency_us) {
            let _ = writeln!(out, "stark_actor_latency_microseconds{{{labels},quantile=\"{q}\"}} {v}");
        }
    }
}

fn model_metrics(out: &mut String, rows: &[(String, crate::models::ServeNumbers)]) {
    series(out, rows, "stark_model_requests_total", "counter", "Requests answered.", |n| n.requests as f64);
    series(out, rows, "stark_model_throughput", "gauge", "Requests per second.", |n| n.throughput);
    series(out, rows, "stark_model_queue_microseconds", "gauge", "Mean time queued.", |n| n.mean_queue_us as f64);
    series(out, rows, "stark_model_compute_microseconds", "gauge", "Mean time computing.", |n| {
        n.mean_compute_us as f64
    });
    series(out, rows, "stark_model_batch_size", "gauge", "Largest batch gathered now (adaptive: current).", |n| {
        n.batch_size as f64
    });
    series(out, rows, "stark_model_batch_delay_microseconds", "gauge", "Batch delay now (adaptive: current).", |n| {
        n.batch_delay_us as f64
    });
    family(out, "stark_model_latency_microseconds", "summary", "Time from queued to answered.");
    for (labels, n) in rows {
        for (q, v) in ["0.5", "0.95", "0.99"].iter().zip(n.latency_us) {
            let _ = writeln!(out, "stark_model_latency_microseconds{{{labels},quantile=\"{q}\"}} {v}");
        }
    }
    family(out, "stark_model_batches_total", "counter", "Batches run, by their number of requests.");
    for (labels, n) in rows {
        for (i, count) in n.histogram.iter().enumerate() {
            let _ = writeln!(out, "stark_model_batches_total{{{labels},size=\"{}\"}} {count}", i + 1);
        }
    }
}

/// A response with `body` of type `content_type`.
fn respond(status: StatusCode, content_type: &str, body: String) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    response
}

fn ok_json(value: Json) -> hyper::Response<Full<Bytes>> {
    respond(StatusCode::OK, "application/json", value.to_string())
}

/// The KServe v2 name of a dtype.
fn datatype(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "BOOL",
        DType::UInt8 => "UINT8",
        DType::Int32 => "INT32",
        DType::Int64 => "INT64",
        DType::Float32 => "FP32",
        DType::Float64 => "FP64",
    }
}

/// Model metadata: a `serve` actor's model's inputs and outputs (outputs
/// are answered as FP32); a plain actor takes and gives one FP32 tensor
/// of any shape.
fn metadata(name: &str, cell: &ActorCell) -> Json {
    let Some(model) = cell.model.get() else {
        let any = |n: &str| json!([{ "name": n, "datatype": "FP32", "shape": [-1] }]);
        return json!({ "name": name, "versions": [], "platform": "stark_actor",
                       "inputs": any("input"), "outputs": any("output") });
    };
    let info = |i: &stark_models::TensorInfo, dtype: &str| {
        let shape: Vec<i64> = i
            .dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => *n as i64,
                Dim::Symbolic(_) => -1,
            })
            .collect();
        json!({ "name": i.name, "datatype": dtype, "shape": shape })
    };
    let inputs: Vec<Json> = model.inputs().iter().map(|i| info(i, datatype(i.dtype))).collect();
    let outputs: Vec<Json> = model.outputs().iter().take(1).map(|o| info(o, "FP32")).collect();
    json!({ "name": name, "versions": [], "platform": "onnx", "inputs": inputs, "outputs": outputs })
}

/// Runs an infer request: checks it, asks the server, gives the answer.
async fn infer(name: &str, cell: &Arc<ActorCell>, body: &[u8]) -> Result<Json, Failure> {
    let request: Json = serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let (input, id) = input_tensor(&request, cell.model.get())?;
    if let Some(model) = cell.model.get() {
        model.check_request(std::slice::from_ref(&input)).map_err(|e| bad(format!("wrong shape: {e}")))?;
    }
    let output = ask(name, cell, input).await?;
    let output_name = cell.model.get().and_then(|m| m.outputs().first()).map_or("output", |o| o.name.as_str());
    let internal = |e: stark_tensor::TensorError| Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let data = output.to_dtype(DType::Float32).to_vec::<f32>().map_err(internal)?;
    let data: Vec<Json> = data.into_iter().map(|x| json!(x as f64)).collect();
    let mut answer = json!({
        "model_name": name,
        "outputs": [{ "name": output_name, "shape": output.shape().dims(), "datatype": "FP32", "data": data }],
    });
    if let (Some(id), Some(fields)) = (id, answer.as_object_mut()) {
        fields.insert("id".into(), id);
    }
    Ok(answer)
}

/// Asks the server through a place reserved in its mailbox (503 when
/// there is none) and waits for its reply, at most `ANSWER`.
async fn ask(name: &str, cell: &Arc<ActorCell>, input: Tensor) -> Result<Tensor, Failure> {
    if !cell.running() {
        return Err(Failure(StatusCode::SERVICE_UNAVAILABLE, format!("model \"{name}\" has stopped")));
    }
    if !cell.reserve() {
        let why = format!("model \"{name}\" is overloaded: its queue is full, try again later");
        return Err(Failure(StatusCode::SERVICE_UNAVAILABLE, why));
    }
    // A request still queued at the deadline leaves the mailbox; one being
    // handled is answered when it is done, to no one.
    let how = Asking { level: crate::mailbox::NORMAL, timeout: Some(ANSWER), reserved: true };
    let (reply, _) = cell.ask(Portable::Tensor(Box::new(input)), how);
    let timed_out = || {
        Failure(StatusCode::GATEWAY_TIMEOUT, format!("model \"{name}\" gave no answer within {} s", ANSWER.as_secs()))
    };
    match tokio::time::timeout(ANSWER, reply.wait()).await.map_err(|_| timed_out())? {
        Resume::Moved(Portable::Tensor(t)) => Ok(*t),
        Resume::Failed(trap) if trap.message == crate::mailbox::TIMED_OUT => Err(timed_out()),
        Resume::Failed(trap) if !cell.running() => Err(Failure(StatusCode::SERVICE_UNAVAILABLE, trap.message)),
        Resume::Failed(trap) => Err(Failure(StatusCode::INTERNAL_SERVER_ERROR, trap.message)),
        _ => Err(Failure(StatusCode::INTERNAL_SERVER_ERROR, "the server gave no tensor".into())),
    }
}

/// The request's one input as a tensor (checked against the model's
/// input name and dtype when it has a model), and its `id` if any.
fn input_tensor(request: &Json, model: Option<&Model>) -> Result<(Tensor, Option<Json>), Failure> {
    let fields = request.as_object().ok_or_else(|| bad("the request must be a JSON object with \"inputs\""))?;
    let inputs = fields.get("inputs").and_then(Json::as_array).ok_or_else(|| bad("\"inputs\" must be an array"))?;
    let [input] = inputs.as_slice() else {
        return Err(bad(format!("exactly one input is needed, got {}", inputs.len())));
    };
    let name = input.get("name").and_then(Json::as_str).ok_or_else(|| bad("an input needs a \"name\" (a string)"))?;
    if let Some(model) = model.filter(|m| m.inputs().len() != 1) {
        return Err(bad(format!("the model takes {} inputs; only one-input models are served", model.inputs().len())));
    }
    if let Some(expected) = model.and_then(|m| m.inputs().first()) {
        if expected.name != name {
            return Err(bad(format!("unknown input \"{name}\": the model's input is \"{}\"", expected.name)));
        }
        if expected.dtype != DType::Float32 {
            let dtype = datatype(expected.dtype);
            return Err(bad(format!("the model's input \"{name}\" is {dtype}: only FP32 inputs are served")));
        }
    }
    let dtype = input.get("datatype").and_then(Json::as_str).ok_or_else(|| bad("an input needs a \"datatype\""))?;
    if dtype != "FP32" {
        return Err(bad(format!("wrong datatype \"{dtype}\" for input \"{name}\": only FP32 is served")));
    }
    let shape = shape_of(input.get("shape"))?;
    let mut data = Vec::new();
    flatten(input.get("data").ok_or_else(|| bad("an input needs \"data\""))?, &mut data)?;
    let count: usize = shape.iter().product();
    if count != data.len() {
        return Err(bad(format!("wrong shape: shape {shape:?} holds {count} values but \"data\" has {}", data.len())));
    }
    let tensor = Tensor::from_vec(data, &shape).map_err(|e| bad(format!("wrong shape: {e}")))?;
    Ok((tensor, fields.get("id").cloned()))
}

/// An input's `shape`: an array of sizes.
fn shape_of(shape: Option<&Json>) -> Result<Vec<usize>, Failure> {
    let sizes = shape.and_then(Json::as_array).ok_or_else(|| bad("an input needs a \"shape\" (an array of sizes)"))?;
    sizes
        .iter()
        .map(|s| s.as_u64().map(|n| n as usize).ok_or_else(|| bad(format!("wrong shape: {s} is not a size"))))
        .collect()
}

/// The numbers of `data`, nested arrays flattened in row-major order.
fn flatten(data: &Json, into: &mut Vec<f32>) -> Result<(), Failure> {
    match data {
        Json::Array(items) => items.iter().try_for_each(|item| flatten(item, into)),
        Json::Number(n) => {
            into.push(n.as_f64().unwrap_or(f64::NAN) as f32);
            Ok(())
        }
        other => Err(bad(format!("\"data\" must hold numbers, not {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn reason(request: Json) -> String {
        match input_tensor(&request, None) {
            Err(Failure(status, message)) => {
                assert_eq!(status, StatusCode::BAD_REQUEST);
                message
            }
            Ok((t, _)) => panic!("accepted: {:?}", t.shape()),
        }
    }

    #[test]
    fn an_input_becomes_a_tensor_of_its_shape() {
        let request = json!({ "id": "7", "inputs": [{ "name": "x", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3.5, 4]] }] });
        let (t, id) = input_tensor(&request, None).unwrap_or_else(|Failure(_, m)| panic!("{m}"));
        assert_eq!(t.shape().dims(), &[2, 2]);
        assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.5, 4.0]);
        assert_eq!(id, Some(json!("7")));
    }

    #[test]
    fn malformed_inputs_are_refused_with_the_reason() {
        let input = |shape: Json, datatype: &str, data: Json| json!({ "inputs": [{ "name": "x", "shape": shape, "datatype": datatype, "data": data }] });
        assert!(reason(json!([1])).contains("JSON object"));
        assert!(reason(json!({ "inputs": [] })).contains("exactly one input"));
        assert!(reason(json!({ "inputs": [{ "shape": [1] }] })).contains("\"name\""));
        assert!(reason(input(json!([3]), "FP32", json!([1, 2]))).contains("holds 3 values"));
        assert!(reason(input(json!([-1]), "FP32", json!([1]))).contains("not a size"));
        assert!(reason(input(json!([1]), "FP16", json!([1]))).contains("wrong datatype \"FP16\""));
        assert!(reason(input(json!([1]), "FP32", json!([true]))).contains("must hold numbers"));
    }

    #[test]
    fn inputs_are_checked_against_the_model() {
        let load = |name: &str| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models").join(name);
            Model::load(path.to_str().unwrap()).unwrap()
        };
        let ask = |model: &Model, name: &str| {
            let request = json!({ "inputs": [{ "name": name, "shape": [1], "datatype": "FP32", "data": [1] }] });
            match input_tensor(&request, Some(model)) {
                Err(Failure(_, message)) => message,
                Ok(_) => "accepted".into(),
            }
        };
        let mlp = load("mlp.onnx");
        assert!(ask(&mlp, "x").contains("the model's input is \"features\""));
        assert_eq!(ask(&mlp, "features"), "accepted", "the shape is checked by the model server");
        assert!(ask(&load("embedder.onnx"), "token_ids").contains("is INT64: only FP32 inputs are served"));
        assert!(ask(&load("two_inputs.onnx"), "a").contains("takes 2 inputs"));
        let meta = metadata("m", &ActorCell::new("serve(m)".into(), Arc::default()));
        assert_eq!(meta["platform"], "stark_actor");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
