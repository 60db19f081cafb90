package cli

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// benchProfiles are the setup runs measured by `make bench` and bounded by
// TestSetupRoundTrips: every built-in profile, hire2retire with Exchange.
var benchProfiles = []struct {
	name string
	args []string
}{
	{"relution", []string{"--profile", "relution", "--server-url", "https://relution.contoso.com"}},
	{"hire2retire", []string{"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer"}},
	{"hire2retire-exchange", []string{"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--with", "exchange"}},
	{"entitle", []string{"--profile", "entitle"}},
	{"unify", []string{"--profile", "unify", "--redirect-uri", "https://app.unifyapps.com/oauth/callback"}},
	{"roger365", []string{"--profile", "roger365"}},
}

// sequentialRounds is the length of the longest chain of Graph requests
// in which each starts after the previous one ended: the number of
// sequential round trips the run needed (concurrent requests count once).
func sequentialRounds(recs []sandbox.RequestRecord) (rounds, requests int) {
	var graph []sandbox.RequestRecord
	for _, r := range recs {
		if r.Kind == "graph" {
			graph = append(graph, r)
		}
	}
	sort.Slice(graph, func(i, j int) bool { return graph[i].Time.Before(graph[j].Time) })
	chain := make([]int, len(graph))
	for i, r := range graph {
		chain[i] = 1
		for j := 0; j < i; j++ {
			if !graph[j].Time.Add(graph[j].Duration).After(r.Time) && chain[j]+1 > chain[i] {
				chain[i] = chain[j] + 1
			}
		}
		rounds = max(rounds, chain[i])
	}
	return rounds, len(graph)
}

func describeRequests(recs []sandbox.RequestRecord) string {
	var b strings.Builder
	for _, r := range recs {
		if r.Kind == "graph" {
			b.WriteString(r.Time.Format("15:04:05.000") + " " + r.Method + " " + r.Path + "\n")
		}
	}
	return b.String()
}

// TestSetupRoundTrips: a fresh setup of any built-in profile needs at most
// five sequential Graph round trips (the target), counted from the
// sandbox's request log with a latency that separates the rounds.
func TestSetupRoundTrips(t *testing.T) {
	for _, p := range benchProfiles {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			tt := newTenant(t, sandboxtest.Latency(100*time.Millisecond))
			tt.setup(0, p.args...)
			rounds, n := sequentialRounds(tt.sb.Requests())
			if rounds > 5 {
				t.Errorf("%d sequential Graph round trips (%d requests), want ≤ 5:\n%s", rounds, n, describeRequests(tt.sb.Requests()))
			}
			t.Logf("%s: %d requests in %d sequential round trips", p.name, n, rounds)
		})
	}
}

// BenchmarkSetup runs each profile's setup against a sandbox with 100 ms of
// latency per request and reports wall time, requests and the implied
// sequential round trips (`make bench`).
func BenchmarkSetup(b *testing.B) {
	for _, p := range benchProfiles {
		b.Run(p.name, func(b *testing.B) {
			const latency = 100 * time.Millisecond
			var reqs, rounds float64
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tt := newTenant(b, sandboxtest.Latency(latency))
				sb := tt.sb
				b.StartTimer()
				start := time.Now()
				r := tt.run(append([]string{"setup", "--auth", "env", "--yes", "--output", "json"}, p.args...)...)
				wall += time.Since(start)
				b.StopTimer()
				if r.code != 0 {
					b.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				rd, n := sequentialRounds(sb.Requests())
				reqs += float64(n)
				rounds += float64(rd)
				b.StartTimer()
			}
			b.ReportMetric(reqs/float64(b.N), "graph-requests/op")
			b.ReportMetric(rounds/float64(b.N), "graph-round-trips/op")
			// Everything the run waited for, sign-in included, in units of
			// one request's latency.
			b.ReportMetric(float64(wall)/float64(b.N)/float64(latency), "implied-round-trips/op")
		})
	}
}

// BenchmarkSetupTenants sets up Entitle in eight tenants of one sandbox
// with 100 ms of latency per request, and reports the wall time in units
// of one request's latency and per tenant (`make bench`): tenants run four
// at a time, so eight cost about two tenants' time plus the shared review.
func BenchmarkSetupTenants(b *testing.B) {
	const latency = 100 * time.Millisecond
	names := []string{"T1", "T2", "T3", "T4", "T5", "T6", "T7"}
	var wall time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tt := newTenant(b, sandboxtest.Latency(latency), sandboxtest.Tenants(names...))
		args := []string{"setup", "--auth", "env", "--yes", "--output", "json", "--profile", "entitle"}
		for _, t := range tt.sb.Tenants() {
			args = append(args, "--tenant", t.TenantID)
		}
		b.StartTimer()
		start := time.Now()
		r := tt.run(args...)
		wall += time.Since(start)
		b.StopTimer()
		if r.code != 0 {
			b.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		b.StartTimer()
	}
	n := float64(len(names) + 1)
	b.ReportMetric(float64(wall)/float64(b.N)/float64(latency), "implied-round-trips/op")
	b.ReportMetric(float64(wall)/float64(b.N)/float64(latency)/n, "implied-round-trips/tenant")
}

// BenchmarkDayTwo measures apps list and verify --all at 5 and at 200 apps,
// and delete, against a sandbox with 100 ms of latency per request: wall
// time, Graph requests and sequential round trips (`make bench`). The
// round trips must not differ between 5 and 200 apps
// (TestDayTwoRoundTripsDoNotGrowWithApps fails if they do).
func BenchmarkDayTwo(b *testing.B) {
	const latency = 100 * time.Millisecond
	report := func(b *testing.B, tt *tenant, args ...string) {
		var reqs, rounds float64
		var wall time.Duration
		for i := 0; i < b.N; i++ {
			start := time.Now()
			rd, n := dayTwoRounds(b, tt, latency, args...)
			wall += time.Since(start)
			reqs += float64(n)
			rounds += float64(rd)
		}
		b.ReportMetric(reqs/float64(b.N), "graph-requests/op")
		b.ReportMetric(rounds/float64(b.N), "graph-round-trips/op")
		b.ReportMetric(float64(wall)/float64(b.N)/float64(latency), "implied-round-trips/op")
	}
	for _, n := range []int{5, 200} {
		b.Run(fmt.Sprintf("apps=%d", n), func(b *testing.B) {
			tt := seededTenant(b, n)
			b.Run("apps-list", func(b *testing.B) { report(b, tt, "apps", "list") })
			b.Run("verify-all", func(b *testing.B) { report(b, tt, "verify", "--all") })
			b.Run("delete", func(b *testing.B) {
				var reqs, rounds float64
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--with", "exchange",
						"--name", fmt.Sprintf("Delete me %d", i))
					b.StartTimer()
					rd, n := dayTwoRounds(b, tt, latency, "delete", "--yes", "--name", str(res, "displayName"))
					reqs += float64(n)
					rounds += float64(rd)
				}
				b.ReportMetric(reqs/float64(b.N), "graph-requests/op")
				b.ReportMetric(rounds/float64(b.N), "graph-round-trips/op")
			})
		})
	}
}
