# Tight integer loops: a `for` over a range and a `while` loop with
# multiply, modulo, compare and add on int.
def main():
    n = 10_000_000

    # for i in range(n)
    a = 0
    for i in range(n):
        a += i * i % 7
    print(a)

    # while, with a branch in the body
    b = 0
    j = 0
    while j < n:
        if j % 3 == 0:
            b += j % 11
        else:
            b -= 1
        j += 1
    print(b)


main()
