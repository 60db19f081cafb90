package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

type batchReqBody struct {
	Requests []struct {
		ID        string   `json:"id"`
		Method    string   `json:"method"`
		URL       string   `json:"url"`
		DependsOn []string `json:"dependsOn"`
	} `json:"requests"`
}

func decodeBatch(t *testing.T, b []byte) batchReqBody {
	t.Helper()
	var out batchReqBody
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("$batch body: %v\n%s", err, b)
	}
	return out
}

func guid(n int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", n) }

// TestServicePrincipalsByAppIDsBatchesInFilters: 40 appIds become three
// appId in (…) filters of at most 15 values, in one $batch, with $select
// and the query names as Graph spells them; the answers are merged.
func TestServicePrincipalsByAppIDsBatchesInFilters(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path != "/v1.0/$batch" || r.Method != http.MethodPost {
			reply(w, 400, `{"error":{"code":"BadRequest","message":"unexpected `+r.URL.Path+`"}}`)
			return
		}
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
		var in batchReqBody
		_ = json.Unmarshal(body, &in)
		var resps []string
		for _, it := range in.Requests {
			u, _ := url.Parse(it.URL)
			f := u.Query().Get("$filter")
			var vals []string
			for _, part := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(f, "appId in ("), ")"), ",") {
				id := strings.Trim(part, "'")
				if strings.HasSuffix(id, "0") {
					continue // every tenth app has no service principal
				}
				vals = append(vals, fmt.Sprintf(`{"id":"sp-%s","appId":"%s","displayName":"x"}`, id, id))
			}
			resps = append(resps, fmt.Sprintf(`{"id":%q,"status":200,"headers":{"Content-Type":"application/json"},"body":{"value":[%s]}}`, it.ID, strings.Join(vals, ",")))
		}
		reply(w, 200, `{"responses":[`+strings.Join(resps, ",")+`]}`)
	})
	c, _ := f.client(t)
	var appIDs []string
	for i := 1; i <= 40; i++ {
		appIDs = append(appIDs, guid(i))
	}
	appIDs = append(appIDs, strings.ToUpper(guid(1))) // a duplicate in another case
	got, err := c.ServicePrincipalsByAppIDs(context.Background(), appIDs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 36 {
		t.Errorf("%d service principals, want 36 (40 apps, 4 without)", len(got))
	}
	if sp, ok := got[guid(7)]; !ok || sp.ID != "sp-"+guid(7) {
		t.Errorf("app 7: %+v %v", sp, ok)
	}
	if len(bodies) != 1 {
		t.Fatalf("%d $batch requests, want 1", len(bodies))
	}
	in := decodeBatch(t, bodies[0])
	if len(in.Requests) != 3 {
		t.Fatalf("%d requests in the batch, want 3", len(in.Requests))
	}
	for i, it := range in.Requests {
		if it.Method != "GET" || !strings.HasPrefix(it.URL, "/servicePrincipals?") {
			t.Errorf("item %d: %s %s", i, it.Method, it.URL)
		}
		u, _ := url.Parse(it.URL)
		q := u.Query()
		if n := strings.Count(q.Get("$filter"), ","); n > 14 {
			t.Errorf("item %d carries %d values, more than 15", i, n+1)
		}
		if !strings.Contains(q.Get("$select"), "appRoles") {
			t.Errorf("item %d: $select = %q", i, q.Get("$select"))
		}
		if strings.Contains(it.URL, "%24") {
			t.Errorf("item %d: query names left encoded: %s", i, it.URL)
		}
	}
}

