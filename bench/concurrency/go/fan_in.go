package main

import (
	"fmt"
	"sync"
)

func main() {
	ch := make(chan int, 1024)
	var wg sync.WaitGroup
	for id := 0; id < 100; id++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			for i := 0; i < 100000; i++ {
				ch <- i%10 + id
			}
		}(id)
	}
	go func() { wg.Wait(); close(ch) }()
	total := 0
	for v := range ch {
		total += v
	}
	fmt.Println(total)
}
