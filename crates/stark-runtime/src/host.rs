//! The host every task runs against: the process's standard streams and
//! files, tokio's timers, and the runtime's tasks and channels.

use crate::actor::{ActorCell, Asking, Reply};
use crate::broadcast::{Broadcast, Receiver};
use crate::channel::{Channel, Waiting};
use crate::mailbox::Board;
use crate::options::Options;
use crate::shared::{Guard, SharedMap};
use crate::supervisor::{Strategy, Supervisor};
use crate::tasks::{self, TaskHandle};
use stark_vm::heap::{HostRef, Key};
use stark_vm::program::{Program, Slot};
use stark_vm::task::{ActorOp, Checked, Done, Host, HostFuture, Resume, Selecting};
use stark_vm::transfer::Portable;
use stark_vm::trap::Fault;
use stark_vm::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// What all tasks of a run share.
pub(crate) struct Shared {
    pub program: Arc<Program>,
    /// The program once checked (spawned tasks skip the check), or why
    /// it is invalid.
    pub checked: Result<Checked, String>,
    /// Standard output, buffered once for every task so output keeps
    /// the order in which tasks wrote it.
    stdout: Mutex<std::io::BufWriter<std::io::Stdout>>,
    /// Where tasks are spawned.
    pub runtime: tokio::runtime::Handle,
    /// The state of the generator behind `select`'s fair choice.
    rng: Mutex<u64>,
    /// What `--profile` reports.
    pub profile: crate::profile::Counters,
    /// When the run started: `Instant`s count from here.
    started: std::time::Instant,
    /// Every actor started, to stop them when `main` ends.
    pub actors: Mutex<Vec<Arc<ActorCell>>>,
    /// Messages queued per QoS class, over every actor.
    pub(crate) board: Arc<Board>,
    /// The servers `register_model` named, for `stark serve`.
    pub registry: Mutex<std::collections::BTreeMap<String, Arc<ActorCell>>>,
}

impl Shared {
    /// The next number of the run's splitmix64 generator.
    fn next_u64(&self) -> u64 {
        self.pick(usize::MAX) as u64
    }

    /// A number in `0..n`, from a splitmix64 generator.
    fn pick(&self, n: usize) -> usize {
        let Ok(mut x) = self.rng.lock() else { return 0 };
        *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z % n.max(1) as u64) as usize
    }
}

/// One task's host (cheap: a handle to what the run shares).
#[derive(Clone)]
pub struct TaskHost {
    pub(crate) shared: Arc<Shared>,
    /// The actor this task runs, if it is one (its failure fails the actor).
    pub(crate) actor: Option<Arc<ActorCell>>,
}

impl TaskHost {
    /// The host of the tasks of `program`, spawning on `runtime`; `seed`
    /// starts `select`'s choices.
    pub fn new(program: Arc<Program>, runtime: tokio::runtime::Handle, seed: u64, profile: bool) -> TaskHost {
        let stdout = Mutex::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()));
        let rng = Mutex::new(seed);
        let profile = crate::profile::Counters::new(profile);
        let started = std::time::Instant::now();
        let actors = Mutex::new(Vec::new());
        let board = Arc::default();
        let registry = Mutex::default();
        let checked = Checked::new(program.clone());
        TaskHost {
            shared: Arc::new(Shared {
                program,
                checked,
                stdout,
                runtime,
                rng,
                profile,
                started,
                actors,
                board,
                registry,
            }),
            actor: None,
        }
    }

    /// What the run did, for `--profile`: the counters, then a line per actor.
    pub fn profile(&self) -> String {
        let mut report = self.shared.profile.report();
        for actor in self.shared.actors.lock().map(|a| a.clone()).unwrap_or_default() {
            report.push_str(&actor.profile_row());
            report.push('\n');
        }
        report
    }

    /// Starts an instance of actor `cell` under `options`, in `supervisor`.
    fn start_actor(
        &mut self,
        cell: Arc<ActorCell>,
        body: Portable,
        options: Option<Portable>,
        supervisor: Option<HostRef>,
    ) -> Result<(), Fault> {
        if let Some(options) = options {
            let o = Options::parse(&options)?;
            cell.configure(o.capacity, o.class, o.batching.clone(), o.shed);
            cell.supervise(o.policy(body.clone()));
        }
        if let Some(s) = supervisor {
            let s = s.downcast::<Supervisor>().map_err(|_| Fault::new("internal error: not a supervisor"))?;
            s.adopt_actor(&cell);
        }
        tasks::spawn_actor(self, cell, body);
        Ok(())
    }

    /// Flushes standard output (before a trap report, and at exit).
    pub fn flush(&mut self) {
        if let Ok(mut out) = self.shared.stdout.lock() {
            let _ = out.flush();
        }
    }
}

