// chan_pingpong N: two goroutines exchange N round trips over two
// unbuffered (rendezvous) channels. msgs = 2N.
package main

import u "troupe/bench/peers/go/internal/benchutil"

func main() {
	a := u.Args("N", 1000000)
	n := a[0]
	threads := u.Threads()

	ping := make(chan int64)
	pong := make(chan int64)
	done := make(chan int64)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	t := u.Start()
	go func() {
		var v int64
		for i := int64(0); i < n; i++ {
			ping <- v
			v = <-pong
		}
		close(ping)
		done <- v
	}()
	v := <-done
	secs := t.Seconds()
	u.Emit("chan_pingpong", n, nil, threads, secs, 2*n, v == n)
}
