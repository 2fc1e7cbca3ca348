package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Ensure that an unknown directive stops startup with an error that names it.
func TestMain_UnknownDirectiveIsFatal(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"--port", "0", "--no-such-directive", "1"}, &out, &errb)
	require.Equal(t, 1, code)
	require.Contains(t, errb.String(), "no-such-directive")
}

// Ensure that a file that is not a sessdb database stops startup with an
// error naming the file, and the file is left as it was.
func TestMain_ForeignDatabaseFileIsFatal(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "sessdb.db")
	content := bytes.Repeat([]byte("someone else's data "), 100)
	require.NoError(t, os.WriteFile(junk, content, 0o600))
	var out, errb bytes.Buffer
	code := run([]string{"--port", "0", "--dir", dir}, &out, &errb)
	require.Equal(t, 1, code)
	require.Contains(t, out.String(), junk)
	got, err := os.ReadFile(junk)
	require.NoError(t, err)
	require.Equal(t, content, got)
}

// Ensure that --version prints both versions.
func TestMain_Version(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"--version"}, &out, &errb))
	require.Contains(t, out.String(), "redis 7.2")
}
