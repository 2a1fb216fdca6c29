// chan_spsc N CAP: one producer sends 0..N-1 on a buffered channel of
// capacity CAP and closes it; one consumer sums until closed. msgs = N.
package main

import u "troupe/bench/peers/go/internal/benchutil"

func main() {
	a := u.Args("N CAP", 10000000, 1024)
	n, capacity := a[0], a[1]
	threads := u.Threads()

	ch := make(chan int64, capacity)
	type res struct{ count, sum int64 }
	done := make(chan res)

	t := u.Start()
	go func() {
		for i := int64(0); i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	go func() {
		var r res
		for v := range ch {
			r.sum += v
			r.count++
		}
		done <- r
	}()
	r := <-done
	secs := t.Seconds()
	u.Emit("chan_spsc", n, []u.KV{u.P("cap", capacity)}, threads, secs, n,
		r.count == n && r.sum == n*(n-1)/2, u.P("sum", r.sum))
}
