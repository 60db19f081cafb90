package sandboxtest_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// TestRemoteAndHelpers: the administration client and the in-process
// helpers set up what they say, as /_sandbox/state shows.
func TestRemoteAndHelpers(t *testing.T) {
	s := sandboxtest.New(t, sandboxtest.Tenants("Fabrikam"))
	hc := sandboxtest.Client(s)
	r := sandboxtest.NewRemote(t, s.URL(), hc)

	tid, domain := r.AddTenant(sandbox.TenantSpec{DisplayName: "Northwind"})
	if len(s.Tenants()) != 3 || !strings.HasSuffix(domain, ".onmicrosoft.com") {
		t.Fatalf("tenants %v, domain %q", s.Tenants(), domain)
	}
	gid := r.Group(sandbox.GroupSpec{TenantID: tid, DisplayName: "admins", RoleAssignable: true, Roles: []string{"Application Administrator"}})
	uid, upn := r.User(sandbox.UserSpec{TenantID: tid, Name: "ops", EligibleRoles: []string{"Privileged Role Administrator"}})
	r.AddGroupMember(gid, uid)
	r.ActivateEligibleRole(uid, "Privileged Role Administrator")
	r.SignInAs(upn)
	if id, secret := r.Principal(tid, "worker", []string{"Application.Read.All"}, nil); id == "" || secret == "" {
		t.Errorf("principal %q", id)
	}
	r.DefaultAppManagementPolicy(tid, `{"isEnabled": true}`)
	r.RequireServiceManagementReference(tid, true)

	homeUser, _ := sandboxtest.User(t, s, sandbox.UserSpec{Name: "local", Roles: []string{"Global Reader"}})
	sandboxtest.Group(t, s, sandbox.GroupSpec{DisplayName: "readers", Members: []string{homeUser}})
	if id, _ := sandboxtest.Principal(t, s, "", "home worker", nil, []string{"Application Administrator"}); id == "" {
		t.Error("no principal")
	}
	sandboxtest.DefaultAppManagementPolicy(t, s, "", `{"isEnabled": true}`)

	resp, err := hc.Get(s.URL() + "/_sandbox/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Groups  []any `json:"groups"`
		Tenants []struct {
			Tenant struct {
				ID string `json:"id"`
			} `json:"tenant"`
			Users []struct {
				UPN   string   `json:"userPrincipalName"`
				Roles []string `json:"directoryRoles"`
			} `json:"users"`
			Settings map[string]bool `json:"settings"`
			Policies struct {
				Default map[string]any `json:"default"`
			} `json:"appManagementPolicies"`
		} `json:"tenants"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.Groups) != 1 || len(st.Tenants) != 2 {
		t.Fatalf("state: %+v", st)
	}
	nw := st.Tenants[1]
	if nw.Tenant.ID != tid || !nw.Settings["requireServiceManagementReference"] || nw.Policies.Default["isEnabled"] != true {
		t.Errorf("Northwind: %+v", nw)
	}
	for _, u := range nw.Users {
		sort.Strings(u.Roles)
		if u.UPN == upn && strings.Join(u.Roles, ",") != "Application Administrator,Privileged Role Administrator" {
			t.Errorf("ops' roles: %v", u.Roles)
		}
	}
}
