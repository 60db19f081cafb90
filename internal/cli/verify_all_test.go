package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/entra-link/entra-link/internal/setup"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/entra-link/entra-link/internal/sandbox"
)

// graphAdmin sends Graph requests as the sandbox's bootstrap admin, with
// one token, returning status and decoded body.
type graphAdmin struct {
	tt  *tenant
	mu  sync.Mutex
	tok azcore.AccessToken
}

func (g *graphAdmin) do(method, path string, body any) (int, map[string]any) {
	g.tt.t.Helper()
	g.mu.Lock()
	if g.tok.Token == "" {
		ti := g.tt.sb.Tenant()
		tok, err := g.tt.token(ti.ClientID, ti.ClientSecret, graphLogin, "https://graph.microsoft.com/.default")
		if err != nil {
			g.mu.Unlock()
			g.tt.t.Fatal(err)
		}
		g.tok = tok
	}
	tok := g.tok.Token
	g.mu.Unlock()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, "https://graph.microsoft.com/v1.0"+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: g.tt.sb.Transport(), Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		g.tt.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (g *graphAdmin) must(want int, method, path string, body any) map[string]any {
	g.tt.t.Helper()
	code, out := g.do(method, path, body)
	if code != want {
		g.tt.t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

// clone makes n more apps set up exactly like the app appID (made by
// setup): the same tags, permissions, consents, grants and directory roles
// and a secret valid for a year — what setup would have made, built
// directly through Graph because running setup hundreds of times would
// make the tests slow.
func (tt *tenant) clone(appID string, n int) []string {
	tt.t.Helper()
	st := tt.state()
	var src = st.Applications[0]
	for _, a := range st.Applications {
		if a.AppID == appID {
			src = a
		}
	}
	sp := st.spOf(appID)
	g := &graphAdmin{tt: tt}
	var out []string
	for i := range n {
		body := map[string]any{
			"displayName": fmt.Sprintf("%s %03d", src.DisplayName, i+1), "signInAudience": src.SignInAudience, "tags": src.Tags,
			"requiredResourceAccess": src.RequiredResourceAccess,
			// As setup leaves an app: notes saying who set it up.
			"notes": "Set up by entra-link (a copy made by the test) for " + src.DisplayName + ".",
		}
		if len(src.WebRedirectURIs) > 0 {
			body["web"] = map[string]any{"redirectUris": src.WebRedirectURIs}
		}
		app := g.must(http.StatusCreated, "POST", "/applications", body)
		id, obj := app["appId"].(string), app["id"].(string)
		g.must(http.StatusOK, "POST", "/applications/"+obj+"/addPassword", map[string]any{"passwordCredential": map[string]any{
			"displayName": "entra-link", "endDateTime": time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)}})
		// As setup leaves it: the portal's tag on the service principal.
		nsp := g.must(http.StatusCreated, "POST", "/servicePrincipals", map[string]any{"appId": id, "tags": []string{setup.PortalTag}})["id"].(string)
		for _, a := range st.AppRoleAssignments {
			if a.PrincipalID == sp {
				g.must(http.StatusCreated, "POST", "/servicePrincipals/"+a.ResourceID+"/appRoleAssignedTo", map[string]any{
					"principalId": nsp, "resourceId": a.ResourceID, "appRoleId": tt.appRoleID(st, a.ResourceID, a.AppRole)})
			}
		}
		for _, gr := range st.Grants {
			if gr.ClientID == sp {
				g.must(http.StatusCreated, "POST", "/oauth2PermissionGrants", map[string]any{
					"clientId": nsp, "resourceId": gr.ResourceID, "consentType": gr.ConsentType, "scope": gr.Scope})
			}
		}
		for _, ra := range st.RoleAssignments {
			if ra.PrincipalID == sp {
				g.must(http.StatusCreated, "POST", "/roleManagement/directory/roleAssignments", map[string]any{
					"principalId": nsp, "roleDefinitionId": tt.roleID(ra.ID), "directoryScopeId": ra.DirectoryScopeID})
			}
		}
		out = append(out, id)
	}
	return out
}

// appRoleID is the id of the app role named value on the resource.
func (tt *tenant) appRoleID(_ sbState, resourceID, value string) string {
	tt.t.Helper()
	g := &graphAdmin{tt: tt}
	sp := g.must(http.StatusOK, "GET", "/servicePrincipals/"+resourceID+"?$select=appRoles", nil)
	for _, r := range sp["appRoles"].([]any) {
		r := r.(map[string]any)
		if r["value"] == value {
			return r["id"].(string)
		}
	}
	tt.t.Fatalf("no app role %s on %s", value, resourceID)
	return ""
}

// roleID is the role definition of a directory role assignment.
func (tt *tenant) roleID(assignmentID string) string {
	tt.t.Helper()
	g := &graphAdmin{tt: tt}
	return g.must(http.StatusOK, "GET", "/roleManagement/directory/roleAssignments/"+assignmentID, nil)["roleDefinitionId"].(string)
}

// TestVerifyAllFindsExactlyTheProblems: 40 apps, most healthy; one secret
// expiring in 10 days, one app missing a consent, one stray redirect URI.
// verify --all names exactly those three problems, one line per app that
// fits 80 columns, the fixes, a summary line last, exit 3; and the printed
// fixes repair them.
func TestVerifyAllFindsExactlyTheProblems(t *testing.T) {
	tt := newTenant(t)
	for _, p := range profileRuns {
		tt.setup(0, p.args...)
	}
	expiring, _ := tt.setup(0, "--profile", "roger365", "--name", "ROGER365 soon", "--secret-expiry", "10d")
	entitle := tt.state()
	var entitleID, relutionObj string
	for _, a := range entitle.Applications {
		switch a.DisplayName {
		case "Entitle":
			entitleID = a.AppID
		case "Relution":
			relutionObj = a.ID
		}
	}
	clones := tt.clone(entitleID, 34)
	if n := len(tt.state().Applications); n < 40 {
		t.Fatalf("%d apps", n)
	}

	// A consent removed behind entra-link's back on one clone …
	st := tt.state()
	victim := st.spOf(clones[7])
	var removed string
	for _, a := range st.AppRoleAssignments {
		if a.PrincipalID == victim && a.AppRole == "Directory.ReadWrite.All" {
			if code := tt.admin(http.MethodDelete, "/servicePrincipals/"+a.ResourceID+"/appRoleAssignedTo/"+a.ID, nil); code != http.StatusNoContent {
				t.Fatalf("delete assignment: %d", code)
			}
			removed = a.ID
		}
	}
	if removed == "" {
		t.Fatal("no consent to remove")
	}
	// … and a stray redirect URI on Relution.
	if code := tt.admin(http.MethodPatch, "/applications/"+relutionObj, map[string]any{"web": map[string]any{
		"redirectUris": []string{"https://relution.contoso.com", "https://stray.contoso.com/callback"}}}); code != http.StatusNoContent {
		t.Fatalf("patch: %d", code)
	}

	before := len(tt.sb.Requests())
	r := tt.day2(3, "verify", "--all")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("verify --all changed the tenant: %v", w)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	for _, l := range lines {
		if len([]rune(l)) > 80 {
			t.Errorf("line wider than 80 columns (%d): %q", len([]rune(l)), l)
		}
	}
	appLines := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "✓ ") || strings.HasPrefix(l, "✗ ") || strings.HasPrefix(l, "! ") {
			appLines++
		}
	}
	if appLines != 41 { // 40 apps + the summary line
		t.Errorf("%d app lines, want 40 and a summary:\n%s", appLines, r.stdout)
	}
	fixes := fixCommands(r.stdout)
	for _, want := range []string{
		"entra-link rotate-secret --app-id " + str(expiring, "clientId") + " --auth env",
		"entra-link setup --profile entitle --app-id " + clones[7] + " --yes --auth env",
		"entra-link setup --profile relution --app-id " + relutionAppID(tt) + " --server-url https://relution.contoso.com --prune --yes --auth env",
	} {
		if !slices.Contains(fixes, want) {
			t.Errorf("no fix %q in %q", want, fixes)
		}
	}
	if len(fixes) != 3 {
		t.Errorf("fixes %q, want one per problem", fixes)
	}
	mustContain(t, "verify --all", r.stdout,
		"ROGER365.io  ROGER365 soon        secret expires in 10d",
		"Entitle      Entitle 008          missing admin consent",
		"Relution     Relution             extra redirect URI",
		"✗ admin consent Microsoft Graph · Directory.ReadWrite.All\n    admin consent is missing\n",
		"✗ redirect URI https://stray.contoso.com/callback\n    not one setup applied (added or changed after setup); Relution does not need it\n",
	)
	last := lines[len(lines)-1]
	if last != "✗ 40 apps checked, 37 healthy: 3 problems in 3 apps, 1 expiring credential." {
		t.Errorf("summary line %q", last)
	}

	j := decode(t, tt.day2(3, "verify", "--all", "--output", "json").stdout)
	sum := j["summary"].(map[string]any)
	if sum["apps"] != 40.0 || sum["problems"] != 3.0 || sum["withProblems"] != 3.0 || sum["healthy"] != 37.0 || j["healthy"] != false {
		t.Errorf("summary %v", sum)
	}
	var problems []string
	for _, a := range j["apps"].([]any) {
		a := a.(map[string]any)
		for _, p := range a["problems"].([]any) {
			problems = append(problems, a["app"].(map[string]any)["displayName"].(string)+": "+p.(map[string]any)["short"].(string))
		}
		if a["nearestCredentialExpiry"] == nil {
			t.Errorf("%v has no nearest expiry", a["app"])
		}
	}
	want := []string{"Entitle 008: missing admin consent", "Relution: extra redirect URI", "ROGER365 soon: secret expires in 10d"}
	if strings.Join(problems, "|") != strings.Join(want, "|") {
		t.Errorf("problems %v, want %v", problems, want)
	}

	// The printed fixes repair it: after them every app is healthy (the
	// rotated app's old secret is a note: a new one lasts longer).
	for _, f := range fixes {
		if fr := tt.runFix(f); fr.code != 0 {
			t.Fatalf("%s: %d %s", f, fr.code, fr.stderr)
		}
	}
	r = tt.day2(0, "verify", "--all")
	for _, l := range strings.Split(r.stdout, "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("line wider than 80 columns (%d): %q", len([]rune(l)), l)
		}
	}
	mustContain(t, "after the fixes", r.stdout, "! ROGER365.io  ROGER365 soon        old secret ends in 10d",
		"  ! client secret", "    expires on ", "make sure ROGER365.io uses it\n",
		"✓ 40 apps checked: all set up as their products need them.")
}

