package setup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/profile"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// fakeGraph is an in-memory tenant for the day-2 engine. Methods the
// engine must not call are left to the embedded nil interface, so calling
// one panics the test.
type fakeGraph struct {
	graph.API

	mu          sync.Mutex
	apps        []graph.Application
	sps         map[string]graph.ServicePrincipal // by appId
	assignments map[string][]graph.AppRoleAssignment
	grants      map[string][]graph.PermissionGrant
	roles       map[string][]graph.RoleAssignment
	org         graph.Organization
	id          graph.Identity
	// fail makes the named method fail with this error.
	fail map[string]error
	// calls logs the changing calls, e.g. "RemovePassword k1".
	calls []string
	// bulk logs the batched reads, e.g. "HoldingsOf 3".
	bulk    []string
	nextKey int
}

func newFake() *fakeGraph {
	return &fakeGraph{
		sps:         map[string]graph.ServicePrincipal{},
		assignments: map[string][]graph.AppRoleAssignment{},
		grants:      map[string][]graph.PermissionGrant{},
		roles:       map[string][]graph.RoleAssignment{},
		org:         graph.Organization{ID: "tenant-1", DisplayName: "Contoso", VerifiedDomains: []graph.VerifiedDomain{{Name: "contoso.onmicrosoft.com", IsInitial: true}}},
		id:          graph.Identity{TenantID: "tenant-1", AppOnly: true, ClientAppID: "admin-app"},
		fail:        map[string]error{},
	}
}

func notFound() error {
	return &graph.Error{Status: http.StatusNotFound, Code: "Request_ResourceNotFound"}
}

func (f *fakeGraph) failure(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[name]
}

func (f *fakeGraph) log(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}

func (f *fakeGraph) changes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeGraph) WhoAmI(context.Context) (graph.Identity, error) { return f.id, nil }

func (f *fakeGraph) MyDirectoryRoles(context.Context, graph.Identity) ([]graph.DirectoryRole, error) {
	return nil, f.failure("MyDirectoryRoles")
}

func (f *fakeGraph) Organization(context.Context) (graph.Organization, error) {
	if err := f.failure("Organization"); err != nil {
		return graph.Organization{}, err
	}
	return f.org, nil
}

func (f *fakeGraph) ApplicationByAppID(_ context.Context, appID string) (graph.Application, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.apps {
		if strings.EqualFold(a.AppID, appID) {
			return a, nil
		}
	}
	return graph.Application{}, notFound()
}

