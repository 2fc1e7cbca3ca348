package server

import (
	"sync"
	"time"
)

// The ACL log is Redis's ACL LOG: the latest refusals (a command, key or
// channel denied by the rules, or a failed AUTH), newest first. A refusal
// like one of the 10 newest entries (same reason, context, object and user)
// within a minute increments that entry and moves it to the front, so a
// brute-force run takes one entry, not the whole log.

const (
	aclLogMax      = 128              // Redis's acllog-max-len default
	aclLogGrouping = 60 * time.Second // ACL_LOG_GROUPING_MAX_TIME_DELTA
	aclLogScan     = 10               // entries compared with a new one
)

type aclLogEntry struct {
	count                             int64
	reason, context, object, username string
	updated                           time.Time
	clientInfo                        string // CLIENT LIST's line for the client, at the last refusal
}

type aclLog struct {
	mu      sync.Mutex
	entries []*aclLogEntry // newest first
}

// add records a refusal for client c.
func (l *aclLog) add(c *Client, reason, context, object, username string) {
	now := time.Now()
	info := c.infoLine(c, now)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.entries {
		if i == aclLogScan {
			break
		}
		if e.reason == reason && e.context == context && e.object == object && e.username == username &&
			now.Sub(e.updated) <= aclLogGrouping {
			e.count++
			e.updated, e.clientInfo = now, info
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = e
			return
		}
	}
	e := &aclLogEntry{count: 1, reason: reason, context: context, object: object, username: username, updated: now, clientInfo: info}
	l.entries = append([]*aclLogEntry{e}, l.entries...)
	if len(l.entries) > aclLogMax {
		l.entries = l.entries[:aclLogMax]
	}
}

// snapshot returns copies of the n newest entries.
func (l *aclLog) snapshot(n int) []aclLogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	n = min(n, len(l.entries))
	out := make([]aclLogEntry, n)
	for i := range out {
		out[i] = *l.entries[i]
	}
	return out
}

func (l *aclLog) reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}
