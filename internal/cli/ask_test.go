package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDayTwoAsksForTheCloud: in a terminal without --cloud, a day-2
// command asks which cloud, pre-selecting the one used last; the answer is
// remembered in a 0600 file holding nothing but the cloud's name. Scripts
// neither ask nor remember.
func TestDayTwoAsksForTheCloud(t *testing.T) {
	tt := newTenant(t)
	state := t.TempDir()
	tt.env["XDG_STATE_HOME"] = state
	file := filepath.Join(state, "entra-link", "last.json")

	// A script: no question, nothing remembered.
	tt.day2(0, "apps", "list")
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a run without a terminal remembered its cloud")
	}

	// A person picks US Government L5 (DoD), the third cloud.
	r := tt.runTTY("3\n", "apps", "list", "--auth", "env")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "prompt", r.stderr, "Which cloud is your tenant in?", "1. Microsoft Entra ID (global service) (default)", "Cloud: US Government L5 (DoD)")
	if hosts := strings.Join(tt.hosts(0), " "); !strings.Contains(hosts, "dod-graph.microsoft.us") {
		t.Errorf("the DoD cloud was not used: %s", hosts)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil || len(st) != 1 || st["cloud"] != "usgov-dod" {
		t.Errorf("remembered %s (%v); want only the cloud", data, err)
	}
	if fi, err := os.Stat(file); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", fi.Mode(), err)
	}

	// Next time it is pre-selected: Enter keeps it.
	before := len(tt.sb.Requests())
	r = tt.runTTY("\n", "verify", "--auth", "env", "--name", "nope")
	mustContain(t, "prompt", r.stderr, "3. US Government L5 (DoD) (default)", "Cloud: US Government L5 (DoD)")
	if hosts := strings.Join(tt.hosts(before), " "); strings.Contains(hosts, "graph.microsoft.com") {
		t.Errorf("the global cloud was used: %s", hosts)
	}

	// --cloud given: no question.
	r = tt.runTTY("", "apps", "list", "--auth", "env", "--cloud", "global")
	if r.code != 0 || strings.Contains(r.stderr, "Which cloud") {
		t.Errorf("exit %d; asked although --cloud was given:\n%s", r.code, r.stderr)
	}
}

// TestRotatePickerOffersOnlySecretApps: the rotate-secret picker leaves
// out apps whose product signs in with a certificate, and says so.
func TestRotatePickerOffersOnlySecretApps(t *testing.T) {
	tt := newTenant(t)
	tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer")
	r := tt.runTerminal("\n", nil, "rotate-secret", "--auth", "env", "--accessible")
	if r.code != 2 {
		t.Errorf("exit %d, want 2 (nothing to pick)", r.code)
	}
	mustContain(t, "stderr", r.stderr, "none of the apps entra-link made can be used here: Hire2Retire (Hire2Retire authenticates with a certificate, not a client secret)")
	if strings.Contains(r.stderr, "Which app gets a new client secret?") {
		t.Errorf("asked to pick from nothing:\n%s", r.stderr)
	}
	rog, _ := tt.setup(0, "--profile", "roger365")
	r = tt.runTerminal("\n\n\nn\n", nil, "rotate-secret", "--auth", "env", "--accessible")
	mustContain(t, "stderr", r.stderr, "Not listed: Hire2Retire (Hire2Retire authenticates with a certificate, not a client secret).",
		"1. ROGER365.io Azure Entra rep", "App: ROGER365.io Azure Entra replicator (client ID "+str(rog, "clientId")+")")
	if strings.Contains(r.stderr, "2. Hire2Retire") {
		t.Errorf("the certificate app is offered:\n%s", r.stderr)
	}
}
