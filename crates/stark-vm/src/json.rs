//! `Json` values (issue 11): a STARK `Json` is a runtime object
//! (`Obj::Host`) holding a [`JsonValue`], a `serde_json` tree whose
//! objects keep their keys in insertion order.
//!
//! A `Json` is immutable while shared: it crosses tasks as its `Arc`
//! (nothing is copied), `clone()` shares it, and the building methods
//! (`push`, `insert`) change only the value they are called on (copying
//! the tree first when another holder shares it). Reading a part
//! (`get`, `at`, `as_array`) copies that part out.

use crate::heap::{HostRef, Obj};
use crate::keymap::{KeyMap, Probe};
use crate::native::{Cx, Flow};
use crate::program::{LayoutKind, Program, Slot};
use crate::trap::Fault;
use crate::value::Value;
use serde_json::Value as J;
use std::sync::Arc;

/// The runtime object behind a STARK `Json`.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonValue(pub J);

/// Why a text is not JSON: serde_json's message and where it stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// The line (from 1) where parsing stopped.
    pub line: i64,
    /// The column (from 1) where parsing stopped.
    pub column: i64,
}

/// Parses JSON text (objects keep their keys in order).
pub fn parse(text: &str) -> Result<J, ParseError> {
    serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        // serde_json appends " at line L column C"; the fields say that.
        let message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_string(),
            None => full,
        };
        ParseError { message, line: e.line() as i64, column: e.column() as i64 }
    })
}

/// The JSON text of `v`: compact, or indented by two spaces.
pub fn to_text(v: &J, pretty: bool) -> String {
    let text = if pretty { serde_json::to_string_pretty(v) } else { serde_json::to_string(v) };
    // Serialising a `serde_json::Value` to a string cannot fail.
    text.unwrap_or_default()
}

/// A number as an `Int64`: integers that fit only (`3.0` is a float).
pub fn as_int(v: &J) -> Option<i64> {
    v.as_i64()
}

/// Any number as a `Float64` (a large integer rounds).
pub fn as_float(v: &J) -> Option<f64> {
    v.as_f64()
}

/// A float as JSON: a finite number, else `null` (JSON has no NaN).
pub fn from_float(x: f64) -> J {
    serde_json::Number::from_f64(x).map_or(J::Null, J::Number)
}

/// The element at `index` of an array (`None` out of range or for a non-array).
pub fn at(v: &J, index: i64) -> Option<&J> {
    let i = usize::try_from(index).ok()?;
    v.as_array()?.get(i)
}

/// How many elements an array, entries an object, or characters a string
/// has; 0 for the rest.
pub fn len(v: &J) -> i64 {
    match v {
        J::Array(a) => a.len() as i64,
        J::Object(o) => o.len() as i64,
        J::String(s) => s.chars().count() as i64,
        _ => 0,
    }
}

/// The kind of `v`: `null`, `bool`, `int`, `float`, `string`, `array` or `object`.
pub fn kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(n) if n.is_i64() || n.is_u64() => "int",
        J::Number(_) => "float",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

/// Appends `item` to an array.
pub fn push(v: &mut J, item: J) -> Result<(), String> {
    match v {
        J::Array(a) => {
            a.push(item);
            Ok(())
        }
        other => Err(format!("Json::push on a non-array ({})", kind(other))),
    }
}

/// Sets `key` of an object to `value` (an existing key keeps its place).
pub fn insert(v: &mut J, key: &str, value: J) -> Result<(), String> {
    match v {
        J::Object(o) => {
            o.insert(key.to_string(), value);
            Ok(())
        }
        other => Err(format!("Json::insert on a non-object ({})", kind(other))),
    }
}

/// The `Json` operations (`Native::Json`); the site's layout is the
/// result's where it is an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonOp {
    /// `(text: &str)`: `Result<Json, JsonError>`.
    Parse,
    /// `()`: `null`.
    Null,
    /// `(Bool)`.
    FromBool,
    /// `(Int64)`.
    FromInt,
    /// `(Float64)`: a non-finite float is `null`.
    FromFloat,
    /// `(&str)`: a JSON string.
    FromStr,
    /// `()`: an empty array.
    Array,
    /// `()`: an empty object.
    Object,
    /// `(Vec<Json>)`: an array of them.
    FromList,
    /// `(&mut Json, Json)`.
    Push,
    /// `(&mut Json, &str, Json)`.
    Insert,
    /// `(&Json, &str)`: `Option<Json>`.
    Get,
    /// `(&Json, Int64)`: `Option<Json>`.
    At,
    /// `(&Json)`: `Int64`.
    Len,
    /// `(&Json)`: `String`.
    Kind,
    /// `(&Json)`: `Vec<String>`, an object's keys in order.
    Keys,
    /// `(&Json)`: `Bool`.
    IsNull,
    /// `(&Json)`: `Option<Int64>`.
    AsInt,
    /// `(&Json)`: `Option<Float64>`.
    AsFloat,
    /// `(&Json)`: `Option<String>`.
    AsStr,
    /// `(&Json)`: `Option<Bool>`.
    AsBool,
    /// `(&Json)`: `Option<Vec<Json>>`.
    AsArray,
    /// `(&Json)`: `Option<HashMap<String, Json>>`.
    AsObject,
    /// `(&Json)`: its text, indented.
    Pretty,
}

