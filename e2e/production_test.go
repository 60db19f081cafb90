package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The TestNetns* tests run only inside the namespace that
// TestProductionPath makes (see netns_test.go). Each starts its own
// `entra-link sandbox` and runs the real binary against it as a runbook
// would: --auth env, AZURE_* variables, SSL_CERT_FILE, the Microsoft host
// names; no --sandbox, no injected transport.

// proveSecret fails the test unless secret gets a Graph token for clientID
// on the global cloud.
func (tn *tenant) proveSecret(clientID, secret string) {
	tn.t.Helper()
	if clientID == "" || secret == "" {
		tn.t.Fatalf("no client id (%q) or no secret delivered", clientID)
	}
	if err := tn.token(clientID, secret, globalLogin, globalScope); err != nil {
		tn.t.Errorf("the delivered secret does not work: %v", err)
	}
}

// onlyHosts checks that the requests after the first n used exactly the
// given Host headers.
func (tn *tenant) onlyHosts(n int, want ...string) {
	tn.t.Helper()
	slices.Sort(want)
	if got := tn.hostsSince(n); !slices.Equal(got, want) {
		tn.t.Errorf("requests went to %v, want %v", got, want)
	}
}

// secretIn finds the one sandbox-issued secret in a text output.
func secretIn(t *testing.T, r result) string {
	t.Helper()
	all := secretLike.FindAllString(r.stdout, -1)
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) != 1 {
		t.Fatalf("want exactly one secret in the output, found %d: %s", len(all), r)
	}
	return all[0]
}

// TestNetnsSetupEveryProfile: setup for each built-in profile, between
// them every --output format and --output-file, each hand-over proven to
// work against the tenant.
func TestNetnsSetupEveryProfile(t *testing.T) {
	tn := startTenant(t)
	first := len(tn.requests())

	t.Run("entitle json", func(t *testing.T) {
		tn.t = t
		r := tn.must(0, nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json")
		j := decodeJSON(t, r)
		tn.proveSecret(str(j, "clientId"), str(j, "clientSecret"))
	})
	t.Run("relution text", func(t *testing.T) {
		tn.t = t
		r := tn.must(0, nil, "setup", "--profile", "relution", "--server-url", "https://relution.contoso.com", "--auth", "env", "--yes")
		mustContain(t, "stdout", r.stdout, "Relution")
		app := appNamed(t, tn.state(), "Relution")
		tn.proveSecret(app.AppID, secretIn(t, r))
	})
	t.Run("hire2retire env, generated certificate", func(t *testing.T) {
		tn.t = t
		out := filepath.Join(tn.home, "h2r-cert")
		r := tn.must(0, nil, "setup", "--profile", "hire2retire", "--certificate-out", out, "--auth", "env", "--yes", "--output", "env")
		vars := envLines(r.stdout)
		bundle, err := os.ReadFile(vars["AZURE_CLIENT_CERTIFICATE_PATH"])
		if err != nil || vars["AZURE_TENANT_ID"] != tn.info.TenantID {
			t.Fatalf("env output %v: %v", vars, err)
		}
		if err := tn.certToken(vars["AZURE_CLIENT_ID"], bundle, globalLogin, globalScope); err != nil {
			t.Errorf("the generated certificate does not work: %v", err)
		}
	})
	t.Run("unify handover", func(t *testing.T) {
		tn.t = t
		r := tn.must(0, nil, "setup", "--profile", "unify", "--redirect-uri", "https://app.unifyapps.com/oauth/callback", "--auth", "env", "--yes", "--output", "handover")
		app := appNamed(t, tn.state(), "Unify Integration")
		mustContain(t, "handover", r.stdout, app.AppID, tn.info.TenantID)
		tn.proveSecret(app.AppID, secretIn(t, r))
	})
	t.Run("roger365 output-file, the runbook of setup --help", func(t *testing.T) {
		tn.t = t
		file := filepath.Join(tn.home, "roger365.json")
		r := tn.must(0, nil, "setup", "--profile", "roger365", "--secret-expiry", "6m", "--no-input", "--yes", "--output", "json", "--output-file", file, "--auth", "env")
		if r.stdout != "" {
			t.Errorf("stdout is not empty with --output-file: %s", r)
		}
		fi, err := os.Stat(file)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v", file, err, fi)
		}
		data, _ := os.ReadFile(file)
		var j map[string]any
		if err := json.Unmarshal(data, &j); err != nil {
			t.Fatal(err)
		}
		tn.proveSecret(str(j, "clientId"), str(j, "clientSecret"))
	})
	tn.t = t
	tn.onlyHosts(first, "login.microsoftonline.com", "graph.microsoft.com")
}

