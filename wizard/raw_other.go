//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package wizard

import "golang.org/x/term"

// makeRaw elsewhere (Windows): the console has no output mapping to keep.
func makeRaw(fd int) (restore func(), err error) {
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	return func() { _ = term.Restore(fd, old) }, nil
}
