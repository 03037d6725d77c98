//! Spawned tasks: each is a VM task on the scheduler, with a handle its
//! joiners wait on. Its result moves to the joiner's heap; a trap ends
//! only the task itself and is re-raised in whoever joins it.

use crate::actor::ActorCell;
use crate::host::{Shared, TaskHost};
use crate::FUEL;
use stark_vm::heap::HostRef;
use stark_vm::program::Slot;
use stark_vm::task::{Resume, Task};
use stark_vm::transfer::{self, Portable};
use stark_vm::{Trap, Value};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A running or finished task, as its `Task<T>` values see it.
pub(crate) struct TaskHandle {
    state: Mutex<State>,
    /// Set once the task is asked to stop (read on every poll, so not
    /// behind the lock).
    cancelled: AtomicBool,
    /// The kind of the task's result (how it moves to the joiner).
    result: Slot,
}

struct State {
    stage: Stage,
    /// Who waits for the end.
    joiners: Vec<Waker>,
    /// The task's own waker, to wake it when it is cancelled.
    waker: Option<Waker>,
}

/// Where a task is in its life.
enum Stage {
    /// Spawned, not yet run: the body it will run. The VM task is made
    /// only when it first runs, so a queued task holds no more than this.
    Queued(Portable),
    Running,
    /// Ended: the outcome, until a joiner takes it.
    Ended(Result<Portable, Box<Trap>>),
    /// Ended, and the outcome taken.
    Joined,
}

impl TaskHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the task has ended.
    pub fn finished(&self) -> bool {
        self.lock().ended()
    }

    /// Asks the task to stop the next time it is polled.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        // The waker stays: `drive` registers a waker only when it changes.
        if let Some(w) = &self.lock().waker {
            w.wake_by_ref();
        }
    }

    /// The body to run, if the task has not started yet (it starts now).
    fn start(&self) -> Option<Portable> {
        let mut state = self.lock();
        match std::mem::replace(&mut state.stage, Stage::Running) {
            Stage::Queued(body) => Some(body),
            other => {
                state.stage = other;
                None
            }
        }
    }

    fn finish(&self, outcome: Result<Portable, Trap>) {
        let mut state = self.lock();
        state.stage = Stage::Ended(outcome.map_err(Box::new));
        for w in state.joiners.drain(..) {
            w.wake();
        }
    }
}

impl State {
    fn ended(&self) -> bool {
        matches!(self.stage, Stage::Ended(_) | Stage::Joined)
    }
}

/// Starts a task running the function value `body`.
pub(crate) fn spawn(host: &TaskHost, body: Portable, result: Slot) -> HostRef {
    spawn_task(host, body, result, None)
}

/// Starts an instance of actor `cell`: a task running `body` (which
/// builds the state and runs the actor's loop), whose failure fails or
/// restarts the actor.
pub(crate) fn spawn_actor(host: &TaskHost, cell: Arc<ActorCell>, body: Portable) {
    let unit = Slot::Scalar(stark_vm::NumTy::Unit);
    spawn_task(host, body, unit, Some(cell));
}

fn spawn_task(host: &TaskHost, body: Portable, result: Slot, actor: Option<Arc<ActorCell>>) -> Arc<TaskHandle> {
    let state = State { stage: Stage::Queued(body), joiners: Vec::new(), waker: None };
    let handle = Arc::new(TaskHandle { state: Mutex::new(state), cancelled: AtomicBool::new(false), result });
    let own = TaskHost { shared: host.shared.clone(), actor };
    host.shared.runtime.spawn(Spawned::Queued { handle: handle.clone(), host: own });
    handle
}

/// What the scheduler holds for a spawned task. While it is queued that
/// is two pointers and its handle (which holds the body), so tokio's
/// cache-line-aligned task cell takes 128 bytes, not 256: a million
/// queued tasks are that much less fresh memory for the kernel to zero.
/// The running state, VM task included, is one allocation made when the
/// task first runs.
enum Spawned {
    Queued {
        handle: Arc<TaskHandle>,
        host: TaskHost,
    },
    /// (`None` only for the moment the queued state moves.)
    Running(Option<Pin<Box<dyn Future<Output = ()> + Send>>>),
}

// tokio's cell is 128 bytes only while the future is at most 24.
const _: () = assert!(std::mem::size_of::<Spawned>() <= 24);

impl Future for Spawned {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Spawned::Queued { .. } = this {
            if let Spawned::Queued { handle, host } = std::mem::replace(this, Spawned::Running(None)) {
                // A task its joiner already ran (`join`) has nothing left to do.
                if let Some(body) = handle.start() {
                    *this = Spawned::Running(Some(Box::pin(run(handle, host, body))));
                }
            }
        }
        match this {
            Spawned::Running(Some(run)) => run.as_mut().poll(cx),
            _ => Poll::Ready(()),
        }
    }
}

