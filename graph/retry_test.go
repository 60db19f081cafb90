package graph

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// sequence answers the n-th request with steps[n] (the last one repeats).
func sequence(steps ...func(w http.ResponseWriter)) func(http.ResponseWriter, *http.Request, []byte) {
	var n atomic.Int32
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		i := int(n.Add(1)) - 1
		if i >= len(steps) {
			i = len(steps) - 1
		}
		steps[i](w)
	}
}

func status(code int, body string, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { reply(w, code, body, headers...) }
}

func TestRetryPolicy(t *testing.T) {
	assign := func(c *Client) error {
		_, err := c.AssignAppRole(context.Background(), AppRoleAssignment{PrincipalID: clientSP, ResourceID: graphSPID, AppRoleID: roleID})
		return err
	}
	getApp := func(c *Client) error { _, err := c.ApplicationByAppID(context.Background(), appID); return err }
	createSP := func(c *Client) error {
		_, err := c.CreateServicePrincipal(context.Background(), appID, []string{"entra-link"})
		return err
	}
	upsertApp := func(c *Client) error {
		_, _, err := c.UpsertApplication(context.Background(), "entra-link-demo", Application{DisplayName: "demo"})
		return err
	}
	upsertSP := func(c *Client) error {
		_, _, err := c.UpsertServicePrincipal(context.Background(), appID, []string{"entra-link"})
		return err
	}
	addPassword := func(c *Client) error {
		_, err := c.AddPassword(context.Background(), appObjID, "x", time.Time{})
		return err
	}
	grant := func(c *Client) error {
		_, err := c.CreatePermissionGrant(context.Background(), PermissionGrant{ClientID: clientSP, ResourceID: graphSPID, Scope: "User.Read"})
		return err
	}
	dirRole := func(c *Client) error {
		_, err := c.AssignDirectoryRole(context.Background(), clientSP, "fe930be7-5e62-47db-91af-98c3a49a38b1")
		return err
	}
	patch := func(c *Client) error {
		n := "x"
		return c.UpdateApplication(context.Background(), appObjID, ApplicationUpdate{DisplayName: &n})
	}
	okPassword := `{"keyId":"f0b0b335-1d71-4883-8f98-567911bfdca6","secretText":"s3cret","hint":"s3c"}`
	okGrant := `{"id":"l5eW7x0ga0-WDOntXzHateQDNpSH5-lPk9HjD3Sarjk","clientId":"` + clientSP + `","consentType":"AllPrincipals","resourceId":"` + graphSPID + `","scope":"User.Read"}`
	okRole := `{"id":"YUb1sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHVi2I-1","roleDefinitionId":"fe930be7-5e62-47db-91af-98c3a49a38b1","principalId":"` + clientSP + `","directoryScopeId":"/"}`

	cases := []struct {
		name         string
		call         func(*Client) error
		steps        []func(http.ResponseWriter)
		wantAttempts int
		wantErr      func(error) bool // nil = success
	}{
		{"429 Retry-After 0 then success", getApp,
			[]func(http.ResponseWriter){status(429, docThrottled, "Retry-After: 0"), status(200, docCreatedApp)}, 2, nil},
		{"503 on a read is retried", getApp,
			[]func(http.ResponseWriter){status(503, docUnavailable), status(504, ""), status(200, docCreatedApp)}, 3, nil},
		{"404 on a read means absent: not retried", getApp,
			[]func(http.ResponseWriter){status(404, docNotFound), status(200, docCreatedApp)}, 1, IsNotFound},
		{"500 is not retried", getApp,
			[]func(http.ResponseWriter){status(500, `{"error":{"code":"UnknownError","message":"x"}}`), status(200, docCreatedApp)}, 1,
			func(err error) bool { return StatusOf(err) == 500 }},
		{"create SP: replication 400 clears after 2 attempts", createSP,
			[]func(http.ResponseWriter){status(400, docNoBackingApp), status(400, docNoBackingApp), status(201, docCreatedSP)}, 3, nil},
		{"create SP: OwnedBy replication 403 is retried", createSP,
			[]func(http.ResponseWriter){status(403, `{"error":{"code":"Authorization_RequestDenied","message":"When using this permission, the backing application of the service principal being created must in the local tenant"}}`), status(201, docCreatedSP)}, 2, nil},
		{"create SP: a real 403 is final", createSP,
			[]func(http.ResponseWriter){status(403, docForbidden), status(201, docCreatedSP)}, 1, IsForbidden},
		{"create SP: 503 then 409 surfaces as conflict", createSP,
			[]func(http.ResponseWriter){status(503, docUnavailable), status(409, docSPExists)}, 2, IsConflict},
		{"assign role: not-yet-replicated principal is retried", assign,
			[]func(http.ResponseWriter){status(404, docNotFound), status(400, docNotValidRef), status(201, docCreatedAssign)}, 3, nil},
		{"assign role: 503 then already-exists is a conflict", assign,
			[]func(http.ResponseWriter){status(503, docUnavailable), status(400, docRoleExists)}, 2, IsConflict},
		{"assign role: other 400 is final", assign,
			[]func(http.ResponseWriter){status(400, docBadRequest), status(201, docCreatedAssign)}, 1,
			func(err error) bool { return StatusOf(err) == 400 && !IsConflict(err) }},
		{"grant: replication 404 is retried", grant,
			[]func(http.ResponseWriter){status(404, docNotFound), status(201, okGrant)}, 2, nil},
		{"grant: 409 is final and a conflict", grant,
			[]func(http.ResponseWriter){status(409, docGrantExists), status(201, okGrant)}, 1, IsConflict},
		{"directory role: replication 404 is retried", dirRole,
			[]func(http.ResponseWriter){status(404, docNotFound), status(201, okRole)}, 2, nil},
		{"PATCH right after create: 404 is retried", patch,
			[]func(http.ResponseWriter){status(404, docNotFound), func(w http.ResponseWriter) { w.WriteHeader(204) }}, 2, nil},
		{"upsert app: 503 and 504 are repeated (the upsert is idempotent)", upsertApp,
			[]func(http.ResponseWriter){status(503, docUnavailable), status(504, ""), status(201, docCreatedApp)}, 3, nil},
		{"upsert app: 429 is retried", upsertApp,
			[]func(http.ResponseWriter){status(429, docThrottled, "Retry-After: 0"), status(201, docCreatedApp)}, 2, nil},
		{"upsert app: a key held in the recycle bin is final", upsertApp,
			[]func(http.ResponseWriter){status(400, docKeyTaken), status(201, docCreatedApp)}, 1,
			func(err error) bool { return IsKeyTaken(err) && !IsConflict(err) }},
		{"upsert SP: replication 400 clears, 503 is repeated", upsertSP,
			[]func(http.ResponseWriter){status(400, docNoBackingApp), status(503, docUnavailable), status(201, docCreatedSP)}, 3, nil},
		{"addPassword: 400 is final", addPassword,
			[]func(http.ResponseWriter){status(400, docBadRequest), status(200, okPassword)}, 1,
			func(err error) bool { return StatusOf(err) == 400 && !MayHaveTakenEffect(err) }},
		{"addPassword: 404 right after create is retried", addPassword,
			[]func(http.ResponseWriter){status(404, docNotFound), status(200, okPassword)}, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGraph(t, sequence(tc.steps...))
			c, _ := f.client(t)
			err := tc.call(c)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != nil && (err == nil || !tc.wantErr(err)) {
				t.Fatalf("error = %v", err)
			}
			if got := f.count(); got != tc.wantAttempts {
				t.Errorf("%d attempts, want %d", got, tc.wantAttempts)
			}
			var ge *Error
			if err != nil && errors.As(err, &ge) && ge.Attempts != tc.wantAttempts {
				t.Errorf("Error.Attempts = %d, want %d", ge.Attempts, tc.wantAttempts)
			}
		})
	}
}

