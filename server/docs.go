package server

import (
	"fmt"
	"sort"
	"strings"
)

// CommandsMarkdown renders the command table as the README's command list,
// grouped by family, so that the list is generated and never pasted.
func CommandsMarkdown() string {
	t := newCommandTable()
	groups := map[string][]*command{}
	for _, cmd := range t.sorted() {
		groups[cmd.group] = append(groups[cmd.group], cmd)
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("| family | command | arity | summary |\n|---|---|---|---|\n")
	for _, g := range names {
		for _, cmd := range groups[g] {
			fmt.Fprintf(&b, "| %s | `%s` | %d | %s |\n", g, strings.ToUpper(cmd.name), cmd.arity, cmd.summary)
			for _, sub := range sortedSubs(cmd) {
				fmt.Fprintf(&b, "| %s | `%s` | %d | %s |\n", g, strings.ToUpper(strings.ReplaceAll(sub.name, "|", " ")), sub.arity, sub.summary)
			}
		}
	}
	return b.String()
}
