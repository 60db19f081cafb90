package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/entra-link/entra-link/internal/layout"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/crash"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/setup"
)

// Setup across several tenants (an MSP onboarding the same product in its
// customers' tenants): every tenant is signed in to, read and planned
// first; one review shows the plans as one; one confirmation; then each
// tenant runs on its own, with its own delivery and exit status, and a
// summary ends the run. A tenant that fails never stops the others.

// tenantConcurrency is how many tenants sign in, read and apply at once.
// A tenant's run is a chain of round trips that waits on the network, not
// the CPU, and Graph throttles per app and tenant, so tenants side by side
// do not slow each other down; four brings dozens of tenants down to a few
// minutes while the progress on stderr stays readable and the connections
// a pipeline opens stay few. Interactive sign-ins (a browser, a device
// code) go one tenant after another: a person answers them.
const tenantConcurrency = 4

// summaryWidth is the width the summary table fits in.
const summaryWidth = 80

// validateSeveral refuses, before anything else, what a run across several
// tenants cannot honour.
func (o *SetupOptions) validateSeveral() error {
	switch {
	case o.Sandbox:
		return exit.UsageErrorf("--sandbox runs one emulated tenant, so it takes one --tenant at most. To try several tenants, run `entra-link sandbox --add-tenant NAME …` and set them up with --auth env, as this command shows: entra-link sandbox --help")
	case o.AppID != "":
		return exit.UsageErrorf("--app-id names an app registration, which lives in one tenant; across several tenants setup finds the app it made in each (by its tags) or creates it: leave out --app-id")
	case o.Auth == auth.MethodManagedIdentity:
		return exit.UsageErrorf("--auth managed-identity signs in to the identity's own tenant only; across several tenants use --auth env (a multi-tenant app with a service principal in each tenant), azure-cli, browser or device-code")
	case !o.DryRun && o.OutputFile == "" && (o.Output == output.FormatEnv || o.Output == output.FormatHandover):
		return exit.UsageErrorf("--output %s across several tenants needs --output-file DIR: standard output cannot hold one hand-over per tenant. Add --output-file DIR (one 0600 file per tenant) or use --output json", o.Output)
	}
	return nil
}

// tenantRun is one tenant of a run across several tenants.
type tenantRun struct {
	label string // the tenant as given
	tag   string // the label, short, for the progress lines
	o     *SetupOptions
	fl    *setupFlow
	early *earlyDelivery

	mu  sync.Mutex
	res *output.Result
	err error // why the tenant is not done; nil when it is
	// code is err's exit status, decided when the tenant stopped: a
	// tenant that failed before a signal is not "cancelled" by it.
	code     int
	wrote    bool // a dry run wrote the tenant's file
	reported bool
}

// newTenantRun gives a tenant its own options: the tenant, its own file
// in the --output-file directory, and its own --certificate-out
// subdirectory for a generated key pair.
func newTenantRun(o *SetupOptions, label string) *tenantRun {
	to := *o
	to.Tenant, to.Targets = label, nil
	if o.OutputFile != "" {
		to.OutputFile = tenantFile(o.OutputFile, label, o.format(), o.Profile)
	}
	if o.CertificateOut != "" {
		to.CertificateOut = filepath.Join(o.CertificateOut, strings.ToLower(label))
	} else if o.Profile != nil {
		to.defaultCertOut = "./" + filepath.Join(profile.DefaultCertificateOut(o.Profile), strings.ToLower(label))
	}
	r := &tenantRun{label: label, o: &to}
	r.fl = &setupFlow{o: &to}
	return r
}

func (r *tenantRun) fail(ctx context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err, r.code = err, exitCode(ctx, err)
	}
}

// planned reports whether the tenant has a plan it can apply.
func (r *tenantRun) planned() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err == nil && r.fl.plan != nil
}

