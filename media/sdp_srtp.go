package media

import (
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
)

// security is what a leg's SDP says of SRTP (RFC 4568): the transport,
// RTP/SAVP or RTP/AVP (the latter with a=crypto is best-effort SRTP,
// RFC 8643), and the a=crypto attributes Switchboard offers or answers.
type security struct {
	savp   bool
	crypto []Crypto
}

func (s security) protos() []string {
	if s.savp {
		return []string{"RTP", "SAVP"}
	}
	return []string{"RTP", "AVP"}
}

func (s security) attributes(attrs []sdp.Attribute) []sdp.Attribute {
	for _, c := range s.crypto {
		attrs = append(attrs, c.Attribute())
	}
	return attrs
}

func (s security) equal(o security) bool {
	return s.savp == o.savp && slices.EqualFunc(s.crypto, o.crypto, func(x, y Crypto) bool { return x.Tag == y.Tag && x.Equal(y) })
}

// SetCrypto makes the session's next Builds write the m-line with
// RTP/SAVP (savp) or RTP/AVP and the given a=crypto attributes (none:
// plain RTP). Offering a=crypto in RTP/AVP is opportunistic SRTP
// (RFC 8643 §3); answering uses the transport of the offer and one
// attribute (RFC 4568 §7.1.2).
func (s *Session) SetCrypto(savp bool, cs []Crypto) {
	s.sec = security{savp: savp, crypto: slices.Clone(cs)}
}

// SecureProto reports whether an SDP transport is one of the secure RTP
// profiles (RTP/SAVP, RTP/SAVPF, or their DTLS forms), which need keys
// to be answered.
func SecureProto(proto string) bool { return strings.Contains(proto, "SAVP") }
