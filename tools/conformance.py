#!/usr/bin/env python3
r"""Runs the STARK Core v1 conformance corpus against `stark parse` and `stark check`.

Usage: tools/conformance.py SPEC_REPO [--stark PATH]

SPEC_REPO is a checkout (or `git archive` export) of the Core v1
specification repository. Every case in
STARKLANG/tests/spec-fixtures/manifest.toml gets its verdict checked, and
every `.stark` file under starkc/tests/exec_snapshots and
starkc/tests/c6-corpus must parse and check without errors; each
`semantic-error` case must report at least its expected codes under
`stark check`. Nothing is copied into this project.

Execution mode: tools/conformance.py SPEC_REPO --run [--stark PATH]
    [--timeout SECONDS] [--filter TEXT] [-v]

`--run` skips the parse/check pass above and instead runs the execution
corpora through `stark run --color never` and compares what the program
observably does. Each case gets its own process with a timeout (10 s by
default; a timeout is a failure: the VM may hang), and stdin is empty.
Output is compared byte for byte. Per corpus the script prints
"passed X / Y" over the cases that pin something to compare, and lists each
failing case with a one-line reason: the exit status with the first `error`
line of stderr (else its first line), or the first differing line of stdout,
stderr or the Drop log. `-v` adds the full diffs and outputs, `--filter TEXT`
keeps the cases whose name contains TEXT. Cases that pin nothing comparable
are listed and counted as "not compared", never as passes. The exit status
is 0 only when every compared case passed.

1. starkc/tests/exec_snapshots: every `NAME.stark` with a `NAME.snap`
   beside it is one case, run as `stark run NAME.stark` (the multi-file
   case is run through its entry; `helper.stark`, a module it declares,
   has no snapshot and is skipped). A snapshot is either
       STATUS: N\n--- stdout ---\n<stdout>--- stderr ---\n<stderr>
   (the stdout section ends where `--- stderr ---\n` first appears, and
   stderr runs to the end of the file; both are the raw bytes, so a missing
   final newline is significant), compared as exit status, stdout and stderr
   exactly; or `TRAP (is_trap=true): <category>`, which expects exit status
   101 (a STARK trap) and, if a `--- stdout ---` section follows (the format
   the corpus uses never writes one), that stdout. Not compared for traps:
   the category/message and stderr, whose wording is the runtime's own. A
   `TRAP (is_trap=false)` snapshot (entry-point selection failure) is not
   compared. The `metamorphic/` files have no snapshots: they are pairs
   whose oracle is each other. Files are paired by the first `_`-separated
   word of their names (alpha_base/alpha_renamed, ...); a pair passes when
   both runs end with the same exit status -- 0 or 101 when both entries are
   `fn main()` (Unit), as all of them are, so two identical "not supported"
   failures are not a pass -- the same stdout, and, unless they trapped, the
   same stderr (a trap's report may name the file).

2. starkc/tests/c6-corpus: every `[[case]]` of manifest.toml and
   generated.manifest.toml (the metamorphic members live in the latter, with
   their own pinned expectations; the corpus has no `mutations/` cases to
   run, those controls mutate observations inside the spec's own tests, and
   `cases/retained/*/original/` are kept for history and belong to no case).
   A `single-file` case runs as `stark run SOURCE`; a `package`/`workspace`
   case is copied to a scratch directory (so nothing is ever written into
   SPEC_REPO) and runs as `stark run PACKAGE_ROOT`, the directory holding
   the root package's `starkpkg.json`. Observations, following the corpus
   README and its replay harness:
   - `expected_stdout` is a list of lines joined with "\n": a final ""
     means the output ends with a newline, and its absence means it does
     not (`print` rather than `println`). An empty list pins nothing.
   - Stdout is first split by the protocol scan: whole lines
     `@@stark-drop:<identity>@@` are Drop events, removed from stdout and
     compared in order with `expected_drop_log` when the case pins one;
     `@@stark-ret:...@@` frames are removed too (no case uses return
     probes, so they are not compared). A reserved prefix in the middle of a
     line, an unterminated frame, or a repeated Drop identity is a failure.
   - `expected_outcome = "trap"`: exit status 101 and the pinned stdout (the
     output before the trap), if any. Not compared: the trap category
     (`expected_trap_category`), trap provenance, and stderr, including
     program stderr written before a trap.
   - `expected_outcome = "completion"`: the pinned stdout / Drop log, and
     exit status 0 when the entry is `fn main()` (Unit) -- PROC-EXIT-001's
     status for a Unit entry. The manifest pins no status, stdout or stderr
     for the retained `entry_exit__*` cases; for those the script states
     PROC-EXIT-001's answer itself (ENTRY_EXIT below: status N for
     `-> Int32 { N }`, status 1 and "message\n" on stderr for `Err`, the
     program's stdout, and otherwise an empty stderr); stderr is compared
     for those cases only. A completion whose
     entry returns something else and that is not in that table has no
     pinned status, so only its stdout/Drop log are compared.
   - A case with nothing left to compare, or one needing something this
     script cannot do (`language_options`, `return_probe`, `quarantine`),
     is counted as not compared, with the reason.
"""
import argparse
import difflib
import json
import os
import re
import pathlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field