// TestBatchItemsThrottledAreSentAgain: items Graph answers 429 (with their
// own Retry-After) go again in a new batch; the others are not repeated.
func TestBatchItemsThrottledAreSentAgain(t *testing.T) {
	var mu sync.Mutex
	var seen []int
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var in batchReqBody
		_ = json.Unmarshal(body, &in)
		mu.Lock()
		seen = append(seen, len(in.Requests))
		first := len(seen) == 1
		mu.Unlock()
		var resps []string
		for i, it := range in.Requests {
			if first && i%2 == 1 {
				resps = append(resps, fmt.Sprintf(`{"id":%q,"status":429,"headers":{"Retry-After":"0"},"body":{"error":{"code":"TooManyRequests","message":"Please retry again later."}}}`, it.ID))
				continue
			}
			resps = append(resps, fmt.Sprintf(`{"id":%q,"status":200,"body":{"value":[]}}`, it.ID))
		}
		reply(w, 200, `{"responses":[`+strings.Join(resps, ",")+`]}`)
	})
	c, _ := f.client(t)
	var ids []string
	for i := 1; i <= 4; i++ {
		ids = append(ids, guid(i))
	}
	h, err := c.HoldingsOf(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, x := range h {
		if x.AppRoleAssignmentsErr != nil || x.PermissionGrantsErr != nil || x.RoleAssignmentsErr != nil {
			t.Errorf("%s: %v / %v / %v", id, x.AppRoleAssignmentsErr, x.PermissionGrantsErr, x.RoleAssignmentsErr)
		}
	}
	// 4 assignments + 4 grants + 1 role filter = 9 items; 4 throttled.
	if len(seen) != 2 || seen[0] != 9 || seen[1] != 4 {
		t.Errorf("batch sizes %v, want [9 4]", seen)
	}
}

// TestDeleteServicePrincipalAndApplicationIsOneOrderedBatch: the app's
// DELETE depends on the service principal's; a refused service principal
// leaves the app (424) and both errors are reported.
func TestDeleteServicePrincipalAndApplicationIsOneOrderedBatch(t *testing.T) {
	refuse := false
	var got batchReqBody
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		got = decodeBatch(t, body)
		if refuse {
			reply(w, 200, `{"responses":[{"id":"sp","status":403,"body":{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}},`+
				`{"id":"app","status":424,"body":{"error":{"code":"FailedDependency","message":"Dependent request failed."}}}]}`)
			return
		}
		reply(w, 200, `{"responses":[{"id":"app","status":204},{"id":"sp","status":204}]}`)
	})
	c, _ := f.client(t)
	spErr, appErr := c.DeleteServicePrincipalAndApplication(context.Background(), guid(1), guid(2))
	if spErr != nil || appErr != nil {
		t.Fatalf("errors %v / %v", spErr, appErr)
	}
	if f.count() != 1 || len(got.Requests) != 2 {
		t.Fatalf("%d requests, %d items", f.count(), len(got.Requests))
	}
	sp, app := got.Requests[0], got.Requests[1]
	if sp.Method != "DELETE" || sp.URL != "/servicePrincipals/"+guid(1) || app.Method != "DELETE" || app.URL != "/applications/"+guid(2) {
		t.Errorf("items %+v", got.Requests)
	}
	if len(app.DependsOn) != 1 || app.DependsOn[0] != sp.ID {
		t.Errorf("the app's delete does not depend on the service principal's: %+v", app)
	}

	refuse = true
	spErr, appErr = c.DeleteServicePrincipalAndApplication(context.Background(), guid(1), guid(2))
	if !IsForbidden(spErr) || StatusOf(appErr) != http.StatusFailedDependency {
		t.Errorf("errors %v / %v", spErr, appErr)
	}
}

// TestBatchItemsAreTraced: --verbose shows each item of a batch under the
// $batch line, never a body.
func TestBatchItemsAreTraced(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, body []byte) {
		in := decodeBatch(t, body)
		reply(w, 200, fmt.Sprintf(`{"responses":[{"id":%q,"status":200,"body":{"value":[]}}]}`, in.Requests[0].ID))
	})
	var trace bytes.Buffer
	c, _ := f.client(t, func(o *Options) { o.Trace = &trace })
	if _, err := c.ServicePrincipalsByAppIDs(context.Background(), []string{guid(3)}); err != nil {
		t.Fatal(err)
	}
	want := "graph:   in $batch: GET /servicePrincipals?$filter=appId in ('" + guid(3) + "')"
	if !strings.Contains(strings.ReplaceAll(trace.String(), "%20", " "), "$batch -> 200") {
		t.Errorf("no $batch line:\n%s", trace.String())
	}
	if s, _ := url.QueryUnescape(trace.String()); !strings.Contains(s, want) {
		t.Errorf("trace lacks %q:\n%s", want, s)
	}
}
