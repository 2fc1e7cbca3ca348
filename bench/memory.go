package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The -memory mode: memory per live session and restart time.
//
// Each server is started fresh (sessdb and Redis one after the other, never
// both at once) and filled with N sessions carrying 200 bytes of data:
//
//	sessdb: SESS.CREATE u<k> IDLE 1800 META ip … ua …, then SESS.SET <token> data <200 bytes>
//	Redis:  HSET sess:<id> user created last_seen auth_time ip ua data <200 bytes>, EXPIRE sess:<id> 1800, SADD user:<u> <id>
//
// pipelined (256 operations per write on 4 connections), memSessionsPerUser
// sessions per user. Memory per session is (after - before) / N, where
// before is the empty server just started: VmRSS from /proc/<pid>/status for
// both, and INFO memory used_memory for both (Redis: its allocator's count;
// sessdb: the Go heap in use). Both run with AOF fsync everysec for the fill:
// the memory does not depend on the fsync policy, and the files on disk are
// the same. sessdb is then given time to fold the fill's log into its
// buckets (INFO persistence log_records 0, as an idle server does within
// seconds), and the server gets SIGTERM and is started again on the same
// data directory; its restart time is from the process start to the first
// PONG (Redis answers -LOADING until its data is in). Redis's AOF has
// automatic rewrites off, so it restarts by replaying the fill's commands;
// it is then rewritten (BGREWRITEAOF: an RDB preamble) and restarted once
// more, for the faster of Redis's two load paths.

const memSessionsPerUser = 4

// memData is the 200 bytes of session data.
var memData = func() string {
	rng := rand.New(rand.NewPCG(7, 7))
	b := make([]byte, 200)
	for i := range b {
		b[i] = base64url[rng.IntN(64)]
	}
	return string(b)
}()

// MemSide is what -memory measured on one server. Byte counts are totals
// for the process; per-session figures are derived in the table.
type MemSide struct {
	Name           string  `json:"name"`
	Sessions       int     `json:"sessions"`
	FillSeconds    float64 `json:"fill_seconds"`
	RSSEmpty       int64   `json:"rss_empty"`
	RSSFilled      int64   `json:"rss_filled"`
	RSSRestarted   int64   `json:"rss_restarted"`
	UsedEmpty      int64   `json:"used_memory_empty"`
	UsedFilled     int64   `json:"used_memory_filled"`
	UsedRestarted  int64   `json:"used_memory_restarted"`
	StatusFilled   string  `json:"status_filled"` // VmRSS/RssAnon/RssFile after the fill
	DiskBytes      int64   `json:"disk_bytes"`
	StopSeconds    float64 `json:"stop_seconds"` // SIGTERM to exit
	FoldSeconds    float64 `json:"fold_seconds"` // sessdb: after the fill, until its log was folded
	RestartSeconds float64 `json:"restart_seconds"`
	// Redis only: after BGREWRITEAOF.
	DiskRewritten           int64   `json:"disk_rewritten_bytes,omitempty"`
	RestartRewrittenSeconds float64 `json:"restart_rewritten_seconds,omitempty"`
}

// perSession is (after - before) / n, in bytes.
func perSession(before, after int64, n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(after-before) / float64(n)
}

// MemReport is the -memory result; also its -out JSON.
type MemReport struct {
	Meta   Meta    `json:"meta"`
	Sessdb MemSide `json:"sessdb"`
	Redis  MemSide `json:"redis"`
}

