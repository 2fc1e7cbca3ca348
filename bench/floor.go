package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The durable-acknowledgement floor (-floor): what one acknowledged write
// costs the disk, for Redis's AOF and for sessdb's bbolt commit, measured
// on the -dir disk without either server. With pipeline 1 a client's next
// request waits for the previous one's commit, so c clients reach at most
// c writes per commit time: the ratio of the two floors bounds the durable
// rows' ratio at pipeline 1, however fast everything else is.
const (
	floorRounds = 2000 // commits per pattern unless -n says otherwise
	floorRecord = 300  // bytes appended per write, about one SET in either format
)

// floorResult is one pattern's commit latency over floorRounds commits.
type floorResult struct {
	name      string
	what      string
	p50, mean time.Duration
}

func runFloor(o options, stdout, stderr io.Writer) int {
	dir, err := os.MkdirTemp(o.dir, "sessdb-floor-")
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	rounds := floorRounds
	if o.n > 0 {
		rounds = o.n
	}
	aof, err := floorAppend(filepath.Join(dir, "appendonly.aof"), rounds)
	if err != nil {
		fmt.Fprintln(stderr, "bench: append floor:", err)
		return 1
	}
	commit, err := floorBolt(filepath.Join(dir, "sessdb.db"), rounds)
	if err != nil {
		fmt.Fprintln(stderr, "bench: bbolt floor:", err)
		return 1
	}
	fmt.Fprintf(stdout, "durable-acknowledgement floor on %s (%d commits each, %d-byte record)\n\n", o.dir, rounds, floorRecord)
	fmt.Fprintf(stdout, "| pattern | what one commit does | p50 ms | mean ms | 50 clients, pipeline 1: at most (writes/s) |\n|---|---|--:|--:|--:|\n")
	for _, r := range []floorResult{aof, commit} {
		fmt.Fprintf(stdout, "| %s | %s | %.3f | %.3f | %.0f |\n", r.name, r.what,
			ms(r.p50), ms(r.mean), 50/r.mean.Seconds())
	}
	fmt.Fprintf(stdout, "\nratio of the floors (Redis AOF / bbolt commit): %.2f — the most a durable c50 P1 row can reach\n",
		aof.mean.Seconds()/commit.mean.Seconds())
	return 0
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// floorAppend is Redis's appendfsync always: append the record, fdatasync.
func floorAppend(path string, rounds int) (floorResult, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return floorResult{}, err
	}
	defer f.Close()
	rec := make([]byte, floorRecord)
	times, err := timeCommits(rounds, func(int) error {
		if _, err := f.Write(rec); err != nil {
			return err
		}
		return fdatasync(f)
	})
	return floorResult{"Redis AOF, appendfsync always", "write(2) + fdatasync", times.p50, times.mean}, err
}

// floorBolt is sessdb's commit path at its smallest: one log record under
// a sequential key in one bbolt transaction, opened as the store opens it.
// bbolt writes the dirty pages, fdatasyncs, writes the meta page and
// fdatasyncs again, so that the meta never names pages not yet on disk.
func floorBolt(path string, rounds int) (floorResult, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		FreelistType:    bolt.FreelistMapType,
		NoFreelistSync:  true,
		InitialMmapSize: 64 << 20,
	})
	if err != nil {
		return floorResult{}, err
	}
	defer db.Close()
	rec := make([]byte, floorRecord)
	times, err := timeCommits(rounds, func(i int) error {
		return db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("log"))
			if err != nil {
				return err
			}
			b.FillPercent = 1.0
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], uint64(i))
			return b.Put(k[:], rec)
		})
	})
	return floorResult{"sessdb, bbolt commit", "page writes + fdatasync + meta write + fdatasync", times.p50, times.mean}, err
}

type commitTimes struct{ p50, mean time.Duration }

func timeCommits(rounds int, commit func(i int) error) (commitTimes, error) {
	d := make([]time.Duration, rounds)
	var total time.Duration
	for i := range d {
		start := time.Now()
		if err := commit(i); err != nil {
			return commitTimes{}, err
		}
		d[i] = time.Since(start)
		total += d[i]
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return commitTimes{p50: d[len(d)/2], mean: total / time.Duration(len(d))}, nil
}
