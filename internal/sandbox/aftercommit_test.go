package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// rawResult is a Graph call that may get no response at all.
type rawResult struct {
	status int
	body   map[string]any
	err    error
}

// send sends a Graph request as c without failing the test on a transport
// error (what a dropped connection gives).
func (c *client) send(ctx context.Context, method, path string, body any) rawResult {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return rawResult{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return rawResult{err: err}
	}
	defer resp.Body.Close()
	r := rawResult{status: resp.StatusCode}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		r.err = err
		return r
	}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// secretsOf lists the keyIds of an application's passwords in the state.
func secretsOf(t *testing.T, s *sandbox.Server, appObjectID string) []string {
	t.Helper()
	resp, err := sandboxtest.Client(s).Get(s.URL() + "/_sandbox/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Applications []struct {
			ID                  string `json:"id"`
			PasswordCredentials []struct {
				KeyID string `json:"keyId"`
			} `json:"passwordCredentials"`
		} `json:"applications"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range st.Applications {
		if a.ID == appObjectID {
			for _, pc := range a.PasswordCredentials {
				out = append(out, pc.KeyID)
			}
		}
	}
	return out
}

// TestHangAfterCommit: the secret exists in the tenant while its response
// is held; released, the client gets exactly that secret.
func TestHangAfterCommit(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "held"}).must(t, 201)
	id := app["id"].(string)
	s.Inject(sandbox.Rule{Method: "POST", Path: `^/applications/[^/]+/addPassword$`, Action: sandbox.ActionHang})

	done := make(chan rawResult, 1)
	go func() {
		done <- admin.send(context.Background(), "POST", "/applications/"+id+"/addPassword", map[string]any{})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	held, err := s.WaitHeld(ctx, 1)
	if err != nil {
		t.Fatalf("no response was held: %v", err)
	}
	if len(held) != 1 || held[0].Method != "POST" || !strings.HasSuffix(held[0].Path, "/addPassword") || held[0].Status != 200 {
		t.Fatalf("held %+v", held)
	}
	keys := secretsOf(t, s, id)
	if len(keys) != 1 {
		t.Fatalf("while the response is held the app has %d secrets, want the new one committed", len(keys))
	}
	select {
	case r := <-done:
		t.Fatalf("the client got an answer while it was held: %+v", r)
	default:
	}
	// Other requests are served meanwhile.
	admin.do("GET", "/applications/"+id, nil).must(t, 200)
	if n := s.Release(0); n != 1 {
		t.Fatalf("released %d, want 1", n)
	}
	r := <-done
	if r.err != nil || r.status != 200 || r.body["keyId"] != keys[0] || r.body["secretText"] == "" {
		t.Fatalf("after release: %v %d keyId %v, want 200 with keyId %s", r.err, r.status, r.body["keyId"], keys[0])
	}
	if len(s.Held()) != 0 {
		t.Errorf("still held after release: %+v", s.Held())
	}
	if f := faultsOf(s, sandbox.ActionHang); len(f) != 1 || f[0].Status != 200 {
		t.Errorf("hang records %+v", f)
	}
	// One match only (Times 0 = 1): the next addPassword is answered at once.
	admin.do("POST", "/applications/"+id+"/addPassword", map[string]any{}).must(t, 200)
}

// TestDropAfterCommitSkip: Skip lets the first match through; the second
// is created in the tenant, and its client gets no response.
func TestDropAfterCommitSkip(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	s.Inject(sandbox.Rule{Method: "POST", Path: `^/applications$`, Action: sandbox.ActionDrop, Skip: 1})
	admin.do("GET", "/applications", nil).must(t, 200) // not a match: method
	first := admin.send(context.Background(), "POST", "/applications", map[string]any{"displayName": "first"})
	if first.err != nil || first.status != 201 {
		t.Fatalf("skipped match: %v %d", first.err, first.status)
	}
	second := admin.send(context.Background(), "POST", "/applications", map[string]any{"displayName": "second"})
	if second.err == nil {
		t.Fatalf("dropped request got a response: %d %v", second.status, second.body)
	}
	list := admin.do("GET", "/applications?$filter=displayName eq 'second'", nil).must(t, 200)
	if n := len(list["value"].([]any)); n != 1 {
		t.Errorf("the dropped create made %d apps, want 1 (committed before the drop)", n)
	}
	if f := faultsOf(s, sandbox.ActionDrop); len(f) != 1 || f[0].Status != 0 || f[0].Path != "/v1.0/applications" {
		t.Errorf("drop records %+v", f)
	}
	third := admin.send(context.Background(), "POST", "/applications", map[string]any{"displayName": "third"})
	if third.err != nil || third.status != 201 {
		t.Errorf("rule not bounded: %v %d", third.err, third.status)
	}
}

// TestHangTokenByClientAndClientGone: token requests match by client_id;
// a client that gives up ends the hold.
func TestHangTokenByClientAndClientGone(t *testing.T) {
	s := newSandbox(t)
	info := s.Tenant()
	s.Inject(sandbox.Rule{ClientID: "00000000-0000-0000-0000-00000000dead", Action: sandbox.ActionHang})
	s.Inject(sandbox.Rule{ClientID: info.ClientID, Path: `/oauth2/v2\.0/token$`, Action: sandbox.ActionHang})
	hc := sandboxtest.Client(s)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", "https://login.microsoftonline.com/"+info.TenantID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	held, err := s.WaitHeld(wctx, 1)
	if err != nil || len(held) != 1 || held[0].Host != "login.microsoftonline.com" || held[0].Status != 200 {
		t.Fatalf("held %+v (%v)", held, err)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("a cancelled client got a response")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Held()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the hold outlived its client: %+v", s.Held())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The rule for the other client is still there; this client's is used up.
	c := &client{t: t, s: s, hc: hc}
	if status, _ := c.tokenRequest("https://login.microsoftonline.com/"+info.TenantID+"/oauth2/v2.0/token", form); status != 200 {
		t.Errorf("second token request: %d", status)
	}
}

// TestHeldAPI drives hang rules through /_sandbox: inject, wait, release.
func TestHeldAPI(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	hc := sandboxtest.Client(s)
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), method, s.URL()+path, strings.NewReader(body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	for _, bad := range []string{`{"action":"explode"}`, `{"action":"hang","status":500}`, `{"action":"drop","skip":-1}`} {
		if status, _ := call("POST", "/_sandbox/inject", bad); status != 400 {
			t.Errorf("inject %s: %d, want 400", bad, status)
		}
	}
	if status, _ := call("POST", "/_sandbox/inject", `{"method":"GET","path":"^/organization$","action":"hang","times":2}`); status != 200 {
		t.Fatalf("inject: %d", status)
	}
	if status, m := call("GET", "/_sandbox/held?wait=50ms", ""); status != 408 || len(m["held"].([]any)) != 0 {
		t.Errorf("wait with nothing held: %d %v", status, m)
	}
	results := make(chan rawResult, 2)
	for range 2 {
		go func() { results <- admin.send(context.Background(), "GET", "/organization", nil) }()
	}
	status, m := call("GET", "/_sandbox/held?wait=20s&count=2", "")
	if status != 200 || len(m["held"].([]any)) != 2 {
		t.Fatalf("held: %d %v", status, m)
	}
	first := int64(m["held"].([]any)[0].(map[string]any)["id"].(float64))
	if status, m := call("POST", "/_sandbox/release", `{"id":`+jsonInt(first)+`}`); status != 200 || m["released"] != 1.0 {
		t.Errorf("release one: %d %v", status, m)
	}
	if r := <-results; r.err != nil || r.status != 200 {
		t.Errorf("released request: %v %d", r.err, r.status)
	}
	if status, m := call("POST", "/_sandbox/release", ""); status != 200 || m["released"] != 1.0 {
		t.Errorf("release all: %d %v", status, m)
	}
	if r := <-results; r.err != nil || r.status != 200 {
		t.Errorf("released request: %v %d", r.err, r.status)
	}
	if status, _ := call("GET", "/_sandbox/held?wait=soon", ""); status != 400 {
		t.Errorf("invalid wait accepted: %d", status)
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestCloseAbandonsHeld: closing the sandbox never waits for a release.
func TestCloseAbandonsHeld(t *testing.T) {
	s, err := sandbox.Start(context.Background(), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin := adminClient(t, s)
	s.Inject(sandbox.Rule{Path: `^/organization$`, Action: sandbox.ActionHang})
	done := make(chan rawResult, 1)
	go func() { done <- admin.send(context.Background(), "GET", "/organization", nil) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.WaitHeld(ctx, 1); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("close: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Close waited for a held response")
	}
	if r := <-done; r.err == nil {
		t.Errorf("an abandoned hold answered: %d", r.status)
	}
}

// TestFailureRuleSkip: Skip counts matches for failure rules too.
func TestFailureRuleSkip(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	s.Inject(sandbox.Rule{Method: "GET", Path: `^/organization$`, Skip: 2, Status: 503})
	admin.do("GET", "/organization", nil).must(t, 200)
	admin.do("GET", "/organization", nil).must(t, 200)
	admin.do("GET", "/organization", nil).wantError(t, 503, "serviceNotAvailable", "")
	admin.do("GET", "/organization", nil).must(t, 200)
}
