// Binary trees with the same shape as bench/gc/binary_trees.stark: TASKS
// goroutines, each with a long-lived tree and many short-lived ones.
// Usage: binary_trees TASKS DEPTH. Prints "nodes micros pauses max_us p50_us p99_us checksum".
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

type Tree struct{ kids []*Tree }

func make_(depth int) *Tree {
	var kids []*Tree
	if depth > 0 {
		kids = append(kids, make_(depth-1))
		kids = append(kids, make_(depth-1))
	}
	return &Tree{kids}
}

func check(t *Tree) int {
	n := 1
	for _, k := range t.kids {
		n += check(k)
	}
	return n
}

func work(maxDepth int) (int, int) {
	longLived := make_(maxDepth)
	nodes := check(longLived)
	checksum := 0
	for depth := 4; depth <= maxDepth; depth += 2 {
		iterations := 1 << (maxDepth - depth + 4)
		for i := 0; i < iterations; i++ {
			c := check(make_(depth))
			checksum += c
			nodes += c
		}
	}
	checksum += check(longLived)
	return nodes, checksum
}

func main() {
	tasks, _ := strconv.Atoi(os.Args[1])
	depth, _ := strconv.Atoi(os.Args[2])
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	nodes, checksum := 0, 0
	for i := 0; i < tasks; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, c := work(depth)
			mu.Lock()
			nodes += n
			checksum += c
			mu.Unlock()
		}()
	}
	wg.Wait()
	micros := time.Since(start).Microseconds()
	report(nodes, micros, checksum)
}

// report prints the totals and the GC's stop-the-world pauses (the last 256).
func report(nodes int, micros int64, checksum int) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	n := int(m.NumGC)
	if n > 256 {
		n = 256
	}
	pauses := make([]float64, n)
	for i := 0; i < n; i++ {
		pauses[i] = float64(m.PauseNs[i]) / 1000
	}
	sort.Float64s(pauses)
	q := func(f float64) float64 {
		if n == 0 {
			return 0
		}
		i := int(float64(n)*f+0.999999) - 1
		if i < 0 {
			i = 0
		}
		return pauses[i]
	}
	fmt.Printf("%d %d %d %.0f %.0f %.0f %d\n", nodes, micros, m.NumGC, q(1), q(0.5), q(0.99), checksum)
}
