# String building: f-strings, +=, len, and a pass over the bytes of every
# finished line.
def main():
    n = 1_200_000
    line = ""
    total = 0
    lines = 0
    hash = 0
    for i in range(n):
        item = f"{i % 1000}:{i * 7 % 13};"
        line += item
        if i % 5 == 0:
            line += "sep"
        line += "|"
        if len(line) >= 240:
            for b in line.encode():
                hash = (hash * 31 + b) % 1_000_003
            total += len(line)
            lines += 1
            line = ""
    total += len(line)
    print(f"lines={lines} bytes={total} hash={hash}")


main()