func appNamed(t *testing.T, s tenantState, name string) *tenantApp {
	t.Helper()
	for i := range s.Applications {
		if s.Applications[i].DisplayName == name {
			return &s.Applications[i]
		}
	}
	t.Fatalf("no app %q in the tenant", name)
	return nil
}

// TestNetnsRotateSecret: the run that crashed in every real tenant
// (--remove-old proves the new secret through the run's HTTP client), as
// the issue ran it, then the runbook example of rotate-secret --help (no
// --yes, --no-input).
func TestNetnsRotateSecret(t *testing.T) {
	tn := startTenant(t)
	r := tn.must(0, nil, "setup", "--profile", "roger365", "--auth", "env", "--yes", "--output", "json")
	appID, firstSecret := str(decodeJSON(t, r), "clientId"), str(decodeJSON(t, r), "clientSecret")

	t.Run("remove-old", func(t *testing.T) {
		tn.t = t
		r := tn.must(0, nil, "rotate-secret", "--app-id", appID, "--remove-old", "--yes", "--auth", "env")
		mustContain(t, "stderr", r.stderr, "a token was obtained with it", "removed")
		tn.proveSecret(appID, secretIn(t, r))
		if keys := tn.state().app(appID).secretKeys(); len(keys) != 1 {
			t.Errorf("after --remove-old the app has %d secrets, want only the new one", len(keys))
		}
		if err := tn.token(appID, firstSecret, globalLogin, globalScope); err == nil {
			t.Error("the retired secret still gets tokens")
		}
	})
	t.Run("the runbook of --help, without --yes", func(t *testing.T) {
		tn.t = t
		before := len(tn.state().app(appID).secretKeys())
		file := filepath.Join(tn.home, "roger.env")
		tn.must(0, nil, "rotate-secret", "--name", "ROGER365.io Azure Entra replicator", "--secret-expiry", "6m", "--no-input",
			"--output", "env", "--output-file", file, "--auth", "env")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		vars := envLines(string(data))
		tn.proveSecret(vars["AZURE_CLIENT_ID"], vars["AZURE_CLIENT_SECRET"])
		if keys := tn.state().app(appID).secretKeys(); len(keys) != before+1 {
			t.Errorf("an additive rotation left %d secrets, want %d", len(keys), before+1)
		}
	})
}

