package sessdb_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
	"github.com/sessdb/sessdb/storage"
	"github.com/stretchr/testify/require"
)

// persistMountSmallFS mounts a tmpfs of size bytes on a fresh directory and
// unmounts it when the test ends; it skips when mounting is not permitted.
func persistMountSmallFS(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("disk-full test needs to mount a small tmpfs (run as root): mount: %v: %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// persistServer is an in-process sessdb whose storage retries failed
// commits only when the test says so (Store.RetryNow), so that no retry can
// succeed between two checks.
type persistServer struct {
	srv  *server.Server
	db   *sessdb.DB
	addr string
	done chan error
}

func startPersistServer(t *testing.T, dir string) *persistServer {
	t.Helper()
	cfg, err := config.Load([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir})
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, cfg.DBFilename()), &sessdb.Options{
		Storage: storage.Options{RetryInterval: time.Hour},
	})
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	ps := &persistServer{srv: srv, db: db, addr: srv.Addr().String(), done: make(chan error, 1)}
	go func() { ps.done <- srv.Serve() }()
	t.Cleanup(func() { ps.stop(t) })
	return ps
}

func (ps *persistServer) stop(t *testing.T) {
	t.Helper()
	if ps.srv == nil {
		return
	}
	require.NoError(t, ps.srv.Close())
	require.NoError(t, <-ps.done)
	require.NoError(t, ps.db.Close())
	ps.srv = nil
}

const misconfNoSpace = "MISCONF Errors writing to the database file: no space left on device. Commands that may modify the data set are disabled until the disk accepts writes again."

