package catalog

import (
	"sort"
	"strings"
)

// Suggest returns up to n candidates closest to name: case-insensitive
// matches first, then candidates within a small edit distance, then
// candidates that share name's dotted prefix (User.* for User.Read.Al).
func Suggest(name string, candidates []string, n int) []string {
	type scored struct {
		s     string
		score int
	}
	lname := strings.ToLower(name)
	limit := max(2, len(name)/3)
	var out []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		switch {
		case lc == lname:
			out = append(out, scored{c, 0})
		case strings.HasPrefix(lc, lname) || strings.HasPrefix(lname, lc):
			out = append(out, scored{c, 1 + abs(len(lc)-len(lname))/4})
		default:
			if d := levenshtein(lname, lc); d <= limit {
				out = append(out, scored{c, d})
			}
		}
	}
	// Names that share the first dotted segment (Device.* for Device.Foo)
	// are the likelier intent.
	first := strings.SplitN(lname, ".", 2)[0]
	for i := range out {
		if strings.Contains(lname, ".") && strings.SplitN(strings.ToLower(out[i].s), ".", 2)[0] == first {
			out[i].score -= 3
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score < out[j].score
		}
		return out[i].s < out[j].s
	})
	res := make([]string, 0, n)
	seen := map[string]bool{}
	for _, s := range out {
		if len(res) == n {
			break
		}
		if !seen[s.s] {
			seen[s.s] = true
			res = append(res, s.s)
		}
	}
	return res
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
