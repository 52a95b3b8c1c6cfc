package main

import "github.com/gos3lua/gos3lua/bindings/s3"

func init() { registrars = append(registrars, s3.Register) }