func TestRetryHonoursFractionalRetryAfter(t *testing.T) {
	f := newFakeGraph(t, sequence(status(429, docThrottled, "Retry-After: 0.25"), status(200, docCreatedApp)))
	c, _ := f.client(t, func(o *Options) { o.RetryBaseDelay = time.Millisecond; o.RetryMaxDelay = time.Millisecond })
	start := time.Now()
	if _, err := c.ApplicationByAppID(context.Background(), appID); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("retried after %v, before Retry-After 0.25s", el)
	}
}

func TestRetryDeadlineBoundsTheOperation(t *testing.T) {
	f := newFakeGraph(t, sequence(status(503, docUnavailable)))
	c, _ := f.client(t, func(o *Options) {
		o.RetryDeadline = 300 * time.Millisecond
		o.RetryBaseDelay = 40 * time.Millisecond
		o.RetryMaxDelay = 80 * time.Millisecond
	})
	start := time.Now()
	_, err := c.ApplicationByAppID(context.Background(), appID)
	el := time.Since(start)
	if StatusOf(err) != 503 {
		t.Fatalf("err = %v, want the last 503", err)
	}
	if n := f.count(); n < 3 {
		t.Errorf("only %d attempts within the deadline", n)
	}
	if el > 600*time.Millisecond {
		t.Errorf("gave up after %v, deadline was 300ms", el)
	}
	if !strings.Contains(err.Error(), "attempts") {
		t.Errorf("error does not say it retried: %v", err)
	}
}

func TestRetryAfterBeyondDeadlineGivesUpAtOnce(t *testing.T) {
	f := newFakeGraph(t, sequence(status(429, docThrottled, "Retry-After: 30"), status(200, docCreatedApp)))
	c, _ := f.client(t, func(o *Options) { o.RetryDeadline = time.Second })
	start := time.Now()
	_, err := c.ApplicationByAppID(context.Background(), appID)
	var ge *Error
	if !errors.As(err, &ge) || !IsThrottled(err) || ge.RetryAfter != 30*time.Second {
		t.Fatalf("err = %#v", err)
	}
	if el := time.Since(start); el > 500*time.Millisecond || f.count() != 1 {
		t.Errorf("waited %v over %d attempts for a Retry-After past the deadline", el, f.count())
	}
}

