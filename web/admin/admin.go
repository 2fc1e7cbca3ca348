package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/web"
)

// Counters are the live figures the page shows.
type Counters struct {
	// Sessions is the number of live sessions.
	Sessions int64 `json:"sessions"`
	// Users is the number of users with a live session.
	Users int64 `json:"users"`
	// Commands is the number of commands processed since the server
	// started; the page turns successive samples into commands/s.
	Commands int64 `json:"commands"`
}

// Options configure the admin handler.
type Options struct {
	// Sessions is the session store the page reads and revokes. Required.
	Sessions *sessdb.Sessions
	// Authenticate checks HTTP Basic credentials. It should compare in
	// constant time. Nil refuses everyone.
	Authenticate func(user, pass string) bool
	// Counters returns the live counters. Nil: sessions and users from
	// Sessions.Stats, commands 0.
	Counters func() Counters
	// Prefix is the path the handler is mounted at, with its trailing
	// slash. Default "/admin/". The handler also works behind http.StripPrefix.
	Prefix string
	// Now is the clock for "in 5m" and "3m ago" and for the limit on failed
	// sign-ins (10 per minute per client address). Default time.Now.
	Now func() time.Time
	// PollInterval is how often the page refreshes the counters. Default 2s.
	PollInterval time.Duration
}

// Limits on what a request may carry.
const (
	maxIDLen   = 64
	maxFormLen = 64 << 10
)

// ContentSecurityPolicy is the CSP of every admin response: same-origin
// scripts, styles and fetches only, no inline code, no framing, forms post
// only to the page itself.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed assets/admin.css assets/admin.js
var assets embed.FS

// handler serves the admin pages.
type handler struct {
	o       Options
	csrfKey [32]byte
	tmpl    *template.Template
	limit   *throttle
}

