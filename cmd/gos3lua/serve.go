package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/gos3lua/gos3lua/bindings/s3/store"
)

func init() { subcommands["serve"] = serveMain }

const serveUsage = `usage: gos3lua serve s3 [--dir DIR] [--addr HOST:PORT] [--access-key K --secret-key S] [--region R] [-v]

Runs the embedded S3 store as a server for other tools (aws-cli, s3cmd,
rclone, the AWS SDKs), with path-style addressing and SigV4 authentication,
until SIGINT or SIGTERM. Objects are plain files under DIR/BUCKET/KEY.

  --dir DIR          data directory (default: $XDG_DATA_HOME/gos3lua/s3,
                     else ~/.local/share/gos3lua/s3)
  --addr HOST:PORT   listen address (default 127.0.0.1:9000; loopback unless
                     you name another address)
  --access-key K     the access key clients must sign with
  --secret-key S     its secret
  --region R         region reported to clients (default us-east-1)
  -v                 log every request to stderr

Keys, in order: the flags; else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
from the environment; else the keys saved in DIR/.credentials, generated
(random) on first use. The endpoint and keys in use are printed at start:

  $ gos3lua serve s3 --dir /srv/s3
  $ export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_ENDPOINT_URL=http://127.0.0.1:9000
  $ aws s3 mb s3://photos && aws s3 cp cat.jpg s3://photos/
`

func serveMain(args []string) int {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(ch)
	return serve(args, os.Stdout, os.Stderr, ch)
}

// serve runs `gos3lua serve ARGS` until stop delivers.
func serve(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, serveUsage)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, serveUsage)
		return 0
	}
	if args[0] != "s3" {
		fmt.Fprintf(stderr, "gos3lua serve: unknown service %q (known: s3)\n", args[0])
		return 2
	}
	fl := flag.NewFlagSet("serve s3", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	dir := fl.String("dir", store.DefaultDir(), "")
	addr := fl.String("addr", "127.0.0.1:9000", "")
	ak := fl.String("access-key", "", "")
	sk := fl.String("secret-key", "", "")
	region := fl.String("region", "us-east-1", "")
	verbose := fl.Bool("v", false, "")
	if err := fl.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, serveUsage)
			return 0
		}
		fmt.Fprintf(stderr, "gos3lua serve s3: %v\n%s", err, serveUsage)
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "gos3lua serve s3: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if (*ak == "") != (*sk == "") {
		fmt.Fprintln(stderr, "gos3lua serve s3: give both --access-key and --secret-key")
		return 2
	}
	source := "flags"
	if *ak == "" {
		*ak, *sk = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
		source = "environment"
	}
	if *ak == "" || *sk == "" {
		var err error
		*ak, *sk, err = savedKeys(*dir)
		if err != nil {
			fmt.Fprintf(stderr, "gos3lua serve s3: %v\n", err)
			return 1
		}
		source = filepath.Join(*dir, ".credentials")
	}
	opts := store.Options{Dir: *dir, Addr: *addr, AccessKey: *ak, SecretKey: *sk, Region: *region}
	lg := log.New(stderr, "", log.LstdFlags)
	if *verbose {
		opts.Logf = lg.Printf
	} else {
		opts.Logf = func(format string, args ...any) {
			// errors only: the access log lines have a status we skip here
			if len(format) >= 9 && format[:9] == "s3 store:" {
				lg.Printf(format, args...)
			}
		}
	}
	srv, err := store.Start(opts)
	if err != nil {
		fmt.Fprintf(stderr, "gos3lua serve s3: %v\n", err)
		return 1
	}
	if host, _, err := net.SplitHostPort(srv.Addr().String()); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
			fmt.Fprintf(stderr, "gos3lua serve s3: warning: listening on %s, reachable from other machines (plain HTTP)\n", host)
		}
	}
	fmt.Fprintf(stdout, "gos3lua: S3 store at %s serving %s\n", srv.URL(), *dir)
	fmt.Fprintf(stdout, "  access key %s (from %s)\n", *ak, source)
	if source == "flags" || source == "environment" {
		fmt.Fprintf(stdout, "  export AWS_ENDPOINT_URL=%s AWS_REGION=%s\n", srv.URL(), *region)
	} else {
		fmt.Fprintf(stdout, "  export AWS_ENDPOINT_URL=%s AWS_REGION=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", srv.URL(), *region, *ak, *sk)
	}
	<-stop
	fmt.Fprintln(stderr, "gos3lua: S3 store stopping")
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "gos3lua serve s3: %v\n", err)
		return 1
	}
	return 0
}

// savedKeys reads DIR/.credentials, creating it with random keys first.
func savedKeys(dir string) (string, string, error) {
	path := filepath.Join(dir, ".credentials")
	var c struct {
		AccessKey string `json:"access_key"`
		SecretKey string `json:"secret_key"`
	}
	if raw, err := os.ReadFile(path); err == nil {
		if json.Unmarshal(raw, &c) == nil && c.AccessKey != "" && c.SecretKey != "" {
			return c.AccessKey, c.SecretKey, nil
		}
		return "", "", fmt.Errorf("%s: not valid credentials", path)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	b := make([]byte, 30)
	rand.Read(b)
	c.AccessKey = "GOS3" + hex.EncodeToString(b[:8])
	c.SecretKey = hex.EncodeToString(b[8:])
	raw, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(path, append(raw, '\n'), 0o600); err != nil {
		return "", "", err
	}
	return c.AccessKey, c.SecretKey, nil
}
