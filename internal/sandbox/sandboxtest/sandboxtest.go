// Package sandboxtest starts an in-process sandbox tenant for tests.
//
//	s := sandboxtest.New(t, sandboxtest.ReplicationDelay(2*time.Second))
//	hc := sandboxtest.Client(s) // reaches the sandbox for real Microsoft URLs
//	info := s.Tenant()          // tenant id, bootstrap client id and secret
package sandboxtest

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
)

// Option adjusts the sandbox options before it starts.
type Option func(*sandbox.Options)

// StateDir keeps state in dir (default: a temporary directory).
func StateDir(dir string) Option { return func(o *sandbox.Options) { o.StateDir = dir } }

// Latency adds d to every request.
func Latency(d time.Duration) Option { return func(o *sandbox.Options) { o.Latency = d } }

// ThrottleEvery throttles every nth Graph request (429 + Retry-After).
func ThrottleEvery(n int) Option { return func(o *sandbox.Options) { o.ThrottleEvery = n } }

// FailEvery fails every nth Graph request with 503.
func FailEvery(n int) Option { return func(o *sandbox.Options) { o.FailEvery = n } }

// ReplicationDelay hides new objects from other collections for d.
func ReplicationDelay(d time.Duration) Option {
	return func(o *sandbox.Options) { o.ReplicationDelay = d }
}

// VerifiedDomains adds verified domains to the tenant.
func VerifiedDomains(domains ...string) Option {
	return func(o *sandbox.Options) { o.VerifiedDomains = append(o.VerifiedDomains, domains...) }
}

// Log writes the request log to w.
func Log(w io.Writer) Option { return func(o *sandbox.Options) { o.Log = w } }

// Tenants adds further tenants with these display names; the bootstrap
// admin's client id and secret work in each (s.Tenants() lists them).
func Tenants(displayNames ...string) Option {
	return func(o *sandbox.Options) {
		for _, n := range displayNames {
			o.Tenants = append(o.Tenants, sandbox.TenantSpec{DisplayName: n})
		}
	}
}

// New starts a sandbox for the duration of the test; it is closed (and a
// temporary state directory removed) by t.Cleanup.
func New(t testing.TB, opts ...Option) *sandbox.Server {
	t.Helper()
	var o sandbox.Options
	for _, opt := range opts {
		opt(&o)
	}
	s, err := sandbox.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	return s
}

// Client returns an HTTP client using s.Transport(): it trusts the sandbox
// CA and reaches the sandbox for its own URL and for every Microsoft login
// and Graph host, and nothing else.
func Client(s *sandbox.Server) *http.Client {
	return &http.Client{Transport: s.Transport(), Timeout: 30 * time.Second}
}
