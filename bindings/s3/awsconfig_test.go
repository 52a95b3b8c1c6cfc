package s3

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/gos3lua/gos3lua/host"
	"github.com/gos3lua/gos3lua/host/hosttest"
)

// cleanAWS gives the test an empty home and no AWS_* variable at all, so
// that only what the test writes configures the client.
func cleanAWS(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			unsetenv(t, k)
		}
	}
	return home
}

// writeAWSFiles writes ~/.aws/config and ~/.aws/credentials under home.
func writeAWSFiles(t *testing.T, home, config, creds string) {
	t.Helper()
	dir := filepath.Join(home, ".aws")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"config": config, "credentials": creds} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// The files are read the way the SDK reads them: prefixes, comments,
// quotes, sub-properties, the credentials file winning.
func TestAWSFilesParse(t *testing.T) {
	home := cleanAWS(t)
	writeAWSFiles(t, home, `# a comment
; another
[default]
region = eu-west-1 ; inline comment
[profile work]
region=us-west-2
endpoint_url = "http://example.test:9000"
s3 =
  addressing_style = path
services = mine
[work2]
region = ignored-no-prefix
[profile  spaced ]
region: colon-form
[sso-session corp]
sso_region = eu-central-1
sso_start_url = https://corp.awsapps.com/start
[services mine]
s3 =
  endpoint_url = http://svc.test
sts =
  endpoint_url = http://sts.test
`, `[work]
aws_access_key_id = AKW
aws_secret_access_key = 'SKW'
region = ap-south-1
[profile bad]
aws_access_key_id = X
`)
	f, err := loadAWSFiles()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"default": {"region": "eu-west-1"},
		"work": {"region": "ap-south-1", "endpoint_url": "http://example.test:9000", "s3": "",
			"s3.addressing_style": "path", "services": "mine", "aws_access_key_id": "AKW", "aws_secret_access_key": "SKW"},
		"spaced":           {"region": "colon-form"},
		"sso-session corp": {"sso_region": "eu-central-1", "sso_start_url": "https://corp.awsapps.com/start"},
		"services mine":    {"s3": "", "s3.endpoint_url": "http://svc.test", "sts": "", "sts.endpoint_url": "http://sts.test"},
	}
	if !reflect.DeepEqual(f.sections, want) {
		t.Fatalf("parsed\n%v\nwant\n%v", f.sections, want)
	}

	// Indented files (a heredoc in a CI script) and indented keys after a
	// key with a value are ordinary properties; [profile default] drops
	// [default]; continuation lines extend a value.
	writeAWSFiles(t, home, `[default]
region = dropped
[profile default]
region = kept
  output = json
[profile x]
s3 =
  max_concurrent_requests = 20 # kept with its comment
region = a
  b
`, "  [default]\n  aws_access_key_id = AK\n  aws_secret_access_key = SK\n")
	if f, err = loadAWSFiles(); err != nil {
		t.Fatal(err)
	}
	want = map[string]map[string]string{
		"default": {"region": "kept", "output": "json", "aws_access_key_id": "AK", "aws_secret_access_key": "SK"},
		"x":       {"s3": "", "s3.max_concurrent_requests": "20 # kept with its comment", "region": "a\nb"},
	}
	if !reflect.DeepEqual(f.sections, want) {
		t.Fatalf("parsed\n%v\nwant\n%v", f.sections, want)
	}
	writeAWSFiles(t, home, `[profile default]
region = first
[default]
region = ignored
`, "")
	if f, _ = loadAWSFiles(); f.sections["default"]["region"] != "first" {
		t.Fatalf("[default] after [profile default]: %v", f.sections)
	}
	writeAWSFiles(t, home, "[profile work]\nregion=ap-south-1\nservices = mine\n[services mine]\ns3 =\n  endpoint_url = http://svc.test\n", "")

	// Resolution: services section before endpoint_url, env before files.
	s, err := resolveAWS(Config{Profile: "work"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Region != "ap-south-1" || s.Endpoint != "http://svc.test" {
		t.Fatalf("region %q endpoint %q", s.Region, s.Endpoint)
	}
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://env.test")
	t.Setenv("AWS_REGION", "sa-east-1")
	if s, _ = resolveAWS(Config{Profile: "work"}, nil); s.Region != "sa-east-1" || s.Endpoint != "http://env.test" {
		t.Fatalf("env: region %q endpoint %q", s.Region, s.Endpoint)
	}
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	if s, _ = resolveAWS(Config{Profile: "work"}, nil); s.Endpoint != "" {
		t.Fatalf("ignore_configured_endpoint_urls: endpoint %q", s.Endpoint)
	}
	if s, _ = resolveAWS(Config{Profile: "work", Endpoint: "http://given.test"}, nil); s.Endpoint != "http://given.test" {
		t.Fatalf("endpoint= must still count: %q", s.Endpoint)
	}
}

// Configuration mistakes are named, with the profile and the files.
func TestAWSConfigErrors(t *testing.T) {
	home := cleanAWS(t)
	writeAWSFiles(t, home, `[profile mfa]
role_arn = arn:aws:iam::1:role/r
source_profile = keys
mfa_serial = arn:aws:iam::1:mfa/me
[profile orphan]
role_arn = arn:aws:iam::1:role/r
[profile lost]
role_arn = arn:aws:iam::1:role/r
source_profile = nowhere
[profile odd]
role_arn = arn:aws:iam::1:role/r
credential_source = Elsewhere
[profile login]
login_session = arn:aws:iam::1:user/me
[profile half-sso]
sso_start_url = https://x.awsapps.com/start
`, "[keys]\naws_access_key_id = A\naws_secret_access_key = S\n")
	for profile, want := range map[string]string{
		"nope":     `profile "nope" not found in ` + filepath.Join(home, ".aws", "config"),
		"mfa":      "mfa_serial is not supported",
		"orphan":   "role_arn needs source_profile, credential_source or web_identity_token_file",
		"lost":     `source_profile "nowhere" not found`,
		"odd":      `unknown credential_source "Elsewhere"`,
		"login":    "credential_process = aws configure export-credentials --profile login --format process",
		"half-sso": "SSO needs sso_region",
	} {
		c := NewClient(Config{Profile: profile, Endpoint: "http://127.0.0.1:1"})
		_, err := c.API(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("profile %s: got %v, want %q", profile, err, want)
		}
	}
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/token")
	if _, err := resolveAWS(Config{}, nil); err == nil || !strings.Contains(err.Error(), "AWS_ROLE_ARN is not") {
		t.Errorf("web identity without role: %v", err)
	}
}

// A profile's keys from ~/.aws/credentials and its endpoint from a
// services section reach a real store, for s3.client{profile=} and
// AWS_PROFILE alike; aws-cli reads the same files to the same keys.
func TestProfileCredentials(t *testing.T) {
	srv := startStore(t)
	home := cleanAWS(t)
	writeAWSFiles(t, home, fmt.Sprintf("[profile p]\nregion = us-east-1\nservices = local\n[services local]\ns3 =\n  endpoint_url = %s\n", srv.URL()),
		fmt.Sprintf("[p]\naws_access_key_id = %s\naws_secret_access_key = %s\n", testAK, testSK))
	ctx := context.Background()
	if err := NewClient(Config{Profile: "p"}).CreateBucket(ctx, "from-profile"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_PROFILE", "p")
	c := NewClient(Config{})
	if c.Embedded() {
		t.Fatal("a profile must not mean the embedded store")
	}
	bs, err := c.Buckets(ctx)
	if err != nil || len(bs) != 1 || bs[0].Name != "from-profile" {
		t.Fatalf("buckets %v %v", bs, err)
	}
	// AWS_PROFILE does not override keys in the environment; a profile
	// given to s3.client does (as in the SDK and aws-cli).
	writeAWSFiles(t, home, fmt.Sprintf("[profile p]\nendpoint_url = %s\n", srv.URL()), "[p]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n")
	t.Setenv("AWS_ACCESS_KEY_ID", testAK)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSK)
	if _, err := NewClient(Config{}).Buckets(ctx); err != nil {
		t.Fatalf("AWS_PROFILE with keys in the environment: %v", err)
	}
	if _, err := NewClient(Config{Profile: "p", Retries: 0}).Buckets(ctx); err == nil {
		t.Fatal("profile= must use the profile's (wrong) keys")
	}
	unsetenv(t, "AWS_ACCESS_KEY_ID")
	unsetenv(t, "AWS_SECRET_ACCESS_KEY")
	// Wrong keys in the profile are refused by the store, as they must be.
	writeAWSFiles(t, home, fmt.Sprintf("[profile p]\nendpoint_url = %s\n", srv.URL()), "[p]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n")
	if _, err := NewClient(Config{Retries: 0}).Buckets(ctx); err == nil || !strings.Contains(err.Error(), "InvalidAccessKeyId") && !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("wrong keys: %v", err)
	}

	t.Run("aws-cli", func(t *testing.T) {
		hosttest.Need(t, "aws")
		writeAWSFiles(t, home, "[profile p]\nregion = us-east-1\n", fmt.Sprintf("[p]\naws_access_key_id = %s\naws_secret_access_key = %s\n", testAK, testSK))
		out := awsCLI(t, []string{"AWS_PAGER="}, "--endpoint-url", srv.URL(), "s3api", "list-buckets", "--query", "Buckets[].Name", "--output", "text")
		if strings.TrimSpace(string(out)) != "from-profile" {
			t.Fatalf("aws-cli with the same profile: %q", out)
		}
	})
}

