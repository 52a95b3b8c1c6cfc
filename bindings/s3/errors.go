package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/gos3lua/gos3lua/host"
)

// s3Error turns an SDK error into the one-line host error Lua sees:
// `s3: put backup/a.txt: NoSuchBucket: The specified bucket does not exist`,
// kind = the S3 error code (or timeout/network/cancelled), with status, key
// and bucket fields.
func s3Error(op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	var he *host.Error
	if errors.As(err, &he) {
		return err
	}
	what := "s3: " + op
	if key != "" {
		what += " " + key
	} else if bucket != "" {
		what += " " + bucket
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		status = re.Response.StatusCode
	}
	var ae smithy.APIError
	var e *host.Error
	switch {
	case errors.Is(err, context.Canceled):
		e = &host.Error{Kind: "cancelled", Message: what + ": cancelled", Err: err}
	case errors.As(err, &ae) && ae.ErrorCode() != "":
		code := ae.ErrorCode()
		msg := ae.ErrorMessage()
		if code == "NotFound" && key != "" {
			code = "NoSuchKey"
		}
		if msg == "" {
			msg = defaultMessage(code, status)
		}
		e = &host.Error{Kind: code, Message: oneLine(fmt.Sprintf("%s: %s: %s", what, code, msg)), Err: err}
	case status != 0:
		code := http.StatusText(status)
		e = &host.Error{Kind: strings.ReplaceAll(code, " ", ""), Message: oneLine(fmt.Sprintf("%s: HTTP %d %s", what, status, code)), Err: err}
	default:
		e = host.Wrap(what, unwrapSDK(err))
		e.Err = err
		if e.Kind == "error" || e.Kind == "io" {
			if isNetwork(err) {
				e.Kind = "network"
			}
		}
		e.Message = oneLine(e.Message)
	}
	if status != 0 {
		e = e.With("status", status)
	}
	if key != "" {
		e = e.With("key", key)
	}
	if bucket != "" {
		e = e.With("bucket", bucket)
	}
	return e
}

// unwrapSDK strips the SDK's "operation error S3: PutObject, https response
// error StatusCode: 0, RequestID: , ..." decoration down to the cause.
func unwrapSDK(err error) error {
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		err = se.Err
	}
	for {
		var mx interface{ Unwrap() error }
		s := err.Error()
		if !strings.Contains(s, "retry") && !strings.Contains(s, "exceeded maximum number of attempts") {
			break
		}
		if !errors.As(err, &mx) || mx.Unwrap() == nil {
			break
		}
		err = mx.Unwrap()
	}
	return err
}

func isNetwork(err error) bool {
	var ce interface{ ConnectionError() bool }
	if errors.As(err, &ce) && ce.ConnectionError() {
		return true
	}
	s := err.Error()
	for _, w := range []string{"connection reset", "connection refused", "broken pipe", "EOF", "closed network connection", "no such host"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func defaultMessage(code string, status int) string {
	switch code {
	case "NoSuchKey":
		return "The specified key does not exist."
	case "NoSuchBucket":
		return "The specified bucket does not exist"
	}
	if status != 0 {
		return http.StatusText(status)
	}
	return "failed"
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

// isNotFound reports a missing key or bucket (HEAD answers 404 without a code).
func isNotFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NotFound", "NoSuchKey":
			return true
		}
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == 404 && !isCode(err, "NoSuchBucket")
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
