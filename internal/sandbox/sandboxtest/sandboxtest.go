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

// User creates a user (sandbox.UserSpec: tenant, name, active and eligible
// roles, groups) and returns its object id and user principal name.
func User(t testing.TB, s *sandbox.Server, spec sandbox.UserSpec) (id, upn string) {
	t.Helper()
	id, upn, err := s.CreateUserIn(context.Background(), spec)
	if err != nil {
		t.Fatalf("sandbox user: %v", err)
	}
	return id, upn
}

// Group creates a security group (role-assignable when spec says so) and
// returns its object id.
func Group(t testing.TB, s *sandbox.Server, spec sandbox.GroupSpec) string {
	t.Helper()
	id, err := s.CreateGroup(context.Background(), spec)
	if err != nil {
		t.Fatalf("sandbox group: %v", err)
	}
	return id
}

// Principal creates an application with a secret, consented Microsoft
// Graph application permissions and directory roles in a tenant ("" is the
// home tenant) and returns its client id and secret.
func Principal(t testing.TB, s *sandbox.Server, tenantID, name string, graphAppRoles, directoryRoles []string) (clientID, secret string) {
	t.Helper()
	clientID, secret, err := s.CreatePrincipalIn(context.Background(), tenantID, name, graphAppRoles, directoryRoles)
	if err != nil {
		t.Fatalf("sandbox principal: %v", err)
	}
	return clientID, secret
}

// DefaultAppManagementPolicy changes a tenant's default app management
// policy; policyJSON is the body of PATCH /policies/defaultAppManagementPolicy.
func DefaultAppManagementPolicy(t testing.TB, s *sandbox.Server, tenantID, policyJSON string) {
	t.Helper()
	if err := s.SetDefaultAppManagementPolicy(context.Background(), tenantID, []byte(policyJSON)); err != nil {
		t.Fatalf("sandbox policy: %v", err)
	}
}

// AppManagementPolicy assigns a per-app policy (the body of POST
// /policies/appManagementPolicies) to the application with this object id
// and returns the policy's id.
func AppManagementPolicy(t testing.TB, s *sandbox.Server, appObjectID, policyJSON string) string {
	t.Helper()
	id, err := s.AssignAppManagementPolicy(context.Background(), appObjectID, []byte(policyJSON))
	if err != nil {
		t.Fatalf("sandbox policy: %v", err)
	}
	return id
}