// outcome is the tenant's entry in the output and the summary.
func (r *tenantRun) outcome(dryRun bool) output.TenantOutcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := output.TenantOutcome{Tenant: r.label, Result: r.res}
	if t := r.fl.tenant; t != nil {
		o.TenantID, o.TenantName = t.Org.ID, t.Org.DisplayName
	}
	o.ExitCode = r.code
	o.Status = map[int]string{exit.OK: output.TenantDone, exit.Pending: output.TenantPending, exit.Usage: output.TenantInvalid,
		exit.Cancelled: output.TenantCancelled}[o.ExitCode]
	if o.Status == "" {
		o.Status = output.TenantFailed
	}
	if dryRun && o.Status == output.TenantDone {
		o.Status = output.TenantPlanned
	}
	switch {
	case r.err == nil:
	case !exit.IsSilent(r.err):
		o.Error = strings.TrimSpace(r.err.Error())
	case r.res != nil && r.res.Error != "":
		o.Error = r.res.Error
	case o.ExitCode == exit.Pending:
		o.Error = "done, but an admin action is still needed (consentUrl)"
	}
	if r.wrote || (r.early != nil && r.early.wroteFile()) {
		o.OutputFile = r.o.OutputFile
	}
	return o
}

// setupTenantsRun is setup across several tenants.
func setupTenantsRun(o *SetupOptions) (err error) {
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	f := o.f
	// The profile and the flags are the same for every tenant: bad input
	// there stops the run before any sign-in.
	if _, err := o.resolve(); err != nil {
		return err
	}
	if !o.DryRun && !o.Yes && !f.IO.CanPrompt() {
		return exit.UsageErrorf("setup changes your tenants and cannot ask for confirmation here: add --yes to apply (or --dry-run to see the plan first)")
	}
	defer serialize(f)()
	if o.OutputFile != "" {
		created, err := makeOutputDir(o.OutputFile)
		if err != nil {
			return exit.UsageError(err)
		}
		if created {
			// An empty directory this run made is not left behind.
			defer func() { _ = os.Remove(o.OutputFile) }()
		}
		// Each tenant's file, checked before any sign-in like the one file
		// of a run in one tenant (each plan checks its own again).
		var problems []string
		for _, t := range o.Targets {
			if p := setup.CheckOutputFile(tenantFile(o.OutputFile, t, o.format(), o.Profile), o.Force, false); p != "" {
				problems = append(problems, p)
			}
		}
		if len(problems) > 0 {
			return exit.UsageError(&setup.PreconditionError{Problems: problems})
		}
	}
	runs := make([]*tenantRun, len(o.Targets))
	tags := progressTags(o.Targets)
	for i, t := range o.Targets {
		runs[i] = newTenantRun(o, t)
		runs[i].tag = tags[i]
	}
	defer func() {
		for _, r := range runs {
			r.fl.close()
		}
	}()

	reads := !o.DryRun || o.dryRunReads()
	limit := tenantConcurrency
	if reads && interactiveSignIn(o) {
		limit = 1
	}
	eachTenant(runs, limit, func(i int, r *tenantRun) { r.prepare(ctx, reads, interactiveSignIn(o), i, len(runs)) })
	if ctx.Err() != nil {
		return exit.WithCode(exit.Cancelled, errors.New("cancelled; nothing was changed in any tenant"))
	}
	if err := sameTenantTwice(runs); err != nil {
		return err
	}
	st := output.Style{Color: f.IO.ColorEnabled()}
	if o.DryRun {
		return o.dryRunTenants(ctx, runs, st)
	}

	ready := 0
	for _, r := range runs {
		if r.planned() {
			ready++
		}
	}
	if ready > 0 && !o.Yes {
		q := fmt.Sprintf("Apply these changes to the %d tenants?", ready)
		if ready < len(runs) {
			q = fmt.Sprintf("Apply these changes to %d of the %d tenants?", ready, len(runs))
		}
		// The review scrolls under the question when it is taller than the
		// terminal; it is the same text --yes prints.
		var review bytes.Buffer
		printTenantsPlan(&review, o, runs, st)
		body := strings.Split(strings.TrimRight(review.String(), "\n"), "\n")
		ok, err := confirmScreen(ctx, f, &o.TenantOptions, nil, body, q, "Apply", "Cancel", true)
		if err != nil {
			return err
		}
		if !ok || ctx.Err() != nil {
			return exit.WithCode(exit.Cancelled, errors.New("cancelled; nothing was changed in any tenant"))
		}
	} else {
		printTenantsPlan(f.IO.ErrOut, o, runs, st)
	}

	var stream *output.TenantStream
	if o.OutputFile == "" {
		stream = output.NewTenantStream(f.IO.Out, o.format(), map[string]any{"profile": o.Profile.ID, "cloud": o.Cloud.Name},
			output.Style{Color: f.IO.ColorEnabled() && f.IO.IsStdoutTTY()}, f.Now())
		// A panic outside the tenants' own recovery still ends the one
		// JSON object, with every secret the deliveries held.
		atRescue(ctx, func() { finishAfterPanic(stream, runs) })
	}
	// report writes a tenant's outcome once; a tenant whose report did not
	// get through (a panic) is reported again before the end.
	report := func(r *tenantRun, ran bool) {
		r.mu.Lock()
		done, err := r.reported, r.err
		r.mu.Unlock()
		if done {
			return
		}
		out := r.outcome(false)
		var ie *internalError
		if errors.As(err, &ie) || (ran && out.Error != "" && (out.Result == nil || stream == nil)) {
			fmt.Fprintf(f.IO.ErrOut, "entra-link: %s: %s\n", r.label, out.Error)
		}
		if stream != nil {
			if err := stream.Add(out); err != nil {
				// Not on stdout: nobody has the tenant's secret, and the
				// journal record stays open for the next run to remove it.
				werr := undelivered(out.Result, "standard output", err, r.fl != nil && r.fl.conn != nil && r.fl.conn.Journal != nil)
				printError(f.IO.ErrOut, fmt.Errorf("%s: %w", r.label, werr))
				if out.Result != nil && out.Result.HasSecret() {
					r.mu.Lock()
					r.code, r.err = exit.Failed, werr
					r.mu.Unlock()
				}
			} else if r.fl != nil && r.fl.conn != nil {
				// Only once it is on stdout is the tenant's secret handed over.
				markDelivered(f, r.fl.conn.Journal, out.Result, "standard output")
			}
		}
		r.mu.Lock()
		r.reported = true
		r.mu.Unlock()
	}
	// The tenants that will not run are reported first.
	for _, r := range runs {
		if !r.planned() {
			report(r, false)
		}
	}
	stopNote, _ := signalNote(ctx, f)
	var todo []*tenantRun
	for _, r := range runs {
		if r.planned() {
			todo = append(todo, r)
		}
	}
	eachTenant(todo, tenantConcurrency, func(_ int, r *tenantRun) {
		r.apply(ctx, stream)
		report(r, true)
	})
	stopNote()
	for _, r := range todo {
		report(r, true)
	}

	outs := make([]output.TenantOutcome, len(runs))
	codes := make([]int, len(runs))
	for i, r := range runs {
		outs[i] = r.outcome(false)
		codes[i] = outs[i].ExitCode
	}
	code := tenantsExit(codes, ctx.Err() != nil, false)
	if stream != nil {
		if err := stream.Close(outs, code, false, summaryWidth); err != nil {
			return err
		}
		if o.format() != output.FormatText {
			printSummary(f.IO.ErrOut, outs, false)
		}
	} else {
		printSummary(f.IO.ErrOut, outs, false)
	}
	if code == exit.OK {
		return nil
	}
	return exit.SilentCode(code)
}

