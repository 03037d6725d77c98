//! The checker end to end, on in-memory file systems.

use crate::fs::MemoryFileSystem;
use crate::{check, Checked};
use stark_syntax::{Mode, Severity};
use std::path::Path;

fn check_files(files: &[(&str, &str)]) -> Checked {
    let mut fs = MemoryFileSystem::new();
    for (path, text) in files {
        fs.insert(path, *text);
    }
    check(Path::new(files[0].0), &fs, Mode::Extension)
}

/// The codes of the errors (warnings left out).
fn codes(files: &[(&str, &str)]) -> Vec<&'static str> {
    check_files(files).diagnostics.iter().filter(|d| d.severity == Severity::Error).map(|d| d.code).collect()
}

/// Every code, warnings included.
fn all_codes(text: &str) -> Vec<&'static str> {
    check_files(&[("/p/main.stark", text)]).diagnostics.iter().map(|d| d.code).collect()
}

/// A program that must check without errors, and its types.
fn clean(text: &str) -> (Checked, crate::Typed) {
    let mut checked = check_files(&[("/p/main.stark", text)]);
    assert!(checked.diagnostics.iter().all(|d| d.severity != Severity::Error), "{:?}", checked.diagnostics);
    let typed = checked.typeck.take().expect("types checked");
    (checked, typed)
}

fn one(text: &str) -> Vec<&'static str> {
    codes(&[("/p/main.stark", text)])
}

#[test]
fn prelude_names_resolve() {
    let src = "fn main() { let v: Vec<Int32> = Vec::new(); let o = Some(1); let r: Result<Int32, String> = Ok(2); println(v.len()); match o { Some(x) => x, None => 0 }; }";
    assert_eq!(one(src), Vec::<&str>::new());
}

#[test]
fn undefined_names_have_their_codes() {
    assert_eq!(one("fn main() { let x = y; }"), ["E0200"]);
    assert_eq!(one("fn main() { nothing(); }"), ["E0201"]);
    assert_eq!(one("fn f(x: Missing) {}"), ["E0202"]);
    assert_eq!(one("use nowhere::thing;\nfn main() {}"), ["E0205"]);
}

#[test]
fn let_is_not_visible_in_its_own_initializer() {
    assert_eq!(one("fn main() { let x = x; }"), ["E0200"]);
    assert_eq!(one("fn main() { let x = 1; { let x = x + 1; } }"), Vec::<&str>::new());
}

#[test]
fn same_scope_redeclaration_is_an_error_but_shadowing_is_not() {
    assert_eq!(one("fn main() { let x = 1; let x = 2; }"), ["E0204"]);
    assert_eq!(one("fn main() { let x = 1; { let x = 2; } }"), Vec::<&str>::new());
    assert_eq!(one("fn f() {}\nfn f() {}"), ["E0204"]);
    assert_eq!(one("fn main() { match (1, 2) { (a, a) => 0 }; }"), ["E0204"]);
    // Different namespaces may share a spelling.
    assert_eq!(one("struct S {}\nfn S() {}"), Vec::<&str>::new());
}

#[test]
fn modules_use_trees_and_visibility() {
    let src = "
mod shapes {
    pub struct Circle { pub r: Int32 }
    struct Secret {}
    pub mod inner { pub fn area() -> Int32 { 1 } }
}
use shapes::{Circle, inner::{self, area}};
use shapes::inner as other;
fn main() { let c = Circle { r: 1 }; area(); inner::area(); other::area(); }";
    assert_eq!(one(src), Vec::<&str>::new());
    assert_eq!(one("mod m { fn hidden() {} }\nfn main() { m::hidden(); }"), ["E0207"]);
    assert_eq!(one("mod m { fn hidden() {} pub mod c { pub fn f() { super::hidden(); } } }"), Vec::<&str>::new());
    assert_eq!(one("fn f() { super::g(); }"), ["E0206"]);
}

#[test]
fn imports_resolve_in_any_order_and_globs_lose_to_items() {
    let src = "use b::y;\nmod a { pub use super::c::z as y; }\nmod b { pub use super::a::y; }\nmod c { pub fn z() {} }\nfn main() { y(); }";
    assert_eq!(one(src), Vec::<&str>::new());
    let glob = "mod m { pub fn f() {} pub fn g() {} }\nuse m::*;\nfn g() {}\nfn main() { f(); g(); }";
    assert_eq!(one(glob), Vec::<&str>::new());
    let clash = "mod a { pub fn f() {} }\nmod b { pub fn f() {} }\nuse a::*;\nuse b::*;\nfn main() { f(); }";
    assert_eq!(one(clash), ["E0203"]);
    assert_eq!(one("mod a { pub fn f() {} }\nuse a::f;\nfn f() {}"), ["E0204"]);
}

