package storage

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mountSmallFS mounts a tmpfs of size bytes on a fresh directory and
// unmounts it when the test ends. It skips the test when mounting is not
// permitted (not root, or no CAP_SYS_ADMIN in a container).
func mountSmallFS(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("disk-full test needs to mount a small tmpfs (root): mount: %v: %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// Ensure that a commit that fails for lack of space reports the error to its
// waiters, keeps its records, refuses nothing already acknowledged, and
// lands on disk by itself once space is freed, so that a reopen shows every
// acknowledged change and the failed one too (memory already showed it).
func TestStore_DiskFullRetries(t *testing.T) {
	dir := mountSmallFS(t, 2<<20)
	filler := filepath.Join(dir, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, 1<<20), 0o600))
	path := filepath.Join(dir, "full.db")
	// No retry by the clock during the test: RetryNow triggers the one that
	// matters, so nothing can succeed between the checks below.
	s, err := Open(path, &Options{RetryInterval: time.Hour})
	require.NoError(t, err)
	defer s.Close()

	value := bytes.Repeat([]byte("x"), 16<<10)
	var acked []string
	var failedKey string
	var failErr error
	for i := 0; i < 1000 && failedKey == ""; i++ {
		key := fmt.Sprintf("k%04d", i)
		c, err := s.Update(func(tx *Tx) error { tx.SetString(0, key, value, 0); return nil })
		require.NoError(t, err)
		if err := c.Wait(); err != nil {
			failedKey, failErr = key, err
			break
		}
		acked = append(acked, key)
	}
	require.NotEmpty(t, failedKey, "the 2 MB filesystem never filled up")
	require.ErrorIs(t, failErr, syscall.ENOSPC)
	require.ErrorIs(t, s.Failing(), syscall.ENOSPC)
	st := s.Stats()
	require.Equal(t, 1, st.Unwritten)
	require.False(t, st.FailingSince.IsZero())

	// Reads keep working, and the failed change is visible in memory.
	require.NoError(t, s.View(func(tx *Tx) error {
		for _, k := range append(acked, failedKey) {
			_, ok, err := tx.LookupString(0, k)
			require.NoError(t, err)
			require.True(t, ok, k)
		}
		return nil
	}))
	// A change made meanwhile fails at once, without touching the disk.
	c, err := s.Update(func(tx *Tx) error { tx.SetString(0, "during", []byte("v"), 0); return nil })
	require.NoError(t, err)
	require.ErrorIs(t, c.Wait(), syscall.ENOSPC)

	// Free space: the retry writes both unwritten changes.
	require.NoError(t, os.Remove(filler))
	require.Eventually(t, func() bool { s.RetryNow(); return s.Failing() == nil }, 10*time.Second, 5*time.Millisecond)
	require.Zero(t, s.Stats().Unwritten)
	require.Greater(t, s.Stats().Retries, uint64(0))
	update(t, s, func(tx *Tx) { tx.SetString(0, "after", []byte("v"), 0) })
	require.NoError(t, s.Close())

	s2, err := Open(path, nil)
	require.NoError(t, err)
	defer s2.Close()
	require.NoError(t, s2.View(func(tx *Tx) error {
		for _, k := range append(acked, failedKey, "during", "after") {
			_, ok, err := tx.LookupString(0, k)
			require.NoError(t, err)
			require.True(t, ok, "%s lost after reopen", k)
		}
		require.Equal(t, len(acked)+3, tx.Count(0))
		return nil
	}))
}

// Ensure that Close reports changes it could not write because the disk is
// still full, rather than pretending they are saved.
func TestStore_CloseReportsUnwritten(t *testing.T) {
	dir := mountSmallFS(t, 1<<20)
	path := filepath.Join(dir, "full.db")
	s, err := Open(path, &Options{RetryInterval: time.Hour})
	require.NoError(t, err)
	value := bytes.Repeat([]byte("y"), 32<<10)
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "the 1 MB filesystem never filled up")
		c, err := s.Update(func(tx *Tx) error { tx.SetString(0, fmt.Sprint(i), value, 0); return nil })
		require.NoError(t, err)
		if c.Wait() != nil {
			break
		}
	}
	err = s.Close()
	require.ErrorIs(t, err, ErrUnwritten)
	require.ErrorContains(t, err, "no space left on device")
}