// TestNetnsVerifyAppsListDelete: the read-only commands and delete.
func TestNetnsVerifyAppsListDelete(t *testing.T) {
	tn := startTenant(t)
	entitle := str(decodeJSON(t, tn.must(0, nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json")), "clientId")
	relution := str(decodeJSON(t, tn.must(0, nil, "setup", "--profile", "relution", "--server-url", "https://relution.contoso.com", "--auth", "env", "--yes", "--output", "json")), "clientId")

	r := tn.must(0, nil, "apps", "list", "--auth", "env")
	mustContain(t, "apps list", r.stdout, "2 app(s) made by entra-link", "Entitle", entitle, "Relution", relution)
	var list struct {
		TenantID string `json:"tenantId"`
		Apps     []struct {
			ClientID string `json:"clientId"`
		} `json:"apps"`
	}
	r = tn.must(0, nil, "apps", "list", "--auth", "env", "--output", "json")
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list.Apps) != 2 || list.TenantID != tn.info.TenantID {
		t.Fatalf("apps list --output json: %v %s", err, r)
	}

	tn.must(0, nil, "verify", "--name", "Entitle", "--auth", "env")
	tn.must(0, nil, "verify", "--app-id", relution, "--warn-days", "60", "--output", "json", "--auth", "env")

	before := len(tn.requests())
	tn.must(0, nil, "delete", "--app-id", entitle, "--yes", "--output", "json", "--auth", "env")
	if len(tn.writesSince(before)) == 0 || tn.state().app(entitle) != nil {
		t.Fatalf("delete left the app in place")
	}
	for _, sp := range tn.state().ServicePrincipals {
		if sp.AppID == entitle {
			t.Error("delete left the service principal")
		}
	}
	r = tn.must(0, nil, "apps", "list", "--auth", "env", "--output", "json")
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list.Apps) != 1 || list.Apps[0].ClientID != relution {
		t.Errorf("after delete: %s", r)
	}
}

// TestNetnsNationalClouds: --cloud usgov-dod and china reach only that
// cloud's sign-in and Graph hosts, and the new secret is proven on that
// cloud (rotate-secret --remove-old).
func TestNetnsNationalClouds(t *testing.T) {
	for _, c := range []struct{ name, login, graph string }{
		{"usgov-dod", "login.microsoftonline.us", "dod-graph.microsoft.us"},
		{"china", "login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tn := startTenant(t)
			before := len(tn.requests())
			j := decodeJSON(t, tn.must(0, nil, "setup", "--profile", "entitle", "--cloud", c.name, "--auth", "env", "--yes", "--output", "json"))
			if str(j, "cloud") != c.name {
				t.Errorf("cloud %q in the output", str(j, "cloud"))
			}
			appID := str(j, "clientId")
			if err := tn.token(appID, str(j, "clientSecret"), "https://"+c.login, "https://"+c.graph+"/.default"); err != nil {
				t.Errorf("the secret does not work on %s: %v", c.name, err)
			}
			r := tn.must(0, nil, "rotate-secret", "--app-id", appID, "--remove-old", "--yes", "--cloud", c.name, "--auth", "env", "--output", "json")
			rj := decodeJSON(t, r)
			if keys := tn.state().app(appID).secretKeys(); len(keys) != 1 || keys[0] != str(rj, "clientSecretKeyId") {
				t.Errorf("secrets %v after --remove-old, want only %s", keys, str(rj, "clientSecretKeyId"))
			}
			tn.onlyHosts(before, c.login, c.graph)
		})
	}
}

// TestNetnsCustomEndpoints: --authority-host and --graph-endpoint from
// tenant.json, as the sandbox's own help suggests.
func TestNetnsCustomEndpoints(t *testing.T) {
	tn := startTenant(t)
	custom := []string{"--authority-host", tn.info.AuthorityHost, "--graph-endpoint", tn.info.GraphEndpoint, "--auth", "env"}
	before := len(tn.requests())
	j := decodeJSON(t, tn.must(0, nil, append([]string{"setup", "--profile", "entitle", "--yes", "--output", "json"}, custom...)...))
	appID := str(j, "clientId")
	tn.must(0, nil, append([]string{"rotate-secret", "--app-id", appID, "--remove-old", "--yes"}, custom...)...)
	if keys := tn.state().app(appID).secretKeys(); len(keys) != 1 {
		t.Errorf("secrets %v after --remove-old", keys)
	}
	for _, h := range tn.hostsSince(before) {
		if !strings.HasPrefix(h, "127.0.0.1") {
			t.Errorf("a request went to %s, not the custom endpoints", h)
		}
	}
}

