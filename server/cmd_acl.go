package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sessdb/sessdb/storage"
)

func init() {
	adm := []string{"admin", "noscript", "loading", "stale"}
	std := []string{"noscript", "loading", "stale"}
	register(
		&command{name: "acl", arity: -2, group: "server", summary: "A container for Access List Control commands.", since: "6.0.0", subs: map[string]*command{
			"cat":     {name: "acl|cat", arity: -2, flags: std, group: "server", summary: "Lists the ACL categories, or the commands inside a category.", since: "6.0.0", run: cmdACLCat},
			"deluser": {name: "acl|deluser", arity: -3, flags: adm, group: "server", summary: "Deletes ACL users, and terminates their connections.", since: "6.0.0", run: cmdACLDeluser},
			"dryrun":  {name: "acl|dryrun", arity: -4, flags: adm, group: "server", summary: "Simulates the execution of a command by a user, without executing the command.", since: "7.0.0", run: cmdACLDryrun},
			"genpass": {name: "acl|genpass", arity: -2, flags: std, group: "server", summary: "Generates a pseudorandom, secure password that can be used to identify ACL users.", since: "6.0.0", run: cmdACLGenpass},
			"getuser": {name: "acl|getuser", arity: 3, flags: adm, group: "server", summary: "Lists the ACL rules of a user.", since: "6.0.0", run: cmdACLGetuser},
			"help":    {name: "acl|help", arity: 2, flags: []string{"loading", "stale"}, group: "server", summary: "Returns helpful text about the different subcommands.", since: "6.0.0", run: cmdACLHelp},
			"list":    {name: "acl|list", arity: 2, flags: adm, group: "server", summary: "Dumps the effective rules in ACL file format.", since: "6.0.0", run: cmdACLList},
			"log":     {name: "acl|log", arity: -2, flags: adm, group: "server", summary: "Lists recent security events generated due to commands rejected by ACL rules.", since: "6.0.0", run: cmdACLLog},
			"load":    {name: "acl|load", arity: 2, flags: adm, group: "server", summary: "Reloads the rules from the configured ACL file.", since: "6.0.0", run: cmdACLLoad},
			"save":    {name: "acl|save", arity: 2, flags: adm, group: "server", summary: "Saves the effective ACL rules in the configured ACL file.", since: "6.0.0", run: cmdACLSave},
			"setuser": {name: "acl|setuser", arity: -3, flags: adm, group: "server", summary: "Creates and modifies an ACL user and its rules.", since: "6.0.0", run: cmdACLSetuser},
			"users":   {name: "acl|users", arity: 2, flags: adm, group: "server", summary: "Lists all ACL users.", since: "6.0.0", run: cmdACLUsers},
			"whoami":  {name: "acl|whoami", arity: 2, flags: std, group: "server", summary: "Returns the authenticated username of the current connection.", since: "6.0.0", run: cmdACLWhoami},
		}},
	)
}

// maxACLRules bounds the rules one ACL SETUSER may carry, and
// maxACLUsers the number of users, so that neither can exhaust memory.
const (
	maxACLRules = 4096
	maxACLUsers = 10000
)

func cmdACLSetuser(c *Client, _ *storage.Tx, args [][]byte) {
	name := string(args[2])
	if hasSpaces(name) {
		c.writeError(errACLUserSpaces)
		return
	}
	rules := make([]string, 0, len(args)-3)
	for i, a := range args[3:] {
		r := string(a)
		if len(r) > 0 && r[0] == '(' && r[len(r)-1] != ')' {
			// Redis would merge the arguments up to the closing one into a
			// selector; sessdb has no selectors, but keeps the error for an
			// unmatched one.
			closed := false
			for _, b := range args[4+i:] {
				closed = closed || (len(b) > 0 && b[len(b)-1] == ')')
			}
			if !closed {
				c.writeError(fmt.Sprintf(errACLUnmatched, r))
				return
			}
			r = "(" + r[1:] + ")"
		}
		rules = append(rules, r)
	}
	if len(rules) > maxACLRules || (c.srv.acl.user(name) == nil && len(*c.srv.acl.users.Load()) >= maxACLUsers) {
		c.writeError("ERR too many ACL users or rules")
		return
	}
	if bad, err := c.srv.acl.update(name, rules); err != nil {
		c.writeError(fmt.Sprintf(errACLSetuser, bad, err))
		return
	}
	c.srv.killRevokedSubscribers(c, name)
	c.writeOK()
}

