package media

import (
	"strconv"
	"strings"
)

// T38 is what an image/t38 m-line says of the fax session (ITU-T T.38
// Annex D.2.3, RFC 3362): the attributes are negotiated per leg, so that
// each fax endpoint is answered in terms the other can keep.
type T38 struct {
	// Version is T38FaxVersion (0 when absent, D.2.3.1).
	Version int
	// MaxBitRate is T38MaxBitRate in bit/s (0: not given).
	MaxBitRate int
	// RateManagement is T38FaxRateManagement: localTCF or transferredTCF.
	RateManagement string
	// MaxBuffer and MaxDatagram are T38FaxMaxBuffer and T38FaxMaxDatagram
	// (octets; 0: not given): what the sender of the SDP can receive.
	MaxBuffer, MaxDatagram int
	// UDPEC is T38FaxUdpEC: t38UDPRedundancy, t38UDPFEC or "" (none).
	UDPEC string
	// FillBitRemoval, TranscodingMMR and TranscodingJBIG are the boolean
	// attributes (present: true).
	FillBitRemoval, TranscodingMMR, TranscodingJBIG bool
}

// ParseT38 reads the T.38 attributes of an image/t38 stream. Attribute
// names are matched case-insensitively: endpoints in the field write
// "T38FaxMaxDatagram" and "T38faxMaxDatagram" alike.
func ParseT38(s Stream) T38 {
	var t T38
	for _, a := range s.Attrs {
		k, v, _ := strings.Cut(a, ":")
		v = strings.TrimSpace(v)
		n, _ := strconv.Atoi(v)
		switch strings.ToLower(k) {
		case "t38faxversion":
			t.Version = n
		case "t38maxbitrate":
			t.MaxBitRate = n
		case "t38faxratemanagement":
			t.RateManagement = v
		case "t38faxmaxbuffer":
			t.MaxBuffer = n
		case "t38faxmaxdatagram":
			t.MaxDatagram = n
		case "t38faxudpec":
			t.UDPEC = v
		case "t38faxfillbitremoval":
			t.FillBitRemoval = v == "" || v == "1"
		case "t38faxtranscodingmmr":
			t.TranscodingMMR = v == "" || v == "1"
		case "t38faxtranscodingjbig":
			t.TranscodingJBIG = v == "" || v == "1"
		}
	}
	return t
}

// NegotiateT38 is the answer to give the offerer of offer when the far
// leg answered answer (T.38 Annex D.2.3): the lower version and bit rate,
// the offer's rate management (the answer must keep it), what the far
// endpoint can receive (its buffer and datagram sizes), its error
// correction if the offer allowed it, and the options both have.
func NegotiateT38(offer, answer T38) T38 {
	t := T38{
		Version:        min(offer.Version, answer.Version),
		MaxBitRate:     minSet(offer.MaxBitRate, answer.MaxBitRate),
		RateManagement: offer.RateManagement,
		MaxBuffer:      answer.MaxBuffer,
		MaxDatagram:    answer.MaxDatagram,
		FillBitRemoval: offer.FillBitRemoval && answer.FillBitRemoval,
		TranscodingMMR: offer.TranscodingMMR && answer.TranscodingMMR, TranscodingJBIG: offer.TranscodingJBIG && answer.TranscodingJBIG,
	}
	if answer.UDPEC == offer.UDPEC || (offer.UDPEC == "t38UDPFEC" && answer.UDPEC == "t38UDPRedundancy") {
		t.UDPEC = answer.UDPEC
	}
	if t.RateManagement == "" {
		t.RateManagement = answer.RateManagement
	}
	return t
}

// minSet is the smaller of two values where 0 means "not given".
func minSet(a, b int) int {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// T38Section writes an image/t38 m-line section at port (0: refused)
// with the attributes of t.
func T38Section(index, port int, t T38) Section {
	if port == 0 {
		return Section{Index: index, Text: "m=image 0 udptl t38\r\n"}
	}
	var b strings.Builder
	b.WriteString("m=image " + strconv.Itoa(port) + " udptl t38\r\n")
	b.WriteString("a=T38FaxVersion:" + strconv.Itoa(t.Version) + "\r\n")
	if t.MaxBitRate > 0 {
		b.WriteString("a=T38MaxBitRate:" + strconv.Itoa(t.MaxBitRate) + "\r\n")
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{t.FillBitRemoval, "T38FaxFillBitRemoval"}, {t.TranscodingMMR, "T38FaxTranscodingMMR"}, {t.TranscodingJBIG, "T38FaxTranscodingJBIG"}} {
		if f.on {
			b.WriteString("a=" + f.name + "\r\n")
		}
	}
	if validToken(t.RateManagement) {
		b.WriteString("a=T38FaxRateManagement:" + t.RateManagement + "\r\n")
	}
	if t.MaxBuffer > 0 {
		b.WriteString("a=T38FaxMaxBuffer:" + strconv.Itoa(t.MaxBuffer) + "\r\n")
	}
	if t.MaxDatagram > 0 {
		b.WriteString("a=T38FaxMaxDatagram:" + strconv.Itoa(t.MaxDatagram) + "\r\n")
	}
	if validToken(t.UDPEC) {
		b.WriteString("a=T38FaxUdpEC:" + t.UDPEC + "\r\n")
	}
	return Section{Index: index, Text: b.String()}
}

// SetAudioless makes the session's next Builds write its sections alone,
// with no audio m-line (true), or the audio m-line with them again
// (false): while a fax is on T.38, a leg's SDP is its m=image line and
// whatever else the fax offer had, so every offer or answer of the leg,
// a session refresh too, keeps that layout (RFC 3264 §8).
func (s *Session) SetAudioless(on bool) { s.audioless = on }

// Audioless reports what SetAudioless set.
func (s *Session) Audioless() bool { return s.audioless }
