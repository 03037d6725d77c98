"""A long-lived graph with churn, the same shape as bench/gc/graph_churn.stark,
in TASKS threads. Usage: graph_churn.py TASKS CLUSTERS STEPS. Prints
"nodes micros collections max_us p50_us p99_us checksum"."""
import gc, sys, threading, time

pauses, started = [], {}


def on_gc(phase, info):
    if phase == "start":
        started["t"] = time.perf_counter()
    elif "t" in started:
        pauses.append((time.perf_counter() - started.pop("t")) * 1e6)


class Node:
    __slots__ = ("id", "payload", "links")

    def __init__(self, id, payload):
        self.id, self.payload, self.links = id, payload, []


def cluster(id):
    nodes = [Node(id * 4 + k, [float(id + k + i) for i in range(64)]) for k in range(4)]
    for k in range(4):
        for j in range(4):
            if j != k:
                nodes[k].links.append(nodes[j])
    return nodes[0]


def work(id, clusters, steps, out):
    live = [cluster(c) for c in range(clusters)]
    seed, checksum = 12345 + id, 0
    for step in range(steps):
        seed = (seed * 1103515245 + 12345) % 2147483648
        i = seed % clusters
        live[i] = cluster(step)
        checksum += live[i].links[2].id % 7
    out.append(checksum)


def quantile(q):
    if not pauses:
        return 0
    p = sorted(pauses)
    return p[max(1, min(len(p), int(len(p) * q + 0.999999))) - 1]


def main():
    tasks, clusters, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    gc.callbacks.append(on_gc)
    start = time.perf_counter()
    out = []
    threads = [threading.Thread(target=work, args=(i, clusters, steps, out)) for i in range(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    micros = int((time.perf_counter() - start) * 1e6)
    print(f"{tasks * (clusters + steps) * 4} {micros} {len(pauses)} {quantile(1):.0f} {quantile(0.5):.0f} {quantile(0.99):.0f} {sum(out)}")


main()
