#!/usr/bin/env python3
"""Generates a large STARK program (and the same program in Python) for the
parser benchmark: N copies of a module-sized unit with structs, enums,
traits, impls, generics, closures, matches, loops and interpolated strings.

Usage: gen.py LINES OUT_DIR   (writes big.stark and big.py)
"""
import pathlib
import sys

STARK_UNIT = '''\
/** A point in unit {i}. */
struct Point{i} {{ x: Int64, y: Int64 }}

enum Shape{i} {{
    Circle {{ radius: Int64 }},
    Rect(Int64, Int64),
    Empty,
}}

trait Area{i} {{
    fn area(&self) -> Int64;
}}

impl Area{i} for Shape{i} {{
    fn area(&self) -> Int64 {{
        match self {{
            Shape{i}::Circle {{ radius }} => 3 * radius * radius,
            Shape{i}::Rect(w, h) => w * h,
            Shape{i}::Empty => 0,
        }}
    }}
}}

fn fold{i}<T: Clone>(items: &Vec<Vec<T>>, f: fn(Int64, &T) -> Int64) -> Int64 {{
    let mut acc: Int64 = 0;
    for row in items {{
        for item in row {{
            acc = f(acc, item) + (acc << 2) % 7 - 1;
        }}
    }}
    acc
}}

fn compute{i}(n: Int64) -> Result<Int64, String> {{
    let mut total = 0;
    let mut k = 0;
    while k < n {{
        if k % 3 == 0 && k != 9 {{
            total += k * {i};
        }} else if k > 100 {{
            break;
        }} else {{
            total -= 1;
        }}
        k += 1;
    }}
    let p = Point{i} {{ x: total, y: n }};
    let scale = |v: Int64| v * 2 + p.x;
    let label = f"unit {i}: total={{total:>8}} point=({{p.x}}, {{p.y}})";
    println(label);
    Ok(scale(total) as Int64)
}}

'''

PY_UNIT = '''\
class Point{i}:
    """A point in unit {i}."""
    def __init__(self, x: int, y: int):
        self.x = x
        self.y = y


class Shape{i}:
    def __init__(self, kind: str, a: int = 0, b: int = 0):
        self.kind = kind
        self.a = a
        self.b = b


class Area{i}:
    def area(self) -> int:
        raise NotImplementedError


def area{i}(shape: Shape{i}) -> int:
    match shape.kind:
        case "circle":
            return 3 * shape.a * shape.a
        case "rect":
            return shape.a * shape.b
        case _:
            return 0


def fold{i}(items: list[list[int]], f) -> int:
    acc: int = 0
    for row in items:
        for item in row:
            acc = f(acc, item) + (acc << 2) % 7 - 1

    return acc


def compute{i}(n: int) -> int:
    total = 0
    k = 0
    while k < n:
        if k % 3 == 0 and k != 9:
            total += k * {i}
        elif k > 100:
            break
        else:
            total -= 1
        k += 1
    p = Point{i}(total, n)
    scale = lambda v: v * 2 + p.x
    label = f"unit {i}: total={{total:>8}} point=({{p.x}}, {{p.y}})"
    print(label)
    return int(scale(total))


'''


def build(template: str, lines: int) -> str:
    parts, count, i = [], 0, 0
    while count < lines:
        unit = template.format(i=i)
        parts.append(unit)
        count += unit.count("\n")
        i += 1
    return "".join(parts)


def main():
    lines, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    (out / "big.stark").write_text("fn main() {}\n" + build(STARK_UNIT, lines))
    (out / "big.py").write_text(build(PY_UNIT, lines))


if __name__ == "__main__":
    main()
