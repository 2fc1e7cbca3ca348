package sessdb_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// The crash test drives a sessdb child process with concurrent clients,
// kills it, restarts it on the same directory and checks every acknowledged
// write. Each client works on its own keys and sends one command or one
// pipeline at a time, stopping at its first error, so the state the server
// must recover for its keys is the state after some prefix of its commands
// at least as long as the acknowledged ones: the log is replayed in order.

const (
	crashClients     = 16
	crashRoundsEnv   = "SESSDB_CRASH_ROUNDS"
	crashRounds      = 5
	crashMinLoad     = 300 * time.Millisecond
	crashMaxLoad     = 800 * time.Millisecond
	crashExpireAfter = time.Hour // long enough never to expire during a test
)

// Ensure that every write acknowledged under appendfsync always survives a
// kill -9 and a graceful SIGTERM shutdown.
func TestCrash_Behaviour(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped in -short mode")
	}
	bin := crashBuildSessdb(t)

	t.Run("kill -9", func(t *testing.T) {
		rounds := crashRounds
		if s := os.Getenv(crashRoundsEnv); s != "" {
			n, err := strconv.Atoi(s)
			require.NoError(t, err, crashRoundsEnv)
			rounds = n
		}
		dir := t.TempDir()
		proc := crashStartChild(t, bin, dir)
		var settled []crashSettled
		var totalAcked, totalKeys int
		for round := range rounds {
			w := newCrashWorkload(round, proc.addr)
			load := crashMinLoad + rand.N(crashMaxLoad-crashMinLoad)
			w.runFor(load, func() { proc.kill(t) })
			proc = crashStartChild(t, bin, dir)
			st := w.verify(t, proc.addr)
			settled = append(settled, st)
			// Earlier rounds' keys stay exactly as they were recovered.
			for _, s := range settled[:len(settled)-1] {
				s.check(t, proc.addr)
			}
			totalAcked += st.acked
			totalKeys += len(st.keys)
			t.Logf("round %d: kill -9 after %v of load: %d commands acknowledged, %d in flight of which %d recovered, %d keys checked",
				round+1, load.Round(time.Millisecond), st.acked, st.inFlight, st.recovered, len(st.keys))
		}
		t.Logf("kill -9: %d rounds, %d acknowledged commands, %d keys checked", rounds, totalAcked, totalKeys)
		proc.stop(t)
	})

	t.Run("SIGTERM", func(t *testing.T) {
		dir := t.TempDir()
		proc := crashStartChild(t, bin, dir)
		w := newCrashWorkload(0, proc.addr)
		load := crashMinLoad + rand.N(crashMaxLoad-crashMinLoad)
		w.runFor(load, func() {
			require.NoError(t, proc.cmd.Process.Signal(syscall.SIGTERM))
			require.Equal(t, 0, proc.wait(), "exit code after SIGTERM; log:\n%s", proc.log.String())
		})
		proc = crashStartChild(t, bin, dir)
		st := w.verify(t, proc.addr)
		t.Logf("SIGTERM after %v of load: exit code 0, %d commands acknowledged, %d in flight of which %d recovered, %d keys checked",
			load.Round(time.Millisecond), st.acked, st.inFlight, st.recovered, len(st.keys))
		proc.stop(t)
	})
}

// crashBuildSessdb builds cmd/sessdb into a temporary directory.
func crashBuildSessdb(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("crash test: no go command to build cmd/sessdb")
	}
	bin := filepath.Join(t.TempDir(), "sessdb")
	out, err := exec.Command(goBin, "build", "-o", bin, "./cmd/sessdb").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// crashChild is a running sessdb process.
type crashChild struct {
	cmd  *exec.Cmd
	addr string
	log  *wireLog
	done chan struct{}
	code int
}

