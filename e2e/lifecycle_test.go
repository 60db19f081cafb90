package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Credentials are never orphaned and creates never doubled, with the real
// binary as a runbook runs it: under Graph's faults, killed with SIGKILL
// at every request, after answers that never come, and started several
// times at once.

// fiveProfiles are setup of every built-in profile, with what each needs.
var fiveProfiles = []struct {
	name, app string
	args      []string
}{
	{"entitle", "Entitle", []string{"--profile", "entitle"}},
	{"relution", "Relution", []string{"--profile", "relution", "--server-url", "https://relution.contoso.com"}},
	{"hire2retire", "Hire2Retire", []string{"--profile", "hire2retire", "--with", "exchange"}},
	{"unify", "Unify Integration", []string{"--profile", "unify", "--redirect-uri", "https://app.unifyapps.com/oauth/callback"}},
	{"roger365", "ROGER365.io Azure Entra replicator", []string{"--profile", "roger365"}},
}

// noDuplicates checks that the tenant holds one app per name, one service
// principal per app, and no consent, grant or role twice.
func (tn *tenant) noDuplicates(t *testing.T, names ...string) tenantState {
	t.Helper()
	s := tn.state()
	for _, n := range names {
		count := 0
		for _, a := range s.Applications {
			if a.DisplayName == n {
				count++
				sps := 0
				for _, sp := range s.ServicePrincipals {
					if sp.AppID == a.AppID {
						sps++
					}
				}
				if sps != 1 {
					t.Errorf("app %q has %d service principals", n, sps)
				}
			}
		}
		if count != 1 {
			t.Errorf("%d apps named %q, want 1", count, n)
		}
	}
	seen := map[string]bool{}
	for _, a := range s.AppRoleAssignments {
		k := "consent " + a.PrincipalID + " " + a.AppRole
		if seen[k] {
			t.Errorf("duplicate %s", k)
		}
		seen[k] = true
	}
	for _, g := range s.Grants {
		k := "grant " + g.ClientID + " " + g.ResourceID
		if seen[k] {
			t.Errorf("duplicate %s", k)
		}
		seen[k] = true
	}
	for _, r := range s.RoleAssignments {
		k := "role " + r.PrincipalID + " " + r.RoleName
		if seen[k] {
			t.Errorf("duplicate %s", k)
		}
		seen[k] = true
	}
	return s
}

// TestNetnsEveryProfileTwiceUnderFaults: `entra-link sandbox --fail-every 7
// --throttle-every 4 --replication-delay 3s`: every profile set up twice
// completes with exit 0, and nothing exists twice.
func TestNetnsEveryProfileTwiceUnderFaults(t *testing.T) {
	tn := startTenant(t, "--fail-every", "7", "--throttle-every", "4", "--replication-delay", "3s")
	first := len(tn.requests())
	var names []string
	for _, p := range fiveProfiles {
		names = append(names, p.app)
		t.Run(p.name, func(t *testing.T) {
			tn.t = t
			args := append([]string{"setup", "--auth", "env", "--yes", "--output", "json"}, p.args...)
			if p.name == "hire2retire" {
				args = append(args, "--certificate-out", filepath.Join(tn.home, "h2r"))
			}
			one := decodeJSON(t, tn.must(0, nil, args...))
			two := decodeJSON(t, tn.must(0, nil, args...))
			if str(one, "clientId") == "" || str(two, "clientId") != str(one, "clientId") {
				t.Errorf("the second run reports app %q, the first %q", str(two, "clientId"), str(one, "clientId"))
			}
			if str(one, "clientSecret") != "" {
				tn.proveSecret(str(one, "clientId"), str(one, "clientSecret"))
			}
			if str(two, "clientSecret") != "" || str(two, "certificateThumbprint") != "" {
				t.Error("the second run added a credential")
			}
		})
	}
	tn.t = t
	tn.noDuplicates(t, names...)
	faults := map[string]int{}
	for _, r := range tn.requests()[first:] {
		if r.Fault != "" {
			faults[r.Fault]++
		}
	}
	if faults["fail"] == 0 || faults["throttle"] == 0 || faults["replication"] == 0 {
		t.Errorf("the faults were not exercised: %v", faults)
	}
	t.Logf("faults answered: %v", faults)
}

// heldOrExited waits until the sandbox holds a response, or the process
// has exited (then the request position was never reached).
func (tn *tenant) heldOrExited(p *proc) bool {
	tn.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var out struct {
			Held []held `json:"held"`
		}
		if code := tn.call("GET", "/_sandbox/held?wait=200ms", nil, &out); code == http.StatusOK && len(out.Held) > 0 {
			return true
		}
		select {
		case <-p.done:
			return false
		default:
		}
	}
	tn.t.Fatal("nothing was held within a minute")
	return false
}

