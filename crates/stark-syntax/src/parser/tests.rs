use crate::ast::*;
use crate::{parse, Mode, SourceFile};

/// Parses `fn main() { let v = <expr>; }` and renders the initialiser
/// fully parenthesised.
fn expr(src: &str) -> String {
    let file = SourceFile::new("t.stark", format!("fn main() {{ let v = {src}; }}"));
    let parsed = parse(&file, Mode::Extension);
    assert!(parsed.diagnostics.is_empty(), "{src}: {:?}", parsed.diagnostics);
    let ItemKind::Fn(f) = &parsed.program.items[0].kind else { panic!("not a fn") };
    let StmtKind::Let(l) = &f.body.as_ref().unwrap().stmts[0].kind else { panic!("not a let") };
    show(l.init.as_ref().unwrap())
}

fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Lit(Lit::Int { value, .. }) => value.to_string(),
        ExprKind::Lit(Lit::Bool(b)) => b.to_string(),
        ExprKind::Path(p) => p.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join("::"),
        ExprKind::Unary(op, x) => {
            let op = match op {
                UnOp::Neg => "-",
                UnOp::Not => "!",
                UnOp::BitNot => "~",
                UnOp::Deref => "*",
                UnOp::Ref => "&",
                UnOp::RefMut => "&mut ",
            };
            format!("({op}{})", show(x))
        }
        ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op.as_str(), show(b)),
        ExprKind::Assign { op, target, value } => {
            format!("({} {}= {})", show(target), op.map_or("", |o| o.as_str()), show(value))
        }
        ExprKind::Range { start, end, inclusive } => {
            format!("({}{}{})", show(start), if *inclusive { "..=" } else { ".." }, show(end))
        }
        ExprKind::Cast(x, _) => format!("({} as T)", show(x)),
        ExprKind::Call(f, args) => format!("{}({})", show(f), args.iter().map(show).collect::<Vec<_>>().join(", ")),
        ExprKind::MethodCall { receiver, method, args } => {
            format!("{}.{}({})", show(receiver), method.name, args.iter().map(show).collect::<Vec<_>>().join(", "))
        }
        ExprKind::Field(x, name) => format!("{}.{}", show(x), name.name),
        ExprKind::TupleField(x, i, _) => format!("{}.{i}", show(x)),
        ExprKind::Index(x, i) => format!("{}[{}]", show(x), show(i)),
        ExprKind::Try(x) => format!("{}?", show(x)),
        ExprKind::Paren(x) => format!("({})", show(x)),
        ExprKind::Await(x) => format!("(await {})", show(x)),
        ExprKind::Struct { path, fields, base } => {
            format!("{}{{{}{}}}", path.segments[0].name, fields.len(), if base.is_some() { " ..base" } else { "" })
        }
        ExprKind::Closure { params, body, .. } => format!("(|{}| {})", params.len(), show(body)),
        other => format!("<{}>", format!("{other:?}").split(['(', ' ', '{']).next().unwrap()),
    }
}

fn errors(src: &str) -> Vec<&'static str> {
    let file = SourceFile::new("t.stark", src);
    parse(&file, Mode::Extension).diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn precedence_follows_core_v1() {
    assert_eq!(expr("a + b * c"), "(a + (b * c))");
    assert_eq!(expr("a - b - c"), "((a - b) - c)");
    assert_eq!(expr("a ** b ** c"), "(a ** (b ** c))");
    assert_eq!(expr("-x ** 2"), "((-x) ** 2)");
    assert_eq!(expr("a * b ** c"), "(a * (b ** c))");
    assert_eq!(expr("x as T ** 2"), "((x as T) ** 2)");
    assert_eq!(expr("-x as T"), "((-x) as T)");
    assert_eq!(expr("1 << 2 + 3"), "(1 << (2 + 3))");
    assert_eq!(expr("a & b == c"), "((a & b) == c)");
    assert_eq!(expr("a | b ^ c & d"), "(a | (b ^ (c & d)))");
    assert_eq!(expr("a < b == c"), "((a < b) == c)");
    assert_eq!(expr("a || b && c"), "(a || (b && c))");
    assert_eq!(expr("a..b + 1"), "(a..(b + 1))");
    assert_eq!(expr("0..=n"), "(0..=n)");
    assert_eq!(expr("x = y = z"), "(x = (y = z))");
    assert_eq!(expr("x += y * 2"), "(x += (y * 2))");
    assert_eq!(expr("&mut x.y[0]"), "(&mut x.y[0])");
    assert_eq!(expr("&&x"), "(&(&x))");
    assert_eq!(expr("!a.b()?"), "(!a.b()?)");
    assert_eq!(expr("*p + 1"), "((*p) + 1)");
}

