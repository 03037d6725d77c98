# Method calls in a loop: a constructor, methods that update fields,
# getters, and a method taking another object.
class Counter:
    __slots__ = ("total", "n", "max")

    def __init__(self):
        self.total = 0
        self.n = 0
        self.max = 0

    def add(self, x):
        self.total += x
        self.n += 1
        if x > self.max:
            self.max = x

    def get(self):
        return self.total

    def count(self):
        return self.n

    def reset(self):
        self.total = 0


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def manhattan(self, other):
        dx = self.x - other.x
        dy = self.y - other.y
        ax = -dx if dx < 0 else dx
        ay = -dy if dy < 0 else dy
        return ax + ay

    def step(self, dx, dy):
        self.x = (self.x + dx) % 1000
        self.y = (self.y + dy) % 1000


def main():
    n = 3_000_000
    c = Counter()
    overflows = 0
    p = Point(0, 0)
    origin = Point(500, 500)
    for i in range(n):
        p.step(i % 7, i % 11)
        c.add(p.manhattan(origin))
        if c.get() > 1_000_000:
            c.reset()
            overflows += 1
    print(f"total={c.get()} count={c.count()} max={c.max} overflows={overflows}")


main()
