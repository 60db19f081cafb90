package sandboxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox"
)

// Remote administers a separately running sandbox (`entra-link sandbox`)
// through its /_sandbox administration API: the same operations as the
// Server methods, for tests that only have the sandbox's URL.
//
//	r := sandboxtest.NewRemote(t, "https://127.0.0.1:8443", hc)
//	id, upn := r.User(sandbox.UserSpec{Name: "pra", EligibleRoles: []string{"Privileged Role Administrator"}})
type Remote struct {
	t   testing.TB
	url string
	hc  *http.Client
}

// NewRemote returns an administration client for the sandbox at baseURL;
// hc must trust the sandbox's CA (ca.pem).
func NewRemote(t testing.TB, baseURL string, hc *http.Client) *Remote {
	return &Remote{t: t, url: baseURL, hc: hc}
}

func (r *Remote) post(path string, body, out any) {
	r.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		r.t.Fatalf("sandbox %s: %v", path, err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, r.url+"/_sandbox/"+path, bytes.NewReader(raw))
	if err != nil {
		r.t.Fatalf("sandbox %s: %v", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.hc.Do(req)
	if err != nil {
		r.t.Fatalf("sandbox %s: %v", path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		r.t.Fatalf("sandbox %s: %d %s", path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			r.t.Fatalf("sandbox %s: %v", path, err)
		}
	}
}

// AddTenant creates a further tenant and returns its id and initial domain.
func (r *Remote) AddTenant(spec sandbox.TenantSpec) (tenantID, domain string) {
	r.t.Helper()
	var out struct {
		TenantID     string `json:"tenantId"`
		TenantDomain string `json:"tenantDomain"`
	}
	r.post("tenants", spec, &out)
	return out.TenantID, out.TenantDomain
}

// Principal is Server.CreatePrincipalIn.
func (r *Remote) Principal(tenantID, name string, graphAppRoles, directoryRoles []string) (clientID, secret string) {
	r.t.Helper()
	var out struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	r.post("principals", map[string]any{"tenantId": tenantID, "name": name, "graphAppRoles": graphAppRoles, "directoryRoles": directoryRoles}, &out)
	return out.ClientID, out.ClientSecret
}

// User is Server.CreateUserIn.
func (r *Remote) User(spec sandbox.UserSpec) (id, upn string) {
	r.t.Helper()
	var out struct {
		ID  string `json:"id"`
		UPN string `json:"userPrincipalName"`
	}
	r.post("users", spec, &out)
	return out.ID, out.UPN
}

// Group is Server.CreateGroup.
func (r *Remote) Group(spec sandbox.GroupSpec) string {
	r.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	r.post("groups", spec, &out)
	return out.ID
}

// AddGroupMember is Server.AddGroupMember.
func (r *Remote) AddGroupMember(groupID, memberID string) {
	r.t.Helper()
	r.post("group-members", map[string]any{"groupId": groupID, "memberId": memberID}, nil)
}

// AddEligibleRole is Server.AddEligibleRole.
func (r *Remote) AddEligibleRole(principalID, role string) {
	r.t.Helper()
	r.post("eligible-roles", map[string]any{"principalId": principalID, "role": role}, nil)
}

// ActivateEligibleRole is Server.ActivateEligibleRole.
func (r *Remote) ActivateEligibleRole(principalID, role string) {
	r.t.Helper()
	r.post("activate-role", map[string]any{"principalId": principalID, "role": role}, nil)
}

// SignInAs is Server.SignInAs.
func (r *Remote) SignInAs(upn string) {
	r.t.Helper()
	r.post("sign-in-as", map[string]any{"userPrincipalName": upn}, nil)
}

// DefaultAppManagementPolicy is Server.SetDefaultAppManagementPolicy.
func (r *Remote) DefaultAppManagementPolicy(tenantID, policyJSON string) {
	r.t.Helper()
	r.post("app-management-policy", map[string]any{"tenantId": tenantID, "policy": json.RawMessage(policyJSON)}, nil)
}

// AppManagementPolicy is Server.AssignAppManagementPolicy.
func (r *Remote) AppManagementPolicy(appObjectID, policyJSON string) string {
	r.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	r.post("app-management-policy/assign", map[string]any{"applicationId": appObjectID, "policy": json.RawMessage(policyJSON)}, &out)
	return out.ID
}

// RequireServiceManagementReference is
// Server.SetRequireServiceManagementReference.
func (r *Remote) RequireServiceManagementReference(tenantID string, required bool) {
	r.t.Helper()
	r.post("settings", map[string]any{"tenantId": tenantID, "requireServiceManagementReference": required}, nil)
}
