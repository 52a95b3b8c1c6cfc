package main

import (
	"github.com/gos3lua/gos3lua/stdlib"
)

// wire registers every module with the host; the one place that knows
// them all (host imports no binding, bindings import no binding).
func wire() {
	stdlib.Register()
}
