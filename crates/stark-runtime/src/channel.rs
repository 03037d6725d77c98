//! Channels: multi-producer, multi-consumer queues of values moved between
//! tasks, unbounded or bounded (a send waits while the channel is full),
//! built on wakers. Closing lets receivers drain what is queued; a send on
//! a closed channel is a fault.
//!
//! Waiting is wake-one: a value queued wakes one receiver, a value taken
//! wakes one sender (no thundering herd when a hundred producers wait on a
//! full channel). A waiter that takes its turn and sees more to do passes
//! the turn on, and one that goes away without taking it (a cancelled
//! task, a `select` arm that lost) passes it on too, so no wake-up is lost.

use stark_vm::task::{HostFuture, Resume};
use stark_vm::transfer::{self, Portable};
use stark_vm::trap::Fault;
use stark_vm::Value;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// A channel's shared state.
pub(crate) struct Channel {
    state: Mutex<State>,
    capacity: Option<usize>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Portable>,
    closed: bool,
    /// Tasks waiting for a value, first come first woken.
    receivers: VecDeque<Waker>,
    /// Tasks waiting for room.
    senders: VecDeque<Waker>,
}

/// Adds a waiter once.
fn enlist(list: &mut VecDeque<Waker>, waker: &Waker) {
    if !list.iter().any(|w| w.will_wake(waker)) {
        list.push_back(waker.clone());
    }
}

fn wake_one(list: &mut VecDeque<Waker>) {
    if let Some(w) = list.pop_front() {
        w.wake();
    }
}

fn wake_all(list: &mut VecDeque<Waker>) {
    for w in list.drain(..) {
        w.wake();
    }
}

fn closed_fault() -> Fault {
    Fault::new("send on a closed channel")
}

impl Channel {
    /// An empty channel.
    pub fn new(capacity: Option<usize>) -> Channel {
        Channel { state: Mutex::new(State::default()), capacity }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn has_room(&self, state: &State) -> bool {
        self.capacity.is_none_or(|c| state.queue.len() < c)
    }

    /// Queues a value (room is known), waking a receiver, and passes the
    /// senders' turn on while there is still room.
    fn push(&self, state: &mut State, value: Portable) {
        state.queue.push_back(value);
        wake_one(&mut state.receivers);
        if self.has_room(state) {
            wake_one(&mut state.senders);
        }
    }

    /// Queues `value`, or gives a future that does once there is room.
    pub fn send(self: Arc<Self>, value: Portable) -> Result<Option<HostFuture>, Fault> {
        let mut state = self.lock();
        if state.closed {
            return Err(closed_fault());
        }
        if self.has_room(&state) {
            self.push(&mut state, value);
            return Ok(None);
        }
        drop(state);
        Ok(Some(Box::pin(Waiting { channel: self, op: Op::Send(Some(value)) })))
    }

    /// Completes a waiting send of `value` once there is room.
    pub fn poll_send(&self, cx: &mut Context<'_>, value: &mut Option<Portable>) -> Poll<Resume> {
        let mut state = self.lock();
        if state.closed {
            return Poll::Ready(Resume::Fault(closed_fault()));
        }
        if !self.has_room(&state) {
            enlist(&mut state.senders, cx.waker());
            return Poll::Pending;
        }
        if let Some(v) = value.take() {
            self.push(&mut state, v);
        }
        Poll::Ready(Resume::Value(Value::UNIT))
    }

    /// Waits for the next value: `Some(v)`, or `None` once closed and drained.
    pub fn recv(self: Arc<Self>, option: u32) -> HostFuture {
        Box::pin(Waiting { channel: self, op: Op::Recv(option) })
    }

    /// The next value as an `Option` of enum layout `option`, if there is
    /// one or the channel is closed.
    pub fn poll_recv(&self, cx: &mut Context<'_>, option: u32) -> Poll<Resume> {
        let mut state = self.lock();
        if let Some(v) = self.pop(&mut state) {
            return Poll::Ready(Resume::Moved(transfer::option(option, Some(v))));
        }
        if state.closed {
            return Poll::Ready(Resume::Moved(transfer::option(option, None)));
        }
        enlist(&mut state.receivers, cx.waker());
        Poll::Pending
    }

    /// Takes the next value, waking a sender, and passes the receivers'
    /// turn on while values remain.
    fn pop(&self, state: &mut State) -> Option<Portable> {
        let v = state.queue.pop_front()?;
        wake_one(&mut state.senders);
        if !state.queue.is_empty() {
            wake_one(&mut state.receivers);
        }
        Some(v)
    }

    /// The next value if one is queued.
    pub fn try_recv(&self) -> Option<Portable> {
        let mut state = self.lock();
        self.pop(&mut state)
    }

    /// Closes the channel, waking everyone waiting on it.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        wake_all(&mut state.receivers);
        wake_all(&mut state.senders);
    }

    /// Queued values, and whether it is closed.
    pub fn state(&self) -> (usize, bool) {
        let state = self.lock();
        (state.queue.len(), state.closed)
    }

    /// A waiter left without taking its turn: the next one gets it.
    pub fn pass_on(&self) {
        let mut state = self.lock();
        if !state.queue.is_empty() || state.closed {
            wake_one(&mut state.receivers);
        }
        if self.has_room(&state) || state.closed {
            wake_one(&mut state.senders);
        }
    }
}

/// What a waiting future does.
enum Op {
    Send(Option<Portable>),
    Recv(u32),
}

/// A send or receive that waits; dropped unfinished, it passes its turn on.
pub(crate) struct Waiting {
    channel: Arc<Channel>,
    op: Op,
}

impl Waiting {
    /// A receive, for `select`.
    pub fn recv(channel: Arc<Channel>, option: u32) -> Waiting {
        Waiting { channel, op: Op::Recv(option) }
    }

    /// A send, for `select`.
    pub fn send(channel: Arc<Channel>, value: Portable) -> Waiting {
        Waiting { channel, op: Op::Send(Some(value)) }
    }
}

impl Future for Waiting {
    type Output = Resume;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Resume> {
        let this = self.get_mut();
        let r = match &mut this.op {
            Op::Send(value) => this.channel.poll_send(cx, value),
            Op::Recv(option) => this.channel.poll_recv(cx, *option),
        };
        if r.is_ready() {
            // Done: nothing to pass on when dropped.
            this.op = Op::Send(None);
        }
        r
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let pending = match &self.op {
            Op::Send(value) => value.is_some(),
            Op::Recv(_) => true,
        };
        if pending {
            self.channel.pass_on();
        }
    }
}
