package main

import "github.com/gos3lua/gos3lua/bindings/fuse"

func init() { registrars = append(registrars, fuse.Register) }
