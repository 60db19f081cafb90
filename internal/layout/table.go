package layout

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Column is one column of a Table.
type Column struct {
	Header string
	// Fit lets the column be narrowed so that the table fits the width:
	// its cells are wrapped at word boundaries inside the column (rows
	// grow taller), or shortened with "…" when Truncate is set. Columns
	// without Fit (ids, dates) keep their full width.
	Fit      bool
	Truncate bool
	// Min is the narrowest a Fit column gets (default 8).
	Min int
}

// Table lays out rows under a header, columns two spaces apart, in at
// most width columns when the Fit columns can be narrowed enough.
func Table(cols []Column, rows [][]string, width int) []string {
	width = clampWidth(width)
	const gap = 2
	w := make([]int, len(cols))
	for i, c := range cols {
		w[i] = ansi.StringWidth(c.Header)
	}
	for _, r := range rows {
		for i := range cols {
			if i < len(r) {
				w[i] = max(w[i], ansi.StringWidth(r[i]))
			}
		}
	}
	total := func() int {
		t := gap * (len(cols) - 1)
		for _, x := range w {
			t += x
		}
		return t
	}
	minOf := func(i int) int {
		c := cols[i]
		m := max(c.Min, 8, ansi.StringWidth(c.Header))
		if !c.Truncate {
			// Wrapped cells: no narrower than their longest word.
			for _, r := range rows {
				if i < len(r) {
					for _, f := range strings.Fields(r[i]) {
						m = max(m, ansi.StringWidth(f))
					}
				}
			}
		}
		return m
	}
	// Narrow the widest Fit column a column at a time until it fits.
	for total() > width {
		best := -1
		for i, c := range cols {
			if c.Fit && w[i] > minOf(i) && (best < 0 || w[i] > w[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		w[best]--
	}
	render := func(cells []string) []string {
		parts := make([][]string, len(cols))
		height := 1
		for i, c := range cols {
			cell := ""
			if i < len(cells) {
				cell = cells[i]
			}
			switch {
			case ansi.StringWidth(cell) <= w[i]:
				parts[i] = []string{cell}
			case c.Truncate || !c.Fit:
				parts[i] = []string{Truncate(cell, w[i])}
				if !c.Fit {
					parts[i] = []string{cell}
				}
			default:
				parts[i] = hang("", "", cell, w[i])
			}
			height = max(height, len(parts[i]))
		}
		lines := make([]string, height)
		for l := range height {
			var b strings.Builder
			for i := range cols {
				cell := ""
				if l < len(parts[i]) {
					cell = parts[i][l]
				}
				if i < len(cols)-1 {
					b.WriteString(Pad(cell, w[i]) + strings.Repeat(" ", gap))
				} else {
					b.WriteString(cell)
				}
			}
			lines[l] = strings.TrimRight(b.String(), " ")
		}
		return lines
	}
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.Header
	}
	out := render(headers)
	for _, r := range rows {
		out = append(out, render(r)...)
	}
	return out
}
