package profile

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Lifetime is a calendar duration such as 90d, 12w, 6m or 1y: months and
// years are calendar months and years, as Entra's portal counts them.
type Lifetime struct {
	N    int
	Unit byte // 'd', 'w', 'm' or 'y'
}

// ParseLifetime parses "90d", "12w", "6m", "24m", "1y"; also the long unit
// names ("90days", "6 months").
func ParseLifetime(s string) (Lifetime, error) {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 || i == len(t) {
		return Lifetime{}, fmt.Errorf("%q is not a lifetime: use a number followed by d (days), w (weeks), m (months) or y (years), e.g. 90d, 6m, 1y", s)
	}
	n, err := strconv.Atoi(t[:i])
	if err != nil || n <= 0 || n > 100000 {
		return Lifetime{}, fmt.Errorf("%q is not a lifetime: the number must be a positive whole number, e.g. 90d, 6m, 1y", s)
	}
	var unit byte
	switch t[i:] {
	case "d", "day", "days":
		unit = 'd'
	case "w", "wk", "week", "weeks":
		unit = 'w'
	case "m", "mo", "month", "months":
		unit = 'm'
	case "y", "yr", "year", "years":
		unit = 'y'
	default:
		return Lifetime{}, fmt.Errorf("%q is not a lifetime: unknown unit %q; use d (days), w (weeks), m (months) or y (years), e.g. 90d, 6m, 1y", s, t[i:])
	}
	return Lifetime{N: n, Unit: unit}, nil
}

// IsZero reports whether l is unset.
func (l Lifetime) IsZero() bool { return l.N == 0 }

// AddTo returns t + l in calendar terms.
func (l Lifetime) AddTo(t time.Time) time.Time {
	switch l.Unit {
	case 'd':
		return t.AddDate(0, 0, l.N)
	case 'w':
		return t.AddDate(0, 0, 7*l.N)
	case 'm':
		return t.AddDate(0, l.N, 0)
	case 'y':
		return t.AddDate(l.N, 0, 0)
	}
	return t
}

// Exceeds reports whether l is longer than max, measured from now.
func (l Lifetime) Exceeds(max Lifetime, now time.Time) bool {
	return l.AddTo(now).After(max.AddTo(now))
}

// String is the canonical form, e.g. "90d".
func (l Lifetime) String() string {
	if l.IsZero() {
		return ""
	}
	return strconv.Itoa(l.N) + string(l.Unit)
}

// Human is the long form, e.g. "90 days", "1 year".
func (l Lifetime) Human() string {
	names := map[byte]string{'d': "day", 'w': "week", 'm': "month", 'y': "year"}
	s := strconv.Itoa(l.N) + " " + names[l.Unit]
	if l.N != 1 {
		s += "s"
	}
	return s
}
