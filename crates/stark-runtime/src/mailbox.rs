//! An actor's mailbox: four priority levels served highest first (FIFO
//! within a level) under one capacity, so a sender waits while it is full
//! (back-pressure); deadlines after which a request still queued is taken
//! out and failed; reservations (`try_ask`); and batches (`on_batch`).
//! One receiver, the actor's task, waits on it; senders wait wake-one.

use crate::actor::Reply;
use crate::channel::Waiters;
use stark_vm::transfer::Portable;
use stark_vm::Trap;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Priority levels, `Priority::Critical` (0) to `Low` (3).
pub(crate) const LEVELS: usize = 4;
/// `Priority::Normal`.
pub(crate) const NORMAL: usize = 2;
/// QoS classes, `QoS::Realtime` (0) to `Background` (3).
pub(crate) const CLASSES: usize = 4;
/// `QoS::UserFacing`.
pub(crate) const USER_FACING: usize = 1;
/// How many times in a row an actor defers to busier classes before it
/// takes its message anyway (a preference, never starvation).
const MAX_DEFER: u32 = 16;

/// What a request that timed out in the mailbox fails with; `ask_with`
/// turns it into `AskError::Timeout`.
pub(crate) const TIMED_OUT: &str = "timed out: the request waited in the mailbox past its deadline";

/// A queued message.
pub(crate) struct Envelope {
    pub message: Portable,
    /// The reply slot of an ask (none for a tell).
    pub reply: Option<Arc<Reply>>,
    /// When a request still queued is failed with a timeout.
    pub deadline: Option<Instant>,
    /// When it was queued (a batch waits at most `max_delay` from its
    /// oldest): read from the clock only for a request with a timeout or
    /// a batching mailbox, the only ones that look at it.
    pub queued: Option<Instant>,
    /// Its priority level.
    pub level: usize,
}

impl Envelope {
    /// A message to queue at `level`, timing out after `timeout`.
    pub fn new(message: Portable, reply: Option<Arc<Reply>>, level: usize, timeout: Option<Duration>) -> Envelope {
        let queued = timeout.map(|_| Instant::now());
        let deadline = queued.zip(timeout).map(|(q, t)| q + t);
        Envelope { message, reply, deadline, queued, level: level.min(LEVELS - 1) }
    }
}

/// Why a message was not queued.
pub(crate) enum Refused {
    /// The mailbox takes no more messages.
    Closed,
    /// An ask past `max_queue`: `queued` requests wait, the limit is `limit`.
    Full { queued: usize, limit: usize },
}

/// When the actor takes a batch instead of one message (`BatchPolicy`).
#[derive(Clone, Debug)]
pub(crate) struct Batching {
    pub max_batch: usize,
    pub max_delay: Duration,
    /// Sizes at which a batch runs at once when nothing more is queued.
    pub preferred: Vec<usize>,
    /// Whether the size and delay are tuned online within these bounds.
    pub adaptive: bool,
}

/// Messages queued per QoS class over every mailbox of a run: an actor of
/// a lower class defers to a higher class that has work. A class is
/// counted only while some actor of a lower class could defer to it: the
/// counts are atomics every worker writes, a cost not paid when all
/// actors share one class.
#[derive(Default)]
pub(crate) struct Board {
    queued: [AtomicI64; CLASSES],
    /// The lowest class (the highest number) of any mailbox so far.
    lowest: AtomicUsize,
}

impl Board {
    fn busier_than(&self, class: usize) -> bool {
        self.queued[..class].iter().any(|q| q.load(Relaxed) > 0)
    }

    /// Notes a mailbox of `class`.
    fn enrol(&self, class: usize) {
        self.lowest.fetch_max(class, Relaxed);
    }

    /// `n` messages of `inner`'s class were queued.
    fn count_in(&self, inner: &mut Inner, n: usize) {
        if inner.class < self.lowest.load(Relaxed) && n > 0 {
            inner.counted += n;
            self.queued[inner.class].fetch_add(n as i64, Relaxed);
        }
    }

    /// `n` messages of `inner`'s class left the queue.
    fn count_out(&self, inner: &mut Inner, n: usize) {
        let n = n.min(inner.counted);
        if n > 0 {
            inner.counted -= n;
            self.queued[inner.class].fetch_sub(n as i64, Relaxed);
        }
    }
}