// TestNetnsSignalAfterSecretCreated: SIGINT, SIGTERM and SIGHUP sent right
// after the secret exists in the tenant (its response held by the
// sandbox): the run stops the same way for each, the secret is delivered
// and works, exit 130.
func TestNetnsSignalAfterSecretCreated(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		out  string // "" = stdout json, else an --output-file (env)
		name string
	}{
		{syscall.SIGINT, "", "SIGINT"},
		{syscall.SIGTERM, "app.env", "SIGTERM"},
		{syscall.SIGHUP, "app.env", "SIGHUP (dropped SSH session)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tn := startTenant(t)
			tn.inject(rule{Method: "POST", Path: `^/applications/[^/]+/addPassword$`, Action: "hang"})
			args := []string{"setup", "--profile", "entitle", "--auth", "env", "--yes"}
			file := ""
			if c.out == "" {
				args = append(args, "--output", "json")
			} else {
				file = filepath.Join(tn.home, c.out)
				args = append(args, "--output", "env", "--output-file", file)
			}
			p := tn.start(nil, args...)
			h := tn.waitHeld()
			if !strings.HasSuffix(h[0].Path, "/addPassword") || h[0].Status != 200 {
				t.Fatalf("held %+v", h)
			}
			if err := p.cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			p.waitStderr("Stopping (", 30*time.Second)
			tn.release()
			r := p.wait(2 * time.Minute)
			if r.code != 130 {
				t.Fatalf("exit %d, want 130: %s", r.code, r)
			}
			var appID, secret string
			if file == "" {
				j := decodeJSON(t, r)
				appID, secret = str(j, "clientId"), str(j, "clientSecret")
				if !strings.Contains(str(j, "error"), "interrupted") {
					t.Errorf("the output does not say the run was interrupted: %s", r)
				}
			} else {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("nothing delivered to %s: %v\n%s", file, err, r)
				}
				vars := envLines(string(data))
				appID, secret = vars["AZURE_CLIENT_ID"], vars["AZURE_CLIENT_SECRET"]
			}
			tn.proveSecret(appID, secret)
			// Stopped: nothing after the steps under way (consent) was started.
			s := tn.state()
			for _, sp := range s.ServicePrincipals {
				for _, a := range s.AppRoleAssignments {
					if sp.AppID == appID && a.PrincipalID == sp.ID {
						t.Errorf("consent %s was granted after the signal", a.AppRole)
					}
				}
			}
		})
	}
	t.Run("rotate-secret --remove-old, SIGTERM", func(t *testing.T) {
		tn := startTenant(t)
		appID := str(decodeJSON(t, tn.must(0, nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json")), "clientId")
		tn.inject(rule{Method: "POST", Path: `^/applications/[^/]+/addPassword$`, Action: "hang"})
		file := filepath.Join(tn.home, "conn.json")
		p := tn.start(nil, "rotate-secret", "--app-id", appID, "--remove-old", "--yes", "--auth", "env", "--output", "handover", "--output-file", file)
		tn.waitHeld()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		p.waitStderr("Stopping (", 30*time.Second)
		tn.release()
		r := p.wait(2 * time.Minute)
		if r.code != 130 {
			t.Fatalf("exit %d, want 130: %s", r.code, r)
		}
		data, err := os.ReadFile(file)
		var conn map[string]string
		if err != nil || json.Unmarshal(data, &conn) != nil {
			t.Fatalf("Connection JSON not delivered: %v\n%s", err, r)
		}
		tn.proveSecret(conn["client_id"], conn["secret"])
		if keys := tn.state().app(appID).secretKeys(); len(keys) != 2 {
			t.Errorf("secrets %v: the old one must be kept (the new one was never proven)", keys)
		}
	})
}

// TestNetnsSecondSignalStopsWaiting: Ctrl-C while addPassword's answer is
// held waits for the secret (up to the request's time limit); a second
// signal ends that wait at once. The run says that nobody has the secret
// if Entra made it, exit 130; the next run removes it, says so and
// delivers a new one.
func TestNetnsSecondSignalStopsWaiting(t *testing.T) {
	tn := startTenant(t)
	tn.inject(rule{Method: "POST", Path: `^/applications/[^/]+/addPassword$`, Action: "hang"})
	args := []string{"setup", "--profile", "roger365", "--auth", "env", "--yes", "--output", "json"}
	p := tn.start(nil, args...)
	tn.waitHeld()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.waitStderr("Stopping (", 30*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Without the second signal the run waits for the held answer until
	// the request times out (100 s): well beyond this.
	r := p.wait(30 * time.Second)
	tn.release()
	if r.code != 130 {
		t.Fatalf("exit %d, want 130: %s", r.code, r)
	}
	mustContain(t, "stderr", r.stderr, "Stopping now (terminated signal received)")
	j := decodeJSON(t, r)
	appID := str(j, "clientId")
	if str(j, "clientSecret") != "" {
		t.Errorf("a secret in the output of a run that never got one: %s", r)
	}
	var secretStep map[string]any
	for _, s := range j["steps"].([]any) {
		if m := s.(map[string]any); m["kind"] == "client-secret" {
			secretStep = m
		}
	}
	if secretStep["status"] != "interrupted" || !strings.Contains(str(secretStep, "outcome"), "nobody has its value, and the next entra-link run for this app on this machine removes it") {
		t.Errorf("the secret's step: %v", secretStep)
	}
	if keys := tn.state().app(appID).secretKeys(); len(keys) != 1 {
		t.Fatalf("secrets %v: the held addPassword was carried out, so the app holds one", keys)
	}
	orphan := tn.state().app(appID).secretKeys()[0]

	r = tn.must(0, nil, args...)
	j = decodeJSON(t, r)
	mustContain(t, "warnings", fmt.Sprint(j["warnings"]), "The previous run was interrupted after creating a secret it could not hand over; that secret was removed and a new one created.")
	tn.proveSecret(appID, str(j, "clientSecret"))
	if keys := tn.state().app(appID).secretKeys(); len(keys) != 1 || keys[0] == orphan || keys[0] != str(j, "clientSecretKeyId") {
		t.Errorf("secrets %v after the next run; want only the one it delivered (%s), not %s", keys, str(j, "clientSecretKeyId"), orphan)
	}
}

// TestNetnsClosedStdout: `setup -o json | reader` whose reader has gone
// away. The write of the result fails (no SIGPIPE death after the secret
// exists): the run says on stderr that the secret was not delivered, exit
// 1; the next run removes that secret, says so and delivers a new one.
func TestNetnsClosedStdout(t *testing.T) {
	tn := startTenant(t)
	args := []string{"setup", "--profile", "roger365", "--name", "Closed stdout", "--auth", "env", "--yes", "--output", "json"}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close() // nobody will ever read
	var stderr bytes.Buffer
	cmd := exec.Command(tn.cli, args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = tn.env(nil), tn.home, w, &stderr
	err = cmd.Run()
	_ = w.Close()
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("killed by %v (%v): %s", ws.Signal(), err, redact(stderr.String()))
	}
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, redact(stderr.String()))
	}
	mustContain(t, "stderr", stderr.String(), "could not be written to standard output", "the new client secret was not delivered")
	app := tn.state().appNamed("Closed stdout")
	if app == nil || len(app.secretKeys()) != 1 {
		t.Fatalf("app %+v: want it with the one secret nobody got", app)
	}
	appID := app.AppID
	res := tn.must(0, nil, args...)
	j := decodeJSON(t, res)
	mustContain(t, "warnings", fmt.Sprint(j["warnings"]), "that secret was removed and a new one created")
	tn.proveSecret(appID, str(j, "clientSecret"))
	if keys := tn.state().app(appID).secretKeys(); len(keys) != 1 || keys[0] != str(j, "clientSecretKeyId") {
		t.Errorf("secrets %v; want only the delivered %s", keys, str(j, "clientSecretKeyId"))
	}
}

// TestNetnsCtrlCDuringSignIn: Ctrl-C while the token request is under way
// is a cancellation, exit 130, not "sign-in failed: unable to resolve an
// endpoint".
func TestNetnsCtrlCDuringSignIn(t *testing.T) {
	tn := startTenant(t)
	tn.inject(rule{Method: "POST", Path: `/oauth2/v2\.0/token$`, Action: "hang"})
	p := tn.start(nil, "setup", "--profile", "entitle", "--auth", "env", "--yes")
	tn.waitHeld()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := p.wait(30 * time.Second) // the held token response is never released
	if r.code != 130 {
		t.Fatalf("exit %d, want 130: %s", r.code, r)
	}
	mustContain(t, "stderr", r.stderr, "cancelled; nothing was changed")
	if strings.Contains(r.stderr, "unable to resolve") || strings.Contains(r.stderr, "sign-in failed") {
		t.Errorf("the cancellation reads as a failed sign-in: %s", r)
	}
	tn.release()
}

// TestNetnsForcedPanic: a panic inside apply right after the secret was
// created (test hook, -tags testhooks): the secret is delivered and
// works, the output says the run was cut short, exit 1, not Go's 2.
func TestNetnsForcedPanic(t *testing.T) {
	tn := startTenant(t)
	hook := map[string]string{"ENTRA_LINK_TESTHOOK_PANIC": "after-secret"}
	r := tn.runBin(tn.hooks, hook, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r)
	}
	j := decodeJSON(t, r)
	tn.proveSecret(str(j, "clientId"), str(j, "clientSecret"))
	mustContain(t, "error field", str(j, "error"), "internal error")
	mustContain(t, "stderr", r.stderr, "internal error (a bug in entra-link): testhook: forced panic at after-secret")
	if strings.Contains(r.stderr, "goroutine ") {
		t.Errorf("a Go stack trace reached the user: %s", r)
	}

	file := filepath.Join(tn.home, "rotated.env")
	r = tn.runBin(tn.hooks, hook, "rotate-secret", "--app-id", str(j, "clientId"), "--remove-old", "--yes", "--auth", "env", "--output", "env", "--output-file", file)
	if r.code != 1 {
		t.Fatalf("rotate-secret: exit %d, want 1: %s", r.code, r)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("rotate-secret delivered nothing: %v\n%s", err, r)
	}
	vars := envLines(string(data))
	tn.proveSecret(vars["AZURE_CLIENT_ID"], vars["AZURE_CLIENT_SECRET"])
	if keys := tn.state().app(str(j, "clientId")).secretKeys(); len(keys) != 2 {
		t.Errorf("secrets %v: nothing may be removed after the panic", keys)
	}
}

