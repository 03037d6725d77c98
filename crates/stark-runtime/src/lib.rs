//! `stark-runtime`: runs a compiled program. Every STARK task is a VM
//! [`Task`] polled as one tokio task: on tokio's multi-threaded scheduler
//! (one worker per core, or `threads`), or on one thread when `threads`
//! is 1, where the same program always runs the same way. A task that
//! waits on a timer, a channel or another task really suspends, and a
//! busy task yields every `FUEL` steps so none starves the others.

mod actor;
mod adaptive;
mod broadcast;
mod channel;
mod dataset;
mod host;
mod latency;
mod mailbox;
mod models;
mod net;
mod oip;
mod options;
mod profile;
mod select;
mod shared;
mod supervisor;
mod tasks;

pub use host::TaskHost;
pub use oip::Serving;

use stark_vm::program::{EntryKind, Program};
use stark_vm::task::{Host, Task};
use stark_vm::{Trap, Value};
use std::sync::Arc;

/// How many backward jumps and calls a task runs before it yields.
pub const FUEL: u32 = 100_000;

/// How a program ended.
#[derive(Debug)]
pub enum Outcome {
    /// `main` returned; the process exit status (PROC-EXIT-001).
    Exit(u8),
    /// A trap ended `main`.
    Trapped(Trap),
}

/// How to run a program.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Worker threads; 1 runs every task on the calling thread, in a
    /// deterministic order.
    pub threads: usize,
    /// Seeds `select`'s fair choice among ready arms (`None`: from the clock).
    pub seed: Option<u64>,
    /// Print the profile to standard error when the program ends.
    pub profile: bool,
    /// `stark serve`: once `main` returns, serve its registered models
    /// over HTTP until interrupted.
    pub serve: Option<Serving>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            seed: None,
            profile: false,
            serve: None,
        }
    }
}

/// How long a worker that ran out of work spins before it sleeps.
const SPIN_BEFORE_PARKING: std::time::Duration = std::time::Duration::from_micros(50);

/// Called by a worker about to sleep: it spins a moment first, as Go's
/// idle threads do. Two tasks passing messages back and forth run on one
/// worker, and tokio, every few hand-offs between them, asks a sleeping
/// worker to steal one; a worker that has just run out of work and is
/// still spinning is not woken (it is not asleep), so the pair is not
/// split across cores at the cost of a system call and two context
/// switches each time. It costs an idle worker 50 µs per sleep, and work
/// queued meanwhile waits at most that long for a second worker.
fn spin_before_parking() {
    let start = std::time::Instant::now();
    while start.elapsed() < SPIN_BEFORE_PARKING {
        std::hint::spin_loop();
    }
}

/// Runs `main` to completion and says how the program ended; standard
/// output is flushed before this returns.
pub fn run_main(program: Arc<Program>, config: Config) -> Outcome {
    let mut builder = if config.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(config.threads).on_thread_park(spin_before_parking);
        b
    };
    // Check the timers every few task polls, not tokio's default 61: a
    // poll can run a whole fuel slice, and sleepers must not wait for many.
    builder.event_interval(8).enable_time();
    // Without an I/O driver, that check is a clock read; with one, it is an
    // `epoll_wait` system call (a tenth of a message-passing program's time).
    if config.serve.is_some() || program.uses_network() {
        builder.enable_io();
    }
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => return Outcome::Trapped(Trap::bare(format!("cannot start the runtime: {e}"))),
    };
    let seed = config.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let mut host = TaskHost::new(program.clone(), runtime.handle().clone(), seed, config.profile);
    // `main` is a task on the scheduler like any other, so that waking it
    // and the tasks it talks to stays on the workers.
    let (prog, mut main_host) = (program.clone(), host.clone());
    let main = runtime.spawn(async move {
        let mut task = Task::new(prog.clone(), prog.entry, &[]);
        let result = tasks::drive(&mut task, &mut main_host, None).await;
        (task, result)
    });
    let mut joined = Some(runtime.block_on(main));
    // `stark serve`: a `main` that ended well leaves its servers serving.
    let served = config.serve.map(|serving| {
        let outcome = finish(&program, joined.take(), &mut host);
        host.flush();
        match outcome {
            Outcome::Exit(0) => match runtime.block_on(oip::serve(host.shared.clone(), serving)) {
                Ok(()) => Outcome::Exit(0),
                Err(e) => {
                    host.write(true, format!("error: {e}\n").as_bytes());
                    Outcome::Exit(1)
                }
            },
            other => other,
        }
    });
    // Graceful shutdown: the actors handle what is queued, run `on_stop`
    // and end (for at most a few seconds) before the program does.
    let actors: Vec<_> = host.shared.actors.lock().map(|a| a.clone()).unwrap_or_default();
    if !actors.is_empty() {
        actors.iter().for_each(|a| a.stop());
        let all = async move {
            for a in actors {
                a.wait_end().await;
            }
        };
        let _ = runtime.block_on(async { tokio::time::timeout(std::time::Duration::from_secs(5), all).await });
    }
    // `main` is done: the tasks still running end with the process.
    runtime.shutdown_background();
    let outcome = match served {
        Some(outcome) => outcome,
        None => finish(&program, joined, &mut host),
    };
    host.flush();
    if config.profile {
        let report = host.profile();
        host.write(true, report.as_bytes());
    }
    outcome
}

/// How `main` ended, from its joined task.
fn finish(program: &Program, joined: Option<Joined>, host: &mut TaskHost) -> Outcome {
    match joined {
        None => Outcome::Trapped(Trap::bare("internal error: the main task was taken twice")),
        Some(Err(e)) => Outcome::Trapped(Trap::bare(format!("internal error: the main task was lost: {e}"))),
        Some(Ok((_, Err(trap)))) => Outcome::Trapped(trap),
        Some(Ok((task, Ok(v)))) => exit_status(program, &task, program.entry_kind, v, host),
    }
}

/// `main`'s task as joined: the task and what it returned.
type Joined = Result<(Task, Result<Value, Trap>), tokio::task::JoinError>;

/// The exit status for `main`'s result (PROC-EXIT-001).
fn exit_status(program: &Program, task: &Task, kind: EntryKind, v: Value, host: &mut TaskHost) -> Outcome {
    let status = |code: i64| -> Outcome {
        if (0..=255).contains(&code) {
            Outcome::Exit(code as u8)
        } else {
            Outcome::Trapped(Trap::bare(format!("invalid exit status: {code} is not in 0..=255")))
        }
    };
    match kind {
        EntryKind::Unit => Outcome::Exit(0),
        EntryKind::Status => status(v.as_int()),
        EntryKind::ResultUnit | EntryKind::ResultStatus => {
            let tag = stark_vm::deep::tag(&task.heap, v);
            let payload = task.heap.fields(v.as_handle()).first().copied().unwrap_or(Value::UNIT);
            match (tag, kind) {
                (0, EntryKind::ResultUnit) => Outcome::Exit(0),
                (0, _) => status(payload.as_int()),
                _ => {
                    let message = task.heap.string(program, payload.as_handle());
                    host.write(true, format!("{message}\n").as_bytes());
                    Outcome::Exit(1)
                }
            }
        }
    }
}
