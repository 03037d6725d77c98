# dict[int, int] and dict[str, int]: insert, get (hits and misses),
# membership, delete and len, with a checksum of what was read.
def main():
    n = 2_000_000

    # Int keys: read-modify-write counts.
    counts = {}
    for i in range(n):
        k = i * 7919 % 50_021
        old = counts.get(k)
        if old is None:
            old = 0
        counts[k] = old + i % 10

    # Lookups, about half of them misses.
    sum_ = 0
    hits = 0
    for i in range(n):
        k = i * 31 % 100_000
        v = counts.get(k)
        if v is not None:
            sum_ += v
            hits += 1

    # contains_key and remove.
    removed = 0
    k = 0
    while k < 50_021:
        if k in counts:
            del counts[k]
            removed += 1
        k += 3
    print(f"ints: len={len(counts)} hits={hits} sum={sum_} removed={removed}")

    # String keys.
    words = {}
    for i in range(n):
        key = f"w{i * 13 % 4999}"
        old = words.get(key)
        if old is None:
            old = 0
        words[key] = old + 1
    wsum = 0
    for i in range(5000):
        key = f"w{i}"
        v = words.get(key)
        if v is not None:
            wsum = (wsum * 7 + v) % 1_000_003
    print(f"strings: len={len(words)} checksum={wsum}")


main()
