package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/web"
)

// contentSecurityPolicy allows the page's own stylesheet and nothing else:
// no script at all, forms post only to this origin, no framing.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

//go:embed static/app.css
var static embed.FS

// validUser is the demo's user name rule.
var validUser = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// appConfig is what the demo application needs.
type appConfig struct {
	Manager  *web.Manager
	Password string               // the demo password of every user
	Session  sessdb.CreateOptions // per-login idle and absolute timeouts
	Admin    http.Handler         // mounted at /admin/ when not nil
	Now      func() time.Time     // for "3m ago"; the DB's clock
	Logger   *log.Logger
}

type app struct {
	appConfig
	pwHash [32]byte
	tmpl   *template.Template
}

// newApp returns the demo's whole HTTP handler.
func newApp(c appConfig) http.Handler {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = log.Default()
	}
	a := &app{appConfig: c, pwHash: sha256.Sum256([]byte(c.Password))}
	a.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"ago":    a.ago,
		"until":  a.until,
		"device": deviceName,
	}).Parse(templates))

	m := c.Manager
	pages := http.NewServeMux()
	pages.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/devices", http.StatusSeeOther)
	})
	pages.HandleFunc("GET /login", a.loginForm)
	pages.HandleFunc("POST /login", a.login)
	pages.Handle("GET /devices", m.Require(http.HandlerFunc(a.devices)))
	pages.HandleFunc("POST /logout", a.logout)
	pages.Handle("POST /logout-others", m.Require(http.HandlerFunc(a.logoutOthers)))
	pages.Handle("POST /devices/revoke", m.Require(http.HandlerFunc(a.revokeDevice)))
	pages.HandleFunc("GET /static/app.css", func(w http.ResponseWriter, r *http.Request) {
		b, _ := static.ReadFile("static/app.css")
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(b)
	})

	root := http.NewServeMux()
	if c.Admin != nil {
		// The admin page has its own authentication and CSRF tokens.
		root.Handle("/admin/", c.Admin)
	}
	root.Handle("/", securityHeaders(m.Middleware(m.CSRF(pages))))
	return root
}

// securityHeaders sets the CSP and its companions on every page.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

type loginView struct {
	CSRF, Next, User, Error string
	SignedInAs              string // the current session's user, if any
}

func (a *app) render(w http.ResponseWriter, name string, status int, v any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := a.tmpl.ExecuteTemplate(w, name, v); err != nil {
		a.Logger.Printf("render %s: %v", name, err)
	}
}

// loginForm shows the form even to a signed-in browser: signing in again
// replaces its session (the cookie value changes).
func (a *app) loginForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, "login", http.StatusOK, loginView{
		CSRF: web.CSRFToken(r), Next: localPath(r.URL.Query().Get("next")), SignedInAs: web.User(r),
	})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	user, pass := r.PostFormValue("user"), r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	h := sha256.Sum256([]byte(pass))
	if !validUser.MatchString(user) || subtle.ConstantTimeCompare(h[:], a.pwHash[:]) != 1 {
		a.render(w, "login", http.StatusUnauthorized, loginView{
			CSRF: web.CSRFToken(r), Next: next, User: user, Error: "Wrong user name or password.", SignedInAs: web.User(r),
		})
		return
	}
	if _, err := a.Manager.Login(w, r, user, a.Session); err != nil {
		a.fail(w, r, "login", err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// localPath keeps only a same-site path for the post-login redirect.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || len(p) > 512 {
		return "/devices"
	}
	return p
}

type devicesView struct {
	User, CSRF, Message string
	Current             *sessdb.Session
	Devices             []sessdb.Session
}

func (a *app) devices(w http.ResponseWriter, r *http.Request) {
	cur := web.Current(r)
	list, err := a.Manager.Sessions(r.Context(), cur.User)
	if err != nil {
		a.fail(w, r, "list", err)
		return
	}
	msg := r.URL.Query().Get("msg")
	if len(msg) > 100 {
		msg = ""
	}
	a.render(w, "devices", http.StatusOK, devicesView{
		User: cur.User, CSRF: web.CSRFToken(r), Message: msg, Current: cur, Devices: list,
	})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.Manager.Logout(w, r); err != nil {
		a.fail(w, r, "logout", err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *app) logoutOthers(w http.ResponseWriter, r *http.Request) {
	n, err := a.Manager.LogoutEverywhere(r)
	if err != nil {
		a.fail(w, r, "logout others", err)
		return
	}
	msg := "Signed out " + strconv.Itoa(n) + " other device"
	if n != 1 {
		msg += "s"
	}
	http.Redirect(w, r, "/devices?msg="+url.QueryEscape(msg+"."), http.StatusSeeOther)
}

func (a *app) revokeDevice(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	if id == "" || len(id) > 64 {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	self := id == web.Current(r).ID
	if _, err := a.Manager.RevokeDevice(w, r, id); err != nil {
		a.fail(w, r, "revoke device", err)
		return
	}
	if self {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/devices?msg="+url.QueryEscape("Signed out that device."), http.StatusSeeOther)
}

func (a *app) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, sessdb.ErrNoSession) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	a.Logger.Printf("%s: %v", what, err)
	http.Error(w, "Something went wrong; try again.", http.StatusInternalServerError)
}

// ago renders how long ago t was: "just now", "5 min ago".
func (a *app) ago(t time.Time) string {
	d := a.Now().Sub(t)
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	return t.UTC().Format("2 Jan 2006")
}

// until renders how long until t: "in 29 min", or "never" for the zero time.
func (a *app) until(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := t.Sub(a.Now())
	switch {
	case d < time.Minute:
		return "in " + strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return "in " + strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return "in " + strconv.Itoa(int(d/time.Hour)) + " h"
}

// deviceName turns a user agent into "Firefox on Linux"; the page shows the
// whole string on hover.
func deviceName(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := "Browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			return browser + " on " + o.name
		}
	}
	return browser
}
