//! `Gc<T>` cells and the per-task generational cycle collector
//! (docs/memory.md).
//!
//! A cell is a record object of a `LayoutKind::Gc` layout: field 0 holds
//! the value, field 1 the cell's bookkeeping (`bits`: how many `Gc`
//! owners refer to it; `ext`: its generation and its index in that
//! generation's list) and the record's `tag` its run-time borrow state.
//! Dropping the last owner frees a cell at once, as ownership frees
//! everything else; what that cannot free is a cycle, and that is the
//! collector's work.
//!
//! The collector is precise and needs no stack maps: it computes, for a
//! set of cells, how many of each cell's owners lie *inside* the set (in
//! the values the set's cells hold), following layouts exactly. A cell
//! with an owner outside the set (a register, an owned object outside
//! every cell, an older cell) is a root; everything the roots reach
//! lives; the rest is unreachable and is freed (trial deletion, as in
//! CPython's collector). The sets are the subgraphs below candidates
//! (cells whose owner count went down without reaching zero): young
//! collections stay inside the nursery (owners in the old generation
//! count as roots), old passes take the oldest candidates. It runs only
//! inside the task's own instructions (a `Gc::new` that finds the nursery
//! full, `gc::collect()`), so it pauses only its own task, in pauses
//! paced to a time slice of the pause target.

use crate::heap::{record_slots, Heap, Obj};
use crate::program::{LayoutKind, Program, Slot};
use crate::trap::Fault;
use crate::value::{Handle, Value, NONE};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The collector's tuning presets (`GCMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcMode {
    /// Few, larger collections: a big nursery and fast heap growth.
    Throughput,
    /// Short pauses: a small nursery and a 5 ms pause target.
    LowLatency,
    /// A small heap: a small nursery and slow heap growth.
    Memory,
    /// Training loops: a large nursery, the fastest heap growth, long
    /// pauses tolerated (collect explicitly between batches and epochs).
    Training,
    /// Serving: like `LowLatency` with a larger nursery.
    Inference,
}

impl GcMode {
    /// The mode of `GCMode`'s variant `tag` (declaration order).
    pub fn from_tag(tag: u32) -> Option<GcMode> {
        use GcMode::*;
        [Throughput, LowLatency, Memory, Training, Inference].get(tag as usize).copied()
    }

    /// The nursery size, in bytes, when `young_gen_size` is 0.
    pub fn default_young_bytes(self) -> u64 {
        match self {
            GcMode::Throughput => 8 << 20,
            GcMode::LowLatency => 1 << 20,
            GcMode::Memory => 256 << 10,
            GcMode::Training => 32 << 20,
            GcMode::Inference => 2 << 20,
        }
    }

    /// How far the old generation may grow past what survived the last
    /// full collection before the next one.
    pub fn growth(self) -> f64 {
        match self {
            GcMode::Throughput => 3.0,
            GcMode::LowLatency | GcMode::Inference => 2.0,
            GcMode::Memory => 1.25,
            GcMode::Training => 4.0,
        }
    }

    /// The pause target, in microseconds, when `pause_target` is 0.
    pub fn default_pause_us(self) -> u64 {
        match self {
            GcMode::Throughput => 50_000,
            GcMode::LowLatency => 5_000,
            GcMode::Memory => 20_000,
            GcMode::Training => 20_000,
            GcMode::Inference => 5_000,
        }
    }

    /// Whether pauses are paced to a time slice (a twentieth of the
    /// pause target for the search; the trial deletion and freeing that
    /// follow take about as long again): the latency modes. The others
    /// collect the whole nursery each time and bound only the old passes,
    /// by cells (fewer, longer pauses, which keep the heap smaller).
    fn paced(self) -> bool {
        matches!(self, GcMode::LowLatency | GcMode::Inference)
    }
}

/// A heap's collector settings (`GCConfig`, with the mode's defaults
/// filled in).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GcConfig {
    /// The preset.
    pub mode: GcMode,
    /// A full collection that leaves more live bytes than this traps.
    pub max_heap_size: Option<u64>,
    /// The nursery's size in bytes.
    pub young_gen_size: u64,
    /// Accepted and validated; collection is not concurrent (docs/memory.md).
    pub concurrent_threads: u32,
    /// The longest pause wanted, in microseconds.
    pub pause_target_us: u64,
    /// The share of time the program should spend outside the collector.
    pub throughput_target: f64,
}

impl GcConfig {
    /// The defaults of `mode`.
    pub fn for_mode(mode: GcMode) -> GcConfig {
        GcConfig {
            mode,
            max_heap_size: None,
            young_gen_size: mode.default_young_bytes(),
            concurrent_threads: 0,
            pause_target_us: mode.default_pause_us(),
            throughput_target: 0.95,
        }
    }
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig::for_mode(GcMode::Throughput)
    }
}

/// What the collector of one heap has done (`GcStats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcCounters {
    /// Young (nursery) collections.
    pub young_collections: u64,
    /// Full collections.
    pub collections: u64,
    /// All pauses together, in microseconds.
    pub total_pause_us: u64,
    /// The longest pause, in microseconds.
    pub max_pause_us: u64,
    /// Cells the collector freed (unreachable cycles).
    pub reclaimed: u64,
}

/// Buffers a collection works in, kept between collections: a pause
/// reuses their memory rather than allocating (and first touching) more.
#[derive(Debug, Default)]
struct Scratch {
    /// The examined set; each member's owners outside it; the candidates
    /// taken; the search's stacks; the dead cells' values.
    set: Vec<Handle>,
    refs: Vec<i64>,
    taken: Vec<Handle>,
    stack: Vec<Value>,
    found: Vec<Handle>,
    work: Vec<usize>,
    dead: Vec<(Value, Handle)>,
    /// The young collection's candidates.
    young: VecDeque<Handle>,
}