/// The mailbox.
pub(crate) struct Mailbox {
    inner: Mutex<Inner>,
    /// Messages still queued when the last message or batch was taken.
    backlog: AtomicUsize,
    /// How long after that batch began gathering its last message arrived (µs).
    late: AtomicU64,
    board: Arc<Board>,
}

struct Inner {
    levels: [VecDeque<Envelope>; LEVELS],
    len: usize,
    /// Places promised to `try_ask` callers that have not sent yet.
    reserved: usize,
    capacity: usize,
    /// Where `try_ask` stops (a batching actor's `max_queue`).
    shed: usize,
    class: usize,
    closed: bool,
    peak: usize,
    /// Whether each message notes when it was queued (a batching actor).
    stamps: bool,
    /// How many of the queued messages the board counts.
    counted: usize,
    receiver: Option<Waker>,
    senders: Waiters,
}

impl Inner {
    fn has_room(&self) -> bool {
        self.len + self.reserved < self.capacity
    }
}

impl Mailbox {
    /// An empty mailbox of `ActorOptions::default()`'s capacity and class.
    pub fn new(board: Arc<Board>) -> Mailbox {
        let inner = Inner {
            levels: Default::default(),
            len: 0,
            reserved: 0,
            capacity: 1024,
            shed: usize::MAX,
            class: USER_FACING,
            closed: false,
            peak: 0,
            stamps: false,
            counted: 0,
            receiver: None,
            senders: Waiters::default(),
        };
        board.enrol(USER_FACING);
        Mailbox { inner: Mutex::new(inner), backlog: AtomicUsize::new(0), late: AtomicU64::new(0), board }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the capacity, the QoS class, `try_ask`'s limit and whether
    /// batches are taken (before any message).
    pub fn configure(&self, capacity: usize, class: usize, shed: usize, batching: bool) {
        let mut inner = self.lock();
        inner.stamps = batching;
        inner.capacity = capacity.max(1);
        inner.class = class.min(CLASSES - 1);
        self.board.enrol(inner.class);
        inner.shed = shed;
    }

    /// Queues a message (room is known); gives the waiting receiver, to
    /// wake once the lock is released (woken under it, on another worker
    /// it would first wait for this lock).
    #[must_use]
    fn push(&self, inner: &mut Inner, mut e: Envelope) -> Option<Waker> {
        if inner.stamps && e.queued.is_none() {
            e.queued = Some(Instant::now());
        }
        inner.levels[e.level].push_back(e);
        inner.len += 1;
        inner.peak = inner.peak.max(inner.len);
        self.board.count_in(inner, 1);
        inner.receiver.take()
    }

    /// [`Mailbox::push`], then releases the lock and wakes the receiver.
    fn push_then_wake(&self, mut inner: MutexGuard<'_, Inner>, e: Envelope) {
        let receiver = self.push(&mut inner, e);
        drop(inner);
        if let Some(w) = receiver {
            w.wake();
        }
    }

    /// Queues `e`, or gives a future that does once there is room; gives
    /// why not if the mailbox is closed, or if `e` is an ask and the
    /// queue is at its `max_queue` (load shedding: it is refused at once).
    pub fn post(self: &Arc<Self>, e: Envelope) -> Result<Option<Posting>, Refused> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(Refused::Closed);
        }
        if e.reply.is_some() && inner.shed != usize::MAX && inner.len + inner.reserved >= inner.shed {
            let expired = purge(&mut inner, &self.board);
            let full = inner.len + inner.reserved >= inner.shed;
            let (queued, limit) = (inner.len, inner.shed);
            drop(inner);
            fail_expired(expired);
            if full {
                return Err(Refused::Full { queued, limit });
            }
            return self.post(e);
        }
        if inner.has_room() {
            self.push_then_wake(inner, e);
            return Ok(None);
        }
        drop(inner);
        Ok(Some(Posting { mailbox: self.clone(), envelope: Some(e), ticket: None }))
    }

    /// Promises a place to a `try_ask`; false when the mailbox is full.
    pub fn reserve(&self) -> bool {
        let mut inner = self.lock();
        let expired = purge(&mut inner, &self.board);
        // A closed mailbox "reserves" too: the ask then fails at once
        // with the reason the actor stopped, not with `MailboxFull`.
        let ok = inner.closed || (inner.has_room() && inner.len + inner.reserved < inner.shed);
        if ok {
            inner.reserved += 1;
        }
        drop(inner);
        fail_expired(expired);
        ok
    }

    /// Queues `e` in a place reserved before; gives it back if closed.
    pub fn post_reserved(&self, e: Envelope) -> Result<(), Envelope> {
        let mut inner = self.lock();
        inner.reserved = inner.reserved.saturating_sub(1);
        if inner.closed {
            inner.senders.wake_one();
            return Err(e);
        }
        self.push_then_wake(inner, e);
        Ok(())
    }

    /// Waits for the next message (or batch, under `batching`); `None`
    /// once the mailbox is closed and drained.
    pub fn receive(self: &Arc<Self>, batching: Option<Batching>) -> Receiving {
        Receiving { mailbox: self.clone(), batching, batch: Vec::new(), started: None, timer: None, deferred: 0 }
    }

    /// Whether the mailbox takes no more messages.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Stops taking messages; those queued can still be received.
    pub fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.senders.wake_all();
        if let Some(w) = inner.receiver.take() {
            w.wake();
        }
    }

    /// Takes messages again (an actor brought back by its supervisor).
    pub fn reopen(&self) {
        self.lock().closed = false;
    }

    /// Takes every queued message out.
    pub fn drain(&self) -> Vec<Envelope> {
        let mut inner = self.lock();
        let mut out = Vec::with_capacity(inner.len);
        for level in inner.levels.iter_mut() {
            out.extend(level.drain(..));
        }
        self.board.count_out(&mut inner, out.len());
        inner.len = 0;
        inner.senders.wake_all();
        out
    }

    /// Messages that were still queued when the last message or batch was taken.
    pub fn backlog(&self) -> usize {
        self.backlog.load(Relaxed)
    }

    /// How long after the last batch began gathering its last message arrived.
    pub fn late_arrival(&self) -> Duration {
        Duration::from_micros(self.late.load(Relaxed))
    }

    /// Messages queued now, and the most ever queued at once.
    pub fn lengths(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.len, inner.peak)
    }

    /// Puts messages taken but not handled back at the front of their levels.
    pub fn put_back(&self, batch: Vec<Envelope>) {
        let mut inner = self.lock();
        let n = batch.len();
        for e in batch.into_iter().rev() {
            let level = e.level;
            inner.levels[level].push_front(e);
        }
        inner.len += n;
        self.board.count_in(&mut inner, n);
    }
}

