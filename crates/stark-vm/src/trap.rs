//! Traps: a failure that ends a task, with its STARK stack trace.

use std::fmt;

/// Why a task stopped abnormally.
#[derive(Clone, Debug, PartialEq)]
pub struct Trap {
    /// What went wrong (`integer overflow`, `panic: ...`).
    pub message: String,
    /// The STARK call stack, innermost frame first.
    pub frames: Vec<TraceFrame>,
    /// The failure of a task this one joined or awaited, re-raised here.
    pub cause: Option<Box<Trap>>,
}

impl Trap {
    /// A trap with no stack trace (the runtime's own failures).
    pub fn bare(message: impl Into<String>) -> Trap {
        Trap { message: message.into(), frames: Vec::new(), cause: None }
    }
}

/// One frame of a stack trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceFrame {
    /// The function (`main`, `Point::new`).
    pub function: String,
    /// Its source file.
    pub file: String,
    /// The line executing in it.
    pub line: u32,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "trap: {}", self.message)?;
        for frame in &self.frames {
            writeln!(f, "  at {} ({}:{})", frame.function, frame.file, frame.line)?;
        }
        if let Some(cause) = &self.cause {
            write!(f, "caused by the joined task's {cause}")?;
        }
        Ok(())
    }
}

/// A trap's message before the interpreter adds where it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault(pub String);

impl Fault {
    /// A fault with this message.
    #[cold]
    pub fn new(message: impl Into<String>) -> Fault {
        Fault(message.into())
    }

    /// Integer overflow.
    #[cold]
    pub fn overflow() -> Fault {
        Fault::new("integer overflow")
    }

    /// Division or remainder by zero.
    #[cold]
    pub fn div_zero() -> Fault {
        Fault::new("division by zero")
    }

    /// An index past the end.
    #[cold]
    pub fn bounds(len: usize, index: u64) -> Fault {
        Fault::new(format!("index out of bounds: the length is {len} but the index is {index}"))
    }
}
