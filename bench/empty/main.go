// Command empty is a Go program that does nothing: the start-up of the Go
// runtime alone on this machine, under every Go program (bench/host.sh).
package main

func main() {}
