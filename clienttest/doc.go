//go:build clients

// Package clienttest proves that real Microsoft clients work against the
// sandbox tenant (issue 3, "Show"): msgraph-sdk-go's own kiota models and
// parse nodes, MSAL for Node and Python, and — inside a private network
// namespace where the Microsoft host names resolve to loopback — the CLI for
// Microsoft 365 and the Azure CLI.
//
// The tests sit behind the build tag "clients" so that the default
// `go test ./...` never needs npm or Debian packages; `make test-clients`
// installs them and runs `go test -tags clients ./clienttest`. A client
// whose package is missing is skipped with a message. docs/clients.md
// records what each client sent and what worked.
package clienttest
