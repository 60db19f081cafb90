package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNetnsSetupSeveralTenants: an MSP's runbook. `entra-link sandbox
// --add-tenant` serves three tenants; the real binary sets up Entitle in
// each from a tenants file, signing in to each with one multi-tenant app
// (--auth env), one of the customers having removed that app (its token
// endpoint answers AADSTS700016, as Entra does then). Each other tenant
// gets its own 0600 Connection JSON, which works there; the failing one
// gets none and stops nothing; exit 1. Then SIGTERM while one tenant's
// secret is being created: every secret is in the one JSON object on
// stdout, exit 130.
func TestNetnsSetupSeveralTenants(t *testing.T) {
	tn := startTenant(t, "--add-tenant", "Fabrikam", "--add-tenant", "Northwind")
	if len(tn.info.Tenants) != 2 {
		t.Fatalf("tenant.json lists %d further tenants, want 2", len(tn.info.Tenants))
	}
	home, fabrikam, northwind := tn.info.TenantID, tn.info.Tenants[0], tn.info.Tenants[1]
	tn.inject(rule{Method: "POST", Path: "^/" + northwind.TenantID + "/oauth2/v2\\.0/token$", Status: 400, Times: 100,
		Body: json.RawMessage(fmt.Sprintf(`{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier '%s' was not found in the directory 'Northwind'.","error_codes":[700016]}`, tn.info.ClientID))})

	list := filepath.Join(tn.home, "customers.txt")
	content := "# customers onboarded this week\n" + home + "\n" + fabrikam.TenantDomain + "  # Fabrikam\n" + northwind.TenantID + "\n"
	if err := os.WriteFile(list, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tn.home, "handovers")
	r := tn.must(1, nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--tenants-file", list,
		"--output", "handover", "--output-file", dir)
	if r.stdout != "" {
		t.Errorf("stdout with --output-file: %s", r)
	}
	for _, c := range []struct{ label, id string }{{home, home}, {fabrikam.TenantDomain, fabrikam.TenantID}} {
		file := filepath.Join(dir, strings.ToLower(c.label)+".json")
		fi, err := os.Stat(file)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v\n%s", file, err, fi, r)
		}
		data, _ := os.ReadFile(file)
		var conn map[string]string
		if err := json.Unmarshal(data, &conn); err != nil || conn["tenant"] != c.id {
			t.Fatalf("%s: %v %s", file, err, data)
		}
		if err := tn.tokenIn(c.id, conn["client_id"], conn["secret"], globalLogin, globalScope); err != nil {
			t.Errorf("%s: the secret does not work in its tenant: %v", file, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, northwind.TenantID+".json")); err == nil {
		t.Error("Northwind got a hand-over")
	}
	mustContain(t, "stderr", r.stderr, "Plan for Entitle (profile entitle) in 3 tenants:", "AADSTS700016", "3 tenants: 2 done, 1 failed.")
	table := r.stderr[strings.LastIndex(r.stderr, "\nTenant "):]
	for _, l := range strings.Split(table, "\n") {
		// A path alone on its line (a hand-over file) is never cut.
		alone := len(strings.Fields(l)) == 1 && strings.Contains(l, "/")
		if len([]rune(l)) > 80 && !alone {
			t.Errorf("summary line of %d columns: %q", len([]rune(l)), l)
		}
	}

	// SIGTERM while one tenant's new secret is held by the sandbox.
	tn.inject(rule{Method: "POST", Path: `^/applications/[^/]+/addPassword$`, Action: "hang"})
	p := tn.start(nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--new-credential", "--output", "json",
		"--tenant", home, "--tenant", fabrikam.TenantID)
	tn.waitHeld()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitStderr("Stopping (", 30*time.Second)
	tn.release()
	r = p.wait(2 * time.Minute)
	if r.code != 130 {
		t.Fatalf("exit %d, want 130: %s", r.code, r)
	}
	var out struct {
		Tenants []struct {
			TenantID string         `json:"tenantId"`
			Result   map[string]any `json:"result"`
		} `json:"tenants"`
		ExitCode int `json:"exitCode"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.ExitCode != 130 || len(out.Tenants) != 2 {
		t.Fatalf("stdout is not the one object (%v): %s", err, r)
	}
	delivered := 0
	for _, e := range out.Tenants {
		created := false
		steps, _ := e.Result["steps"].([]any)
		for _, s := range steps {
			m, _ := s.(map[string]any)
			created = created || (str(m, "kind") == "client-secret" && str(m, "status") == "done")
		}
		secret := str(e.Result, "clientSecret")
		if created != (secret != "") {
			t.Errorf("%s: secret created %v, delivered %v", e.TenantID, created, secret != "")
		}
		if secret != "" {
			delivered++
			if err := tn.tokenIn(e.TenantID, str(e.Result, "clientId"), secret, globalLogin, globalScope); err != nil {
				t.Errorf("%s: the secret does not work: %v", e.TenantID, err)
			}
		}
	}
	if delivered == 0 {
		t.Errorf("the held secret was not delivered: %s", r)
	}
}
