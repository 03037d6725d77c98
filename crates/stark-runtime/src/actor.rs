//! Actors: an actor is a task looping over its mailbox, handling one
//! message (or one batch) at a time. An `ask` carries a reply slot the
//! actor fills; the cell remembers the replies it owes, so that when a
//! handler traps those asks fail with the actor's failure instead of
//! waiting forever, and every accepted message is either handled or its
//! sender gets an error.

use crate::host::TaskHost;
use crate::mailbox::{Batching, Board, Envelope, Mailbox, Posting, Refused};
use crate::supervisor::Supervisor;
use crate::tasks::{self, TaskHandle};
use stark_vm::task::{HostFuture, Resume};
use stark_vm::transfer::Portable;
use stark_vm::trap::Fault;
use stark_vm::{Trap, Value};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// An actor's mailbox and state, shared by its references.
pub(crate) struct ActorCell {
    /// The actor's type, for messages and the profile.
    pub name: String,
    mailbox: Arc<Mailbox>,
    state: Mutex<CellState>,
    started: Instant,
    /// A model server's statistics (`serve`).
    pub serving: std::sync::OnceLock<Arc<crate::models::ServeStats>>,
    /// A model server's model (`serve`), for `stark serve`'s metadata.
    pub model: std::sync::OnceLock<stark_models::Model>,
}

/// An actor's counts, as `get_stats` and `/metrics` report them.
pub(crate) struct ActorNumbers {
    pub handled: i64,
    pub failed: i64,
    pub restarts: i64,
    pub mailbox_len: i64,
    pub mailbox_peak: i64,
    pub batches: i64,
    pub mean_batch: f64,
    /// Handling-time percentiles (50, 95, 99), in microseconds.
    pub latency_us: [i64; 3],
    pub uptime_ms: i64,
}

/// How a supervised actor is restarted after a failure.
pub(crate) struct Policy {
    /// The task body: build the state from the factory, run the loop.
    pub body: Portable,
    /// 0 `Permanent`, 1 `Transient`, 2 `Never` (a failure ends it).
    pub restart: u32,
    pub max_restarts: i64,
    pub window: Duration,
    /// When it was restarted lately.
    pub history: std::collections::VecDeque<Instant>,
}

/// What `get_stats` reports.
#[derive(Default)]
struct Stats {
    handled: i64,
    failed: i64,
    restarts: i64,
    batches: i64,
    batched: i64,
    /// Handling times of the recent messages.
    latencies: crate::latency::Latencies,
    /// When the message or batch being handled was taken, if its
    /// handling is timed ([`Stats::timed`]).
    taken: Option<Instant>,
    /// Messages or batches taken so far.
    takes: u64,
}

/// Every handling is timed until this many have been, then one in
/// [`TIME_EVERY`]: reading the clock twice per message was ~8% of an
/// actor round trip, and the percentiles are over a window of samples
/// anyway (`latency::WINDOW`).
const TIME_ALL_FIRST: u64 = 1024;
/// One handling in this many is timed past the first [`TIME_ALL_FIRST`].
const TIME_EVERY: u64 = 8;

impl Stats {
    /// Whether the handling of the message or batch taken now is timed
    /// (a batching actor's always is: its adaptive policy learns from it).
    fn timed(&mut self, batching: bool) -> bool {
        self.takes += 1;
        batching || self.takes <= TIME_ALL_FIRST || self.takes.is_multiple_of(TIME_EVERY)
    }
}

