package main

import (
	"fmt"
	"sync"
)

type req struct {
	x     int
	reply chan int
}

func main() {
	mailbox := make(chan req, 1024)
	go func() {
		n := 0
		for r := range mailbox {
			n += r.x
			r.reply <- n
		}
	}()
	var wg sync.WaitGroup
	for c := 0; c < 1000; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply := make(chan int, 1)
			for i := 0; i < 1000; i++ {
				mailbox <- req{1, reply}
				<-reply
			}
		}()
	}
	wg.Wait()
	reply := make(chan int, 1)
	mailbox <- req{0, reply}
	fmt.Println(<-reply)
}