// fakeSTS answers STS's query API on loopback as AWS does (there is no
// STS to run locally): AssumeRole only when signed with the source keys,
// AssumeRoleWithWebIdentity only with the expected token. Both hand out
// the store's keys, so that the S3 calls that follow prove they were used.
type fakeSTS struct {
	*httptest.Server
	keys  map[string]string // access key → secret AssumeRole may be signed with
	token string
	deny  bool

	mu    sync.Mutex
	calls []url.Values
}

func newFakeSTS(t *testing.T, srcAK, srcSK, token string) *fakeSTS {
	f := &fakeSTS{keys: map[string]string{srcAK: srcSK}, token: token}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSTS) Calls() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.calls...)
}

func (f *fakeSTS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	f.mu.Lock()
	f.calls = append(f.calls, form)
	f.mu.Unlock()
	fail := func(code, msg string) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>1</RequestId></ErrorResponse>`, code, msg)
	}
	action := form.Get("Action")
	switch {
	case r.Method != http.MethodPost || form.Get("Version") != "2011-06-15":
		fail("InvalidAction", "bad request")
		return
	case action == "AssumeRole":
		ak, _, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="), "/")
		if f.keys[ak] == "" {
			fail("InvalidClientTokenId", "unknown access key "+ak)
			return
		}
		if err := verifySigV4(r, body, ak, f.keys[ak], "sts"); err != nil {
			fail("SignatureDoesNotMatch", err.Error())
			return
		}
	case action == "AssumeRoleWithWebIdentity":
		if r.Header.Get("Authorization") != "" || form.Get("WebIdentityToken") != f.token {
			fail("InvalidIdentityToken", "bad token")
			return
		}
	default:
		fail("InvalidAction", action)
		return
	}
	if f.deny {
		fail("AccessDenied", "User is not authorized to perform: sts:AssumeRole")
		return
	}
	fmt.Fprintf(w, `<%sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%sResult><Credentials>
<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>session-token</SessionToken>
<Expiration>%s</Expiration></Credentials></%sResult></%sResponse>`,
		action, action, testAK, testSK, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), action, action)
}

// verifySigV4 recomputes a request's SigV4 signature with the SDK's
// signer over the headers the client signed.
func verifySigV4(r *http.Request, body []byte, ak, sk, service string) error {
	auth := r.Header.Get("Authorization")
	var cred, signed, sig string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[0] != ak || scope[3] != service {
		return fmt.Errorf("credential scope %q", cred)
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	req, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range strings.Split(signed, ";") {
		if h != "host" && h != "x-amz-date" {
			req.Header.Set(h, r.Header.Get(h))
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, scope[2], when); err != nil {
		return err
	}
	if !strings.HasSuffix(req.Header.Get("Authorization"), "Signature="+sig) {
		return errors.New("signature does not match")
	}
	return nil
}

// role_arn + source_profile: one signed AssumeRole with the profile's
// options, cached for the client's later calls; a refusal is a Lua-visible
// AccessDenied naming the role.
func TestAssumeRole(t *testing.T) {
	srv := startStore(t)
	sts := newFakeSTS(t, "SRCKEY", "SRCSECRET", "")
	home := cleanAWS(t)
	writeAWSFiles(t, home, fmt.Sprintf(`[profile base]
region = eu-west-1
[profile role]
role_arn = arn:aws:iam::123456789012:role/backup
source_profile = base
external_id = ext-42
duration_seconds = 900
role_session_name = nightly
services = here
[services here]
s3 =
  endpoint_url = %s
sts =
  endpoint_url = %s
`, srv.URL(), sts.URL), "[base]\naws_access_key_id = SRCKEY\naws_secret_access_key = SRCSECRET\n")
	ctx := context.Background()
	c := NewClient(Config{Profile: "role"})
	if err := c.CreateBucket(ctx, "assumed"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Buckets(ctx); err != nil {
		t.Fatal(err)
	}
	calls := sts.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d STS calls, want 1 (credentials are cached)", len(calls))
	}
	for k, v := range map[string]string{"Action": "AssumeRole", "RoleArn": "arn:aws:iam::123456789012:role/backup",
		"ExternalId": "ext-42", "DurationSeconds": "900", "RoleSessionName": "nightly"} {
		if calls[0].Get(k) != v {
			t.Errorf("%s = %q, want %q", k, calls[0].Get(k), v)
		}
	}

	// Signed with other keys: the fake refuses, as STS would.
	writeAWSFiles(t, home, fmt.Sprintf("[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\nendpoint_url = %s\n", sts.URL),
		"[base]\naws_access_key_id = SRCKEY\naws_secret_access_key = other\n")
	_, err := NewClient(Config{Profile: "role", Endpoint: srv.URL(), Retries: 0}).Buckets(ctx)
	var he *host.Error
	if !errors.As(err, &he) || he.Kind != "SignatureDoesNotMatch" {
		t.Fatalf("wrong source keys: %v", err)
	}

	sts.deny = true
	writeAWSFiles(t, home, fmt.Sprintf("[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\nendpoint_url = %s\n", sts.URL),
		"[base]\naws_access_key_id = SRCKEY\naws_secret_access_key = SRCSECRET\n")
	_, err = NewClient(Config{Profile: "role", Endpoint: srv.URL(), Retries: 0}).Buckets(ctx)
	if !errors.As(err, &he) || he.Kind != "AccessDenied" || !strings.Contains(he.Message, "sts AssumeRole arn:aws:iam::1:role/r: User is not authorized") {
		t.Fatalf("denied: %v", err)
	}
}

// Chains: a role assumed with another role's keys; a profile that is its
// own source_profile (its keys assume its role); credential_source
// Environment. Each AssumeRole is signed with the keys it names.
func TestAssumeRoleChains(t *testing.T) {
	srv := startStore(t)
	sts := newFakeSTS(t, "BASEKEY", "BASESECRET", "")
	sts.keys[testAK] = testSK // what every AssumeRole hands out
	sts.keys["ENVKEY"] = "ENVSECRET"
	home := cleanAWS(t)
	writeAWSFiles(t, home, `[profile base]
[profile first]
role_arn = arn:aws:iam::1:role/first
source_profile = base
[profile second]
role_arn = arn:aws:iam::1:role/second
source_profile = first
[profile self]
role_arn = arn:aws:iam::1:role/self
source_profile = self
[profile fromenv]
role_arn = arn:aws:iam::1:role/env
credential_source = Environment
`, "[base]\naws_access_key_id = BASEKEY\naws_secret_access_key = BASESECRET\n[self]\naws_access_key_id = BASEKEY\naws_secret_access_key = BASESECRET\n")
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL())
	ctx := context.Background()
	signer := func(c url.Values) string { return c.Get("RoleArn") }
	for _, c := range []struct {
		profile string
		roles   []string
	}{
		{"second", []string{"arn:aws:iam::1:role/first", "arn:aws:iam::1:role/second"}},
		{"self", []string{"arn:aws:iam::1:role/self"}},
		{"fromenv", []string{"arn:aws:iam::1:role/env"}},
	} {
		before := len(sts.Calls())
		if c.profile == "fromenv" {
			t.Setenv("AWS_ACCESS_KEY_ID", "ENVKEY")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET")
		}
		if err := NewClient(Config{Profile: c.profile, Retries: 0}).CreateBucket(ctx, "chain-"+c.profile); err != nil {
			t.Fatalf("%s: %v", c.profile, err)
		}
		var got []string
		for _, call := range sts.Calls()[before:] {
			got = append(got, signer(call))
		}
		if !reflect.DeepEqual(got, c.roles) {
			t.Errorf("%s: roles assumed %v, want %v", c.profile, got, c.roles)
		}
	}
}

// A web identity token in the environment (EKS, CI systems): an unsigned
// AssumeRoleWithWebIdentity carrying the token file's content.
func TestWebIdentity(t *testing.T) {
	srv := startStore(t)
	sts := newFakeSTS(t, "", "", "the-jwt")
	home := cleanAWS(t)
	tok := filepath.Join(home, "token")
	os.WriteFile(tok, []byte("the-jwt\n"), 0o600)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok)
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/pod")
	t.Setenv("AWS_ROLE_SESSION_NAME", "pod-1")
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL())
	// ... before the profile AWS_PROFILE names (its keys are wrong here).
	writeAWSFiles(t, home, "[profile p]\nregion = us-east-1\n", "[p]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n")
	t.Setenv("AWS_PROFILE", "p")
	c := NewClient(Config{})
	if c.Embedded() {
		t.Fatal("a web identity must not mean the embedded store")
	}
	if err := c.CreateBucket(context.Background(), "pod"); err != nil {
		t.Fatal(err)
	}
	calls := sts.Calls()
	if len(calls) != 1 || calls[0].Get("Action") != "AssumeRoleWithWebIdentity" || calls[0].Get("RoleSessionName") != "pod-1" {
		t.Fatalf("calls %v", calls)
	}
	os.WriteFile(tok, []byte("stale"), 0o600)
	if _, err := NewClient(Config{Retries: 0}).Buckets(context.Background()); err == nil || !strings.Contains(err.Error(), "InvalidIdentityToken") {
		t.Fatalf("bad token: %v", err)
	}
}

// credential_process: a real program prints the keys.
func TestCredentialProcess(t *testing.T) {
	srv := startStore(t)
	home := cleanAWS(t)
	script := filepath.Join(home, "creds.sh")
	os.WriteFile(script, []byte(fmt.Sprintf("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}'\n", testAK, testSK)), 0o755)
	writeAWSFiles(t, home, fmt.Sprintf("[default]\ncredential_process = %s\nendpoint_url = %s\n", script, srv.URL()), "")
	if err := NewClient(Config{}).CreateBucket(context.Background(), "process"); err != nil {
		t.Fatal(err)
	}
	// Output that does not parse holds the keys: they are not repeated.
	os.WriteFile(script, []byte("#!/bin/sh\necho '{\"Version\": \"1\", \"AccessKeyId\": \"AK\", \"SecretAccessKey\": \"TOPSECRET\"}'\n"), 0o755)
	_, err := NewClient(Config{Retries: 0}).Buckets(context.Background())
	if err == nil || strings.Contains(err.Error(), "TOPSECRET") || !strings.Contains(err.Error(), "credential_process: its output is not the credentials JSON") {
		t.Fatalf("unparsable output: %v", err)
	}
	os.WriteFile(script, []byte("#!/bin/sh\necho nope >&2; exit 3\n"), 0o755)
	if _, err := NewClient(Config{Retries: 0}).Buckets(context.Background()); err == nil || !strings.Contains(err.Error(), "credential_process") && !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("failing process: %v", err)
	}
}

// IAM Identity Center: the token `aws sso login` cached, traded for role
// keys at the portal; an expired login says how to log in again.
func TestSSO(t *testing.T) {
	srv := startStore(t)
	var got url.Values
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/federation/credentials" || r.Header.Get("x-amz-sso_bearer_token") != "sso-token" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Session token not found or invalid"}`)
			return
		}
		got = r.URL.Query()
		fmt.Fprintf(w, `{"roleCredentials":{"accessKeyId":%q,"secretAccessKey":%q,"sessionToken":"st","expiration":%d}}`,
			testAK, testSK, time.Now().Add(time.Hour).UnixMilli())
	}))
	t.Cleanup(portal.Close)
	home := cleanAWS(t)
	writeAWSFiles(t, home, fmt.Sprintf(`[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Admin
endpoint_url = %s
[sso-session corp]
sso_region = eu-west-1
sso_start_url = https://corp.awsapps.com/start
`, srv.URL()), "")
	t.Setenv("AWS_ENDPOINT_URL_SSO", portal.URL)
	cache := func(tok string, exp time.Time) {
		sum := sha1.Sum([]byte("corp"))
		dir := filepath.Join(home, ".aws", "sso", "cache")
		os.MkdirAll(dir, 0o700)
		b, _ := json.Marshal(map[string]string{"accessToken": tok, "expiresAt": exp.UTC().Format(time.RFC3339)})
		os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])+".json"), b, 0o600)
	}
	cache("sso-token", time.Now().Add(time.Hour))
	if err := NewClient(Config{Profile: "dev"}).CreateBucket(context.Background(), "sso"); err != nil {
		t.Fatal(err)
	}
	if got.Get("account_id") != "111122223333" || got.Get("role_name") != "Admin" {
		t.Fatalf("portal got %v", got)
	}
	cache("sso-token", time.Now().Add(-time.Minute))
	if _, err := NewClient(Config{Profile: "dev", Retries: 0}).Buckets(context.Background()); err == nil || !strings.Contains(err.Error(), "run 'aws sso login --profile dev'") {
		t.Fatalf("expired: %v", err)
	}
	cache("revoked", time.Now().Add(time.Hour))
	_, err := NewClient(Config{Profile: "dev", Retries: 0}).Buckets(context.Background())
	var he *host.Error
	if !errors.As(err, &he) || he.Kind != "AccessDenied" || !strings.Contains(he.Message, "Session token not found") {
		t.Fatalf("revoked: %v", err)
	}
}

