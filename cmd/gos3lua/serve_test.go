package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// startServe runs `gos3lua serve ARGS` in process and returns what it
// printed first (endpoint and keys) and a function that stops it.
func startServe(t *testing.T, args ...string) (url, ak, sk string, stop func() int) {
	t.Helper()
	pr, pw := io.Pipe()
	stopc := make(chan os.Signal, 1)
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- serve(args, pw, &stderr, stopc)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	var out strings.Builder
	for i := 0; i < 3; i++ {
		line, err := br.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			t.Fatalf("serve %v: %v\n%s%s", args, err, out.String(), stderr.String())
		}
	}
	go io.Copy(io.Discard, br)
	m := regexp.MustCompile(`S3 store at (http://127\.0\.0\.1:\d+) `).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no endpoint in %q", out.String())
	}
	url = m[1]
	if k := regexp.MustCompile(`AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)`).FindStringSubmatch(out.String()); k != nil {
		ak, sk = k[1], k[2]
	}
	return url, ak, sk, func() int {
		stopc <- os.Interrupt
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
}

func s3client(url, ak, sk string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")})
}

func TestServeS3(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	dir := filepath.Join(t.TempDir(), "data")

	// No keys anywhere: generated, saved, printed.
	url, ak, sk, stop := startServe(t, "s3", "--dir", dir, "--addr", "127.0.0.1:0")
	if ak == "" || sk == "" {
		t.Fatal("generated keys not printed")
	}
	c := s3client(url, ak, sk)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("served")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("served"), Key: aws.String("a/b"), Body: strings.NewReader("kept")}); err != nil {
		t.Fatal(err)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	fi, err := os.Stat(filepath.Join(dir, ".credentials"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}

	// Restart: the same keys, the same data.
	url, ak2, sk2, stop := startServe(t, "s3", "--dir", dir, "--addr", "127.0.0.1:0")
	if ak2 != ak || sk2 != sk {
		t.Fatal("keys changed across restarts")
	}
	out, err := s3client(url, ak, sk).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("served"), Key: aws.String("a/b")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	if string(got) != "kept" {
		t.Fatalf("after restart: %q", got)
	}
	stop()

	// Keys from the environment win over the saved ones; flags over both.
	t.Setenv("AWS_ACCESS_KEY_ID", "ENVKEY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
	url, _, _, stop = startServe(t, "s3", "--dir", dir, "--addr", "127.0.0.1:0")
	if _, err := s3client(url, "ENVKEY", "envsecret").HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("served")}); err != nil {
		t.Errorf("environment keys: %v", err)
	}
	if _, err := s3client(url, ak, sk).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("served")}); err == nil {
		t.Error("saved keys still accepted while environment keys are set")
	}
	stop()
	url, _, _, stop = startServe(t, "s3", "--dir", dir, "--addr", "127.0.0.1:0", "--access-key", "FLAGKEY", "--secret-key", "flagsecret")
	if _, err := s3client(url, "FLAGKEY", "flagsecret").HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("served")}); err != nil {
		t.Errorf("flag keys: %v", err)
	}
	stop()
}

func TestServeUsage(t *testing.T) {
	var out, errb bytes.Buffer
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "usage: gos3lua serve s3"},
		{[]string{"s3", "--help"}, 0, "AWS_ACCESS_KEY_ID"},
		{[]string{}, 2, "usage"},
		{[]string{"ftp"}, 2, `unknown service "ftp"`},
		{[]string{"s3", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"s3", "--access-key", "only"}, 2, "both --access-key and --secret-key"},
	} {
		out.Reset()
		errb.Reset()
		printed := &errb
		if tc.code == 0 {
			printed = &out // asked-for help goes to stdout
		}
		if code := serve(tc.args, &out, &errb, nil); code != tc.code || !strings.Contains(printed.String(), tc.want) {
			t.Errorf("serve %q: exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, out.String(), errb.String(), tc.code, tc.want)
		}
	}
}
