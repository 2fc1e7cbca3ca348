package server

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	commandsBegin = "<!-- commands:begin (generated from the command table: UPDATE_README=1 go test ./server -run TestDocs) -->\n"
	commandsEnd   = "<!-- commands:end -->"
)

// Ensure that the README's command list is the one generated from the
// command table; UPDATE_README=1 rewrites it.
func TestDocs_READMECommandList(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(raw)
	i := strings.Index(readme, commandsBegin)
	j := strings.Index(readme, commandsEnd)
	require.True(t, i >= 0 && j > i, "README.md lacks the generated command list markers")
	want := readme[:i+len(commandsBegin)] + CommandsMarkdown() + readme[j:]
	if os.Getenv("UPDATE_README") != "" {
		require.NoError(t, os.WriteFile("../README.md", []byte(want), 0o644))
		return
	}
	require.Equal(t, want, readme, "README command list is stale: run UPDATE_README=1 go test ./server -run TestDocs")
}
