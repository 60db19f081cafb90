package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// signInAs makes the tenant's commands sign in (--auth env) as a new
// service principal with these application permissions and directory roles.
func signInAs(t *testing.T, tt *tenant, name string, perms, roles []string) {
	t.Helper()
	id, secret := sandboxtest.Principal(t, tt.sb, "", name, perms, roles)
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = id, secret
}

// rawGraph are the words a refusal must not reach the user in.
var rawGraph = []string{"Authorization_RequestDenied", "graph:", "request-id", "Insufficient privileges"}

// status403 is a bare "403", not part of an id (a GUID may hold "403").
var status403 = regexp.MustCompile(`(^|[^0-9A-Za-z-])403([^0-9A-Za-z-]|$)`)

func mustNotContain(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(s, p) {
			t.Errorf("%s contains %q:\n%s", what, p, s)
		}
	}
	if status403.MatchString(s) {
		t.Errorf("%s shows a raw 403:\n%s", what, s)
	}
}

// TestRolesThatCannotBeReadAreNotNone: an identity that may not read its
// own role assignments (a Cloud Application Administrator app without
// RoleManagement.Read.Directory) is never told it has no directory role:
// preflight says the roles could not be read, and what follows from it.
func TestRolesThatCannotBeReadAreNotNone(t *testing.T) {
	tt := newTenant(t)
	signInAs(t, tt, "cloud app admin", []string{"Application.ReadWrite.All"}, []string{"Cloud Application Administrator"})
	_, r := tt.setup(4, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer")
	flat := flowed(r.stderr)
	mustContain(t, "stderr", flat,
		"consent to Microsoft Graph application permissions needs Privileged Role Administrator or Global Administrator",
		"the signed-in app has the application permissions Application.ReadWrite.All, and its directory roles could not be read (reading them needs RoleManagement.Read.Directory), so only Cloud Application Administrator, which its token names, is counted",
		"Continuing: the app is created and the output carries the admin-consent link (exit status 4).")
	mustNotContain(t, "stderr", flat, "no directory role")

	// The same, when it may not even read the apps: refused in words.
	signInAs(t, tt, "cloud app admin without permissions", nil, []string{"Cloud Application Administrator"})
	_, r = tt.setup(1, "--profile", "entitle")
	flat = flowed(r.stderr)
	mustContain(t, "stderr", flat, "the signed-in identity may not read app registrations and enterprise applications",
		"its directory roles could not be read (reading them needs RoleManagement.Read.Directory)", "Nothing was changed.")
	mustNotContain(t, "stderr", flat, "no directory role")
	mustNotContain(t, "stderr", flat, rawGraph...)
}

// TestDayTwoRefusalsInWords: an identity that may not read applications
// gets, from every day-2 command, the sentence setup says — what it
// lacks, what would be needed, nothing changed — never Graph's raw 403;
// one that may read but not write gets the same for rotate-secret's new
// secret, and the app keeps its secrets.
func TestDayTwoRefusalsInWords(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID := str(res, "clientId")
	secrets := func() int {
		st := tt.state()
		return len(st.Applications[st.app(t, appID)].PasswordCredentials)
	}
	before := secrets()

	signInAs(t, tt, "reads nothing", nil, nil)
	for _, tc := range []struct {
		args []string
		need string
	}{
		{[]string{"apps", "list"}, "which apps list lists: that needs the Application.Read.All or Application.ReadWrite.All application permission"},
		{[]string{"verify", "--app-id", appID}, "which verify checks: that needs the Application.Read.All or Application.ReadWrite.All application permission"},
		{[]string{"verify", "--all"}, "which verify --all checks: that needs the Application.Read.All"},
		{[]string{"rotate-secret", "--app-id", appID}, "which rotate-secret must find before it adds a secret: that needs the Application.ReadWrite.All application permission"},
		{[]string{"delete", "--app-id", appID, "--yes"}, "which delete must find before it deletes anything: that needs the Application.ReadWrite.All application permission"},
	} {
		r := tt.day2(1, tc.args...)
		flat := flowed(r.stderr)
		mustContain(t, strings.Join(tc.args, " "), flat, "the signed-in identity may not read app registrations and enterprise applications, "+tc.need,
			"the signed-in app has no application permissions", "Nothing was changed.")
		mustNotContain(t, strings.Join(tc.args, " "), flat, rawGraph...)
	}

	signInAs(t, tt, "reads apps", []string{"Application.Read.All"}, nil)
	r := tt.day2(1, "rotate-secret", "--app-id", appID)
	flat := flowed(r.stderr)
	mustContain(t, "rotate-secret", flat, `the signed-in identity may not add a client secret to "Entitle" (client ID `+appID+`): that needs the Application.ReadWrite.All application permission`,
		"the signed-in app has the application permissions Application.Read.All, and its directory roles could not be read", "Graph added no secret; nothing was changed.")
	mustNotContain(t, "rotate-secret", flat, rawGraph...)
	if n := secrets(); n != before {
		t.Errorf("the app has %d secrets after refused runs, had %d", n, before)
	}
}
