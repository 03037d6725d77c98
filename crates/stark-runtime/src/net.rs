//! HTTP over hyper 1.x (issue 11): the client behind `Request::send` and
//! the servers behind `http::serve`.
//!
//! The client opens one connection per request (no pool yet), speaks
//! HTTP/1.1 and waits for the whole body; the request's timeout (30 s by
//! default) covers connecting, sending and reading. A server is a tokio
//! task accepting connections, each served by hyper on its own task;
//! every request is queued for the STARK side (`Server::accept`, the
//! library's accept loop), which answers it through its `Responder`. A
//! request whose responder goes away unanswered (its handler's task
//! failed) gets a 500; hyper answers malformed requests with a 400 itself.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming as Body;
use hyper_util::rt::TokioIo;
use stark_vm::heap::HostRef;
use stark_vm::net::{merge_headers, HttpFailure, HttpRequest, HttpResponse, NetDone, NetOp, NetReply};
use stark_vm::trap::Fault;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

/// How long a request without a timeout may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections the kernel queues for a server before it accepts them.
const BACKLOG: u32 = 4096;

/// Requests a server queues before its connections wait.
const QUEUE: usize = 1024;

/// A request waiting for the STARK side, with where its answer goes.
type Incoming = (HttpRequest, oneshot::Sender<HttpResponse>);

/// A listening server (the runtime object behind a STARK `Server`).
pub struct Server {
    addr: SocketAddr,
    /// Requests, in arrival order.
    queue: tokio::sync::Mutex<mpsc::Receiver<Incoming>>,
    /// Set once `stop()` is called.
    stopped: watch::Sender<bool>,
    /// Set once the listener is closed.
    closed: watch::Sender<bool>,
}

/// Where the answer to one request goes (the runtime object behind a
/// STARK `Responder`); dropped unanswered, the client gets a 500.
pub struct Responder(Mutex<Option<oneshot::Sender<HttpResponse>>>);

/// Runs an HTTP operation of a task.
pub fn run(op: NetOp) -> Result<NetDone, Fault> {
    Ok(match op {
        NetOp::Fetch(request) => NetDone::Wait(Box::pin(async move { NetReply::Fetched(fetch(request).await) })),
        NetOp::Bind(addr) => NetDone::Now(NetReply::Bound(bind(&addr))),
        NetOp::Accept(server) => {
            let server = object::<Server>(server, "server")?;
            NetDone::Wait(Box::pin(async move { NetReply::Incoming(server.accept().await) }))
        }
        NetOp::Respond(responder, response) => {
            let responder = object::<Responder>(responder, "responder")?;
            let sender = responder.0.lock().ok().and_then(|mut s| s.take());
            if let Some(sender) = sender {
                // The client may have gone (it timed out): nothing to do then.
                let _ = sender.send(response);
            }
            NetDone::Now(NetReply::Done)
        }
        NetOp::Stop(server) => {
            let server = object::<Server>(server, "server")?;
            NetDone::Wait(Box::pin(async move {
                server.stop().await;
                NetReply::Done
            }))
        }
        NetOp::Addr(server) => {
            let server = object::<Server>(server, "server")?;
            NetDone::Now(NetReply::Addr(server.addr.ip().to_string(), server.addr.port()))
        }
    })
}

fn object<T: Send + Sync + 'static>(r: HostRef, what: &str) -> Result<Arc<T>, Fault> {
    r.downcast::<T>().map_err(|_| Fault::new(format!("internal error: not an HTTP {what}")))
}

// ----- The client -----

/// Where a URL points.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
    /// `host[:port]`, for the `Host` header.
    authority: String,
    /// The path and query.
    path: String,
}

/// Reads an `http://` URL.
fn target(url: &str) -> Result<Target, HttpFailure> {
    let bad = |why: &str| HttpFailure::InvalidUrl(format!("{url:?}: {why}"));
    let uri: hyper::Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| bad(&e.to_string()))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => return Err(bad("https is not supported yet (no TLS)")),
        Some(other) => return Err(bad(&format!("the scheme {other:?} is not supported (only http)"))),
        None => return Err(bad("an absolute URL (http://host/...) is needed")),
    }
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_string();
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = authority.port_u16().unwrap_or(80);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    Ok(Target { host, port, authority: authority.as_str().to_string(), path })
}

/// Sends `request` and reads the whole response, within its timeout.
pub async fn fetch(request: HttpRequest) -> Result<HttpResponse, HttpFailure> {
    let limit = request.timeout_micros.map_or(DEFAULT_TIMEOUT, Duration::from_micros);
    match tokio::time::timeout(limit, exchange(request)).await {
        Ok(result) => result,
        Err(_) => Err(HttpFailure::Timeout(limit.as_millis() as i64)),
    }
}

