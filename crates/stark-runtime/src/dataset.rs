//! The runtime side of `Dataset` (LANGUAGE.md section 8): a lazy pipeline
//! pulled one item at a time. The source reads a CSV file's rows on demand
//! (each row a `Float32` tensor of its fields); `batch`, `shuffle` and
//! `prefetch` are stages here; `map` and `parallel_preprocess` are stages
//! whose functions the program runs: when one needs its functions applied,
//! `step` says so, the program takes the inputs, applies them (in parallel
//! tasks for `parallel_preprocess`) and gives the outputs back in order.

use stark_tensor::Tensor;
use std::collections::VecDeque;
use std::fs::File;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;

/// A data error: the message (with its code) the program traps with.
pub(crate) type DataError = String;

/// What `step` found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// An item is ready (`take_item`).
    Item,
    /// Stage `k` needs its functions applied to the inputs it holds.
    Apply(usize),
    /// The dataset is exhausted.
    End,
}

/// A `Dataset`'s pipeline, shared by the program's `Dataset` value.
pub(crate) struct DataPipe {
    inner: Mutex<Pipe>,
}

/// The source and the stages; `out[k]` holds what stage `k` (0: the
/// source) has produced and the stage after it has not taken yet.
struct Pipe {
    source: Source,
    stages: Vec<Stage>,
    out: Vec<VecDeque<Tensor>>,
    /// The stage whose functions are being applied, and its inputs.
    applying: Option<(usize, Vec<Tensor>)>,
}

/// Where the items come from.
enum Source {
    /// A CSV file read a row at a time.
    Csv(CsvRows),
    /// An earlier pipeline running ahead on a thread (`prefetch`).
    Ahead(Receiver<Result<Tensor, DataError>>),
}

/// One stage.
enum Stage {
    /// Stacks `n` items into one `[n, ..]` tensor (the last may be smaller).
    Batch { n: usize },
    /// Keeps `cap` items and gives a random one of them each time.
    Shuffle { cap: usize, buffer: Vec<Tensor>, rng: SplitMix, ended: bool },
    /// Functions the program applies, to one item at a time (`map`) or to
    /// up to `chunk` items at once in parallel (`parallel_preprocess`).
    Apply { chunk: usize },
}

/// A CSV file's rows as `Float32` tensors.
struct CsvRows {
    path: String,
    reader: csv::Reader<File>,
    /// The fields per row (the first row's).
    width: Option<usize>,
    record: csv::StringRecord,
    /// Whether the first row has been read (a header is skipped).
    started: bool,
}

impl CsvRows {
    /// Opens `path` (D001 if it cannot be read).
    fn open(path: &str) -> Result<CsvRows, DataError> {
        let file = File::open(path).map_err(|e| format!("D001: cannot read the dataset {path}: {e}"))?;
        let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(file);
        Ok(CsvRows { path: path.to_string(), reader, width: None, record: csv::StringRecord::new(), started: false })
    }

    /// The next row; a first row that is not all numbers is a header and
    /// skipped; a later one that is not, or has another number of fields,
    /// is an error (D002) naming `file:line`.
    fn next_row(&mut self) -> Result<Option<Tensor>, DataError> {
        loop {
            let more = self.reader.read_record(&mut self.record).map_err(|e| self.malformed(&e.to_string()))?;
            if !more {
                return Ok(None);
            }
            if self.record.iter().all(str::is_empty) {
                continue;
            }
            let first = !std::mem::replace(&mut self.started, true);
            let values: Result<Vec<f32>, usize> =
                self.record.iter().enumerate().map(|(i, f)| f.parse::<f32>().map_err(|_| i)).collect();
            let values = match values {
                Ok(v) => v,
                Err(_) if first => continue,
                Err(i) => {
                    let field = self.record.get(i).unwrap_or("");
                    return Err(self.malformed(&format!("field {} \"{field}\" is not a number", i + 1)));
                }
            };
            let width = *self.width.get_or_insert(values.len());
            if values.len() != width {
                return Err(self.malformed(&format!("{} fields, but the first row has {width}", values.len())));
            }
            let n = values.len();
            return Tensor::from_vec(values, &[n]).map(Some).map_err(|e| self.malformed(&e.to_string()));
        }
    }

