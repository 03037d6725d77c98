//! HTTP (issue 11): the VM's side of `http::Request::send` and of
//! `http::serve`. The VM turns STARK requests and responses into plain
//! Rust data ([`HttpRequest`], [`HttpResponse`]) and hands the host one
//! [`NetOp`]; the host (the runtime, over hyper) answers with a
//! [`NetReply`], now or as a future, which the VM turns back into STARK
//! values of the call site's layouts.
//!
//! The STARK types (`crates/stark-check/lib/std.stark`, module `http`) are
//! read by field position: `Request { method, url, headers, body, timeout }`,
//! `Response { status, headers, body }`, and `HttpError`'s variants in the
//! order of [`HttpFailure`].

use crate::heap::HostRef;
use crate::json::{string_table, variant_layout};
use crate::native::{Cx, Flow};
use crate::program::{LayoutKind, Program, Slot, NO_LAYOUT};
use crate::task::{Host, Resume};
use crate::transfer::{self, Portable};
use crate::trap::Fault;
use crate::value::Value;
use std::future::Future;
use std::pin::Pin;

/// A request, as the client sends it or a server receives it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The client's absolute URL; on a server, the path and query.
    pub url: String,
    /// Header names (in lower case) and values, each name once.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
    /// How long the client waits for the whole exchange (`None`: the default).
    pub timeout_micros: Option<u64>,
}

/// A response.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names (in lower case) and values, each name once.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

/// Why an HTTP operation failed: the variants of STARK's `HttpError`, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpFailure {
    /// The URL cannot be used (not `http://host[:port]/..`).
    InvalidUrl(String),
    /// The request cannot be sent (a bad method, header name or value).
    InvalidRequest(String),
    /// Nobody listens at the address.
    ConnectionRefused(String),
    /// No complete response within the timeout (milliseconds).
    Timeout(i64),
    /// The connection failed otherwise (reset, protocol error, ...).
    Connection(String),
    /// A server cannot listen at the address.
    Bind(String),
}

impl HttpFailure {
    /// Its variant's index in `HttpError`.
    fn tag(&self) -> u32 {
        match self {
            HttpFailure::InvalidUrl(_) => 0,
            HttpFailure::InvalidRequest(_) => 1,
            HttpFailure::ConnectionRefused(_) => 2,
            HttpFailure::Timeout(_) => 3,
            HttpFailure::Connection(_) => 4,
            HttpFailure::Bind(_) => 5,
        }
    }
}

/// An HTTP operation for the host.
#[derive(Debug)]
pub enum NetOp {
    /// Sends a request and waits for the whole response.
    Fetch(HttpRequest),
    /// Starts a server listening at an address (`host:port`; port 0 picks one).
    Bind(String),
    /// Waits for a server's next request: it and the responder that answers it.
    Accept(HostRef),
    /// Answers a request through its responder.
    Respond(HostRef, HttpResponse),
    /// Stops a server: it accepts nothing more (waits until it has closed).
    Stop(HostRef),
    /// The address a server listens at.
    Addr(HostRef),
}

/// What the host gives for a [`NetOp`].
#[derive(Debug)]
pub enum NetReply {
    /// `Fetch`'s response, or why there is none.
    Fetched(Result<HttpResponse, HttpFailure>),
    /// `Bind`'s server (a runtime object), or why it cannot listen.
    Bound(Result<HostRef, HttpFailure>),
    /// `Accept`'s request and responder; `None` once the server is stopped.
    Incoming(Option<(HttpRequest, HostRef)>),
    /// `Addr`'s IP address and port.
    Addr(String, u16),
    /// `Respond` and `Stop` are done.
    Done,
}

/// A host's answer, now or later.
pub enum NetDone {
    /// Ready.
    Now(NetReply),
    /// To wait for.
    Wait(Pin<Box<dyn Future<Output = NetReply> + Send>>),
}

