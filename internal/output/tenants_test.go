package output

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestTenantStreamIsOneObject: entries written as tenants finish, from
// several goroutines, still make exactly one JSON object; so does a run
// in which no tenant got a result.
func TestTenantStreamIsOneObject(t *testing.T) {
	for _, n := range []int{0, 1, 7} {
		var b bytes.Buffer
		s := NewTenantStream(&b, FormatJSON, map[string]any{"profile": "entitle", "cloud": "global"}, Style{}, now)
		var outs []TenantOutcome
		var wg sync.WaitGroup
		for i := range n {
			o := TenantOutcome{Tenant: string(rune('a'+i)) + ".example.com", Status: TenantDone, Result: result()}
			outs = append(outs, o)
			wg.Go(func() {
				if err := s.Add(o); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if err := s.Close(outs, 0, false, 80); err != nil {
			t.Fatal(err)
		}
		var obj struct {
			Profile string `json:"profile"`
			Tenants []struct {
				Tenant string         `json:"tenant"`
				Result map[string]any `json:"result"`
			} `json:"tenants"`
			Summary  TenantCounts `json:"summary"`
			ExitCode int          `json:"exitCode"`
		}
		dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
		if err := dec.Decode(&obj); err != nil || dec.More() {
			t.Fatalf("%d tenants: not one JSON object (%v):\n%s", n, err, b.String())
		}
		if obj.Profile != "entitle" || len(obj.Tenants) != n || obj.Summary.Done != n {
			t.Errorf("%d tenants: %+v", n, obj)
		}
		for _, e := range obj.Tenants {
			if e.Result["clientSecret"] != "s3cr~et'x" {
				t.Errorf("entry %s lost its secret", e.Tenant)
			}
		}
		if err := s.Add(TenantOutcome{Tenant: "late"}); err == nil {
			t.Error("an entry after Close was accepted")
		}
	}
}

// TestTenantSummaryLines: the table fits 80 columns whatever the tenants'
// names and messages; the result says the exit status; long messages are
// cut, the counts close it.
func TestTenantSummaryLines(t *testing.T) {
	long := strings.Repeat("very-long-subdomain.", 4) + "contoso.onmicrosoft.com"
	outs := []TenantOutcome{
		{Tenant: "00001111-aaaa-2222-bbbb-3333cccc4444", TenantName: "Contoso", Status: TenantDone, Result: result()},
		{Tenant: long, Status: TenantFailed, ExitCode: 1, Error: strings.Repeat("AADSTS700016: Application with identifier was not found in the directory. ", 5)},
		{Tenant: "fabrikam.com", Status: TenantPending, ExitCode: 4, Result: &Result{ConsentURL: "https://x"}},
		{Tenant: "northwind.com", Status: TenantInvalid, ExitCode: 2, Error: "relution.contoso.com is not a verified domain"},
	}
	dir := "handovers/" + strings.Repeat("d", 20)
	outs[0].OutputFile = dir + "/00001111-aaaa-2222-bbbb-3333cccc4444.json"
	lines := TenantSummaryLines(outs, false, 80)
	for _, l := range lines {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"Contoso; new client secret", "failed (1)", "pending (4)", "bad input (2)", "…", long[:35] + "…",
		"4 tenants: 1 done, 1 need an admin, 1 bad input, 1 failed."} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	// The file's path is whole, on a line of its own.
	if !slices.Contains(lines, "    "+outs[0].OutputFile) {
		t.Errorf("the hand-over file is not shown whole:\n%s", text)
	}
	if strings.Count(text, "AADSTS700016") != 1 {
		t.Errorf("the long message was not cut to three lines:\n%s", text)
	}
}
