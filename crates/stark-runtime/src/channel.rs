//! Channels: multi-producer, multi-consumer queues of values moved between
//! tasks, unbounded or bounded (a send waits while the channel is full),
//! built on wakers. Closing lets receivers drain what is queued; a send on
//! a closed channel is a fault.
//!
//! The values travel through a lock-free queue (`concurrent-queue`), so a
//! send or a receive that need not wait takes no lock: a producer and a
//! consumer on two workers touch only the queue's own atomics, not one
//! lock they would fight over. Each side's waiters sit behind a lock taken
//! only when someone waits: the side's `waiting` count says whether to
//! look, and a fence on both sides (the changer's after its change, the
//! waiter's after it enlists and before it looks again) makes sure that
//! no wake-up is lost.
//!
//! Waiting is wake-one: a value queued wakes one receiver, a value taken
//! wakes one sender (no thundering herd when a hundred producers wait on a
//! full channel). Each waiting future has its own entry, which it removes
//! when it goes away (a cancelled task, a `select` arm that lost, a timed
//! out future); one that was woken but goes away without taking its turn
//! passes the turn on, so no wake-up is lost.
//!
//! Senders are woken as a relay, once per task poll: a value taken from a
//! bounded channel owes its waiting senders a wake-up that is paid when
//! the taking task's poll ends ([`settle`], called by `tasks::drive`);
//! while a woken sender has not yet come back for its turn, no second one
//! is woken; the woken sender, once back, owes the next one in the same
//! way. A receiver draining a full channel that a hundred producers wait
//! on thus wakes a producer per poll (which then fills the room it finds
//! without waiting), not one per value, and a take costs no fence.

use concurrent_queue::{ConcurrentQueue, PopError, PushError};
use stark_vm::heap::HostRef;
use stark_vm::task::{HostFuture, Resume};
use stark_vm::transfer::Portable;
use stark_vm::trap::Fault;
use stark_vm::Value;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Above this capacity a bounded channel does not allocate all its places
/// at once: it counts its values in an unbounded queue instead.
const FIXED_CAPACITY: usize = 4096;

thread_local! {
    /// The channels whose waiting senders the task poll running on this
    /// thread owes a wake-up ([`owe`], [`settle`]).
    static OWED: RefCell<Vec<HostRef>> = const { RefCell::new(Vec::new()) };
}

/// How many of the latest noted channels `owe` looks through before it
/// notes one again (a poll taking from many channels in turn may note one
/// twice, which only costs a second look at its waiters).
const OWED_LOOK: usize = 8;

/// Notes that the task poll running on this thread owes `channel`'s
/// waiting senders a wake-up; `shared` makes its reference if it is not
/// noted yet.
fn owe(channel: &Channel, shared: impl FnOnce() -> HostRef) {
    OWED.with_borrow_mut(|owed| {
        if !owed.iter().rev().take(OWED_LOOK).any(|r| std::ptr::addr_eq(Arc::as_ptr(r), channel)) {
            owed.push(shared());
        }
    });
}

/// Pays what the task poll that just ended on this thread owes: one
/// waiting sender of each noted channel with room is woken. `tasks::drive`
/// calls it after every poll, so a wake-up is never owed for long.
pub(crate) fn settle() {
    OWED.with_borrow_mut(|owed| {
        for r in owed.drain(..) {
            if let Some(channel) = r.downcast_ref::<Channel>() {
                if !channel.values.is_full() {
                    channel.senders.notify_one();
                }
            }
        }
    });
}

/// A channel's shared state.
pub(crate) struct Channel {
    values: Values,
    receivers: Side,
    senders: Side,
}

/// The queued values, at most `limit.1` of them when bounded by a count.
struct Values {
    queue: ConcurrentQueue<Portable>,
    /// Values queued (or being queued) and the capacity, for a large bounded channel.
    limit: Option<(AtomicUsize, usize)>,
}

impl Values {
    fn new(capacity: Option<usize>) -> Values {
        match capacity {
            None => Values { queue: ConcurrentQueue::unbounded(), limit: None },
            Some(c) if c <= FIXED_CAPACITY => Values { queue: ConcurrentQueue::bounded(c.max(1)), limit: None },
            Some(c) => Values { queue: ConcurrentQueue::unbounded(), limit: Some((AtomicUsize::new(0), c)) },
        }
    }