// New returns the admin handler. It panics when o.Sessions is nil.
func New(o Options) http.Handler {
	if o.Sessions == nil {
		panic("admin: Options.Sessions is required")
	}
	if o.Prefix == "" {
		o.Prefix = "/admin/"
	}
	if !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.Counters == nil {
		s := o.Sessions
		o.Counters = func() Counters {
			st := s.Stats()
			return Counters{Sessions: st.Live, Users: st.Users}
		}
	}
	h := &handler{o: o, limit: newThrottle(o.Now)}
	if _, err := rand.Read(h.csrfKey[:]); err != nil {
		panic("admin: crypto/rand: " + err.Error())
	}
	h.tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
		"when": h.when,
		"path": func(p string) string { return o.Prefix + p },
		"meta": metaRest,
	}).Parse(pageHTML))
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")

	addr := clientAddr(r)
	if h.limit.blocked(addr) {
		hd.Set("Retry-After", "60")
		http.Error(w, "Too Many Requests: too many failed sign-ins, try again in a minute", http.StatusTooManyRequests)
		return
	}
	operator, ok := h.authenticate(r)
	if !ok {
		if _, _, sent := r.BasicAuth(); sent {
			h.limit.fail(addr)
		}
		hd.Set("WWW-Authenticate", `Basic realm="sessdb admin", charset="UTF-8"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	rel := r.URL.Path
	if strings.HasPrefix(rel, h.o.Prefix) {
		rel = rel[len(h.o.Prefix):]
	} else {
		rel = strings.TrimPrefix(rel, "/")
	}
	switch {
	case rel == "" && isRead(r.Method):
		h.page(w, r, operator)
	case rel == "counters.json" && isRead(r.Method):
		h.counters(w)
	case (rel == "admin.css" || rel == "admin.js") && isRead(r.Method):
		h.asset(w, r, rel)
	case rel == "revoke" || rel == "revoke-all":
		if r.Method != http.MethodPost {
			hd.Set("Allow", http.MethodPost)
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		h.revoke(w, r, operator, rel == "revoke-all")
	default:
		http.NotFound(w, r)
	}
}

func isRead(m string) bool { return m == http.MethodGet || m == http.MethodHead }

func (h *handler) authenticate(r *http.Request) (string, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok || h.o.Authenticate == nil || len(user) > 512 || len(pass) > 4096 {
		return "", false
	}
	if !h.o.Authenticate(user, pass) {
		return "", false
	}
	return user, true
}

// csrfToken binds a token to the operator: HMAC-SHA256 under a key drawn
// when the handler was made, so it needs no cookie and no server state.
func (h *handler) csrfToken(operator string) string {
	mac := hmac.New(sha256.New, h.csrfKey[:])
	mac.Write([]byte("sessdb admin csrf\x00" + operator))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// view is what the page template renders.
type view struct {
	Operator string
	CSRF     string
	Counters Counters
	Interval int64
	Query    string
	Searched bool
	Sessions []sessdb.Session
	Message  string
}

func (h *handler) page(w http.ResponseWriter, r *http.Request, operator string) {
	v := view{
		Operator: operator,
		CSRF:     h.csrfToken(operator),
		Counters: h.o.Counters(),
		Interval: h.o.PollInterval.Milliseconds(),
		Query:    strings.TrimSpace(r.URL.Query().Get("user")),
		Message:  r.URL.Query().Get("msg"),
	}
	if len(v.Message) > 200 {
		v.Message = ""
	}
	if v.Query != "" {
		if len(v.Query) > sessdb.MaxUserLen {
			http.Error(w, "Bad Request: user name too long", http.StatusBadRequest)
			return
		}
		list, err := h.o.Sessions.List(v.Query)
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusInternalServerError)
			return
		}
		v.Searched, v.Sessions = true, list
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = h.tmpl.Execute(w, v)
}

func (h *handler) counters(w http.ResponseWriter) {
	type sample struct {
		Counters
		At int64 `json:"at"` // unix ms of the sample
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sample{h.o.Counters(), time.Now().UnixMilli()})
}

func (h *handler) asset(w http.ResponseWriter, r *http.Request, name string) {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(b)
}

func (h *handler) revoke(w http.ResponseWriter, r *http.Request, operator string, all bool) {
	if err := web.SameOrigin(r); err != nil {
		http.Error(w, "Forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormLen)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	want := h.csrfToken(operator)
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get(web.CSRFField)), []byte(want)) != 1 {
		http.Error(w, "Forbidden: missing or wrong CSRF token", http.StatusForbidden)
		return
	}
	user, id := r.PostForm.Get("user"), r.PostForm.Get("id")
	if user == "" || len(user) > sessdb.MaxUserLen || len(id) > maxIDLen || (!all && id == "") {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	var msg string
	if all {
		n, err := h.o.Sessions.RevokeUser(user, "")
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusInternalServerError)
			return
		}
		msg = "Revoked " + strconv.Itoa(n) + " session" + plural(n) + " of " + user + "."
	} else {
		ok, err := h.o.Sessions.RevokeID(user, id)
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusInternalServerError)
			return
		}
		msg = "Session " + id + " was already gone."
		if ok {
			msg = "Revoked session " + id + "."
		}
	}
	q := url.Values{"user": {user}, "msg": {msg}}
	http.Redirect(w, r, h.o.Prefix+"?"+q.Encode(), http.StatusSeeOther)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// when renders a time with how far it is from now: "2026-11-29 16:40:05 UTC (in 29m)".
func (h *handler) when(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	d := t.Sub(h.o.Now()).Round(time.Second)
	rel := "now"
	switch {
	case d > 0:
		rel = "in " + short(d)
	case d < 0:
		rel = short(-d) + " ago"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + rel + ")"
}

// short renders d coarsely: 45s, 29m, 3h12m, 2d4h.
func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		return strconv.Itoa(h) + "h" + strconv.Itoa(m) + "m"
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	return strconv.Itoa(days) + "d" + strconv.Itoa(h) + "h"
}

// metaRest lists the META fields the table has no column for.
func metaRest(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "ip" && k != "ua" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}
