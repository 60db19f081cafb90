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

func faultsOf(s *sandbox.Server, fault string) []sandbox.RequestRecord {
	var out []sandbox.RequestRecord
	for _, r := range s.Requests() {
		if r.Fault == fault {
			out = append(out, r)
		}
	}
	return out
}

func TestThrottleEvery(t *testing.T) {
	s := newSandbox(t, sandboxtest.ThrottleEvery(3))
	admin := adminClient(t, s)
	var statuses []int
	for i := 0; i < 6; i++ {
		r := admin.do("GET", "/organization", nil)
		statuses = append(statuses, r.status)
		if r.status == 429 {
			r.wantError(t, 429, "TooManyRequests", "Please retry again later.")
			if r.header.Get("Retry-After") != "1" {
				t.Errorf("Retry-After = %q, want 1", r.header.Get("Retry-After"))
			}
			inner := r.body["error"].(map[string]any)["innerError"].(map[string]any)
			if inner["code"] != "429" || inner["status"] != "429" {
				t.Errorf("throttling innerError: %v", inner)
			}
		}
	}
	want := []int{200, 200, 429, 200, 200, 429}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	if n := len(faultsOf(s, "throttle")); n != 2 {
		t.Errorf("%d throttle records, want 2", n)
	}
	// Token requests are not Graph requests and are never throttled.
	for i := 0; i < 3; i++ {
		adminClient(t, s)
	}
}

func TestFailEvery(t *testing.T) {
	s := newSandbox(t, sandboxtest.FailEvery(2))
	admin := adminClient(t, s)
	admin.do("GET", "/organization", nil).must(t, 200)
	r := admin.do("GET", "/organization", nil)
	r.wantError(t, 503, "serviceNotAvailable", "temporarily unavailable")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	// Bounded: the retry of a failed request succeeds.
	admin.do("GET", "/organization", nil).must(t, 200)
	if n := len(faultsOf(s, "fail")); n != 1 {
		t.Errorf("%d fail records, want 1", n)
	}
	s.SetFaults(sandbox.Faults{})
	for i := 0; i < 4; i++ {
		admin.do("GET", "/organization", nil).must(t, 200)
	}
}

func TestLatency(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	s.SetFaults(sandbox.Faults{Latency: 150 * time.Millisecond})
	start := time.Now()
	admin.do("GET", "/organization", nil).must(t, 200)
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("request took %v with 150ms latency", el)
	}
	recs := s.Requests()
	if last := recs[len(recs)-1]; last.Duration < 150*time.Millisecond || last.Path != "/v1.0/organization" || last.Method != "GET" || last.Status != 200 {
		t.Errorf("request record: %+v", last)
	}
}

