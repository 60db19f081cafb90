package setup

import (
	"fmt"
	"sync"

	"github.com/entra-link/entra-link/internal/crash"
)

// lookups runs independent Graph reads concurrently, so that they cost one
// round trip together, and collects their errors. Callers guard the results
// they write with mu.
type lookups struct {
	mu   sync.Mutex
	wg   crash.Group
	errs []error
}

// do runs fn in its own goroutine.
func (l *lookups) do(fn func()) {
	l.wg.Go(fn)
}

// fail records that the lookup described by what failed.
func (l *lookups) fail(what string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Errorf("%s: %w", what, err))
}

// wait waits for every lookup and returns their errors.
func (l *lookups) wait() []error {
	l.wg.Wait()
	return l.errs
}
