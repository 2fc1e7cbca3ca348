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
	crashSessClients = 6
	crashRoundsEnv   = "SESSDB_CRASH_ROUNDS"
	crashRounds      = 20
	crashMinLoad     = 150 * time.Millisecond
	crashMaxLoad     = 600 * time.Millisecond
	crashExpireAfter = time.Hour              // long enough never to expire during a test
	crashVolatileTTL = 20 * time.Millisecond  // SET PX: must never be seen again after a restart
	crashGrace       = 300 * time.Millisecond // SESS.ROTATE GRACE 1 keeps the old token for at most 1s
)

// Ensure that every write acknowledged under appendfsync always survives a
// kill -9 and a graceful SIGTERM shutdown: keys and hashes hold exactly the
// state after their acknowledged commands (plus, possibly, the one in
// flight), deleted keys and keys that expired stay gone, sessions created
// stay live, revoked ones (SESS.REVOKE, SESS.REVOKEUSER) stay revoked, and
// tokens replaced by SESS.ROTATE are dead once their grace has passed.
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
		var allSess []*crashSessClient
		var totalAcked, totalKeys, totalSessOps, totalTokens, totalVolatile int
		for round := range rounds {
			w := newCrashWorkload(round, proc.addr)
			load := crashMinLoad + rand.N(crashMaxLoad-crashMinLoad)
			w.runFor(load, func() { proc.kill(t) })
			killed := time.Now()
			proc = crashStartChild(t, bin, dir)
			st := w.verify(t, proc.addr)
			// Keys set with a short TTL before the kill never come back
			// (the restart takes far longer than the TTL; if not, skip).
			volatile := 0
			if time.Since(killed) > 2*crashVolatileTTL {
				volatile = w.verifyVolatile(t, proc.addr)
			}
			ss := w.verifySessions(t, proc.addr)
			settled = append(settled, st)
			// Earlier rounds' keys stay exactly as they were recovered, and
			// their sessions as they were found.
			for _, s := range settled[:len(settled)-1] {
				s.check(t, proc.addr)
			}
			for _, c := range allSess {
				c.recheck(t, proc.addr)
			}
			allSess = append(allSess, w.sess...)
			totalAcked += st.acked
			totalKeys += len(st.keys)
			totalSessOps += ss.acked
			totalTokens += ss.checked
			totalVolatile += volatile
			t.Logf("round %d: kill -9 after %v of load: %d commands acknowledged, %d in flight of which %d recovered, %d keys checked; "+
				"%d session commands acknowledged, %d tokens checked (%d live, %d revoked or rotated away), %d expired keys checked",
				round+1, load.Round(time.Millisecond), st.acked, st.inFlight, st.recovered, len(st.keys),
				ss.acked, ss.checked, ss.live, ss.dead, volatile)
		}
		t.Logf("kill -9: %d rounds, %d acknowledged key commands, %d keys checked, %d acknowledged session commands, %d token checks, %d expired-key checks",
			rounds, totalAcked, totalKeys, totalSessOps, totalTokens, totalVolatile)
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
	case "SETPX":
		return p.Set(ctx, o.key, o.arg1, crashVolatileTTL)
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
	keys     []string
	kinds    map[string]crashKind
	volatile string    // a key only ever set with a short TTL (SETPX), outside the model
	sent     []crashOp // in order
	acked    int       // sent[:acked] were acknowledged
}

