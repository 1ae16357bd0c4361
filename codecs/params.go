package codecs

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Params configures an encoder or decoder. Most fields come from the SDP
// fmtp line of the peer (ParseFmtp); SampleRate, Complexity and
// PacketLossPercent are local choices. The zero value selects each codec's
// defaults.
type Params struct {
	// SampleRate is the PCM rate; Opus accepts 8000, 12000, 16000, 24000
	// and 48000 (RFC 6716 2), the others only their native rate. Zero
	// selects Codec.SampleRate.
	SampleRate int
	// Ptime is the packet duration (fmtp "ptime", or SDP a=ptime). Zero
	// selects Codec.FrameDuration.
	Ptime time.Duration
	// Complexity is the Opus encoder complexity, 1..10; zero selects 5.
	Complexity int
	// PacketLossPercent is the expected loss the Opus encoder tunes its
	// in-band FEC for; zero selects 10 when UseInbandFEC is set, and a
	// negative value none: no FEC is coded (and no bitrate spent on it)
	// until LossAdapter.SetPacketLoss reports loss.
	PacketLossPercent int
	// UseInbandFEC asks the Opus encoder for in-band FEC (fmtp
	// "useinbandfec=1", RFC 7587 6.1).
	UseInbandFEC bool
	// UseDTX asks the Opus encoder for discontinuous transmission (fmtp
	// "usedtx=1", RFC 7587 6.1).
	UseDTX bool
	// MaxAverageBitrate caps the Opus encoder's bitrate in bit/s (fmtp
	// "maxaveragebitrate", RFC 7587 6.1); zero selects a default per rate.
	MaxAverageBitrate int
	// MaxPlaybackRate is the highest rate the peer renders (fmtp
	// "maxplaybackrate", RFC 7587 6.1); the Opus encoder limits its audio
	// bandwidth to it. Zero means no limit.
	MaxPlaybackRate int
	// SpropMaxCaptureRate is the highest rate the peer captures (fmtp
	// "sprop-maxcapturerate", RFC 7587 6.1); informative.
	SpropMaxCaptureRate int
	// SourceRate is the sample rate the audio was last band-limited to
	// before it reached this encoder: 8000 for audio decoded from G.711 on
	// the other leg of a transcoded call. The Opus encoder codes no wider a
	// band than the source carries (what libopus' own bandwidth detector
	// would choose, at a fraction of the cost). Local, never in SDP; zero
	// means full band.
	SourceRate int
	// Stereo and SpropStereo carry the fmtp "stereo" and "sprop-stereo"
	// flags (RFC 7587 6.1); this package always codes mono, which every
	// Opus peer must accept.
	Stereo, SpropStereo bool
	// Other holds fmtp parameters not listed above (and values that did
	// not parse), keyed by lower-case name; a bare value without a name
	// (as telephone-event's "0-16") is stored whole under the empty key.
	Other map[string]string
}

// ParseFmtp parses the parameter list of an SDP a=fmtp line (the part after
// the payload type), e.g. "minptime=10;useinbandfec=1". Parameter names are
// case-insensitive (RFC 4855 3). It never fails: parameters it does not know,
// or whose value does not parse, go to Params.Other.
func ParseFmtp(s string) Params {
	var p Params
	for _, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, val, hasEq := strings.Cut(item, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		if !hasEq || key == "" {
			key, val = "", item
		}
		if !p.setKnown(key, val) {
			if p.Other == nil {
				p.Other = make(map[string]string)
			}
			p.Other[key] = val
		}
	}
	return p
}

// setKnown stores one known parameter and reports whether it was known and
// well-formed.
func (p *Params) setKnown(key, val string) bool {
	flag := func(dst *bool) bool {
		switch val {
		case "0":
			*dst = false
		case "1":
			*dst = true
		default:
			return false
		}
		return true
	}
	num := func(dst *int, lo, hi int) bool {
		n, err := strconv.Atoi(val)
		if err != nil || n < lo || n > hi {
			return false
		}
		*dst = n
		return true
	}
	switch key {
	case "useinbandfec":
		return flag(&p.UseInbandFEC)
	case "usedtx":
		return flag(&p.UseDTX)
	case "stereo":
		return flag(&p.Stereo)
	case "sprop-stereo":
		return flag(&p.SpropStereo)
	case "maxaveragebitrate":
		return num(&p.MaxAverageBitrate, 1, 1<<30) // RFC 7587: 6000..510000, clamped by the encoder
	case "maxplaybackrate":
		return num(&p.MaxPlaybackRate, 1, 1<<30)
	case "sprop-maxcapturerate":
		return num(&p.SpropMaxCaptureRate, 1, 1<<30)
	case "ptime":
		var ms int
		if !num(&ms, 1, 1000) {
			return false
		}
		p.Ptime = time.Duration(ms) * time.Millisecond
		return true
	}
	return false
}

// Fmtp formats the fmtp-derived fields of p as an SDP a=fmtp parameter list
// with "; " separators, known parameters first in a fixed order and Other
// sorted by name. Unset fields (zero, false) are left out, so the result is
// "" for the zero Params. ParseFmtp(p.Fmtp()) gives back p's fmtp fields.
func (p Params) Fmtp() string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		if k != "" {
			b.WriteString(k)
			b.WriteByte('=')
		}
		b.WriteString(v)
	}
	addInt := func(k string, v int) {
		if v != 0 {
			add(k, strconv.Itoa(v))
		}
	}
	addFlag := func(k string, v bool) {
		if v {
			add(k, "1")
		}
	}
	addInt("maxplaybackrate", p.MaxPlaybackRate)
	addInt("sprop-maxcapturerate", p.SpropMaxCaptureRate)
	addInt("maxaveragebitrate", p.MaxAverageBitrate)
	addInt("ptime", int(p.Ptime/time.Millisecond))
	addFlag("stereo", p.Stereo)
	addFlag("sprop-stereo", p.SpropStereo)
	addFlag("useinbandfec", p.UseInbandFEC)
	addFlag("usedtx", p.UseDTX)
	keys := make([]string, 0, len(p.Other))
	for k := range p.Other {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, p.Other[k])
	}
	return b.String()
}
