package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/storage"
)

// The SESS.* family: server-side sessions (see the sessdb package's
// Sessions). Every handler runs inside the dispatcher's transaction through
// sessdb.SessionsTx, so SESS.* commands join pipelines and MULTI blocks, and
// a write is acknowledged once its commit is durable.

// The session errors sessdb defines; they are not Redis's, so they live here.
var (
	errSessLimit      = "LIMIT too many sessions for user"
	errSessUser       = fmt.Sprintf("ERR invalid user: must be 1 to %d bytes", sessdb.MaxUserLen)
	errSessFields     = fmt.Sprintf("ERR too many session fields (max %d)", sessdb.MaxSessionFields)
	errSessFieldLong  = fmt.Sprintf("ERR session field name or value too long (max %d and %d bytes)", sessdb.MaxFieldNameLen, sessdb.MaxFieldValueLen)
	maxSessionSeconds = int64(sessdb.MaxSessionDuration / time.Second)
)

func init() {
	s := func(c *command) *command {
		c.group, c.since = "session", Version
		return c
	}
	w := []string{"write", "fast"}
	register(
		s(&command{name: "sess.create", arity: -2, flags: []string{"write", "denyoom"}, access: accessWrite, summary: "Creates a session for a user and returns its token.", run: cmdSessCreate}),
		s(&command{name: "sess.get", arity: -2, flags: w, access: accessWrite, readsOnly: sessGetNoTouch, summary: "Returns a session and slides its idle deadline (unless NOTOUCH).", run: cmdSessGet}),
		s(&command{name: "sess.touch", arity: 2, flags: w, access: accessWrite, summary: "Slides a session's idle deadline.", run: cmdSessTouch}),
		s(&command{name: "sess.set", arity: -4, flags: []string{"write", "denyoom", "fast"}, access: accessWrite, summary: "Sets fields of a session's data bag.", run: cmdSessSet}),
		s(&command{name: "sess.del", arity: -3, flags: w, access: accessWrite, summary: "Removes fields of a session's data bag.", run: cmdSessDel}),
		s(&command{name: "sess.rotate", arity: -2, flags: w, access: accessWrite, summary: "Replaces a session's token; the old one dies now or after GRACE.", run: cmdSessRotate}),
		s(&command{name: "sess.reauth", arity: 2, flags: w, access: accessWrite, summary: "Records a re-authentication: resets auth_time and the absolute lifetime.", run: cmdSessReauth}),
		s(&command{name: "sess.revoke", arity: 2, flags: w, access: accessWrite, summary: "Ends a session.", run: cmdSessRevoke}),
		s(&command{name: "sess.revokeid", arity: 3, flags: w, access: accessWrite, summary: "Ends a user's session by its public id.", run: cmdSessRevokeID}),
		s(&command{name: "sess.revokeuser", arity: -2, flags: []string{"write"}, access: accessWrite, summary: "Ends all of a user's sessions, optionally except one.", run: cmdSessRevokeUser}),
		s(&command{name: "sess.list", arity: 2, flags: []string{"readonly"}, access: accessRead, summary: "Lists a user's live sessions with their device metadata.", run: cmdSessList}),
		s(&command{name: "sess.count", arity: 2, flags: []string{"readonly", "fast"}, access: accessRead, summary: "Returns the number of a user's live sessions.", run: cmdSessCount}),
	)
}

func (c *Client) sessions(tx *storage.Tx) sessdb.SessionsTx {
	return c.srv.db.Sessions().Tx(tx)
}

