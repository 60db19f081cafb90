package setup

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/graph"
)

func TestDeletionOrder(t *testing.T) {
	g := newFake()
	healthyApp(t, g, "hire2retire", []string{"exchange"}, nil)
	d, err := PrepareDeletion(context.Background(), testEnv(g), DeleteRequest{Selector: Selector{Name: "Hire2Retire"}})
	if err != nil {
		t.Fatal(err)
	}
	summary := strings.Join(d.Summary(), "\n")
	for _, w := range []string{`app registration "Hire2Retire" (client ID a1, profile hire2retire`, "5 application permission consents: ",
		"Office 365 Exchange Online · Exchange.ManageAsApp", "2 directory role assignments: Exchange Administrator, User Administrator", "0 delegated permission grants"} {
		if !strings.Contains(summary, w) {
			t.Errorf("summary lacks %q:\n%s", w, summary)
		}
	}
	if c := g.changes(); len(c) != 0 {
		t.Fatalf("PrepareDeletion changed the tenant: %v", c)
	}
	res, err := d.Apply(context.Background(), testEnv(g))
	if err != nil || !res.Deleted {
		t.Fatalf("%v %+v", err, res)
	}
	// One request: the service principal (taking its consents and roles
	// along), then the app.
	if calls := g.changes(); !slices.Equal(calls, []string{"DeleteServicePrincipal sp1", "DeleteApplication o1"}) {
		t.Fatalf("calls %v", calls)
	}
	plan := d.Plan()
	for _, st := range plan.Steps {
		switch st.Kind {
		case KindConsent, KindGrant, KindRole:
			if st.PartOf != "sp" {
				t.Errorf("%s is not carried by the service principal's delete", st.Target)
			}
		}
	}
	if app := plan.Step("app"); app == nil || !slices.Equal(app.After, []string{"sp"}) {
		t.Errorf("the app is not deleted after its service principal: %+v", app)
	}
	for _, st := range res.Steps {
		if st.Status != "done" {
			t.Errorf("step %s: %s", st.Target, st.Status)
		}
	}
	if res.Removed != (Removed{AppRoleAssignments: 5, RoleAssignments: 2, Certificates: 1}) {
		t.Errorf("removed %+v", res.Removed)
	}
	rb := res.RecycleBin
	if rb == nil || rb.RetentionDays != 30 || rb.RestoreRequest != "POST https://graph.microsoft.com/v1.0/directory/deletedItems/o1/restore" ||
		rb.RestoreServicePrincipalRequest != "POST https://graph.microsoft.com/v1.0/directory/deletedItems/sp1/restore" ||
		!strings.Contains(rb.Portal, "Deleted applications") || !strings.Contains(rb.AfterRestore, "setup --profile hire2retire --app-id a1") {
		t.Errorf("recycle bin %+v", rb)
	}
}

func TestDeletionStopsWhenSomethingStays(t *testing.T) {
	g := newFake()
	healthyApp(t, g, "hire2retire", nil, nil)
	g.fail["DeleteServicePrincipal"] = &graph.Error{Status: 403, Code: "Authorization_RequestDenied"}
	d, err := PrepareDeletion(context.Background(), testEnv(g), DeleteRequest{Selector: Selector{AppID: "a1"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Apply(context.Background(), testEnv(g))
	var se *StepsError
	if !errors.As(err, &se) || res.Deleted || !strings.Contains(res.Error, "were not deleted") {
		t.Fatalf("err %v result %+v", err, res)
	}
	for _, c := range g.changes() {
		if strings.HasPrefix(c, "DeleteApplication") {
			t.Errorf("deleted %q although its service principal stayed", c)
		}
	}
	for _, st := range res.Steps {
		want := "failed"
		if st.Kind == string(KindApp) {
			want = "not-run"
		}
		if st.Status != want {
			t.Errorf("step %s: %s (%s), want %s", st.Target, st.Status, st.Outcome, want)
		}
	}
	if res.Removed != (Removed{}) || res.RecycleBin != nil {
		t.Errorf("nothing was removed: %+v %+v", res.Removed, res.RecycleBin)
	}
}

func TestDeletionGuards(t *testing.T) {
	g := newFake()
	app := healthyApp(t, g, "entitle", nil, nil)
	app.Tags = nil
	// A foreign app cannot be found by name …
	_, err := PrepareDeletion(context.Background(), testEnv(g), DeleteRequest{Selector: Selector{Name: "Entitle"}})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "did not create exists (client ID a1)") {
		t.Errorf("by name: %v", err)
	}
	// … only by --app-id, with a warning.
	d, err := PrepareDeletion(context.Background(), testEnv(g), DeleteRequest{Selector: Selector{AppID: "a1"}})
	if err != nil || len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "was not made by entra-link") {
		t.Errorf("by app id: %v %v", d, err)
	}
	// The signed-in app cannot delete itself.
	g.id.ClientAppID = "a1"
	_, err = PrepareDeletion(context.Background(), testEnv(g), DeleteRequest{Selector: Selector{AppID: "a1"}})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "signed in as") {
		t.Errorf("self: %v", err)
	}
	if c := g.changes(); len(c) != 0 {
		t.Errorf("changed %v", c)
	}
}

func TestDeletionOfAppWithoutServicePrincipal(t *testing.T) {
	g := newFake()
	healthyApp(t, g, "roger365", nil, nil)
	delete(g.sps, "a1")
	g.assignments = map[string][]graph.AppRoleAssignment{}
	d, err := PrepareDeletion(context.Background(), testEnv(g), DeleteRequest{Selector: Selector{AppID: "a1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d.Summary(), "(it has no service principal)") {
		t.Errorf("summary %v", d.Summary())
	}
	g.fail["DeleteApplication"] = &graph.Error{Status: 404, Code: "Request_ResourceNotFound"}
	res, err := d.Apply(context.Background(), testEnv(g))
	if err != nil || !res.Deleted || !slices.Equal(g.changes(), []string{"DeleteApplication o1"}) {
		t.Errorf("already gone counts as deleted: %v %+v %v", err, res, g.changes())
	}
}
