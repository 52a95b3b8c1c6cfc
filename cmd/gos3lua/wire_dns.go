package main

import "github.com/gos3lua/gos3lua/bindings/dns"

func init() { registrars = append(registrars, dns.Register) }
