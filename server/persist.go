package server

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/sessdb/sessdb/storage"
	"github.com/tidwall/redcon"
)

// Disk errors (disk full, I/O error) and what a client sees of them.
//
// A write changes memory first and is acknowledged only once its commit is
// durable (appendfsync always). When a commit fails, storage keeps its
// records and retries them every RetryInterval until the disk takes them,
// so the memory that already shows the change and the disk converge: after
// recovery, memory never shows data the disk did not get. Meanwhile:
//   - the writes whose commit failed are answered with the MISCONF error
//     instead of their reply, never OK (settleWrites);
//   - new writes are refused at once with the same error (checkPersistence);
//   - reads keep working.
// A failed write may therefore still take effect once the disk recovers, as
// a write whose reply was lost to a timeout may: the client knows only that
// it was not acknowledged. If the process dies before the disk recovers,
// those unacknowledged changes are lost and nothing else.

// checkPersistence returns the MISCONF error when writes cannot currently be
// made durable and cmd is a write, or "".
func (s *Server) checkPersistence(cmd *command) string {
	err := s.db.Store().Failing()
	if err == nil {
		return ""
	}
	top := cmd
	if cmd.parent != nil {
		top = cmd.parent
	}
	if !hasFlag(cmd, "write") && !hasFlag(top, "write") || bookkeepingOnly[cmd.name] {
		return ""
	}
	return persistenceError(err)
}

// bookkeepingOnly are the write commands whose only change is best-effort
// bookkeeping that sessdb never promises to persist at once: SESS.GET and
// SESS.TOUCH slide a session's idle deadline in memory and record last-seen
// only every so often (a crash can only make a session expire early). They
// keep working while the disk is failing, like reads, and their replies are
// never replaced: they do not acknowledge a write.
var bookkeepingOnly = map[string]bool{"sess.get": true, "sess.touch": true}

// acknowledgesWrite says whether the reply of the command that just ran
// tells the client a change was made, and so must not go out if that change
// could not be committed. Unknown names count as writes.
func (c *Client) acknowledgesWrite() bool {
	p := c.cmdName.Load()
	if p == nil {
		return true
	}
	name := *p
	cmd := c.srv.table[name]
	if parent, sub, ok := strings.Cut(name, "|"); ok {
		if top := c.srv.table[parent]; top != nil {
			cmd = top.subs[sub]
		}
	}
	if cmd == nil {
		return true
	}
	return !bookkeepingOnly[name] && !hasFlag(cmd, "readonly")
}

// persistenceError is the MISCONF reply for a commit error: the reason is
// the system error's text (as Redis's strerror), without the file's path.
func persistenceError(err error) string {
	return fmt.Sprintf(errPersistence, persistenceReason(err))
}

// persistenceReason is the system error's text when there is one.
func persistenceReason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// errSaveFailedErr stands for a failed save in INFO's status fields.
var errSaveFailedErr = errors.New("save failed")

// trackedWrite is a write command of the current pipeline batch: its commit
// and where its reply lies in the connection's output buffer.
type trackedWrite struct {
	commit     *storage.Commit
	start, end int
}

// replyMark returns where the next reply will start in the output buffer.
// redcon's Buffer returns a copy, so only writes take a mark (before they
// run: execute and EXEC set c.mark), never reads.
func (c *Client) replyMark() int {
	if w := redcon.BaseWriter(c.conn); w != nil {
		return len(w.Buffer())
	}
	return 0
}

// trackWrite records the commit of the command that just ran, if it wrote,
// with its reply's place in the buffer (from c.mark). A connection whose
// replies go through its outbound queue (a RESP3 subscriber) waits for the
// commit at once instead, so that the reply can still be replaced.
func (c *Client) trackWrite() {
	if c.pending == nil {
		return
	}
	tw := trackedWrite{commit: c.pending, start: c.mark, end: c.replyMark()}
	c.pending = nil
	if !c.acknowledgesWrite() {
		// Its records still go to disk (or wait for the retry), but the
		// reply stands; the batch still waits for them below.
		tw.start, tw.end = -1, -1
	}
	if c.out != nil {
		c.settle([]trackedWrite{tw}, c.srv.db.Wait(tw.commit))
		return
	}
	c.writes = append(c.writes, tw)
}

// settleWrites waits once for the batch's writes to be durable. Commits
// complete in order and a failed one's records are retried ahead of later
// ones, so if the last succeeded every earlier one is durable too. If it
// failed, each write whose commit failed gets the MISCONF error in place of
// its reply: no client is ever told OK for a change the disk did not take.
func (c *Client) settleWrites() {
	if len(c.writes) == 0 {
		return
	}
	writes := c.writes
	c.writes = c.writes[:0]
	c.settle(writes, c.srv.db.Wait(writes[len(writes)-1].commit))
}

func (c *Client) settle(writes []trackedWrite, err error) {
	if err == nil {
		return
	}
	c.srv.logCommitFailure(err)
	w := redcon.BaseWriter(c.conn)
	if w == nil {
		return
	}
	buf := w.Buffer()
	out := make([]byte, 0, len(buf))
	pos := 0
	for _, tw := range writes {
		werr := tw.commit.Wait()
		if werr == nil || tw.start < pos || tw.end > len(buf) { // start -1: the reply stands
			continue
		}
		out = append(out, buf[pos:tw.start]...)
		out = append(out, '-')
		out = append(out, sanitizeLine(persistenceError(werr))...)
		out = append(out, '\r', '\n')
		c.errorReplies++
		pos = tw.end
	}
	out = append(out, buf[pos:]...)
	w.SetBuffer(out)
}

// logCommitFailure logs a failed commit, at most once a second.
func (s *Server) logCommitFailure(err error) {
	now := time.Now().UnixMilli()
	last := s.persist.lastFailLog.Load()
	if now-last < 1000 || !s.persist.lastFailLog.CompareAndSwap(last, now) {
		return
	}
	s.logger.Printf("Error writing to the database file: %v; writes are refused until the disk accepts them again (retrying)", err)
}