// fixCommands are the commands printed after "  fix: ", their shell line
// continuations joined.
func fixCommands(text string) []string {
	var out []string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		cmd, ok := strings.CutPrefix(lines[i], "  fix: ")
		if !ok {
			continue
		}
		for strings.HasSuffix(cmd, " \\") && i+1 < len(lines) {
			i++
			cmd = strings.TrimSuffix(cmd, " \\") + " " + strings.TrimSpace(lines[i])
		}
		out = append(out, cmd)
	}
	return out
}

func relutionAppID(tt *tenant) string {
	for _, a := range tt.state().Applications {
		if a.DisplayName == "Relution" {
			return a.AppID
		}
	}
	return ""
}

// TestVerifyAllBadInput: --all excludes --app-id, --name and --profile.
func TestVerifyAllBadInput(t *testing.T) {
	tt := newTenant(t)
	for _, args := range [][]string{{"--app-id", "00000000-1111-2222-3333-444444444444"}, {"--name", "x"}, {"--profile", "entitle"}} {
		before := len(tt.sb.Requests())
		r := tt.day2(2, append([]string{"verify", "--all"}, args...)...)
		mustContain(t, "stderr", r.stderr, "--all")
		if len(tt.sb.Requests()) != before {
			t.Errorf("%v reached the tenant", args)
		}
	}
	r := tt.day2(0, "verify", "--all")
	mustContain(t, "empty tenant", r.stdout, "No apps made by entra-link in", "✓ 0 apps checked.")
}

