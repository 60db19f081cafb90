package graph

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
)

// attemptKey carries the attempt number (1 = first try) from the retry loop
// to the trace line.
type attemptKey struct{}

func withAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

func attemptOf(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return 1
}

// tracer writes one line per HTTP attempt. Lines are whole writes under a
// mutex, so parallel requests never interleave mid-line.
type tracer struct {
	mu sync.Mutex
	w  io.Writer
}

func newTracer(w io.Writer) *tracer {
	if w == nil {
		return nil
	}
	return &tracer{w: w}
}

// line formats: "graph: POST https://graph.microsoft.com/v1.0/applications -> 201 (143ms, attempt 1)".
// Deliberately no headers (Authorization) and no bodies: addPassword's
// response body is the client secret.
func (t *tracer) line(method, url string, status int, err error, d time.Duration, attempt int) {
	if t == nil {
		return
	}
	result := fmt.Sprintf("%d", status)
	if err != nil {
		result = "error: " + err.Error()
	}
	s := fmt.Sprintf("graph: %s %s -> %s (%dms, attempt %d)\n", method, url, result, d.Milliseconds(), attempt)
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.w, s)
}

// item traces one request of a $batch as Graph answered it:
// "graph:   in $batch: GET /servicePrincipals?$filter=… -> 200".
func (t *tracer) item(method, url string, status int) {
	if t == nil {
		return
	}
	s := fmt.Sprintf("graph:   in $batch: %s %s -> %d\n", method, url, status)
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.w, s)
}

// wireHandler is the innermost middleware: it sets User-Agent, gives the
// body a known length (kiota leaves ContentLength 0, which net/http would
// send chunked), and traces the attempt as it goes on the wire.
type wireHandler struct {
	userAgent string
	trace     *tracer
}

// Intercept implements khttp.Middleware.
func (h *wireHandler) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	req.Header.Set("User-Agent", h.userAgent)
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength == 0 {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		req.ContentLength = int64(len(b))
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	start := time.Now()
	resp, err := p.Next(req, i)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	h.trace.line(req.Method, req.URL.String(), status, err, time.Since(start), attemptOf(req.Context()))
	return resp, err
}
