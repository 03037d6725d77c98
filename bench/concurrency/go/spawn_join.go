package main

import "fmt"

func main() {
	n := 1000000
	results := make([]chan int, n)
	for i := 0; i < n; i++ {
		c := make(chan int, 1)
		results[i] = c
		go func(i int) { c <- i % 7 }(i)
	}
	total := 0
	for _, c := range results {
		total += <-c
	}
	fmt.Println(total)
}
