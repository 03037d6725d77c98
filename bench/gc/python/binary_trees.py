"""Binary trees, the same shape as bench/gc/binary_trees.stark, in TASKS
threads. Usage: binary_trees.py TASKS DEPTH. Prints
"nodes micros collections max_us p50_us p99_us checksum" (pauses: the
cycle collector's, timed with gc.callbacks)."""
import gc, sys, threading, time

pauses, started = [], {}


def on_gc(phase, info):
    if phase == "start":
        started["t"] = time.perf_counter()
    elif "t" in started:
        pauses.append((time.perf_counter() - started.pop("t")) * 1e6)


class Tree:
    __slots__ = ("kids",)

    def __init__(self, kids):
        self.kids = kids


def make(depth):
    return Tree([make(depth - 1), make(depth - 1)] if depth > 0 else [])


def check(t):
    n = 1
    for k in t.kids:
        n += check(k)
    return n


def work(max_depth, out):
    long_lived = make(max_depth)
    nodes = check(long_lived)
    checksum = 0
    for depth in range(4, max_depth + 1, 2):
        for _ in range(1 << (max_depth - depth + 4)):
            c = check(make(depth))
            checksum += c
            nodes += c
    checksum += check(long_lived)
    out.append((nodes, checksum))


def quantile(q):
    if not pauses:
        return 0
    p = sorted(pauses)
    return p[max(1, min(len(p), int(len(p) * q + 0.999999))) - 1]


def main():
    tasks, depth = int(sys.argv[1]), int(sys.argv[2])
    gc.callbacks.append(on_gc)
    start = time.perf_counter()
    out = []
    threads = [threading.Thread(target=work, args=(depth, out)) for _ in range(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    micros = int((time.perf_counter() - start) * 1e6)
    nodes, checksum = sum(n for n, _ in out), sum(c for _, c in out)
    print(f"{nodes} {micros} {len(pauses)} {quantile(1):.0f} {quantile(0.5):.0f} {quantile(0.99):.0f} {checksum}")


main()