// killAt starts entra-link with args, has the sandbox hold the response to
// its request number n (committed, not answered), and kills the process
// with SIGKILL there. It returns the killed run's stdout (normally empty:
// nothing reached it).
func (tn *tenant) killAt(n int, args ...string) string {
	tn.t.Helper()
	tn.inject(rule{Action: "hang", Skip: n - 1})
	p := tn.start(nil, args...)
	if !tn.heldOrExited(p) {
		tn.t.Fatalf("entra-link ended before its request %d; the run is shorter than measured", n)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		tn.t.Fatal(err)
	}
	r := p.wait(30 * time.Second)
	tn.release()
	if r.code != 128+9 {
		tn.t.Fatalf("exit %d after SIGKILL", r.code)
	}
	return r.stdout
}

// delivered collects the key ids of the secrets the runs handed over.
type delivered map[string]bool

// add records the secret of a JSON result (or the env lines of a file).
func (d delivered) add(t *testing.T, out string) {
	t.Helper()
	out = strings.TrimSpace(out)
	if out == "" {
		return
	}
	if strings.HasPrefix(out, "{") {
		j := map[string]any{}
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			return // cut short by the kill: not delivered
		}
		if k := str(j, "clientSecretKeyId"); k != "" && str(j, "clientSecret") != "" {
			d[k] = true
		}
	}
}

// onlyDelivered fails unless every secret on the app is one a run handed over.
func (d delivered) onlyDelivered(t *testing.T, app *tenantApp, what string) {
	t.Helper()
	if app == nil {
		t.Errorf("%s: no app", what)
		return
	}
	for _, k := range app.secretKeys() {
		if !d[k] {
			t.Errorf("%s: the app holds secret %s, which no run handed over (delivered: %v)", what, k, slices.Sorted(maps.Keys(d)))
		}
	}
}

// TestNetnsKillSetupAtEveryRequest: setup killed with SIGKILL right after
// each of its requests in turn (the tenant committed it, the answer never
// came), then run again. Afterwards: one app, one service principal, and
// every secret on the app one that a run handed over.
func TestNetnsKillSetupAtEveryRequest(t *testing.T) {
	tn := startTenant(t)
	positions := 0
	for _, v := range []struct {
		name string
		args func(n int) []string // an identifier URI is unique in a tenant: one per app
	}{
		{"entitle", func(int) []string { return []string{"--profile", "entitle"} }},
		{"relution", func(n int) []string {
			return []string{"--profile", "relution", "--server-url", fmt.Sprintf("https://kill-%02d.relution.contoso.com", n)}
		}},
	} {
		tn.t = t
		base := []string{"setup", "--auth", "env", "--yes", "--output", "json"}
		before := len(tn.requests())
		tn.must(0, nil, slices.Concat(base, v.args(0), []string{"--name", "Measure " + v.name})...)
		total := len(tn.requests()) - before
		for n := 1; n <= total; n++ {
			t.Run(fmt.Sprintf("%s/request %d of %d", v.name, n, total), func(t *testing.T) {
				tn.t = t
				name := fmt.Sprintf("Kill %s %02d", v.name, n)
				args := slices.Concat(base, v.args(n), []string{"--name", name})
				d := delivered{}
				d.add(t, tn.killAt(n, args...))
				r := tn.must(0, nil, args...)
				d.add(t, r.stdout)
				s := tn.noDuplicates(t, name)
				d.onlyDelivered(t, appNamed(t, s, name), name)
				j := decodeJSON(t, r)
				if k := str(j, "clientSecret"); k != "" {
					tn.proveSecret(str(j, "clientId"), k)
				}
			})
			positions++
		}
	}
	tn.t = t
	if positions < 20 {
		t.Errorf("only %d request positions of setup were killed, want ≥ 20", positions)
	}
	t.Logf("setup killed at %d request positions", positions)
}

