// Package benchutil holds the shared benchmark convention for the Go peers:
// positional integer arguments, BENCH_THREADS -> GOMAXPROCS, a monotonic
// timer around the workload only, RSS from /proc/self/status, and exactly one
// JSON line on stdout (exit status 1 when the self-check failed).
package benchutil

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// KV is one extra JSON field, printed in order.
type KV struct {
	K string
	V interface{}
}

// Threads reads BENCH_THREADS (default: number of CPUs) and applies it as
// GOMAXPROCS.
func Threads() int {
	t := runtime.NumCPU()
	if s := os.Getenv("BENCH_THREADS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			fmt.Fprintf(os.Stderr, "bad BENCH_THREADS=%q\n", s)
			os.Exit(2)
		}
		t = v
	}
	runtime.GOMAXPROCS(t)
	return t
}

// Args parses the positional integer arguments; missing ones take defaults.
func Args(usage string, defaults ...int64) []int64 {
	out := append([]int64(nil), defaults...)
	if len(os.Args)-1 > len(defaults) {
		fmt.Fprintf(os.Stderr, "usage: %s %s\n", os.Args[0], usage)
		os.Exit(2)
	}
	for i, a := range os.Args[1:] {
		v, err := strconv.ParseInt(a, 10, 64)
		if err != nil || v < 0 {
			fmt.Fprintf(os.Stderr, "usage: %s %s (bad argument %q)\n", os.Args[0], usage, a)
			os.Exit(2)
		}
		out[i] = v
	}
	return out
}

// ProcStatusKB returns a "VmRSS"/"VmHWM" style field of /proc/self/status in KiB.
func ProcStatusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, field+":") {
			fs := strings.Fields(line[len(field)+1:])
			if len(fs) > 0 {
				v, _ := strconv.ParseInt(fs[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// Timer measures wall time of the workload only.
type Timer struct{ start time.Time }

func Start() Timer               { return Timer{time.Now()} }
func (t Timer) Seconds() float64 { return time.Since(t.start).Seconds() }

// Emit prints the single JSON result line and exits (status 1 if !ok).
// params are the workload sizes after "n"; extra go after "check".
func Emit(workload string, n int64, params []KV, threads int, secs float64,
	msgs int64, ok bool, extra ...KV) {
	var b strings.Builder
	b.WriteString(`{"impl":"go","workload":"` + workload + `","n":` + strconv.FormatInt(n, 10))
	for _, p := range params {
		b.WriteString(`,"` + p.K + `":` + jsonValue(p.V))
	}
	check := "passed"
	if !ok {
		check = "failed"
	}
	rate := 0.0
	if secs > 0 {
		rate = float64(msgs) / secs
	}
	fmt.Fprintf(&b, `,"threads":%d,"time_s":%.6f,"msgs":%d,"msgs_per_s":%.1f,"check":"%s"`,
		threads, secs, msgs, rate, check)
	hasRSS := false
	for _, p := range extra {
		if p.K == "peak_rss_kb" {
			hasRSS = true
		}
		b.WriteString(`,"` + p.K + `":` + jsonValue(p.V))
	}
	if !hasRSS {
		fmt.Fprintf(&b, `,"peak_rss_kb":%d`, ProcStatusKB("VmHWM"))
	}
	b.WriteString("}\n")
	os.Stdout.WriteString(b.String())
	if !ok {
		os.Exit(1)
	}
	os.Exit(0)
}

func jsonValue(v interface{}) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		return fmt.Sprint(x)
	}
}

// P builds one KV.
func P(k string, v interface{}) KV { return KV{K: k, V: v} }
