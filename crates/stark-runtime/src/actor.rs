//! Actors: an actor is a task looping over its mailbox (a channel of
//! envelopes), handling one message at a time. An `ask` carries a reply
//! slot the actor fills; the cell remembers the reply it owes, so that when
//! a handler traps, that ask (and every ask still queued or sent later)
//! fails with the actor's failure instead of waiting forever.

use crate::channel::{Channel, Waiting};
use stark_vm::task::{HostFuture, Resume};
use stark_vm::transfer::{self, Portable};
use stark_vm::trap::Fault;
use stark_vm::{Trap, Value};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

/// An actor's mailbox and state, shared by its references.
pub(crate) struct ActorCell {
    mailbox: Arc<Channel>,
    state: Mutex<CellState>,
    started: std::time::Instant,
}

/// How a supervised actor is restarted after a failure.
pub(crate) struct Policy {
    /// The task body: build the state from the factory, run the loop.
    pub body: Portable,
    /// 0 `Permanent`, 1 `Transient`, 2 `Never` (a failure ends it).
    pub restart: u32,
    pub max_restarts: i64,
    pub window: std::time::Duration,
    /// When it was restarted lately.
    pub history: std::collections::VecDeque<std::time::Instant>,
}

/// What `get_stats` reports.
#[derive(Default)]
struct Stats {
    handled: i64,
    failed: i64,
    restarts: i64,
    peak: i64,
    /// Handling times of the messages so far, in microseconds.
    latencies: Vec<u64>,
    /// When the message being handled was taken.
    taken: Option<std::time::Instant>,
}

#[derive(Default)]
struct CellState {
    stats: Stats,
    /// Set for an actor spawned with a factory.
    policy: Option<Policy>,
    /// The reply owed for the message being handled.
    owed: Option<Arc<Reply>>,
    /// Why the actor ended, once it failed.
    failed: Option<String>,
    /// Whether its task has ended.
    ended: bool,
    /// Who waits for the end (the program's shutdown).
    end_waiters: Vec<Waker>,
}

/// A reply an asker waits for.
#[derive(Default)]
pub(crate) struct Reply {
    state: Mutex<ReplyState>,
}

