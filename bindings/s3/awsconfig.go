package s3

// The AWS way of configuration, without the SDK's config package.
//
// aws-sdk-go-v2/config links the STS, SSO, SSO-OIDC and sign-in service
// clients, and their package initialisation (endpoint tables, schemas) cost
// every gos3lua process about 7 ms of start-up, S3 or not: a third of it.
// What an S3 client needs from it is here, read the way the SDK and aws-cli
// read it: the environment, ~/.aws/config and ~/.aws/credentials with
// profiles, and these credential sources, in the SDK's order:
//
//   - static keys (environment, profile);
//   - role_arn with source_profile or credential_source (STS AssumeRole),
//     and web identity tokens (AWS_WEB_IDENTITY_TOKEN_FILE or
//     web_identity_token_file: EKS, GitHub Actions) — STS's query API is one
//     signed POST, made here;
//   - IAM Identity Center (sso_session / sso_start_url) from the token
//     cache that `aws sso login` writes;
//   - credential_process, container credentials (ECS, EKS Pod Identity),
//     and EC2 instance metadata, through the SDK's own light providers.
//
// Not here: mfa_serial (it needs a prompt) and `aws login` sessions; for
// those (and anything else aws-cli knows), credential_process bridges:
// `credential_process = aws configure export-credentials --profile X --format process`.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	smithy "github.com/aws/smithy-go"
)

// awsFiles are the shared config and credentials files, merged: profile
// name (or "sso-session NAME", "services NAME") → key → value. A
// sub-property (`s3 =` followed by indented `endpoint_url = ...`) is
// stored as "s3.endpoint_url".
type awsFiles struct {
	sections map[string]map[string]string
	paths    []string // the files read, for messages
}

