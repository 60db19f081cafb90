package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// reqInfo collects what the request log records about one request.
type reqInfo struct {
	kind  string
	fault string
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// serveHTTP routes by path whatever the Host — /v1.0 is Graph, /_sandbox is
// inspection, everything else is the login (authority) service — except
// on the Azure Resource Manager hosts, whose paths would clash.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	info := &reqInfo{}
	s.mu.Lock()
	latency := s.faults.Latency
	s.mu.Unlock()
	path := r.URL.Path
	var after *activeRule
	var buffered *bufferedResponse
	switch {
	case strings.HasPrefix(path, "/_sandbox/"):
		info.kind = "sandbox"
		s.serveInspect(sw, r)
	default:
		if after = s.takeAfterRule(r); after != nil {
			buffered = &bufferedResponse{header: http.Header{}}
			sw.ResponseWriter = buffered
		}
		if latency > 0 {
			timer := time.NewTimer(latency)
			select {
			case <-r.Context().Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		switch armCloud := armHostCloud(r.Host); {
		case armCloud != "":
			info.kind = "arm"
			s.serveARM(sw, r, armCloud)
		case path == "/v1.0" || strings.HasPrefix(path, "/v1.0/"):
			info.kind = "graph"
			s.serveGraph(sw, r, info)
		case path == "/beta" || strings.HasPrefix(path, "/beta/"):
			// Of beta only auditLogs/signIns is served (routeBeta).
			info.kind = "graph"
			s.serveGraph(sw, r, info)
		default:
			info.kind = "token"
			s.serveLogin(sw, r, info)
		}
	}
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	if info.kind == "sandbox" {
		// The inspection API is not part of the tenant's traffic.
		return
	}
	if after != nil {
		s.afterCommit(w, r, after, buffered, start, info)
		return
	}
	s.record(RequestRecord{
		Time: start, Method: r.Method, Host: r.Host, Path: r.URL.RequestURI(), Status: sw.status,
		Duration: time.Since(start), Kind: info.kind, Fault: info.fault,
	})
}

// afterCommit carries out an after-commit rule on a request that has been
// served into resp: hold the response, or drop the connection.
func (s *Server) afterCommit(w http.ResponseWriter, r *http.Request, rule *activeRule, resp *bufferedResponse, start time.Time, info *reqInfo) {
	rec := RequestRecord{Time: start, Method: r.Method, Host: r.Host, Path: r.URL.RequestURI(), Status: resp.status,
		Kind: info.kind, Fault: rule.Action}
	if rule.Action == ActionHang && s.hold(r, resp) {
		resp.sendTo(w)
		rec.Duration = time.Since(start)
		s.record(rec)
		return
	}
	rec.Status = 0 // the client got no response
	rec.Duration = time.Since(start)
	s.record(rec)
	// net/http closes the connection (HTTP/1.1) or resets the stream
	// (HTTP/2) and logs nothing for this panic.
	panic(http.ErrAbortHandler)
}

func (s *Server) record(rec RequestRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, rec)
	if len(s.records) > maxRecords {
		s.records = append([]RequestRecord(nil), s.records[len(s.records)-maxRecords:]...)
	}
	if s.opts.Log != nil {
		fault := ""
		if rec.Fault != "" {
			fault = " fault=" + rec.Fault
		}
		fmt.Fprintf(s.opts.Log, "%s %s https://%s%s %d %s%s\n", rec.Time.UTC().Format(time.RFC3339), rec.Method, rec.Host, rec.Path, rec.Status, rec.Duration.Round(time.Microsecond), fault)
	}
}

func (s *Server) logf(format string, a ...any) {
	if s.opts.Log != nil {
		fmt.Fprintf(s.opts.Log, format+"\n", a...)
	}
}
