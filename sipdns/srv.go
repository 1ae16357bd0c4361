package sipdns

import (
	"math/rand/v2"
	"slices"

	"github.com/miekg/dns"
)

// orderSRV returns records in the order RFC 2782 says to try them: by
// priority, lowest first, and within one priority by a weighted random
// choice repeated until none is left ("Usage rules"). rnd returns a uniform
// integer in [0, n).
func orderSRV(records []*dns.SRV, rnd func(n int) int) []*dns.SRV {
	rest := slices.Clone(records)
	slices.SortStableFunc(rest, func(a, b *dns.SRV) int { return int(a.Priority) - int(b.Priority) })
	out := make([]*dns.SRV, 0, len(rest))
	for len(rest) > 0 {
		n := 1
		for n < len(rest) && rest[n].Priority == rest[0].Priority {
			n++
		}
		out = append(out, weighted(rest[:n], rnd)...)
		rest = rest[n:]
	}
	return out
}

// weighted orders one priority's records (RFC 2782): the records with weight
// 0 go first, then each pass picks a uniform number in [0, sum of remaining
// weights] and takes the first record whose running sum reaches it.
func weighted(group []*dns.SRV, rnd func(n int) int) []*dns.SRV {
	rest := make([]*dns.SRV, 0, len(group))
	for _, s := range group {
		if s.Weight == 0 {
			rest = append(rest, s)
		}
	}
	for _, s := range group {
		if s.Weight != 0 {
			rest = append(rest, s)
		}
	}
	out := make([]*dns.SRV, 0, len(rest))
	for len(rest) > 0 {
		sum := 0
		for _, s := range rest {
			sum += int(s.Weight)
		}
		pick := rnd(sum + 1)
		i, run := 0, 0
		for ; i < len(rest)-1; i++ {
			run += int(rest[i].Weight)
			if run >= pick {
				break
			}
		}
		out = append(out, rest[i])
		rest = slices.Delete(rest, i, i+1)
	}
	return out
}

// ByPriority returns the indices of n configured choices (a trunk's
// destinations) in the order RFC 2782 tries SRV records: by priority,
// lowest first, weighted random within one priority. prio and weight give
// each choice's values; rnd is as Config.Rand (nil: math/rand/v2).
func ByPriority(n int, prio, weight func(i int) uint16, rnd func(n int) int) []int {
	if rnd == nil {
		rnd = rand.IntN
	}
	records := make([]*dns.SRV, n)
	for i := range records {
		records[i] = &dns.SRV{Priority: prio(i), Weight: weight(i), Port: uint16(i)}
	}
	out := make([]int, 0, n)
	for _, r := range orderSRV(records, rnd) {
		out = append(out, int(r.Port))
	}
	return out
}