// dayTwoRounds runs a day-2 command against a tenant with latency added
// for the run, and returns its sequential Graph round trips and requests.
func dayTwoRounds(tb testing.TB, tt *tenant, latency time.Duration, args ...string) (rounds, requests int) {
	tb.Helper()
	tt.sb.SetFaults(sandbox.Faults{Latency: latency})
	defer tt.sb.SetFaults(sandbox.Faults{})
	mark := len(tt.sb.Requests())
	r := tt.run(append(args, "--auth", "env")...)
	if r.code != 0 && r.code != 3 {
		tb.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
	}
	return sequentialRounds(tt.sb.Requests()[mark:])
}

// seededTenant is a tenant with n healthy entitle apps (one made by
// setup, the others cloned) and a Relution app.
func seededTenant(tb testing.TB, n int) *tenant {
	tb.Helper()
	tt := newTenant(tb)
	tt.setup(0, "--profile", "relution", "--server-url", "https://relution.contoso.com")
	res, _ := tt.setup(0, "--profile", "entitle")
	if n > 2 {
		tt.clone(str(res, "clientId"), n-2)
	}
	return tt
}

// TestDayTwoRoundTripsDoNotGrowWithApps: apps list and verify --all make
// the same number of sequential Graph round trips at 5 apps as at 60
// (delete's are bounded too): the per-app reads are batched.
func TestDayTwoRoundTripsDoNotGrowWithApps(t *testing.T) {
	const latency = 50 * time.Millisecond
	small, large := seededTenant(t, 5), seededTenant(t, 60)
	for _, args := range [][]string{{"apps", "list"}, {"verify", "--all"}} {
		rs, ns := dayTwoRounds(t, small, latency, args...)
		rl, nl := dayTwoRounds(t, large, latency, args...)
		t.Logf("%v: %d round trips (%d requests) at 5 apps, %d (%d) at 60", args, rs, ns, rl, nl)
		if rl != rs {
			t.Errorf("%v: %d sequential round trips at 60 apps, %d at 5:\n%s", args, rl, rs, describeRequests(large.sb.Requests()))
		}
	}
	byID := ""
	for _, a := range large.state().Applications {
		if a.DisplayName == "Entitle 010" {
			byID = a.AppID
		}
	}
	for _, sel := range [][]string{{"--name", "Entitle 001"}, {"--app-id", byID}} {
		rounds, n := dayTwoRounds(t, large, latency, append([]string{"delete", "--yes"}, sel...)...)
		t.Logf("delete %v: %d round trips (%d requests)", sel, rounds, n)
		if rounds > 3 {
			t.Errorf("delete %v: %d sequential round trips, want ≤ 3", sel, rounds)
		}
	}
}