// killRevokedSubscribers disconnects the connections of user name that are
// subscribed to a channel or pattern its rules no longer allow, as Redis's
// ACLKillPubsubClientsIfNeeded.
func (s *Server) killRevokedSubscribers(self *Client, name string) {
	u := s.acl.user(name)
	if u == nil || u.allChannels {
		return
	}
	for _, o := range s.sortedClients() {
		if o.user != name {
			continue
		}
		kill := false
		s.ps.mu.Lock()
		for _, kind := range []subKind{subChannel, subShard, subPattern} {
			for ch := range o.subs[kind] {
				kill = kill || !u.channelAllowed([]byte(ch), kind == subPattern)
			}
		}
		s.ps.mu.Unlock()
		switch {
		case !kill:
		case o == self:
			self.quitting = true
		default:
			o.kill()
		}
	}
}

func cmdACLDeluser(c *Client, _ *storage.Tx, args [][]byte) {
	for _, a := range args[2:] {
		if string(a) == "default" {
			c.writeError(errACLDelDefault)
			return
		}
	}
	st := c.srv.acl
	st.mu.Lock()
	old := *st.users.Load()
	var gone []string
	for _, a := range args[2:] {
		if _, ok := old[string(a)]; ok {
			gone = append(gone, string(a))
		}
	}
	st.publish(old, func(m map[string]*aclUser) {
		for _, n := range gone {
			delete(m, n)
		}
	})
	st.mu.Unlock()
	c.srv.killUsers(c, func(user string) bool {
		for _, n := range gone {
			if n == user {
				return true
			}
		}
		return false
	})
	c.writeInt(int64(len(gone)))
}

// killUsers closes the connections whose user matches, as Redis's
// ACLFreeUserAndKillClients: the current one after its reply.
func (s *Server) killUsers(self *Client, match func(user string) bool) {
	for _, o := range s.sortedClients() {
		if !match(o.user) {
			continue
		}
		if o == self {
			self.authed, self.user = false, "default"
			self.quitting = true
			continue
		}
		o.kill()
	}
}

func cmdACLGetuser(c *Client, _ *storage.Tx, args [][]byte) {
	u := c.srv.acl.user(string(args[2]))
	if u == nil {
		c.writeNull()
		return
	}
	cat := c.srv.acl.cat
	c.writeMap(6)
	c.writeBulkString("flags")
	flags := u.flags()
	c.writeSet(len(flags))
	for _, f := range flags {
		c.writeBulkString(f)
	}
	c.writeBulkString("passwords")
	c.writeStrings(u.passwords)
	c.writeBulkString("commands")
	c.writeBulkString(cat.describeCommands(u))
	c.writeBulkString("keys")
	c.writeBulkString(u.keysString())
	c.writeBulkString("channels")
	c.writeBulkString(u.channelsString())
	c.writeBulkString("selectors")
	c.writeArray(0)
}

func cmdACLList(c *Client, _ *storage.Tx, _ [][]byte) {
	users := c.srv.acl.sortedUsers()
	c.writeArray(len(users))
	for _, u := range users {
		c.writeBulkString("user " + u.name + " " + c.srv.acl.cat.describe(u))
	}
}

func cmdACLUsers(c *Client, _ *storage.Tx, _ [][]byte) {
	users := c.srv.acl.sortedUsers()
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.name
	}
	c.writeStrings(names)
}

