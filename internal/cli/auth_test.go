package cli

import (
	"strings"
	"testing"
)

// TestAuthStatusAndLogout: a device-code sign-in is kept, the next command
// reuses it without a code, another cloud signs in anew; auth status shows
// who, which tenant, which cloud and until when; auth logout forgets one
// cloud's or all, after which the next command asks again.
func TestAuthStatusAndLogout(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // azidentity's persistent cache files
	tt := newTenant(t)
	tt.env["XDG_STATE_HOME"] = t.TempDir()
	tenantID := tt.sb.Tenant().TenantID
	list := func(extra ...string) result {
		t.Helper()
		r := tt.run(append([]string{"apps", "list", "--auth", "device-code", "--tenant", tenantID}, extra...)...)
		if r.code != 0 {
			t.Fatalf("apps list %v: exit %d\n%s", extra, r.code, r.stderr)
		}
		return r
	}
	status := func() string {
		t.Helper()
		r := tt.run("auth", "status")
		if r.code != 0 {
			t.Fatalf("auth status: exit %d\n%s", r.code, r.stderr)
		}
		for _, l := range strings.Split(r.stdout, "\n") {
			if len([]rune(l)) > 80 && !strings.Contains(l, "/") {
				t.Errorf("auth status line wider than 80 columns: %q", l)
			}
		}
		return r.stdout
	}

	mustContain(t, "before", status(), "No saved sign-in.")
	r := list()
	mustContain(t, "first sign-in", r.stderr, "devicelogin", "Signed in as admin@", "Later commands for this", "forgets it).")
	for _, l := range strings.Split(r.stderr, "\n") {
		if len([]rune(l)) > 80 && !strings.Contains(l, "/") {
			t.Errorf("stderr line wider than 80 columns: %q", l)
		}
	}
	r = list()
	if strings.Contains(r.stderr, "devicelogin") {
		t.Errorf("the second command asked for a device code again:\n%s", r.stderr)
	}
	mustContain(t, "second command", r.stderr, "Using the saved sign-in of admin@")

	list("--cloud", "usgov") // another cloud: a new sign-in
	s := status()
	t.Logf("auth status:\n%s", s)
	mustContain(t, "status", s, "2 saved sign-in(s)", "admin@", "  tenant     "+tenantID, "  cloud      global", "  cloud      usgov",
		"  signed in  ", "with --auth device-code", "  kept in    ", "  valid      ")
	j := decode(t, tt.run("auth", "status", "--output", "json").stdout)
	ins := j["signIns"].([]any)
	if len(ins) != 2 {
		t.Fatalf("json %v", j)
	}
	first := ins[0].(map[string]any)
	if first["tenantId"] != tenantID || first["cloud"] != "global" || first["method"] != "device-code" || str(first, "accessTokenExpiresOn") == "" {
		t.Errorf("json sign-in %v", first)
	}

	r = tt.run("auth", "logout", "--cloud", "usgov")
	if r.code != 0 || !strings.Contains(r.stdout, "Forgot the sign-in of admin@") || !strings.Contains(r.stdout, "cloud usgov") {
		t.Fatalf("logout --cloud usgov: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if s := status(); strings.Contains(s, "cloud      usgov") || !strings.Contains(s, "cloud      global") {
		t.Errorf("after logout --cloud usgov:\n%s", s)
	}
	if r := list(); strings.Contains(r.stderr, "devicelogin") {
		t.Error("logging out of usgov signed global out")
	}

	r = tt.run("auth", "logout")
	mustContain(t, "logout", r.stdout, "Forgot the sign-in of admin@", "cloud global")
	mustContain(t, "after logout", status(), "No saved sign-in.")
	mustContain(t, "after logout", list().stderr, "devicelogin", "Signed in as")
	mustContain(t, "nothing left", tt.run("auth", "logout", "--tenant", "fabrikam.onmicrosoft.com").stdout, "No saved sign-in matched")

	r = tt.run("auth", "logout", "--cloud", "mars")
	if r.code != 2 || !strings.Contains(r.stderr, "--cloud") {
		t.Errorf("bad --cloud: %d %s", r.code, r.stderr)
	}
}
