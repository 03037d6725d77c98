#!/usr/bin/env python3
"""Generates a large, well-typed STARK program for the checker benchmark:
copies of a unit with structs, enums, traits, impls, generics with bounds,
closures, matches, loops, `?`, vectors and interpolated strings, then a
`main` that calls every unit. Also writes the same program in Python.

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
    fn doubled(&self) -> Int64 {{ self.area() * 2 }}
}}

impl Area{i} for Shape{i} {{
    fn area(&self) -> Int64 {{
        match *self {{
            Shape{i}::Circle {{ radius }} => 3 * radius * radius,
            Shape{i}::Rect(w, h) => w * h,
            Shape{i}::Empty => 0,
        }}
    }}
}}

impl Point{i} {{
    fn new(x: Int64, y: Int64) -> Point{i} {{ Point{i} {{ x: x, y: y }} }}
    fn dot(&self, other: &Point{i}) -> Int64 {{ self.x * other.x + self.y * other.y }}
}}

fn total_area{i}<T: Area{i}>(shapes: &Vec<T>) -> Int64 {{
    let mut acc: Int64 = 0;
    for s in shapes {{
        acc += s.area() + s.doubled() % 7;
    }}
    acc
}}

fn parse{i}(text: &str) -> Result<Int64, String> {{
    if text.len() == 0 {{
        return Err(String::from("empty"));
    }}
    Ok(text.len() as Int64 * {i})
}}

fn compute{i}(n: Int64) -> Result<Int64, String> {{
    let mut total: Int64 = parse{i}("seed")?;
    let mut k: Int64 = 0;
    while k < n {{
        if k % 3 == 0 && k != 9 {{
            total += k;
        }} else if k > 100 {{
            break;
        }} else {{
            total -= 1;
        }}
        k += 1;
    }}
    let p = Point{i}::new(total, n);
    let q = Point{i} {{ x: 1, y: 2 }};
    let scale = |v: Int64| v * 2 + p.x;
    let mut shapes: Vec<Shape{i}> = Vec::new();
    shapes.push(Shape{i}::Rect(2, 3));
    shapes.push(Shape{i}::Circle {{ radius: 4 }});
    shapes.push(Shape{i}::Empty);
    let area = total_area{i}(&shapes);
    let label = f"unit {i}: total={{total:>8}} dot={{p.dot(&q)}} area={{area}}";
    println(label);
    Ok(scale(total))
}}

'''

PY_UNIT = '''\
class Point{i}:
    """A point in unit {i}."""
    def __init__(self, x: int, y: int):
        self.x = x
        self.y = y

    def dot(self, other: "Point{i}") -> int:
        return self.x * other.x + self.y * other.y


class Shape{i}:
    def __init__(self, kind: str, a: int = 0, b: int = 0):
        self.kind = kind
        self.a = a
        self.b = b

    def area(self) -> int:
        if self.kind == "circle":
            return 3 * self.a * self.a
        elif self.kind == "rect":
            return self.a * self.b
        return 0

    def doubled(self) -> int:
        return self.area() * 2


def total_area{i}(shapes: list) -> int:
    acc = 0
    for s in shapes:
        acc += s.area() + s.doubled() % 7
    return acc


def parse{i}(text: str) -> int:
    if len(text) == 0:
        raise ValueError("empty")
    return len(text) * {i}


def compute{i}(n: int) -> int:
    total = parse{i}("seed")
    k = 0
    while k < n:
        if k % 3 == 0 and k != 9:
            total += k
        elif k > 100:
            break
        else:
            total -= 1
        k += 1
    p = Point{i}(total, n)
    q = Point{i}(1, 2)
    scale = lambda v: v * 2 + p.x
    shapes = [Shape{i}("rect", 2, 3), Shape{i}("circle", 4), Shape{i}("empty")]
    area = total_area{i}(shapes)
    label = f"unit {i}: total={{total:>8}} dot={{p.dot(q)}} area={{area}}"
    print(label)
    return scale(total)

'''


def main() -> None:
    lines, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    per_unit = STARK_UNIT.count("\n") + 1  # + one line in main
    units = max(1, lines // per_unit)
    stark = [STARK_UNIT.format(i=i) for i in range(units)]
    stark.append("fn main() {\n")
    stark += [f"    println(compute{i}(10).unwrap());\n" for i in range(units)]
    stark.append("}\n")
    (out / "big.stark").write_text("".join(stark))
    py = [PY_UNIT.format(i=i) for i in range(units)]
    py.append("def main():\n")
    py += [f"    print(compute{i}(10))\n" for i in range(units)]
    (out / "big.py").write_text("".join(py))


if __name__ == "__main__":
    main()
