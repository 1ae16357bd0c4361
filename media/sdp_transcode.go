package media

import (
	"slices"
	"strings"
)

// IsAudio reports whether c is an audio codec rather than one of the
// auxiliary payload formats, telephone-event (RFC 4733) and comfort noise
// (RFC 3389).
func IsAudio(c Codec) bool {
	return !strings.EqualFold(c.Name, "telephone-event") && !strings.EqualFold(c.Name, "CN")
}

// FirstAudio returns the first audio codec of cs.
func FirstAudio(cs []Codec) (Codec, bool) {
	for _, c := range cs {
		if IsAudio(c) {
			return c, true
		}
	}
	return Codec{}, false
}

// TranscodeOffer returns the offer for the far leg of a call that may be
// transcoded: the near leg's codecs (offered, with its payload types, as
// FilterCodecs left them), then each of Switchboard's own codecs (own)
// that the near leg lacks and that can transcode, renumbered where its
// payload type is taken. The far leg then answers with a codec of its own
// choosing; MatchAnswer tells whether that is one the near leg offered
// (relay) or not (transcode, see TranscodeAnswer).
func TranscodeOffer(offered, own []Codec, can func(Codec) bool) []Codec {
	out := append([]Codec(nil), offered...)
	used := make(map[uint8]bool, len(out))
	for _, c := range out {
		used[c.PT] = true
	}
	for _, c := range own {
		if !IsAudio(c) || !can(c) {
			continue
		}
		dup := false
		for _, o := range out {
			if sameCodec(o, c) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if used[c.PT] {
			pt, ok := freeDynamicPT(used)
			if !ok {
				continue
			}
			c.PT = pt
		}
		used[c.PT] = true
		out = append(out, c)
	}
	return out
}

// freeDynamicPT returns an unused payload type of the dynamic range
// (RFC 3551 §3: 96-127).
func freeDynamicPT(used map[uint8]bool) (uint8, bool) {
	for pt := uint8(96); pt <= 127; pt++ {
		if !used[pt] {
			return pt, true
		}
	}
	return 0, false
}

// TranscodeAnswer picks the near leg's side of a transcoded call: the first
// audio codec of the near leg's offer that can transcode, with the near
// leg's telephone-event and CN (WithAuxiliary). It returns the codecs for
// the answer to the near leg and its audio codec; ok is false when no
// offered codec can transcode.
func TranscodeAnswer(nearOffer []Codec, can func(Codec) bool) (answer []Codec, audio Codec, ok bool) {
	for _, c := range nearOffer {
		if IsAudio(c) && can(c) {
			return WithAuxiliary([]Codec{c}, nearOffer, c.Clock), c, true
		}
	}
	return nil, Codec{}, false
}

// EventCodec returns the telephone-event (RFC 4733) of cs, preferring the
// one at clock, the audio's (RFC 4733 §2.1).
func EventCodec(cs []Codec, clock int) (ev Codec, ok bool) {
	for _, c := range cs {
		if strings.EqualFold(c.Name, "telephone-event") && (!ok || c.Clock == clock) {
			ev, ok = c, true
		}
	}
	return ev, ok
}

// WithAuxiliary returns codecs with the offerer's telephone-event and CN
// (from offer) added where codecs has none: Switchboard interworks both
// itself (DTMF events, tones or SIP INFO; comfort noise generated from the
// SIDs toward a leg without CN), so the offerer keeps them in its answer.
// The event clock matching the audio's is preferred (EventCodec), CN is
// taken at the audio's clock only (RFC 3389 §5).
func WithAuxiliary(codecs, offer []Codec, clock int) []Codec {
	has := func(name string) bool {
		return slices.ContainsFunc(codecs, func(c Codec) bool { return strings.EqualFold(c.Name, name) })
	}
	out := codecs
	if ev, ok := EventCodec(offer, clock); ok && !has("telephone-event") {
		out = append(slices.Clip(out), ev)
	}
	if i := slices.IndexFunc(offer, func(c Codec) bool { return strings.EqualFold(c.Name, "CN") && c.Clock == clock }); i >= 0 && !has("CN") {
		out = append(slices.Clip(out), offer[i])
	}
	return out
}

// WithEvents returns offer with own's telephone-event (RFC 4733) added
// when offer has none, renumbered where its payload type is taken: the
// far leg may then signal DTMF by events even though the near leg cannot,
// and Switchboard interworks (tones or SIP INFO on the near side).
func WithEvents(offer, own []Codec) []Codec {
	used := make(map[uint8]bool, len(offer))
	for _, c := range offer {
		if strings.EqualFold(c.Name, "telephone-event") {
			return offer
		}
		used[c.PT] = true
	}
	for _, c := range own {
		if !strings.EqualFold(c.Name, "telephone-event") {
			continue
		}
		if used[c.PT] {
			pt, ok := freeDynamicPT(used)
			if !ok {
				return offer
			}
			c.PT = pt
		}
		return append(append([]Codec(nil), offer...), c)
	}
	return offer
}