/// The task handles among `tasks` (each is one, as the VM made them).
fn handles(tasks: Vec<HostRef>) -> Vec<Arc<TaskHandle>> {
    tasks.into_iter().filter_map(|t| t.downcast::<TaskHandle>().ok()).collect()
}

/// The runtime object behind a handle, if it is a `T`.
fn object<T: Send + Sync + 'static>(r: &HostRef) -> Option<&T> {
    r.downcast_ref::<T>()
}

impl Host for TaskHost {
    fn net(&mut self, op: stark_vm::net::NetOp) -> Result<stark_vm::net::NetDone, Fault> {
        crate::net::run(op)
    }

    fn write(&mut self, err: bool, bytes: &[u8]) {
        let Ok(mut out) = self.shared.stdout.lock() else { return };
        if err {
            // Program order across the two streams: flush stdout first.
            let _ = out.flush();
            let _ = std::io::stderr().write_all(bytes);
        } else {
            let _ = out.write_all(bytes);
        }
    }

    fn read_file(&mut self, path: &str) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn write_file(&mut self, path: &str, text: &str) -> std::io::Result<()> {
        std::fs::write(path, text)
    }

    fn sleep(&mut self, micros: u64) -> HostFuture {
        Box::pin(async move {
            tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
            Resume::Value(Value::UNIT)
        })
    }

    fn now_micros(&mut self) -> i64 {
        self.shared.started.elapsed().as_micros() as i64
    }

    fn random_seed(&mut self) -> u64 {
        self.shared.next_u64()
    }

    fn spawn(&mut self, body: Portable, result: Slot) -> HostRef {
        tasks::spawn(self, body, result)
    }

    fn join(&mut self, task: HostRef) -> HostFuture {
        match task.downcast::<TaskHandle>() {
            Ok(handle) => Box::pin(tasks::join(self.shared.clone(), handle)),
            Err(_) => Box::pin(async { Resume::Fault(Fault::new("internal error: joining something not a task")) }),
        }
    }

    fn join_result(&mut self, task: HostRef, result: u32) -> HostFuture {
        match task.downcast::<TaskHandle>() {
            Ok(handle) => Box::pin(tasks::join_result(self.shared.clone(), handle, result)),
            Err(_) => Box::pin(async { Resume::Fault(Fault::new("internal error: joining something not a task")) }),
        }
    }

    fn join_all(&mut self, tasks: Vec<HostRef>, list: u32) -> HostFuture {
        Box::pin(tasks::join_all(handles(tasks), list))
    }

    fn race(&mut self, tasks: Vec<HostRef>) -> HostFuture {
        Box::pin(tasks::race(handles(tasks)))
    }

    fn timeout(&mut self, task: HostRef, micros: u64, result: u32) -> HostFuture {
        let handle = handles(vec![task]).pop();
        Box::pin(async move {
            let Some(handle) = handle else { return Resume::Fault(Fault::new("internal error: not a task")) };
            tasks::timeout(handle, std::time::Duration::from_micros(micros), result).await
        })
    }

    fn task_finished(&mut self, task: &HostRef) -> bool {
        object::<TaskHandle>(task).is_some_and(|t| t.finished())
    }

    fn cancel(&mut self, task: &HostRef) {
        if let Some(t) = object::<TaskHandle>(task) {
            t.cancel();
        }
    }

    fn channel(&mut self, capacity: Option<usize>) -> HostRef {
        Arc::new(Channel::new(capacity))
    }

