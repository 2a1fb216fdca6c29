// counting N: a producer sends N increments to one counting actor (a
// goroutine owning a buffered inbox channel), then asks for the count.
package main

import u "troupe/bench/peers/go/internal/benchutil"

// msg is either an increment (reply == nil) or a "get" request.
type msg struct {
	reply chan<- int64
}

const mailbox = 1024

func main() {
	a := u.Args("N", 10000000)
	n := a[0]
	threads := u.Threads()

	in := make(chan msg, mailbox)
	go func() {
		var count int64
		for m := range in {
			if m.reply == nil {
				count++
			} else {
				m.reply <- count
				return
			}
		}
	}()

	result := make(chan int64)
	t := u.Start()
	go func() { // producer
		for i := int64(0); i < n; i++ {
			in <- msg{}
		}
		in <- msg{reply: result}
	}()
	got := <-result
	secs := t.Seconds()
	u.Emit("counting", n, nil, threads, secs, n, got == n, u.P("count", got))
}