func TestRetryStopsWhenContextIsCancelled(t *testing.T) {
	f := newFakeGraph(t, sequence(status(503, docUnavailable, "Retry-After: 10")))
	c, _ := f.client(t, func(o *Options) { o.RetryDeadline = time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.ApplicationByAppID(ctx, appID)
	if !errors.Is(err, context.Canceled) || StatusOf(err) != 503 {
		t.Fatalf("err = %v, want the 503 wrapping context.Canceled", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("cancellation took %v", el)
	}
}

func TestTransportErrorsAreRetriedOnlyWhenRepeatable(t *testing.T) {
	// A server that hangs up mid-request: net/http sees a transport error.
	var n atomic.Int32
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if n.Add(1) == 1 {
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Fatal("no hijacker")
			}
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
			return
		}
		reply(w, 200, docCreatedApp)
	})
	c, _ := f.client(t)
	if _, err := c.ApplicationByAppID(context.Background(), appID); err != nil {
		t.Fatalf("read after a dropped connection: %v", err)
	}
	if f.count() != 2 {
		t.Errorf("%d attempts, want 2", f.count())
	}

	// The upsert is idempotent: a repeat after a dropped connection finds
	// what the first attempt made.
	n.Store(0)
	f.mu.Lock()
	f.reqs = nil
	f.mu.Unlock()
	if _, _, err := c.UpsertApplication(context.Background(), "entra-link-demo", Application{DisplayName: "demo"}); err != nil {
		t.Fatalf("upsert after a dropped connection: %v", err)
	}
	if f.count() != 2 {
		t.Errorf("%d attempts, want 2", f.count())
	}
}

// An untrusted server certificate (a wrong SSL_CERT_FILE, a TLS-inspecting
// proxy) is said in words with the host, and never retried.
func TestUntrustedCertificateIsNamedAndNotRetried(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { reply(w, 200, docCreatedApp) })
	c, _ := f.client(t, func(o *Options) { o.HTTPClient = &http.Client{Transport: &http.Transport{}} })
	start := time.Now()
	_, err := c.ApplicationByAppID(context.Background(), appID)
	if err == nil {
		t.Fatal("a read through an untrusted certificate succeeded")
	}
	host, _, _ := strings.Cut(strings.TrimPrefix(f.srv.URL, "https://"), ":")
	want := "cannot get application by appId: the TLS certificate of " + host + " is not trusted (x509: certificate signed by unknown authority"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want it to start with %q", err, want)
	}
	var ge *Error
	if !errors.As(err, &ge) || ge.Attempts != 1 {
		t.Errorf("attempts = %+v, want 1 (not retried)", ge)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestTraceShowsEveryAttempt(t *testing.T) {
	f := newFakeGraph(t, sequence(status(400, docNoBackingApp), status(201, docCreatedSP)))
	var trace bytes.Buffer
	c, cred := f.client(t, func(o *Options) { o.Trace = &trace })
	if _, err := c.CreateServicePrincipal(context.Background(), appID, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(trace.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("trace:\n%s", trace.String())
	}
	u := f.srv.URL + "/v1.0/servicePrincipals"
	for i, want := range []string{"graph: POST " + u + " -> 400 (", "graph: POST " + u + " -> 201 ("} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want)
		}
	}
	if !strings.HasSuffix(lines[0], "attempt 1)") || !strings.HasSuffix(lines[1], "attempt 2)") {
		t.Errorf("attempt numbers missing:\n%s", trace.String())
	}
	if strings.Contains(trace.String(), cred.token) || strings.Contains(trace.String(), appID+`"`) {
		t.Errorf("trace leaks token or body:\n%s", trace.String())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"2", 2 * time.Second, true},
		{"2.128", 2128 * time.Millisecond, true},
		{" 5 ", 5 * time.Second, true},
		{"Fri, 02 Jan 2026 03:04:15 GMT", 10 * time.Second, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true}, // in the past
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
		{"1e30", maxRetryAfter, true},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	c := &Client{retry: retryConfig{base: 100 * time.Millisecond, max: 800 * time.Millisecond}}
	for n, step := range []time.Duration{100, 200, 400, 800, 800, 800} {
		step *= time.Millisecond
		for range 20 {
			d := c.backoff(n + 1)
			if d < step/2 || d > step {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n+1, d, step/2, step)
			}
		}
	}
}

func TestOnRetryReportsEachWait(t *testing.T) {
	calls := 0
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		calls++
		if calls <= 2 {
			w.Header().Set("Retry-After", "0")
			reply(w, 429, `{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)
			return
		}
		reply(w, 200, `{"value":[{"id":"84841066-274d-4ec0-a5c1-276be684bdd3","displayName":"Contoso","verifiedDomains":[]}]}`)
	})
	var events []RetryEvent
	c, _ := f.client(t, func(o *Options) { o.OnRetry = func(e RetryEvent) { events = append(events, e) } })
	if _, err := c.Organization(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Reason != RetryThrottled || events[1].Attempt != 2 || events[0].Op == "" {
		t.Errorf("events = %+v", events)
	}
}
