package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	readyTimeout = 15 * time.Second
	stopTimeout  = 60 * time.Second // a clean shutdown of a million sessions on a busy 2-core machine
)

// Server is one running server process, started fresh for one measured run
// in its own data directory on a free loopback port.
type Server struct {
	Name string
	Addr string
	Port int
	Dir  string
	// Started is when the process was started; Ready how long after that it
	// first answered PING with PONG.
	Started time.Time
	Ready   time.Duration

	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// ServerSpec says how to launch one side of a comparison.
type ServerSpec struct {
	Name string // "sessdb" or "redis"
	Bin  string
	Args []string // everything except the port/bind/dir prefix
	// ReadyTimeout bounds the wait for the first PONG; 0 means readyTimeout.
	ReadyTimeout time.Duration
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// sessdbArgs is the sessdb command line (redis-server style) after
// --port/--bind/--dir: the fsync policy, then compat extras for a
// redis-server stand-in, then the user's -sessdb-args.
func sessdbArgs(fsync string, standIn bool, extra []string) []string {
	args := []string{"--appendfsync", fsync}
	if standIn {
		// A redis-server standing in for sessdb must be durable the way
		// sessdb is (AOF on, no RDB snapshots), or redis-vs-redis
		// comparisons of the durable rows would not come out at 1.0.
		args = append(args, "--save", "", "--appendonly", "yes")
	}
	return append(args, extra...)
}

// redisArgs is the redis-server command line after --port/--bind/--dir for
// the given side of the comparison.
func redisArgs(side Side) []string {
	if side == SideDurable {
		return []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always"}
	}
	return []string{"--save", "", "--appendonly", "no"}
}

// isRedisServer reports whether bin looks like a redis-server binary (used
// to give a -sessdb-cmd stand-in sessdb's persistence settings).
func isRedisServer(bin string) bool {
	return strings.HasPrefix(filepath.Base(bin), "redis-server")
}

// freePort asks the kernel for an unused loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer launches spec on a free port with dir as its data directory
// (created if needed) and waits until it answers PING. Output goes to
// dir/<name>.log, quoted in the error if the server fails to come up.
func startServer(ctx context.Context, spec ServerSpec, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("%s: free port: %w", spec.Name, err)
	}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir}, spec.Args...)
	logPath := filepath.Join(dir, spec.Name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(spec.Bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", spec.Name, spec.Bin, err)
	}
	s := &Server{
		Name: spec.Name, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, Dir: dir,
		Started: started, cmd: cmd, logPath: logPath, exited: make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	timeout := spec.ReadyTimeout
	if timeout <= 0 {
		timeout = readyTimeout
	}
	if err := s.waitReady(ctx, timeout); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("%s (%s %s): %w; log: %s", spec.Name, spec.Bin, strings.Join(args, " "), err, s.logTail())
	}
	s.Ready = time.Since(started)
	return s, nil
}

// waitReady polls with PING over TCP until the reply is +PONG (a server
// still loading its data answers -LOADING or does not listen yet). It polls
// every 5 ms, which is also the resolution of a measured restart time.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("exited during startup: %v", s.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if last = ping(s.Addr); last == nil {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %v", timeout, last)
}

// ping sends one PING and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING replied %q", strings.TrimSpace(line))
	}
	return nil
}

// Stop sends SIGTERM and waits; after stopTimeout it sends SIGKILL. It is
// safe to call more than once and on an already exited server.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = s.cmd.Process.Kill()
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("%s did not exit within %s of SIGTERM; killed", s.Name, stopTimeout)
	}
}

// logTail is the end of the server's log, for error messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log)"
	}
	t := strings.TrimSpace(string(b))
	if len(t) > 800 {
		t = "…" + t[len(t)-800:]
	}
	if t == "" {
		return "(empty)"
	}
	return t
}