impl JsonOp {
    /// How many argument registers the operation reads.
    pub fn reads(self) -> u16 {
        match self {
            JsonOp::Null | JsonOp::Array | JsonOp::Object => 0,
            JsonOp::Push | JsonOp::Get | JsonOp::At => 2,
            JsonOp::Insert => 3,
            _ => 1,
        }
    }
}

/// The layout held by variant `tag` of enum layout `layout` (`Some`, `Ok`, `Err`).
pub(crate) fn variant_layout(prog: &Program, layout: u32, tag: usize) -> u32 {
    match &prog.layout(layout).kind {
        LayoutKind::Enum { variants } => match variants.get(tag).and_then(|v| v.1.first()) {
            Some(Slot::Owned(l)) => *l,
            _ => layout,
        },
        _ => layout,
    }
}

/// A `HashMap<String, _>` table with string `keys` in order, which must
/// be distinct (a JSON object's, a response's header names), the entries'
/// handles left to be filled (`(NONE, NONE)`).
pub(crate) fn string_table(keys: impl Iterator<Item = String>) -> KeyMap<(Value, Value)> {
    let mut map = KeyMap::default();
    for k in keys {
        map.push(Probe::Str(&k).hash(), (Value::NONE, Value::NONE));
    }
    map
}

impl Cx<'_> {
    /// The value behind a `Json` argument (an owned handle or a
    /// reference), shared.
    fn json_arg(&mut self, i: usize) -> Result<Arc<JsonValue>, Fault> {
        let h = self.arg(i).as_handle();
        match self.task.heap.get(h) {
            Obj::Host(r) => r.clone().downcast::<JsonValue>().map_err(|_| not_json()),
            _ => Err(not_json()),
        }
    }

    /// Takes an owned `Json` argument out of the heap.
    fn take_json(&mut self, i: usize) -> Result<J, Fault> {
        let h = self.arg(i).as_handle();
        match self.task.heap.take(h) {
            Obj::Host(r) => Ok(unshare(r)?),
            _ => Err(not_json()),
        }
    }

    /// A new `Json` object of this heap.
    fn new_json(&mut self, v: J) -> Value {
        let r: HostRef = Arc::new(JsonValue(v));
        Value::handle(self.task.heap.alloc(Obj::Host(r)))
    }

    /// Runs a `Json` operation.
    pub(crate) fn json_op(&mut self, op: JsonOp) -> Result<Flow, Fault> {
        use JsonOp::*;
        let a = self.arg(0);
        let r = match op {
            Parse => self.json_parse(),
            Null => self.new_json(J::Null),
            FromBool => self.new_json(J::Bool(a.bits != 0)),
            FromInt => self.new_json(J::from(a.as_int())),
            FromFloat => self.new_json(from_float(a.as_f64())),
            FromStr => {
                let s = self.str_arg(0);
                self.new_json(J::String(s))
            }
            Array => self.new_json(J::Array(Vec::new())),
            Object => self.new_json(J::Object(serde_json::Map::new())),
            FromList => self.json_from_list()?,
            Push | Insert => self.json_change(op)?,
            _ => self.json_read(op)?,
        };
        self.ret(r);
        Ok(Flow::Done)
    }

    /// `Json::parse`: `Ok(Json)` or `Err(JsonError { message, line, column })`.
    fn json_parse(&mut self) -> Value {
        let text = self.str_arg(0);
        match parse(&text) {
            Ok(v) => {
                let j = self.new_json(v);
                self.result(0, j)
            }
            Err(e) => {
                let layout = variant_layout(self.prog, self.site.layout, 1);
                let message = self.new_str(e.message);
                let fields = [message, Value::int(e.line), Value::int(e.column)];
                let err = Value::handle(self.task.heap.new_record(layout, 0, &fields));
                self.result(1, err)
            }
        }
    }

    /// `Json::from_list(items)`: the list and its `Json`s are consumed.
    fn json_from_list(&mut self) -> Result<Value, Fault> {
        let list = self.arg(0).as_handle();
        let handles = std::mem::take(self.task.heap.items_mut(list));
        self.task.heap.free_shell(list);
        let mut items = Vec::with_capacity(handles.len());
        for h in handles {
            match self.task.heap.take(h.as_handle()) {
                Obj::Host(r) => items.push(unshare(r)?),
                _ => return Err(not_json()),
            }
        }
        Ok(self.new_json(J::Array(items)))
    }

    /// `push` and `insert`: the receiver's tree is replaced by a changed
    /// one (copied first if another holder shares it).
    fn json_change(&mut self, op: JsonOp) -> Result<Value, Fault> {
        let target = self.arg(0).as_handle();
        let (item, key) = match op {
            JsonOp::Push => (self.take_json(1)?, None),
            _ => (self.take_json(2)?, Some(self.str_arg(1))),
        };
        let old = match std::mem::replace(self.task.heap.get_mut(target), Obj::Free(0)) {
            Obj::Host(r) => r,
            other => {
                *self.task.heap.get_mut(target) = other;
                return Err(not_json());
            }
        };
        let mut tree = unshare(old)?;
        let changed = match key {
            None => push(&mut tree, item),
            Some(k) => insert(&mut tree, &k, item),
        };
        let r: HostRef = Arc::new(JsonValue(tree));
        *self.task.heap.get_mut(target) = Obj::Host(r);
        changed.map_err(Fault::new)?;
        Ok(Value::UNIT)
    }

    /// The reading operations.
    fn json_read(&mut self, op: JsonOp) -> Result<Value, Fault> {
        use JsonOp::*;
        let shared = self.json_arg(0)?;
        let v = &shared.0;
        Ok(match op {
            Get | At => {
                let part = match op {
                    Get => {
                        let key = self.str_arg(1);
                        v.get(&key).cloned()
                    }
                    _ => at(v, self.arg(1).as_int()).cloned(),
                };
                let part = part.map(|p| self.new_json(p));
                self.option_of(part)
            }
            Len => Value::int(len(v)),
            Kind => {
                let k = kind(v).to_string();
                self.new_str(k)
            }
            IsNull => Value::from_bits(v.is_null() as u64),
            AsInt => {
                let n = as_int(v).map(Value::int);
                self.option_of(n)
            }
            AsFloat => {
                let x = as_float(v).map(Value::f64);
                self.option_of(x)
            }
            AsBool => {
                let b = v.as_bool().map(|b| Value::from_bits(b as u64));
                self.option_of(b)
            }
            AsStr => {
                let s = v.as_str().map(str::to_string);
                let s = s.map(|s| self.new_str(s));
                self.option_of(s)
            }
            Pretty => {
                let text = to_text(v, true);
                self.new_str(text)
            }
            Keys => {
                let keys: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                let items = keys.into_iter().map(|k| self.new_str(k)).collect();
                Value::handle(self.task.heap.alloc(Obj::List { layout: self.site.layout, items }))
            }
            AsArray => self.json_as_array()?,
            _ => self.json_as_object()?,
        })
    }

    /// `Some(v)` or `None` of the site's `Option` layout.
    fn option_of(&mut self, v: Option<Value>) -> Value {
        let layout = self.site.layout;
        match v {
            Some(v) => Value::handle(self.task.heap.new_record(layout, 0, &[v])),
            None => Value::handle(self.task.heap.alloc(Obj::Record { layout, tag: 1, fields: Box::new([]) })),
        }
    }

    /// `as_array`: `Some(Vec<Json>)` of copies of the elements.
    fn json_as_array(&mut self) -> Result<Value, Fault> {
        let items = self.json_arg(0)?.0.as_array().cloned();
        let list = items.map(|items| {
            let items = items.into_iter().map(|i| self.new_json(i)).collect();
            let layout = variant_layout(self.prog, self.site.layout, 0);
            Value::handle(self.task.heap.alloc(Obj::List { layout, items }))
        });
        Ok(self.option_of(list))
    }

    /// `as_object`: `Some(HashMap<String, Json>)` of copies of the entries.
    fn json_as_object(&mut self) -> Result<Value, Fault> {
        let Some(entries) = self.json_arg(0)?.0.as_object().cloned() else { return Ok(self.option_of(None)) };
        let mut map = string_table(entries.keys().cloned());
        for ((k, v), slot) in entries.into_iter().zip(map.values_mut()) {
            let key = self.task.heap.new_str(k);
            let r: HostRef = Arc::new(JsonValue(v));
            *slot = (key, Value::handle(self.task.heap.alloc(Obj::Host(r))));
        }
        let layout = variant_layout(self.prog, self.site.layout, 0);
        let m = Value::handle(self.task.heap.alloc(Obj::Map { layout, map: Box::new(map) }));
        Ok(self.option_of(Some(m)))
    }
}