/// Aborts a task when dropped (a connection outliving its request).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn exchange(request: HttpRequest) -> Result<HttpResponse, HttpFailure> {
    let target = target(&request.url)?;
    let outgoing = build(request, &target)?;
    let stream =
        TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| connect_error(&e, &target))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(broken)?;
    let _conn = AbortOnDrop(tokio::spawn(async move {
        let _ = conn.await;
    }));
    let response = sender.send_request(outgoing).await.map_err(broken)?;
    let status = response.status().as_u16();
    let headers = header_pairs(response.headers());
    let body = response.into_body().collect().await.map_err(broken)?.to_bytes();
    Ok(HttpResponse { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// The hyper request for `request` (origin-form target, `Host` set).
fn build(request: HttpRequest, target: &Target) -> Result<hyper::Request<Full<Bytes>>, HttpFailure> {
    let invalid = |e: &dyn std::fmt::Display| HttpFailure::InvalidRequest(e.to_string());
    let method = hyper::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| HttpFailure::InvalidRequest(format!("invalid method {:?}", request.method)))?;
    let mut builder = hyper::Request::builder().method(method).uri(target.path.as_str());
    if !request.headers.iter().any(|(n, _)| n == "host") {
        builder = builder.header("host", target.authority.as_str());
    }
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(Full::new(Bytes::from(request.body))).map_err(|e| invalid(&e))
}

fn connect_error(e: &std::io::Error, target: &Target) -> HttpFailure {
    let at = format!("{}:{}", target.host, target.port);
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => HttpFailure::ConnectionRefused(at),
        _ => HttpFailure::Connection(format!("cannot connect to {at}: {e}")),
    }
}

fn broken(e: hyper::Error) -> HttpFailure {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    HttpFailure::Connection(message)
}

fn header_pairs(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    merge_headers(
        headers.iter().map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())),
    )
}

// ----- Servers -----

/// Starts a server listening at `addr`: bound before this returns (so
/// its port is known), accepting on a tokio task.
pub fn bind(addr: &str) -> Result<HostRef, HttpFailure> {
    let fail = |e: std::io::Error| HttpFailure::Bind(format!("cannot listen at {addr}: {e}"));
    let listener = listen(addr).map_err(fail)?;
    let local = listener.local_addr().map_err(fail)?;
    let (tx, rx) = mpsc::channel(QUEUE);
    let server = Arc::new(Server {
        addr: local,
        queue: tokio::sync::Mutex::new(rx),
        stopped: watch::channel(false).0,
        closed: watch::channel(false).0,
    });
    tokio::spawn(accept_loop(listener, tx, server.clone()));
    Ok(server)
}

/// A listener at the first address `addr` resolves to, with a backlog
/// deep enough for bursts of connections (the default 128 drops some,
/// and their clients retry only after a second).
fn listen(addr: &str) -> std::io::Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let at = addr.to_socket_addrs()?.next().ok_or_else(|| std::io::Error::other("no address"))?;
    let socket = if at.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.bind(at)?;
    socket.listen(BACKLOG)
}

impl Server {
    /// The next request, or `None` once stopped.
    async fn accept(&self) -> Option<(HttpRequest, HostRef)> {
        let mut stopped = self.stopped.subscribe();
        if *stopped.borrow_and_update() {
            return None;
        }
        let mut queue = self.queue.lock().await;
        let (request, answer) = tokio::select! {
            next = queue.recv() => next?,
            _ = stopped.changed() => return None,
        };
        let responder: HostRef = Arc::new(Responder(Mutex::new(Some(answer))));
        Some((request, responder))
    }

    /// Stops accepting, refuses what is queued and waits until the
    /// listener is closed.
    async fn stop(&self) {
        self.stopped.send_replace(true);
        let mut closed = self.closed.subscribe();
        while !*closed.borrow_and_update() {
            if closed.changed().await.is_err() {
                break;
            }
        }
        let mut queue = self.queue.lock().await;
        queue.close();
        // Dropping their answer channels gives them a 503.
        while queue.try_recv().is_ok() {}
    }
}

async fn accept_loop(listener: TcpListener, queue: mpsc::Sender<Incoming>, server: Arc<Server>) {
    let mut stopped = server.stopped.subscribe();
    // Checked before every wait: a stop may come before this task first runs.
    while !*stopped.borrow_and_update() {
        tokio::select! {
            _ = stopped.changed() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, queue.clone(), server.stopped.subscribe()));
                }
                // Out of file descriptors and the like: try again shortly.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    drop(listener);
    server.closed.send_replace(true);
}

