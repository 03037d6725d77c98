//! `stark-runtime`: runs a compiled program. `main` is a VM task polled
//! by tokio's executor (single-threaded until the concurrency issue
//! brings the multi-threaded scheduler), so a task that waits on a timer
//! or I/O really suspends, and a busy task yields every `FUEL` steps.

use stark_vm::program::{EntryKind, Program};
use stark_vm::task::{Host, HostFuture, Task};
use stark_vm::{Trap, Value};
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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

/// The host of the process: standard streams, the file system, tokio's clock.
pub struct ProcessHost {
    stdout: std::io::BufWriter<std::io::Stdout>,
}

impl ProcessHost {
    /// A host writing to the process's standard output and error.
    pub fn new() -> ProcessHost {
        ProcessHost { stdout: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()) }
    }

    /// Flushes standard output (before a trap report, and at exit).
    pub fn flush(&mut self) {
        let _ = self.stdout.flush();
    }
}

impl Default for ProcessHost {
    fn default() -> Self {
        ProcessHost::new()
    }
}

impl Host for ProcessHost {
    fn write(&mut self, err: bool, bytes: &[u8]) {
        if err {
            // Program order across the two streams: flush stdout first.
            let _ = self.stdout.flush();
            let _ = std::io::stderr().write_all(bytes);
        } else {
            let _ = self.stdout.write_all(bytes);
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
            Value::UNIT
        })
    }
}

/// A VM task as a future.
struct TaskFuture<'h> {
    task: &'h mut Task,
    host: &'h mut ProcessHost,
}

impl Future for TaskFuture<'_> {
    type Output = Result<Value, Trap>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.task.poll(this.host, cx, FUEL)
    }
}

/// Runs `main` to completion and says how the program ended.
pub fn run_main(program: Arc<Program>, host: &mut ProcessHost) -> Outcome {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(rt) => rt,
        Err(e) => {
            return Outcome::Trapped(Trap { message: format!("cannot start the runtime: {e}"), frames: Vec::new() })
        }
    };
    let mut task = Task::new(program.clone(), program.entry, &[]);
    let kind = program.entry_kind;
    let result = runtime.block_on(TaskFuture { task: &mut task, host: &mut *host });
    match result {
        Err(trap) => Outcome::Trapped(trap),
        Ok(v) => exit_status(&program, &task, kind, v, host),
    }
}

/// The exit status for `main`'s result (PROC-EXIT-001).
fn exit_status(program: &Program, task: &Task, kind: EntryKind, v: Value, host: &mut ProcessHost) -> Outcome {
    let status = |code: i64| -> Outcome {
        if (0..=255).contains(&code) {
            Outcome::Exit(code as u8)
        } else {
            Outcome::Trapped(Trap {
                message: format!("invalid exit status: {code} is not in 0..=255"),
                frames: Vec::new(),
            })
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