#[test]
fn patterns_test_constants_and_variants_and_bind_the_rest() {
    let src = "const LIMIT: Int32 = 3;\nenum E { A, B(Int32) }\nuse E::A;\nfn main() { match E::B(1) { A => 0, E::B(n) => n }; match 3 { LIMIT => 1, other => other }; }";
    assert_eq!(one(src), Vec::<&str>::new());
}

#[test]
fn self_and_generics() {
    let src = "trait T { type Item; fn make() -> Self; fn get(&self) -> Self::Item; }\nstruct P<X> { x: X }\nimpl<X: Clone> P<X> { fn new(x: X) -> Self { Self { x } } fn same(self) -> P<X> { self } }\nfn id<U>(u: U) -> U { u }";
    assert_eq!(one(src), Vec::<&str>::new());
    assert_eq!(one("fn f() -> Self { f() }"), ["E0202"]);
}

#[test]
fn actor_fields_are_in_scope_in_handlers() {
    let src = "actor Counter { mut n: Int = 0, fn on_receive(x: Int) -> Int { n += x; n } }\nfn main() {}";
    assert_eq!(one(src), Vec::<&str>::new());
}

#[test]
fn file_modules_load_relative_to_their_declaring_file() {
    let files = [
        ("/p/src/main.stark", "mod net;\nuse net::http::get;\nfn main() { get(); }"),
        ("/p/src/net/mod.stark", "pub mod http;"),
        ("/p/src/net/http.stark", "pub fn get() {}"),
    ];
    assert_eq!(codes(&files), Vec::<&str>::new());
    assert_eq!(codes(&[("/p/main.stark", "mod gone;\nfn main() {}")]), ["E0208"]);
    let both = [("/p/main.stark", "mod two;"), ("/p/two.stark", ""), ("/p/two/mod.stark", "")];
    assert_eq!(codes(&both), ["E0208"]);
}

#[test]
fn errors_point_into_the_right_file() {
    let files = [("/p/main.stark", "mod util;\nfn main() {}"), ("/p/util.stark", "fn broken() { missing(); }")];
    let checked = check_files(&files);
    let span = checked.diagnostics[0].primary_span().unwrap();
    let file = checked.map.get(checked.map.file_id_of(span));
    assert_eq!(file.name(), "/p/util.stark");
}

