package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/buildinfo"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/journal"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/securefile"
	"github.com/entra-link/entra-link/internal/setup"
	"github.com/entra-link/entra-link/internal/testhook"
)

// setupFlow is setup's single code path. The flag-driven run below and the
// interactive wizard drive the same phases: resolve → signIn → preflight →
// plan → apply; the wizard only fills SetupOptions and shows its own
// screens. What is applied is exactly the plan that was shown.
type setupFlow struct {
	o      *SetupOptions
	spec   *profile.Spec
	conn   *connection
	env    *setup.Env
	tenant *setup.Tenant
	plan   *setup.Plan
}

// resolve validates the options against the profile, offline. A dry run
// never needs a prompt: a missing value becomes a placeholder naming its
// flag.
func (o *SetupOptions) resolve() (*profile.Spec, error) {
	if o.Profile == nil {
		return nil, exit.UsageError(&profile.MissingError{Missing: o.missing()})
	}
	spec, err := profile.Resolve(o.Profile, o.Request(), o.f.Now())
	if err != nil {
		return nil, specError(err)
	}
	if spec.CertificateFile != "" {
		// Checked before signing in: a private key, an expired or a non-RSA
		// certificate is bad input.
		if _, err := certs.Load(spec.CertificateFile, o.f.Now()); err != nil {
			return nil, exit.UsageError(fmt.Errorf("--certificate-file: %w", err))
		}
	}
	return spec, nil
}

// signIn connects to the tenant (or the sandbox). progress receives the
// engine's events.
func (fl *setupFlow) signIn(ctx context.Context, progress func(setup.Event)) error {
	conn, err := fl.o.connect(ctx, fl.o.f)
	if err != nil {
		return err
	}
	fl.conn = conn
	rememberCloud(fl.o.f, &fl.o.TenantOptions)
	conn.setProgress(progress)
	fl.env = &setup.Env{Graph: conn.Graph, Cloud: conn.Cloud, Now: fl.o.f.Now, Progress: progress, Journal: conn.Journal, StopWaiting: insisted(ctx)}
	if fs := fl.o.TenantOptions.flags; fs != nil {
		fl.env.CommandFlags = tenantFlags(&fl.o.TenantOptions, fs)
	}
	return nil
}

// preflight reads the tenant; nothing is changed.
func (fl *setupFlow) preflight(ctx context.Context) error {
	t, err := setup.Preflight(ctx, fl.env, fl.spec)
	if err != nil {
		return preflightError(err)
	}
	fl.tenant = t
	return nil
}

// makePlan computes the plan from the spec and what preflight read (nil:
// offline). Its failed checks are not an error here: callers show them.
func (fl *setupFlow) makePlan() error {
	o := fl.o
	opt := setup.PlanOptions{
		Now: o.f.Now(), NewCredential: o.NewCredential, Prune: o.Prune, Force: o.Force,
		OutputFormat: o.format(), OutputFile: o.OutputFile, Cloud: o.Cloud, PFXPassword: o.pfxPassword,
		Sandbox: o.Sandbox || (fl.conn != nil && fl.conn.Sandbox != nil),
		Version: buildinfo.Get().Version,
	}
	var t *setup.Tenant
	if fl.tenant != nil {
		t = fl.tenant
	}
	p, err := setup.NewPlan(fl.spec, t, opt)
	if err != nil {
		return preflightError(err)
	}
	fl.plan = p
	return nil
}

// checked fails with exit 2 when a check of the plan failed.
func (fl *setupFlow) checked() error {
	if probs := fl.plan.Problems(); len(probs) > 0 {
		return exit.UsageError(&setup.PreconditionError{Problems: probs})
	}
	return nil
}

// apply carries out the plan and delivers the result (early to
// --output-file once a secret exists, then finally to the file or
// stdout). The returned error carries the exit code.
func (fl *setupFlow) apply(ctx context.Context) (*output.Result, error) {
	return fl.applyWith(ctx, newDelivery(ctx, fl.o.f, &fl.o.TenantOptions))
}

// applyWith is apply through a given delivery (one per tenant when setup
// runs across several tenants).
func (fl *setupFlow) applyWith(ctx context.Context, early *earlyDelivery) (*output.Result, error) {
	early.journal = fl.conn.Journal
	fl.env.OnSecret = early.secret
	if early.stopWaiting != nil {
		fl.env.StopWaiting = early.stopWaiting
	}
	res, applyErr := early.guard(func() (*output.Result, error) { return setup.Apply(ctx, fl.env, fl.plan) })
	if res == nil {
		// A bug before any secret existed (an internal error), or nothing ran.
		return nil, applyExit(ctx, applyErr)
	}
	if err := early.final(res); err != nil {
		return res, joinUndelivered(err, applyErr)
	}
	return res, applyExit(ctx, applyErr)
}