func runMemory(ctx context.Context, o options, argv []string, redisServer string, stdout, stderr io.Writer) int {
	work, cleanup, sessdbBin, standIn, meta, err := prepareRun(ctx, o, "sessdb-bench-mem-", argv, redisServer, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer cleanup()
	rep := MemReport{Meta: meta}
	n := o.sessions
	users := (n + memSessionsPerUser - 1) / memSessionsPerUser
	ready := max(5*time.Minute, o.timeout)

	sessSpec := ServerSpec{Name: "sessdb", Bin: sessdbBin, Args: sessdbArgs("everysec", standIn, strings.Fields(o.sessdbArgs)), ReadyTimeout: ready}
	rep.Sessdb, err = measureMemory(ctx, o, sessSpec, filepath.Join(work, "data-sessdb"), n, memSide{
		fill: fillSessdb,
		count: func(ctx context.Context, addr string) (int64, error) {
			return infoField(ctx, addr, "sessions", "sessions_live")
		},
		want: int64(n),
	}, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench: sessdb:", err)
		return 1
	}
	redisSpec := ServerSpec{Name: "redis", Bin: redisServer, ReadyTimeout: ready,
		Args: []string{"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--auto-aof-rewrite-percentage", "0"}}
	rep.Redis, err = measureMemory(ctx, o, redisSpec, filepath.Join(work, "data-redis"), n, memSide{
		fill: fillRedis,
		count: func(ctx context.Context, addr string) (int64, error) {
			v, err := roundTrip(ctx, addr, "DBSIZE")
			if err != nil {
				return 0, err
			}
			return v.Int()
		},
		want:    int64(n + users), // a hash per session and a set per user
		rewrite: true,
	}, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench: redis:", err)
		return 1
	}
	fmt.Fprint(stdout, formatMemory(rep))
	if o.out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(o.out, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	return 0
}

// memSide is how to fill and check one server.
type memSide struct {
	fill    func(ctx context.Context, addr string, n int) error
	count   func(ctx context.Context, addr string) (int64, error)
	want    int64 // what count must say once filled and after a restart
	rewrite bool  // Redis: BGREWRITEAOF and restart once more
}

// measureMemory starts spec on dir, fills it with n sessions, reads its
// memory, restarts it and times the restart (see the file comment).
func measureMemory(ctx context.Context, o options, spec ServerSpec, dir string, n int, side memSide, stderr io.Writer) (MemSide, error) {
	m := MemSide{Name: spec.Name, Sessions: n}
	step := func(name string, f func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, max(o.timeout, 5*time.Minute))
		defer cancel()
		if err := f(ctx); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "[memory] %-6s "+format+"\n", append([]any{spec.Name}, args...)...)
	}
	var srv *Server
	defer func() {
		if srv != nil {
			_ = srv.Stop()
		}
	}()
	check := func(ctx context.Context) error {
		got, err := side.count(ctx, srv.Addr)
		if err != nil {
			return err
		}
		if got != side.want {
			return fmt.Errorf("%d live keys/sessions, want %d", got, side.want)
		}
		return nil
	}
	// readMem settles for a second, then reads RSS and used_memory.
	readMem := func(ctx context.Context, rss, used *int64, status *string) error {
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
		st, err := procStatus(srv.Pid())
		if err != nil {
			return err
		}
		*rss = st["VmRSS"]
		if status != nil {
			*status = fmt.Sprintf("VmRSS %s, RssAnon %s, RssFile %s", humanMB(st["VmRSS"]), humanMB(st["RssAnon"]), humanMB(st["RssFile"]))
		}
		*used, err = infoField(ctx, srv.Addr, "memory", "used_memory")
		return err
	}
	restart := func(ctx context.Context) (time.Duration, error) {
		t := time.Now()
		if err := srv.Stop(); err != nil {
			return 0, err
		}
		if m.StopSeconds == 0 { // the first restart's
			m.StopSeconds = time.Since(t).Seconds()
		}
		var err error
		if srv, err = startServer(ctx, spec, dir); err != nil {
			return 0, err
		}
		return srv.Ready, check(ctx)
	}

	err := step("start", func(ctx context.Context) error {
		var err error
		if srv, err = startServer(ctx, spec, dir); err != nil {
			return err
		}
		return readMem(ctx, &m.RSSEmpty, &m.UsedEmpty, nil)
	})
	if err == nil {
		logf("filling with %d sessions …", n)
		err = step("fill", func(ctx context.Context) error {
			t := time.Now()
			if err := side.fill(ctx, srv.Addr, n); err != nil {
				return err
			}
			m.FillSeconds = time.Since(t).Seconds()
			if err := check(ctx); err != nil {
				return err
			}
			if err := readMem(ctx, &m.RSSFilled, &m.UsedFilled, &m.StatusFilled); err != nil {
				return err
			}
			d, err := waitFolded(ctx, srv.Addr, scaleSettle)
			m.FoldSeconds = d.Seconds()
			return err
		})
	}
	if err == nil {
		logf("filled in %.1fs: %s, used_memory %s", m.FillSeconds, m.StatusFilled, humanMB(m.UsedFilled))
		err = step("restart", func(ctx context.Context) error {
			d, err := restart(ctx)
			m.RestartSeconds = d.Seconds()
			if err != nil {
				return err
			}
			return readMem(ctx, &m.RSSRestarted, &m.UsedRestarted, nil)
		})
	}
	if err == nil {
		m.DiskBytes = dirBytes(dir)
		logf("restarted in %.3fs (stop took %.2fs), %s on disk", m.RestartSeconds, m.StopSeconds, humanMB(m.DiskBytes))
	}
	if err == nil && side.rewrite {
		err = step("rewrite", func(ctx context.Context) error {
			if err := rewriteAOF(ctx, srv.Addr); err != nil {
				return err
			}
			m.DiskRewritten = dirBytes(dir)
			d, err := restart(ctx)
			m.RestartRewrittenSeconds = d.Seconds()
			return err
		})
		if err == nil {
			logf("after BGREWRITEAOF: restarted in %.3fs, %s on disk", m.RestartRewrittenSeconds, humanMB(m.DiskRewritten))
		}
	}
	if err != nil && srv != nil {
		err = fmt.Errorf("%w; server log: %s", err, srv.logTail())
	}
	return m, err
}

