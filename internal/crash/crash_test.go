package crash

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func line() string {
	_, file, n, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", shortPath(file), n+1)
}

// A panic in a goroutine of a Group reaches the goroutine that waits,
// after the others have finished, with the panicking line.
func TestGroupReraisesOnWait(t *testing.T) {
	var g Group
	var finished atomic.Bool
	var at string
	g.Go(func() {
		time.Sleep(50 * time.Millisecond) // still running when the other panics
		finished.Store(true)
	})
	g.Go(func() {
		at = line()
		panic(fmt.Errorf("step failed: %w", io.EOF))
	})
	var got *Panic
	func() {
		defer func() { got, _ = recover().(*Panic) }()
		g.Wait()
	}()
	if got == nil {
		t.Fatal("Wait did not panic with *Panic")
	}
	if !finished.Load() {
		t.Error("Wait re-raised before the other goroutine finished")
	}
	if got.Error() != "step failed: EOF" || !errors.Is(got, io.EOF) {
		t.Errorf("panic = %v, want the error it panicked with", got)
	}
	if loc := got.Location(); !strings.Contains(loc, "crash.TestGroupReraisesOnWait") || !strings.HasSuffix(loc, at+")") {
		t.Errorf("Location() = %q, want the panicking line %s", loc, at)
	}
}

func TestGroupWithoutPanic(t *testing.T) {
	var g Group
	var n atomic.Int32
	for range 5 {
		g.Go(func() { n.Add(1) })
	}
	g.Wait()
	if n.Load() != 5 {
		t.Errorf("%d ran", n.Load())
	}
}

func TestRecoveredKeepsAPanic(t *testing.T) {
	p := &Panic{Value: "x"}
	if Recovered(p) != p {
		t.Error("a *Panic was wrapped again")
	}
	func() {
		defer func() {
			r := Recovered(recover())
			if r.Value != "boom" || !strings.Contains(r.Location(), "TestRecoveredKeepsAPanic") {
				t.Errorf("Recovered = %v at %q", r.Value, r.Location())
			}
		}()
		panic("boom")
	}()
}