// loadAWSFiles reads AWS_CONFIG_FILE (~/.aws/config) and then
// AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), whose values win. A
// missing file is no error; an unreadable one is.
func loadAWSFiles() (*awsFiles, error) {
	home, _ := os.UserHomeDir()
	def := func(env, name string) string {
		if v := os.Getenv(env); v != "" {
			return v
		}
		if home == "" {
			return ""
		}
		return filepath.Join(home, ".aws", name)
	}
	f := &awsFiles{sections: map[string]map[string]string{}}
	for _, file := range []struct {
		path   string
		config bool
	}{{def("AWS_CONFIG_FILE", "config"), true}, {def("AWS_SHARED_CREDENTIALS_FILE", "credentials"), false}} {
		if file.path == "" {
			continue
		}
		data, err := os.ReadFile(file.path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		f.paths = append(f.paths, file.path)
		f.parse(string(data), file.config)
	}
	return f, nil
}

// parse reads one file in the AWS flavour of INI, close to the SDK's
// parser (the differences are in corners no real file has):
// `[profile NAME]` in the config file (`[default]` too, dropped when
// `[profile default]` is there), `[NAME]` in the credentials file, `#` and
// `;` comments (inline after a blank), `key = value` or `key: value`,
// quotes stripped; an indented `key = value` is a sub-property of a key
// with an empty value (`s3 =`) and an ordinary property anywhere else; an
// indented line without one continues a non-empty value.
func (f *awsFiles) parse(data string, config bool) {
	var sec map[string]string
	var last string          // the last key, for sub-properties and continuations
	plainDefault := false    // this file's "default" came from [default]
	prefixedDefault := false // ... from [profile default]
	stripComment := func(s string) string {
		for _, c := range []string{" #", " ;", "\t#", "\t;"} {
			s, _, _ = strings.Cut(s, c)
		}
		return strings.TrimSpace(s)
	}
	for line := range strings.Lines(data) {
		line = strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		if trimmed[0] == '[' {
			name, _, _ := strings.Cut(trimmed, "#")
			name, _, _ = strings.Cut(name, ";")
			name = strings.TrimSpace(name)
			sec, last = nil, ""
			if !strings.HasSuffix(name, "]") {
				continue
			}
			name = strings.Join(strings.Fields(name[1:len(name)-1]), " ")
			typ, rest, typed := strings.Cut(name, " ")
			switch {
			case config && typed && typ == "profile":
				name = rest
				if name == "default" && !prefixedDefault {
					if plainDefault {
						delete(f.sections, "default") // [profile default] wins over [default]
					}
					prefixedDefault = true
				}
			case config && typed && (typ == "sso-session" || typ == "services"):
			case config && name == "default":
				if prefixedDefault {
					continue
				}
				plainDefault = true
			case config, typed && typ == "profile":
				continue // not a profile: ignored, as the SDK does
			}
			if f.sections[name] == nil {
				f.sections[name] = map[string]string{}
			}
			sec = f.sections[name]
			continue
		}
		if sec == nil {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		k, v, ok := splitINI(trimmed)
		switch {
		case indented && ok && last != "" && sec[last] == "":
			sec[last+"."+k] = unquote(v) // comments included, as the SDK does
		case ok:
			last = k
			sec[k] = unquote(stripComment(v))
		case indented && last != "" && sec[last] != "":
			sec[last] += "\n" + trimmed
		}
	}
}

func splitINI(s string) (k, v string, ok bool) {
	i := strings.IndexAny(s, "=:")
	if i < 0 {
		return "", "", false
	}
	k, v = strings.ToLower(strings.TrimSpace(s[:i])), strings.TrimSpace(s[i+1:])
	return k, v, k != ""
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}

// awsSetup is what one client resolved: where, which region, which keys.
type awsSetup struct {
	Region   string
	Endpoint string // "" for AWS itself
	Creds    aws.CredentialsProvider
	// HTTPClient is the one given, trusting only AWS_CA_BUNDLE's (or the
	// profile's ca_bundle's) certificates when one is set.
	HTTPClient aws.HTTPClient
	Profile    map[string]string
}

// awsResolver resolves a Config against the environment and the files.
type awsResolver struct {
	cfg      Config
	files    *awsFiles
	profile  string
	explicit bool // the profile was asked for (profile=, AWS_PROFILE)
	region   string
	hc       aws.HTTPClient // for STS and SSO; set before credentials are used
	ignoreEP bool           // ignore_configured_endpoint_urls
}

// resolveAWS reads the AWS way of configuration for cfg. hc (with the CA
// bundle, if any) carries S3's calls and those the credential sources make
// (STS, SSO, metadata endpoints).
func resolveAWS(cfg Config, hc *awshttp.BuildableClient) (*awsSetup, error) {
	files, err := loadAWSFiles()
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = awshttp.NewBuildableClient()
	}
	r := &awsResolver{cfg: cfg, files: files}
	r.profile, r.explicit = cfg.Profile, cfg.Profile != ""
	if !r.explicit {
		if v := firstEnv("AWS_PROFILE", "AWS_DEFAULT_PROFILE"); v != "" {
			r.profile, r.explicit = v, true
		} else {
			r.profile = "default"
		}
	}
	prof := files.sections[r.profile]
	if prof == nil && r.explicit {
		return nil, fmt.Errorf("profile %q not found in %s", r.profile, r.filesString())
	}
	if prof == nil {
		prof = map[string]string{}
	}
	r.ignoreEP = isTrue(firstEnv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) || isTrue(prof["ignore_configured_endpoint_urls"])
	r.region = cmp.Or(cfg.Region, firstEnv("AWS_REGION", "AWS_DEFAULT_REGION"), prof["region"])
	s := &awsSetup{Region: r.region, Profile: prof, HTTPClient: hc,
		Endpoint: cmp.Or(cfg.Endpoint, r.endpoint("s3", prof))}
	bundle, from := os.Getenv("AWS_CA_BUNDLE"), "AWS_CA_BUNDLE"
	if bundle == "" {
		bundle, from = prof["ca_bundle"], fmt.Sprintf("profile %q: ca_bundle", r.profile)
	}
	if bundle != "" {
		withCA, err := withCABundle(hc, bundle, from)
		switch {
		case err == nil:
			s.HTTPClient = withCA
		case !strings.HasPrefix(strings.ToLower(s.Endpoint), "http://"):
			return nil, err
		}
		// A CA bundle only matters to TLS: a stale AWS_CA_BUNDLE does
		// not stop a plain-HTTP endpoint (the embedded store among them).
	}
	r.hc = s.HTTPClient
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	if r.region == "" {
		r.region = s.Region
	}
	s.Creds, err = r.credentials(prof)
	if err != nil {
		return nil, err
	}
	if _, static := s.Creds.(credentials.StaticCredentialsProvider); !static {
		s.Creds = aws.NewCredentialsCache(s.Creds)
	}
	return s, nil
}

func (r *awsResolver) filesString() string {
	if len(r.files.paths) == 0 {
		return "the AWS config files (none found: ~/.aws/config, ~/.aws/credentials)"
	}
	return strings.Join(r.files.paths, " and ")
}

// endpoint is a service's configured endpoint: AWS_ENDPOINT_URL_<SVC>,
// AWS_ENDPOINT_URL, the profile's services section, its endpoint_url.
func (r *awsResolver) endpoint(svc string, prof map[string]string) string {
	if r.ignoreEP {
		return ""
	}
	services := r.files.sections["services "+prof["services"]]
	return cmp.Or(os.Getenv("AWS_ENDPOINT_URL_"+strings.ToUpper(svc)), os.Getenv("AWS_ENDPOINT_URL"),
		services[svc+".endpoint_url"], prof["endpoint_url"])
}

// credentials follows the SDK's order: keys given to s3.client, a profile
// given to s3.client, keys in the environment, a web identity token in the
// environment, then the profile (AWS_PROFILE or default, which falls back
// to container and instance credentials).
func (r *awsResolver) credentials(prof map[string]string) (aws.CredentialsProvider, error) {
	if r.cfg.AccessKey != "" {
		return static(r.cfg.AccessKey, r.cfg.SecretKey, r.cfg.SessionToken, "s3.client"), nil
	}
	if r.cfg.Profile == "" {
		// Only a profile given to s3.client goes before the environment's
		// keys; AWS_PROFILE does not (as in the SDK and aws-cli).
		if p := envKeys(); p != nil {
			return p, nil
		}
		if tok := os.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE"); tok != "" {
			arn := os.Getenv("AWS_ROLE_ARN")
			if arn == "" {
				return nil, errors.New("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
			}
			return r.assumeRole(nil, arn, os.Getenv("AWS_ROLE_SESSION_NAME"), tok, prof), nil
		}
	}
	return r.fromProfile(r.profile, prof, map[string]bool{})
}

func envKeys() aws.CredentialsProvider {
	ak, sk := firstEnv("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"), firstEnv("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	if ak == "" || sk == "" {
		return nil
	}
	return static(ak, sk, os.Getenv("AWS_SESSION_TOKEN"), "environment")
}

func static(ak, sk, token, source string) aws.CredentialsProvider {
	return credentials.StaticCredentialsProvider{Value: aws.Credentials{
		AccessKeyID: ak, SecretAccessKey: sk, SessionToken: token, Source: source}}
}

// fromProfile is the credential source a profile describes; seen guards
// source_profile loops (a profile may name itself to use its own keys).
func (r *awsResolver) fromProfile(name string, p map[string]string, seen map[string]bool) (aws.CredentialsProvider, error) {
	first := !seen[name]
	seen[name] = true
	var keys aws.CredentialsProvider
	if p["aws_access_key_id"] != "" && p["aws_secret_access_key"] != "" {
		keys = static(p["aws_access_key_id"], p["aws_secret_access_key"], p["aws_session_token"], "profile "+name)
	}
	if !first || (len(seen) > 1 && keys != nil) {
		// A source profile with keys provides them; its own role (if
		// any) is not assumed, as in the SDK.
		if keys != nil {
			return keys, nil
		}
		return nil, fmt.Errorf("profile %q: source_profile loop without keys", name)
	}
	if p["role_arn"] != "" && p["mfa_serial"] != "" {
		return nil, fmt.Errorf("profile %q: mfa_serial is not supported (it needs a prompt); use credential_process = aws configure export-credentials --profile %s --format process", name, name)
	}
	if p["role_arn"] != "" && p["source_profile"] == "" && p["credential_source"] == "" && p["web_identity_token_file"] == "" {
		return nil, fmt.Errorf("profile %q: role_arn needs source_profile, credential_source or web_identity_token_file", name)
	}
	var src aws.CredentialsProvider
	var err error
	switch {
	case p["source_profile"] != "":
		sp := r.files.sections[p["source_profile"]]
		if sp == nil {
			return nil, fmt.Errorf("profile %q: source_profile %q not found in %s", name, p["source_profile"], r.filesString())
		}
		src, err = r.fromProfile(p["source_profile"], sp, seen)
	case keys != nil:
		return keys, nil
	case p["credential_source"] != "":
		src, err = r.namedSource(name, p["credential_source"])
	case p["web_identity_token_file"] != "":
		if p["role_arn"] == "" {
			return nil, fmt.Errorf("profile %q: web_identity_token_file needs role_arn", name)
		}
		return r.assumeRole(nil, p["role_arn"], p["role_session_name"], p["web_identity_token_file"], p), nil
	case p["sso_session"] != "" || p["sso_start_url"] != "":
		return r.sso(name, p)
	case p["login_session"] != "":
		return nil, fmt.Errorf("profile %q: `aws login` sessions are not supported; use credential_process = aws configure export-credentials --profile %s --format process", name, name)
	case p["credential_process"] != "":
		src = &quietProcess{processcreds.NewProvider(p["credential_process"]), name}
	default:
		src, err = r.namedSource(name, "")
	}
	if err != nil {
		return nil, err
	}
	if p["role_arn"] != "" {
		return r.assumeRole(src, p["role_arn"], p["role_session_name"], "", p), nil
	}
	return src, nil
}

// quietProcess is the SDK's credential_process provider without the
// process's output in its errors: output that fails to parse (a version
// given as a string, an odd expiry) holds the keys themselves.
type quietProcess struct {
	p       *processcreds.Provider
	profile string
}

func (q *quietProcess) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := q.p.Retrieve(ctx)
	if err == nil {
		return c, nil
	}
	why := err.Error()
	var pe *processcreds.ProviderError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Err.Error(), "parse failed of process output") {
		why = "its output is not the credentials JSON"
		if inner := errors.Unwrap(pe.Err); inner != nil {
			why += " (" + inner.Error() + ")"
		}
	}
	return aws.Credentials{}, fmt.Errorf("profile %q: credential_process: %s", q.profile, why)
}