/// How many recent pauses are kept for the percentiles.
const PAUSE_WINDOW: usize = 8192;

/// The collector state of one heap.
#[derive(Debug)]
pub struct GcState {
    /// Live cells.
    cells: usize,
    /// Cells made since the last young collection (the nursery's fill).
    made: usize,
    /// The young collections so far, mod 2^32: a cell born in the current
    /// epoch is young (`ext`'s low half is its birth epoch).
    epoch: u32,
    /// Cells whose owner count went down without reaching zero since the
    /// last young collection: only below them can a cycle have become
    /// unreachable. The young collection examines the young ones and
    /// moves the rest to `candidates`.
    fresh: Vec<Handle>,
    /// Older such cells, not examined yet (oldest first); a paced old
    /// pass takes from the front as its budget allows.
    candidates: VecDeque<Handle>,
    /// Candidates whose subgraph outgrew an incremental pass's budget:
    /// left to the next unbounded full collection.
    deferred: Vec<Handle>,
    /// The settings.
    pub config: GcConfig,
    /// The counters.
    pub counters: GcCounters,
    /// The nursery's size, in cells (it shrinks when pauses overrun).
    young_limit: usize,
    /// An unbounded full collection runs when the live cells pass this.
    old_limit: usize,
    /// When the last unbounded full collection ended, and the pause time since.
    since_full: Option<(Instant, u64)>,
    /// The cells made inside each `with_arena` being run, innermost last.
    arenas: Vec<Vec<Handle>>,
    /// The last `PAUSE_WINDOW` pauses, in microseconds (a ring).
    pauses: Vec<u32>,
    /// The collections' buffers.
    scratch: Scratch,
}

impl Default for GcState {
    fn default() -> Self {
        let config = GcConfig::default();
        GcState {
            cells: 0,
            made: 0,
            epoch: 0,
            fresh: Vec::new(),
            candidates: VecDeque::new(),
            deferred: Vec::new(),
            config,
            counters: GcCounters::default(),
            young_limit: young_cells(&config),
            old_limit: MIN_OLD_LIMIT,
            since_full: None,
            arenas: Vec::new(),
            pauses: Vec::new(),
            scratch: Scratch::default(),
        }
    }
}

/// The bytes one cell accounts for (its slot and its two fields).
pub const CELL_BYTES: u64 = (std::mem::size_of::<Obj>() + 2 * std::mem::size_of::<Value>()) as u64;
/// The old generation is never collected below this many cells.
const MIN_OLD_LIMIT: usize = 4096;
/// A paced pause's search gets `pause_target / SLICES` (`GcMode::paced`).
const SLICES: u64 = 20;
/// The configured nursery is at least this many cells.
const MIN_YOUNG: usize = 256;
/// Pacing shrinks the nursery down to this many cells (collections that
/// often keep up with garbage made fast, each pause within its slice).
const MIN_PACED: usize = 16;
/// `tag` of a cell borrowed mutably.
const BORROWED_MUT: u32 = u32::MAX;
/// `ext` flag of a cell being freed by a collection.
const DETACHED: u64 = 1 << 33;
/// `ext` flag of a cell in the candidate list.
const CANDIDATE: u64 = 1 << 34;
/// `ext` flag of a cell in the set a collection examines; its position
/// there is in the bits from `POS_SHIFT` up.
const IN_SET: u64 = 1 << 35;
/// Where a cell's position in the examined set starts in `ext`.
const POS_SHIFT: u32 = 36;
/// The most cells one collection examines (positions fit in `ext`).
const MAX_SET: usize = 1 << (64 - POS_SHIFT);

/// How much of the heap one collection may examine.
#[derive(Clone, Copy, Debug)]
struct Budget {
    /// Cells examined before no further candidate is taken (a candidate
    /// whose search passes twice this is cut short and deferred).
    cells: usize,
    /// When no further candidate is taken.
    deadline: Option<Instant>,
}

impl Budget {
    /// Every candidate, whatever it takes.
    const UNBOUNDED: Budget = Budget { cells: usize::MAX, deadline: None };

    /// Whether a collection that has examined `set` cells takes no
    /// further candidate.
    fn spent(&self, set: usize) -> bool {
        set >= self.cells || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Whether a search with `set` cells in the set is cut short.
    fn overrun(&self, set: usize) -> bool {
        self.cells != usize::MAX && set > 2 * self.cells
    }
}

fn young_cells(config: &GcConfig) -> usize {
    ((config.young_gen_size / CELL_BYTES) as usize).max(MIN_YOUNG)
}

/// Whether `layout` is a `Gc` cell's.
#[inline]
pub fn is_cell(prog: &Program, layout: u32) -> bool {
    matches!(prog.layout(layout).kind, LayoutKind::Gc { .. })
}

/// The slot of the value a cell of `layout` holds.
fn value_slot(prog: &Program, layout: u32) -> Slot {
    match prog.layout(layout).kind {
        LayoutKind::Gc { value } => value,
        _ => Slot::Scalar(crate::bytecode::NumTy::Unit),
    }
}

impl GcState {
    /// Candidates not examined yet, fresh or older.
    #[cfg(test)]
    fn pending(&self) -> usize {
        self.fresh.len() + self.candidates.len()
    }

    /// The `q` quantile (0 to 1) of the recent pauses, in microseconds.
    pub fn pause_quantile(&self, q: f64) -> u64 {
        let mut p = self.pauses.clone();
        if p.is_empty() {
            return 0;
        }
        p.sort_unstable();
        let i = ((p.len() as f64 * q).ceil() as usize).clamp(1, p.len()) - 1;
        u64::from(p[i])
    }

