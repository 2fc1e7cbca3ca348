package storage

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func rssFile(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "RssFile:" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(t, err)
			return n << 10
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// Ensure that releaseMapped takes the pages of the bbolt file that a full
// read brought in out of the resident set, and that the data reads back
// intact afterwards.
func TestDisk_ReleaseMappedDropsFilePages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := openTest(t, path, clock, nil)
	defer s.Close()
	val := []byte(strings.Repeat("v", 4000))
	require.NoError(t, s.disk.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("scratch"))
		require.NoError(t, err)
		for i := 0; i < 8000; i++ { // about 32 MiB of pages
			require.NoError(t, b.Put([]byte(strconv.Itoa(i)), val))
		}
		return nil
	}))
	touch := func() (n int) {
		require.NoError(t, s.disk.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("scratch")).ForEach(func(_, v []byte) error {
				n += int(v[0]) + int(v[len(v)-1])
				return nil
			})
		}))
		return n
	}
	want := touch()
	before := rssFile(t)
	s.disk.releaseMapped()
	after := rssFile(t)
	require.Less(t, after, before-16<<20, "RssFile %d -> %d", before, after)
	require.Equal(t, want, touch())
}