// Container credentials (ECS, EKS Pod Identity) with an authorization
// token file, and instance metadata (IMDSv2: token first), both on
// loopback through the variables that point the SDK's providers there.
func TestContainerAndInstanceCredentials(t *testing.T) {
	srv := startStore(t)
	keys := fmt.Sprintf(`{"Code":"Success","AccessKeyId":%q,"SecretAccessKey":%q,"Token":"t","Expiration":%q}`,
		testAK, testSK, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "pod-secret" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		fmt.Fprint(w, keys)
	}))
	t.Cleanup(agent.Close)
	home := cleanAWS(t)
	tok := filepath.Join(home, "auth")
	os.WriteFile(tok, []byte("pod-secret\n"), 0o600)
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.URL+"/creds")
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tok)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL())
	if err := NewClient(Config{}).CreateBucket(context.Background(), "container"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds")
	if _, err := NewClient(Config{}).API(context.Background()); err == nil || !strings.Contains(err.Error(), "only to loopback") {
		t.Fatalf("a remote plain-HTTP agent must be refused: %v", err)
	}
	unsetenv(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI")

	var tokens int
	var mu sync.Mutex
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			tokens++
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
			fmt.Fprint(w, "imds-token")
		case r.Header.Get("X-Aws-Ec2-Metadata-Token") != "imds-token":
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			fmt.Fprint(w, "instance-role")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/instance-role":
			fmt.Fprint(w, keys)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(imds.Close)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	if err := NewClient(Config{}).CreateBucket(context.Background(), "instance"); err != nil {
		t.Fatal(err)
	}
	if tokens == 0 {
		t.Fatal("IMDSv2 token never asked for")
	}
}
