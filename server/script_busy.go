package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Busy scripts, as Redis 7: a script that has run longer than
// busy-reply-threshold (alias lua-time-limit) makes every other client's
// command fail with BUSY, except the commands Redis flags allow_busy
// (SCRIPT KILL, SHUTDOWN NOSAVE, AUTH, HELLO, MULTI, DISCARD, WATCH,
// UNWATCH, RESET, QUIT). Before the threshold other clients wait, as they
// wait in Redis, but the wait is on scriptState.changed, not on the store's
// lock, so that it ends with BUSY once the threshold passes. Reads still run
// beside read-only scripts, which hold the lock shared. SCRIPT KILL cancels
// the script's gopher-lua context unless the script has already written.

// scriptState is the set of scripts running now.
type scriptState struct {
	n       atomic.Int32 // len(runs): the dispatcher's fast path
	waiting atomic.Int32 // commands waiting for a script (tests watch it)
	mu      sync.Mutex
	runs    map[*scriptRun]struct{}
	changed chan struct{} // made by a waiter, closed when a script turns busy or ends
	closed  bool          // the server is closing: scripts are stopped at once
}

// Kill states of a scriptRun (scriptRun.state).
const (
	scriptClean  int32 = iota // has not written: SCRIPT KILL may stop it
	scriptDirty               // has written: UNKILLABLE
	scriptKilled              // stopped by SCRIPT KILL or by shutdown
)

// errScriptKilledCtx is the cause a killed script's context reports.
var errScriptKilledCtx = errors.New("script killed")

// killCtx is the context a script's VM checks before every instruction;
// cancel makes the VM raise an error at the next one.
type killCtx struct {
	done chan struct{}
	once sync.Once
}

func newKillCtx() *killCtx { return &killCtx{done: make(chan struct{})} }

func (k *killCtx) cancel() { k.once.Do(func() { close(k.done) }) }

