# Spectral norm (the Computer Language Benchmarks Game's spectralnorm):
# float arithmetic in nested loops, list reads and writes indexed by int,
# small function calls. The result is printed as an integer (x 1e9,
# truncated) so the output does not depend on float formatting.
import math


def a(i, j):
    ij = i + j
    return 1.0 / float(ij * (ij + 1) // 2 + i + 1)


def mul_av(n, v, out):
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += a(i, j) * v[j]
        out[i] = s


def mul_atv(n, v, out):
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += a(j, i) * v[j]
        out[i] = s


def mul_atav(n, v, out, tmp):
    mul_av(n, v, tmp)
    mul_atv(n, tmp, out)


def main():
    n = 350
    u = []
    v = []
    tmp = []
    for _i in range(n):
        u.append(1.0)
        v.append(0.0)
        tmp.append(0.0)
    for _round in range(10):
        mul_atav(n, u, v, tmp)
        mul_atav(n, v, u, tmp)
    vbv = 0.0
    vv = 0.0
    for i in range(n):
        vbv += u[i] * v[i]
        vv += v[i] * v[i]
    print(int(math.sqrt(vbv / vv) * 1.0e9))


main()
