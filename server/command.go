package server

import (
	"fmt"
	"strings"

	"github.com/sessdb/sessdb/storage"
)

// access says how a command touches the keyspace, and so which lock the
// dispatcher takes for it.
type access uint8

const (
	accessNone  access = iota // no keyspace access (PING, CONFIG, …)
	accessRead                // a View
	accessWrite               // an Update whose commit the reply waits for
)

// handler runs one command. tx is nil for accessNone commands.
type handler func(c *Client, tx *storage.Tx, args [][]byte)

// command is one row of the command table.
type command struct {
	name     string // lower case; "parent|sub" for subcommands
	arity    int    // Redis convention: negative means "at least -arity"
	flags    []string
	firstKey int
	lastKey  int
	step     int
	access   access
	// readsOnly, when set, says whether these arguments only read (SESS.GET
	// NOTOUCH): the command then runs under the shared lock, beside other
	// reads, instead of the exclusive one its access names.
	readsOnly func(args [][]byte) bool
	group     string
	summary   string
	since     string
	noAuth    bool // may run before AUTH
	noMulti   bool // runs at once inside MULTI instead of being queued
	run       handler
	subs      map[string]*command // container commands: CONFIG, CLIENT, …
	parent    *command
	metrics   *commandMetrics // its Prometheus series (top-level commands; set by newMetrics)
}

func (cmd *command) checkArity(n int) bool {
	if cmd.arity >= 0 {
		return n == cmd.arity
	}
	return n >= -cmd.arity
}

// commandTable is the one table of every command; COMMAND, COMMAND DOCS and
// the README's command list are generated from it.
type commandTable map[string]*command

// families are the per-file command lists, assembled into the table.
var families [][]*command

func register(cmds ...*command) { families = append(families, cmds) }

func newCommandTable() commandTable {
	t := commandTable{}
	for _, fam := range families {
		for _, cmd := range fam {
			if _, dup := t[cmd.name]; dup {
				panic("duplicate command " + cmd.name)
			}
			for _, sub := range cmd.subs {
				sub.parent = cmd
				if sub.access == accessNone && sub.run == nil {
					panic("subcommand without handler " + sub.name)
				}
			}
			t[cmd.name] = cmd
		}
	}
	return t
}

// lookup finds a command by its name in any case without allocating.
func (t commandTable) lookup(name []byte) *command {
	var buf [32]byte
	if len(name) > len(buf) {
		return t[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return t[string(buf[:len(name)])]
}

// resolve returns the command that args name: for container commands, the
// subcommand. It returns the error reply when there is none.
func (t commandTable) resolve(args [][]byte) (*command, string) {
	cmd := t.lookup(args[0])
	if cmd == nil {
		return nil, unknownCommandError(args)
	}
	if cmd.subs != nil && len(args) >= 2 {
		sub := cmd.subs[strings.ToLower(string(args[1]))]
		if sub == nil {
			return nil, fmt.Sprintf(errUnknownSub, args[1], strings.ToUpper(cmd.name))
		}
		cmd = sub
	}
	if !cmd.checkArity(len(args)) {
		return nil, fmt.Sprintf(errWrongArgs, cmd.name)
	}
	return cmd, ""
}

func unknownCommandError(args [][]byte) string {
	var b strings.Builder
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		n := 128 - b.Len()
		if len(a) < n {
			n = len(a)
		}
		fmt.Fprintf(&b, "'%s' ", a[:n])
	}
	return fmt.Sprintf(errUnknownCommand, args[0], b.String())
}

// keys returns the key arguments of a command invocation, from its key spec.
func (cmd *command) keys(args [][]byte) [][]byte {
	if cmd.firstKey <= 0 {
		return nil
	}
	last := cmd.lastKey
	if last < 0 {
		last = len(args) + last
	}
	var out [][]byte
	for i := cmd.firstKey; i <= last && i < len(args); i += cmd.step {
		out = append(out, args[i])
	}
	return out
}