    fn push(&self, value: Portable) -> Result<(), PushError<Portable>> {
        let Some((len, capacity)) = &self.limit else { return self.queue.push(value) };
        // A place is claimed before the value goes in, so the count never
        // passes the capacity.
        if len.fetch_add(1, Ordering::AcqRel) >= *capacity {
            len.fetch_sub(1, Ordering::AcqRel);
            return Err(if self.queue.is_closed() { PushError::Closed(value) } else { PushError::Full(value) });
        }
        let pushed = self.queue.push(value);
        if pushed.is_err() {
            len.fetch_sub(1, Ordering::AcqRel);
        }
        pushed
    }

    fn pop(&self) -> Result<Portable, PopError> {
        let popped = self.queue.pop();
        if let (Ok(_), Some((len, _))) = (&popped, &self.limit) {
            len.fetch_sub(1, Ordering::AcqRel);
        }
        popped
    }

    /// Whether a sender can ever find it full (and so wait).
    fn bounded(&self) -> bool {
        self.limit.is_some() || self.queue.capacity().is_some()
    }

    fn is_full(&self) -> bool {
        match &self.limit {
            Some((len, capacity)) => len.load(Ordering::Acquire) >= *capacity,
            None => self.queue.is_full(),
        }
    }
}

/// The futures waiting on one side of a channel.
#[derive(Default)]
struct Side {
    /// How many wait (written under the lock, read without it).
    waiting: AtomicUsize,
    /// Every ticket below this was woken (waiters are woken in ticket
    /// order), so a woken waiter leaves without taking the lock.
    woken_below: AtomicU64,
    /// The senders' relay: a woken waiter has not come back yet, so
    /// `notify_one` wakes no one (always false on the receivers' side).
    handed: AtomicBool,
    /// Whether this side wakes as a relay (the senders').
    relay: bool,
    waiters: Mutex<Waiters>,
}

impl Side {
    fn lock(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A side whose waiters are woken one at a time as a relay.
    fn relay() -> Side {
        Side { relay: true, ..Side::default() }
    }

    /// Wakes one waiter, if any and no woken one of a relay is still on
    /// its way: called after a change this side waits for.
    fn notify_one(&self) {
        // Pairs with the fence in `enlist` (and in `came_back` for `handed`).
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::Relaxed) > 0 && !self.handed.load(Ordering::Relaxed) {
            let mut w = self.lock();
            // Looked at again under the lock: two notifiers wake one.
            if self.handed.load(Ordering::Relaxed) {
                return;
            }
            let first = w.queue.pop_front();
            // Recorded before the wake, the woken waiter may come back at
            // once; `handed` before `woken_below`, so that whoever sees it
            // woken (and comes back: `came_back`) sees `handed` set first.
            if let Some((t, _)) = &first {
                self.handed.store(self.relay, Ordering::Relaxed);
                self.woken_below.store(t + 1, Ordering::Release);
            }
            self.waiting.store(w.queue.len(), Ordering::Relaxed);
            drop(w);
            if let Some((_, waker)) = first {
                waker.wake();
            }
        }
    }

    /// Whether the waiter holding `ticket` was woken (its entry is gone).
    fn was_woken(&self, ticket: Option<u64>) -> bool {
        ticket.is_some_and(|t| t < self.woken_below.load(Ordering::Acquire))
    }

    /// A woken waiter of a relay is back (it looks again next, or goes
    /// away): wakes are no longer held back for it. Either a change made
    /// while `handed` was still set is seen by the caller's next look, or
    /// its maker saw `handed` clear and woke someone itself.
    fn came_back(&self) {
        if self.relay {
            self.handed.store(false, Ordering::Relaxed);
            fence(Ordering::SeqCst);
        }
    }

    /// Wakes every waiter.
    fn notify_all(&self) {
        let mut w = self.lock();
        self.woken_below.store(w.next, Ordering::Release);
        self.waiting.store(0, Ordering::Relaxed);
        self.handed.store(false, Ordering::Relaxed);
        w.wake_all();
    }

    /// Enlists (or refreshes) the waiter holding `ticket`; the caller
    /// must look again at what it waits for after this. True if its
    /// ticket had been woken meanwhile (it was given a new one).
    fn enlist(&self, ticket: &mut Option<u64>, waker: &Waker) -> bool {
        let mut w = self.lock();
        let woken = w.enlist(ticket, waker);
        self.waiting.store(w.queue.len(), Ordering::Relaxed);
        drop(w);
        fence(Ordering::SeqCst);
        woken
    }