// prepare signs in to the tenant, reads it and plans; nothing is changed.
func (r *tenantRun) prepare(ctx context.Context, reads, interactive bool, i, n int) {
	if ctx.Err() != nil {
		r.fail(ctx, exit.WithCode(exit.Cancelled, errors.New("not started: cancelled; nothing was changed in this tenant")))
		return
	}
	spec, err := r.o.resolve()
	if err != nil {
		r.fail(ctx, err)
		return
	}
	r.fl.spec = spec
	if reads {
		if interactive {
			fmt.Fprintf(r.o.f.IO.ErrOut, "Signing in to %s (tenant %d of %d)…\n", r.label, i+1, n)
		}
		var progress func(setup.Event)
		if !r.o.DryRun {
			progress = tenantProgress(r.o.f, r.o.Verbose, "["+r.tag+"] ")
		}
		if err := r.fl.signIn(ctx, progress); err != nil {
			r.fail(ctx, err)
			return
		}
		if err := r.fl.preflight(ctx); err != nil {
			r.fail(ctx, err)
			return
		}
	}
	if err := r.fl.makePlan(); err != nil {
		r.fail(ctx, err)
		return
	}
	if err := r.fl.checked(); err != nil {
		r.fail(ctx, err)
	}
}

// apply carries out the tenant's plan and delivers its result: to its own
// file at once (--output-file DIR), or to the stream.
func (r *tenantRun) apply(ctx context.Context, stream *output.TenantStream) {
	if ctx.Err() != nil {
		r.fail(ctx, exit.WithCode(exit.Cancelled, errors.New("not started: cancelled; nothing was changed in this tenant")))
		return
	}
	res, err := r.fl.applyWith(ctx, r.delivery(ctx, stream))
	r.mu.Lock()
	defer r.mu.Unlock()
	if res != nil {
		r.res = res
	}
	r.err, r.code = err, exitCode(ctx, err)
}

