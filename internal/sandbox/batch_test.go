package sandbox_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

func TestBatch(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	filter := url.QueryEscape("displayName eq 'from batch'")
	body := map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/organization"},
		map[string]any{"id": "2", "method": "POST", "url": "/applications", "body": map[string]any{"displayName": "from batch"}, "headers": map[string]any{"Content-Type": "application/json"}},
		// Listed before its dependency: the batch runs in dependency order.
		map[string]any{"id": "3", "dependsOn": []string{"4"}, "method": "GET", "url": "applications?$filter=" + filter + "&$select=id,displayName"},
		map[string]any{"id": "4", "dependsOn": []string{"2"}, "method": "GET", "url": "/applications?$top=1"},
		map[string]any{"id": "5", "method": "GET", "url": "/applications/00000000-1111-2222-3333-444444444444"},
		map[string]any{"id": "6", "dependsOn": []string{"5"}, "method": "DELETE", "url": "/applications/00000000-1111-2222-3333-444444444444"},
		map[string]any{"id": "7", "method": "PUT", "url": "/organization"},
	}}
	out := admin.do("POST", "/$batch", body).must(t, 200)
	responses, _ := out["responses"].([]any)
	if len(out) != 1 || len(responses) != 7 {
		t.Fatalf("batch response: %v", out)
	}
	byID := map[string]map[string]any{}
	var order []string
	for _, r := range responses {
		m := r.(map[string]any)
		byID[m["id"].(string)] = m
		order = append(order, m["id"].(string))
		if _, ok := m["status"].(float64); !ok {
			t.Errorf("item %v: status is not a number", m["id"])
		}
		if _, ok := m["headers"].(map[string]any); !ok {
			t.Errorf("item %v: headers missing", m["id"])
		}
	}
	pos := func(id string) int {
		for i, x := range order {
			if x == id {
				return i
			}
		}
		return -1
	}
	if pos("4") > pos("3") || pos("2") > pos("4") {
		t.Errorf("dependency order not respected: %v", order)
	}
	status := func(id string) int { return int(byID[id]["status"].(float64)) }
	item := func(id string) response {
		b, _ := byID[id]["body"].(map[string]any)
		hdr := http.Header{}
		for k, v := range byID[id]["headers"].(map[string]any) {
			hdr.Set(k, fmt.Sprint(v))
		}
		return response{status: status(id), body: b, header: hdr, raw: []byte(fmt.Sprint(b))}
	}
	validateCollection(t, "organization", item("1").must(t, 200))
	created := item("2").must(t, 201)
	validateEntity(t, "application", created)
	found := validateCollection(t, "application", item("3").must(t, 200))
	if len(found) != 1 || found[0]["id"] != created["id"] {
		t.Errorf("item 3 did not see item 2's application: %v", found)
	}
	item("5").wantError(t, 404, "Request_ResourceNotFound", "does not exist")
	if status("6") != 424 {
		t.Errorf("item depending on a failed item: %d, want 424", status("6"))
	}
	item("7").wantError(t, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")

	// Each item is recorded.
	items := 0
	for _, r := range s.Requests() {
		if r.Kind == "batch-item" {
			items++
		}
	}
	if items != 6 {
		t.Errorf("%d batch items recorded, want 6 (the 424 never ran)", items)
	}

	var many []any
	for i := 0; i < 21; i++ {
		many = append(many, map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/organization"})
	}
	admin.do("POST", "/$batch", map[string]any{"requests": many}).wantError(t, 400, "BadRequest", "20")
	admin.do("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "a", "method": "GET", "url": "/organization"}, map[string]any{"id": "A", "method": "GET", "url": "/organization"},
	}}).wantError(t, 400, "BadRequest", "same id")
	admin.do("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "POST", "url": "/applications", "body": map[string]any{"displayName": "x"}},
	}}).wantError(t, 400, "BadRequest", "Write request id : 1 does not contain Content-Type header or body.")
	admin.do("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/organization", "dependsOn": []string{"9"}},
	}}).wantError(t, 400, "BadRequest", "9")
	unauth := &client{t: t, s: s, hc: admin.hc, base: admin.base}
	unauth.do("POST", "/$batch", body).wantError(t, 401, "InvalidAuthenticationToken", "Access token is empty.")
}
