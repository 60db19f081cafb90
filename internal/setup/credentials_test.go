package setup

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/journal"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

func TestUniqueName(t *testing.T) {
	k := UniqueName("roger365", "ROGER365.io Azure Entra replicator")
	if !regexp.MustCompile(`^entra-link-roger365-roger365-io-azure-entr-[0-9a-f]{10}$`).MatchString(k) {
		t.Errorf("key %q", k)
	}
	if UniqueName("roger365", "roger365.IO azure entra replicator ") != k {
		t.Error("display names that preflight treats as one (case, outer spaces) give different keys")
	}
	for _, other := range []string{UniqueName("roger365", "ROGER365-io Azure Entra replicator"), UniqueName("entitle", "ROGER365.io Azure Entra replicator")} {
		if other == k {
			t.Errorf("different names or profiles share the key %s", k)
		}
	}
	if long := UniqueName("p", strings.Repeat("ü", 300)); !strings.HasPrefix(long, "entra-link-p-app-") {
		t.Errorf("key %q", long)
	}
	if long := UniqueName(strings.Repeat("profile", 9), strings.Repeat("a very long name ", 9)); len(long)+len("-5") > 63 {
		t.Errorf("key %q is %d characters", long, len(long))
	}
}

// upsertGraph is fakeGraph with the upserts: uniqueNames held by deleted
// apps answer 400, as Entra does.
type upsertGraph struct {
	*fakeGraph
	deletedKeys map[string]bool
	upserts     []string
	umu         sync.Mutex
}

func (g *upsertGraph) UpsertApplication(_ context.Context, key string, app graph.Application) (graph.Application, bool, error) {
	g.umu.Lock()
	defer g.umu.Unlock()
	g.upserts = append(g.upserts, key)
	if g.deletedKeys[key] {
		return graph.Application{}, false, &graph.Error{Status: http.StatusBadRequest, Code: "Request_BadRequest", Message: "Another object with the same value for property uniqueName already exists."}
	}
	app.ID, app.AppID, app.UniqueName = "o1", "a1", key
	g.mu.Lock()
	g.apps = append(g.apps, app)
	g.mu.Unlock()
	return app, true, nil
}

func (g *upsertGraph) UpsertServicePrincipal(_ context.Context, appID string, _ []string) (graph.ServicePrincipal, bool, error) {
	return graph.ServicePrincipal{ID: "sp1", AppID: appID}, true, nil
}

func (g *upsertGraph) AssignAppRole(_ context.Context, a graph.AppRoleAssignment) (graph.AppRoleAssignment, error) {
	return a, nil
}

// A deleted app in the recycle bin holds the key: the new app takes the
// next one, and the result says why in words.
func TestCreateWhenTheKeyIsInTheRecycleBin(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	key := UniqueName("entitle", "Entitle")
	g := &upsertGraph{fakeGraph: newFake(), deletedKeys: map[string]bool{key: true}}
	p := mustPlan(t, s, tenantFor(nil, AppState{}), PlanOptions{})
	if st := stepByTarget(t, p, "unique name "+key); st.Action != ActCreate || st.PartOf != "app" {
		t.Errorf("unique name step %+v", st)
	}
	res, err := Apply(context.Background(), testEnv(g), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.upserts) != 2 || g.upserts[1] != key+"-2" {
		t.Errorf("upserts %v", g.upserts)
	}
	w := strings.Join(res.Warnings, "\n")
	if !strings.Contains(w, "deleted apps in the recycle bin still hold the unique name "+key) || !strings.Contains(w, "this app's unique name is "+key+"-2") {
		t.Errorf("warnings %v", res.Warnings)
	}

	// Every key held: a sentence, not Graph's 400.
	g = &upsertGraph{fakeGraph: newFake(), deletedKeys: map[string]bool{}}
	for _, k := range keySequence(key) {
		g.deletedKeys[k] = true
	}
	res, err = Apply(context.Background(), testEnv(g), mustPlan(t, s, tenantFor(nil, AppState{}), PlanOptions{}))
	if err == nil || !strings.Contains(res.Error, "deleted apps in the recycle bin hold every unique name") || strings.Contains(res.Error, "Request_BadRequest") {
		t.Errorf("err %v, result error %q", err, res.Error)
	}
}