func (fl *setupFlow) close() {
	if fl.conn != nil {
		fl.conn.Close()
	}
}

// dryRunReads: a dry run reads the tenant (and only reads) when it can do
// so without a prompt the user did not ask for — with --sandbox, or when
// --auth names how to sign in; otherwise it plans offline.
func (o *SetupOptions) dryRunReads() bool {
	return o.Sandbox || o.given("auth")
}

func setupRun(o *SetupOptions) error {
	if len(o.Targets) > 0 {
		return setupTenantsRun(o)
	}
	if o.wizardWanted() {
		return setupWizardRun(o)
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	spec, err := o.resolve()
	if err != nil {
		return err
	}
	fl := &setupFlow{o: o, spec: spec}
	defer fl.close()
	if o.DryRun {
		if o.dryRunReads() {
			if err := fl.signIn(ctx, nil); err != nil {
				return err
			}
			if err := fl.preflight(ctx); err != nil {
				return err
			}
		}
		if err := fl.makePlan(); err != nil {
			return err
		}
		if err := fl.checked(); err != nil {
			return err
		}
		return o.deliver(setup.DryRunResult(fl.plan))
	}
	if !o.Yes && !o.f.IO.CanPrompt() {
		return exit.UsageErrorf("setup changes your tenant and cannot ask for confirmation here: add --yes to apply (or --dry-run to see the plan first)")
	}
	if err := fl.signIn(ctx, progressPrinter(o.f, o.Verbose)); err != nil {
		return err
	}
	if err := fl.preflight(ctx); err != nil {
		return err
	}
	if err := fl.makePlan(); err != nil {
		return err
	}
	if err := fl.checked(); err != nil {
		return err
	}
	errOut := o.f.IO.ErrOut
	if short := fl.plan.Shortfalls(); len(short) > 0 {
		fmt.Fprintln(errOut)
		say(errOut, fmt.Sprintf("The signed-in identity cannot do everything %s needs:", spec.Profile.Product))
		sayLines(errOut, layout.List("  - ", short, width(o.f))...)
		say(errOut, "Continuing: the app is created and the output carries the admin-consent link (exit status 4).")
	}
	// The confirmation: exactly the plan that is applied.
	header, body := planScreen(fl.plan, tenantName(fl.tenant), output.Style{Color: o.f.IO.ColorEnabled()}, width(o.f))
	fmt.Fprintln(errOut)
	if o.Yes {
		sayLines(errOut, append(header, body...)...)
	} else {
		ok, err := confirmScreen(ctx, o.f, &o.TenantOptions, header, body, "Apply these changes to "+tenantName(fl.tenant)+"?", "Apply", "Cancel", true)
		if err != nil {
			return err
		}
		if !ok {
			return exit.WithCode(exit.Cancelled, errors.New("cancelled; nothing was changed"))
		}
	}
	_, err = fl.apply(ctx)
	return err
}

// planScreen is the plan a run is about to apply, one line per step, laid
// out for width columns: its title (kept on screen) and its body.
func planScreen(p *setup.Plan, tenant string, st output.Style, width int) (header, body []string) {
	for _, l := range layout.Wrap(fmt.Sprintf("Plan for %s (profile %s) in %s:", p.Product, p.Spec.Profile.ID, tenant), width) {
		header = append(header, st.Bold(l))
	}
	for _, l := range p.Lines() {
		body = append(body, layout.Line("  "+l, width)...)
	}
	if !p.Changes() {
		body = append(body, "Nothing to change: the app is as the profile says.")
	}
	for _, warn := range p.Warnings {
		body = append(body, layout.Hang(st.Yellow("!")+" ", "  ", warn, width)...)
	}
	return header, append(body, "")
}

func tenantName(t *setup.Tenant) string {
	if d := t.Org.InitialDomain(); d != "" {
		return t.Org.DisplayName + " (" + d + ")"
	}
	return t.Org.DisplayName
}

// preflightError maps preflight failures to exit codes: problems with the
// input are 2, not being allowed is 1; in both, nothing was changed.
func preflightError(err error) error {
	if errors.Is(err, context.Canceled) {
		// Ctrl-C (or SIGTERM, SIGHUP) during sign-in or the first reads.
		return exit.WithCode(exit.Cancelled, errors.New("cancelled; nothing was changed"))
	}
	var ue *setup.UsageError
	var pe *setup.PreconditionError
	if errors.As(err, &ue) || errors.As(err, &pe) {
		return exit.UsageError(err)
	}
	var se *auth.SignInError
	if errors.As(err, &se) {
		// The sign-in failed: that is the news, not the request it was for.
		code := exit.Failed
		if se.Input {
			code = exit.Usage
		}
		return exit.WithCode(code, &saidError{msg: "sign-in failed: " + se.Error() + ". Nothing was changed.", err: err})
	}
	var fe *setup.ForbiddenError
	if errors.As(err, &fe) {
		return exit.WithCode(exit.Failed, err)
	}
	var ee *exit.Error
	if errors.As(err, &ee) {
		return err
	}
	return exit.WithCode(exit.Failed, fmt.Errorf("%w (nothing was changed)", err))
}

// applyExit maps the outcome of Apply to the exit code; the result has
// already been delivered and says what was done.
func applyExit(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var pe *setup.PendingError
	var ue *setup.UsageError
	var ie *internalError
	var ce *setup.PreconditionError
	switch {
	case errors.As(err, &ie):
		return err // printed after the result
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return exit.SilentCode(exit.Cancelled)
	case errors.As(err, &pe):
		return exit.SilentCode(exit.Pending)
	case errors.As(err, &ue), errors.As(err, &ce):
		return exit.UsageError(err)
	}
	return exit.SilentCode(exit.Failed)
}

// earlyDelivery writes the result to --output-file the moment a secret
// exists, then rewrites it at the end; stdout gets it once, at the end.
// setup and rotate-secret deliver through it, so a created secret is never
// lost.
type earlyDelivery struct {
	f       *Factory
	t       *TenantOptions
	mu      sync.Mutex
	written bool
	// pending is the latest result holding a new secret until final has
	// delivered a result (see guard and keeper.rescue).
	pending  *output.Result
	done     bool
	stopNote func() bool // unregisters newDelivery's signal note
	// stopWaiting ends once a second signal has been acknowledged
	// (Env.StopWaiting of the apply this delivery is for).
	stopWaiting context.Context
	// sink, when set, takes the final result meant for stdout instead of
	// writing it: a run across several tenants writes one object for all
	// (and marks the secret delivered once that is written).
	sink func(*output.Result)
	// journal, when set, is told once the secret has been written where
	// the user asked (see markDelivered).
	journal *journal.Journal
}

// markDelivered records in the journal that the secret of r has been
// handed over (to: where, in words). Only then does a later run leave it
// alone: a secret whose record still says "adding" is taken for one
// nobody has, and removed.
func (e *earlyDelivery) markDelivered(r *output.Result, to string) {
	markDelivered(e.f, e.journal, r, to)
}

func markDelivered(f *Factory, j *journal.Journal, r *output.Result, to string) {
	if j == nil || r == nil || r.ClientSecret == "" || r.ClientSecretKeyID == "" {
		return
	}
	if _, err := j.Delivered(r.ClientSecretKeyID, to); err != nil {
		printError(f.IO.ErrOut, fmt.Errorf("the secret was handed over, but could not be marked so in the journal (%w); a later run on this machine may take it for one nobody has and remove it", err))
	}
}

// stillRunning marks the result written to --output-file the moment the
// secret exists; the end of the run replaces it.
const stillRunning = "written the moment the secret existed, while the run went on: if this is still here, the run did not finish, and the steps not marked done did not run or their outcome is unknown; run the same command again to finish"

// handoverScreen is where the wizard shows the result.
const handoverScreen = "the hand-over screen"

// secret is the Env.OnSecret hook.
func (e *earlyDelivery) secret(r *output.Result) {
	e.hold(r)
	testhook.Panic("after-secret")
}

func (e *earlyDelivery) hold(r *output.Result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pending = r
	if e.t.OutputFile == "" {
		return
	}
	// Written while the run goes on: should it never finish (killed, the
	// machine lost), the file says so; the end rewrites it.
	early := *r
	if early.Error == "" {
		early.Error = stillRunning
	}
	if err := e.write(&early); err != nil {
		printError(e.f.IO.ErrOut, fmt.Errorf("%w; the result will be written there at the end, or printed if it still cannot be", err))
		return
	}
	e.markDelivered(r, "--output-file "+e.t.OutputFile)
}

func (e *earlyDelivery) write(r *output.Result) error {
	data, err := render(e.f, e.t, r, false)
	if err != nil {
		return err
	}
	if e.written {
		return securefile.Replace(e.t.OutputFile, data)
	}
	if err := securefile.WriteFile(e.t.OutputFile, data, e.t.Force); err != nil {
		return err
	}
	e.written = true
	return nil
}

// wroteFile reports whether the result is in --output-file.
func (e *earlyDelivery) wroteFile() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.written
}