// namedSource is a credential_source (Environment, EcsContainer,
// Ec2InstanceMetadata); "" means the fallback: container credentials when
// the environment names them, else instance metadata.
func (r *awsResolver) namedSource(profile, name string) (aws.CredentialsProvider, error) {
	container := os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != "" || os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") != ""
	switch {
	case name == "Environment":
		if p := envKeys(); p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("profile %q: credential_source Environment, but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set", profile)
	case name == "EcsContainer" || name == "" && container:
		return r.container()
	case name == "Ec2InstanceMetadata" || name == "":
		return ec2rolecreds.New(func(o *ec2rolecreds.Options) {
			o.Client = imds.New(imds.Options{HTTPClient: r.hc})
		}), nil
	}
	return nil, fmt.Errorf("profile %q: unknown credential_source %q (Environment, EcsContainer or Ec2InstanceMetadata)", profile, name)
}

// container: the ECS/EKS Pod Identity credentials endpoint.
func (r *awsResolver) container() (aws.CredentialsProvider, error) {
	u := os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if rel := os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		u = "http://169.254.170.2" + rel
	} else if u == "" {
		return nil, errors.New("credential_source EcsContainer, but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI are not set")
	} else if err := allowedContainerURL(u); err != nil {
		return nil, err
	}
	return endpointcreds.New(u, func(o *endpointcreds.Options) {
		o.HTTPClient = r.hc
		o.AuthorizationToken = os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
		if f := os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); f != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(f)
				return strings.TrimSpace(string(b)), err
			})
		}
	}), nil
}

