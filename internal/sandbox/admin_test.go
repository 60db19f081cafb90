package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// TestAdministrationAPI drives every /_sandbox administration endpoint the
// way a test of a separately running `entra-link sandbox` would, then
// checks the result through Graph, /_sandbox/state and a restart.
func TestAdministrationAPI(t *testing.T) {
	dir := t.TempDir()
	s := sandboxtest.New(t, sandboxtest.StateDir(dir))
	info := s.Tenant()

	p := adminPost(t, s, "/_sandbox/principals", map[string]any{"name": "api client", "graphAppRoles": []string{"Application.ReadWrite.All", "Policy.Read.All"}})
	if p["clientId"] == nil || p["clientSecret"] == nil {
		t.Fatalf("principal: %v", p)
	}
	pc := appClient(t, s, p["clientId"].(string), p["clientSecret"].(string))
	grp := adminPost(t, s, "/_sandbox/groups", map[string]any{"displayName": "Role holders", "isAssignableToRole": true, "roles": []string{"Application Administrator"}})
	u := adminPost(t, s, "/_sandbox/users", map[string]any{"name": "ops", "roles": []string{"Global Reader"}, "eligibleRoles": []string{"Privileged Role Administrator"}, "groups": []string{grp["id"].(string)}})
	if u["userPrincipalName"] != "ops@"+info.TenantDomain {
		t.Fatalf("user: %v", u)
	}
	other := adminPost(t, s, "/_sandbox/users", map[string]any{"name": "later"})
	adminPost(t, s, "/_sandbox/group-members", map[string]any{"groupId": grp["id"], "memberId": other["id"]})
	adminPost(t, s, "/_sandbox/eligible-roles", map[string]any{"principalId": other["id"], "role": "Application Administrator"})
	adminPost(t, s, "/_sandbox/activate-role", map[string]any{"principalId": u["id"], "role": "Privileged Role Administrator"})
	adminPost(t, s, "/_sandbox/sign-in-as", map[string]any{"userPrincipalName": "ops@" + info.TenantDomain})
	adminPost(t, s, "/_sandbox/app-management-policy", map[string]any{"policy": map[string]any{"isEnabled": true,
		"applicationRestrictions": map[string]any{"passwordCredentials": []any{map[string]any{"restrictionType": "passwordLifetime", "maxLifetime": "P90D"}}}}})
	app := pc.do("POST", "/applications", map[string]any{"displayName": "governed", "uniqueName": "governed", "notes": "n"}).must(t, 201)
	pol := adminPost(t, s, "/_sandbox/app-management-policy/assign", map[string]any{"applicationId": app["id"], "policy": map[string]any{
		"displayName": "no secrets", "description": "certificates only", "restrictions": map[string]any{"passwordCredentials": []any{map[string]any{"restrictionType": "passwordAddition"}}}}})
	adminPost(t, s, "/_sandbox/settings", map[string]any{"requireServiceManagementReference": true})

	// Errors are reported, not swallowed.
	for path, body := range map[string]any{
		"/_sandbox/users":         map[string]any{"name": "x", "roles": []string{"Nonexistent Role"}},
		"/_sandbox/groups":        map[string]any{"displayName": "x", "roles": []string{"Global Administrator"}},
		"/_sandbox/tenants":       map[string]any{"displayName": ""},
		"/_sandbox/settings":      map[string]any{},
		"/_sandbox/activate-role": map[string]any{"principalId": other["id"], "role": "Global Administrator"},
		"/_sandbox/app-management-policy": map[string]any{"policy": map[string]any{"applicationRestrictions": map[string]any{
			"passwordCredentials": []any{map[string]any{"restrictionType": "passwordLifetime"}}}}},
	} {
		raw, _ := json.Marshal(body)
		resp, err := sandboxtest.Client(s).Post(s.URL()+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "error") {
			t.Errorf("POST %s %s: %d %s", path, raw, resp.StatusCode, b)
		}
	}
	resp, err := sandboxtest.Client(s).Get(s.URL() + "/_sandbox/tenants")
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(tb), info.TenantID) || strings.Contains(string(tb), info.ClientSecret) {
		t.Errorf("GET /_sandbox/tenants: %d %s", resp.StatusCode, tb)
	}

	// What Graph shows.
	pc.do("POST", "/applications", map[string]any{"displayName": "no reference"}).wantError(t, 400, "ServiceTreeValueMissing", "")
	pc.do("POST", "/applications/"+app["id"].(string)+"/addPassword", nil).wantError(t, 400, "CredentialTypeNotAllowedAsPerAppPolicy", pol["id"].(string))
	pc.do("DELETE", "/applications/"+app["id"].(string), nil).must(t, 204)

	// What /_sandbox/state shows, never a secret.
	raw := stateJSON(t, s)
	if strings.Contains(raw, p["clientSecret"].(string)) || strings.Contains(raw, info.ClientSecret) {
		t.Errorf("/_sandbox/state shows a secret")
	}
	var st struct {
		Users []struct {
			UPN   string   `json:"userPrincipalName"`
			Roles []string `json:"directoryRoles"`
		} `json:"users"`
		Groups []struct {
			ID      string   `json:"id"`
			Members []string `json:"members"`
			Roles   []string `json:"directoryRoles"`
		} `json:"groups"`
		Eligible []struct {
			PrincipalID string `json:"principalId"`
			RoleName    string `json:"roleName"`
		} `json:"roleEligibilities"`
		Deleted struct {
			Applications []struct {
				ID         string `json:"id"`
				UniqueName string `json:"uniqueName"`
			} `json:"applications"`
		} `json:"deletedItems"`
		Policies struct {
			Default map[string]any   `json:"default"`
			Custom  []map[string]any `json:"custom"`
		} `json:"appManagementPolicies"`
		Settings map[string]bool  `json:"settings"`
		SignIns  []map[string]any `json:"signIns"`
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatal(err)
	}
	for _, x := range st.Users {
		sort.Strings(x.Roles)
		if x.UPN == "ops@"+info.TenantDomain && strings.Join(x.Roles, ",") != "Application Administrator,Global Reader,Privileged Role Administrator" {
			t.Errorf("ops' active roles (direct, through the group, activated): %v", x.Roles)
		}
	}
	if len(st.Groups) != 1 || len(st.Groups[0].Members) != 2 || st.Groups[0].Roles[0] != "Application Administrator" {
		t.Errorf("groups: %+v", st.Groups)
	}
	if len(st.Eligible) != 2 {
		t.Errorf("eligibilities: %+v", st.Eligible)
	}
	if len(st.Deleted.Applications) != 1 || st.Deleted.Applications[0].UniqueName != "governed" {
		t.Errorf("deleted items: %+v", st.Deleted)
	}
	if st.Policies.Default["isEnabled"] != true || len(st.Policies.Custom) != 1 || !st.Settings["requireServiceManagementReference"] {
		t.Errorf("policies %+v settings %v", st.Policies, st.Settings)
	}
	if len(st.SignIns) == 0 {
		t.Errorf("no sign-ins in the state view")
	}

	// All of it survives a restart.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if after := stateJSON(t, s2); !sameState(t, raw, after) {
		t.Errorf("state changed across a restart:\nbefore %s\nafter  %s", raw, after)
	}
	stateFile, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	if bytes.Contains(stateFile, []byte(p["clientSecret"].(string))) {
		t.Errorf("state.json stores a secret in clear")
	}
}

func stateJSON(t *testing.T, s *sandbox.Server) string {
	t.Helper()
	resp, err := sandboxtest.Client(s).Get(s.URL() + "/_sandbox/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// sameState compares two state views as JSON values.
func sameState(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y map[string]any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
