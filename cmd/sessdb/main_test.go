package main

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
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

// Ensure that SHUTDOWN from a client stops the process gracefully (exit 0,
// the data kept), that its option errors are Redis's, and that the caller's
// connection closes without a reply.
func TestMain_ShutdownCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())
	dir := t.TempDir()
	exit := make(chan int, 1)
	go func() {
		var out, errb bytes.Buffer
		exit <- run([]string{"--port", port, "--bind", "127.0.0.1", "--dir", dir}, &out, &errb)
	}()
	var conn net.Conn
	require.Eventually(t, func() bool {
		conn, err = net.Dial("tcp", "127.0.0.1:"+port)
		return err == nil
	}, 10*time.Second, 10*time.Millisecond)
	defer conn.Close()
	r := bufio.NewReader(conn)
	send := func(cmd string) string {
		_, err := conn.Write([]byte(cmd))
		require.NoError(t, err)
		line, _ := r.ReadString('\n')
		return line
	}
	require.Equal(t, "+OK\r\n", send("SET kept 1\r\n"))
	require.Equal(t, "-ERR syntax error\r\n", send("SHUTDOWN NOSAVE SAVE\r\n"))
	require.Equal(t, "-ERR syntax error\r\n", send("SHUTDOWN ABORT NOW\r\n"))
	require.Equal(t, "-ERR No shutdown in progress.\r\n", send("SHUTDOWN ABORT\r\n"))
	require.Equal(t, "", send("SHUTDOWN NOSAVE\r\n")) // closed without a reply
	select {
	case code := <-exit:
		require.Equal(t, 0, code)
	case <-time.After(30 * time.Second):
		t.Fatal("SHUTDOWN did not stop the server")
	}
	db, err := sessdb.Open(filepath.Join(dir, "sessdb.db"), nil)
	require.NoError(t, err)
	defer db.Close()
	v, ok, err := db.Get(0, "kept")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "1", string(v))
}
