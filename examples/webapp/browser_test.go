package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/web"
	"github.com/sessdb/sessdb/web/admin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath is the browser the tests drive; CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// The user agents the browser contexts pretend to have, so that the device
// list tells them apart.
const (
	uaLaptop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	uaPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	uaTablet = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:140.0) Gecko/20100101 Firefox/140.0"
)

// fakeClock is the injected clock of the DB, the Manager and the pages.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// harness is the demo app, with the admin page, served to a headless Chromium.
type harness struct {
	t        *testing.T
	base     string // http://localhost:port
	db       *sessdb.DB
	clock    *fakeClock
	browser  context.Context
	shotsDir string
}

const (
	adminUser = "admin"
	adminPass = "correct horse"
	idle      = 30 * time.Minute
)

func newHarness(t *testing.T) *harness {
	t.Helper()
	if _, err := os.Stat(chromiumPath()); err != nil {
		t.Skipf("browser tests skipped: no Chromium at %s (apt-get install chromium, or set CHROMIUM=/path/to/chromium)", chromiumPath())
	}
	clock := &fakeClock{}
	clock.ns.Store(time.Now().UnixNano())
	db, err := sessdb.Open(filepath.Join(t.TempDir(), "sessions.db"), &sessdb.Options{Now: clock.Now, ReapInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	var commands atomic.Int64
	adminHandler := admin.New(admin.Options{
		Sessions: db.Sessions(),
		Authenticate: func(u, p string) bool {
			return u == adminUser && p == adminPass
		},
		Counters: func() admin.Counters {
			st := db.Sessions().Stats()
			// 50 commands between two samples: a positive rate.
			return admin.Counters{Sessions: st.Live, Users: st.Users, Commands: commands.Add(50)}
		},
		Now:          clock.Now,
		PollInterval: 100 * time.Millisecond,
	})
	m := web.New(web.Embedded(db.Sessions()), &web.Options{Now: clock.Now})
	handler := newApp(appConfig{
		Manager:  m,
		Password: "demo",
		Session:  sessdb.CreateOptions{Idle: idle, Absolute: 12 * time.Hour},
		Admin:    adminHandler,
		Now:      clock.Now,
		Logger:   log.New(io.Discard, "", 0),
	})
	ts := httptest.NewServer(handler)
	t.Cleanup(ts.Close)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 640),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	start := time.Now()
	require.NoError(t, chromedp.Do(browser), "starting %s", chromiumPath())
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))

	// Screenshots go to the test's temp dir, or to SCREENSHOT_DIR to keep them.
	shots := os.Getenv("SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	h := &harness{t: t, base: "http://localhost:" + port, db: db, clock: clock, browser: browser, shotsDir: shots}
	t.Cleanup(func() { t.Logf("screenshots in %s", h.shotsDir) })
	return h
}

// profile is one independent browser context: its own cookie jar, as a
// separate browser profile or a private window has.
type profile struct {
	h   *harness
	ctx context.Context
}

func (h *harness) profile(t *testing.T, ua string) *profile {
	t.Helper()
	return h.profiles(t, ua)[0]
}

// profiles opens one profile per user agent, concurrently: opening one
// costs the browser about a second.
func (h *harness) profiles(t *testing.T, uas ...string) []*profile {
	t.Helper()
	out := make([]*profile, len(uas))
	errs := make([]error, len(uas))
	var wg sync.WaitGroup
	for i, ua := range uas {
		ctx, cancel := chromedp.NewContext(h.browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute) // a bound on the whole subtest, not a wait
		t.Cleanup(cancelTimeout)
		out[i] = &profile{h: h, ctx: ctx}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "opening a browser context")
	}
	return out
}

// open navigates to path and returns the response of the page finally shown.
func (p *profile) open(t *testing.T, path string) *network.Response {
	t.Helper()
	resp, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(p.h.base+path))
	require.NoError(t, err, path)
	return resp
}