// final delivers the finished result; if the file cannot be written and
// the result holds a secret, it goes to stdout instead.
func (e *earlyDelivery) final(r *output.Result) (err error) {
	if e.stopNote != nil {
		e.stopNote()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() {
		if err == nil {
			e.done, e.pending = true, nil
		}
	}()
	if e.t.OutputFile != "" {
		err := e.write(r)
		if err == nil {
			e.markDelivered(r, "--output-file "+e.t.OutputFile)
			say(e.f.IO.ErrOut, "Wrote "+e.t.OutputFile+" (mode 0600).")
			return nil
		}
		if !r.HasSecret() {
			return err
		}
		// The secret must not be lost: it goes to stdout, and the exit
		// status says that the file was not written.
		printError(e.f.IO.ErrOut, fmt.Errorf("%w; printing the result instead", err))
		data, rerr := render(e.f, e.t, r, false)
		if rerr != nil {
			return rerr
		}
		if _, werr := e.f.IO.Out.Write(data); werr != nil {
			return e.undelivered(r, "standard output", werr)
		}
		e.markDelivered(r, "standard output")
		return exit.WithCode(exit.Failed, fmt.Errorf("--output-file %s could not be written; the result was printed instead", e.t.OutputFile))
	}
	if e.sink != nil {
		e.sink(r)
		return nil
	}
	data, err := render(e.f, e.t, r, e.t.OutputFile == "")
	if err != nil {
		return err
	}
	if _, err = e.f.IO.Out.Write(data); err != nil {
		return e.undelivered(r, "standard output", err)
	}
	if e.f.IO.Out != io.Discard {
		// (The wizard discards it: its hand-over screen shows the secret
		// and says when it has.)
		e.markDelivered(r, "standard output")
	}
	return nil
}

// undelivered is the error of a result that could not be written to
// where (standard output closed, a disk full): with a new secret in it,
// nobody has that secret. Its journal record stays "adding", so the next
// run on this machine removes it and creates a new one.
func (e *earlyDelivery) undelivered(r *output.Result, where string, err error) error {
	return undelivered(r, where, err, e.journal != nil)
}

// undelivered is earlyDelivery.undelivered for a result written elsewhere;
// journal says whether the secret was recorded in the journal.
func undelivered(r *output.Result, where string, err error, journal bool) error {
	why := writeFailure(err)
	if r == nil || !r.HasSecret() {
		return exit.WithCode(exit.Failed, fmt.Errorf("the result could not be written to %s (%s)", where, why))
	}
	next := "the next entra-link run for this app on this machine removes it and creates a new one"
	if !journal {
		next = fmt.Sprintf("remove it (key ID %s: App registrations > the app > Certificates & secrets) and run again", r.ClientSecretKeyID)
	}
	return exit.WithCode(exit.Failed, fmt.Errorf("the result could not be written to %s (%s), so the new client secret was not delivered: nobody has it; %s", where, why, next))
}

// writeFailure says why a write failed, in words.
func writeFailure(err error) string {
	switch {
	case errors.Is(err, syscall.EPIPE):
		return "whatever was reading it had stopped"
	case errors.Is(err, syscall.ENOSPC):
		return "the disk is full"
	case errors.Is(err, syscall.EIO), errors.Is(err, os.ErrClosed):
		return "it is closed"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// joinUndelivered is a failed delivery with the apply's own error; an
// apply error that only sets the exit status is dropped (the delivery
// failure decides it).
func joinUndelivered(deliveryErr, applyErr error) error {
	if applyErr == nil || exit.IsSilent(applyErr) {
		return deliveryErr
	}
	return errors.Join(deliveryErr, applyErr)
}

// progressPrinter reports each finished step on stderr.
func progressPrinter(f *Factory, verbose bool) func(setup.Event) {
	return tenantProgress(f, verbose, "")
}

// tenantProgress is progressPrinter with every line starting with prefix
// (the tenant, when setup runs across several).
func tenantProgress(f *Factory, verbose bool, prefix string) func(setup.Event) {
	st := output.Style{Color: f.IO.ColorEnabled()}
	var mu sync.Mutex
	return func(ev setup.Event) {
		if ev.Status == setup.StatusRunning && !verbose {
			return
		}
		if ev.Status == setup.StatusWaiting {
			mu.Lock()
			defer mu.Unlock()
			sayLines(f.IO.ErrOut, prefix+st.Dim("  … "+ev.Detail+" ("+ev.Target+")"))
			return
		}
		mu.Lock()
		defer mu.Unlock()
		mark := map[string]string{
			setup.StatusRunning: "…", output.StepDone: st.Green("✓"), output.StepSkipped: "–",
			output.StepFailed: st.Red("✗"), output.StepPending: st.Yellow("!"), output.StepNotRun: " ",
		}[ev.Status]
		line := fmt.Sprintf("%s%s %s %s", prefix, mark, output.ActionWord(ev.Action), ev.Target)
		if ev.Detail != "" {
			line += st.Dim(" — " + ev.Detail)
		}
		sayLines(f.IO.ErrOut, line)
	}
}