// TestNetnsKillRotateAtEveryRequest: the same for rotate-secret, with and
// without --remove-old, the secret to stdout or to --output-file.
func TestNetnsKillRotateAtEveryRequest(t *testing.T) {
	tn := startTenant(t)
	positions := 0
	for _, v := range []struct {
		name string
		old  int // secrets the app has before
		args []string
		file bool
	}{
		{"by name", 1, []string{"--name", "Rotate by name"}, false},
		{"remove-old", 2, []string{"--name", "Rotate remove-old", "--remove-old"}, false},
		{"remove-old to a file", 3, []string{"--name", "Rotate to a file", "--remove-old", "--output", "json"}, true},
	} {
		tn.t = t
		d := delivered{}
		app := v.args[1]
		d.add(t, tn.must(0, nil, "setup", "--profile", "roger365", "--name", app, "--auth", "env", "--yes", "--output", "json").stdout)
		for range v.old - 1 {
			d.add(t, tn.must(0, nil, "rotate-secret", "--name", app, "--auth", "env", "--output", "json").stdout)
		}
		run := func(i int) ([]string, string) {
			args := append([]string{"rotate-secret", "--auth", "env"}, v.args...)
			if !v.file {
				return append(args, "--output", "json"), ""
			}
			f := filepath.Join(tn.home, fmt.Sprintf("%s-%d.json", strings.ReplaceAll(v.name, " ", "-"), i))
			return append(args, "--output-file", f), f
		}
		// Measured on the app as it is: the count depends on its secrets.
		args, file := run(0)
		before := len(tn.requests())
		r := tn.must(0, nil, args...)
		total := len(tn.requests()) - before
		d.add(t, r.stdout)
		d.addFile(t, file)
		for n := 1; n <= total; n++ {
			t.Run(fmt.Sprintf("%s/request %d of %d", v.name, n, total), func(t *testing.T) {
				tn.t = t
				if v.old > 1 {
					// --remove-old leaves one secret: give it old ones again.
					for len(tn.state().appNamed(app).secretKeys()) < v.old {
						d.add(t, tn.must(0, nil, "rotate-secret", "--name", app, "--auth", "env", "--output", "json").stdout)
					}
				}
				args, file := run(2 * n)
				d.add(t, tn.killAt(n, args...))
				d.addFile(t, file)
				args, file = run(2*n + 1)
				r := tn.must(0, nil, args...)
				d.add(t, r.stdout)
				d.addFile(t, file)
				s := tn.noDuplicates(t, app)
				d.onlyDelivered(t, s.appNamed(app), app+" "+t.Name())
			})
			positions++
		}
	}
	tn.t = t
	if positions < 20 {
		t.Errorf("only %d request positions of rotate-secret were killed, want ≥ 20", positions)
	}
	t.Logf("rotate-secret killed at %d request positions", positions)
}

// addFile records the secret a JSON --output-file holds.
func (d delivered) addFile(t *testing.T, path string) {
	t.Helper()
	if path == "" {
		return
	}
	if data, err := os.ReadFile(path); err == nil { // else never written: nothing delivered there
		d.add(t, string(data))
	}
}

func (s tenantState) appNamed(name string) *tenantApp {
	for i := range s.Applications {
		if s.Applications[i].DisplayName == name {
			return &s.Applications[i]
		}
	}
	return nil
}

// TestNetnsConcurrentSetups: two and three `entra-link setup` processes for
// the same profile and name, started together; the tenant holds their
// lookups until all have looked, so each plans to create the app. One
// app, one service principal, each process's own secret delivered to it.
func TestNetnsConcurrentSetups(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d processes", n), func(t *testing.T) {
			tn := startTenant(t)
			tn.inject(rule{Method: "GET", Path: `^/applications$`, Action: "hang", Times: 2 * n})
			procs := make([]*proc, n)
			for i := range procs {
				procs[i] = tn.start(nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json")
			}
			var out struct {
				Held []held `json:"held"`
			}
			if code := tn.call("GET", fmt.Sprintf("/_sandbox/held?wait=60s&count=%d", 2*n), nil, &out); code != http.StatusOK || len(out.Held) < 2*n {
				t.Fatalf("the processes did not all look for the app (%d held)", len(out.Held))
			}
			tn.release()
			d := delivered{}
			for _, p := range procs {
				r := p.wait(2 * time.Minute)
				if r.code != 0 {
					t.Fatalf("a process: %s", r)
				}
				d.add(t, r.stdout)
				j := decodeJSON(t, r)
				tn.proveSecret(str(j, "clientId"), str(j, "clientSecret"))
			}
			s := tn.noDuplicates(t, "Entitle")
			app := s.appNamed("Entitle")
			d.onlyDelivered(t, app, "Entitle")
			if len(app.secretKeys()) != n {
				t.Errorf("%d secrets for %d processes", len(app.secretKeys()), n)
			}
		})
	}
}

// TestNetnsAmbiguousFailures: the tenant carries the request out and the
// connection drops before the answer — for app creation and for
// addPassword (setup and rotate-secret). The runs end with exit 0, one app,
// one service principal, and only the secrets they handed over.
func TestNetnsAmbiguousFailures(t *testing.T) {
	tn := startTenant(t)
	tn.inject(rule{Method: "PATCH", Path: `^/applications\(uniqueName=`, Action: "drop"})
	tn.inject(rule{Method: "POST", Path: `/addPassword$`, Action: "drop"})
	d := delivered{}
	r := tn.must(0, nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json")
	d.add(t, r.stdout)
	j := decodeJSON(t, r)
	tn.proveSecret(str(j, "clientId"), str(j, "clientSecret"))
	tn.inject(rule{Method: "POST", Path: `/addPassword$`, Action: "drop"})
	r = tn.must(0, nil, "rotate-secret", "--name", "Entitle", "--auth", "env", "--output", "json")
	d.add(t, r.stdout)
	s := tn.noDuplicates(t, "Entitle")
	d.onlyDelivered(t, s.appNamed("Entitle"), "Entitle")
	if len(d) != 2 {
		t.Errorf("delivered %v", d)
	}
	drops := 0
	for _, rec := range tn.requests() {
		if rec.Fault == "drop" {
			drops++
		}
	}
	if drops != 3 {
		t.Errorf("%d requests dropped, want 3: the test proves nothing", drops)
	}
}