    fn send(&mut self, channel: &HostRef, value: Portable) -> Result<Option<HostFuture>, Fault> {
        self.shared.profile.message();
        let Some(ch) = object::<Channel>(channel) else {
            return Err(Fault::new("internal error: sending on something not a channel"));
        };
        // The channel's `Arc` is cloned only for a send that must wait.
        match ch.send(value)? {
            Ok(()) => Ok(None),
            Err(value) => match channel.clone().downcast::<Channel>() {
                Ok(ch) => Ok(Some(Box::pin(Waiting::send(ch, value).after_looking()))),
                Err(_) => Err(Fault::new("internal error: sending on something not a channel")),
            },
        }
    }

    fn try_send(&mut self, channel: &HostRef, value: Portable) -> Result<(), Portable> {
        match object::<Channel>(channel) {
            Some(ch) => {
                let sent = ch.try_send(value);
                if sent.is_ok() {
                    self.shared.profile.message();
                }
                sent
            }
            None => Err(value),
        }
    }

    fn recv(&mut self, channel: &HostRef, option: u32) -> HostFuture {
        match channel.clone().downcast::<Channel>() {
            Ok(ch) => Channel::recv(ch, option),
            Err(_) => {
                Box::pin(async { Resume::Fault(Fault::new("internal error: receiving from something not a channel")) })
            }
        }
    }

    fn try_recv(&mut self, channel: &HostRef) -> Option<Portable> {
        object::<Channel>(channel).and_then(|c| c.try_recv(|| channel.clone()))
    }

    fn close(&mut self, channel: &HostRef) {
        if let Some(c) = object::<Channel>(channel) {
            c.close();
        } else if let Some(b) = object::<Broadcast>(channel) {
            b.close();
        }
    }

    fn channel_state(&mut self, channel: &HostRef) -> (usize, bool) {
        object::<Channel>(channel).map_or((0, true), |c| c.state())
    }

    fn broadcast(&mut self, capacity: usize) -> HostRef {
        Arc::new(Broadcast::new(capacity))
    }

    fn broadcast_send(&mut self, channel: &HostRef, value: Portable) -> Result<(), Fault> {
        self.shared.profile.message();
        match object::<Broadcast>(channel) {
            Some(b) => b.send(value),
            None => Err(Fault::new("internal error: not a broadcast channel")),
        }
    }

    fn subscribe(&mut self, channel: &HostRef) -> HostRef {
        match channel.clone().downcast::<Broadcast>() {
            Ok(b) => Arc::new(b.subscribe()),
            Err(other) => other,
        }
    }

    fn broadcast_recv(&mut self, receiver: &HostRef, option: u32) -> HostFuture {
        match receiver.clone().downcast::<Receiver>() {
            Ok(r) => Box::pin(r.recv(option)),
            Err(_) => Box::pin(async { Resume::Fault(Fault::new("internal error: not a broadcast receiver")) }),
        }
    }

    fn broadcast_try_recv(&mut self, receiver: &HostRef) -> Option<Portable> {
        object::<Receiver>(receiver).and_then(|r| r.try_recv())
    }

    fn broadcast_missed(&mut self, receiver: &HostRef) -> i64 {
        object::<Receiver>(receiver).map_or(0, |r| r.missed())
    }

