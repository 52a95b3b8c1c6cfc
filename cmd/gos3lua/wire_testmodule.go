package main

// (Not wire_test.go: Go would take that for a test file and leave the
// module out of the binary.)

import "github.com/gos3lua/gos3lua/bindings/test"

func init() { registrars = append(registrars, test.Register) }