// Ensure that when the disk fills up a write that cannot be committed is
// answered with MISCONF (never OK), later writes are refused at once, reads
// and session lookups keep working, writes resume by themselves once space
// is freed, and every acknowledged write (and session) survives a reopen.
func TestDiskFull_Behaviour(t *testing.T) {
	dir := persistMountSmallFS(t, 2<<20)
	filler := filepath.Join(dir, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, 1<<20), 0o600))
	ps := startPersistServer(t, dir)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: ps.addr, MaxRetries: -1, PoolSize: 1})
	defer rdb.Close()

	token, err := rdb.Do(ctx, "SESS.CREATE", "alice").Text()
	require.NoError(t, err)
	revoked, err := rdb.Do(ctx, "SESS.CREATE", "alice").Text()
	require.NoError(t, err)
	require.NoError(t, rdb.Do(ctx, "SESS.REVOKE", revoked).Err())

	// Fill the disk: single writes and pipelines of 4.
	value := strings.Repeat("v", 16<<10)
	acked := map[string]bool{}
	var refused []string
	for i := 0; len(refused) == 0; i++ {
		require.Less(t, i, 500, "the 2 MB filesystem never filled up")
		keys := []string{fmt.Sprintf("k%04d", i)}
		if i%2 == 1 {
			keys = append(keys, keys[0]+"b", keys[0]+"c", keys[0]+"d")
		}
		pipe := rdb.Pipeline()
		cmds := make([]*redis.StatusCmd, len(keys))
		var read *redis.StringCmd
		for j, k := range keys {
			cmds[j] = pipe.Set(ctx, k, value, 0)
			if j == 0 && len(keys) > 1 {
				read = pipe.Get(ctx, k) // a read in the batch keeps its reply
			}
		}
		_, _ = pipe.Exec(ctx)
		if read != nil {
			require.NoError(t, read.Err())
			require.Equal(t, value, read.Val())
		}
		for j, cmd := range cmds {
			if cmd.Err() == nil {
				require.Equal(t, "OK", cmd.Val())
				acked[keys[j]] = true
				continue
			}
			require.EqualError(t, cmd.Err(), misconfNoSpace, keys[j])
			refused = append(refused, keys[j])
		}
	}
	t.Logf("disk full after %d acknowledged 16 KB writes; %d refused in the last batch", len(acked), len(refused))

	// While the disk is full: writes are refused at once, reads work.
	for _, args := range [][]any{
		{"SET", "late", "x"},
		{"HSET", "h", "f", "v"},
		{"SESS.CREATE", "bob"},
		{"SESS.REVOKE", token},
		{"DEL", "k0000"},
	} {
		require.EqualError(t, rdb.Do(ctx, args...).Err(), misconfNoSpace, "%v", args)
	}
	for k := range acked {
		got, err := rdb.Get(ctx, k).Result()
		require.NoError(t, err, k)
		require.Equal(t, len(value), len(got))
	}
	sess, err := rdb.Do(ctx, "SESS.GET", token).Result()
	require.NoError(t, err)
	require.NotNil(t, sess, "a live session must still be readable")
	require.Equal(t, redis.Nil, rdb.Do(ctx, "SESS.GET", revoked).Err())
	info, err := rdb.Info(ctx, "persistence").Result()
	require.NoError(t, err)
	require.Contains(t, info, "aof_last_write_status:err\r\n")
	require.Contains(t, info, "aof_last_write_error:no space left on device\r\n")
	// MULTI: a write is refused at queue time, so EXEC aborts.
	pipe := rdb.TxPipeline()
	queued := pipe.Set(ctx, "inmulti", "x", 0)
	_, err = pipe.Exec(ctx)
	require.EqualError(t, err, "EXECABORT Transaction discarded because of previous errors.")
	require.EqualError(t, queued.Err(), misconfNoSpace)

	// Free space: writes resume without a restart.
	require.NoError(t, os.Remove(filler))
	require.Eventually(t, func() bool {
		ps.db.Store().RetryNow()
		return rdb.Set(ctx, "after", "1", 0).Err() == nil
	}, 10*time.Second, 10*time.Millisecond)
	info, err = rdb.Info(ctx, "persistence").Result()
	require.NoError(t, err)
	require.Contains(t, info, "aof_last_write_status:ok\r\n")
	require.Contains(t, info, "aof_unwritten_records:0\r\n")
	require.NoError(t, rdb.Do(ctx, "SESS.REVOKE", token).Err())
	// The first refused write ran and its commit failed; later ones in its
	// batch were refused before they ran (the store was failing by then).
	// Whichever memory shows now, the disk must show after a restart.
	shown := map[string]bool{}
	for _, k := range refused {
		shown[k] = rdb.Exists(ctx, k).Val() == 1
	}
	require.True(t, shown[refused[0]], "the write whose commit failed is kept and retried")

	// Reopen: every acknowledged write is there, and the refused ones are
	// exactly as memory showed them.
	ps.stop(t)
	ps = startPersistServer(t, dir)
	rdb2 := redis.NewClient(&redis.Options{Addr: ps.addr})
	defer rdb2.Close()
	for k := range acked {
		n, err := rdb2.StrLen(ctx, k).Result()
		require.NoError(t, err)
		require.Equal(t, int64(len(value)), n, "acknowledged key %s lost", k)
	}
	for _, k := range refused {
		require.Equal(t, shown[k], rdb2.Exists(ctx, k).Val() == 1, "%s: memory and disk disagree after recovery", k)
	}
	for _, k := range []string{"late", "h", "inmulti"} {
		require.Equal(t, int64(0), rdb2.Exists(ctx, k).Val(), "%s was refused before it ran", k)
	}
	require.Equal(t, "1", rdb2.Get(ctx, "after").Val())
	require.Equal(t, redis.Nil, rdb2.Do(ctx, "SESS.GET", token).Err(), "revoked after recovery")
	require.Equal(t, redis.Nil, rdb2.Do(ctx, "SESS.GET", revoked).Err(), "revoked before the disk filled")
}

// Ensure that SAVE, BGSAVE (with SCHEDULE, inside MULTI, with a bad
// argument) and LASTSAVE answer byte for byte as Redis 7 does.
func TestSave_RedisReplies(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		c := dialRESP(t, addr)
		before := time.Now().Unix()
		require.Equal(t, "+OK\r\n", c.do("SAVE"))
		last := c.do("LASTSAVE")
		require.Regexp(t, `^:\d+\r\n$`, last)
		n, _ := strconv.ParseInt(strings.TrimSpace(last[1:]), 10, 64)
		require.GreaterOrEqual(t, n, before-1)
		require.Equal(t, "-ERR syntax error\r\n", c.do("BGSAVE", "NOW"))
		require.Equal(t, "-ERR syntax error\r\n", c.do("BGSAVE", "SCHEDULE", "x"))
		require.Equal(t, "-ERR wrong number of arguments for 'save' command\r\n", c.do("SAVE", "x"))
		require.Equal(t, "-ERR wrong number of arguments for 'lastsave' command\r\n", c.do("LASTSAVE", "x"))
		require.Equal(t, "+OK\r\n", c.do("MULTI"))
		require.Equal(t, "-ERR Command not allowed inside a transaction\r\n", c.do("SAVE"))
		require.Equal(t, "-EXECABORT Transaction discarded because of previous errors.\r\n", c.do("EXEC"))
		waitNoSave(t, c)
		require.Equal(t, "+OK\r\n", c.do("MULTI"))
		require.Equal(t, "+QUEUED\r\n", c.do("BGSAVE"))
		require.Equal(t, "*1\r\n+Background saving scheduled\r\n", c.do("EXEC"))
		waitNoSave(t, c)
		require.Equal(t, "+Background saving started\r\n", c.do("BGSAVE"))
		waitNoSave(t, c)
		require.Equal(t, "+Background saving started\r\n", c.do("BGSAVE", "SCHEDULE"))
		waitNoSave(t, c)
		info := c.do("INFO", "persistence")
		require.Contains(t, info, "rdb_bgsave_in_progress:0\r\n")
		require.Contains(t, info, "rdb_last_bgsave_status:ok\r\n")
		require.Contains(t, info, "rdb_changes_since_last_save:0\r\n")
	})
}

