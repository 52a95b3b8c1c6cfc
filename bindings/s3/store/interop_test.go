package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gos3lua/gos3lua/host/hosttest"
)

// tool runs an outside S3 client against the store, with a clean HOME and
// only the settings given.
type tool struct {
	t    *testing.T
	name string
	env  []string
	pre  []string // arguments before the command's own
}

func (tl *tool) run(args ...string) string {
	tl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tl.name, append(append([]string(nil), tl.pre...), args...)...)
	cmd.Env = tl.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tl.t.Fatalf("%s %s: %v\n%s%s", tl.name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

func baseEnv(home string) []string {
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TMPDIR=" + home}
	return env
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// interopFixture is a store with a bucket the SDK has filled: a few
// objects with awkward names and 1,050 keys under many/ (past one page).
type interopFixture struct {
	srv    *Server
	c      *s3.Client
	bucket string
	sdk    map[string][]byte
	many   int
}

func newInteropFixture(t *testing.T, bucket string) *interopFixture {
	srv := startStore(t, t.TempDir())
	f := &interopFixture{srv: srv, c: client(srv.URL(), testAK, testSK), bucket: bucket, many: 1050,
		sdk: map[string][]byte{
			"sdk/plain.txt":         []byte("written by the AWS SDK\n"),
			"sdk/with space é.txt":  []byte("unicode and spaces\n"),
			"sdk/nested/deep/x.bin": randomBytes(3 << 20),
		}}
	newBucket(t, f.c, bucket)
	for k, v := range f.sdk {
		put(t, f.c, bucket, k, v)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < f.many; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			key := fmt.Sprintf("many/k%05d", i)
			f.c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("x")})
		}(i)
	}
	wg.Wait()
	return f
}

// check runs the common script with few tool invocations (aws-cli takes
// seconds to start): the tool downloads sdk/ (written by the SDK), uploads
// a directory with a small and a multipart-sized file to tool/ for the SDK
// to read back, lists the bucket (more than 1,000 keys, so it must page),
// and deletes a key.
func (f *interopFixture) check(t *testing.T, getDir func(prefix, dir string), putDir func(dir, prefix string), list func() []string, del func(key string)) {
	down := t.TempDir()
	getDir("sdk/", down)
	for k, want := range f.sdk {
		rel := strings.TrimPrefix(k, "sdk/")
		var found []byte
		filepath.WalkDir(down, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(filepath.ToSlash(p), "/"+rel) {
				found, _ = os.ReadFile(p)
			}
			return nil
		})
		if !bytes.Equal(found, want) {
			t.Errorf("tool read %q: %d bytes, want %d", k, len(found), len(want))
		}
	}
	up := t.TempDir()
	mine := map[string][]byte{
		"small file ü.txt": []byte("written by the tool\n"),
		"big.bin":          randomBytes(20 << 20), // multipart for aws-cli, s3cmd and (configured) rclone
	}
	for name, v := range mine {
		os.WriteFile(filepath.Join(up, name), v, 0o600)
	}
	putDir(up, "tool/")
	for name, v := range mine {
		if got := get(t, f.c, f.bucket, "tool/"+name); !bytes.Equal(got, v) {
			t.Errorf("SDK read of %q written by the tool: %d bytes, want %d", name, len(got), len(v))
		}
	}
	var tool, many, sdk []string
	for _, k := range list() {
		switch {
		case strings.HasPrefix(k, "tool/"):
			tool = append(tool, k)
		case strings.HasPrefix(k, "many/"):
			many = append(many, k)
		case strings.HasPrefix(k, "sdk/"):
			sdk = append(sdk, k)
		}
	}
	if strings.Join(tool, ",") != "tool/big.bin,tool/small file ü.txt" {
		t.Errorf("tool lists tool/: %q", tool)
	}
	if strings.Join(sdk, ",") != "sdk/nested/deep/x.bin,sdk/plain.txt,sdk/with space é.txt" {
		t.Errorf("tool lists sdk/: %q", sdk)
	}
	if len(many) != f.many || many[0] != "many/k00000" || many[len(many)-1] != fmt.Sprintf("many/k%05d", f.many-1) {
		t.Errorf("tool lists many/: %d keys, want %d", len(many), f.many)
	}
	del("tool/small file ü.txt")
	if _, err := f.c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &f.bucket, Key: aws.String("tool/small file ü.txt")}); err == nil {
		t.Error("tool's delete did not delete")
	}
}

