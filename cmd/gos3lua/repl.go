package main

import "github.com/gos3lua/gos3lua/host"

func repl(h *host.Host) int { return 0 }