    /// Forgets the waiter holding `ticket`; whether it was still waiting.
    fn leave(&self, ticket: Option<u64>) -> bool {
        if ticket.is_none() || self.was_woken(ticket) {
            return false;
        }
        let mut w = self.lock();
        let was = w.leave(ticket);
        self.waiting.store(w.queue.len(), Ordering::Relaxed);
        was
    }
}

/// Futures waiting on one side, woken first come first served. A
/// waiter's ticket is given when it first waits and grows with each one,
/// so the queue stays sorted by ticket and a waiter is found by binary
/// search (no hashing on the hot path).
#[derive(Default)]
pub(crate) struct Waiters {
    queue: VecDeque<(u64, Waker)>,
    next: u64,
}

impl Waiters {
    fn position(&self, ticket: Option<u64>) -> Option<usize> {
        self.queue.binary_search_by_key(&ticket?, |e| e.0).ok()
    }

    /// Registers (or refreshes) the waiter holding `ticket`, giving it a
    /// ticket at the back of the queue if it has none or was woken; true
    /// in the second case (its old ticket was woken).
    pub fn enlist(&mut self, ticket: &mut Option<u64>, waker: &Waker) -> bool {
        if let Some(i) = self.position(*ticket) {
            self.queue[i].1.clone_from(waker);
            return false;
        }
        let woken = ticket.is_some();
        let t = self.next;
        self.next += 1;
        *ticket = Some(t);
        self.queue.push_back((t, waker.clone()));
        woken
    }

    /// Wakes the first waiter, giving its ticket.
    pub fn wake_one(&mut self) -> Option<u64> {
        let (t, w) = self.queue.pop_front()?;
        w.wake();
        Some(t)
    }

    /// Wakes every waiter.
    pub fn wake_all(&mut self) {
        for (_, w) in self.queue.drain(..) {
            w.wake();
        }
    }

    /// Forgets the waiter holding `ticket`; whether it was still waiting
    /// (not yet woken).
    pub fn leave(&mut self, ticket: Option<u64>) -> bool {
        match self.position(ticket) {
            Some(i) => {
                self.queue.remove(i);
                true
            }
            None => false,
        }
    }
}

fn closed_fault() -> Fault {
    Fault::new("send on a closed channel")
}

impl Channel {
    /// An empty channel.
    pub fn new(capacity: Option<usize>) -> Channel {
        Channel { values: Values::new(capacity), receivers: Side::default(), senders: Side::relay() }
    }

    /// Queues `value` if there is room; gives it back when the channel is
    /// full (the sender must wait: [`Waiting::send`]); a closed channel is
    /// a fault.
    pub fn send(&self, value: Portable) -> Result<Result<(), Portable>, Fault> {
        match self.values.push(value) {
            Ok(()) => {
                self.receivers.notify_one();
                Ok(Ok(()))
            }
            Err(PushError::Full(value)) => Ok(Err(value)),
            Err(PushError::Closed(_)) => Err(closed_fault()),
        }
    }

    /// Queues `value` if there is room and the channel is open, else gives
    /// it back.
    pub fn try_send(&self, value: Portable) -> Result<(), Portable> {
        match self.values.push(value) {
            Ok(()) => {
                self.receivers.notify_one();
                Ok(())
            }
            Err(PushError::Full(v) | PushError::Closed(v)) => Err(v),
        }
    }

    /// Waits for the next value (the channel was just found empty):
    /// `Some(v)`, or `None` once closed and drained.
    pub fn recv(self: Arc<Self>, option: u32) -> HostFuture {
        Box::pin(Waiting::recv(self, option).after_looking())
    }

    /// The next value if one is queued; `shared` makes the channel's own
    /// reference (see [`Channel::take`]).
    pub fn try_recv(&self, shared: impl FnOnce() -> HostRef) -> Option<Portable> {
        self.take(shared).flatten()
    }

