package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessdb/sessdb"
)

// The default cookie names. The __Host- prefix makes the browser refuse the
// cookie unless it is Secure, has Path=/ and no Domain, so that no sibling
// subdomain and no plain-HTTP page can set or overwrite it.
const (
	DefaultCookieName         = "__Host-sessdb"
	DefaultInsecureCookieName = "sessdb"
)

// maxTokenLen bounds the cookie value looked up; a sessdb token is 66 bytes.
const maxTokenLen = 128

// maxUserAgentLen bounds the user agent recorded as device metadata.
const maxUserAgentLen = 512

// Options configure a Manager. The zero value is the safe default.
type Options struct {
	// CookieName is the session cookie's name. Default DefaultCookieName
	// (DefaultInsecureCookieName when Insecure).
	CookieName string
	// Insecure drops the Secure attribute and the __Host- prefix, for plain
	// HTTP on hosts other than localhost during development. Never in production.
	Insecure bool
	// SameSite is the cookie's SameSite attribute. Default http.SameSiteLaxMode.
	SameSite http.SameSite
	// LoginPath is where Require sends requests without a session. Default "/login".
	LoginPath string
	// RotateGrace is how long Rotate lets the old token keep working, for
	// requests already in flight. Default 0: it dies at once.
	RotateGrace time.Duration
	// ClientIP returns the address recorded as a session's "ip". Default: the
	// host of r.RemoteAddr. Behind a proxy, supply one that trusts its header.
	ClientIP func(r *http.Request) string
	// Now is the clock used to turn session deadlines into cookie lifetimes.
	// Default time.Now. Use the same clock as the DB (sessdb.Options.Now).
	Now func() time.Time
	// Error answers a request when the store fails. Default: 500, and the
	// error is not shown to the client.
	Error func(w http.ResponseWriter, r *http.Request, err error)
}

// Manager ties a Store to HTTP: the middleware, the cookie and the helpers.
type Manager struct {
	store Store
	opts  Options
}

// New returns a Manager over store with opts (nil: the defaults).
func New(store Store, opts *Options) *Manager {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.CookieName == "" {
		o.CookieName = DefaultCookieName
		if o.Insecure {
			o.CookieName = DefaultInsecureCookieName
		}
	}
	if o.SameSite == 0 || o.SameSite == http.SameSiteDefaultMode {
		o.SameSite = http.SameSiteLaxMode
	}
	if o.LoginPath == "" {
		o.LoginPath = "/login"
	}
	if o.ClientIP == nil {
		o.ClientIP = remoteHost
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Error == nil {
		o.Error = func(w http.ResponseWriter, _ *http.Request, _ error) {
			http.Error(w, "session store unavailable", http.StatusInternalServerError)
		}
	}
	return &Manager{store: store, opts: o}
}

// Store returns the Store the Manager uses.
func (m *Manager) Store() Store { return m.store }

// CookieName returns the session cookie's name.
func (m *Manager) CookieName() string { return m.opts.CookieName }

// state is the request's session, shared by pointer so that Login, Logout
// and Rotate change what later code in the same request sees.
type state struct {
	token string
	sess  *sessdb.Session
}

type ctxKey int

const (
	sessionKey ctxKey = iota
	csrfKey
)

func stateOf(r *http.Request) *state {
	st, _ := r.Context().Value(sessionKey).(*state)
	return st
}

// Middleware reads the session cookie, validates it with the Store (which
// slides the idle deadline) and puts the session in the request context,
// where Current finds it. A request without a live session passes through
// with none; use Require to insist. A cookie naming no live session is
// deleted. When the store fails, the request is answered by Options.Error.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &state{}
		if c, err := r.Cookie(m.opts.CookieName); err == nil && c.Value != "" {
			if len(c.Value) <= maxTokenLen {
				sess, err := m.store.Get(r.Context(), c.Value)
				if err != nil {
					m.opts.Error(w, r, err)
					return
				}
				if sess != nil {
					st.token, st.sess = c.Value, sess
					// The idle deadline slid: so does the cookie's lifetime.
					// Not for an old token in its rotation grace (its id is
					// not the session's): re-sending it could overwrite
					// the new cookie that the rotating response set.
					if strings.HasPrefix(c.Value, sess.ID+".") {
						m.setCookie(w, c.Value, sess)
					}
				}
			}
			if st.sess == nil {
				m.clearCookie(w)
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey, st)))
	})
}