func (k *killCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (k *killCtx) Done() <-chan struct{}       { return k.done }
func (k *killCtx) Value(any) any               { return nil }
func (k *killCtx) Err() error {
	select {
	case <-k.done:
		return errScriptKilledCtx
	default:
		return nil
	}
}

var _ context.Context = (*killCtx)(nil)

// broadcast wakes every waiter; st.mu is held.
func (st *scriptState) broadcast() {
	if st.changed != nil {
		close(st.changed)
		st.changed = nil
	}
}

// next returns the channel the next change closes; st.mu is held.
func (st *scriptState) next() chan struct{} {
	if st.changed == nil {
		st.changed = make(chan struct{})
	}
	return st.changed
}

// scriptStart registers run; from now on other clients wait for it or,
// once it has run for busy-reply-threshold (0: never), get BUSY.
func (s *Server) scriptStart(run *scriptRun) {
	st := &s.scriptRuns
	run.ctx = newKillCtx()
	run.started = time.Now()
	st.mu.Lock()
	if st.runs == nil {
		st.runs = map[*scriptRun]struct{}{}
	}
	st.runs[run] = struct{}{}
	st.n.Store(int32(len(st.runs)))
	if st.closed {
		run.state.Store(scriptKilled)
		run.ctx.cancel()
	}
	st.mu.Unlock()
	if d := s.cfg.BusyReplyThreshold(); d > 0 {
		run.timer = time.AfterFunc(d, func() { s.scriptTurnedBusy(run) })
	}
}

// scriptNamed records the SHA1 of the script run is about to run.
func (s *Server) scriptNamed(run *scriptRun, sha string) {
	s.scriptRuns.mu.Lock()
	run.sha = sha
	s.scriptRuns.mu.Unlock()
}

func (s *Server) scriptTurnedBusy(run *scriptRun) {
	st := &s.scriptRuns
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.runs[run]; !ok || run.busy {
		return
	}
	run.busy = true
	s.logger.Printf("Slow script detected: still in execution after %d milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: %s.",
		time.Since(run.started).Milliseconds(), run.sha)
	st.broadcast()
}

// scriptEnd unregisters run and wakes the clients waiting for it.
func (s *Server) scriptEnd(run *scriptRun) {
	if run.timer != nil {
		run.timer.Stop()
	}
	st := &s.scriptRuns
	st.mu.Lock()
	delete(st.runs, run)
	st.n.Store(int32(len(st.runs)))
	st.broadcast()
	st.mu.Unlock()
}

// scriptGate is the dispatcher's check, before the command waits for the
// store's lock: while a script runs, it waits until the script ends or turns
// busy, and then returns BUSY unless cmd may run during a busy script. Reads
// do not wait for read-only scripts. It returns "" when cmd may go on.
func (c *Client) scriptGate(cmd *command, args [][]byte) string {
	st := &c.srv.scriptRuns
	for {
		st.mu.Lock()
		if len(st.runs) == 0 {
			st.mu.Unlock()
			return ""
		}
		busy, writer := false, false
		for r := range st.runs {
			busy = busy || r.busy
			writer = writer || r.exclusive
			if r.caller == c {
				// Its own script (it cannot dispatch meanwhile, but be safe).
				st.mu.Unlock()
				return ""
			}
		}
		if busy {
			st.mu.Unlock()
			if allowBusy(c, cmd, args) {
				return ""
			}
			return errBusyScript
		}
		if !writer && cmd.access == accessRead {
			st.mu.Unlock()
			return ""
		}
		ch := st.next()
		st.mu.Unlock()
		st.wait(ch)
	}
}

// wait waits for the next change of the running scripts.
func (st *scriptState) wait(ch chan struct{}) {
	st.waiting.Add(1)
	<-ch
	st.waiting.Add(-1)
}

// allowBusy reports whether cmd runs while a script is busy, as Redis 7's
// allow-busy flag. SHUTDOWN is allowed only as SHUTDOWN NOSAVE (or when its
// arguments are wrong, or ABORT, which it answers itself).
func allowBusy(c *Client, cmd *command, args [][]byte) bool {
	if !hasFlag(cmd, "allow_busy") {
		return false
	}
	if cmd.name == "shutdown" && !c.multi {
		a, ok := parseShutdown(args)
		return !ok || a.abort || a.nosave
	}
	return true
}

// scriptKill is SCRIPT KILL: it waits, as Redis, until a script is busy or
// none runs, then stops the busy scripts unless one has written.
func (s *Server) scriptKill() string {
	st := &s.scriptRuns
	for {
		st.mu.Lock()
		if len(st.runs) == 0 {
			st.mu.Unlock()
			return errNotBusy
		}
		var busy []*scriptRun
		for r := range st.runs {
			if r.busy {
				busy = append(busy, r)
			}
		}
		if len(busy) == 0 {
			ch := st.next()
			st.mu.Unlock()
			st.wait(ch)
			continue
		}
		defer st.mu.Unlock()
		for _, r := range busy {
			if r.state.Load() == scriptDirty {
				return errUnkillable
			}
		}
		for _, r := range busy {
			// A script that writes in the meantime is dirty first: it runs on.
			if r.state.CompareAndSwap(scriptClean, scriptKilled) {
				r.ctx.cancel()
			} else if r.state.Load() == scriptDirty {
				return errUnkillable
			}
		}
		return ""
	}
}

// stopScripts stops every running script, written or not, and every script
// that starts from now on: the server is closing (SHUTDOWN NOSAVE, SIGTERM).
// The writes a stopped script made are kept, as those of a failed script.
func (s *Server) stopScripts() {
	st := &s.scriptRuns
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
	for r := range st.runs {
		r.state.Store(scriptKilled)
		r.ctx.cancel()
	}
}

// markDirty records that the script is about to write. It reports false
// when the script was killed first: the write must not run.
func (run *scriptRun) markDirty() bool {
	if run.state.CompareAndSwap(scriptClean, scriptDirty) {
		return true
	}
	return run.state.Load() == scriptDirty
}