/// The HTTP natives (`Native::Net`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetFn {
    /// `(Request)`: `Result<Response, HttpError>`; the slot is the request's.
    Send,
    /// `(&str)`: `Result<Server, HttpError>`.
    Bind,
    /// `(&Server)`: `Option<(Request, Responder)>`.
    Accept,
    /// `(Responder, Response)`: the slot is the response's.
    Respond,
    /// `(&Server)`.
    Stop,
    /// `(&Server)`: its port, an `Int64`.
    Port,
    /// `(&Server)`: its address, `ip:port`.
    Addr,
}

impl NetFn {
    /// How many argument registers the operation reads.
    pub fn reads(self) -> u16 {
        match self {
            NetFn::Respond => 2,
            _ => 1,
        }
    }
}

/// Header pairs with lower-case names, each name once: repeated headers
/// are joined with `, ` (RFC 9110, 5.3), in order.
pub fn merge_headers(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in pairs {
        let name = name.to_ascii_lowercase();
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(&value);
            }
            None => out.push((name, value)),
        }
    }
    out
}

/// The layouts a reply is built in.
#[derive(Clone, Copy, Debug)]
struct Shape {
    /// The whole result (`Result`, `Option`).
    result: u32,
    /// `Ok`'s or `Some`'s record: the response, or the (request, responder) pair.
    record: u32,
    /// The headers map inside it.
    headers: u32,
    /// `Err`'s `HttpError`.
    error: u32,
    /// An incoming request and its `Option<Duration>` timeout.
    request: u32,
    timeout: u32,
}

fn field_layout(prog: &Program, layout: u32, i: usize) -> u32 {
    match &prog.layout(layout).kind {
        LayoutKind::Record { fields, .. } => match fields.get(i) {
            Some(Slot::Owned(l)) => *l,
            _ => NO_LAYOUT,
        },
        _ => NO_LAYOUT,
    }
}

impl Shape {
    /// For a native whose result is in enum layout `result`.
    fn of(prog: &Program, f: NetFn, result: u32) -> Shape {
        let mut s = Shape {
            result,
            record: NO_LAYOUT,
            headers: NO_LAYOUT,
            error: NO_LAYOUT,
            request: NO_LAYOUT,
            timeout: NO_LAYOUT,
        };
        match f {
            NetFn::Send | NetFn::Bind => {
                s.record = variant_layout(prog, result, 0);
                s.error = variant_layout(prog, result, 1);
                s.headers = field_layout(prog, s.record, 1);
            }
            NetFn::Accept => {
                s.record = variant_layout(prog, result, 0);
                s.request = field_layout(prog, s.record, 0);
                s.headers = field_layout(prog, s.request, 2);
                s.timeout = field_layout(prog, s.request, 4);
            }
            _ => {}
        }
        s
    }

    /// The STARK value of `reply`.
    fn portable(&self, reply: NetReply) -> Portable {
        let record = |layout, tag, fields| Portable::Record { layout, tag, fields };
        match reply {
            NetReply::Fetched(Ok(r)) => record(self.result, 0, vec![self.response(r)]),
            NetReply::Bound(Ok(server)) => record(self.result, 0, vec![Portable::Host(server)]),
            NetReply::Fetched(Err(e)) | NetReply::Bound(Err(e)) => record(self.result, 1, vec![self.failure(e)]),
            NetReply::Incoming(Some((req, responder))) => {
                let pair = record(self.record, 0, vec![self.request(req), Portable::Host(responder)]);
                record(self.result, 0, vec![pair])
            }
            NetReply::Incoming(None) => record(self.result, 1, vec![]),
            NetReply::Addr(ip, port) => Portable::Str(format!("{ip}:{port}")),
            NetReply::Done => Portable::Scalar(Value::UNIT),
        }
    }

    fn response(&self, r: HttpResponse) -> Portable {
        let status = Portable::Scalar(Value::int(r.status as i64));
        let fields = vec![status, self.headers(r.headers), Portable::Str(r.body)];
        Portable::Record { layout: self.record, tag: 0, fields }
    }

