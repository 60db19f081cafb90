package sandbox_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func inList(ids []string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = "'" + id + "'"
	}
	return "(" + strings.Join(quoted, ",") + ")"
}

// TestFilterIn: appId in (…) and id in (…) on applications and service
// principals, at most 15 values without advanced query parameters ("the
// request is limited to 15 expressions in the filter clause by default",
// Graph known issues), in $batch as at top level.
func TestFilterIn(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	var appIDs, objIDs, spIDs []string
	for i := range 16 {
		app, sp := newAppAndSP(t, admin, fmt.Sprintf("in-%02d", i))
		appIDs = append(appIDs, app["appId"].(string))
		objIDs = append(objIDs, app["id"].(string))
		spIDs = append(spIDs, sp["id"].(string))
	}
	q := func(f string) string { return "?$filter=" + url.QueryEscape(f) + "&$select=id,appId" }

	got := validateCollection(t, "application", admin.do("GET", "/applications"+q("appId in "+inList(appIDs[:15])), nil).must(t, 200))
	if len(got) != 15 {
		t.Errorf("appId in (15 values): %d applications", len(got))
	}
	got = validateCollection(t, "servicePrincipal", admin.do("GET", "/servicePrincipals"+q("appId in "+inList(appIDs[:3])), nil).must(t, 200))
	if len(got) != 3 {
		t.Errorf("service principals by appId in: %d", len(got))
	}
	got = validateCollection(t, "servicePrincipal", admin.do("GET", "/servicePrincipals"+q("id in "+inList(spIDs[:2])), nil).must(t, 200))
	if len(got) != 2 {
		t.Errorf("service principals by id in: %d", len(got))
	}
	got = validateCollection(t, "application", admin.do("GET", "/applications"+q("id in "+inList(objIDs[5:9])), nil).must(t, 200))
	if len(got) != 4 {
		t.Errorf("applications by id in: %d", len(got))
	}
	// Sixteen values: refused, with the observed body.
	admin.do("GET", "/applications"+q("appId in "+inList(appIDs)), nil).
		wantError(t, 400, "Request_UnsupportedQuery", "Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.")
	admin.do("GET", "/applications"+q("appId in "+inList(appIDs[:10])+" or appId in "+inList(appIDs[10:])), nil).
		wantError(t, 400, "Request_UnsupportedQuery", "Max allowed: 15.")
	// Advanced query parameters lift the expression limit.
	got = validateCollection(t, "application", admin.do("GET", "/applications"+q("appId in "+inList(appIDs))+"&$count=true", nil, "ConsistencyLevel", "eventual").must(t, 200))
	if len(got) != 16 {
		t.Errorf("advanced query: %d applications", len(got))
	}

	// The same in $batch: each item on its own, the limit per item.
	batch := admin.do("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/applications" + q("appId in "+inList(appIDs[:15]))},
		map[string]any{"id": "2", "method": "GET", "url": "/applications" + q("appId in "+inList(appIDs))},
		map[string]any{"id": "3", "method": "GET", "url": "/servicePrincipals" + q("appId in "+inList(appIDs[15:]))},
	}}).must(t, 200)
	for _, it := range batch["responses"].([]any) {
		m := it.(map[string]any)
		status := m["status"].(float64)
		body, _ := m["body"].(map[string]any)
		switch m["id"] {
		case "1":
			if status != 200 || len(body["value"].([]any)) != 15 {
				t.Errorf("batch item 1: %v %v", status, body)
			}
		case "2":
			if status != 400 || body["error"].(map[string]any)["code"] != "Request_UnsupportedQuery" {
				t.Errorf("batch item 2: %v %v", status, body)
			}
		case "3":
			if status != 200 || len(body["value"].([]any)) != 1 {
				t.Errorf("batch item 3: %v %v", status, body)
			}
		}
	}
}
