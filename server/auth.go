package server

import (
	"net"
	"sync"
	"time"
)

// Brute-force throttling. Redis answers every AUTH at once, so guessing
// passwords costs an attacker one round trip per guess. sessdb counts the
// consecutive failed AUTH / HELLO AUTH attempts of each client IP address,
// and once there have been authFreeFailures of them it holds every further
// attempt from that address back: by authBaseDelay, doubling with each
// failure, up to authMaxDelay. The attempts of one address are queued one
// delay apart, so opening many connections does not buy more guesses.
// A success resets the address. The wait happens before the password is
// checked, so a correct password is not answered faster than a wrong one.
// Only the waiting connection waits: every connection has its own
// goroutine, and server shutdown cuts the wait short.

const (
	authFreeFailures = 3                      // failures (typos) that cost nothing
	authBaseDelay    = 100 * time.Millisecond // the first delay
	authMaxDelay     = 5 * time.Second        // the cap
	authForgetAfter  = time.Hour              // an address quiet this long starts afresh
	authMaxPeers     = 100000                 // addresses tracked at most
)

// authThrottle tracks failed authentication attempts per client IP.
type authThrottle struct {
	mu    sync.Mutex
	peers map[string]*authPeer
	now   func() time.Time
	// sleep waits d, or less when stop is closed.
	sleep func(d time.Duration, stop <-chan struct{})
	stop  chan struct{}
	once  sync.Once
}

type authPeer struct {
	failures int
	next     time.Time // the earliest time the next attempt is answered
	last     time.Time // the last attempt
}

func newAuthThrottle() *authThrottle {
	return &authThrottle{
		peers: map[string]*authPeer{},
		now:   time.Now,
		sleep: func(d time.Duration, stop <-chan struct{}) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-stop:
			}
		},
		stop: make(chan struct{}),
	}
}

// close ends every wait at once (server shutdown).
func (t *authThrottle) close() { t.once.Do(func() { close(t.stop) }) }

// authPenalty is the delay after n consecutive failures.
func authPenalty(n int) time.Duration {
	if n < authFreeFailures {
		return 0
	}
	shift := n - authFreeFailures
	if shift > 16 {
		return authMaxDelay
	}
	return min(authBaseDelay<<shift, authMaxDelay)
}

// reserve returns how long an attempt from ip must wait, and books its
// slot so that the next attempt waits one more delay.
func (t *authThrottle) reserve(ip string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	p := t.peers[ip]
	if p == nil {
		return 0
	}
	if now.Sub(p.last) > authForgetAfter {
		delete(t.peers, ip)
		return 0
	}
	p.last = now
	d := authPenalty(p.failures)
	if d == 0 {
		return 0
	}
	start := p.next
	if start.Before(now) {
		start = now
	}
	p.next = start.Add(d)
	return start.Sub(now)
}

// result records the outcome of an attempt from ip.
func (t *authThrottle) result(ip string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok {
		delete(t.peers, ip)
		return
	}
	now := t.now()
	p := t.peers[ip]
	if p == nil {
		if len(t.peers) >= authMaxPeers {
			t.prune(now)
		}
		p = &authPeer{}
		t.peers[ip] = p
	}
	p.failures++
	p.last = now
	if next := now.Add(authPenalty(p.failures)); next.After(p.next) {
		p.next = next
	}
}

// prune forgets quiet addresses and those below the free failures; if that
// is not enough, it forgets arbitrary ones down to 7/8 of the cap, so that
// a flood of new addresses cannot grow the map without bound.
func (t *authThrottle) prune(now time.Time) {
	for ip, p := range t.peers {
		if now.Sub(p.last) > authForgetAfter || p.failures < authFreeFailures {
			delete(t.peers, ip)
		}
	}
	for ip := range t.peers {
		if len(t.peers) <= authMaxPeers*7/8 {
			break
		}
		delete(t.peers, ip)
	}
}

// failures returns the consecutive failures recorded for ip.
func (t *authThrottle) failures(ip string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.peers[ip]; p != nil {
		return p.failures
	}
	return 0
}

// clientIP is the address part of "ip:port".
func clientIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// authenticate checks user and pass for c (cmdName is AUTH or HELLO as
// sent, for the ACL log), after the throttle's delay for
// c's address. inTx is true inside EXEC, which holds the store's lock and
// must not wait: a throttled attempt there fails without being checked.
// It reports whether the credentials were right.
func (c *Client) authenticate(cmdName, user, pass []byte, inTx bool) bool {
	s := c.srv
	ip := clientIP(c.addr)
	if d := s.auth.reserve(ip); d > 0 {
		s.stats.authDelayed.Add(1)
		if inTx {
			s.stats.aclDeniedAuth.Add(1)
			c.logAuthFailure(cmdName, user, inTx)
			return false
		}
		s.auth.sleep(d, s.auth.stop)
	}
	ok := s.acl.authenticate(string(user), pass)
	s.auth.result(ip, ok)
	if !ok {
		s.stats.aclDeniedAuth.Add(1)
		c.logAuthFailure(cmdName, user, inTx)
		return false
	}
	c.authed, c.user = true, string(user)
	return true
}

// logAuthFailure records a failed AUTH or HELLO AUTH in the ACL log: the
// object is the command's name as the client sent it, as in Redis.
func (c *Client) logAuthFailure(cmdName, user []byte, inTx bool) {
	ctx := "toplevel"
	if inTx || c.multi {
		ctx = "multi"
	}
	c.srv.aclLog.add(c, "auth", ctx, string(cmdName), string(user))
}