    fn request(&self, q: HttpRequest) -> Portable {
        let timeout = match q.timeout_micros {
            Some(us) => Portable::Record { layout: self.timeout, tag: 0, fields: vec![int(us as i64)] },
            None => Portable::Record { layout: self.timeout, tag: 1, fields: vec![] },
        };
        let fields = vec![
            Portable::Str(q.method),
            Portable::Str(q.url),
            self.headers(q.headers),
            Portable::Str(q.body),
            timeout,
        ];
        Portable::Record { layout: self.request, tag: 0, fields }
    }

    /// A `HashMap<String, String>` of header pairs (names unique).
    fn headers(&self, pairs: Vec<(String, String)>) -> Portable {
        let map = Box::new(string_table(pairs.iter().map(|(n, _)| n.clone())));
        let entries = pairs.into_iter().map(|(n, v)| (Portable::Str(n), Portable::Str(v))).collect();
        Portable::Map { layout: self.headers, map, entries }
    }

    fn failure(&self, e: HttpFailure) -> Portable {
        let tag = e.tag();
        let field = match e {
            HttpFailure::Timeout(ms) => int(ms),
            HttpFailure::InvalidUrl(m)
            | HttpFailure::InvalidRequest(m)
            | HttpFailure::ConnectionRefused(m)
            | HttpFailure::Connection(m)
            | HttpFailure::Bind(m) => Portable::Str(m),
        };
        Portable::Record { layout: self.error, tag, fields: vec![field] }
    }
}

fn int(n: i64) -> Portable {
    Portable::Scalar(Value::int(n))
}

fn text(p: &Portable) -> Result<String, Fault> {
    match p {
        Portable::Str(s) => Ok(s.clone()),
        _ => Err(Fault::new("internal error: an HTTP field that is not a string")),
    }
}

fn fields(p: &Portable, n: usize) -> Result<&[Portable], Fault> {
    match p {
        Portable::Record { fields, .. } if fields.len() == n => Ok(fields),
        _ => Err(Fault::new("internal error: not an HTTP request or response")),
    }
}

fn header_pairs(p: &Portable) -> Result<Vec<(String, String)>, Fault> {
    match p {
        Portable::Map { entries, .. } => {
            let pairs = entries.iter().map(|(k, v)| Ok((text(k)?, text(v)?))).collect::<Result<Vec<_>, Fault>>()?;
            Ok(merge_headers(pairs))
        }
        _ => Err(Fault::new("internal error: headers that are not a map")),
    }
}

/// A STARK `Request`, moved out of its task.
pub fn request_of(p: &Portable) -> Result<HttpRequest, Fault> {
    let f = fields(p, 5)?;
    let timeout_micros = match &f[4] {
        Portable::Record { tag: 0, fields, .. } => match fields.first() {
            Some(Portable::Scalar(v)) => Some(v.as_int().max(0) as u64),
            _ => None,
        },
        _ => None,
    };
    Ok(HttpRequest {
        method: text(&f[0])?,
        url: text(&f[1])?,
        headers: header_pairs(&f[2])?,
        body: text(&f[3])?,
        timeout_micros,
    })
}

/// A STARK `Response`, moved out of its task; a status outside
/// `100..=999` is a fault.
pub fn response_of(p: &Portable) -> Result<HttpResponse, Fault> {
    let f = fields(p, 3)?;
    let status = match &f[0] {
        Portable::Scalar(v) => v.as_int(),
        _ => 0,
    };
    if !(100..=999).contains(&status) {
        return Err(Fault::new(format!("invalid HTTP status {status}: it must be in 100..=999")));
    }
    Ok(HttpResponse { status: status as u16, headers: header_pairs(&f[1])?, body: text(&f[2])? })
}

