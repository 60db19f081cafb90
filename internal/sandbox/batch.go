package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// maxBatchRequests is Graph's JSON batching limit.
const maxBatchRequests = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// handleBatch serves POST /$batch: every item is authorised, throttled and
// recorded on its own, items run in dependency order, and an item whose
// dependency failed gets 424.
func (s *Server) handleBatch(g *graphReq) (*graphResp, *graphError) {
	if g.method != http.MethodPost {
		return nil, errMethodNotAllowed()
	}
	var req struct {
		Requests []batchItem `json:"requests"`
	}
	dec := json.NewDecoder(bytes.NewReader(g.body))
	dec.DisallowUnknownFields()
	if len(bytes.TrimSpace(g.body)) == 0 || dec.Decode(&req) != nil {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
	}
	if req.Requests == nil {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
	}
	if len(req.Requests) > maxBatchRequests {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Number of batch requests exceeds the maximum of %d.", maxBatchRequests)
	}
	ids := map[string]bool{}
	for _, it := range req.Requests {
		if it.ID == "" || it.Method == "" || it.URL == "" {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
		}
		switch strings.ToUpper(it.Method) {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return nil, gerr(http.StatusBadRequest, "BadRequest", "Invalid method '%s' specified for request id: %s.", it.Method, it.ID)
		}
		key := strings.ToLower(it.ID)
		if ids[key] {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "Batch request contains multiple requests with the same id: %s.", it.ID)
		}
		ids[key] = true
		if len(bytes.TrimSpace(it.Body)) > 0 && string(bytes.TrimSpace(it.Body)) != "null" && headerValue(it.Headers, "Content-Type") == "" {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "Write request id : %s does not contain Content-Type header or body.", it.ID)
		}
	}
	for _, it := range req.Requests {
		for _, d := range it.DependsOn {
			if !ids[strings.ToLower(d)] || strings.EqualFold(d, it.ID) {
				return nil, gerr(http.StatusBadRequest, "BadRequest", "Request id %s depends on request id %s, which is not in the batch.", it.ID, d)
			}
		}
	}
	status := map[string]int{}
	done := map[string]bool{}
	var responses []any
	for len(done) < len(req.Requests) {
		progressed := false
		for _, it := range req.Requests {
			key := strings.ToLower(it.ID)
			if done[key] {
				continue
			}
			ready, failed := true, false
			for _, d := range it.DependsOn {
				dk := strings.ToLower(d)
				if !done[dk] {
					ready = false
					break
				}
				if status[dk] >= 400 {
					failed = true
				}
			}
			if !ready {
				continue
			}
			var item map[string]any
			if failed {
				rid := newGUID()
				item = map[string]any{"id": it.ID, "status": http.StatusFailedDependency,
					"headers": map[string]any{"Content-Type": "application/json", "request-id": rid, "client-request-id": g.clientReq},
					"body": map[string]any{"error": map[string]any{"code": "FailedDependency", "message": "Dependent request failed.",
						"innerError": map[string]any{"date": errorDate(time.Now()), "request-id": rid, "client-request-id": g.clientReq}}}}
			} else {
				item = s.runBatchItem(g, it)
			}
			status[key] = item["status"].(int)
			done[key] = true
			progressed = true
			responses = append(responses, item)
		}
		if !progressed {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "The batch request contains a circular dependsOn chain.")
		}
	}
	return ok(map[string]any{"responses": responses}), nil
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// runBatchItem executes one batch item through the normal Graph pipeline.
func (s *Server) runBatchItem(outer *graphReq, it batchItem) map[string]any {
	start := time.Now()
	rel := strings.TrimPrefix(it.URL, "/")
	rel = strings.TrimPrefix(rel, "v1.0/")
	path, rawQuery, _ := strings.Cut(rel, "?")
	header := http.Header{}
	for k, v := range it.Headers {
		header.Set(k, v)
	}
	header.Set("Authorization", outer.header.Get("Authorization"))
	inner := &graphReq{
		s: s, method: strings.ToUpper(it.Method), path: tenantAlias("/" + path), rawQuery: rawQuery, header: header, host: outer.host,
		requestID: newGUID(), clientReq: outer.clientReq, batchItem: true,
	}
	if b := bytes.TrimSpace(it.Body); len(b) > 0 && string(b) != "null" {
		inner.body = b
	}
	var resp *graphResp
	var gErr *graphError
	if strings.HasPrefix(strings.ToLower(it.URL), "http://") || strings.HasPrefix(strings.ToLower(it.URL), "https://") {
		gErr = gerr(http.StatusBadRequest, "BadRequest", "Invalid request URL '%s': batch request URLs must be relative.", it.URL)
	} else {
		resp, gErr = s.handleGraph(inner)
	}
	code, hdr, body := inner.render(resp, gErr)
	fault := inner.fault
	if gErr != nil && gErr.Fault != "" {
		fault = gErr.Fault
	}
	s.record(RequestRecord{Time: start, Method: inner.method, Host: outer.host, Path: "/v1.0" + inner.path + querySuffix(rawQuery),
		Status: code, Duration: time.Since(start), Kind: "batch-item", Fault: fault})
	headers := map[string]any{}
	for k, v := range hdr {
		headers[k] = v
	}
	item := map[string]any{"id": it.ID, "status": code, "headers": headers}
	if len(body) > 0 {
		var v any
		if json.Unmarshal(body, &v) == nil {
			item["body"] = v
		} else {
			item["body"] = string(body)
		}
	}
	return item
}

func querySuffix(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}
