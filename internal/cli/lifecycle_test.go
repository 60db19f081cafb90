package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/iostreams"
	"github.com/entra-link/entra-link/internal/sandbox"
)

// Credentials are never orphaned and creates are never doubled: ambiguous
// failures (the tenant committed, the answer was lost), a read-back that
// fails too, and runs started at the same time.

const graphScope = "https://graph.microsoft.com/.default"

// appsNamed lists the client ids of the apps with this display name.
func (s sbState) appsNamed(name string) []string {
	var out []string
	for _, a := range s.Applications {
		if a.DisplayName == name {
			out = append(out, a.AppID)
		}
	}
	return out
}

func (s sbState) spsOf(appID string) int {
	n := 0
	for _, sp := range s.ServicePrincipals {
		if sp.AppID == appID {
			n++
		}
	}
	return n
}

// journalFiles lists the journal's records (and checks they are private).
func (tt *tenant) journalFiles(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(tt.env["XDG_STATE_HOME"], "entra-link", "journal")
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", f, fi.Mode(), err)
		}
	}
	if len(files) > 0 {
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want mode 0700", dir, fi.Mode(), err)
		}
	}
	return files
}

func (tt *tenant) journalText(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, f := range tt.journalFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// TestAmbiguousAddPassword: the tenant makes the secret and the connection
// drops before the answer. setup and rotate-secret read the app back,
// remove that secret, add another, and deliver it: the app holds exactly
// the secrets that were handed over.
func TestAmbiguousAddPassword(t *testing.T) {
	tt := newTenant(t)
	tt.sb.Inject(sandbox.Rule{Method: "POST", Path: `/addPassword$`, Action: sandbox.ActionDrop})
	res, r := tt.setup(0, "--profile", "entitle")
	appID, first := str(res, "clientId"), str(res, "clientSecretKeyId")
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, []string{first}) {
		t.Errorf("secrets %v, want only the delivered %s", got, first)
	}
	if _, err := tt.token(appID, str(res, "clientSecret"), graphLogin, graphScope); err != nil {
		t.Errorf("the delivered secret does not work: %v", err)
	}
	mustContain(t, "stderr", r.stderr, "removed the secret the failed attempt had created")
	if j := tt.journalText(t); !strings.Contains(j, `"event":"delivered"`) || !strings.Contains(j, first) || strings.Contains(j, str(res, "clientSecret")) {
		t.Errorf("journal:\n%s", j)
	}

	tt.sb.Inject(sandbox.Rule{Method: "POST", Path: `/addPassword$`, Action: sandbox.ActionDrop})
	rot := decode(t, tt.day2(0, "rotate-secret", "--app-id", appID, "--output", "json").stdout)
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, sorted(first, str(rot, "clientSecretKeyId"))) {
		t.Errorf("secrets %v after rotate-secret, want %s and %s", got, first, str(rot, "clientSecretKeyId"))
	}
	if _, err := tt.token(appID, str(rot, "clientSecret"), graphLogin, graphScope); err != nil {
		t.Errorf("the rotated secret does not work: %v", err)
	}
}

// TestAmbiguousAppCreation: the app is made and the connection drops
// before the answer; the repeated upsert finds it. One app, one service
// principal (whose upsert is dropped too), exit 0.
func TestAmbiguousAppCreation(t *testing.T) {
	tt := newTenant(t)
	tt.sb.Inject(sandbox.Rule{Method: "PATCH", Path: `^/applications\(uniqueName=`, Action: sandbox.ActionDrop})
	tt.sb.Inject(sandbox.Rule{Method: "PATCH", Path: `^/servicePrincipals\(appId=`, Action: sandbox.ActionDrop})
	res, _ := tt.setup(0, "--profile", "roger365")
	st := tt.state()
	if apps := st.appsNamed("ROGER365.io Azure Entra replicator"); len(apps) != 1 || st.spsOf(apps[0]) != 1 {
		t.Fatalf("apps %v, service principals %d", apps, st.spsOf(str(res, "clientId")))
	}
	dropped := 0
	for _, rec := range tt.sb.Requests() {
		if rec.Fault == "drop" {
			dropped++
		}
	}
	if dropped != 2 {
		t.Errorf("%d requests dropped, want 2: the test proves nothing", dropped)
	}
	if _, err := tt.token(str(res, "clientId"), str(res, "clientSecret"), graphLogin, graphScope); err != nil {
		t.Errorf("the secret does not work: %v", err)
	}
}

