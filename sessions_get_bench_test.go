package sessdb_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessdb/sessdb"
)

// BenchmarkSessions_Get is the CPU of one SESS.GET's lookup in the embedded
// API (token check, hash read, the Session value), with and without sliding,
// for a session with ip/ua metadata and 200 bytes of data; "view" is the
// server's way, SessionsTx.View into a reused SessionView.
func BenchmarkSessions_Get(b *testing.B) {
	db, err := sessdb.Open(filepath.Join(b.TempDir(), "sessdb.db"), &sessdb.Options{ReapInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := db.Sessions()
	tok, err := s.Create(context.Background(), "u1", sessdb.CreateOptions{Meta: map[string]string{"ip": "10.1.2.3", "ua": "Mozilla/5.0"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Set(tok, map[string]string{"blob": strings.Repeat("x", 200)}); err != nil {
		b.Fatal(err)
	}
	for _, touch := range []bool{false, true} {
		name := "notouch"
		if touch {
			name = "sliding"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if got, _ := s.Get(tok, touch); got == nil {
					b.Fatal("no session")
				}
			}
		})
	}
	b.Run("view-notouch", func(b *testing.B) {
		b.ReportAllocs()
		var sv sessdb.SessionView
		for i := 0; i < b.N; i++ {
			_ = db.View(func(tx *sessdb.Tx) error {
				if !s.Tx(tx).View(tok, false, &sv) {
					b.Fatal("no session")
				}
				return nil
			})
		}
	})
}
