// chan_mpmc N PRODUCERS CONSUMERS CAP: PRODUCERS goroutines send disjoint
// slices of 0..N-1 (N/PRODUCERS each, the last takes the remainder) on one
// buffered channel of capacity CAP; CONSUMERS goroutines receive until it is
// closed (after the last producer finishes). Check total count == N and
// sum == N*(N-1)/2. msgs = N.
package main

import (
	"sync"

	u "troupe/bench/peers/go/internal/benchutil"
)

func main() {
	a := u.Args("N PRODUCERS CONSUMERS CAP", 10000000, 4, 4, 1024)
	n, producers, consumers, capacity := a[0], a[1], a[2], a[3]
	if producers < 1 || consumers < 1 {
		panic("need at least one producer and one consumer")
	}
	threads := u.Threads()

	ch := make(chan int64, capacity)
	type res struct{ count, sum int64 }
	results := make(chan res, consumers)

	t := u.Start()
	var wg sync.WaitGroup
	chunk := n / producers
	for p := int64(0); p < producers; p++ {
		lo := p * chunk
		hi := lo + chunk
		if p == producers-1 {
			hi = n
		}
		wg.Add(1)
		go func(lo, hi int64) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				ch <- i
			}
		}(lo, hi)
	}
	go func() {
		wg.Wait()
		close(ch)
	}()
	for c := int64(0); c < consumers; c++ {
		go func() {
			var r res
			for v := range ch {
				r.sum += v
				r.count++
			}
			results <- r
		}()
	}
	var total res
	for c := int64(0); c < consumers; c++ {
		r := <-results
		total.count += r.count
		total.sum += r.sum
	}
	secs := t.Seconds()
	u.Emit("chan_mpmc", n, []u.KV{u.P("producers", producers), u.P("consumers", consumers),
		u.P("cap", capacity)}, threads, secs, n,
		total.count == n && total.sum == n*(n-1)/2, u.P("sum", total.sum))
}