// TestUncheckableAddPassword: the answer to addPassword is lost and reading
// the app back fails too. The run cannot know whether the secret exists:
// it says so (rotate-secret does not claim nothing changed), exit 1; the
// journal keeps the record, and the next run removes the secret that was
// in fact made and hands over a new one, in words.
func TestUncheckableAddPassword(t *testing.T) {
	lost := func(tt *tenant) {
		tt.sb.Inject(sandbox.Rule{Method: "POST", Path: `/addPassword$`, Action: sandbox.ActionDrop})
		tt.sb.Inject(sandbox.Rule{Method: "GET", Path: `^/applications/[0-9a-f-]+$`, Status: 500})
	}
	t.Run("setup", func(t *testing.T) {
		tt := newTenant(t)
		lost(tt)
		res, r := tt.setup(1, "--profile", "entitle")
		mustContain(t, "result", str(res, "error"), "could not be checked", "the next entra-link run for this app on this machine removes it")
		if strings.Contains(r.stderr, "Nothing in the tenant was changed") {
			t.Errorf("claims nothing changed: %s", r.stderr)
		}
		appID := str(res, "clientId")
		if keys := tt.state().secretKeys(t, appID); len(keys) != 1 {
			t.Fatalf("the dropped attempt made %d secrets; the test needs 1", len(keys))
		}
		again, r := tt.setup(0, "--profile", "entitle")
		mustContain(t, "warnings", r.stdout, "The previous run was interrupted after creating a secret it could not hand over; that secret was removed and a new one created.")
		if got := tt.state().secretKeys(t, appID); !slices.Equal(got, []string{str(again, "clientSecretKeyId")}) {
			t.Errorf("secrets %v, want only the delivered %s", got, str(again, "clientSecretKeyId"))
		}
		if _, err := tt.token(appID, str(again, "clientSecret"), graphLogin, graphScope); err != nil {
			t.Errorf("the new secret does not work: %v", err)
		}
	})
	t.Run("rotate-secret", func(t *testing.T) {
		tt := newTenant(t)
		res, _ := tt.setup(0, "--profile", "entitle")
		appID, kept := str(res, "clientId"), str(res, "clientSecretKeyId")
		lost(tt)
		r := tt.day2(1, "rotate-secret", "--app-id", appID)
		mustContain(t, "stderr", r.stderr, "could not be checked")
		if strings.Contains(r.stderr, "nothing was changed") || strings.Contains(r.stderr, "added no secret") {
			t.Errorf("rotate-secret claims nothing changed without having read it back: %s", r.stderr)
		}
		if keys := tt.state().secretKeys(t, appID); len(keys) != 2 {
			t.Fatalf("secrets %v; the test needs the lost one", keys)
		}
		plan := tt.day2(0, "rotate-secret", "--app-id", appID, "--dry-run")
		mustContain(t, "dry run", plan.stdout, "remove", "an interrupted run (rotate-secret")
		j := decode(t, tt.day2(0, "rotate-secret", "--app-id", appID, "--output", "json").stdout)
		if got := tt.state().secretKeys(t, appID); !slices.Equal(got, sorted(kept, str(j, "clientSecretKeyId"))) {
			t.Errorf("secrets %v, want the first and the new one", got)
		}
		mustContain(t, "warnings", strings.Join(warningsOf(j), " "), "that secret was removed and a new one created")
	})
}

func warningsOf(j map[string]any) []string {
	var out []string
	for _, w := range j["warnings"].([]any) {
		out = append(out, w.(string))
	}
	return out
}

// TestConcurrentSetups: two, then three setups of the same profile and
// name started together. The tenant holds every run's lookup until all
// have looked (so each plans to create the app): one app, one service
// principal, and each run's own secret, delivered to it.
func TestConcurrentSetups(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(map[int]string{2: "two", 3: "three"}[n], func(t *testing.T) {
			tt := newTenant(t)
			// Each preflight lists apps by tag and by name.
			tt.sb.Inject(sandbox.Rule{Method: "GET", Path: `^/applications$`, Action: sandbox.ActionHang, Times: 2 * n})
			results := make([]map[string]any, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { results[i], _ = tt.setup(0, "--profile", "entitle") })
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := tt.sb.WaitHeld(ctx, 2*n); err != nil {
				t.Fatalf("the runs did not all look for the app: %v", err)
			}
			tt.sb.Release(0)
			wg.Wait()
			st := tt.state()
			apps := st.appsNamed("Entitle")
			if len(apps) != 1 || st.spsOf(apps[0]) != 1 {
				t.Fatalf("%d apps, %d service principals", len(apps), st.spsOf(apps[0]))
			}
			var delivered []string
			for _, res := range results {
				if str(res, "clientId") != apps[0] {
					t.Errorf("a run reports app %s", str(res, "clientId"))
				}
				delivered = append(delivered, str(res, "clientSecretKeyId"))
				if _, err := tt.token(apps[0], str(res, "clientSecret"), graphLogin, graphScope); err != nil {
					t.Errorf("a run's secret does not work: %v", err)
				}
			}
			slices.Sort(delivered)
			if got := st.secretKeys(t, apps[0]); !slices.Equal(got, delivered) {
				t.Errorf("secrets %v, delivered %v", got, delivered)
			}
			sp := st.spOf(apps[0])
			if c := st.consented(sp); len(c) != 2 {
				t.Errorf("consents %v", c)
			}
			// And the next run finds one app and changes nothing.
			again, _ := tt.setup(0, "--profile", "entitle")
			if str(again, "clientId") != apps[0] || str(again, "clientSecret") != "" {
				t.Errorf("the next run: %v", again)
			}
		})
	}
}