#[test]
fn packages_with_path_dependencies() {
    let files = [
        ("/w/app/src/main.stark", "use base::shared;\nfn main() { shared(1); }"),
        (
            "/w/app/starkpkg.json",
            r#"{"name": "app", "version": "0.1.0", "dependencies": {"base": {"path": "../base"}}}"#,
        ),
        ("/w/base/starkpkg.json", r#"{"name": "base", "version": "0.1.0"}"#),
        ("/w/base/src/main.stark", "pub fn shared(v: Int32) -> Int32 { v }\nfn private() {}"),
    ];
    assert_eq!(codes(&files), Vec::<&str>::new());
    let mut private = files;
    private[0].1 = "use base::private;\nfn main() {}";
    assert_eq!(codes(&private), ["E0207"]);
    let cyclic = [
        ("/w/a/src/main.stark", ""),
        ("/w/a/starkpkg.json", r#"{"name": "a", "version": "0.1.0", "dependencies": {"b": {"path": "../b"}}}"#),
        ("/w/b/starkpkg.json", r#"{"name": "b", "version": "0.1.0", "dependencies": {"a": {"path": "../a"}}}"#),
        ("/w/b/src/main.stark", ""),
    ];
    assert_eq!(codes(&cyclic), ["E0232"]);
}

#[test]
fn unused_let_bindings_warn_but_parameters_and_underscores_do_not() {
    assert_eq!(all_codes("fn f(p: Int32) { let x = 1; let _y = 2; }"), ["W0001"]);
}

#[test]
fn literal_types_and_mismatches() {
    assert_eq!(one("fn main() { let x: Int64 = 5; let y: Float32 = 1.5; let z: UInt8 = 255; }"), Vec::<&str>::new());
    assert_eq!(one("fn main() { let z: UInt8 = 256; }"), ["E0008"]);
    assert_eq!(one("fn main() { let z = 300u8; }"), ["E0008"]);
    assert_eq!(one("fn main() { let s: String = 42; }"), ["E0001"]);
    // Too big for Int32 without annotation: the literal is an Int64.
    assert_eq!(one("fn main() { let big = 9223372036854775807; let n: Int64 = big; }"), Vec::<&str>::new());
}

#[test]
fn calls_generics_and_inference() {
    let src = "fn id<T>(x: T) -> T { x }\nfn main() { let a: Int64 = id(5); let v: Vec<Int32> = Vec::new(); let w = Vec::new(); let n: Int32 = 1; let mut u = w; u.push(n); }";
    assert_eq!(one(src), Vec::<&str>::new());
    assert_eq!(one("fn add(a: Int32, b: Int32) -> Int32 { a + b }\nfn main() { add(1); }"), ["E0005"]);
    assert_eq!(one("fn main() { let n = size_of(); }"), ["E0004"]);
}

#[test]
fn methods_traits_and_bounds() {
    let src = "struct P { x: Int32 }\nimpl P { fn get(&self) -> Int32 { self.x } fn bump(&mut self) { self.x += 1; } }\n\
               trait Show { fn show(&self) -> String; }\nimpl Show for P { fn show(&self) -> String { String::from(\"p\") } }\n\
               fn print_it<T: Show>(t: &T) -> String { t.show() }\n\
               fn main() { let mut p = P { x: 1 }; p.bump(); let n: Int32 = p.get(); let s = print_it(&p); println(s); println(n); }";
    assert_eq!(one(src), Vec::<&str>::new());
    assert_eq!(
        one("struct P { x: Int32 }\nimpl P { fn bump(&mut self) {} }\nfn main() { let p = P { x: 1 }; p.bump(); }"),
        ["E0400"]
    );
    assert_eq!(one("struct Q {}\nfn main() { println(Q {}); }"), ["E0500"]);
    assert_eq!(one("trait T { fn a(&self); }\nstruct S {}\nimpl T for S {}"), ["E0500"]);
}

#[test]
fn control_flow_and_initialization() {
    assert_eq!(one("fn f(c: Bool) -> Int32 { if c { return 1; } }"), ["E0301"]);
    assert_eq!(one("fn f() -> Int32 { loop { } }"), Vec::<&str>::new());
    assert_eq!(one("fn f() { break; }"), ["E0302"]);
    assert_eq!(one("fn f(c: Bool) { let x: Int32; if c { x = 1; } println(x); }"), ["E0401"]);
    assert_eq!(one("fn f(c: Bool) { let x: Int32; if c { x = 1; } else { x = 2; } println(x); }"), Vec::<&str>::new());
    assert_eq!(one("fn f() { let x: Int32; x = 1; x = 2; println(x); }"), ["E0400"]);
    assert_eq!(one("fn f() { let x = 1; x = 2; }"), ["E0400"]);
}

#[test]
fn exhaustiveness_reports_a_missing_value() {
    let checked = check_files(&[(
        "/p/main.stark",
        "enum C { R, G, B }\nfn f(c: C) -> Int32 { match c { C::R => 1, C::G => 2 } }",
    )]);
    let d = &checked.diagnostics[0];
    assert_eq!(d.code, "E0303");
    assert!(d.message.contains("C::B"), "{}", d.message);
    assert_eq!(one("fn f(o: Option<Bool>) -> Int32 { match o { Some(true) => 1, None => 0 } }"), ["E0303"]);
    assert_eq!(
        one("fn f(o: Option<Bool>) -> Int32 { match o { Some(true) => 1, Some(false) => 2, None => 0 } }"),
        Vec::<&str>::new()
    );
    assert_eq!(all_codes("fn f(b: Bool) -> Int32 { match b { _ => 1, true => 2 } }"), ["W0006"]);
}

#[test]
fn item_well_formedness() {
    assert_eq!(one("fn main(x: Int32) {}"), ["E0214"]);
    assert_eq!(one("struct N { next: N }"), ["E0217"]);
    assert_eq!(one("struct N { next: Option<Box<N>> }"), Vec::<&str>::new());
    assert_eq!(one("fn f() -> Int32 { 1 }\nconst C: Int32 = f();"), ["E0215"]);
    assert_eq!(one("type A = B;\ntype B = A;"), ["E0216", "E0216"]);
}

#[test]
fn broadcasting_aligns_trailing_dimensions() {
    let ok = "fn main() { let a: Tensor<Float32>[4, 1, 3] = Tensor::ones([4, 1, 3]); let b: Tensor<Float32>[2, 3] = Tensor::ones([2, 3]); let c: Tensor<Float32>[4, 2, 3] = a + b; println(c.numel()); }";
    assert_eq!(one(ok), Vec::<&str>::new());
    let bad = "fn main() { let a: Tensor<Float32>[2, 3] = Tensor::ones([2, 3]); let b: Tensor<Float32>[2] = Tensor::ones([2]); let c = a * b; println(c.numel()); }";
    assert_eq!(one(bad), ["E0212"]);
}

#[test]
fn named_dimensions_are_bound_per_call() {
    let lin = "fn lin(x: Tensor<Float32>[n, 3], w: Tensor<Float32>[3, k]) -> Tensor<Float32>[n, k] { x.matmul(&w) }\n";
    let ok = format!("{lin}fn main() {{ let y: Tensor<Float32>[7, 5] = lin(Tensor::ones([7, 3]), Tensor::ones([3, 5])); println(y.numel()); }}");
    assert_eq!(one(&ok), Vec::<&str>::new());
    // The result takes the sizes the arguments bound: [7, 5], not [7, 4].
    let bad = format!("{lin}fn main() {{ let y: Tensor<Float32>[7, 4] = lin(Tensor::ones([7, 3]), Tensor::ones([3, 5])); println(y.numel()); }}");
    assert_eq!(one(&bad), ["E0212"]);
}

#[test]
fn reshape_to_minus_one_takes_the_rest() {
    let src = "fn main() { let t: Tensor<Float32>[2, 6] = Tensor::zeros([2, 6]); let r: Tensor<Float32>[3, 4] = t.reshape([3, -1]); println(r.numel()); }";
    assert_eq!(one(src), Vec::<&str>::new());
}

#[test]
fn tensor_element_type_defaults_to_float32() {
    // As in the founding document: `Tensor::rand([..])` with no annotation.
    let src = "fn main() { let a = Tensor::rand([2, 2]); let f: Float32 = a.sum(); let b = Tensor::full([2], 0.5); let g: Float32 = b.max(); println(f + g); }";
    assert_eq!(one(src), Vec::<&str>::new());
    // An inferred element type wins over the default.
    let src = "fn main() { let a = Tensor::zeros([2]); let x: Int64 = a.sum(); println(x); }";
    assert_eq!(one(src), Vec::<&str>::new());
}

#[test]
fn shapes_index_by_axis_and_arrays_have_slice_methods() {
    let src = "fn main() { let t: Tensor<Float32>[4, 5] = Tensor::zeros([4, 5]); let n: Int64 = t.shape()[1]; let v: Vec<Int64> = [n, 2].to_vec(); println(v.len()); }";
    assert_eq!(one(src), Vec::<&str>::new());
    let src = "fn main() { let t: Tensor<Float32>[4] = Tensor::zeros([4]); let s = t.shape(); println(s[0..1]); }";
    assert_eq!(one(src), ["E0017"]);
}

#[test]
fn an_element_may_be_the_left_operand_of_a_tensor_operator() {
    let src = "fn main() { let t: Tensor<Float64>[3] = Tensor::ones([3]); println(1.0 - &t); println(2.0 * t); }";
    assert_eq!(one(src), Vec::<&str>::new());
}

#[test]
fn closures_record_what_they_capture() {
    let src = "fn main() { let a = 1; let b = 2; let f = move |x: Int32| x + a; let t = spawn { b * 2 }; println(f(1) + t.join()); }";
    let (checked, typed) = clean(src);
    let mut captured: Vec<(String, bool)> = typed
        .results
        .captures
        .values()
        .flatten()
        .map(|c| (checked.resolutions.locals[c.local as usize].name.to_string(), c.by_move))
        .collect();
    captured.sort();
    assert_eq!(captured, [("a".to_string(), true), ("b".to_string(), true)]);
}

#[test]
fn actor_protocol_comes_from_on_receive() {
    let actor = "actor Echo { mut seen: Int = 0, fn on_receive(s: String) -> Int { seen += 1; seen } }\n";
    let ok = format!("{actor}fn main() {{ let e: ActorRef<String, Int> = spawn_actor(Echo::new()); let n: Int = e.ask(String::from(\"hi\")).await; println(n); }}");
    assert_eq!(one(&ok), Vec::<&str>::new());
    let bad = format!("{actor}fn main() {{ let e = spawn_actor(Echo::new()); e.tell(3); }}");
    assert_eq!(one(&bad), ["E0001"]);
}

#[test]
fn calls_record_their_instances() {
    let src = "fn id<T>(x: T) -> T { x }\nfn main() { let a = id(3); let mut v: Vec<Int64> = Vec::new(); v.push(a as Int64); }";
    let (checked, typed) = clean(src);
    // The program's own calls (the library's bodies make calls too).
    let mut seen: Vec<(String, String)> = typed
        .results
        .instances
        .iter()
        .filter(|(span, _)| (span.hi as usize) <= src.len())
        .map(|(_, i)| {
            let args: Vec<String> =
                i.args.iter().map(|(n, t)| format!("{n}={}", typed.types.display(*t, &checked.defs))).collect();
            (checked.defs.def(i.def).name.to_string(), args.join(","))
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("id".to_string(), "T=Int32".to_string()),
            ("new".to_string(), "Self=Vec<Int64>,T=Int64".to_string()),
            ("push".to_string(), "T=Int64".to_string()),
        ]
    );
}

#[test]
fn a_missing_entry_file_is_reported_as_unreadable() {
    let fs = MemoryFileSystem::new();
    let checked = check(Path::new("/p/missing.stark"), &fs, Mode::Extension);
    let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0208"]);
    assert!(checked.diagnostics[0].message.contains("cannot read"), "{}", checked.diagnostics[0].message);
}
