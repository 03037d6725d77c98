// A long-lived graph with churn, the same shape as bench/gc/graph_churn.stark:
// TASKS goroutines, each with CLUSTERS clusters of four linked nodes (a
// 64-float payload each) and STEPS replacements of a pseudo-random cluster.
// Usage: graph_churn TASKS CLUSTERS STEPS. Prints "nodes micros pauses max_us p50_us p99_us checksum".
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

type Node struct {
	id      int
	payload []float64
	links   []*Node
}

func cluster(id int) *Node {
	nodes := make([]*Node, 4)
	for k := 0; k < 4; k++ {
		payload := make([]float64, 0, 64)
		for i := 0; i < 64; i++ {
			payload = append(payload, float64(id+k+i))
		}
		nodes[k] = &Node{id*4 + k, payload, nil}
	}
	for k := 0; k < 4; k++ {
		for j := 0; j < 4; j++ {
			if j != k {
				nodes[k].links = append(nodes[k].links, nodes[j])
			}
		}
	}
	return nodes[0]
}

func work(id, clusters, steps int) int {
	live := make([]*Node, 0, clusters)
	for c := 0; c < clusters; c++ {
		live = append(live, cluster(c))
	}
	seed := 12345 + id
	checksum := 0
	for step := 0; step < steps; step++ {
		seed = (seed*1103515245 + 12345) % 2147483648
		i := seed % clusters
		live[i] = cluster(step)
		checksum += live[i].links[2].id % 7
	}
	return checksum
}

func main() {
	tasks, _ := strconv.Atoi(os.Args[1])
	clusters, _ := strconv.Atoi(os.Args[2])
	steps, _ := strconv.Atoi(os.Args[3])
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	checksum := 0
	for i := 0; i < tasks; i++ {
		wg.Add(1)
		id := i
		go func() {
			defer wg.Done()
			c := work(id, clusters, steps)
			mu.Lock()
			checksum += c
			mu.Unlock()
		}()
	}
	wg.Wait()
	micros := time.Since(start).Microseconds()
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
	fmt.Printf("%d %d %d %.0f %.0f %.0f %d\n", tasks*(clusters+steps)*4, micros, m.NumGC, q(1), q(0.5), q(0.99), checksum)
}