// TestSetupAfterDelete: entra-link delete leaves the app in the recycle
// bin, holding its unique name; setup again makes a new app with the next
// one and says why.
func TestSetupAfterDelete(t *testing.T) {
	tt := newTenant(t)
	first, _ := tt.setup(0, "--profile", "entitle")
	tt.day2(0, "delete", "--app-id", str(first, "clientId"), "--yes")
	again, r := tt.setup(0, "--profile", "entitle")
	if str(again, "clientId") == "" || str(again, "clientId") == str(first, "clientId") {
		t.Fatalf("setup after delete: %v", again)
	}
	mustContain(t, "result", r.stdout, "deleted apps in the recycle bin still hold the unique name entra-link-entitle-entitle-", "this app's unique name is entra-link-entitle-entitle-")
	if _, err := tt.token(str(again, "clientId"), str(again, "clientSecret"), graphLogin, graphScope); err != nil {
		t.Errorf("the new app's secret does not work: %v", err)
	}
}

// TestWizardSecretIsDeliveredByItsScreen: with the text report on a
// terminal, the wizard's hand-over screen is what shows the secret, and
// the journal marks it delivered once that screen is drawn — not when the
// (discarded) report is rendered.
func TestWizardSecretIsDeliveredByItsScreen(t *testing.T) {
	tt := newTenant(t)
	io, in, _, errOut := iostreams.Test()
	in.WriteString("3\n\n\n\ny\n\n") // entitle, global cloud, default name and lifetime, apply, leave
	io.SetStdinTTY(true)
	io.SetStderrTTY(true)
	io.SetStdoutTTY(true)
	f := &Factory{IO: io, Now: time.Now, Getenv: func(k string) string { return tt.env[k] }, HTTPClient: clientWith(tt.sb.Transport())}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code := Run(ctx, f, []string{"setup", "--auth", "env", "--accessible"}); code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	mustContain(t, "stderr", errOut.String(), "Leave? The client secret will not be shown again.")
	j := tt.journalText(t)
	if !strings.Contains(j, `"event":"delivered"`) || !strings.Contains(j, `"to":"the hand-over screen"`) || strings.Contains(j, `"to":"standard output"`) {
		t.Errorf("journal:\n%s", j)
	}
}

// TestAppWithoutUniqueNameGetsOne: an app entra-link made before apps had
// a unique name (tags, no uniqueName) gets its key on the next run, shown
// in the plan; the run after that changes nothing.
func TestAppWithoutUniqueNameGetsOne(t *testing.T) {
	tt := newTenant(t)
	if code := tt.admin(http.MethodPost, "/applications", map[string]any{
		"displayName": "Entitle", "signInAudience": "AzureADMyOrg", "tags": []string{"entra-link", "entra-link:profile:entitle"},
	}); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	const key = "entra-link-entitle-entitle-28611c07b4"
	res, r := tt.setup(0, "--profile", "entitle")
	mustContain(t, "plan", r.stderr, "create  unique name "+key)
	st := tt.state()
	if apps := st.appsNamed("Entitle"); len(apps) != 1 || apps[0] != str(res, "clientId") || st.Applications[st.app(t, apps[0])].UniqueName != key {
		t.Fatalf("apps %v, unique name %q", apps, st.Applications[0].UniqueName)
	}
	_, r = tt.setup(0, "--profile", "entitle")
	if strings.Contains(r.stderr, "unique name") || !strings.Contains(r.stderr, "Nothing to change") {
		t.Errorf("the second run:\n%s", r.stderr)
	}
}
