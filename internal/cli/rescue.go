package cli

import (
	"context"
	"fmt"
	"sync"

	"github.com/entra-link/entra-link/internal/crash"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/output"
)

// A bug must not cost the admin a secret that the tenant already holds
// (design.md §3: an internal error is exit 1, and a secret created before
// it is still delivered). Every delivery of a run registers with the run's
// keeper; a panic that reaches Run delivers what they hold. Panics inside
// an apply are caught closer, by earlyDelivery.guard, and the result is
// delivered the way any failed apply's is.

type keeperKey struct{}

// keeper knows the deliveries of one Run.
type keeper struct {
	mu         sync.Mutex
	deliveries []*earlyDelivery
	// afterRescue runs once the deliveries are rescued: a setup across
	// several tenants ends its one JSON object there.
	afterRescue []func()
}

func (k *keeper) add(e *earlyDelivery) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.deliveries = append(k.deliveries, e)
}

// atRescue registers fn to run after the deliveries of a Run that
// panicked outside an apply have been rescued.
func atRescue(ctx context.Context, fn func()) {
	if k, ok := ctx.Value(keeperKey{}).(*keeper); ok {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.afterRescue = append(k.afterRescue, fn)
	}
}

// newDelivery is the delivery of one apply, known to the run's keeper.
// Until the result is delivered, a signal is acknowledged on stderr: the
// run does not end at once, and a second Ctrl-C does nothing.
func newDelivery(ctx context.Context, f *Factory, t *TenantOptions) *earlyDelivery {
	e := keptDelivery(ctx, f, t)
	e.stopNote, e.stopWaiting = signalNote(ctx, f)
	return e
}

// keptDelivery is newDelivery without the signal note: a run across
// several tenants acknowledges a signal once, not once per tenant.
func keptDelivery(ctx context.Context, f *Factory, t *TenantOptions) *earlyDelivery {
	e := &earlyDelivery{f: f, t: t}
	if k, ok := ctx.Value(keeperKey{}).(*keeper); ok {
		k.add(e)
	}
	return e
}

// signalNote says on stderr, when a signal stops the run, that the steps
// under way finish and a created secret is still delivered, and when a
// second one ends that waiting; stopWaiting ends once that is said (nil
// when nobody can insist). unregister unregisters the notes.
func signalNote(ctx context.Context, f *Factory) (unregister func() bool, stopWaiting context.Context) {
	first := context.AfterFunc(ctx, func() {
		// A signal: it cancels with a cause of its own, which is not
		// ctx.Err() itself (it only matches context.Canceled in errors.Is).
		if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() { //nolint:errorlint // identity, on purpose
			fmt.Fprintln(f.IO.ErrOut)
			say(f.IO.ErrOut, fmt.Sprintf("Stopping (%v): waiting for the steps under way; a secret already created will still be delivered. A second Ctrl-C stops the waiting.", cause))
		}
	})
	second := func() bool { return false }
	if insist := insisted(ctx); insist != nil {
		var stop context.CancelCauseFunc
		stopWaiting, stop = context.WithCancelCause(context.WithoutCancel(ctx))
		second = context.AfterFunc(insist, func() {
			fmt.Fprintln(f.IO.ErrOut)
			say(f.IO.ErrOut, fmt.Sprintf("Stopping now (%v): not waiting for the steps under way any more; the result says what was done.", context.Cause(insist)))
			stop(context.Cause(insist)) // said first, then done
		})
	}
	return func() bool { a, b := first(), second(); return a || b }, stopWaiting
}

// internalError is a recovered panic, reported as a bug (exit 1).
type internalError struct{ p *crash.Panic }

func (e *internalError) Error() string {
	msg := fmt.Sprintf("internal error (a bug in entra-link): %v", e.p.Value)
	if loc := e.p.Location(); loc != "" {
		msg += " in " + loc
	}
	return msg + "; please report it at https://github.com/entra-link/entra-link/issues"
}

func (e *internalError) Unwrap() error { return e.p }

// stoppedByBug is the result's error after a panic in apply.
const stoppedByBug = "entra-link stopped with an internal error after the steps shown as done; the steps after them did not run or their outcome is unknown"

// guard runs an apply. A panic in it (or in the goroutines it waits for,
// see crash.Group) is returned as an internal error together with the last
// result that holds the new secret (nil if none was created yet), to be
// delivered like the result of any failed apply.
func (e *earlyDelivery) guard(apply func() (*output.Result, error)) (res *output.Result, err error) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		res = e.rescued()
		err = exit.WithCode(exit.Failed, &internalError{p: crash.Recovered(v)})
	}()
	return apply()
}

// rescued is the last result holding the secret, marked as cut short; nil
// when no secret is waiting to be delivered.
func (e *earlyDelivery) rescued() *output.Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pending == nil || e.done {
		return nil
	}
	r := *e.pending
	r.Steps = append([]output.Step(nil), e.pending.Steps...)
	r.Error = stoppedByBug
	return &r
}

// rescue delivers a secret the run has created but not yet delivered,
// after a panic outside apply: the normal way, or, if that is what fails,
// as bare lines on stdout.
func (k *keeper) rescue() {
	k.mu.Lock()
	list := append([]*earlyDelivery(nil), k.deliveries...)
	after := append([]func(){}, k.afterRescue...)
	k.mu.Unlock()
	for _, e := range list {
		e.rescue()
	}
	for _, fn := range after {
		func() {
			defer func() { _ = recover() }() // the deliveries are done; nothing more can be done
			fn()
		}()
	}
}

// rescue delivers the secret this delivery holds and has not delivered:
// the normal way, or, if that is what fails, as bare lines on stdout.
func (e *earlyDelivery) rescue() {
	r := e.rescued()
	if r == nil {
		return
	}
	defer func() {
		if recover() != nil {
			e.bare(r)
		}
	}()
	if err := e.final(r); err != nil {
		e.bare(r)
	}
}

// bare prints the values of a result with a secret, plainly: the delivery
// of last resort.
func (e *earlyDelivery) bare(r *output.Result) {
	exp := ""
	if r.ClientSecretExpiresAt != nil {
		exp = r.ClientSecretExpiresAt.UTC().Format("2006-01-02")
	}
	if _, err := fmt.Fprintf(e.f.IO.Out, "Tenant ID: %s\nClient ID: %s\nClient secret: %s\nSecret expires: %s\n", r.TenantID, r.ClientID, r.ClientSecret, exp); err == nil {
		e.markDelivered(r, "standard output")
	}
}

// recovered ends a Run that panicked outside an apply: deliver what the
// deliveries hold, say it is a bug, exit 1.
func (k *keeper) recovered(f *Factory, v any) int {
	p := crash.Recovered(v)
	func() {
		defer func() { _ = recover() }() // nothing more can be done
		k.rescue()
	}()
	printError(f.IO.ErrOut, &internalError{p: p})
	return exit.Failed
}