#[derive(Default)]
struct CellState {
    stats: Stats,
    /// Set for an actor spawned with a factory.
    policy: Option<Policy>,
    /// Set for an actor taking batches (`on_batch`).
    batching: Option<Batching>,
    /// The controller of an adaptive batch policy.
    adaptive: Option<crate::adaptive::Adaptive>,
    /// Messages still queued when the batch being handled was taken.
    backlog: usize,
    /// How long after the batch began gathering its last message arrived.
    late: Duration,
    /// The replies owed for the message or batch being handled, in order
    /// (`None` for a tell).
    owed: Vec<Option<Arc<Reply>>>,
    /// Why the actor stopped for good, once it has.
    stopped: Option<String>,
    /// The failure the next instance starts after (`on_restart`'s argument).
    failure: Option<String>,
    /// Why the supervisor is restarting a healthy instance.
    kill: Option<String>,
    /// Whether its task has ended.
    ended: bool,
    /// Who waits for the end (the program's shutdown).
    end_waiters: Vec<Waker>,
    /// The running instance.
    task: Option<Arc<TaskHandle>>,
    /// The supervisor it belongs to, if any.
    supervisor: Option<Weak<Supervisor>>,
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
    /// Gives the outcome (the first one counts) and wakes the asker, once
    /// the lock is released (the asker's first step is to take it).
    pub fn fill(&self, outcome: Result<Portable, Trap>) {
        let mut state = lock(&self.state);
        if state.outcome.is_none() {
            state.outcome = Some(outcome);
        }
        let asker = state.waker.take();
        drop(state);
        if let Some(w) = asker {
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

/// How an ask is sent: at a priority level, with an optional timeout, in
/// a place reserved by `try_ask` or not.
pub(crate) struct Asking {
    pub level: usize,
    pub timeout: Option<Duration>,
    pub reserved: bool,
}

impl ActorCell {
    /// A cell for an actor of type `name`, with a default mailbox.
    pub fn new(name: String, board: Arc<Board>) -> ActorCell {
        ActorCell {
            name,
            mailbox: Arc::new(Mailbox::new(board)),
            state: Mutex::new(CellState::default()),
            started: Instant::now(),
            serving: std::sync::OnceLock::new(),
            model: std::sync::OnceLock::new(),
        }
    }

    fn stopped_message(&self) -> Option<String> {
        lock(&self.state).stopped.as_ref().map(|why| format!("actor stopped: {} {why}", self.name))
    }

    fn closed_message(&self) -> String {
        self.stopped_message().unwrap_or_else(|| format!("actor stopped: {} was stopped", self.name))
    }

    /// Why an ask past `max_queue` was refused (`ask_with` reads the start).
    fn full_message(&self, queued: usize, limit: usize) -> String {
        format!(
            "queue full: {} has {queued} requests queued, its BatchPolicy.max_queue is {limit}; the request was refused",
            self.name
        )
    }

    /// Sends an ask: the reply to wait on, and the send still waiting
    /// for room in a full mailbox, if it is (see [`ActorCell::finish_post`]).
    pub fn ask(&self, message: Portable, how: Asking) -> (Arc<Reply>, Option<Posting>) {
        let reply = Arc::new(Reply::default());
        let e = Envelope::new(message, Some(reply.clone()), how.level, how.timeout);
        let posted = if how.reserved {
            self.mailbox.post_reserved(e).map(|()| None).map_err(|_| Refused::Closed)
        } else {
            self.mailbox.post(e)
        };
        match posted {
            Ok(None) => (reply, None),
            Ok(Some(waiting)) => (reply, Some(waiting)),
            Err(Refused::Closed) => {
                reply.fill(Err(Trap::bare(self.closed_message())));
                (reply, None)
            }
            Err(Refused::Full { queued, limit }) => {
                reply.fill(Err(Trap::bare(self.full_message(queued, limit))));
                (reply, None)
            }
        }
    }

    /// Finishes a send that waits for room (giving `reply`, for an ask):
    /// the reply fails if the actor stopped meanwhile.
    pub async fn finish_post(self: Arc<Self>, waiting: Posting, reply: Option<Arc<Reply>>) -> Resume {
        match (waiting.await, reply) {
            (Ok(()), Some(r)) => Resume::Moved(Portable::Host(r)),
            (Ok(()), None) => Resume::Value(Value::UNIT),
            (Err(_), Some(r)) => {
                r.fill(Err(Trap::bare(self.closed_message())));
                Resume::Moved(Portable::Host(r))
            }
            (Err(_), None) => Resume::Fault(Fault::new(self.closed_message())),
        }
    }

    /// Sends a message with no reply; the send still waiting while the
    /// mailbox is full (see [`ActorCell::finish_post`]).
    pub fn tell(&self, message: Portable) -> Result<Option<Posting>, Fault> {
        match self.mailbox.post(Envelope::new(message, None, crate::mailbox::NORMAL, None)) {
            Ok(None) => Ok(None),
            Ok(Some(waiting)) => Ok(Some(waiting)),
            Err(Refused::Closed) => Err(Fault::new(self.closed_message())),
            Err(Refused::Full { .. }) => Err(Fault::new("internal error: a tell was shed")),
        }
    }

    /// Promises a place for a `try_ask`.
    pub fn reserve(&self) -> bool {
        self.mailbox.reserve()
    }

    /// Sets the mailbox and batching from `ActorOptions`.
    pub fn configure(&self, capacity: usize, class: usize, batching: Option<Batching>, shed: usize) {
        self.mailbox.configure(capacity, class, shed, batching.is_some());
        let mut state = lock(&self.state);
        state.adaptive = batching.clone().filter(|b| b.adaptive).map(crate::adaptive::Adaptive::new);
        state.batching = batching;
    }

    /// How the next batch is gathered: the policy, or an adaptive policy's
    /// current size and delay.
    fn current_batching(&self) -> Option<Batching> {
        let state = lock(&self.state);
        state.adaptive.as_ref().map(|a| a.current()).or_else(|| state.batching.clone())
    }

    /// The batch size and delay batches are gathered with now (an adaptive
    /// policy's current ones); `None` for an actor without batches.
    pub fn effective_batching(&self) -> Option<(usize, Duration)> {
        let state = lock(&self.state);
        let fixed = || state.batching.as_ref().map(|b| (b.max_batch, b.max_delay));
        state.adaptive.as_ref().map(|a| a.effective()).or_else(fixed)
    }

    /// A batch of `n` was handled in `handling`, taken with `backlog`
    /// still queued and its last message `late` into its gathering: the
    /// adaptive controller learns from it.
    fn observe_batch(state: &mut CellState, n: usize, handling: Duration, backlog: usize, late: Duration) {
        if let Some(a) = state.adaptive.as_mut() {
            a.observe(n, handling, backlog, late);
        }
    }

    /// Whether the actor takes batches.
    pub fn batching(&self) -> bool {
        lock(&self.state).batching.is_some()
    }

    /// The actor's counts now.
    pub fn numbers(&self) -> ActorNumbers {
        let state = lock(&self.state);
        let s = &state.stats;
        let (len, peak) = self.mailbox.lengths();
        let pct = s.latencies.percentiles(&[0.5, 0.95, 0.99]);
        ActorNumbers {
            handled: s.handled,
            failed: s.failed,
            restarts: s.restarts,
            mailbox_len: len as i64,
            mailbox_peak: peak as i64,
            batches: s.batches,
            mean_batch: if s.batches == 0 { 0.0 } else { s.batched as f64 / s.batches as f64 },
            latency_us: [pct[0] as i64, pct[1] as i64, pct[2] as i64],
            uptime_ms: self.started.elapsed().as_millis() as i64,
        }
    }

    /// `ActorStats` (a record of layout `layout`, fields in declaration order).
    pub fn stats(&self, layout: u32) -> Portable {
        let n = self.numbers();
        let int = |v: i64| Portable::Scalar(Value::int(v));
        let fields = vec![
            int(n.handled),
            int(n.failed),
            int(n.restarts),
            int(n.mailbox_len),
            int(n.mailbox_peak),
            int(n.batches),
            Portable::Scalar(Value::f64(n.mean_batch)),
            int(n.latency_us[0]),
            int(n.latency_us[1]),
            int(n.latency_us[2]),
            int(n.uptime_ms),
        ];
        Portable::Record { layout, tag: 0, fields }
    }

    /// Whether the actor takes messages (it has not stopped).
    pub fn running(&self) -> bool {
        lock(&self.state).stopped.is_none() && !self.mailbox.is_closed()
    }

    /// One line of `--profile`'s actor table.
    pub fn profile_row(&self) -> String {
        let n = self.numbers();
        format!(
            "profile: actor {:<16} handled {:>9}  failed {:>5}  restarts {:>5}  mailbox peak {:>6}  p50/p95/p99 {}/{}/{} us  batches {}",
            self.name,
            n.handled,
            n.failed,
            n.restarts,
            n.mailbox_peak,
            n.latency_us[0],
            n.latency_us[1],
            n.latency_us[2],
            n.batches
        )
    }

    /// Stops taking messages; those queued are still handled.
    pub fn stop(&self) {
        self.mailbox.close();
    }

    /// The next message (or batch) for the actor's task, as an `Option`
    /// of enum layout `option` (of a `Vec` of layout `list` for a batch);
    /// remembers the replies it owes.
    pub fn recv(self: Arc<Self>, option: u32, list: Option<u32>) -> HostFuture {
        let batching = if list.is_some() { self.current_batching() } else { None };
        let mut receiving = self.mailbox.receive(batching);
        Box::pin(poll_fn(move |cx| {
            let Poll::Ready(got) = Pin::new(&mut receiving).poll(cx) else { return Poll::Pending };
            let Some(batch) = got else { return Poll::Ready(Resume::Option(option, None)) };
            // An instance its supervisor is stopping hands what it took to
            // the next one: a message posted after the kill (say, by an
            // asker who saw the failure that caused it) must not reach an
            // instance still running out its poll on another worker.
            let Some(mut batch) = self.take(batch) else {
                return Poll::Ready(Resume::Failed(Trap::bare("task cancelled")));
            };
            let value = match list {
                Some(layout) => Portable::List { layout, items: batch.into_iter().map(|e| e.message).collect() },
                None => batch.pop().map_or(Portable::Scalar(Value::UNIT), |e| e.message),
            };
            Poll::Ready(Resume::Option(option, Some(value)))
        }))
    }

    /// The next batch for a runtime-run actor (`serve`), carrying the
    /// replies it owes (several batches may be in flight at once); `None`
    /// once stopped and drained.
    pub async fn next_batch(self: &Arc<Self>) -> Option<Gathered> {
        let batch = self.mailbox.receive(self.current_batching()).await?;
        let (backlog, late) = (self.mailbox.backlog(), self.mailbox.late_arrival());
        let mut replies = Vec::with_capacity(batch.len());
        let messages = batch
            .into_iter()
            .map(|e| {
                replies.push(e.reply);
                (e.message, e.queued)
            })
            .collect();
        Some(Gathered { messages, owed: Owed { replies, backlog, late } })
    }

    /// Takes a batch to handle, remembering the replies owed (taken out of
    /// its envelopes); if the instance is being stopped so that a new one
    /// starts, puts the batch back for that one instead (and the instance
    /// ends).
    fn take(&self, mut batch: Vec<Envelope>) -> Option<Vec<Envelope>> {
        let (backlog, late) = (self.mailbox.backlog(), self.mailbox.late_arrival());
        let mut state = lock(&self.state);
        if state.kill.is_some() {
            drop(state);
            self.mailbox.put_back(batch);
            return None;
        }
        // `owed` keeps its capacity from one message to the next (`reply`).
        state.owed.clear();
        state.owed.extend(batch.iter_mut().map(|e| e.reply.take()));
        let batching = state.batching.is_some();
        state.stats.taken = state.stats.timed(batching).then(Instant::now);
        state.backlog = backlog;
        state.late = late;
        Some(batch)
    }

    /// Answers each ask of a gathered batch, which took `handling` to
    /// handle, with its own outcome (a runtime-run actor: the actor goes
    /// on either way).
    pub fn answer(&self, mut owed: Owed, handling: Duration, outcomes: Vec<Result<Portable, Trap>>) {
        {
            let mut state = lock(&self.state);
            let n = outcomes.len() as i64;
            let failed = outcomes.iter().filter(|o| o.is_err()).count() as i64;
            state.stats.handled += n - failed;
            state.stats.failed += failed;
            state.stats.batches += 1;
            state.stats.batched += n;
            state.stats.latencies.record(handling.as_micros() as u64, n as usize);
            ActorCell::observe_batch(&mut state, n as usize, handling, owed.backlog, owed.late);
        }
        for (r, o) in owed.replies.drain(..).zip(outcomes) {
            if let Some(r) = r {
                r.fill(o);
            }
        }
    }

    /// The answers to the message or batch being handled, in order.
    pub fn reply(&self, values: Vec<Portable>) -> Result<(), Fault> {
        let (one, many) = {
            let mut state = lock(&self.state);
            if values.len() != state.owed.len() {
                return Err(Fault::new(format!(
                    "on_batch of {} returned {} replies for {} messages",
                    self.name,
                    values.len(),
                    state.owed.len()
                )));
            }
            let n = values.len() as i64;
            state.stats.handled += n;
            if state.batching.is_some() {
                state.stats.batches += 1;
                state.stats.batched += n;
            }
            if let Some(t) = state.stats.taken.take() {
                let us = t.elapsed().as_micros() as u64;
                state.stats.latencies.record(us, n as usize);
                if state.batching.is_some() {
                    let (backlog, late) = (state.backlog, state.late);
                    ActorCell::observe_batch(&mut state, n as usize, t.elapsed(), backlog, late);
                }
            }
            // One reply (the common case) leaves `owed`'s allocation in place.
            if values.len() == 1 {
                (state.owed.pop(), Vec::new())
            } else {
                (None, std::mem::take(&mut state.owed))
            }
        };
        for (r, v) in one.into_iter().chain(many).zip(values) {
            if let Some(r) = r {
                r.fill(Ok(v));
            }
        }
        Ok(())
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

    /// Records the task running the current instance, as it starts (a
    /// restart asked for before it did is moot: it is a fresh instance).
    pub fn set_task(&self, task: Arc<TaskHandle>) {
        let mut state = lock(&self.state);
        state.task = Some(task);
        state.ended = false;
        state.kill = None;
    }

    /// Makes `supervisor` the actor's supervisor.
    pub fn set_supervisor(&self, supervisor: Weak<Supervisor>) {
        lock(&self.state).supervisor = Some(supervisor);
    }

    /// The actor's supervisor, if it has one still alive.
    pub fn supervisor(&self) -> Option<Arc<Supervisor>> {
        lock(&self.state).supervisor.as_ref().and_then(Weak::upgrade)
    }

    /// The failure the new instance starts after (taken: `on_restart` sees it once).
    pub fn take_failure(&self) -> Option<String> {
        lock(&self.state).failure.take()
    }

    /// Fails the replies owed with `why`.
    fn fail_owed(owed: Vec<Option<Arc<Reply>>>, why: &Trap) {
        for r in owed.into_iter().flatten() {
            r.fill(Err(why.clone()));
        }
    }

    /// After the instance's task ended with `trap`: whether a new
    /// instance starts (the supervisor is restarting it, or its policy
    /// allows one more restart within its window) or the actor stops.
    /// Queued messages wait for the new instance either way.
    fn restart(&self, trap: &Trap) -> After {
        let mut guard = lock(&self.state);
        let state = &mut *guard;
        let Some(policy) = state.policy.as_mut() else { return After::Stop };
        let body = policy.body.clone();
        if let Some(why) = state.kill.take() {
            state.stats.restarts += 1;
            return After::Killed(body, why);
        }
        state.stats.failed += 1;
        let now = Instant::now();
        let allowed = policy.restart != 2 && {
            while policy.history.front().is_some_and(|t| now.duration_since(*t) > policy.window) {
                policy.history.pop_front();
            }
            (policy.history.len() as i64) < policy.max_restarts
        };
        if !allowed {
            return After::Stop;
        }
        policy.history.push_back(now);
        state.stats.restarts += 1;
        state.failure = Some(format!("actor {} failed: {}", self.name, trap.message));
        After::Restart(body)
    }

    /// Takes the replies owed for what the instance was handling.
    fn take_owed(&self) -> Vec<Option<Arc<Reply>>> {
        std::mem::take(&mut lock(&self.state).owed)
    }

    /// The actor stops for good after a failure: every queued ask fails,
    /// and later messages are refused.
    pub fn fail(&self, trap: &Trap) {
        let why = format!("(failed: {})", trap.message);
        {
            let mut state = lock(&self.state);
            state.stopped = Some(why.clone());
            if state.policy.is_none() {
                state.stats.failed += 1;
            }
        }
        self.mailbox.close();
        let stopped = Trap::bare(format!("actor stopped: {} {why}", self.name));
        for e in self.mailbox.drain() {
            if let Some(r) = e.reply {
                r.fill(Err(stopped.clone()));
            }
        }
    }

    /// Brings the actor back with fresh restart limits: the body to start.
    pub fn revive(&self) -> Option<Portable> {
        let mut state = lock(&self.state);
        let policy = state.policy.as_mut()?;
        policy.history.clear();
        let body = policy.body.clone();
        state.stopped = None;
        drop(state);
        self.mailbox.reopen();
        Some(body)
    }

    /// Stops the running instance so that it starts again from its
    /// factory (its supervisor restarts it with a sibling); gives the body
    /// to start at once when the actor had stopped after failing.
    pub fn kill(&self, why: &str) -> Option<Portable> {
        let mut state = lock(&self.state);
        if state.stopped.is_some() {
            drop(state);
            return self.revive();
        }
        if !state.ended && state.policy.is_some() {
            state.kill = Some(why.to_string());
            if let Some(t) = &state.task {
                t.cancel();
            }
        }
        None
    }
}

/// A batch a runtime-run actor took: the messages, each with when it was
/// queued, and what is owed for them.
pub(crate) struct Gathered {
    pub messages: Vec<(Portable, Option<Instant>)>,
    pub owed: Owed,
}

/// The replies owed for a gathered batch (`None` for a tell), and what the
/// adaptive policy learns from it: the backlog when it was taken, and how
/// late in its gathering its last message arrived.
pub(crate) struct Owed {
    replies: Vec<Option<Arc<Reply>>>,
    backlog: usize,
    late: Duration,
}

impl Drop for Owed {
    /// A batch dropped unanswered (a bug) still answers its askers.
    fn drop(&mut self) {
        let lost = Trap::bare("internal error: a batch was dropped unanswered (a bug)");
        for r in self.replies.drain(..).flatten() {
            r.fill(Err(lost.clone()));
        }
    }
}

/// What follows an instance's failure.
enum After {
    /// A new instance from the factory, the policy allowing.
    Restart(Portable),
    /// A new instance: the supervisor stopped this one, for this reason.
    Killed(Portable, String),
    /// The actor stops for good (or its supervisor gives up).
    Stop,
}

/// The task of actor `cell` ended with `trap`: a new instance starts if
/// its supervisor is restarting it or its policy allows (and the
/// supervisor restarts the siblings its strategy names); else the
/// supervisor may give up (its parent brings everything back), or the
/// actor stops for good. The asks being handled fail last, so that an
/// asker who sees the failure finds the restarts already under way.
pub(crate) fn actor_failed(host: &TaskHost, cell: Arc<ActorCell>, trap: &Trap) {
    let supervisor = cell.supervisor();
    let owed = cell.take_owed();
    let failure = Trap { message: format!("actor {} failed: {}", cell.name, trap.message), ..trap.clone() };
    match cell.restart(trap) {
        After::Restart(body) => {
            tasks::spawn_actor(host, cell.clone(), body);
            if let Some(s) = supervisor {
                s.actor_restarting(&cell, trap, host);
            }
            ActorCell::fail_owed(owed, &failure);
        }
        After::Killed(body, why) => {
            tasks::spawn_actor(host, cell.clone(), body);
            ActorCell::fail_owed(owed, &Trap::bare(format!("actor {} was restarted: {why}", cell.name)));
        }
        After::Stop => {
            if !supervisor.is_some_and(|s| s.give_up(&cell, trap, host)) {
                cell.fail(trap);
                cell.ended();
            }
            ActorCell::fail_owed(owed, &failure);
        }
    }
}
