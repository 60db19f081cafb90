//go:build !testhooks

// Package testhook lets the end-to-end tests force failures that no input
// can cause (a panic right after a secret is created). The hooks exist only
// in binaries built with -tags testhooks; in every other build Panic is an
// empty function and nothing of them is in the binary.
package testhook

// Enabled reports whether this binary was built with the hooks.
const Enabled = false

// Panic panics when the hooks are built in and the environment names this
// point (see testhook_on.go).
func Panic(point string) {}