// sessFill creates session i (user i/memSessionsPerUser) on sessdb, then
// sets its 200-byte data field with the token it got.
type sessFill struct {
	token []string // per slot; "" while the create is in flight
}

func (w *sessFill) Op(slot, i int, _ *rand.Rand, dst []byte) ([]byte, int) {
	w.token[slot] = ""
	return appendSessCreate(dst, userName("u", i/memSessionsPerUser)), 1
}

func (w *sessFill) Next(slot int, r []Value, dst []byte) ([]byte, int, error) {
	if w.token[slot] != "" {
		if n, err := r[0].Int(); err != nil || n != 1 {
			return dst, 0, fmt.Errorf("SESS.SET replied %s, want 1", r[0])
		}
		return dst, 0, nil
	}
	if r[0].Kind != '$' || r[0].Null {
		return dst, 0, fmt.Errorf("SESS.CREATE replied %s, want a token", r[0])
	}
	w.token[slot] = r[0].Str
	return appendCommand(dst, "SESS.SET", r[0].Str, "data", memData), 1, nil
}

func fillSessdb(ctx context.Context, addr string, n int) error {
	return preloadOps(ctx, addr, n, func(int) (Workload, error) {
		return &sessFill{token: make([]string, 256)}, nil
	})
}

func fillRedis(ctx context.Context, addr string, n int) error {
	now := time.Now().UnixMilli()
	return preloadOps(ctx, addr, n, func(int) (Workload, error) {
		return OpGen(func(i int, _ *rand.Rand, dst []byte) ([]byte, int) {
			return appendRedisSession(dst, redisID(i), userName("u", i/memSessionsPerUser), now, memData), 3
		}), nil
	})
}

// rewriteAOF runs BGREWRITEAOF and waits until it has finished well.
func rewriteAOF(ctx context.Context, addr string) error {
	if _, err := roundTrip(ctx, addr, "BGREWRITEAOF"); err != nil {
		return err
	}
	for {
		v, err := roundTrip(ctx, addr, "INFO", "persistence")
		if err != nil {
			return err
		}
		f := infoFields(v.Str)
		if f["aof_rewrite_in_progress"] == "0" && f["aof_rewrite_scheduled"] == "0" {
			if s := f["aof_last_bgrewrite_status"]; s != "ok" {
				return fmt.Errorf("BGREWRITEAOF status %q", s)
			}
			return nil
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// infoFields parses the "name:value" lines of an INFO reply.
func infoFields(info string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}

// infoField is one integer field of INFO section.
func infoField(ctx context.Context, addr, section, field string) (int64, error) {
	v, err := roundTrip(ctx, addr, "INFO", section)
	if err != nil {
		return 0, err
	}
	s, ok := infoFields(v.Str)[field]
	if !ok {
		return 0, fmt.Errorf("INFO %s has no %s", section, field)
	}
	return strconv.ParseInt(s, 10, 64)
}

// procStatus reads the "kB" lines of /proc/<pid>/status, in bytes.
func procStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseProcStatus(f)
}

// parseProcStatus parses lines such as "VmRSS:\t  12345 kB" into bytes.
func parseProcStatus(r io.Reader) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		f := strings.Fields(v)
		if !ok || len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc status %s: %w", k, err)
		}
		out[k] = n << 10
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if _, ok := out["VmRSS"]; !ok {
		return nil, errors.New("/proc status: no VmRSS")
	}
	return out, nil
}