    /// How many cells exist.
    pub fn cells(&self) -> usize {
        self.cells
    }

    /// Applies new settings.
    pub fn configure(&mut self, config: GcConfig) {
        self.config = config;
        self.young_limit = young_cells(&config);
    }
}

impl Heap {
    /// A new cell of layout `layout` holding `v`, with one owner.
    pub fn gc_new(&mut self, layout: u32, v: Value) -> Handle {
        let h = self.new_record(layout, 0, &[v, Value { bits: 1, ext: u64::from(self.gc.epoch) }]);
        self.gc.cells += 1;
        self.gc.made += 1;
        if let Some(arena) = self.gc.arenas.last_mut() {
            arena.push(h);
        }
        h
    }

    /// Whether the nursery is full (then `Gc::new` collects first).
    #[inline]
    pub fn gc_due(&self) -> bool {
        self.gc.made >= self.gc.young_limit
    }

    /// Another owner of cell `h` (`Gc::clone`).
    pub fn gc_retain(&mut self, h: Handle) {
        self.fields_mut(h)[1].bits += 1;
    }

    /// One owner of cell `h` fewer; at none, the cell is freed and the
    /// value it held returned (for the caller to destroy). A cell left
    /// with owners becomes a candidate: if a cycle just lost its last
    /// owner outside itself, it lies below such a cell.
    pub fn gc_release(&mut self, h: Handle) -> Option<Value> {
        let meta = &mut self.fields_mut(h)[1];
        meta.bits -= 1;
        if meta.bits > 0 {
            if meta.ext & (CANDIDATE | DETACHED) == 0 {
                meta.ext |= CANDIDATE;
                self.gc.fresh.push(h);
            }
            return None;
        }
        if meta.ext & DETACHED == 0 {
            self.gc.cells -= 1;
        }
        let v = self.fields(h)[0];
        self.free_shell(h);
        Some(v)
    }

    /// Takes a shared (`mutable` false) or exclusive borrow of cell `h`.
    pub fn gc_borrow(&mut self, h: Handle, mutable: bool) -> Result<(), Fault> {
        let Obj::Record { tag, .. } = self.get_mut(h) else {
            return Err(Fault::new("internal error: borrowing something that is not a Gc cell"));
        };
        match (*tag, mutable) {
            (BORROWED_MUT, false) => {
                Err(Fault::new("gc error G002: cannot borrow a Gc value: it is already borrowed mutably (borrow_mut)"))
            }
            (BORROWED_MUT, true) => Err(Fault::new(
                "gc error G002: cannot borrow a Gc value mutably: it is already borrowed mutably (borrow_mut)",
            )),
            (0, true) => {
                *tag = BORROWED_MUT;
                Ok(())
            }
            (n, true) => Err(Fault::new(format!(
                "gc error G003: cannot borrow a Gc value mutably: it is already borrowed ({n} borrow{} alive)",
                if n == 1 { "" } else { "s" }
            ))),
            (n, false) => {
                *tag = n + 1;
                Ok(())
            }
        }
    }

    /// Ends a borrow of cell `h` (a `Ref` or `RefMut` dropped).
    pub fn gc_unborrow(&mut self, h: Handle) {
        if let Obj::Record { tag, .. } = self.get_mut(h) {
            *tag = if *tag == BORROWED_MUT { 0 } else { tag.saturating_sub(1) };
        }
    }

    /// Calls `edge` with every cell the value `v` (of kind `slot`) owns
    /// directly or through owned objects, without entering those cells.
    fn gc_edges(&self, prog: &Program, v: Value, slot: Slot, stack: &mut Vec<Value>, mut edge: impl FnMut(Handle)) {
        let push = |stack: &mut Vec<Value>, v: Value, slot: &Slot| {
            if matches!(slot, Slot::Owned(_)) && v.bits != NONE && v.as_handle() & crate::value::CONST_HANDLE == 0 {
                stack.push(v);
            }
        };
        push(stack, v, &slot);
        while let Some(v) = stack.pop() {
            match self.get(v.as_handle()) {
                Obj::Record { layout, .. } if is_cell(prog, *layout) => edge(v.as_handle()),
                Obj::Record { layout, tag, fields } => {
                    for (f, s) in fields.iter().zip(record_slots(prog, *layout, *tag)) {
                        push(stack, *f, s);
                    }
                }
                Obj::List { layout, items } => {
                    if let LayoutKind::List { elem: elem @ Slot::Owned(_), .. } = prog.layout(*layout).kind {
                        items.iter().for_each(|f| push(stack, *f, &elem));
                    }
                }
                Obj::Map { layout, map } => {
                    if let LayoutKind::Map { key, value } = prog.layout(*layout).kind {
                        for (k, x) in map.values() {
                            push(stack, *k, &key);
                            push(stack, *x, &value);
                        }
                    }
                }
                Obj::Set { layout, set } => {
                    if let LayoutKind::Set { elem } = prog.layout(*layout).kind {
                        set.values().for_each(|f| push(stack, *f, &elem));
                    }
                }
                _ => {}
            }
        }
    }

    /// `gc::collect()` (`full`): every unreachable cycle is freed; or
    /// `gc::collect_young()`: the nursery's. Returns the pause in
    /// microseconds; traps when a full collection leaves the heap over
    /// `max_heap_size`.
    pub fn gc_collect(&mut self, prog: &Program, full: bool) -> Result<u64, Fault> {
        let start = Instant::now();
        self.collect_young(prog, Budget::UNBOUNDED);
        if full {
            self.collect_old(prog, Budget::UNBOUNDED);
        }
        let pause = start.elapsed().as_micros() as u64;
        self.gc_account(!full, full, pause);
        if full {
            self.reset_old_limit(pause);
            self.gc_check_limit(prog)?;
        }
        Ok(pause)
    }

