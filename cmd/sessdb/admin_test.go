package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
	"github.com/stretchr/testify/require"
)

// Ensure that the admin page main mounts takes the server's own passwords,
// shows live sessions, and lets no one in while no password is set.
func TestMain_AdminPageUsesServerPasswords(t *testing.T) {
	db, err := sessdb.Open(filepath.Join(t.TempDir(), "sessdb.db"), nil)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Sessions().Create(context.Background(), "alice", sessdb.CreateOptions{})
	require.NoError(t, err)

	get := func(srv *server.Server, user, pass string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/admin/?user=alice", nil)
		if user != "" || pass != "" {
			r.SetBasicAuth(user, pass)
		}
		w := httptest.NewRecorder()
		adminPage(db, srv).ServeHTTP(w, r)
		return w
	}

	cfg, err := config.Load([]string{"--requirepass", "s3cret"})
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.Equal(t, http.StatusUnauthorized, get(srv, "default", "wrong").Code)
	require.Equal(t, http.StatusUnauthorized, get(srv, "", "").Code)
	ok := get(srv, "default", "s3cret")
	require.Equal(t, http.StatusOK, ok.Code)
	require.Contains(t, ok.Body.String(), "alice")
	require.NoError(t, srv.Close())

	open, err := config.Load(nil)
	require.NoError(t, err)
	srv = server.New(open, db, nil)
	defer srv.Close()
	require.Equal(t, http.StatusUnauthorized, get(srv, "default", "").Code)
	require.Equal(t, http.StatusUnauthorized, get(srv, "default", "anything").Code)
}