/// Serves one connection until it closes or the server stops (requests
/// in flight are finished first).
async fn connection(stream: TcpStream, queue: mpsc::Sender<Incoming>, mut stopped: watch::Receiver<bool>) {
    let service = hyper::service::service_fn(move |request| answer(request, queue.clone()));
    // A client that never finishes its request headers is dropped after 30 s.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(DEFAULT_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopped.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

/// Queues one request for the STARK side and waits for its answer.
async fn answer(
    request: hyper::Request<Body>,
    queue: mpsc::Sender<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(plain(400, &format!("bad request: cannot read the body: {e}"))),
    };
    let url = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let request = HttpRequest {
        method: parts.method.to_string(),
        url,
        headers: header_pairs(&parts.headers),
        body: String::from_utf8_lossy(&body).into_owned(),
        timeout_micros: None,
    };
    let (tx, rx) = oneshot::channel();
    if queue.send((request, tx)).await.is_err() {
        return Ok(plain(503, "service unavailable: the server is stopping"));
    }
    Ok(match rx.await {
        Ok(response) => to_hyper(response),
        Err(_) if queue.is_closed() => plain(503, "service unavailable: the server is stopping"),
        Err(_) => plain(500, "internal server error: the handler gave no response"),
    })
}

/// A text response.
fn plain(status: u16, text: &str) -> hyper::Response<Full<Bytes>> {
    to_hyper(HttpResponse { status, headers: Vec::new(), body: text.to_string() })
}

/// The hyper response for a STARK one (`text/plain` unless a content
/// type is given; a header hyper refuses gives a 500).
fn to_hyper(response: HttpResponse) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(response.status);
    if !response.headers.iter().any(|(n, _)| n == "content-type") {
        builder = builder.header("content-type", "text/plain; charset=utf-8");
    }
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(Full::new(Bytes::from(response.body))).unwrap_or_else(|e| {
        let mut r = hyper::Response::new(Full::new(Bytes::from(format!("internal server error: {e}"))));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn urls_are_read_or_refused_with_a_reason() {
        let t = target("http://127.0.0.1:8080/a/b?q=1").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("127.0.0.1", 8080, "/a/b?q=1"));
        assert_eq!(target("http://example.com").unwrap().path, "/");
        assert_eq!(target("http://example.com").unwrap().port, 80);
        let reason = |url| match target(url) {
            Err(HttpFailure::InvalidUrl(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(reason("https://x/").contains("https is not supported"));
        assert!(reason("ftp://x/").contains("only http"));
        assert!(reason("/just/a/path").contains("absolute URL"));
        assert!(reason("http://exa mple/").contains("invalid"));
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    /// Answers every request queued on `server` with its method and path.
    async fn echo(server: Arc<Server>) {
        while let Some((request, responder)) = server.accept().await {
            let responder = responder.downcast::<Responder>().unwrap();
            let sender = responder.0.lock().unwrap().take().unwrap();
            let body = format!("{} {}", request.method, request.url);
            let _ = sender.send(HttpResponse { status: 200, headers: Vec::new(), body });
        }
    }

    #[test]
    fn a_server_answers_and_malformed_requests_get_400() {
        runtime().block_on(async {
            let server = bind("127.0.0.1:0").unwrap().downcast::<Server>().unwrap();
            let port = server.addr.port();
            tokio::spawn(echo(server.clone()));
            let url = format!("http://127.0.0.1:{port}/hi?x=1");
            let ok = fetch(HttpRequest { method: "GET".into(), url, ..Default::default() }).await.unwrap();
            assert_eq!((ok.status, ok.body.as_str()), (200, "GET /hi?x=1"));
            let mut raw = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            raw.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
            let mut reply = String::new();
            let _ = raw.read_to_string(&mut reply).await;
            assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
            let url = format!("http://127.0.0.1:{port}/again");
            let again = fetch(HttpRequest { method: "POST".into(), url, ..Default::default() }).await.unwrap();
            assert_eq!((again.status, again.body.as_str()), (200, "POST /again"), "still serving");
            server.stop().await;
            let url = format!("http://127.0.0.1:{port}/");
            let refused = fetch(HttpRequest { method: "GET".into(), url, ..Default::default() }).await;
            assert!(matches!(refused, Err(HttpFailure::ConnectionRefused(_))), "{refused:?}");
        });
    }

    #[test]
    fn an_unanswered_request_gets_500() {
        runtime().block_on(async {
            let server = bind("127.0.0.1:0").unwrap().downcast::<Server>().unwrap();
            let port = server.addr.port();
            let s = server.clone();
            tokio::spawn(async move {
                // Take the request and drop its responder.
                let _ = s.accept().await;
            });
            let url = format!("http://127.0.0.1:{port}/");
            let r = fetch(HttpRequest { method: "GET".into(), url, ..Default::default() }).await.unwrap();
            assert_eq!(r.status, 500);
        });
    }
}
