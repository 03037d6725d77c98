//! Channels: multi-producer, multi-consumer queues of values moved between
//! tasks, unbounded or bounded (a send waits while the channel is full),
//! built on wakers. Closing lets receivers drain what is queued; a send on
//! a closed channel is a fault.
//!
//! Waiting is wake-one: a value queued wakes one receiver, a value taken
//! wakes one sender (no thundering herd when a hundred producers wait on a
//! full channel). Each waiting future has its own entry, which it removes
//! when it goes away (a cancelled task, a `select` arm that lost, a timed
//! out future); one that was woken but goes away without taking its turn
//! passes the turn on, so no wake-up is lost.

use stark_vm::task::{HostFuture, Resume};
use stark_vm::transfer::{self, Portable};
use stark_vm::trap::Fault;
use stark_vm::Value;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// A channel's shared state.
pub(crate) struct Channel {
    state: Mutex<State>,
    capacity: Option<usize>,
    /// Numbers the waiting futures.
    next_waiter: AtomicU64,
}

/// Futures waiting on one side, woken first come first served.
#[derive(Default)]
pub(crate) struct Waiters {
    order: VecDeque<u64>,
    wakers: HashMap<u64, Waker>,
}

impl Waiters {
    /// Registers (or refreshes) waiter `id`.
    pub fn enlist(&mut self, id: u64, waker: &Waker) {
        if let Some(w) = self.wakers.get_mut(&id) {
            w.clone_from(waker);
        } else {
            self.wakers.insert(id, waker.clone());
            self.order.push_back(id);
        }
    }

    /// Wakes the first waiter still there.
    pub fn wake_one(&mut self) {
        while let Some(id) = self.order.pop_front() {
            if let Some(w) = self.wakers.remove(&id) {
                w.wake();
                return;
            }
        }
    }

    pub fn wake_all(&mut self) {
        self.order.clear();
        for (_, w) in self.wakers.drain() {
            w.wake();
        }
    }

    /// Forgets waiter `id`; whether it was still waiting (not yet woken).
    pub fn leave(&mut self, id: u64) -> bool {
        self.wakers.remove(&id).is_some()
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<Portable>,
    closed: bool,
    receivers: Waiters,
    senders: Waiters,
}

fn closed_fault() -> Fault {
    Fault::new("send on a closed channel")
}

impl Channel {
    /// An empty channel.
    pub fn new(capacity: Option<usize>) -> Channel {
        Channel { state: Mutex::new(State::default()), capacity, next_waiter: AtomicU64::new(0) }
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
        state.receivers.wake_one();
        if self.has_room(state) {
            state.senders.wake_one();
        }
    }

    /// Takes the next value, waking a sender, and passes the receivers'
    /// turn on while values remain.
    fn pop(&self, state: &mut State) -> Option<Portable> {
        let v = state.queue.pop_front()?;
        state.senders.wake_one();
        if !state.queue.is_empty() {
            state.receivers.wake_one();
        }
        Some(v)
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
        Ok(Some(Box::pin(Waiting::send(self, value))))
    }

    /// Queues `value` if there is room and the channel is open, else gives
    /// it back.
    pub fn try_send(&self, value: Portable) -> Result<(), Portable> {
        let mut state = self.lock();
        if state.closed || !self.has_room(&state) {
            return Err(value);
        }
        self.push(&mut state, value);
        Ok(())
    }

    /// Waits for the next value: `Some(v)`, or `None` once closed and drained.
    pub fn recv(self: Arc<Self>, option: u32) -> HostFuture {
        Box::pin(Waiting::recv(self, option))
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
        state.receivers.wake_all();
        state.senders.wake_all();
    }

    /// Queued values, and whether it is closed.
    pub fn state(&self) -> (usize, bool) {
        let state = self.lock();
        (state.queue.len(), state.closed)
    }
}

/// What a waiting future does.
enum Op {
    Send(Option<Portable>),
    Recv(u32),
    Done,
}

/// A send or receive that waits (also a `select` arm). It leaves the
/// waiters when dropped, passing on a turn it was given but did not take.
pub(crate) struct Waiting {
    channel: Arc<Channel>,
    op: Op,
    id: u64,
}

impl Waiting {
    /// A receive giving an `Option` of enum layout `option`.
    pub fn recv(channel: Arc<Channel>, option: u32) -> Waiting {
        let id = channel.next_waiter.fetch_add(1, Ordering::Relaxed);
        Waiting { channel, op: Op::Recv(option), id }
    }

    /// A send of `value`.
    pub fn send(channel: Arc<Channel>, value: Portable) -> Waiting {
        let id = channel.next_waiter.fetch_add(1, Ordering::Relaxed);
        Waiting { channel, op: Op::Send(Some(value)), id }
    }
}

impl Future for Waiting {
    type Output = Resume;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Resume> {
        let this = self.get_mut();
        let channel = this.channel.clone();
        let mut state = channel.lock();
        let r = match &mut this.op {
            Op::Done => {
                return Poll::Ready(Resume::Fault(Fault::new("internal error: a channel operation polled twice")))
            }
            Op::Send(value) => {
                if state.closed {
                    Poll::Ready(Resume::Fault(closed_fault()))
                } else if !channel.has_room(&state) {
                    state.senders.enlist(this.id, cx.waker());
                    Poll::Pending
                } else {
                    state.senders.leave(this.id);
                    if let Some(v) = value.take() {
                        channel.push(&mut state, v);
                    }
                    Poll::Ready(Resume::Value(Value::UNIT))
                }
            }
            Op::Recv(option) => {
                let option = *option;
                if let Some(v) = channel.pop(&mut state) {
                    state.receivers.leave(this.id);
                    Poll::Ready(Resume::Moved(transfer::option(option, Some(v))))
                } else if state.closed {
                    Poll::Ready(Resume::Moved(transfer::option(option, None)))
                } else {
                    state.receivers.enlist(this.id, cx.waker());
                    Poll::Pending
                }
            }
        };
        if r.is_ready() {
            this.op = Op::Done;
        }
        r
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let receiving = match &self.op {
            Op::Done => return,
            Op::Recv(_) => true,
            Op::Send(_) => false,
        };
        let channel = self.channel.clone();
        let mut state = channel.lock();
        let side = if receiving { &mut state.receivers } else { &mut state.senders };
        let still_waiting = side.leave(self.id);
        // Woken (its entry gone) but leaving without its turn: pass it on.
        if !still_waiting {
            if receiving && (!state.queue.is_empty() || state.closed) {
                state.receivers.wake_one();
            } else if !receiving && (channel.has_room(&state) || state.closed) {
                state.senders.wake_one();
            }
        }
    }
}