    /// D002 at the current row's line.
    fn malformed(&self, why: &str) -> DataError {
        let line = self.record.position().map_or(0, |p| p.line());
        format!("D002: malformed row at {}:{line}: {why}", self.path)
    }
}

/// A small seeded generator (SplitMix64) for the shuffle buffer.
struct SplitMix(u64);

impl SplitMix {
    /// A number below `n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

impl Pipe {
    /// Makes stage `k` (0: the source) produce into `out[k]`: `Ok(None)` once
    /// it did, `Some(step)` when it cannot (the source ended, or a stage
    /// needs its functions applied first).
    fn produce(&mut self, k: usize) -> Result<Option<Step>, DataError> {
        if !self.out[k].is_empty() {
            return Ok(None);
        }
        if k == 0 {
            let item = match &mut self.source {
                Source::Csv(rows) => rows.next_row()?,
                Source::Ahead(rx) => rx.recv().ok().transpose()?,
            };
            return Ok(match item {
                Some(t) => {
                    self.out[0].push_back(t);
                    None
                }
                None => Some(Step::End),
            });
        }
        match &self.stages[k - 1] {
            Stage::Batch { n } => self.batch(k, *n),
            Stage::Shuffle { .. } => self.shuffle(k),
            Stage::Apply { chunk } => {
                let chunk = *chunk;
                let mut inputs = Vec::with_capacity(chunk);
                while inputs.len() < chunk {
                    if let Some(step) = self.produce(k - 1)? {
                        if inputs.is_empty() || step != Step::End {
                            self.put_back(k - 1, inputs);
                            return Ok(Some(step));
                        }
                        break;
                    }
                    inputs.extend(self.out[k - 1].pop_front());
                }
                self.applying = Some((k, inputs));
                Ok(Some(Step::Apply(k)))
            }
        }
    }

    /// Returns inputs taken before a stage below asked for its functions.
    fn put_back(&mut self, k: usize, inputs: Vec<Tensor>) {
        for t in inputs.into_iter().rev() {
            self.out[k].push_front(t);
        }
    }

    /// Stacks up to `n` items from stage `k - 1` into `out[k]`.
    fn batch(&mut self, k: usize, n: usize) -> Result<Option<Step>, DataError> {
        let mut items = Vec::with_capacity(n);
        while items.len() < n {
            match self.produce(k - 1)? {
                None => items.extend(self.out[k - 1].pop_front()),
                Some(Step::End) if !items.is_empty() => break,
                Some(step) => {
                    self.put_back(k - 1, items);
                    return Ok(Some(step));
                }
            }
        }
        let refs: Vec<&Tensor> = items.iter().collect();
        let t = Tensor::stack(&refs, 0).map_err(|e| format!("D003: cannot batch the dataset's items: {e}"))?;
        self.out[k].push_back(t);
        Ok(None)
    }

    /// Fills stage `k`'s shuffle buffer from stage `k - 1` and gives a random item of it.
    fn shuffle(&mut self, k: usize) -> Result<Option<Step>, DataError> {
        loop {
            let Stage::Shuffle { cap, buffer, ended, .. } = &self.stages[k - 1] else { return Ok(None) };
            if *ended || buffer.len() >= *cap {
                break;
            }
            match self.produce(k - 1)? {
                None => {
                    let t = self.out[k - 1].pop_front();
                    if let Stage::Shuffle { buffer, .. } = &mut self.stages[k - 1] {
                        buffer.extend(t);
                    }
                }
                Some(Step::End) => {
                    if let Stage::Shuffle { ended, .. } = &mut self.stages[k - 1] {
                        *ended = true;
                    }
                }
                Some(step) => return Ok(Some(step)),
            }
        }
        let Stage::Shuffle { buffer, rng, .. } = &mut self.stages[k - 1] else { return Ok(None) };
        if buffer.is_empty() {
            return Ok(Some(Step::End));
        }
        let i = rng.below(buffer.len());
        let t = buffer.swap_remove(i);
        self.out[k].push_back(t);
        Ok(None)
    }

