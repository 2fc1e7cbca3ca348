package server

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The busy threshold is 0 (never) in these tests: they turn the script busy
// themselves with scriptTurnedBusy, so no test waits for time to pass.

const busyTestReply = "-" + errBusyScript + "\r\n"

// busyTestWait polls until cond holds, for at most 10 seconds.
func busyTestWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond, what)
}

// busyTestRun returns the one running script.
func busyTestRun(t *testing.T, s *Server) *scriptRun {
	t.Helper()
	st := &s.scriptRuns
	st.mu.Lock()
	defer st.mu.Unlock()
	require.Len(t, st.runs, 1)
	for r := range st.runs {
		return r
	}
	return nil
}

// Ensure that before the threshold another client's command waits for the
// script (on the script gate, not on the store's lock) and gets BUSY the
// moment the script turns busy; SCRIPT KILL sent before the threshold waits
// too, and then stops the script.
func TestScriptBusy_WaitsUntilThreshold(t *testing.T) {
	s, addr := startTestServer(t, nil, "--busy-reply-threshold", "0")
	a, b, k := dialLine(t, addr), dialLine(t, addr), dialLine(t, addr)
	a.send("EVAL \"while true do end\" 0")
	busyTestWait(t, "the script did not start", func() bool { return s.scriptRuns.n.Load() == 1 })
	b.send("GET k")
	busyTestWait(t, "GET does not wait for the script", func() bool { return s.scriptRuns.waiting.Load() == 1 })
	k.send("SCRIPT KILL")
	busyTestWait(t, "SCRIPT KILL does not wait for the threshold", func() bool { return s.scriptRuns.waiting.Load() == 2 })
	s.scriptTurnedBusy(busyTestRun(t, s))
	require.Equal(t, busyTestReply, b.line())
	require.Equal(t, "+OK\r\n", k.line())
	require.True(t, strings.HasPrefix(a.line(), "-ERR Script killed by user with SCRIPT KILL... script: "))
	b.send("GET k")
	require.Equal(t, "$-1\r\n", b.line())
	require.Equal(t, int32(0), s.scriptRuns.n.Load())
}

// Ensure that reads run beside a read-only script while writes wait for it,
// and that a write script makes reads wait too.
func TestScriptBusy_ReadsBesideReadOnlyScript(t *testing.T) {
	s, addr := startTestServer(t, nil, "--busy-reply-threshold", "0")
	a, b := dialLine(t, addr), dialLine(t, addr)
	b.send("SET k v")
	require.Equal(t, "+OK\r\n", b.line())
	a.send("EVAL_RO \"while true do end\" 0")
	busyTestWait(t, "the script did not start", func() bool { return s.scriptRuns.n.Load() == 1 })
	b.send("GET k")
	require.Equal(t, "$1\r\nv\r\n", b.line()+b.line())
	b.send("SET k w")
	busyTestWait(t, "SET does not wait for the script", func() bool { return s.scriptRuns.waiting.Load() == 1 })
	s.scriptTurnedBusy(busyTestRun(t, s))
	require.Equal(t, busyTestReply, b.line())
	b.send("GET k") // busy: reads are refused too
	require.Equal(t, busyTestReply, b.line())
	b.send("SCRIPT KILL")
	require.Equal(t, "+OK\r\n", b.line())
	require.True(t, strings.HasPrefix(a.line(), "-ERR Script killed"))

	a.send("EVAL \"while true do end\" 0")
	busyTestWait(t, "the script did not start", func() bool { return s.scriptRuns.n.Load() == 1 })
	b.send("GET k")
	busyTestWait(t, "GET does not wait for a write script", func() bool { return s.scriptRuns.waiting.Load() == 1 })
	s.scriptTurnedBusy(busyTestRun(t, s))
	require.Equal(t, busyTestReply, b.line())
	b.send("SCRIPT KILL")
	require.Equal(t, "+OK\r\n", b.line())
	require.True(t, strings.HasPrefix(a.line(), "-ERR Script killed"))
	b.send("GET k")
	require.Equal(t, "$1\r\nv\r\n", b.line()+b.line())
}

// Ensure that a script killed before its first write does not write: the
// kill and the first write cannot both win.
func TestScriptBusy_KillBeforeWrite(t *testing.T) {
	run := &scriptRun{ctx: newKillCtx(), busy: true}
	s := &Server{}
	s.scriptRuns.runs = map[*scriptRun]struct{}{run: {}}
	require.Equal(t, "", s.scriptKill())
	require.False(t, run.markDirty(), "a killed script must not start writing")
	require.Error(t, run.ctx.Err())

	run = &scriptRun{ctx: newKillCtx(), busy: true}
	s.scriptRuns.runs = map[*scriptRun]struct{}{run: {}}
	require.True(t, run.markDirty())
	require.Equal(t, errUnkillable, s.scriptKill())
	require.NoError(t, run.ctx.Err())
	require.True(t, run.markDirty(), "a dirty script writes on")
}

// Ensure that closing the server stops a script that has written (SHUTDOWN
// NOSAVE, SIGTERM) instead of waiting for it forever.
func TestScriptBusy_CloseStopsScript(t *testing.T) {
	s, addr := startTestServer(t, nil, "--busy-reply-threshold", "0")
	a := dialLine(t, addr)
	a.send("EVAL \"redis.call('set','k','v') while true do end\" 0")
	busyTestWait(t, "the script did not start", func() bool { return s.scriptRuns.n.Load() == 1 })
	run := busyTestRun(t, s)
	busyTestWait(t, "the script did not write", func() bool { return run.state.Load() == scriptDirty })
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the script")
	}
	require.Equal(t, int32(0), s.scriptRuns.n.Load())
}