/// Runs a spawned task from its start to its end, leaving the outcome
/// in its handle.
async fn run(mine: Arc<TaskHandle>, mut host: TaskHost, body: Portable) {
    let program = host.shared.program.clone();
    let mut task = match &host.shared.checked {
        Ok(checked) => Task::spawned_checked(checked, body),
        Err(_) => Task::spawned(program.clone(), body),
    };
    if let Some(cell) = &host.actor {
        cell.set_task(mine.clone());
    }
    let outcome = match drive(&mut task, &mut host, Some(&mine)).await {
        Ok(v) => transfer::export(&mut task.heap, &program, v, mine.result).map_err(|f| Trap::bare(f.0)),
        Err(t) => {
            if let Some(cell) = host.actor.take() {
                crate::actor::actor_failed(&host, cell, &t);
            }
            Err(t)
        }
    };
    if let Some(actor) = &host.actor {
        actor.ended();
    }
    mine.finish(outcome);
}

/// Polls a VM task to its end (a cancelled one ends with a trap).
pub(crate) async fn drive(task: &mut Task, host: &mut TaskHost, handle: Option<&TaskHandle>) -> Result<Value, Trap> {
    let timed = host.shared.profile.enabled;
    let born = timed.then(Instant::now);
    let mut running = Duration::ZERO;
    host.shared.profile.started();
    // The waker last given to the handle: the lock is taken only when it changes.
    let mut registered: Option<Waker> = None;
    let result = poll_fn(|cx| {
        if let Some(h) = handle {
            if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                h.lock().waker = Some(cx.waker().clone());
                registered = Some(cx.waker().clone());
            }
            // Checked after the waker is registered, so a cancel between
            // the two still wakes this task.
            if h.cancelled.load(Ordering::SeqCst) {
                return Poll::Ready(Err(Trap::bare("task cancelled")));
            }
        }
        let start = timed.then(Instant::now);
        // A Rust panic in the VM is a bug; it still ends only this task,
        // as a trap its joiner sees, never a hang.
        let poll = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task.poll(host, cx, FUEL)))
            .unwrap_or_else(|_| Poll::Ready(Err(Trap::bare("internal error: the VM panicked (a bug)"))));
        crate::channel::settle();
        if let Some(start) = start {
            running += start.elapsed();
        }
        poll
    })
    .await;
    host.shared.profile.ended(born.map_or(Duration::ZERO, |b| b.elapsed()), running);
    if timed {
        let name = match &host.actor {
            Some(actor) => format!("actor {}", actor.name),
            None => task.name().to_string(),
        };
        host.shared.profile.heap(&name, task.heap_figures());
    }
    result
}

impl TaskHandle {
    /// The task's outcome once it has ended (taken: a task is joined once).
    fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Result<Portable, Trap>> {
        let mut state = self.lock();
        if !state.ended() {
            state.joiners.push(cx.waker().clone());
            return Poll::Pending;
        }
        Poll::Ready(match std::mem::replace(&mut state.stage, Stage::Joined) {
            Stage::Ended(outcome) => outcome.map_err(|t| *t),
            _ => Err(Trap::bare("the task was already joined")),
        })
    }

    /// Joining, polled: the result moves to the joiner, or the failure is re-raised.
    pub fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Resume> {
        self.poll_outcome(cx).map(|o| match o {
            Ok(p) => Resume::Moved(p),
            Err(t) => Resume::Failed(t),
        })
    }
}

/// Waits for a task's end and takes its outcome. A task that has not
/// started yet is run here, inside the joiner's poll, rather than waited
/// for (the "help first" join of fork-join schedulers): the joiner would
/// only wait, the task costs no scheduling round trip, and a tree of
/// spawns and joins then runs depth first, keeping few tasks alive.
async fn outcome(shared: &Arc<Shared>, handle: &Arc<TaskHandle>) -> Result<Portable, Trap> {
    if HELPING.get() < MAX_HELPING {
        if let Some(body) = handle.start() {
            let host = TaskHost { shared: shared.clone(), actor: None };
            Helping { run: Some(Box::pin(run(handle.clone(), host, body))), shared: shared.clone() }.await;
        }
    }
    wait(handle).await
}

/// Waits for a task's end and takes its outcome.
async fn wait(handle: &TaskHandle) -> Result<Portable, Trap> {
    poll_fn(|cx| handle.poll_outcome(cx)).await
}

