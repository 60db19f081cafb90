// Package networds says in words why a request got no answer at all —
// instead of Go's chains ("Post \"https://…\": dial tcp: lookup … on
// 10.0.0.53:53: no such host", "stream error: stream ID 17;
// INTERNAL_ERROR; received from peer"), which name the operation, the
// resolver and the protocol's internals rather than what happened.
package networds

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Cause is why a request got no answer, in words, to follow the host it
// was sent to: "its host name does not resolve", "the connection was refused",
// "the connection broke off before the answer came", "no answer in time".
// The TLS trust failures are said by the callers (they know which file
// to name).
func Cause(err error) string {
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return "no answer"
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return "its host name does not resolve"
		case dnsErr.IsTimeout:
			return "looking up its host name took too long"
		}
		return "its host name could not be looked up"
	case errors.Is(err, context.Canceled):
		return "the request was stopped"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return "no answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused (nothing listens there)"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "the network or host is unreachable"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "the connection was reset before the answer came"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed before the answer came"
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "stream error"), strings.Contains(msg, "GOAWAY"), strings.Contains(msg, "connection reset"):
		// HTTP/2 resets carry no type net/http exports.
		return "the connection broke off before the answer came"
	case strings.Contains(msg, "proxyconnect"):
		return "the proxy (HTTPS_PROXY) could not be reached"
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		return "the secure connection could not be set up"
	}
	return "the connection failed"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