// delivery is the tenant's own delivery: its file (--output-file DIR) is
// written the moment its secret exists; for stdout, the result is held
// for the stream (and delivered by Run's keeper after a panic).
func (r *tenantRun) delivery(ctx context.Context, stream *output.TenantStream) *earlyDelivery {
	early := keptDelivery(ctx, r.o.f, &r.o.TenantOptions)
	if stream != nil {
		early.sink = func(res *output.Result) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.res = res
		}
	}
	r.mu.Lock()
	r.early = early
	r.mu.Unlock()
	return early
}

// progressTags are the tenants' names in the progress lines, short enough
// to leave the line to the step: a tenant ID's first eight characters, a
// long domain's first label. If two would read alike, the tenants as
// given.
func progressTags(labels []string) []string {
	tags := make([]string, len(labels))
	seen := map[string]bool{}
	for i, l := range labels {
		t := l
		switch {
		case len(l) <= 16:
		case profile.IsGUID(l):
			t = l[:8]
		default:
			t, _, _ = strings.Cut(l, ".")
			t = cutRunes(t, 16)
		}
		k := strings.ToLower(t)
		if seen[k] {
			return append([]string(nil), labels...)
		}
		seen[k] = true
		tags[i] = t
	}
	return tags
}

func cutRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// eachTenant runs fn for every tenant, at most limit at once, starting
// them in the order given. A panic in one tenant is that tenant's internal
// error (exit 1): its secret, if it has one, is delivered, and the others
// go on.
func eachTenant(runs []*tenantRun, limit int, fn func(int, *tenantRun)) {
	sem := make(chan struct{}, max(limit, 1))
	var g crash.Group
	for i, r := range runs {
		sem <- struct{}{}
		g.Go(func() {
			defer func() { <-sem }()
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				ie := &internalError{p: crash.Recovered(v)}
				r.mu.Lock()
				early := r.early
				r.mu.Unlock()
				if early != nil {
					early.rescue()
				}
				r.mu.Lock()
				r.err, r.code = exit.WithCode(exit.Failed, ie), exit.Failed
				r.mu.Unlock()
			}()
			fn(i, r)
		})
	}
	g.Wait()
}

