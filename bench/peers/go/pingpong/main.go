// pingpong N: two actors (goroutines, each owning an unbuffered inbox
// channel) exchange N round trips = 2N messages.
package main

import u "troupe/bench/peers/go/internal/benchutil"

func main() {
	a := u.Args("N", 1000000)
	n := a[0]
	threads := u.Threads()

	pingIn := make(chan int64)
	pongIn := make(chan int64)
	done := make(chan int64)

	go func() { // pong: echo every ball back, stop on -1
		for v := range pongIn {
			if v < 0 {
				return
			}
			pingIn <- v
		}
	}()

	t := u.Start()
	go func() { // ping: serve N balls, count the returns
		var got int64
		for i := int64(0); i < n; i++ {
			pongIn <- i
			if <-pingIn == i {
				got++
			}
		}
		pongIn <- -1
		done <- got
	}()
	got := <-done
	secs := t.Seconds()
	u.Emit("pingpong", n, nil, threads, secs, 2*n, got == n)
}
