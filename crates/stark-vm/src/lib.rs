//! `stark-vm`: the bytecode, values, per-task heaps and the pollable
//! interpreter (ARCHITECTURE.md, "The VM: evaluation is a Future").

pub mod arith;
pub mod bytecode;
pub mod deep;
pub mod disasm;
pub mod format;
pub mod gc;
pub mod heap;
pub mod json;
pub mod keyed;
pub mod keymap;
pub mod map;
pub mod model;
pub mod native;
pub mod net;
pub mod opt;
pub mod program;
pub mod task;
pub mod tensor;
pub mod transfer;
pub mod trap;
pub mod value;

pub use bytecode::{Instr, NumTy, Reg};
pub use program::{EntryKind, Function, Layout, LayoutKind, Program, Site, Slot};
pub use task::{Host, HostFuture, Resume, Task};
pub use trap::Trap;
pub use value::Value;