// allowedContainerURL: a full URI over plain HTTP must stay on the host
// or the ECS/EKS agent addresses, as the SDK requires (the answer is keys).
func allowedContainerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI %q is not a URL", raw)
	}
	if u.Scheme != "http" {
		return nil
	}
	addrs := []string{u.Hostname()}
	if net.ParseIP(u.Hostname()) == nil {
		if addrs, err = net.LookupHost(u.Hostname()); err != nil {
			return fmt.Errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI: %w", err)
		}
	}
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip == nil || !(ip.IsLoopback() || ip.Equal(net.IPv4(169, 254, 170, 2)) ||
			ip.Equal(net.IPv4(169, 254, 170, 23)) || ip.Equal(net.ParseIP("fd00:ec2::23"))) {
			return fmt.Errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI %q: plain HTTP only to loopback or the ECS/EKS agent", raw)
		}
	}
	return nil
}

// stsRole assumes a role through STS's query API: AssumeRole signed with
// the source's keys, or AssumeRoleWithWebIdentity with a token file.
type stsRole struct {
	r                   *awsResolver
	source              aws.CredentialsProvider
	arn, session, token string
	externalID          string
	duration            string
	endpoint, region    string
}

func (r *awsResolver) assumeRole(src aws.CredentialsProvider, arn, session, tokenFile string, p map[string]string) aws.CredentialsProvider {
	region := cmp.Or(r.region, "us-east-1") // the client's, as in the SDK
	ep := r.endpoint("sts", p)
	if ep == "" {
		ep = "https://sts." + region + ".amazonaws.com"
		if strings.HasPrefix(region, "cn-") {
			ep += ".cn"
		}
	}
	if src != nil {
		src = aws.NewCredentialsCache(src)
	}
	return &stsRole{r: r, source: src, arn: arn, session: session, token: tokenFile,
		externalID: p["external_id"], duration: p["duration_seconds"], endpoint: ep, region: region}
}