    /// The next item of a pipeline without functions to apply (`prefetch`'s thread).
    fn next_item(&mut self) -> Result<Option<Tensor>, DataError> {
        let last = self.stages.len();
        match self.produce(last)? {
            None => Ok(self.out[last].pop_front()),
            Some(Step::End) => Ok(None),
            Some(Step::Apply(_)) => Err("internal error: a prefetched stage has functions".into()),
            Some(Step::Item) => Ok(None),
        }
    }
}

impl DataPipe {
    /// A pipeline over the rows of the CSV file at `path`.
    pub fn csv(path: &str) -> Result<DataPipe, DataError> {
        let pipe = Pipe {
            source: Source::Csv(CsvRows::open(path)?),
            stages: Vec::new(),
            out: vec![VecDeque::new()],
            applying: None,
        };
        Ok(DataPipe { inner: Mutex::new(pipe) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pipe> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a stage: `batch(n)`.
    pub fn batch(&self, n: i64) -> Result<(), DataError> {
        let n = positive(n, "Dataset.batch")?;
        self.add(Stage::Batch { n });
        Ok(())
    }

    /// Adds a stage: `shuffle(buffer)` with `seed`.
    pub fn shuffle(&self, cap: i64, seed: i64) -> Result<(), DataError> {
        let cap = positive(cap, "Dataset.shuffle's buffer")?;
        self.add(Stage::Shuffle { cap, buffer: Vec::new(), rng: SplitMix(seed as u64), ended: false });
        Ok(())
    }

    /// Adds a stage whose functions the program applies to `chunk` items at a time.
    pub fn apply(&self, chunk: i64) -> Result<(), DataError> {
        let chunk = positive(chunk, "the number of items to transform at once")?;
        self.add(Stage::Apply { chunk });
        Ok(())
    }

    /// `prefetch(n)`: the pipeline so far runs ahead on a thread, up to `n`
    /// items ahead of the program.
    pub fn prefetch(&self, n: i64) -> Result<(), DataError> {
        let n = positive(n, "Dataset.prefetch")?;
        let mut pipe = self.lock();
        if pipe.stages.iter().any(|s| matches!(s, Stage::Apply { .. })) {
            return Err(
                "not supported yet: Dataset.prefetch after map or parallel_preprocess (put prefetch before them)"
                    .into(),
            );
        }
        let (tx, rx) = sync_channel(n);
        let ahead = Pipe { source: Source::Ahead(rx), stages: Vec::new(), out: vec![VecDeque::new()], applying: None };
        let mut earlier = std::mem::replace(&mut *pipe, ahead);
        std::thread::Builder::new()
            .name("stark-prefetch".into())
            .spawn(move || loop {
                let item = earlier.next_item();
                let last = !matches!(item, Ok(Some(_)));
                if let Some(item) = item.transpose() {
                    if tx.send(item).is_err() {
                        return;
                    }
                }
                if last {
                    return;
                }
            })
            .map_err(|e| format!("D004: cannot start the prefetch thread: {e}"))?;
        Ok(())
    }

    fn add(&self, stage: Stage) {
        let mut pipe = self.lock();
        pipe.stages.push(stage);
        pipe.out.push(VecDeque::new());
    }

    /// Advances the pipeline to the next item or the next functions to apply.
    pub fn step(&self) -> Result<Step, DataError> {
        let mut pipe = self.lock();
        if let Some((k, _)) = &pipe.applying {
            return Ok(Step::Apply(*k));
        }
        let last = pipe.stages.len();
        Ok(pipe.produce(last)?.unwrap_or(Step::Item))
    }

    /// The item `step` found ready.
    pub fn take_item(&self) -> Result<Tensor, DataError> {
        let mut pipe = self.lock();
        let last = pipe.stages.len();
        pipe.out[last].pop_front().ok_or_else(|| "internal error: no dataset item is ready".into())
    }

    /// The inputs of the stage whose functions are to be applied.
    pub fn inputs(&self) -> Vec<Tensor> {
        self.lock().applying.as_ref().map(|(_, inputs)| inputs.clone()).unwrap_or_default()
    }

    /// The outputs of the stage's functions, in the inputs' order.
    pub fn give(&self, outputs: Vec<Tensor>) -> Result<(), DataError> {
        let mut pipe = self.lock();
        let Some((k, inputs)) = pipe.applying.take() else {
            return Err("internal error: no dataset stage was applying".into());
        };
        if outputs.len() != inputs.len() {
            return Err(format!("internal error: {} outputs for {} inputs", outputs.len(), inputs.len()));
        }
        pipe.out[k].extend(outputs);
        Ok(())
    }
}

/// `n` as a size, at least 1 (D005 otherwise).
fn positive(n: i64, what: &str) -> Result<usize, DataError> {
    if n < 1 {
        return Err(format!("D005: {what} must be at least 1, not {n}"));
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> String {
        let dir = std::env::temp_dir().join(format!("stark-dataset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("the file is written");
        path.display().to_string()
    }

    fn drain(pipe: &DataPipe) -> Result<Vec<Vec<f32>>, DataError> {
        let mut out = Vec::new();
        loop {
            match pipe.step()? {
                Step::Item => out.push(pipe.take_item()?.to_vec::<f32>().expect("Float32")),
                Step::Apply(_) => {
                    let doubled = pipe.inputs().iter().map(|t| t.map::<f32, f32>(|x| x * 2.0).expect("map")).collect();
                    pipe.give(doubled)?;
                }
                Step::End => return Ok(out),
            }
        }
    }

    #[test]
    fn rows_skip_a_header_and_batch_with_a_smaller_last_batch() {
        let pipe = DataPipe::csv(&write("a.csv", "x,y\n1,2\n3,4\n5,6\n")).expect("opens");
        pipe.batch(2).expect("a batch stage");
        assert_eq!(drain(&pipe).expect("rows"), vec![vec![1.0, 2.0, 3.0, 4.0], vec![5.0, 6.0]]);
    }

    #[test]
    fn applied_stages_keep_the_order_in_chunks() {
        let pipe = DataPipe::csv(&write("b.csv", "1\n2\n3\n4\n5\n")).expect("opens");
        pipe.apply(2).expect("an apply stage");
        pipe.batch(3).expect("a batch stage");
        assert_eq!(drain(&pipe).expect("rows"), vec![vec![2.0, 4.0, 6.0], vec![8.0, 10.0]]);
    }

    #[test]
    fn shuffle_keeps_every_row_and_a_seed_repeats_the_order() {
        let text: String = (0..50).map(|i| format!("{i}\n")).collect();
        let path = write("c.csv", &text);
        let order = |seed: i64| {
            let pipe = DataPipe::csv(&path).expect("opens");
            pipe.shuffle(8, seed).expect("a shuffle stage");
            drain(&pipe).expect("rows").into_iter().map(|r| r[0] as i64).collect::<Vec<_>>()
        };
        let (a, b) = (order(7), order(7));
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn prefetch_gives_the_same_items() {
        let text: String = (0..20).map(|i| format!("{i},{}\n", i * 10)).collect();
        let pipe = DataPipe::csv(&write("d.csv", &text)).expect("opens");
        pipe.batch(4).expect("a batch stage");
        pipe.prefetch(2).expect("prefetch");
        let rows = drain(&pipe).expect("rows");
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[4], vec![16.0, 160.0, 17.0, 170.0, 18.0, 180.0, 19.0, 190.0]);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        assert!(DataPipe::csv("/no/such/file.csv")
            .err()
            .expect("fails")
            .starts_with("D001: cannot read the dataset /no/such/file.csv"));
        let pipe = DataPipe::csv(&write("e.csv", "a,b\n1,2\n3,x\n")).expect("opens");
        let e = drain(&pipe).expect_err("a malformed row");
        assert!(
            e.starts_with("D002: malformed row at ") && e.ends_with("e.csv:3: field 2 \"x\" is not a number"),
            "{e}"
        );
        let pipe = DataPipe::csv(&write("f.csv", "1,2\n3\n")).expect("opens");
        assert!(drain(&pipe).expect_err("short").ends_with("f.csv:2: 1 fields, but the first row has 2"));
        let pipe = DataPipe::csv(&write("g.csv", "1\n")).expect("opens");
        assert!(pipe.batch(0).expect_err("zero").starts_with("D005"));
        pipe.apply(1).expect("an apply stage");
        assert!(pipe.prefetch(2).expect_err("after map").starts_with("not supported yet"));
    }
}
