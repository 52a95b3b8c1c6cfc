package store

import (
	"errors"
	"net/http"
	"os"
)

type handler struct {
	opts Options
}

func newHandler(opts Options) (*handler, error) {
	if opts.Dir == "" {
		return nil, errors.New("s3 store: no directory")
	}
	if opts.AccessKey == "" || opts.SecretKey == "" {
		return nil, errors.New("s3 store: access key and secret key are required")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	return &handler{opts: opts}, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented", http.StatusNotImplemented)
}
