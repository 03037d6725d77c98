//! `select`: waits on several operations and completes exactly one. Each
//! time it is polled it tries the arms starting from a random one, so
//! when several are ready the choice is fair (and, with a seed, the same
//! every run).

use crate::channel::Waiting;
use crate::tasks::TaskHandle;
use stark_vm::heap::HostRef;
use stark_vm::task::{Resume, Selecting};
use stark_vm::trap::Fault;
use stark_vm::Value;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// One arm, ready to be polled (a channel arm that loses passes its turn
/// on when dropped).
enum Arm {
    Channel(Waiting),
    Sleep(Pin<Box<tokio::time::Sleep>>),
    /// A task's end; the flag: started by this select (cancelled if it loses).
    Join(Arc<TaskHandle>, bool),
}

fn downcast<T: Send + Sync + 'static>(r: HostRef) -> Result<Arc<T>, Fault> {
    r.downcast::<T>().map_err(|_| Fault::new("internal error: a select operand of the wrong kind"))
}

/// Waits for the first of `ops` to complete; `start(n)` draws a number
/// below `n` for the order in which the arms are tried.
pub(crate) async fn select(ops: Vec<Selecting>, mut start: impl FnMut(usize) -> usize) -> Resume {
    let mut arms = Vec::with_capacity(ops.len());
    for op in ops {
        let arm = match op {
            Selecting::Recv { channel, option } => downcast(channel).map(|c| Arm::Channel(Waiting::recv(c, option))),
            Selecting::Send { channel, value } => downcast(channel).map(|c| Arm::Channel(Waiting::send(c, value))),
            Selecting::Sleep { micros } => {
                Ok(Arm::Sleep(Box::pin(tokio::time::sleep(std::time::Duration::from_micros(micros)))))
            }
            Selecting::Join { task, started } => downcast(task).map(|t| Arm::Join(t, started)),
        };
        match arm {
            Ok(a) => arms.push(a),
            Err(f) => return Resume::Fault(f),
        }
    }
    if arms.is_empty() {
        return Resume::Fault(Fault::new("`select` with no arms waits forever"));
    }
    poll_fn(|cx| {
        // The arms in a random order, so that every ready arm is as likely
        // to win (a Fisher-Yates shuffle).
        let n = arms.len();
        let mut order: Vec<usize> = (0..n).collect();
        for k in (1..n).rev() {
            order.swap(k, start(k + 1));
        }
        for i in order {
            if let Poll::Ready(r) = poll_arm(&mut arms[i], cx) {
                // The futures this select started for the other arms stop.
                for (j, arm) in arms.iter().enumerate() {
                    if let (true, Arm::Join(task, true)) = (j != i, arm) {
                        task.cancel();
                    }
                }
                return Poll::Ready(Resume::Arm(i as u32, Box::new(r)));
            }
        }
        Poll::Pending
    })
    .await
}

fn poll_arm(arm: &mut Arm, cx: &mut Context<'_>) -> Poll<Resume> {
    match arm {
        Arm::Channel(waiting) => Pin::new(waiting).poll(cx),
        Arm::Sleep(sleep) => sleep.as_mut().poll(cx).map(|()| Resume::Value(Value::UNIT)),
        Arm::Join(task, _) => task.poll_join(cx),
    }
}