// parseSeconds parses a duration in whole seconds, 0..MaxSessionDuration.
func parseSeconds(b []byte) (time.Duration, bool) {
	n, ok := parseInt(b)
	if !ok || n < 0 || n > maxSessionSeconds {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// none turns a directive's "0 = none" into the API's "negative = none".
func none(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

type sessCreateArgs struct {
	user string
	opts sessdb.CreateOptions
}

// parseSessCreate parses SESS.CREATE user [IDLE s] [ABSOLUTE s] [LIMIT n]
// [META field value [field value ...]]; META takes the rest of the line.
// Defaults come from the session-* directives at the time of the call.
func (s *Server) parseSessCreate(args [][]byte) (sessCreateArgs, string) {
	a := sessCreateArgs{user: string(args[1])}
	a.opts.Idle = none(s.cfg.SessionIdleTimeout())
	a.opts.Absolute = none(s.cfg.SessionAbsoluteTimeout())
	a.opts.Limit = s.cfg.SessionMaxPerUser()
	if a.opts.Limit == 0 {
		a.opts.Limit = -1
	}
	a.opts.Policy = sessdb.LimitPolicy(s.cfg.SessionLimitPolicy())
	for i := 2; i < len(args); i++ {
		switch {
		case equalFold(args[i], "meta"):
			rest := args[i+1:]
			if len(rest) == 0 || len(rest)%2 != 0 {
				return a, errSyntax
			}
			if len(rest)/2 > sessdb.MaxSessionFields {
				return a, errSessFields
			}
			a.opts.Meta = make(map[string]string, len(rest)/2)
			for j := 0; j < len(rest); j += 2 {
				a.opts.Meta[string(rest[j])] = string(rest[j+1])
			}
			i = len(args)
		case i+1 >= len(args):
			return a, errSyntax
		case equalFold(args[i], "idle"), equalFold(args[i], "absolute"):
			d, ok := parseSeconds(args[i+1])
			if !ok {
				return a, errNotInteger
			}
			if equalFold(args[i], "idle") {
				a.opts.Idle = none(d)
			} else {
				a.opts.Absolute = none(d)
			}
			i++
		case equalFold(args[i], "limit"):
			n, ok := parseInt(args[i+1])
			if !ok || n < 0 || n > 1<<31-1 {
				return a, errNotInteger
			}
			a.opts.Limit = int(n)
			if n == 0 {
				a.opts.Limit = -1
			}
			i++
		default:
			return a, errSyntax
		}
	}
	return a, ""
}

func cmdSessCreate(c *Client, tx *storage.Tx, args [][]byte) {
	a, msg := c.srv.parseSessCreate(args)
	if msg != "" {
		c.writeError(msg)
		return
	}
	token, err := c.sessions(tx).Create(a.user, a.opts)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	c.writeBulkString(token)
}

// parseFlagTail accepts args of exactly n, or n+1 ending in flag.
func parseFlagTail(args [][]byte, n int, flag string) (set, ok bool) {
	switch {
	case len(args) == n:
		return false, true
	case len(args) == n+1 && equalFold(args[n], flag):
		return true, true
	}
	return false, false
}

// parseOption accepts args of exactly n, or n+2 as "name value".
func parseOption(args [][]byte, n int, name string) (value []byte, ok bool) {
	switch {
	case len(args) == n:
		return nil, true
	case len(args) == n+2 && equalFold(args[n], name):
		return args[n+1], true
	}
	return nil, false
}

// writeSession writes a session as a map (a flat array in RESP2): the
// fields SESS.GET returns, or with list the ones SESS.LIST returns.
func (c *Client) writeSession(s *sessdb.SessionView, list bool) {
	n := 7 + len(s.Meta) + len(s.Data)
	if list {
		n = 5 + len(s.Meta)
	}
	c.writeMap(n)
	field := func(name string, v int64) {
		c.writeBulkString(name)
		c.writeInt(v)
	}
	c.writeBulkString("id")
	c.writeBulkString(s.ID)
	if !list {
		c.writeBulkString("user")
		c.writeBulkString(s.User)
	}
	field("created", s.Created)
	field("last_seen", s.LastSeen)
	if !list {
		field("auth_time", s.AuthTime)
	}
	field("idle_deadline", s.IdleDeadline)
	field("absolute_deadline", s.AbsoluteDeadline)
	c.writeSessionFields("meta.", s.Meta)
	if !list {
		c.writeSessionFields("data.", s.Data)
	}
}

// writeSessionFields writes each field as prefix+name and its value.
func (c *Client) writeSessionFields(prefix string, fs []sessdb.SessionField) {
	for _, f := range fs {
		c.scratch = append(append(c.scratch[:0], prefix...), f.Name...)
		c.writeBulk(c.scratch)
		c.writeBulk(f.Value)
	}
}

// sessGetNoTouch says whether a SESS.GET only reads.
func sessGetNoTouch(args [][]byte) bool {
	notouch, ok := parseFlagTail(args, 2, "notouch")
	return notouch && ok
}

func cmdSessGet(c *Client, tx *storage.Tx, args [][]byte) {
	notouch, ok := parseFlagTail(args, 2, "notouch")
	if !ok {
		c.writeError(errSyntax)
		return
	}
	if !c.sessions(tx).View(string(args[1]), !notouch, &c.session) {
		c.writeNull()
		return
	}
	c.writeSession(&c.session, false)
}

func cmdSessTouch(c *Client, tx *storage.Tx, args [][]byte) {
	c.writeBool01(c.sessions(tx).Touch(string(args[1])))
}

func cmdSessSet(c *Client, tx *storage.Tx, args [][]byte) {
	if len(args)%2 != 0 {
		c.writeError(fmt.Sprintf(errWrongArgs, "sess.set"))
		return
	}
	fields := make(map[string]string, (len(args)-2)/2)
	for i := 2; i < len(args); i += 2 {
		fields[string(args[i])] = string(args[i+1])
	}
	n, err := c.sessions(tx).Set(string(args[1]), fields)
	switch {
	case errors.Is(err, sessdb.ErrNoSession):
		c.writeNull()
	case err != nil:
		c.writeError(storageError(err))
	default:
		c.writeInt(int64(n))
	}
}

func cmdSessDel(c *Client, tx *storage.Tx, args [][]byte) {
	fields := make([]string, 0, len(args)-2)
	for _, f := range args[2:] {
		fields = append(fields, string(f))
	}
	n, err := c.sessions(tx).Del(string(args[1]), fields...)
	switch {
	case errors.Is(err, sessdb.ErrNoSession):
		c.writeNull()
	case err != nil:
		c.writeError(storageError(err))
	default:
		c.writeInt(int64(n))
	}
}

func cmdSessRotate(c *Client, tx *storage.Tx, args [][]byte) {
	raw, ok := parseOption(args, 2, "grace")
	if !ok {
		c.writeError(errSyntax)
		return
	}
	var grace time.Duration
	if raw != nil {
		if grace, ok = parseSeconds(raw); !ok {
			c.writeError(errNotInteger)
			return
		}
	}
	token, err := c.sessions(tx).Rotate(string(args[1]), grace)
	switch {
	case errors.Is(err, sessdb.ErrNoSession):
		c.writeNull()
	case err != nil:
		c.writeError(storageError(err))
	default:
		c.writeBulkString(token)
	}
}

func cmdSessReauth(c *Client, tx *storage.Tx, args [][]byte) {
	err := c.sessions(tx).Reauth(string(args[1]))
	switch {
	case errors.Is(err, sessdb.ErrNoSession):
		c.writeNull()
	case err != nil:
		c.writeError(storageError(err))
	default:
		c.writeOK()
	}
}

func cmdSessRevoke(c *Client, tx *storage.Tx, args [][]byte) {
	c.writeBool01(c.sessions(tx).Revoke(string(args[1])))
}

func cmdSessRevokeID(c *Client, tx *storage.Tx, args [][]byte) {
	c.writeBool01(c.sessions(tx).RevokeID(string(args[1]), string(args[2])))
}

func cmdSessRevokeUser(c *Client, tx *storage.Tx, args [][]byte) {
	except, ok := parseOption(args, 2, "except")
	if !ok {
		c.writeError(errSyntax)
		return
	}
	c.writeInt(int64(c.sessions(tx).RevokeUser(string(args[1]), string(except))))
}

func cmdSessList(c *Client, tx *storage.Tx, args [][]byte) {
	c.sessions(tx).ViewList(string(args[1]), &c.session, c.writeArray, func(sv *sessdb.SessionView) {
		c.writeSession(sv, true)
	})
}

func cmdSessCount(c *Client, tx *storage.Tx, args [][]byte) {
	c.writeInt(int64(c.sessions(tx).Count(string(args[1]))))
}
