// threadring N RING: RING actors 0..RING-1 in a ring; actor 0 receives the
// token with value N; each hop decrements the value and forwards it to
// (i+1)%RING; the actor receiving 0 is the winner and must be N % RING.
// msgs = N hops.
package main

import u "troupe/bench/peers/go/internal/benchutil"

func main() {
	a := u.Args("N RING", 10000000, 503)
	n, ring := a[0], a[1]
	if ring < 1 {
		ring = 1
	}
	threads := u.Threads()

	inbox := make([]chan int64, ring)
	for i := range inbox {
		inbox[i] = make(chan int64, 1)
	}
	winner := make(chan int64)
	for i := int64(0); i < ring; i++ {
		go func(id int64, in <-chan int64, next chan<- int64) {
			for v := range in {
				if v == 0 {
					winner <- id
					return
				}
				next <- v - 1
			}
		}(i, inbox[i], inbox[(i+1)%ring])
	}
	t := u.Start()
	inbox[0] <- n
	w := <-winner
	secs := t.Seconds()
	u.Emit("threadring", n, []u.KV{u.P("ring", ring)}, threads, secs, n,
		w == n%ring, u.P("winner", w))
}