// Require lets only requests with a live session through. The others are
// redirected (303) to Options.LoginPath with the path they asked for in
// "next". It must run inside Middleware.
func (m *Manager) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Current(r) == nil {
			target := m.opts.LoginPath
			if r.Method == http.MethodGet && r.URL.Path != m.opts.LoginPath {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Current returns the request's live session, or nil. It never holds the
// token's secret.
func Current(r *http.Request) *sessdb.Session {
	if st := stateOf(r); st != nil {
		return st.sess
	}
	return nil
}

// User returns the user of the request's session, or "".
func User(r *http.Request) string {
	if s := Current(r); s != nil {
		return s.User
	}
	return ""
}

// Login starts a session for user (after the application has checked the
// credentials) and sets the cookie. Any session the request carried, of
// this user or another, is revoked first, so the cookie value always
// changes at login and a session planted before login (fixation) is
// worthless. Unless o.Meta says otherwise, the session records the client's
// "ip" and user agent ("ua") for the device list. The CSRF token, when the
// CSRF middleware runs, is renewed too.
func (m *Manager) Login(w http.ResponseWriter, r *http.Request, user string, o sessdb.CreateOptions) (*sessdb.Session, error) {
	ctx := r.Context()
	st := stateOf(r)
	old := ""
	if st != nil {
		old = st.token
	}
	if old == "" {
		if c, err := r.Cookie(m.opts.CookieName); err == nil && len(c.Value) <= maxTokenLen {
			old = c.Value
		}
	}
	if old != "" {
		if _, err := m.store.Revoke(ctx, old); err != nil {
			return nil, err
		}
	}
	meta := make(map[string]string, len(o.Meta)+2)
	if ip := m.opts.ClientIP(r); ip != "" {
		meta["ip"] = ip
	}
	if ua := truncate(r.UserAgent(), maxUserAgentLen); ua != "" {
		meta["ua"] = ua
	}
	for k, v := range o.Meta {
		meta[k] = v
	}
	o.Meta = meta
	token, err := m.store.Create(ctx, user, o)
	if err != nil {
		return nil, err
	}
	sess, err := m.store.Get(ctx, token)
	if err != nil {
		return nil, err
	}
	if sess == nil { // a zero-length lifetime, or revoked in between
		return nil, sessdb.ErrNoSession
	}
	m.setCookie(w, token, sess)
	if st != nil {
		st.token, st.sess = token, sess
	}
	renewCSRF(w, r)
	return sess, nil
}

// Logout revokes the request's session and deletes the cookie. Without a
// session it only deletes the cookie.
func (m *Manager) Logout(w http.ResponseWriter, r *http.Request) error {
	st := stateOf(r)
	m.clearCookie(w)
	renewCSRF(w, r)
	if st == nil || st.token == "" {
		return nil
	}
	token := st.token
	st.token, st.sess = "", nil
	_, err := m.store.Revoke(r.Context(), token)
	return err
}

// LogoutEverywhere revokes every session of the request's user except the
// request's own ("sign out all other devices") and returns how many ended.
// Without a session it does nothing and returns sessdb.ErrNoSession.
func (m *Manager) LogoutEverywhere(r *http.Request) (int, error) {
	st := stateOf(r)
	if st == nil || st.sess == nil {
		return 0, sessdb.ErrNoSession
	}
	return m.store.RevokeUser(r.Context(), st.sess.User, st.token)
}

// Sessions returns user's live sessions, oldest first (SESS.LIST): the
// "your devices" list.
func (m *Manager) Sessions(ctx context.Context, user string) ([]sessdb.Session, error) {
	return m.store.List(ctx, user)
}

// RevokeDevice ends one of the request's user's sessions by its public id
// (as Sessions lists it) and reports whether it was live. Revoking the
// request's own session logs it out, cookie included.
func (m *Manager) RevokeDevice(w http.ResponseWriter, r *http.Request, id string) (bool, error) {
	st := stateOf(r)
	if st == nil || st.sess == nil {
		return false, sessdb.ErrNoSession
	}
	if id == st.sess.ID {
		return true, m.Logout(w, r)
	}
	return m.store.RevokeID(r.Context(), st.sess.User, id)
}

// Rotate gives the request's session a new token (and id) and sets the new
// cookie, keeping the user, deadlines and data. Call it when the session's
// privileges change: a role granted, a password changed, a step-up
// authentication. With reauth it also records a re-authentication
// (auth_time and the absolute lifetime restart). The old token dies at once,
// or after Options.RotateGrace.
func (m *Manager) Rotate(w http.ResponseWriter, r *http.Request, reauth bool) error {
	st := stateOf(r)
	if st == nil || st.sess == nil {
		return sessdb.ErrNoSession
	}
	ctx := r.Context()
	token, err := m.store.Rotate(ctx, st.token, m.opts.RotateGrace)
	if err != nil {
		if errorIsNoSession(err) {
			st.token, st.sess = "", nil
			m.clearCookie(w)
		}
		return err
	}
	if reauth {
		if err := m.store.Reauth(ctx, token); err != nil {
			return err
		}
	}
	sess, err := m.store.Get(ctx, token)
	if err != nil {
		return err
	}
	if sess == nil {
		st.token, st.sess = "", nil
		m.clearCookie(w)
		return sessdb.ErrNoSession
	}
	st.token, st.sess = token, sess
	m.setCookie(w, token, sess)
	renewCSRF(w, r)
	return nil
}

// Deadline returns when s ends if unused: the earlier of its idle and
// absolute deadlines, or the zero time when it has neither.
func Deadline(s *sessdb.Session) time.Time {
	d := s.IdleDeadline
	if !s.AbsoluteDeadline.IsZero() && (d.IsZero() || s.AbsoluteDeadline.Before(d)) {
		d = s.AbsoluteDeadline
	}
	return d
}

// Cookie returns the session cookie carrying token for s: HttpOnly, Secure
// (unless Insecure), SameSite, Path=/, no Domain, and a lifetime that ends
// at the session's deadline (a browser-session cookie when it has none).
func (m *Manager) Cookie(token string, s *sessdb.Session) *http.Cookie {
	c := m.baseCookie(m.opts.CookieName, token)
	if d := Deadline(s); !d.IsZero() {
		left := d.Sub(m.opts.Now())
		secs := int((left + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		c.MaxAge = secs
		c.Expires = time.Now().Add(time.Duration(secs) * time.Second).UTC()
	}
	return c
}

func (m *Manager) baseCookie(name, value string) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   !m.opts.Insecure,
		SameSite: m.opts.SameSite,
	}
}

func (m *Manager) setCookie(w http.ResponseWriter, token string, s *sessdb.Session) {
	setCookie(w, m.Cookie(token, s))
}

func (m *Manager) clearCookie(w http.ResponseWriter) {
	c := m.baseCookie(m.opts.CookieName, "")
	c.MaxAge = -1
	setCookie(w, c)
}

// setCookie adds c, replacing a Set-Cookie for the same name already added
// in this response (the middleware's refresh, then Login's new token).
func setCookie(w http.ResponseWriter, c *http.Cookie) {
	h := w.Header()
	prefix := c.Name + "="
	kept := h["Set-Cookie"][:0]
	for _, v := range h["Set-Cookie"] {
		if !strings.HasPrefix(v, prefix) {
			kept = append(kept, v)
		}
	}
	h["Set-Cookie"] = kept
	h.Add("Set-Cookie", c.String())
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