var awsLsLine = regexp.MustCompile(`^\S+\s+\S+\s+\d+\s(.*)$`)

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestInteropAWSCLI(t *testing.T) {
	hosttest.Need(t, "aws")
	t.Parallel()
	f := newInteropFixture(t, "aws-interop")
	home := t.TempDir()
	env := append(baseEnv(home), "AWS_ACCESS_KEY_ID="+testAK, "AWS_SECRET_ACCESS_KEY="+testSK, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"),
		"AWS_CA_BUNDLE="+os.Getenv("AWS_CA_BUNDLE"), "AWS_PAGER=")
	aws := &tool{t: t, name: "aws", env: env, pre: []string{"--endpoint-url", f.srv.URL()}}
	s3u := func(k string) string { return "s3://" + f.bucket + "/" + k }
	f.check(t,
		func(prefix, dir string) { aws.run("s3", "cp", "--only-show-errors", "--recursive", s3u(prefix), dir) },
		func(dir, prefix string) { aws.run("s3", "cp", "--only-show-errors", "--recursive", dir, s3u(prefix)) },
		func() []string {
			var keys []string
			for _, l := range lines(aws.run("s3", "ls", "--recursive", s3u(""))) {
				// 2026-01-02 03:04:05       1234 key with spaces
				if m := awsLsLine.FindStringSubmatch(l); m != nil {
					keys = append(keys, m[1])
				}
			}
			return keys
		},
		func(k string) { aws.run("s3", "rm", "--only-show-errors", s3u(k)) })
	aws.run("s3", "mb", "s3://aws-made")
}

func TestInteropS3cmd(t *testing.T) {
	hosttest.Need(t, "s3cmd")
	t.Parallel()
	f := newInteropFixture(t, "s3cmd-interop")
	home := t.TempDir()
	u, _ := url.Parse(f.srv.URL())
	cfg := filepath.Join(home, "s3cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
use_https = False
signature_v2 = False
bucket_location = us-east-1
check_ssl_certificate = False
progress_meter = False
`, testAK, testSK, u.Host, u.Host)), 0o600)
	s3c := &tool{t: t, name: "s3cmd", env: baseEnv(home), pre: []string{"-c", cfg, "--no-progress"}}
	s3u := func(k string) string { return "s3://" + f.bucket + "/" + k }
	f.check(t,
		func(prefix, dir string) { s3c.run("get", "--recursive", s3u(prefix), dir+"/") },
		func(dir, prefix string) {
			s3c.run("put", "--recursive", "--multipart-chunk-size-mb=5", dir+"/", s3u(prefix))
		},
		func() []string {
			var keys []string
			for _, l := range lines(s3c.run("ls", "--recursive", s3u(""))) {
				if i := strings.Index(l, "s3://"+f.bucket+"/"); i >= 0 {
					keys = append(keys, l[i+len("s3://"+f.bucket+"/"):])
				}
			}
			return keys
		},
		func(k string) { s3c.run("del", s3u(k)) })
	s3c.run("mb", "s3://s3cmd-made")
	if !strings.Contains(s3c.run("ls"), "s3://s3cmd-made") {
		t.Error("s3cmd ls does not show its bucket")
	}
	s3c.run("rb", "s3://s3cmd-made")
}

func TestInteropRclone(t *testing.T) {
	hosttest.Need(t, "rclone")
	t.Parallel()
	f := newInteropFixture(t, "rclone-interop")
	home := t.TempDir()
	env := append(baseEnv(home), "RCLONE_CONFIG="+filepath.Join(home, "rclone.conf"),
		"RCLONE_CONFIG_STORE_TYPE=s3", "RCLONE_CONFIG_STORE_PROVIDER=Other",
		"RCLONE_CONFIG_STORE_ACCESS_KEY_ID="+testAK, "RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY="+testSK,
		"RCLONE_CONFIG_STORE_ENDPOINT="+f.srv.URL(), "RCLONE_CONFIG_STORE_REGION=us-east-1")
	rc := &tool{t: t, name: "rclone", env: env, pre: []string{"--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"}}
	rem := func(k string) string { return "store:" + f.bucket + "/" + k }
	f.check(t,
		func(prefix, dir string) { rc.run("copy", rem(prefix), dir) },
		func(dir, prefix string) { rc.run("copy", dir, rem(prefix)) },
		func() []string { return lines(rc.run("lsf", "-R", "--files-only", rem(""))) },
		func(k string) { rc.run("deletefile", rem(k)) })
	rc.run("mkdir", "store:rclone-made")
	if !strings.Contains(rc.run("lsd", "store:"), "rclone-made") {
		t.Error("rclone lsd does not show its bucket")
	}
	rc.run("rmdir", "store:rclone-made")
}