// submit clicks a button that submits a form and waits for the next page.
func (p *profile) submit(t *testing.T, buttonID string) *network.Response {
	t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.ID(buttonID)))
	require.NoError(t, err, "submitting #%s", buttonID)
	return resp
}

// path returns the current URL's path and query.
func (p *profile) path(t *testing.T) string {
	t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	require.NoError(t, err)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	return u.RequestURI()
}

func (p *profile) text(t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return s
}

func (p *profile) count(t *testing.T, sel string) int {
	t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	require.NoError(t, err)
	return n
}

// login fills the login form and submits it.
func (p *profile) login(t *testing.T, user string) {
	t.Helper()

	p.open(t, "/login")
	require.NoError(t, chromedp.Do(p.ctx,
		chromedp.SetValue(chromedp.ID("user"), user),
		chromedp.SetValue(chromedp.ID("password"), "demo"),
	))
	resp := p.submit(t, "login")
	require.Equal(t, int64(200), resp.Status)
	require.Equal(t, "/devices", p.path(t))
	require.Equal(t, user, p.text(t, "#whoami"))
}

// cookie returns the named cookie from this profile's cookie jar, or nil.
func (p *profile) cookie(t *testing.T, name string) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.h.base + "/"}})
	require.NoError(t, err)
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// shot saves a screenshot of the page under the test's screenshot directory.
func (p *profile) shot(t *testing.T, name string) string {
	t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	path := filepath.Join(p.h.shotsDir, name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	return path
}

// Ensure that the demo app works end to end in a real browser: sign-out of
// other devices, the cookie jar's view of the cookie, rotation on login, idle
// expiry on the injected clock, CSRF, and the admin page revoking a session.
func TestBrowser(t *testing.T) {
	h := newHarness(t)
	const cookieName = "__Host-sessdb"
	// One profile serves the next three subtests: each starts with a login,
	// which replaces whatever session the profile had.
	single := h.profile(t, uaLaptop)

	t.Run("SignOutOtherDevices", func(t *testing.T) {
		ps := h.profiles(t, uaLaptop, uaPhone, uaTablet)
		laptop, phone, tablet := ps[0], ps[1], ps[2]
		laptop.login(t, "alice")
		h.clock.Advance(3 * time.Minute)
		phone.login(t, "alice")
		h.clock.Advance(2 * time.Minute)
		tablet.login(t, "alice")
		h.clock.Advance(time.Minute)

		laptop.open(t, "/devices")
		require.Equal(t, 3, laptop.count(t, "#devices tbody tr"))
		assert.Equal(t, 1, laptop.count(t, "#devices tr.current"))
		table := laptop.text(t, "#devices")
		assert.Contains(t, table, "Chrome on Linux")
		assert.Contains(t, table, "Safari on iPhone")
		assert.Contains(t, table, "Firefox on macOS")
		assert.Contains(t, table, "127.0.0.1")
		shot := laptop.shot(t, "devices")
		if os.Getenv("UPDATE_SCREENSHOT") != "" {
			b, err := os.ReadFile(shot)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile("screenshot.png", b, 0o644))
			t.Logf("wrote screenshot.png (%d bytes)", len(b))
		}

		laptop.submit(t, "logout-others")
		assert.Equal(t, "/devices?msg=Signed+out+2+other+devices.", laptop.path(t))
		assert.Equal(t, "Signed out 2 other devices.", laptop.text(t, "#msg"))
		assert.Equal(t, 1, laptop.count(t, "#devices tbody tr"))
		laptop.shot(t, "devices-after-sign-out")

		// The other devices are sent to the login page on their next navigation.
		for name, p := range map[string]*profile{"phone": phone, "tablet": tablet} {
			p.open(t, "/devices")
			assert.Equal(t, "/login?next=%2Fdevices", p.path(t), name)
			assert.Nil(t, p.cookie(t, cookieName), "%s: the dead cookie is deleted", name)
		}
		phone.shot(t, "login")

		// "Sign out this device" ends the last one.
		laptop.open(t, "/devices")
		laptop.submit(t, "logout")
		assert.Equal(t, "/login", laptop.path(t))
		assert.Nil(t, laptop.cookie(t, cookieName))
		n, err := h.db.Sessions().Count("alice")
		require.NoError(t, err)
		assert.Zero(t, n)
	})

	t.Run("CookieAttributes", func(t *testing.T) {
		p := single
		p.login(t, "bob")
		c := p.cookie(t, cookieName)
		require.NotNil(t, c, "the browser kept the __Host- cookie")
		assert.True(t, strings.HasPrefix(c.Name, "__Host-"))
		assert.True(t, c.HTTPOnly, "HttpOnly")
		assert.True(t, c.Secure, "Secure")
		assert.Equal(t, network.CookieSameSiteLax, c.SameSite)
		assert.Equal(t, "/", c.Path)
		assert.Equal(t, "localhost", c.Domain, "host-only: no Domain attribute")
		assert.False(t, c.Session, "a persistent cookie")
		left := time.Until(time.Unix(int64(c.Expires), 0))
		assert.InDelta(t, idle.Seconds(), left.Seconds(), 10, "the lifetime is the idle timeout")
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.cookie.indexOf("__Host-sessdb") < 0`))
		require.NoError(t, err)
		assert.True(t, ok, "scripts cannot read it")

		csrf := p.cookie(t, "__Host-sessdb-csrf")
		require.NotNil(t, csrf)
		assert.True(t, csrf.HTTPOnly && csrf.Secure)
		assert.Equal(t, network.CookieSameSiteStrict, csrf.SameSite)

		resp := p.open(t, "/devices")
		csp, _ := resp.Headers["Content-Security-Policy"].(string)
		assert.Equal(t, contentSecurityPolicy, csp)
	})

	t.Run("RotationOnLogin", func(t *testing.T) {
		p := single
		p.login(t, "carol")
		first := p.cookie(t, cookieName)
		require.NotNil(t, first)
		p.open(t, "/login")
		assert.Contains(t, p.text(t, "#signed-in"), "Signed in as carol")
		p.login(t, "carol")
		second := p.cookie(t, cookieName)
		require.NotNil(t, second)
		assert.NotEqual(t, first.Value, second.Value, "a new token at login")
		old, err := h.db.Sessions().Get(first.Value, false)
		require.NoError(t, err)
		assert.Nil(t, old, "the old token is dead")
		n, err := h.db.Sessions().Count("carol")
		require.NoError(t, err)
		assert.Equal(t, 1, n, "one session, not two")
	})

	t.Run("IdleTimeout", func(t *testing.T) {
		p := single
		p.login(t, "dave")
		h.clock.Advance(idle - time.Minute)
		p.open(t, "/devices")
		require.Equal(t, "/devices", p.path(t), "29 minutes idle: still signed in, and the use slides the deadline")
		h.clock.Advance(idle - time.Minute)
		p.open(t, "/devices")
		require.Equal(t, "/devices", p.path(t))
		h.clock.Advance(idle + time.Second)
		p.open(t, "/devices")
		assert.Equal(t, "/login?next=%2Fdevices", p.path(t), "idle for longer than the timeout")
		p.shot(t, "login-after-idle")
	})

	t.Run("CrossSiteFormRefused", func(t *testing.T) {
		ps := h.profiles(t, uaLaptop, uaPhone)
		victim, other := ps[0], ps[1]
		victim.login(t, "erin")
		other.login(t, "erin")
		// A page on another site posts to "sign out all other devices".
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/logout-others"><input type="hidden" name="csrf_token" value="guess"><button id="win">Win a prize</button></form>`, h.base)
		}))
		defer evil.Close()
		resp, err := chromedp.Run(victim.ctx, chromedp.NavigateResponse(evil.URL))
		require.NoError(t, err)
		require.Equal(t, int64(200), resp.Status)
		resp, err = chromedp.RunResponse(victim.ctx, chromedp.Click(chromedp.ID("win")))
		require.NoError(t, err)
		assert.Equal(t, int64(403), resp.Status)
		require.Equal(t, "/logout-others", victim.path(t))
		assert.Contains(t, victim.text(t, "body"), "Forbidden: cross-site request (Sec-Fetch-Site: cross-site)")
		other.open(t, "/devices")
		assert.Equal(t, "/devices", other.path(t), "the other device is still signed in")
	})

	t.Run("AdminRevokesSession", func(t *testing.T) {
		ps := h.profiles(t, uaPhone, uaLaptop, uaTablet)
		victim, keep, op := ps[0], ps[1], ps[2]
		victim.login(t, "frank")
		keep.login(t, "frank")

		plain, err := http.Get(h.base + "/admin/")
		require.NoError(t, err)
		_ = plain.Body.Close()
		require.Equal(t, http.StatusUnauthorized, plain.StatusCode, "no credentials")
		assert.Equal(t, `Basic realm="sessdb admin", charset="UTF-8"`, plain.Header.Get("WWW-Authenticate"))

		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(adminUser+":"+adminPass))
		_, err = chromedp.Call(op.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
		require.NoError(t, err)

		resp := op.open(t, "/admin/")
		require.Equal(t, int64(200), resp.Status)
		csp, _ := resp.Headers["Content-Security-Policy"].(string)
		assert.Equal(t, admin.ContentSecurityPolicy, csp)
		require.NoError(t, chromedp.Do(op.ctx, chromedp.SetValue(chromedp.ID("user"), "frank")))
		op.submit(t, "search")
		assert.Equal(t, "/admin/?user=frank", op.path(t))
		require.Equal(t, 2, op.count(t, "#sessions tbody tr"))
		table := op.text(t, "#sessions")
		assert.Contains(t, table, uaPhone)
		assert.Contains(t, table, "127.0.0.1")

		// The live counters: the page's script polls counters.json and
		// derives commands/s from successive samples.
		_, err = chromedp.Run(op.ctx, chromedp.Poll[chromedp.Void](
			`Number(document.getElementById("counters").dataset.polls || 0) >= 2`, chromedp.WithPollingTimeout(10*time.Second)))
		require.NoError(t, err, "the counters script polled twice")
		st := h.db.Sessions().Stats()
		assert.Equal(t, fmt.Sprint(st.Live), op.text(t, "#c-sessions"))
		rate, err := strconv.ParseFloat(op.text(t, "#c-rate"), 64)
		require.NoError(t, err, "commands/s computed from two samples")
		assert.Positive(t, rate)
		op.shot(t, "admin")

		// Revoke the phone's session by its row's button.
		victimToken := victim.cookie(t, cookieName)
		require.NotNil(t, victimToken)
		victimID := strings.SplitN(victimToken.Value, ".", 2)[0]
		_, err = chromedp.RunResponse(op.ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-id=%q] button.revoke`, victimID))))
		require.NoError(t, err)
		assert.Contains(t, op.text(t, "#msg"), "Revoked session "+victimID)
		assert.Equal(t, 1, op.count(t, "#sessions tbody tr"))
		op.shot(t, "admin-after-revoke")

		victim.open(t, "/devices")
		assert.Equal(t, "/login?next=%2Fdevices", victim.path(t), "the revoked browser lands on login")
		keep.open(t, "/devices")
		assert.Equal(t, "/devices", keep.path(t), "the other session is untouched")

		// Revoke all.
		op.submit(t, "revoke-all")
		assert.Contains(t, op.text(t, "#msg"), "Revoked 1 session of frank")
		assert.Equal(t, 1, op.count(t, "#none"))
		keep.open(t, "/devices")
		assert.Equal(t, "/login?next=%2Fdevices", keep.path(t))
	})
}
