package media

import (
	"strconv"
	"strings"
)

// FilterCodecs keeps the offered codecs whose encoding name is in allowed
// (case-insensitive, RFC 4855 §3), in the offerer's order and with the
// offerer's payload types. An allowed entry may also pin the clock rate,
// "G722/8000" or "opus/48000". telephone-event and CN are kept like any
// other codec when allowed.
func FilterCodecs(offered []Codec, allowed []string) []Codec {
	var out []Codec
	for _, c := range offered {
		for _, a := range allowed {
			name, clock, hasClock := strings.Cut(a, "/")
			if strings.EqualFold(name, c.Name) && (!hasClock || clock == strconv.Itoa(c.Clock)) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// MatchAnswer pairs the codecs of an answer with those of the offer they
// answer, by encoding name (case-insensitive), clock rate and channel count,
// so that each leg may use its own payload type numbers. Leg a is the side
// whose PTs are in offer, leg b the side whose PTs are in answer.
//
// aToB maps PTs arriving from a to PTs sent to b, bToA the reverse, and
// forOtherLeg lists the answer's codecs, in the answer's order, renumbered
// with a's PTs and carrying the answer's fmtp: the answer to give leg a.
// Answer codecs that match nothing offered are left out.
func MatchAnswer(offer []Codec, answer []Codec) (aToB PayloadMap, bToA PayloadMap, forOtherLeg []Codec) {
	aToB, bToA = PayloadMap{}, PayloadMap{}
	for _, ans := range answer {
		for _, off := range offer {
			if !sameCodec(off, ans) {
				continue
			}
			if _, dup := aToB[off.PT]; dup {
				break
			}
			if _, dup := bToA[ans.PT]; dup {
				break
			}
			aToB[off.PT] = ans
			c := off
			c.Fmtp = ans.Fmtp
			bToA[ans.PT] = c
			forOtherLeg = append(forOtherLeg, c)
			break
		}
	}
	return aToB, bToA, forOtherLeg
}

func sameCodec(x, y Codec) bool {
	return strings.EqualFold(x.Name, y.Name) && x.Clock == y.Clock && max(x.Channels, 1) == max(y.Channels, 1)
}
