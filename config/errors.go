package config

import "fmt"

// Reasons shared with Redis 7 (config.c), used in FileError.Reason and
// SetError.Reason.
const (
	reasonBadDirective  = "Bad directive or wrong number of arguments"
	reasonWrongArgs     = "wrong number of arguments"
	reasonUnbalanced    = "Unbalanced quotes in configuration line"
	reasonNotInteger    = "argument couldn't be parsed into an integer"
	reasonNotMemory     = "argument must be a memory value"
	reasonNotBool       = "argument must be 'yes' or 'no'"
	reasonEnumPrefix    = "argument(s) must be one of the following: "
	reasonImmutable     = "can't set immutable config"
	reasonDuplicate     = "duplicate parameter"
	reasonOutOfRangeFmt = "argument must be between %d and %d inclusive"
)

// FileError reports a bad line in the configuration, in the file or in the
// lines synthesized from command-line options. Its message reproduces
// redis-server's report:
//
//	*** FATAL CONFIG FILE ERROR (sessdb) ***
//	Reading the configuration file, at line 2
//	>>> 'foo bar'
//	Bad directive or wrong number of arguments
type FileError struct {
	Line   int    // 1-based line number in the file text followed by the options
	Text   string // the offending line, trimmed as Redis trims it
	Reason string // Redis's reason, e.g. "Bad directive or wrong number of arguments"
}

func (e *FileError) Error() string {
	return fmt.Sprintf("*** FATAL CONFIG FILE ERROR (sessdb) ***\nReading the configuration file, at line %d\n>>> '%s'\n%s",
		e.Line, e.Text, e.Reason)
}

// SetError is returned by Set and SetMany. Error() is the exact text Redis 7
// replies to CONFIG SET, "ERR" prefix included, so the server can send it as
// is.
type SetError struct {
	Name    string // the parameter name as the client typed it ("" for wrong arity)
	Reason  string // e.g. "can't set immutable config"; empty when Unknown
	Unknown bool   // no such parameter
}

func (e *SetError) Error() string {
	switch {
	case e.Unknown:
		return fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", e.Name)
	case e.Name == "" && e.Reason == "":
		return "ERR wrong number of arguments for 'config|set' command"
	default:
		return fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", e.Name, e.Reason)
	}
}

// Immutable reports whether the parameter exists but cannot be changed at
// run time.
func (e *SetError) Immutable() bool { return e.Reason == reasonImmutable }
