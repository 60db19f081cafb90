//go:build !unix

package certs

import "os"

func openPassword(path string) (*os.File, error) { return os.Open(path) }