/// Takes up to `max` messages into `out`, highest priority first, moving
/// expired requests to `expired`; wakes a sender per place freed.
fn take(inner: &mut Inner, board: &Board, max: usize, out: &mut Vec<Envelope>, expired: &mut Vec<Envelope>) {
    // The clock is read only if a message has a deadline (most have none).
    let mut now = None;
    // Room for what can be taken, not `Vec`'s first four: a one-message
    // receive allocated 352 bytes per message for one 88-byte envelope.
    if out.is_empty() {
        out.reserve_exact(max.min(inner.len));
    }
    let before = out.len() + expired.len();
    for level in inner.levels.iter_mut() {
        while out.len() < max {
            let Some(e) = level.pop_front() else { break };
            if e.deadline.is_some_and(|d| d <= *now.get_or_insert_with(Instant::now)) {
                expired.push(e);
            } else {
                out.push(e);
            }
        }
    }
    let n = out.len() + expired.len() - before;
    inner.len -= n;
    board.count_out(inner, n);
    for _ in 0..n {
        inner.senders.wake_one();
    }
}

/// Moves the requests of a batch being gathered whose deadline has
/// passed to `expired`: they fail with a timeout and are not computed.
fn expire_gathered(batch: &mut Vec<Envelope>, expired: &mut Vec<Envelope>) {
    // The clock is read only if a message has a deadline (most have none).
    if batch.iter().all(|e| e.deadline.is_none()) {
        return;
    }
    let now = Instant::now();
    if batch.iter().any(|e| e.deadline.is_some_and(|d| d <= now)) {
        let (gone, kept): (Vec<_>, Vec<_>) = batch.drain(..).partition(|e| e.deadline.is_some_and(|d| d <= now));
        *batch = kept;
        expired.extend(gone);
    }
}