    /// Takes the next value: `Some(Some(v))`, `Some(None)` once closed and
    /// drained, `None` while empty. Taking from a bounded channel owes its
    /// waiting senders a wake-up ([`owe`]; no sender of an unbounded
    /// channel ever waits), made with `shared`, the channel's reference.
    fn take(&self, shared: impl FnOnce() -> HostRef) -> Option<Option<Portable>> {
        match self.values.pop() {
            Ok(v) => {
                if self.values.bounded() {
                    owe(self, shared);
                }
                Some(Some(v))
            }
            Err(PopError::Closed) => Some(None),
            Err(PopError::Empty) => None,
        }
    }

    /// Closes the channel, waking everyone waiting on it.
    pub fn close(&self) {
        self.values.queue.close();
        self.receivers.notify_all();
        self.senders.notify_all();
    }

    /// Queued values, and whether it is closed.
    pub fn state(&self) -> (usize, bool) {
        (self.values.queue.len(), self.values.queue.is_closed())
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
    /// Its place among the waiters, once it has waited.
    ticket: Option<u64>,
    /// The channel was just found not ready: the first poll enlists
    /// before it looks again.
    looked: bool,
}

impl Waiting {
    /// A receive giving an `Option` of enum layout `option`.
    pub fn recv(channel: Arc<Channel>, option: u32) -> Waiting {
        Waiting { channel, op: Op::Recv(option), ticket: None, looked: false }
    }

    /// A send of `value`.
    pub fn send(channel: Arc<Channel>, value: Portable) -> Waiting {
        Waiting { channel, op: Op::Send(Some(value)), ticket: None, looked: false }
    }

    /// The same operation, for a caller that just found the channel not
    /// ready: its first poll enlists before it looks again.
    pub fn after_looking(mut self) -> Waiting {
        self.looked = true;
        self
    }

    /// One attempt: the outcome, or `Pending` (a send that found the
    /// channel full keeps its value; a receive found it empty).
    fn attempt(&mut self) -> Poll<Resume> {
        let channel = &self.channel;
        match &mut self.op {
            Op::Done => Poll::Ready(Resume::Fault(Fault::new("internal error: a channel operation polled twice"))),
            Op::Send(value) => {
                let Some(v) = value.take() else {
                    return Poll::Ready(Resume::Fault(Fault::new("internal error: a channel send without its value")));
                };
                match channel.send(v) {
                    Ok(Ok(())) => Poll::Ready(Resume::Value(Value::UNIT)),
                    Ok(Err(back)) => {
                        *value = Some(back);
                        Poll::Pending
                    }
                    Err(f) => Poll::Ready(Resume::Fault(f)),
                }
            }
            Op::Recv(option) => match channel.take(|| channel.clone()) {
                Some(got) => Poll::Ready(Resume::Option(*option, got)),
                None => Poll::Pending,
            },
        }
    }

    /// Comes back after a wake-up: a relay's runner owes the next one.
    fn back(&self) {
        let side = self.side();
        if side.relay {
            side.came_back();
            owe(&self.channel, || self.channel.clone());
        }
    }

