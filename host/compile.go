package host

import (
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// SyntaxError is a chunk that does not compile: FILE:LINE: message.
type SyntaxError struct {
	Name  string
	Line  int
	Msg   string
	AtEOF bool // the chunk ended too early (the REPL continues on the next line)
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg) }

// Compile compiles src under name (used in messages and tracebacks; a
// leading "#!" line is ignored). Syntax errors are *SyntaxError.
func (h *Host) Compile(src, name string) (*lua.LFunction, error) {
	if strings.HasPrefix(src, "#!") {
		src = "--" + src
	}
	fn, err := h.L.Load(strings.NewReader(src), name)
	if err == nil {
		return fn, nil
	}
	var pe *parse.Error
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Cause != nil {
		errors.As(ae.Cause, &pe)
	} else {
		errors.As(err, &pe)
	}
	if pe != nil {
		if pe.Pos.Line == parse.EOF {
			return nil, &SyntaxError{Name: name, Line: strings.Count(src, "\n") + 1, Msg: "unexpected end of file (" + strings.TrimSpace(pe.Message) + ")", AtEOF: true}
		}
		msg := strings.TrimSpace(pe.Message)
		if pe.Token != "" {
			msg += " near '" + pe.Token + "'"
		}
		return nil, &SyntaxError{Name: name, Line: pe.Pos.Line, Msg: msg}
	}
	if ae != nil && ae.Object != nil {
		return nil, &SyntaxError{Name: name, Msg: strings.TrimSpace(ae.Object.String())}
	}
	return nil, err
}
