//! `stark serve`: starts `tests/serve/mlp.stark` on port 0, reads the
//! port from stderr and talks the Open Inference Protocol (KServe v2) to
//! it with a small HTTP/1.1 client over `std::net::TcpStream`. Every wait
//! is bounded, and the server is killed when a test ends.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the server may take to start (a debug build loading a model).
const START: Duration = Duration::from_secs(120);

/// How long one request may take.
const REQUEST: Duration = Duration::from_secs(30);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// A running `stark serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `stark serve tests/serve/mlp.stark --port 0` and waits for its address.
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stark"))
            .current_dir(root())
            .args(["serve", "tests/serve/mlp.stark", "--port", "0", "--threads", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("stark serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Every line goes to the test's channel (read until the end, so
            // the pipe never fills).
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + START;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = rx.recv_timeout(left) else { break };
            if let Some(port) = line.strip_prefix("serving on http://127.0.0.1:") {
                return Server { child, port: port.trim().parse().expect("a port") };
            }
            seen.push(line);
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("stark serve printed no address; stderr: {seen:?}");
    }

    /// Sends a request; the status and the body.
    fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let body = body.unwrap_or("");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        self.raw(&format!("{head}{body}"))
    }

    /// Sends `text` as is; the status and the body of the answer.
    fn raw(&self, text: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(REQUEST)).unwrap();
        stream.set_write_timeout(Some(REQUEST)).unwrap();
        stream.write_all(text.as_bytes()).expect("send");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response: {answer:?}"));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
        (status, body.to_string())
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let (status, body) = self.request("GET", path, None);
        (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
    }

    fn infer(&self, model: &str, request: &Value) -> (u16, Value) {
        let path = format!("/v2/models/{model}/infer");
        let (status, body) = self.request("POST", &path, Some(&request.to_string()));
        (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
    }

    /// Asks for a good inference and checks the answer.
    fn infer_ok(&self) {
        let (status, answer) = self.infer("mlp", &good_request());
        assert_eq!(status, 200, "{answer}");
        assert_matches_reference(&answer);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The input of `models/reference.json`'s "mlp/1".
fn features() -> Vec<f32> {
    (0..16).map(|i| ((i % 7) as f32 - 3.0) * 0.25).collect()
}

fn good_request() -> Value {
    json!({ "inputs": [{ "name": "features", "shape": [1, 16], "datatype": "FP32", "data": features() }] })
}

fn assert_matches_reference(answer: &Value) {
    let text = std::fs::read_to_string(root().join("models/reference.json")).expect("reference.json");
    let reference: Value = serde_json::from_str(&text).expect("reference JSON");
    let expected: Vec<f64> = reference["mlp/1"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(answer["model_name"], "mlp", "{answer}");
    let output = &answer["outputs"][0];
    assert_eq!(output["name"], "logits", "{answer}");
    assert_eq!(output["datatype"], "FP32", "{answer}");
    assert_eq!(output["shape"], json!([1, expected.len()]), "{answer}");
    let data: Vec<f64> = output["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(data.len(), expected.len(), "{answer}");
    for (got, want) in data.iter().zip(&expected) {
        assert!((got - want).abs() <= 1e-5, "got {data:?}, expected {expected:?}");
    }
}

#[test]
fn health_metadata_and_one_inference() {
    let server = Server::start();
    assert_eq!(server.get("/v2/health/live"), (200, json!({ "live": true })));
    assert_eq!(server.get("/v2/health/ready"), (200, json!({ "ready": true })));
    let (status, meta) = server.get("/v2/models/mlp");
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["name"], "mlp");
    assert_eq!(meta["inputs"], json!([{ "name": "features", "datatype": "FP32", "shape": [-1, 16] }]));
    assert_eq!(meta["outputs"][0]["name"], "logits");
    assert_eq!(meta["outputs"][0]["datatype"], "FP32");
    assert_eq!(server.get("/v2/models/mlp/ready").0, 200);
    server.infer_ok();
}

#[test]
fn concurrent_inferences_all_answered_and_counted_in_metrics() {
    let server = Server::start();
    std::thread::scope(|s| {
        let clients: Vec<_> = (0..32).map(|_| s.spawn(|| server.infer_ok())).collect();
        clients.into_iter().for_each(|c| c.join().expect("a client"));
    });
    let (status, metrics) = server.request("GET", "/metrics", None);
    assert_eq!(status, 200);
    let requests = metrics
        .lines()
        .find_map(|l| l.strip_prefix("stark_model_requests_total{model=\"mlp\"} "))
        .unwrap_or_else(|| panic!("no request count: {metrics}"));
    assert_eq!(requests.parse::<i64>().unwrap(), 32, "{metrics}");
    for series in [
        "stark_actor_handled_total{actor=\"serve(mlp)\",id=\"0\"} 32",
        "stark_model_batches_total{model=\"mlp\",size=\"1\"}",
        "stark_model_batch_size{model=\"mlp\"} 16",
        "stark_model_batch_delay_microseconds{model=\"mlp\"} 2000",
    ] {
        assert!(metrics.contains(series), "{series}: {metrics}");
    }
    assert!(metrics.contains("# TYPE stark_model_latency_microseconds summary"), "{metrics}");
    assert!(metrics.contains("stark_http_responses_total{code=\"200\"} 32"), "{metrics}");
}

#[test]
fn bad_requests_get_4xx_with_the_reason_and_serving_goes_on() {
    let server = Server::start();
    let input = |shape: Value, datatype: &str, data: Value| json!({ "inputs": [{ "name": "features", "shape": shape, "datatype": datatype, "data": data }] });
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("mlp", "{\"inputs\": [".into(), 400, "invalid JSON"),
        ("mlp", "[1, 2]".into(), 400, "JSON object"),
        ("mlp", input(json!([2, 8]), "FP32", json!(features())).to_string(), 400, "wrong shape"),
        ("mlp", input(json!([1, 16]), "FP32", json!([1.0, 2.0])).to_string(), 400, "wrong shape"),
        ("mlp", input(json!([1, 16]), "INT64", json!(features())).to_string(), 400, "wrong datatype"),
        ("mlp", input(json!([1, 16]), "FP32", json!(vec!["a"; 16])).to_string(), 400, "numbers"),
        ("nope", good_request().to_string(), 404, "unknown model \\\"nope\\\""),
    ];
    for (model, body, status, reason) in cases {
        let (got, answer) = server.request("POST", &format!("/v2/models/{model}/infer"), Some(&body));
        assert_eq!(got, status, "{body} -> {answer}");
        assert!(answer.contains(reason) && answer.starts_with("{\"error\":"), "{body} -> {answer}");
        server.infer_ok();
    }
    let huge = "POST /v2/models/mlp/infer HTTP/1.1\r\nhost: x\r\ncontent-length: 104857600\r\n\r\n{\"inputs\":";
    let (got, answer) = server.raw(huge);
    assert_eq!(got, 413, "{answer}");
    assert!(answer.contains("larger than"), "{answer}");
    server.infer_ok();
    assert_eq!(server.get("/v2/no/such/thing").0, 404);
    assert_eq!(server.request("DELETE", "/v2/health/live", None).0, 405);
    server.infer_ok();
}

#[test]
fn a_full_mailbox_gets_503_and_a_plain_actor_serves_too() {
    let server = Server::start();
    let x = json!({ "inputs": [{ "name": "x", "shape": [2], "datatype": "FP32", "data": [1.0, 2.5] }] });
    let (status, answer) = server.infer("doubler", &x);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outputs"][0]["data"], json!([2.0, 5.0]));
    // `slow` handles one request at a time with room for one more: the third is refused.
    std::thread::scope(|s| {
        let first = s.spawn(|| server.infer("slow", &x));
        std::thread::sleep(Duration::from_millis(100));
        let second = s.spawn(|| server.infer("slow", &x));
        std::thread::sleep(Duration::from_millis(100));
        let (status, refused) = server.infer("slow", &x);
        assert_eq!(status, 503, "{refused}");
        assert!(refused["error"].as_str().unwrap().contains("overloaded"), "{refused}");
        assert_eq!(first.join().unwrap().0, 200);
        assert_eq!(second.join().unwrap().0, 200);
    });
    // A burst at a batcher with a queue of one: each answered or refused.
    std::thread::scope(|s| {
        let burst: Vec<_> = (0..16).map(|_| s.spawn(|| server.infer("tiny_queue", &good_request()))).collect();
        for (status, answer) in burst.into_iter().map(|c| c.join().unwrap()) {
            assert!(status == 200 || (status == 503 && answer["error"].to_string().contains("overloaded")), "{answer}");
        }
    });
    server.infer_ok();
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let mut server = Server::start();
    server.infer_ok();
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `python3` can import what `tests/serve/client.py` needs
/// (`.ci/run` pip-installs it; a machine without it skips the test, saying so).
fn python_client_available() -> bool {
    Command::new("python3")
        .args(["-c", "import tritonclient.http, onnxruntime, numpy"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn triton_client_gets_onnxruntime_answers() {
    if !python_client_available() {
        eprintln!(
            "skipped: python3 lacks tritonclient[http], onnxruntime or numpy (pip install them to run this test)"
        );
        return;
    }
    let server = Server::start();
    let mut client = Command::new("python3")
        .current_dir(root())
        .args(["tests/serve/client.py", &server.port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let deadline = Instant::now() + START;
    while client.try_wait().expect("client status").is_none() {
        if Instant::now() > deadline {
            let _ = client.kill();
            panic!("tests/serve/client.py did not finish within {START:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = client.wait_with_output().expect("client output");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "tests/serve/client.py failed:\n{text}");
    assert!(text.contains("ok infer batch 40 matches onnxruntime"), "{text}");
}
