package web_test

import (
	"fmt"
	"html"
	"log"
	"net/http"
	"os"
	"path/filepath"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/web"
)

// A login flow on the embedded API: the middleware loads the session, Require
// guards pages, CSRF guards every POST.
func Example() {
	dir, _ := os.MkdirTemp("", "web-example")
	defer os.RemoveAll(dir)
	db, err := sessdb.Open(filepath.Join(dir, "sessions.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	m := web.New(web.Embedded(db.Sessions()), nil)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.PostFormValue("user") // after checking the password
		if _, err := m.Login(w, r, user, sessdb.CreateOptions{}); err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("GET /{$}", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `hello %s <form method="post" action="/logout-others">
<input type="hidden" name="csrf_token" value="%s"><button>Sign out all other devices</button></form>`,
			html.EscapeString(web.User(r)), web.CSRFToken(r)) // html/template in real code
	})))
	mux.Handle("POST /logout-others", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := m.LogoutEverywhere(r)
		fmt.Fprintf(w, "signed out %d other devices", n)
	})))
	handler := m.Middleware(m.CSRF(mux))
	_ = handler // http.ListenAndServe("localhost:8080", handler)
	fmt.Println(m.CookieName())
	// Output: __Host-sessdb
}