func (s *stsRole) Retrieve(ctx context.Context) (aws.Credentials, error) {
	form := url.Values{"Version": {"2011-06-15"}, "RoleArn": {s.arn},
		"RoleSessionName": {cmp.Or(s.session, fmt.Sprintf("gos3lua-%d", time.Now().UnixNano()))}}
	action := "AssumeRole"
	if s.token != "" {
		action = "AssumeRoleWithWebIdentity"
		tok, err := os.ReadFile(s.token)
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("sts: web identity token: %w", err)
		}
		form.Set("WebIdentityToken", strings.TrimSpace(string(tok)))
	} else {
		if s.externalID != "" {
			form.Set("ExternalId", s.externalID)
		}
		if s.duration != "" {
			form.Set("DurationSeconds", s.duration)
		}
	}
	form.Set("Action", action)
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(body))
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("sts: endpoint %q: %w", s.endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if s.source != nil {
		src, err := s.source.Retrieve(ctx)
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("sts: %s %s: source credentials: %w", action, s.arn, err)
		}
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(ctx, src, req, hex.EncodeToString(sum[:]), "sts", s.region, time.Now()); err != nil {
			return aws.Credentials{}, err
		}
	}
	var out struct {
		Role stsCredentials `xml:"AssumeRoleResult>Credentials"`
		Web  stsCredentials `xml:"AssumeRoleWithWebIdentityResult>Credentials"`
		Code string         `xml:"Error>Code"`
		Msg  string         `xml:"Error>Message"`
	}
	status, err := s.r.call(req, func(b []byte) error { return xml.Unmarshal(b, &out) })
	if err != nil || status != http.StatusOK {
		return aws.Credentials{}, stsError(action, s.arn, status, out.Code, out.Msg, err)
	}
	c := out.Role
	if s.token != "" {
		c = out.Web
	}
	if c.AccessKeyID == "" {
		return aws.Credentials{}, fmt.Errorf("sts: %s %s: no credentials in the answer", action, s.arn)
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken, CanExpire: true, Expires: c.Expiration, Source: "sts " + action}, nil
}

type stsCredentials struct {
	AccessKeyID     string    `xml:"AccessKeyId"`
	SecretAccessKey string    `xml:"SecretAccessKey"`
	SessionToken    string    `xml:"SessionToken"`
	Expiration      time.Time `xml:"Expiration"`
}

func stsError(action, arn string, status int, code, msg string, err error) error {
	if err != nil && code == "" {
		return fmt.Errorf("sts: %s %s: %w", action, arn, err)
	}
	return &credsError{status: status, code: cmp.Or(code, "HTTP"+strconv.Itoa(status)),
		msg: fmt.Sprintf("sts %s %s: %s", action, arn, cmp.Or(msg, http.StatusText(status)))}
}

// credsError is a refusal by a credentials service (a smithy.APIError):
// its code becomes the Lua error's kind (AccessDenied, ExpiredToken, ...).
type credsError struct {
	status    int
	code, msg string
}

func (e *credsError) Error() string                 { return e.code + ": " + e.msg }
func (e *credsError) ErrorCode() string             { return e.code }
func (e *credsError) ErrorMessage() string          { return e.msg }
func (e *credsError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

// call does req and decodes its body with decode (also on an error
// status, so that the service's own message is kept).
func (r *awsResolver) call(req *http.Request, decode func([]byte) error) (int, error) {
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if derr := decode(b); derr != nil && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, fmt.Errorf("unreadable answer: %w", derr)
	}
	return resp.StatusCode, nil
}

