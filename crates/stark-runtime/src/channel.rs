//! Channels: multi-producer, multi-consumer queues of values moved between
//! tasks, unbounded or bounded (a send waits while the channel is full),
//! built on wakers. Closing lets receivers drain what is queued; a send on
//! a closed channel is a fault.

use stark_vm::task::{HostFuture, Resume};
use stark_vm::transfer::{self, Portable};
use stark_vm::trap::Fault;
use stark_vm::Value;
use std::collections::VecDeque;
use std::future::poll_fn;
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
    /// Tasks waiting for a value.
    receivers: Vec<Waker>,
    /// Tasks waiting for room.
    senders: Vec<Waker>,
}

impl State {
    fn wake(wakers: &mut Vec<Waker>) {
        for w in wakers.drain(..) {
            w.wake();
        }
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

    /// Queues `value`, or gives a future that does once there is room.
    pub fn send(self: Arc<Self>, value: Portable) -> Result<Option<HostFuture>, Fault> {
        let mut state = self.lock();
        if state.closed {
            return Err(closed_fault());
        }
        if self.has_room(&state) {
            state.queue.push_back(value);
            State::wake(&mut state.receivers);
            return Ok(None);
        }
        drop(state);
        let mut value = Some(value);
        Ok(Some(Box::pin(poll_fn(move |cx| self.poll_send(cx, &mut value)))))
    }

    /// Completes a waiting send of `value` once there is room.
    pub fn poll_send(&self, cx: &mut Context<'_>, value: &mut Option<Portable>) -> Poll<Resume> {
        let mut state = self.lock();
        if state.closed {
            return Poll::Ready(Resume::Fault(closed_fault()));
        }
        if !self.has_room(&state) {
            state.senders.push(cx.waker().clone());
            return Poll::Pending;
        }
        if let Some(v) = value.take() {
            state.queue.push_back(v);
        }
        State::wake(&mut state.receivers);
        Poll::Ready(Resume::Value(Value::UNIT))
    }

    /// Waits for the next value: `Some(v)`, or `None` once closed and drained.
    pub async fn recv(self: Arc<Self>, option: u32) -> Resume {
        poll_fn(|cx| self.poll_recv(cx, option)).await
    }

    /// The next value as an `Option` of enum layout `option`, if there is
    /// one or the channel is closed.
    pub fn poll_recv(&self, cx: &mut Context<'_>, option: u32) -> Poll<Resume> {
        let mut state = self.lock();
        if let Some(v) = state.queue.pop_front() {
            State::wake(&mut state.senders);
            return Poll::Ready(Resume::Moved(transfer::option(option, Some(v))));
        }
        if state.closed {
            return Poll::Ready(Resume::Moved(transfer::option(option, None)));
        }
        state.receivers.push(cx.waker().clone());
        Poll::Pending
    }

    /// The next value if one is queued.
    pub fn try_recv(&self) -> Option<Portable> {
        let mut state = self.lock();
        let v = state.queue.pop_front();
        if v.is_some() {
            State::wake(&mut state.senders);
        }
        v
    }

    /// Closes the channel, waking everyone waiting on it.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        State::wake(&mut state.receivers);
        State::wake(&mut state.senders);
    }

    /// Queued values, and whether it is closed.
    pub fn state(&self) -> (usize, bool) {
        let state = self.lock();
        (state.queue.len(), state.closed)
    }
}
