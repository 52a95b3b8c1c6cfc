package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Writers overwrite one key (and turn it into a prefix and back) while
// readers read it: every read must return one whole version, with the ETag
// of that version.
func TestConcurrentOverwrites(t *testing.T) {
	ctx := context.Background()
	srv := startStore(t, t.TempDir())
	c := client(srv.URL(), testAK, testSK)
	newBucket(t, c, "race")
	version := func(i int) []byte { return bytes.Repeat([]byte(fmt.Sprintf("v%03d;", i)), 1000+i*37) }
	put(t, c, "race", "k", version(0))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 100)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 1 + w; i < 60; i += 4 {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("k"), Body: bytes.NewReader(version(i))}); err != nil {
					errs <- err
					return
				}
				// Keys under "k/" force k to move into a directory and back.
				sub := fmt.Sprintf("k/%d", i)
				c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("race"), Key: &sub, Body: strings.NewReader("x")})
				c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("race"), Key: &sub})
			}
		}(w)
	}
	var rg sync.WaitGroup
	for r := 0; r < 4; r++ {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("race"), Key: aws.String("k")})
				if err != nil {
					var nsk *types.NoSuchKey
					if errors.As(err, &nsk) {
						err = fmt.Errorf("key vanished during overwrites: %w", err)
					}
					errs <- err
					return
				}
				data, err := io.ReadAll(out.Body)
				out.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				if etag := `"` + md5hex(data) + `"`; etag != aws.ToString(out.ETag) {
					errs <- fmt.Errorf("read %d bytes with etag %s, content has %s", len(data), aws.ToString(out.ETag), etag)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
