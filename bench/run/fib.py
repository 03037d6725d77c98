# Naive recursive fibonacci: function calls, integer compare and add.
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    n = 34
    print(fib(n))


main()
