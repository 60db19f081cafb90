package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/entra-link/entra-link/internal/layout"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Outcomes of one tenant in a run across several tenants.
const (
	TenantDone      = "done"      // exit 0
	TenantPlanned   = "planned"   // a dry run's plan (exit 0)
	TenantPending   = "pending"   // done, an admin must still act (exit 4)
	TenantInvalid   = "invalid"   // bad input for this tenant; nothing changed there (exit 2)
	TenantFailed    = "failed"    // exit 1
	TenantCancelled = "cancelled" // stopped by Ctrl-C or a signal (exit 130)
)

// TenantOutcome is one tenant's entry in a run across several tenants.
type TenantOutcome struct {
	// Tenant is the tenant as it was given (--tenant, --tenants-file).
	Tenant     string `json:"tenant"`
	TenantID   string `json:"tenantId,omitempty"`
	TenantName string `json:"tenantName,omitempty"`
	Status     string `json:"status"`
	ExitCode   int    `json:"exitCode"`
	// Error says why the tenant is not done, in words.
	Error string `json:"error,omitempty"`
	// OutputFile is the tenant's own file (--output-file DIR), when written.
	OutputFile string `json:"outputFile,omitempty"`
	// Result is the design.md §4 object of the tenant's run (or dry run);
	// absent when it did not get that far (sign-in failed, not started).
	Result *Result `json:"result,omitempty"`
}