def stark(binary, args, command="parse"):
    return subprocess.run([binary, command, "--color", "never", *args], capture_output=True, text=True)


def codes(stderr):
    return set(re.findall(r"^error\[(E\d+)\]", stderr, re.M))


# ---------------------------------------------------------------- --run --

TRAP_STATUS = 101
DROP_PREFIX = b"@@stark-drop:"
RET_PREFIX = b"@@stark-ret:"
FRAME_END = b"@@"

# PROC-EXIT-001's answer for the retained entry-exit cases, which the
# manifest leaves unpinned: (exit status, stdout, stderr or None for "not
# compared"). `-> Int32 { N }` exits N, `Err(message)` writes message + LF to
# stderr and exits 1, a Unit / `Ok(())` entry exits 0, and an out-of-range
# status is a trap.
ENTRY_EXIT = {
    "entry_exit__01_unit_entry": (0, b"x", b""),
    "entry_exit__02_int32_status": (3, b"", b""),
    "entry_exit__03_err_stderr": (1, b"", b"boom\n"),
    "entry_exit__04_max_status": (255, b"", b""),
    "entry_exit__05_ok_unit_entry": (0, b"", b""),
    "entry_exit__06_unit_literal": (0, b"ok", b""),
    "entry_exit__07_out_of_range_status": (TRAP_STATUS, b"", None),
}

# `fn main()` and its return type, if it has one.
MAIN_FN = re.compile(r"^[ \t]*(?:pub[ \t]+)?fn[ \t]+main[ \t]*\(\s*\)\s*(?:->\s*([^{]*?))?\s*\{", re.M)


@dataclass
class Expect:
    """What a case pins; None is "not compared"."""

    status: int | None = None
    stdout: bytes | None = None
    stderr: bytes | None = None
    drop_log: list | None = None
    frames: bool = False  # split stdout by the Drop/return frame protocol first

    def pins(self):
        return any(x is not None for x in (self.status, self.stdout, self.stderr, self.drop_log))


@dataclass
class Observed:
    status: int | None  # None when the program did not finish
    stdout: bytes
    stderr: bytes
    note: str = ""  # why it did not finish


@dataclass
class Tally:
    name: str
    unit: str = "cases"
    passed: int = 0
    failed: list = field(default_factory=list)  # (case, reason, detail)
    not_compared: list = field(default_factory=list)  # (case, reason)
    skipped: list = field(default_factory=list)  # files that are not cases


def run_program(binary, target, timeout):
    command = [binary, "run", "--color", "never", str(target)]
    try:
        result = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        return Observed(None, err.stdout or b"", err.stderr or b"", f"timed out after {timeout:g} s")
    except OSError as err:
        return Observed(None, b"", b"", f"cannot run {binary}: {err}")
    if result.returncode < 0:
        return Observed(None, result.stdout, result.stderr, f"killed by signal {-result.returncode}")
    return Observed(result.returncode, result.stdout, result.stderr)