    /// A paced pause (before a `Gc::new` that finds the nursery full): a
    /// young collection, then an incremental pass over the old
    /// candidates, together within a time slice of the pause target (and
    /// two configured nurseries' worth of cells); past the old limit, a
    /// full collection as well (see below). The nursery is then sized so
    /// that the passes keep up with the garbage (`pace`).
    pub fn gc_step(&mut self, prog: &Program) -> Result<(), Fault> {
        let start = Instant::now();
        let paced = self.gc.config.mode.paced();
        let (young, budget) = if paced {
            let slice = Duration::from_micros(self.gc.config.pause_target_us / SLICES);
            let budget = Budget { cells: 2 * young_cells(&self.gc.config), deadline: Some(start + slice) };
            (budget, budget)
        } else {
            (Budget::UNBOUNDED, Budget { cells: 2 * self.gc.young_limit, deadline: None })
        };
        let mut caught_up = self.collect_young(prog, young);
        let mut old_pass = !self.gc.candidates.is_empty();
        if old_pass {
            caught_up &= self.collect_old(prog, budget);
        }
        // Past the old limit, a full collection; when paced, once the
        // passes have caught up (it examines only the deferred candidates
        // then), or at once when the live cells are far past it (they are
        // not keeping up).
        // (A paced nursery's first pause may find the whole nursery live.)
        let nursery = if paced { 2 * young_cells(&self.gc.config) } else { 0 };
        let limit = self.gc.old_limit.max(nursery);
        let due = self.gc.cells > limit;
        let full = due && (!paced || caught_up || self.gc.cells > 2 * limit);
        if full {
            self.collect_old(prog, Budget::UNBOUNDED);
            old_pass = true;
        }
        let pause = start.elapsed().as_micros() as u64;
        self.gc_account(true, old_pass, pause);
        self.pace(pause, paced, caught_up);
        if full {
            self.reset_old_limit(pause);
            self.gc_check_limit(prog)?;
        }
        Ok(())
    }

    /// The young collection: the young candidates' subgraphs within the
    /// nursery (owners in older cells count as outside); then every cell
    /// is old (the epoch moves on). Young candidates the budget leaves out
    /// stay candidates (old ones from now on). Returns whether none was.
    fn collect_young(&mut self, prog: &Program, budget: Budget) -> bool {
        let epoch = self.gc.epoch;
        let mut fresh = std::mem::take(&mut self.gc.fresh);
        let mut young = std::mem::take(&mut self.gc.scratch.young);
        for &h in fresh.iter() {
            if !self.is_candidate(prog, h) {
                continue;
            }
            if self.fields(h)[1].ext as u32 == epoch {
                young.push_back(h);
            } else {
                self.gc.candidates.push_back(h);
            }
        }
        // Emptied, it takes the candidates the collection itself makes.
        fresh.clear();
        self.gc.fresh = fresh;
        let done = self.collect_from(prog, &mut young, Some(epoch), budget);
        self.gc.candidates.extend(young.drain(..));
        self.gc.scratch.young = young;
        self.gc.epoch = epoch.wrapping_add(1);
        self.gc.made = 0;
        done
    }

    /// An old collection over the candidates within `budget` (unbounded:
    /// every candidate, deferred ones too). Returns whether no candidate
    /// was left for later.
    fn collect_old(&mut self, prog: &Program, budget: Budget) -> bool {
        let mut batch = std::mem::take(&mut self.gc.candidates);
        if budget.cells == usize::MAX {
            batch.extend(self.gc.deferred.drain(..));
        }
        let done = self.collect_from(prog, &mut batch, None, budget);
        // The pass's requeued candidates wait behind those it left.
        let requeued = std::mem::replace(&mut self.gc.candidates, batch);
        self.gc.candidates.extend(requeued);
        done
    }

    /// Trial deletion over the cells reachable from `batch` (only those
    /// born in epoch `young`, if given), within `budget`; candidates
    /// beyond it stay candidates. The garbage found is freed. A candidate
    /// found live is done with, unless the examined set was cut short (by
    /// the budget, or by the nursery's edge): then it waits for a larger
    /// collection. Returns whether every candidate was examined.
    fn collect_from(
        &mut self,
        prog: &Program,
        batch: &mut VecDeque<Handle>,
        young: Option<u32>,
        budget: Budget,
    ) -> bool {
        let mut sc = std::mem::take(&mut self.gc.scratch);
        let Scratch { set, refs, taken, stack, found, work, dead, .. } = &mut sc;
        // `refs`: each cell's owners outside the set, counted down as the
        // search meets each link inside it (every link out of a searched
        // cell is met once; a cell the budget left unsearched keeps its
        // links counted as outside owners, which only keeps more alive).
        // `cut`: the budget stopped the search; `outside`: it met cells
        // it could not take in (an older generation's, or past `MAX_SET`).
        // Either way, what the set shows is partial.
        let (mut cut, mut outside) = (false, false);
        let mut left = false;
        while let Some(c) = batch.pop_front() {
            // Checked before the candidate is (a stale one costs a cache
            // miss too, and there may be many); each pass takes at least
            // one candidate, so even a tiny slice makes progress.
            if cut || (!taken.is_empty() && budget.spent(set.len())) {
                batch.push_front(c);
                left = true;
                break;
            }
            if !self.is_candidate(prog, c) {
                continue;
            }
            self.fields_mut(c)[1].ext &= !CANDIDATE;
            taken.push(c);
            let mut next = set.len();
            self.enter_set(set, refs, c, false, young, &mut outside);
            while next < set.len() && !cut {
                let (v, slot) = self.cell_value(prog, set[next]);
                found.clear();
                self.gc_edges(prog, v, slot, stack, |t| found.push(t));
                for &t in found.iter() {
                    self.enter_set(set, refs, t, true, young, &mut outside);
                }
                next += 1;
                cut |= budget.overrun(set.len());
            }
        }
        self.unreached(prog, set, refs, stack, work, |heap, t| {
            let ext = heap.fields(t)[1].ext;
            (ext & IN_SET != 0).then_some((ext >> POS_SHIFT) as usize)
        });
        for (&h, &r) in set.iter().zip(refs.iter()) {
            let fields = self.fields_mut(h);
            if r <= 0 {
                fields[1].ext = DETACHED;
                dead.push((std::mem::replace(&mut fields[0], Value::NONE), h));
            } else {
                fields[1].ext &= ((1 << POS_SHIFT) - 1) & !IN_SET;
            }
        }
        self.gc.cells -= dead.len();
        if cut || outside {
            for &c in taken.iter() {
                if self.fields(c)[1].ext & DETACHED == 0 {
                    self.fields_mut(c)[1].ext |= CANDIDATE;
                    if young.is_some() {
                        self.gc.candidates.push_back(c);
                    } else {
                        self.gc.deferred.push(c);
                    }
                }
            }
        }
        self.free_dead(prog, dead);
        for v in [&mut sc.set, &mut sc.taken, &mut sc.found] {
            v.clear();
        }
        sc.refs.clear();
        self.gc.scratch = sc;
        !left && !cut
    }

