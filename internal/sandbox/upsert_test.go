package sandbox_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

const createIfMissing = "create-if-missing"

// TestApplicationUpsert follows application-upsert (endpoints.md §10.1).
func TestApplicationUpsert(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)

	// Missing, without Prefer: an update of nothing is 404.
	admin.do("PATCH", "/applications(uniqueName='app-65278')", map[string]any{"displayName": "Display name"}).
		wantError(t, 404, "Request_ResourceNotFound", "Resource 'app-65278' does not exist")
	// Missing, with Prefer: 201 and the new application, uniqueName set.
	created := admin.do("PATCH", "/applications(uniqueName='app-65278')", map[string]any{"displayName": "Display name"}, "Prefer", createIfMissing).must(t, 201)
	validateEntity(t, "application", created)
	if created["uniqueName"] != "app-65278" || created["displayName"] != "Display name" || !strings.HasSuffix(created["@odata.context"].(string), "#applications/$entity") {
		t.Errorf("created: %v", created)
	}
	// Present: updated, 204 without a body (with or without Prefer).
	r := admin.do("PATCH", "/applications(uniqueName='app-65278')", map[string]any{"displayName": "Renamed", "notes": "by upsert"}, "Prefer", createIfMissing)
	r.must(t, 204)
	if len(r.raw) != 0 {
		t.Errorf("204 with a body: %q", r.raw)
	}
	admin.do("PATCH", "/applications(uniqueName='app-65278')", map[string]any{"displayName": "Renamed again"}).must(t, 204)
	got := admin.do("GET", "/applications(uniqueName='app-65278')", nil).must(t, 200)
	if got["id"] != created["id"] || got["displayName"] != "Renamed again" || got["notes"] != "by upsert" {
		t.Errorf("GET by uniqueName: %v", got)
	}
	// "The request body must contain displayName."
	admin.do("PATCH", "/applications(uniqueName='app-65278')", map[string]any{"notes": "no name"}, "Prefer", createIfMissing).
		wantError(t, 400, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Application'.")
	admin.do("PATCH", "/applications(uniqueName='other')", map[string]any{"notes": "no name"}, "Prefer", createIfMissing).
		wantError(t, 400, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Application'.")
	// Passwords are not set by PATCH (application-upsert).
	admin.do("PATCH", "/applications(uniqueName='pw')", map[string]any{"displayName": "pw", "passwordCredentials": []any{map[string]any{"displayName": "x"}}}, "Prefer", createIfMissing).
		wantError(t, 400, "Request_BadRequest", "passwordCredentials")
	// uniqueName is immutable once set.
	admin.do("PATCH", "/applications/"+created["id"].(string), map[string]any{"uniqueName": "changed"}).
		wantError(t, 400, "Request_BadRequest", "uniqueName")

	// Adoption: an application made without uniqueName gets one by PATCH,
	// and is then found by the key.
	legacy := admin.do("POST", "/applications", map[string]any{"displayName": "legacy"}).must(t, 201)
	if legacy["uniqueName"] != nil {
		t.Errorf("POST set uniqueName: %v", legacy["uniqueName"])
	}
	// A taken uniqueName is 400, not 409 (observed, §10.1).
	admin.do("PATCH", "/applications/"+legacy["id"].(string), map[string]any{"uniqueName": "APP-65278"}).
		wantError(t, 400, "Request_BadRequest", "Another object with the same value for property uniqueName already exists.")
	admin.do("PATCH", "/applications/"+legacy["id"].(string), map[string]any{"uniqueName": "legacy-adopted"}).must(t, 204)
	admin.do("PATCH", "/applications(uniqueName='legacy-adopted')", map[string]any{"displayName": "legacy"}, "Prefer", createIfMissing).must(t, 204)
	if n := len(validateCollection(t, "application", admin.do("GET", "/applications?$filter=displayName eq 'legacy'", nil).must(t, 200))); n != 1 {
		t.Errorf("adoption made %d applications named legacy", n)
	}
	admin.do("POST", "/applications", map[string]any{"displayName": "dup", "uniqueName": "legacy-adopted"}).
		wantError(t, 400, "Request_BadRequest", "Another object with the same value for property uniqueName already exists.")

	// A deleted application keeps its uniqueName reserved in the recycle bin.
	admin.do("DELETE", "/applications(uniqueName='app-65278')", nil).must(t, 204)
	admin.do("GET", "/applications(uniqueName='app-65278')", nil).wantError(t, 404, "Request_ResourceNotFound", "app-65278")
	admin.do("PATCH", "/applications(uniqueName='app-65278')", map[string]any{"displayName": "again"}, "Prefer", createIfMissing).
		wantError(t, 400, "Request_BadRequest", "Another object with the same value for property uniqueName already exists.")
	// Restored, it answers to the key again; purged, the key is free.
	admin.do("POST", "/directory/deletedItems/"+created["id"].(string)+"/restore", nil).must(t, 200)
	admin.do("GET", "/applications(uniqueName='app-65278')", nil).must(t, 200)
	admin.do("DELETE", "/applications/"+created["id"].(string), nil).must(t, 204)
	admin.do("DELETE", "/directory/deletedItems/"+created["id"].(string), nil).must(t, 204)
	again := admin.do("PATCH", "/applications(uniqueName='app-65278')", map[string]any{"displayName": "again"}, "Prefer", createIfMissing).must(t, 201)
	if again["id"] == created["id"] {
		t.Errorf("a purged application came back")
	}

	// Upsert needs Application.ReadWrite.All or OwnedBy (application-upsert).
	readerID, readerSecret := createPrincipal(t, s, "reader", []string{"Application.Read.All"}, nil)
	reader := appClient(t, s, readerID, readerSecret)
	reader.do("PATCH", "/applications(uniqueName='by-reader')", map[string]any{"displayName": "x"}, "Prefer", createIfMissing).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	// OwnedBy updates only what it owns.
	ownerID, ownerSecret := createPrincipal(t, s, "owner", []string{"Application.ReadWrite.OwnedBy"}, nil)
	owner := appClient(t, s, ownerID, ownerSecret)
	owner.do("PATCH", "/applications(uniqueName='owned')", map[string]any{"displayName": "owned"}, "Prefer", createIfMissing).must(t, 201)
	owner.do("PATCH", "/applications(uniqueName='owned')", map[string]any{"displayName": "still owned"}, "Prefer", createIfMissing).must(t, 204)
	owner.do("PATCH", "/applications(uniqueName='legacy-adopted')", map[string]any{"displayName": "stolen"}, "Prefer", createIfMissing).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
}

// TestConcurrentUpsertsMeetOnOneApplication: Entra's unique index lets one
// of two simultaneous upserts create; the others update.
func TestConcurrentUpsertsMeetOnOneApplication(t *testing.T) {
	s := newSandbox(t, sandboxtest.Latency(20*time.Millisecond))
	admin := adminClient(t, s)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = admin.do("PATCH", "/applications(uniqueName='race')", map[string]any{"displayName": "race"}, "Prefer", createIfMissing).status
		}()
	}
	close(start)
	wg.Wait()
	createdCount, updated := 0, 0
	for _, st := range statuses {
		switch st {
		case http.StatusCreated:
			createdCount++
		case http.StatusNoContent:
			updated++
		}
	}
	if createdCount != 1 || updated != n-1 {
		t.Errorf("statuses %v: want one 201 and %d 204", statuses, n-1)
	}
	if apps := validateCollection(t, "application", admin.do("GET", "/applications?$filter=displayName eq 'race'", nil).must(t, 200)); len(apps) != 1 {
		t.Errorf("%d applications after concurrent upserts", len(apps))
	}
	// The same for service principals.
	app := admin.do("GET", "/applications(uniqueName='race')", nil).must(t, 200)
	var spStatuses [n]int
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spStatuses[i] = admin.do("PATCH", "/servicePrincipals(appId='"+app["appId"].(string)+"')", map[string]any{"tags": []string{"race"}}, "Prefer", createIfMissing).status
		}()
	}
	wg.Wait()
	createdCount = 0
	for _, st := range spStatuses {
		if st == http.StatusCreated {
			createdCount++
		} else if st != http.StatusNoContent {
			t.Errorf("SP upsert status %d", st)
		}
	}
	if createdCount != 1 {
		t.Errorf("SP upsert statuses %v: want exactly one 201", spStatuses)
	}
}