// waitNoSave polls INFO until no background save runs.
func waitNoSave(t *testing.T, c *respClient) {
	t.Helper()
	require.Eventually(t, func() bool {
		return strings.Contains(c.do("INFO", "persistence"), "rdb_bgsave_in_progress:0\r\n")
	}, 10*time.Second, 5*time.Millisecond)
}

// Ensure that a second save while one runs is refused with Redis's error,
// and that the backup SAVE and BGSAVE write, copied into place as the
// database file, starts a server with every key and session of the moment
// of the save, and nothing written after it.
func TestSave_BackupRestores(t *testing.T) {
	dir := t.TempDir()
	ps := startPersistServer(t, dir)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: ps.addr})
	defer rdb.Close()
	for i := range 500 {
		require.NoError(t, rdb.Set(ctx, fmt.Sprintf("s%d", i), i, 0).Err())
		require.NoError(t, rdb.HSet(ctx, fmt.Sprintf("h%d", i%10), fmt.Sprint(i), i).Err())
	}
	require.NoError(t, rdb.Set(ctx, "ttl", "x", time.Hour).Err())
	require.NoError(t, rdb.Do(ctx, "SELECT", "0").Err())
	live, err := rdb.Do(ctx, "SESS.CREATE", "alice", "META", "ip", "203.0.113.7").Text()
	require.NoError(t, err)
	dead, err := rdb.Do(ctx, "SESS.CREATE", "alice").Text()
	require.NoError(t, err)
	require.NoError(t, rdb.Do(ctx, "SESS.REVOKE", dead).Err())

	// Writes keep going while BGSAVE runs; the copy is a consistent snapshot.
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		w := redis.NewClient(&redis.Options{Addr: ps.addr})
		defer w.Close()
		for i := 0; ; i++ {
			select {
			case <-stop:
				writerDone <- nil
				return
			default:
			}
			if err := w.Set(ctx, fmt.Sprintf("during%d", i), i, 0).Err(); err != nil {
				writerDone <- err
				return
			}
		}
	}()
	require.Equal(t, "Background saving started", rdb.BgSave(ctx).Val())
	if err := rdb.BgSave(ctx).Err(); err != nil { // it may already have finished
		require.EqualError(t, err, "ERR Background save already in progress")
	}
	ps.srv.WaitSave()
	close(stop)
	require.NoError(t, <-writerDone)
	require.Equal(t, "OK", rdb.Save(ctx).Val())
	require.NoError(t, rdb.Set(ctx, "after-save", "x", 0).Err())
	backup := filepath.Join(dir, "sessdb.db"+server.BackupSuffix)
	require.FileExists(t, backup)
	ps.stop(t)

	// Start a server from the backup alone.
	restored := t.TempDir()
	data, err := os.ReadFile(backup)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(restored, "sessdb.db"), data, 0o600))
	ps2 := startPersistServer(t, restored)
	r2 := redis.NewClient(&redis.Options{Addr: ps2.addr})
	defer r2.Close()
	for i := range 500 {
		require.Equal(t, strconv.Itoa(i), r2.Get(ctx, fmt.Sprintf("s%d", i)).Val())
		require.Equal(t, strconv.Itoa(i), r2.HGet(ctx, fmt.Sprintf("h%d", i%10), fmt.Sprint(i)).Val())
	}
	require.Greater(t, r2.TTL(ctx, "ttl").Val(), 59*time.Minute)
	require.Equal(t, int64(0), r2.Exists(ctx, "after-save").Val())
	sess, err := r2.Do(ctx, "SESS.GET", live).Result()
	require.NoError(t, err)
	require.Contains(t, fmt.Sprint(sess), "203.0.113.7")
	require.Equal(t, redis.Nil, r2.Do(ctx, "SESS.GET", dead).Err())
	require.Equal(t, int64(1), r2.Do(ctx, "SESS.COUNT", "alice").Val())
}
