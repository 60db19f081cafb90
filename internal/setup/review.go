package setup

import (
	"slices"
	"strconv"
	"strings"

	"github.com/entra-link/entra-link/internal/output"
)

// StepGroup is the steps that the same plans, and only they, hold alike
// (action, target and detail), in a run across several tenants.
type StepGroup struct {
	// Plans are the indexes of the plans that hold these steps, ascending.
	Plans []int
	Steps []output.Step
}

// GroupSteps is the review of one profile's plans in several tenants:
// every step goes to the group of the plans that hold it, so that what
// every tenant gets alike is shown once (the first group, when there is
// such a step) and each difference once, with the tenants it concerns —
// tenant A already has the app (keep), B and C get it (create). Groups
// after the first come in the order their first step appears, plan by
// plan; steps keep their plan's order.
func GroupSteps(plans []*Plan) []StepGroup {
	type entry struct {
		step  output.Step
		plans []int
		order int
	}
	byKey := map[string]*entry{}
	var entries []*entry
	for i, p := range plans {
		seen := map[string]int{}
		for _, s := range p.Output() {
			k := s.Action + "\x00" + s.Kind + "\x00" + s.Target + "\x00" + s.Detail
			// The same line twice in one plan is two steps.
			seen[k]++
			k += "\x00" + strconv.Itoa(seen[k])
			e := byKey[k]
			if e == nil {
				e = &entry{step: s, order: len(entries)}
				byKey[k] = e
				entries = append(entries, e)
			}
			e.plans = append(e.plans, i)
		}
	}
	var groups []StepGroup
	index := map[string]int{}
	for _, e := range entries {
		k := planSet(e.plans)
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, StepGroup{Plans: e.plans})
		}
		groups[i].Steps = append(groups[i].Steps, e.step)
	}
	// The steps every plan holds come first.
	slices.SortStableFunc(groups, func(a, b StepGroup) int {
		return boolRank(len(b.Plans) == len(plans)) - boolRank(len(a.Plans) == len(plans))
	})
	return groups
}

func planSet(plans []int) string {
	var b strings.Builder
	for _, p := range plans {
		b.WriteString(strconv.Itoa(p))
		b.WriteByte(',')
	}
	return b.String()
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