#[test]
fn postfix_forms() {
    assert_eq!(expr("pair.0.1"), "pair.0.1");
    assert_eq!(expr("t.0 .1"), "t.0.1");
    assert_eq!(expr("a.b.c(1, 2)[3]"), "a.b.c(1, 2)[3]");
    assert_eq!(expr("size_of::<Int32>()"), "size_of()");
    assert_eq!(expr("String::from(s)"), "String::from(s)");
    assert_eq!(expr("fetch(4).await + await f"), "((await fetch(4)) + (await f))");
    assert_eq!(expr("(a)"), "(a)");
}

#[test]
fn literals_and_aggregates() {
    assert_eq!(expr("P { x: 1, y }"), "P{2}");
    assert_eq!(expr("O { a: 1, ..O::default() }"), "O{1 ..base}");
    assert_eq!(expr("(1,)"), "<Tuple>");
    assert_eq!(expr("()"), "<Tuple>");
    assert_eq!(expr("[0; 4]"), "<ArrayRepeat>");
    assert_eq!(expr("|a, b| a + b"), "(|2| (a + b))");
    assert_eq!(expr("move || 1"), "(|0| 1)");
    assert_eq!(expr("spawn work(1)"), "<Spawn>");
    assert_eq!(expr("if a { 1 } else { 2 }"), "<If>");
}

#[test]
fn comparisons_do_not_chain() {
    assert_eq!(errors("fn f() { let x = a < b < c; }"), ["E1102"]);
    assert_eq!(errors("fn f() { let x = a == b != c; }"), ["E1102"]);
    assert!(errors("fn f() { let x = (a < b) < c; }").is_empty());
}

#[test]
fn generic_closers_are_split() {
    for src in [
        "fn f() { let v: Vec<Vec<Int32>> = x; }",
        "fn f() { let v: Vec<Vec<Int32>>= x; }",
        "fn f() { let v: Vec<Int32>= x; }",
        "fn f() { let v: A<B<C<D>>>= x; }",
        "fn f<T: Iterator<Item = Vec<T>>>() {}",
    ] {
        assert!(errors(src).is_empty(), "{src}: {:?}", errors(src));
    }
}

#[test]
fn block_formed_statements_end_at_their_brace() {
    assert_eq!(errors("fn f() { if c { } + 1; }"), ["E1101"]);
    // `- 1;` after the `if` statement is a statement of its own (negation).
    assert!(errors("fn f() { if c { } - 1; }").is_empty());
    assert!(errors("fn f() -> Int32 { if a { 1 } else { 2 } }").is_empty());
    assert!(errors("fn f() { if a { g(); } h(); loop { } while x { } for i in v { } }").is_empty());
    assert!(errors("fn f() -> Int32 { (if c { 1 } else { 2 }) - 1 }").is_empty());
}

#[test]
fn struct_literal_restriction() {
    // `S {}` after `==` in a condition is a path and a block, not a literal.
    assert!(errors("fn f() { if x == S { } }").is_empty());
    assert_eq!(errors("fn f() { if S { a: 1 }.a { } }"), ["E1111"]);
    assert!(errors("fn f() { if (S { a: 1 }).a { } match (S { a: 1 }) { _ => 1 } }").is_empty());
    assert!(errors("fn f() { for x in v { } while g(S { a: 1 }) { } }").is_empty());
}

