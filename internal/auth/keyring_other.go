//go:build !linux

package auth

// forgetKey: on macOS and Windows the cache's protection lives with its
// file (Keychain item or DPAPI blob), which forgetCache removes.
func forgetKey(string) {}
