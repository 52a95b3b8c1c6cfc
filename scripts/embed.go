// Package scripts embeds the bundled scripts, so that `gos3lua NAME.lua`
// finds them when there is no local file of that name, and
// `gos3lua scripts show NAME` prints one to copy and edit.
package scripts

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *
var files embed.FS

// Script is one bundled script.
type Script struct {
	Name        string // e.g. "backup.lua"
	Description string // the first comment line
}

// List returns the bundled scripts (not their tests), sorted by name.
func List() []Script {
	ents, _ := fs.ReadDir(files, ".")
	var out []Script
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ".lua") || strings.HasSuffix(n, "_test.lua") {
			continue
		}
		src, _ := files.ReadFile(n)
		// A first comment "backup: what it does" need not repeat the name.
		d := describe(string(src))
		d = strings.TrimPrefix(d, strings.TrimSuffix(n, ".lua")+": ")
		out = append(out, Script{Name: n, Description: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Source returns a bundled script by name ("backup" or "backup.lua").
func Source(name string) (string, bool) {
	if !strings.HasSuffix(name, ".lua") {
		name += ".lua"
	}
	if strings.ContainsAny(name, "/\\") {
		return "", false
	}
	b, err := files.ReadFile(name)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// describe is the text of the first comment line after an optional #! line.
func describe(src string) string {
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#!") {
			continue
		}
		if strings.HasPrefix(line, "--") {
			return strings.TrimSpace(strings.TrimLeft(line, "-"))
		}
		break
	}
	return ""
}
