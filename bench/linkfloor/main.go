// Command linkfloor links every package gos3lua links and does nothing: its
// start-up is the floor that package initialisation, the runtime and page
// faults on a binary of this size put under `gos3lua -e ”` (bench/host.sh).
package main

import (
	_ "github.com/chzyer/readline"
	_ "github.com/gos3lua/gos3lua/bindings/dns"
	_ "github.com/gos3lua/gos3lua/bindings/fuse"
	_ "github.com/gos3lua/gos3lua/bindings/s3"
	_ "github.com/gos3lua/gos3lua/bindings/smtp"
	_ "github.com/gos3lua/gos3lua/bindings/test"
	_ "github.com/gos3lua/gos3lua/stdlib"
)

func main() {}