/// Takes out every queued request whose deadline has passed.
fn purge(inner: &mut Inner, board: &Board) -> Vec<Envelope> {
    let now = Instant::now();
    let mut expired = Vec::new();
    for level in inner.levels.iter_mut() {
        if level.iter().any(|e| e.deadline.is_some_and(|d| d <= now)) {
            let (gone, kept): (Vec<_>, Vec<_>) = level.drain(..).partition(|e| e.deadline.is_some_and(|d| d <= now));
            *level = kept.into();
            expired.extend(gone);
        }
    }
    inner.len -= expired.len();
    board.count_out(inner, expired.len());
    expired
}

/// Fails the requests that timed out while queued.
fn fail_expired(expired: Vec<Envelope>) {
    for e in expired {
        if let Some(r) = e.reply {
            r.fill(Err(Trap::bare(TIMED_OUT)));
        }
    }
}

/// A send waiting for room. It leaves the waiters when dropped, passing
/// on a turn it was given but did not take.
pub(crate) struct Posting {
    mailbox: Arc<Mailbox>,
    envelope: Option<Envelope>,
    /// Its place among the waiting senders, once it has waited.
    ticket: Option<u64>,
}

impl Future for Posting {
    /// `Err` gives the message back: the mailbox closed meanwhile.
    type Output = Result<(), Envelope>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mailbox = this.mailbox.clone();
        let mut inner = mailbox.lock();
        let Some(e) = this.envelope.take() else { return Poll::Ready(Ok(())) };
        if inner.closed {
            inner.senders.leave(this.ticket);
            return Poll::Ready(Err(e));
        }
        let expired = if inner.has_room() { Vec::new() } else { purge(&mut inner, &mailbox.board) };
        let mut receiver = None;
        let r = if inner.has_room() {
            inner.senders.leave(this.ticket);
            receiver = mailbox.push(&mut inner, e);
            if inner.has_room() {
                inner.senders.wake_one();
            }
            Poll::Ready(Ok(()))
        } else {
            inner.senders.enlist(&mut this.ticket, cx.waker());
            this.envelope = Some(e);
            Poll::Pending
        };
        drop(inner);
        if let Some(w) = receiver {
            w.wake();
        }
        fail_expired(expired);
        r
    }
}

impl Drop for Posting {
    fn drop(&mut self) {
        if self.envelope.is_none() || self.ticket.is_none() {
            return;
        }
        let mut inner = self.mailbox.lock();
        if !inner.senders.leave(self.ticket) && (inner.has_room() || inner.closed) {
            inner.senders.wake_one();
        }
    }
}

/// The actor waiting for its next message or batch.
pub(crate) struct Receiving {
    mailbox: Arc<Mailbox>,
    batching: Option<Batching>,
    /// A batch being gathered.
    batch: Vec<Envelope>,
    /// When the batch being gathered took its first message.
    started: Option<Instant>,
    /// Wakes the gathering when the batch's delay is up.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Turns given in a row to busier QoS classes.
    deferred: u32,
}

impl Receiving {
    /// How long after the batch began gathering its last message arrived
    /// (zero if every message was queued before).
    fn last_arrival(&self) -> Duration {
        let last = self.batch.iter().filter_map(|e| e.queued).max();
        match (self.started, last) {
            (Some(s), Some(l)) => l.saturating_duration_since(s),
            _ => Duration::ZERO,
        }
    }

    /// Whether the batch gathered so far should run now.
    fn batch_ready(&mut self, inner: &Inner, cx: &mut Context<'_>) -> bool {
        let Some(b) = &self.batching else { return true };
        let n = self.batch.len();
        if n >= b.max_batch || inner.closed || (inner.len == 0 && b.preferred.contains(&n)) {
            return true;
        }
        let oldest = self.batch.iter().filter_map(|e| e.queued).min().unwrap_or_else(Instant::now);
        let due = oldest + b.max_delay;
        if Instant::now() >= due {
            return true;
        }
        let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due.into())));
        timer.as_mut().poll(cx).is_ready()
    }
}