func crashStartChild(t *testing.T, bin, dir string) *crashChild {
	t.Helper()
	port := wireFreePort(t)
	c := &crashChild{log: &wireLog{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--appendfsync", "always")
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	require.NoError(t, c.cmd.Start())
	go func() {
		_ = c.cmd.Wait()
		c.code = c.cmd.ProcessState.ExitCode()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	c.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	wireWaitReady(t, c.addr, c.log.String)
	return c
}

// wait waits for the process to exit and returns its exit code.
func (c *crashChild) wait() int {
	<-c.done
	return c.code
}

func (c *crashChild) kill(t *testing.T) {
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	c.wait()
}

func (c *crashChild) stop(t *testing.T) {
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, c.wait(), "exit code after SIGTERM; log:\n%s", c.log.String())
}

// crashKind is the type of value a key holds: each key keeps one kind.
type crashKind int

const (
	crashString crashKind = iota
	crashCounter
	crashHash
	crashSet
)

// crashKeyState is what a key holds; nil in a state map means absent.
type crashKeyState struct {
	kind   crashKind
	str    string // string and counter
	fields map[string]string
	ttl    bool // an EXPIRE is pending on it
}

func (s *crashKeyState) clone() *crashKeyState {
	c := *s
	c.fields = make(map[string]string, len(s.fields))
	for k, v := range s.fields {
		c.fields[k] = v
	}
	return &c
}

// crashOp is one write a client sends.
type crashOp struct {
	name string
	key  string
	kind crashKind
	arg1 string
	arg2 string
}

func (o crashOp) cmd(ctx context.Context, p redis.Cmdable) redis.Cmder {
	switch o.name {
	case "SET":
		return p.Set(ctx, o.key, o.arg1, 0)
	case "INCR":
		return p.Incr(ctx, o.key)
	case "HSET":
		return p.HSet(ctx, o.key, o.arg1, o.arg2)
	case "SADD":
		return p.SAdd(ctx, o.key, o.arg1)
	case "DEL":
		return p.Del(ctx, o.key)
	case "EXPIRE":
		return p.Expire(ctx, o.key, crashExpireAfter)
	}
	panic(o.name)
}

// apply is the op's effect on a model state.
func (o crashOp) apply(state map[string]*crashKeyState) {
	cur := state[o.key]
	switch o.name {
	case "SET":
		state[o.key] = &crashKeyState{kind: crashString, str: o.arg1}
	case "INCR":
		n := int64(0)
		ttl := false
		if cur != nil {
			n, _ = strconv.ParseInt(cur.str, 10, 64)
			ttl = cur.ttl
		}
		state[o.key] = &crashKeyState{kind: crashCounter, str: strconv.FormatInt(n+1, 10), ttl: ttl}
	case "HSET", "SADD":
		next := &crashKeyState{kind: o.kind, fields: map[string]string{}}
		if cur != nil {
			next = cur.clone()
		}
		next.fields[o.arg1] = o.arg2
		state[o.key] = next
	case "DEL":
		delete(state, o.key)
	case "EXPIRE":
		if cur != nil {
			next := cur.clone()
			next.ttl = true
			state[o.key] = next
		}
	}
}

// crashClient is one client's keys and the commands it sent.
type crashClient struct {
	keys  []string
	kinds map[string]crashKind
	sent  []crashOp // in order
	acked int       // sent[:acked] were acknowledged
}

type crashWorkload struct {
	addr    string
	clients []*crashClient
}

func newCrashWorkload(round int, addr string) *crashWorkload {
	w := &crashWorkload{addr: addr}
	for i := range crashClients {
		c := &crashClient{kinds: map[string]crashKind{}}
		for j, kind := range []crashKind{crashString, crashString, crashString, crashCounter, crashCounter, crashHash, crashHash, crashSet, crashSet} {
			key := fmt.Sprintf("crash:r%d:c%d:k%d", round, i, j)
			c.keys = append(c.keys, key)
			c.kinds[key] = kind
		}
		w.clients = append(w.clients, c)
	}
	return w
}

// runFor runs the clients for d, then calls stop (which ends the server)
// and waits for every client to see its first error.
func (w *crashWorkload) runFor(d time.Duration, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i, c := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(ctx, w.addr, rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))))
		}()
	}
	timer := time.NewTimer(d)
	<-timer.C
	stop()
	cancel()
	wg.Wait()
}

func (c *crashClient) run(ctx context.Context, addr string, rng *rand.Rand) {
	rdb := redis.NewClient(&redis.Options{
		Addr:         addr,
		MaxRetries:   -1, // a retried write would be sent twice
		PoolSize:     1,
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
	})
	defer rdb.Close()
	for seq := 0; ctx.Err() == nil; seq++ {
		batch := []crashOp{c.nextOp(rng, seq)}
		if rng.IntN(4) == 0 {
			for range rng.IntN(5) {
				seq++
				batch = append(batch, c.nextOp(rng, seq))
			}
		}
		c.sent = append(c.sent, batch...)
		var cmds []redis.Cmder
		if len(batch) == 1 {
			cmds = []redis.Cmder{batch[0].cmd(ctx, rdb)}
		} else {
			pipe := rdb.Pipeline()
			for _, o := range batch {
				cmds = append(cmds, o.cmd(ctx, pipe))
			}
			_, _ = pipe.Exec(ctx)
		}
		for _, cmd := range cmds {
			if cmd.Err() != nil {
				return
			}
			c.acked++
		}
	}
}

