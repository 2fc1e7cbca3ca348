package server

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func argv(words ...string) [][]byte {
	out := make([][]byte, len(words))
	for i, w := range words {
		out[i] = []byte(w)
	}
	return out
}

// Ensure that SESS.GET NOTOUCH takes the shared lock (it only reads) while a
// sliding SESS.GET, a malformed one and every other write keep the exclusive one.
func TestAccessFor_NoTouchReads(t *testing.T) {
	table := newCommandTable()
	get := table["sess.get"]
	require.Equal(t, accessRead, get.accessFor(argv("SESS.GET", "tok", "notouch")))
	require.Equal(t, accessRead, get.accessFor(argv("sess.get", "tok", "NOTOUCH")))
	require.Equal(t, accessWrite, get.accessFor(argv("SESS.GET", "tok")))
	require.Equal(t, accessWrite, get.accessFor(argv("SESS.GET", "tok", "NOTOUCH", "x")))
	require.Equal(t, accessWrite, get.accessFor(argv("SESS.GET", "tok", "touch")))
	require.Equal(t, accessWrite, table["sess.touch"].accessFor(argv("SESS.TOUCH", "tok")))
	require.Equal(t, accessRead, table["get"].accessFor(argv("GET", "k")))
}
