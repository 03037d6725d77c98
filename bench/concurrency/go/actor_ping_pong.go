package main

import "fmt"

type req struct {
	x     int
	reply chan int
}

func main() {
	mailbox := make(chan req, 1024)
	go func() {
		for r := range mailbox {
			r.reply <- r.x + 1
		}
	}()
	reply := make(chan int, 1)
	v := 0
	for i := 0; i < 1000000; i++ {
		mailbox <- req{v, reply}
		v = <-reply
	}
	fmt.Println(v)
}