    /// Whether `h` is still a candidate cell (a handle in the list may
    /// have been freed, and reused, since it was put there).
    fn is_candidate(&self, prog: &Program, h: Handle) -> bool {
        matches!(self.get(h), Obj::Record { layout, fields, .. }
            if is_cell(prog, *layout) && fields[1].ext & (CANDIDATE | DETACHED) == CANDIDATE)
    }

    /// Adds cell `t` (met through a link inside the set if `linked`) to
    /// the examined set unless it is there already or lies outside the
    /// generation examined (noted in `outside`), and counts the link.
    fn enter_set(
        &mut self,
        set: &mut Vec<Handle>,
        refs: &mut Vec<i64>,
        t: Handle,
        linked: bool,
        young: Option<u32>,
        outside: &mut bool,
    ) {
        let ext = self.fields(t)[1].ext;
        let link = i64::from(linked);
        if ext & IN_SET != 0 {
            refs[(ext >> POS_SHIFT) as usize] -= link;
            return;
        }
        // A cell of another generation, or one past the positions `ext`
        // can hold, stays outside: the set is then partial.
        if young.is_some_and(|e| ext as u32 != e) || set.len() >= MAX_SET {
            *outside = true;
            return;
        }
        self.fields_mut(t)[1].ext = ext | IN_SET | ((set.len() as u64) << POS_SHIFT);
        set.push(t);
        refs.push(self.owners(t) - link);
    }

    /// Destroys what dead cells (already detached) held: that
    /// releases every owner of a dead cell (they are all in there), which
    /// frees the cells.
    fn free_dead(&mut self, prog: &Program, taken: &mut Vec<(Value, Handle)>) {
        self.gc.counters.reclaimed += taken.len() as u64;
        // Which values are objects is read before any is freed (freeing
        // one frees cells of `taken`).
        taken.retain(|&(_, h)| matches!(self.cell_value(prog, h).1, Slot::Owned(_)));
        for (v, _) in taken.drain(..) {
            self.free(prog, v);
        }
    }

    /// Marks which cells of `set` are unreachable: no owner outside the
    /// set reaches them. A borrowed cell counts as reached. `index` gives
    /// a cell's position in `set`, or `None` for a cell outside it.
    fn trial_delete(
        &self,
        prog: &Program,
        set: &[Handle],
        index: impl Fn(&Heap, Handle) -> Option<usize>,
    ) -> Vec<bool> {
        let mut refs: Vec<i64> = set.iter().map(|&h| self.owners(h)).collect();
        let mut stack = Vec::new();
        for &h in set {
            let (v, slot) = self.cell_value(prog, h);
            self.gc_edges(prog, v, slot, &mut stack, |t| {
                if let Some(i) = index(self, t) {
                    refs[i] -= 1;
                }
            });
        }
        self.unreached(prog, set, &mut refs, &mut stack, &mut Vec::new(), index);
        refs.into_iter().map(|r| r <= 0).collect()
    }

    /// Cell `h`'s owners, a borrow alive counting as one more.
    fn owners(&self, h: Handle) -> i64 {
        let Obj::Record { tag, fields, .. } = self.get(h) else { unreachable!("a cell is a record") };
        fields[1].bits as i64 + i64::from(*tag != 0)
    }

    /// Trial deletion's second half: given each cell's owners outside
    /// `set` (`refs`), marks which cells such an owner reaches: on return
    /// `refs[i]` is positive for those, and 0 or less for the garbage.
    fn unreached(
        &self,
        prog: &Program,
        set: &[Handle],
        refs: &mut [i64],
        stack: &mut Vec<Value>,
        work: &mut Vec<usize>,
        index: impl Fn(&Heap, Handle) -> Option<usize>,
    ) {
        work.clear();
        work.extend((0..set.len()).filter(|&i| refs[i] > 0));
        while let Some(i) = work.pop() {
            let (v, slot) = self.cell_value(prog, set[i]);
            self.gc_edges(prog, v, slot, stack, |t| {
                if let Some(j) = index(self, t).filter(|&j| refs[j] <= 0) {
                    refs[j] = 1;
                    work.push(j);
                }
            });
        }
    }