    fn actor(&mut self, op: ActorOp<'_>) -> Result<Done, Fault> {
        let not_actor = || Fault::new("internal error: not an actor");
        let cell = |r: &HostRef| r.clone().downcast::<ActorCell>().map_err(|_| not_actor());
        // Borrowed, for what needs no `Arc` of its own.
        let actor = |r| object::<ActorCell>(r).ok_or_else(not_actor);
        let now = |v: Value| Ok(Done::Now(Portable::Scalar(v)));
        match op {
            ActorOp::New { name } => {
                let cell = Arc::new(ActorCell::new(name, self.shared.board.clone()));
                if let Ok(mut actors) = self.shared.actors.lock() {
                    actors.push(cell.clone());
                }
                Ok(Done::Now(Portable::Host(cell)))
            }
            ActorOp::Start { cell: c, body, options, supervisor } => {
                self.start_actor(cell(&c)?, body, options, supervisor)?;
                now(Value::UNIT)
            }
            ActorOp::Recv { cell: c, option, list } => {
                let c = cell(c)?;
                // This task is the actor: its failure fails the cell.
                self.actor.get_or_insert_with(|| c.clone());
                Ok(Done::Wait(c.recv(option, list)))
            }
            ActorOp::Batching { cell: c } => now(Value::from_bits(actor(c)?.batching() as u64)),
            ActorOp::Reply { cell: c, values } => {
                actor(c)?.reply(values)?;
                now(Value::UNIT)
            }
            ActorOp::Ask { cell: c, message, priority, timeout_micros, reserved } => {
                self.shared.profile.message();
                let level = priority.clamp(0, 3) as usize;
                let timeout = (timeout_micros >= 0).then(|| std::time::Duration::from_micros(timeout_micros as u64));
                match actor(c)?.ask(message, Asking { level, timeout, reserved }) {
                    (reply, None) => Ok(Done::Now(Portable::Host(reply))),
                    (reply, Some(posting)) => Ok(Done::Wait(Box::pin(cell(c)?.finish_post(posting, Some(reply))))),
                }
            }
            ActorOp::Tell { cell: c, message } => {
                self.shared.profile.message();
                match actor(c)?.tell(message)? {
                    None => now(Value::UNIT),
                    Some(posting) => Ok(Done::Wait(Box::pin(cell(c)?.finish_post(posting, None)))),
                }
            }
            ActorOp::Reserve { cell: c } => now(Value::from_bits(actor(c)?.reserve() as u64)),
            ActorOp::Stop { cell: c } => {
                actor(c)?.stop();
                now(Value::UNIT)
            }
            ActorOp::Stats { cell: c, layout } => Ok(Done::Now(actor(c)?.stats(layout))),
            ActorOp::Failure { cell: c, option } => {
                let failure = actor(c)?.take_failure().map(Portable::Str);
                Ok(Done::Now(stark_vm::transfer::option(option, failure)))
            }
            ActorOp::SupervisorNew { strategy } => {
                Ok(Done::Now(Portable::Host(Arc::new(Supervisor::new(Strategy::from_tag(strategy))))))
            }
            ActorOp::SupervisorAdopt { parent, child } => {
                let sup =
                    |r: HostRef| r.downcast::<Supervisor>().map_err(|_| Fault::new("internal error: not a supervisor"));
                sup(parent)?.adopt(sup(child)?);
                now(Value::UNIT)
            }
        }
    }

    fn model(&mut self, op: stark_vm::model::ModelOp) -> Result<Done, Fault> {
        crate::models::op(self, op)
    }

    fn reply_await(&mut self, reply: HostRef) -> HostFuture {
        match reply.downcast::<Reply>() {
            Ok(r) => Box::pin(r.wait()),
            Err(_) => Box::pin(async { Resume::Fault(Fault::new("internal error: not a reply")) }),
        }
    }

    fn shared_map(&mut self) -> HostRef {
        Arc::new(SharedMap::default())
    }

    fn shared_guard(&mut self, map: &HostRef, exclusive: bool) -> HostFuture {
        match map.clone().downcast::<SharedMap>() {
            Ok(m) => Box::pin(m.guard(exclusive)),
            Err(_) => Box::pin(async { Resume::Fault(Fault::new("internal error: not a shared map")) }),
        }
    }

    fn shared_get(&mut self, guard: &HostRef, key: &Key) -> Option<Portable> {
        object::<Guard>(guard).and_then(|g| g.get(key))
    }

    fn shared_insert(&mut self, guard: &HostRef, key: Key, value: Portable) -> Result<Option<Portable>, Fault> {
        object::<Guard>(guard).map_or(Ok(None), |g| g.insert(key, value))
    }

    fn shared_remove(&mut self, guard: &HostRef, key: &Key) -> Result<Option<Portable>, Fault> {
        object::<Guard>(guard).map_or(Ok(None), |g| g.remove(key))
    }

    fn shared_len(&mut self, guard: &HostRef) -> usize {
        object::<Guard>(guard).map_or(0, |g| g.len())
    }

    fn select(&mut self, ops: Vec<Selecting>) -> HostFuture {
        let shared = self.shared.clone();
        Box::pin(crate::select::select(ops, move |n| shared.pick(n)))
    }
}