// finishAfterPanic ends the stream after a panic outside the tenants'
// own recovery: the tenants with a result not yet written are written,
// then the object is closed.
func finishAfterPanic(stream *output.TenantStream, runs []*tenantRun) {
	outs := make([]output.TenantOutcome, len(runs))
	for i, r := range runs {
		outs[i] = r.outcome(false)
		r.mu.Lock()
		pending := !r.reported && r.res != nil
		r.reported = true
		r.mu.Unlock()
		if !pending {
			continue
		}
		if outs[i].ExitCode == exit.OK {
			outs[i].Status, outs[i].ExitCode, outs[i].Error = output.TenantFailed, exit.Failed, stoppedByBug
		}
		if ok, _ := stream.TryAdd(outs[i]); !ok {
			return // the stream's writer is the one that failed
		}
	}
	_ = stream.Close(outs, exit.Failed, false, summaryWidth)
}

// tenantsExit is the exit status of a run across several tenants: each
// code of design.md §3 keeps its meaning for the run as a whole.
//
//	0    every tenant is done
//	4    every tenant is done, and some need an admin action (consentUrl)
//	2    bad input in every tenant: nothing was changed in any
//	130  stopped by Ctrl-C or a signal (the tenants under way finished
//	     their steps and delivered their secrets)
//	1    anything else: some tenants failed, or some were refused while
//	     others were set up; the summary says which
//
// A dry run changes nothing anywhere: 1 if a tenant failed (sign-in,
// reading it), else 2 if a tenant's plan cannot be applied, else 0.
func tenantsExit(codes []int, cancelled, dryRun bool) int {
	if cancelled {
		return exit.Cancelled
	}
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	n := len(codes)
	switch {
	case count[exit.OK] == n:
		return exit.OK
	case dryRun && count[exit.OK]+count[exit.Usage] == n:
		return exit.Usage
	case count[exit.OK]+count[exit.Pending] == n:
		return exit.Pending
	case count[exit.Usage] == n:
		return exit.Usage
	}
	return exit.Failed
}

// sameTenantTwice refuses, before anything is changed, two entries that
// name one tenant (its ID and a domain of it, or two of its domains).
func sameTenantTwice(runs []*tenantRun) error {
	seen := map[string]string{}
	for _, r := range runs {
		t := r.fl.tenant
		if t == nil || t.Org.ID == "" {
			continue
		}
		id := strings.ToLower(t.Org.ID)
		if first, ok := seen[id]; ok {
			return exit.UsageErrorf("%s and %s are the same tenant (%s, %s): list each tenant once (nothing was changed)", first, r.label, t.Org.DisplayName, t.Org.ID)
		}
		seen[id] = r.label
	}
	return nil
}

// interactiveSignIn reports whether a person signs in (a browser, a
// device code): then the tenants sign in one after another.
func interactiveSignIn(o *SetupOptions) bool {
	m := o.Auth
	if m == "" {
		m = auth.DefaultMethod(o.f.Getenv, runtime.GOOS)
	}
	return m == auth.MethodBrowser || m == auth.MethodDeviceCode
}