#[test]
fn statements_only_where_the_grammar_says() {
    assert_eq!(errors("fn f() { let x = return; }"), ["E1105"]);
    assert_eq!(errors("fn f() { match x { _ => break, } }"), ["E1105"]);
    assert!(errors("fn f() { match x { _ => { return; } } }").is_empty());
}

#[test]
fn several_errors_are_reported() {
    let codes = errors("fn a() { let = 1; }\nfn b() { let y = 1 +; }\nstruct S { x: }\nfn c() { f(1 2); }");
    assert_eq!(codes.len(), 4, "{codes:?}");
}

/// Parses `text` on a thread with a small (512 KiB) stack: deep input must
/// give an error, never a stack overflow, whatever the thread.
fn parse_on_small_stack(text: String) -> Vec<&'static str> {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || errors(&text))
        .unwrap()
        .join()
        .expect("the parser must not crash")
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let n = 100_000;
    let cases = [
        format!("fn f() {{ let x = {}1{}; }}", "(".repeat(n), ")".repeat(n)),
        format!("fn f() {{ let x = {}1; }}", "-".repeat(n)),
        format!("fn f() {{ let x = {}1{}; }}", "[".repeat(n), "]".repeat(n)),
        format!("fn f() {}{}", "{".repeat(n), "}".repeat(n)),
        format!("fn f(x: {}Int32{}) {{}}", "Vec<".repeat(n), ">".repeat(n)),
        format!("fn f() {{ match x {{ {}a{} => 1 }} }}", "(".repeat(n), ")".repeat(n)),
        format!("fn f() {{ let x = {}; }}", "a + ".repeat(n) + "a"),
        format!("fn f() {{ let x = {}1; }}", "a = ".repeat(n)),
        format!("fn f() {{ let x = {}1; }}", "|x| ".repeat(n)),
        "(".repeat(n),
        "{".repeat(n),
    ];
    for text in cases {
        let codes = parse_on_small_stack(text);
        assert!(!codes.is_empty());
    }
}

#[test]
fn moderate_nesting_is_fine() {
    let text = format!("fn f() {{ let x = {}1{}; }}", "(".repeat(200), ")".repeat(200));
    assert!(parse_on_small_stack(text).is_empty());
}

#[test]
fn chains_count_towards_the_depth_limit() {
    // A chain of operators builds a tree as deep as it is long, and every
    // later pass walks that tree: it is bounded like nesting.
    let ok = format!("fn f() {{ let x = {}; }}", "a + ".repeat(400) + "a");
    assert!(parse_on_small_stack(ok).is_empty());
    let calls = format!("fn f() {{ let x = v{}; }}", ".m()".repeat(400));
    assert!(parse_on_small_stack(calls).is_empty());
    let too_long = format!("fn f() {{ let x = {}; }}", "a + ".repeat(100_000) + "a");
    assert_eq!(parse_on_small_stack(too_long), ["E1104"]);
}

#[test]
fn snippets_mix_items_and_statements() {
    let file = SourceFile::new("s.stark", "struct P { x: Int32 }\nlet p = P { x: 1 };\nfn g() {}\np.x");
    let (stmts, diagnostics) = crate::parse_snippet(&file, Mode::Extension);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(stmts.len(), 4);
}

#[test]
fn doc_comments_attach_to_items() {
    let file = SourceFile::new("d.stark", "/** Adds. */\nfn add() {}\n/** stray */ fn x() {}\nfn y() {}");
    let parsed = parse(&file, Mode::Extension);
    let docs: Vec<_> = parsed.program.items.iter().map(|i| i.doc.clone()).collect();
    assert_eq!(docs, [Some("Adds.".into()), Some("stray".into()), None]);
}