func (c *crashClient) nextOp(rng *rand.Rand, seq int) crashOp {
	key := c.keys[rng.IntN(len(c.keys))]
	o := crashOp{key: key, kind: c.kinds[key]}
	switch r := rng.IntN(10); {
	case r == 0:
		o.name = "DEL"
	case r == 1:
		o.name = "EXPIRE"
	default:
		switch o.kind {
		case crashString:
			o.name, o.arg1 = "SET", fmt.Sprintf("v%d", seq)
		case crashCounter:
			o.name = "INCR"
		case crashHash:
			o.name, o.arg1, o.arg2 = "HSET", fmt.Sprintf("f%d", rng.IntN(4)), fmt.Sprintf("v%d", seq)
		case crashSet:
			o.name, o.arg1 = "SADD", fmt.Sprintf("m%d", seq)
		}
	}
	return o
}

// crashSettled is the state a round's keys were recovered with.
type crashSettled struct {
	keys      map[string]crashKind
	state     map[string]*crashKeyState
	acked     int
	inFlight  int
	recovered int
}

// verify reads every client's keys and requires them to be the state after
// the acknowledged commands and some of the unacknowledged ones after them.
func (w *crashWorkload) verify(t *testing.T, addr string) crashSettled {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	st := crashSettled{keys: map[string]crashKind{}, state: map[string]*crashKeyState{}}
	for i, c := range w.clients {
		got := crashReadKeys(t, rdb, c.kinds)
		state := map[string]*crashKeyState{}
		for _, o := range c.sent[:c.acked] {
			o.apply(state)
		}
		match := -1
		for n := c.acked; ; n++ {
			if crashStatesEqual(state, got) {
				match = n
				break
			}
			if n == len(c.sent) {
				break
			}
			c.sent[n].apply(state)
		}
		require.True(t, match >= 0, "client %d: %d of %d commands acknowledged; recovered keys %s match no prefix from there; unacknowledged: %v",
			i, c.acked, len(c.sent), crashFormatState(got), c.sent[c.acked:])
		st.acked += c.acked
		st.inFlight += len(c.sent) - c.acked
		st.recovered += match - c.acked
		for k, kind := range c.kinds {
			st.keys[k] = kind
			if s := got[k]; s != nil {
				st.state[k] = s
			}
		}
	}
	return st
}

// check requires the round's keys to be exactly as recovered.
func (s crashSettled) check(t *testing.T, addr string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	got := crashReadKeys(t, rdb, s.keys)
	require.True(t, crashStatesEqual(s.state, got), "want %s, got %s", crashFormatState(s.state), crashFormatState(got))
}

// crashReadKeys reads keys from the server as model states.
func crashReadKeys(t *testing.T, rdb *redis.Client, kinds map[string]crashKind) map[string]*crashKeyState {
	t.Helper()
	ctx := context.Background()
	out := map[string]*crashKeyState{}
	for key, kind := range kinds {
		ttl, err := rdb.TTL(ctx, key).Result()
		require.NoError(t, err)
		if ttl == -2 {
			continue
		}
		s := &crashKeyState{kind: kind, ttl: ttl > 0}
		switch kind {
		case crashString, crashCounter:
			s.str, err = rdb.Get(ctx, key).Result()
		case crashHash:
			s.fields, err = rdb.HGetAll(ctx, key).Result()
		case crashSet:
			var members []string
			members, err = rdb.SMembers(ctx, key).Result()
			s.fields = map[string]string{}
			for _, m := range members {
				s.fields[m] = ""
			}
		}
		require.NoError(t, err, key)
		out[key] = s
	}
	return out
}

func crashStatesEqual(a, b map[string]*crashKeyState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y := b[k]
		if y == nil || x.kind != y.kind || x.str != y.str || x.ttl != y.ttl || len(x.fields) != len(y.fields) {
			return false
		}
		for f, v := range x.fields {
			if w, ok := y.fields[f]; !ok || w != v {
				return false
			}
		}
	}
	return true
}

func crashFormatState(s map[string]*crashKeyState) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s=%+v", k, *s[k])
	}
	return b.String()
}
