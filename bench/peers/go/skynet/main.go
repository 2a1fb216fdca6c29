// skynet N FANOUT: the classic goroutine skynet. Every node with size > 1
// spawns min(FANOUT, size) children over equal sub-ranges and sums their
// replies; a leaf (size 1) replies its number. N leaves in total; the root
// sum must be N*(N-1)/2. msgs = number of nodes (each replies once).
package main

import (
	"runtime"
	"runtime/debug"

	u "troupe/bench/peers/go/internal/benchutil"
)

func skynet(c chan<- int64, num, size, div int64) {
	if size == 1 {
		c <- num
		return
	}
	k := div
	if size < k {
		k = size
	}
	rc := make(chan int64)
	for i := int64(0); i < k; i++ {
		lo := num + i*size/k
		hi := num + (i+1)*size/k
		go skynet(rc, lo, hi-lo, div)
	}
	var sum int64
	for i := int64(0); i < k; i++ {
		sum += <-rc
	}
	c <- sum
}

func nodes(size, div int64) int64 {
	if size <= 1 {
		return 1
	}
	k := div
	if size < k {
		k = size
	}
	total := int64(1)
	for i := int64(0); i < k; i++ {
		total += nodes((i+1)*size/k-i*size/k, div)
	}
	return total
}

func main() {
	a := u.Args("N FANOUT", 1000000, 10)
	n, fanout := a[0], a[1]
	if n < 1 || fanout < 2 {
		panic("skynet needs N >= 1 and FANOUT >= 2")
	}
	threads := u.Threads()
	count := nodes(n, fanout)
	runtime.GC()
	debug.FreeOSMemory()
	base := u.ProcStatusKB("VmRSS")

	t := u.Start()
	c := make(chan int64)
	go skynet(c, 0, n, fanout)
	sum := <-c
	secs := t.Seconds()

	peak := u.ProcStatusKB("VmHWM")
	bpa := float64(peak-base) * 1024 / float64(n)
	u.Emit("skynet", n, []u.KV{u.P("fanout", fanout)}, threads, secs, count-1,
		sum == n*(n-1)/2, u.P("sum", sum), u.P("actors", count),
		u.P("bytes_per_actor", float64(int64(bpa*10))/10), u.P("peak_rss_kb", peak),
		u.P("base_rss_kb", base))
}