    /// The value cell `h` holds, and its kind.
    fn cell_value(&self, prog: &Program, h: Handle) -> (Value, Slot) {
        match self.get(h) {
            Obj::Record { layout, fields, .. } => (fields[0], value_slot(prog, *layout)),
            _ => (Value::NONE, Slot::Scalar(crate::bytecode::NumTy::Unit)),
        }
    }

    /// Records a pause (of a young collection, an old one, or both back
    /// to back).
    fn gc_account(&mut self, young: bool, old: bool, pause: u64) {
        let gc = &mut self.gc;
        let c = &mut gc.counters;
        c.young_collections += u64::from(young);
        c.collections += u64::from(old);
        c.total_pause_us += pause;
        c.max_pause_us = c.max_pause_us.max(pause);
        let n = c.young_collections + c.collections;
        let sample = pause.min(u32::MAX as u64) as u32;
        if gc.pauses.len() < PAUSE_WINDOW {
            gc.pauses.push(sample);
        } else {
            gc.pauses[n as usize % PAUSE_WINDOW] = sample;
        }
        if !old {
            if let Some((_, paused)) = &mut gc.since_full {
                *paused += pause;
            }
        }
    }

    /// Sizes the nursery after a pause. Paced: one that left candidates
    /// for later, or overran the pause target, halves it (pauses come
    /// more often, each within its slice, and so keep up with the
    /// garbage); one that caught up within half its slice lets it grow
    /// back, up to `young_gen_size`. Not paced: one over the target halves
    /// it, one under a quarter of it lets it grow back.
    fn pace(&mut self, pause: u64, paced: bool, caught_up: bool) {
        let gc = &mut self.gc;
        let target = gc.config.pause_target_us.max(1);
        let (least, grow_below) = if paced { (MIN_PACED, target / SLICES / 2) } else { (MIN_YOUNG, target / 4) };
        if (paced && !caught_up) || pause > target {
            gc.young_limit = (gc.young_limit / 2).max(least);
        } else if pause < grow_below {
            gc.young_limit = (gc.young_limit * 2).min(young_cells(&gc.config));
        }
    }

    /// After an unbounded full collection: the live cells may grow by the
    /// mode's factor before the next one (twice that if collecting took
    /// more than the throughput target allows).
    fn reset_old_limit(&mut self, pause: u64) {
        let gc = &mut self.gc;
        let mut growth = gc.config.mode.growth();
        let now = Instant::now();
        if let Some((since, paused)) = gc.since_full {
            let elapsed = now.duration_since(since).as_micros().max(1) as f64;
            if (paused + pause) as f64 / elapsed > 1.0 - gc.config.throughput_target {
                growth *= 2.0;
            }
        }
        gc.since_full = Some((now, 0));
        gc.old_limit = ((gc.cells as f64 * growth) as usize).max(MIN_OLD_LIMIT);
    }

    /// After a full collection: the out-of-memory trap.
    fn gc_check_limit(&self, prog: &Program) -> Result<(), Fault> {
        let Some(max) = self.gc.config.max_heap_size else { return Ok(()) };
        let live = self.live_bytes(prog);
        if live > max {
            return Err(Fault::new(format!(
                "gc error G004: out of memory: this task's heap holds {live} live bytes after a full collection, over its max_heap_size of {max}"
            )));
        }
        Ok(())
    }

    /// `with_arena` starts: returns its depth, for `arena_exit`.
    pub fn arena_enter(&mut self) -> usize {
        self.gc.arenas.push(Vec::new());
        self.gc.arenas.len() - 1
    }

    /// `with_arena` returns: the cells made inside it that nothing outside
    /// reaches are freed together, at once. (The checker keeps values from
    /// escaping; a cell still reached survives, and belongs to the arena
    /// around this one, if any.)
    pub fn arena_exit(&mut self, prog: &Program, depth: usize) {
        while self.gc.arenas.len() > depth {
            let Some(mut made) = self.gc.arenas.pop() else { return };
            made.sort_unstable();
            made.dedup();
            // A handle may have been freed, or reused by another object.
            made.retain(|&h| {
                matches!(self.get(h), Obj::Record { layout, fields, .. }
                    if is_cell(prog, *layout) && fields[1].ext & DETACHED == 0)
            });
            let at: std::collections::HashMap<Handle, usize> = made.iter().enumerate().map(|(i, &h)| (h, i)).collect();
            let dead = self.trial_delete(prog, &made, |_, t| at.get(&t).copied());
            let mut taken = Vec::new();
            for (&h, &d) in made.iter().zip(&dead) {
                if d {
                    self.gc.cells -= 1;
                    let fields = self.fields_mut(h);
                    fields[1].ext = DETACHED;
                    taken.push((std::mem::replace(&mut fields[0], Value::NONE), h));
                } else if let Some(outer) = self.gc.arenas.last_mut() {
                    outer.push(h);
                }
            }
            self.free_dead(prog, &mut taken);
        }
    }
}

/// The `Gc` and `gc` module operations (`Native::Gc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcOp {
    /// `Gc::new(v)`: a cell of the site's layout.
    New,
    /// `g.borrow()`: a `Ref` (the cell's handle).
    Borrow,
    /// `g.borrow_mut()`: a `RefMut` (the cell's handle).
    BorrowMut,
    /// A `Ref` or `RefMut` dropped (its cell in `R[base]`, or `NONE`).
    Release,
    /// `Gc::ptr_eq(&a, &b)`.
    PtrEq,
    /// `gc::configure(config)`: a `GCConfig` record.
    Configure,
    /// `gc::collect()`.
    Collect,
    /// `gc::collect_young()`.
    CollectYoung,
    /// `gc::stats()`: a `GcStats` of the site's layout.
    Stats,
    /// `with_arena` starts: its depth.
    ArenaEnter,
    /// `with_arena` returns (its depth in `R[base]`).
    ArenaExit,
}