// TenantCounts counts the tenants by status.
type TenantCounts struct {
	Tenants   int `json:"tenants"`
	Done      int `json:"done"`
	Pending   int `json:"pending"`
	Invalid   int `json:"invalid"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
}

// CountTenants counts outcomes by status.
func CountTenants(outs []TenantOutcome) TenantCounts {
	c := TenantCounts{Tenants: len(outs)}
	for _, o := range outs {
		switch o.Status {
		case TenantDone, TenantPlanned:
			c.Done++
		case TenantPending:
			c.Pending++
		case TenantInvalid:
			c.Invalid++
		case TenantCancelled:
			c.Cancelled++
		default:
			c.Failed++
		}
	}
	return c
}

// Words is the count in a sentence: "3 tenants: 2 done, 1 failed".
func (c TenantCounts) Words(dryRun bool) string {
	done := "done"
	if dryRun {
		done = "planned"
	}
	var parts []string
	for _, p := range []struct {
		n    int
		word string
	}{{c.Done, done}, {c.Pending, "need an admin"}, {c.Invalid, "bad input"}, {c.Failed, "failed"}, {c.Cancelled, "cancelled"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.word))
		}
	}
	return fmt.Sprintf("%d tenant%s: %s", c.Tenants, plural(c.Tenants), strings.Join(parts, ", "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// TenantStream writes a run across several tenants to stdout as the
// tenants finish, each as soon as its outcome is known, so that no
// tenant's secret waits for the slowest tenant: in json, exactly one
// object whose "tenants" array grows entry by entry; in text, one report
// per tenant. Close ends the object (json) or adds the summary (text).
// Safe for concurrent use.
type TenantStream struct {
	mu      sync.Mutex
	w       io.Writer
	format  string
	header  map[string]any
	style   Style
	now     time.Time
	started bool
	closed  bool
	n       int
}

// NewTenantStream writes to w in format (json or text). header holds the
// object's fields before "tenants" (profile, cloud, dryRun).
func NewTenantStream(w io.Writer, format string, header map[string]any, st Style, now time.Time) *TenantStream {
	return &TenantStream{w: w, format: format, header: header, style: st, now: now}
}

// Add writes one tenant's outcome.
func (s *TenantStream) Add(o TenantOutcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(o)
}

// TryAdd is Add for the delivery of last resort (after a panic): it does
// not wait for a writer that may never finish; false when it could not.
func (s *TenantStream) TryAdd(o TenantOutcome) (bool, error) {
	if !s.mu.TryLock() {
		return false, nil
	}
	defer s.mu.Unlock()
	return true, s.add(o)
}

func (s *TenantStream) add(o TenantOutcome) error {
	if s.closed {
		return fmt.Errorf("output: tenant %s reported after the end of the output", o.Tenant)
	}
	var b bytes.Buffer
	if s.format == FormatJSON {
		if err := s.open(&b); err != nil {
			return err
		}
		if s.n > 0 {
			b.WriteString(",\n")
		}
		if o.Result != nil {
			fillLists(o.Result)
		}
		raw, err := marshalIndent(o, "    ")
		if err != nil {
			return err
		}
		b.WriteString("    ")
		b.Write(raw)
	} else {
		s.text(&b, o)
	}
	s.n++
	_, err := s.w.Write(b.Bytes())
	return err
}

// open writes the object's first fields and opens the array, once.
func (s *TenantStream) open(b *bytes.Buffer) error {
	if s.started {
		return nil
	}
	s.started = true
	b.WriteString("{\n")
	for _, k := range slices.Sorted(maps.Keys(s.header)) {
		v, err := marshalIndent(s.header[k], "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "  %q: %s,\n", k, v)
	}
	b.WriteString("  \"tenants\": [\n")
	return nil
}

func (s *TenantStream) text(b *bytes.Buffer, o TenantOutcome) {
	if s.n > 0 {
		b.WriteString("\n")
	}
	b.WriteString(s.style.Bold("── "+o.Tenant+" ──") + "\n")
	if o.Result != nil {
		_ = RenderText(b, o.Result, s.style, s.now)
	}
	if o.Error != "" && (o.Result == nil || o.Result.Error == "") {
		fmt.Fprintf(b, "%s %s\n", s.style.Red("✗"), o.Error)
	}
	if o.OutputFile != "" {
		fmt.Fprintf(b, "Wrote %s (mode 0600).\n", o.OutputFile)
	}
}

// Close ends the output: json closes the array and adds the summary and
// the exit status; text adds the summary table.
func (s *TenantStream) Close(outs []TenantOutcome, exitCode int, dryRun bool, width int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var b bytes.Buffer
	if s.format == FormatJSON {
		if err := s.open(&b); err != nil {
			return err
		}
		if s.n > 0 {
			b.WriteString("\n")
		}
		summary, err := marshalIndent(CountTenants(outs), "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "  ],\n  \"summary\": %s,\n  \"exitCode\": %d\n}\n", summary, exitCode)
	} else {
		if s.n > 0 {
			b.WriteString("\n")
		}
		for _, l := range TenantSummaryLines(outs, dryRun, width) {
			b.WriteString(l + "\n")
		}
	}
	_, err := s.w.Write(b.Bytes())
	return err
}

func marshalIndent(v any, prefix string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// fillLists gives a result's lists their [] (design.md §4: always arrays).
func fillLists(r *Result) {
	if r.Permissions == nil {
		r.Permissions = []PermissionStatus{}
	}
	if r.DirectoryRoles == nil {
		r.DirectoryRoles = []RoleStatus{}
	}
}

// maxTenantColumn: a tenant ID (a GUID) fits; longer domains are cut.
const maxTenantColumn = 36

// maxDetailLines bounds a tenant's detail in the table; the whole message
// is in that tenant's own output.
const maxDetailLines = 3

// TenantSummaryLines is the summary table of a run across several
// tenants, in the order they were given, no line longer than width: the
// tenant as given, its result (with the exit status it stands for) and
// what there is to know, wrapped under its column.
func TenantSummaryLines(outs []TenantOutcome, dryRun bool, width int) []string {
	if width <= 0 {
		width = 80
	}
	tw := len("Tenant")
	for _, o := range outs {
		tw = max(tw, min(len([]rune(o.Tenant)), maxTenantColumn))
	}
	rw := len("Result")
	words := make([]string, len(outs))
	for i, o := range outs {
		words[i] = resultWord(o, dryRun)
		rw = max(rw, len(words[i]))
	}
	dw := max(width-tw-rw-4, 16)
	lines := []string{fmt.Sprintf("%-*s  %-*s  %s", tw, "Tenant", rw, "Result", "Detail")}
	for i, o := range outs {
		detail := Wrap(tenantDetail(o), dw)
		if len(detail) > maxDetailLines {
			detail = detail[:maxDetailLines]
			last := []rune(detail[maxDetailLines-1])
			if len(last) >= dw {
				last = last[:dw-1]
			}
			detail[maxDetailLines-1] = string(last) + "…"
		}
		if len(detail) == 0 {
			detail = []string{""}
		}
		for j, d := range detail {
			t, r := "", ""
			if j == 0 {
				t, r = cut(o.Tenant, tw), words[i]
			}
			lines = append(lines, strings.TrimRight(fmt.Sprintf("%-*s  %-*s  %s", tw, t, rw, r, d), " "))
		}
	}
	// The files, whole: a path cut to fit a column is no path at all.
	files := false
	for _, o := range outs {
		if o.OutputFile == "" {
			continue
		}
		if !files {
			lines = append(lines, "", "Written, one file per tenant:")
			files = true
		}
		if l := "  " + o.Tenant + ": " + o.OutputFile; layout.StringWidth(l) <= width {
			lines = append(lines, l)
		} else {
			lines = append(lines, "  "+o.Tenant+":", "    "+o.OutputFile)
		}
	}
	lines = append(lines, "", CountTenants(outs).Words(dryRun)+".")
	return lines
}

func resultWord(o TenantOutcome, dryRun bool) string {
	w := o.Status
	switch o.Status {
	case TenantInvalid:
		w = "bad input"
	case TenantDone:
		if dryRun {
			w = TenantPlanned
		}
	}
	if o.ExitCode != 0 {
		w += fmt.Sprintf(" (%d)", o.ExitCode)
	}
	return w
}

// tenantDetail is what the table says besides the result: the tenant's
// name, and what was delivered or went wrong.
func tenantDetail(o TenantOutcome) string {
	var parts []string
	if o.TenantName != "" {
		parts = append(parts, o.TenantName)
	}
	r := o.Result
	switch {
	case o.Error != "":
		parts = append(parts, o.Error)
	case r != nil && r.DryRun:
		changes := 0
		for _, s := range r.Plan {
			if s.Action != "keep" && s.Action != "extra" && s.Action != "check" {
				changes++
			}
		}
		parts = append(parts, fmt.Sprintf("%d change%s", changes, plural(changes)))
	case r != nil && r.ConsentURL != "":
		parts = append(parts, "admin consent still needed: consentUrl in its output")
	case r != nil && r.HasSecret():
		parts = append(parts, "new client secret")
	case r != nil && r.KeptSecret != nil:
		parts = append(parts, "client secret kept")
	case r != nil && r.CertificateThumbprint != "":
		parts = append(parts, "certificate "+r.CertificateThumbprint)
	}
	return strings.Join(parts, "; ")
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Wrap breaks text into lines of at most width runes, at spaces; a
// word longer than width is broken where it must be.
func Wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		for len([]rune(w)) > width {
			if line != "" {
				lines = append(lines, line)
				line = ""
			}
			r := []rune(w)
			lines = append(lines, string(r[:width]))
			w = string(r[width:])
		}
		switch {
		case line == "":
			line = w
		case len([]rune(line))+1+len([]rune(w)) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
