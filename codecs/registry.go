package codecs

import "strings"

// Registry maps SDP rtpmap entries (encoding name, clock rate, channels) and
// payload types to Codecs. It is immutable after NewRegistry and safe for
// concurrent use. The fmtp line of an rtpmap entry does not select the
// codec; ParseFmtp turns it into the Params passed to NewEncoder/NewDecoder.
type Registry struct {
	codecs []Codec // preference order; a handful, so lookups scan
}

// NewRegistry returns a registry of the built-in codecs, in preference order
// opus, G722, PCMU, PCMA, L16/16000, L16/8000, L16/48000, L16/44100, followed
// by extra. An extra codec with the same rtpmap as a built-in replaces it (in
// the built-in's position).
func NewRegistry(extra ...Codec) *Registry {
	builtins := []Codec{Opus(), G722(), PCMU(), PCMA(),
		L16(16000, 118), L16(8000, 117), L16(48000, 119), L16(44100, 11)}
	extra = append([]Codec(nil), extra...) // entries are cleared as they are used
	r := &Registry{}
	for _, c := range builtins {
		for i, e := range extra {
			if e != nil && sameRtpmap(c, e) {
				c, extra[i] = e, nil
			}
		}
		r.codecs = append(r.codecs, c)
	}
	for _, e := range extra {
		if e != nil {
			r.codecs = append(r.codecs, e)
		}
	}
	return r
}

func sameRtpmap(a, b Codec) bool {
	return strings.EqualFold(a.Name(), b.Name()) && a.ClockRate() == b.ClockRate() &&
		a.Channels() == b.Channels()
}

// Lookup returns the codec for an rtpmap entry. The name is compared without
// regard to case (RFC 4855 3); channels 0 means 1, as an rtpmap without a
// channel count does (RFC 4566 6).
func (r *Registry) Lookup(name string, clock, channels int) (Codec, bool) {
	if channels == 0 {
		channels = 1
	}
	for _, c := range r.codecs {
		if c.ClockRate() == clock && c.Channels() == channels && strings.EqualFold(c.Name(), name) {
			return c, true
		}
	}
	return nil, false
}

// ByPayloadType returns the codec whose PayloadType is pt. It is meaningful
// for static payload types (RFC 3551 6); a dynamic payload type means what
// the session's SDP says, so callers map those with Lookup.
func (r *Registry) ByPayloadType(pt uint8) (Codec, bool) {
	for _, c := range r.codecs {
		if c.PayloadType() == pt {
			return c, true
		}
	}
	return nil, false
}

// Codecs returns the registered codecs in preference order, e.g. to build
// an SDP offer. The slice is a copy.
func (r *Registry) Codecs() []Codec {
	return append([]Codec(nil), r.codecs...)
}
