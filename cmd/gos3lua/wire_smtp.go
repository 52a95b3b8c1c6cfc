package main

import "github.com/gos3lua/gos3lua/bindings/smtp"

func init() { registrars = append(registrars, smtp.Register) }