// An app entra-link made before apps had a unique name gets one; an app
// named by --app-id does not.
func TestExistingAppGetsItsUniqueName(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	app, st := entitleApp(s)
	app.UniqueName = ""
	p := mustPlan(t, s, tenantFor(app, st), PlanOptions{})
	key := UniqueName("entitle", "Entitle")
	if u := stepByTarget(t, p, "unique name "+key); u.Action != ActCreate {
		t.Errorf("%+v", u)
	}
	if a := p.Step("app"); a.Action != ActUpdate {
		t.Errorf("app step %+v", a)
	}
	g := &recordingUpdates{}
	if _, err := Apply(context.Background(), testEnv(g), p); err != nil {
		t.Fatal(err)
	}
	if len(g.updates) != 1 || g.updates[0].UniqueName == nil || *g.updates[0].UniqueName != key {
		t.Errorf("updates %+v", g.updates)
	}

	const guid = "631a96bc-a705-4eda-9f99-fdaf9f54f6a2"
	app.AppID = guid
	byID := spec(t, "entitle", profile.Request{AppID: guid})
	p = mustPlan(t, byID, tenantFor(app, st), PlanOptions{})
	if p.Step("unique-name") != nil || p.Step("app").Action != ActKeep {
		t.Errorf("--app-id app: %v", p.Lines())
	}
}

type recordingUpdates struct {
	graph.API
	updates []graph.ApplicationUpdate
}

func (g *recordingUpdates) UpdateApplication(_ context.Context, _ string, u graph.ApplicationUpdate) error {
	g.updates = append(g.updates, u)
	return nil
}

// interruptedRun leaves a journal record of a secret an ended run added
// (and, delivered, handed over), and returns the journal of the next run.
func interruptedRun(t *testing.T, dir, tenantID string, app *graph.Application, name, keyID string, delivered bool, started time.Time) *journal.Journal {
	t.Helper()
	token := name[strings.LastIndex(name, "#")+1:]
	old := journal.New(dir, func() time.Time { return started })
	rec, err := old.Begin(journal.Entry{TenantID: tenantID, AppID: app.AppID, ApplicationObjectID: app.ID, Kind: journal.KindClientSecret,
		DisplayName: name, Command: "setup"}, token)
	if err != nil {
		t.Fatal(err)
	}
	if keyID != "" {
		if err := rec.Created(keyID); err != nil {
			t.Fatal(err)
		}
	}
	if delivered {
		if _, err := old.Delivered(keyID, "standard output"); err != nil {
			t.Fatal(err)
		}
	}
	old.Close() // the run ended
	return journal.New(dir, nil)
}

// preflightOf is what Preflight reads of app, the journal included.
func preflightOf(t *testing.T, env *Env, g *fakeGraph, app *graph.Application) *Tenant {
	t.Helper()
	sp := g.sps["a1"]
	tn := tenantFor(app, AppState{SP: &sp, Assignments: g.assignments[sp.ID], Unread: map[Kind]string{}})
	tn.Interrupted = env.interrupted(tn.Org.ID, app.ID, &tn.Warnings)
	return tn
}

// A secret an interrupted run created and never handed over is in the
// plan as removed, the new secret replaces it, the record is settled, and
// the result says so in words. The app's delivered secret stays.
func TestLeftoverSecretIsRemovedAndReplaced(t *testing.T) {
	g := newFake()
	app := healthyApp(t, g, "entitle", nil, nil)
	const lost = "entra-link entitle 2026-11-20 #0000000000aa"
	app.PasswordCredentials = []graph.PasswordCredential{
		{KeyID: "kept", DisplayName: "entra-link entitle 2026-01-01 #0000000000bb", Hint: "kep", EndDateTime: now.AddDate(0, 6, 0)},
		{KeyID: "lost", DisplayName: lost, Hint: "los", EndDateTime: now.AddDate(1, 0, 0)},
	}
	g.apps[0] = *app
	dir := t.TempDir()
	env := testEnv(g)
	env.Journal = interruptedRun(t, dir, "tenant-1", app, lost, "", false, now.Add(-time.Minute))
	s := spec(t, "entitle", profile.Request{})
	p := mustPlan(t, s, preflightOf(t, env, g, app), PlanOptions{})
	rm := stepByTarget(t, p, "client secret los… (key ID lost)")
	if rm.Action != ActRemove || !strings.Contains(rm.Detail, "an interrupted run (setup, 2026-11-21 09:59 UTC) created it and could not hand it over") {
		t.Errorf("leftover step %+v", rm)
	}
	cred := p.Step("credential")
	if cred.Action != ActCreate || !strings.Contains(cred.Detail, "replaces the secret an interrupted run could not hand over") {
		t.Errorf("credential step %+v", cred)
	}
	res, err := Apply(context.Background(), env, p)
	if err != nil {
		t.Fatal(err)
	}
	changes := strings.Join(g.changes(), "\n")
	if !strings.Contains(changes, "RemovePassword lost") || strings.Contains(changes, "RemovePassword kept") || !strings.Contains(changes, "AddPassword o1") {
		t.Errorf("changes:\n%s", changes)
	}
	if !strings.Contains(strings.Join(res.Warnings, " "), "The previous run was interrupted after creating a secret it could not hand over; that secret was removed and a new one created.") {
		t.Errorf("warnings %v", res.Warnings)
	}
	env.Journal.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) != 1 { // the settled record is gone; this run's new one remains
		t.Fatalf("journal files %v", files)
	}
	data, _ := os.ReadFile(files[0])
	if strings.Contains(string(data), "s3cret-value") || !strings.Contains(string(data), `"event":"created"`) {
		t.Errorf("this run's record:\n%s", data)
	}
}