#[derive(Default)]
struct ReplyState {
    outcome: Option<Result<Portable, Trap>>,
    waker: Option<Waker>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Reply {
    fn fill(&self, outcome: Result<Portable, Trap>) {
        let mut state = lock(&self.state);
        if state.outcome.is_none() {
            state.outcome = Some(outcome);
        }
        if let Some(w) = state.waker.take() {
            w.wake();
        }
    }

    /// Waits for the reply.
    pub async fn wait(self: Arc<Self>) -> Resume {
        poll_fn(|cx| {
            let mut state = lock(&self.state);
            match state.outcome.take() {
                Some(Ok(p)) => Poll::Ready(Resume::Moved(p)),
                Some(Err(t)) => Poll::Ready(Resume::Failed(t)),
                None => {
                    state.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// What the mailbox carries: the message, and the reply slot of an ask.
fn envelope(message: Portable, reply: Option<Arc<Reply>>) -> Portable {
    let reply = match reply {
        Some(r) => Portable::Host(r),
        None => Portable::Scalar(Value::NONE),
    };
    Portable::Record { layout: 0, tag: 0, fields: vec![message, reply] }
}

impl ActorCell {
    /// A cell with an empty, unbounded mailbox.
    pub fn new() -> ActorCell {
        ActorCell {
            mailbox: Arc::new(Channel::new(None)),
            state: Mutex::new(CellState::default()),
            started: std::time::Instant::now(),
        }
    }

    fn stopped_fault(&self) -> Option<Fault> {
        lock(&self.state).failed.as_ref().map(|why| Fault::new(format!("the actor stopped: {why}")))
    }

    /// Queues a message with a reply slot, which it gives back.
    pub fn ask(&self, message: Portable) -> Result<Arc<Reply>, Fault> {
        if let Some(f) = self.stopped_fault() {
            return Err(f);
        }
        let reply = Arc::new(Reply::default());
        match self.mailbox.try_send(envelope(message, Some(reply.clone()))) {
            Ok(()) => {
                self.note_queued();
                Ok(reply)
            }
            Err(_) => Err(Fault::new("the actor has stopped")),
        }
    }

    /// Queues a message with no reply.
    pub fn tell(&self, message: Portable) -> Result<(), Fault> {
        if let Some(f) = self.stopped_fault() {
            return Err(f);
        }
        self.mailbox.try_send(envelope(message, None)).map_err(|_| Fault::new("the actor has stopped"))?;
        self.note_queued();
        Ok(())
    }

    fn note_queued(&self) {
        let len = self.mailbox.state().0 as i64;
        let mut state = lock(&self.state);
        state.stats.peak = state.stats.peak.max(len);
    }

    /// `ActorStats` (a record of layout `layout`, fields in declaration order).
    pub fn stats(&self, layout: u32) -> Portable {
        let state = lock(&self.state);
        let s = &state.stats;
        let mut sorted = s.latencies.clone();
        sorted.sort_unstable();
        let pct = |p: f64| -> i64 {
            if sorted.is_empty() {
                return 0;
            }
            let i = ((sorted.len() - 1) as f64 * p).round() as usize;
            sorted[i] as i64
        };
        let int = |v: i64| Portable::Scalar(Value::int(v));
        let fields = vec![
            int(s.handled),
            int(s.failed),
            int(s.restarts),
            int(self.mailbox.state().0 as i64),
            int(s.peak),
            int(0),
            Portable::Scalar(Value::f64(0.0)),
            int(pct(0.50)),
            int(pct(0.95)),
            int(pct(0.99)),
            int(self.started.elapsed().as_millis() as i64),
        ];
        Portable::Record { layout, tag: 0, fields }
    }

    /// Stops taking messages; those queued are still handled.
    pub fn stop(&self) {
        self.mailbox.close();
    }

    /// The next message (the actor task waits here), as an `Option` of
    /// enum layout `option`; remembers the reply it owes.
    pub fn recv(self: Arc<Self>, option: u32) -> HostFuture {
        let mut waiting = Waiting::recv(self.mailbox.clone(), u32::MAX);
        Box::pin(poll_fn(move |cx| {
            let r = Pin::new(&mut waiting).poll(cx);
            let Poll::Ready(r) = r else { return Poll::Pending };
            let envelope = match r {
                Resume::Moved(Portable::Record { tag: 0, mut fields, .. }) => fields.pop(),
                _ => None,
            };
            Poll::Ready(match envelope {
                Some(Portable::Record { mut fields, .. }) if fields.len() == 2 => {
                    let reply = fields.pop();
                    let message = fields.pop().unwrap_or(Portable::Scalar(Value::UNIT));
                    let mut state = lock(&self.state);
                    state.owed = match reply {
                        Some(Portable::Host(h)) => h.downcast::<Reply>().ok(),
                        _ => None,
                    };
                    state.stats.taken = Some(std::time::Instant::now());
                    Resume::Moved(transfer::option(option, Some(message)))
                }
                _ => Resume::Moved(transfer::option(option, None)),
            })
        }))
    }

    /// The answer to the message being handled.
    pub fn reply(&self, value: Portable) {
        let owed = {
            let mut state = lock(&self.state);
            state.stats.handled += 1;
            if let Some(t) = state.stats.taken.take() {
                let us = t.elapsed().as_micros() as u64;
                state.stats.latencies.push(us);
            }
            state.owed.take()
        };
        if let Some(r) = owed {
            r.fill(Ok(value));
        }
    }

    /// The actor's task has ended (normally or not).
    pub fn ended(&self) {
        let mut state = lock(&self.state);
        state.ended = true;
        for w in state.end_waiters.drain(..) {
            w.wake();
        }
    }

    /// Waits until the actor's task has ended.
    pub async fn wait_end(self: Arc<Self>) {
        poll_fn(|cx| {
            let mut state = lock(&self.state);
            if state.ended {
                return Poll::Ready(());
            }
            state.end_waiters.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Supervises the actor under `policy`.
    pub fn supervise(&self, policy: Policy) {
        lock(&self.state).policy = Some(policy);
    }

    /// After a failure: the body to start again if the policy allows one
    /// more restart within its window (then only the ask being handled
    /// fails; queued messages wait for the new instance).
    pub fn restart(&self, trap: &Trap) -> Option<Portable> {
        let mut state = lock(&self.state);
        let policy = state.policy.as_mut()?;
        if policy.restart == 2 {
            return None;
        }
        let now = std::time::Instant::now();
        while policy.history.front().is_some_and(|t| now.duration_since(*t) > policy.window) {
            policy.history.pop_front();
        }
        if policy.history.len() as i64 >= policy.max_restarts {
            return None;
        }
        policy.history.push_back(now);
        let body = policy.body.clone();
        state.stats.failed += 1;
        state.stats.restarts += 1;
        let owed = state.owed.take();
        drop(state);
        if let Some(r) = owed {
            r.fill(Err(Trap { message: format!("the actor failed: {}", trap.message), ..trap.clone() }));
        }
        Some(body)
    }

    /// The actor's task failed: the owed ask and every queued one fail
    /// with it, and later messages are refused.
    pub fn fail(&self, trap: &Trap) {
        let why = trap.message.clone();
        let owed = {
            let mut state = lock(&self.state);
            state.failed = Some(why.clone());
            state.stats.failed += 1;
            state.owed.take()
        };
        self.mailbox.close();
        let failure = |t: &Trap| Trap { message: format!("the actor failed: {}", t.message), ..t.clone() };
        if let Some(r) = owed {
            r.fill(Err(failure(trap)));
        }
        while let Some(Portable::Record { mut fields, .. }) = self.mailbox.try_recv() {
            if let Some(Portable::Host(h)) = fields.pop() {
                if let Ok(r) = h.downcast::<Reply>() {
                    r.fill(Err(Trap::bare(format!("the actor stopped: {why}"))));
                }
            }
        }
    }
}
