package setup

import (
	"slices"
	"testing"

	"github.com/entra-link/entra-link/internal/profile"
)

// TestGroupSteps: three tenants' plans — two fresh, one with the app
// already — are one review: what all three get alike once, each
// difference once with the tenants it concerns, nothing lost or doubled.
func TestGroupSteps(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	app, st := entitleApp(s)
	fresh := func() *Plan { return mustPlan(t, s, tenantFor(nil, AppState{}), PlanOptions{}) }
	plans := []*Plan{fresh(), mustPlan(t, s, tenantFor(app, st), PlanOptions{}), fresh()}
	groups := GroupSteps(plans)
	total := 0
	for _, g := range groups {
		total += len(g.Steps)
	}
	if want := len(plans[0].Steps) + len(plans[1].Steps); total != want {
		t.Errorf("%d steps in the groups, want %d (the fresh tenants' once, the other's once)", total, want)
	}
	if len(groups) != 2 || !slices.Equal(groups[0].Plans, []int{0, 2}) || !slices.Equal(groups[1].Plans, []int{1}) {
		t.Fatalf("groups: %+v", groups)
	}
	appStep := func(g int) string {
		for _, st := range groups[g].Steps {
			if st.Kind == string(KindApp) {
				return st.Action
			}
		}
		return ""
	}
	if appStep(0) != "create" || appStep(1) != "keep" {
		t.Errorf("the app: %q in the fresh tenants, %q in the other; want create and keep", appStep(0), appStep(1))
	}

	// Where the plans differ only in one step (the tenant's own output
	// file), everything else is shown once, first.
	a := mustPlan(t, s, tenantFor(nil, AppState{}), PlanOptions{OutputFile: t.TempDir() + "/a.json", OutputFormat: "json"})
	b := mustPlan(t, s, tenantFor(nil, AppState{}), PlanOptions{OutputFile: t.TempDir() + "/b.json", OutputFormat: "json"})
	groups = GroupSteps([]*Plan{a, b})
	if len(groups) != 3 || len(groups[0].Plans) != 2 || len(groups[0].Steps) != len(a.Steps)-1 ||
		len(groups[1].Steps) != 1 || groups[1].Steps[0].Kind != string(KindOutputFile) || !slices.Equal(groups[2].Plans, []int{1}) {
		t.Errorf("groups: %+v", groups)
	}
}