def text(data, limit=None):
    shown = data.decode("utf-8", "backslashreplace")
    if limit is not None and len(shown) > limit:
        shown = shown[:limit] + "..."
    return shown


def first_line(data):
    """The first `error` line of stderr, else its first non-blank line."""
    lines = [line.strip() for line in data.split(b"\n") if line.strip()]
    line = next((line for line in lines if line.startswith(b"error")), lines[0] if lines else b"")
    return text(line, 160)


def first_difference(left, right, left_name="expected", right_name="got"):
    """Where two outputs first differ, in words."""
    subject = "" if right_name == "got" else f"{right_name} "
    if right == left + b"\n":
        return f"{subject}has an extra newline at the end"
    if left == right + b"\n":
        return f"{subject}lacks the newline at the end"
    a, b = left.split(b"\n"), right.split(b"\n")

    def show(lines, i):
        # Past the last line, or the empty remainder after a final newline.
        if i >= len(lines) or (i == len(lines) - 1 and lines[i] == b""):
            return "end of output"
        return repr(text(lines[i], 60))

    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if x != y:
            return f"line {i + 1}: {left_name} {show(a, i)}, {right_name} {show(b, i)}"
    return "differs"


def unified(left, right, left_name, right_name):
    lines = difflib.unified_diff(
        text(left).splitlines(keepends=True), text(right).splitlines(keepends=True), left_name, right_name
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ no newline at end\n" for line in lines)


def scan_frames(raw):
    """Splits stdout into (normative stdout, Drop identities, error or None).

    A frame is a whole line `@@stark-drop:<identity>@@` (or a return frame
    `@@stark-ret:...@@`, dropped uncompared)."""
    out, drops = bytearray(), []
    for line in re.split(rb"(?<=\n)", raw):
        body = line.rstrip(b"\r\n")
        prefix = next((p for p in (DROP_PREFIX, RET_PREFIX) if body.startswith(p)), None)
        if prefix is None:
            if DROP_PREFIX in line or RET_PREFIX in line:
                return bytes(out), drops, f"protocol frame in the middle of a line: {text(body, 80)!r}"
            out += line
            continue
        rest = body[len(prefix):]
        if not rest.endswith(FRAME_END):
            return bytes(out), drops, f"protocol frame not terminated by @@: {text(body, 80)!r}"
        if prefix == DROP_PREFIX:
            identity = text(rest[: -len(FRAME_END)])
            if not identity:
                return bytes(out), drops, "Drop frame with no identity"
            if identity in drops:
                return bytes(out), drops, f"Drop identity {identity!r} emitted twice"
            drops.append(identity)
    return bytes(out), drops, None


def status_text(status):
    return "none" if status is None else str(status)


def compare(expect, observed):
    """None when `observed` matches `expect`, else (one-line reason, full detail)."""
    if observed.status is None:
        return observed.note, stream_dump(observed)
    problems = []
    stdout, drops = observed.stdout, None
    if expect.frames:
        stdout, drops, error = scan_frames(observed.stdout)
        if error:
            problems.append((error, ""))
            drops = None
    if expect.status is not None and observed.status != expect.status:
        reason = f"exit status {observed.status}, expected {expect.status}"
        stderr = first_line(observed.stderr)
        problems.append((reason + (f": {stderr}" if stderr else ""), stream_dump(observed)))
    for stream, want, got in [("stdout", expect.stdout, stdout), ("stderr", expect.stderr, observed.stderr)]:
        if want is not None and got != want:
            problems.append(
                (f"{stream} {first_difference(want, got)}", unified(want, got, f"expected {stream}", f"actual {stream}"))
            )
    if expect.drop_log is not None and drops is not None and drops != expect.drop_log:
        first = next(
            (i for i in range(max(len(drops), len(expect.drop_log))) if drops[i : i + 1] != expect.drop_log[i : i + 1]),
            0,
        )
        want = expect.drop_log[first] if first < len(expect.drop_log) else "end of log"
        got = drops[first] if first < len(drops) else "end of log"
        problems.append(
            (
                f"Drop log entry {first + 1}: expected {want}, got {got}",
                unified(
                    "".join(f"{d}\n" for d in expect.drop_log).encode(),
                    "".join(f"{d}\n" for d in drops).encode(),
                    "expected Drop log",
                    "actual Drop log",
                ),
            )
        )
    if not problems:
        return None
    return problems[0][0], "".join(detail for _, detail in problems)


def stream_dump(observed):
    out = [f"exit status: {status_text(observed.status)}\n"]
    for name, data in [("stdout", observed.stdout), ("stderr", observed.stderr)]:
        out.append(f"--- {name} ---\n{text(data)}")
        if data and not data.endswith(b"\n"):
            out.append("\n\\ no newline at end\n")
    return "".join(out)


def parse_snapshot(data):
    """(Expect, None), or (None, why the snapshot is not compared)."""
    stderr_marker = b"--- stderr ---\n"
    found = re.match(rb"STATUS: (-?\d+)\n--- stdout ---\n", data)
    if found:
        rest = data[found.end():]
        cut = rest.find(stderr_marker)
        if cut < 0:
            return None, "snapshot has no `--- stderr ---` section"
        return Expect(status=int(found[1]), stdout=rest[:cut], stderr=rest[cut + len(stderr_marker):]), None
    found = re.match(rb"TRAP \(is_trap=(true|false)\): ([^\n]*)\n?", data)
    if found:
        if found[1] == b"false":
            return None, f"entry-point failure, not a trap ({text(found[2])}): no exit status is pinned"
        expect = Expect(status=TRAP_STATUS)
        rest = data[found.end():]
        if rest.startswith(b"--- stdout ---\n"):
            body = rest[len(b"--- stdout ---\n"):]
            cut = body.find(stderr_marker)
            expect.stdout = body if cut < 0 else body[:cut]
        return expect, None
    return None, "unrecognised snapshot format"


def entry_is_unit(path):
    """Whether the file's `fn main` returns Unit (PROC-EXIT-001: status 0)."""
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    found = MAIN_FN.search(source)
    return found is not None and (found[1] is None or found[1].strip() in ("Unit", "()"))


def check(tally, name, expect, observed, command):
    outcome = compare(expect, observed)
    if outcome is None:
        tally.passed += 1
    else:
        reason, detail = outcome
        tally.failed.append((name, reason, f"$ {command}\n{detail}"))


def run_exec_snapshots(opts, root):
    corpus = root / "starkc/tests/exec_snapshots"
    cases, pairs = Tally("exec_snapshots"), Tally("exec_snapshots/metamorphic", "pairs")
    if not corpus.is_dir():
        sys.exit(f"error: {corpus} is not a directory")
    groups = {}
    for path in sorted(corpus.rglob("*.stark")):
        name = path.relative_to(corpus).with_suffix("").as_posix()
        snap = path.with_suffix(".snap")
        if not snap.exists():
            if path.parent.name == "metamorphic":
                groups.setdefault(path.stem.split("_")[0], []).append((name, path))
            elif not opts.filter or opts.filter in name:
                cases.skipped.append(f"{name}.stark: no snapshot, a module of a multi-file case")
            continue
        if opts.filter and opts.filter not in name:
            continue
        expect, why_not = parse_snapshot(snap.read_bytes())
        if expect is None:
            cases.not_compared.append((name, why_not))
            continue
        check(cases, name, expect, run_program(opts.stark, path, opts.timeout), f"stark run {path}")
    for group, members in sorted(groups.items()):
        label = " / ".join(name for name, _ in members)
        if opts.filter and opts.filter not in label:
            continue
        if len(members) != 2:
            pairs.not_compared.append((label, f"{len(members)} files share the prefix `{group}`; a pair needs 2"))
            continue
        (left_name, left_path), (right_name, right_path) = members
        left = run_program(opts.stark, left_path, opts.timeout)
        right = run_program(opts.stark, right_path, opts.timeout)
        reason, detail = None, ""
        dumps = f"== {left_name}\n{stream_dump(left)}== {right_name}\n{stream_dump(right)}"
        if left.status is None or right.status is None:
            reason = left.note or right.note
            reason = f"{left_name if left.status is None else right_name}: {reason}"
            detail = dumps
        elif left.status != right.status:
            stderr = first_line(left.stderr) or first_line(right.stderr)
            reason = f"exit status {left.status} vs {right.status}" + (f": {stderr}" if stderr else "")
            detail = dumps
        elif entry_is_unit(left_path) and entry_is_unit(right_path) and left.status not in (0, TRAP_STATUS):
            stderr = first_line(left.stderr)
            reason = f"exit status {left.status}, expected 0 or {TRAP_STATUS}" + (f": {stderr}" if stderr else "")
            detail = dumps
        elif left.stdout != right.stdout:
            reason = "stdout " + first_difference(left.stdout, right.stdout, left_name, right_name)
            detail = unified(left.stdout, right.stdout, left_name, right_name)
        elif left.status != TRAP_STATUS and left.stderr != right.stderr:
            reason = "stderr " + first_difference(left.stderr, right.stderr, left_name, right_name)
            detail = unified(left.stderr, right.stderr, left_name, right_name)
        if reason is None:
            pairs.passed += 1
        else:
            pairs.failed.append((label, reason, f"$ stark run {left_path}\n$ stark run {right_path}\n{detail}"))
    return [cases, pairs]


def c6_expectation(corpus, case):
    """(target path to run, package directory to stage or None, Expect), or a reason it is not compared."""
    for key, why in [
        ("quarantine", "quarantined"),
        ("language_options", "needs language options"),
        ("return_probe", "a framed-return probe case (the harness appends the probe wrapper)"),
    ]:
        if case.get(key):
            return f"{why}: {case[key]}"
    graph = case.get("package_graph", "single-file")
    sources = case.get("sources", [])
    if graph == "single-file":
        if len(sources) != 1:
            return f"single-file case with {len(sources)} sources"
        target, stage, entry = corpus / sources[0], None, corpus / sources[0]
    else:
        package_root = case.get("package_root")
        if not package_root:
            return f"{graph} case without a package_root"
        stage = os.path.commonpath([package_root, *sources])
        if stage in ("", "."):
            return f"{graph} case whose files share no directory"
        target = corpus / package_root
        try:
            manifest = json.loads((target / "starkpkg.json").read_text())
            entry = target / manifest.get("entry", "src/main.stark")
        except (OSError, ValueError):
            entry = target / "src/main.stark"
    expect = Expect(frames=True)
    if case.get("expected_stdout"):
        expect.stdout = "\n".join(case["expected_stdout"]).encode()
    if case.get("expected_drop_log"):
        expect.drop_log = list(case["expected_drop_log"])
    outcome = case.get("expected_outcome")
    if outcome == "trap":
        expect.status = TRAP_STATUS
    elif outcome == "completion":
        if entry_is_unit(entry):
            expect.status = 0
    else:
        return f"unknown expected_outcome {outcome!r}"
    if case["case_id"] in ENTRY_EXIT:
        status, stdout, stderr = ENTRY_EXIT[case["case_id"]]
        expect.status = status
        if expect.stdout is None:
            expect.stdout = stdout
        expect.stderr = stderr
    if not expect.pins():
        return "pins no observation (no stdout, Drop log or status)"
    return target, stage, expect


def run_c6(opts, root):
    corpus = root / "starkc/tests/c6-corpus"
    tally = Tally("c6-corpus")
    cases = []
    for manifest in ["manifest.toml", "generated.manifest.toml"]:
        path = corpus / manifest
        if not path.exists():
            sys.exit(f"error: {path} does not exist")
        cases += tomllib.loads(path.read_text())["case"]
    with tempfile.TemporaryDirectory(prefix="stark-conformance-") as scratch:
        for case in cases:
            name = case["case_id"]
            if opts.filter and opts.filter not in name:
                continue
            prepared = c6_expectation(corpus, case)
            if isinstance(prepared, str):
                tally.not_compared.append((name, prepared))
                continue
            target, stage, expect = prepared
            shown = target
            if stage is not None:
                # Nothing is written into SPEC_REPO: a package case runs from a copy.
                copy = pathlib.Path(scratch) / name
                shutil.copytree(corpus / stage, copy / stage)
                target = copy / case["package_root"]
            check(tally, name, expect, run_program(opts.stark, target, opts.timeout), f"stark run {shown}")
    return [tally]


def run_corpora(opts):
    if shutil.which(opts.stark) is None:
        sys.exit(f"error: cannot find the stark binary `{opts.stark}` (build it, or pass --stark)")
    tallies = run_exec_snapshots(opts, opts.spec_repo) + run_c6(opts, opts.spec_repo)
    for tally in tallies:
        for name, reason, detail in tally.failed:
            print(f"FAIL {tally.name}: {name}: {reason}")
            if opts.verbose:
                print("    " + detail.rstrip("\n").replace("\n", "\n    "))
        for name, reason in tally.not_compared:
            print(f"NOT COMPARED {tally.name}: {name}: {reason}")
    width = max(len(t.name) for t in tallies)
    for tally in tallies:
        compared = tally.passed + len(tally.failed)
        line = f"{tally.name:{width}}  passed {tally.passed} / {compared} {tally.unit}"
        if tally.not_compared:
            line += f", {len(tally.not_compared)} not compared"
        if tally.skipped:
            line += f"; skipped {len(tally.skipped)} (" + ", ".join(tally.skipped) + ")"
        print(line)
    return 1 if any(t.failed for t in tallies) else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spec_repo", type=pathlib.Path)
    ap.add_argument("--stark", default="target/release/stark")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--run", action="store_true", help="run the execution corpora through `stark run` instead")
    ap.add_argument("--timeout", type=float, default=10, help="seconds per program under --run (default 10)")
    ap.add_argument("--filter", help="under --run, only cases whose name contains this text")
    opts = ap.parse_args()
    if opts.run:
        sys.exit(run_corpora(opts))
    root = opts.spec_repo
    fixtures = root / "STARKLANG/tests/spec-fixtures"
    manifest = tomllib.loads((fixtures / "manifest.toml").read_text())
    counts, failures = {}, []
    for name, case in manifest.items():
        verdict = case["verdict"]
        if verdict == "notation":
            counts.setdefault(verdict, [0, 0])[0] += 1
            continue
        path = str(fixtures / name)
        if verdict == "lex-pass":
            result = stark(opts.stark, ["--tokens", path])
        else:
            snippet = ["--snippet"] if case.get("mode") == "snippet" else []
            result = stark(opts.stark, [*snippet, path])
        ok = (result.returncode != 0) if verdict == "parse-fail" else (result.returncode == 0)
        tally = counts.setdefault(verdict, [0, 0])
        tally[0 if ok else 1] += 1
        if not ok:
            failures.append((name, verdict, result.stderr))
        if verdict == "semantic-error":
            snippet = ["--snippet"] if case.get("mode") == "snippet" else []
            checked = stark(opts.stark, [*snippet, path], "check")
            expected = set(case["errors"].split(","))
            missing = expected - codes(checked.stderr)
            tally = counts.setdefault("semantic-codes", [0, 0])
            tally[0 if not missing else 1] += 1
            if missing:
                failures.append((name, f"semantic-codes (missing {sorted(missing)})", checked.stderr))
    corpus = sorted(root.glob("starkc/tests/exec_snapshots/**/*.stark")) + sorted(root.glob("starkc/tests/c6-corpus/**/*.stark"))
    for command in ["parse", "check"]:
        tally = counts.setdefault(f"corpus-{command}", [0, 0])
        for path in corpus:
            result = stark(opts.stark, [str(path)], command)
            ok = result.returncode == 0
            tally[0 if ok else 1] += 1
            if not ok:
                failures.append((str(path.relative_to(root)), f"corpus-{command}", result.stderr))
    for name, verdict, stderr in failures:
        print(f"FAIL {verdict}: {name}")
        if opts.verbose:
            print(stderr)
    for verdict, (good, bad) in sorted(counts.items()):
        note = " (excluded from parsing by the manifest)" if verdict == "notation" else ""
        print(f"{verdict:14} {good} passed, {bad} failed{note}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
