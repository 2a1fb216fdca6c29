// chameneos N CREATURES: the Savina chameneos protocol. A mall actor pairs
// meeting requests until N meetings have happened, then answers every
// further request with "exit". A creature that is paired computes its new
// color, tells its partner ("change"), counts the meeting and asks the mall
// again; at "exit" it fades and reports its meeting count to the mall. The
// reported counts must sum to 2N. msgs = 4N (two requests, one forward, one
// change per meeting).
package main

import u "troupe/bench/peers/go/internal/benchutil"

const (
	red = iota
	yellow
	blue
	faded
)

func complement(a, b int) int {
	if a == b {
		return a
	}
	return 3 - a - b
}

const (
	kMeet = iota
	kChange
	kExit
	kCount
)

type creatureMsg struct {
	kind  int
	color int
	from  int // sender creature id
}

type mallMsg struct {
	kind  int // kMeet or kCount
	color int
	from  int
	count int64
}

func main() {
	a := u.Args("N CREATURES", 1000000, 10)
	n, creatures := a[0], int(a[1])
	if creatures < 2 {
		panic("chameneos needs at least 2 creatures")
	}
	threads := u.Threads()

	mall := make(chan mallMsg, creatures)
	inbox := make([]chan creatureMsg, creatures)
	for i := range inbox {
		inbox[i] = make(chan creatureMsg, 2)
	}
	total := make(chan int64)

	t := u.Start()
	go func() { // mall
		remaining := n
		waiting := -1
		fadedCount := 0
		var sum int64
		for m := range mall {
			switch m.kind {
			case kMeet:
				if remaining > 0 {
					if waiting < 0 {
						waiting = m.from
					} else {
						remaining--
						inbox[waiting] <- creatureMsg{kMeet, m.color, m.from}
						waiting = -1
					}
				} else {
					inbox[m.from] <- creatureMsg{kind: kExit}
				}
			case kCount:
				fadedCount++
				sum += m.count
				if fadedCount == creatures {
					total <- sum
					return
				}
			}
		}
	}()
	for i := 0; i < creatures; i++ {
		go func(id int) {
			color := id % 3
			var meetings int64
			in := inbox[id]
			mall <- mallMsg{kind: kMeet, color: color, from: id}
			for m := range in {
				switch m.kind {
				case kMeet:
					color = complement(color, m.color)
					meetings++
					inbox[m.from] <- creatureMsg{kChange, color, id}
					mall <- mallMsg{kind: kMeet, color: color, from: id}
				case kChange:
					color = m.color
					meetings++
					mall <- mallMsg{kind: kMeet, color: color, from: id}
				case kExit:
					color = faded
					mall <- mallMsg{kind: kCount, count: meetings, from: id}
					return
				}
			}
		}(i)
	}
	sum := <-total
	secs := t.Seconds()
	u.Emit("chameneos", n, []u.KV{u.P("creatures", creatures)}, threads, secs, 4*n,
		sum == 2*n, u.P("meetings", sum))
}
