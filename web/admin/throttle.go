package admin

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Failed sign-ins are limited per client address, so that HTTP Basic cannot
// be used to guess the server's password at network speed.
const (
	// maxFailures is how many failed sign-ins an address may make per window.
	maxFailures = 10
	// failureWindow is the period over which failures are counted.
	failureWindow = time.Minute
	// maxTracked bounds the addresses remembered; past it the table restarts.
	maxTracked = 10_000
)

// throttle counts failed sign-ins per client address in fixed windows.
type throttle struct {
	mu    sync.Mutex
	now   func() time.Time
	fails map[string]*failures
}

type failures struct {
	start time.Time
	n     int
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, fails: map[string]*failures{}}
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// blocked reports whether addr used up its failures in the current window.
func (t *throttle) blocked(addr string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.fails[addr]
	if f == nil {
		return false
	}
	if t.now().Sub(f.start) >= failureWindow {
		delete(t.fails, addr)
		return false
	}
	return f.n >= maxFailures
}

// fail records a failed sign-in from addr.
func (t *throttle) fail(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.fails[addr]
	if f == nil || now.Sub(f.start) >= failureWindow {
		if len(t.fails) >= maxTracked {
			t.fails = map[string]*failures{}
		}
		f = &failures{start: now}
		t.fails[addr] = f
	}
	f.n++
}
