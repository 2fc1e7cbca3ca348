package server

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/storage"
)

// The JWT commands: short-lived JWTs bound to live sessions (see the sessdb
// package's JWT). SESS.JWT and SESS.VERIFY are accessNone so that the
// signing and the signature check run outside the store's lock, which they
// take only to read the session; inside MULTI or a script they get the
// transaction and use it. SESS.KEYS ROTATE runs in the dispatcher's Update,
// so a rotation is acknowledged once durable.

// The JWT errors; they are not Redis's, so they live here.
var (
	errJWTReserved = "ERR reserved claim name: iss, sub, sid, iat, nbf, exp, jti and aud are set by sessdb"
	errJWTClaims   = fmt.Sprintf("ERR too many or too long claims (max %d, names %d and values %d bytes)", sessdb.MaxJWTClaims, sessdb.MaxFieldNameLen, sessdb.MaxFieldValueLen)
	errJWTInvalid  = "INVALID %s"
	errJWTKeys     = "ERR JWT signing keys unavailable: %v"
	maxJWTSeconds  = int64(sessdb.MaxJWTTTL / time.Second)
)

// jwtState opens the JWT keys once, from the configuration.
type jwtState struct {
	once sync.Once
	jwt  *sessdb.JWT
	err  error
}

func init() {
	s := func(c *command) *command {
		c.group, c.since = "session", Version
		return c
	}
	register(
		s(&command{name: "sess.jwt", arity: -2, flags: []string{"readonly", "fast"}, access: accessNone,
			summary: "Signs a short-lived JWT for a live session.", run: cmdSessJWT}),
		s(&command{name: "sess.verify", arity: -2, flags: []string{"readonly", "fast"}, access: accessNone,
			summary: "Verifies a JWT and that its session is still live; returns its claims.", run: cmdSessVerify}),
		s(&command{name: "sess.jwks", arity: 1, flags: []string{"readonly", "fast"}, access: accessNone,
			summary: "Returns the public JWK Set of the keys valid for verification.", run: cmdSessJWKS}),
		s(&command{name: "sess.notbefore", arity: 2, flags: []string{"readonly", "fast"}, access: accessRead,
			summary: "Returns a user's not-before time: JWTs issued earlier are revoked.", run: cmdSessNotBefore}),
		s(&command{name: "sess.keys", arity: -2, summary: "A container for JWT signing key commands.", subs: map[string]*command{
			"rotate": s(&command{name: "sess.keys|rotate", arity: 2, flags: []string{"write", "admin"}, access: accessWrite,
				summary: "Makes a new signing key current; old keys stay in the JWK Set until their tokens expire.", run: cmdSessKeysRotate}),
			"help": s(&command{name: "sess.keys|help", arity: 2, flags: []string{"readonly", "loading", "stale"}, access: accessNone,
				summary: "Returns helpful text about the different subcommands.", run: cmdSessKeysHelp}),
			"list": s(&command{name: "sess.keys|list", arity: 2, flags: []string{"readonly"}, access: accessNone,
				summary: "Lists the ids of the keys in the JWK Set, the current one first.", run: cmdSessKeysList}),
		}}),
	)
}

// JWT returns the server's JWT issuer, whose keys New opened from the
// jwt-* directives (it must not happen inside a command's transaction).
// main checks its error so that a missing or wrong jwt-key-passphrase stops
// the server at once.
func (s *Server) JWT() (*sessdb.JWT, error) {
	s.jwt.once.Do(func() {
		s.jwt.jwt, s.jwt.err = sessdb.OpenJWT(s.db, sessdb.JWTOptions{
			Issuer:     s.cfg.JWTIssuer(),
			Alg:        s.cfg.JWTAlg(),
			DefaultTTL: s.cfg.JWTDefaultTTL(),
			MaxTTL:     s.cfg.JWTMaxTTL(),
			Audience:   s.cfg.JWTAudience(),
			Passphrase: s.cfg.JWTKeyPassphrase(),
		})
	})
	return s.jwt.jwt, s.jwt.err
}

// jwtOrError returns the JWT issuer, or writes the error and returns nil.
func (c *Client) jwtOrError() *sessdb.JWT {
	j, err := c.srv.JWT()
	if err != nil {
		c.writeError(fmt.Sprintf(errJWTKeys, err))
		return nil
	}
	return j
}

type sessJWTArgs struct {
	token string
	opts  sessdb.IssueOptions
}

