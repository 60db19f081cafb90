// Package crash carries panics to where they can be handled. A panic in a
// goroutine ends the process before any recover elsewhere can deliver a
// client secret the run has already created (design.md §3: an internal
// error is exit 1 and a created secret is still delivered). Group re-raises
// such a panic on the goroutine that waits, where the command recovers it.
package crash

import (
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
)

// Panic is a recovered panic with the stack of the goroutine it happened in.
type Panic struct {
	Value any
	Stack []byte
}

// Recovered wraps a value returned by recover(); call it in the deferred
// function, so that the stack is the panicking goroutine's. A *Panic is
// returned as it is (re-raised by Group.Wait).
func Recovered(v any) *Panic {
	if p, ok := v.(*Panic); ok {
		return p
	}
	return &Panic{Value: v, Stack: debug.Stack()}
}

func (p *Panic) Error() string { return fmt.Sprintf("%v", p.Value) }

// Unwrap returns the panic value when it is an error (a nil map write is a
// runtime.Error, for instance).
func (p *Panic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// Location is the function and file:line that panicked, from the stack:
// the first frame below the runtime's panic machinery.
func (p *Panic) Location() string {
	lines := strings.Split(string(p.Stack), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "panic(") {
			continue
		}
		// The frame after panic(…) is the one that panicked (for runtime
		// errors, after the runtime's own frames).
		for j := i + 2; j+1 < len(lines); j += 2 {
			fn := strings.TrimSpace(lines[j])
			if strings.HasPrefix(fn, "runtime.") {
				continue
			}
			file := strings.TrimSpace(lines[j+1])
			if k := strings.LastIndex(file, " +0x"); k >= 0 {
				file = file[:k]
			}
			if k := strings.LastIndex(fn, "("); k > 0 {
				fn = fn[:k]
			}
			return fn + " (" + shortPath(file) + ")"
		}
	}
	return ""
}

func shortPath(file string) string {
	parts := strings.Split(file, "/")
	if len(parts) > 2 {
		return strings.Join(parts[len(parts)-2:], "/")
	}
	return file
}

// Group runs functions in goroutines and waits for all of them. A panic in
// one does not end the process: the others run to their end, and Wait then
// panics with the first *Panic on the waiting goroutine.
type Group struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	first *Panic
}

// Go runs fn in a new goroutine.
func (g *Group) Go(fn func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer g.capture()
		fn()
	}()
}

func (g *Group) capture() {
	if v := recover(); v != nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.first == nil {
			g.first = Recovered(v)
		}
	}
}

// Wait waits for every function and re-raises the first panic.
func (g *Group) Wait() {
	g.wg.Wait()
	g.mu.Lock()
	p := g.first
	g.mu.Unlock()
	if p != nil {
		panic(p)
	}
}