// TestServicePrincipalUpsert follows serviceprincipal-upsert (§10.2),
// replication included.
func TestServicePrincipalUpsert(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "sp upsert", "signInAudience": "AzureADMyOrg", "tags": []string{"app-tag"}}).must(t, 201)
	key := "/servicePrincipals(appId='" + app["appId"].(string) + "')"
	admin.do("PATCH", key, map[string]any{"tags": []string{"x"}}).wantError(t, 404, "Request_ResourceNotFound", app["appId"].(string))
	sp := admin.do("PATCH", key, map[string]any{"tags": []string{"WindowsAzureActiveDirectoryIntegratedApp"}}, "Prefer", createIfMissing).must(t, 201)
	validateEntity(t, "servicePrincipal", sp)
	if sp["appId"] != app["appId"] || !has(strs(sp["tags"]), "WindowsAzureActiveDirectoryIntegratedApp") || has(strs(sp["tags"]), "app-tag") {
		t.Errorf("upserted SP: %v", sp)
	}
	admin.do("PATCH", key, map[string]any{"appRoleAssignmentRequired": true}, "Prefer", createIfMissing).must(t, 204)
	got := admin.do("GET", key, nil).must(t, 200)
	if got["id"] != sp["id"] || got["appRoleAssignmentRequired"] != true {
		t.Errorf("after update: %v", got)
	}
	admin.do("PATCH", key, map[string]any{"appId": "11111111-1111-1111-1111-111111111111", "tags": []string{}}, "Prefer", createIfMissing).
		wantError(t, 400, "Request_BadRequest", "")
	admin.do("PATCH", "/servicePrincipals(appId='12345678-1234-1234-1234-123456789012')", map[string]any{}, "Prefer", createIfMissing).
		wantError(t, 400, "Request_BadRequest", "The appId '12345678-1234-1234-1234-123456789012' of the service principal does not reference a valid application object.")

	// Right after the application was created the upsert fails like POST
	// /servicePrincipals does, and succeeds once replicated.
	s2 := newSandbox(t, sandboxtest.ReplicationDelay(400*time.Millisecond))
	admin2 := adminClient(t, s2)
	fresh := admin2.do("POST", "/applications", map[string]any{"displayName": "fresh"}).must(t, 201)
	key2 := "/servicePrincipals(appId='" + fresh["appId"].(string) + "')"
	admin2.do("PATCH", key2, map[string]any{}, "Prefer", createIfMissing).
		wantError(t, 400, "Request_BadRequest", "does not reference a valid application object")
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := admin2.do("PATCH", key2, map[string]any{}, "Prefer", createIfMissing)
		if r.status == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SP upsert never succeeded: %d %s", r.status, r.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
