package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// TestAppsList: the apps entra-link made, with product, created date,
// next expiry and whether the service principal exists; nothing else.
func TestAppsList(t *testing.T) {
	tt := newTenant(t)
	r := tt.day2(0, "apps", "list")
	mustContain(t, "empty tenant", r.stdout, "No apps made by entra-link in Contoso", "entra-link setup --profile ID --auth env")
	j := decode(t, tt.day2(0, "apps", "list", "-o", "json").stdout)
	if apps, ok := j["apps"].([]any); !ok || len(apps) != 0 {
		t.Errorf("empty list must be []: %v", j)
	}

	if _, _, err := tt.sb.CreatePrincipal(context.Background(), "Legacy sync", nil, nil); err != nil {
		t.Fatal(err)
	}
	rog, _ := tt.setup(0, "--profile", "roger365", "--secret-expiry", "90d")
	h2r, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer")
	if code := tt.admin(http.MethodDelete, "/servicePrincipals/"+str(h2r, "servicePrincipalId"), nil); code != http.StatusNoContent {
		t.Fatalf("delete sp: %d", code)
	}

	// 80 columns: name, profile, client ID, expiry; ids and dates whole.
	r = tt.day2(0, "apps", "list")
	narrow := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, l := range narrow {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
	if h := narrow[headerAt(narrow)]; !strings.Contains(h, "CLIENT ID") || !strings.Contains(h, "EXPIRES") {
		t.Errorf("header %q", h)
	}
	mustContain(t, "apps list", r.stdout, str(h2r, "clientId"), str(rog, "clientId"), "2075-12-20", "ROGER365.io Azure",
		"1 app(s) have no service principal (enterprise application): see --wide.", "More columns: --wide", "hire2retire", "roger365")

	r = tt.day2(0, "apps", "list", "--wide")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !strings.HasPrefix(lines[0], "2 app(s) made by entra-link") {
		t.Fatalf("table:\n%s", r.stdout)
	}
	lines = lines[headerAt(lines)-2:]
	if len(lines) != 5 {
		t.Fatalf("table:\n%s", r.stdout)
	}
	// Sorted by name; the foreign app is not listed.
	if !strings.HasPrefix(lines[3], "Hire2Retire") || !strings.HasPrefix(lines[4], "ROGER365.io") || strings.Contains(r.stdout, "Legacy sync") {
		t.Errorf("rows:\n%s", r.stdout)
	}
	mustContain(t, "hire2retire row", lines[3], str(h2r, "clientId"), "hire2retire", "certificate 2075-12-20", "missing")
	mustContain(t, "roger365 row", lines[4], str(rog, "clientId"), "roger365", "secret ", "(in 90 days)", "yes")

	j = decode(t, tt.day2(0, "apps", "list", "--output", "json").stdout)
	apps := j["apps"].([]any)
	if len(apps) != 2 || str(j, "tenantId") != tt.sb.Tenant().TenantID {
		t.Fatalf("json %v", j)
	}
	h := apps[0].(map[string]any)
	if h["clientId"] != str(h2r, "clientId") || h["profile"] != "hire2retire" || h["servicePrincipal"] != false || str(h, "createdDateTime") == "" {
		t.Errorf("hire2retire %v", h)
	}
	exp := apps[1].(map[string]any)["nearestCredentialExpiry"].(map[string]any)
	if exp["type"] != "secret" || exp["days"] != 90.0 || exp["expired"] != false {
		t.Errorf("roger365 expiry %v", exp)
	}
	r = tt.day2(2, "apps", "list", "--output", "env")
	mustContain(t, "stderr", r.stderr, "apps list prints text or json")
}

// TestDayTwoRoundTrips: the day-2 commands read concurrently: the number
// of sequential Graph round trips, counted from the sandbox's request log
// with a latency that separates the rounds, stays at its minimum.
func TestDayTwoRoundTrips(t *testing.T) {
	tt := newTenant(t, sandboxtest.Latency(100*time.Millisecond))
	h2r, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--with", "exchange")
	ent, _ := tt.setup(0, "--profile", "entitle")
	cases := []struct {
		name string
		args []string
		max  int
	}{
		// app + service principal + tenant, then resources + what the service principal holds
		{"verify --app-id", []string{"verify", "--app-id", str(h2r, "clientId")}, 2},
		// the app by tag, then its service principal, then what it holds
		{"verify --name", []string{"verify", "--name", "Hire2Retire"}, 3},
		{"apps list", []string{"apps", "list"}, 2},
		// app + service principal + tenant, addPassword, the removals
		{"rotate-secret --remove-old", []string{"rotate-secret", "--app-id", str(ent, "clientId"), "--yes", "--remove-old"}, 3},
		// two rounds of reads, then consents and roles, the service principal, the app
		{"delete --app-id", []string{"delete", "--app-id", str(h2r, "clientId"), "--yes"}, 5},
	}
	for _, tc := range cases {
		before := len(tt.sb.Requests())
		tt.day2(0, tc.args...)
		recs := tt.sb.Requests()[before:]
		rounds, n := sequentialRounds(recs)
		if rounds > tc.max {
			t.Errorf("%s: %d sequential Graph round trips (%d requests), want ≤ %d:\n%s", tc.name, rounds, n, tc.max, describeRequests(recs))
		}
		t.Logf("%s: %d requests in %d sequential round trips", tc.name, n, rounds)
	}
}

// TestPickApp: on a terminal without --app-id or --name, a day-2 command
// asks for the cloud (--cloud not given), then lists the apps entra-link
// made and asks which one, with the picker every command uses.
func TestPickApp(t *testing.T) {
	tt := newTenant(t)
	_, _ = tt.setup(0, "--profile", "entitle")
	rog, _ := tt.setup(0, "--profile", "roger365")
	r := tt.runTTY("\n2\n", "verify", "--auth", "env")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "prompt", r.stderr, "Which cloud is your tenant in?", "1. Microsoft Entra ID (global service) (default)",
		"Which app do you want to check?", "1. Entitle ", "2. ROGER365.io Azure Entra rep…  roger365", "App: ROGER365.io Azure Entra replicator (client ID "+str(rog, "clientId")+")")
	mustContain(t, "checklist", r.stdout, "(client ID "+str(rog, "clientId")+") checked against profile roger365")
	// A number that is not offered is asked again; no answer changes nothing.
	before := len(tt.sb.Requests())
	r = tt.runTTY("\n7\n", "delete", "--auth", "env")
	if r.code != 130 || !strings.Contains(r.stderr, "Invalid: must be a number between 1 and 2") || len(tt.writes(before)) != 0 {
		t.Errorf("exit %d, writes %v\n%s", r.code, tt.writes(before), r.stderr)
	}
}

// headerAt is the index of a table's header line (NAME …).
func headerAt(lines []string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, "NAME ") {
			return i
		}
	}
	return -1
}
