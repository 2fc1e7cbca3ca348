package sessdb_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// slowlorisConns is how many stalled connections the slowloris test opens.
const slowlorisConns = 500

// Ensure that connections that send half a command and stall (slowloris)
// are closed by timeout, that the half command never runs, and that a normal
// client is served without errors the whole time.
func TestSlowloris_StalledConnectionsClosedByTimeout(t *testing.T) {
	ts := startSessdb(t, t.TempDir())
	admin := dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "timeout", "1"))

	// The normal client works throughout.
	stop := make(chan struct{})
	var served atomic.Int64
	var worst atomic.Int64
	normalErr := make(chan error, 1)
	go func() {
		normalErr <- func() error {
			conn, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
			if err != nil {
				return err
			}
			defer conn.Close()
			c := &respClient{t: t, conn: conn, r: bufio.NewReader(conn)}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return nil
				default:
				}
				start := time.Now()
				if err := c.conn.SetDeadline(start.Add(5 * time.Second)); err != nil {
					return err
				}
				if _, err := c.conn.Write(encodeCommand([]string{"SET", "normal", "v"})); err != nil {
					return err
				}
				n, err := parseRESP(c.r)
				if err != nil {
					return err
				}
				if n.String() != "+OK\r\n" {
					return errors.New("SET replied " + n.String())
				}
				if d := int64(time.Since(start)); d > worst.Load() {
					worst.Store(d)
				}
				served.Add(1)
			}
		}()
	}()

	// The attackers: each sends the start of a SET and stops.
	half := []byte("*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$10\r\nabc")
	var wg sync.WaitGroup
	var stillOpen, opened atomic.Int64
	dialers := make(chan struct{}, 50)
	for i := 0; i < slowlorisConns; i++ {
		wg.Add(1)
		dialers <- struct{}{}
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", ts.addr, 10*time.Second)
			<-dialers
			if err != nil {
				stillOpen.Add(1) // counted as a failure below
				return
			}
			defer conn.Close()
			opened.Add(1)
			if _, err := conn.Write(half); err != nil {
				return
			}
			// The server must close it: reading ends in EOF, not the deadline.
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err = io.Copy(io.Discard, conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				stillOpen.Add(1)
			}
		}()
	}
	require.Eventually(t, func() bool { return opened.Load() == slowlorisConns || stillOpen.Load() > 0 },
		30*time.Second, 10*time.Millisecond)
	wg.Wait()
	close(stop)
	require.NoError(t, <-normalErr)
	require.Zero(t, stillOpen.Load(), "stalled connections not closed by timeout")
	require.Eventually(t, func() bool { return ts.srv.Clients() == 0 }, 10*time.Second, 10*time.Millisecond,
		"the server still counts the stalled clients")

	// admin, idle all along, was closed too; a new client finds the half
	// command never ran.
	after := dialRESP(t, ts.addr)
	require.Equal(t, "$-1\r\n", after.do("GET", "slow"))
	require.Equal(t, "$1\r\nv\r\n", after.do("GET", "normal"))
	require.Positive(t, served.Load())
	t.Logf("%d stalled connections closed by timeout 1; the normal client made %d SETs meanwhile, slowest %v",
		slowlorisConns, served.Load(), time.Duration(worst.Load()))
}