// ssoRole gets role credentials from IAM Identity Center with the access
// token `aws sso login` cached. An expired token is not refreshed here:
// the error says to log in again (aws-cli refreshes it on its next use).
type ssoRole struct {
	r                       *awsResolver
	profile                 string
	cache, endpoint         string
	account, role, startURL string
}

func (r *awsResolver) sso(name string, p map[string]string) (aws.CredentialsProvider, error) {
	region, start, key := p["sso_region"], p["sso_start_url"], p["sso_start_url"]
	if s := p["sso_session"]; s != "" {
		sec := r.files.sections["sso-session "+s]
		if sec == nil {
			return nil, fmt.Errorf("profile %q: sso-session %q not found in %s", name, s, r.filesString())
		}
		region, start, key = sec["sso_region"], sec["sso_start_url"], s
	}
	if region == "" || start == "" || p["sso_account_id"] == "" || p["sso_role_name"] == "" {
		return nil, fmt.Errorf("profile %q: SSO needs sso_region, sso_start_url, sso_account_id and sso_role_name", name)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum([]byte(key))
	ep := r.endpoint("sso", p)
	if ep == "" {
		ep = "https://portal.sso." + region + ".amazonaws.com"
	}
	return &ssoRole{r: r, profile: name, cache: filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"),
		endpoint: ep, account: p["sso_account_id"], role: p["sso_role_name"], startURL: start}, nil
}

func (s *ssoRole) Retrieve(ctx context.Context) (aws.Credentials, error) {
	login := fmt.Sprintf("run 'aws sso login --profile %s'", s.profile)
	data, err := os.ReadFile(s.cache)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("sso: profile %q: no cached login (%v): %s", s.profile, err, login)
	}
	var tok struct {
		AccessToken string    `json:"accessToken"`
		ExpiresAt   time.Time `json:"expiresAt"`
	}
	if err := json.Unmarshal(data, &tok); err != nil || tok.AccessToken == "" {
		return aws.Credentials{}, fmt.Errorf("sso: profile %q: unreadable token cache %s: %s", s.profile, s.cache, login)
	}
	if time.Now().After(tok.ExpiresAt) {
		return aws.Credentials{}, fmt.Errorf("sso: profile %q: the login expired at %s: %s", s.profile, tok.ExpiresAt.Format(time.RFC3339), login)
	}
	q := url.Values{"account_id": {s.account}, "role_name": {s.role}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(s.endpoint, "/")+"/federation/credentials?"+q.Encode(), nil)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("sso: endpoint %q: %w", s.endpoint, err)
	}
	req.Header.Set("x-amz-sso_bearer_token", tok.AccessToken)
	var out struct {
		RoleCredentials struct {
			AccessKeyID     string `json:"accessKeyId"`
			SecretAccessKey string `json:"secretAccessKey"`
			SessionToken    string `json:"sessionToken"`
			Expiration      int64  `json:"expiration"` // milliseconds
		} `json:"roleCredentials"`
		Message string `json:"message"`
	}
	status, err := s.r.call(req, func(b []byte) error { return json.Unmarshal(b, &out) })
	what := fmt.Sprintf("sso GetRoleCredentials %s/%s", s.account, s.role)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("%s: %w", what, err)
	}
	if status != http.StatusOK {
		code := "HTTP" + strconv.Itoa(status)
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			code = "AccessDenied"
			out.Message = strings.TrimSpace(out.Message + " (" + login + ")")
		}
		return aws.Credentials{}, &credsError{status: status, code: code, msg: fmt.Sprintf("%s: %s", what, cmp.Or(out.Message, http.StatusText(status)))}
	}
	c := out.RoleCredentials
	if c.AccessKeyID == "" {
		return aws.Credentials{}, fmt.Errorf("%s: no credentials in the answer", what)
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		CanExpire: true, Expires: time.UnixMilli(c.Expiration), Source: "sso"}, nil
}

// withCABundle makes hc trust exactly the certificates in the PEM file
// (as the SDK does with AWS_CA_BUNDLE: they replace the system roots).
func withCABundle(hc *awshttp.BuildableClient, path, from string) (*awshttp.BuildableClient, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bytes.TrimSpace(pem)) {
		return nil, fmt.Errorf("%s: no PEM certificate in %s", from, path)
	}
	return hc.WithTransportOptions(func(tr *http.Transport) {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		tr.TLSClientConfig.RootCAs = pool
	}), nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

func isTrue(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "true") }