impl Cx<'_> {
    /// An HTTP native: the host does the work; its reply comes back as a
    /// value of the site's layouts, now or when the task resumes.
    pub(crate) fn net_op(&mut self, f: NetFn, host: &mut dyn Host) -> Result<Flow, Fault> {
        let shape = Shape::of(self.prog, f, self.site.layout);
        let op = match f {
            NetFn::Send => {
                let v = self.arg(0);
                let request = transfer::export(&mut self.task.heap, self.prog, v, self.site.slot)?;
                NetOp::Fetch(request_of(&request)?)
            }
            NetFn::Bind => NetOp::Bind(self.str_arg(0)),
            NetFn::Respond => {
                let responder = self.host_arg(0)?;
                let (r, v) = (self.arg(0), self.arg(1));
                self.free(r);
                let response = transfer::export(&mut self.task.heap, self.prog, v, self.site.slot)?;
                NetOp::Respond(responder, response_of(&response)?)
            }
            NetFn::Accept => NetOp::Accept(self.host_arg(0)?),
            NetFn::Stop => NetOp::Stop(self.host_arg(0)?),
            NetFn::Port | NetFn::Addr => NetOp::Addr(self.host_arg(0)?),
        };
        let port_only = f == NetFn::Port;
        let finish = move |reply: NetReply| match (reply, port_only) {
            (NetReply::Addr(_, port), true) => int(port as i64),
            (reply, _) => shape.portable(reply),
        };
        match host.net(op)? {
            NetDone::Now(reply) => {
                let v = transfer::import(&mut self.task.heap, finish(reply));
                self.ret(v);
                Ok(Flow::Done)
            }
            NetDone::Wait(wait) => Ok(Flow::Suspend(Box::pin(async move { Resume::Moved(finish(wait.await)) }))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_lower_cased_and_merged_in_order() {
        let pairs = [("Accept", "a"), ("X-One", "1"), ("accept", "b")].map(|(n, v)| (n.to_string(), v.to_string()));
        let merged = merge_headers(pairs);
        assert_eq!(merged, vec![("accept".into(), "a, b".into()), ("x-one".into(), "1".into())]);
    }

    #[test]
    fn failures_keep_the_order_of_http_error() {
        let tags: Vec<u32> = [
            HttpFailure::InvalidUrl(String::new()),
            HttpFailure::InvalidRequest(String::new()),
            HttpFailure::ConnectionRefused(String::new()),
            HttpFailure::Timeout(0),
            HttpFailure::Connection(String::new()),
            HttpFailure::Bind(String::new()),
        ]
        .iter()
        .map(HttpFailure::tag)
        .collect();
        assert_eq!(tags, vec![0, 1, 2, 3, 4, 5]);
    }

    fn str_map(pairs: &[(&str, &str)]) -> Portable {
        let map = Box::new(string_table(pairs.iter().map(|(n, _)| n.to_string())));
        let entries = pairs.iter().map(|(n, v)| (Portable::Str(n.to_string()), Portable::Str(v.to_string()))).collect();
        Portable::Map { layout: 0, map, entries }
    }

    #[test]
    fn a_request_is_read_by_field_position() {
        let timeout = Portable::Record { layout: 0, tag: 0, fields: vec![int(250_000)] };
        let p = Portable::Record {
            layout: 0,
            tag: 0,
            fields: vec![
                Portable::Str("POST".into()),
                Portable::Str("http://h/x".into()),
                str_map(&[("Content-Type", "text/plain")]),
                Portable::Str("hi".into()),
                timeout,
            ],
        };
        let q = request_of(&p).unwrap();
        assert_eq!(q.method, "POST");
        assert_eq!(q.headers, vec![("content-type".to_string(), "text/plain".to_string())]);
        assert_eq!(q.timeout_micros, Some(250_000));
    }

    #[test]
    fn a_response_status_must_be_three_digits() {
        let p = |status| Portable::Record {
            layout: 0,
            tag: 0,
            fields: vec![int(status), str_map(&[]), Portable::Str(String::new())],
        };
        assert_eq!(response_of(&p(204)).unwrap().status, 204);
        let e = response_of(&p(42)).unwrap_err();
        assert!(e.0.contains("invalid HTTP status 42"), "{}", e.0);
    }
}