// A delivered record: the secret it delivered stays; another secret with
// its display name (made by an attempt whose answer never came) goes. A
// record whose credential is gone from the app long ago is settled. A
// record a live run holds is left alone.
func TestLeftoversOfDeliveredAndStaleRecords(t *testing.T) {
	g := newFake()
	app := healthyApp(t, g, "entitle", nil, nil)
	const name = "entra-link entitle 2026-11-20 #0000000000cc"
	app.PasswordCredentials = []graph.PasswordCredential{
		{KeyID: "delivered", DisplayName: name, Hint: "del", EndDateTime: now.AddDate(1, 0, 0)},
		{KeyID: "ghost", DisplayName: name, Hint: "gho", EndDateTime: now.AddDate(1, 0, 0)},
	}
	g.apps[0] = *app
	dir := t.TempDir()
	interruptedRun(t, dir, "tenant-1", app, name, "delivered", true, now.Add(-time.Minute)).Close()
	interruptedRun(t, dir, "tenant-1", app, "entra-link entitle 2025-01-01 #0000000000dd", "long-gone", true, now.AddDate(-1, 0, 0)).Close()
	live := journal.New(dir, nil)
	if _, err := live.Begin(journal.Entry{TenantID: "tenant-1", AppID: "a1", ApplicationObjectID: "o1", DisplayName: "entra-link x #0000000000ee"}, "0000000000ee"); err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	env := testEnv(g)
	env.Journal = journal.New(dir, nil)
	s := spec(t, "entitle", profile.Request{})
	p := mustPlan(t, s, preflightOf(t, env, g, app), PlanOptions{})
	var removed []string
	for _, st := range p.Steps {
		if st.Action == ActRemove {
			removed = append(removed, st.Target)
		}
	}
	if len(removed) != 1 || removed[0] != "client secret gho… (key ID ghost)" {
		t.Fatalf("removals %v in\n%s", removed, strings.Join(p.Lines(), "\n"))
	}
	if !strings.Contains(stepByTarget(t, p, removed[0]).Detail, "failed attempt") {
		t.Errorf("detail of %s", removed[0])
	}
	if len(p.stale) != 1 || p.stale[0].KeyID != "long-gone" {
		t.Errorf("stale %+v", p.stale)
	}
	if _, err := Apply(context.Background(), env, p); err != nil {
		t.Fatal(err)
	}
	env.Journal.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) != 3 { // delivered (kept for retirement), the live run's, this run's own
		t.Errorf("journal files %v", files)
	}
}

// rotate-secret removes what an interrupted run left behind, shows it in
// its plan, and does not count it among the secrets it keeps or retires.
func TestRotateRemovesLeftovers(t *testing.T) {
	g := newFake()
	app := healthyApp(t, g, "entitle", nil, nil)
	const lost = "entra-link rotate-secret 2026-11-20 #0000000000ff"
	app.PasswordCredentials = []graph.PasswordCredential{
		{KeyID: "old", Hint: "old", EndDateTime: now.AddDate(0, 1, 0)},
		{KeyID: "lost", DisplayName: lost, Hint: "los", EndDateTime: now.AddDate(1, 0, 0)},
	}
	g.apps[0] = *app
	env := testEnv(g)
	env.Journal = interruptedRun(t, t.TempDir(), "tenant-1", app, lost, "lost", false, now.Add(-time.Minute))
	var early []*output.Result
	env.OnSecret = func(r *output.Result) { early = append(early, r) }
	ro, err := PrepareRotation(context.Background(), env, RotateRequest{Selector: Selector{AppID: "a1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ro.Others) != 1 || ro.Others[0].KeyID != "old" {
		t.Errorf("others %+v", ro.Others)
	}
	if sum := strings.Join(ro.Summary(), "\n"); !strings.Contains(sum, "Remove what an interrupted run left behind: client secret los… (key ID lost)") {
		t.Errorf("summary:\n%s", sum)
	}
	if st := ro.Plan().Step("leftover/lost"); st == nil || st.Action != ActRemove || st.Round != 1 {
		t.Errorf("plan step %+v", st)
	}
	res, err := ro.Apply(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	changes := strings.Join(g.changes(), "\n")
	if !strings.Contains(changes, "RemovePassword lost") || strings.Contains(changes, "RemovePassword old") {
		t.Errorf("changes:\n%s", changes)
	}
	for _, st := range res.Steps {
		if st.Target == "client secret los… (key ID lost)" && st.Status != output.StepDone {
			t.Errorf("%+v", st)
		}
	}
	if len(early) != 1 || !strings.Contains(strings.Join(res.Warnings, " "), "that secret was removed and a new one created") {
		t.Errorf("early %d, warnings %v", len(early), res.Warnings)
	}
}