impl Future for Receiving {
    type Output = Option<Vec<Envelope>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mailbox = this.mailbox.clone();
        let mut inner = mailbox.lock();
        if this.batch.is_empty() && inner.len > 0 && this.deferred < MAX_DEFER && mailbox.board.busier_than(inner.class)
        {
            this.deferred += 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let max = this.batching.as_ref().map_or(1, |b| b.max_batch.max(1));
        let mut expired = Vec::new();
        take(&mut inner, &mailbox.board, max, &mut this.batch, &mut expired);
        expire_gathered(&mut this.batch, &mut expired);
        if this.started.is_none() && !this.batch.is_empty() && this.batching.is_some() {
            this.started = Some(Instant::now());
        }
        let r = if this.batch.is_empty() {
            this.timer = None;
            this.started = None;
            if inner.closed {
                Poll::Ready(None)
            } else {
                inner.receiver = Some(cx.waker().clone());
                Poll::Pending
            }
        } else if this.batch_ready(&inner, cx) {
            mailbox.backlog.store(inner.len, Relaxed);
            mailbox.late.store(this.last_arrival().as_micros() as u64, Relaxed);
            this.started = None;
            this.deferred = 0;
            this.timer = None;
            Poll::Ready(Some(std::mem::take(&mut this.batch)))
        } else {
            inner.receiver = Some(cx.waker().clone());
            Poll::Pending
        };
        drop(inner);
        fail_expired(expired);
        r
    }
}

impl Drop for Receiving {
    /// A batch gathered by an actor stopped meanwhile goes back to the
    /// mailbox for the next instance.
    fn drop(&mut self) {
        if !self.batch.is_empty() {
            self.mailbox.put_back(std::mem::take(&mut self.batch));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stark_vm::Value;

    fn ask(n: i64, level: usize, timeout: Option<Duration>) -> Envelope {
        Envelope::new(Portable::Scalar(Value::int(n)), Some(Arc::new(Reply::default())), level, timeout)
    }

    fn numbers(batch: &[Envelope]) -> Vec<i64> {
        batch
            .iter()
            .map(|e| match &e.message {
                Portable::Scalar(v) => v.as_int(),
                _ => -1,
            })
            .collect()
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime").block_on(f)
    }

    fn posted(m: &Arc<Mailbox>, e: Envelope) {
        assert!(matches!(m.post(e), Ok(None)), "queued at once");
    }

    #[test]
    fn critical_requests_are_batched_first() {
        let m = Arc::new(Mailbox::new(Arc::default()));
        let batching = Batching { max_batch: 2, max_delay: Duration::ZERO, preferred: Vec::new(), adaptive: false };
        posted(&m, ask(1, 3, None));
        posted(&m, ask(2, NORMAL, None));
        posted(&m, ask(3, 0, None));
        posted(&m, ask(4, 0, None));
        let first = run(m.receive(Some(batching.clone()))).expect("a batch");
        assert_eq!(numbers(&first), vec![3, 4]);
        let second = run(m.receive(Some(batching))).expect("a batch");
        assert_eq!(numbers(&second), vec![2, 1]);
    }

    #[test]
    fn an_ask_past_max_queue_is_refused_and_a_tell_is_not() {
        let m = Arc::new(Mailbox::new(Arc::default()));
        m.configure(4, USER_FACING, 2, false);
        posted(&m, ask(1, NORMAL, None));
        posted(&m, ask(2, NORMAL, None));
        assert!(matches!(m.post(ask(3, NORMAL, None)), Err(Refused::Full { queued: 2, limit: 2 })));
        let tell = Envelope::new(Portable::Scalar(Value::int(4)), None, NORMAL, None);
        assert!(matches!(m.post(tell), Ok(None)), "a tell waits only at the capacity");
        assert_eq!(m.lengths().0, 3);
    }

    #[test]
    fn expired_requests_make_room_below_max_queue() {
        let m = Arc::new(Mailbox::new(Arc::default()));
        m.configure(4, USER_FACING, 1, false);
        posted(&m, ask(1, NORMAL, Some(Duration::ZERO)));
        posted(&m, ask(2, NORMAL, None));
        assert_eq!(m.lengths().0, 1, "the expired request was taken out");
    }
}
