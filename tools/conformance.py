#!/usr/bin/env python3
"""Runs the STARK Core v1 conformance corpus against `stark parse` and `stark check`.

Usage: tools/conformance.py SPEC_REPO [--stark PATH]

SPEC_REPO is a checkout (or `git archive` export) of the Core v1
specification repository. Every case in
STARKLANG/tests/spec-fixtures/manifest.toml gets its verdict checked, and
every `.stark` file under starkc/tests/exec_snapshots and
starkc/tests/c6-corpus must parse and check without errors; each
`semantic-error` case must report at least its expected codes under
`stark check`. Nothing is copied into this project.
"""
import argparse
import re
import pathlib
import subprocess
import sys
import tomllib


def stark(binary, args, command="parse"):
    return subprocess.run([binary, command, "--color", "never", *args], capture_output=True, text=True)


def codes(stderr):
    return set(re.findall(r"^error\[(E\d+)\]", stderr, re.M))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spec_repo", type=pathlib.Path)
    ap.add_argument("--stark", default="target/release/stark")
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args()
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
