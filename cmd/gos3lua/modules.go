package main

import (
	"github.com/gos3lua/gos3lua/stdlib"
)

// registrars are called once at start; wire_*.go files add theirs in init,
// one file per binding, so the wiring of each stays beside nothing else.
var registrars []func()

// wire registers every module with the host; the one place that knows
// them all (host imports no binding, bindings import no binding).
func wire() {
	stdlib.Register()
	for _, r := range registrars {
		r()
	}
}