// TestNetnsReleaseBinaryHasNoTestHook: the hook exists only with -tags
// testhooks.
func TestNetnsReleaseBinaryHasNoTestHook(t *testing.T) {
	tn := startTenant(t)
	plain, err := os.ReadFile(tn.cli)
	if err != nil {
		t.Fatal(err)
	}
	hooked, err := os.ReadFile(tn.hooks)
	if err != nil {
		t.Fatal(err)
	}
	const name = "ENTRA_LINK_TESTHOOK_PANIC"
	if bytes.Contains(plain, []byte(name)) || !bytes.Contains(hooked, []byte(name)) {
		t.Errorf("%s in the release binary: %v, in the testhooks binary: %v", name, bytes.Contains(plain, []byte(name)), bytes.Contains(hooked, []byte(name)))
	}
	r := tn.run(map[string]string{name: "after-secret"}, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json")
	if r.code != 0 {
		t.Errorf("the release binary obeyed the test hook: %s", r)
	}
}

// TestNetnsBadInputFiles: a FIFO, /dev/zero or a huge file given as
// --certificate-file, --profile-file or AZURE_CLIENT_CERTIFICATE_PATH is
// refused at once (exit 2, a message naming it), before anything is sent.
func TestNetnsBadInputFiles(t *testing.T) {
	tn := startTenant(t)
	fifo := filepath.Join(tn.home, "input.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(tn.home, "huge.pem")
	if err := os.WriteFile(huge, nil, 0o600); err != nil || os.Truncate(huge, 4<<30) != nil {
		t.Fatal("cannot make a sparse 4 GiB file")
	}
	files := []struct{ path, says string }{
		{fifo, "is a named pipe (FIFO), not a file"},
		{"/dev/zero", "is a character device, not a file"},
		{huge, "larger than"},
	}
	uses := []struct {
		name  string
		names string
		run   func(path string) result
	}{
		{"--certificate-file", "--certificate-file", func(p string) result {
			return tn.runFor(30*time.Second, nil, "setup", "--profile", "hire2retire", "--certificate-file", p, "--auth", "env", "--yes")
		}},
		{"--profile-file", "--profile-file", func(p string) result {
			return tn.runFor(30*time.Second, nil, "setup", "--profile-file", p, "--auth", "env", "--yes")
		}},
		{"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PATH", func(p string) result {
			return tn.runFor(30*time.Second, map[string]string{"AZURE_CLIENT_SECRET": "", "AZURE_CLIENT_CERTIFICATE_PATH": p}, "apps", "list", "--auth", "env")
		}},
	}
	for _, u := range uses {
		for _, f := range files {
			t.Run(u.name+" "+filepath.Base(f.path), func(t *testing.T) {
				tn.t = t
				before := len(tn.requests())
				r := u.run(f.path)
				if r.code != 2 {
					t.Fatalf("exit %d, want 2: %s", r.code, r)
				}
				mustContain(t, "stderr", r.stderr, u.names, f.says)
				if n := len(tn.requests()) - before; n != 0 {
					t.Errorf("%d requests were sent for a bad input", n)
				}
				t.Logf("refused in %s", r.took.Round(time.Millisecond))
			})
		}
	}
	tn.t = t
}

// runFor is run with a shorter hang limit.
func (tn *tenant) runFor(limit time.Duration, extra map[string]string, args ...string) result {
	tn.t.Helper()
	return tn.startBin(tn.cli, extra, args...).wait(limit)
}

// TestNetnsUntrustedCertificate: a wrong SSL_CERT_FILE (or a TLS-inspecting
// proxy) is reported as an untrusted certificate of the host, at once.
func TestNetnsUntrustedCertificate(t *testing.T) {
	tn := startTenant(t)
	other := filepath.Join(tn.home, "other-ca.pem")
	if err := os.WriteFile(other, unrelatedCA(t), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tn.runFor(60*time.Second, map[string]string{"SSL_CERT_FILE": other}, "apps", "list", "--auth", "env")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r)
	}
	mustContain(t, "stderr", r.stderr, "the TLS certificate of login.microsoftonline.com is not trusted (x509: certificate signed by unknown authority", "SSL_CERT_FILE ("+other+")")
	if strings.Contains(r.stderr, "server response error") {
		t.Errorf("the cause is lost: %s", r)
	}
	t.Logf("reported in %s", r.took.Round(time.Millisecond))
}

// unrelatedCA is a CA certificate that signed nothing the sandbox serves.
func unrelatedCA(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Some Other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestNetnsVerifyAllAndSignInOnce: verify --all and delete as a runbook
// runs them (--auth env); then a device-code sign-in kept between runs of
// the binary, on the real host names: the second run asks for no code,
// auth status shows it, auth logout forgets it. Sign-in never asks
// Microsoft's instance discovery.
func TestNetnsVerifyAllAndSignInOnce(t *testing.T) {
	tn := startTenant(t)
	tn.must(0, nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json")
	soon := str(decodeJSON(t, tn.must(0, nil, "setup", "--profile", "roger365", "--secret-expiry", "10d", "--auth", "env", "--yes", "--output", "json")), "clientId")

	before := len(tn.requests())
	r := tn.must(3, nil, "verify", "--all", "--auth", "env")
	mustContain(t, "verify --all", r.stdout, "2 app(s) made by entra-link", "✓ Entitle", "✗ ROGER365.io", "secret expires in 10d",
		"fix: entra-link rotate-secret --app-id "+soon, "✗ 2 apps checked, 1 healthy: 1 problem in 1 app, 1 expiring credential.")
	if w := tn.writesSince(before); len(w) != 0 {
		t.Errorf("verify --all changed the tenant: %v", w)
	}
	j := decodeJSON(t, tn.must(0, nil, "verify", "--all", "--warn-days", "5", "--auth", "env", "--output", "json"))
	if j["healthy"] != true || len(j["apps"].([]any)) != 2 {
		t.Errorf("verify --all --warn-days 5: %v", j)
	}

	r = tn.must(0, nil, "delete", "--name", "Entitle", "--yes", "--auth", "env")
	mustContain(t, "delete", r.stdout, "✓ Deleted \"Entitle\"", "Removed with the service principal: 2 admin consent(s)", "then its service principal")

	// Sign in once, with a device code (the sandbox approves it as its admin).
	list := []string{"apps", "list", "--auth", "device-code", "--tenant", tn.info.TenantID}
	before = len(tn.requests())
	r = tn.must(0, nil, list...)
	mustContain(t, "first run", r.stderr, "devicelogin", "Signed in as admin@"+tn.info.TenantDomain)
	r = tn.must(0, nil, list...)
	if strings.Contains(r.stderr, "devicelogin") {
		t.Errorf("the second run asked for a device code again: %s", r)
	}
	mustContain(t, "second run", r.stderr, "Using the saved sign-in of admin@"+tn.info.TenantDomain)
	for _, rec := range tn.requests()[before:] {
		if strings.Contains(rec.Path, "/discovery/instance") {
			t.Errorf("sign-in asked for instance discovery: %s %s", rec.Host, rec.Path)
		}
	}
	tn.onlyHosts(before, "login.microsoftonline.com", "graph.microsoft.com")

	r = tn.must(0, nil, "auth", "status")
	mustContain(t, "auth status", r.stdout, "admin@"+tn.info.TenantDomain, "  tenant     "+tn.info.TenantID, "  cloud      global", "with --auth device-code")
	r = tn.must(0, nil, "auth", "logout", "--tenant", tn.info.TenantID)
	mustContain(t, "auth logout", r.stdout, "Forgot the sign-in of admin@"+tn.info.TenantDomain)
	mustContain(t, "after logout", tn.must(0, nil, "auth", "status").stdout, "No saved sign-in.")
	mustContain(t, "after logout", tn.must(0, nil, list...).stderr, "devicelogin")
}