// dirBytes is the size of the files under dir, except the server's log.
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".log") {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func humanMB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

// formatMemory renders the -memory tables.
func formatMemory(rep MemReport) string {
	var b strings.Builder
	m, s, r := rep.Meta, rep.Sessdb, rep.Redis
	n := s.Sessions
	fmt.Fprintf(&b, "sessdb vs Redis memory · %s · nproc %d · %s · redis-server %s · `%s`\n\n",
		m.Date, m.Nproc, m.GoVersion, m.RedisServer, m.Command)
	fmt.Fprintf(&b, "sessdb: %s. %d live sessions, each with 200 bytes of data and ip/ua metadata, %d per user; bytes per session = (after − empty server) / sessions. Both servers: AOF, fsync everysec.\n\n",
		m.Sessdb, n, memSessionsPerUser)
	b.WriteString("| bytes per live session | after fill | after restart |\n|---|--:|--:|\n")
	rssS := [2]float64{perSession(s.RSSEmpty, s.RSSFilled, n), perSession(s.RSSEmpty, s.RSSRestarted, n)}
	rssR := [2]float64{perSession(r.RSSEmpty, r.RSSFilled, n), perSession(r.RSSEmpty, r.RSSRestarted, n)}
	usedR := [2]float64{perSession(r.UsedEmpty, r.UsedFilled, n), perSession(r.UsedEmpty, r.UsedRestarted, n)}
	usedS := [2]float64{perSession(s.UsedEmpty, s.UsedFilled, n), perSession(s.UsedEmpty, s.UsedRestarted, n)}
	line := func(name string, v [2]float64, format string) {
		fmt.Fprintf(&b, "| %s | "+format+" | "+format+" |\n", name, v[0], v[1])
	}
	line("sessdb RSS", rssS, "%.0f")
	line("Redis RSS", rssR, "%.0f")
	line("Redis used_memory", usedR, "%.0f")
	line("sessdb used_memory (Go heap in use)", usedS, "%.0f")
	line("**sessdb RSS / Redis RSS**", [2]float64{ratio(rssS[0], rssR[0]), ratio(rssS[1], rssR[1])}, "**%.2f**")
	line("sessdb RSS / Redis used_memory", [2]float64{ratio(rssS[0], usedR[0]), ratio(rssS[1], usedR[1])}, "%.2f")
	fmt.Fprintf(&b, "\nAfter the fill: sessdb %s; Redis %s. Fill took %.1f s (sessdb) and %.1f s (Redis).\n\n",
		s.StatusFilled, r.StatusFilled, s.FillSeconds, r.FillSeconds)

	b.WriteString("| restart with these sessions | on disk | process start → first PONG |\n|---|--:|--:|\n")
	fmt.Fprintf(&b, "| sessdb | %s | %.3f s |\n", humanMB(s.DiskBytes), s.RestartSeconds)
	fmt.Fprintf(&b, "| Redis, AOF as written (replays the commands) | %s | %.3f s |\n", humanMB(r.DiskBytes), r.RestartSeconds)
	if r.RestartRewrittenSeconds > 0 {
		fmt.Fprintf(&b, "| Redis, AOF after BGREWRITEAOF (RDB preamble) | %s | %.3f s |\n", humanMB(r.DiskRewritten), r.RestartRewrittenSeconds)
	}
	fmt.Fprintf(&b, "| **sessdb / Redis AOF as written** | | **%.2f** |\n", ratio(s.RestartSeconds, r.RestartSeconds))
	if r.RestartRewrittenSeconds > 0 {
		fmt.Fprintf(&b, "| sessdb / Redis rewritten AOF | | %.2f |\n", ratio(s.RestartSeconds, r.RestartRewrittenSeconds))
	}
	fmt.Fprintf(&b, "\nStop (SIGTERM to exit) before the restart: sessdb %.2f s, Redis %.2f s. ", s.StopSeconds, r.StopSeconds)
	fmt.Fprintf(&b, "Before the stop, sessdb folded the fill's log into its buckets in the background (%.1f s after the fill; "+
		"an idle server's steady state), so its restart loads buckets; after a crash in the middle of a bulk load it replays the log instead.\n", s.FoldSeconds)
	return b.String()
}
