package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// graphRequestsSince counts the top-level Graph requests (a $batch counts
// once) and the batch items the sandbox served after mark.
func graphRequestsSince(s *sandbox.Server, mark int) (requests, items int) {
	for _, r := range s.Requests()[mark:] {
		switch r.Kind {
		case "graph":
			requests++
		case "batch-item":
			items++
		}
	}
	return requests, items
}

// TestSandboxBatchReadsAndDelete runs the batched reads and the one-batch
// delete against the emulated tenant: 32 apps' service principals in one
// $batch, what they hold in a few $batches sent at once, and a delete that
// takes the consents, grants and directory role with the service principal.
func TestSandboxBatchReadsAndDelete(t *testing.T) {
	s := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gc, _ := connect(t, s, cloud.Global, azcloud.AzurePublic, nil)

	full := setupFlow(t, ctx, gc) // one app with a consent, a grant and a directory role
	appIDs := []string{full.app.AppID}
	spIDs := []string{full.sp.ID}
	for i := range 31 {
		app, _, err := gc.UpsertApplication(ctx, fmt.Sprintf("batch-%02d", i), graph.Application{DisplayName: fmt.Sprintf("batch %02d", i), SignInAudience: "AzureADMyOrg"})
		if err != nil {
			t.Fatal(err)
		}
		appIDs = append(appIDs, app.AppID)
		if i%4 == 0 {
			continue // no service principal
		}
		sp, err := gc.CreateServicePrincipal(ctx, app.AppID, nil)
		if err != nil {
			t.Fatal(err)
		}
		spIDs = append(spIDs, sp.ID)
	}

	// Every fifth request throttled: the items Graph refuses go again.
	s.SetFaults(sandbox.Faults{ThrottleEvery: 5})
	mark := len(s.Requests())
	sps, err := gc.ServicePrincipalsByAppIDs(ctx, append(appIDs, graphAppID))
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) != len(spIDs)+1 {
		t.Errorf("%d service principals, want %d", len(sps), len(spIDs)+1)
	}
	if sp := sps[strings.ToLower(full.app.AppID)]; sp.ID != full.sp.ID {
		t.Errorf("the full app's service principal: %+v", sp)
	}
	if sp := sps[graphAppID]; len(sp.AppRoles) == 0 {
		t.Errorf("Microsoft Graph's service principal came without its app roles")
	}
	// 33 appIds: three filters in one batch (plus one more per throttled item).
	if reqs, items := graphRequestsSince(s, mark); reqs < 1 || items < 3 {
		t.Errorf("%d requests, %d items", reqs, items)
	}

	mark = len(s.Requests())
	held, err := gc.HoldingsOf(ctx, spIDs)
	if err != nil {
		t.Fatal(err)
	}
	h := held[strings.ToLower(full.sp.ID)]
	if h == nil || len(h.AppRoleAssignments) != 1 || len(h.PermissionGrants) != 1 || len(h.RoleAssignments) != 1 {
		t.Fatalf("the full app holds %+v", h)
	}
	if h.AppRoleAssignmentsErr != nil || h.PermissionGrantsErr != nil || h.RoleAssignmentsErr != nil {
		t.Errorf("errors: %v %v %v", h.AppRoleAssignmentsErr, h.PermissionGrantsErr, h.RoleAssignmentsErr)
	}
	for id, x := range held {
		if id != strings.ToLower(full.sp.ID) && len(x.AppRoleAssignments)+len(x.PermissionGrants)+len(x.RoleAssignments) > 0 {
			t.Errorf("%s holds %+v", id, x)
		}
	}
	// 24 principals: 48 per-principal reads + 2 role filters = 50 items,
	// three $batches, sent at once.
	if reqs, items := graphRequestsSince(s, mark); reqs < 3 || items < 50 {
		t.Errorf("%d requests, %d items", reqs, items)
	}

	throttled := 0
	for _, r := range s.Requests()[mark:] {
		if r.Fault == "throttle" {
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("nothing was throttled; the test means less than it says")
	}
	s.SetFaults(sandbox.Faults{})

	// A service principal that cannot be deleted keeps its app: Graph
	// answers the app's request 424.
	s.Inject(sandbox.Rule{Method: "DELETE", Path: "^/servicePrincipals/", Status: 403})
	spErr, appErr := gc.DeleteServicePrincipalAndApplication(ctx, full.sp.ID, full.app.ID)
	if !graph.IsForbidden(spErr) || graph.StatusOf(appErr) != 424 {
		t.Fatalf("refused delete: %v / %v", spErr, appErr)
	}
	if _, err := gc.ApplicationByAppID(ctx, full.app.AppID); err != nil {
		t.Fatalf("the app went although its service principal stayed: %v", err)
	}

	spErr, appErr = gc.DeleteServicePrincipalAndApplication(ctx, full.sp.ID, full.app.ID)
	if spErr != nil || appErr != nil {
		t.Fatalf("delete: %v / %v", spErr, appErr)
	}
	if _, err := gc.ApplicationByAppID(ctx, full.app.AppID); !graph.IsNotFound(err) {
		t.Errorf("the app is still there: %v", err)
	}
	if _, err := gc.ServicePrincipalByAppID(ctx, full.app.AppID); !graph.IsNotFound(err) {
		t.Errorf("the service principal is still there: %v", err)
	}
	ras, err := gc.RoleAssignments(ctx, full.sp.ID)
	if err != nil || len(ras) != 0 {
		t.Errorf("directory role assignments after the delete: %+v, %v", ras, err)
	}
	grants, err := gc.PermissionGrants(ctx, full.sp.ID)
	if err != nil || len(grants) != 0 {
		t.Errorf("grants after the delete: %+v, %v", grants, err)
	}
}
