// fjthrput N ACTORS: fork-join throughput (Savina). One driver sends N
// messages to each of ACTORS actors, round-robin; every message carries
// theta=37.2 and the actor does a tiny compute (s = sin(theta); acc += s*s).
// Then the driver asks each actor for its count: each must be exactly N.
// msgs = N*ACTORS.
package main

import (
	"math"

	u "troupe/bench/peers/go/internal/benchutil"
)

type msg struct {
	theta float64
	reply chan<- result // non-nil: "report your count"
}

type result struct {
	count int64
	acc   float64
}

const mailbox = 1024

func main() {
	a := u.Args("N ACTORS", 100000, 60)
	n, actors := a[0], a[1]
	threads := u.Threads()

	inboxes := make([]chan msg, actors)
	for i := range inboxes {
		in := make(chan msg, mailbox)
		inboxes[i] = in
		go func() {
			var count int64
			var acc float64
			for m := range in {
				if m.reply != nil {
					m.reply <- result{count, acc}
					return
				}
				s := math.Sin(m.theta)
				acc += s * s
				count++
			}
		}()
	}
	theta := 37.2
	results := make(chan result, actors)

	t := u.Start()
	done := make(chan bool)
	go func() { // driver
		for i := int64(0); i < n; i++ {
			for _, in := range inboxes {
				in <- msg{theta: theta}
			}
		}
		for _, in := range inboxes {
			in <- msg{reply: results}
		}
		ok := true
		sum := 0.0
		for range inboxes {
			r := <-results
			ok = ok && r.count == n
			sum += r.acc
		}
		s := math.Sin(theta)
		ok = ok && math.Abs(sum-float64(n*actors)*s*s) < 1e-6*sum+1e-9
		done <- ok
	}()
	ok := <-done
	secs := t.Seconds()
	u.Emit("fjthrput", n, []u.KV{u.P("actors", actors)}, threads, secs, n*actors, ok)
}
