//go:build testhooks

package testhook

import "os"

// Enabled reports whether this binary was built with the hooks.
const Enabled = true

// Panic panics with a recognisable message when ENTRA_LINK_TESTHOOK_PANIC
// names point.
func Panic(point string) {
	if os.Getenv("ENTRA_LINK_TESTHOOK_PANIC") == point {
		panic("testhook: forced panic at " + point)
	}
}
