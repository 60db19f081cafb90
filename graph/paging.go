package graph

import (
	"context"
	"fmt"
	"net/url"

	abs "github.com/microsoft/kiota-abstractions-go"
)

// maxPages stops a server that keeps handing out nextLinks; at Graph's
// default page size of 100 that is 100,000 objects.
const maxPages = 1000

// maxPageSize is the largest $top directory collections accept.
const maxPageSize = 999

// listAll fetches the first page and follows @odata.nextLink to the end.
// Each page is its own retried read. headers are sent with every page (e.g.
// ConsistencyLevel). The nextLink is used verbatim (it carries Graph's
// $skiptoken); the token is only ever sent to the client's own host, so a
// nextLink pointing elsewhere fails instead of leaking it.
func listAll[T any](ctx context.Context, c *Client, op string,
	first func(ctx context.Context) (*abs.RequestInformation, error),
	headers map[string]string) ([]T, error) {
	var out []T
	build := first
	seen := map[string]bool{}
	for n := 1; ; n++ {
		var pg page[T]
		err := c.send(ctx, op, readPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
			ri, err := build(ctx)
			if err != nil {
				return nil, err
			}
			for k, v := range headers {
				ri.Headers.TryAdd(k, v)
			}
			return ri, nil
		}, &pg)
		if err != nil {
			return nil, err
		}
		out = append(out, pg.Value...)
		next := pg.NextLink
		if next == "" {
			return out, nil
		}
		if seen[next] || n >= maxPages {
			return nil, &Error{Op: op, Message: fmt.Sprintf("Graph's paging did not end after %d pages", n)}
		}
		seen[next] = true
		u, err := url.Parse(next)
		if err != nil || !u.IsAbs() {
			return nil, &Error{Op: op, Message: fmt.Sprintf("Graph returned an invalid @odata.nextLink %q", next)}
		}
		build = func(context.Context) (*abs.RequestInformation, error) {
			ri := abs.NewRequestInformation()
			ri.Method = abs.GET
			ri.SetUri(*u)
			ri.Headers.TryAdd("Accept", "application/json")
			return ri, nil
		}
	}
}