func cmdACLWhoami(c *Client, _ *storage.Tx, _ [][]byte) { c.writeBulkString(c.user) }

func cmdACLCat(c *Client, _ *storage.Tx, args [][]byte) {
	if len(args) > 3 {
		c.writeError(fmt.Sprintf(errSubSyntax, args[1], "ACL"))
		return
	}
	if len(args) == 2 {
		c.writeStrings(aclCategoryNames)
		return
	}
	bit := aclCategoryBit(string(args[2]))
	if bit == 0 {
		c.writeError(fmt.Sprintf(errACLUnknownCategory, args[2]))
		return
	}
	cat := c.srv.acl.cat
	var names []string
	for id, cats := range cat.cats {
		if cats&bit != 0 {
			names = append(names, cat.cmds[id].name)
		}
	}
	c.writeStrings(names)
}

func cmdACLGenpass(c *Client, _ *storage.Tx, args [][]byte) {
	if len(args) > 3 {
		c.writeError(fmt.Sprintf(errSubSyntax, args[1], "ACL"))
		return
	}
	bits := int64(256)
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok {
			c.writeError(errNotInteger)
			return
		}
		bits = n
	}
	if bits <= 0 || bits > 4096 {
		c.writeError(errACLGenpass)
		return
	}
	buf := make([]byte, (bits+7)/8+1)
	if _, err := rand.Read(buf); err != nil {
		c.writeError("ERR " + err.Error())
		return
	}
	c.writeBulkString(hex.EncodeToString(buf)[:(bits+3)/4])
}

func cmdACLDryrun(c *Client, _ *storage.Tx, args [][]byte) {
	if c.srv.acl.user(string(args[2])) == nil {
		c.writeError(fmt.Sprintf("ERR User '%s' not found", args[2]))
		return
	}
	cmdArgs := args[3:]
	cmd, msg := c.srv.table.resolve(cmdArgs)
	if cmd == nil {
		if strings.HasPrefix(msg, "ERR unknown") {
			msg = fmt.Sprintf("ERR Command '%s' not found", cmdArgs[0])
		}
		c.writeError(msg)
		return
	}
	switch res, arg := c.srv.acl.check(string(args[2]), cmd, cmdArgs); res {
	case aclOK:
		c.writeOK()
	case aclDeniedCmd:
		c.writeBulkString("This user has no permissions to run the '" + cmd.name + "' command")
	case aclDeniedKey:
		c.writeBulkString("This user has no permissions to access the '" + string(arg) + "' key")
	default:
		c.writeBulkString("This user has no permissions to access the '" + string(arg) + "' channel")
	}
}

func cmdACLLog(c *Client, _ *storage.Tx, args [][]byte) {
	if len(args) > 3 {
		c.writeError(fmt.Sprintf(errSubSyntax, args[1], "ACL"))
		return
	}
	count := int64(10)
	if len(args) == 3 {
		if equalFold(args[2], "reset") {
			c.srv.aclLog.reset()
			c.writeOK()
			return
		}
		n, ok := parseInt(args[2])
		if !ok {
			c.writeError(errNotInteger)
			return
		}
		count = max(n, 0)
	}
	entries := c.srv.aclLog.snapshot(int(min(count, int64(aclLogMax))))
	now := time.Now()
	c.writeArray(len(entries))
	for _, e := range entries {
		c.writeMap(7)
		c.writeBulkString("count")
		c.writeInt(e.count)
		c.writeBulkString("reason")
		c.writeBulkString(e.reason)
		c.writeBulkString("context")
		c.writeBulkString(e.context)
		c.writeBulkString("object")
		c.writeBulkString(e.object)
		c.writeBulkString("username")
		c.writeBulkString(e.username)
		c.writeBulkString("age-seconds")
		c.writeDouble(float64(now.Sub(e.updated).Milliseconds()) / 1000)
		c.writeBulkString("client-info")
		c.writeBulkString(e.clientInfo)
	}
}

