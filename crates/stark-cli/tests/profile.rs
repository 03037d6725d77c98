//! `stark run --profile`: the per-task heap and collector lines.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

#[test]
fn profile_reports_each_tasks_heap_and_collections() {
    let dir = std::env::temp_dir().join(format!("stark-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let program = dir.join("churn.stark");
    std::fs::write(
        &program,
        r#"
struct Node { next: Option<Gc<Node>> }

fn churn(n: Int) -> Int {
    for _ in 0..n {
        let a = Gc::new(Node { next: None });
        let b = Gc::new(Node { next: Some(a.clone()) });
        a.borrow_mut().next = Some(b);
    }
    gc::collect();
    n
}

fn main() {
    gc::configure(GCConfig { mode: GCMode::Memory, ..GCConfig::default() });
    let worker = spawn { churn(20000) };
    println(churn(10000) + worker.join());
}
"#,
    )
    .expect("program written");
    let out = Command::new(env!("CARGO_BIN_EXE_stark"))
        .current_dir(root())
        .args(["run", "--profile"])
        .arg(&program)
        .output()
        .expect("stark runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "30000\n");
    let report = String::from_utf8_lossy(&out.stderr);
    let row = |name: &str| {
        report
            .lines()
            .find(|l| l.starts_with(&format!("profile: heap of `{name}` (1 task)")))
            .unwrap_or_else(|| panic!("no heap line for `{name}` in:\n{report}"))
            .to_string()
    };
    let main = row("main");
    // Each task collects its own heap: the nursery (256 KiB in Memory
    // mode) fills several times over in `main`.
    assert!(main.contains("live ") && main.contains("longest pause"), "{main}");
    let young: u64 = main
        .split("collections ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a young collection count");
    assert!(young >= 2, "{main}");
    assert!(main.contains("+ 1 full"), "{main}");
    // The spawned task has its own heap and collector, under the default
    // mode (`gc::configure` is per task): its nursery never filled.
    let worker = row("main::{closure}");
    assert!(worker.contains("collections 0 young + 1 full"), "{worker}");
}
