package server

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/sessdb/sessdb"
	"strconv"
	"strings"

	"github.com/sessdb/sessdb/storage"
)

// dispatch runs or queues one command.
func (c *Client) dispatch(args [][]byte) {
	cmd, msg := c.srv.table.resolve(args)
	if cmd == nil {
		c.ran = c.srv.table.lookup(args[0]) // a bad subcommand or arity counts for its command
		c.reject(args, msg)
		return
	}
	top := cmd
	if cmd.parent != nil {
		top = cmd.parent
	}
	c.ran = top
	if !c.authed && c.srv.authRequired() && !top.noAuth {
		c.reject(args, errNoAuth)
		return
	}
	// Redis's order: NOAUTH, then ACL (NOPERM), then OOM, then MISCONF.
	if msg := c.checkACL(cmd, args); msg != "" {
		c.reject(args, msg)
		return
	}
	if msg := c.srv.checkMemory(cmd); msg != "" {
		c.reject(args, msg)
		return
	}
	if msg := c.srv.checkPersistence(cmd); msg != "" {
		c.reject(args, msg)
		return
	}
	if c.resp == 2 && c.subscribed() && !pubsubAllowed[cmd.name] {
		c.reject(args, fmt.Sprintf(errPubsubContext, cmd.name))
		return
	}
	// A running script: wait for it, or BUSY once it is past
	// busy-reply-threshold (script_busy.go), before waiting for the lock.
	if c.srv.scriptRuns.n.Load() != 0 {
		if msg := c.scriptGate(cmd, args); msg != "" {
			c.reject(args, msg)
			return
		}
	}
	c.cmdName.Store(&cmd.name)
	if c.multi && !top.noMulti {
		c.queueCommand(cmd, args)
		return
	}
	c.execute(cmd, args)
}

// reject answers a command refused before it ran. As in Redis, a refused
// EXEC discards the transaction; anything else refused inside MULTI makes
// EXEC abort.
func (c *Client) reject(args [][]byte, msg string) {
	if equalFold(args[0], "exec") {
		c.discardMulti()
		c.srv.unwatchAll(c)
		c.writeError(errExecAbortBecause + strings.TrimPrefix(msg, "ERR "))
		return
	}
	if c.multi {
		c.multiDirty = true
	}
	c.writeError(msg)
}

// execute runs cmd under the lock its access needs. A write's commit is kept
// in c.pending; the reply is released once it is durable. The keyspace
// events the command made are published once the lock is released.
func (c *Client) execute(cmd *command, args [][]byte) {
	defer c.srv.flushNotes()
	switch cmd.accessFor(args) {
	case accessNone:
		cmd.run(c, nil, args)
	case accessRead:
		_ = c.srv.db.View(func(tx *storage.Tx) error {
			cmd.run(c, tx, args)
			c.queueReplies()
			return nil
		})
	case accessWrite:
		c.mark = c.replyMark()
		commit, err := c.srv.db.UpdateAsync(func(tx *storage.Tx) error {
			cmd.run(c, tx, args)
			c.queueReplies()
			return nil
		})
		if err != nil {
			c.writeError(storageError(err))
			return
		}
		if commit != nil {
			c.pending = commit
		}
	}
}

// accessFor is the lock these arguments need: the command's access, or the
// shared lock when readsOnly says they only read.
func (cmd *command) accessFor(args [][]byte) access {
	if cmd.readsOnly != nil && cmd.readsOnly(args) {
		return accessRead
	}
	return cmd.access
}

// storageError maps a sentinel error from storage or the sessions layer to
// its RESP error reply; it is the one place where that happens.
func storageError(err error) string {
	switch {
	case errors.Is(err, sessdb.ErrSessionLimit):
		return errSessLimit
	case errors.Is(err, sessdb.ErrInvalidUser):
		return errSessUser
	case errors.Is(err, sessdb.ErrTooManyFields):
		return errSessFields
	case errors.Is(err, sessdb.ErrFieldTooLong):
		return errSessFieldLong
	case errors.Is(err, sessdb.ErrInvalidDuration):
		return errNotInteger
	case errors.Is(err, storage.ErrWrongType):
		return errWrongType
	case errors.Is(err, storage.ErrNoSuchKey):
		return errNoSuchKey
	case errors.Is(err, storage.ErrDBIndex):
		return errDBIndex
	case errors.Is(err, storage.ErrClosed):
		return "ERR server is shutting down"
	}
	return "ERR " + err.Error()
}

// parseInt parses a decimal integer exactly as Redis's string2ll does: no
// sign other than a leading '-', no leading zeros, no spaces.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	d := b
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// parseFloat parses a float as Redis does: no spaces, no NaN.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' || bytes.ContainsAny(b, "_xXpP") {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return f, true
		}
		return 0, false
	}
	if f != f {
		return 0, false
	}
	return f, true
}

func equalFold(b []byte, s string) bool { return bytes.EqualFold(b, []byte(s)) }

func str(b []byte) string { return string(b) }