// dryRunTenants prints the one plan of a dry run across several tenants
// (and writes each tenant's own file with --output-file DIR).
func (o *SetupOptions) dryRunTenants(ctx context.Context, runs []*tenantRun, st output.Style) error {
	f := o.f
	for _, r := range runs {
		if r.fl.plan != nil {
			r.res = setup.DryRunResult(r.fl.plan)
		}
	}
	if o.OutputFile != "" {
		for _, r := range runs {
			if r.res == nil || !r.planned() {
				continue
			}
			if err := deliver(f, &r.o.TenantOptions, r.res); err != nil {
				r.fail(ctx, err)
			} else {
				r.wrote = true
			}
		}
	}
	outs := make([]output.TenantOutcome, len(runs))
	codes := make([]int, len(runs))
	for i, r := range runs {
		outs[i] = r.outcome(true)
		codes[i] = outs[i].ExitCode
	}
	code := tenantsExit(codes, ctx.Err() != nil, true)
	switch {
	case o.OutputFile != "":
		printTenantsPlan(f.IO.ErrOut, o, runs, st)
		printSummary(f.IO.ErrOut, outs, true)
	case o.format() == output.FormatJSON:
		stream := output.NewTenantStream(f.IO.Out, output.FormatJSON, map[string]any{"profile": o.Profile.ID, "cloud": o.Cloud.Name, "dryRun": true}, st, f.Now())
		for _, out := range outs {
			if err := stream.Add(out); err != nil {
				return err
			}
		}
		if err := stream.Close(outs, code, true, summaryWidth); err != nil {
			return err
		}
	default:
		ost := output.Style{Color: f.IO.ColorEnabled() && f.IO.IsStdoutTTY()}
		printTenantsPlan(f.IO.Out, o, runs, ost)
		fmt.Fprintln(f.IO.Out, "Dry run: nothing was changed. Run the same command without --dry-run to apply it.")
		printSummary(f.IO.Out, outs, true)
	}
	if code == exit.OK {
		return nil
	}
	return exit.SilentCode(code)
}

func printSummary(w io.Writer, outs []output.TenantOutcome, dryRun bool) {
	fmt.Fprintln(w)
	for _, l := range output.TenantSummaryLines(outs, dryRun, summaryWidth) {
		fmt.Fprintln(w, l)
	}
}

// printTenantsPlan is the one review of a run across several tenants:
// which tenant is which, the steps every tenant gets alike once, then
// each difference with the tenants it concerns, the tenants that will not
// be set up and why, and what an admin must do afterwards.
func printTenantsPlan(w io.Writer, o *SetupOptions, runs []*tenantRun, st output.Style) {
	var planned []*tenantRun
	for _, r := range runs {
		if r.planned() {
			planned = append(planned, r)
		}
	}
	product := o.Profile.Product
	where := "tenants"
	if len(runs) == 1 {
		where = "tenant"
	}
	fmt.Fprintf(w, "\n%s\n", st.Bold(fmt.Sprintf("Plan for %s (profile %s) in %d %s:", product, o.Profile.ID, len(runs), where)))
	width := 0
	for _, r := range runs {
		width = max(width, len(r.label))
	}
	for _, r := range runs {
		name := "not read"
		switch {
		case r.fl.tenant != nil:
			name = tenantName(r.fl.tenant)
		case o.DryRun && r.fl.plan != nil:
			name = "not read (offline)"
		}
		for _, l := range hanging(fmt.Sprintf("  %-*s  ", width, r.label), name, 80) {
			fmt.Fprintln(w, l)
		}
	}
	plans := make([]*setup.Plan, len(planned))
	labels := make([]string, len(planned))
	for i, r := range planned {
		plans[i], labels[i] = r.fl.plan, r.label
	}
	for _, g := range setup.GroupSteps(plans) {
		fmt.Fprintln(w)
		for _, l := range hanging("", inTenants(labels, g.Plans), 80) {
			fmt.Fprintln(w, l)
		}
		for _, l := range output.PlanLines(g.Steps) {
			for _, wrapped := range layout.Line("  "+l, 80) {
				fmt.Fprintln(w, wrapped)
			}
		}
	}
	if len(planned) > 0 && !slicesAny(plans, (*setup.Plan).Changes) {
		fmt.Fprintln(w, "\nNothing to change: the app is as the profile says in every tenant.")
	}
	var skipped []*tenantRun
	for _, r := range runs {
		if !r.planned() {
			skipped = append(skipped, r)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "\n%s\n", st.Bold("Not set up — nothing changes there:"))
		for _, r := range skipped {
			out := r.outcome(o.DryRun)
			for _, l := range hanging("  "+r.label+": ", out.Error, 80) {
				fmt.Fprintln(w, l)
			}
		}
	}
	first := true
	for _, r := range planned {
		for _, s := range r.fl.plan.Shortfalls() {
			if first {
				fmt.Fprintf(w, "\n%s\n", st.Bold("Needs an admin afterwards (the output carries the consent link; exit status 4):"))
				first = false
			}
			for _, l := range hanging("  "+r.label+": ", s, 80) {
				fmt.Fprintln(w, l)
			}
		}
	}
	// The same warning in several tenants is said once.
	var texts []string
	who := map[string][]int{}
	for i, r := range planned {
		for _, warn := range r.fl.plan.Warnings {
			if _, ok := who[warn]; !ok {
				texts = append(texts, warn)
			}
			who[warn] = append(who[warn], i)
		}
	}
	for _, warn := range texts {
		text := warn
		if len(planned) > 1 {
			text = strings.TrimSuffix(inTenants(labels, who[warn]), ":") + ": " + warn
		}
		for _, l := range hanging(st.Yellow("!")+" ", text, 80) {
			fmt.Fprintln(w, l)
		}
	}
	fmt.Fprintln(w)
}