type crashWorkload struct {
	addr    string
	clients []*crashClient
	sess    []*crashSessClient
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
		c.volatile = fmt.Sprintf("crash:r%d:c%d:volatile", round, i)
		w.clients = append(w.clients, c)
	}
	for i := range crashSessClients {
		w.sess = append(w.sess, &crashSessClient{user: fmt.Sprintf("crash-r%d-u%d", round, i)})
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
	for i, c := range w.sess {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(ctx, w.addr, rand.New(rand.NewPCG(uint64(1000+i), uint64(time.Now().UnixNano()))))
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
	if rng.IntN(12) == 0 {
		return crashOp{name: "SETPX", key: c.volatile, arg1: fmt.Sprintf("v%d", seq)}
	}
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

// verifyVolatile requires every key that was only ever set with a short TTL
// to be gone, and returns how many it checked.
func (w *crashWorkload) verifyVolatile(t *testing.T, addr string) int {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	n := 0
	for _, c := range w.clients {
		used := false
		for _, o := range c.sent {
			used = used || o.name == "SETPX"
		}
		if !used {
			continue
		}
		n++
		require.Equal(t, int64(0), rdb.Exists(context.Background(), c.volatile).Val(), "%s expired before the kill and came back", c.volatile)
	}
	return n
}

// crashToken is a session token a session client holds, and what the
// acknowledged commands say about it.
type crashToken struct {
	token     string
	dead      bool      // revoked, or rotated away
	deadAfter time.Time // a rotated token lives until its grace ends
	uncertain bool      // the command in flight at the kill may have ended it
	found     *bool     // what the check after the restart found
}

// crashSessClient creates, rotates and revokes the sessions of one user,
// one command at a time.
type crashSessClient struct {
	user   string
	tokens []*crashToken
	sent   int
	acked  int
}

func (c *crashSessClient) live() []*crashToken {
	var out []*crashToken
	for _, tk := range c.tokens {
		if !tk.dead {
			out = append(out, tk)
		}
	}
	return out
}

func (c *crashSessClient) run(ctx context.Context, addr string, rng *rand.Rand) {
	rdb := redis.NewClient(&redis.Options{
		Addr:         addr,
		MaxRetries:   -1,
		PoolSize:     1,
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
	})
	defer rdb.Close()
	for ctx.Err() == nil {
		live := c.live()
		c.sent++
		switch r := rng.IntN(20); {
		case len(live) < 2 || r < 8:
			tok, err := rdb.Do(ctx, "SESS.CREATE", c.user).Text()
			if err != nil {
				return // a created token the client never saw: nothing to check
			}
			c.tokens = append(c.tokens, &crashToken{token: tok})
		case r < 13:
			old := live[rng.IntN(len(live))]
			grace := rng.IntN(2) // 0 or 1 second
			args := []any{"SESS.ROTATE", old.token}
			if grace > 0 {
				args = append(args, "GRACE", grace)
			}
			tok, err := rdb.Do(ctx, args...).Text()
			if err != nil {
				old.uncertain = true
				return
			}
			old.dead = true
			old.deadAfter = time.Now().Add(time.Duration(grace) * time.Second)
			c.tokens = append(c.tokens, &crashToken{token: tok})
		case r < 19:
			tk := live[rng.IntN(len(live))]
			if err := rdb.Do(ctx, "SESS.REVOKE", tk.token).Err(); err != nil {
				tk.uncertain = true
				return
			}
			tk.dead = true
		default:
			if err := rdb.Do(ctx, "SESS.REVOKEUSER", c.user).Err(); err != nil {
				for _, tk := range live {
					tk.uncertain = true
				}
				return
			}
			for _, tk := range live {
				tk.dead = true
			}
		}
		c.acked++
	}
}

// crashSessChecked counts what verifySessions checked.
type crashSessChecked struct {
	acked, checked, live, dead int
}

// verifySessions requires every token's state after the restart to be the
// one its acknowledged commands left: live, or dead (after any grace).
func (w *crashWorkload) verifySessions(t *testing.T, addr string) crashSessChecked {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	var st crashSessChecked
	for _, c := range w.sess {
		st.acked += c.acked
		for _, tk := range c.tokens {
			alive := crashSessionAlive(t, rdb, tk.token)
			tk.found = &alive
			switch {
			case tk.uncertain:
				continue
			case tk.dead && time.Now().After(tk.deadAfter):
				require.False(t, alive, "user %s: token revoked or rotated away (acknowledged) is live again after the crash", c.user)
				st.dead++
			case !tk.dead:
				require.True(t, alive, "user %s: acknowledged session lost in the crash", c.user)
				st.live++
			default:
				continue // still within its grace
			}
			st.checked++
		}
	}
	return st
}

// recheck requires an earlier round's tokens to be as they were found, with
// rotated tokens dead by now.
func (c *crashSessClient) recheck(t *testing.T, addr string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for _, tk := range c.tokens {
		alive := crashSessionAlive(t, rdb, tk.token)
		switch {
		case tk.dead && time.Now().After(tk.deadAfter):
			require.False(t, alive, "user %s: a dead token came back in a later round", c.user)
		case tk.dead:
		case tk.found != nil && !tk.uncertain:
			require.Equal(t, *tk.found, alive, "user %s: token state changed in a later round", c.user)
		case tk.found != nil && !*tk.found:
			require.False(t, alive, "user %s: a dead token came back in a later round", c.user)
		}
	}
}

func crashSessionAlive(t *testing.T, rdb *redis.Client, token string) bool {
	t.Helper()
	err := rdb.Do(context.Background(), "SESS.GET", token, "NOTOUCH").Err()
	if err == redis.Nil {
		return false
	}
	require.NoError(t, err)
	return true
}
