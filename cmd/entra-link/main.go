// Command entra-link sets up Microsoft Entra app registrations for SaaS
// products in one run. See `entra-link --help`.
package main

import (
	"os"

	"github.com/entra-link/entra-link/internal/cli"
)

func main() {
	os.Exit(cli.Main(cli.NewFactory(), os.Args[1:]))
}
