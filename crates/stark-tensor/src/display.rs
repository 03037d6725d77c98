//! `Display` in PyTorch's style, with the shape added:
//!
//! ```text
//! tensor([[1., 2.],
//!         [3., 4.]], shape=[2, 2], dtype=Float32)
//! ```
//!
//! Above `SUMMARY_THRESHOLD` elements, every dimension longer than
//! `2 * EDGE_ITEMS` shows its first and last `EDGE_ITEMS` entries around `...`.
//! Elements share one width (right-aligned) and one float style: `1.` when
//! every shown float is integral, `0.1235` (4 decimals) otherwise, and
//! `1.2346e+08` when magnitudes reach 1e8 or nonzero ones fall below 1e-4.
//! Rows wrap at `LINE_WIDTH` characters; 3-d and higher blocks are separated
//! by a blank line.

use std::fmt;

use crate::dtype::Scalar;
use crate::tensor::Tensor;

/// Element count above which dimensions are summarised with `...`.
pub const SUMMARY_THRESHOLD: usize = 1000;

/// Entries shown at each end of a summarised dimension.
pub const EDGE_ITEMS: usize = 3;

/// Width at which rows of elements wrap.
const LINE_WIDTH: usize = 80;

/// How floats are written, chosen once from all shown elements.
#[derive(Clone, Copy)]
enum FloatStyle {
    Integral,
    Fixed,
    Scientific,
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summarise = self.numel() > SUMMARY_THRESHOLD;
        let mut values = Vec::new();
        self.collect_shown(&mut Vec::new(), summarise, &mut values);
        let texts = format_elements(&values);
        let width = texts.iter().map(String::len).max().unwrap_or(0);
        let mut layout = Layout { texts: texts.into_iter(), width, summarise, out: String::new() };
        if self.rank() == 0 {
            let text = layout.next_text();
            layout.out.push_str(&text);
        } else {
            layout.write_dim(self, &mut Vec::new(), "tensor(".len());
        }
        write!(f, "tensor({}, shape={}, dtype={})", layout.out, self.shape, self.dtype())
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Tensor {
    /// Pushes the shown elements under `index` onto `values`, in display order.
    fn collect_shown(&self, index: &mut Vec<usize>, summarise: bool, values: &mut Vec<Scalar>) {
        if index.len() == self.rank() {
            values.push(self.get(index).expect("shown indices are in bounds"));
            return;
        }
        for i in shown(self.shape[index.len()], summarise).into_iter().flatten() {
            index.push(i);
            self.collect_shown(index, summarise, values);
            index.pop();
        }
    }
}

/// The indices shown along a dimension of `len`; `None` stands for `...`.
fn shown(len: usize, summarise: bool) -> Vec<Option<usize>> {
    if summarise && len > 2 * EDGE_ITEMS {
        let head = (0..EDGE_ITEMS).map(Some);
        let tail = (len - EDGE_ITEMS..len).map(Some);
        head.chain([None]).chain(tail).collect()
    } else {
        (0..len).map(Some).collect()
    }
}

/// The nested-bracket text being built, fed by the formatted elements in order.
struct Layout {
    texts: std::vec::IntoIter<String>,
    width: usize,
    summarise: bool,
    out: String,
}

impl Layout {
    /// The next element, right-aligned to the common width.
    fn next_text(&mut self) -> String {
        let text = self.texts.next().unwrap_or_default();
        format!("{text:>width$}", width = self.width)
    }

    /// Writes the dimension below `index`, whose brackets start at column `indent`.
    fn write_dim(&mut self, t: &Tensor, index: &mut Vec<usize>, indent: usize) {
        let dim = index.len();
        let entries = shown(t.shape[dim], self.summarise);
        self.out.push('[');
        if dim + 1 == t.rank() {
            self.write_row(&entries, indent + 1);
        } else {
            let blank_lines = t.rank() - dim - 2;
            let separator = format!(",{}{}", "\n".repeat(blank_lines + 1), " ".repeat(indent + 1));
            for (n, entry) in entries.iter().enumerate() {
                if n > 0 {
                    self.out.push_str(&separator);
                }
                match entry {
                    Some(i) => {
                        index.push(*i);
                        self.write_dim(t, index, indent + 1);
                        index.pop();
                    }
                    None => self.out.push_str("..."),
                }
            }
        }
        self.out.push(']');
    }

    /// Writes one innermost row, wrapping lines at `LINE_WIDTH`.
    fn write_row(&mut self, entries: &[Option<usize>], indent: usize) {
        let per_line = (LINE_WIDTH.saturating_sub(indent) / (self.width + 2)).max(1);
        for (n, entry) in entries.iter().enumerate() {
            if n > 0 {
                self.out.push(',');
                if n % per_line == 0 {
                    self.out.push('\n');
                    self.out.push_str(&" ".repeat(indent));
                } else {
                    self.out.push(' ');
                }
            }
            match entry {
                Some(_) => {
                    let text = self.next_text();
                    self.out.push_str(&text);
                }
                None => self.out.push_str("..."),
            }
        }
    }
}

/// Each element's text, floats in one style chosen from all of them.
fn format_elements(values: &[Scalar]) -> Vec<String> {
    let floats: Vec<f64> = values.iter().filter_map(as_float).filter(|x| x.is_finite()).collect();
    let style = float_style(&floats);
    values
        .iter()
        .map(|v| match as_float(v) {
            Some(x) => format_float(x, style),
            None => v.to_string(),
        })
        .collect()
}

/// The value as `f64` if it is a float element.
fn as_float(value: &Scalar) -> Option<f64> {
    match *value {
        Scalar::Float32(x) => Some(x as f64),
        Scalar::Float64(x) => Some(x),
        _ => None,
    }
}

/// The style that shows every finite value in `finite` well.
fn float_style(finite: &[f64]) -> FloatStyle {
    let max = finite.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let min_nonzero = finite.iter().filter(|x| **x != 0.0).fold(f64::INFINITY, |m, x| m.min(x.abs()));
    if max >= 1e8 || min_nonzero < 1e-4 {
        FloatStyle::Scientific
    } else if finite.iter().all(|x| x.fract() == 0.0) {
        FloatStyle::Integral
    } else {
        FloatStyle::Fixed
    }
}

/// One float in `style`; NaN and infinities as `nan`, `inf`, `-inf`.
fn format_float(x: f64, style: FloatStyle) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    match style {
        FloatStyle::Integral => format!("{x:.0}."),
        FloatStyle::Fixed => format!("{x:.4}"),
        FloatStyle::Scientific => {
            let text = format!("{x:.4e}");
            let (mantissa, exponent) = text.split_once('e').expect("`e` format has an exponent");
            let exponent: i32 = exponent.parse().expect("`e` format exponent is an integer");
            let sign = if exponent < 0 { '-' } else { '+' };
            format!("{mantissa}e{sign}{:02}", exponent.abs())
        }
    }
}