thread_local! {
    /// How many joined tasks this thread is running inside one another now.
    static HELPING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// How deep joined tasks run inside their joiners: each level is a few
/// frames of the Rust stack, so a deeper chain of joins waits instead.
const MAX_HELPING: u32 = 16;

/// A joined task run in its joiner, counted in [`HELPING`] while polled.
/// Dropped unfinished (its joiner was cancelled or failed), it goes on
/// as a task of its own, as it would have if it had not been joined.
struct Helping {
    run: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    shared: Arc<Shared>,
}

impl Future for Helping {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(run) = &mut self.run else { return Poll::Ready(()) };
        HELPING.set(HELPING.get() + 1);
        let poll = run.as_mut().poll(cx);
        HELPING.set(HELPING.get() - 1);
        if poll.is_ready() {
            self.run = None;
        }
        poll
    }
}

impl Drop for Helping {
    fn drop(&mut self) {
        if let Some(run) = self.run.take() {
            self.shared.runtime.spawn(run);
        }
    }
}

/// Waits for a task's end: its result moves here, or its trap is re-raised.
pub(crate) async fn join(shared: Arc<Shared>, handle: Arc<TaskHandle>) -> Resume {
    resume(outcome(&shared, &handle).await)
}

/// A task's outcome as its joiner resumes with it.
fn resume(outcome: Result<Portable, Trap>) -> Resume {
    match outcome {
        Ok(p) => Resume::Moved(p),
        Err(t) => Resume::Failed(t),
    }
}

/// `Task::result`: `Ok(value)` or `Err(TaskError)` (the failure's message).
pub(crate) async fn join_result(shared: Arc<Shared>, handle: Arc<TaskHandle>, result: u32) -> Resume {
    Resume::Moved(match outcome(&shared, &handle).await {
        Ok(p) => Portable::Record { layout: result, tag: 0, fields: vec![p] },
        Err(t) => Portable::Record { layout: result, tag: 1, fields: vec![Portable::Str(failure_message(&t))] },
    })
}

/// What a `TaskError` says: the trap's message and where it happened.
fn failure_message(t: &Trap) -> String {
    let here = match t.frames.first() {
        Some(f) => format!("{} (at {}:{})", t.message, f.file, f.line),
        None => t.message.clone(),
    };
    match &t.cause {
        Some(cause) => format!("{here}: {}", failure_message(cause)),
        None => here,
    }
}

/// `join_all`: every result in order; the first failure is re-raised.
pub(crate) async fn join_all(handles: Vec<Arc<TaskHandle>>, list: u32) -> Resume {
    let mut results: Vec<Option<Portable>> = handles.iter().map(|_| None).collect();
    let failure = poll_fn(|cx| {
        let mut pending = false;
        for (h, slot) in handles.iter().zip(results.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            match h.poll_outcome(cx) {
                Poll::Ready(Ok(p)) => *slot = Some(p),
                // The first failure ends the wait at once.
                Poll::Ready(Err(t)) => return Poll::Ready(Some(t)),
                Poll::Pending => pending = true,
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    })
    .await;
    if let Some(t) = failure {
        handles.iter().for_each(|h| h.cancel());
        return Resume::Failed(t);
    }
    Resume::Moved(Portable::List { layout: list, items: results.into_iter().flatten().collect() })
}

/// `race`: the first task to end gives the result; the rest are cancelled.
pub(crate) async fn race(handles: Vec<Arc<TaskHandle>>) -> Resume {
    let winner = poll_fn(|cx| {
        for (i, h) in handles.iter().enumerate() {
            let mut state = h.lock();
            if state.ended() {
                return Poll::Ready(i);
            }
            state.joiners.push(cx.waker().clone());
        }
        Poll::Pending
    })
    .await;
    for (i, h) in handles.iter().enumerate() {
        if i != winner {
            h.cancel();
        }
    }
    resume(wait(&handles[winner]).await)
}

/// `timeout`: the task's result, or `Err(Timeout)` once `limit` has passed.
pub(crate) async fn timeout(handle: Arc<TaskHandle>, limit: std::time::Duration, result: u32) -> Resume {
    match tokio::time::timeout(limit, wait(&handle)).await {
        Ok(Ok(p)) => Resume::Moved(Portable::Record { layout: result, tag: 0, fields: vec![p] }),
        Ok(Err(t)) => Resume::Failed(t),
        Err(_) => {
            handle.cancel();
            let message = format!("timed out after {} ms", limit.as_millis());
            Resume::Moved(Portable::Record { layout: result, tag: 1, fields: vec![Portable::Str(message)] })
        }
    }
}