// inTenants names the tenants of a group of plans.
func inTenants(labels []string, idx []int) string {
	n := len(labels)
	switch {
	case len(idx) == n && n > 1:
		return "In every tenant:"
	case len(idx) == n:
		return "In " + labels[0] + ":"
	case n-len(idx) < len(idx) && n-len(idx) <= 3:
		in := map[int]bool{}
		for _, i := range idx {
			in[i] = true
		}
		var others []string
		for i, l := range labels {
			if !in[i] {
				others = append(others, l)
			}
		}
		return "In every tenant but " + strings.Join(others, ", ") + ":"
	}
	names := make([]string, len(idx))
	for i, k := range idx {
		names[i] = labels[k]
	}
	return "In " + strings.Join(names, ", ") + ":"
}

// hanging is head followed by text wrapped to width, the lines after the
// first indented under the text (or by four columns when head is wider
// than a third of the width). A head with colour codes counts as its letters.
func hanging(head, text string, width int) []string {
	cols := len([]rune(stripANSI(head)))
	if cols > width/3 {
		cols = 4
	}
	// The first line takes the whole words that fit after the head: a
	// word (a path, an id) that does not fit starts the next line whole,
	// rather than being cut there and joined back with a space.
	first := width - len([]rune(stripANSI(head)))
	words := strings.Fields(text)
	n, used := 0, 0
	for ; n < len(words); n++ {
		l := len([]rune(words[n]))
		if n > 0 {
			l++
		}
		if used+l > first {
			break
		}
		used += l
	}
	out := []string{strings.TrimRight(head, " ")}
	if n > 0 {
		out[0] = head + strings.Join(words[:n], " ")
	}
	for _, l := range output.Wrap(strings.Join(words[n:], " "), width-cols) {
		out = append(out, strings.Repeat(" ", cols)+l)
	}
	return out
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func slicesAny[T any](s []T, pred func(T) bool) bool {
	for _, v := range s {
		if pred(v) {
			return true
		}
	}
	return false
}

// makeOutputDir creates the --output-file directory of a run across
// several tenants (0700: it will hold secrets), reporting whether it did.
func makeOutputDir(dir string) (bool, error) {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return false, nil
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return false, fmt.Errorf("--output-file: cannot create the directory %s: %s", dir, strings.TrimPrefix(fileProblem(dir, err), dir+" cannot be read: "))
	}
	return true, nil
}

// serialize makes stdout and stderr safe for the tenants' concurrent
// writers until the returned function restores them.
func serialize(f *Factory) func() {
	out, errOut := f.IO.Out, f.IO.ErrOut
	var mu sync.Mutex
	f.IO.Out, f.IO.ErrOut = &lockedWriter{mu: &mu, w: out}, &lockedWriter{mu: &mu, w: errOut}
	return func() { f.IO.Out, f.IO.ErrOut = out, errOut }
}

// lockedWriter serializes writes (one lock for stdout and stderr, which
// may be one terminal).
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