impl GcOp {
    /// How many argument registers it reads.
    pub fn reads(self) -> u16 {
        match self {
            GcOp::PtrEq => 2,
            GcOp::Collect | GcOp::CollectYoung | GcOp::Stats | GcOp::ArenaEnter => 0,
            _ => 1,
        }
    }
}

/// Reads a `GCConfig` record (`mode`, `max_heap_size`, `young_gen_size`,
/// `concurrent_threads`, `pause_target`, `throughput_target`).
pub fn read_config(heap: &Heap, v: Value) -> Result<GcConfig, Fault> {
    let bad = |what: &str| Err(Fault::new(format!("gc error G001: invalid GCConfig: {what}")));
    let f = heap.fields(v.as_handle());
    if f.len() != 6 {
        return bad("not a GCConfig");
    }
    let tag = match heap.get(f[0].as_handle()) {
        Obj::Record { tag, .. } => *tag,
        _ => f[0].bits as u32,
    };
    let Some(mode) = GcMode::from_tag(tag) else { return bad("unknown mode") };
    let mut config = GcConfig::for_mode(mode);
    config.max_heap_size = match heap.get(f[1].as_handle()) {
        Obj::Record { tag: 0, fields, .. } if fields.len() == 1 => match fields[0].as_int() {
            n if n <= 0 => return bad(&format!("max_heap_size must be positive, not {n}")),
            n => Some(n as u64),
        },
        _ => None,
    };
    match f[2].as_int() {
        n if n < 0 => return bad(&format!("young_gen_size must not be negative, not {n}")),
        0 => {}
        n => config.young_gen_size = n as u64,
    }
    match f[3].as_int() {
        n if !(0..=1024).contains(&n) => return bad(&format!("concurrent_threads must be in 0..=1024, not {n}")),
        n => config.concurrent_threads = n as u32,
    }
    match f[4].as_int() {
        n if n < 0 => return bad("pause_target must not be negative"),
        0 => {}
        n => config.pause_target_us = n as u64,
    }
    match f[5].as_f64() {
        0.0 => {}
        t if t > 0.0 && t < 1.0 => config.throughput_target = t,
        t => return bad(&format!("throughput_target must be between 0 and 1, not {t}")),
    }
    Ok(config)
}