func (f *fakeGraph) ApplicationsByTag(_ context.Context, tag string) ([]graph.Application, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []graph.Application
	for _, a := range f.apps {
		for _, t := range a.Tags {
			if t == tag {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

func (f *fakeGraph) ApplicationsByName(_ context.Context, name string) ([]graph.Application, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []graph.Application
	for _, a := range f.apps {
		if strings.EqualFold(a.DisplayName, name) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeGraph) ServicePrincipalByAppID(_ context.Context, appID string) (graph.ServicePrincipal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sp, ok := f.sps[strings.ToLower(appID)]; ok {
		return sp, nil
	}
	return graph.ServicePrincipal{}, notFound()
}

func (f *fakeGraph) ServicePrincipalsByAppIDs(_ context.Context, appIDs []string) (map[string]graph.ServicePrincipal, error) {
	if err := f.failure("ServicePrincipalsByAppIDs"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bulk = append(f.bulk, fmt.Sprintf("ServicePrincipalsByAppIDs %d", len(appIDs)))
	out := map[string]graph.ServicePrincipal{}
	for _, id := range appIDs {
		if sp, ok := f.sps[strings.ToLower(id)]; ok {
			out[strings.ToLower(id)] = sp
		}
	}
	return out, nil
}

func (f *fakeGraph) ServicePrincipalsByName(_ context.Context, name string) ([]graph.ServicePrincipal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []graph.ServicePrincipal
	for _, sp := range f.sps {
		if strings.EqualFold(sp.DisplayName, name) {
			out = append(out, sp)
		}
	}
	return out, nil
}

func (f *fakeGraph) HoldingsOf(_ context.Context, ids []string) (map[string]*graph.Holdings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bulk = append(f.bulk, fmt.Sprintf("HoldingsOf %d", len(ids)))
	out := map[string]*graph.Holdings{}
	for _, id := range ids {
		h := &graph.Holdings{AppRoleAssignments: f.assignments[id], PermissionGrants: f.grants[id], RoleAssignments: f.roles[id]}
		if err := f.fail["HoldingsOf roles"]; err != nil {
			h.RoleAssignments, h.RoleAssignmentsErr = nil, err
		}
		out[strings.ToLower(id)] = h
	}
	return out, nil
}

func (f *fakeGraph) DeleteServicePrincipalAndApplication(_ context.Context, spID, appObjectID string) (error, error) {
	if spID != "" {
		f.log("DeleteServicePrincipal %s", spID)
		if err := f.failure("DeleteServicePrincipal"); err != nil {
			return err, &graph.Error{Status: http.StatusFailedDependency, Code: "FailedDependency", Message: "Dependent request failed."}
		}
	}
	f.log("DeleteApplication %s", appObjectID)
	return nil, f.failure("DeleteApplication")
}

func (f *fakeGraph) AppRoleAssignments(_ context.Context, id string) ([]graph.AppRoleAssignment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.assignments[id], nil
}

func (f *fakeGraph) PermissionGrants(_ context.Context, id string) ([]graph.PermissionGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grants[id], nil
}

func (f *fakeGraph) RoleAssignments(_ context.Context, id string) ([]graph.RoleAssignment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.roles[id], nil
}

func (f *fakeGraph) AddPassword(ctx context.Context, objectID, name string, end time.Time) (graph.PasswordCredential, error) {
	if err := f.failure("AddPassword"); err != nil {
		return graph.PasswordCredential{}, err
	}
	if ctx.Err() != nil {
		return graph.PasswordCredential{}, ctx.Err()
	}
	f.mu.Lock()
	f.nextKey++
	pc := graph.PasswordCredential{KeyID: fmt.Sprintf("new-%d", f.nextKey), DisplayName: name, Hint: "sec", StartDateTime: now, EndDateTime: end, SecretText: "s3cret-value"}
	for i := range f.apps {
		if f.apps[i].ID == objectID {
			f.apps[i].PasswordCredentials = append(f.apps[i].PasswordCredentials, pc)
		}
	}
	f.mu.Unlock()
	f.log("AddPassword %s %q", objectID, name)
	return pc, nil
}

func (f *fakeGraph) RemovePassword(_ context.Context, objectID, keyID string) error {
	f.log("RemovePassword %s", keyID)
	return f.failure("RemovePassword " + keyID)
}

func (f *fakeGraph) DeleteAppRoleAssignment(_ context.Context, resourceID, id string) error {
	f.log("DeleteAppRoleAssignment %s", id)
	return f.failure("DeleteAppRoleAssignment " + id)
}

func (f *fakeGraph) DeletePermissionGrant(_ context.Context, id string) error {
	f.log("DeletePermissionGrant %s", id)
	return f.failure("DeletePermissionGrant " + id)
}

func (f *fakeGraph) DeleteRoleAssignment(_ context.Context, id string) error {
	f.log("DeleteRoleAssignment %s", id)
	return f.failure("DeleteRoleAssignment " + id)
}

func (f *fakeGraph) DeleteServicePrincipal(_ context.Context, id string) error {
	f.log("DeleteServicePrincipal %s", id)
	return f.failure("DeleteServicePrincipal")
}

func (f *fakeGraph) DeleteApplication(_ context.Context, id string) error {
	f.log("DeleteApplication %s", id)
	return f.failure("DeleteApplication")
}

func testEnv(g graph.API) *Env {
	return &Env{Graph: g, Cloud: cloud.Global, Now: func() time.Time { return now }}
}

// graphSP is Microsoft Graph's service principal with the catalogue's
// permissions, as every tenant has it.
func graphSP() graph.ServicePrincipal {
	r := catalog.ResourceByAppID(catalog.GraphAppID)
	sp := graph.ServicePrincipal{ID: "graph-sp", AppID: catalog.GraphAppID, DisplayName: "Microsoft Graph"}
	for _, a := range r.AppRoles {
		sp.AppRoles = append(sp.AppRoles, graph.AppRole{ID: a.ID, Value: a.Value, IsEnabled: a.IsEnabled})
	}
	for _, s := range r.Scopes {
		sp.Scopes = append(sp.Scopes, graph.PermissionScope{ID: s.ID, Value: s.Value, IsEnabled: s.IsEnabled})
	}
	return sp
}

func tagged(profileID string, extra ...string) []string {
	return append([]string{profile.Tag, profile.TagProfilePrefix + profileID}, extra...)
}

func TestFindApp(t *testing.T) {
	g := newFake()
	g.apps = []graph.Application{
		{ID: "o1", AppID: "a1", DisplayName: "Relution", Tags: tagged("relution"), CreatedDateTime: now.Add(-48 * time.Hour)},
		{ID: "o2", AppID: "a2", DisplayName: "Entitle", Tags: tagged("entitle")},
		{ID: "o3", AppID: "a3", DisplayName: "entitle", Tags: tagged("entitle"), CreatedDateTime: now},
		{ID: "o4", AppID: "a4", DisplayName: "Foreign", Tags: []string{"something"}},
	}
	tests := []struct {
		name    string
		sel     Selector
		wantApp string
		wantErr []string
	}{
		{"by app id", Selector{AppID: "a1"}, "a1", nil},
		{"foreign app by app id", Selector{AppID: "a4"}, "a4", nil},
		{"unknown app id", Selector{AppID: "a9"}, "", []string{"--app-id a9", "no application"}},
		{"name is case-insensitive", Selector{Name: "relution"}, "a1", nil},
		{"ambiguous name lists both", Selector{Name: "Entitle"}, "", []string{"matches 2 apps", "a2", "a3", "--app-id"}},
		{"foreign app is not found by name", Selector{Name: "Foreign"}, "", []string{"no app with this name was made by entra-link", "did not create exists (client ID a4)", "--app-id"}},
		// Only the 3 tagged apps are searched.
		{"unknown name", Selector{Name: "Nope"}, "", []string{`--name "Nope"`, "searched the 3 app(s)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := FindApp(context.Background(), g, tc.sel)
			if tc.wantErr != nil {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a *UsageError", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || f.App.AppID != tc.wantApp {
				t.Fatalf("FindApp = %v, %v; want %s", f, err, tc.wantApp)
			}
		})
	}
}

func TestNearestExpiry(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name        string
		ends        []time.Duration // from now
		wantKey     string
		wantDays    int
		wantExpired bool
	}{
		{"none", nil, "", 0, false},
		{"soonest valid one", []time.Duration{300 * day, 20 * day, -5 * day}, "k1", 20, false},
		{"latest expired one when none is valid", []time.Duration{-40 * day, -3 * day}, "k1", -3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var creds []CredentialInfo
			for i, d := range tc.ends {
				creds = append(creds, CredentialInfo{Kind: KindSecret, KeyID: fmt.Sprintf("k%d", i), End: now.Add(d)})
			}
			got := nearestExpiry(creds, now)
			if tc.wantKey == "" {
				if got != nil {
					t.Fatalf("got %+v, want nil", got)
				}
				return
			}
			if got == nil || got.KeyID != tc.wantKey || got.Days != tc.wantDays || got.Expired != tc.wantExpired {
				t.Errorf("got %+v, want key %s days %d expired %v", got, tc.wantKey, tc.wantDays, tc.wantExpired)
			}
		})
	}
}

func TestListApps(t *testing.T) {
	g := newFake()
	g.apps = []graph.Application{
		{ID: "o2", AppID: "a2", DisplayName: "Relution", Tags: tagged("relution"),
			PasswordCredentials: []graph.PasswordCredential{{KeyID: "p1", EndDateTime: now.AddDate(0, 0, 90)}}},
		{ID: "o1", AppID: "a1", DisplayName: "Entitle", Tags: tagged("entitle")},
		{ID: "o3", AppID: "a3", DisplayName: "Someone else's", Tags: []string{"other"}},
	}
	g.sps["a2"] = graph.ServicePrincipal{ID: "sp2", AppID: "a2"}
	list, err := ListApps(context.Background(), testEnv(g))
	if err != nil {
		t.Fatal(err)
	}
	if list.Org.ID != "tenant-1" || len(list.Apps) != 2 {
		t.Fatalf("list = %+v", list)
	}
	e, r := list.Apps[0], list.Apps[1]
	if e.ClientID != "a1" || e.ServicePrincipal || e.NearestExpiry != nil || e.Profile != "entitle" {
		t.Errorf("Entitle = %+v", e)
	}
	if r.ClientID != "a2" || !r.ServicePrincipal || r.NearestExpiry == nil || r.NearestExpiry.Days != 90 || r.Profile != "relution" {
		t.Errorf("Relution = %+v", r)
	}
}