// parseSessJWT parses SESS.JWT token [TTL s] [AUD audience] [CLAIM name
// value [name value ...]]; CLAIM takes the rest of the line.
func parseSessJWT(args [][]byte) (sessJWTArgs, string) {
	a := sessJWTArgs{token: string(args[1])}
	for i := 2; i < len(args); i++ {
		switch {
		case equalFold(args[i], "claim"):
			rest := args[i+1:]
			if len(rest) == 0 || len(rest)%2 != 0 {
				return a, errSyntax
			}
			if len(rest)/2 > sessdb.MaxJWTClaims {
				return a, errJWTClaims
			}
			a.opts.Claims = make(map[string]string, len(rest)/2)
			for j := 0; j < len(rest); j += 2 {
				a.opts.Claims[string(rest[j])] = string(rest[j+1])
			}
			i = len(args)
		case i+1 >= len(args):
			return a, errSyntax
		case equalFold(args[i], "ttl"):
			n, ok := parseInt(args[i+1])
			if !ok || n > maxJWTSeconds {
				return a, errNotInteger
			}
			if n <= 0 {
				return a, errCountPositive
			}
			a.opts.TTL = time.Duration(n) * time.Second
			i++
		case equalFold(args[i], "aud"):
			a.opts.Audience = string(args[i+1])
			i++
		default:
			return a, errSyntax
		}
	}
	return a, ""
}

func cmdSessJWT(c *Client, tx *storage.Tx, args [][]byte) {
	a, msg := parseSessJWT(args)
	if msg != "" {
		c.writeError(msg)
		return
	}
	j := c.jwtOrError()
	if j == nil {
		return
	}
	var tok string
	var err error
	if tx != nil {
		tok, err = j.IssueTx(tx, a.token, a.opts)
	} else {
		tok, err = j.Issue(a.token, a.opts)
	}
	switch {
	case errors.Is(err, sessdb.ErrNoSession):
		c.writeNull()
	case errors.Is(err, sessdb.ErrJWTReservedClaim):
		c.writeError(errJWTReserved)
	case errors.Is(err, sessdb.ErrJWTClaims):
		c.writeError(errJWTClaims)
	case err != nil:
		c.writeError(storageError(err))
	default:
		c.writeBulkString(tok)
	}
}

func cmdSessVerify(c *Client, tx *storage.Tx, args [][]byte) {
	aud, ok := parseOption(args, 2, "aud")
	if !ok {
		c.writeError(errSyntax)
		return
	}
	j := c.jwtOrError()
	if j == nil {
		return
	}
	var claims *sessdb.JWTClaims
	var err error
	if tx != nil {
		claims, err = j.VerifyTx(tx, string(args[1]), string(aud))
	} else {
		claims, err = j.Verify(string(args[1]), string(aud))
	}
	var je *sessdb.JWTError
	switch {
	case errors.As(err, &je):
		c.writeError(fmt.Sprintf(errJWTInvalid, je.Reason))
	case err != nil:
		c.writeError(storageError(err))
	default:
		c.writeClaims(claims)
	}
}

// writeClaims writes verified claims as a map (a flat array in RESP2):
// iss, sub, sid, aud (when present), iat, nbf, exp, jti, kid, then the other
// claims sorted by name. Times are unix seconds.
func (c *Client) writeClaims(cl *sessdb.JWTClaims) {
	n := 8 + len(cl.Extra)
	if len(cl.Audience) > 0 {
		n++
	}
	c.writeMap(n)
	kv := func(k, v string) {
		c.writeBulkString(k)
		c.writeBulkString(v)
	}
	kt := func(k string, t time.Time) {
		c.writeBulkString(k)
		if t.IsZero() {
			c.writeInt(0)
			return
		}
		c.writeInt(t.Unix())
	}
	kv("iss", cl.Issuer)
	kv("sub", cl.Subject)
	kv("sid", cl.SessionID)
	if len(cl.Audience) > 0 {
		kv("aud", strings.Join(cl.Audience, " "))
	}
	kt("iat", cl.IssuedAt)
	kt("nbf", cl.NotBefore)
	kt("exp", cl.Expires)
	kv("jti", cl.ID)
	kv("kid", cl.KeyID)
	names := make([]string, 0, len(cl.Extra))
	for k := range cl.Extra {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		kv(k, cl.Extra[k])
	}
}

func cmdSessJWKS(c *Client, _ *storage.Tx, _ [][]byte) {
	if j := c.jwtOrError(); j != nil {
		c.writeBulk(j.JWKS())
	}
}

func cmdSessNotBefore(c *Client, tx *storage.Tx, args [][]byte) {
	c.writeInt(sessdb.NotBeforeTx(tx, string(args[1])))
}

func cmdSessKeysRotate(c *Client, tx *storage.Tx, _ [][]byte) {
	j := c.jwtOrError()
	if j == nil {
		return
	}
	if err := j.RotateTx(tx); err != nil {
		c.writeError(storageError(err))
		return
	}
	c.writeBulkString(j.CurrentKeyID())
}

func cmdSessKeysList(c *Client, _ *storage.Tx, _ [][]byte) {
	if j := c.jwtOrError(); j != nil {
		c.writeStrings(j.KeyIDs())
	}
}

func cmdSessKeysHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"SESS.KEYS <subcommand>. Subcommands are:",
		"ROTATE",
		"    Make a new signing key current. Old keys stay in the JWK Set until every",
		"    token they signed has expired.",
		"LIST",
		"    Return the ids of the keys in the JWK Set, the current one first.",
		"HELP",
		"    Print this help.",
	})
}