    fn side(&self) -> &Side {
        match self.op {
            Op::Send(_) => &self.channel.senders,
            _ => &self.channel.receivers,
        }
    }
}

impl Future for Waiting {
    type Output = Resume;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Resume> {
        let this = self.get_mut();
        // Woken (its entry gone): back now, its ticket spent.
        if this.side().was_woken(this.ticket) {
            this.ticket = None;
            this.back();
        }
        let mut r = if std::mem::take(&mut this.looked) { Poll::Pending } else { this.attempt() };
        if r.is_pending() {
            let mut ticket = this.ticket;
            // Woken since the look above: back as well.
            if this.side().enlist(&mut ticket, cx.waker()) {
                this.back();
            }
            this.ticket = ticket;
            // Look again: the change may have come before the enlisting.
            r = this.attempt();
        }
        if r.is_ready() {
            let ticket = this.ticket.take();
            let side = this.side();
            // Its entry gone: it was woken while it looked again.
            if ticket.is_some() && !side.leave(ticket) {
                this.back();
            }
            this.op = Op::Done;
        }
        r
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let (Some(ticket), false) = (self.ticket, matches!(self.op, Op::Done)) else { return };
        let receiving = matches!(self.op, Op::Recv(_));
        let side = self.side();
        // Woken (its entry gone) but leaving without its turn: pass it on.
        if !side.leave(Some(ticket)) {
            side.came_back();
            let (len, closed) = self.channel.state();
            let ready = if receiving { len > 0 } else { !self.channel.values.is_full() };
            if ready || closed {
                side.notify_one();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(n: i64) -> Portable {
        Portable::Scalar(Value::int(n))
    }

    /// Two waiters enlisted on `side`, in order.
    fn two_waiting(side: &Side) -> (Option<u64>, Option<u64>) {
        let (mut a, mut b) = (None, None);
        side.enlist(&mut a, Waker::noop());
        side.enlist(&mut b, Waker::noop());
        (a, b)
    }

    fn value(p: Portable) -> i64 {
        match p {
            Portable::Scalar(v) => v.as_int(),
            _ => panic!("not a scalar"),
        }
    }

    #[test]
    fn a_counted_queue_is_full_at_exactly_its_capacity() {
        let values = Values::new(Some(FIXED_CAPACITY + 1));
        assert!(values.limit.is_some());
        for i in 0..=FIXED_CAPACITY as i64 {
            assert!(values.push(int(i)).is_ok());
        }
        assert!(values.is_full());
        assert!(matches!(values.push(int(-1)), Err(PushError::Full(_))));
        assert_eq!(values.pop().map(value), Ok(0));
        assert!(!values.is_full());
        assert!(values.push(int(-1)).is_ok());
        values.queue.close();
        assert!(matches!(values.push(int(-2)), Err(PushError::Closed(_))));
        let drained = std::iter::from_fn(|| values.pop().ok()).count();
        assert_eq!(drained, FIXED_CAPACITY + 1);
        assert_eq!(values.pop().map(value), Err(PopError::Closed));
    }

    #[test]
    fn woken_waiters_leave_without_the_lock_and_others_stay() {
        let side = Side::default();
        let waker = Waker::noop();
        let (mut a, b) = two_waiting(&side);
        assert_eq!(side.waiting.load(Ordering::Relaxed), 2);
        // Refreshing keeps the place.
        side.enlist(&mut a, waker);
        assert_eq!(a, Some(0));
        side.notify_one();
        // `a` was woken: it is no longer waiting; `b` still is.
        assert!(!side.leave(a));
        assert_eq!(side.waiting.load(Ordering::Relaxed), 1);
        assert!(side.leave(b));
        assert_eq!(side.waiting.load(Ordering::Relaxed), 0);
        // A waiter woken and waiting again goes to the back.
        side.enlist(&mut a, waker);
        assert_eq!(a, Some(2));
    }

    #[test]
    fn a_relay_wakes_the_next_waiter_only_once_the_woken_one_is_back() {
        let side = Side::relay();
        let (a, b) = two_waiting(&side);
        side.notify_one();
        assert!(side.was_woken(a) && !side.was_woken(b));
        // `a` has not come back: no second wake-up.
        side.notify_one();
        assert!(!side.was_woken(b));
        side.came_back();
        side.notify_one();
        assert!(side.was_woken(b));
    }

    #[test]
    fn a_take_owes_waiting_senders_a_wake_up_paid_when_the_poll_ends() {
        let channel = Arc::new(Channel::new(Some(1)));
        assert!(matches!(channel.send(int(1)), Ok(Ok(()))));
        let mut ticket = None;
        channel.senders.enlist(&mut ticket, Waker::noop());
        let shared = || -> HostRef { channel.clone() };
        assert_eq!(channel.try_recv(shared).map(value), Some(1));
        assert!(!channel.senders.was_woken(ticket));
        settle();
        assert!(channel.senders.was_woken(ticket));
        // Paid once: a sender waiting now is owed nothing until a take
        // (even once the first is back).
        channel.senders.came_back();
        let mut later = None;
        channel.senders.enlist(&mut later, Waker::noop());
        settle();
        assert!(!channel.senders.was_woken(later));
    }

    #[test]
    fn a_waiter_woken_while_it_enlists_again_is_back() {
        let side = Side::relay();
        let waker = Waker::noop();
        let (mut a, b) = two_waiting(&side);
        // Refreshing a waiting ticket is not a wake-up.
        assert!(!side.enlist(&mut a, waker));
        side.notify_one();
        // `a`, polled for another reason, refreshes its entry: it was
        // woken meanwhile, so it gets a new ticket and must count as back.
        assert!(side.enlist(&mut a, waker));
        assert_eq!(a, Some(2));
        side.came_back();
        side.notify_one();
        assert!(side.was_woken(b));
    }
}
