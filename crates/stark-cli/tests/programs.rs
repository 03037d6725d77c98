//! Golden tests: every `tests/programs/<area>/<name>.stark` runs through the
//! real `stark` binary, and its stdout, stderr and exit status are compared
//! with `<name>.out` and `<name>.err` beside it (a missing file means
//! "empty"). A program whose expected stderr reports an error must fail
//! with exit status 1; any other must succeed (warnings alone do not fail).
//!
//! The `syntax` area runs `stark parse`, `check` runs `stark check`, other
//! areas run `stark run`. Leading comment lines set options: `// args:
//! --core` passes extra arguments, and `// status: 101` is the expected
//! exit status (otherwise 1 when the expected stderr reports an error, 0
//! else). `// requires: PATH` marks a program that needs a file not in the
//! repository (such as `models/minilm/`, which `models/fetch_minilm.py`
//! fetches): without it, the test is reported as ignored.
//! Programs under `concurrency/`, `actors/` and `net/` run a second time with `--threads 2`,
//! where only the exit status and stdout's lines (in any order) count.
//! `STARK_BLESS=1 cargo test -p stark-cli --test programs` rewrites the
//! expected files from the actual output: review the diff before committing.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let args = Arguments::from_args();
    let root = repo_root();
    let mut programs = Vec::new();
    collect(&root.join("tests/programs"), &mut programs);
    programs.sort();
    let trials = programs
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(&root).expect("under the repository").to_path_buf();
            let name = rel.with_extension("").display().to_string();
            let missing = missing_requirement(&root, &path);
            let root = root.clone();
            Trial::test(name, move || check(&root, &rel)).with_ignored_flag(missing)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Whether the program at `path` requires a file (`// requires: PATH`) that is not there.
fn missing_requirement(root: &Path, path: &Path) -> bool {
    let source = std::fs::read(path).unwrap_or_default();
    header(&source, "requires").is_some_and(|p| !root.join(p.trim()).exists())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "stark") {
            out.push(path);
        }
    }
}

fn check(root: &Path, rel: &Path) -> Result<(), Failed> {
    let area = rel.components().nth(2).map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
    let command = match area.as_str() {
        "syntax" => "parse",
        "check" => "check",
        _ => "run",
    };
    let source = std::fs::read(root.join(rel)).map_err(|e| format!("cannot read the program: {e}"))?;
    let output = Command::new(env!("CARGO_BIN_EXE_stark"))
        .current_dir(root)
        .args([command, "--color", "never"])
        .args(extra_args(&source))
        .arg(rel)
        .output()
        .map_err(|e| format!("cannot run stark: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let out_path = root.join(rel.with_extension("out"));
    let err_path = root.join(rel.with_extension("err"));
    if std::env::var_os("STARK_BLESS").is_some() {
        bless(&out_path, &stdout);
        bless(&err_path, &stderr);
        return Ok(());
    }
    let expected_out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let expected_err = std::fs::read_to_string(&err_path).unwrap_or_default();
    let expected_status = header(&source, "status")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(if expected_err.lines().any(|l| l.starts_with("error")) { 1 } else { 0 });
    let mut problems = Vec::new();
    if output.status.code() != Some(expected_status) {
        problems.push(format!("exit status {:?}, expected {expected_status}", output.status.code()));
    }
    if stdout != expected_out {
        problems.push(format!("stdout differs:\n--- expected\n{expected_out}\n--- actual\n{stdout}"));
    }
    if stderr != expected_err {
        problems.push(format!("stderr differs:\n--- expected\n{expected_err}\n--- actual\n{stderr}"));
    }
    if matches!(area.as_str(), "concurrency" | "actors" | "net") && problems.is_empty() {
        problems.extend(parallel_run(root, rel, &source, &expected_out, expected_status)?);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// A concurrency program runs again on two worker threads, where the
/// interleaving of tasks is free: only order-independent facts are
/// compared (the exit status, and stdout's lines as a multiset).
fn parallel_run(
    root: &Path,
    rel: &Path,
    source: &[u8],
    expected_out: &str,
    expected_status: i32,
) -> Result<Vec<String>, Failed> {
    let args: Vec<String> = extra_args(source).into_iter().filter(|a| a != "--threads" && a != "1").collect();
    let output = Command::new(env!("CARGO_BIN_EXE_stark"))
        .current_dir(root)
        .args(["run", "--color", "never", "--threads", "2"])
        .args(args)
        .arg(rel)
        .output()
        .map_err(|e| format!("cannot run stark: {e}"))?;
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut problems = Vec::new();
    if output.status.code() != Some(expected_status) {
        problems.push(format!("with 2 threads: exit status {:?}, expected {expected_status}", output.status.code()));
    }
    if sorted(&stdout) != sorted(expected_out) {
        problems.push(format!(
            "with 2 threads, stdout's lines differ:\n--- expected\n{expected_out}\n--- actual\n{stdout}"
        ));
    }
    Ok(problems)
}

/// Extra command-line arguments from a leading `// args: --core ...`.
fn extra_args(source: &[u8]) -> Vec<String> {
    header(source, "args").map(|rest| rest.split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
}

/// The text after `// KEY:` in the file's leading comment lines.
fn header(source: &[u8], key: &str) -> Option<String> {
    let text = String::from_utf8_lossy(source);
    let prefix = format!("// {key}:");
    text.lines().take_while(|l| l.starts_with("//")).find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
}

/// Writes `text` as the expected output, or removes the file when empty.
fn bless(path: &Path, text: &str) {
    if text.is_empty() {
        let _ = std::fs::remove_file(path);
    } else {
        std::fs::write(path, text).expect("write expected output");
    }
}