func cmdACLLoad(c *Client, _ *storage.Tx, _ [][]byte) {
	if c.srv.cfg.ACLFile() == "" {
		c.writeError(errACLNoFile)
		return
	}
	if err := c.srv.loadACLFile(c); err != nil {
		c.writeError("ERR " + err.Error())
		return
	}
	c.writeOK()
}

func cmdACLSave(c *Client, _ *storage.Tx, _ [][]byte) {
	path := c.srv.cfg.ACLFile()
	if path == "" {
		c.writeError(errACLNoFile)
		return
	}
	if err := c.srv.acl.save(path); err != nil {
		c.srv.logger.Printf("ACL SAVE: %v", err)
		c.writeError(errACLSave)
		return
	}
	c.writeOK()
}

func cmdACLHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CAT [<category>]", "    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]", "    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]", "    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>", "    Get the user's details.",
		"GENPASS [<bits>]", "    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST", "    Show users details in config file format.",
		"LOAD", "    Reload users from the ACL file.",
		"LOG [<count> | RESET]", "    Show the ACL log entries.",
		"SAVE", "    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]", "    Create or modify a user with the specified attributes.",
		"USERS", "    List all the registered usernames.",
		"WHOAMI", "    Return the current connection username.",
		"HELP", "    Prints this help.",
	})
}

// save writes every user as "user <name> <rules>" lines, as ACL SAVE does,
// through a temporary file that is fsynced and renamed over the old one.
// The file holds password hashes only, and is readable by its owner only.
func (st *aclStore) save(path string) error {
	var b strings.Builder
	for _, u := range st.sortedUsers() {
		b.WriteString("user " + u.name + " " + st.cat.describe(u) + "\n")
	}
	tmp := path + ".tmp-" + strconv.Itoa(os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// maxACLFileSize bounds what ACL LOAD reads.
const maxACLFileSize = 16 << 20

// parseACLFile parses an aclfile as Redis's ACLLoadFromFile: every line
// "user <name> rules...", split on single spaces. It returns the users,
// or Redis's one-line description of every problem found.
func (st *aclStore) parseACLFile(path string) (map[string]*aclUser, error) {
	fi, err := os.Stat(path)
	if err == nil && fi.Size() > maxACLFileSize {
		return nil, fmt.Errorf("Error loading ACLs, opening file '%s': file too large", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		reason := err.Error()
		if pe, ok := err.(*os.PathError); ok {
			reason = pe.Err.Error()
			if reason == "no such file or directory" {
				reason = "No such file or directory"
			}
		}
		return nil, fmt.Errorf("Error loading ACLs, opening file '%s': %s", path, reason)
	}
	users := map[string]*aclUser{}
	var errs strings.Builder
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", path, n)
			continue
		}
		name := argv[1]
		if hasSpaces(name) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", path, n, name)
			continue
		}
		if users[name] != nil {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", name, n)
			continue
		}
		u := newACLUser(name, len(st.cat.cmds))
		users[name] = u
		for _, r := range argv[2:] {
			r = strings.Trim(r, "\t\r\n")
			if err := st.cat.apply(u, r); err != nil {
				fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", path, n, r, err)
			}
		}
	}
	if errs.Len() > 0 {
		return nil, fmt.Errorf("%sWARNING: ACL errors detected, no change to the previously active ACL rules was performed", errs.String())
	}
	if users["default"] == nil {
		users["default"] = st.newDefaultUser()
	}
	return users, nil
}

// loadACLFile replaces every user with the aclfile's, all or nothing. As in
// Redis, the connections of every user but default are closed; self (the
// client running ACL LOAD, nil at startup) closes after its reply.
func (s *Server) loadACLFile(self *Client) error {
	users, err := s.acl.parseACLFile(s.cfg.ACLFile())
	if err != nil {
		return err
	}
	s.acl.mu.Lock()
	s.acl.users.Store(&users)
	s.acl.mu.Unlock()
	s.killUsers(self, func(user string) bool { return user != "default" })
	return nil
}