/// The tree of a `Json` runtime object, taken out if this is its only
/// holder, else copied.
fn unshare(r: HostRef) -> Result<J, Fault> {
    let r = r.downcast::<JsonValue>().map_err(|_| not_json())?;
    Ok(Arc::try_unwrap(r).map_or_else(|shared| shared.0.clone(), |own| own.0))
}

fn not_json() -> Fault {
    Fault::new("internal error: not a Json value")
}

/// The text of a `Json` runtime object, if `r` is one (for `Display`).
pub fn display(r: &HostRef) -> Option<String> {
    r.downcast_ref::<JsonValue>().map(|j| to_text(&j.0, false))
}

/// Whether two runtime objects are equal `Json` values (`None`: not both `Json`).
pub fn equal(a: &HostRef, b: &HostRef) -> Option<bool> {
    Some(a.downcast_ref::<JsonValue>()? == b.downcast_ref::<JsonValue>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_object_order_and_reports_where() {
        let v = parse(r#"{"b": 1, "a": [true, null, 2.5]}"#).unwrap();
        assert_eq!(to_text(&v, false), r#"{"b":1,"a":[true,null,2.5]}"#);
        let e = parse("{\"a\": 1,\n  oops}").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        assert_eq!(e.message, "key must be a string");
    }

    #[test]
    fn numbers_convert_only_where_exact() {
        let v = parse("[3, 3.0, -7, 18446744073709551615, 1e400]");
        // 1e400 is out of range for a float: serde_json refuses it.
        assert!(v.is_err());
        let v = parse("[3, 3.0, -7, 18446744073709551615]").unwrap();
        assert_eq!(as_int(&v[0]), Some(3));
        assert_eq!(as_int(&v[1]), None, "3.0 is a float");
        assert_eq!(as_float(&v[0]), Some(3.0), "an int reads as a float");
        assert_eq!(as_int(&v[2]), Some(-7));
        assert_eq!(as_int(&v[3]), None, "beyond Int64");
        assert_eq!(as_float(&v[3]), Some(18446744073709551615.0));
        assert_eq!((kind(&v[0]), kind(&v[1]), kind(&v[3])), ("int", "float", "int"));
    }

    #[test]
    fn non_finite_floats_become_null() {
        assert_eq!(from_float(f64::NAN), J::Null);
        assert_eq!(from_float(f64::INFINITY), J::Null);
        assert_eq!(to_text(&from_float(0.5), false), "0.5");
        assert_eq!(to_text(&from_float(2.0), false), "2.0");
    }

    #[test]
    fn indexing_and_lengths() {
        let v = parse(r#"{"xs": [1, 2], "s": "héllo"}"#).unwrap();
        assert_eq!(at(&v["xs"], 1), Some(&J::from(2)));
        assert_eq!(at(&v["xs"], 2), None);
        assert_eq!(at(&v["xs"], -1), None);
        assert_eq!(at(&v, 0), None, "an object is not indexed by position");
        assert_eq!((len(&v), len(&v["xs"]), len(&v["s"]), len(&J::Null)), (2, 2, 5, 0));
    }

    #[test]
    fn building_keeps_insertion_order_and_refuses_wrong_kinds() {
        let mut o = J::Object(serde_json::Map::new());
        insert(&mut o, "z", J::from(1)).unwrap();
        insert(&mut o, "a", J::from(2)).unwrap();
        insert(&mut o, "z", J::from(3)).unwrap();
        assert_eq!(to_text(&o, false), r#"{"z":3,"a":2}"#);
        let mut a = J::Array(Vec::new());
        push(&mut a, J::from("x")).unwrap();
        assert_eq!(to_text(&a, false), r#"["x"]"#);
        assert_eq!(push(&mut o, J::Null).unwrap_err(), "Json::push on a non-array (object)");
        assert_eq!(insert(&mut a, "k", J::Null).unwrap_err(), "Json::insert on a non-object (array)");
    }

    #[test]
    fn strings_are_escaped() {
        let v = J::String("a \"quote\"\n\u{1}".into());
        assert_eq!(to_text(&v, false), r#""a \"quote\"\n\u0001""#);
        assert_eq!(parse(&to_text(&v, false)).unwrap(), v);
    }

    #[test]
    fn unshare_copies_only_when_shared() {
        let r: HostRef = Arc::new(JsonValue(J::from(1)));
        let other = r.clone();
        assert_eq!(unshare(r).unwrap(), J::from(1));
        assert_eq!(display(&other).as_deref(), Some("1"));
        let a: HostRef = Arc::new(JsonValue(J::from(1)));
        assert_eq!(equal(&a, &other), Some(true));
    }
}
