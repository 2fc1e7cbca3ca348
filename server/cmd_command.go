package server

import (
	"sort"
	"strings"

	"github.com/sessdb/sessdb/storage"
)

// aclCategoryOrder is Redis's ACLCommandCategories: COMMAND INFO lists a
// command's categories in this order.
var aclCategoryOrder = []string{"@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash", "@string",
	"@bitmap", "@hyperloglog", "@geo", "@stream", "@pubsub", "@admin", "@fast", "@slow", "@blocking", "@dangerous",
	"@connection", "@transaction", "@scripting"}

// aclCategories derives a command's ACL categories from its flags and group,
// as Redis does, in Redis's order.
func (cmd *command) aclCategories() []string {
	var out []string
	has := func(f string) bool {
		for _, x := range cmd.flags {
			if x == f {
				return true
			}
		}
		return false
	}
	switch {
	case has("write"):
		out = append(out, "@write")
	case has("readonly"):
		out = append(out, "@read")
	}
	if has("fast") {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	if has("admin") {
		out = append(out, "@admin", "@dangerous")
	}
	switch cmd.group {
	case "", "server":
	case "generic":
		out = append(out, "@keyspace")
	case "transactions":
		out = append(out, "@transaction")
	case "sorted-set":
		out = append(out, "@sortedset")
	default:
		out = append(out, "@"+cmd.group)
	}
	rank := func(cat string) int {
		for i, c := range aclCategoryOrder {
			if c == cat {
				return i
			}
		}
		return len(aclCategoryOrder)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

func (c *Client) writeCommandInfo(cmd *command) {
	c.writeArray(10)
	c.writeBulkString(cmd.name)
	c.writeInt(int64(cmd.arity))
	c.writeSet(len(cmd.flags))
	for _, f := range cmd.flags {
		c.writeSimple(f)
	}
	c.writeInt(int64(cmd.firstKey))
	c.writeInt(int64(cmd.lastKey))
	c.writeInt(int64(cmd.step))
	cats := cmdACLCategories(cmd)
	c.writeSet(len(cats))
	for _, cat := range cats {
		c.writeSimple(cat)
	}
	c.writeSet(0) // tips
	if cmd.firstKey > 0 {
		c.writeArray(1)
		c.writeMap(3)
		c.writeBulkString("flags")
		c.writeSet(0)
		c.writeBulkString("begin_search")
		c.writeMap(2)
		c.writeBulkString("type")
		c.writeBulkString("index")
		c.writeBulkString("spec")
		c.writeMap(1)
		c.writeBulkString("index")
		c.writeInt(int64(cmd.firstKey))
		c.writeBulkString("find_keys")
		c.writeMap(2)
		c.writeBulkString("type")
		c.writeBulkString("range")
		c.writeBulkString("spec")
		c.writeMap(3)
		c.writeBulkString("lastkey")
		last := cmd.lastKey
		if last > 0 {
			last -= cmd.firstKey
		}
		c.writeInt(int64(last))
		c.writeBulkString("keystep")
		c.writeInt(int64(cmd.step))
		c.writeBulkString("limit")
		c.writeInt(0)
	} else {
		c.writeArray(0)
	}
	subs := sortedSubs(cmd)
	c.writeArray(len(subs))
	for _, s := range subs {
		c.writeCommandInfo(s)
	}
}

func sortedSubs(cmd *command) []*command {
	out := make([]*command, 0, len(cmd.subs))
	for _, s := range cmd.subs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (c *Client) writeCommandDocs(cmd *command) {
	n := 3
	subs := sortedSubs(cmd)
	if len(subs) > 0 {
		n++
	}
	args, hasArgs := commandArguments[cmd.name]
	if hasArgs {
		n++
	}
	c.writeMap(n)
	c.writeBulkString("summary")
	c.writeBulkString(cmd.summary)
	c.writeBulkString("since")
	c.writeBulkString(cmd.since)
	c.writeBulkString("group")
	c.writeBulkString(cmd.group)
	if hasArgs {
		c.writeBulkString("arguments")
		c.writeDocValue("arguments", args)
	}
	if len(subs) > 0 {
		c.writeBulkString("subcommands")
		c.writeMap(len(subs))
		for _, s := range subs {
			c.writeBulkString(s.name)
			c.writeCommandDocs(s)
		}
	}
}

func cmdCommand(c *Client, _ *storage.Tx, _ [][]byte) {
	all := c.srv.table.sorted()
	c.writeArray(len(all))
	for _, cmd := range all {
		c.writeCommandInfo(cmd)
	}
}

func cmdCommandCount(c *Client, _ *storage.Tx, _ [][]byte) { c.writeInt(int64(len(c.srv.table))) }

// findCommand finds a command or a "parent|sub" subcommand by name.
func (t commandTable) find(name string) *command {
	name = strings.ToLower(name)
	parent, sub, ok := strings.Cut(name, "|")
	cmd := t[parent]
	if cmd == nil || !ok {
		return cmd
	}
	return cmd.subs[sub]
}

func cmdCommandInfo(c *Client, _ *storage.Tx, args [][]byte) {
	if len(args) == 2 {
		cmdCommand(c, nil, args)
		return
	}
	c.writeArray(len(args) - 2)
	for _, a := range args[2:] {
		if cmd := c.srv.table.find(string(a)); cmd != nil {
			c.writeCommandInfo(cmd)
		} else {
			c.writeNull()
		}
	}
}

func cmdCommandDocs(c *Client, _ *storage.Tx, args [][]byte) {
	var cmds []*command
	if len(args) == 2 {
		cmds = c.srv.table.sorted()
	} else {
		for _, a := range args[2:] {
			if cmd := c.srv.table.find(string(a)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.writeMap(len(cmds))
	for _, cmd := range cmds {
		c.writeBulkString(cmd.name)
		c.writeCommandDocs(cmd)
	}
}

func cmdCommandList(c *Client, _ *storage.Tx, args [][]byte) {
	var filter func(*command) bool
	if len(args) > 2 {
		if len(args) != 5 || !equalFold(args[2], "filterby") {
			c.writeError(errSyntax)
			return
		}
		val := strings.ToLower(string(args[4]))
		switch strings.ToLower(string(args[3])) {
		case "module":
			filter = func(*command) bool { return false }
		case "aclcat":
			filter = func(cmd *command) bool {
				for _, cat := range cmdACLCategories(cmd) {
					if cat == "@"+val {
						return true
					}
				}
				return false
			}
		case "pattern":
			filter = func(cmd *command) bool { return globMatch(val, cmd.name, true) }
		default:
			c.writeError(errSyntax)
			return
		}
	}
	var names []string
	for _, cmd := range c.srv.table.sorted() {
		if filter == nil || filter(cmd) {
			names = append(names, cmd.name)
		}
		for _, s := range sortedSubs(cmd) {
			if filter == nil || filter(s) {
				names = append(names, s.name)
			}
		}
	}
	c.writeStrings(names)
}

func cmdCommandGetkeys(c *Client, _ *storage.Tx, args [][]byte) {
	cmd, msg := c.srv.table.resolve(args[2:])
	if cmd == nil {
		if strings.HasPrefix(msg, "ERR unknown command") {
			c.writeError("ERR Invalid command specified")
		} else {
			c.writeError("ERR Invalid number of arguments specified for command")
		}
		return
	}
	keys := cmd.keys(args[2:])
	if len(keys) == 0 {
		c.writeError("ERR The command has no key arguments")
		return
	}
	c.writeArray(len(keys))
	for _, k := range keys {
		c.writeBulk(k)
	}
}

func cmdCommandHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"(no subcommand)", "    Return details about all Redis commands.",
		"COUNT", "    Return the total number of commands in this Redis server.",
		"LIST", "    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all", "    commands are returned.",
		"DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all", "    commands are returned.",
		"GETKEYS <full-command>", "    Return the keys from a full Redis command.",
		"HELP", "    Prints this help.",
	})
}
