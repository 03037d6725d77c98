//! `stark`: the STARK toolchain's command-line interface.

mod cli;
mod commands;

use clap::Parser;
use std::process::ExitCode;

/// Tasks, messages and heap objects are many small, short-lived
/// allocations across threads: mimalloc handles them far better than the
/// system allocator (measured on bench/concurrency).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (mimalloc.h, v3; libmimalloc-sys
/// names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the OS only after 10 s unused (mimalloc's
/// default is 1 s). A model's run frees and reallocates its scratch
/// buffers every batch, and with the short delay they kept landing on
/// purged memory, which the kernel zeroed again (a fresh 2 MiB huge
/// page each time): 7.5% of an inference thread's time on
/// bench/serving's wide MLP went to `clear_page_erms`, then 1.4%.
/// `MIMALLOC_PURGE_DELAY` in the environment still wins (mimalloc reads
/// its options as the process loads, so a default cannot be set).
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() && std::env::var_os("MIMALLOC_RESET_DELAY").is_none() {
        // SAFETY: only this thread runs yet; the option is a plain value.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10_000) };
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = cli::Cli::parse();
    commands::run(cli)
}