func TestReplicationDelay(t *testing.T) {
	const delay = 700 * time.Millisecond
	s := newSandbox(t, sandboxtest.ReplicationDelay(delay))
	admin := adminClient(t, s)
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	info := s.Tenant()

	app := admin.do("POST", "/applications", map[string]any{"displayName": "replicating", "signInAudience": "AzureADMyOrg"}).must(t, 201)
	appID := app["appId"].(string)
	// The application itself is readable at once...
	admin.do("GET", "/applications/"+app["id"].(string), nil).must(t, 200)
	// ...but not yet to the service principal collection.
	admin.do("POST", "/servicePrincipals", map[string]any{"appId": appID}).wantError(t, 400, "Request_BadRequest",
		"The appId '"+appID+"' of the service principal does not reference a valid application object.")
	secret := admin.do("POST", "/applications/"+app["id"].(string)+"/addPassword", nil).must(t, 200)["secretText"].(string)
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	tokenForm := url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}}
	tokenURL := "https://login.microsoftonline.com/" + info.TenantID + "/oauth2/v2.0/token"
	status, body := c.tokenRequest(tokenURL, tokenForm)
	stsError(t, status, body, 400, "unauthorized_client", 700016)

	time.Sleep(delay)
	sp := admin.do("POST", "/servicePrincipals", map[string]any{"appId": appID}).must(t, 201)
	spID := sp["id"].(string)
	admin.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", map[string]any{"principalId": spID, "resourceId": graph["id"], "appRoleId": userReadAllRoleID}).
		wantError(t, 404, "Request_ResourceNotFound", "Resource '"+spID+"' does not exist or one of its queried reference-property objects are not present.")
	admin.do("POST", "/oauth2PermissionGrants", map[string]any{"clientId": spID, "consentType": "AllPrincipals", "resourceId": graph["id"], "scope": "User.Read"}).
		wantError(t, 404, "Request_ResourceNotFound", spID)
	admin.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": spID, "directoryScopeId": "/"}).
		wantError(t, 404, "Request_ResourceNotFound", spID)
	// A new secret of a replicated app is not accepted yet either.
	status, body = c.tokenRequest(tokenURL, tokenForm)
	if status == 200 {
		t.Fatalf("token before the service principal replicated: %v", body)
	}

	time.Sleep(delay)
	admin.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", map[string]any{"principalId": spID, "resourceId": graph["id"], "appRoleId": userReadAllRoleID}).must(t, 201)
	admin.do("POST", "/oauth2PermissionGrants", map[string]any{"clientId": spID, "consentType": "AllPrincipals", "resourceId": graph["id"], "scope": "User.Read"}).must(t, 201)
	admin.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": spID, "directoryScopeId": "/"}).must(t, 201)
	status, body = c.tokenRequest(tokenURL, tokenForm)
	if status != 200 {
		t.Fatalf("token after replication: %d %v", status, body)
	}
	second := admin.do("POST", "/applications/"+app["id"].(string)+"/addPassword", nil).must(t, 200)["secretText"].(string)
	tokenForm.Set("client_secret", second)
	status, body = c.tokenRequest(tokenURL, tokenForm)
	stsError(t, status, body, 401, "invalid_client", 7000215)
	if n := len(faultsOf(s, "replication")); n < 6 {
		t.Errorf("%d replication faults recorded, want at least 6", n)
	}
}

func TestInjectRules(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	info := s.Tenant()
	s.Inject(sandbox.Rule{Method: "POST", Path: `^/applications$`, Times: 2, Status: 503, Headers: map[string]string{"Retry-After": "0"}})
	admin.do("POST", "/applications", map[string]any{"displayName": "a"}).wantError(t, 503, "serviceNotAvailable", "")
	admin.do("GET", "/applications?$top=1", nil).must(t, 200) // other requests are untouched
	r := admin.do("POST", "/applications", map[string]any{"displayName": "a"})
	r.wantError(t, 503, "serviceNotAvailable", "")
	if r.header.Get("Retry-After") != "0" {
		t.Errorf("rule headers not applied: %v", r.header)
	}
	admin.do("POST", "/applications", map[string]any{"displayName": "a"}).must(t, 201)

	s.Inject(sandbox.Rule{Path: `^/servicePrincipals$`, Status: 400, Body: json.RawMessage(`{"error":{"code":"Request_BadRequest","message":"The appId 'x' of the service principal does not reference a valid application object."}}`)})
	admin.do("POST", "/servicePrincipals", map[string]any{"appId": "x"}).wantError(t, 400, "Request_BadRequest", "does not reference a valid application object")

	// Token requests, per client id.
	s.Inject(sandbox.Rule{ClientID: info.ClientID, Status: 401})
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	status, body := c.tokenRequest("https://login.microsoftonline.com/"+info.TenantID+"/oauth2/v2.0/token", form)
	stsError(t, status, body, 401, "invalid_client", 7000215)
	status, _ = c.tokenRequest("https://login.microsoftonline.com/"+info.TenantID+"/oauth2/v2.0/token", form)
	if status != 200 {
		t.Errorf("rule not bounded: second token request %d", status)
	}
	if n := len(faultsOf(s, "inject")); n != 4 {
		t.Errorf("%d injected faults recorded, want 4", n)
	}
}

