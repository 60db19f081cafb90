package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// TestSetupPrivilegeMatrix: admins sign in as themselves (device code)
// and set up Hire2Retire, which needs consent to Microsoft Graph
// application permissions and a directory role assignment. The sandbox
// enforces the consent matrix; preflight says beforehand, in words, what
// each admin lacks — a role held only as eligible in PIM as such, with the
// way to activate it — and a role held through a group counts.
func TestSetupPrivilegeMatrix(t *testing.T) {
	tt := newTenant(t)
	sb, tid := tt.sb, tt.sb.Tenant().TenantID
	group := sandboxtest.Group(t, sb, sandbox.GroupSpec{DisplayName: "Identity admins", RoleAssignable: true, Roles: []string{"Privileged Role Administrator"}})
	const pim = "activate it in PIM (https://portal.azure.com/#view/Microsoft_Azure_PIMCommon/ActivationMenuBlade/~/aadmigratedroles) and run again"
	lacks := func(has string) []string {
		return []string{
			"consent to Microsoft Graph application permissions needs Privileged Role Administrator or Global Administrator; " + has,
			"assigning directory roles needs Privileged Role Administrator or Global Administrator; " + has,
		}
	}
	cases := []struct {
		name  string
		user  sandbox.UserSpec
		code  int
		words []string
	}{
		{"global administrator", sandbox.UserSpec{Name: "ga", Roles: []string{"Global Administrator"}}, 0, nil},
		{"privileged role administrator", sandbox.UserSpec{Name: "pra", Roles: []string{"Privileged Role Administrator"}}, 0, nil},
		{"application administrator", sandbox.UserSpec{Name: "aa", Roles: []string{"Application Administrator"}}, 4, lacks("you have Application Administrator")},
		{"cloud application administrator", sandbox.UserSpec{Name: "caa", Roles: []string{"Cloud Application Administrator"}}, 4, lacks("you have Cloud Application Administrator")},
		{"eligible privileged role administrator", sandbox.UserSpec{Name: "eligible", Roles: []string{"Application Administrator"}, EligibleRoles: []string{"Privileged Role Administrator"}},
			4, lacks("you are eligible for Privileged Role Administrator: " + pim)},
		{"privileged role administrator through a group", sandbox.UserSpec{Name: "member", Groups: []string{group}}, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			userID, upn := sandboxtest.User(t, sb, tc.user)
			// Each admin signs in as themselves: forget the previous admin's
			// saved sign-in (its second run below keeps its own).
			if r := tt.run("auth", "logout", "--tenant", tid); r.code != 0 {
				t.Fatalf("auth logout: exit %d\n%s", r.code, r.stderr)
			}
			args := []string{"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--name", "Hire2Retire " + tc.user.Name}
			res, r := signedIn(t, tt, upn, tid, tc.code, args...)
			mustContain(t, "stderr", r.stderr, tc.words...)
			if tc.code == 0 && strings.Contains(r.stderr, "cannot do everything") {
				t.Errorf("shortfalls for an admin who may:\n%s", r.stderr)
			}
			st := tt.state()
			sp := st.spOf(str(res, "clientId"))
			consented, roles := st.consented(sp), st.roles(sp)
			if done := len(consented) == 4 && len(roles) == 1; done != (tc.code == 0) {
				t.Errorf("consented %v, roles %v after exit %d", consented, roles, tc.code)
			}
			if tc.user.Name != "eligible" {
				return
			}
			// Activated in PIM, the role counts from the next sign-in.
			if err := sb.ActivateEligibleRole(context.Background(), userID, "Privileged Role Administrator"); err != nil {
				t.Fatal(err)
			}
			// The saved sign-in's token predates the activation: the run
			// gets a new one itself (no new sign-in) and says so.
			_, r = signedIn(t, tt, upn, tid, 0, args...)
			if strings.Contains(r.stderr, "you are eligible") || strings.Contains(r.stderr, "cannot do everything") {
				t.Errorf("still eligible after activation:\n%s", r.stderr)
			}
			mustContain(t, "stderr", r.stderr, "Using the saved sign-in", "Privileged Role Administrator was activated after you signed in: entra-link got a new token that carries it")
			if strings.Contains(r.stderr, "devicelogin") || strings.Contains(r.stderr, "Signed in as") {
				t.Errorf("signed in again instead of renewing the saved sign-in's token:\n%s", r.stderr)
			}
		})
	}
}

// signedIn runs setup signed in as the user through the device-code flow.
func signedIn(t *testing.T, tt *tenant, upn, tenantID string, wantCode int, args ...string) (map[string]any, result) {
	t.Helper()
	if err := tt.sb.SignInAs(upn); err != nil {
		t.Fatal(err)
	}
	r := tt.run(append([]string{"setup", "--auth", "device-code", "--tenant", tenantID, "--yes", "--output", "json"}, args...)...)
	if r.code != wantCode {
		t.Fatalf("setup as %s: exit %d, want %d\nstderr:\n%s", upn, r.code, wantCode, r.stderr)
	}
	return decode(t, r.stdout), r
}