impl Heap {
    /// The `GcStats` fields, in declaration order: `young_collections`,
    /// `collections`, `total_pause_us`, `max_pause_us`, `heap_bytes`,
    /// `live_bytes`, `cells`, `p50_pause_us`, `p99_pause_us`.
    pub fn gc_stats(&self, prog: &Program) -> [Value; 9] {
        let c = &self.gc.counters;
        [
            Value::int(c.young_collections as i64),
            Value::int(c.collections as i64),
            Value::int(c.total_pause_us as i64),
            Value::int(c.max_pause_us as i64),
            Value::int(self.heap_bytes() as i64),
            Value::int(self.live_bytes(prog) as i64),
            Value::int(self.gc.cells() as i64),
            Value::int(self.gc.pause_quantile(0.5) as i64),
            Value::int(self.gc.pause_quantile(0.99) as i64),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytecode::NumTy;
    use crate::program::Layout;

    /// Layouts: 0 a string, 1 a cell holding a node, 2 a node (an `Int`
    /// and a `Gc` link, `NONE` for none).
    fn program() -> Program {
        let layout = |name: &str, kind| Layout { name: name.into(), kind };
        Program {
            layouts: vec![
                layout("String", LayoutKind::Str),
                layout("Gc<Node>", LayoutKind::Gc { value: Slot::Owned(2) }),
                layout(
                    "Node",
                    LayoutKind::Record { fields: vec![Slot::Scalar(NumTy::I64), Slot::Owned(1)], tuple: false },
                ),
            ],
            ..Program::default()
        }
    }

    fn node(heap: &mut Heap, value: i64, link: Value) -> Value {
        let n = heap.new_record(2, 0, &[Value::int(value), link]);
        Value::handle(heap.gc_new(1, Value::handle(n)))
    }

    fn link(heap: &mut Heap, from: Value, to: Value) {
        heap.gc_retain(to.as_handle());
        let n = heap.fields(from.as_handle())[0];
        heap.fields_mut(n.as_handle())[1] = to;
    }

    #[test]
    fn the_last_owner_frees_an_acyclic_cell() {
        let prog = program();
        let mut heap = Heap::new();
        let a = node(&mut heap, 1, Value::NONE);
        let b = node(&mut heap, 2, a);
        heap.gc_retain(b.as_handle());
        heap.free(&prog, b);
        assert_eq!(heap.gc.cells(), 2);
        heap.free(&prog, b);
        assert_eq!((heap.gc.cells(), heap.live()), (0, 0));
    }

    #[test]
    fn a_young_collection_reclaims_an_unreachable_cycle_only() {
        let prog = program();
        let mut heap = Heap::new();
        let (a, b) = (node(&mut heap, 1, Value::NONE), node(&mut heap, 2, Value::NONE));
        link(&mut heap, a, b);
        link(&mut heap, b, a);
        let kept = node(&mut heap, 3, Value::NONE);
        link(&mut heap, kept, kept);
        heap.free(&prog, a);
        heap.free(&prog, b);
        assert_eq!(heap.gc.cells(), 3);
        heap.gc_collect(&prog, false).unwrap();
        // `kept` has an owner outside the heap's cells (the test's).
        assert_eq!((heap.gc.cells(), heap.live()), (1, 2));
        assert_eq!(heap.gc.counters.young_collections, 1);
        heap.free(&prog, kept);
        heap.gc_collect(&prog, true).unwrap();
        assert_eq!((heap.gc.cells(), heap.live()), (0, 0));
    }

    #[test]
    fn old_owners_keep_young_cells_alive() {
        let prog = program();
        let mut heap = Heap::new();
        let old = node(&mut heap, 1, Value::NONE);
        heap.gc_collect(&prog, false).unwrap();
        let young = node(&mut heap, 2, Value::NONE);
        link(&mut heap, old, young);
        heap.free(&prog, young);
        heap.gc_collect(&prog, false).unwrap();
        assert_eq!(heap.gc.cells(), 2);
        let n = heap.fields(old.as_handle())[0];
        let y = heap.fields(n.as_handle())[1];
        let yn = heap.fields(y.as_handle())[0];
        assert_eq!(heap.fields(yn.as_handle())[0].as_int(), 2);
    }

    #[test]
    fn old_cycles_are_found_from_their_candidates_a_budget_at_a_time() {
        let prog = program();
        let mut heap = Heap::new();
        heap.gc.configure(GcConfig { young_gen_size: MIN_YOUNG as u64 * CELL_BYTES, ..GcConfig::default() });
        let mut roots = Vec::new();
        for i in 0..1000 {
            let (a, b) = (node(&mut heap, i, Value::NONE), node(&mut heap, i, Value::NONE));
            link(&mut heap, a, b);
            link(&mut heap, b, a);
            heap.free(&prog, b);
            roots.push(a);
        }
        // The young candidates' cycles are alive: nothing is deferred.
        heap.gc_collect(&prog, false).unwrap();
        assert_eq!((heap.gc.cells(), heap.gc.pending(), heap.gc.deferred.len()), (2000, 0, 0));
        for a in roots {
            heap.free(&prog, a);
        }
        assert_eq!(heap.gc.pending(), 1000);
        // One pass examines about two nurseries' worth of cells.
        heap.gc_step(&prog).unwrap();
        let left = heap.gc.cells();
        assert!((2000 - 4 * MIN_YOUNG..2000 - MIN_YOUNG).contains(&left), "{left} cells left");
        while heap.gc.cells() > 0 {
            heap.gc_step(&prog).unwrap();
        }
        assert_eq!(heap.live(), 0);
    }

    #[test]
    fn a_pause_whose_slice_is_spent_still_progresses_and_paces_the_nursery() {
        let prog = program();
        let mut heap = Heap::new();
        // A 1 us pause target: every slice is spent at once.
        heap.gc.configure(GcConfig { mode: GcMode::LowLatency, pause_target_us: 1, ..GcConfig::default() });
        for i in 0..100 {
            let (a, b) = (node(&mut heap, i, Value::NONE), node(&mut heap, i, Value::NONE));
            link(&mut heap, a, b);
            link(&mut heap, b, a);
            heap.free(&prog, a);
            heap.free(&prog, b);
        }
        let nursery = heap.gc.young_limit;
        heap.gc_step(&prog).unwrap();
        // Each pass took one candidate (a garbage cycle); the rest wait,
        // and the nursery halves so that pauses come more often.
        let left = heap.gc.cells();
        assert!((190..200).contains(&left), "{left} cells left");
        assert_eq!(heap.gc.young_limit, nursery / 2);
        while heap.gc.cells() > 0 {
            heap.gc_step(&prog).unwrap();
        }
        assert_eq!((heap.live(), heap.gc.young_limit), (0, MIN_PACED));
    }

    #[test]
    fn a_stale_candidate_is_skipped() {
        let prog = program();
        let mut heap = Heap::new();
        let a = node(&mut heap, 1, Value::NONE);
        heap.gc_retain(a.as_handle());
        heap.free(&prog, a);
        assert_eq!(heap.gc.pending(), 1);
        heap.free(&prog, a);
        // The freed cell's handle is reused by a record that is no cell.
        // (The pool of freed records gives the node's handle first.)
        let made: Vec<Handle> = (0..2).map(|i| heap.new_record(2, 0, &[Value::int(i), Value::NONE])).collect();
        assert!(made.contains(&a.as_handle()));
        heap.gc_collect(&prog, true).unwrap();
        assert_eq!((heap.gc.cells(), heap.live()), (0, 2));
    }

    #[test]
    fn conflicting_borrows_fail_with_codes() {
        let mut heap = Heap::new();
        let a = node(&mut heap, 1, Value::NONE).as_handle();
        heap.gc_borrow(a, false).unwrap();
        heap.gc_borrow(a, false).unwrap();
        assert!(heap.gc_borrow(a, true).unwrap_err().0.contains("G003"));
        heap.gc_unborrow(a);
        heap.gc_unborrow(a);
        heap.gc_borrow(a, true).unwrap();
        assert!(heap.gc_borrow(a, false).unwrap_err().0.contains("G002"));
        heap.gc_unborrow(a);
        heap.gc_borrow(a, false).unwrap();
    }

    #[test]
    fn a_heap_over_its_limit_after_a_full_collection_fails() {
        let prog = program();
        let mut heap = Heap::new();
        heap.gc.configure(GcConfig { max_heap_size: Some(100), ..GcConfig::for_mode(GcMode::Memory) });
        let _a = node(&mut heap, 1, Value::NONE);
        assert!(heap.gc_collect(&prog, false).is_ok());
        assert!(heap.gc_collect(&prog, true).unwrap_err().0.contains("G004"));
    }
}