func TestInspectionAPI(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	info := s.Tenant()
	hc := sandboxtest.Client(s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "inspected"}).must(t, 201)
	secret := admin.do("POST", "/applications/"+app["id"].(string)+"/addPassword", nil).must(t, 200)["secretText"].(string)

	get := func(path string) (int, []byte) {
		resp, err := hc.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status, raw := get("/_sandbox/state")
	if status != 200 {
		t.Fatalf("state: %d %s", status, raw)
	}
	for _, leak := range []string{secret, info.ClientSecret, `"hash"`, `"salt"`, "secretText"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("/_sandbox/state exposes %q", leak)
		}
	}
	var state map[string]any
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	var sawApp bool
	for _, a := range state["applications"].([]any) {
		m := a.(map[string]any)
		if m["id"] == app["id"] {
			sawApp = true
			pcs := m["passwordCredentials"].([]any)
			if len(pcs) != 1 || pcs[0].(map[string]any)["hint"] != secret[:3] {
				t.Errorf("credential summary: %v", pcs)
			}
		}
	}
	if !sawApp {
		t.Errorf("state lacks the new application")
	}
	for _, k := range []string{"servicePrincipals", "appRoleAssignments", "oauth2PermissionGrants", "roleAssignments", "users", "tenant"} {
		if _, ok := state[k]; !ok {
			t.Errorf("state lacks %s", k)
		}
	}

	status, raw = get("/_sandbox/requests")
	var reqs struct {
		Requests []map[string]any `json:"requests"`
	}
	if status != 200 || json.Unmarshal(raw, &reqs) != nil || len(reqs.Requests) < 3 {
		t.Fatalf("requests: %d %s", status, raw)
	}
	for _, r := range reqs.Requests {
		for _, k := range []string{"time", "method", "host", "path", "status", "duration"} {
			if _, ok := r[k]; !ok {
				t.Errorf("request record lacks %s: %v", k, r)
			}
		}
		if strings.HasPrefix(r["path"].(string), "/_sandbox") {
			t.Errorf("inspection calls are recorded: %v", r)
		}
	}

	resp, err := hc.Post(s.URL()+"/_sandbox/faults", "application/json", strings.NewReader(`{"throttleEvery": 1, "latency": "10ms", "replicationDelay": "2s"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f := s.CurrentFaults(); resp.StatusCode != 200 || f.ThrottleEvery != 1 || f.Latency != 10*time.Millisecond || f.ReplicationDelay != 2*time.Second {
		t.Errorf("POST /_sandbox/faults: %d %+v", resp.StatusCode, f)
	}
	admin.do("GET", "/organization", nil).wantError(t, 429, "TooManyRequests", "")
	resp, _ = hc.Post(s.URL()+"/_sandbox/faults", "application/json", strings.NewReader(`{"throttleEvery": -1}`))
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("negative fault accepted: %d", resp.StatusCode)
	}
	resp, _ = hc.Post(s.URL()+"/_sandbox/inject", "application/json", strings.NewReader(`{"path":"^/organization$","status":500}`))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("inject via API: %d", resp.StatusCode)
	}
	// Inspection is outside Graph: /v1.0/_sandbox/state is not it.
	s.SetFaults(sandbox.Faults{})
	admin.do("GET", "/_sandbox/state", nil).wantError(t, 400, "BadRequest", "Resource not found for the segment '_sandbox'.")
	if r := admin.do("GET", "/organization", nil); r.status != http.StatusInternalServerError {
		t.Errorf("injected rule via API not applied: %d", r.status)
	}
}

// TestStateDirLock: two sandboxes never serve the same state directory.
func TestStateDirLock(t *testing.T) {
	dir := t.TempDir()
	a := newSandbox(t, sandboxtest.StateDir(dir))
	if _, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: dir}); err == nil || !strings.Contains(err.Error(), "in use by another entra-link process") {
		t.Fatalf("second sandbox on the same state dir: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: dir})
	if err != nil {
		t.Fatalf("after Close the directory is free: %v", err)
	}
	_ = b.Close()
}
